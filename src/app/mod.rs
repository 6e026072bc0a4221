//! The desktop application: the open document, the commands that change it, and background work (file dialogs).
//!
//! UI code in [`crate::ui`] reads the design and pushes [`Command`]s; [`SyncopateApp`] applies them after the frame,
//! each as one undoable step.

pub mod autosave;
pub mod clipboard;
mod data_file;
mod document;
pub mod focus;
pub mod recent;
pub mod theme;

// Below the app and the panels both: kept reachable here under their old paths.
pub use crate::runs::{capacity, emulation, live, sim_runner};
pub use crate::samples;

use std::path::PathBuf;
use std::sync::mpsc;

pub use crate::edit::{Command, apply_checked};
pub use document::Document;

use crate::model::Design;
use crate::rules::{self, Report, Subject};
use crate::ui::canvas::{Badges, Canvas, Selection};
use crate::ui::sequence::SequenceAction;
use crate::ui::warnings::WarningAction;

/// The time between frames while a simulation runs (about 30 frames a second).
const ANIMATION_FRAME: std::time::Duration = std::time::Duration::from_millis(33);

/// What a background job (a native file dialog) reports back to the UI thread.
enum Background {
    /// The user picked a file to open.
    Open(PathBuf),
    /// The user picked where to save.
    SaveAs(PathBuf),
    /// A file (a diagram, a run's results, charts) was written (on the dialog's thread) where the user picked, or
    /// failed to be.
    SavedFile(PathBuf, Result<(), crate::model::SaveError>),
    /// Exported files were written (on the dialog's thread) into the folder the user picked, or failed to be.
    Exported(PathBuf, Result<usize, crate::model::SaveError>),
    /// A file the user picked was imported (on the dialog's thread, since big traces take a moment).
    Imported(Box<Result<crate::import::Imported, crate::import::ImportError>>),
    /// No file dialog could be shown (what was asked, and why).
    DialogFailed(&'static str, String),
}

/// A message shown in the window until dismissed or replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Something failed; the text says what.
    Error(String),
    /// Something worked.
    Info(String),
}

/// The Syncopate window.
pub struct SyncopateApp {
    document: Document,
    canvas: Canvas,
    selection: Selection,
    pending: Vec<Command>,
    notice: Option<Notice>,
    background_tx: mpsc::Sender<Background>,
    background_rx: mpsc::Receiver<Background>,
    last_title: String,
    /// The findings of the trade-off rules, and the document state they were computed for.
    findings: Option<(u64, Report, Badges)>,
    bottom_tab: BottomTab,
    sequence: crate::ui::sequence::SequencePanel,
    export: crate::ui::export::ExportWindow,
    /// What the last import guessed or skipped, with the input's name, until the user closes the list.
    import_notes: Option<(String, Vec<crate::import::Note>)>,
    recent: recent::RecentFiles,
    theme: theme::ThemeSetting,
    /// The live simulation on screen.
    live: Option<live::LiveRun>,
    /// A finished run kept to compare the next one with.
    baseline: Option<live::FinishedRun>,
    sim_speed: sim_runner::Speed,
    /// Duration and seed for the next run, as set in the simulation bar; they follow the design's own settings
    /// whenever those change (the second field is the design's settings they were taken from).
    sim_settings: (
        crate::model::SimulationSettings,
        crate::model::SimulationSettings,
    ),
    dashboard: crate::ui::dashboard::Dashboard,
    capacity: crate::ui::capacity::CapacityPanel,
    /// Wall-clock time of the last frame that moved the canvas animation, while the simulation runs.
    last_animation_at: Option<f64>,
    /// A PNG of the charts was asked for: the screenshot it waits for.
    awaiting_chart_screenshot: bool,
    /// Simulated per-call latencies beside the estimates, from the finished run of the current design state.
    hops: Option<(
        u64,
        std::collections::HashMap<String, crate::ui::warnings::HopLatency>,
    )>,
    inspector: crate::ui::inspector::Inspector,
    /// An action waiting for "save, discard or cancel" because the document has unsaved changes.
    confirm: Option<Pending>,
    /// Set once the user agreed to close, so the next close request goes through.
    closing: bool,
    show_help: bool,
    show_welcome: bool,
    show_about: bool,
    /// Find a service (Ctrl+F).
    find: crate::ui::find::FindBar,
    /// What the canvas dims (a flow's path, a service's neighbourhood).
    focus: focus::Focus,
    /// "Run for real on this machine": the emulation window and its run.
    emulation: crate::ui::emulation::EmulationWindow,
    autosave: autosave::Autosave,
    /// What was last copied, for pasting when the system clipboard is not available.
    clipboard: Option<String>,
    /// Services to select once the pending commands are applied (after a paste).
    select_after_apply: Option<Vec<crate::model::ServiceId>>,
    /// Unsaved work from a previous run, waiting for the user to restore or discard it.
    recovery: Option<autosave::Recovery>,
    /// The notice last written to the log, so each is logged once.
    logged_notice: Option<Notice>,
    first_frame_logged: bool,
}

/// Something that would replace or close the document, waiting for the user to say what to do with unsaved changes.
#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    /// Start a new design.
    New,
    /// Choose a file to open.
    AskOpen,
    /// Open this file (dropped on the window).
    Open(PathBuf),
    /// Choose a file to import as a new design.
    AskImport(crate::import::Source),
    /// Open a built-in sample (index into `samples::SAMPLES`) as a new, unsaved design.
    OpenSample(usize),
    /// Close the window.
    Quit,
}

/// What the bottom panel shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BottomTab {
    /// The trade-off warnings.
    Warnings,
    /// The sequence diagram of a flow.
    Sequence,
    /// The live simulation's charts and tables.
    Dashboard,
    /// Load sweeps and replica plans.
    Capacity,
}

impl SyncopateApp {
    /// An app showing `document`.
    pub fn new(document: Document) -> Self {
        let (background_tx, background_rx) = mpsc::channel();
        let design_settings = document.design().simulation_settings();
        Self {
            document,
            canvas: Canvas::default(),
            selection: Selection::default(),
            pending: Vec::new(),
            notice: None,
            background_tx,
            background_rx,
            last_title: String::new(),
            findings: None,
            bottom_tab: BottomTab::Warnings,
            sequence: crate::ui::sequence::SequencePanel::default(),
            export: crate::ui::export::ExportWindow::default(),
            import_notes: None,
            recent: recent::RecentFiles::default(),
            theme: theme::ThemeSetting::default(),
            live: None,
            baseline: None,
            sim_speed: sim_runner::Speed::Times(1.0),
            sim_settings: (design_settings, design_settings),
            dashboard: crate::ui::dashboard::Dashboard::default(),
            capacity: crate::ui::capacity::CapacityPanel::default(),
            last_animation_at: None,
            awaiting_chart_screenshot: false,
            hops: None,
            inspector: crate::ui::inspector::Inspector::default(),
            confirm: None,
            closing: false,
            show_help: false,
            show_welcome: false,
            show_about: false,
            emulation: Default::default(),
            find: Default::default(),
            focus: focus::Focus::default(),
            autosave: autosave::Autosave::new(None),
            clipboard: None,
            select_after_apply: None,
            recovery: None,
            logged_notice: None,
            first_frame_logged: false,
        }
    }

    /// An app that opens `path` at start; a file that fails to load leaves an empty design and shows the error.
    pub fn with_file(path: Option<PathBuf>) -> Self {
        let mut app = Self::new(Document::default());
        if let Some(path) = path {
            app.open(path);
        }
        app
    }

    /// Shows the welcome screen (samples, new, open, recent files) until the user picks something.
    pub fn with_welcome(mut self) -> Self {
        self.show_welcome = true;
        self
    }

    /// Whether the welcome screen is up.
    pub fn welcome_shown(&self) -> bool {
        self.show_welcome
    }

