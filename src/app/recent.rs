//! The recent files list: the designs opened or saved last, newest first, kept in the platform's data directory
//! (beside the autosave) so File > Open Recent survives restarts.

use std::path::{Path, PathBuf};

/// How many files the list keeps.
pub const MAX_RECENT: usize = 10;

const RECENT_FILE: &str = "recent-files.json";

/// The list, and where it is kept (`None`: in memory only, as in tests).
#[derive(Debug, Default)]
pub struct RecentFiles {
    dir: Option<PathBuf>,
    paths: Vec<PathBuf>,
}

impl RecentFiles {
    /// The list kept in `dir`, read from there; an unreadable or missing list is empty.
    pub fn load(dir: Option<PathBuf>) -> Self {
        let paths = super::data_file::read::<Vec<PathBuf>>(dir.as_deref(), RECENT_FILE)
            .unwrap_or_default()
            .into_iter()
            .take(MAX_RECENT)
            .collect();
        Self { dir, paths }
    }

    /// The files, newest first.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// Puts `path` first (once), drops the oldest beyond [`MAX_RECENT`], and writes the list. Failing to write it
    /// only loses the list, never work, so the error is ignored.
    pub fn add(&mut self, path: &Path) {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        self.paths.retain(|p| *p != path);
        self.paths.insert(0, path);
        self.paths.truncate(MAX_RECENT);
        self.write();
    }

    /// Drops `path` (it could not be opened any more) and writes the list.
    pub fn remove(&mut self, path: &Path) {
        self.paths.retain(|p| p != path);
        self.write();
    }

    fn write(&self) {
        super::data_file::write(self.dir.as_deref(), RECENT_FILE, &self.paths);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_first_once_each_at_most_ten_and_kept_across_runs() {
        let dir = tempfile::tempdir().unwrap();
        let mut recent = RecentFiles::load(Some(dir.path().to_owned()));
        for i in 0..12 {
            recent.add(Path::new(&format!("/designs/{i}.syncopate")));
        }
        recent.add(Path::new("/designs/5.syncopate"));
        let again = RecentFiles::load(Some(dir.path().to_owned()));
        assert_eq!(again.paths().len(), MAX_RECENT);
        assert_eq!(again.paths()[0], Path::new("/designs/5.syncopate"));
        assert_eq!(again.paths()[1], Path::new("/designs/11.syncopate"));
        assert_eq!(
            again
                .paths()
                .iter()
                .filter(|p| p.ends_with("5.syncopate"))
                .count(),
            1
        );
        let mut again = again;
        again.remove(Path::new("/designs/5.syncopate"));
        assert_eq!(
            RecentFiles::load(Some(dir.path().to_owned())).paths()[0],
            Path::new("/designs/11.syncopate")
        );
    }
}
