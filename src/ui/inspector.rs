//! The inspector panel: edits the selected service or call, or shows a summary of the design.
//!
//! Edits go into a buffer copy; the buffer is checked as the user types (a problem is shown under the fields and the
//! edit is not applied), and a valid buffer becomes one command when the user lets go of the widget, so a drag of a
//! number is one undo step.

use crate::edit::Command;
use crate::model::{
    ArrivalProcess, CallMode, CircuitBreaker, Design, Distribution, Edge, Fault, FaultKind, Flow,
    FlowKind, Protocol, RateStep, RetryPolicy, Service, ServiceKind, SimulationSettings,
};
use crate::ui::canvas::Selection;

/// The inspector's editing state.
#[derive(Debug, Clone, Default)]
pub struct Inspector {
    service: Option<(String, Service)>,
    edge: Option<(String, Edge)>,
    design: Option<DesignFields>,
    problem: Option<String>,
    /// The service whose name field takes the keyboard focus when it is next shown: a service just added, so the
    /// user names it at once instead of living with "service-3".
    name_focus_for: Option<String>,
}

/// The design-level fields the inspector edits when nothing is selected.
#[derive(Debug, Clone, PartialEq)]
struct DesignFields {
    name: String,
    flows: Vec<Flow>,
    faults: Vec<Fault>,
    simulation: Option<SimulationSettings>,
}

impl DesignFields {
    fn of(design: &Design) -> Self {
        Self {
            name: design.name.clone(),
            flows: design.flows.clone(),
            faults: design.faults.clone(),
            simulation: design.simulation,
        }
    }

    fn applied_to(&self, design: &Design) -> Design {
        let mut edited = design.clone();
        edited.name = self.name.clone();
        edited.flows = self.flows.clone();
        edited.faults = self.faults.clone();
        edited.simulation = self.simulation;
        edited
    }
}

