//! What the emulator measures, in the shape of the simulator's report: counters and HDR histograms per flow,
//! service and call, and time-weighted gauges (busy workers, requests waiting) for utilization and queue length.
//! Only what happens after the warm-up counts, as in the simulator.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::model::{CallMode, Design, ServiceKind};
use crate::sim::report::LatencyHistogram;
use crate::sim::{EdgeReport, FlowReport, LatencyStats, ServiceReport, SimReport};
use crate::sim::{new_histogram, record_ms};

/// Significant digits of flow latencies (as the simulator's).
const FLOW_DIGITS: u8 = 3;
/// Significant digits of service and call latencies (as the simulator's).
const PART_DIGITS: u8 = 2;

fn histogram(digits: u8) -> Mutex<LatencyHistogram> {
    Mutex::new(new_histogram(digits))
}

/// Records a latency in milliseconds.
pub(crate) fn record(histogram: &Mutex<LatencyHistogram>, ms: f64) {
    if let Ok(mut h) = histogram.lock() {
        record_ms(&mut h, ms);
    }
}

fn stats_of(histogram: &Mutex<LatencyHistogram>) -> LatencyStats {
    histogram
        .lock()
        .map(|h| LatencyStats::from_histogram(&h))
        .unwrap_or_default()
}

/// A value that changes over time (busy workers, requests waiting), integrated over the measured period.
#[derive(Default)]
pub(crate) struct Gauge {
    inner: Mutex<GaugeInner>,
}

#[derive(Default)]
struct GaugeInner {
    value: i64,
    since_ms: f64,
    integral: f64,
    max: i64,
}

impl Gauge {
    /// Adds `delta` at time `now_ms`.
    pub(crate) fn add(&self, delta: i64, now_ms: f64) {
        if let Ok(mut g) = self.inner.lock() {
            g.integral += g.value as f64 * (now_ms - g.since_ms).max(0.0);
            g.since_ms = now_ms;
            g.value += delta;
            g.max = g.max.max(g.value);
        }
    }

    /// Starts the measured period at `now_ms`: what came before is forgotten.
    pub(crate) fn restart(&self, now_ms: f64) {
        if let Ok(mut g) = self.inner.lock() {
            g.integral = 0.0;
            g.since_ms = now_ms;
            g.max = g.value;
        }
    }

    /// The integral (value × ms) up to `now_ms`, and the largest value, since the restart.
    fn read(&self, now_ms: f64) -> (f64, i64) {
        self.inner.lock().map_or((0.0, 0), |g| {
            (
                g.integral + g.value as f64 * (now_ms - g.since_ms).max(0.0),
                g.max,
            )
        })
    }
}

/// Counters of one flow.
pub(crate) struct FlowStats {
    pub(crate) started: AtomicU64,
    pub(crate) completed: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) latency: Mutex<LatencyHistogram>,
    /// Rollbacks of a saga (jobs that made their compensating calls; the emulator does not follow a request's
    /// jobs, so a request rolled back at two services counts twice), and those a compensation of which failed.
    pub(crate) compensated: AtomicU64,
    pub(crate) compensation_failed: AtomicU64,
    /// Polling flows: polls made for the measured requests, requests whose client saw the work done, and when.
    pub(crate) polls: AtomicU64,
    pub(crate) seen: AtomicU64,
    pub(crate) seen_ms: Mutex<LatencyHistogram>,
}

/// Counters of one service.
pub(crate) struct ServiceStats {
    pub(crate) arrivals: AtomicU64,
    pub(crate) completed: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) busy: Gauge,
    pub(crate) waiting: Gauge,
    pub(crate) sojourn: Mutex<LatencyHistogram>,
}

/// Counters of one call edge.
pub(crate) struct EdgeStats {
    pub(crate) calls: AtomicU64,
    pub(crate) failures: AtomicU64,
    pub(crate) timeouts: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) short_circuited: AtomicU64,
    pub(crate) latency: Mutex<LatencyHistogram>,
    /// Async calls only.
    pub(crate) lag: Option<Mutex<LatencyHistogram>>,
    /// Async calls with a dead-letter queue: deliveries after the first, and messages whose last delivery failed.
    pub(crate) redeliveries: AtomicU64,
    pub(crate) dead_lettered: AtomicU64,
}

/// Adds one to a counter.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// Every measurement of a run.
pub(crate) struct Stats {
    pub(crate) flows: Vec<FlowStats>,
    pub(crate) services: Vec<ServiceStats>,
    pub(crate) edges: Vec<EdgeStats>,
}

