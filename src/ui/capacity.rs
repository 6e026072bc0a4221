//! The Capacity tab: sweep a flow's load (or every flow's) over a range of factors and see goodput and p99 against
//! the offered load, with the SLO and the knee; plan the replicas each service needs and apply them as one
//! undoable edit. The work runs on a thread of its own ([`crate::runs::capacity::Job`]); this panel shows its
//! progress and results and reports what the user asked for.

use egui::{Color32, RichText};
use egui_plot::{HLine, Line, LineStyle, PlotPoints, Points, VLine};

use crate::capacity::{CapacityError, PlanResult, PlanSettings, SweepResult, SweepSettings};
use crate::model::Design;
use crate::runs::capacity::{Job, Outcome};

/// The knee's line.
const KNEE_COLOR: Color32 = Color32::from_rgb(230, 120, 200);

/// A flow's color in the charts: distinct for the first few, then repeating.
fn flow_color(index: usize) -> Color32 {
    const PALETTE: [Color32; 6] = [
        Color32::from_rgb(90, 170, 255),
        Color32::from_rgb(255, 170, 60),
        Color32::from_rgb(110, 210, 120),
        Color32::from_rgb(240, 90, 90),
        Color32::from_rgb(190, 140, 255),
        Color32::from_rgb(230, 220, 90),
    ];
    PALETTE[index % PALETTE.len()]
}

/// What the user asked the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum CapacityAction {
    /// Replace the design by this one (the planned replicas on the design as it is now): one undoable edit.
    ApplyPlan(Box<Design>),
}

/// Which job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Running {
    Sweep,
    Plan,
}

/// The Capacity tab's settings, running job and last results.
pub struct CapacityPanel {
    /// The swept flow; `None` sweeps every flow.
    pub flow: Option<String>,
    /// The lowest factor.
    pub from: f64,
    /// The highest factor.
    pub to: f64,
    /// Between factors.
    pub step: f64,
    /// Runs per point.
    pub seeds: u32,
    /// Simulated seconds per run.
    pub duration_s: f64,
    /// The plan's utilization target.
    pub target_utilization: f64,
    /// The plan's extra load.
    pub headroom: f64,
    job: Option<(Running, Job)>,
    /// The last sweep.
    pub sweep: Option<SweepResult>,
    /// The last plan.
    pub plan: Option<PlanResult>,
    /// What went wrong last, or what was cancelled.
    pub message: Option<String>,
}

impl Default for CapacityPanel {
    fn default() -> Self {
        Self {
            flow: None,
            from: 0.5,
            to: 3.0,
            step: 0.25,
            seeds: 3,
            duration_s: 60.0,
            target_utilization: 0.7,
            headroom: 0.0,
            job: None,
            sweep: None,
            plan: None,
            message: None,
        }
    }
}

impl CapacityPanel {
    /// Whether a sweep or plan is running.
    pub fn running(&self) -> bool {
        self.job.is_some()
    }

    /// Shows the tab for `design`; returns what the user asked for.
    pub fn show(&mut self, ui: &mut egui::Ui, design: &Design) -> Option<CapacityAction> {
        self.collect();
        if design.flows.is_empty() {
            ui.label(
                "This design has no flows: add one in the inspector to give it load, then sweep it here or plan \
                 its replicas.",
            );
            return None;
        }
        if let Some(flow) = &self.flow
            && design.flow(flow).is_none()
        {
            self.flow = None;
        }
        let mut action = None;
        // The tab takes exactly the room it is given: egui sizes a panel by its content, and content that spilled
        // over would make the panel grow at every frame.
        let room = ui.available_size().max(egui::Vec2::ZERO);
        let top_down = egui::Layout::top_down(egui::Align::Min);
        ui.allocate_ui_with_layout(room, top_down, |ui| {
            ui.set_min_size(room);
            ui.set_max_size(room);
            self.controls(ui, design);
            if let Some(message) = &self.message {
                ui.colored_label(ui.visuals().warn_fg_color, message);
            }
            ui.separator();
            let rest = ui.available_size().max(egui::Vec2::ZERO);
            let chart_width = (rest.x * 0.62).max(200.0);
            let table_width = (rest.x - chart_width - 16.0).max(100.0);
            ui.horizontal_top(|ui| {
                ui.allocate_ui_with_layout(egui::vec2(chart_width, rest.y), top_down, |ui| {
                    ui.set_max_size(egui::vec2(chart_width, rest.y));
                    self.charts(ui, design, chart_width);
                });
                ui.separator();
                ui.allocate_ui_with_layout(egui::vec2(table_width, rest.y), top_down, |ui| {
                    ui.set_max_size(egui::vec2(table_width, rest.y));
                    egui::ScrollArea::vertical()
                        .id_salt("capacity-plan")
                        .auto_shrink([false, false])
                        .show(ui, |ui| {
                            action = self.plan_table(ui, design);
                        });
                });
            });
        });
        action
    }

