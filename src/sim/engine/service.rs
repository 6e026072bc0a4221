//! Services: replicas with workers and FIFO queues, who is let in or turned away, and the local work.

use std::collections::VecDeque;

use super::SimRng;

use super::events::EventKind;
use super::histogram::PartHistogram;
use super::sampler::Sampler;
use super::stats::{PART_HISTOGRAM_DIGITS, new_histogram};
use super::{NONE, Simulation};
use crate::model::either_fails;
use crate::sim::report::LatencyHistogram;

#[derive(Debug, Clone)]
pub(super) struct Replica {
    pub(super) queue: VecDeque<u32>,
    pub(super) busy: u32,
}

/// Per-service state and statistics.
#[derive(Debug, Clone)]
pub(super) struct ServiceState {
    pub(super) replicas: Vec<Replica>,
    pub(super) concurrency: u32,
    queue_capacity: Option<u32>,
    /// The service's stream of service times, failures and call probabilities (common random numbers).
    pub(super) rng: SimRng,
    sampler: Sampler,
    error_rate: f64,
    pub(super) is_broker: bool,
    next_replica: usize,
    // Gauges, over all replicas.
    // u32, not u64: the time-weighted statistics turn them into floats twice a hop, and a u32 converts in one
    // instruction.
    pub(super) waiting: u32,
    pub(super) busy: u32,
    last_change: f64,
    // Whole-run counters for the live view.
    pub(super) total_arrivals: u64,
    pub(super) total_rejected: u64,
    pub(super) total_failed: u64,
    // Measured statistics.
    pub(super) arrivals: u64,
    pub(super) completed: u64,
    pub(super) failed: u64,
    pub(super) rejected: u64,
    pub(super) busy_area: f64,
    pub(super) waiting_area: f64,
    /// The most requests waiting at once, over all replicas, in the measured period.
    pub(super) max_waiting: u32,
    pub(super) sojourn: PartHistogram,
    /// Sojourn times since the previous snapshot, for the live table.
    pub(super) recent_sojourn: LatencyHistogram,
    // Faults in force (see `faults`).
    pub(super) down: u32,
    pub(super) hanging: u32,
    pub(super) slow_factor: f64,
    fault_error_rate: f64,
    /// The rate at which its work fails: its own error rate with an `errors` fault's (`either_fails`), kept up to
    /// date by `set_fault_error_rate` so a finished job does not recompute it.
    failure_rate: f64,
}

impl ServiceState {
    pub(super) fn new(
        rng: SimRng,
        replicas: Vec<Replica>,
        concurrency: u32,
        queue_capacity: Option<u32>,
        sampler: Sampler,
        error_rate: f64,
        is_broker: bool,
    ) -> Self {
        Self {
            rng,
            replicas,
            concurrency,
            queue_capacity,
            sampler,
            error_rate,
            is_broker,
            next_replica: 0,
            waiting: 0,
            busy: 0,
            last_change: 0.0,
            total_arrivals: 0,
            total_rejected: 0,
            total_failed: 0,
            arrivals: 0,
            completed: 0,
            failed: 0,
            rejected: 0,
            busy_area: 0.0,
            waiting_area: 0.0,
            max_waiting: 0,
            sojourn: PartHistogram::new(),
            recent_sojourn: new_histogram(PART_HISTOGRAM_DIGITS),
            down: 0,
            hanging: 0,
            slow_factor: 1.0,
            fault_error_rate: 0.0,
            failure_rate: either_fails(error_rate, 0.0),
        }
    }

    /// Sets the error rate of the `errors` faults in force on it.
    pub(super) fn set_fault_error_rate(&mut self, rate: f64) {
        self.fault_error_rate = rate;
        self.failure_rate = either_fails(self.error_rate, rate);
    }

    /// Moves every time-weighted statistic up to `now` (measured from `warmup_ms`).
    #[inline]
    pub(super) fn touch(&mut self, now: f64, warmup_ms: f64) {
        let from = self.last_change.max(warmup_ms);
        if now > from {
            let dt = now - from;
            self.busy_area += f64::from(self.busy) * dt;
            self.waiting_area += f64::from(self.waiting) * dt;
            self.max_waiting = self.max_waiting.max(self.waiting);
        }
        self.last_change = now;
    }

    /// Whether a fault is in force on it now.
    pub(super) fn faulted(&self) -> bool {
        self.down > 0 || self.hanging > 0 || self.slow_factor != 1.0 || self.fault_error_rate > 0.0
    }

    /// Workers over all replicas.
    pub(super) fn workers(&self) -> f64 {
        self.replicas.len() as f64 * f64::from(self.concurrency)
    }
}

impl Simulation {
    /// Moves every time-weighted statistic of a service up to now.
    #[inline]
    pub(super) fn touch(&mut self, service: usize) {
        let (now, warmup_ms) = (self.now, self.warmup_ms);
        self.services[service].touch(now, warmup_ms);
    }