    /// Opens a built-in sample as a new, unsaved design (its file in `samples/` is not touched by Save).
    fn open_sample(&mut self, index: usize) {
        let Some(sample) = samples::SAMPLES.get(index) else {
            return;
        };
        match sample.design() {
            Ok(design) => {
                self.document = Document::new(design);
                self.stop_simulation();
                self.selection = Selection::default();
                self.canvas.request_fit();
                self.notice = Some(Notice::Info(format!(
                    "Opened the {} sample: Save As keeps your changes",
                    sample.id
                )));
            }
            Err(error) => self.notice = Some(Notice::Error(error.to_string())),
        }
    }

    /// Turns on autosave into `dir`, and offers to restore what a previous run left there.
    pub fn with_autosave(mut self, dir: Option<PathBuf>) -> Self {
        self.recent = recent::RecentFiles::load(dir.clone());
        self.theme = theme::ThemeSetting::load(dir.clone());
        self.autosave = autosave::Autosave::new(dir);
        self.recovery = self.autosave.find();
        if let Some(recovery) = &self.recovery {
            tracing::info!(
                services = recovery.design.services.len(),
                path = ?recovery.path,
                "recovery offered"
            );
        }
        self
    }

    /// Writes the recovery file now if there are unsaved changes (autosave does this every few seconds).
    pub fn autosave_now(&mut self) {
        let document = &self.document;
        self.autosave.tick(
            document.design(),
            document.path(),
            document.state_id(),
            document.is_dirty(),
            true,
        );
    }

    /// Whether unsaved work from a previous run is waiting to be restored.
    pub fn has_recovery(&self) -> bool {
        self.recovery.is_some()
    }

    /// The open document.
    pub fn document(&self) -> &Document {
        &self.document
    }

    /// The message shown in the window, if any.
    pub fn notice(&self) -> Option<&Notice> {
        self.notice.as_ref()
    }

    /// The current findings of the trade-off rules (recomputed whenever the design changes).
    pub fn report(&mut self) -> &Report {
        self.refresh_findings().0
    }

    /// The sequence panel (its flow and where it drew each message).
    pub fn sequence_panel(&self) -> &crate::ui::sequence::SequencePanel {
        &self.sequence
    }

    /// The Capacity tab: its settings and last results.
    pub fn capacity_panel(&self) -> &crate::ui::capacity::CapacityPanel {
        &self.capacity
    }

    /// The Capacity tab, to change its settings.
    pub fn capacity_panel_mut(&mut self) -> &mut crate::ui::capacity::CapacityPanel {
        &mut self.capacity
    }

    /// Shows a tab of the bottom panel.
    pub fn set_bottom_tab(&mut self, tab: BottomTab) {
        self.bottom_tab = tab;
    }

    /// The current selection on the canvas.
    pub fn selection(&self) -> &Selection {
        &self.selection
    }

    /// Re-runs the rules when the design changed since they last ran.
    fn refresh_findings(&mut self) -> (&Report, &Badges) {
        let state = self.document.state_id();
        if self.findings.as_ref().is_none_or(|(s, _, _)| *s != state) {
            let report = rules::check(self.document.design());
            let badges = Badges::from_report(&report);
            self.findings = Some((state, report, badges));
        }
        match &self.findings {
            Some((_, report, badges)) => (report, badges),
            None => unreachable!("findings were just computed"),
        }
    }

    /// Selects a finding's subject and centres the view on it.
    pub fn reveal(&mut self, subject: &Subject) {
        self.select_subject(subject);
        self.canvas.center_on(self.document.design(), subject);
    }

    /// Selects a finding's subject, leaving the view where it is.
    pub fn select_subject(&mut self, subject: &Subject) {
        self.selection = match subject {
            Subject::Service(id) => Selection {
                services: vec![id.as_str().into()],
                edges: Vec::new(),
            },
            Subject::Edge(id) => Selection {
                services: Vec::new(),
                edges: vec![id.as_str().into()],
            },
            Subject::Flow(id) => match self.document.design().flow(id) {
                Some(flow) => Selection {
                    services: vec![flow.entry.clone()],
                    edges: Vec::new(),
                },
                None => Selection::default(),
            },
        };
        self.canvas.show_selection(&self.selection);
    }

    /// Queues a command, as the UI does; it is applied after the frame.
    pub fn push_command(&mut self, command: Command) {
        self.pending.push(command);
    }

    /// Opens a design file. A file that fails to load keeps the current design and shows the loader's message.
    pub fn open(&mut self, path: PathBuf) {
        match Document::open(&path) {
            Ok(document) => {
                tracing::info!(
                    path = %path.display(),
                    services = document.design().services.len(),
                    calls = document.design().edges.len(),
                    "opened design"
                );
                self.recent.add(&path);
                self.document = document;
                self.stop_simulation();
                self.selection = Selection::default();
                self.canvas = Canvas::default();
                self.notice = None;
            }
            Err(error) => {
                if !path.exists() {
                    self.recent.remove(&path);
                }
                self.notice = Some(Notice::Error(error.to_string()));
            }
        }
    }

    /// The status line of the live simulation.
    pub fn simulation_status(&self) -> String {
        crate::ui::sim_bar::status(
            self.live.as_ref().and_then(|l| l.latest.as_ref()),
            self.sim_settings.0.duration_s,
        )
    }

    /// The live run, if one is on.
    pub fn live_run(&self) -> Option<&live::LiveRun> {
        self.live.as_ref()
    }

    /// The run kept as the baseline of a comparison.
    pub fn baseline(&self) -> Option<&live::FinishedRun> {
        self.baseline.as_ref()
    }

    /// Shows a part of the simulation dashboard (and the dashboard).
    pub fn set_dashboard_tab(&mut self, tab: crate::ui::dashboard::DashboardTab) {
        self.bottom_tab = BottomTab::Dashboard;
        self.dashboard.tab = tab;
    }

    /// Carries out a simulation bar action. A run started on an older state of the design, or with other settings,
    /// is thrown away first, so Run always simulates the design as it is now.
    pub fn simulation_action(
        &mut self,
        ctx: &egui::Context,
        action: crate::ui::sim_bar::SimAction,
    ) {
        use crate::ui::sim_bar::SimAction;
        use sim_runner::SimCommand;
        match action {
            SimAction::SetSpeed(speed) => self.sim_speed = speed,
            SimAction::SetDuration(duration_s) => {
                if duration_s.is_finite() && duration_s > self.sim_settings.0.warmup_s {
                    self.sim_settings.0.duration_s = duration_s;
                }
                return;
            }
            SimAction::SetSeed(seed) => {
                self.sim_settings.0.seed = seed;
                return;
            }
            SimAction::Restart => {
                // The same speed as the run it replaces; a run that was paused starts running.
                self.stop_simulation();
                self.ensure_live_run(ctx);
                if let Some(live) = &self.live {
                    live.run(self.sim_speed);
                }
                return;
            }
            _ => {}
        }
        let state = self.document.state_id();
        if matches!(action, SimAction::Reset)
            || self
                .live
                .as_ref()
                .is_some_and(|l| l.state_id != state || l.settings != self.sim_settings.0)
        {
            self.stop_simulation();
        }
        if matches!(action, SimAction::Reset) {
            return;
        }
        if matches!(action, SimAction::Run | SimAction::Step) {
            self.ensure_live_run(ctx);
        }
        let Some(live) = &self.live else {
            return;
        };
        match action {
            SimAction::Run => live.run(self.sim_speed),
            SimAction::Pause => live.send(SimCommand::Pause),
            SimAction::Step => live.send(SimCommand::Step(1.0)),
            SimAction::SetSpeed(speed) => live.send(SimCommand::SetSpeed(speed)),
            SimAction::Reset
            | SimAction::SetDuration(_)
            | SimAction::SetSeed(_)
            | SimAction::Restart => {}
        }
    }

