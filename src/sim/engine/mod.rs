//! The discrete-event engine. It follows the request semantics of `docs/design-format.md` exactly; see
//! `docs/simulation.md` for the choices the format leaves open.
//!
//! One file per concept, each rule of the semantics in one place:
//! - `events`: the event list, with sync calls' timeouts in lanes beside it;
//! - `service`: replicas, workers, queues, and who is turned away;
//! - `request`: jobs, the flow's call groups and probabilities, and what ends a job;
//! - `calls`: sync calls, their tries, timeouts, retries and bulkheads, and async messages;
//! - `breaker`: circuit breakers;
//! - `faults`: planned and injected faults;
//! - `settle`: time until a request's work is done;
//! - `saga`: compensating calls when a request fails after calls that can be undone;
//! - `polling`: clients polling the entry for the result of asynchronous work;
//! - `delivery`: failed messages delivered again, and dead-letter queues;
//! - `histogram`: the compact per-service and per-call latency histograms;
//! - `stats`: histograms, the report and live snapshots.

pub(crate) mod breaker;
mod calls;
mod delivery;
mod events;
mod faults;
mod histogram;
mod polling;
mod request;
mod saga;
pub(crate) mod sampler;
mod service;
mod settle;
pub(crate) mod stats;

use std::collections::VecDeque;

// Xoshiro256++: fast, and reproducible for a given seed with the pinned rand version.
pub(crate) use rand::rngs::SmallRng as SimRng;
use rand::{Rng as _, SeedableRng};
use rand_distr::{Distribution as _, Exp1};

// ---------------------------------------------------------------------------------------------------------------
// Common random numbers. The simulator and the emulator draw from the same streams, so that a run for real with
// the same seed replays the simulation's arrivals and, service by service, its draws: what differs between the two
// is then the machine and the configuration, not luck. Each flow's arrivals have a stream of their own; each
// service's service times, failures and call probabilities come from the service's stream, in the order its work
// asks for them.

/// The stream of a flow's arrival gaps.
pub(crate) fn arrival_stream(seed: u64, flow: usize) -> SimRng {
    SimRng::seed_from_u64(seed.wrapping_add(0x5eed_u64.wrapping_mul(flow as u64 + 1)))
}

/// The stream of a service's service times, failures and call probabilities.
pub(crate) fn service_stream(seed: u64, service: usize) -> SimRng {
    SimRng::seed_from_u64(seed ^ 0x9e37_79b9_u64.wrapping_mul(service as u64 + 1))
}

/// True with probability `p`; a certain outcome (`p` ≥ 1 or ≤ 0) draws nothing, so both sides' streams stay in step.
#[inline]
pub(crate) fn chance(rng: &mut SimRng, p: f64) -> bool {
    if p >= 1.0 {
        return true;
    }
    if p <= 0.0 {
        return false;
    }
    rng.random::<f64>() < p
}

/// A Poisson process's gap at `rate_per_s`, in seconds, from one draw of `rng`.
#[inline]
pub(crate) fn poisson_gap_s(rng: &mut SimRng, rate_per_s: f64) -> f64 {
    let unit: f64 = Exp1.sample(rng);
    unit / rate_per_s
}

use self::calls::{Call, EdgeState};
use self::events::{EventKind, EventQueue, Timeout, TimeoutLanes, event_key, key_time};
use self::request::Job;
use self::sampler::Sampler;
use self::service::{Replica, ServiceState};
use self::settle::Requests;
use self::stats::{FLOW_HISTOGRAM_DIGITS, PART_HISTOGRAM_DIGITS, new_histogram};
use super::report::{EdgeReport, LatencyHistogram};
use crate::model::{ArrivalProcess, CallMode, Design, Fault, ServiceKind, SimulationSettings};

/// "No index": no parent call, no incoming async edge.
const NONE: u32 = u32::MAX;

