//! The live simulation as the app steers it: Run, Pause, Step, faults injected by hand, the dashboard's actions, and
//! the updates drained each frame.

use super::*;

impl SyncopateApp {
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

    /// The simulation dashboard's state.
    pub fn dashboard(&self) -> &crate::ui::dashboard::Dashboard {
        &self.dashboard
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
    pub(super) fn ensure_live_run(&mut self, ctx: &egui::Context) {
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
                // The dashboard comes up in place of the warnings list; a sequence diagram, the capacity tab or a
                // comparison the user is looking at stays (the sequence shows the run's latencies when it ends).
                if self.bottom_tab == BottomTab::Warnings {
                    self.bottom_tab = BottomTab::Dashboard;
                }
            }
            Err(error) => self.notice = Some(Notice::Error(error)),
        }
    }

    /// Throws the live run away (its thread stops) and takes its marks off the canvas.
    pub(super) fn stop_simulation(&mut self) {
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
    pub(super) fn export_stem(&self) -> String {
        self.document
            .path()
            .and_then(|p| p.file_stem())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "design".to_owned())
    }

    /// A screenshot asked for by "Charts as PNG": cut the charts out and ask where to save them.
    pub(super) fn take_chart_screenshot(&mut self, ctx: &egui::Context) {
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
    pub(super) fn refresh_hops(&mut self) {
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
    pub(super) fn drain_simulation(&mut self, ctx: &egui::Context) {
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
}
