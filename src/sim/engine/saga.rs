//! Orchestrated sagas: compensating calls.
//!
//! A call with a compensation (an edge whose `compensates` names it) that succeeds is remembered by its caller's job.
//! When that job then fails (a later call failed for good, timed out or was short-circuited), it does not fail at
//! once: it makes the compensating calls of the calls it remembered, one after the other in reverse order, each
//! with its own policy (a sync compensation holds the worker until it answers or fails for good; an async one is
//! handed to its queue), and only then fails. A compensation that fails for good marks the request
//! `compensation_failed`; the remaining ones are still made.
//!
//! The inconsistency window of a compensated request runs from the end of the first compensated call (its answer,
//! or for an async call the moment its message was accepted) to the end of the last compensation (its answer, or
//! its message accepted).

use std::collections::HashMap;

use super::stats::record;
use super::{NONE, Simulation};

/// The rollback state of one job.
#[derive(Debug, Clone, Default)]
pub(super) struct Saga {
    /// The compensating edges of the job's succeeded calls, in the order the calls succeeded.
    to_undo: Vec<u32>,
    /// When the first compensated call ended.
    first_done_at: f64,
    /// A compensation failed for good.
    failed: bool,
}

/// The sagas of the jobs that have something to undo, by job index. An entry goes when its job's slot is freed
/// (`forget`), so an index never finds a saga of an earlier job of the same slot.
#[derive(Debug, Default)]
pub(super) struct Sagas {
    by_job: HashMap<u32, Saga>,
}

impl Sagas {
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.by_job.is_empty()
    }

    /// The job slot is freed: its saga, if any, goes with it.
    pub(super) fn forget(&mut self, job: u32) {
        self.by_job.remove(&job);
    }

    /// One of the job's compensations failed for good.
    fn mark_failed(&mut self, job: u32) {
        if let Some(saga) = self.by_job.get_mut(&job) {
            saga.failed = true;
        }
    }
}

impl Simulation {
    /// A call of `job` along `edge` succeeded (a sync answer, or an async message accepted): remembered when the
    /// call has a compensation.
    #[inline(always)]
    pub(super) fn call_succeeded_for_saga(&mut self, job: u32, edge: u32) {
        let compensation = self.edges[edge as usize].compensation;
        if compensation != NONE {
            self.remember_to_undo(job, compensation);
        }
    }

    /// `job` made a call that `compensation` undoes: remembered for a rollback. Out of line: most calls have no
    /// compensation, and the check before it is all they pay.
    #[inline(never)]
    pub(super) fn remember_to_undo(&mut self, job: u32, compensation: u32) {
        let now = self.now;
        self.sagas
            .by_job
            .entry(job)
            .or_insert_with(|| Saga {
                to_undo: Vec::new(),
                first_done_at: now,
                failed: false,
            })
            .to_undo
            .push(compensation);
    }

    /// The job is failing: when it has calls to undo, it starts rolling them back and returns true (it fails once
    /// the last compensation has ended); otherwise false.
    #[inline]
    pub(super) fn start_compensation(&mut self, job: u32) -> bool {
        if self.sagas.is_empty() {
            return false;
        }
        self.start_compensation_of(job)
    }

    #[inline(never)]
    fn start_compensation_of(&mut self, job: u32) -> bool {
        let has_work = self
            .sagas
            .by_job
            .get(&job)
            .is_some_and(|saga| !saga.to_undo.is_empty());
        if !has_work || self.jobs[job as usize].compensating {
            return false;
        }
        let (request, flow) = {
            let j = &mut self.jobs[job as usize];
            j.compensating = true;
            j.pending_calls = 0;
            (j.request, j.flow)
        };
        if self.requests.mark_compensated(request) && self.requests.measured(request) {
            self.flows[flow as usize].compensated += 1;
        }
        self.next_compensation(job);
        true
    }

    /// A sync compensation of a rolling-back job ended (answered, or failed for good): the next one goes out.
    pub(super) fn compensation_ended(&mut self, job: u32, success: bool) {
        if !success {
            self.sagas.mark_failed(job);
        }
        self.next_compensation(job);
    }

    /// Makes the job's next compensation (in reverse order of the calls), or, when none is left, ends the rollback
    /// and fails the job.
    fn next_compensation(&mut self, job: u32) {
        loop {
            let next = self
                .sagas
                .by_job
                .get_mut(&job)
                .and_then(|saga| saga.to_undo.pop());
            let Some(edge) = next else {
                self.compensation_done(job);
                return;
            };
            if self.edges[edge as usize].asynchronous {
                if !self.send_message(job, edge) {
                    self.sagas.mark_failed(job);
                }
                continue;
            }
            match self.start_call(job, edge) {
                super::calls::CallStart::Pending => return,
                super::calls::CallStart::Failed => self.sagas.mark_failed(job),
            }
        }
    }

    /// Every compensation of the job has ended: record the window (or the failure), and fail the job.
    fn compensation_done(&mut self, job: u32) {
        let (request, flow) = {
            let j = &self.jobs[job as usize];
            (j.request, j.flow as usize)
        };
        if let Some(saga) = self.sagas.by_job.remove(&job) {
            let measured = self.requests.measured(request);
            let window_ms = self.now - saga.first_done_at;
            let f = &mut self.flows[flow];
            if saga.failed {
                if self.requests.mark_compensation_failed(request) && measured {
                    f.compensation_failed += 1;
                }
            } else if measured {
                record(&mut f.inconsistency_window, window_ms);
            }
        }
        self.finish_job(job, false);
    }
}
