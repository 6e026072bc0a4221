//! The warnings panel: the findings of the trade-off rules, most severe first, each with its trade-off, its
//! suggestion and, where the change is mechanical, a button that applies it.

use egui::{Color32, RichText};

use crate::rules::{Finding, Fix, Report, Severity, Subject};

/// What the user asked for in the panel this frame.
#[derive(Debug, Clone, PartialEq)]
pub enum WarningAction {
    /// Select this subject on the canvas and centre the view on it.
    Reveal(Subject),
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

/// Shows the findings; returns what the user clicked.
pub fn show(ui: &mut egui::Ui, report: &Report) -> Vec<WarningAction> {
    let mut actions = Vec::new();
    ui.horizontal(|ui| {
        ui.heading(summary(report));
    });
    ui.separator();
    if report.findings.is_empty() {
        ui.label("No trade-off warnings: this design follows every rule.");
        return actions;
    }
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for (index, finding) in report.findings.iter().enumerate() {
                show_finding(ui, index, finding, &mut actions);
            }
        });
    actions
}

fn show_finding(
    ui: &mut egui::Ui,
    index: usize,
    finding: &Finding,
    actions: &mut Vec<WarningAction>,
) {
    let color = severity_color(finding.severity);
    let title = RichText::new(format!(
        "{} {}: {}",
        severity_icon(finding.severity),
        finding.rule,
        finding.message
    ))
    .color(color);
    let response = egui::CollapsingHeader::new(title)
        .id_salt(("finding", index, finding.rule))
        .show(ui, |ui| {
            ui.label(RichText::new(finding.tradeoff).italics());
            ui.label(format!("Suggestion: {}", finding.suggestion));
            ui.horizontal(|ui| {
                if let Some(subject) = finding.subjects.first()
                    && ui
                        .button("Show on canvas")
                        .on_hover_text("Select it and centre the view on it")
                        .clicked()
                {
                    actions.push(WarningAction::Reveal(subject.clone()));
                }
                if let Some(fix) = &finding.fix
                    && ui
                        .button(fix.label())
                        .on_hover_text("Apply this change as one undoable edit")
                        .clicked()
                {
                    actions.push(WarningAction::ApplyFix(fix.clone()));
                }
            });
        });
    if response.header_response.clicked()
        && let Some(subject) = finding.subjects.first()
    {
        actions.push(WarningAction::Reveal(subject.clone()));
    }
}
