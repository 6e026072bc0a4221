//! The warnings panel: the findings of the trade-off rules, most severe first, each with its trade-off, its
//! suggestion and, where the change is mechanical, a button that applies it.

use egui::{Color32, RichText};

use std::collections::HashMap;

use crate::model::{CallMode, Design};
use crate::rules::{Analysis, Finding, Fix, Report, Severity, Subject, format_ms};
use crate::sim::{LatencyStats, SimReport};

/// A sync call's latency as the analysis estimates it and as the last run measured it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HopLatency {
    /// The analysis' mean response time of the callee, in milliseconds (in the flow that uses the call most).
    pub estimated_ms: f64,
    /// From the call to its successful answer, in the simulation.
    pub simulated: LatencyStats,
    /// Calls made in the measured period.
    pub calls: u64,
    /// Of those, calls that failed.
    pub failures: u64,
}

/// The estimated and simulated latency of every sync call of `design` that the run made.
pub fn hop_latencies(
    design: &Design,
    analysis: &Analysis,
    run: &SimReport,
) -> HashMap<String, HopLatency> {
    let topology = crate::rules::Topology::new(design);
    design
        .edges
        .iter()
        .enumerate()
        .filter(|(_, e)| e.mode == CallMode::Sync)
        .filter_map(|(index, edge)| {
            let measured = run.edges.get(edge.id.as_str())?;
            let to = *topology.service_index.get(edge.to.as_str())?;
            // The flow that sends the most calls over this edge gives the estimate.
            let flow = (0..analysis.flows.len()).max_by(|&a, &b| {
                let rate = |f: usize| {
                    analysis.flows[f]
                        .calls_rps
                        .get(index)
                        .copied()
                        .unwrap_or(0.0)
                };
                rate(a).total_cmp(&rate(b))
            })?;
            let response_ms = analysis.response_ms.get(flow)?.get(to).copied()?;
            // Failed tries that the call retries come before its answer.
            let estimated_ms = crate::rules::analysis::successful_call_mean_ms(
                edge,
                response_ms,
                design.services[to].error_rate,
            );
            Some((
                edge.id.to_string(),
                HopLatency {
                    estimated_ms,
                    simulated: measured.latency_ms,
                    calls: measured.calls,
                    failures: measured.failures,
                },
            ))
        })
        .collect()
}

/// The short text of a hop's latencies, e.g. "sim p50 12 ms · p99 40 ms · est. 10 ms".
pub fn hop_text(hop: &HopLatency) -> String {
    if hop.calls == hop.failures {
        return format!(
            "sim: every call failed · est. {}",
            format_ms(hop.estimated_ms)
        );
    }
    format!(
        "sim p50 {} · p99 {} · est. {}",
        format_ms(hop.simulated.p50),
        format_ms(hop.simulated.p99),
        format_ms(hop.estimated_ms)
    )
}

/// What the user asked for in the panel this frame.
#[derive(Debug, Clone, PartialEq)]
pub enum WarningAction {
    /// Select this subject on the canvas and centre the view on it.
    Reveal(Subject),
    /// Select this subject on the canvas; the view stays where it is (the user opened a row to read it, not to
    /// move the canvas).
    Select(Subject),
    /// Apply this fix as one undoable edit.
    ApplyFix(Fix),
}

/// The colour of a severity, readable on dark and light backgrounds.
pub fn severity_color(severity: Severity) -> Color32 {
    match severity {
        Severity::Error => Color32::from_rgb(229, 57, 53),
        Severity::Warning => Color32::from_rgb(251, 140, 0),
        Severity::Info => Color32::from_rgb(30, 136, 229),
    }
}

/// The colour of text about a severity on the panel's background (a contrast of 4.5 or more, tested): on a light
/// theme darker shades, since the badges' bright orange read at 2.2 against it.
pub fn severity_text_color(severity: Severity, dark: bool) -> Color32 {
    match (severity, dark) {
        // The badges' red is 4.1 against the dark panel: a lighter red for text.
        (Severity::Error, true) => Color32::from_rgb(239, 83, 80),
        (_, true) => severity_color(severity),
        (severity, false) => match severity {
            Severity::Error => Color32::from_rgb(183, 28, 28),
            Severity::Warning => Color32::from_rgb(166, 74, 0),
            Severity::Info => Color32::from_rgb(21, 101, 192),
        },
    }
}

