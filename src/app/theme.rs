//! The theme the user picked (View > Theme): follow the system, light or dark. Kept beside the recent files in the
//! platform's data directory so it survives restarts; egui draws every panel and the canvas from it.

use std::path::PathBuf;

const THEME_FILE: &str = "theme.json";

/// The user's choice and where it is kept (`None`: in memory only, as in tests).
#[derive(Debug, Default)]
pub struct ThemeSetting {
    dir: Option<PathBuf>,
    preference: Option<egui::ThemePreference>,
}

impl ThemeSetting {
    /// The choice kept in `dir`; an unreadable or missing one follows the system.
    pub fn load(dir: Option<PathBuf>) -> Self {
        let preference = super::data_file::read::<String>(dir.as_deref(), THEME_FILE).and_then(
            |name| match name.as_str() {
                "system" => Some(egui::ThemePreference::System),
                "light" => Some(egui::ThemePreference::Light),
                "dark" => Some(egui::ThemePreference::Dark),
                _ => None,
            },
        );
        Self { dir, preference }
    }

    /// Applies the kept choice to `ctx` once (the first frame); later changes come through [`Self::set`].
    pub fn apply_kept(&mut self, ctx: &egui::Context) {
        if let Some(preference) = self.preference.take() {
            ctx.set_theme(preference);
        }
    }

    /// Switches to `preference` and keeps it. Failing to write it only loses the choice at the next start.
    pub fn set(&mut self, ctx: &egui::Context, preference: egui::ThemePreference) {
        ctx.set_theme(preference);
        let name = match preference {
            egui::ThemePreference::System => "system",
            egui::ThemePreference::Light => "light",
            egui::ThemePreference::Dark => "dark",
        };
        super::data_file::write(self.dir.as_deref(), THEME_FILE, name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_choice_survives_a_restart_and_nonsense_follows_the_system() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = egui::Context::default();
        ThemeSetting::load(Some(dir.path().to_owned())).set(&ctx, egui::ThemePreference::Light);
        let mut kept = ThemeSetting::load(Some(dir.path().to_owned()));
        let fresh = egui::Context::default();
        kept.apply_kept(&fresh);
        assert_eq!(
            fresh.options(|o| o.theme_preference),
            egui::ThemePreference::Light
        );
        std::fs::write(dir.path().join(THEME_FILE), "\"purple\"").unwrap();
        assert!(
            ThemeSetting::load(Some(dir.path().to_owned()))
                .preference
                .is_none()
        );
    }
}
