//! Jobs (a request at its entry, a sync try at its callee, an async message at its consumer), the flow's calls in
//! `order` groups each taken with its probability, and what ends a job.

use super::settle::Settled;
use super::stats::record;
use super::{NONE, Simulation};

/// A unit of work at a service: a request, a sync try, or an async message.
#[derive(Debug, Clone)]
pub(super) struct Job {
    pub(super) generation: u32,
    pub(super) flow: u32,
    pub(super) service: u32,
    pub(super) replica: u32,
    /// Topic the message carries (index into the topic table), for brokers.
    pub(super) topic: u32,
    /// The request (see `settle`) this job is part of.
    pub(super) request: u32,
    /// The sync call this job answers, and which try of it; `NONE` for roots and messages.
    pub(super) parent_call: u32,
    pub(super) parent_call_generation: u32,
    pub(super) parent_try: u32,
    /// The async edge that brought this message; `NONE` for roots and sync tries.
    pub(super) via_edge: u32,
    /// Whether this is the root request of a flow request, and whether it arrived in the measured period.
    pub(super) is_root: bool,
    pub(super) root_measured: bool,
    pub(super) arrived_at: f64,
    /// The next call group to run.
    pub(super) group: u32,
    /// Sync calls of the current group still waiting for an answer.
    pub(super) pending_calls: u32,
    /// Sync calls this job is waiting on (to abandon them when it fails).
    pub(super) open_calls: Vec<u32>,
    pub(super) in_service: bool,
    /// Stuck in a hang: its worker never finishes it.
    pub(super) hung: bool,
    pub(super) live: bool,
    /// A client's poll for its request's result (see `polling`): local work only, and no count on the request.
    pub(super) poll: bool,
    /// What the poll found when it reached the entry (see `polling::PollSaw`).
    pub(super) poll_saw: u8,
    /// Which delivery of its message this job is (1 for the first; see `delivery`).
    pub(super) delivery: u32,
    /// Rolling back: the job failed and is making its compensating calls (see `saga`).
    pub(super) compensating: bool,
}

/// The message a new job carries: the async edge that brought it and its topic. Roots, sync tries and polls carry
/// none ([`Carried::NOTHING`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Carried {
    pub(super) edge: u32,
    pub(super) topic: u32,
}

impl Carried {
    /// No message: no edge, no topic.
    pub(super) const NOTHING: Carried = Carried {
        edge: NONE,
        topic: 0,
    };
}

impl Job {
    /// Whether the job reaches its service over a connection, which a stopped process refuses: a sync try, a
    /// request at a flow's entry, or a poll. An async message waits in the messaging system's queue instead.
    #[inline]
    pub(super) fn needs_a_listener(&self) -> bool {
        self.parent_call != NONE || self.is_root || self.poll
    }
}

impl Simulation {
    /// A new job of `request` at the service `at`, arriving now; it holds a count on its request until it is freed.
    #[inline]
    pub(super) fn new_job(&mut self, request: u32, flow: u32, at: u32, carried: Carried) -> u32 {
        self.requests.hold(request);
        self.alloc_job(request, flow, at, carried)
    }

    /// A job slot, fresh or reused, for `request` at the service `at`, arriving now (holding no count on the
    /// request).
    #[inline]
    pub(super) fn alloc_job(&mut self, request: u32, flow: u32, at: u32, carried: Carried) -> u32 {
        let now = self.now;
        let fresh = |generation: u32, open_calls: Vec<u32>| Job {
            generation,
            flow,
            service: at,
            replica: 0,
            topic: carried.topic,
            request,
            parent_call: NONE,
            parent_call_generation: 0,
            parent_try: 0,
            via_edge: carried.edge,
            is_root: false,
            root_measured: false,
            arrived_at: now,
            group: 0,
            pending_calls: 0,
            open_calls,
            in_service: false,
            hung: false,
            live: true,
            poll: false,
            poll_saw: 0,
            delivery: 1,
            compensating: false,
        };
        match self.free_jobs.pop() {
            Some(index) => {
                // Reuse the slot, keeping its call list's allocation.
                let slot = &mut self.jobs[index as usize];
                let mut open_calls = std::mem::take(&mut slot.open_calls);
                open_calls.clear();
                *slot = fresh(slot.generation.wrapping_add(1), open_calls);
                index
            }
            None => {
                self.jobs.push(fresh(0, Vec::new()));
                (self.jobs.len() - 1) as u32
            }
        }
    }

