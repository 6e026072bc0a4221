//! "Run for real on this machine": the emulator (src/emulate) on a thread of its own, then a simulation of the
//! same design, seed and duration, so the window stays live; the emulation window and the dashboard's Compare tab
//! read its progress and result.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::emulate::{self, Options, Progress, Through, compare::Comparison};
use crate::model::{Design, SimulationSettings};
use crate::sim::{self, SimReport};

/// A finished emulation beside its simulation.
#[derive(Debug, Clone)]
pub struct EmulationResult {
    /// How calls travelled.
    pub through: Through,
    /// Direct: the mean loopback transit per call its callees absorbed (see `emulate::Emulated`).
    pub absorbed_per_call_ms: Option<f64>,
    /// Duration, warm-up and seed of both runs.
    pub settings: SimulationSettings,
    /// Measured on this machine.
    pub emulated: SimReport,
    /// The simulator's report of the same design, seed and duration.
    pub simulated: SimReport,
    /// Per flow, both and their difference.
    pub comparison: Comparison,
}

type Outcome = Result<EmulationResult, String>;

/// A running emulation (or a finished one whose result was not taken yet).
pub struct Job {
    stop: Arc<AtomicBool>,
    progress: Arc<Mutex<Option<Progress>>>,
    outcome: Arc<Mutex<Option<Outcome>>>,
}

impl Job {
    /// Starts emulating `design`; the emulator checks what it needs (programs, limits) before starting anything.
    pub fn start(ctx: &egui::Context, design: Design, options: Options) -> Self {
        let job = Self {
            stop: Arc::new(AtomicBool::new(false)),
            progress: Arc::new(Mutex::new(None)),
            outcome: Arc::new(Mutex::new(None)),
        };
        let (stop, progress, outcome) =
            (job.stop.clone(), job.progress.clone(), job.outcome.clone());
        let ctx = ctx.clone();
        // The emulator starts its processes from this thread and stops them before the thread ends.
        std::thread::spawn(move || {
            let mut report_progress = |p: &Progress| {
                if let Ok(mut slot) = progress.lock() {
                    *slot = Some(p.clone());
                }
                ctx.request_repaint();
            };
            let result = emulate::run(&design, &options, &stop, &mut report_progress)
                .map_err(|e| e.to_string())
                .and_then(|emulated| {
                    let simulated =
                        sim::simulate(&design, options.settings).map_err(|e| e.to_string())?;
                    Ok(EmulationResult {
                        through: options.through,
                        absorbed_per_call_ms: emulated.absorbed_per_call_ms,
                        settings: options.settings,
                        comparison: emulate::compare::compare(&emulated.report, &simulated),
                        emulated: emulated.report,
                        simulated,
                    })
                });
            if let Ok(mut slot) = outcome.lock() {
                *slot = Some(result);
            }
            ctx.request_repaint();
        });
        job
    }

    /// Where the run is.
    pub fn progress(&self) -> Option<Progress> {
        self.progress.lock().ok().and_then(|p| p.clone())
    }

    /// Ends the run early: its report covers what was measured so far, and every process is stopped.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// The result, once the run has ended (taken once).
    pub fn take(&self) -> Option<Outcome> {
        self.outcome.lock().ok().and_then(|mut o| o.take())
    }
}