impl Stats {
    pub(crate) fn new(design: &Design) -> Self {
        Self {
            flows: design
                .flows
                .iter()
                .map(|_| FlowStats {
                    started: AtomicU64::new(0),
                    completed: AtomicU64::new(0),
                    failed: AtomicU64::new(0),
                    latency: histogram(FLOW_DIGITS),
                    compensated: AtomicU64::new(0),
                    compensation_failed: AtomicU64::new(0),
                    polls: AtomicU64::new(0),
                    seen: AtomicU64::new(0),
                    seen_ms: histogram(FLOW_DIGITS),
                })
                .collect(),
            services: design
                .services
                .iter()
                .map(|_| ServiceStats {
                    arrivals: AtomicU64::new(0),
                    completed: AtomicU64::new(0),
                    failed: AtomicU64::new(0),
                    rejected: AtomicU64::new(0),
                    busy: Gauge::default(),
                    waiting: Gauge::default(),
                    sojourn: histogram(PART_DIGITS),
                })
                .collect(),
            edges: design
                .edges
                .iter()
                .map(|e| EdgeStats {
                    calls: AtomicU64::new(0),
                    failures: AtomicU64::new(0),
                    timeouts: AtomicU64::new(0),
                    retries: AtomicU64::new(0),
                    short_circuited: AtomicU64::new(0),
                    latency: histogram(PART_DIGITS),
                    lag: (e.mode == CallMode::Async).then(|| histogram(PART_DIGITS)),
                    redeliveries: AtomicU64::new(0),
                    dead_lettered: AtomicU64::new(0),
                })
                .collect(),
        }
    }

    /// Starts the measured period: the gauges forget the warm-up.
    pub(crate) fn restart_gauges(&self, now_ms: f64) {
        for service in &self.services {
            service.busy.restart(now_ms);
            service.waiting.restart(now_ms);
        }
    }

    /// The report of the run so far: `measured_ms` of measured time ending at `now_ms`.
    pub(crate) fn report(
        &self,
        design: &Design,
        settings: &crate::model::SimulationSettings,
        now_ms: f64,
    ) -> SimReport {
        let measured_s = ((now_ms / 1000.0) - settings.warmup_s).max(1e-9);
        let flows = design
            .flows
            .iter()
            .zip(&self.flows)
            .map(|(flow, s)| {
                let (started, completed, failed) =
                    (get(&s.started), get(&s.completed), get(&s.failed));
                let saga = design.is_saga(&flow.id);
                let compensated = get(&s.compensated);
                let report = FlowReport {
                    compensated: saga.then_some(compensated),
                    compensation_rate: saga
                        .then(|| FlowReport::compensation_rate(compensated, started)),
                    compensation_failed: saga.then(|| get(&s.compensation_failed)),
                    polls: flow.polling.map(|_| get(&s.polls)),
                    seen: flow.polling.map(|_| get(&s.seen)),
                    seen_ms: flow.polling.map(|_| stats_of(&s.seen_ms)),
                    started,
                    completed,
                    failed,
                    in_flight: started.saturating_sub(completed + failed),
                    goodput_rps: completed as f64 / measured_s,
                    latency_ms: stats_of(&s.latency),
                    ..FlowReport::default()
                };
                (flow.id.to_string(), report)
            })
            .collect();
        let services = design
            .services
            .iter()
            .zip(&self.services)
            .map(|(service, s)| {
                let workers = f64::from(service.replicas) * f64::from(service.concurrency);
                let measured_ms = measured_s * 1000.0;
                let (busy, _) = s.busy.read(now_ms);
                let (waiting, max_waiting) = s.waiting.read(now_ms);
                let report = ServiceReport {
                    arrivals: get(&s.arrivals),
                    completed: get(&s.completed),
                    failed: get(&s.failed),
                    rejected: get(&s.rejected),
                    utilization: if service.kind == ServiceKind::Broker {
                        0.0
                    } else {
                        busy / (workers * measured_ms)
                    },
                    mean_queue_length: waiting / measured_ms,
                    max_queue_length: u64::try_from(max_waiting).unwrap_or(0),
                    sojourn_ms: stats_of(&s.sojourn),
                };
                (service.id.to_string(), report)
            })
            .collect();
        let edges = design
            .edges
            .iter()
            .zip(&self.edges)
            .map(|(edge, s)| {
                let report = EdgeReport {
                    calls: get(&s.calls),
                    failures: get(&s.failures),
                    timeouts: get(&s.timeouts),
                    retries: get(&s.retries),
                    short_circuited: get(&s.short_circuited),
                    latency_ms: if edge.mode == CallMode::Sync {
                        stats_of(&s.latency)
                    } else {
                        LatencyStats::default()
                    },
                    lag_ms: s.lag.as_ref().map(stats_of),
                    max_backlog: None,
                    mean_backlog: None,
                    redeliveries: (edge.mode == CallMode::Async).then(|| get(&s.redeliveries)),
                    dead_lettered: (edge.mode == CallMode::Async).then(|| get(&s.dead_lettered)),
                };
                (edge.id.to_string(), report)
            })
            .collect::<BTreeMap<_, _>>();
        SimReport {
            simulated_s: now_ms / 1000.0,
            partial: false,
            warmup_s: settings.warmup_s,
            seed: settings.seed,
            events: 0,
            flows,
            services,
            edges,
        }
    }
}
