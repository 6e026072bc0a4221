//! The time series of a live run, built from its snapshots: rates per flow (throughput, goodput, error rate) and
//! recent latency percentiles, the current numbers of each service and call, and the comparison of two runs. Pure
//! data, so the dashboard, the exports of a run and the tests share one definition.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::model::{CallMode, Design};
use crate::sim::{BreakerState, SimReport, Snapshot};

/// Points kept per run; beyond this every second point is dropped, so a long run stays light to draw.
const MAX_POINTS: usize = 4_000;

/// Async calls whose message lag is kept over time (the first ones in design order): a series per call per point
/// would make a design with a thousand queues heavy to keep and unreadable to draw.
pub const MAX_LAG_SERIES: usize = 8;

/// One flow's numbers over the interval ending at a point.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct FlowPoint {
    /// Requests that arrived, per second.
    pub throughput_rps: f64,
    /// Requests answered successfully, per second.
    pub goodput_rps: f64,
    /// Failures over requests that ended, as a fraction (0 when none ended).
    pub error_rate: f64,
    /// Latency percentiles of the requests answered in the interval; `None` when none was.
    pub p50_ms: Option<f64>,
    /// 95th percentile.
    pub p95_ms: Option<f64>,
    /// 99th percentile.
    pub p99_ms: Option<f64>,
    /// 99th percentile of the settle time (until all the work a request caused is done) of the requests that
    /// settled in the interval; `None` when none did.
    pub settle_p99_ms: Option<f64>,
    /// Polling flows: 99th percentile of the time until the client saw the result, of the requests seen in the
    /// interval; `None` when none was.
    pub seen_p99_ms: Option<f64>,
}

/// The run at one moment of simulated time.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HistoryPoint {
    /// Simulated time, in seconds.
    pub time_s: f64,
    /// Per flow, in the run's design order.
    pub flows: Vec<FlowPoint>,
    /// 99th percentile of the message lag of each call in [`RunHistory::lag_edges`] over the interval; `None` when
    /// no message was taken.
    pub lag_p99_ms: Vec<Option<f64>>,
}

/// A service's numbers now.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServiceNow {
    /// The service's id.
    pub id: String,
    /// Arrivals per second over the last interval.
    pub arrivals_rps: f64,
    /// Busy workers over all workers.
    pub utilization: f64,
    /// Requests waiting.
    pub queue_length: u64,
    /// The queue's capacity over all replicas, when bounded.
    pub queue_capacity: Option<u64>,
    /// 99th percentile of the time spent there, over the last interval; `None` when nothing ended.
    pub p99_ms: Option<f64>,
    /// Rejections since the run started.
    pub rejected: u64,
    /// Failures since the run started.
    pub failed: u64,
    /// Whether a fault is in force.
    pub faulted: bool,
}

/// A call's numbers now.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EdgeNow {
    /// The call's id.
    pub id: String,
    /// Calls (or messages) per second over the last interval.
    pub calls_rps: f64,
    /// Failed calls per second over the last interval.
    pub failures_rps: f64,
    /// Tries in flight.
    pub in_flight: u64,
    /// The breaker's state (closed when the call has none).
    pub breaker: BreakerState,
    /// Whether the call has a circuit breaker.
    pub has_breaker: bool,
    /// Whether the call is async (a message through a queue).
    pub asynchronous: bool,
    /// Async calls: messages waiting in the consumer's queue.
    pub backlog: u64,
    /// Async calls: 99th percentile of the message lag over the last interval; `None` when none was taken.
    pub lag_p99_ms: Option<f64>,
}

/// A run's history: one point per snapshot that moved time forward, and the numbers now.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunHistory {
    /// Flow ids and names, in the run's design order.
    pub flows: Vec<(String, String)>,
    /// Each flow's latency objective (p99, ms), when it has one.
    pub slo_p99_ms: Vec<Option<f64>>,
    /// Whether each flow's clients poll for the result (its points then carry the time until seen).
    pub polling: Vec<bool>,
    /// The points, oldest first.
    pub points: Vec<HistoryPoint>,
    /// Per service, in the run's design order.
    pub services: Vec<ServiceNow>,
    /// Per call, in the run's design order.
    pub edges: Vec<EdgeNow>,
    /// The async calls whose lag is kept in the points: index in the design and id (at most [`MAX_LAG_SERIES`]).
    pub lag_edges: Vec<(usize, String)>,
    /// Simulated time of the newest snapshot.
    pub time_s: f64,
    #[serde(skip)]
    last: Option<Snapshot>,
}

