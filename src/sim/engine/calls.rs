//! Calls along edges: sync calls with their tries, timeouts, retries, breakers and bulkheads, and async messages
//! with their lag and backlog.

use super::Simulation;
use super::breaker::Breaker;
use super::events::EventKind;
use super::request::Carried;
use super::stats::record;
use crate::sim::report::{EdgeReport, LatencyHistogram};

/// A sync call in flight.
#[derive(Debug, Clone)]
pub(super) struct Call {
    pub(super) generation: u32,
    pub(super) edge: u32,
    pub(super) caller: u32,
    pub(super) caller_generation: u32,
    /// Tries made so far (the first try is 1); a try the breaker refused is not made.
    pub(super) tries: u32,
    /// Whether a try is in flight now (counted against the bulkhead).
    pub(super) try_in_flight: bool,
    /// The breaker epoch the current try was admitted in (see `breaker`).
    pub(super) try_epoch: u32,
    pub(super) started_at: f64,
    pub(super) live: bool,
}

/// Messages of an async edge waiting in the consumer's queue.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Backlog {
    pub(super) waiting: u32,
    /// The most waiting at once in the measured period.
    pub(super) max: u32,
    /// Time integral of `waiting` over the measured period (message·ms), from the waits of the messages that left
    /// the queue; those still waiting are added when a report is made.
    pub(super) area: f64,
    /// Messages taken at once (no lag) in the measured period and since the previous snapshot, not yet in the
    /// histograms: recording a zero per message would be most of the lag's cost.
    pub(super) no_lag: u64,
    pub(super) recent_no_lag: u64,
}

impl Backlog {
    #[inline]
    pub(super) fn count_no_lag(&mut self, measuring: bool, live: bool) {
        if measuring {
            self.no_lag += 1;
        }
        if live {
            self.recent_no_lag += 1;
        }
    }
}

/// Per-edge state and statistics. What every call or message reads and writes comes first, in one cache line
/// (`repr(C)` keeps the order, `align(64)` starts each edge on a line): a large design has thousands of edges of
/// several hundred bytes each, so each line a hop touches is a likely cache miss.
#[derive(Debug, Clone)]
#[repr(C, align(64))]
pub(super) struct EdgeState {
    pub(super) to: u32,
    pub(super) topic: u32,
    /// The edge of this call's compensating call (see `saga`), or `NONE`.
    pub(super) compensation: u32,
    pub(super) in_flight: u32,
    pub(super) total_calls: u64,
    /// Calls in the measured period (the report's `calls`).
    pub(super) calls: u64,
    /// Async edges: the backlog, and how long messages waited before a worker took them (measured period, and
    /// since the previous snapshot).
    pub(super) backlog: Backlog,
    /// A copy of the edge's mode (the hop's routing fields are copied to `GroupCall`s).
    pub(super) asynchronous: bool,
    pub(super) breaker: Breaker,
    pub(super) total_failures: u64,
    pub(super) report: EdgeReport,
    /// From the call to its successful answer (sync calls, measured period), for the per-hop latencies.
    pub(super) latency: super::histogram::PartHistogram,
    pub(super) lag: Option<super::histogram::PartHistogram>,
    pub(super) recent_lag: Option<LatencyHistogram>,
    /// Async edges with a dead-letter queue: deliveries before a failing message is set aside; 0 for none.
    pub(super) dead_letter_after: u32,
    /// Redeliveries and dead-lettered messages (measured period; see `delivery`).
    pub(super) redeliveries: u64,
    pub(super) dead_lettered: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CallStart {
    Pending,
    Failed,
}

enum TryStart {
    Started,
    FailedAtOnce { short_circuited: bool },
}

impl Simulation {
    /// An async call: the message joins the callee's queue (or is refused by a full one) and the caller moves on.
    /// Returns whether the message was accepted.
    pub(super) fn send_message(&mut self, job: u32, edge: u32) -> bool {
        let (flow, request) = {
            let j = &self.jobs[job as usize];
            (j.flow, j.request)
        };
        let to = self.edges[edge as usize].to;
        let topic = self.edges[edge as usize].topic;
        let measuring = self.measuring();
        let e = &mut self.edges[edge as usize];
        e.total_calls += 1;
        if measuring {
            e.calls += 1;
        }
        let message = self.new_job(request, flow, to, Carried { edge, topic });
        self.deliver(message)
    }

