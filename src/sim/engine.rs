//! The discrete-event engine. It follows the request semantics of `docs/design-format.md` exactly; see
//! `docs/simulation.md` for the choices the format leaves open.

use std::collections::VecDeque;

use hdrhistogram::Histogram;
// Xoshiro256++: fast, and reproducible for a given seed with the pinned rand version.
use rand::rngs::SmallRng as SimRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution as _, Exp1, LogNormal};

use super::report::{
    BreakerState, EdgeLive, EdgeReport, FlowLive, FlowReport, LatencyHistogram, LatencyStats,
    ServiceLive, ServiceReport, SimReport, Snapshot,
};
use crate::model::{
    ArrivalProcess, CallMode, Design, Distribution, Fault, FaultKind, ServiceKind,
    SimulationSettings,
};

const NONE: u32 = u32::MAX;
/// Histograms record microseconds from 1 µs to about 11 days with 3 significant digits.
const HISTOGRAM_MAX_US: u64 = 1_000_000_000_000;

/// An event: what happens, and when. Ties in time are broken by `seq`, first scheduled first.
#[derive(Debug, Clone, Copy)]
struct Event {
    /// The time's bits above the sequence number: simulated times are never negative, and the bits of
    /// non-negative floats order like the floats, so one integer comparison orders events by (time, seq).
    key: u128,
    kind: EventKind,
}

#[derive(Debug, Clone, Copy)]
enum EventKind {
    /// The next request of a flow arrives (stale when `token` is old).
    Arrival { flow: u32, token: u32 },
    /// A job's local work ends.
    WorkDone { job: u32, generation: u32 },
    /// A try of a sync call ran out of time.
    TryTimeout {
        call: u32,
        generation: u32,
        try_number: u32,
    },
    /// A sync call ran out of its overall time.
    CallTimeout { call: u32, generation: u32 },
    /// The backoff before a retry is over.
    RetryDue { call: u32, generation: u32 },
    /// A fault starts or ends.
    FaultEdge { fault: u32 },
}

/// A 4-ary min-heap of events: shallower than a binary heap, so a pop touches fewer cache lines; the event queue is
/// the simulator's hottest structure.
#[derive(Debug, Default)]
struct EventQueue {
    heap: Vec<Event>,
}

impl EventQueue {
    fn peek_key(&self) -> Option<u128> {
        self.heap.first().map(|e| e.key)
    }

    fn push(&mut self, event: Event) {
        let mut child = self.heap.len();
        self.heap.push(event);
        while child > 0 {
            let parent = (child - 1) / 4;
            if self.heap[parent].key <= event.key {
                break;
            }
            self.heap[child] = self.heap[parent];
            child = parent;
        }
        self.heap[child] = event;
    }

    fn pop(&mut self) -> Option<Event> {
        let last = self.heap.pop()?;
        let Some(&top) = self.heap.first() else {
            return Some(last);
        };
        let heap = self.heap.as_mut_slice();
        let len = heap.len();
        let mut hole = 0;
        loop {
            let first_child = hole * 4 + 1;
            if first_child >= len {
                break;
            }
            let end = (first_child + 4).min(len);
            // One bounds check for the whole group of children.
            let children = &heap[first_child..end];
            let mut smallest = 0;
            let mut smallest_key = children[0].key;
            for (offset, child) in children.iter().enumerate().skip(1) {
                if child.key < smallest_key {
                    smallest = offset;
                    smallest_key = child.key;
                }
            }
            if smallest_key >= last.key {
                break;
            }
            let child = first_child + smallest;
            heap[hole] = heap[child];
            hole = child;
        }
        heap[hole] = last;
        Some(top)
    }
}

/// A sampler of service times in milliseconds.
#[derive(Debug, Clone, Copy)]
enum Sampler {
    Exponential(f64),
    Constant(f64),
    Uniform(f64, f64),
    LogNormal(LogNormal<f64>),
}

impl Sampler {
    fn new(dist: &Distribution) -> Self {
        match *dist {
            Distribution::Exponential { mean_ms } => Sampler::Exponential(mean_ms),
            Distribution::Constant { ms } => Sampler::Constant(ms),
            Distribution::Uniform { min_ms, max_ms } => Sampler::Uniform(min_ms, max_ms),
            Distribution::Lognormal { median_ms, p99_ms } => {
                let sigma = Distribution::lognormal_sigma(median_ms, p99_ms);
                match LogNormal::new(median_ms.ln(), sigma) {
                    Ok(d) => Sampler::LogNormal(d),
                    // Validation guarantees a positive median and finite sigma; fall back to the median if not.
                    Err(_) => Sampler::Constant(median_ms),
                }
            }
        }
    }

