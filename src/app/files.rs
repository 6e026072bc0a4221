//! Files: open, save, new, import and export, each through a native dialog on a thread of its own, and the
//! unsaved-changes confirmation before anything would be lost.

use super::*;

impl SyncopateApp {
    /// The recent files, newest first.
    pub fn recent_files(&self) -> &[PathBuf] {
        self.recent.paths()
    }

    /// Saves to `path` and makes it the document's file.
    pub fn save_as(&mut self, path: PathBuf) {
        match self.document.save_as(&path) {
            Ok(()) => {
                tracing::info!(path = %path.display(), "saved design");
                self.recent.add(&path);
                self.notice = Some(Notice::Info(format!("Saved {}", path.display())));
            }
            Err(error) => self.notice = Some(Notice::Error(error.to_string())),
        }
    }

    /// Saves to the document's file, or asks where when it has none.
    pub(super) fn save(&mut self, ctx: &egui::Context) {
        match self.document.path().map(ToOwned::to_owned) {
            Some(path) => self.save_as(path),
            None => self.ask_save_path(ctx),
        }
    }

    /// Replaces the document with a new empty design.
    pub(super) fn new_design(&mut self) {
        self.notice = None;
        self.replace_document(Document::new(Design::new("Untitled design")));
    }

    /// Puts another document in place of the open one: its run stops, and the selection, the view and a
    /// comparison (which was of the other design) go.
    pub(super) fn replace_document(&mut self, document: Document) {
        // A design opened while the restore prompt waits is not covered by it: the prompt is put off, and said.
        if self.recovery.as_ref().is_some_and(|r| !r.later) {
            self.defer_recovery();
            self.notice = Some(Notice::Info(
                "Unsaved work from last time is kept: File > Restore Unsaved Work… offers it again"
                    .to_owned(),
            ));
        }
        self.document = document;
        self.stop_simulation();
        self.selection = Selection::default();
        self.canvas = Canvas::default();
        self.comparison = None;
    }

    /// Shows a native file dialog on its own thread; the picked path, turned into a message by `message`, comes
    /// back through the background channel.
    pub(super) fn pick_path(
        &self,
        ctx: &egui::Context,
        dialog: rfd::AsyncFileDialog,
        kind: PickKind,
        message: impl FnOnce(PathBuf) -> Background + Send + 'static,
    ) {
        let tx = self.background_tx.clone();
        let ctx = ctx.clone();
        // rfd answers "no file" when the user cancels and when no dialog could be shown; only its log tells.
        crate::logging::install_log_bridge();
        crate::logging::clear_dialog_failure();
        spawn_dialog(move || async move {
            let (picked, what) = match kind {
                PickKind::OpenFile => (dialog.pick_file().await, "a file to open"),
                PickKind::SaveFile => (dialog.save_file().await, "where to save"),
                PickKind::Folder => (dialog.pick_folder().await, "a folder"),
            };
            match picked {
                Some(file) => {
                    let _ = tx.send(message(file.path().to_owned()));
                }
                None => {
                    if let Some(why) = crate::logging::take_dialog_failure() {
                        let _ = tx.send(Background::DialogFailed(what, why));
                    }
                }
            }
            ctx.request_repaint();
        });
    }

    pub(super) fn ask_open_path(&self, ctx: &egui::Context) {
        let dialog = rfd::AsyncFileDialog::new()
            .set_title("Open design")
            .add_filter("Syncopate design", &["syncopate"]);
        self.pick_path(ctx, dialog, PickKind::OpenFile, Background::Open);
    }

    pub(super) fn ask_save_path(&self, ctx: &egui::Context) {
        let file_name = format!(
            "{}.syncopate",
            crate::model::ids::slugify_service_id(&self.document.design().name)
        );
        let dialog = rfd::AsyncFileDialog::new()
            .set_title("Save design as")
            .add_filter("Syncopate design", &["syncopate"])
            .set_file_name(file_name);
        self.pick_path(ctx, dialog, PickKind::SaveFile, |mut path| {
            if path.extension().is_none() {
                path.set_extension("syncopate");
            }
            Background::SaveAs(path)
        });
    }

    /// Carries out an action that replaces or closes the document, asking first when there are unsaved changes.
    pub fn request(&mut self, ctx: &egui::Context, action: Pending) {
        if self.document.is_dirty() {
            self.confirm = Some(action);
        } else {
            self.perform(ctx, action);
        }
    }

    /// The action waiting for the user's answer about unsaved changes.
    pub fn pending_confirmation(&self) -> Option<&Pending> {
        self.confirm.as_ref()
    }

