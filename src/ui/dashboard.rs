//! The simulation dashboard: charts over time per flow (throughput, goodput, error rate, latency percentiles with
//! the SLO line), the sortable per-service table, the faults timeline, and the comparison with a baseline run.
//! It reads the live run and reports what the user asked for; the app carries it out.

use egui::{Color32, Rect, RichText};
use egui_plot::{HLine, Legend, Line, LineStyle, Plot, PlotPoints, Text, VLine};

use crate::model::{Design, FaultKind};
use crate::runs::emulation::EmulationResult;
use crate::runs::live::{FinishedRun, LiveRun};
use crate::sim::history::{self, RunHistory, ServiceNow};

/// Which part of the dashboard is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DashboardTab {
    /// Throughput, errors and latency over time.
    #[default]
    Charts,
    /// The per-service table.
    Services,
    /// Planned and injected faults over time.
    Faults,
    /// This run against the baseline.
    Compare,
}

/// A column of the service table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceColumn {
    /// The service id.
    Service,
    /// Arrivals per second.
    Arrivals,
    /// Utilization.
    Utilization,
    /// Queue length.
    Queue,
    /// 99th-percentile time there.
    P99,
    /// Rejections.
    Rejected,
    /// Failures.
    Failed,
}

const COLUMNS: [(ServiceColumn, &str, &str); 7] = [
    (ServiceColumn::Service, "Service", "The service's id"),
    (
        ServiceColumn::Arrivals,
        "Arrivals/s",
        "Requests and messages arriving per second",
    ),
    (
        ServiceColumn::Utilization,
        "Utilization",
        "Busy workers over all workers",
    ),
    (ServiceColumn::Queue, "Queue", "Requests waiting now"),
    (
        ServiceColumn::P99,
        "p99",
        "99th percentile of the time spent there, recently",
    ),
    (
        ServiceColumn::Rejected,
        "Rejected",
        "Turned away by a full queue or a down service, since the start",
    ),
    (
        ServiceColumn::Failed,
        "Failed",
        "Failed there (errors, failed or timed-out calls), since the start",
    ),
];

/// What the user asked for in the dashboard.
#[derive(Debug, Clone, PartialEq)]
pub enum DashboardAction {
    /// Change a flow's arrival rate now.
    SetRate {
        /// The flow's index in the run's design.
        flow: usize,
        /// The new rate.
        rate_rps: f64,
    },
    /// Keep this finished run as the baseline of a comparison.
    PinBaseline,
    /// Drop the baseline.
    ClearBaseline,
    /// Save the run's time series as CSV.
    ExportCsv,
    /// Save the run's time series and report as JSON.
    ExportJson,
    /// Save the charts as a PNG image.
    ExportPng,
}

/// The dashboard's own state.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// The part shown.
    pub tab: DashboardTab,
    /// The flow whose charts are shown (index in the run's design).
    pub flow: usize,
    /// The service table's sort column, and whether it is descending.
    pub sort: (ServiceColumn, bool),
    /// Where the charts were drawn last frame (screen points), for the PNG export.
    pub charts_rect: Option<Rect>,
    /// The fault bands of the charts drawn last frame, and on how many charts (for tests and tooling).
    pub drawn_bands: (Vec<(String, f64, f64)>, usize),
}

impl Default for Dashboard {
    fn default() -> Self {
        Self {
            tab: DashboardTab::Charts,
            flow: 0,
            sort: (ServiceColumn::Utilization, true),
            charts_rect: None,
            drawn_bands: (Vec::new(), 0),
        }
    }
}

const BASELINE_ALPHA: f32 = 0.55;