    /// Starts a (paused) run of the design as it is, unless one is on; the first run opens the dashboard.
    fn ensure_live_run(&mut self, ctx: &egui::Context) {
        if self.live.is_some() {
            return;
        }
        let design = self.document.design();
        let repaint = ctx.clone();
        match live::LiveRun::start(
            design,
            self.document.state_id(),
            self.sim_settings.0,
            std::sync::Arc::new(move || repaint.request_repaint()),
        ) {
            Ok(run) => {
                tracing::info!(
                    state = self.document.state_id(),
                    duration_s = self.sim_settings.0.duration_s,
                    seed = self.sim_settings.0.seed,
                    "simulation run started"
                );
                self.live = Some(run);
                self.bottom_tab = BottomTab::Dashboard;
            }
            Err(error) => self.notice = Some(Notice::Error(error)),
        }
    }

    /// Throws the live run away (its thread stops) and takes its marks off the canvas.
    fn stop_simulation(&mut self) {
        self.live = None;
        self.canvas.set_live(None);
        self.last_animation_at = None;
    }

    /// Injects a fault into the live run (starting a paused run if none is on), or clears a service's faults.
    pub fn fault_request(&mut self, ctx: &egui::Context, request: crate::ui::canvas::FaultRequest) {
        use crate::ui::canvas::FaultRequest;
        if self
            .live
            .as_ref()
            .is_some_and(|l| l.state_id != self.document.state_id())
        {
            self.stop_simulation();
        }
        self.ensure_live_run(ctx);
        let Some(live) = &mut self.live else { return };
        match request {
            FaultRequest::Inject(fault) => {
                self.notice = Some(Notice::Info(format!(
                    "Injected {} into {} at {:.1} s",
                    crate::ui::dashboard::fault_label(fault.kind, fault.factor, fault.error_rate),
                    self.document.design().service_name(fault.service.as_str()),
                    live.history.time_s
                )));
                live.inject(fault);
            }
            FaultRequest::Clear(service) => {
                self.notice = Some(Notice::Info(format!(
                    "Cleared the faults of {} at {:.1} s",
                    self.document.design().service_name(service.as_str()),
                    live.history.time_s
                )));
                live.clear(&service);
            }
        }
    }

    /// Carries out what the user asked for in the dashboard.
    pub fn dashboard_action(
        &mut self,
        ctx: &egui::Context,
        action: crate::ui::dashboard::DashboardAction,
    ) {
        use crate::ui::dashboard::DashboardAction;
        match action {
            DashboardAction::SetRate { flow, rate_rps } => {
                if let Some(live) = &mut self.live {
                    live.set_rate(flow, rate_rps);
                }
            }
            DashboardAction::PinBaseline => {
                let label = format!("baseline (seed {})", self.sim_settings.0.seed);
                if let Some(finished) = self.live.as_ref().and_then(|l| l.to_finished(label)) {
                    self.notice = Some(Notice::Info(
                        "Baseline kept: change the design, run it again, and open Compare"
                            .to_owned(),
                    ));
                    self.baseline = Some(finished);
                }
            }
            DashboardAction::ClearBaseline => self.baseline = None,
            DashboardAction::ExportCsv | DashboardAction::ExportJson => {
                let Some(live) = &self.live else { return };
                let stem = self.export_stem();
                let (bytes, name) = if action == DashboardAction::ExportCsv {
                    (
                        live.history.to_csv().into_bytes(),
                        format!("{stem}-run.csv"),
                    )
                } else {
                    (
                        live.history.to_json(live.report.as_ref()).into_bytes(),
                        format!("{stem}-run.json"),
                    )
                };
                self.ask_save_file(ctx, "Save the run", bytes, name);
            }
            DashboardAction::ExportPng => {
                self.awaiting_chart_screenshot = true;
                ctx.send_viewport_cmd(egui::ViewportCommand::Screenshot(egui::UserData::default()));
            }
        }
    }

