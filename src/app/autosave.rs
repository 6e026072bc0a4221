//! Autosave and crash recovery: while the document has unsaved changes, a copy is written every few seconds to the
//! platform's data directory; the next start offers to restore it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::model::{self, Design};

/// How often unsaved changes are written to the recovery file.
pub const AUTOSAVE_INTERVAL: Duration = Duration::from_secs(3);

const RECOVERY_FILE: &str = "recovery.syncopate";
const RECOVERY_PATH_FILE: &str = "recovery-path.txt";

/// The platform's data directory for Syncopate (e.g. `~/.local/share/syncopate` on Linux).
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "Syncopate", "Syncopate")
        .map(|dirs| dirs.data_dir().to_owned())
}

/// Unsaved work found at start.
#[derive(Debug, Clone, PartialEq)]
pub struct Recovery {
    /// The design as it was last autosaved.
    pub design: Design,
    /// The file it belonged to, if it had one.
    pub path: Option<PathBuf>,
}

/// Writes and finds recovery files.
#[derive(Debug)]
pub struct Autosave {
    dir: Option<PathBuf>,
    written_state: Option<u64>,
    last_write: Option<Instant>,
}

impl Autosave {
    /// Autosave into `dir` (`None` turns it off).
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self {
            dir,
            written_state: None,
            last_write: None,
        }
    }

    /// The recovery left by a previous run, if any and readable.
    pub fn find(&self) -> Option<Recovery> {
        let dir = self.dir.as_ref()?;
        let design = model::load_file(&dir.join(RECOVERY_FILE)).ok()?;
        let path = std::fs::read_to_string(dir.join(RECOVERY_PATH_FILE))
            .ok()
            .map(|p| PathBuf::from(p.trim_end_matches('\n')))
            .filter(|p| !p.as_os_str().is_empty());
        Some(Recovery { design, path })
    }

    /// Called every frame: writes the design when it has unsaved changes not yet written and the interval has
    /// passed (or `now` is forced), and removes the recovery when everything is saved.
    pub fn tick(
        &mut self,
        design: &Design,
        path: Option<&Path>,
        state_id: u64,
        dirty: bool,
        force: bool,
    ) {
        let Some(dir) = self.dir.clone() else { return };
        if !dirty {
            if self.written_state.is_some() {
                self.discard();
            }
            return;
        }
        let due = self
            .last_write
            .is_none_or(|t| t.elapsed() >= AUTOSAVE_INTERVAL);
        if !force && (self.written_state == Some(state_id) || !due) {
            return;
        }
        self.written_state = Some(state_id);
        self.last_write = Some(Instant::now());
        let text = model::to_json_pretty(design);
        let path_text = path.map(|p| p.display().to_string()).unwrap_or_default();
        // Written off the UI thread; a failed autosave is not worth interrupting the user for.
        let write = move || {
            if std::fs::create_dir_all(&dir).is_ok() {
                let _ = model::file::write_atomically(
                    &dir.join(RECOVERY_PATH_FILE),
                    path_text.as_bytes(),
                );
                let _ = model::file::write_atomically(&dir.join(RECOVERY_FILE), text.as_bytes());
            }
        };
        if force {
            write();
        } else {
            let _ = std::thread::Builder::new()
                .name("syncopate-autosave".to_owned())
                .spawn(write);
        }
    }

    /// Removes the recovery files (after a save, or when the user declines to restore).
    pub fn discard(&mut self) {
        self.written_state = None;
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_file(dir.join(RECOVERY_FILE));
            let _ = std::fs::remove_file(dir.join(RECOVERY_PATH_FILE));
        }
    }
}