impl Dashboard {
    /// Shows the dashboard of `run` (or how to start one); returns what the user asked for.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        run: Option<&LiveRun>,
        baseline: Option<&FinishedRun>,
        emulation: Option<&EmulationResult>,
        design: &Design,
    ) -> Option<DashboardAction> {
        let Some(run) = run else {
            if let Some(emulation) = emulation {
                egui::ScrollArea::vertical()
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        crate::ui::emulation::comparison_grid(ui, emulation, design)
                    });
                return None;
            }
            ui.label(
                "Press ▶ Run in the simulation bar to put the design under its flows' load. This panel then shows \
                 throughput, errors and latency per flow, every service's numbers, and the faults over time.",
            );
            if let Some(baseline) = baseline {
                ui.label(format!(
                    "Baseline kept for comparison: {} (run the changed design to compare).",
                    baseline.label
                ));
            }
            return None;
        };
        let mut action = None;
        let history = &run.history;
        if self.flow >= history.flows.len() {
            self.flow = 0;
        }
        ui.horizontal(|ui| {
            for (tab, label) in [
                (DashboardTab::Charts, "Charts"),
                (DashboardTab::Services, "Services"),
                (DashboardTab::Faults, "Faults timeline"),
                (DashboardTab::Compare, "Compare"),
            ] {
                ui.selectable_value(&mut self.tab, tab, label);
            }
            ui.separator();
            let fraction = (history.time_s / run.settings.duration_s.max(f64::MIN_POSITIVE)) as f32;
            ui.add(
                egui::ProgressBar::new(fraction.clamp(0.0, 1.0))
                    .desired_width(140.0)
                    .text(format!(
                        "{:.1} / {:.0} s",
                        history.time_s, run.settings.duration_s
                    )),
            )
            .on_hover_text("Simulated time of the run");
            ui.separator();
            ui.menu_button("Export run ⏷", |ui| {
                if ui
                    .button("Time series as CSV…")
                    .on_hover_text("One row per moment and flow")
                    .clicked()
                {
                    action = Some(DashboardAction::ExportCsv);
                }
                if ui
                    .button("Series and report as JSON…")
                    .on_hover_text("The time series, every service and call, and the final report")
                    .clicked()
                {
                    action = Some(DashboardAction::ExportJson);
                }
                if ui
                    .button("Charts as PNG…")
                    .on_hover_text("An image of the charts as shown")
                    .clicked()
                {
                    action = Some(DashboardAction::ExportPng);
                }
            });
            if baseline.is_some()
                && ui
                    .button("Forget baseline")
                    .on_hover_text("Stop comparing with the kept run")
                    .clicked()
            {
                action = Some(DashboardAction::ClearBaseline);
            }
            if ui
                .add_enabled(run.report.is_some(), egui::Button::new("📌 Keep as baseline"))
                .on_hover_text(
                    "Keep this finished run; change the design (e.g. make a call async), run again and compare",
                )
                .on_disabled_hover_text("Available once the run has finished")
                .clicked()
            {
                action = Some(DashboardAction::PinBaseline);
            }
        });
        ui.separator();
        // Each tab gets exactly the room left: egui sizes a panel by its content, so content that fell short or
        // spilled over would make the panel jump at every switch.
        let room = ui.available_size().max(egui::Vec2::ZERO);
        ui.allocate_ui_with_layout(room, egui::Layout::top_down(egui::Align::Min), |ui| {
            ui.set_min_size(room);
            ui.set_max_size(room);
            match self.tab {
                DashboardTab::Charts => {
                    if let Some(a) = self.charts(ui, run, baseline) {
                        action = Some(a);
                    }
                }
                DashboardTab::Services => self.services(ui, history, &run.design),
                DashboardTab::Faults => faults_timeline(ui, run, design),
                DashboardTab::Compare => {
                    egui::ScrollArea::vertical()
                        .auto_shrink([false, false])
                        .show(ui, |ui| {
                            if let Some(emulation) = emulation {
                                crate::ui::emulation::comparison_grid(ui, emulation, design);
                                ui.separator();
                            }
                            compare(ui, run, baseline, design);
                        });
                }
            }
        });
        action
    }

    fn charts(
        &mut self,
        ui: &mut egui::Ui,
        run: &LiveRun,
        baseline: Option<&FinishedRun>,
    ) -> Option<DashboardAction> {
        let history = &run.history;
        let mut action = None;
        if history.flows.is_empty() {
            ui.label("This design has no flows: add one in the inspector to put load on it.");
            return None;
        }
        ui.horizontal(|ui| {
            ui.label("Flow:");
            egui::ComboBox::from_id_salt("dashboard-flow")
                .selected_text(history.flows[self.flow].1.as_str())
                .show_ui(ui, |ui| {
                    for (index, (_, name)) in history.flows.iter().enumerate() {
                        ui.selectable_value(&mut self.flow, index, name);
                    }
                });
            let mut rate = run.rates_rps.get(self.flow).copied().unwrap_or(0.0);
            let design_rate = run.design.flows.get(self.flow).map_or(1.0, |f| f.rate_rps);
            let top = (design_rate * 4.0).max(10.0);
            let slider = ui
                .add(
                    egui::Slider::new(&mut rate, 0.0..=top)
                        .text("rate (requests/s)")
                        .clamping(egui::SliderClamping::Never),
                )
                .on_hover_text("Change this flow's arrival rate while the simulation runs");
            if slider.changed() {
                action = Some(DashboardAction::SetRate {
                    flow: self.flow,
                    rate_rps: rate.max(0.0),
                });
            }
        });
        let flow_id = history.flows[self.flow].0.clone();
        let base = baseline.and_then(|b| {
            let index = b.history.flows.iter().position(|(id, _)| *id == flow_id)?;
            Some((b, index))
        });
        let slo = history.slo_p99_ms.get(self.flow).copied().flatten();
        let polls = history.polling.get(self.flow).copied().unwrap_or(false);
        let height = (ui.available_height() - 8.0).clamp(120.0, 320.0);
        // A fourth chart, the message lag of async calls, when the design has any.
        let has_lag = !history.lag_edges.is_empty();
        let chart_count = if has_lag { 4.0 } else { 3.0 };
        let width = ((ui.available_width() - 8.0 * chart_count) / chart_count).max(160.0);
        let frame = ChartFrame {
            width,
            height,
            until_s: history.time_s,
            faults: fault_bands(run),
        };
        let response = ui.horizontal(|ui| {
            let flow = self.flow;
            let baseline_entry = |name: &str, color: Color32| -> Option<LegendEntry> {
                base.map(|(b, _)| {
                    (
                        format!("{name} ({})", b.label),
                        color.gamma_multiply(BASELINE_ALPHA),
                        true,
                    )
                })
            };
            let legend: Vec<LegendEntry> = [
                Some(("throughput".to_owned(), BLUE, false)),
                Some(("goodput".to_owned(), GREEN, false)),
                baseline_entry("goodput", GREEN),
            ]
            .into_iter()
            .flatten()
            .collect();
            chart(
                ui,
                "Requests per second",
                &legend,
                &frame,
                flow_max(history, flow, |p| Some(p.throughput_rps.max(p.goodput_rps))).max(
                    base.map_or(0.0, |(b, i)| {
                        flow_max(&b.history, i, |p| Some(p.goodput_rps))
                    }),
                ),
                |plot| {
                    series("throughput", history, flow, |p| Some(p.throughput_rps))
                        .color(BLUE)
                        .show(plot);
                    series("goodput", history, flow, |p| Some(p.goodput_rps))
                        .color(GREEN)
                        .show(plot);
                    if let Some((b, index)) = base {
                        baseline_series(b, "goodput", index, |p| Some(p.goodput_rps), GREEN)
                            .show(plot);
                    }
                },
            );
            let legend: Vec<LegendEntry> = [
                Some(("errors".to_owned(), RED, false)),
                baseline_entry("errors", RED),
            ]
            .into_iter()
            .flatten()
            .collect();
            chart(
                ui,
                "Error rate (%)",
                &legend,
                &frame,
                // A rate of 100 % tops the axis at 100, not at a 150 % no rate reaches.
                flow_max(history, flow, |p| Some(p.error_rate * 100.0))
                    .max(base.map_or(0.0, |(b, i)| {
                        flow_max(&b.history, i, |p| Some(p.error_rate * 100.0))
                    }))
                    .min(99.99),
                |plot| {
                    series("errors", history, flow, |p| Some(p.error_rate * 100.0))
                        .color(RED)
                        .show(plot);
                    if let Some((b, index)) = base {
                        baseline_series(b, "errors", index, |p| Some(p.error_rate * 100.0), RED)
                            .show(plot);
                    }
                },
            );
            let legend: Vec<LegendEntry> = [
                Some(("p50".to_owned(), GREEN, false)),
                Some(("p95".to_owned(), ORANGE, false)),
                Some(("p99".to_owned(), RED, false)),
                Some(("settle p99".to_owned(), PURPLE, true)),
                polls.then(|| ("seen p99 (polling)".to_owned(), TEAL, true)),
                baseline_entry("p99", RED),
                baseline_entry("settle p99", PURPLE),
                slo.map(|slo| (format!("SLO p99 {slo} ms"), Color32::from_gray(140), true)),
            ]
            .into_iter()
            .flatten()
            .collect();
            chart(
                ui,
                "Latency (ms)",
                &legend,
                &frame,
                flow_max(history, flow, |p| {
                    [p.p99_ms, p.settle_p99_ms, p.seen_p99_ms]
                        .into_iter()
                        .flatten()
                        .reduce(f64::max)
                })
                .max(base.map_or(0.0, |(b, i)| {
                    flow_max(&b.history, i, |p| {
                        [p.p99_ms, p.settle_p99_ms]
                            .into_iter()
                            .flatten()
                            .reduce(f64::max)
                    })
                }))
                .max(slo.unwrap_or(0.0)),
                |plot| {
                    series("p50", history, flow, |p| p.p50_ms)
                        .color(GREEN)
                        .show(plot);
                    series("p95", history, flow, |p| p.p95_ms)
                        .color(ORANGE)
                        .show(plot);
                    series("p99", history, flow, |p| p.p99_ms)
                        .color(RED)
                        .show(plot);
                    // Time until done: the answer's p99 hides the work still queued behind async calls.
                    series("settle p99", history, flow, |p| p.settle_p99_ms)
                        .color(PURPLE)
                        .style(LineStyle::Dotted { spacing: 4.0 })
                        .show(plot);
                    // Polling clients see the result only at their next poll after it is done.
                    if polls {
                        series("seen p99 (polling)", history, flow, |p| p.seen_p99_ms)
                            .color(TEAL)
                            .style(LineStyle::Dashed { length: 5.0 })
                            .show(plot);
                    }
                    if let Some((b, index)) = base {
                        baseline_series(b, "p99", index, |p| p.p99_ms, RED).show(plot);
                        baseline_series(b, "settle p99", index, |p| p.settle_p99_ms, PURPLE)
                            .show(plot);
                    }
                    if let Some(slo) = slo {
                        plot.hline(
                            HLine::new(format!("SLO p99 {slo} ms"), slo)
                                .color(Color32::from_gray(140))
                                .style(LineStyle::Dashed { length: 6.0 }),
                        );
                    }
                },
            );
            if has_lag {
                // Calls by their ends' names ("Checkout -> Payment queue"), not their ids.
                let names: Vec<String> = history
                    .lag_edges
                    .iter()
                    .map(|(_, id)| {
                        run.design
                            .edge(id)
                            .map_or_else(|| id.clone(), |edge| run.design.call_name(edge))
                    })
                    .collect();
                let legend: Vec<LegendEntry> = names
                    .iter()
                    .enumerate()
                    .map(|(k, name)| (name.clone(), LAG_COLORS[k % LAG_COLORS.len()], false))
                    .collect();
                chart(
                    ui,
                    "Message lag p99 (ms)",
                    &legend,
                    &frame,
                    history
                        .points
                        .iter()
                        .flat_map(|p| p.lag_p99_ms.iter().flatten().copied())
                        .fold(0.0, f64::max),
                    |plot| {
                        for (k, name) in names.iter().enumerate() {
                            let points: Vec<[f64; 2]> = history
                                .points
                                .iter()
                                .filter_map(|p| Some([p.time_s, (*p.lag_p99_ms.get(k)?)?]))
                                .collect();
                            plot.line(
                                Line::new(name.clone(), PlotPoints::from(points))
                                    .color(LAG_COLORS[k % LAG_COLORS.len()]),
                            );
                        }
                    },
                );
            }
        });
        self.charts_rect = Some(response.response.rect);
        self.drawn_bands = (frame.faults, chart_count as usize);
        action
    }

    /// The services of the run, by name (the id on hover), sortable by each column.
    fn services(&mut self, ui: &mut egui::Ui, history: &RunHistory, design: &Design) {
        let name_of = |id: &str| design.service_name(id).to_owned();
        let mut rows: Vec<&ServiceNow> = history.services.iter().collect();
        let (column, descending) = self.sort;
        let key = |s: &ServiceNow| -> f64 {
            match column {
                ServiceColumn::Service => 0.0,
                ServiceColumn::Arrivals => s.arrivals_rps,
                ServiceColumn::Utilization => s.utilization,
                ServiceColumn::Queue => s.queue_length as f64,
                ServiceColumn::P99 => s.p99_ms.unwrap_or(-1.0),
                ServiceColumn::Rejected => s.rejected as f64,
                ServiceColumn::Failed => s.failed as f64,
            }
        };
        rows.sort_by(|a, b| {
            let order = if column == ServiceColumn::Service {
                name_of(&a.id)
                    .to_lowercase()
                    .cmp(&name_of(&b.id).to_lowercase())
                    .then_with(|| a.id.cmp(&b.id))
            } else {
                key(a).total_cmp(&key(b)).then_with(|| a.id.cmp(&b.id))
            };
            if descending { order.reverse() } else { order }
        });
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
        egui::Grid::new("service-table-head")
            .num_columns(COLUMNS.len())
            .min_col_width(90.0)
            .show(ui, |ui| {
                for (option, name, hint) in COLUMNS {
                    let arrow = match (option == column, descending) {
                        (true, true) => " ⏷",
                        (true, false) => " ⏶",
                        _ => "",
                    };
                    if ui
                        .selectable_label(option == column, format!("{name}{arrow}"))
                        .on_hover_text(format!("{hint}. Click to sort."))
                        .clicked()
                    {
                        self.sort = if option == column {
                            (option, !descending)
                        } else {
                            (option, option != ServiceColumn::Service)
                        };
                    }
                }
                ui.end_row();
            });
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show_rows(ui, row_height, rows.len(), |ui, range| {
                egui::Grid::new("service-table")
                    .num_columns(COLUMNS.len())
                    .min_col_width(90.0)
                    .striped(true)
                    .show(ui, |ui| {
                        for service in &rows[range] {
                            let name = name_of(&service.id);
                            let text = if service.faulted {
                                RichText::new(format!("⚡ {name}")).color(RED)
                            } else {
                                RichText::new(name.as_str())
                            };
                            let label = ui.label(text);
                            if name != service.id {
                                label.on_hover_text(format!("id {}", service.id));
                            }
                            ui.label(format!("{:.1}", service.arrivals_rps));
                            ui.label(
                                RichText::new(format!("{:.0}%", service.utilization * 100.0))
                                    .color(crate::ui::canvas::utilization_color(
                                        service.utilization,
                                    )),
                            );
                            ui.label(service.queue_length.to_string());
                            ui.label(
                                service
                                    .p99_ms
                                    .map_or("–".to_owned(), crate::rules::format_ms),
                            );
                            ui.label(service.rejected.to_string());
                            ui.label(service.failed.to_string());
                            ui.end_row();
                        }
                    });
            });
    }
}