    /// A message (a new job with its `via_edge` set) joins its consumer's queue: false when a full queue refused
    /// it, which fails the call and leaves the request's work undone.
    #[inline]
    pub(super) fn deliver(&mut self, message: u32) -> bool {
        if self.arrive(message) {
            return true;
        }
        self.message_refused(message);
        false
    }

    /// A full queue refused a message.
    #[cold]
    #[inline(never)]
    fn message_refused(&mut self, message: u32) {
        let (edge, request) = {
            let j = &self.jobs[message as usize];
            (j.via_edge, j.request)
        };
        let measuring = self.measuring();
        let e = &mut self.edges[edge as usize];
        e.total_failures += 1;
        if measuring {
            e.report.failures += 1;
        }
        self.requests.async_failed(request);
        self.free_job(message);
    }

    /// A message of an async edge joins (`up`) or leaves the consumer's queue. The time-average is not kept here
    /// but from each message's wait (see `record_wait`): two integer updates on the hot path instead of an
    /// integral moved forward at every change.
    #[inline]
    pub(super) fn backlog_changed(&mut self, edge: u32, up: bool) {
        let measuring = self.measuring();
        let b = &mut self.edges[edge as usize].backlog;
        if up {
            b.waiting += 1;
            if measuring && b.waiting > b.max {
                b.max = b.waiting;
            }
        } else {
            b.waiting -= 1;
        }
    }

    /// A message that arrived at `arrived_at` leaves the queue now: the part of its wait inside the measured period
    /// adds to the backlog's time integral (the sum of the waits is the integral of the number waiting).
    #[inline]
    pub(super) fn record_wait(&mut self, edge: u32, arrived_at: f64) {
        let from = arrived_at.max(self.warmup_ms);
        if self.now > from {
            self.edges[edge as usize].backlog.area += self.now - from;
        }
    }

    /// A message of an async edge was taken by a worker after waiting `lag_ms`.
    #[inline]
    pub(super) fn record_lag(&mut self, edge: u32, lag_ms: f64) {
        let measuring = self.measuring();
        let live = self.live;
        let e = &mut self.edges[edge as usize];
        if live && let Some(recent) = &mut e.recent_lag {
            record(recent, lag_ms);
        }
        if measuring && let Some(lag) = &mut e.lag {
            lag.record(lag_ms);
        }
    }

    /// A sync call: the first try goes out now (or is refused at once).
    pub(super) fn start_call(&mut self, job: u32, edge: u32) -> CallStart {
        let measuring = self.measuring();
        let e = &mut self.edges[edge as usize];
        e.total_calls += 1;
        if measuring {
            e.calls += 1;
        }
        let call = Call {
            generation: 0,
            edge,
            caller: job,
            caller_generation: self.jobs[job as usize].generation,
            tries: 0,
            try_in_flight: false,
            try_epoch: 0,
            started_at: self.now,
            live: true,
        };
        let index = match self.free_calls.pop() {
            Some(index) => {
                let generation = self.calls[index as usize].generation.wrapping_add(1);
                self.calls[index as usize] = Call { generation, ..call };
                index
            }
            None => {
                self.calls.push(call);
                (self.calls.len() - 1) as u32
            }
        };
        let generation = self.calls[index as usize].generation;
        self.jobs[job as usize].open_calls.push(index);
        let started = match self.start_try(index) {
            TryStart::Started => CallStart::Pending,
            TryStart::FailedAtOnce { short_circuited } => {
                if self.retry_or_fail(index, short_circuited) {
                    CallStart::Pending
                } else {
                    // Refused at once (open breaker, full bulkhead, callee down or full) with no retry left: the
                    // call has failed for good, like one that failed later.
                    let e = &mut self.edges[edge as usize];
                    e.total_failures += 1;
                    if measuring {
                        e.report.failures += 1;
                    }
                    self.close_call(index);
                    CallStart::Failed
                }
            }
        };
        // The timeout only for a call still going: one refused at once would otherwise leave its timeout in the
        // event queue until it fires, and under overload those stale events grow with the offered load (5 million
        // after half a simulated second at 10 million requests/s).
        if started == CallStart::Pending
            && let Some(timeout) = self.design.edges[edge as usize].timeout_ms
        {
            self.schedule_timeout(edge, self.now + timeout, index, generation, None);
        }
        started
    }