    /// A file-name stem from the design's file or name.
    fn export_stem(&self) -> String {
        self.document
            .path()
            .and_then(|p| p.file_stem())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "design".to_owned())
    }

    /// A screenshot asked for by "Charts as PNG": cut the charts out and ask where to save them.
    fn take_chart_screenshot(&mut self, ctx: &egui::Context) {
        if !self.awaiting_chart_screenshot {
            return;
        }
        let image = ctx.input(|i| {
            i.events.iter().find_map(|e| match e {
                egui::Event::Screenshot { image, .. } => Some(image.clone()),
                _ => None,
            })
        });
        let Some(image) = image else { return };
        self.awaiting_chart_screenshot = false;
        let Some(rect) = self.dashboard.charts_rect else {
            self.notice = Some(Notice::Error(
                "Open the dashboard's Charts to save them as an image".to_owned(),
            ));
            return;
        };
        match crate::ui::dashboard::png_of_region(&image, rect, ctx.pixels_per_point()) {
            Ok(png) => {
                let name = format!("{}-charts.png", self.export_stem());
                self.ask_save_file(ctx, "Save the charts", png, name);
            }
            Err(error) => self.notice = Some(Notice::Error(error)),
        }
    }

    /// Keeps the per-call latencies in step: computed once a run of this design state finishes, dropped when the
    /// design changes.
    fn refresh_hops(&mut self) {
        let state = self.document.state_id();
        let finished = self
            .live
            .as_ref()
            .filter(|l| l.state_id == state)
            .and_then(|l| l.report.as_ref());
        match (finished, &self.hops) {
            (Some(_), Some((s, _))) if *s == state => {}
            (Some(run), _) => {
                if let Some((_, report, _)) = &self.findings {
                    let hops = crate::ui::warnings::hop_latencies(
                        self.document.design(),
                        &report.analysis,
                        run,
                    );
                    self.hops = Some((state, hops));
                }
            }
            (None, _) => self.hops = None,
        }
    }

    /// Takes what the simulator thread published since the last frame (within a small time budget), and shows it
    /// on the canvas.
    fn drain_simulation(&mut self, ctx: &egui::Context) {
        // The bar follows the design's own duration and seed whenever those change.
        let design_settings = self.document.design().simulation_settings();
        if design_settings != self.sim_settings.1 {
            self.sim_settings = (design_settings, design_settings);
        }
        let Some(live) = &mut self.live else { return };
        if live.drain(std::time::Duration::from_millis(2)) {
            self.canvas
                .set_live(Some(crate::ui::canvas::LiveOverlay::from_history(
                    &live.history,
                )));
        }
        // The dots move while the clock runs; the window keeps painting for them, at about 30 frames a second:
        // smooth enough for dots and charts, and it leaves the CPU to the simulator (a software renderer on two
        // cores otherwise paints as fast as it can).
        if live.running() {
            let now = ctx.input(|i| i.time);
            if let Some(last) = self.last_animation_at {
                self.canvas.advance_animation((now - last).clamp(0.0, 0.1));
            }
            self.last_animation_at = Some(now);
            ctx.request_repaint_after(ANIMATION_FRAME);
        } else {
            self.last_animation_at = None;
        }
    }

    /// The recent files, newest first.
    pub fn recent_files(&self) -> &[PathBuf] {
        self.recent.paths()
    }

    /// Saves to `path` and makes it the document's file.
    pub fn save_as(&mut self, path: PathBuf) {
        match self.document.save_as(&path) {
            Ok(()) => {
                tracing::info!(path = %path.display(), "saved design");
                self.recent.add(&path);
                self.notice = Some(Notice::Info(format!("Saved {}", path.display())));
            }
            Err(error) => self.notice = Some(Notice::Error(error.to_string())),
        }
    }

    /// Saves to the document's file, or asks where when it has none.
    fn save(&mut self, ctx: &egui::Context) {
        match self.document.path().map(ToOwned::to_owned) {
            Some(path) => self.save_as(path),
            None => self.ask_save_path(ctx),
        }
    }

    /// Replaces the document with a new empty design.
    fn new_design(&mut self) {
        self.document = Document::new(Design::new("Untitled design"));
        self.stop_simulation();
        self.selection = Selection::default();
        self.canvas = Canvas::default();
        self.notice = None;
    }

    /// Shows a native file dialog on its own thread; the picked path, turned into a message by `message`, comes
    /// back through the background channel.
    fn pick_path(
        &self,
        ctx: &egui::Context,
        dialog: rfd::AsyncFileDialog,
        kind: PickKind,
        message: impl FnOnce(PathBuf) -> Background + Send + 'static,
    ) {
        let tx = self.background_tx.clone();
        let ctx = ctx.clone();
        // rfd answers "no file" when the user cancels and when no dialog could be shown; only its log tells.
        crate::logging::install_log_bridge();
        crate::logging::clear_dialog_failure();
        spawn_dialog(move || async move {
            let (picked, what) = match kind {
                PickKind::OpenFile => (dialog.pick_file().await, "a file to open"),
                PickKind::SaveFile => (dialog.save_file().await, "where to save"),
                PickKind::Folder => (dialog.pick_folder().await, "a folder"),
            };
            match picked {
                Some(file) => {
                    let _ = tx.send(message(file.path().to_owned()));
                }
                None => {
                    if let Some(why) = crate::logging::take_dialog_failure() {
                        let _ = tx.send(Background::DialogFailed(what, why));
                    }
                }
            }
            ctx.request_repaint();
        });
    }

    fn ask_open_path(&self, ctx: &egui::Context) {
        let dialog = rfd::AsyncFileDialog::new()
            .set_title("Open design")
            .add_filter("Syncopate design", &["syncopate"]);
        self.pick_path(ctx, dialog, PickKind::OpenFile, Background::Open);
    }

    fn ask_save_path(&self, ctx: &egui::Context) {
        let file_name = format!(
            "{}.syncopate",
            crate::model::ids::slugify_service_id(&self.document.design().name)
        );
        let dialog = rfd::AsyncFileDialog::new()
            .set_title("Save design as")
            .add_filter("Syncopate design", &["syncopate"])
            .set_file_name(file_name);
        self.pick_path(ctx, dialog, PickKind::SaveFile, |mut path| {
            if path.extension().is_none() {
                path.set_extension("syncopate");
            }
            Background::SaveAs(path)
        });
    }

    /// Carries out an action that replaces or closes the document, asking first when there are unsaved changes.
    pub fn request(&mut self, ctx: &egui::Context, action: Pending) {
        if self.document.is_dirty() {
            self.confirm = Some(action);
        } else {
            self.perform(ctx, action);
        }
    }

    /// The action waiting for the user's answer about unsaved changes.
    pub fn pending_confirmation(&self) -> Option<&Pending> {
        self.confirm.as_ref()
    }

    fn perform(&mut self, ctx: &egui::Context, action: Pending) {
        match action {
            Pending::New => self.new_design(),
            Pending::AskOpen => self.ask_open_path(ctx),
            Pending::AskImport(source) => self.ask_import_path(ctx, source),
            Pending::Open(path) => self.open(path),
            Pending::OpenSample(index) => self.open_sample(index),
            Pending::Quit => {
                self.closing = true;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        }
    }

    /// The "unsaved changes" dialog.
    fn confirm_dialog(&mut self, ctx: &egui::Context) {
        let Some(action) = self.confirm.clone() else {
            return;
        };
        let what = match action {
            Pending::New => "starting a new design",
            Pending::AskOpen | Pending::Open(_) | Pending::OpenSample(_) => {
                "opening another design"
            }
            Pending::AskImport(_) => "importing a new design",
            Pending::Quit => "quitting",
        };
        let message = format!(
            "{} has unsaved changes. Save them before {what}?",
            self.document.title()
        );
        let answer = choice_dialog(
            ctx,
            "Unsaved changes",
            &message,
            &["Save", "Discard changes", "Cancel"],
        );
        match answer {
            Some(0) => {
                self.confirm = None;
                match self.document.path().map(ToOwned::to_owned) {
                    Some(path) => {
                        self.save_as(path);
                        if !self.document.is_dirty() {
                            self.perform(ctx, action);
                        }
                    }
                    // Untitled: choose where to save; the user repeats the action afterwards.
                    None => self.ask_save_path(ctx),
                }
            }
            Some(1) => {
                self.confirm = None;
                self.perform(ctx, action);
            }
            Some(_) => self.confirm = None,
            None => {}
        }
    }

    fn recovery_dialog(&mut self, ctx: &egui::Context) {
        let Some(recovery) = &self.recovery else {
            return;
        };
        let name = recovery.path.as_ref().map_or_else(
            || "an untitled design".to_owned(),
            |p| p.display().to_string(),
        );
        let message = format!(
            "Syncopate did not close normally last time. Unsaved changes to {name} ({} services) were kept.",
            recovery.design.services.len()
        );
        let answer = choice_dialog(
            ctx,
            "Restore unsaved work?",
            &message,
            &["Restore", "Discard"],
        );
        match answer {
            Some(0) => {
                if let Some(recovery) = self.recovery.take() {
                    tracing::info!(
                        services = recovery.design.services.len(),
                        path = ?recovery.path,
                        "restored unsaved work"
                    );
                    self.document = Document::recovered(recovery.design, recovery.path);
                    // The restored work is what the user came back for: no welcome screen over it.
                    self.show_welcome = false;
                    self.stop_simulation();
                    self.selection = Selection::default();
                    self.canvas = Canvas::default();
                }
            }
            Some(_) => {
                tracing::info!("discarded unsaved work from the previous run");
                self.recovery = None;
                self.autosave.discard();
            }
            None => {}
        }
    }

    fn about_window(&mut self, ctx: &egui::Context) {
        let mut open = self.show_about;
        egui::Window::new("About Syncopate")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                ui.heading(format!("Syncopate {}", env!("CARGO_PKG_VERSION")));
                ui.label(env!("CARGO_PKG_DESCRIPTION"));
                ui.label(format!("Licence: {}", env!("CARGO_PKG_LICENSE")));
                ui.label(
                    "Designs are plain .syncopate JSON files: readable, diffable, and checked with \
                     `syncopate check FILE`.",
                );
                if let Some(dir) = crate::logging::log_dir() {
                    ui.label(format!(
                        "Log files (one a day; attach the latest to a bug report): {}",
                        dir.display()
                    ));
                }
            });
        self.show_about = open;
    }

    fn help_window(&mut self, ctx: &egui::Context) {
        let mut open = self.show_help;
        egui::Window::new("Keyboard shortcuts").open(&mut open).show(ctx, |ui| {
            egui::Grid::new("shortcuts").num_columns(2).striped(true).show(ui, |ui| {
                let command = shortcut_key();
                for (keys, what) in [
                    (format!("{command}+N"), "New design"),
                    (format!("{command}+O"), "Open a design"),
                    (format!("{command}+S"), "Save"),
                    (format!("{command}+Shift+S"), "Save as"),
                    (format!("{command}+Z"), "Undo"),
                    (format!("{command}+Shift+Z / {command}+Y"), "Redo"),
                    ("Delete / Backspace".to_owned(), "Delete the selection (services take their calls)"),
                    ("F".to_owned(), "Fit the design to the view"),
                    (format!("{command}+F"), "Find a service by name or id (Enter selects and centres it)"),
                    ("Double-click the canvas".to_owned(), "Add a service of the chosen kind"),
                    ("Connect + drag".to_owned(), "Draw a call from one service to another"),
                    ("Shift+click".to_owned(), "Add to the selection"),
                    ("Wheel or pinch / drag the background".to_owned(), "Zoom around the pointer / pan"),
                ] {
                    ui.label(keys);
                    ui.label(what);
                    ui.end_row();
                }
            });
            ui.separator();
            // An installed app has no docs folder: point at what it has.
            ui.label(
                "Each warning explains its trade-off and suggests a change (open a row in the Warnings tab); \
                 `syncopate check FILE` lists them on the command line, and `syncopate --help` shows every command.",
            );
        });
        self.show_help = open;
    }

    /// Asks where to save a file (a diagram, a run's results, charts), then writes it on the dialog's thread.
    fn ask_save_file(&self, ctx: &egui::Context, title: &str, bytes: Vec<u8>, file_name: String) {
        let dialog = rfd::AsyncFileDialog::new()
            .set_title(title)
            .set_file_name(file_name);
        self.pick_path(ctx, dialog, PickKind::SaveFile, move |path| {
            let written = crate::model::file::write_atomically(&path, &bytes);
            Background::SavedFile(path, written)
        });
    }

    /// Asks for a file to import, then imports it on the dialog's thread.
    fn ask_import_path(&self, ctx: &egui::Context, source: crate::import::Source) {
        use crate::import::Source;
        let (what, extensions): (&str, &[&str]) = match source {
            Source::Compose => ("docker-compose file", &["yml", "yaml"]),
            Source::Kubernetes => ("Kubernetes manifests", &["yaml", "yml"]),
            Source::Zipkin => ("Zipkin v2 JSON", &["json"]),
            Source::Jaeger => ("Jaeger JSON", &["json"]),
            Source::Otlp => ("OTLP/JSON traces", &["json"]),
        };
        let dialog = rfd::AsyncFileDialog::new()
            .set_title(format!("Import {what}"))
            .add_filter(what, extensions)
            .add_filter("Any file", &["*"]);
        self.pick_path(ctx, dialog, PickKind::OpenFile, move |path| {
            Background::Imported(Box::new(crate::import::import_file(source, &path)))
        });
    }

    /// Replaces the document with an imported design (unsaved), and lists what the importer guessed; a failed
    /// import keeps the current design and says why.
    pub fn apply_import(
        &mut self,
        result: Result<crate::import::Imported, crate::import::ImportError>,
    ) {
        match result {
            Ok(imported) => {
                let design = &imported.design;
                self.notice = Some(Notice::Info(format!(
                    "Imported {} services, {} calls and {} flows; check the import notes, then save",
                    design.services.len(),
                    design.edges.len(),
                    design.flows.len()
                )));
                self.import_notes = Some((design.name.clone(), imported.notes));
                self.document = Document::imported(imported.design);
                self.stop_simulation();
                self.selection = Selection::default();
                self.canvas = Canvas::default();
            }
            Err(error) => self.notice = Some(Notice::Error(format!("Import failed: {error}"))),
        }
    }

    /// The notes of the last import still shown.
    pub fn import_notes(&self) -> Option<&[crate::import::Note]> {
        self.import_notes
            .as_ref()
            .map(|(_, notes)| notes.as_slice())
    }

    fn import_notes_window(&mut self, ctx: &egui::Context) {
        let Some((name, notes)) = &self.import_notes else {
            return;
        };
        let mut open = true;
        egui::Window::new("Import notes")
            .open(&mut open)
            .default_size([560.0, 320.0])
            .show(ctx, |ui| {
                ui.label(format!(
                    "{name}: what the importer guessed or left out ({}). Check these before you rely on the design.",
                    notes.len()
                ));
                ui.separator();
                egui::ScrollArea::vertical().show(ui, |ui| {
                    for note in notes {
                        let (icon, color) = match note.kind {
                            crate::import::NoteKind::Guessed => ("?", ui.visuals().warn_fg_color),
                            crate::import::NoteKind::Skipped => ("−", ui.visuals().weak_text_color()),
                        };
                        ui.horizontal_wrapped(|ui| {
                            ui.colored_label(color, icon);
                            ui.label(note.to_string());
                        });
                    }
                });
            });
        if !open {
            self.import_notes = None;
        }
    }

    /// Asks for a folder, then writes the exported files into it.
    fn ask_export_folder(&self, ctx: &egui::Context, files: Vec<crate::export::ExportedFile>) {
        let dialog = rfd::AsyncFileDialog::new().set_title("Export configuration into folder");
        // The files are written on the dialog's thread, like imports are read there: no file I/O in a frame.
        self.pick_path(ctx, dialog, PickKind::Folder, move |folder| {
            let written = crate::export::write_files(&folder, &files).map(|paths| paths.len());
            Background::Exported(folder, written)
        });
    }

    /// Says how writing exported files into `folder` went.
    pub fn report_export(
        &mut self,
        folder: &std::path::Path,
        written: Result<usize, crate::model::SaveError>,
    ) {
        self.notice = Some(match written {
            Ok(count) => Notice::Info(format!(
                "Exported {} into {}",
                match count {
                    1 => "1 file".to_owned(),
                    n => format!("{n} files"),
                },
                folder.display()
            )),
            Err(error) => Notice::Error(format!("Export failed: {error}")),
        });
    }

    /// The Export window (for tests).
    pub fn export_window(&mut self) -> &mut crate::ui::export::ExportWindow {
        &mut self.export
    }

    /// Applies the commands the UI emitted this frame, each as one undoable step.
    fn apply_pending(&mut self) {
        for command in std::mem::take(&mut self.pending) {
            let renamed = match &command {
                Command::UpdateService { id, service } if *id != service.id => {
                    Some((id.clone(), service.id.clone()))
                }
                _ => None,
            };
            // What is added is selected, so the inspector shows it at once.
            let added = match &command {
                Command::AddService(service) => Some(Selection {
                    services: vec![service.id.clone()],
                    edges: Vec::new(),
                }),
                Command::AddEdge(edge) => Some(Selection {
                    services: Vec::new(),
                    edges: vec![edge.id.clone()],
                }),
                _ => None,
            };
            let label = command.label();
            match self.document.apply(command) {
                Ok(()) => {
                    tracing::debug!(command = %label, state = self.document.state_id(), "applied");
                    if let Some((old, new)) = renamed {
                        for id in &mut self.selection.services {
                            if *id == old {
                                *id = new.clone();
                            }
                        }
                    }
                    if let Some(selection) = added {
                        if let [service] = selection.services.as_slice() {
                            self.inspector.focus_name_of(service.as_str());
                        }
                        self.selection = selection;
                    }
                }
                Err(problem) => {
                    tracing::info!(command = %label, %problem, "edit refused");
                    self.notice = Some(Notice::Error(format!("Edit refused: {problem}")))
                }
            }
        }
        if let Some(services) = self.select_after_apply.take() {
            self.selection = Selection {
                services,
                edges: Vec::new(),
            };
        }
        // Drop selected ids that no longer exist (after undo or delete).
        let design = self.document.design();
        self.selection
            .services
            .retain(|id| design.service(id.as_str()).is_some());
        self.selection
            .edges
            .retain(|id| design.edge(id.as_str()).is_some());
    }

    fn handle_background(&mut self) {
        while let Ok(message) = self.background_rx.try_recv() {
            match message {
                Background::Open(path) => self.open(path),
                Background::DialogFailed(what, why) => {
                    self.notice = Some(Notice::Error(dialog_failure_message(what, &why)));
                }
                Background::SaveAs(path) => self.save_as(path),
                Background::Exported(folder, written) => self.report_export(&folder, written),
                Background::Imported(result) => self.apply_import(*result),
                Background::SavedFile(path, written) => {
                    self.notice = Some(match written {
                        Ok(()) => Notice::Info(format!("Saved {}", path.display())),
                        Err(error) => Notice::Error(error.to_string()),
                    });
                }
            }
        }
    }

    fn handle_shortcuts(&mut self, ctx: &egui::Context) {
        use egui::{Key, KeyboardShortcut, Modifiers};
        let shortcut = |modifiers, key| KeyboardShortcut::new(modifiers, key);
        let redo = ctx.input_mut(|i| {
            i.consume_shortcut(&shortcut(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z))
                || i.consume_shortcut(&shortcut(Modifiers::COMMAND, Key::Y))
        });
        if redo {
            self.document.redo();
        }
        if ctx.input_mut(|i| i.consume_shortcut(&shortcut(Modifiers::COMMAND, Key::Z))) {
            self.document.undo();
        }
        if ctx.input_mut(|i| {
            i.consume_shortcut(&shortcut(Modifiers::COMMAND | Modifiers::SHIFT, Key::S))
        }) {
            self.ask_save_path(ctx);
        }
        if ctx.input_mut(|i| i.consume_shortcut(&shortcut(Modifiers::COMMAND, Key::S))) {
            self.save(ctx);
        }
        if ctx.input_mut(|i| i.consume_shortcut(&shortcut(Modifiers::COMMAND, Key::O))) {
            self.request(ctx, Pending::AskOpen);
        }
        if ctx.input_mut(|i| i.consume_shortcut(&shortcut(Modifiers::COMMAND, Key::N))) {
            self.request(ctx, Pending::New);
        }
        if ctx.input_mut(|i| i.consume_shortcut(&shortcut(Modifiers::COMMAND, Key::F))) {
            self.find.open();
        }
        let editing_text = ctx.memory(|m| m.focused().is_some());
        if !editing_text
            && ctx.input(|i| i.key_pressed(Key::Delete) || i.key_pressed(Key::Backspace))
            && !self.selection.is_empty()
        {
            self.pending.push(Command::Delete {
                services: self.selection.services.clone(),
                edges: self.selection.edges.clone(),
            });
        }
        if !editing_text && ctx.input(|i| i.key_pressed(Key::F)) {
            self.canvas.request_fit();
        }
        if !editing_text {
            self.handle_clipboard(ctx);
        }
    }

    /// Copy (Ctrl+C), cut (Ctrl+X), paste (Ctrl+V) and duplicate (Ctrl+D) of the selected services.
    fn handle_clipboard(&mut self, ctx: &egui::Context) {
        let events = ctx.input(|i| i.events.clone());
        let duplicate = ctx.input_mut(|i| {
            i.consume_shortcut(&egui::KeyboardShortcut::new(
                egui::Modifiers::COMMAND,
                egui::Key::D,
            ))
        });
        for event in events {
            match event {
                egui::Event::Copy | egui::Event::Cut => {
                    if let Some(text) = clipboard::copy(self.document.design(), &self.selection) {
                        ctx.copy_text(text.clone());
                        self.clipboard = Some(text);
                        if event == egui::Event::Cut {
                            self.pending.push(Command::Delete {
                                services: self.selection.services.clone(),
                                edges: Vec::new(),
                            });
                        }
                    }
                }
                egui::Event::Paste(text) => {
                    let text = if text.contains("syncopate-fragment") {
                        Some(text)
                    } else {
                        self.clipboard.clone()
                    };
                    if let Some(text) = text {
                        self.paste(&text, "Paste");
                    }
                }
                _ => {}
            }
        }
        if duplicate && let Some(text) = clipboard::copy(self.document.design(), &self.selection) {
            self.paste(&text, "Duplicate");
        }
    }

    fn paste(&mut self, text: &str, label: &str) {
        if let Some((design, pasted)) = clipboard::paste(self.document.design(), text) {
            self.pending.push(Command::ReplaceDesign {
                label: label.to_owned(),
                design: Box::new(design),
            });
            self.select_after_apply = Some(pasted);
        }
    }

    fn window_title(&self) -> String {
        let marker = if self.document.is_dirty() { "● " } else { "" };
        format!("{marker}{} — Syncopate", self.document.title())
    }

    fn menu_bar(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui
                    .button("New")
                    .on_hover_text(format!("Start an empty design ({}+N)", shortcut_key()))
                    .clicked()
                {
                    self.request(ui.ctx(), Pending::New);
                }
                if ui
                    .button("Open…")
                    .on_hover_text(format!("Open a .syncopate design ({}+O)", shortcut_key()))
                    .clicked()
                {
                    self.request(ui.ctx(), Pending::AskOpen);
                }
                let recent = self.recent.paths().to_vec();
                ui.add_enabled_ui(!recent.is_empty(), |ui| {
                    ui.menu_button("Open Recent", |ui| {
                        for path in recent {
                            let name = path
                                .file_name()
                                .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
                            if ui
                                .button(name)
                                .on_hover_text(path.display().to_string())
                                .clicked()
                            {
                                self.request(ui.ctx(), Pending::Open(path));
                            }
                        }
                    });
                });
                if ui
                    .button("Save")
                    .on_hover_text(format!("Save to the design's file, or ask where ({}+S)", shortcut_key()))
                    .clicked()
                {
                    self.save(ui.ctx());
                }
                if ui
                    .button("Save As…")
                    .on_hover_text(format!("Save to a new file ({}+Shift+S)", shortcut_key()))
                    .clicked()
                {
                    self.ask_save_path(ui.ctx());
                }
                ui.separator();
                ui.menu_button("Import", |ui| {
                    use crate::import::Source;
                    for (source, label, help) in [
                        (Source::Compose, "docker-compose file…", "Services, ports, replicas; calls from depends_on and address variables"),
                        (Source::Kubernetes, "Kubernetes manifests…", "Deployments, StatefulSets and Services; calls from address variables"),
                        (Source::Zipkin, "Zipkin traces…", "Zipkin v2 JSON: services, calls, service times and flows from spans"),
                        (Source::Jaeger, "Jaeger traces…", "Jaeger JSON: services, calls, service times and flows from spans"),
                        (Source::Otlp, "OpenTelemetry traces…", "OTLP/JSON: services, calls, service times and flows from spans"),
                    ] {
                        if ui.button(label).on_hover_text(help).clicked() {
                            self.request(ui.ctx(), Pending::AskImport(source));
                        }
                    }
                });
                if ui
                    .button("Export…")
                    .on_hover_text("Envoy, Istio, Kubernetes, docker-compose, nginx, RabbitMQ and Kafka configuration")
                    .clicked()
                {
                    self.export.open = true;
                }
                ui.separator();
                if ui
                    .button("Quit")
                    .on_hover_text("Close the window (unsaved changes are asked about first)")
                    .clicked()
                {
                    self.request(ui.ctx(), Pending::Quit);
                }
            });
            ui.menu_button("Edit", |ui| {
                let undo = self.document.undo_label().map(|l| format!("Undo {l}"));
                if ui
                    .add_enabled(
                        undo.is_some(),
                        egui::Button::new(undo.unwrap_or_else(|| "Undo".into())),
                    )
                    .clicked()
                {
                    self.document.undo();
                }
                let redo = self.document.redo_label().map(|l| format!("Redo {l}"));
                if ui
                    .add_enabled(
                        redo.is_some(),
                        egui::Button::new(redo.unwrap_or_else(|| "Redo".into())),
                    )
                    .clicked()
                {
                    self.document.redo();
                }
            });
            ui.menu_button("View", |ui| {
                if ui
                    .button("Fit to view (F)")
                    .on_hover_text("Zoom and pan so the whole design shows")
                    .clicked()
                {
                    self.canvas.request_fit();
                }
                ui.menu_button("Theme", |ui| {
                    let current = ui.ctx().options(|o| o.theme_preference);
                    for (preference, label) in [
                        (egui::ThemePreference::System, "Follow the system"),
                        (egui::ThemePreference::Light, "Light"),
                        (egui::ThemePreference::Dark, "Dark"),
                    ] {
                        if ui.radio(current == preference, label).clicked() {
                            self.theme.set(ui.ctx(), preference);
                        }
                    }
                });
            });
            ui.menu_button("Simulation", |ui| {
                if ui
                    .button("Run for real on this machine…")
                    .on_hover_text(
                        "Run the design as real servers on loopback (optionally through its exported Envoy \
                         proxies) and compare with the simulation",
                    )
                    .clicked()
                {
                    self.emulation.open = true;
                }
            });
            ui.menu_button("Help", |ui| {
                if ui
                    .button("Keyboard shortcuts")
                    .on_hover_text("Every shortcut and canvas gesture")
                    .clicked()
                {
                    self.show_help = true;
                }
                if ui
                    .button("Welcome screen")
                    .on_hover_text("Samples, a new design, recent files")
                    .clicked()
                {
                    self.show_welcome = true;
                }
                if ui
                    .button("About Syncopate")
                    .on_hover_text("Version and licence")
                    .clicked()
                {
                    self.show_about = true;
                }
            });
        });
    }
}