    pub(super) fn perform(&mut self, ctx: &egui::Context, action: Pending) {
        match action {
            Pending::New => self.new_design(),
            Pending::AskOpen => self.ask_open_path(ctx),
            Pending::AskImport(source) => self.ask_import_path(ctx, source),
            Pending::Open(path) => self.open(path),
            Pending::OpenSample(index) => self.open_sample(index),
            Pending::Quit => {
                self.closing = true;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        }
    }

    /// Asks where to save a file (a diagram, a run's results, charts), then writes it on the dialog's thread.
    pub(super) fn ask_save_file(
        &self,
        ctx: &egui::Context,
        title: &str,
        bytes: Vec<u8>,
        file_name: String,
    ) {
        let dialog = rfd::AsyncFileDialog::new()
            .set_title(title)
            .set_file_name(file_name);
        self.pick_path(ctx, dialog, PickKind::SaveFile, move |path| {
            let written = crate::model::file::write_atomically(&path, &bytes);
            Background::SavedFile(path, written)
        });
    }

    /// Asks for a file to import, then imports it on the dialog's thread.
    pub(super) fn ask_import_path(&self, ctx: &egui::Context, source: crate::import::Source) {
        use crate::import::Source;
        let (what, extensions): (&str, &[&str]) = match source {
            Source::Compose => ("docker-compose file", &["yml", "yaml"]),
            Source::Kubernetes => ("Kubernetes manifests", &["yaml", "yml"]),
            Source::Zipkin => ("Zipkin v2 JSON", &["json"]),
            Source::Jaeger => ("Jaeger JSON", &["json"]),
            Source::Otlp => ("OTLP/JSON traces", &["json"]),
        };
        let dialog = rfd::AsyncFileDialog::new()
            .set_title(format!("Import {what}"))
            .add_filter(what, extensions)
            .add_filter("Any file", &["*"]);
        self.pick_path(ctx, dialog, PickKind::OpenFile, move |path| {
            Background::Imported(Box::new(crate::import::import_file(source, &path)))
        });
    }

    /// Replaces the document with an imported design (unsaved), and lists what the importer guessed; a failed
    /// import keeps the current design and says why.
    pub fn apply_import(
        &mut self,
        result: Result<crate::import::Imported, crate::import::ImportError>,
    ) {
        match result {
            Ok(imported) => {
                let design = &imported.design;
                self.notice = Some(Notice::Info(format!(
                    "Imported {} services, {} calls and {} flows; check the import notes, then save",
                    design.services.len(),
                    design.edges.len(),
                    design.flows.len()
                )));
                self.import_notes = Some((design.name.clone(), imported.notes));
                self.replace_document(Document::imported(imported.design));
            }
            Err(error) => self.notice = Some(Notice::Error(format!("Import failed: {error}"))),
        }
    }

    /// The notes of the last import still shown.
    pub fn import_notes(&self) -> Option<&[crate::import::Note]> {
        self.import_notes
            .as_ref()
            .map(|(_, notes)| notes.as_slice())
    }

    pub(super) fn import_notes_window(&mut self, ctx: &egui::Context) {
        let Some((name, notes)) = &self.import_notes else {
            return;
        };
        let mut open = true;
        egui::Window::new("Import notes")
            .open(&mut open)
            .default_size([560.0, 320.0])
            .show(ctx, |ui| {
                ui.label(format!(
                    "{name}: what the importer guessed or left out ({}). Check these before you rely on the design.",
                    notes.len()
                ));
                ui.separator();
                egui::ScrollArea::vertical().show(ui, |ui| {
                    for note in notes {
                        let (icon, color) = match note.kind {
                            crate::import::NoteKind::Guessed => ("?", ui.visuals().warn_fg_color),
                            crate::import::NoteKind::Skipped => ("−", ui.visuals().weak_text_color()),
                        };
                        ui.horizontal_wrapped(|ui| {
                            ui.colored_label(color, icon);
                            ui.label(note.to_string());
                        });
                    }
                });
            });
        if !open {
            self.import_notes = None;
        }
    }

    /// Asks for a folder, then writes the exported files into it.
    pub(super) fn ask_export_folder(
        &self,
        ctx: &egui::Context,
        files: Vec<crate::export::ExportedFile>,
    ) {
        let dialog = rfd::AsyncFileDialog::new().set_title("Export configuration into folder");
        // The files are written on the dialog's thread, like imports are read there: no file I/O in a frame.
        self.pick_path(ctx, dialog, PickKind::Folder, move |folder| {
            let written = crate::export::write_files(&folder, &files).map(|paths| paths.len());
            Background::Exported(folder, written)
        });
    }

    /// Says how writing exported files into `folder` went.
    pub fn report_export(
        &mut self,
        folder: &std::path::Path,
        written: Result<usize, crate::model::SaveError>,
    ) {
        self.notice = Some(match written {
            Ok(count) => Notice::Info(format!(
                "Exported {} into {}",
                match count {
                    1 => "1 file".to_owned(),
                    n => format!("{n} files"),
                },
                folder.display()
            )),
            Err(error) => Notice::Error(format!("Export failed: {error}")),
        });
    }

    /// The Export window (for tests).
    pub fn export_window(&mut self) -> &mut crate::ui::export::ExportWindow {
        &mut self.export
    }
}

/// What the window says when no file dialog could be shown to pick `what`.
pub(super) fn dialog_failure_message(what: &str, why: &str) -> String {
    let how = if cfg!(target_os = "linux") {
        "install xdg-desktop-portal or zenity for one; "
    } else {
        ""
    };
    format!(
        "No file dialog could be shown to pick {what}, so nothing was opened or written ({why}). {how}the command \
         line works without one (syncopate --help)."
    )
}

/// What a native file dialog asks for.
#[derive(Debug, Clone, Copy)]
pub(super) enum PickKind {
    OpenFile,
    SaveFile,
    Folder,
}

/// Runs a native file dialog on its own thread with a small async runtime, so the UI never blocks on it.
pub(super) fn spawn_dialog<F, Fut>(make: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let spawned = std::thread::Builder::new()
        .name("syncopate-file-dialog".to_owned())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(make()),
                Err(error) => eprintln!("error: cannot start the file dialog: {error}"),
            }
        });
    if let Err(error) = spawned {
        eprintln!("error: cannot start the file dialog: {error}");
    }
}