impl RunHistory {
    /// An empty history for a run of `design`.
    pub fn new(design: &Design) -> Self {
        Self {
            flows: design
                .flows
                .iter()
                .map(|f| (f.id.to_string(), f.display_name().to_owned()))
                .collect(),
            slo_p99_ms: design.flows.iter().map(|f| f.slo_p99_ms).collect(),
            polling: design.flows.iter().map(|f| f.polling.is_some()).collect(),
            points: Vec::new(),
            services: design
                .services
                .iter()
                .map(|s| ServiceNow {
                    id: s.id.to_string(),
                    queue_capacity: s
                        .queue_capacity
                        .map(|c| u64::from(c) * u64::from(s.replicas)),
                    ..ServiceNow::default()
                })
                .collect(),
            edges: design
                .edges
                .iter()
                .map(|e| EdgeNow {
                    id: e.id.to_string(),
                    has_breaker: e.circuit_breaker.is_some(),
                    asynchronous: e.mode == CallMode::Async,
                    ..EdgeNow::default()
                })
                .collect(),
            lag_edges: design
                .edges
                .iter()
                .enumerate()
                .filter(|(_, e)| e.mode == CallMode::Async)
                .take(MAX_LAG_SERIES)
                .map(|(i, e)| (i, e.id.to_string()))
                .collect(),
            time_s: 0.0,
            last: None,
        }
    }

    /// Takes in a snapshot. One that closes a chart window (`window_closed`: its recent latencies cover the time
    /// since the previous such snapshot) adds a point, with rates measured against that previous one; any other,
    /// or one that did not move time forward (a pause, a repeated publish), refreshes the gauges only.
    pub fn push(&mut self, snapshot: &Snapshot, window_closed: bool) {
        let Some(last) = self.last.as_ref().filter(|_| window_closed) else {
            if self.last.is_none() {
                self.last = Some(snapshot.clone());
            }
            self.refresh_gauges(snapshot);
            return;
        };
        let interval_s = snapshot.time_s - last.time_s;
        if interval_s <= 0.0 {
            self.refresh_gauges(snapshot);
            return;
        }
        let per_s = |now: u64, before: u64| now.saturating_sub(before) as f64 / interval_s;
        let flows = snapshot
            .flows
            .iter()
            .zip(&last.flows)
            .map(|(now, before)| {
                let completed = now.completed.saturating_sub(before.completed);
                let failed = now.failed.saturating_sub(before.failed);
                let ended = completed + failed;
                let latency = (completed > 0).then_some(now.recent_latency_ms);
                // A histogram with no values reports zeros: no settle point rather than a zero.
                let settle = (now.recent_settle_ms.max > 0.0).then_some(now.recent_settle_ms.p99);
                let seen = (now.recent_seen_ms.max > 0.0).then_some(now.recent_seen_ms.p99);
                FlowPoint {
                    throughput_rps: per_s(now.started, before.started),
                    goodput_rps: completed as f64 / interval_s,
                    error_rate: if ended > 0 {
                        failed as f64 / ended as f64
                    } else {
                        0.0
                    },
                    p50_ms: latency.map(|l| l.p50),
                    p95_ms: latency.map(|l| l.p95),
                    p99_ms: latency.map(|l| l.p99),
                    settle_p99_ms: settle,
                    seen_p99_ms: seen,
                }
            })
            .collect();
        for (service, (now, before)) in self
            .services
            .iter_mut()
            .zip(snapshot.services.iter().zip(&last.services))
        {
            service.arrivals_rps = per_s(now.arrivals, before.arrivals);
            service.p99_ms =
                (now.recent_sojourn_ms != Default::default()).then_some(now.recent_sojourn_ms.p99);
        }
        for (edge, (now, before)) in self
            .edges
            .iter_mut()
            .zip(snapshot.edges.iter().zip(&last.edges))
        {
            edge.calls_rps = per_s(now.calls, before.calls);
            edge.failures_rps = per_s(now.failures, before.failures);
            // An empty histogram reports zeros, and a recorded lag is at least 1 µs.
            edge.lag_p99_ms = (now.recent_lag_ms.max > 0.0).then_some(now.recent_lag_ms.p99);
        }
        let lag_p99_ms = self
            .lag_edges
            .iter()
            .map(|(index, _)| self.edges.get(*index).and_then(|e| e.lag_p99_ms))
            .collect();
        self.points.push(HistoryPoint {
            time_s: snapshot.time_s,
            flows,
            lag_p99_ms,
        });
        if self.points.len() > MAX_POINTS {
            // Counted from the newest, so the newest point always stays.
            let mut from_newest = self.points.len();
            self.points.retain(|_| {
                from_newest -= 1;
                from_newest.is_multiple_of(2)
            });
        }
        self.refresh_gauges(snapshot);
        self.last = Some(snapshot.clone());
    }