const BLUE: Color32 = Color32::from_rgb(30, 136, 229);
const GREEN: Color32 = Color32::from_rgb(67, 160, 71);
const ORANGE: Color32 = Color32::from_rgb(251, 140, 0);
const RED: Color32 = Color32::from_rgb(229, 57, 53);
const PURPLE: Color32 = Color32::from_rgb(142, 36, 170);
/// The time until a polling client sees the result.
const TEAL: Color32 = Color32::from_rgb(0, 137, 123);
const LAG_COLORS: [Color32; 4] = [
    Color32::from_rgb(0, 137, 123),
    Color32::from_rgb(94, 53, 177),
    Color32::from_rgb(216, 27, 96),
    Color32::from_rgb(109, 76, 65),
];

/// Grid steps of 1, 2 or 5 times a power of ten, the finest at least egui_plot's smallest step, each coarser about
/// two and a half times the one before: egui_plot's own steps are powers of ten, so an axis of 0-60 s in a chart
/// 300 px wide had its lines 10 s (46 px) apart, too close for a label, and its next ones 100 s apart: it showed
/// "0" alone. Here 2, 5 and 20 s, labelled every 20 s.
pub fn nice_grid_steps(input: egui_plot::GridInput) -> [f64; 3] {
    let nice_at_least = |x: f64| {
        if !(x.is_finite() && x > 0.0) {
            return 1.0;
        }
        let power = 10f64.powf(x.log10().floor());
        [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * power)
            .find(|step| *step >= x * (1.0 - 1e-9))
            .unwrap_or(10.0 * power)
    };
    let finest = nice_at_least(input.base_step_size);
    let middle = nice_at_least(finest * 2.5);
    [finest, middle, nice_at_least(middle * 2.5)]
}

