//! Design review in the app: the Compare with… window (a file, or a git revision of the open file), the Changes
//! panel that lists what changed (click to select), and the inspector's old and new values of a changed item.

use crate::model::Design;
use crate::model::diff::{FieldChange, ItemChanges};
use crate::review::Review;
use crate::rules::Subject;
use crate::ui::canvas::{ADDED_COLOR, CHANGED_COLOR, REMOVED_COLOR, Selection};

/// The design the open one is compared with, and the review of the change, kept fresh as the design is edited.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// What it is compared with ("HEAD~1 (3f2a9c1)", a file's name).
    pub label: String,
    /// The design compared with.
    pub old: Design,
    /// The review of the change from `old` to the open design.
    pub review: Review,
    /// The document state the review was made for.
    pub for_state: u64,
}

/// One commit offered in the Compare with… window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionChoice {
    /// The commit to read the file at.
    pub hash: String,
    /// What the row says: short hash, date and subject.
    pub label: String,
}

/// The Compare with… window.
#[derive(Debug, Clone, Default)]
pub struct CompareWindow {
    /// Whether the window is open.
    pub open: bool,
    /// The last commits that touched the open file, or why there are none.
    pub revisions: Option<Result<Vec<RevisionChoice>, String>>,
}

/// What the user asked in the Compare with… window or the Changes panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompareAction {
    /// Pick a design file to compare with.
    ChooseFile,
    /// Compare with the open file as it was at this commit.
    Revision(RevisionChoice),
    /// Select this item of the design.
    Select(Subject),
    /// Bring a removed service's or call's ghost (by its old id) into view.
    ShowGhost(Subject),
    /// Leave the comparison.
    Leave,
}

impl CompareWindow {
    /// Shows the window when open.
    pub fn show(&mut self, ctx: &egui::Context) -> Option<CompareAction> {
        let mut action = None;
        let mut open = self.open;
        egui::Window::new("Compare with…")
            .open(&mut open)
            .collapsible(false)
            .resizable(true)
            .default_width(460.0)
            .show(ctx, |ui| {
                ui.label("What the design has changed since another version of it: added, removed and changed items on the canvas, their old values in the inspector, the list in the Changes panel.");
                ui.add_space(4.0);
                if ui
                    .button("A design file…")
                    .on_hover_text("Compare with another .syncopate file")
                    .clicked()
                {
                    action = Some(CompareAction::ChooseFile);
                }
                ui.separator();
                ui.strong("A committed version of this file");
                match &self.revisions {
                    None => {
                        ui.label("Looking for commits…");
                    }
                    Some(Err(why)) => {
                        ui.label(why);
                    }
                    Some(Ok(revisions)) if revisions.is_empty() => {
                        ui.label("No commit has touched this file yet.");
                    }
                    Some(Ok(revisions)) => {
                        egui::ScrollArea::vertical().max_height(320.0).show(ui, |ui| {
                            for revision in revisions {
                                if ui
                                    .selectable_label(false, &revision.label)
                                    .on_hover_text(&revision.hash)
                                    .clicked()
                                {
                                    action = Some(CompareAction::Revision(revision.clone()));
                                }
                            }
                        });
                    }
                }
            });
        self.open = open && action.is_none();
        action
    }
}

/// A kind of item in the panel: its name, its changes, and how to select one.
type Section<'a> = (&'static str, &'a ItemChanges, fn(String) -> Subject);