    /// A job arrives at its service. Returns false when it was turned away; the caller handles that as a failure.
    ///
    /// Turned away: by a full queue, or by a service that is down when the job is a sync try or a request at a
    /// flow's entry (a stopped process refuses connections). Async messages to a service that is down wait in its
    /// queue, which belongs to the messaging system.
    pub(super) fn arrive(&mut self, job: u32) -> bool {
        let (service, via_edge) = {
            let j = &self.jobs[job as usize];
            (j.service as usize, j.via_edge)
        };
        let (measuring, now, warmup_ms) = (self.measuring(), self.now, self.warmup_ms);
        let s = &mut self.services[service];
        s.touch(now, warmup_ms);
        s.total_arrivals += 1;
        if measuring {
            s.arrivals += 1;
        }
        // Read from the job only when the service is down: the common case needs none of it.
        if s.down > 0 && self.jobs[job as usize].needs_a_listener() {
            s.total_rejected += 1;
            if measuring {
                s.rejected += 1;
            }
            return false;
        }
        // The replica with the fewest requests waiting or in service; ties go round-robin.
        let count = s.replicas.len();
        let mut best = 0;
        if count > 1 {
            let mut best_load = usize::MAX;
            let mut r = s.next_replica;
            for _ in 0..count {
                if r >= count {
                    r = 0;
                }
                let load = s.replicas[r].queue.len() + s.replicas[r].busy as usize;
                if load < best_load {
                    best = r;
                    best_load = load;
                }
                r += 1;
            }
            s.next_replica = if best + 1 >= count { 0 } else { best + 1 };
        }
        let can_start = s.down == 0 && s.replicas[best].busy < s.concurrency;
        self.jobs[job as usize].replica = best as u32;
        if can_start {
            self.start_work(job);
            return true;
        }
        let full = s
            .queue_capacity
            .is_some_and(|capacity| s.replicas[best].queue.len() >= capacity as usize);
        if full {
            s.total_rejected += 1;
            if measuring {
                s.rejected += 1;
            }
            return false;
        }
        s.replicas[best].queue.push_back(job);
        s.waiting += 1;
        if via_edge != NONE {
            self.backlog_changed(via_edge, true);
        }
        true
    }

    #[inline]
    pub(super) fn start_work(&mut self, job: u32) {
        let (service, replica, via_edge, arrived_at) = {
            let j = &self.jobs[job as usize];
            (
                j.service as usize,
                j.replica as usize,
                j.via_edge,
                j.arrived_at,
            )
        };
        if via_edge != NONE {
            let lag_ms = self.now - arrived_at;
            if lag_ms > 0.0 {
                self.record_lag(via_edge, lag_ms);
                self.record_wait(via_edge, arrived_at);
            } else {
                // Most messages find a free worker: counted, and added to the histograms when they are read.
                let (measuring, live) = (self.measuring(), self.live);
                self.edges[via_edge as usize]
                    .backlog
                    .count_no_lag(measuring, live);
            }
        }
        let s = &mut self.services[service];
        s.replicas[replica].busy += 1;
        s.busy += 1;
        self.jobs[job as usize].in_service = true;
        if s.hanging > 0 {
            // A hung process accepts work and never finishes it: the worker stays stuck.
            self.jobs[job as usize].hung = true;
            return;
        }
        let factor = s.slow_factor;
        let work_ms = s.sampler.sample(&mut s.rng) * factor;
        let generation = self.jobs[job as usize].generation;
        self.schedule(self.now + work_ms, EventKind::WorkDone { job, generation });
    }

    /// Frees a worker of the replica (whose job has left it) and starts the next waiting job of the replica.
    #[inline(always)]
    pub(super) fn release_worker(&mut self, service: usize, replica: usize) {
        let (now, warmup_ms) = (self.now, self.warmup_ms);
        let s = &mut self.services[service];
        s.touch(now, warmup_ms);
        s.replicas[replica].busy -= 1;
        s.busy -= 1;
        self.start_waiting(service, replica);
    }

    /// Starts waiting jobs of a replica while it has free workers (and is up).
    #[inline(always)]
    pub(super) fn start_waiting(&mut self, service: usize, replica: usize) {
        loop {
            let s = &mut self.services[service];
            if s.down > 0 || s.replicas[replica].busy >= s.concurrency {
                return;
            }
            let Some(next) = s.replicas[replica].queue.pop_front() else {
                return;
            };
            s.waiting -= 1;
            let via_edge = self.jobs[next as usize].via_edge;
            if via_edge != NONE {
                self.backlog_changed(via_edge, false);
            }
            self.start_work(next);
        }
    }

    /// The local work is over: the job fails with the service's error rate (combined with an `errors` fault's), or
    /// makes its calls.
    #[inline]
    pub(super) fn on_work_done(&mut self, job: u32) {
        let service = self.jobs[job as usize].service as usize;
        let s = &mut self.services[service];
        let error_rate = s.failure_rate;
        if error_rate > 0.0 && super::chance(&mut s.rng, error_rate) {
            self.finish_job(job, false);
            return;
        }
        if self.jobs[job as usize].poll {
            // A poll reads a status: local work only.
            self.finish_job(job, true);
            return;
        }
        self.run_groups(job);
    }
}