/// The label of an axis mark with as many decimals as its step needs: a chart of errors between 0 and 1 % marked
/// its 0.5 as "0" (seen in the light-theme review).
pub fn axis_label(value: f64, step: f64) -> String {
    let decimals = if step.is_finite() && step > 0.0 && step < 1.0 {
        ((-step.log10()) - 1e-9).ceil().clamp(0.0, 6.0) as usize
    } else {
        0
    };
    let text = format!("{value:.decimals$}");
    // "-0" for a mark a rounding error below zero.
    if text
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        text.trim_start_matches('-').to_owned()
    } else {
        text
    }
}

/// A plot whose axes are marked at [`nice_grid_steps`] and labelled by [`axis_label`].
pub fn nice_plot<'a>(id: impl egui::AsId) -> Plot<'a> {
    Plot::new(id)
        .x_grid_spacer(egui_plot::uniform_grid_spacer(nice_grid_steps))
        .y_grid_spacer(egui_plot::uniform_grid_spacer(nice_grid_steps))
        .x_axis_formatter(|mark, _| axis_label(mark.value, mark.step_size))
        .y_axis_formatter(|mark, _| axis_label(mark.value, mark.step_size))
}

/// One chart over simulated time, sharing its time axis with the others.
/// A chart's legend entry: what a line is, its colour, and whether it is drawn dashed (a baseline, a limit).
type LegendEntry = (String, Color32, bool);