    /// Starts the next try of a call, unless the breaker or the bulkhead refuses it or the callee is down or full.
    fn start_try(&mut self, call: u32) -> TryStart {
        let edge = self.calls[call as usize].edge as usize;
        let policy = &self.design.edges[edge];
        let max_in_flight = policy.max_in_flight;
        let per_try = policy.retry.and_then(|r| r.per_try_timeout_ms);
        let breaker_policy = policy.circuit_breaker;
        let now = self.now;
        let mut epoch = 0;
        if let Some(breaker_policy) = breaker_policy {
            match self.edges[edge].breaker.admit(now, &breaker_policy) {
                Some(admitted) => epoch = admitted,
                None => {
                    return TryStart::FailedAtOnce {
                        short_circuited: true,
                    };
                }
            }
        }
        // A try refused by the bulkhead or the callee still counts as a try, so retries cannot loop on them.
        let try_number = {
            let c = &mut self.calls[call as usize];
            c.tries += 1;
            c.try_epoch = epoch;
            c.tries
        };
        let measuring = self.measuring();
        let e = &mut self.edges[edge];
        if try_number > 1 && measuring {
            // Counted when it goes out: a retry whose caller already failed, or that the breaker refused, never ran.
            e.report.retries += 1;
        }
        if max_in_flight.is_some_and(|max| e.in_flight >= max) {
            e.breaker.trial_not_sent(epoch);
            return TryStart::FailedAtOnce {
                short_circuited: false,
            };
        }
        let (flow, request) = {
            let caller = &self.jobs[self.calls[call as usize].caller as usize];
            (caller.flow, caller.request)
        };
        let to = e.to;
        let callee = self.new_job(request, flow, to, Carried::NOTHING);
        {
            let c = &self.calls[call as usize];
            let j = &mut self.jobs[callee as usize];
            j.parent_call = call;
            j.parent_call_generation = c.generation;
            j.parent_try = try_number;
        }
        if !self.arrive(callee) {
            self.free_job(callee);
            self.record_breaker(edge, epoch, false);
            return TryStart::FailedAtOnce {
                short_circuited: false,
            };
        }
        self.edges[edge].in_flight += 1;
        self.calls[call as usize].try_in_flight = true;
        if let Some(per_try) = per_try {
            let generation = self.calls[call as usize].generation;
            self.schedule_timeout(
                edge as u32,
                self.now + per_try,
                call,
                generation,
                Some(try_number),
            );
        }
        TryStart::Started
    }

    fn record_breaker(&mut self, edge: usize, epoch: u32, success: bool) {
        if let Some(policy) = self.design.edges[edge].circuit_breaker {
            let now = self.now;
            self.edges[edge]
                .breaker
                .record(epoch, success, now, &policy);
        }
    }

    /// After a failed try: schedules a retry when one is left and time allows, and returns true; or returns
    /// false when the call has failed for good.
    fn retry_or_fail(&mut self, call: u32, short_circuited: bool) -> bool {
        let edge = self.calls[call as usize].edge as usize;
        let tries = self.calls[call as usize].tries;
        if short_circuited {
            // An open breaker fails the call at once, without retries. The call counts as short-circuited only
            // when none of its tries went out; a refused retry ends a call that already ran.
            if tries == 0 && self.measuring() {
                self.edges[edge].report.short_circuited += 1;
            }
            return false;
        }
        let policy = &self.design.edges[edge];
        let Some(retry) = policy.retry else {
            return false;
        };
        if tries > retry.max_retries {
            return false;
        }
        let backoff = retry.backoff_before_retry_ms(tries);
        if let Some(timeout) = policy.timeout_ms
            && self.now + backoff >= self.calls[call as usize].started_at + timeout
        {
            return false;
        }
        let generation = self.calls[call as usize].generation;
        self.schedule(self.now + backoff, EventKind::RetryDue { call, generation });
        true
    }

    /// Ends a try in flight (answered, failed or abandoned).
    fn end_try(&mut self, call: u32) {
        let c = &mut self.calls[call as usize];
        if c.try_in_flight {
            c.try_in_flight = false;
            let edge = c.edge as usize;
            self.edges[edge].in_flight -= 1;
        }
    }

    /// Removes a finished call from its caller's open calls and frees it.
    fn close_call(&mut self, call: u32) {
        self.end_try(call);
        let (caller, caller_generation) = {
            let c = &self.calls[call as usize];
            (c.caller, c.caller_generation)
        };
        let j = &mut self.jobs[caller as usize];
        if j.live && j.generation == caller_generation {
            j.open_calls.retain(|&c| c != call);
        }
        self.calls[call as usize].live = false;
        self.free_calls.push(call);
    }