    fn sample(&self, rng: &mut SimRng) -> f64 {
        match *self {
            Sampler::Exponential(mean) => {
                let unit: f64 = Exp1.sample(rng);
                unit * mean
            }
            Sampler::Constant(ms) => ms,
            Sampler::Uniform(min, max) => {
                if max > min {
                    rng.random_range(min..max)
                } else {
                    min
                }
            }
            Sampler::LogNormal(d) => d.sample(rng),
        }
    }
}

/// A unit of work at a service: a request, a sync try, or an async message.
#[derive(Debug, Clone)]
struct Job {
    generation: u32,
    flow: u32,
    service: u32,
    replica: u32,
    /// Topic the message carries (index into the topic table), for brokers.
    topic: u32,
    /// The sync call this job answers, and which try of it; `NONE` for roots and messages.
    parent_call: u32,
    parent_call_generation: u32,
    parent_try: u32,
    /// Whether this is the root request of a measured flow request.
    root_measured: bool,
    is_root: bool,
    arrived_at: f64,
    /// The next call group to run.
    group: u32,
    /// Sync calls of the current group still waiting for an answer.
    pending_calls: u32,
    /// Sync calls this job is waiting on (to abandon them when it fails).
    open_calls: Vec<u32>,
    in_service: bool,
    /// Stuck in a hang: its worker never finishes it.
    hung: bool,
    live: bool,
}

/// A sync call in flight.
#[derive(Debug, Clone)]
struct Call {
    generation: u32,
    edge: u32,
    caller: u32,
    caller_generation: u32,
    /// Tries made so far (the first try is 1).
    tries: u32,
    /// Whether a try is in flight now (counted against the bulkhead).
    try_in_flight: bool,
    /// Whether the try in flight is a half-open breaker's trial.
    trial: bool,
    started_at: f64,
    live: bool,
}

#[derive(Debug, Clone)]
struct Replica {
    queue: VecDeque<u32>,
    busy: u32,
}