/// A one-character icon of a severity.
pub fn severity_icon(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "⛔",
        Severity::Warning => "⚠",
        Severity::Info => "ℹ",
    }
}

/// The panel's heading, e.g. "Warnings: 1 error, 3 warnings, 2 info".
pub fn summary(report: &Report) -> String {
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let info = report.count(Severity::Info);
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    format!(
        "Warnings: {}, {}, {info} info",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

/// Seconds the fix buttons wait after a fix: the rows move up under the pointer, and a second click meant for
/// the applied fix would apply the next row's unseen.
const FIX_HOLD_S: f64 = 0.8;

/// Where the time of the last applied fix is kept (egui's memory, shared with the app).
fn fix_applied_id() -> egui::Id {
    egui::Id::new("syncopate-fix-applied-at")
}

/// Notes that a fix was applied now (the fix buttons wait [`FIX_HOLD_S`]).
pub fn note_fix_applied(ctx: &egui::Context) {
    let now = ctx.input(|i| i.time);
    ctx.data_mut(|d| d.insert_temp(fix_applied_id(), now));
}

/// Seconds since the last fix was applied, if one was.
fn since_fix_applied(ctx: &egui::Context) -> Option<f64> {
    let at: Option<f64> = ctx.data(|d| d.get_temp(fix_applied_id()));
    at.map(|at| ctx.input(|i| i.time) - at)
}

/// Shows the findings and, after a run of this design, the simulated latency of each call beside the estimate;
/// returns what the user clicked.
pub fn show(
    ui: &mut egui::Ui,
    report: &Report,
    design: &Design,
    hops: Option<&HashMap<String, HopLatency>>,
) -> Vec<WarningAction> {
    let mut actions = Vec::new();
    ui.horizontal(|ui| {
        ui.heading(summary(report));
    });
    ui.separator();
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            if let Some(hops) = hops.filter(|h| !h.is_empty()) {
                hop_table(ui, design, hops, &mut actions);
            }
            if report.findings.is_empty() {
                ui.label("No trade-off warnings: this design follows every rule.");
            }
            // A large design has thousands of findings, and laying out each one's text costs time and memory
            // (some 16 KB a row): only the rows in view are laid out. Each row's height (with its spacing) is
            // remembered from the last frame it was shown; a row out of view only takes up that space, or, never
            // shown yet, the height of a closed row.
            let heights_id = ui.id().with(("finding heights", report.findings.len()));
            let mut heights: Vec<f32> = ui.data(|d| d.get_temp(heights_id)).unwrap_or_default();
            heights.resize(report.findings.len(), 0.0);
            let closed_row = ui.spacing().interact_size.y + ui.spacing().item_spacing.y;
            let visible = ui.clip_rect().y_range();
            for (index, finding) in report.findings.iter().enumerate() {
                let top = ui.cursor().top();
                let height = if heights[index] > 0.0 {
                    heights[index]
                } else {
                    closed_row
                };
                if top + height < visible.min || top > visible.max {
                    ui.add_space(height);
                    continue;
                }
                show_finding(ui, index, finding, &mut actions);
                heights[index] = ui.cursor().top() - top;
            }
            ui.data_mut(|d| d.insert_temp(heights_id, heights));
        });
    actions
}

