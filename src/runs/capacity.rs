//! A capacity sweep or replica plan running on a thread of its own, so the window stays live: the panel reads its
//! progress each frame, can cancel it, and takes its result when it is done.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::capacity::{self, CapacityError, PlanResult, PlanSettings, SweepResult, SweepSettings};
use crate::model::Design;

/// What a finished job gives.
#[derive(Debug)]
pub enum Outcome {
    /// A sweep's points and knee.
    Sweep(Result<SweepResult, CapacityError>),
    /// A replica plan.
    Plan(Box<Result<PlanResult, CapacityError>>),
}

/// A running (or finished, not yet taken) sweep or plan.
pub struct Job {
    done: Arc<AtomicUsize>,
    total: Arc<AtomicUsize>,
    cancel: Arc<AtomicBool>,
    outcome: Arc<Mutex<Option<Outcome>>>,
}

impl Job {
    fn start(
        ctx: &egui::Context,
        work: impl FnOnce(capacity::Progress) -> Outcome + Send + 'static,
    ) -> Self {
        let job = Self {
            done: Arc::new(AtomicUsize::new(0)),
            total: Arc::new(AtomicUsize::new(0)),
            cancel: Arc::new(AtomicBool::new(false)),
            outcome: Arc::new(Mutex::new(None)),
        };
        let (done, total, cancel, outcome) = (
            job.done.clone(),
            job.total.clone(),
            job.cancel.clone(),
            job.outcome.clone(),
        );
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let progress = |finished: usize, of: usize| {
                done.store(finished, Ordering::Relaxed);
                total.store(of, Ordering::Relaxed);
                ctx.request_repaint();
                !cancel.load(Ordering::Relaxed)
            };
            let result = work(&progress);
            if let Ok(mut slot) = outcome.lock() {
                *slot = Some(result);
            }
            ctx.request_repaint();
        });
        job
    }

    /// Starts a sweep of `design`.
    pub fn sweep(ctx: &egui::Context, design: Design, settings: SweepSettings) -> Self {
        Self::start(ctx, move |progress| {
            Outcome::Sweep(capacity::sweep(&design, &settings, progress))
        })
    }

    /// Starts a replica plan of `design`.
    pub fn plan(ctx: &egui::Context, design: Design, settings: PlanSettings) -> Self {
        Self::start(ctx, move |progress| {
            Outcome::Plan(Box::new(capacity::plan(&design, &settings, progress)))
        })
    }

    /// Simulations done and to do.
    pub fn progress(&self) -> (usize, usize) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }

    /// Asks the job to stop; it ends with [`CapacityError::Cancelled`] after the runs under way.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The outcome, once the job has finished (taken once).
    pub fn take(&self) -> Option<Outcome> {
        self.outcome.lock().ok().and_then(|mut slot| slot.take())
    }
}