/// Per-service state and statistics.
#[derive(Debug, Clone)]
struct ServiceState {
    replicas: Vec<Replica>,
    concurrency: u32,
    queue_capacity: Option<u32>,
    sampler: Sampler,
    error_rate: f64,
    is_broker: bool,
    next_replica: usize,
    // Gauges, over all replicas.
    waiting: u64,
    busy: u64,
    last_change: f64,
    // Whole-run counters for the live view.
    total_arrivals: u64,
    total_rejected: u64,
    total_failed: u64,
    // Measured statistics.
    arrivals: u64,
    completed: u64,
    failed: u64,
    rejected: u64,
    busy_area: f64,
    waiting_area: f64,
    sojourn: LatencyHistogram,
    /// Sojourn times since the previous snapshot, for the live table.
    recent_sojourn: LatencyHistogram,
    // Faults in force.
    down: u32,
    hanging: u32,
    slow_factor: f64,
    fault_error_rate: f64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Breaker {
    state: BreakerState,
    consecutive_failures: u32,
    open_until: f64,
    /// When the half-open trial started; a trial whose caller gave up never reports, so after another open
    /// period a new trial is let through.
    trial_started: f64,
}

#[derive(Debug, Clone)]
struct EdgeState {
    to: u32,
    topic: u32,
    /// Copies of the edge's mode, topic presence and probability, kept beside its state for the hot path.
    asynchronous: bool,
    has_topic: bool,
    probability: f64,
    in_flight: u32,
    breaker: Breaker,
    total_calls: u64,
    total_failures: u64,
    report: EdgeReport,
    /// From the call to its successful answer (sync calls, measured period), for the per-hop latencies.
    latency: LatencyHistogram,
}

#[derive(Debug, Clone)]
struct FlowState {
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
}

/// Why a simulation could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SimError(pub String);

/// A discrete-event simulation of a design.
pub struct Simulation {
    design: Design,
    settings: SimulationSettings,
    rng: SimRng,
    now: f64,
    seq: u64,
    events: u64,
    queue: EventQueue,
    jobs: Vec<Job>,
    free_jobs: Vec<u32>,
    calls: Vec<Call>,
    free_calls: Vec<u32>,
    services: Vec<ServiceState>,
    edges: Vec<EdgeState>,
    flows: Vec<FlowState>,
    /// `group_spans[service * flows + flow]`: the service's calls of the flow, grouped by order, as ranges of
    /// `group_edges`.
    group_spans: Vec<Vec<(u32, u32)>>,
    group_edges: Vec<u32>,
    topics: Vec<String>,
    faults: Vec<(Fault, u32, bool)>,
    warmup_ms: f64,
    end_ms: f64,
}

/// Significant digits of a flow's end-to-end latencies: the figures a run is judged by (SLOs, comparisons).
const FLOW_HISTOGRAM_DIGITS: u8 = 3;

/// Significant digits of the per-service and per-call latencies (within 1%). A design has a few flows but
/// thousands of services and calls, and at 3 digits their histograms were most of a large run's memory
/// (32 KiB each up to 100 ms, against 5.5 KiB at 2 digits).
const PART_HISTOGRAM_DIGITS: u8 = 2;

fn new_histogram(significant_digits: u8) -> LatencyHistogram {
    // 2 and 3 significant digits are valid, fixed configurations; the histogram resizes itself as values arrive.
    Histogram::new(significant_digits).unwrap_or_else(|e| unreachable!("histogram precision: {e}"))
}

fn record(histogram: &mut LatencyHistogram, ms: f64) {
    // Rounded to the nearest microsecond; the clamp keeps the value inside the histogram's range.
    let us = (ms * 1000.0 + 0.5).clamp(1.0, HISTOGRAM_MAX_US as f64) as u64;
    // `record` grows the histogram to the value; only a count at its `u32` limit fails, and then saturates.
    if histogram.record(us).is_err() {
        histogram.saturating_record(us);
    }
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
            .map(|s| ServiceState {
                replicas: vec![
                    Replica {
                        queue: VecDeque::new(),
                        busy: 0
                    };
                    s.replicas as usize
                ],
                concurrency: s.concurrency,
                queue_capacity: s.queue_capacity,
                sampler: Sampler::new(&s.service_time),
                error_rate: s.error_rate,
                is_broker: s.kind == ServiceKind::Broker,
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
                sojourn: new_histogram(PART_HISTOGRAM_DIGITS),
                recent_sojourn: new_histogram(PART_HISTOGRAM_DIGITS),
                down: 0,
                hanging: 0,
                slow_factor: 1.0,
                fault_error_rate: 0.0,
            })
            .collect();
        let mut edges = Vec::with_capacity(design.edges.len());
        for edge in &design.edges {
            let to = index(edge.to.as_str())
                .ok_or_else(|| SimError(format!("unknown service {}", edge.to)))?;
            edges.push(EdgeState {
                to: to as u32,
                topic: topic_index(&edge.topic),
                asynchronous: edge.mode == CallMode::Async,
                has_topic: edge.topic.is_some(),
                probability: edge.probability,
                in_flight: 0,
                breaker: Breaker::default(),
                total_calls: 0,
                total_failures: 0,
                report: EdgeReport::default(),
                latency: new_histogram(PART_HISTOGRAM_DIGITS),
            });
        }
        let flow_count = design.flows.len();
        let mut group_spans = vec![Vec::new(); design.services.len() * flow_count];
        let mut group_edges = Vec::new();
        for (f, flow) in design.flows.iter().enumerate() {
            for (s, service) in design.services.iter().enumerate() {
                let mut calls: Vec<usize> = design
                    .edges
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.from == service.id && e.in_flow(&flow.id))
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
                for group in service_groups {
                    let start = group_edges.len() as u32;
                    group_edges.extend(group);
                    group_spans[s * flow_count + f].push((start, group_edges.len() as u32));
                }
            }
        }
        let mut flows = Vec::with_capacity(design.flows.len());
        for flow in &design.flows {
            let entry = index(flow.entry.as_str())
                .ok_or_else(|| SimError(format!("unknown service {}", flow.entry)))?;
            flows.push(FlowState {
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
            });
        }
        let mut simulation = Self {
            design: design.clone(),
            settings,
            rng: SimRng::seed_from_u64(settings.seed),
            now: 0.0,
            seq: 0,
            events: 0,
            queue: EventQueue::default(),
            jobs: Vec::new(),
            free_jobs: Vec::new(),
            calls: Vec::new(),
            free_calls: Vec::new(),
            services,
            edges,
            flows,
            group_spans,
            group_edges,
            topics,
            faults: Vec::new(),
            warmup_ms: settings.warmup_s * 1000.0,
            end_ms: settings.duration_s * 1000.0,
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

    fn schedule(&mut self, time: f64, kind: EventKind) {
        self.seq += 1;
        // Times are sums of non-negative samples from 0, so never negative; max(0.0) also turns -0.0 into 0.0.
        let time_bits = u128::from(time.max(0.0).to_bits());
        self.queue.push(Event {
            key: (time_bits << 64) | u128::from(self.seq),
            kind,
        });
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
                        let unit: f64 = Exp1.sample(&mut self.rng);
                        unit * 1000.0 / rate
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

    /// Moves every time-weighted statistic of a service up to now.
    fn touch(&mut self, service: usize) {
        let s = &mut self.services[service];
        let from = s.last_change.max(self.warmup_ms);
        if self.now > from {
            let dt = self.now - from;
            s.busy_area += s.busy as f64 * dt;
            s.waiting_area += s.waiting as f64 * dt;
        }
        s.last_change = self.now;
    }

    fn measuring(&self) -> bool {
        self.now >= self.warmup_ms
    }

    fn new_job(&mut self, flow: u32, service: u32, topic: u32) -> u32 {
        let job = Job {
            generation: 0,
            flow,
            service,
            replica: 0,
            topic,
            parent_call: NONE,
            parent_call_generation: 0,
            parent_try: 0,
            root_measured: false,
            is_root: false,
            arrived_at: self.now,
            group: 0,
            pending_calls: 0,
            open_calls: Vec::new(),
            in_service: false,
            hung: false,
            live: true,
        };
        match self.free_jobs.pop() {
            Some(index) => {
                // Reuse the slot field by field, keeping its call list's allocation.
                let slot = &mut self.jobs[index as usize];
                slot.generation = slot.generation.wrapping_add(1);
                slot.flow = job.flow;
                slot.service = job.service;
                slot.replica = 0;
                slot.topic = job.topic;
                slot.parent_call = NONE;
                slot.parent_call_generation = 0;
                slot.parent_try = 0;
                slot.root_measured = false;
                slot.is_root = false;
                slot.arrived_at = job.arrived_at;
                slot.group = 0;
                slot.pending_calls = 0;
                slot.open_calls.clear();
                slot.in_service = false;
                slot.hung = false;
                slot.live = true;
                index
            }
            None => {
                self.jobs.push(job);
                (self.jobs.len() - 1) as u32
            }
        }
    }

    fn free_job(&mut self, job: u32) {
        self.jobs[job as usize].live = false;
        self.free_jobs.push(job);
    }

    /// A job arrives at its service. Returns false when it was turned away (full queue, or a sync call to a
    /// service that is down); the caller handles that as a failure.
    fn arrive(&mut self, job: u32) -> bool {
        let service = self.jobs[job as usize].service as usize;
        let is_sync_try = self.jobs[job as usize].parent_call != NONE;
        let measuring = self.measuring();
        self.touch(service);
        let s = &mut self.services[service];
        s.total_arrivals += 1;
        if measuring {
            s.arrivals += 1;
        }
        if s.down > 0 && is_sync_try {
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
        if !can_start {
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
            self.jobs[job as usize].replica = best as u32;
            return true;
        }
        self.jobs[job as usize].replica = best as u32;
        self.start_work(job);
        true
    }

    fn start_work(&mut self, job: u32) {
        let (service, replica) = {
            let j = &self.jobs[job as usize];
            (j.service as usize, j.replica as usize)
        };
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
        let work_ms = s.sampler.sample(&mut self.rng) * factor;
        let generation = self.jobs[job as usize].generation;
        self.schedule(self.now + work_ms, EventKind::WorkDone { job, generation });
    }

    /// Frees the job's worker and starts the next waiting job of its replica.
    fn release_worker(&mut self, job: u32) {
        let (service, replica) = {
            let j = &self.jobs[job as usize];
            (j.service as usize, j.replica as usize)
        };
        self.touch(service);
        let s = &mut self.services[service];
        s.replicas[replica].busy -= 1;
        s.busy -= 1;
        self.jobs[job as usize].in_service = false;
        self.start_waiting(service, replica);
    }

    fn start_waiting(&mut self, service: usize, replica: usize) {
        loop {
            let s = &mut self.services[service];
            if s.down > 0 || s.replicas[replica].busy >= s.concurrency {
                return;
            }
            let Some(next) = s.replicas[replica].queue.pop_front() else {
                return;
            };
            s.waiting -= 1;
            self.start_work(next);
        }
    }

    fn on_work_done(&mut self, job: u32) {
        let service = self.jobs[job as usize].service as usize;
        let s = &self.services[service];
        let error_rate = 1.0 - (1.0 - s.error_rate) * (1.0 - s.fault_error_rate);
        if error_rate > 0.0 && self.rng.random_bool(error_rate.min(1.0)) {
            self.finish_job(job, false);
            return;
        }
        self.run_groups(job);
    }

    /// Makes the job's calls, group after group, until a group has sync calls to wait for or all are done.
    fn run_groups(&mut self, job: u32) {
        loop {
            let (service, flow, group, topic) = {
                let j = &self.jobs[job as usize];
                (
                    j.service as usize,
                    j.flow as usize,
                    j.group as usize,
                    j.topic,
                )
            };
            let spans = &self.group_spans[service * self.flows.len() + flow];
            let Some(&(start, end)) = spans.get(group) else {
                self.finish_job(job, true);
                return;
            };
            self.jobs[job as usize].group += 1;
            let is_broker = self.services[service].is_broker;
            let mut pending = 0;
            for k in start..end {
                let e = self.group_edges[k as usize];
                let edge = &self.edges[e as usize];
                let asynchronous = edge.asynchronous;
                if is_broker && asynchronous && edge.has_topic && edge.topic != topic {
                    continue;
                }
                let probability = edge.probability;
                if probability < 1.0 && !self.rng.random_bool(probability.max(0.0)) {
                    continue;
                }
                match asynchronous {
                    true => self.send_message(job, e),
                    false => {
                        if !self.jobs[job as usize].live {
                            break;
                        }
                        match self.start_call(job, e) {
                            CallStart::Pending => pending += 1,
                            CallStart::Failed => {
                                // A failed sync call fails the caller at once.
                                self.fail_job_with_open_calls(job);
                                return;
                            }
                        }
                    }
                }
            }
            if pending > 0 {
                self.jobs[job as usize].pending_calls = pending;
                return;
            }
        }
    }

    fn send_message(&mut self, job: u32, edge: u32) {
        let flow = self.jobs[job as usize].flow;
        let to = self.edges[edge as usize].to;
        let topic = self.edges[edge as usize].topic;
        let measuring = self.measuring();
        let e = &mut self.edges[edge as usize];
        e.total_calls += 1;
        if measuring {
            e.report.calls += 1;
        }
        let message = self.new_job(flow, to, topic);
        if !self.arrive(message) {
            let e = &mut self.edges[edge as usize];
            e.total_failures += 1;
            if measuring {
                e.report.failures += 1;
            }
            self.free_job(message);
        }
    }

    fn start_call(&mut self, job: u32, edge: u32) -> CallStart {
        let measuring = self.measuring();
        let e = &mut self.edges[edge as usize];
        e.total_calls += 1;
        if measuring {
            e.report.calls += 1;
        }
        let call = Call {
            generation: 0,
            edge,
            caller: job,
            caller_generation: self.jobs[job as usize].generation,
            tries: 0,
            try_in_flight: false,
            trial: false,
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
        if let Some(timeout) = self.design.edges[edge as usize].timeout_ms {
            self.schedule(
                self.now + timeout,
                EventKind::CallTimeout {
                    call: index,
                    generation,
                },
            );
        }
        self.jobs[job as usize].open_calls.push(index);
        match self.start_try(index) {
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
        }
    }

    /// Starts the next try of a call, unless the breaker or the bulkhead refuses it or the callee is down or full.
    fn start_try(&mut self, call: u32) -> TryStart {
        let edge = self.calls[call as usize].edge as usize;
        let policy = &self.design.edges[edge];
        let max_in_flight = policy.max_in_flight;
        let per_try = policy.retry.and_then(|r| r.per_try_timeout_ms);
        let breaker_policy = policy.circuit_breaker;
        let now = self.now;
        let e = &mut self.edges[edge];
        let mut trial = false;
        if let Some(policy) = breaker_policy {
            let stale_trial = e.breaker.state == BreakerState::HalfOpen
                && now >= e.breaker.trial_started + policy.open_ms;
            match e.breaker.state {
                BreakerState::Open if now >= e.breaker.open_until => trial = true,
                BreakerState::HalfOpen if stale_trial => trial = true,
                BreakerState::Open | BreakerState::HalfOpen => {
                    return TryStart::FailedAtOnce {
                        short_circuited: true,
                    };
                }
                BreakerState::Closed => {}
            }
            if trial {
                e.breaker.state = BreakerState::HalfOpen;
                e.breaker.trial_started = now;
            }
        }
        // A refused try still counts as a try, so retries cannot loop on a full bulkhead.
        self.calls[call as usize].tries += 1;
        self.calls[call as usize].trial = trial;
        let try_number = self.calls[call as usize].tries;
        let e = &mut self.edges[edge];
        if max_in_flight.is_some_and(|max| e.in_flight >= max) {
            if trial {
                // The trial never went out: let the next call be the trial.
                e.breaker.state = BreakerState::Open;
            }
            return TryStart::FailedAtOnce {
                short_circuited: false,
            };
        }
        let flow = self.jobs[self.calls[call as usize].caller as usize].flow;
        let to = e.to;
        let callee = self.new_job(flow, to, 0);
        {
            let c = &self.calls[call as usize];
            let j = &mut self.jobs[callee as usize];
            j.parent_call = call;
            j.parent_call_generation = c.generation;
            j.parent_try = try_number;
        }
        if !self.arrive(callee) {
            self.free_job(callee);
            self.record_breaker(edge, false);
            return TryStart::FailedAtOnce {
                short_circuited: false,
            };
        }
        self.edges[edge].in_flight += 1;
        self.calls[call as usize].try_in_flight = true;
        if let Some(per_try) = per_try {
            let generation = self.calls[call as usize].generation;
            self.schedule(
                self.now + per_try,
                EventKind::TryTimeout {
                    call,
                    generation,
                    try_number,
                },
            );
        }
        TryStart::Started
    }

    fn record_breaker(&mut self, edge: usize, success: bool) {
        let Some(policy) = self.design.edges[edge].circuit_breaker else {
            return;
        };
        let now = self.now;
        let b = &mut self.edges[edge].breaker;
        if success {
            b.consecutive_failures = 0;
            b.state = BreakerState::Closed;
        } else {
            b.consecutive_failures += 1;
            if b.state == BreakerState::HalfOpen
                || b.consecutive_failures >= policy.consecutive_failures
            {
                b.state = BreakerState::Open;
                b.open_until = now + policy.open_ms;
            }
        }
    }

    /// After a failed try: schedules a retry when one is left and time allows, and returns true; or returns
    /// false when the call has failed for good.
    fn retry_or_fail(&mut self, call: u32, short_circuited: bool) -> bool {
        let edge = self.calls[call as usize].edge as usize;
        let measuring = self.measuring();
        if short_circuited {
            // An open breaker fails the call at once, without retries.
            let e = &mut self.edges[edge];
            if measuring {
                e.report.short_circuited += 1;
            }
            return false;
        }
        let policy = &self.design.edges[edge];
        let Some(retry) = policy.retry else {
            return false;
        };
        let tries = self.calls[call as usize].tries;
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
        if measuring {
            self.edges[edge].report.retries += 1;
        }
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
            self.fail_job_with_open_calls(caller);
        }
    }

    /// The call succeeded: its caller moves on when its group is complete.
    fn succeed_call(&mut self, call: u32) {
        let edge = self.calls[call as usize].edge as usize;
        self.record_breaker(edge, true);
        if self.measuring() {
            let took_ms = self.now - self.calls[call as usize].started_at;
            record(&mut self.edges[edge].latency, took_ms);
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
        j.pending_calls -= 1;
        if j.pending_calls == 0 {
            self.run_groups(caller);
        }
    }

    /// A job fails while it may still wait on sync calls: those are abandoned (their callees keep working).
    fn fail_job_with_open_calls(&mut self, job: u32) {
        let open = std::mem::take(&mut self.jobs[job as usize].open_calls);
        for call in open {
            if self.calls[call as usize].live {
                self.end_try(call);
                self.calls[call as usize].live = false;
                self.free_calls.push(call);
            }
        }
        self.finish_job(job, false);
    }

    /// The job's work at its service is over: record it, free the worker, and answer its caller.
    fn finish_job(&mut self, job: u32, success: bool) {
        let (
            service,
            flow,
            arrived_at,
            parent_call,
            parent_generation,
            parent_try,
            is_root,
            root_measured,
        ) = {
            let j = &self.jobs[job as usize];
            (
                j.service as usize,
                j.flow as usize,
                j.arrived_at,
                j.parent_call,
                j.parent_call_generation,
                j.parent_try,
                j.is_root,
                j.root_measured,
            )
        };
        let measuring = self.measuring();
        let sojourn = self.now - arrived_at;
        {
            let s = &mut self.services[service];
            if !success {
                s.total_failed += 1;
            }
            record(&mut s.recent_sojourn, sojourn);
            if measuring {
                if success {
                    s.completed += 1;
                } else {
                    s.failed += 1;
                }
                record(&mut s.sojourn, sojourn);
            }
        }
        if self.jobs[job as usize].in_service {
            self.release_worker(job);
        }
        self.free_job(job);
        if is_root {
            let f = &mut self.flows[flow];
            if success {
                f.total_completed += 1;
                record(&mut f.recent_latency, sojourn);
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
        }
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

    fn on_try_result(&mut self, call: u32, success: bool) {
        self.end_try(call);
        if success {
            self.succeed_call(call);
        } else {
            let edge = self.calls[call as usize].edge as usize;
            self.record_breaker(edge, false);
            if !self.retry_or_fail(call, false) {
                self.fail_call(call);
            }
        }
    }

    fn on_arrival(&mut self, flow: u32, token: u32) {
        if self.flows[flow as usize].token != token {
            return;
        }
        self.schedule_next_arrival(flow);
        let entry = self.flows[flow as usize].entry;
        let measuring = self.measuring();
        let job = self.new_job(flow, entry, 0);
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

    fn on_try_timeout(&mut self, call: u32, generation: u32, try_number: u32) {
        let c = &self.calls[call as usize];
        if !(c.live && c.generation == generation && c.tries == try_number && c.try_in_flight) {
            return;
        }
        let edge = c.edge as usize;
        if self.measuring() {
            self.edges[edge].report.timeouts += 1;
        }
        // The callee keeps working on the abandoned try: that work is wasted.
        self.on_try_result(call, false);
    }

    fn on_call_timeout(&mut self, call: u32, generation: u32) {
        let c = &self.calls[call as usize];
        if !(c.live && c.generation == generation) {
            return;
        }
        let edge = c.edge as usize;
        if self.measuring() {
            self.edges[edge].report.timeouts += 1;
        }
        if c.try_in_flight {
            self.record_breaker(edge, false);
        }
        self.fail_call(call);
    }

    fn on_retry_due(&mut self, call: u32, generation: u32) {
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

    /// Adds a fault; it takes effect from its start time (now, if that has passed).
    pub fn add_fault(&mut self, fault: Fault) {
        let Some(service) = self
            .design
            .services
            .iter()
            .position(|s| s.id == fault.service)
        else {
            return;
        };
        let index = self.faults.len() as u32;
        let start_ms = (fault.start_s * 1000.0).max(self.now);
        let end_ms = fault.end_s.map(|end| end * 1000.0);
        self.faults.push((fault, service as u32, false));
        self.schedule(start_ms, EventKind::FaultEdge { fault: index });
        if let Some(end_ms) = end_ms {
            self.schedule(end_ms.max(start_ms), EventKind::FaultEdge { fault: index });
        }
    }

    /// Ends every fault on a service now, as an operator restarting it would: work stuck in a hang is dropped (it
    /// fails, and its callers see the failure if they still wait) and its workers are free again. (A planned hang
    /// that simply ends leaves its stuck workers stuck, like a deadlock whose trigger went away.)
    pub fn clear_faults(&mut self, service_id: &str) {
        let targets: Vec<u32> = self
            .faults
            .iter()
            .enumerate()
            .filter(|(_, (fault, _, active))| *active && fault.service.as_str() == service_id)
            .map(|(i, _)| i as u32)
            .collect();
        for fault in targets {
            self.toggle_fault(fault, false);
        }
        for (fault, _, active) in &mut self.faults {
            if fault.service.as_str() == service_id && !*active {
                // A fault that has not started yet is dropped too.
                fault.start_s = f64::INFINITY;
            }
        }
        if let Some(service) = self.design.services.iter().position(|s| s.id == service_id) {
            let stuck: Vec<u32> = (0..self.jobs.len() as u32)
                .filter(|&j| {
                    let job = &self.jobs[j as usize];
                    job.live && job.hung && job.service as usize == service
                })
                .collect();
            for job in stuck {
                let j = &mut self.jobs[job as usize];
                if j.live && j.hung {
                    j.hung = false;
                    self.finish_job(job, false);
                }
            }
        }
    }

    fn on_fault_edge(&mut self, fault: u32) {
        let (start_ms, active) = {
            let (f, _, active) = &self.faults[fault as usize];
            (f.start_s * 1000.0, *active)
        };
        if !active && start_ms.is_infinite() {
            return;
        }
        self.toggle_fault(fault, !active);
    }

    fn toggle_fault(&mut self, fault: u32, activate: bool) {
        let (kind, service, factor, error_rate) = {
            let (f, service, _) = &self.faults[fault as usize];
            (
                f.kind,
                *service as usize,
                f.factor.unwrap_or(1.0),
                f.error_rate.unwrap_or(0.0),
            )
        };
        self.faults[fault as usize].2 = activate;
        let s = &mut self.services[service];
        match (kind, activate) {
            (FaultKind::Down, true) => s.down += 1,
            (FaultKind::Down, false) => s.down = s.down.saturating_sub(1),
            (FaultKind::Hang, true) => s.hanging += 1,
            (FaultKind::Hang, false) => s.hanging = s.hanging.saturating_sub(1),
            (FaultKind::Slow, true) => s.slow_factor *= factor,
            (FaultKind::Slow, false) => s.slow_factor /= factor,
            (FaultKind::Errors, true) => s.fault_error_rate = error_rate,
            (FaultKind::Errors, false) => s.fault_error_rate = 0.0,
        }
        if kind == FaultKind::Down && !activate {
            // Back up: work that waited while it was down starts now.
            self.touch(service);
            for replica in 0..self.services[service].replicas.len() {
                self.start_waiting(service, replica);
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
            let time = f64::from_bits((key >> 64) as u64);
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
                EventKind::TryTimeout {
                    call,
                    generation,
                    try_number,
                } => self.on_try_timeout(call, generation, try_number),
                EventKind::CallTimeout { call, generation } => {
                    self.on_call_timeout(call, generation)
                }
                EventKind::RetryDue { call, generation } => self.on_retry_due(call, generation),
                EventKind::FaultEdge { fault } => self.on_fault_edge(fault),
            }
        }
        if until > self.now {
            self.now = until;
        }
    }

    /// Runs to the end and reports.
    pub fn run(mut self) -> SimReport {
        self.step_until(self.settings.duration_s);
        self.report()
    }

    /// The statistics of the measured period so far.
    pub fn report(&mut self) -> SimReport {
        let measured_ms = (self.now - self.warmup_ms).max(0.0);
        for s in 0..self.services.len() {
            self.touch(s);
        }
        let mut report = SimReport {
            simulated_s: self.now / 1000.0,
            warmup_s: self.settings.warmup_s,
            seed: self.settings.seed,
            events: self.events,
            ..SimReport::default()
        };
        for (f, flow) in self.flows.iter().enumerate() {
            let in_flight = flow.started - flow.completed - flow.failed;
            report.flows.insert(
                self.design.flows[f].id.to_string(),
                FlowReport {
                    started: flow.started,
                    completed: flow.completed,
                    failed: flow.failed,
                    in_flight,
                    goodput_rps: if measured_ms > 0.0 {
                        flow.completed as f64 / (measured_ms / 1000.0)
                    } else {
                        0.0
                    },
                    latency_ms: LatencyStats::from_histogram(&flow.latency),
                },
            );
        }
        for (i, s) in self.services.iter().enumerate() {
            let workers = s.replicas.len() as f64 * f64::from(s.concurrency);
            report.services.insert(
                self.design.services[i].id.to_string(),
                ServiceReport {
                    arrivals: s.arrivals,
                    completed: s.completed,
                    failed: s.failed,
                    rejected: s.rejected,
                    utilization: if measured_ms > 0.0 {
                        s.busy_area / (workers * measured_ms)
                    } else {
                        0.0
                    },
                    mean_queue_length: if measured_ms > 0.0 {
                        s.waiting_area / measured_ms
                    } else {
                        0.0
                    },
                    sojourn_ms: LatencyStats::from_histogram(&s.sojourn),
                },
            );
        }
        for (i, e) in self.edges.iter().enumerate() {
            let mut edge_report = e.report.clone();
            edge_report.latency_ms = LatencyStats::from_histogram(&e.latency);
            report
                .edges
                .insert(self.design.edges[i].id.to_string(), edge_report);
        }
        report
    }

    /// Live numbers now; the recent latencies cover the time since the previous snapshot, and start afresh.
    pub fn snapshot(&mut self) -> Snapshot {
        self.snapshot_with(true)
    }

    /// Live numbers now, like [`Self::snapshot`], but the recent latencies keep accumulating (for updates in
    /// between the windows the charts are drawn in).
    pub fn peek(&mut self) -> Snapshot {
        self.snapshot_with(false)
    }

    fn snapshot_with(&mut self, reset_recent: bool) -> Snapshot {
        let now = self.now;
        let flows = (0..self.flows.len())
            .map(|f| {
                let rate = self.rate_at(f, now);
                let flow = &mut self.flows[f];
                let live = FlowLive {
                    started: flow.total_started,
                    completed: flow.total_completed,
                    failed: flow.total_failed,
                    rate_rps: rate,
                    recent_latency_ms: LatencyStats::from_histogram(&flow.recent_latency),
                };
                if reset_recent {
                    flow.recent_latency.reset();
                }
                live
            })
            .collect();
        let services = self
            .services
            .iter_mut()
            .map(|s| {
                let workers = s.replicas.len() as f64 * f64::from(s.concurrency);
                let live = ServiceLive {
                    arrivals: s.total_arrivals,
                    rejected: s.total_rejected,
                    failed: s.total_failed,
                    queue_length: s.waiting,
                    busy_workers: s.busy,
                    utilization: s.busy as f64 / workers,
                    recent_sojourn_ms: LatencyStats::from_histogram(&s.recent_sojourn),
                    faulted: s.down > 0
                        || s.hanging > 0
                        || s.slow_factor != 1.0
                        || s.fault_error_rate > 0.0,
                };
                if reset_recent {
                    s.recent_sojourn.reset();
                }
                live
            })
            .collect();
        let edges = self
            .edges
            .iter()
            .map(|e| EdgeLive {
                calls: e.total_calls,
                failures: e.total_failures,
                in_flight: u64::from(e.in_flight),
                breaker: if e.breaker.state == BreakerState::Open && now >= e.breaker.open_until {
                    BreakerState::HalfOpen
                } else {
                    e.breaker.state
                },
            })
            .collect();
        Snapshot {
            time_s: now / 1000.0,
            events: self.events,
            flows,
            services,
            edges,
        }
    }

    /// Requests and messages alive now (for memory checks).
    pub fn jobs_in_flight(&self) -> usize {
        self.jobs.len() - self.free_jobs.len()
    }

    /// Topic names known to the run (index 0 is "no topic").
    pub fn topics(&self) -> &[String] {
        &self.topics
    }
}

enum CallStart {
    Pending,
    Failed,
}

enum TryStart {
    Started,
    FailedAtOnce { short_circuited: bool },
}