impl SyncopateApp {
    /// The canvas (for tests that aim at services by their screen position).
    pub fn canvas(&self) -> &Canvas {
        &self.canvas
    }

    fn toolbar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            if ui
                .button("+ Service")
                .on_hover_text("Add a service (or double-click the canvas)")
                .clicked()
            {
                let design = self.document.design();
                let center = self
                    .canvas
                    .canvas_position(ui.ctx().content_rect().center())
                    .unwrap_or(egui::Pos2::new(100.0, 100.0));
                let service =
                    crate::ui::canvas::new_service(design, self.canvas.new_service_kind, center);
                self.pending.push(Command::AddService(service));
            }
            egui::ComboBox::from_id_salt("new-service-kind")
                .selected_text(self.canvas.new_service_kind.as_str())
                .show_ui(ui, |ui| {
                    for kind in crate::model::ServiceKind::ALL {
                        ui.selectable_value(&mut self.canvas.new_service_kind, kind, kind.as_str());
                    }
                })
                .response
                .on_hover_text(
                    "The kind of service that + Service and a double-click on the canvas add",
                );
            ui.toggle_value(&mut self.canvas.connecting, "Connect")
                .on_hover_text("Drag from one service to another to draw a call");
            ui.separator();
            if ui
                .button("Tidy layout")
                .on_hover_text("Lay the services out left to right by call depth")
                .clicked()
            {
                let mut tidy = self.document.design().clone();
                crate::model::layout::tidy_layout(&mut tidy);
                self.pending.push(Command::ReplaceDesign {
                    label: "Tidy layout".to_owned(),
                    design: Box::new(tidy),
                });
                self.canvas.request_fit();
            }
            if ui
                .button("Fit to view")
                .on_hover_text("Zoom and pan so the whole design shows (F)")
                .clicked()
            {
                self.canvas.request_fit();
            }
            ui.separator();
            self.focus
                .toolbar(ui, self.document.design(), &self.selection);
            if ui
                .button("🔍 Find")
                .on_hover_text("Find a service by name or id (Ctrl+F)")
                .clicked()
            {
                self.find.open();
            }
        });
    }

    /// Hands the canvas what the focus dims, when the focus or the design changed.
    fn apply_focus(&mut self) {
        self.focus.apply(
            self.document.design(),
            self.document.state_id(),
            &mut self.canvas,
            &mut self.sequence,
        );
    }
}

