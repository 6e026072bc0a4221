//! The "Run for real on this machine" window: how calls travel (the emulator's own client, or each caller's
//! exported Envoy), how long, start and stop with progress, and the emulated run beside the simulated one.

use egui::RichText;

use crate::emulate::{self, Options, Through};
use crate::model::Design;
use crate::runs::emulation::{EmulationResult, Job};

/// The window and its run.
#[derive(Default)]
pub struct EmulationWindow {
    /// Whether the window shows.
    pub open: bool,
    through_envoy: bool,
    /// Seconds of load; `None` until the window first opens on a design (then its simulation duration).
    duration_s: Option<f64>,
    job: Option<Job>,
    result: Option<EmulationResult>,
    error: Option<String>,
}

impl EmulationWindow {
    /// The last finished comparison, for the dashboard's Compare tab.
    pub fn result(&self) -> Option<&EmulationResult> {
        self.result.as_ref()
    }

    /// Whether a run is going on.
    pub fn running(&self) -> bool {
        self.job.is_some()
    }

    /// Shows the window (when open) and takes a finished run's result.
    pub fn show(&mut self, ctx: &egui::Context, design: &Design) {
        if let Some(outcome) = self.job.as_ref().and_then(Job::take) {
            self.job = None;
            match outcome {
                Ok(result) => {
                    self.result = Some(result);
                    self.error = None;
                }
                Err(e) => self.error = Some(e),
            }
        }
        if !self.open {
            return;
        }
        let mut open = self.open;
        egui::Window::new("Run for real on this machine")
            .open(&mut open)
            .default_width(560.0)
            .show(ctx, |ui| self.contents(ui, design));
        self.open = open;
    }

    fn contents(&mut self, ui: &mut egui::Ui, design: &Design) {
        ui.label(
            "Every replica becomes a server on this machine's loopback, calls are real HTTP and gRPC requests, async \
             calls go through a RabbitMQ of its own, and through Envoy each caller's calls go through its exported \
             proxy. Then the simulator runs the same design, seed and duration, and both show side by side.",
        );
        let settings = design.simulation_settings();
        let duration = self.duration_s.get_or_insert(settings.duration_s);
        ui.add_enabled_ui(self.job.is_none(), |ui| {
            ui.horizontal(|ui| {
                ui.label("Calls go");
                ui.radio_value(&mut self.through_envoy, false, "direct")
                    .on_hover_text(
                        "The emulator applies each call's timeout, retries, breaker and bulkhead",
                    );
                ui.radio_value(&mut self.through_envoy, true, "through Envoy")
                    .on_hover_text(
                        "Each caller's exported Envoy proxy applies them (needs envoy installed)",
                    );
            });
            ui.horizontal(|ui| {
                ui.label("Duration");
                ui.add(
                    egui::DragValue::new(duration)
                        .range(1.0..=3600.0)
                        .suffix(" s"),
                );
                ui.label(format!(
                    "(warm-up {} s, seed {})",
                    settings.warmup_s, settings.seed
                ));
            });
        });
        let duration_s = *duration;
        ui.horizontal(|ui| {
            if let Some(job) = &self.job {
                if ui
                    .button("■ Stop")
                    .on_hover_text("End now with what was measured")
                    .clicked()
                {
                    job.stop();
                }
                let progress = job.progress();
                let (fraction, text) = progress.map_or((0.0, "starting".to_owned()), |p| {
                    (
                        (p.elapsed_s / p.total_s.max(f64::MIN_POSITIVE)) as f32,
                        format!("{}: {:.0} / {:.0} s", p.phase, p.elapsed_s, p.total_s),
                    )
                });
                ui.add(egui::ProgressBar::new(fraction.clamp(0.0, 1.0)).text(text));
            } else if ui.button("▶ Run for real").clicked() {
                let mut run_settings = settings;
                run_settings.duration_s = duration_s;
                run_settings.warmup_s = settings.warmup_s.min(duration_s / 2.0);
                let options = Options {
                    settings: run_settings,
                    through: if self.through_envoy {
                        Through::Envoy
                    } else {
                        Through::Direct
                    },
                    max_listeners: emulate::DEFAULT_MAX_LISTENERS,
                    max_processes: emulate::DEFAULT_MAX_PROCESSES,
                    serve_port: None,
                };
                match emulate::preflight(design, &options) {
                    Ok(()) => {
                        self.error = None;
                        self.job = Some(Job::start(ui.ctx(), design.clone(), options));
                    }
                    Err(e) => self.error = Some(e.to_string()),
                }
            }
        });
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {error}"));
        }
        if let Some(result) = &self.result {
            ui.separator();
            comparison_grid(ui, result, design);
            ui.label("The dashboard's Compare tab shows it too.");
        }
    }
}

/// Emulated and simulated, per flow and measure, with the difference.
pub fn comparison_grid(ui: &mut egui::Ui, result: &EmulationResult, design: &Design) {
    ui.label(
        RichText::new(format!(
            "Emulated (calls {}) vs simulated: {:.0} s{}, seed {}",
            match result.through {
                Through::Direct => "direct",
                Through::Envoy => "through Envoy",
            },
            result.emulated.simulated_s,
            if result.emulated.partial {
                " (stopped early)"
            } else {
                ""
            },
            result.settings.seed
        ))
        .strong(),
    );
    if let Some(ms) = result.absorbed_per_call_ms {
        ui.label(crate::emulate::absorbed_note(ms))
            .on_hover_text("The design's calls take no time on the wire; the emulated callees answer that much early");
    }
    egui::Grid::new("emulation-comparison")
        .striped(true)
        .num_columns(5)
        .min_col_width(90.0)
        .show(ui, |ui| {
            for head in ["Flow", "Measure", "emulated", "simulated", "difference"] {
                ui.label(RichText::new(head).strong());
            }
            ui.end_row();
            for (flow_id, flow) in &result.comparison.flows {
                let name = design
                    .flow(flow_id)
                    .map_or(flow_id.as_str(), |f| f.display_name());
                for (measure, m) in flow.measures() {
                    ui.label(name);
                    ui.label(measure);
                    ui.label(format!("{:.1}", m.emulated));
                    ui.label(format!("{:.1}", m.simulated));
                    ui.label(if measure == "errors %" {
                        format!("{:+.1} points", m.difference)
                    } else {
                        format!("{:+.1}%", m.difference)
                    });
                    ui.end_row();
                }
            }
        });
}