    /// The job is gone (finished, or turned away): its request may now be settled.
    #[inline(always)]
    pub(super) fn free_job(&mut self, job: u32) {
        let (request, poll) = {
            let j = &self.jobs[job as usize];
            (j.request, j.poll)
        };
        self.free_job_of(job, request, poll);
    }

    /// `free_job`, for a caller that has already read the job's request and whether it is a poll.
    #[inline(always)]
    fn free_job_of(&mut self, job: u32, request: u32, poll: bool) {
        self.jobs[job as usize].live = false;
        self.free_jobs.push(job);
        if !self.sagas.is_empty() {
            self.sagas.forget(job);
        }
        if !poll && self.requests.release_one(request) {
            self.request_done(request);
        }
    }

    /// A request's last job ended: record what became of it (once per request, off the per-job path).
    #[inline(never)]
    fn request_done(&mut self, request: u32) {
        match self.requests.finish(request, self.now) {
            Settled::No => {}
            Settled::Done {
                flow,
                settle_ms,
                measured,
            } => {
                let f = &mut self.flows[flow as usize];
                f.settling -= 1;
                if self.live {
                    record(&mut f.recent_settle, settle_ms);
                }
                if measured {
                    f.settled += 1;
                    record(&mut f.settle, settle_ms);
                }
            }
            Settled::Failed { flow, measured } => {
                let f = &mut self.flows[flow as usize];
                f.settling -= 1;
                if measured {
                    f.settle_failed += 1;
                }
            }
        }
    }

    /// The next request of a flow arrives at its entry.
    pub(super) fn on_arrival(&mut self, flow: u32, token: u32) {
        if self.flows[flow as usize].token != token {
            return;
        }
        self.schedule_next_arrival(flow);
        let entry = self.flows[flow as usize].entry;
        let measuring = self.measuring();
        let request = self.requests.open(flow, self.now, measuring);
        let job = self.new_job(request, flow, entry, Carried::NOTHING);
        {
            let j = &mut self.jobs[job as usize];
            j.is_root = true;
            j.root_measured = measuring;
        }
        let f = &mut self.flows[flow as usize];
        f.total_started += 1;
        if measuring {
            f.started += 1;
        }
        if !self.arrive(job) {
            let f = &mut self.flows[flow as usize];
            f.total_failed += 1;
            if measuring {
                f.failed += 1;
            }
            self.free_job(job);
        }
    }

    /// Makes the job's calls, group after group, until a group has sync calls to wait for or all are done.
    pub(super) fn run_groups(&mut self, job: u32) {
        // The job's service, flow and topic stay as they are while it makes its calls: its plan is read once.
        let (service, topic, first_group, group_count) = {
            let j = &self.jobs[job as usize];
            let (service, flow) = (j.service as usize, j.flow as usize);
            let (first_group, group_count) = self.group_index[service * self.flows.len() + flow];
            (service, j.topic, first_group, group_count)
        };
        loop {
            let j = &mut self.jobs[job as usize];
            let group = j.group;
            if group >= group_count {
                self.finish_job(job, true);
                return;
            }
            j.group += 1;
            let (start, end) = self.groups[(first_group + group) as usize];
            let mut pending = 0;
            for k in start..end {
                let call = self.group_calls[k as usize];
                if call.filtered_by_topic && call.topic != topic {
                    continue;
                }
                if call.probability < 1.0
                    && !super::chance(&mut self.services[service].rng, call.probability)
                {
                    continue;
                }
                let e = call.edge;
                if call.asynchronous {
                    if self.send_message(job, e) && call.compensation != NONE {
                        self.remember_to_undo(job, call.compensation);
                    }
                    continue;
                }
                match self.start_call(job, e) {
                    super::calls::CallStart::Pending => pending += 1,
                    super::calls::CallStart::Failed => {
                        // A failed sync call fails the caller at once.
                        self.fail_job_with_open_calls(job);
                        return;
                    }
                }
            }
            if pending > 0 {
                self.jobs[job as usize].pending_calls = pending;
                return;
            }
        }
    }