/// One chart over simulated time, sharing its time axis with the others, with its legend as a line of its own
/// under the title, so no legend box covers the data.
fn chart(
    ui: &mut egui::Ui,
    title: &str,
    legend: &[LegendEntry],
    frame: &ChartFrame,
    data_max: f64,
    build: impl FnOnce(&mut egui_plot::PlotUi<'_>),
) {
    let ChartFrame {
        width,
        height,
        until_s,
        ..
    } = *frame;
    ui.vertical(|ui| {
        ui.set_width(width);
        ui.label(RichText::new(title).strong());
        let before = ui.cursor().top();
        ui.horizontal_wrapped(|ui| {
            ui.spacing_mut().item_spacing.x = 10.0;
            for (name, color, dashed) in legend {
                let mark = if *dashed { "- -" } else { "—" };
                ui.label(
                    RichText::new(format!("{mark} {name}"))
                        .color(*color)
                        .small(),
                );
            }
        });
        let legend_height = ui.cursor().top() - before;
        nice_plot(title)
            .width(width)
            .height((height - 20.0 - legend_height).max(60.0))
            .x_axis_label("simulated s")
            // Every value here is 0 or more: the y axis starts at 0 exactly (no margin below it) and spans at
            // least 0..1, so a run without errors shows 0 to 1 %, not -1 to 1.
            .set_margin_fraction(egui::vec2(0.05, 0.0))
            .include_y(0.0)
            .include_y(1.0)
            // The axis ends just above a labelled mark above the highest value (egui_plot leaves a mark on the
            // very edge unlabelled), so the line never runs into the edge.
            .include_y(nice_top(data_max) * 1.03)
            // Every chart spans the run so far, even one with no values lately (no answers, no latency).
            .include_x(0.0)
            .include_x(until_s)
            .allow_scroll(false)
            .show(ui, |plot| {
                // Faults behind the lines: the band tells what the lines answer to.
                for (label, from_s, to_s) in &frame.faults {
                    plot.span(
                        egui_plot::Span::new(label.clone(), *from_s..=*to_s)
                            .fill(FAULT_BAND.gamma_multiply(0.16))
                            .border_color(FAULT_BAND.gamma_multiply(0.5)),
                    );
                }
                build(plot);
            });
    });
}

/// Colour of the fault bands on the charts.
const FAULT_BAND: Color32 = Color32::from_rgb(229, 115, 115);

/// What every chart of the dashboard shares: its size, the time axis, and the faults drawn as bands.
struct ChartFrame {
    width: f32,
    height: f32,
    until_s: f64,
    /// Each fault's label and window in simulated seconds (planned, and injected by hand).
    faults: Vec<(String, f64, f64)>,
}

/// A fault's window in a run: planned (from `design`) over its window, to the run's end when open; injected by hand
/// from when it was injected until cleared, or now. The timeline draws them as rows, the charts as bands.
/// Fields: the service's name, the window's start and end in simulated seconds, what the fault does, and whether it
/// was injected by hand.
type FaultWindow = (String, f64, f64, String, bool);

fn fault_windows(run: &LiveRun, design: &Design) -> Vec<FaultWindow> {
    let name_of = |id: &str| design.service_name(id).to_owned();
    let now_s = run.history.time_s;
    let planned = design.faults.iter().map(|fault| {
        (
            name_of(fault.service.as_str()),
            fault.start_s,
            fault.end_s.unwrap_or(run.settings.duration_s),
            fault_label(fault.kind, fault.factor, fault.error_rate),
            false,
        )
    });
    let injected = run.injected.iter().map(|injected| {
        let fault = &injected.fault;
        (
            name_of(fault.service.as_str()),
            injected.from_s,
            injected.until_s.unwrap_or(now_s.max(injected.from_s)),
            fault_label(fault.kind, fault.factor, fault.error_rate),
            true,
        )
    });
    planned.chain(injected).collect()
}

/// The bands of the run's faults on the charts: each window as far as the run has come.
fn fault_bands(run: &LiveRun) -> Vec<(String, f64, f64)> {
    let now_s = run.history.time_s.max(0.0);
    fault_windows(run, &run.design)
        .into_iter()
        .filter(|(_, from, to, _, _)| to > from && *from <= now_s)
        .map(|(service, from, to, label, _)| {
            (format!("{service} {label}"), from, to.min(now_s.max(from)))
        })
        .collect()
}

/// The top of a y axis for values up to `max`: the first mark of a nice step (1, 2 or 5 × a power of ten, about
/// a quarter of the range) strictly above it.
pub fn nice_top(max: f64) -> f64 {
    if !(max.is_finite() && max > 0.0) {
        return 1.0;
    }
    let rough = max / 4.0;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * power);
    ((max / step).floor() + 1.0) * step
}

