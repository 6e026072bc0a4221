//! What a simulation run reports: the `simulate --json` shape, and the live snapshots.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latency statistics in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LatencyStats {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

/// Latencies in microseconds, 3 significant digits for flows and 2 for services and calls. Counts are `u32` and a
/// histogram grows with the largest value it has seen rather than being allocated for its whole range up front: a
/// design of 1,000 services and 3,000 calls holds some 5,000 of them, which took 254 KiB each at the full range
/// (1.2 GiB).
pub type LatencyHistogram = Histogram<u32>;

impl LatencyStats {
    /// Statistics of a histogram of microseconds.
    pub fn from_histogram(histogram: &LatencyHistogram) -> Self {
        if histogram.is_empty() {
            return Self::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            mean: histogram.mean() / 1000.0,
            p50: ms(histogram.value_at_quantile(0.50)),
            p95: ms(histogram.value_at_quantile(0.95)),
            p99: ms(histogram.value_at_quantile(0.99)),
            max: ms(histogram.max()),
        }
    }
}

/// Results of one flow over the measured period (after the warm-up).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FlowReport {
    /// Requests that arrived at the entry after the warm-up.
    pub started: u64,
    /// Of those, requests whose entry answered successfully.
    pub completed: u64,
    /// Of those, requests that failed (rejected, errors, failed or timed-out sync calls).
    pub failed: u64,
    /// Still in flight when the run ended: `started = completed + failed + in_flight`.
    pub in_flight: u64,
    /// Completed requests per second of measured time.
    pub goodput_rps: f64,
    /// From arrival at the entry to the entry's answer, of completed requests.
    pub latency_ms: LatencyStats,
    /// Completed requests whose work, async descendants included, was all done by the end of the run.
    pub settled: u64,
    /// Completed requests whose work was still going at the end: `completed = settled + settle_failed +
    /// unsettled`.
    pub unsettled: u64,
    /// Completed requests some of whose async work failed or was dropped (a message a full queue refused, a
    /// consumer that failed it): their work will never be done.
    pub settle_failed: u64,
    /// Time until done: from arrival at the entry until the last piece of work the request caused has finished,
    /// of settled requests. Equals `latency_ms` for a flow without async calls.
    pub settle_ms: LatencyStats,
    /// Sagas (flows with a compensating call only): requests whose saga rolled back, making compensating calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compensated: Option<u64>,
    /// `compensated / started`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compensation_rate: Option<f64>,
    /// Of the compensated requests, those a compensating call of which failed for good: left inconsistent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compensation_failed: Option<u64>,
    /// For each request whose compensations all succeeded: from the end of the first compensated call to the end
    /// of the last compensation, how long the system was visibly inconsistent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inconsistency_window_ms: Option<LatencyStats>,
    /// Polling flows only: polls the clients made for the measured requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub polls: Option<u64>,
    /// Polling flows only: requests whose client saw the work done (a poll found it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seen: Option<u64>,
    /// Polling flows only: from the request's arrival until the poll that found its work done answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seen_ms: Option<LatencyStats>,
}

impl FlowReport {
    /// The share of started requests whose saga rolled back (0 when none started).
    pub fn compensation_rate(compensated: u64, started: u64) -> f64 {
        if started == 0 {
            0.0
        } else {
            compensated as f64 / started as f64
        }
    }

    /// Failed requests over requests that ended (0 when none ended).
    pub fn error_rate(&self) -> f64 {
        let ended = self.completed + self.failed;
        if ended == 0 {
            0.0
        } else {
            self.failed as f64 / ended as f64
        }
    }
}

/// Results of one service over the measured period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServiceReport {
    /// Requests and messages that arrived.
    pub arrivals: u64,
    /// Of the work that ended, how much succeeded.
    pub completed: u64,
    /// Work that failed here (errors, failed sync calls).
    pub failed: u64,
    /// Arrivals turned away by a full queue, or by being down (sync calls).
    pub rejected: u64,
    /// Busy worker time over replicas × concurrency × measured time.
    pub utilization: f64,
    /// Time-averaged number of requests waiting (over all replicas).
    pub mean_queue_length: f64,
    /// The most requests waiting at once (over all replicas).
    pub max_queue_length: u64,
    /// From arrival at the service to the end of its work there, including sync waits.
    pub sojourn_ms: LatencyStats,
}