    /// Takes the finished job's outcome.
    fn collect(&mut self) {
        let Some((_, job)) = &self.job else {
            return;
        };
        let Some(outcome) = job.take() else {
            return;
        };
        self.job = None;
        let failed = |e: CapacityError| match e {
            CapacityError::Cancelled => "Cancelled.".to_owned(),
            e => format!("Could not finish: {e}"),
        };
        match outcome {
            Outcome::Sweep(Ok(result)) => {
                self.sweep = Some(result);
                self.message = None;
            }
            Outcome::Sweep(Err(e)) => self.message = Some(failed(e)),
            Outcome::Plan(result) => match *result {
                Ok(result) => {
                    self.plan = Some(result);
                    self.message = None;
                }
                Err(e) => self.message = Some(failed(e)),
            },
        }
    }

    fn controls(&mut self, ui: &mut egui::Ui, design: &Design) {
        let idle = self.job.is_none();
        ui.horizontal_wrapped(|ui| {
            ui.add_enabled_ui(idle, |ui| {
                ui.label("Sweep");
                let selected = self.flow.as_deref().map_or_else(
                    || "every flow".to_owned(),
                    |id| {
                        design
                            .flow(id)
                            .map_or(id.to_owned(), |f| f.display_name().to_owned())
                    },
                );
                egui::ComboBox::from_id_salt("capacity-flow")
                    .selected_text(selected)
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut self.flow, None, "every flow");
                        for flow in &design.flows {
                            ui.selectable_value(
                                &mut self.flow,
                                Some(flow.id.to_string()),
                                flow.display_name(),
                            );
                        }
                    })
                    .response
                    .on_hover_text("Whose rate is multiplied: one flow's, or every flow's");
                ui.label("rate ×");
                ui.add(
                    egui::DragValue::new(&mut self.from)
                        .range(0.05..=1000.0)
                        .speed(0.05),
                )
                .on_hover_text("The lowest factor");
                ui.label("to");
                ui.add(
                    egui::DragValue::new(&mut self.to)
                        .range(0.05..=1000.0)
                        .speed(0.05),
                )
                .on_hover_text("The highest factor");
                ui.label("by");
                ui.add(
                    egui::DragValue::new(&mut self.step)
                        .range(0.01..=100.0)
                        .speed(0.01),
                )
                .on_hover_text("Between factors");
                ui.add(
                    egui::DragValue::new(&mut self.seeds)
                        .range(1..=20)
                        .suffix(" seeds"),
                )
                .on_hover_text(
                    "Runs per point, averaged; the spread of their p99 shows how sure a point is",
                );
                ui.add(
                    egui::DragValue::new(&mut self.duration_s)
                        .range(1.0..=3600.0)
                        .suffix(" s"),
                )
                .on_hover_text("Simulated seconds per run");
            });
            match &self.job {
                None => {
                    if ui
                        .button("▶ Run sweep")
                        .on_hover_text("Simulate every point in parallel and find the knee")
                        .clicked()
                    {
                        let settings = SweepSettings {
                            flow: self.flow.clone(),
                            from: self.from,
                            to: self.to.max(self.from),
                            step: self.step,
                            duration_s: self.duration_s,
                            warmup_s: (self.duration_s * 0.1)
                                .min(design.simulation_settings().warmup_s),
                            seeds: self.seeds,
                            seed: design.simulation_settings().seed,
                        };
                        match settings.factors() {
                            Ok(_) => {
                                self.job = Some((
                                    Running::Sweep,
                                    Job::sweep(ui.ctx(), design.clone(), settings),
                                ))
                            }
                            Err(e) => self.message = Some(e.to_string()),
                        }
                    }
                }
                Some((running, job)) => {
                    let (done, total) = job.progress();
                    let fraction = if total == 0 {
                        0.0
                    } else {
                        done as f32 / total as f32
                    };
                    let what = match running {
                        Running::Sweep => "sweeping",
                        Running::Plan => "planning",
                    };
                    ui.add(
                        egui::ProgressBar::new(fraction)
                            .desired_width(160.0)
                            .text(format!("{what}: {done} of {total} runs")),
                    );
                    if ui.button("Cancel").clicked() {
                        job.cancel();
                    }
                }
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.add_enabled_ui(idle, |ui| {
                ui.label("Size replicas: services at most");
                ui.add(
                    egui::DragValue::new(&mut self.target_utilization)
                        .range(0.05..=0.95)
                        .speed(0.01)
                        .custom_formatter(|v, _| format!("{:.0}%", v * 100.0))
                        .custom_parser(|t| {
                            t.trim_end_matches('%').trim().parse::<f64>().ok().map(|v| v / 100.0)
                        }),
                )
                .on_hover_text("The busiest any service may be");
                ui.label("busy, with");
                ui.add(
                    egui::DragValue::new(&mut self.headroom)
                        .range(0.0..=10.0)
                        .speed(0.05)
                        .custom_formatter(|v, _| format!("{:.0}%", v * 100.0))
                        .custom_parser(|t| {
                            t.trim_end_matches('%').trim().parse::<f64>().ok().map(|v| v / 100.0)
                        }),
                )
                .on_hover_text("Extra load to plan for, over the design's rates");
                ui.label("headroom");
                if ui
                    .button("Plan replicas")
                    .on_hover_text(
                        "The fewest replicas per service for the load: estimated from the traffic analysis, \
                         confirmed by simulation",
                    )
                    .clicked()
                {
                    let settings = PlanSettings {
                        target_utilization: self.target_utilization,
                        headroom: self.headroom,
                        duration_s: self.duration_s,
                        warmup_s: (self.duration_s * 0.1).min(design.simulation_settings().warmup_s),
                        seeds: self.seeds,
                        seed: design.simulation_settings().seed,
                    };
                    self.job = Some((
                        Running::Plan,
                        Job::plan(ui.ctx(), design.clone(), settings),
                    ));
                }
            });
        });
    }

    fn charts(&self, ui: &mut egui::Ui, design: &Design, width: f32) {
        let Some(sweep) = &self.sweep else {
            ui.add(
                egui::Label::new(
                    "Run a sweep to see how goodput and p99 follow the offered load, and where the design stops \
                     keeping its SLOs (the knee). Planned faults are left out: this is about load.",
                )
                .wrap(),
            );
            return;
        };
        let knee = sweep.knee;
        ui.add(egui::Label::new(match knee {
            Some(knee) => format!(
                "Knee: ×{:.3} ({:.1} requests/s offered): the most load at which every flow keeps its SLO with \
                 errors under 1%.",
                knee.factor, knee.offered_rps
            ),
            None => "No knee: even the lowest factor misses an SLO or has 1% errors or more.".to_owned(),
        // Wrapped: cut, it hid its conclusion ("…keeps its SLO with errors un…") at 1280x800.
        }).wrap());
        // The legend as a line of its own, so no legend box covers the points.
        let colors: Vec<Color32> = (0..design.flows.len()).map(flow_color).collect();
        ui.horizontal_wrapped(|ui| {
            for (flow, color) in design.flows.iter().zip(&colors) {
                ui.colored_label(*color, format!("• {}", flow.display_name()));
            }
            if design.flows.iter().any(|f| f.slo_p99_ms.is_some()) {
                ui.weak("- - SLO");
            }
            if knee.is_some() {
                ui.colored_label(KNEE_COLOR, "| knee");
            }
        });
        let plot_width = ((width - 16.0) / 2.0).max(120.0);
        // Below each chart's title.
        let plot_height = (ui.available_height() - 24.0).max(60.0);
        ui.horizontal_top(|ui| {
            for (title, y_label, value) in [
                (
                    "Goodput",
                    "answered/s",
                    (|f: &crate::capacity::FlowPoint| f.goodput_rps)
                        as fn(&crate::capacity::FlowPoint) -> f64,
                ),
                ("p99 latency", "ms", |f: &crate::capacity::FlowPoint| {
                    f.p99_ms
                }),
            ] {
                ui.vertical(|ui| {
                    ui.label(RichText::new(title).strong());
                    crate::ui::dashboard::nice_plot(("capacity", title))
                        .width(plot_width)
                        .height(plot_height)
                        .x_axis_label("offered requests/s")
                        .y_axis_label(y_label)
                        .include_y(0.0)
                        .allow_scroll(false)
                        .show(ui, |plot| {
                            for (flow, color) in design.flows.iter().zip(&colors) {
                                let points: Vec<[f64; 2]> = sweep
                                    .points
                                    .iter()
                                    .filter_map(|p| {
                                        Some([p.offered_rps, value(p.flows.get(flow.id.as_str())?)])
                                    })
                                    .collect();
                                let name = flow.display_name().to_owned();
                                plot.line(
                                    Line::new(name.clone(), PlotPoints::from(points.clone()))
                                        .color(*color),
                                );
                                plot.points(
                                    Points::new(name, PlotPoints::from(points))
                                        .radius(2.5)
                                        .color(*color),
                                );
                                if title == "p99 latency"
                                    && let Some(slo) = flow.slo_p99_ms
                                {
                                    plot.hline(
                                        HLine::new(format!("SLO {}", flow.display_name()), slo)
                                            .color(*color)
                                            .style(LineStyle::Dashed { length: 6.0 }),
                                    );
                                }
                            }
                            if let Some(knee) = knee {
                                plot.vline(VLine::new("knee", knee.offered_rps).color(KNEE_COLOR));
                            }
                        });
                });
            }
        });
    }

    fn plan_table(&self, ui: &mut egui::Ui, design: &Design) -> Option<CapacityAction> {
        let Some(plan) = &self.plan else {
            ui.label(
                "A replica plan finds the fewest replicas per service for the design's load (plus headroom) with \
                 no service busier than the target; brokers, clients and external services keep theirs.",
            );
            return None;
        };
        let mut action = None;
        ui.label(format!(
            "Replicas {} -> {}; {}",
            plan.replicas_total_before,
            plan.replicas_total_after,
            if plan.meets_slo {
                "every SLO met in simulation"
            } else {
                "an SLO or the target is still missed in simulation"
            }
        ));
        egui::Grid::new("capacity-plan-table")
            .striped(true)
            .show(ui, |ui| {
                for heading in ["Service", "Replicas", "Busy", "p99 ms"] {
                    ui.label(RichText::new(heading).strong());
                }
                ui.end_row();
                for (id, service) in &plan.services {
                    let name = design.service_name(id);
                    ui.label(name).on_hover_text(id);
                    let changed = service.replicas_after != service.replicas_before;
                    let replicas =
                        format!("{} -> {}", service.replicas_before, service.replicas_after);
                    if changed {
                        ui.label(RichText::new(replicas).strong());
                    } else {
                        ui.label(replicas);
                    }
                    ui.label(format!("{:.0}%", service.utilization * 100.0));
                    ui.label(format!("{:.0}", service.p99_ms));
                    ui.end_row();
                }
            });
        let changes = plan
            .services
            .iter()
            .filter(|(id, s)| {
                design
                    .service(id)
                    .is_some_and(|now| now.replicas != s.replicas_after)
            })
            .count();
        if ui
            .add_enabled(changes > 0, egui::Button::new("Apply plan"))
            .on_hover_text("Set these replicas in the design: one step to undo")
            .on_disabled_hover_text("The design already has these replicas")
            .clicked()
        {
            // The planned replicas on the design as it is now, so edits made since the plan are kept.
            let mut sized = design.clone();
            for service in &mut sized.services {
                if let Some(planned) = plan.services.get(service.id.as_str()) {
                    service.replicas = planned.replicas_after;
                }
            }
            action = Some(CapacityAction::ApplyPlan(Box::new(sized)));
        }
        action
    }
}
