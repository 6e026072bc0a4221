//! Statistics: latency histograms, the report of the measured period, and live snapshots.

use hdrhistogram::Histogram;

use super::Simulation;
use crate::sim::report::{
    EdgeLive, FlowLive, FlowReport, LatencyHistogram, LatencyStats, ServiceLive, ServiceReport,
    SimReport, Snapshot,
};

/// Histograms record microseconds from 1 µs to about 11 days.
const HISTOGRAM_MAX_US: u64 = 1_000_000_000_000;

/// Significant digits of a flow's end-to-end latencies: the figures a run is judged by (SLOs, comparisons).
pub(super) const FLOW_HISTOGRAM_DIGITS: u8 = 3;

/// Significant digits of the per-service and per-call latencies (within 1%). A design has a few flows but
/// thousands of services and calls, and at 3 digits their histograms were most of a large run's memory
/// (32 KiB each up to 100 ms, against 5.5 KiB at 2 digits).
pub(super) const PART_HISTOGRAM_DIGITS: u8 = 2;

/// Adds `count` zero values (recorded as 1 µs, the histograms' floor) to a histogram.
pub(super) fn record_zeros(histogram: &mut LatencyHistogram, count: u64) {
    // Counts are u32; a larger count saturates, as any count at the limit does.
    let count = u32::try_from(count).unwrap_or(u32::MAX);
    if count > 0 && histogram.record_n(1, count).is_err() {
        histogram.saturating_record_n(1, count);
    }
}

pub(crate) fn new_histogram(significant_digits: u8) -> LatencyHistogram {
    // 2 and 3 significant digits are valid, fixed configurations; the histogram resizes itself as values arrive.
    Histogram::new(significant_digits).unwrap_or_else(|e| unreachable!("histogram precision: {e}"))
}

/// A latency in whole microseconds, as the histograms hold it: rounded to the nearest, clamped to their range.
#[inline]
pub(super) fn to_us(ms: f64) -> u64 {
    // Through i64: the clamped value fits, and f64 to i64 is one instruction where f64 to u64 is several.
    (ms * 1000.0 + 0.5).clamp(1.0, HISTOGRAM_MAX_US as f64) as i64 as u64
}

#[inline]
fn record_us(histogram: &mut LatencyHistogram, us: u64) {
    // `record` grows the histogram to the value; only a count at its `u32` limit fails, and then saturates.
    if histogram.record(us).is_err() {
        histogram.saturating_record(us);
    }
}

#[inline]
pub(crate) fn record(histogram: &mut LatencyHistogram, ms: f64) {
    record_us(histogram, to_us(ms));
}

