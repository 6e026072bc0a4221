//! The open document: the design, where it lives on disk, whether it has unsaved changes, and its undo history.

use std::path::{Path, PathBuf};

use crate::edit::{Command, apply_checked};
use crate::model::{self, Design, LoadError, SaveError};

/// Most undo steps kept; older ones are dropped.
const MAX_UNDO_STEPS: usize = 200;

/// A past or future state of the design, with the label of the step that leads away from it.
#[derive(Debug, Clone)]
struct Snapshot {
    design: Design,
    state_id: u64,
    label: String,
}

/// The design being edited.
#[derive(Debug, Clone)]
pub struct Document {
    design: Design,
    path: Option<PathBuf>,
    /// Identifies the current state; every edit, undo and redo moves to another id.
    state_id: u64,
    /// The state last saved to (or loaded from) `path`.
    saved_state_id: Option<u64>,
    undo: Vec<Snapshot>,
    redo: Vec<Snapshot>,
}

/// A new state id, unique in the process: views derived from one document (findings, the canvas' view graph, the
/// sequence diagram, a simulation run) must not be taken for another document's.
fn next_state_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Default for Document {
    fn default() -> Self {
        Self::new(Design::new("Untitled design"))
    }
}

impl Document {
    /// A new, never-saved document.
    pub fn new(design: Design) -> Self {
        let first = next_state_id();
        Self {
            design,
            path: None,
            state_id: first,
            saved_state_id: Some(first),
            undo: Vec::new(),
            redo: Vec::new(),
        }
    }

    /// A document restored from a recovery file: it has unsaved changes.
    pub fn recovered(design: Design, path: Option<PathBuf>) -> Self {
        let mut document = Self::new(design);
        document.path = path;
        document.saved_state_id = None;
        document
    }

    /// A document made by an importer: never saved, so it has unsaved changes.
    pub fn imported(design: Design) -> Self {
        Self::recovered(design, None)
    }

    /// Opens a design file.
    pub fn open(path: &Path) -> Result<Self, LoadError> {
        let design = model::load_file(path)?;
        let mut document = Self::new(design);
        document.path = Some(path.to_owned());
        Ok(document)
    }

    /// The design as it is now.
    pub fn design(&self) -> &Design {
        &self.design
    }

    /// Where the design is saved, if it ever was.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Whether there are changes that are not saved.
    pub fn is_dirty(&self) -> bool {
        self.saved_state_id != Some(self.state_id)
    }

    /// A number that changes whenever the design does, so derived views know when to rebuild.
    pub fn state_id(&self) -> u64 {
        self.state_id
    }

    /// The file name to show in the title bar.
    pub fn title(&self) -> String {
        self.path.as_deref().and_then(Path::file_name).map_or_else(
            || "Untitled".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// Applies one edit as one undoable step. An edit that would make the design invalid is refused with the
    /// first problem it causes, and the document is left as it was.
    pub fn apply(&mut self, command: Command) -> Result<(), String> {
        let label = command.label();
        let edited = apply_checked(&self.design, command)?;
        if edited == self.design {
            return Ok(());
        }
        let previous = std::mem::replace(&mut self.design, edited);
        self.undo.push(Snapshot {
            design: previous,
            state_id: self.state_id,
            label,
        });
        if self.undo.len() > MAX_UNDO_STEPS {
            self.undo.remove(0);
        }
        self.redo.clear();
        self.state_id = next_state_id();
        Ok(())
    }

    /// The label of the step Undo would revert.
    pub fn undo_label(&self) -> Option<&str> {
        self.undo.last().map(|s| s.label.as_str())
    }

    /// The label of the step Redo would repeat.
    pub fn redo_label(&self) -> Option<&str> {
        self.redo.last().map(|s| s.label.as_str())
    }

    /// Reverts the last step; false when there is none.
    pub fn undo(&mut self) -> bool {
        self.step(false)
    }

    /// Repeats the last undone step; false when there is none.
    pub fn redo(&mut self) -> bool {
        self.step(true)
    }

    /// Moves one step through the history: the state taken from one stack is replaced by the current one on the
    /// other.
    fn step(&mut self, forward: bool) -> bool {
        let (from, to) = if forward {
            (&mut self.redo, &mut self.undo)
        } else {
            (&mut self.undo, &mut self.redo)
        };
        let Some(snapshot) = from.pop() else {
            return false;
        };
        to.push(Snapshot {
            design: std::mem::replace(&mut self.design, snapshot.design),
            state_id: self.state_id,
            label: snapshot.label,
        });
        self.state_id = snapshot.state_id;
        true
    }

    /// Saves to `path` (atomically) and makes it the document's file.
    pub fn save_as(&mut self, path: &Path) -> Result<(), SaveError> {
        model::save_file(path, &self.design)?;
        self.path = Some(path.to_owned());
        self.saved_state_id = Some(self.state_id);
        Ok(())
    }

    /// Marks the current state as saved elsewhere (e.g. by a background save of a snapshot taken at `state_id`).
    pub fn mark_saved(&mut self, path: &Path, state_id: u64) {
        self.path = Some(path.to_owned());
        self.saved_state_id = Some(state_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Service;

    #[test]
    fn undo_and_redo_walk_the_history_and_track_dirtiness() {
        let mut doc = Document::default();
        assert!(!doc.is_dirty());
        doc.apply(Command::AddService(Service::new("a"))).unwrap();
        doc.apply(Command::AddService(Service::new("b"))).unwrap();
        assert!(doc.is_dirty());
        assert_eq!(doc.undo_label(), Some("Add service"));
        assert!(doc.undo());
        assert_eq!(doc.design().services.len(), 1);
        assert!(doc.undo());
        assert!(!doc.is_dirty(), "back at the saved state");
        assert!(!doc.undo());
        assert!(doc.redo());
        assert!(doc.redo());
        assert_eq!(doc.design().services.len(), 2);
        assert!(!doc.redo());
    }

    #[test]
    fn a_refused_edit_changes_nothing() {
        let mut doc = Document::default();
        doc.apply(Command::AddService(Service::new("a"))).unwrap();
        let before = doc.design().clone();
        assert!(doc.apply(Command::AddService(Service::new("a"))).is_err());
        assert_eq!(doc.design(), &before);
        assert_eq!(doc.undo_label(), Some("Add service"));
    }

    #[test]
    fn saving_clears_the_dirty_flag() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.syncopate");
        let mut doc = Document::default();
        doc.apply(Command::AddService(Service::new("a"))).unwrap();
        doc.save_as(&path).unwrap();
        assert!(!doc.is_dirty());
        assert_eq!(doc.title(), "x.syncopate");
        let reopened = Document::open(&path).unwrap();
        assert_eq!(reopened.design(), doc.design());
    }
}