/// What the window says when no file dialog could be shown to pick `what`.
fn dialog_failure_message(what: &str, why: &str) -> String {
    let how = if cfg!(target_os = "linux") {
        "install xdg-desktop-portal or zenity for one; "
    } else {
        ""
    };
    format!(
        "No file dialog could be shown to pick {what}, so nothing was opened or written ({why}). {how}the command \
         line works without one (syncopate --help)."
    )
}

/// A centred modal-style window with a message and a row of buttons; returns the index of the button clicked.
fn choice_dialog(
    ctx: &egui::Context,
    title: &str,
    message: &str,
    buttons: &[&str],
) -> Option<usize> {
    let mut answer = None;
    egui::Window::new(title)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
        .show(ctx, |ui| {
            ui.label(message);
            ui.horizontal(|ui| {
                for (index, button) in buttons.iter().enumerate() {
                    // The first choice is the default, shown selected and taken by Enter.
                    let mut response = ui.add(egui::Button::new(*button).selected(index == 0));
                    if index == 0 {
                        response = response.on_hover_text("Enter");
                    }
                    if response.clicked() {
                        answer = Some(index);
                    }
                }
            });
        });
    let nothing_focused = ctx.memory(|m| m.focused().is_none());
    if answer.is_none()
        && nothing_focused
        && ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Enter))
    {
        answer = Some(0);
    }
    answer
}