    /// A job fails while it may still wait on sync calls: those are abandoned (their callees keep working). When
    /// calls of it that have a compensation succeeded, it rolls them back first (see `saga`).
    pub(super) fn fail_job_with_open_calls(&mut self, job: u32) {
        let open = std::mem::take(&mut self.jobs[job as usize].open_calls);
        for call in open {
            if self.calls[call as usize].live {
                self.abandon_call(call);
            }
        }
        if self.start_compensation(job) {
            return;
        }
        self.finish_job(job, false);
    }

    /// The job's work at its service is over: record it, free the worker, and answer its caller.
    pub(super) fn finish_job(&mut self, job: u32, success: bool) {
        let measuring = self.measuring();
        // Everything the job's end needs, read with one look-up of the job; it leaves its worker here.
        let j = &mut self.jobs[job as usize];
        let (service, replica, flow) = (j.service as usize, j.replica as usize, j.flow as usize);
        let (arrived_at, is_root, root_measured) = (j.arrived_at, j.is_root, j.root_measured);
        let (request, via_edge, poll) = (j.request, j.via_edge, j.poll);
        let parent = (j.parent_call, j.parent_call_generation, j.parent_try);
        let in_service = std::mem::replace(&mut j.in_service, false);
        let sojourn = self.now - arrived_at;
        {
            let s = &mut self.services[service];
            if !success {
                s.total_failed += 1;
            }
            if self.live {
                record(&mut s.recent_sojourn, sojourn);
            }
            if measuring {
                if success {
                    s.completed += 1;
                } else {
                    s.failed += 1;
                }
                s.sojourn.record(sojourn);
            }
        }
        if in_service {
            self.release_worker(service, replica);
        }
        if is_root {
            let f = &mut self.flows[flow];
            if success {
                f.total_completed += 1;
                f.settling += 1;
                if self.live {
                    record(&mut f.recent_latency, sojourn);
                }
            } else {
                f.total_failed += 1;
            }
            if root_measured {
                if success {
                    f.completed += 1;
                    record(&mut f.latency, sojourn);
                } else {
                    f.failed += 1;
                }
            }
            if success {
                self.requests.answered(request);
                self.start_polling(flow as u32, request);
            }
        }
        if via_edge != NONE && !success {
            // A consumer (or broker) failed the message: it is delivered again, dead-lettered, or dropped.
            let (delivery, topic) = {
                let j = &self.jobs[job as usize];
                (j.delivery, j.topic)
            };
            self.message_failed(
                request,
                flow as u32,
                service as u32,
                via_edge,
                topic,
                delivery,
            );
        }
        if poll {
            let saw = self.jobs[job as usize].poll_saw;
            self.free_job_of(job, request, true);
            self.poll_answered(flow as u32, request, success, saw, arrived_at);
            return;
        }
        self.free_job_of(job, request, false);
        let (parent_call, parent_generation, parent_try) = parent;
        if parent_call != NONE {
            let c = &self.calls[parent_call as usize];
            if c.live
                && c.generation == parent_generation
                && c.tries == parent_try
                && c.try_in_flight
            {
                self.on_try_result(parent_call, success);
            }
        }
    }
}
