//! The frame: eframe's `App` (panels laid out, input handled, commands applied), the window's icon and renderer
//! settings, and `run`.

use super::*;

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
            && self.recovery.as_ref().is_none_or(|r| r.later)
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
        self.handle_compare_keys(&ctx);
        if let Some(action) = self.compare_window.show(&ctx) {
            self.compare_action(&ctx, action);
        }
        self.refresh_comparison();
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
            self.autosave_tick(false);
            if self.document.is_dirty() {
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
                if let Some(comparison) = &self.comparison {
                    crate::ui::changes::inspector_section(ui, comparison, &self.selection);
                }
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
        let mut compare_action = None;
        let bottom_panel = egui::Panel::bottom("warnings")
            .resizable(true)
            .default_size(self.panel_sizes.bottom_height())
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
                    if let Some(comparison) = &self.comparison {
                        let changes = crate::ui::changes::change_count(&comparison.review);
                        ui.selectable_value(
                            &mut self.bottom_tab,
                            BottomTab::Changes,
                            format!("Changes ({changes})"),
                        )
                        .on_hover_text(format!("What changed since {}", comparison.label));
                    }
                });
                ui.separator();
                match self.bottom_tab {
                    BottomTab::Changes => match &self.comparison {
                        Some(comparison) => compare_action = crate::ui::changes::show(ui, comparison),
                        None => self.bottom_tab = BottomTab::Warnings,
                    },
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
        // The panel's height as the user left it, kept for the next start.
        let pointer_down = ctx.input(|i| i.pointer.any_down());
        self.panel_sizes
            .note_bottom(bottom_panel.response.rect.height(), pointer_down);
        if let Some(action) = dashboard_action {
            self.dashboard_action(&ctx, action);
        }
        if let Some(action) = compare_action {
            self.compare_action(&ctx, action);
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

impl SyncopateApp {
    /// Shows a tab of the bottom panel.
    pub fn set_bottom_tab(&mut self, tab: BottomTab) {
        self.bottom_tab = tab;
    }

    /// What the bottom panel shows.
    pub fn bottom_tab(&self) -> BottomTab {
        self.bottom_tab
    }

    /// The bottom panel's height as it starts (the one kept from the last time it was dragged).
    pub fn bottom_panel_height(&self) -> f32 {
        self.panel_sizes.bottom_height()
    }
}

/// The key shortcuts are pressed with: Cmd on macOS, Ctrl elsewhere.
pub(super) fn shortcut_key() -> &'static str {
    if cfg!(target_os = "macos") {
        "Cmd"
    } else {
        "Ctrl"
    }
}

/// The application icon (`assets/icons`), built into the binary.
pub(super) fn window_icon() -> std::sync::Arc<egui::IconData> {
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
pub(super) fn wgpu_options() -> eframe::egui_wgpu::WgpuConfiguration {
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