/// What a native file dialog asks for.
#[derive(Debug, Clone, Copy)]
enum PickKind {
    OpenFile,
    SaveFile,
    Folder,
}

/// Runs a native file dialog on its own thread with a small async runtime, so the UI never blocks on it.
fn spawn_dialog<F, Fut>(make: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let spawned = std::thread::Builder::new()
        .name("syncopate-file-dialog".to_owned())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(make()),
                Err(error) => eprintln!("error: cannot start the file dialog: {error}"),
            }
        });
    if let Err(error) = spawned {
        eprintln!("error: cannot start the file dialog: {error}");
    }
}

impl eframe::App for SyncopateApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.theme.apply_kept(&ctx);
        self.handle_background();
        self.handle_shortcuts(&ctx);
        // Closing the window with unsaved changes asks first.
        if ctx.input(|i| i.viewport().close_requested())
            && !self.closing
            && self.document.is_dirty()
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.confirm = Some(Pending::Quit);
        }
        // A design file dropped on the window opens (asking first about unsaved changes).
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if let Some(path) = dropped.into_iter().next() {
            self.request(&ctx, Pending::Open(path));
        }
        self.confirm_dialog(&ctx);
        self.recovery_dialog(&ctx);
        self.help_window(&ctx);
        self.about_window(&ctx);
        if self.show_welcome
            && self.recovery.is_none()
            && self.confirm.is_none()
            && let Some(action) = crate::ui::welcome::show(&ctx, self.recent.paths())
        {
            use crate::ui::welcome::WelcomeAction;
            self.show_welcome = false;
            match action {
                WelcomeAction::OpenSample(index) => self.request(&ctx, Pending::OpenSample(index)),
                WelcomeAction::NewDesign => self.request(&ctx, Pending::New),
                WelcomeAction::Open => self.request(&ctx, Pending::AskOpen),
                WelcomeAction::OpenRecent(path) => self.request(&ctx, Pending::Open(path)),
                WelcomeAction::Close => {}
            }
        }
        self.import_notes_window(&ctx);
        self.emulation.show(&ctx, self.document.design());
        if let Some(service) = self.find.show(&ctx, self.document.design()) {
            self.reveal(&Subject::Service(service.as_str().into()));
        }
        self.apply_focus();
        if let Some(crate::ui::export::ExportAction::SaveAll(files)) =
            self.export
                .show(&ctx, self.document.design(), self.document.state_id())
        {
            self.ask_export_folder(&ctx, files);
        }
        if self.recovery.is_none() {
            let document = &self.document;
            self.autosave.tick(
                document.design(),
                document.path(),
                document.state_id(),
                document.is_dirty(),
                false,
            );
            if document.is_dirty() {
                // Come back for the next autosave even when nothing else happens.
                ctx.request_repaint_after(autosave::AUTOSAVE_INTERVAL);
            }
        }
        let title = self.window_title();
        if title != self.last_title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.last_title = title;
        }
        egui::Panel::top("menu").show(ui, |ui| self.menu_bar(ui));
        egui::Panel::top("toolbar").show(ui, |ui| self.toolbar(ui));
        self.drain_simulation(&ctx);
        self.take_chart_screenshot(&ctx);
        let sim_action = egui::Panel::top("simulation")
            .show(ui, |ui| {
                crate::ui::sim_bar::show(
                    ui,
                    self.sim_speed,
                    self.live.as_ref().and_then(|l| l.latest.as_ref()),
                    self.sim_settings.0,
                    !self.document.design().flows.is_empty(),
                    self.live
                        .as_ref()
                        .is_some_and(|l| l.state_id != self.document.state_id()),
                )
            })
            .inner;
        if let Some(action) = sim_action {
            self.simulation_action(&ctx, action);
        }
        if self.notice != self.logged_notice {
            match &self.notice {
                Some(Notice::Error(text)) => tracing::warn!(notice = %text, "error shown"),
                Some(Notice::Info(text)) => tracing::info!(notice = %text, "notice shown"),
                None => {}
            }
            self.logged_notice = self.notice.clone();
        }
        if let Some(notice) = self.notice.clone() {
            egui::Panel::bottom("notice").show(ui, |ui| {
                // Wrapped, the dismiss button first: a long message (a missing file dialog's, with what to
                // install) ran off the window's edge with its button.
                ui.horizontal_wrapped(|ui| {
                    if ui.small_button("🗙").on_hover_text("Dismiss").clicked() {
                        self.notice = None;
                    }
                    match &notice {
                        Notice::Error(text) => {
                            ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {text}"))
                        }
                        Notice::Info(text) => ui.label(text),
                    };
                });
            });
        }
        egui::Panel::right("inspector")
            .default_size(280.0)
            .show(ui, |ui| {
                self.inspector.show(
                    ui,
                    self.document.design(),
                    &self.selection,
                    &mut self.pending,
                );
            });
        self.refresh_findings();
        self.refresh_hops();
        let mut warning_actions = Vec::new();
        let mut dashboard_action = None;
        egui::Panel::bottom("warnings")
            .resizable(true)
            .default_size(270.0)
            // egui draws a panel's separator across the whole window, through the inspector beside it; the panel
            // draws its own, within its width.
            .show_separator_line(false)
            .show(ui, |ui| {
                let clip = ui.clip_rect();
                ui.painter().hline(
                    clip.x_range(),
                    clip.top() + 0.5,
                    ui.visuals().widgets.noninteractive.bg_stroke,
                );
                ui.horizontal(|ui| {
                    let warnings = self
                        .findings
                        .as_ref()
                        .map_or(0, |(_, r, _)| r.findings.len());
                    ui.selectable_value(
                        &mut self.bottom_tab,
                        BottomTab::Warnings,
                        format!("Warnings ({warnings})"),
                    )
                    .on_hover_text("What the trade-off rules found, most severe first, with fixes");
                    ui.selectable_value(
                        &mut self.bottom_tab,
                        BottomTab::Sequence,
                        "Sequence diagram",
                    )
                    .on_hover_text("The chosen flow's calls in time order, sync and async");
                    ui.selectable_value(
                        &mut self.bottom_tab,
                        BottomTab::Dashboard,
                        "Simulation dashboard",
                    )
                    .on_hover_text(
                        "Charts, service table, faults timeline and comparison of the live run",
                    );
                    ui.selectable_value(&mut self.bottom_tab, BottomTab::Capacity, "Capacity")
                        .on_hover_text(
                            "Sweep the load to find where the design breaks; plan the replicas it needs",
                        );
                });
                ui.separator();
                match self.bottom_tab {
                    BottomTab::Warnings => {
                        if let Some((_, report, _)) = &self.findings {
                            warning_actions = crate::ui::warnings::show(
                                ui,
                                report,
                                self.document.design(),
                                self.hops.as_ref().map(|(_, h)| h),
                            );
                        }
                    }
                    BottomTab::Sequence => {
                        let state = self.document.state_id();
                        let design = self.document.design();
                        let hops = self.hops.as_ref().map(|(_, h)| h);
                        match self.sequence.show(ui, design, state, &self.selection, hops) {
                            Some(SequenceAction::Select(edge)) => {
                                warning_actions.push(WarningAction::Reveal(Subject::Edge(edge)));
                            }
                            Some(SequenceAction::SaveSvg(svg, name)) => {
                                self.ask_save_file(
                                    ui.ctx(),
                                    "Save diagram",
                                    svg.into_bytes(),
                                    name,
                                );
                            }
                            None => {}
                        }
                    }
                    BottomTab::Capacity => {
                        if let Some(crate::ui::capacity::CapacityAction::ApplyPlan(sized)) =
                            self.capacity.show(ui, self.document.design())
                        {
                            self.pending.push(Command::ReplaceDesign {
                                label: "Plan replicas".to_owned(),
                                design: sized,
                            });
                        }
                    }
                    BottomTab::Dashboard => {
                        dashboard_action = self.dashboard.show(
                            ui,
                            self.live.as_ref(),
                            self.baseline.as_ref(),
                            self.emulation.result(),
                            self.document.design(),
                        );
                    }
                }
            });
        if let Some(action) = dashboard_action {
            self.dashboard_action(&ctx, action);
        }
        egui::CentralPanel::default().show(ui, |ui| {
            let design = self.document.design();
            let no_badges = Badges::default();
            let badges = self.findings.as_ref().map_or(&no_badges, |(_, _, b)| b);
            self.canvas.show(
                ui,
                design,
                self.document.state_id(),
                badges,
                &mut self.selection,
                &mut self.pending,
            );
        });
        if let Some(request) = self.canvas.fault_request.take() {
            self.fault_request(&ctx, request);
        }
        for action in warning_actions {
            match action {
                WarningAction::Reveal(subject) => self.reveal(&subject),
                WarningAction::Select(subject) => self.select_subject(&subject),
                WarningAction::ApplyFix(fix) => {
                    // Said, since the change may be off screen; and the list changes under the pointer, so the
                    // next row's fix button is held back a moment (a second click would apply it unseen).
                    self.notice = Some(Notice::Info(format!(
                        "Applied: {} (Edit > Undo takes it back)",
                        fix.label()
                    )));
                    crate::ui::warnings::note_fix_applied(&ctx);
                    self.pending.push(Command::ReplaceDesign {
                        label: fix.label(),
                        design: Box::new(rules::apply_fix(self.document.design(), &fix)),
                    });
                }
            }
        }
        self.apply_pending();
        // The mark of start-up, once the first frame's work (findings, view graph, panels) is done; painting it
        // follows.
        if !self.first_frame_logged {
            self.first_frame_logged = true;
            tracing::info!(
                since_start_ms = crate::logging::ms_since_start(),
                "first frame"
            );
        }
    }
}