    fn refresh_gauges(&mut self, snapshot: &Snapshot) {
        self.time_s = snapshot.time_s;
        for (service, now) in self.services.iter_mut().zip(&snapshot.services) {
            service.utilization = now.utilization;
            service.queue_length = now.queue_length;
            service.rejected = now.rejected;
            service.failed = now.failed;
            service.faulted = now.faulted;
        }
        for (edge, now) in self.edges.iter_mut().zip(&snapshot.edges) {
            edge.in_flight = now.in_flight;
            edge.breaker = now.breaker;
            edge.backlog = now.backlog;
        }
    }

    /// The history as CSV: one row per point and flow, sorted by time then flow order.
    pub fn to_csv(&self) -> String {
        let mut csv = String::from(
            "time_s,flow,throughput_rps,goodput_rps,error_rate,p50_ms,p95_ms,p99_ms,settle_p99_ms\n",
        );
        let optional = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.3}"));
        for point in &self.points {
            for ((id, _), flow) in self.flows.iter().zip(&point.flows) {
                let _ = writeln!(
                    csv,
                    "{:.3},{},{:.3},{:.3},{:.5},{},{},{},{}",
                    point.time_s,
                    csv_field(id),
                    flow.throughput_rps,
                    flow.goodput_rps,
                    flow.error_rate,
                    optional(flow.p50_ms),
                    optional(flow.p95_ms),
                    optional(flow.p99_ms),
                    optional(flow.settle_p99_ms),
                );
            }
        }
        csv
    }

    /// The history and, when the run finished, its report, as pretty JSON.
    pub fn to_json(&self, report: Option<&SimReport>) -> String {
        #[derive(Serialize)]
        struct RunExport<'a> {
            simulated_s: f64,
            flows: BTreeMap<&'a str, FlowSeries>,
            services: &'a [ServiceNow],
            edges: &'a [EdgeNow],
            report: Option<&'a SimReport>,
        }
        #[derive(Serialize, Default)]
        struct FlowSeries {
            name: String,
            slo_p99_ms: Option<f64>,
            time_s: Vec<f64>,
            throughput_rps: Vec<f64>,
            goodput_rps: Vec<f64>,
            error_rate: Vec<f64>,
            p50_ms: Vec<Option<f64>>,
            p95_ms: Vec<Option<f64>>,
            p99_ms: Vec<Option<f64>>,
            settle_p99_ms: Vec<Option<f64>>,
            #[serde(skip_serializing_if = "Vec::is_empty")]
            seen_p99_ms: Vec<Option<f64>>,
        }
        let mut flows = BTreeMap::new();
        for (index, (id, name)) in self.flows.iter().enumerate() {
            let mut series = FlowSeries {
                name: name.clone(),
                slo_p99_ms: self.slo_p99_ms.get(index).copied().flatten(),
                ..FlowSeries::default()
            };
            for point in &self.points {
                let Some(flow) = point.flows.get(index) else {
                    continue;
                };
                series.time_s.push(point.time_s);
                series.throughput_rps.push(flow.throughput_rps);
                series.goodput_rps.push(flow.goodput_rps);
                series.error_rate.push(flow.error_rate);
                series.p50_ms.push(flow.p50_ms);
                series.p95_ms.push(flow.p95_ms);
                series.p99_ms.push(flow.p99_ms);
                series.settle_p99_ms.push(flow.settle_p99_ms);
                if self.polling.get(index).copied().unwrap_or(false) {
                    series.seen_p99_ms.push(flow.seen_p99_ms);
                }
            }
            flows.insert(id.as_str(), series);
        }
        let export = RunExport {
            simulated_s: self.time_s,
            flows,
            services: &self.services,
            edges: &self.edges,
            report,
        };
        // Plain data with string keys: serializing cannot fail.
        serde_json::to_string_pretty(&export).unwrap_or_default() + "\n"
    }
}

