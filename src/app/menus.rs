//! The menu bar, the toolbar and the window title.

use super::*;

impl SyncopateApp {
    pub(super) fn window_title(&self) -> String {
        let marker = if self.document.is_dirty() { "● " } else { "" };
        format!("{marker}{} — Syncopate", self.document.title())
    }

    pub(super) fn menu_bar(&mut self, ui: &mut egui::Ui) {
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
                if self.recovery.as_ref().is_some_and(|r| r.later)
                    && ui
                        .button("Restore Unsaved Work…")
                        .on_hover_text("Unsaved changes kept when Syncopate did not close normally")
                        .clicked()
                {
                    self.offer_recovery_again();
                }
                if ui
                    .button("Compare with…")
                    .on_hover_text("See what the design changed since another file or a committed version of it")
                    .clicked()
                {
                    self.open_compare_window(ui.ctx());
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

    /// The canvas (for tests that aim at services by their screen position).
    pub fn canvas(&self) -> &Canvas {
        &self.canvas
    }

    pub(super) fn toolbar(&mut self, ui: &mut egui::Ui) {
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
    pub(super) fn apply_focus(&mut self) {
        self.focus.apply(
            self.document.design(),
            self.document.state_id(),
            &mut self.canvas,
            &mut self.sequence,
        );
    }
}
