//! The welcome screen shown when the app starts without a file: open a sample, start a new design, open a file or a
//! recent one. It only reports the choice; the app carries it out.

use std::path::{Path, PathBuf};

use egui::RichText;

use crate::samples::SAMPLES;

/// What the user chose on the welcome screen.
#[derive(Debug, Clone, PartialEq)]
pub enum WelcomeAction {
    /// Open the built-in sample with this index in [`SAMPLES`].
    OpenSample(usize),
    /// Start an empty design.
    NewDesign,
    /// Pick a file to open.
    Open,
    /// Open this recent file.
    OpenRecent(PathBuf),
    /// Close the screen and keep the empty design.
    Close,
}

/// Shows the welcome screen over the window; returns what the user chose.
pub fn show(ctx: &egui::Context, recent: &[PathBuf]) -> Option<WelcomeAction> {
    let mut action = None;
    let modal = egui::Modal::new(egui::Id::new("welcome")).show(ctx, |ui| {
        ui.set_width(620.0);
        ui.heading("Welcome to Syncopate");
        ui.label(
            "Draw your services and the calls between them, sync or async, and Syncopate explains the trade-offs, \
             draws the sequence diagrams, simulates the load and exports the proxy and orchestrator configuration.",
        );
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            if ui
                .button("📄 New design")
                .on_hover_text("Start from an empty canvas (Ctrl+N)")
                .clicked()
            {
                action = Some(WelcomeAction::NewDesign);
            }
            if ui
                .button("📂 Open a design…")
                .on_hover_text("Open a .syncopate file (Ctrl+O)")
                .clicked()
            {
                action = Some(WelcomeAction::Open);
            }
        });
        ui.add_space(8.0);
        ui.label(RichText::new("Start from a sample").strong());
        egui::Grid::new("welcome-samples")
            .num_columns(2)
            .spacing([12.0, 4.0])
            .show(ui, |ui| {
                for (index, sample) in SAMPLES.iter().enumerate() {
                    if ui
                        .button(sample.id)
                        .on_hover_text("Open this sample as a new, unsaved design")
                        .clicked()
                    {
                        action = Some(WelcomeAction::OpenSample(index));
                    }
                    ui.label(sample.title);
                    ui.end_row();
                }
            });
        if !recent.is_empty() {
            ui.add_space(8.0);
            ui.label(RichText::new("Recent files").strong());
            for path in recent.iter().take(6) {
                if ui
                    .link(file_label(path))
                    .on_hover_text(path.display().to_string())
                    .clicked()
                {
                    action = Some(WelcomeAction::OpenRecent(path.clone()));
                }
            }
        }
        ui.add_space(8.0);
        ui.separator();
        ui.horizontal(|ui| {
            ui.label("Help > Keyboard shortcuts lists the shortcuts; Help > Welcome screen brings this back.");
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button("Close").clicked() {
                    action = Some(WelcomeAction::Close);
                }
            });
        });
    });
    if action.is_none() && modal.should_close() {
        action = Some(WelcomeAction::Close);
    }
    action
}

/// A recent file as listed: its name, then its folder.
fn file_label(path: &Path) -> String {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => format!("{name} — {}", folder.display()),
        _ => name,
    }
}
