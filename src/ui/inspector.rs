//! The inspector panel: edits the selected service or call, or shows a summary of the design.
//!
//! Edits go into a buffer copy; the buffer is checked as the user types (a problem is shown under the fields and the
//! edit is not applied), and a valid buffer becomes one command when the user lets go of the widget, so a drag of a
//! number is one undo step.

use crate::app::Command;
use crate::model::{
    CallMode, CircuitBreaker, Design, Distribution, Edge, Protocol, RetryPolicy, Service,
    ServiceKind,
};
use crate::ui::canvas::Selection;

/// The inspector's editing state.
#[derive(Debug, Clone, Default)]
pub struct Inspector {
    service: Option<(String, Service)>,
    edge: Option<(String, Edge)>,
    problem: Option<String>,
}

impl Inspector {
    /// Shows the inspector; pushes commands for finished edits.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        design: &Design,
        selection: &Selection,
        commands: &mut Vec<Command>,
    ) {
        ui.heading("Inspector");
        ui.separator();
        if let [id] = selection.services.as_slice()
            && selection.edges.is_empty()
            && let Some(service) = design.service(id.as_str())
        {
            self.edge = None;
            self.service_editor(ui, design, service, commands);
        } else if let [id] = selection.edges.as_slice()
            && selection.services.is_empty()
            && let Some(edge) = design.edge(id.as_str())
        {
            self.service = None;
            self.edge_editor(ui, design, edge, commands);
        } else {
            self.service = None;
            self.edge = None;
            self.problem = None;
            summary(ui, design, selection);
        }
    }

    fn service_editor(
        &mut self,
        ui: &mut egui::Ui,
        design: &Design,
        service: &Service,
        commands: &mut Vec<Command>,
    ) {
        // Start from the model when the selection or the model changed under us.
        if self
            .service
            .as_ref()
            .is_none_or(|(id, _)| id != service.id.as_str())
        {
            self.service = Some((service.id.to_string(), service.clone()));
            self.problem = None;
        }
        let Some((original_id, buffer)) = &mut self.service else {
            return;
        };
        if !user_is_editing(ui.ctx()) && self.problem.is_none() {
            // Not editing: follow the model (undo, redo, canvas moves).
            *buffer = service.clone();
        }
        egui::Grid::new("service-fields")
            .num_columns(2)
            .striped(true)
            .show(ui, |ui| {
                ui.label("Id");
                ui.text_edit_singleline(&mut buffer.id.0).on_hover_text(
                    "a-z, 0-9 and '-', starting with a letter; a DNS name in exports",
                );
                ui.end_row();
                ui.label("Name");
                let mut name = buffer.name.clone().unwrap_or_default();
                if ui.text_edit_singleline(&mut name).changed() {
                    buffer.name = if name.is_empty() { None } else { Some(name) };
                }
                ui.end_row();
                ui.label("Kind");
                egui::ComboBox::from_id_salt("service-kind")
                    .selected_text(buffer.kind.as_str())
                    .show_ui(ui, |ui| {
                        for kind in ServiceKind::ALL {
                            ui.selectable_value(&mut buffer.kind, kind, kind.as_str());
                        }
                    });
                ui.end_row();
                ui.label("Replicas");
                ui.add(egui::DragValue::new(&mut buffer.replicas).range(1..=10_000));
                ui.end_row();
                ui.label("Workers / replica");
                ui.add(egui::DragValue::new(&mut buffer.concurrency).range(1..=100_000));
                ui.end_row();
                ui.label("Queue / replica");
                ui.horizontal(|ui| {
                    let mut unbounded = buffer.queue_capacity.is_none();
                    if ui.checkbox(&mut unbounded, "unbounded").changed() {
                        buffer.queue_capacity = if unbounded { None } else { Some(100) };
                    }
                    if let Some(capacity) = &mut buffer.queue_capacity {
                        ui.add(egui::DragValue::new(capacity));
                    }
                });
                ui.end_row();
                ui.label("Service time");
                distribution_editor(ui, &mut buffer.service_time);
                ui.end_row();
                ui.label("Error rate");
                ui.add(
                    egui::DragValue::new(&mut buffer.error_rate)
                        .range(0.0..=1.0)
                        .speed(0.001),
                );
                ui.end_row();
            });
        let edited = buffer.clone();
        let id = original_id.clone();
        self.finish(
            ui,
            design,
            commands,
            Command::UpdateService {
                id: id.as_str().into(),
                service: edited.clone(),
            },
            *service != edited,
        );
        if let Some((original, buffer)) = &mut self.service
            && self.problem.is_none()
        {
            *original = buffer.id.to_string();
        }
    }

    fn edge_editor(
        &mut self,
        ui: &mut egui::Ui,
        design: &Design,
        edge: &Edge,
        commands: &mut Vec<Command>,
    ) {
        if self
            .edge
            .as_ref()
            .is_none_or(|(id, _)| id != edge.id.as_str())
        {
            self.edge = Some((edge.id.to_string(), edge.clone()));
            self.problem = None;
        }
        let Some((original_id, buffer)) = &mut self.edge else {
            return;
        };
        if !user_is_editing(ui.ctx()) && self.problem.is_none() {
            *buffer = edge.clone();
        }
        ui.label(format!("{} -> {}", buffer.from, buffer.to));
        egui::Grid::new("edge-fields")
            .num_columns(2)
            .striped(true)
            .show(ui, |ui| {
                ui.label("Mode");
                ui.horizontal(|ui| {
                    let before = buffer.mode;
                    ui.radio_value(&mut buffer.mode, CallMode::Sync, "sync");
                    ui.radio_value(&mut buffer.mode, CallMode::Async, "async");
                    if buffer.mode != before {
                        // A protocol, timeout or topic of the other mode would make the call invalid.
                        buffer.protocol = None;
                        if buffer.mode == CallMode::Async {
                            buffer.timeout_ms = None;
                            if let Some(retry) = &mut buffer.retry {
                                retry.per_try_timeout_ms = None;
                            }
                        } else {
                            buffer.topic = None;
                        }
                    }
                });
                ui.end_row();
                ui.label("Protocol");
                egui::ComboBox::from_id_salt("edge-protocol")
                    .selected_text(buffer.effective_protocol().as_str())
                    .show_ui(ui, |ui| {
                        for protocol in Protocol::ALL
                            .into_iter()
                            .filter(|p| p.mode() == buffer.mode)
                        {
                            let mut chosen = buffer.effective_protocol();
                            if ui
                                .selectable_value(&mut chosen, protocol, protocol.as_str())
                                .clicked()
                            {
                                buffer.protocol = Some(chosen);
                            }
                        }
                    });
                ui.end_row();
                ui.label("Order");
                ui.add(egui::DragValue::new(&mut buffer.order))
                    .on_hover_text("calls with the same order run in parallel");
                ui.end_row();
                ui.label("Probability");
                ui.add(
                    egui::DragValue::new(&mut buffer.probability)
                        .range(0.0..=1.0)
                        .speed(0.01),
                );
                ui.end_row();
                if buffer.mode == CallMode::Sync {
                    ui.label("Timeout");
                    optional_ms(ui, &mut buffer.timeout_ms, 1000.0);
                    ui.end_row();
                } else {
                    ui.label("Topic");
                    let mut topic = buffer.topic.clone().unwrap_or_default();
                    if ui.text_edit_singleline(&mut topic).changed() {
                        buffer.topic = if topic.is_empty() { None } else { Some(topic) };
                    }
                    ui.end_row();
                }
                ui.label("Retries");
                ui.horizontal(|ui| {
                    let mut on = buffer.retry.is_some();
                    if ui.checkbox(&mut on, "").changed() {
                        buffer.retry = on.then_some(RetryPolicy {
                            max_retries: 2,
                            backoff_ms: 50.0,
                            per_try_timeout_ms: None,
                        });
                    }
                    if let Some(retry) = &mut buffer.retry {
                        ui.add(
                            egui::DragValue::new(&mut retry.max_retries)
                                .range(0..=100)
                                .suffix(" retries"),
                        );
                        ui.add(
                            egui::DragValue::new(&mut retry.backoff_ms)
                                .range(0.0..=86_400_000.0)
                                .suffix(" ms backoff"),
                        );
                    }
                });
                ui.end_row();
                if buffer.mode == CallMode::Sync
                    && let Some(retry) = &mut buffer.retry
                {
                    ui.label("Per-try timeout");
                    optional_ms(ui, &mut retry.per_try_timeout_ms, 200.0);
                    ui.end_row();
                }
                ui.label("Circuit breaker");
                ui.horizontal(|ui| {
                    let mut on = buffer.circuit_breaker.is_some();
                    if ui.checkbox(&mut on, "").changed() {
                        buffer.circuit_breaker = on.then(CircuitBreaker::default);
                    }
                    if let Some(breaker) = &mut buffer.circuit_breaker {
                        ui.add(
                            egui::DragValue::new(&mut breaker.consecutive_failures)
                                .range(1..=1000)
                                .suffix(" failures"),
                        );
                        ui.add(
                            egui::DragValue::new(&mut breaker.open_ms)
                                .range(1.0..=86_400_000.0)
                                .suffix(" ms open"),
                        );
                    }
                });
                ui.end_row();
                ui.label("Max in flight");
                ui.horizontal(|ui| {
                    let mut on = buffer.max_in_flight.is_some();
                    if ui.checkbox(&mut on, "").changed() {
                        buffer.max_in_flight = on.then_some(100);
                    }
                    if let Some(max) = &mut buffer.max_in_flight {
                        ui.add(egui::DragValue::new(max).range(1..=1_000_000));
                    }
                });
                ui.end_row();
            });
        let edited = buffer.clone();
        let id = original_id.clone();
        self.finish(
            ui,
            design,
            commands,
            Command::UpdateEdge {
                id: id.as_str().into(),
                edge: edited.clone(),
            },
            *edge != edited,
        );
    }

    /// Checks the buffered edit and, once the user has let go of the widgets, turns it into a command.
    fn finish(
        &mut self,
        ui: &mut egui::Ui,
        design: &Design,
        commands: &mut Vec<Command>,
        command: Command,
        changed: bool,
    ) {
        if !changed {
            self.problem = None;
            return;
        }
        match crate::app::apply_checked(design, command.clone()) {
            Err(problem) => {
                self.problem = Some(problem);
            }
            Ok(_) => {
                self.problem = None;
                let editing = user_is_editing(ui.ctx());
                if !editing {
                    commands.push(command);
                }
            }
        }
        if let Some(problem) = &self.problem {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("Not applied: {problem}"),
            );
        }
    }
}