/// Results of one call (edge) over the measured period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EdgeReport {
    /// Calls made (not counting retries).
    pub calls: u64,
    /// Calls that failed in the end (after retries, by timeout, breaker or bulkhead).
    pub failures: u64,
    /// Tries or calls that timed out.
    pub timeouts: u64,
    /// Retries made.
    pub retries: u64,
    /// Calls failed at once by an open circuit breaker.
    pub short_circuited: u64,
    /// From the call to its successful answer, sync calls only (zero for async messages): the simulated hop.
    pub latency_ms: LatencyStats,
    /// Async calls only (`null` for sync): how long messages waited in the consumer's queue before a worker took
    /// them, the staleness a reader of the consumer's data sees.
    pub lag_ms: Option<LatencyStats>,
    /// Async calls only: the most of its messages waiting at once.
    pub max_backlog: Option<u64>,
    /// Async calls only: the time-averaged number of its messages waiting.
    pub mean_backlog: Option<f64>,
    /// Async calls only (left out for sync ones): messages delivered again after their handling failed (0 without
    /// a dead-letter queue, where a failed message is dropped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redeliveries: Option<u64>,
    /// Async calls only: messages set aside in the dead-letter queue after their last delivery failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_lettered: Option<u64>,
}

/// The whole report of a run; serializes to the `simulate --json` shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SimReport {
    /// Simulated seconds.
    pub simulated_s: f64,
    /// The run was stopped before its duration (Ctrl+C): the statistics are of what was simulated so far. Written
    /// only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    /// Leading seconds left out of the statistics.
    pub warmup_s: f64,
    /// The random seed.
    pub seed: u64,
    /// Events processed.
    pub events: u64,
    /// Per flow id.
    pub flows: BTreeMap<String, FlowReport>,
    /// Per service id.
    pub services: BTreeMap<String, ServiceReport>,
    /// Per edge id.
    pub edges: BTreeMap<String, EdgeReport>,
}

/// A circuit breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls flow.
    #[default]
    Closed,
    /// Calls fail at once.
    Open,
    /// One trial call is let through.
    HalfOpen,
}

/// Live numbers of a flow for the dashboard.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FlowLive {
    /// Arrivals so far (whole run).
    pub started: u64,
    /// Successful answers so far.
    pub completed: u64,
    /// Failures so far.
    pub failed: u64,
    /// Arrival rate in force, in requests per second.
    pub rate_rps: f64,
    /// Latency of requests completed since the previous snapshot.
    pub recent_latency_ms: LatencyStats,
    /// Settle time of requests whose work was all done since the previous snapshot.
    pub recent_settle_ms: LatencyStats,
    /// Polling flows: time until the client saw the result, of requests seen since the previous snapshot.
    pub recent_seen_ms: LatencyStats,
    /// Requests answered whose work is still going now.
    pub settling: u64,
}

/// Live numbers of a service.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServiceLive {
    /// Arrivals so far.
    pub arrivals: u64,
    /// Rejections so far.
    pub rejected: u64,
    /// Failures so far.
    pub failed: u64,
    /// Requests waiting now, over all replicas.
    pub queue_length: u64,
    /// Busy workers now.
    pub busy_workers: u64,
    /// Busy workers over all workers now.
    pub utilization: f64,
    /// Sojourn times of work that ended since the previous snapshot.
    pub recent_sojourn_ms: LatencyStats,
    /// Whether a fault is in force on it now.
    pub faulted: bool,
}

/// Live numbers of a call.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EdgeLive {
    /// Calls so far.
    pub calls: u64,
    /// Failed calls so far.
    pub failures: u64,
    /// Tries in flight now.
    pub in_flight: u64,
    /// The breaker's state now.
    pub breaker: BreakerState,
    /// Async calls: messages waiting in the consumer's queue now.
    pub backlog: u64,
    /// Async calls: lag of the messages taken since the previous snapshot.
    pub recent_lag_ms: LatencyStats,
}

/// A snapshot of a running simulation, for the live view.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Snapshot {
    /// Simulated time of the snapshot, in seconds.
    pub time_s: f64,
    /// Events processed so far.
    pub events: u64,
    /// Per flow, in design order.
    pub flows: Vec<FlowLive>,
    /// Per service, in design order.
    pub services: Vec<ServiceLive>,
    /// Per edge, in design order.
    pub edges: Vec<EdgeLive>,
}
