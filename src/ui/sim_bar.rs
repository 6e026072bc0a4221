//! The simulation bar: Run, Pause, Step, Reset, the speed, and a one-line status of the live run. It only reports
//! what the user asked for; the app drives the simulator thread (`app::sim_runner`).

use crate::model::SimulationSettings;
use crate::runs::sim_runner::{SimUpdate, Speed};

/// The speeds offered, with their labels.
pub const SPEEDS: [(Speed, &str); 4] = [
    (Speed::Times(1.0), "1×"),
    (Speed::Times(10.0), "10×"),
    (Speed::Times(100.0), "100×"),
    (Speed::Fastest, "fastest"),
];

/// What the user asked of the simulation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SimAction {
    /// Start (or resume) the run.
    Run,
    /// Pause it.
    Pause,
    /// Advance one simulated second.
    Step,
    /// Throw the run away.
    Reset,
    /// Run at this speed.
    SetSpeed(Speed),
    /// Simulate this many seconds in the next run.
    SetDuration(f64),
    /// Use this random seed in the next run.
    SetSeed(u64),
    /// Throw the run away and run the design as it is now.
    Restart,
}

/// Why a run is out of date, said beside the Restart button.
pub const OUTDATED: &str =
    "The design changed since this run started: the run still simulates the design as it was";

/// Why a design cannot run, said on the disabled Run and Step buttons.
pub const NO_FLOWS: &str = "This design has no flows, so a run would have no load: add one in the inspector (Flows, + Flow)";

/// Shows the bar; returns what the user asked for. Without flows Run and Step are disabled, with the reason.
pub fn show(
    ui: &mut egui::Ui,
    speed: Speed,
    latest: Option<&SimUpdate>,
    settings: SimulationSettings,
    has_flows: bool,
    outdated: bool,
) -> Option<SimAction> {
    let duration_s = settings.duration_s;
    let mut action = None;
    let running = latest.is_some_and(|u| u.running);
    ui.horizontal(|ui| {
        ui.label("Simulation");
        if running {
            if ui
                .button("⏸ Pause")
                .on_hover_text("Stop the clock; the state is kept")
                .clicked()
            {
                action = Some(SimAction::Pause);
            }
        } else if ui
            .add_enabled(has_flows, egui::Button::new("▶ Run"))
            .on_hover_text("Run the design under its flows' load at the chosen speed")
            .on_disabled_hover_text(NO_FLOWS)
            .clicked()
        {
            action = Some(SimAction::Run);
        }
        if ui
            .add_enabled(has_flows, egui::Button::new("Step 1 s"))
            .on_hover_text("Advance one simulated second")
            .on_disabled_hover_text(NO_FLOWS)
            .clicked()
        {
            action = Some(SimAction::Step);
        }
        if ui
            .add_enabled(latest.is_some(), egui::Button::new("⟲ Reset"))
            .on_hover_text("Throw this run away")
            .clicked()
        {
            action = Some(SimAction::Reset);
        }
        let label = SPEEDS
            .iter()
            .find(|(s, _)| *s == speed)
            .map_or("1×", |(_, l)| *l);
        egui::ComboBox::from_id_salt("sim-speed")
            .selected_text(label)
            .show_ui(ui, |ui| {
                for (option, name) in SPEEDS {
                    if ui.selectable_label(option == speed, name).clicked() {
                        action = Some(SimAction::SetSpeed(option));
                    }
                }
            })
            .response
            .on_hover_text("Simulated seconds per second of your time");
        let mut duration = duration_s;
        if ui
            .add(
                egui::DragValue::new(&mut duration)
                    .range((settings.warmup_s + 1.0)..=86_400.0)
                    .speed(1.0)
                    .prefix("duration ")
                    .suffix(" s"),
            )
            .on_hover_text(
                "Simulated time of a run (from the design's simulation settings; a change applies to the next run)",
            )
            .changed()
        {
            action = Some(SimAction::SetDuration(duration));
        }
        let mut seed = settings.seed;
        if ui
            .add(egui::DragValue::new(&mut seed).prefix("seed "))
            .on_hover_text("Random seed: the same seed and design give the same run, so variants compare fairly")
            .changed()
        {
            action = Some(SimAction::SetSeed(seed));
        }
        ui.separator();
        ui.label(status(latest, duration_s));
        // An edit during a run does not reach it: say so, and offer to start over with the design as it is.
        if outdated && latest.is_some() {
            ui.separator();
            ui.colored_label(ui.visuals().warn_fg_color, "design changed");
            if ui
                .add_enabled(has_flows, egui::Button::new("⟲ Restart with the changes"))
                .on_hover_text(OUTDATED)
                .on_disabled_hover_text(NO_FLOWS)
                .clicked()
            {
                action = Some(SimAction::Restart);
            }
        }
    });
    action
}

/// One line on the run: time, requests, failures.
pub fn status(latest: Option<&SimUpdate>, duration_s: f64) -> String {
    let Some(update) = latest else {
        return "not started".to_owned();
    };
    if let Some(error) = &update.error {
        return format!("cannot simulate: {error}");
    }
    let snapshot = &update.snapshot;
    let started: u64 = snapshot.flows.iter().map(|f| f.started).sum();
    let completed: u64 = snapshot.flows.iter().map(|f| f.completed).sum();
    let failed: u64 = snapshot.flows.iter().map(|f| f.failed).sum();
    let state = if update.finished {
        "finished"
    } else if update.running {
        "running"
    } else {
        "paused"
    };
    format!(
        "{state} at {:.1} / {duration_s:.0} s: {started} requests, {completed} answered, {failed} failed",
        snapshot.time_s
    )
}
