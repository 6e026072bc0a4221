//! What the canvas dims: nothing, everything off one flow's path, or everything more than a few calls away from one
//! service. The toolbar's Focus box sets it; the canvas and the sequence panel follow it.

use crate::model::{Design, ServiceId};
use crate::ui::canvas::{Canvas, Selection};
use crate::ui::sequence::SequencePanel;

/// The most calls away a service focus reaches.
pub const MAX_HOPS: u32 = 5;

/// What is in focus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FocusTarget {
    /// A flow's path, by flow id.
    Flow(String),
    /// A service and what lies within `hops` calls of it, either way.
    Around {
        /// The service in the middle.
        service: ServiceId,
        /// How many calls away is still in focus.
        hops: u32,
    },
}

/// The focus and what the canvas was last given for it.
#[derive(Debug, Default)]
pub struct Focus {
    target: Option<FocusTarget>,
    /// The target and document state the canvas's dimming was computed for.
    built: Option<(FocusTarget, u64)>,
}

impl Focus {
    /// The toolbar's Focus box: none, a flow, or the selected service's neighbourhood (with its number of calls).
    pub fn toolbar(&mut self, ui: &mut egui::Ui, design: &Design, selection: &Selection) {
        let selected_service = match selection.services.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        };
        let shown = match &self.target {
            None => "none".to_owned(),
            Some(FocusTarget::Flow(id)) => design
                .flow(id)
                .map_or_else(|| id.clone(), |f| f.display_name().to_owned()),
            Some(FocusTarget::Around { service, .. }) => {
                format!("around {}", design.service_name(service.as_str()))
            }
        };
        ui.label("Focus");
        let mut choice = self.target.clone();
        egui::ComboBox::from_id_salt("focus-flow")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut choice, None, "none");
                for flow in &design.flows {
                    ui.selectable_value(
                        &mut choice,
                        Some(FocusTarget::Flow(flow.id.to_string())),
                        flow.display_name(),
                    );
                }
                ui.separator();
                let around = selected_service.as_ref().map(|service| FocusTarget::Around {
                    service: service.clone(),
                    hops: 1,
                });
                let label = match &selected_service {
                    Some(id) => format!(
                        "around {}",
                        design.service_name(id.as_str())
                    ),
                    None => "around the selected service".to_owned(),
                };
                ui.add_enabled_ui(around.is_some(), |ui| {
                    let is_around = matches!(
                        (&choice, &selected_service),
                        (Some(FocusTarget::Around { service, .. }), Some(selected)) if service == selected
                    );
                    if ui.selectable_label(is_around, label).clicked() {
                        choice = around.clone();
                    }
                })
                .response
                .on_disabled_hover_text("Select one service first");
            })
            .response
            .on_hover_text(
                "Dim every service and call off a flow's path, or more than a few calls away from a service",
            );
        if let Some(FocusTarget::Around { hops, .. }) = &mut choice {
            ui.add(
                egui::DragValue::new(hops)
                    .range(1..=MAX_HOPS)
                    .custom_formatter(|n, _| calls_away(n))
                    .custom_parser(|text| {
                        text.trim()
                            .trim_end_matches("calls")
                            .trim_end_matches("call")
                            .trim()
                            .parse()
                            .ok()
                    }),
            )
            .on_hover_text("How many calls away from the service stay in focus, either way");
        }
        self.target = choice;
    }

    /// Hands the canvas what to dim when the focus or the design changed (a focus on something gone ends); the
    /// sequence panel shows the focused flow.
    pub fn apply(
        &mut self,
        design: &Design,
        state_id: u64,
        canvas: &mut Canvas,
        sequence: &mut SequencePanel,
    ) {
        let exists = |target: &FocusTarget| match target {
            FocusTarget::Flow(id) => design.flow(id).is_some(),
            FocusTarget::Around { service, .. } => design.service(service.as_str()).is_some(),
        };
        self.target = self.target.take().filter(exists);
        let key = self.target.clone().map(|t| (t, state_id));
        if key == self.built {
            return;
        }
        // A new focus (not the same one after an edit) is framed: its callers may be far off screen.
        let new_target = self.built.as_ref().map(|(t, _)| t) != self.target.as_ref();
        let focused = match &self.target {
            Some(FocusTarget::Flow(flow)) => {
                sequence.flow = Some(flow.clone());
                Some(design.flow_reach(flow))
            }
            Some(FocusTarget::Around { service, hops }) => {
                Some(design.neighbourhood(service.as_str(), *hops))
            }
            None => None,
        };
        if new_target && let Some((services, _)) = &focused {
            canvas.request_fit_on(services.clone());
        }
        canvas.set_focus(focused);
        self.built = key;
    }
}

/// "1 call", "2 calls": how far from a service the focus reaches.
fn calls_away(hops: f64) -> String {
    if hops == 1.0 {
        "1 call".to_owned()
    } else {
        format!("{hops} calls")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_call_is_singular() {
        assert_eq!(super::calls_away(1.0), "1 call");
        assert_eq!(super::calls_away(2.0), "2 calls");
    }
}