/// The key shortcuts are pressed with: Cmd on macOS, Ctrl elsewhere.
fn shortcut_key() -> &'static str {
    if cfg!(target_os = "macos") {
        "Cmd"
    } else {
        "Ctrl"
    }
}

/// The application icon (`assets/icons`), built into the binary.
fn window_icon() -> std::sync::Arc<egui::IconData> {
    // The PNG is part of the source tree and checked by a test; should it ever fail to decode, the window simply
    // goes without an icon.
    std::sync::Arc::new(
        eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icons/syncopate-256.png"))
            .unwrap_or_default(),
    )
}

/// The renderer's setup: eframe's default, with GPU memory suballocated in blocks of 4-8 MiB rather than wgpu's
/// default 64-256 MiB. The app's GPU work is small (a font atlas and a few vertex buffers); with a software
/// renderer (no GPU, as on CI machines and many virtual desktops) those blocks are process memory.
fn wgpu_options() -> eframe::egui_wgpu::WgpuConfiguration {
    let mut options = eframe::egui_wgpu::WgpuConfiguration::default();
    if let eframe::egui_wgpu::WgpuSetup::CreateNew(setup) = &mut options.wgpu_setup {
        let default_descriptor = std::sync::Arc::clone(&setup.device_descriptor);
        setup.device_descriptor =
            std::sync::Arc::new(move |adapter| eframe::wgpu::DeviceDescriptor {
                memory_hints: eframe::wgpu::MemoryHints::Manual {
                    suballocated_device_memory_block_size: (4 << 20)..(8 << 20),
                },
                ..default_descriptor(adapter)
            });
    }
    options
}

/// Opens the desktop app, optionally on a file; returns the process exit code.
pub fn run(file: Option<PathBuf>) -> u8 {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Syncopate")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([640.0, 400.0])
            .with_drag_and_drop(true)
            .with_app_id("syncopate")
            .with_icon(window_icon()),
        wgpu_options: wgpu_options(),
        ..Default::default()
    };
    let result = eframe::run_native(
        "Syncopate",
        options,
        Box::new(move |_creation| {
            let welcome = file.is_none();
            let app = SyncopateApp::with_file(file).with_autosave(crate::logging::data_dir());
            app.autosave.install_panic_hook();
            Ok(Box::new(if welcome { app.with_welcome() } else { app }))
        }),
    );
    match result {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("error: cannot open the Syncopate window: {error}");
            1
        }
    }
}

#[cfg(test)]
mod icon_tests {
    #[test]
    fn the_window_icon_decodes() {
        let icon = super::window_icon();
        assert_eq!((icon.width, icon.height), (256, 256));
    }
}