/// Each sync call's simulated latency beside the analysis' estimate.
fn hop_table(
    ui: &mut egui::Ui,
    design: &Design,
    hops: &HashMap<String, HopLatency>,
    actions: &mut Vec<WarningAction>,
) {
    egui::CollapsingHeader::new("⏱ Simulated latency per call, beside the estimate (last run)")
        .id_salt("hop-latencies")
        .default_open(true)
        .show(ui, |ui| {
            egui::Grid::new("hop-table")
                .striped(true)
                .num_columns(6)
                .show(ui, |ui| {
                    for head in [
                        "Call",
                        "Estimated mean",
                        "Simulated p50",
                        "Simulated p99",
                        "Calls",
                        "Failed",
                    ] {
                        ui.label(RichText::new(head).strong());
                    }
                    ui.end_row();
                    for edge in &design.edges {
                        let Some(hop) = hops.get(edge.id.as_str()) else {
                            continue;
                        };
                        if ui
                            .link(design.call_name(edge))
                            .on_hover_text(format!("{}: show on canvas", edge.id))
                            .clicked()
                        {
                            actions.push(WarningAction::Reveal(Subject::Edge(edge.id.to_string())));
                        }
                        ui.label(format_ms(hop.estimated_ms));
                        let answered = hop.calls > hop.failures;
                        ui.label(if answered {
                            format_ms(hop.simulated.p50)
                        } else {
                            "–".to_owned()
                        });
                        let p99 = if answered {
                            format_ms(hop.simulated.p99)
                        } else {
                            "–".to_owned()
                        };
                        // Far above the estimate: the queueing or fault the analysis cannot see.
                        if answered && hop.simulated.p99 > 3.0 * hop.estimated_ms.max(1.0) {
                            ui.colored_label(
                                severity_text_color(Severity::Warning, ui.visuals().dark_mode),
                                p99,
                            );
                        } else {
                            ui.label(p99);
                        }
                        ui.label(hop.calls.to_string());
                        if hop.failures > 0 {
                            ui.colored_label(
                                severity_text_color(Severity::Error, ui.visuals().dark_mode),
                                hop.failures.to_string(),
                            );
                        } else {
                            ui.label("0");
                        }
                        ui.end_row();
                    }
                });
        });
    ui.separator();
}

fn show_finding(
    ui: &mut egui::Ui,
    index: usize,
    finding: &Finding,
    actions: &mut Vec<WarningAction>,
) {
    let color = severity_text_color(finding.severity, ui.visuals().dark_mode);
    let title = RichText::new(format!(
        "{} {}: {}",
        severity_icon(finding.severity),
        finding.rule,
        finding.message
    ))
    .color(color);
    // A header of its own rather than egui's CollapsingHeader, whose one-line title is cut at the panel's edge:
    // this one wraps, like the explanation under it.
    let id = ui.make_persistent_id(("finding", index, finding.rule));
    let mut title_clicked = false;
    let mut header =
        egui::collapsing_header::CollapsingState::load_with_default_open(ui.ctx(), id, false)
            .show_header(ui, |ui| {
                title_clicked = ui
                    .add(egui::Label::new(title).wrap().sense(egui::Sense::click()))
                    .clicked();
            });
    if title_clicked {
        header.toggle();
    }
    header.body(|ui| {
        ui.add(egui::Label::new(RichText::new(finding.tradeoff).italics()).wrap());
        ui.add(egui::Label::new(format!("Suggestion: {}", finding.suggestion)).wrap());
        ui.horizontal(|ui| {
            if let Some(subject) = finding.subjects.first()
                && ui
                    .button("Show on canvas")
                    .on_hover_text("Select it and centre the view on it")
                    .clicked()
            {
                actions.push(WarningAction::Reveal(subject.clone()));
            }
            for fix in finding.fix.iter().chain(&finding.other_fixes) {
                let since_fix_s = since_fix_applied(ui.ctx());
                let held = since_fix_s.is_some_and(|s| s < FIX_HOLD_S);
                if held {
                    ui.ctx()
                        .request_repaint_after(std::time::Duration::from_secs_f64(FIX_HOLD_S));
                }
                if ui
                    .add_enabled(!held, egui::Button::new(fix.label()))
                    .on_hover_text("Apply this change as one undoable edit")
                    .on_disabled_hover_text("A fix was just applied and the list moved: a moment")
                    .clicked()
                {
                    actions.push(WarningAction::ApplyFix(fix.clone()));
                }
            }
        });
    });
    if title_clicked && let Some(subject) = finding.subjects.first() {
        actions.push(WarningAction::Select(subject.clone()));
    }
}

#[cfg(test)]
mod severity_colour_tests {
    use super::*;

    #[test]
    fn severity_text_reads_on_the_light_and_the_dark_panel() {
        for dark in [false, true] {
            let panel = if dark {
                egui::Visuals::dark().panel_fill
            } else {
                egui::Visuals::light().panel_fill
            };
            for severity in [Severity::Error, Severity::Warning, Severity::Info] {
                let ratio = crate::ui::contrast(severity_text_color(severity, dark), panel);
                assert!(ratio >= 4.5, "{severity:?} on the {dark} panel: {ratio:.2}");
            }
        }
    }
}