/// A flow's values over time: one line per stretch of moments that have a value. A moment without one (no answers
/// in its interval, as during a hang) breaks the line, so the chart shows a gap rather than a straight line across
/// it, as if latencies had fallen.
struct Series<'a> {
    lines: Vec<Line<'a>>,
}

impl<'a> Series<'a> {
    fn color(self, color: Color32) -> Self {
        Self {
            lines: self.lines.into_iter().map(|l| l.color(color)).collect(),
        }
    }

    fn style(self, style: LineStyle) -> Self {
        Self {
            lines: self.lines.into_iter().map(|l| l.style(style)).collect(),
        }
    }

    /// Adds the lines to a chart; they share one legend entry (egui_plot joins items of the same name).
    fn show(self, plot: &mut egui_plot::PlotUi<'a>) {
        for line in self.lines {
            plot.line(line);
        }
    }
}

/// The stretches of consecutive moments that have a value, as `[time, value]` points.
pub fn stretches(points: impl Iterator<Item = (f64, Option<f64>)>) -> Vec<Vec<[f64; 2]>> {
    let mut stretches: Vec<Vec<[f64; 2]>> = Vec::new();
    let mut open = false;
    for (time_s, value) in points {
        match value {
            Some(v) if open => {
                if let Some(last) = stretches.last_mut() {
                    last.push([time_s, v]);
                }
            }
            Some(v) => {
                stretches.push(vec![[time_s, v]]);
                open = true;
            }
            None => open = false,
        }
    }
    stretches
}

/// The highest value of a flow's measure over the run (0 without any).
fn flow_max(
    history: &RunHistory,
    flow: usize,
    value: impl Fn(&history::FlowPoint) -> Option<f64>,
) -> f64 {
    history
        .points
        .iter()
        .filter_map(|p| p.flows.get(flow).and_then(&value))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}

fn series<'a>(
    name: &str,
    history: &RunHistory,
    flow: usize,
    value: impl Fn(&history::FlowPoint) -> Option<f64>,
) -> Series<'a> {
    let points = history
        .points
        .iter()
        .map(|p| (p.time_s, p.flows.get(flow).and_then(&value)));
    Series {
        lines: stretches(points)
            .into_iter()
            .map(|points| Line::new(name.to_owned(), PlotPoints::from(points)))
            .collect(),
    }
}

/// The baseline's values, dashed and paler, named after the baseline.
fn baseline_series<'a>(
    baseline: &FinishedRun,
    name: &str,
    flow: usize,
    value: impl Fn(&history::FlowPoint) -> Option<f64>,
    color: Color32,
) -> Series<'a> {
    series(
        &format!("{name} ({})", baseline.label),
        &baseline.history,
        flow,
        value,
    )
    .color(color.gamma_multiply(BASELINE_ALPHA))
    .style(LineStyle::Dashed { length: 6.0 })
}

/// Planned faults (from the design) and injected ones (by hand), one row per service, with the current time.
fn faults_timeline(ui: &mut egui::Ui, run: &LiveRun, design: &Design) {
    let duration_s = run.settings.duration_s;
    // Rows by the service's name, as people know it.
    let rows = fault_windows(run, design);
    if rows.is_empty() {
        ui.label(
            "No faults yet. Plan them in the design's faults (inspector, with nothing selected), or right-click a \
             service on the canvas while the simulation runs to inject one.",
        );
        return;
    }
    let mut services: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    services.sort();
    services.dedup();
    let height = (ui.available_height() - 8.0).clamp(100.0, 320.0);
    nice_plot("faults-timeline")
        .height(height)
        .legend(Legend::default())
        .x_axis_label("simulated s")
        .include_x(0.0)
        .include_x(duration_s)
        .include_y(-0.7)
        .include_y(services.len() as f64 - 0.3)
        .show_axes([true, false])
        .allow_scroll(false)
        .show(ui, |plot| {
            for (row, service) in services.iter().enumerate() {
                plot.text(
                    Text::new(
                        // Unnamed: labels stay out of the legend.
                        "",
                        [0.0, row as f64 + 0.32].into(),
                        RichText::new(service.as_str()).strong(),
                    )
                    .anchor(egui::Align2::LEFT_BOTTOM),
                );
            }
            for (service, from, until, label, injected) in &rows {
                let row = services.iter().position(|s| s == service).unwrap_or(0) as f64;
                let (name, color) = if *injected {
                    ("injected", RED)
                } else {
                    ("planned", ORANGE)
                };
                plot.line(
                    Line::new(name, PlotPoints::from(vec![[*from, row], [*until, row]]))
                        .color(color)
                        .width(10.0),
                );
                plot.text(
                    Text::new("", [*from, row - 0.3].into(), label.as_str())
                        .anchor(egui::Align2::LEFT_TOP),
                );
            }
            plot.vline(VLine::new("now", run.history.time_s).color(BLUE));
        });
}