    /// The caller failed while waiting: the call is dropped (its callee keeps working; that work is wasted).
    pub(super) fn abandon_call(&mut self, call: u32) {
        self.end_try(call);
        self.calls[call as usize].live = false;
        self.free_calls.push(call);
    }

    /// The call has failed for good: count it, and fail its caller.
    fn fail_call(&mut self, call: u32) {
        let edge = self.calls[call as usize].edge as usize;
        // Counted with the calls of the measured period: a call made during the warm-up that fails after it is in
        // neither count.
        let measured = self.calls[call as usize].started_at >= self.warmup_ms;
        let e = &mut self.edges[edge];
        e.total_failures += 1;
        if measured {
            e.report.failures += 1;
        }
        let (caller, caller_generation) = {
            let c = &self.calls[call as usize];
            (c.caller, c.caller_generation)
        };
        self.close_call(call);
        let j = &self.jobs[caller as usize];
        if j.live && j.generation == caller_generation {
            if j.compensating {
                self.compensation_ended(caller, false);
            } else {
                self.fail_job_with_open_calls(caller);
            }
        }
    }

    /// The call succeeded: its caller moves on when its group is complete.
    fn succeed_call(&mut self, call: u32) {
        let edge = self.calls[call as usize].edge as usize;
        if self.measuring() {
            let took_ms = self.now - self.calls[call as usize].started_at;
            self.edges[edge].latency.record(took_ms);
        }
        let (caller, caller_generation) = {
            let c = &self.calls[call as usize];
            (c.caller, c.caller_generation)
        };
        self.close_call(call);
        let j = &mut self.jobs[caller as usize];
        if !(j.live && j.generation == caller_generation) {
            return;
        }
        if j.compensating {
            self.compensation_ended(caller, true);
            return;
        }
        self.call_succeeded_for_saga(caller, edge as u32);
        let j = &mut self.jobs[caller as usize];
        j.pending_calls -= 1;
        if j.pending_calls == 0 {
            self.run_groups(caller);
        }
    }

    /// The try in flight answered, failed, or ran out of its per-try time.
    pub(super) fn on_try_result(&mut self, call: u32, success: bool) {
        let (edge, epoch) = {
            let c = &self.calls[call as usize];
            (c.edge as usize, c.try_epoch)
        };
        self.end_try(call);
        self.record_breaker(edge, epoch, success);
        if success {
            self.succeed_call(call);
        } else if !self.retry_or_fail(call, false) {
            self.fail_call(call);
        }
    }

    /// Whether a try's timeout still has something to end: the same call, the same try, still waiting. Once false
    /// it stays false (generations and try numbers only grow).
    #[inline]
    pub(super) fn try_timeout_counts(&self, call: u32, generation: u32, try_number: u32) -> bool {
        let c = &self.calls[call as usize];
        c.live && c.generation == generation && c.tries == try_number && c.try_in_flight
    }

    /// Whether a call's overall timeout still has something to end: the same call, still going. Once false it
    /// stays false.
    #[inline]
    pub(super) fn call_timeout_counts(&self, call: u32, generation: u32) -> bool {
        let c = &self.calls[call as usize];
        c.live && c.generation == generation
    }

    pub(super) fn on_try_timeout(&mut self, call: u32, generation: u32, try_number: u32) {
        if !self.try_timeout_counts(call, generation, try_number) {
            return;
        }
        let edge = self.calls[call as usize].edge as usize;
        if self.measuring() {
            self.edges[edge].report.timeouts += 1;
        }
        // The callee keeps working on the abandoned try: that work is wasted.
        self.on_try_result(call, false);
    }

    pub(super) fn on_call_timeout(&mut self, call: u32, generation: u32) {
        if !self.call_timeout_counts(call, generation) {
            return;
        }
        let c = &self.calls[call as usize];
        let (edge, in_flight, epoch) = (c.edge as usize, c.try_in_flight, c.try_epoch);
        if self.measuring() {
            self.edges[edge].report.timeouts += 1;
        }
        if in_flight {
            self.record_breaker(edge, epoch, false);
        }
        self.fail_call(call);
    }

    pub(super) fn on_retry_due(&mut self, call: u32, generation: u32) {
        let c = &self.calls[call as usize];
        if !(c.live && c.generation == generation) {
            return;
        }
        match self.start_try(call) {
            TryStart::Started => {}
            TryStart::FailedAtOnce { short_circuited } => {
                if !self.retry_or_fail(call, short_circuited) {
                    self.fail_call(call);
                }
            }
        }
    }
}