/// Quotes a CSV field when it holds a separator, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// One flow in a comparison of two finished runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowDifference {
    /// The flow's id.
    pub flow: String,
    /// Goodput of the baseline and the variant, in requests per second.
    pub goodput_rps: (f64, f64),
    /// 99th-percentile latency of the baseline and the variant, in milliseconds.
    pub p99_ms: (f64, f64),
    /// Failure fraction of the ended requests, baseline and variant.
    pub error_rate: (f64, f64),
    /// 99th-percentile settle time (until all the work a request caused is done), baseline and variant.
    pub settle_p99_ms: (f64, f64),
    /// Answered requests whose work was still going at the end, baseline and variant.
    pub unsettled: (u64, u64),
    /// Polling flows (in either run): 99th-percentile time until the client saw the result, baseline and variant
    /// (0 where the flow does not poll).
    pub seen_p99_ms: Option<(f64, f64)>,
    /// Saga flows (in either run): the share of requests rolled back, baseline and variant.
    pub compensation_rate: Option<(f64, f64)>,
}

/// One async call in a comparison of two finished runs (a call async in either run).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AsyncDifference {
    /// The call's id.
    pub edge: String,
    /// The most messages waiting at once, baseline and variant (`None` where the call is sync or absent).
    pub max_backlog: (Option<u64>, Option<u64>),
    /// 99th-percentile message lag, baseline and variant.
    pub lag_p99_ms: (Option<f64>, Option<f64>),
}

/// Compares the async calls of two reports, by id, sorted: the backlog and lag the async side pays.
pub fn compare_async(baseline: &SimReport, variant: &SimReport) -> Vec<AsyncDifference> {
    let ids: std::collections::BTreeSet<&String> = baseline
        .edges
        .iter()
        .chain(&variant.edges)
        .filter(|(_, e)| e.lag_ms.is_some())
        .map(|(id, _)| id)
        .collect();
    ids.into_iter()
        .map(|id| {
            let backlog = |r: &SimReport| r.edges.get(id).and_then(|e| e.max_backlog);
            let lag = |r: &SimReport| r.edges.get(id).and_then(|e| e.lag_ms).map(|l| l.p99);
            AsyncDifference {
                edge: id.clone(),
                max_backlog: (backlog(baseline), backlog(variant)),
                lag_p99_ms: (lag(baseline), lag(variant)),
            }
        })
        .collect()
}