/// The part of a screenshot inside `rect` (in points) as PNG bytes.
pub fn png_of_region(
    image: &egui::ColorImage,
    rect: Rect,
    pixels_per_point: f32,
) -> Result<Vec<u8>, String> {
    let [width, height] = image.size;
    let x0 = ((rect.left() * pixels_per_point).floor().max(0.0) as usize).min(width);
    let y0 = ((rect.top() * pixels_per_point).floor().max(0.0) as usize).min(height);
    let x1 = ((rect.right() * pixels_per_point).ceil().max(0.0) as usize).min(width);
    let y1 = ((rect.bottom() * pixels_per_point).ceil().max(0.0) as usize).min(height);
    if x1 <= x0 || y1 <= y0 {
        return Err("the charts are not on screen".to_owned());
    }
    let mut pixels = Vec::with_capacity((x1 - x0) * (y1 - y0) * 4);
    for y in y0..y1 {
        for pixel in &image.pixels[y * width + x0..y * width + x1] {
            pixels.extend_from_slice(&pixel.to_srgba_unmultiplied());
        }
    }
    let buffer = image::RgbaImage::from_raw((x1 - x0) as u32, (y1 - y0) as u32, pixels)
        .ok_or_else(|| "the screenshot has an unexpected size".to_owned())?;
    let mut png = Vec::new();
    buffer
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| format!("cannot encode the charts as PNG: {e}"))?;
    Ok(png)
}

/// A fault's short description.
pub fn fault_label(kind: FaultKind, factor: Option<f64>, error_rate: Option<f64>) -> String {
    match kind {
        FaultKind::Down => "down".to_owned(),
        FaultKind::Hang => "hang".to_owned(),
        FaultKind::Slow => format!("slow ×{}", factor.unwrap_or(1.0)),
        FaultKind::Errors => format!("errors {:.0}%", error_rate.unwrap_or(0.0) * 100.0),
    }
}

/// The table of differences per flow between the baseline and this run.
fn compare(ui: &mut egui::Ui, run: &LiveRun, baseline: Option<&FinishedRun>, design: &Design) {
    let Some(baseline) = baseline else {
        ui.label(
            "To compare two variants: let a run finish and press 📌 Keep as baseline; then change the design (for \
             example switch a call to async, add a breaker, change replicas), run it again with the same seed, and \
             the charts and this table show both.",
        );
        return;
    };
    let Some(report) = &run.report else {
        ui.label(format!(
            "Baseline: {}. The table fills in when this run finishes (the charts already overlay the baseline).",
            baseline.label
        ));
        return;
    };
    if baseline.settings.seed != run.settings.seed
        || baseline.settings.duration_s != run.settings.duration_s
    {
        ui.colored_label(
            ORANGE,
            "⚠ The runs used different seeds or durations: differences may be luck, not design.",
        );
    }
    let differences = history::compare(&baseline.report, report);
    if differences.is_empty() {
        ui.label("The two runs share no flow to compare.");
        return;
    }
    egui::Grid::new("compare-table")
        .striped(true)
        .num_columns(5)
        .min_col_width(110.0)
        .show(ui, |ui| {
            for head in [
                "Flow",
                "Measure",
                baseline.label.as_str(),
                "this run",
                "change",
            ] {
                ui.label(RichText::new(head).strong());
            }
            ui.end_row();
            for d in &differences {
                // (measure, values, whether higher is better, scale, decimals shown)
                let mut rows = vec![
                    ("goodput (req/s)", d.goodput_rps, true, 1.0, 1),
                    ("p99 latency (ms)", d.p99_ms, false, 1.0, 1),
                    ("p99 until done (ms)", d.settle_p99_ms, false, 1.0, 1),
                ];
                if let Some(seen) = d.seen_p99_ms {
                    rows.push(("p99 until seen, polling (ms)", seen, false, 1.0, 1));
                }
                rows.push((
                    "unsettled at end",
                    (d.unsettled.0 as f64, d.unsettled.1 as f64),
                    false,
                    1.0,
                    0,
                ));
                rows.push(("errors (%)", d.error_rate, false, 100.0, 1));
                if let Some(rate) = d.compensation_rate {
                    rows.push(("compensated (%)", rate, false, 100.0, 2));
                }
                // The flow's name (the id on hover); a flow since removed from the design keeps its id.
                let flow_name = design
                    .flow(d.flow.as_str())
                    .map_or(d.flow.as_str(), |f| f.display_name());
                for (measure, (before, after), higher_is_better, scale, decimals) in rows {
                    ui.label(flow_name).on_hover_text(d.flow.as_str());
                    ui.label(measure);
                    ui.label(format!("{:.decimals$}", before * scale));
                    ui.label(format!("{:.decimals$}", after * scale));
                    let change = after - before;
                    let better = if higher_is_better {
                        change > 0.0
                    } else {
                        change < 0.0
                    };
                    let text = if before.abs() > f64::EPSILON {
                        format!(
                            "{:+.decimals$} ({:+.0}%)",
                            change * scale,
                            change / before * 100.0
                        )
                    } else {
                        format!("{:+.decimals$}", change * scale)
                    };
                    let color = if change.abs() < 1e-9 {
                        ui.visuals().text_color()
                    } else if better {
                        GREEN
                    } else {
                        RED
                    };
                    ui.colored_label(color, text);
                    ui.end_row();
                }
            }
        });
    let queues = history::compare_async(&baseline.report, report);
    if queues.is_empty() {
        return;
    }
    ui.add_space(8.0);
    ui.label(RichText::new("What the async calls cost: messages waiting and their lag").strong())
        .on_hover_text(
            "An async call answers the caller at once; its work waits in the consumer's queue. The backlog is \
             the most messages waiting at once, the lag how long the slowest 1% waited.",
        );
    let shown = |value: Option<String>| value.unwrap_or_else(|| "-".to_owned());
    egui::Grid::new("compare-async-table")
        .striped(true)
        .num_columns(5)
        .min_col_width(110.0)
        .show(ui, |ui| {
            for head in ["Call", "Measure", baseline.label.as_str(), "this run"] {
                ui.label(RichText::new(head).strong());
            }
            ui.end_row();
            for q in &queues {
                ui.label(q.edge.as_str());
                ui.label("max backlog");
                ui.label(shown(q.max_backlog.0.map(|b| b.to_string())));
                ui.label(shown(q.max_backlog.1.map(|b| b.to_string())));
                ui.end_row();
                ui.label(q.edge.as_str());
                ui.label("lag p99 (ms)");
                ui.label(shown(q.lag_p99_ms.0.map(|l| format!("{l:.1}"))));
                ui.label(shown(q.lag_p99_ms.1.map(|l| format!("{l:.1}"))));
                ui.end_row();
            }
        });
}

