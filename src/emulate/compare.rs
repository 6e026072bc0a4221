//! The emulated run beside the simulated one: per flow, goodput, p50, p95, p99 and error rate of both, with their
//! relative difference (error rate: the difference in percentage points, since a relative difference of rates
//! near zero says nothing).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::sim::{FlowReport, SimReport};

/// One measure of a flow in both runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Measure {
    /// From the real run.
    pub emulated: f64,
    /// From the simulator.
    pub simulated: f64,
    /// Relative difference in percent of the simulated value (error rate: difference in percentage points).
    pub difference: f64,
}

/// A flow in both runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowComparison {
    /// Successful answers per second.
    pub goodput_rps: Measure,
    /// Answer latency percentiles, in milliseconds.
    pub p50_ms: Measure,
    /// 95th percentile.
    pub p95_ms: Measure,
    /// 99th percentile.
    pub p99_ms: Measure,
    /// Failed requests in percent of the requests that ended (difference in percentage points).
    pub error_pct: Measure,
}

/// Every flow in both runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Per flow id.
    pub flows: BTreeMap<String, FlowComparison>,
}

fn relative(emulated: f64, simulated: f64) -> Measure {
    let difference = if simulated.abs() > f64::EPSILON {
        (emulated - simulated) / simulated * 100.0
    } else if emulated.abs() > f64::EPSILON {
        100.0
    } else {
        0.0
    };
    Measure {
        emulated,
        simulated,
        difference,
    }
}

/// Failed requests in percent of those that ended.
pub fn error_pct(flow: &FlowReport) -> f64 {
    flow.error_rate() * 100.0
}

/// Compares two reports flow by flow (flows in only one of them are left out).
pub fn compare(emulated: &SimReport, simulated: &SimReport) -> Comparison {
    let flows = emulated
        .flows
        .iter()
        .filter_map(|(id, e)| {
            let s = simulated.flows.get(id)?;
            let (e_err, s_err) = (error_pct(e), error_pct(s));
            Some((
                id.clone(),
                FlowComparison {
                    goodput_rps: relative(e.goodput_rps, s.goodput_rps),
                    p50_ms: relative(e.latency_ms.p50, s.latency_ms.p50),
                    p95_ms: relative(e.latency_ms.p95, s.latency_ms.p95),
                    p99_ms: relative(e.latency_ms.p99, s.latency_ms.p99),
                    error_pct: Measure {
                        emulated: e_err,
                        simulated: s_err,
                        difference: e_err - s_err,
                    },
                },
            ))
        })
        .collect();
    Comparison { flows }
}

impl FlowComparison {
    /// The measures with their names, in the order they are printed.
    pub fn measures(&self) -> [(&'static str, Measure); 5] {
        [
            ("goodput rps", self.goodput_rps),
            ("p50 ms", self.p50_ms),
            ("p95 ms", self.p95_ms),
            ("p99 ms", self.p99_ms),
            ("errors %", self.error_pct),
        ]
    }
}

impl Comparison {
    /// The measures that differ by more than `tolerance_pct` (error rate: percentage points), as
    /// `(flow, measure)`.
    pub fn beyond(&self, tolerance_pct: f64) -> Vec<(String, &'static str)> {
        self.flows
            .iter()
            .flat_map(|(id, flow)| {
                flow.measures()
                    .into_iter()
                    .filter(move |(_, m)| m.difference.abs() > tolerance_pct)
                    .map(move |(name, _)| (id.clone(), name))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_are_relative_and_error_rates_in_points() {
        let mut emulated = SimReport::default();
        let mut simulated = SimReport::default();
        let mut flow = FlowReport {
            completed: 90,
            failed: 10,
            goodput_rps: 110.0,
            ..FlowReport::default()
        };
        flow.latency_ms.p99 = 50.0;
        emulated.flows.insert("f".into(), flow.clone());
        flow.goodput_rps = 100.0;
        flow.failed = 0;
        flow.completed = 100;
        flow.latency_ms.p99 = 40.0;
        simulated.flows.insert("f".into(), flow);
        let comparison = compare(&emulated, &simulated);
        let f = &comparison.flows["f"];
        assert!((f.goodput_rps.difference - 10.0).abs() < 1e-9);
        assert!((f.p99_ms.difference - 25.0).abs() < 1e-9);
        assert!((f.error_pct.difference - 10.0).abs() < 1e-9);
        assert_eq!(comparison.beyond(20.0), vec![("f".to_owned(), "p99 ms")]);
    }
}