impl Simulation {
    /// The statistics of the measured period so far.
    pub fn report(&mut self) -> SimReport {
        let measured_ms = (self.now - self.warmup_ms).max(0.0);
        let per_measured_ms = |value: f64| {
            if measured_ms > 0.0 {
                value / measured_ms
            } else {
                0.0
            }
        };
        for s in 0..self.services.len() {
            self.touch(s);
        }
        // Messages still waiting have waited too: their waits so far join the backlog's integral for this report
        // only (they are added for good when they leave the queue).
        let mut waiting_area = vec![0.0; self.edges.len()];
        for service in &self.services {
            for replica in &service.replicas {
                for &job in &replica.queue {
                    let j = &self.jobs[job as usize];
                    if j.via_edge != super::NONE {
                        waiting_area[j.via_edge as usize] +=
                            (self.now - j.arrived_at.max(self.warmup_ms)).max(0.0);
                    }
                }
            }
        }
        for e in 0..self.edges.len() as u32 {
            if self.edges[e as usize].asynchronous {
                let edge = &mut self.edges[e as usize];
                if let Some(lag) = &mut edge.lag {
                    lag.record_zeros(std::mem::take(&mut edge.backlog.no_lag));
                }
            }
        }
        let mut still_settling = vec![(0u64, 0u64); self.flows.len()];
        for track in self.requests.still_settling() {
            if track.measured {
                let counts = &mut still_settling[track.flow as usize];
                if track.async_failed {
                    counts.1 += 1;
                } else {
                    counts.0 += 1;
                }
            }
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
            let (unsettled, failed_while_settling) = still_settling[f];
            let flow_def = &self.design.flows[f];
            let saga = self.design.is_saga(&flow_def.id);
            let polls = flow_def.polling.is_some();
            report.flows.insert(
                self.design.flows[f].id.to_string(),
                FlowReport {
                    started: flow.started,
                    completed: flow.completed,
                    failed: flow.failed,
                    in_flight,
                    goodput_rps: per_measured_ms(flow.completed as f64) * 1000.0,
                    latency_ms: LatencyStats::from_histogram(&flow.latency),
                    settled: flow.settled,
                    unsettled,
                    settle_failed: flow.settle_failed + failed_while_settling,
                    settle_ms: LatencyStats::from_histogram(&flow.settle),
                    compensated: saga.then_some(flow.compensated),
                    compensation_rate: saga
                        .then(|| FlowReport::compensation_rate(flow.compensated, flow.started)),
                    compensation_failed: saga.then_some(flow.compensation_failed),
                    inconsistency_window_ms: saga
                        .then(|| LatencyStats::from_histogram(&flow.inconsistency_window)),
                    polls: polls.then_some(flow.polls),
                    seen: polls.then_some(flow.seen),
                    seen_ms: polls.then(|| LatencyStats::from_histogram(&flow.seen_ms)),
                },
            );
        }
        for (i, s) in self.services.iter_mut().enumerate() {
            report.services.insert(
                self.design.services[i].id.to_string(),
                ServiceReport {
                    arrivals: s.arrivals,
                    completed: s.completed,
                    failed: s.failed,
                    rejected: s.rejected,
                    utilization: per_measured_ms(s.busy_area / s.workers()),
                    mean_queue_length: per_measured_ms(s.waiting_area),
                    max_queue_length: u64::from(s.max_waiting),
                    sojourn_ms: s.sojourn.stats(),
                },
            );
        }
        for (i, e) in self.edges.iter_mut().enumerate() {
            let mut edge_report = e.report.clone();
            edge_report.calls = e.calls;
            edge_report.latency_ms = e.latency.stats();
            if let Some(lag) = &mut e.lag {
                edge_report.lag_ms = Some(lag.stats());
                edge_report.max_backlog = Some(u64::from(e.backlog.max));
                edge_report.mean_backlog = Some(per_measured_ms(e.backlog.area + waiting_area[i]));
            }
            if e.asynchronous {
                edge_report.redeliveries = Some(e.redeliveries);
                edge_report.dead_lettered = Some(e.dead_lettered);
            }
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
        self.live = true;
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
                    recent_settle_ms: LatencyStats::from_histogram(&flow.recent_settle),
                    recent_seen_ms: LatencyStats::from_histogram(&flow.recent_seen),
                    settling: flow.settling,
                };
                if reset_recent {
                    flow.recent_latency.reset();
                    flow.recent_settle.reset();
                    flow.recent_seen.reset();
                }
                live
            })
            .collect();
        let services = self
            .services
            .iter_mut()
            .map(|s| {
                let live = ServiceLive {
                    arrivals: s.total_arrivals,
                    rejected: s.total_rejected,
                    failed: s.total_failed,
                    queue_length: u64::from(s.waiting),
                    busy_workers: u64::from(s.busy),
                    utilization: f64::from(s.busy) / s.workers(),
                    recent_sojourn_ms: LatencyStats::from_histogram(&s.recent_sojourn),
                    faulted: s.faulted(),
                };
                if reset_recent {
                    s.recent_sojourn.reset();
                }
                live
            })
            .collect();
        let edges = self
            .edges
            .iter_mut()
            .map(|e| {
                if let Some(recent) = &mut e.recent_lag {
                    record_zeros(recent, std::mem::take(&mut e.backlog.recent_no_lag));
                }
                let live = EdgeLive {
                    calls: e.total_calls,
                    failures: e.total_failures,
                    in_flight: u64::from(e.in_flight),
                    breaker: e.breaker.shown_state(now),
                    backlog: u64::from(e.backlog.waiting),
                    recent_lag_ms: e
                        .recent_lag
                        .as_ref()
                        .map(LatencyStats::from_histogram)
                        .unwrap_or_default(),
                };
                if reset_recent && let Some(recent) = &mut e.recent_lag {
                    recent.reset();
                }
                live
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
}
