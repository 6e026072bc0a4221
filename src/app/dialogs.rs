//! The app's own windows: the unsaved-changes prompt, the crash-recovery offer, About and the keyboard shortcuts.

use super::*;

impl SyncopateApp {
    /// The "unsaved changes" dialog.
    pub(super) fn confirm_dialog(&mut self, ctx: &egui::Context) {
        let Some(action) = self.confirm.clone() else {
            return;
        };
        let what = match action {
            Pending::New => "starting a new design",
            Pending::AskOpen | Pending::Open(_) | Pending::OpenSample(_) => {
                "opening another design"
            }
            Pending::AskImport(_) => "importing a new design",
            Pending::Quit => "quitting",
        };
        let message = format!(
            "{} has unsaved changes. Save them before {what}?",
            self.document.title()
        );
        let answer = choice_dialog(
            ctx,
            "Unsaved changes",
            &message,
            &["Save", "Discard changes", "Cancel"],
        );
        match answer {
            Some(0) => {
                self.confirm = None;
                match self.document.path().map(ToOwned::to_owned) {
                    Some(path) => {
                        self.save_as(path);
                        if !self.document.is_dirty() {
                            self.perform(ctx, action);
                        }
                    }
                    // Untitled: choose where to save; the user repeats the action afterwards.
                    None => self.ask_save_path(ctx),
                }
            }
            Some(1) => {
                self.confirm = None;
                self.perform(ctx, action);
            }
            Some(_) => self.confirm = None,
            None => {}
        }
    }

