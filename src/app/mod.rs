//! The desktop application: the open document, the commands that change it, and background work (file dialogs).
//!
//! UI code in [`crate::ui`] reads the design and pushes [`Command`]s; [`SyncopateApp`] applies them after the frame,
//! each as one undoable step. The `SyncopateApp` type is here with its state, the application of commands,
//! shortcuts and the clipboard; its other concerns are rooms of their own: `frame` (eframe's `App`, `run`),
//! `menus` (menu bar, toolbar), `files` (open, save, import, export and their dialogs), `dialogs` (the app's own
//! windows), `simulation` (the live run as the app steers it).

pub mod autosave;
pub mod clipboard;
mod compare;
mod data_file;
mod dialogs;
mod document;
mod files;
pub mod focus;
mod frame;
mod menus;
pub mod panel_sizes;
pub mod recent;
mod simulation;
pub mod theme;

use files::dialog_failure_message;
pub use frame::run;
use frame::shortcut_key;

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
    /// A design to compare the open one with was read (on a thread of its own: a file, or git), named by its label.
    Compared(String, Box<Result<Design, String>>),
    /// The commits that touched the open file were listed (by git, on a thread of its own).
    Revisions(Result<Vec<crate::ui::changes::RevisionChoice>, String>),
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
    /// The design the open one is compared with (File > Compare with…), and the window that picks it.
    comparison: Option<crate::ui::changes::Comparison>,
    compare_window: crate::ui::changes::CompareWindow,
    panel_sizes: panel_sizes::PanelSizes,
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
    /// What changed since the design compared with (while comparing).
    Changes,
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
            comparison: None,
            compare_window: Default::default(),
            panel_sizes: Default::default(),
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
                self.notice = Some(Notice::Info(format!(
                    "Opened the {} sample: Save As keeps your changes",
                    sample.id
                )));
                self.replace_document(Document::new(design));
                self.canvas.request_fit();
            }
            Err(error) => self.notice = Some(Notice::Error(error.to_string())),
        }
    }

    /// Turns on autosave into `dir`, and offers to restore what a previous run left there.
    pub fn with_autosave(mut self, dir: Option<PathBuf>) -> Self {
        self.recent = recent::RecentFiles::load(dir.clone());
        self.theme = theme::ThemeSetting::load(dir.clone());
        self.panel_sizes = panel_sizes::PanelSizes::load(dir.clone());
        self.autosave = autosave::Autosave::new(dir);
        self.offer_recovery();
        self
    }

    /// Writes the recovery file now if there are unsaved changes (autosave does this every few seconds).
    pub fn autosave_now(&mut self) {
        self.autosave_tick(true);
    }

    /// Hands the document to the autosaver: it writes the recovery file when due (or now, with `now`).
    fn autosave_tick(&mut self, now: bool) {
        let document = &self.document;
        self.autosave.tick(
            document.design(),
            document.path(),
            document.state_id(),
            document.is_dirty(),
            now,
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
                self.notice = None;
                self.replace_document(document);
            }
            Err(error) => {
                if !path.exists() {
                    self.recent.remove(&path);
                }
                self.notice = Some(Notice::Error(error.to_string()));
            }
        }
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
                Background::Compared(label, read) => self.compared(label, *read),
                Background::Revisions(revisions) => self.compare_window.revisions = Some(revisions),
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
}