/// Whether the user is in the middle of an edit: dragging a value or typing in a field.
fn user_is_editing(ctx: &egui::Context) -> bool {
    ctx.input(|i| i.pointer.any_down()) || ctx.memory(|m| m.focused().is_some())
}

fn optional_ms(ui: &mut egui::Ui, value: &mut Option<f64>, default: f64) {
    ui.horizontal(|ui| {
        let mut on = value.is_some();
        if ui.checkbox(&mut on, "").changed() {
            *value = on.then_some(default);
        }
        if let Some(ms) = value {
            ui.add(
                egui::DragValue::new(ms)
                    .range(1.0..=86_400_000.0)
                    .suffix(" ms"),
            );
        }
    });
}

fn distribution_editor(ui: &mut egui::Ui, dist: &mut Distribution) {
    ui.horizontal(|ui| match dist {
        Distribution::Exponential { mean_ms } => {
            ui.label("exp, mean");
            ui.add(
                egui::DragValue::new(mean_ms)
                    .range(0.001..=86_400_000.0)
                    .suffix(" ms"),
            );
        }
        Distribution::Constant { ms } => {
            ui.label("constant");
            ui.add(
                egui::DragValue::new(ms)
                    .range(0.0..=86_400_000.0)
                    .suffix(" ms"),
            );
        }
        Distribution::Uniform { min_ms, max_ms } => {
            ui.label("uniform");
            ui.add(
                egui::DragValue::new(min_ms)
                    .range(0.0..=86_400_000.0)
                    .suffix(" ms"),
            );
            ui.add(
                egui::DragValue::new(max_ms)
                    .range(0.0..=86_400_000.0)
                    .suffix(" ms"),
            );
        }
        Distribution::Lognormal { median_ms, p99_ms } => {
            ui.label("lognormal");
            ui.add(
                egui::DragValue::new(median_ms)
                    .range(0.001..=86_400_000.0)
                    .prefix("p50 ")
                    .suffix(" ms"),
            );
            ui.add(
                egui::DragValue::new(p99_ms)
                    .range(0.001..=86_400_000.0)
                    .prefix("p99 ")
                    .suffix(" ms"),
            );
        }
    });
}

fn summary(ui: &mut egui::Ui, design: &Design, selection: &Selection) {
    if !selection.is_empty() {
        ui.label(format!(
            "{} services and {} calls selected",
            selection.services.len(),
            selection.edges.len()
        ));
        return;
    }
    ui.label(egui::RichText::new(&design.name).strong());
    ui.label(format!(
        "{} services, {} calls, {} flows",
        design.services.len(),
        design.edges.len(),
        design.flows.len()
    ));
    ui.separator();
    for flow in &design.flows {
        ui.label(format!(
            "{}: {} rps into {}",
            flow.display_name(),
            flow.rate_rps,
            flow.entry
        ));
    }
}