fn count(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// A changed field as the panel and inspector show it.
fn field_text(path: &str, change: &FieldChange) -> String {
    format!(
        "{path}: {} -> {}",
        value_text(&change[0]),
        value_text(&change[1])
    )
}

/// A field's value as shown: strings without quotes, `none` for no value.
fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "none".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The number of changed items, for the panel's tab.
pub fn change_count(review: &Review) -> usize {
    let s = &review.structure;
    s.services.count()
        + s.edges.count()
        + s.flows.count()
        + s.faults.count()
        + s.settings.changed.len()
}

/// The Changes panel: every added, removed and changed item, then the findings the change adds and resolves.
pub fn show(ui: &mut egui::Ui, comparison: &Comparison) -> Option<CompareAction> {
    let mut action = None;
    let review = &comparison.review;
    ui.horizontal(|ui| {
        ui.strong(format!("Compared with {}", comparison.label));
        ui.label(format!(
            "· {} · findings {} added, {} resolved",
            count(change_count(review), "change"),
            review.findings.added.len(),
            review.findings.resolved.len()
        ));
        if ui
            .button("Leave comparison")
            .on_hover_text("Stop comparing (Esc)")
            .clicked()
        {
            action = Some(CompareAction::Leave);
        }
    });
    ui.separator();
    if review.same {
        ui.label("No change: the design is the same (moves are not counted).");
        return action;
    }
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let s = &review.structure;
            let sections: [Section; 3] = [
                ("service", &s.services, Subject::Service),
                ("call", &s.edges, Subject::Edge),
                ("flow", &s.flows, Subject::Flow),
            ];
            for (kind, changes, subject) in sections {
                for id in &changes.added {
                    let text = egui::RichText::new(format!("+ {kind} {id}")).color(ADDED_COLOR);
                    if ui
                        .selectable_label(false, text)
                        .on_hover_text("Added: click to select")
                        .clicked()
                    {
                        action = Some(CompareAction::Select(subject(id.clone())));
                    }
                }
                for id in &changes.removed {
                    let text = egui::RichText::new(format!("- {kind} {id}")).color(REMOVED_COLOR);
                    if ui
                        .selectable_label(false, text)
                        .on_hover_text(
                            "Removed: drawn as a dashed ghost where it was; click to see it",
                        )
                        .clicked()
                    {
                        action = Some(CompareAction::ShowGhost(subject(id.clone())));
                    }
                }
                for (id, fields) in &changes.changed {
                    let list: Vec<String> = fields.iter().map(|(p, c)| field_text(p, c)).collect();
                    let text = egui::RichText::new(format!("~ {kind} {id}: {}", list.join("; ")))
                        .color(CHANGED_COLOR);
                    if ui
                        .add(egui::Button::selectable(false, text).truncate())
                        .on_hover_text(list.join("\n"))
                        .clicked()
                    {
                        action = Some(CompareAction::Select(subject(id.clone())));
                    }
                }
            }
            for id in &s.faults.added {
                ui.label(egui::RichText::new(format!("+ planned fault {id}")).color(ADDED_COLOR));
            }
            for id in &s.faults.removed {
                ui.label(egui::RichText::new(format!("- planned fault {id}")).color(REMOVED_COLOR));
            }
            for (id, fields) in &s.faults.changed {
                let list: Vec<String> = fields.iter().map(|(p, c)| field_text(p, c)).collect();
                ui.label(
                    egui::RichText::new(format!("~ planned fault {id}: {}", list.join("; ")))
                        .color(CHANGED_COLOR),
                );
            }
            for (path, change) in &s.settings.changed {
                ui.label(
                    egui::RichText::new(format!("~ setting {}", field_text(path, change)))
                        .color(CHANGED_COLOR),
                );
            }
            if !review.findings.added.is_empty() || !review.findings.resolved.is_empty() {
                ui.add_space(6.0);
                ui.strong("Findings");
                for finding in &review.findings.added {
                    ui.label(format!(
                        "new: {}[{}] {}",
                        finding.severity.as_str(),
                        finding.rule,
                        finding.message
                    ));
                }
                for finding in &review.findings.resolved {
                    ui.label(format!(
                        "resolved: {}[{}] {}",
                        finding.severity.as_str(),
                        finding.rule,
                        finding.message
                    ));
                }
            }
        });
    action
}

/// Above the inspector: the old and new values of the selected item when it changed, or that it is new.
pub fn inspector_section(ui: &mut egui::Ui, comparison: &Comparison, selection: &Selection) {
    let s = &comparison.review.structure;
    let (changes, id) = match (selection.services.as_slice(), selection.edges.as_slice()) {
        ([service], []) => (&s.services, service.as_str()),
        ([], [edge]) => (&s.edges, edge.as_str()),
        _ => return,
    };
    if changes.added.iter().any(|a| a == id) {
        ui.colored_label(ADDED_COLOR, format!("New since {}", comparison.label));
        ui.separator();
    } else if let Some(fields) = changes.changed.get(id) {
        egui::Frame::group(ui.style())
            .stroke(egui::Stroke::new(1.0, CHANGED_COLOR))
            .show(ui, |ui| {
                ui.colored_label(CHANGED_COLOR, format!("Changed since {}", comparison.label));
                egui::Grid::new("changed-fields")
                    .num_columns(3)
                    .striped(true)
                    .show(ui, |ui| {
                        ui.weak("field");
                        ui.weak("was");
                        ui.weak("now");
                        ui.end_row();
                        for (path, [old, new]) in fields {
                            ui.label(path);
                            ui.label(value_text(old));
                            ui.label(value_text(new));
                            ui.end_row();
                        }
                    });
            });
        ui.separator();
    }
}
