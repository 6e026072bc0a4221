//! Autosave and crash recovery: while the document has unsaved changes, a copy is written every few seconds to the
//! platform's data directory; the next start offers to restore it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, TryLockError};
use std::time::{Duration, Instant};

use crate::model::{self, Design};

/// How often unsaved changes are written to the recovery file.
pub const AUTOSAVE_INTERVAL: Duration = Duration::from_secs(3);

const RECOVERY_FILE: &str = "recovery.syncopate";
const RECOVERY_PATH_FILE: &str = "recovery-path.txt";

/// Unsaved work found at start.
#[derive(Debug, Clone, PartialEq)]
pub struct Recovery {
    /// The design as it was last autosaved.
    pub design: Design,
    /// The file it belonged to, if it had one.
    pub path: Option<PathBuf>,
    /// The user chose "Later": the prompt is hidden, the work kept, and File > Restore Unsaved Work… offers it.
    pub later: bool,
}

/// The unsaved design as of the last frame, for the panic hook.
type Unsaved = Arc<Mutex<Option<(Design, Option<PathBuf>)>>>;

/// Writes and finds recovery files.
#[derive(Debug)]
pub struct Autosave {
    dir: Option<PathBuf>,
    written_state: Option<u64>,
    last_write: Option<Instant>,
    /// The design with unsaved changes as of the last frame (none when everything is saved), and its state.
    unsaved: Unsaved,
    unsaved_state: Option<u64>,
}

impl Autosave {
    /// Autosave into `dir` (`None` turns it off).
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self {
            dir,
            written_state: None,
            last_write: None,
            unsaved: Arc::new(Mutex::new(None)),
            unsaved_state: None,
        }
    }

    /// Makes a panic write the unsaved design to the recovery file before the process goes down, so the next start
    /// offers it back even if the crash came between two autosaves. The previous hook (the message) still runs.
    pub fn install_panic_hook(&self) {
        let Some(dir) = self.dir.clone() else { return };
        let unsaved = self.unsaved.clone();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // A panic while the design was being handed over (the lock held) leaves the last autosave as it is.
            let guard = match unsaved.try_lock() {
                Ok(guard) => Some(guard),
                Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            };
            tracing::error!(panic = %info, "syncopate panicked");
            if let Some(guard) = guard
                && let Some((design, path)) = guard.as_ref()
            {
                write_recovery(&dir, &model::to_json_pretty(design), path.as_deref());
            }
            previous(info);
        }));
    }

    /// The recovery left by a previous run, if any and readable.
    pub fn find(&self) -> Option<Recovery> {
        let dir = self.dir.as_ref()?;
        let design = model::load_file(&dir.join(RECOVERY_FILE)).ok()?;
        let path = std::fs::read_to_string(dir.join(RECOVERY_PATH_FILE))
            .ok()
            .map(|p| PathBuf::from(p.trim_end_matches('\n')))
            .filter(|p| !p.as_os_str().is_empty());
        Some(Recovery {
            design,
            path,
            later: false,
        })
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
        if self.unsaved_state != Some(state_id) || !dirty {
            self.unsaved_state = Some(state_id);
            let latest = dirty.then(|| (design.clone(), path.map(Path::to_path_buf)));
            match self.unsaved.lock() {
                Ok(mut guard) => *guard = latest,
                Err(poisoned) => *poisoned.into_inner() = latest,
            }
        }
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
        let path = path.map(Path::to_path_buf);
        // Written off the UI thread; a failed autosave is not worth interrupting the user for.
        let write = move || write_recovery(&dir, &text, path.as_deref());
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

/// Writes the recovery file and the path of the file it belongs to; a failure is logged, not reported (autosave
/// tries again at the next interval).
fn write_recovery(dir: &Path, design_json: &str, path: Option<&Path>) {
    if let Err(error) = std::fs::create_dir_all(dir) {
        tracing::warn!(dir = %dir.display(), %error, "cannot create the recovery folder");
        return;
    }
    let path_text = path.map(|p| p.display().to_string()).unwrap_or_default();
    let written =
        model::file::write_atomically(&dir.join(RECOVERY_PATH_FILE), path_text.as_bytes())
            .and_then(|()| {
                model::file::write_atomically(&dir.join(RECOVERY_FILE), design_json.as_bytes())
            });
    match written {
        Ok(()) => tracing::debug!(bytes = design_json.len(), "autosaved unsaved changes"),
        Err(error) => tracing::warn!(%error, "autosave failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_writes_the_unsaved_design_to_the_recovery_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut autosave = Autosave::new(Some(dir.path().to_owned()));
        let mut design = Design::new("unsaved work");
        design.services.push(crate::model::Service::new("api"));
        // A forced tick writes at once; then the design changes within the autosave interval, so
        // only the panic hook can save the newest state.
        autosave.tick(
            &design,
            Some(Path::new("/tmp/work.syncopate")),
            1,
            true,
            true,
        );
        design.services.push(crate::model::Service::new("db"));
        autosave.tick(
            &design,
            Some(Path::new("/tmp/work.syncopate")),
            2,
            true,
            false,
        );
        assert_eq!(
            autosave.find().unwrap().design.services.len(),
            1,
            "not autosaved yet"
        );
        autosave.install_panic_hook();
        let crashed = std::panic::catch_unwind(|| panic!("a bug"));
        // Back to the default hook, so later panics in this test binary write nothing.
        let _ = std::panic::take_hook();
        assert!(crashed.is_err());
        let recovery = autosave.find().unwrap();
        assert_eq!(recovery.design, design);
        assert_eq!(recovery.path, Some(PathBuf::from("/tmp/work.syncopate")));
    }

    #[test]
    fn nothing_unsaved_means_nothing_to_write_on_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let mut autosave = Autosave::new(Some(dir.path().to_owned()));
        autosave.tick(&Design::new("saved"), None, 1, false, false);
        assert!(autosave.unsaved.lock().unwrap().is_none());
    }
}
