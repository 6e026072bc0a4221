//! Design review in the app (File > Compare with…): the design compared with a file or a committed version of
//! itself, the review kept fresh as the design is edited, its marks on the canvas, and leaving it (Escape).

use super::*;
use crate::model::diff::DiffOptions;
use crate::ui::canvas::CompareMarks;
use crate::ui::changes::{CompareAction, Comparison, RevisionChoice};

/// Commits offered in the Compare with… window.
const REVISIONS_OFFERED: usize = 20;

impl SyncopateApp {
    /// Compares the open design with `old` (what `label` names) from now on: the canvas marks the changes and the
    /// Changes panel lists them.
    pub fn compare_with(&mut self, label: impl Into<String>, old: Design) {
        let label = label.into();
        tracing::info!(compared_with = %label, "comparison started");
        self.comparison = Some(Comparison {
            review: crate::review::review(
                (&label, &old),
                ("this design", self.document.design()),
                DiffOptions::default(),
            ),
            label,
            old,
            for_state: self.document.state_id(),
        });
        self.bottom_tab = BottomTab::Changes;
        // The marks of an earlier comparison go; the new ones are drawn from this review.
        self.canvas.set_compare(None);
        self.refresh_comparison();
    }

    /// The comparison on screen.
    pub fn comparison(&self) -> Option<&Comparison> {
        self.comparison.as_ref()
    }

    /// Stops comparing.
    pub fn leave_comparison(&mut self) {
        self.comparison = None;
        self.canvas.set_compare(None);
        if self.bottom_tab == BottomTab::Changes {
            self.bottom_tab = BottomTab::Warnings;
        }
    }

    /// Opens the Compare with… window; git lists the commits that touched the open file on a thread of its own.
    pub fn open_compare_window(&mut self, ctx: &egui::Context) {
        self.compare_window.open = true;
        self.compare_window.revisions = None;
        let Some(path) = self.document.path().map(std::path::Path::to_path_buf) else {
            self.compare_window.revisions = Some(Err(
                "The design is not saved in a file yet, so it has no committed versions."
                    .to_owned(),
            ));
            return;
        };
        self.in_background(ctx, move || {
            Background::Revisions(
                crate::git::commits_of(&path, REVISIONS_OFFERED)
                    .map(|commits| {
                        commits
                            .into_iter()
                            .map(|c| RevisionChoice {
                                label: format!("{}  {}  {}", c.short, c.date, c.subject),
                                hash: c.hash,
                            })
                            .collect()
                    })
                    .map_err(|why| format!("No git history for this file: {why}")),
            )
        });
    }

    /// Runs `work` (git, a file read) on a thread of its own and hands its message to the next frame.
    fn in_background(
        &self,
        ctx: &egui::Context,
        work: impl FnOnce() -> Background + Send + 'static,
    ) {
        let tx = self.background_tx.clone();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("syncopate-compare".to_owned())
            .spawn(move || {
                // The window may have closed meanwhile; then nobody waits for the answer.
                let _ = tx.send(work());
                ctx.request_repaint();
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "cannot start a thread to read the design to compare with");
        }
    }

    /// A design to compare with was read: compare, or say why not.
    pub(super) fn compared(&mut self, label: String, read: Result<Design, String>) {
        match read {
            Ok(old) => self.compare_with(label, old),
            Err(why) => self.notice = Some(Notice::Error(why)),
        }
    }

    /// The Compare with… window's state.
    pub fn compare_window(&self) -> &crate::ui::changes::CompareWindow {
        &self.compare_window
    }

    /// Recomputes the review after an edit, and hands the canvas its marks (only then: not every frame).
    pub(super) fn refresh_comparison(&mut self) {
        let state = self.document.state_id();
        let Some(comparison) = &mut self.comparison else {
            return;
        };
        let stale = comparison.for_state != state;
        if stale {
            comparison.review = crate::review::review(
                (&comparison.label, &comparison.old),
                ("this design", self.document.design()),
                DiffOptions::default(),
            );
            comparison.for_state = state;
        }
        if stale || self.canvas.compare_marks().is_none() {
            self.canvas.set_compare(Some(CompareMarks::new(
                &comparison.label,
                &comparison.review.structure,
                &comparison.old,
                self.document.design(),
            )));
        }
    }

    /// Escape leaves the comparison (unless a text field has the keyboard).
    pub(super) fn handle_compare_keys(&mut self, ctx: &egui::Context) {
        let editing_text = ctx.memory(|m| m.focused().is_some());
        if self.comparison.is_some()
            && !editing_text
            && !self.compare_window.open
            && ctx.input(|i| i.key_pressed(egui::Key::Escape))
        {
            self.leave_comparison();
        }
    }

    pub(super) fn compare_action(&mut self, ctx: &egui::Context, action: CompareAction) {
        match action {
            CompareAction::ChooseFile => {
                let dialog = rfd::AsyncFileDialog::new()
                    .set_title("Compare with design")
                    .add_filter("Syncopate design", &["syncopate"]);
                // The file is read on the dialog's thread, as imports are.
                self.pick_path(ctx, dialog, files::PickKind::OpenFile, |path| {
                    let name = path.file_name().map_or_else(
                        || path.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    );
                    Background::Compared(
                        name,
                        Box::new(crate::model::load_file(&path).map_err(|e| e.to_string())),
                    )
                });
            }
            CompareAction::Revision(revision) => {
                let Some(path) = self.document.path().map(std::path::Path::to_path_buf) else {
                    return;
                };
                self.in_background(ctx, move || {
                    let short: String = revision.hash.chars().take(7).collect();
                    Background::Compared(
                        format!("commit {short}"),
                        Box::new(crate::git::load_file_at(&path, &revision.hash)),
                    )
                });
            }
            CompareAction::Select(subject) => self.reveal(&subject),
            CompareAction::ShowGhost(subject) => self.canvas.center_on_ghost(&subject),
            CompareAction::Leave => self.leave_comparison(),
        }
    }
}