/// Per-flow state and statistics.
#[derive(Debug, Clone)]
struct FlowState {
    /// The flow's arrival stream (common random numbers).
    arrivals: SimRng,
    entry: u32,
    arrival: ArrivalProcess,
    /// Rate set live, replacing the design's rate and pattern.
    rate_override: Option<f64>,
    token: u32,
    total_started: u64,
    total_completed: u64,
    total_failed: u64,
    started: u64,
    completed: u64,
    failed: u64,
    latency: LatencyHistogram,
    recent_latency: LatencyHistogram,
    /// Answered requests whose work is all done (measured period), and their settle times.
    settled: u64,
    settle_failed: u64,
    settle: LatencyHistogram,
    recent_settle: LatencyHistogram,
    /// Answered requests whose work is still going now (whole run).
    settling: u64,
    /// Sagas (measured period): requests rolled back, those a compensation of which failed, and the windows.
    compensated: u64,
    compensation_failed: u64,
    inconsistency_window: LatencyHistogram,
    /// Polling clients (measured requests): polls made, results seen, and the time until seen.
    polls: u64,
    seen: u64,
    seen_ms: LatencyHistogram,
    recent_seen: LatencyHistogram,
}

/// A call of a group as a hop reads it: the edge and copies of its routing fields, stored in group order. A hop
/// then reads one short array instead of the edge's whole state (hundreds of bytes, which on a large design is a
/// likely cache miss per field read).
#[derive(Debug, Clone, Copy)]
struct GroupCall {
    edge: u32,
    /// The topic a broker routes by (see `filtered_by_topic`).
    topic: u32,
    probability: f64,
    asynchronous: bool,
    /// A broker's async call with a topic: it carries only messages of that topic.
    filtered_by_topic: bool,
    /// The edge of the call's compensating call (see `saga`), or `NONE`.
    compensation: u32,
}

/// Why a simulation could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SimError(pub String);

/// A discrete-event simulation of a design.
pub struct Simulation {
    design: Design,
    settings: SimulationSettings,
    now: f64,
    seq: u64,
    events: u64,
    queue: EventQueue,
    /// Sync calls' timeouts, in lanes beside the heap.
    timeouts: TimeoutLanes,
    jobs: Vec<Job>,
    free_jobs: Vec<u32>,
    calls: Vec<Call>,
    free_calls: Vec<u32>,
    requests: Requests,
    /// Jobs rolling back or with calls to undo (see `saga`).
    sagas: saga::Sagas,
    services: Vec<ServiceState>,
    edges: Vec<EdgeState>,
    flows: Vec<FlowState>,
    /// `group_index[service * flows + flow]`: the service's calls of the flow, grouped by order, as the first of
    /// its groups in `groups` and how many there are.
    group_index: Vec<(u32, u32)>,
    /// Each group's calls, as a range of `group_calls`.
    groups: Vec<(u32, u32)>,
    group_calls: Vec<GroupCall>,
    topics: Vec<String>,
    /// Planned and injected faults: the fault, its service's index, and whether it is in force.
    faults: Vec<(Fault, u32, bool)>,
    warmup_ms: f64,
    end_ms: f64,
    /// Whether anyone reads live snapshots: set by the first one. The recent latencies, settle times and lags
    /// they carry are only kept from then on, so a run nobody watches (the CLI, a sweep) does not pay for them.
    live: bool,
}