    pub(super) fn recovery_dialog(&mut self, ctx: &egui::Context) {
        let Some(recovery) = &self.recovery else {
            return;
        };
        if recovery.later {
            return;
        }
        // The design's own name first, then its file's name and folder on lines of their own: a long path
        // wrapped mid-word made the prompt hard to read.
        let file = recovery.path.as_ref().map_or_else(
            || "never saved to a file".to_owned(),
            |p| {
                let name = p.file_name().map_or_else(
                    || p.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                let folder = p
                    .parent()
                    .map(|f| f.display().to_string())
                    .unwrap_or_default();
                format!("file {name}\nin {folder}")
            },
        );
        let message = format!(
            "Syncopate did not close normally last time. Unsaved changes to the design \u{201c}{}\u{201d} ({} services) were kept:\n{file}\n\nRestore opens them in place of the design shown now; Later keeps them (File > Restore Unsaved Work…); Discard deletes them.",
            recovery.design.name,
            recovery.design.services.len()
        );
        let answer = choice_dialog(
            ctx,
            "Restore unsaved work?",
            &message,
            &["Restore", "Later", "Discard"],
        );
        match answer {
            Some(0) => {
                if let Some(recovery) = self.recovery.take() {
                    tracing::info!(
                        services = recovery.design.services.len(),
                        path = ?recovery.path,
                        "restored unsaved work"
                    );
                    self.replace_document(Document::recovered(recovery.design, recovery.path));
                    // The restored work is what the user came back for: no welcome screen over it.
                    self.show_welcome = false;
                }
            }
            Some(1) => self.defer_recovery(),
            Some(_) => {
                tracing::info!("discarded unsaved work from the previous run");
                self.recovery = None;
                self.autosave.discard();
            }
            None => {}
        }
    }

    /// Looks for unsaved work a previous run left, and offers it (the prompt), or keeps it waiting when the app
    /// was started on another file.
    pub(super) fn offer_recovery(&mut self) {
        self.recovery = self.autosave.find();
        // Started on another file: the prompt waits (File > Restore Unsaved Work…) rather than cover it.
        // Paths compared as files (a relative and an absolute path to one file are the same file).
        let same_file = |a: &std::path::Path, b: &std::path::Path| {
            a == b
                || matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(a), Ok(b)) if a == b)
        };
        if let Some(recovery) = &mut self.recovery
            && let Some(open) = self.document.path()
            && recovery
                .path
                .as_deref()
                .is_none_or(|kept| !same_file(open, kept))
        {
            recovery.later = true;
            self.notice = Some(Notice::Info(format!(
                "Unsaved work on \u{201c}{}\u{201d} from last time is kept: File > Restore Unsaved Work…",
                recovery.design.name
            )));
        }
        if let Some(recovery) = &self.recovery {
            tracing::info!(
                services = recovery.design.services.len(),
                path = ?recovery.path,
                "recovery offered"
            );
        }
    }

    /// Hides the restore prompt, keeping the unsaved work for File > Restore Unsaved Work….
    pub(super) fn defer_recovery(&mut self) {
        if let Some(recovery) = &mut self.recovery {
            recovery.later = true;
            tracing::info!("restoring unsaved work put off");
        }
    }

    /// Shows the restore prompt again (File > Restore Unsaved Work…).
    pub fn offer_recovery_again(&mut self) {
        if let Some(recovery) = &mut self.recovery {
            recovery.later = false;
        }
    }

    pub(super) fn about_window(&mut self, ctx: &egui::Context) {
        let mut open = self.show_about;
        egui::Window::new("About Syncopate")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                ui.heading(format!("Syncopate {}", env!("CARGO_PKG_VERSION")));
                ui.label(env!("CARGO_PKG_DESCRIPTION"));
                ui.label(format!("Licence: {}", env!("CARGO_PKG_LICENSE")));
                ui.label(
                    "Designs are plain .syncopate JSON files: readable, diffable, and checked with \
                     `syncopate check FILE`.",
                );
                if let Some(dir) = crate::logging::log_dir() {
                    ui.label(format!(
                        "Log files (one a day; attach the latest to a bug report): {}",
                        dir.display()
                    ));
                }
            });
        self.show_about = open;
    }

    pub(super) fn help_window(&mut self, ctx: &egui::Context) {
        let mut open = self.show_help;
        egui::Window::new("Keyboard shortcuts").open(&mut open).show(ctx, |ui| {
            egui::Grid::new("shortcuts").num_columns(2).striped(true).show(ui, |ui| {
                let command = shortcut_key();
                for (keys, what) in [
                    (format!("{command}+N"), "New design"),
                    (format!("{command}+O"), "Open a design"),
                    (format!("{command}+S"), "Save"),
                    (format!("{command}+Shift+S"), "Save as"),
                    (format!("{command}+Z"), "Undo"),
                    (format!("{command}+Shift+Z / {command}+Y"), "Redo"),
                    ("Delete / Backspace".to_owned(), "Delete the selection (services take their calls)"),
                    ("F".to_owned(), "Fit the design to the view"),
                    (format!("{command}+F"), "Find a service by name or id (Enter selects and centres it)"),
                    ("Double-click the canvas".to_owned(), "Add a service of the chosen kind"),
                    ("Connect + drag".to_owned(), "Draw a call from one service to another"),
                    ("Shift+click".to_owned(), "Add to the selection"),
                    ("Wheel or pinch / drag the background".to_owned(), "Zoom around the pointer / pan"),
                ] {
                    ui.label(keys);
                    ui.label(what);
                    ui.end_row();
                }
            });
            ui.separator();
            // An installed app has no docs folder: point at what it has.
            ui.label(
                "Each warning explains its trade-off and suggests a change (open a row in the Warnings tab); \
                 `syncopate check FILE` lists them on the command line, and `syncopate --help` shows every command.",
            );
        });
        self.show_help = open;
    }
}

/// A centred modal-style window with a message and a row of buttons; returns the index of the button clicked.
pub(super) fn choice_dialog(
    ctx: &egui::Context,
    title: &str,
    message: &str,
    buttons: &[&str],
) -> Option<usize> {
    let mut answer = None;
    egui::Window::new(title)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
        .show(ctx, |ui| {
            ui.label(message);
            ui.horizontal(|ui| {
                for (index, button) in buttons.iter().enumerate() {
                    // The first choice is the default, shown selected and taken by Enter.
                    let mut response = ui.add(egui::Button::new(*button).selected(index == 0));
                    if index == 0 {
                        response = response.on_hover_text("Enter");
                    }
                    if response.clicked() {
                        answer = Some(index);
                    }
                }
            });
        });
    let nothing_focused = ctx.memory(|m| m.focused().is_none());
    if answer.is_none()
        && nothing_focused
        && ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Enter))
    {
        answer = Some(0);
    }
    answer
}
