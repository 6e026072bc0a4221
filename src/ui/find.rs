//! Find a service (Ctrl+F, Cmd+F on macOS): type part of its name or id, pick one of the matches (or press Enter
//! for the first), and the canvas selects it and brings it to the centre.

use crate::model::{Design, ServiceId};

/// The most matches listed.
const MAX_MATCHES: usize = 12;

/// How well `text` matches `query` (both lower case): 0 equal, 1 starts with it, 2 a word of it starts with it, 3
/// it contains it; `None` when it does not.
fn match_rank(text: &str, query: &str) -> Option<u8> {
    if text == query {
        return Some(0);
    }
    if text.starts_with(query) {
        return Some(1);
    }
    let at_word = text.match_indices(query).any(|(at, _)| {
        text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| !c.is_alphanumeric())
    });
    if at_word {
        return Some(2);
    }
    text.contains(query).then_some(3)
}

/// The find bar's state.
#[derive(Debug, Default)]
pub struct FindBar {
    /// Whether it shows.
    pub open: bool,
    /// What is typed.
    pub query: String,
    focus_pending: bool,
}

impl FindBar {
    /// Opens the bar with its text field focused (and its text kept, to refine the last search).
    pub fn open(&mut self) {
        self.open = true;
        self.focus_pending = true;
    }

    /// The services whose name or id contains the query (ignoring case), best first: an exact name or id, then
    /// one that starts with the query, then one with a word that does ("order-service" in "ts-order-service"),
    /// then any other; among equals the shorter name (the closer match), then by name.
    pub fn matches<'a>(&self, design: &'a Design) -> Vec<(&'a ServiceId, &'a str)> {
        let query = self.query.trim().to_lowercase();
        if query.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<(u8, usize, &ServiceId, &str)> = design
            .services
            .iter()
            .filter_map(|s| {
                let name = s.display_name();
                let rank = [name, s.id.as_str()]
                    .into_iter()
                    .filter_map(|text| match_rank(&text.to_lowercase(), &query))
                    .min()?;
                Some((rank, name.chars().count(), &s.id, name))
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(a.3.cmp(b.3)));
        found
            .into_iter()
            .map(|(_, _, id, name)| (id, name))
            .collect()
    }

    /// Shows the bar over the top of the canvas; returns the service picked.
    pub fn show(&mut self, ctx: &egui::Context, design: &Design) -> Option<ServiceId> {
        if !self.open {
            return None;
        }
        let mut picked = None;
        let mut open = self.open;
        egui::Window::new("Find a service")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_TOP, egui::vec2(0.0, 80.0))
            .show(ctx, |ui| {
                let field = ui.add(
                    egui::TextEdit::singleline(&mut self.query)
                        .hint_text("name or id")
                        .desired_width(280.0),
                );
                if self.focus_pending {
                    field.request_focus();
                    self.focus_pending = false;
                }
                let matches = self.matches(design);
                let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if enter && let Some((id, _)) = matches.first() {
                    picked = Some((*id).clone());
                }
                if !self.query.trim().is_empty() && matches.is_empty() {
                    ui.label("No service has that in its name or id.");
                }
                for (id, name) in matches.iter().take(MAX_MATCHES) {
                    let text = if name == &id.as_str() {
                        (*name).to_owned()
                    } else {
                        format!("{name}  ({id})")
                    };
                    if ui.selectable_label(false, text).clicked() {
                        picked = Some((*id).clone());
                    }
                }
                if matches.len() > MAX_MATCHES {
                    ui.label(format!(
                        "and {} more: type more of the name",
                        matches.len() - MAX_MATCHES
                    ));
                }
                if ui.input(|i| i.key_pressed(egui::Key::Escape)) {
                    self.open = false;
                }
            });
        self.open = open && self.open && picked.is_none();
        picked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Service;

    fn named(ids: &[&str]) -> Design {
        let mut design = Design::new("find");
        design.services = ids.iter().map(|id| Service::new(*id)).collect();
        design
    }

    #[test]
    fn the_best_match_comes_first() {
        let design = named(&[
            "ts-admin-order-service",
            "ts-order-other-service",
            "ts-order-service",
            "order-service-proxy",
            "order-service",
            "reorder-service",
        ]);
        let bar = FindBar {
            query: "Order-Service".into(),
            ..FindBar::default()
        };
        let order: Vec<&str> = bar
            .matches(&design)
            .into_iter()
            .map(|(id, _)| id.as_str())
            .collect();
        // Exact, prefix, word starts (shorter first), then inside a word.
        assert_eq!(
            order,
            vec![
                "order-service",
                "order-service-proxy",
                "ts-order-service",
                "ts-admin-order-service",
                "reorder-service",
            ]
        );
    }
}