impl Simulation {
    /// Sets up a simulation of a valid design. `settings` replaces the design's simulation section.
    pub fn new(design: &Design, settings: SimulationSettings) -> Result<Self, SimError> {
        if let Some(problem) = crate::model::validate(design).into_iter().next() {
            return Err(SimError(format!("the design is not valid: {problem}")));
        }
        if !(settings.duration_s.is_finite() && settings.duration_s > 0.0) {
            return Err(SimError(format!(
                "the duration must be a positive number of seconds, not {}",
                settings.duration_s
            )));
        }
        if !(settings.warmup_s.is_finite()
            && settings.warmup_s >= 0.0
            && settings.warmup_s < settings.duration_s)
        {
            return Err(SimError(format!(
                "the warm-up ({} s) must be at least 0 and shorter than the duration ({} s)",
                settings.warmup_s, settings.duration_s
            )));
        }
        let index = |id: &str| design.services.iter().position(|s| s.id.as_str() == id);
        let mut topics: Vec<String> = vec![String::new()];
        let mut topic_index = |topic: &Option<String>| -> u32 {
            match topic {
                None => 0,
                Some(t) => match topics.iter().position(|x| x == t) {
                    Some(i) => i as u32,
                    None => {
                        topics.push(t.clone());
                        (topics.len() - 1) as u32
                    }
                },
            }
        };
        let services: Vec<ServiceState> = design
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| {
                ServiceState::new(
                    service_stream(settings.seed, i),
                    vec![
                        Replica {
                            queue: VecDeque::new(),
                            busy: 0
                        };
                        s.replicas as usize
                    ],
                    s.concurrency,
                    s.queue_capacity,
                    Sampler::new(&s.service_time),
                    s.error_rate,
                    s.kind == ServiceKind::Broker,
                )
            })
            .collect();
        let mut edges = Vec::with_capacity(design.edges.len());
        for edge in &design.edges {
            let to = index(edge.to.as_str())
                .ok_or_else(|| SimError(format!("unknown service {}", edge.to)))?;
            let asynchronous = edge.mode == CallMode::Async;
            edges.push(EdgeState {
                to: to as u32,
                topic: topic_index(&edge.topic),
                asynchronous,
                in_flight: 0,
                breaker: Default::default(),
                total_calls: 0,
                calls: 0,
                total_failures: 0,
                report: EdgeReport::default(),
                latency: histogram::PartHistogram::new(),
                backlog: Default::default(),
                lag: asynchronous.then(histogram::PartHistogram::new),
                recent_lag: asynchronous.then(|| new_histogram(PART_HISTOGRAM_DIGITS)),
                compensation: NONE,
                dead_letter_after: edge.dead_letter.map_or(0, |d| d.after_deliveries),
                redeliveries: 0,
                dead_lettered: 0,
            });
        }
        for (state, edge) in edges.iter_mut().zip(&design.edges) {
            if let Some(compensation) = design.compensation_of(&edge.id) {
                state.compensation = compensation as u32;
            }
        }
        let flow_count = design.flows.len();
        let mut group_index = vec![(0u32, 0u32); design.services.len() * flow_count];
        let mut groups = Vec::new();
        let mut group_calls = Vec::new();
        for (f, flow) in design.flows.iter().enumerate() {
            for (s, service) in design.services.iter().enumerate() {
                let mut calls: Vec<usize> = design
                    .edges
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.from == service.id && e.on_forward_path(&flow.id))
                    .map(|(i, _)| i)
                    .collect();
                calls.sort_by_key(|&e| design.edges[e].order);
                let mut service_groups: Vec<Vec<u32>> = Vec::new();
                for e in calls {
                    match service_groups.last_mut() {
                        Some(group)
                            if design.edges[group[0] as usize].order == design.edges[e].order =>
                        {
                            group.push(e as u32)
                        }
                        _ => service_groups.push(vec![e as u32]),
                    }
                }
                group_index[s * flow_count + f] =
                    (groups.len() as u32, service_groups.len() as u32);
                for group in service_groups {
                    let start = group_calls.len() as u32;
                    group_calls.extend(group.into_iter().map(|e| {
                        let (state, edge) = (&edges[e as usize], &design.edges[e as usize]);
                        GroupCall {
                            edge: e,
                            topic: state.topic,
                            probability: edge.probability,
                            asynchronous: state.asynchronous,
                            filtered_by_topic: services[s].is_broker
                                && state.asynchronous
                                && edge.topic.is_some(),
                            compensation: state.compensation,
                        }
                    }));
                    groups.push((start, group_calls.len() as u32));
                }
            }
        }
        let mut flows = Vec::with_capacity(design.flows.len());
        for flow in &design.flows {
            let entry = index(flow.entry.as_str())
                .ok_or_else(|| SimError(format!("unknown service {}", flow.entry)))?;
            flows.push(FlowState {
                arrivals: arrival_stream(settings.seed, flows.len()),
                entry: entry as u32,
                arrival: flow.arrival,
                rate_override: None,
                token: 0,
                total_started: 0,
                total_completed: 0,
                total_failed: 0,
                started: 0,
                completed: 0,
                failed: 0,
                latency: new_histogram(FLOW_HISTOGRAM_DIGITS),
                recent_latency: new_histogram(FLOW_HISTOGRAM_DIGITS),
                settled: 0,
                settle_failed: 0,
                settle: new_histogram(FLOW_HISTOGRAM_DIGITS),
                recent_settle: new_histogram(FLOW_HISTOGRAM_DIGITS),
                settling: 0,
                compensated: 0,
                compensation_failed: 0,
                inconsistency_window: new_histogram(FLOW_HISTOGRAM_DIGITS),
                polls: 0,
                seen: 0,
                seen_ms: new_histogram(FLOW_HISTOGRAM_DIGITS),
                recent_seen: new_histogram(FLOW_HISTOGRAM_DIGITS),
            });
        }
        let mut simulation = Self {
            design: design.clone(),
            settings,
            now: 0.0,
            seq: 0,
            events: 0,
            queue: EventQueue::default(),
            timeouts: TimeoutLanes::new(edges.len()),
            jobs: Vec::new(),
            free_jobs: Vec::new(),
            calls: Vec::new(),
            free_calls: Vec::new(),
            requests: Requests::default(),
            sagas: saga::Sagas::default(),
            services,
            edges,
            flows,
            group_index,
            groups,
            group_calls,
            topics,
            faults: Vec::new(),
            warmup_ms: settings.warmup_s * 1000.0,
            end_ms: settings.duration_s * 1000.0,
            live: false,
        };
        for fault in design.faults.clone() {
            simulation.add_fault(fault);
        }
        for f in 0..simulation.flows.len() {
            simulation.schedule_next_arrival(f as u32);
        }
        Ok(simulation)
    }

    /// Simulated time, in seconds.
    pub fn time_s(&self) -> f64 {
        self.now / 1000.0
    }

    /// Whether the run has reached its duration.
    pub fn finished(&self) -> bool {
        self.now >= self.end_ms
    }

    /// The run's settings.
    pub fn settings(&self) -> SimulationSettings {
        self.settings
    }

    // Inlined: it is a counter and a heap push, and a call's saving and restoring of registers cost as much.
    #[inline(always)]
    fn schedule(&mut self, time: f64, kind: EventKind) {
        self.seq += 1;
        self.queue.push(events::Event {
            key: event_key(time, self.seq),
            kind,
        });
    }

    /// Sets a sync call's overall timeout (`try_number` None) or its try's, at `time`. It takes its turn among
    /// the events exactly as if it were in the heap: the same key of time and sequence number.
    fn schedule_timeout(
        &mut self,
        edge: u32,
        time: f64,
        call: u32,
        generation: u32,
        try_number: Option<u32>,
    ) {
        self.seq += 1;
        let key = event_key(time, self.seq);
        let lane = TimeoutLanes::lane(edge, try_number.is_some());
        let timeout = Timeout {
            key,
            call,
            generation,
            try_number: try_number.unwrap_or(0),
        };
        if self.timeouts.push(lane, timeout) {
            self.queue.push(events::Event {
                key,
                kind: EventKind::Timeout { lane },
            });
        }
    }

    /// The first timeout of a lane came up: handles it, then gives the lane's next timeout its event. Timeouts
    /// that have gone stale (their call or try ended first; it never comes back) are dropped on the way, if they
    /// are due by `until`, and counted as the events they would have been.
    fn on_timeout(&mut self, lane: u32, until: f64) {
        if let Some(timeout) = self.timeouts.start_handling(lane) {
            if TimeoutLanes::of_try(lane) {
                self.on_try_timeout(timeout.call, timeout.generation, timeout.try_number);
            } else {
                self.on_call_timeout(timeout.call, timeout.generation);
            }
        }
        while let Some(&next) = self.timeouts.first(lane) {
            let stale = if TimeoutLanes::of_try(lane) {
                !self.try_timeout_counts(next.call, next.generation, next.try_number)
            } else {
                !self.call_timeout_counts(next.call, next.generation)
            };
            if !(stale && key_time(next.key) <= until) {
                self.queue.push(events::Event {
                    key: next.key,
                    kind: EventKind::Timeout { lane },
                });
                break;
            }
            self.timeouts.drop_first(lane);
            self.events += 1;
        }
        self.timeouts.end_handling();
    }

    fn measuring(&self) -> bool {
        self.now >= self.warmup_ms
    }

    /// The arrival rate of a flow at `time_ms`.
    fn rate_at(&self, flow: usize, time_ms: f64) -> f64 {
        self.flows[flow]
            .rate_override
            .unwrap_or_else(|| self.design.flows[flow].rate_at(time_ms / 1000.0))
    }

    /// The next time after `time_ms` at which the flow's pattern changes its rate.
    fn next_rate_change(&self, flow: usize, time_ms: f64) -> Option<f64> {
        if self.flows[flow].rate_override.is_some() {
            return None;
        }
        self.design.flows[flow]
            .pattern
            .iter()
            .flatten()
            .map(|step| step.at_s * 1000.0)
            .find(|&at| at > time_ms)
    }

    fn schedule_next_arrival(&mut self, flow: u32) {
        let f = flow as usize;
        let mut from = self.now;
        // Walk over rate steps until one gives a next arrival (a rate of 0 waits for the next step).
        loop {
            let rate = self.rate_at(f, from);
            let change = self.next_rate_change(f, from);
            if rate > 0.0 {
                let gap_ms = match self.flows[f].arrival {
                    ArrivalProcess::Poisson => {
                        poisson_gap_s(&mut self.flows[f].arrivals, rate) * 1000.0
                    }
                    ArrivalProcess::Constant => 1000.0 / rate,
                };
                let at = from + gap_ms;
                match change {
                    // Poisson arrivals are memoryless, so resampling at a rate change is exact.
                    Some(change_at) if at > change_at => from = change_at,
                    _ => {
                        if at <= self.end_ms {
                            let token = self.flows[f].token;
                            self.schedule(at, EventKind::Arrival { flow, token });
                        }
                        return;
                    }
                }
            } else {
                match change {
                    Some(change_at) => from = change_at,
                    None => return,
                }
            }
            if from > self.end_ms {
                return;
            }
        }
    }

    /// Sets a flow's arrival rate from now on, replacing its rate and pattern.
    pub fn set_flow_rate(&mut self, flow: usize, rate_rps: f64) {
        if flow >= self.flows.len() || !rate_rps.is_finite() || rate_rps < 0.0 {
            return;
        }
        self.flows[flow].rate_override = Some(rate_rps);
        self.flows[flow].token = self.flows[flow].token.wrapping_add(1);
        self.schedule_next_arrival(flow as u32);
    }

    /// Processes events up to simulated time `until_s` (at most the run's duration).
    pub fn step_until(&mut self, until_s: f64) {
        let until = (until_s * 1000.0).min(self.end_ms);
        while let Some(key) = self.queue.peek_key() {
            let time = key_time(key);
            if time > until {
                break;
            }
            let Some(event) = self.queue.pop() else { break };
            self.now = time;
            self.events += 1;
            match event.kind {
                EventKind::Arrival { flow, token } => self.on_arrival(flow, token),
                EventKind::WorkDone { job, generation } => {
                    let j = &self.jobs[job as usize];
                    if j.live && j.generation == generation {
                        self.on_work_done(job);
                    }
                }
                EventKind::Timeout { lane } => self.on_timeout(lane, until),
                EventKind::RetryDue { call, generation } => self.on_retry_due(call, generation),
                EventKind::FaultEdge { fault } => self.on_fault_edge(fault),
                EventKind::Poll { flow, request } => self.on_poll(flow, request),
            }
        }
        if until > self.now {
            self.now = until;
        }
    }

    /// Runs to the end and reports.
    pub fn run(mut self) -> super::SimReport {
        self.step_until(self.settings.duration_s);
        self.report()
    }

    /// Requests and messages alive now (for memory checks).
    pub fn jobs_in_flight(&self) -> usize {
        self.jobs.len() - self.free_jobs.len()
    }

    /// Events processed so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Events waiting in the queue (for memory checks): bounded by the design's workers, queues and calls in
    /// flight, not by the offered load.
    pub fn events_pending(&self) -> usize {
        self.queue.len() + self.timeouts.len()
    }

    /// Topic names known to the run (index 0 is "no topic").
    pub fn topics(&self) -> &[String] {
        &self.topics
    }
}