impl Inspector {
    /// Puts the keyboard in the name field of `service_id` the next time it is shown (a service just added).
    pub fn focus_name_of(&mut self, service_id: &str) {
        self.name_focus_for = Some(service_id.to_owned());
    }

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
        } else if selection.is_empty() {
            self.service = None;
            self.edge = None;
            self.design_editor(ui, design, commands);
        } else {
            self.service = None;
            self.edge = None;
            self.design = None;
            self.problem = None;
            ui.label(format!(
                "{} services and {} calls selected",
                selection.services.len(),
                selection.edges.len()
            ));
        }
    }

    /// The design's name, flows, planned faults and simulation settings.
    fn design_editor(&mut self, ui: &mut egui::Ui, design: &Design, commands: &mut Vec<Command>) {
        let model = DesignFields::of(design);
        let buffer = self.design.get_or_insert_with(|| model.clone());
        if !user_is_editing(ui.ctx()) && self.problem.is_none() {
            *buffer = model.clone();
        }
        // (id, name): pickers show names and store ids.
        let services: Vec<(String, String)> = design
            .services
            .iter()
            .map(|s| (s.id.to_string(), s.display_name().to_owned()))
            .collect();
        egui::ScrollArea::vertical()
            .id_salt("design-fields")
            .show(ui, |ui| {
                let field = ui
                    .horizontal(|ui| {
                        ui.label("Design");
                        ui.text_edit_singleline(&mut buffer.name)
                            .on_hover_text(format!("The design's name: {}", buffer.name))
                    })
                    .inner;
                // A long name is cut by its field: while it is edited it is shown whole, wrapped, below.
                if field.has_focus()
                    && field.rect.width()
                        < ui.fonts_mut(|f| {
                            let font = egui::TextStyle::Body.resolve(ui.style());
                            buffer
                                .name
                                .chars()
                                .map(|c| f.glyph_width(&font, c))
                                .sum::<f32>()
                        }) + 8.0
                {
                    ui.add(egui::Label::new(egui::RichText::new(&buffer.name).weak()).wrap());
                }
                ui.label(format!(
                    "{} services, {} calls, {} flows",
                    design.services.len(),
                    design.edges.len(),
                    buffer.flows.len()
                ));
                ui.separator();
                flows_editor(ui, &mut buffer.flows, &services);
                faults_editor(ui, &mut buffer.faults, &services);
                simulation_editor(ui, &mut buffer.simulation);
            });
        let edited = buffer.applied_to(design);
        let changed = *buffer != model;
        self.finish(
            ui,
            design,
            commands,
            Command::ReplaceDesign {
                label: "edit design settings".to_owned(),
                design: Box::new(edited),
            },
            changed,
        );
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
                let field = ui
                    .add(egui::TextEdit::singleline(&mut name).hint_text("what people call it"))
                    .on_hover_text(format!(
                        "{}\nShown on the canvas, in warnings and in diagrams; the id when empty",
                        if name.is_empty() { original_id.as_str() } else { name.as_str() }
                    ));
                if self.name_focus_for.as_deref() == Some(original_id.as_str()) {
                    field.request_focus();
                    self.name_focus_for = None;
                }
                if field.changed() {
                    buffer.name = if name.is_empty() { None } else { Some(name) };
                }
                ui.end_row();
                ui.label("Group");
                ui.horizontal(|ui| {
                    let mut group = buffer.group.clone().unwrap_or_default();
                    let edit = ui
                        .add(
                            egui::TextEdit::singleline(&mut group)
                                .hint_text("none")
                                .desired_width(ui.available_width() - 28.0),
                        )
                        .on_hover_text(
                            "A domain, namespace or bounded context: drawn as a box around its services, kept \
                             together by Tidy layout, a Kubernetes namespace when exported; empty for none",
                        );
                    if edit.changed() {
                        buffer.group = (!group.trim().is_empty()).then_some(group);
                    }
                    let groups = design.groups();
                    if !groups.is_empty() {
                        ui.menu_button("⏷", |ui| {
                            for existing in groups {
                                if ui.button(existing).clicked() {
                                    buffer.group = Some(existing.to_owned());
                                    ui.close();
                                }
                            }
                            if ui.button("No group").clicked() {
                                buffer.group = None;
                                ui.close();
                            }
                        })
                        .response
                        .on_hover_text("Pick one of the design's groups");
                    }
                });
                ui.end_row();
                ui.label("Kind");
                egui::ComboBox::from_id_salt("service-kind")
                    .selected_text(buffer.kind.as_str())
                    .show_ui(ui, |ui| {
                        for kind in ServiceKind::ALL {
                            ui.selectable_value(&mut buffer.kind, kind, kind.as_str());
                        }
                    })
                    .response
                    .on_hover_text(
                        "How it is drawn and exported; a broker forwards messages by topic, an external system is \
                         not yours to deploy",
                    );
                ui.end_row();
                ui.label("Replicas");
                ui.add(egui::DragValue::new(&mut buffer.replicas).range(1..=10_000))
                    .on_hover_text("Copies running; a request goes to the one with the fewest waiting");
                ui.end_row();
                ui.label("Workers / replica");
                ui.add(egui::DragValue::new(&mut buffer.concurrency).range(1..=100_000))
                    .on_hover_text(
                        "Requests one replica works on at once; a sync call keeps its worker busy while it waits",
                    );
                ui.end_row();
                ui.label("Queue / replica");
                ui.horizontal(|ui| {
                    let mut unbounded = buffer.queue_capacity.is_none();
                    if ui
                        .checkbox(&mut unbounded, "unbounded")
                        .on_hover_text("No limit on waiting requests; otherwise a full queue turns them away")
                        .changed()
                    {
                        buffer.queue_capacity = if unbounded { None } else { Some(100) };
                    }
                    if let Some(capacity) = &mut buffer.queue_capacity {
                        ui.add(egui::DragValue::new(capacity))
                            .on_hover_text("Requests that may wait per replica; more are rejected (0: none wait)");
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
                )
                .on_hover_text("Probability, 0 to 1, that a request fails here on its own");
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
        ui.label(design.call_name(buffer))
            .on_hover_text(format!("{} -> {} (ids)", buffer.from, buffer.to));
        egui::Grid::new("edge-fields")
            .num_columns(2)
            .striped(true)
            .show(ui, |ui| {
                ui.label("Mode");
                ui.horizontal(|ui| {
                    let before = buffer.mode;
                    ui.radio_value(&mut buffer.mode, CallMode::Sync, "sync")
                        .on_hover_text("Request/response: the caller's worker waits for the answer");
                    ui.radio_value(&mut buffer.mode, CallMode::Async, "async")
                        .on_hover_text("A message through a queue: the caller hands it over and moves on");
                    // A protocol, timeout or topic of the other mode would make the call invalid.
                    let chosen = std::mem::replace(&mut buffer.mode, before);
                    buffer.set_mode(chosen);
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
                    })
                    .response
                    .on_hover_text("The wire protocol, one that fits the mode; exports configure it");
                ui.end_row();
                // A compensating call has neither: it is made, in reverse order, whenever its call must be undone.
                if !buffer.is_compensation() {
                    ui.label("Order");
                    ui.add(egui::DragValue::new(&mut buffer.order))
                        .on_hover_text("calls with the same order run in parallel");
                    ui.end_row();
                    ui.label("Probability");
                    ui.add(
                        egui::DragValue::new(&mut buffer.probability)
                            .range(0.0..=1.0)
                            .speed(0.01),
                    )
                    .on_hover_text("How often a request makes this call, 0 to 1");
                    ui.end_row();
                }
                if buffer.mode == CallMode::Sync {
                    ui.label("Timeout");
                    optional_ms(
                        ui,
                        &mut buffer.timeout_ms,
                        1000.0,
                        "How long the caller waits before giving up; the callee's work goes on, wasted",
                    );
                    ui.end_row();
                } else {
                    ui.label("Topic");
                    let mut topic = buffer.topic.clone().unwrap_or_default();
                    if ui
                        .text_edit_singleline(&mut topic)
                        .on_hover_text("A broker forwards a message along its calls with the same topic")
                        .changed()
                    {
                        buffer.topic = if topic.is_empty() { None } else { Some(topic) };
                    }
                    ui.end_row();
                    ui.label("Dead-letter queue");
                    ui.horizontal(|ui| {
                        let help = "A message whose handling fails is delivered again until this many \
                                    deliveries, then set aside in a dead-letter queue (off: it is dropped)";
                        let mut on = buffer.dead_letter.is_some();
                        if ui.checkbox(&mut on, "").on_hover_text(help).changed() {
                            buffer.dead_letter = on.then_some(crate::model::DeadLetter {
                                after_deliveries: 3,
                            });
                        }
                        if let Some(dead_letter) = &mut buffer.dead_letter {
                            ui.add(
                                egui::DragValue::new(&mut dead_letter.after_deliveries)
                                    .range(1..=10_000)
                                    .prefix("after ")
                                    .suffix(" deliveries"),
                            )
                            .on_hover_text(help);
                        }
                    });
                    ui.end_row();
                }
                ui.label("Idempotent");
                ui.checkbox(&mut buffer.idempotent, "safe to retry").on_hover_text(
                    "Making the call twice has the effect of making it once (an idempotency key the callee \
                     deduplicates on): retrying it is safe",
                );
                ui.end_row();
                ui.label("Compensates");
                let others: Vec<(String, String)> = design
                    .edges
                    .iter()
                    .filter(|e| e.from == buffer.from && e.id != buffer.id && !e.is_compensation())
                    .map(|e| (e.id.to_string(), format!("{} ({})", design.call_name(e), e.id)))
                    .collect();
                let shown = buffer
                    .compensates
                    .as_ref()
                    .map_or_else(|| "nothing (a forward call)".to_owned(), |c| format!("undoes {c}"));
                egui::ComboBox::from_id_salt("edge-compensates")
                    .selected_text(shown)
                    .show_ui(ui, |ui| {
                        if ui
                            .selectable_label(buffer.compensates.is_none(), "nothing (a forward call)")
                            .clicked()
                        {
                            buffer.compensates = None;
                        }
                        for (id, label) in &others {
                            let chosen = buffer.compensates.as_ref().is_some_and(|c| c.as_str() == id);
                            if ui.selectable_label(chosen, label).clicked() {
                                buffer.compensates = Some(crate::model::EdgeId::new(id.as_str()));
                                // A compensating call has no order or probability of its own.
                                buffer.order = 0;
                                buffer.probability = 1.0;
                            }
                        }
                    })
                    .response
                    .on_hover_text(
                        "A compensating call of a saga: never made on the way; when the request fails after the \
                         chosen call succeeded, the caller makes this call to undo it",
                    );
                ui.end_row();
                // Retries, breaker and bulkhead protect a caller that waits; an async call has none (validation).
                if buffer.mode == CallMode::Sync {
                ui.label("Retries");
                ui.horizontal(|ui| {
                    let mut on = buffer.retry.is_some();
                    if ui
                        .checkbox(&mut on, "")
                        .on_hover_text("Try again after a failure or timeout")
                        .changed()
                    {
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
                        )
                        .on_hover_text("Tries after the first one");
                        ui.add(
                            egui::DragValue::new(&mut retry.backoff_ms)
                                .range(0.0..=86_400_000.0)
                                .suffix(" ms backoff"),
                        )
                        .on_hover_text("Wait before the first retry, doubling before each further one");
                    }
                });
                ui.end_row();
                if let Some(retry) = &mut buffer.retry {
                    ui.label("Per-try timeout");
                    optional_ms(
                        ui,
                        &mut retry.per_try_timeout_ms,
                        200.0,
                        "How long each try may take, within the call's timeout",
                    );
                    ui.end_row();
                }
                ui.label("Circuit breaker");
                ui.horizontal(|ui| {
                    let mut on = buffer.circuit_breaker.is_some();
                    if ui
                        .checkbox(&mut on, "")
                        .on_hover_text("Fail fast while the callee keeps failing, and let it recover")
                        .changed()
                    {
                        buffer.circuit_breaker = on.then(CircuitBreaker::default);
                    }
                    if let Some(breaker) = &mut buffer.circuit_breaker {
                        ui.add(
                            egui::DragValue::new(&mut breaker.consecutive_failures)
                                .range(1..=1000)
                                .suffix(" failures"),
                        )
                        .on_hover_text("Consecutive failures that open the breaker");
                        ui.add(
                            egui::DragValue::new(&mut breaker.open_ms)
                                .range(1.0..=86_400_000.0)
                                .suffix(" ms open"),
                        )
                        .on_hover_text("How long it stays open before letting a trial call through");
                    }
                });
                ui.end_row();
                ui.label("Max in flight");
                ui.horizontal(|ui| {
                    let mut on = buffer.max_in_flight.is_some();
                    if ui
                        .checkbox(&mut on, "")
                        .on_hover_text("A bulkhead: at most this many calls at once, the rest fail at once")
                        .changed()
                    {
                        buffer.max_in_flight = on.then_some(100);
                    }
                    if let Some(max) = &mut buffer.max_in_flight {
                        ui.add(egui::DragValue::new(max).range(1..=1_000_000))
                            .on_hover_text("Calls in flight at most");
                    }
                });
                ui.end_row();
                }
            });
        let is_broker = |id: &crate::model::ServiceId| {
            design
                .service(id.as_str())
                .is_some_and(|s| s.kind == ServiceKind::Broker)
        };
        if !is_broker(&edge.from)
            && !is_broker(&edge.to)
            && ui
                .button("📨 Route through a broker")
                .on_hover_text(
                    "Replace this call with a message: the caller publishes to a new broker, which delivers to \
                     the callee (both async, one topic). The caller stops waiting, so a slow callee no longer \
                     holds its workers; the answer no longer carries the callee's result.",
                )
                .clicked()
        {
            let fix = crate::rules::Fix::RouteThroughBroker {
                edge: edge.id.to_string(),
            };
            commands.push(Command::ReplaceDesign {
                label: format!("route {} through a broker", edge.id),
                design: Box::new(crate::rules::apply_fix(design, &fix)),
            });
            self.edge = None;
            return;
        }
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
        match crate::edit::apply_checked(design, command.clone()) {
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

/// A time that may be unset: a checkbox, and the value when set; `help` is both controls' tooltip.
fn optional_ms(ui: &mut egui::Ui, value: &mut Option<f64>, default: f64, help: &str) {
    ui.horizontal(|ui| {
        let mut on = value.is_some();
        if ui.checkbox(&mut on, "").on_hover_text(help).changed() {
            *value = on.then_some(default);
        }
        if let Some(ms) = value {
            ui.add(
                egui::DragValue::new(ms)
                    .range(1.0..=86_400_000.0)
                    .suffix(" ms"),
            )
            .on_hover_text(help);
        }
    });
}

fn distribution_editor(ui: &mut egui::Ui, dist: &mut Distribution) {
    const HELP: &str =
        "The local work per request, drawn from this distribution (the file's service_time)";
    // The kind on a line of its own, the numbers on the next: on one line a distribution of two numbers widened the
    // inspector for good (and wrapped in the grid's cell it ran over the next row).
    let kind = match dist {
        Distribution::Exponential { .. } => "exponential",
        Distribution::Constant { .. } => "constant",
        Distribution::Uniform { .. } => "uniform",
        Distribution::Lognormal { .. } => "lognormal",
    };
    // A value in milliseconds, at least `min` (a mean or median of 0 has no distribution).
    let ms = |ui: &mut egui::Ui, value: &mut f64, min: f64, prefix: &str| {
        ui.add(
            egui::DragValue::new(value)
                .range(min..=86_400_000.0)
                .prefix(prefix)
                .suffix(" ms"),
        )
        .on_hover_text(HELP);
    };
    ui.vertical(|ui| {
        ui.label(kind);
        ui.horizontal(|ui| match dist {
            Distribution::Exponential { mean_ms } => ms(ui, mean_ms, 0.001, "mean "),
            Distribution::Constant { ms: value } => ms(ui, value, 0.0, ""),
            Distribution::Uniform { min_ms, max_ms } => {
                ms(ui, min_ms, 0.0, "");
                ms(ui, max_ms, 0.0, "");
            }
            Distribution::Lognormal { median_ms, p99_ms } => {
                ms(ui, median_ms, 0.001, "p50 ");
                ms(ui, p99_ms, 0.001, "p99 ");
            }
        });
    });
}

/// A combo box of services by name (with the id on hover, where the two differ); it sets `value` to the id.
fn service_picker(
    ui: &mut egui::Ui,
    salt: impl std::hash::Hash + std::fmt::Debug,
    value: &mut String,
    services: &[(String, String)],
    help: &str,
) {
    let shown = services
        .iter()
        .find(|(id, _)| id == value)
        .map_or(value.as_str(), |(_, name)| name.as_str())
        .to_owned();
    egui::ComboBox::from_id_salt(salt)
        .selected_text(shown)
        .show_ui(ui, |ui| {
            for (id, name) in services {
                let response = ui.selectable_value(value, id.clone(), name);
                if id != name {
                    response.on_hover_text(id);
                }
            }
        })
        .response
        .on_hover_text(format!("{help} (id {value})"));
}

fn flows_editor(ui: &mut egui::Ui, flows: &mut Vec<Flow>, services: &[(String, String)]) {
    egui::CollapsingHeader::new(format!("Flows ({})", flows.len()))
        .id_salt("flows")
        .default_open(true)
        .show(ui, |ui| {
            let mut remove = None;
            for (i, flow) in flows.iter_mut().enumerate() {
                egui::Grid::new(("flow", i)).num_columns(2).show(ui, |ui| {
                    ui.label("Id");
                    ui.text_edit_singleline(&mut flow.id.0)
                        .on_hover_text("Unique; calls name the flows they take part in by it");
                    ui.end_row();
                    ui.label("Name");
                    let mut name = flow.name.clone().unwrap_or_default();
                    if ui
                        .text_edit_singleline(&mut name)
                        .on_hover_text("Shown in the dashboard and diagrams; the id when empty")
                        .changed()
                    {
                        flow.name = (!name.is_empty()).then_some(name);
                    }
                    ui.end_row();
                    ui.label("Entry")
                        .on_hover_text("The service where its requests arrive");
                    service_picker(
                        ui,
                        ("flow-entry", i),
                        &mut flow.entry.0,
                        services,
                        "The service where its requests arrive",
                    );
                    ui.end_row();
                    ui.label("Rate");
                    ui.add(
                        egui::DragValue::new(&mut flow.rate_rps)
                            .range(0.0..=1_000_000.0)
                            .speed(0.5)
                            .suffix(" rps"),
                    )
                    .on_hover_text("Mean requests per second arriving at the entry");
                    ui.end_row();
                    ui.label("Arrivals");
                    ui.horizontal(|ui| {
                        ui.radio_value(&mut flow.arrival, ArrivalProcess::Poisson, "poisson")
                            .on_hover_text(
                                "Independent arrivals at random times, as from many users",
                            );
                        ui.radio_value(&mut flow.arrival, ArrivalProcess::Constant, "constant")
                            .on_hover_text("Evenly spaced arrivals, as from a timer");
                    });
                    ui.end_row();
                    ui.label("Kind");
                    ui.horizontal(|ui| {
                        ui.radio_value(&mut flow.kind, FlowKind::Read, "read")
                            .on_hover_text("Reads data: the rules check what it may read stale");
                        ui.radio_value(&mut flow.kind, FlowKind::Write, "write")
                            .on_hover_text("Changes data: the rules check how long writes wait");
                    });
                    ui.end_row();
                    ui.label("Caller waits").on_hover_text(
                        "The caller needs the answer now (off: it fires and forgets)",
                    );
                    ui.checkbox(&mut flow.caller_waits, "").on_hover_text(
                        "The caller needs the answer now (off: it fires and forgets)",
                    );
                    ui.end_row();
                    ui.label("SLO p99");
                    optional_ms(
                        ui,
                        &mut flow.slo_p99_ms,
                        500.0,
                        "The latency 99% of requests should beat; drawn on the latency chart",
                    );
                    ui.end_row();
                    if !flow.caller_waits {
                        ui.label("Polls every").on_hover_text(POLLING_HELP);
                        let mut interval = flow.polling.map(|p| p.interval_ms);
                        optional_ms(ui, &mut interval, 500.0, POLLING_HELP);
                        flow.polling =
                            interval.map(|interval_ms| crate::model::Polling { interval_ms });
                        ui.end_row();
                    } else {
                        // Polling is for callers that do not wait (validation).
                        flow.polling = None;
                    }
                    ui.label("Rate steps")
                        .on_hover_text("From each time on, requests arrive at that rate (bursts)");
                    rate_steps(ui, &mut flow.pattern, flow.rate_rps);
                    ui.end_row();
                });
                if ui
                    .small_button("Remove this flow")
                    .on_hover_text("Delete this flow (undoable)")
                    .clicked()
                {
                    remove = Some(i);
                }
                ui.separator();
            }
            if let Some(i) = remove {
                flows.remove(i);
            }
            if let Some(entry) = services.first()
                && ui
                    .button("+ Flow")
                    .on_hover_text("A new kind of request, arriving at the first service")
                    .clicked()
            {
                let mut n = flows.len() + 1;
                while flows.iter().any(|f| f.id.as_str() == format!("flow-{n}")) {
                    n += 1;
                }
                flows.push(Flow::new(format!("flow-{n}"), entry.0.as_str(), 10.0));
            }
        });
}

/// What the flow's polling interval means.
const POLLING_HELP: &str = "Asynchronous request-reply: the client, answered at once (202), asks the entry for \
                            the result this often until the work is done; every poll is a request to the entry";

fn rate_steps(ui: &mut egui::Ui, pattern: &mut Option<Vec<RateStep>>, rate_rps: f64) {
    ui.vertical(|ui| {
        let steps = pattern.get_or_insert_with(Vec::new);
        let mut remove = None;
        for (j, step) in steps.iter_mut().enumerate() {
            ui.horizontal(|ui| {
                ui.add(
                    egui::DragValue::new(&mut step.at_s)
                        .range(0.0..=86_400.0)
                        .prefix("at ")
                        .suffix(" s"),
                )
                .on_hover_text("From this simulated time on…");
                ui.add(
                    egui::DragValue::new(&mut step.rate_rps)
                        .range(0.0..=1_000_000.0)
                        .suffix(" rps"),
                )
                .on_hover_text("…requests arrive at this rate");
                if ui
                    .small_button("🗙")
                    .on_hover_text("Remove this step")
                    .clicked()
                {
                    remove = Some(j);
                }
            });
        }
        if let Some(j) = remove {
            steps.remove(j);
        }
        if ui
            .small_button("+ Step")
            .on_hover_text("A change of rate at a moment of the run: a burst, a ramp, a lull")
            .clicked()
        {
            let at_s = steps.last().map_or(10.0, |s| s.at_s + 10.0);
            steps.push(RateStep {
                at_s,
                rate_rps: rate_rps * 2.0,
            });
        }
        if steps.is_empty() {
            *pattern = None;
        }
    });
}

fn faults_editor(ui: &mut egui::Ui, faults: &mut Vec<Fault>, services: &[(String, String)]) {
    egui::CollapsingHeader::new(format!("Planned faults ({})", faults.len()))
        .id_salt("faults")
        .show(ui, |ui| {
            let mut remove = None;
            for (i, fault) in faults.iter_mut().enumerate() {
                egui::Grid::new(("fault", i)).num_columns(2).show(ui, |ui| {
                    ui.label("Service");
                    service_picker(
                        ui,
                        ("fault-service", i),
                        &mut fault.service.0,
                        services,
                        "The service the fault hits",
                    );
                    ui.end_row();
                    ui.label("Kind");
                    egui::ComboBox::from_id_salt(("fault-kind", i))
                        .selected_text(fault.kind.as_str())
                        .show_ui(ui, |ui| {
                            for kind in [
                                FaultKind::Down,
                                FaultKind::Hang,
                                FaultKind::Slow,
                                FaultKind::Errors,
                            ] {
                                ui.selectable_value(&mut fault.kind, kind, kind.as_str());
                            }
                        })
                        .response
                        .on_hover_text(
                            "down: refuses sync calls (messages wait); hang: never answers; slow: work takes \
                             longer; errors: requests fail",
                        );
                    // Only the kind's own parameter may be set.
                    match fault.kind {
                        FaultKind::Slow => {
                            fault.error_rate = None;
                            fault.factor.get_or_insert(5.0);
                        }
                        FaultKind::Errors => {
                            fault.factor = None;
                            fault.error_rate.get_or_insert(0.5);
                        }
                        FaultKind::Down | FaultKind::Hang => {
                            fault.factor = None;
                            fault.error_rate = None;
                        }
                    }
                    ui.end_row();
                    ui.label("From");
                    ui.add(
                        egui::DragValue::new(&mut fault.start_s)
                            .range(0.0..=86_400.0)
                            .suffix(" s"),
                    )
                    .on_hover_text("Simulated time the fault starts");
                    ui.end_row();
                    ui.label("Until")
                        .on_hover_text("Unset: to the end of the run");
                    ui.horizontal(|ui| {
                        let mut bounded = fault.end_s.is_some();
                        if ui
                            .checkbox(&mut bounded, "")
                            .on_hover_text("Unset: to the end of the run")
                            .changed()
                        {
                            fault.end_s = bounded.then_some(fault.start_s + 10.0);
                        }
                        if let Some(end) = &mut fault.end_s {
                            ui.add(egui::DragValue::new(end).range(0.0..=86_400.0).suffix(" s"))
                                .on_hover_text("Simulated time the fault ends");
                        }
                    });
                    ui.end_row();
                    if let Some(factor) = &mut fault.factor {
                        ui.label("Slower by");
                        ui.add(
                            egui::DragValue::new(factor)
                                .range(1.0..=1000.0)
                                .speed(0.1)
                                .prefix("× "),
                        )
                        .on_hover_text("The service's work takes this many times as long");
                        ui.end_row();
                    }
                    if let Some(rate) = &mut fault.error_rate {
                        ui.label("Error rate");
                        ui.add(egui::DragValue::new(rate).range(0.0..=1.0).speed(0.01))
                            .on_hover_text("Share of requests that fail, 0 to 1");
                        ui.end_row();
                    }
                });
                if ui
                    .small_button("Remove this fault")
                    .on_hover_text("Delete this fault (undoable)")
                    .clicked()
                {
                    remove = Some(i);
                }
                ui.separator();
            }
            if let Some(i) = remove {
                faults.remove(i);
            }
            if let Some(service) = services.first()
                && ui
                    .button("+ Fault")
                    .on_hover_text("A fault the simulation injects over a window of time")
                    .clicked()
            {
                faults.push(Fault {
                    service: service.0.as_str().into(),
                    kind: FaultKind::Down,
                    start_s: 10.0,
                    end_s: Some(20.0),
                    factor: None,
                    error_rate: None,
                });
            }
        });
}

fn simulation_editor(ui: &mut egui::Ui, simulation: &mut Option<SimulationSettings>) {
    egui::CollapsingHeader::new("Simulation settings")
        .id_salt("simulation")
        .show(ui, |ui| {
            let mut own = simulation.is_some();
            if ui
                .checkbox(&mut own, "Set in this design")
                .on_hover_text("Unset: 60 s, 5 s of warm-up, seed 1")
                .changed()
            {
                *simulation = own.then(SimulationSettings::default);
            }
            if let Some(settings) = simulation {
                egui::Grid::new("simulation-fields")
                    .num_columns(2)
                    .show(ui, |ui| {
                        ui.label("Duration");
                        ui.add(
                            egui::DragValue::new(&mut settings.duration_s)
                                .range(0.001..=86_400.0)
                                .suffix(" s"),
                        )
                        .on_hover_text("Simulated seconds a run lasts");
                        ui.end_row();
                        ui.label("Warm-up")
                            .on_hover_text("Left out of the statistics");
                        ui.add(
                            egui::DragValue::new(&mut settings.warmup_s)
                                .range(0.0..=86_400.0)
                                .suffix(" s"),
                        )
                        .on_hover_text("Left out of the statistics");
                        ui.end_row();
                        ui.label("Seed");
                        ui.add(egui::DragValue::new(&mut settings.seed)).on_hover_text(
                            "The same seed and design give the same run, so variants compare fairly",
                        );
                        ui.end_row();
                    });
            }
        });
}