/// Compares two reports flow by flow (flows present in both, by id, sorted).
pub fn compare(baseline: &SimReport, variant: &SimReport) -> Vec<FlowDifference> {
    let error_rate = |completed: u64, failed: u64| {
        let ended = completed + failed;
        if ended == 0 {
            0.0
        } else {
            failed as f64 / ended as f64
        }
    };
    baseline
        .flows
        .iter()
        .filter_map(|(id, a)| {
            let b = variant.flows.get(id)?;
            Some(FlowDifference {
                flow: id.clone(),
                goodput_rps: (a.goodput_rps, b.goodput_rps),
                p99_ms: (a.latency_ms.p99, b.latency_ms.p99),
                error_rate: (
                    error_rate(a.completed, a.failed),
                    error_rate(b.completed, b.failed),
                ),
                settle_p99_ms: (a.settle_ms.p99, b.settle_ms.p99),
                unsettled: (a.unsettled, b.unsettled),
                seen_p99_ms: (a.seen_ms.is_some() || b.seen_ms.is_some()).then(|| {
                    let p99 = |f: &crate::sim::FlowReport| f.seen_ms.map_or(0.0, |s| s.p99);
                    (p99(a), p99(b))
                }),
                compensation_rate: (a.compensation_rate.is_some() || b.compensation_rate.is_some())
                    .then(|| {
                        (
                            a.compensation_rate.unwrap_or(0.0),
                            b.compensation_rate.unwrap_or(0.0),
                        )
                    }),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{EdgeLive, FlowLive, LatencyStats, ServiceLive};

    fn design() -> Design {
        crate::model::load_from_str(
            r#"{"type":"syncopate","version":1,"name":"t",
            "services":[{"id":"a","kind":"client"},{"id":"b","queue_capacity":5,"replicas":2}],
            "edges":[{"id":"a-b","from":"a","to":"b","protocol":"http","mode":"sync"}],
            "flows":[{"id":"f","entry":"a","rate_rps":10,"slo_p99_ms":200}]}"#,
            "test",
        )
        .unwrap()
    }

    fn snapshot(time_s: f64, started: u64, completed: u64, failed: u64) -> Snapshot {
        Snapshot {
            time_s,
            events: 0,
            flows: vec![FlowLive {
                started,
                completed,
                failed,
                rate_rps: 10.0,
                recent_latency_ms: LatencyStats {
                    mean: 10.0,
                    p50: 9.0,
                    p95: 20.0,
                    p99: 30.0,
                    max: 40.0,
                },
                ..FlowLive::default()
            }],
            services: vec![ServiceLive::default(), ServiceLive::default()],
            edges: vec![EdgeLive {
                calls: started,
                failures: failed,
                ..EdgeLive::default()
            }],
        }
    }

    impl RunHistory {
        fn push_closed(&mut self, snapshot: &Snapshot) {
            self.push(snapshot, true);
        }
    }

    #[test]
    fn gauges_follow_every_snapshot_but_points_only_closed_windows() {
        let mut history = RunHistory::new(&design());
        history.push(&snapshot(0.0, 0, 0, 0), true);
        let mut busy = snapshot(0.2, 2, 2, 0);
        busy.services[1].queue_length = 4;
        history.push(&busy, false);
        assert!(history.points.is_empty());
        assert_eq!(history.services[1].queue_length, 4);
        assert_eq!(history.time_s, 0.2);
        history.push(&snapshot(0.5, 5, 5, 0), true);
        assert_eq!(history.points.len(), 1);
        // The rate covers the whole window, not just the last update.
        assert_eq!(history.points[0].flows[0].throughput_rps, 10.0);
    }

    #[test]
    fn rates_come_from_the_change_between_snapshots() {
        let mut history = RunHistory::new(&design());
        assert_eq!(history.slo_p99_ms, vec![Some(200.0)]);
        assert_eq!(history.services[1].queue_capacity, Some(10));
        history.push_closed(&snapshot(0.0, 0, 0, 0));
        history.push_closed(&snapshot(2.0, 20, 15, 5));
        // A pause republishes the same time: no new point.
        history.push_closed(&snapshot(2.0, 20, 15, 5));
        assert_eq!(history.points.len(), 1);
        let point = history.points[0].flows[0];
        assert_eq!(point.throughput_rps, 10.0);
        assert_eq!(point.goodput_rps, 7.5);
        assert_eq!(point.error_rate, 0.25);
        assert_eq!(point.p99_ms, Some(30.0));
        assert_eq!(history.edges[0].failures_rps, 2.5);
        // Nothing answered: no latency point rather than a zero.
        history.push_closed(&snapshot(3.0, 25, 15, 5));
        assert_eq!(history.points[1].flows[0].p99_ms, None);
        assert_eq!(history.points[1].flows[0].error_rate, 0.0);
    }

    #[test]
    fn long_runs_are_thinned_not_cut() {
        let mut history = RunHistory::new(&design());
        for i in 0..=(MAX_POINTS as u64 + 1) {
            history.push_closed(&snapshot(i as f64, i * 10, i * 10, 0));
        }
        assert!(history.points.len() <= MAX_POINTS);
        assert!(history.points.len() > MAX_POINTS / 2 - 2);
        let last = history.points.last().map(|p| p.time_s);
        assert_eq!(last, Some((MAX_POINTS + 1) as f64));
    }

    #[test]
    fn csv_and_json_hold_every_point() {
        let mut history = RunHistory::new(&design());
        history.push_closed(&snapshot(0.0, 0, 0, 0));
        history.push_closed(&snapshot(1.0, 10, 10, 0));
        history.push_closed(&snapshot(2.0, 20, 19, 1));
        let csv = history.to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[2],
            "2.000,f,10.000,9.000,0.10000,9.000,20.000,30.000,"
        );
        let json: serde_json::Value = serde_json::from_str(&history.to_json(None)).unwrap();
        assert_eq!(json["flows"]["f"]["goodput_rps"][1], 9.0);
        assert_eq!(json["flows"]["f"]["slo_p99_ms"], 200.0);
        assert_eq!(json["services"][1]["id"], "b");
    }

    #[test]
    fn csv_fields_with_commas_are_quoted() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn comparison_pairs_flows_by_id() {
        let design = design();
        let baseline = crate::sim::simulate(&design, design.simulation_settings()).unwrap();
        let mut variant = baseline.clone();
        if let Some(flow) = variant.flows.get_mut("f") {
            flow.goodput_rps = 1.0;
            flow.failed = flow.completed;
        }
        let differences = compare(&baseline, &variant);
        assert_eq!(differences.len(), 1);
        assert_eq!(differences[0].goodput_rps.1, 1.0);
        assert_eq!(differences[0].error_rate.0, 0.0);
        assert_eq!(differences[0].error_rate.1, 0.5);
    }
}