#[cfg(test)]
mod tests {
    #[test]
    fn axis_marks_show_the_decimals_their_step_needs() {
        assert_eq!(super::axis_label(0.5, 0.5), "0.5");
        assert_eq!(super::axis_label(0.25, 0.05), "0.25");
        assert_eq!(super::axis_label(20.0, 20.0), "20");
        assert_eq!(super::axis_label(1500.0, 500.0), "1500");
        assert_eq!(super::axis_label(-1e-12, 0.2), "0.0");
        assert_eq!(super::axis_label(0.1, 0.1), "0.1");
    }

    use super::*;

    #[test]
    fn the_charts_png_is_the_region_of_the_screenshot_in_pixels() {
        let mut image = egui::ColorImage::filled([40, 30], Color32::WHITE);
        // A red block where the "charts" are, at 2 pixels per point: points (5, 5)-(10, 10).
        for y in 10..20 {
            for x in 10..20 {
                image.pixels[y * 40 + x] = Color32::RED;
            }
        }
        let rect = Rect::from_min_max(egui::pos2(5.0, 5.0), egui::pos2(10.0, 10.0));
        let png = png_of_region(&image, rect, 2.0).unwrap();
        let decoded = image::load_from_memory(&png).unwrap().to_rgba8();
        assert_eq!(decoded.dimensions(), (10, 10));
        assert!(decoded.pixels().all(|p| p.0 == [255, 0, 0, 255]));
        // Off screen: a clear error, not an empty image.
        let outside = Rect::from_min_max(egui::pos2(50.0, 50.0), egui::pos2(60.0, 60.0));
        assert!(png_of_region(&image, outside, 2.0).is_err());
    }

    #[test]
    fn an_axis_ends_on_a_mark_above_its_highest_value() {
        assert_eq!(nice_top(0.0), 1.0);
        assert_eq!(nice_top(3.7), 4.0);
        assert_eq!(nice_top(4.0), 5.0, "above, not on, the highest value");
        assert_eq!(nice_top(37.0), 40.0);
        assert_eq!(nice_top(812.0), 1000.0);
        assert!((nice_top(0.42) - 0.6).abs() < 1e-9, "marks every 0.2");
    }

    #[test]
    fn fault_labels_say_what_the_fault_does() {
        assert_eq!(fault_label(FaultKind::Slow, Some(5.0), None), "slow ×5");
        assert_eq!(
            fault_label(FaultKind::Errors, None, Some(0.25)),
            "errors 25%"
        );
        assert_eq!(fault_label(FaultKind::Hang, None, None), "hang");
    }
}

#[cfg(test)]
mod series_tests {
    use super::stretches;

    #[test]
    fn moments_without_answers_break_the_line_instead_of_joining_across() {
        // Answers until 2 s, none from 2.5 s to 3.5 s (a hang), answers again from 4 s.
        let moments = [
            (1.0, Some(10.0)),
            (1.5, Some(11.0)),
            (2.0, Some(12.0)),
            (2.5, None),
            (3.0, None),
            (3.5, None),
            (4.0, Some(300.0)),
            (4.5, Some(20.0)),
        ];
        let lines = stretches(moments.into_iter());
        assert_eq!(
            lines,
            vec![
                vec![[1.0, 10.0], [1.5, 11.0], [2.0, 12.0]],
                vec![[4.0, 300.0], [4.5, 20.0]]
            ]
        );
        // No point, and no segment between two points, lies inside the period without answers.
        for line in &lines {
            for pair in line.windows(2) {
                assert!(
                    !(pair[0][0] < 2.5 && pair[1][0] > 3.5),
                    "{pair:?} crosses the gap"
                );
            }
        }
    }
}

#[cfg(test)]
mod grid_tests {
    use super::*;

    #[test]
    fn a_minute_in_a_small_chart_is_marked_every_20_seconds() {
        let steps = nice_grid_steps(egui_plot::GridInput {
            bounds: (0.0, 63.0),
            base_step_size: 1.7,
        });
        assert_eq!(steps, [2.0, 5.0, 20.0]);
        let steps = nice_grid_steps(egui_plot::GridInput {
            bounds: (0.0, 70.0),
            base_step_size: 5.0,
        });
        assert_eq!(steps, [5.0, 20.0, 50.0]);
        // Degenerate input gives usable steps.
        let steps = nice_grid_steps(egui_plot::GridInput {
            bounds: (0.0, 0.0),
            base_step_size: 0.0,
        });
        assert!(steps.iter().all(|s| *s > 0.0));
    }
}
