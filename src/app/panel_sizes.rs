//! The bottom panel's height as the user dragged it, kept in the platform's data directory so the panel comes back
//! at that height at the next start (egui keeps it only while the window is open).

use std::path::PathBuf;

const PANEL_FILE: &str = "panels.json";

/// The bottom panel's height when the user has not chosen one, in points.
pub const DEFAULT_BOTTOM_HEIGHT: f32 = 270.0;

/// The kept height and where it is kept (`None`: in memory only, as in tests).
#[derive(Debug, Default)]
pub struct PanelSizes {
    dir: Option<PathBuf>,
    /// The height last kept (or read at start).
    bottom_height: Option<f32>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Kept {
    bottom_height: f32,
}

impl PanelSizes {
    /// The sizes kept in `dir`; unreadable or nonsense ones are the defaults.
    pub fn load(dir: Option<PathBuf>) -> Self {
        let bottom_height = super::data_file::read::<Kept>(dir.as_deref(), PANEL_FILE)
            .map(|k| k.bottom_height)
            .filter(|h| h.is_finite() && (80.0..=2000.0).contains(h));
        Self { dir, bottom_height }
    }

    /// The height the bottom panel starts at.
    pub fn bottom_height(&self) -> f32 {
        self.bottom_height.unwrap_or(DEFAULT_BOTTOM_HEIGHT)
    }

    /// Keeps the panel's height once the user has let go of it (a drag writes once, at its end).
    pub fn note_bottom(&mut self, height: f32, pointer_down: bool) {
        if pointer_down || !height.is_finite() {
            return;
        }
        if (height - self.bottom_height()).abs() >= 1.0 {
            self.bottom_height = Some(height);
            super::data_file::write(
                self.dir.as_deref(),
                PANEL_FILE,
                &Kept {
                    bottom_height: height,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_height_survives_a_restart_and_nonsense_is_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let mut sizes = PanelSizes::load(Some(dir.path().to_owned()));
        assert_eq!(sizes.bottom_height(), DEFAULT_BOTTOM_HEIGHT);
        sizes.note_bottom(420.0, true);
        assert_eq!(
            PanelSizes::load(Some(dir.path().to_owned())).bottom_height(),
            DEFAULT_BOTTOM_HEIGHT,
            "not while dragging"
        );
        sizes.note_bottom(420.0, false);
        assert_eq!(
            PanelSizes::load(Some(dir.path().to_owned())).bottom_height(),
            420.0
        );
        std::fs::write(dir.path().join(PANEL_FILE), "{\"bottom_height\": -5}").unwrap();
        assert_eq!(
            PanelSizes::load(Some(dir.path().to_owned())).bottom_height(),
            DEFAULT_BOTTOM_HEIGHT
        );
    }
}
