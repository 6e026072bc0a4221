//! Design review: what a change to a design changes. The structural diff ([`crate::model::diff`]) and its
//! consequences: the trade-off findings added and resolved, the static analysis per flow and service before and
//! after, and, when asked for, both sides simulated with the same seed and duration. Rendered as JSON, text or a
//! pull-request comment in Markdown ([`render`]). Pure: the shells (CLI, app) read the two sides, from files or git.

pub mod render;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::model::diff::{DesignDiff, DiffOptions, Pairs, diff};
use crate::model::{Design, SimulationSettings};
use crate::rules::{self, Finding, Subject};
use crate::sim::{self, FlowReport, SimReport};

/// Old and new value of a measure; `None` (JSON `null`) where the item is missing on that side or the value is
/// not finite (an overloaded service's wait).
pub type Pair = [Option<f64>; 2];

/// Findings the change adds and resolves, in `check --json`'s finding shape.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FindingChanges {
    /// Findings of the new design the old one did not have (same rule on the same subjects).
    pub added: Vec<Finding>,
    /// Findings of the old design the new one no longer has.
    pub resolved: Vec<Finding>,
}

/// The static analysis of one flow before and after.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FlowAnalysis {
    /// Conservative estimate of the 99th-percentile latency, in milliseconds.
    pub estimated_p99_ms: Pair,
    /// Mean latency along the synchronous critical path, in milliseconds.
    pub estimated_mean_ms: Pair,
    /// Share of requests that succeed, from the error rates along the synchronous calls.
    pub availability: Pair,
    /// This flow's requests and messages per second arriving at each service it reaches on either side.
    pub load_rps: BTreeMap<String, Pair>,
}

/// The static analysis of one service before and after.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServiceAnalysis {
    /// Offered load, all flows together, in requests per second.
    pub load_rps: Pair,
    /// Busy workers over all workers.
    pub utilization: Pair,
}

/// The static analysis before and after, by flow and by service id.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AnalysisChanges {
    /// Flows of either side.
    pub flows: BTreeMap<String, FlowAnalysis>,
    /// Services of either side.
    pub services: BTreeMap<String, ServiceAnalysis>,
}

/// One flow simulated on both sides.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SimulatedFlow {
    /// Requests completed per second.
    pub goodput_rps: Pair,
    /// 99th-percentile latency of answered requests, in milliseconds.
    pub p99_ms: Pair,
    /// Failed requests over requests that ended.
    pub error_rate: Pair,
    /// 99th-percentile time until all of a request's work is done, in milliseconds.
    pub settle_p99_ms: Pair,
}

/// How both sides were simulated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SimulatedWith {
    /// Simulated seconds of each run.
    pub duration_s: f64,
    /// The seed of both runs.
    pub seed: u64,
}

/// A whole review of a change.
#[derive(Debug, Clone, Serialize)]
pub struct Review {
    /// Where the old design came from (a path or `REV:PATH`).
    pub old: String,
    /// Where the new design came from.
    pub new: String,
    /// Whether the designs are the same (as compared).
    pub same: bool,
    /// The structural changes.
    #[serde(flatten)]
    pub structure: DesignDiff,
    /// Findings added and resolved.
    pub findings: FindingChanges,
    /// The static analysis before and after.
    pub analysis: AnalysisChanges,
    /// The simulation of both sides, per flow (only when asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub simulated: Option<BTreeMap<String, SimulatedFlow>>,
    /// The settings of both simulated runs (only when asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub simulated_with: Option<SimulatedWith>,
    /// Renamed items paired by `--match-names` (old id → new id); not in the JSON, where the pairing shows as an
    /// `id` change.
    #[serde(skip)]
    pub pairs: Pairs,
}

/// What went wrong simulating one side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulateError {
    /// Which side (`old` or `new`).
    pub side: &'static str,
    /// The simulator's message.
    pub message: String,
}

/// Reviews the change from `old` to `new` without simulating.
pub fn review(old: (&str, &Design), new: (&str, &Design), options: DiffOptions) -> Review {
    let result = diff(old.1, new.1, options);
    let old_report = rules::check(old.1);
    let new_report = rules::check(new.1);
    Review {
        old: old.0.to_owned(),
        new: new.0.to_owned(),
        same: result.diff.is_empty(),
        findings: finding_changes(&old_report.findings, &new_report.findings, &result.pairs),
        analysis: analysis_changes(
            old.1,
            &old_report.analysis,
            new.1,
            &new_report.analysis,
            &result.pairs,
        ),
        structure: result.diff,
        simulated: None,
        simulated_with: None,
        pairs: result.pairs,
    }
}

/// The settings both sides are simulated with: `duration_s` and `seed` when given, else the old design's (so the
/// runs differ only by the change); each side keeps its own warm-up, shortened to a tenth of the run when it would
/// not fit.
pub fn simulation_settings(
    old: &Design,
    new: &Design,
    duration_s: Option<f64>,
    seed: Option<u64>,
) -> (SimulationSettings, SimulationSettings) {
    let base = old.simulation_settings();
    let duration_s = duration_s.unwrap_or(base.duration_s);
    let seed = seed.unwrap_or(base.seed);
    let side = |design: &Design| {
        let mut settings = design.simulation_settings();
        settings.duration_s = duration_s;
        settings.seed = seed;
        if settings.warmup_s >= duration_s {
            settings.warmup_s = duration_s / 10.0;
        }
        settings
    };
    (side(old), side(new))
}

/// Adds both sides' simulations (run in parallel) to a review.
pub fn simulate(
    review: &mut Review,
    old: &Design,
    new: &Design,
    settings: (SimulationSettings, SimulationSettings),
) -> Result<(), SimulateError> {
    let (old_run, new_run) = rayon::join(
        || sim::simulate(old, settings.0),
        || sim::simulate(new, settings.1),
    );
    let old_run = old_run.map_err(|e| SimulateError {
        side: "old",
        message: e.to_string(),
    })?;
    let new_run = new_run.map_err(|e| SimulateError {
        side: "new",
        message: e.to_string(),
    })?;
    review.simulated = Some(simulated_changes(&old_run, &new_run, &review.pairs));
    review.simulated_with = Some(SimulatedWith {
        duration_s: settings.1.duration_s,
        seed: settings.1.seed,
    });
    Ok(())
}

/// Per flow, both runs' figures (flows keyed by their new id when paired by name).
pub fn simulated_changes(
    old: &SimReport,
    new: &SimReport,
    pairs: &Pairs,
) -> BTreeMap<String, SimulatedFlow> {
    let mut flows: BTreeMap<String, SimulatedFlow> = BTreeMap::new();
    let measures = |flow: &FlowReport| {
        [
            flow.goodput_rps,
            flow.latency_ms.p99,
            flow.error_rate(),
            flow.settle_ms.p99,
        ]
    };
    for (side, report) in [(0, old), (1, new)] {
        for (id, flow) in &report.flows {
            let key = if side == 0 {
                pairs.flows.get(id).unwrap_or(id).clone()
            } else {
                id.clone()
            };
            let entry = flows.entry(key).or_default();
            let [goodput, p99, errors, settle] = measures(flow);
            entry.goodput_rps[side] = finite(goodput);
            entry.p99_ms[side] = finite(p99);
            entry.error_rate[side] = finite(errors);
            entry.settle_p99_ms[side] = finite(settle);
        }
    }
    flows
}

fn finite(value: f64) -> Option<f64> {
    value.is_finite().then_some(value)
}

/// A finding's identity across the change: its rule and main subject (the message carries numbers that change
/// with load, and the other subjects may grow: a fan-out over one more call is the same finding).
fn finding_key(finding: &Finding, pairs: Option<&Pairs>) -> (String, Option<Subject>) {
    let main = finding
        .subjects
        .first()
        .map(|subject| match (subject, pairs) {
            (Subject::Service(id), Some(p)) => {
                Subject::Service(p.services.get(id).unwrap_or(id).clone())
            }
            (Subject::Edge(id), Some(p)) => Subject::Edge(p.edges.get(id).unwrap_or(id).clone()),
            (Subject::Flow(id), Some(p)) => Subject::Flow(p.flows.get(id).unwrap_or(id).clone()),
            (subject, None) => subject.clone(),
        });
    (finding.rule.to_owned(), main)
}

fn finding_changes(old: &[Finding], new: &[Finding], pairs: &Pairs) -> FindingChanges {
    let old_keys: BTreeSet<_> = old.iter().map(|f| finding_key(f, Some(pairs))).collect();
    let new_keys: BTreeSet<_> = new.iter().map(|f| finding_key(f, None)).collect();
    FindingChanges {
        added: new
            .iter()
            .filter(|f| !old_keys.contains(&finding_key(f, None)))
            .cloned()
            .collect(),
        resolved: old
            .iter()
            .filter(|f| !new_keys.contains(&finding_key(f, Some(pairs))))
            .cloned()
            .collect(),
    }
}

fn analysis_changes(
    old_design: &Design,
    old: &rules::Analysis,
    new_design: &Design,
    new: &rules::Analysis,
    pairs: &Pairs,
) -> AnalysisChanges {
    let mut changes = AnalysisChanges::default();
    for (side, design, analysis) in [(0, old_design, old), (1, new_design, new)] {
        let rename = |map: &BTreeMap<String, String>, id: &str| -> String {
            if side == 0 {
                map.get(id).cloned().unwrap_or_else(|| id.to_owned())
            } else {
                id.to_owned()
            }
        };
        for (f, flow) in design.flows.iter().enumerate() {
            let entry = changes
                .flows
                .entry(rename(&pairs.flows, flow.id.as_str()))
                .or_default();
            entry.estimated_p99_ms[side] = analysis.flow_p99_ms.get(f).copied().and_then(finite);
            entry.estimated_mean_ms[side] =
                analysis.flow_latency_ms.get(f).copied().and_then(finite);
            entry.availability[side] = analysis.flow_availability.get(f).copied().and_then(finite);
            if let Some(traffic) = analysis.flows.get(f) {
                for (s, rate) in traffic.arrivals_rps.iter().enumerate() {
                    if *rate > 0.0
                        && let Some(service) = design.services.get(s)
                    {
                        let pair = entry
                            .load_rps
                            .entry(rename(&pairs.services, service.id.as_str()))
                            .or_default();
                        pair[side] = finite(*rate);
                    }
                }
            }
        }
        for (s, service) in design.services.iter().enumerate() {
            let entry = changes
                .services
                .entry(rename(&pairs.services, service.id.as_str()))
                .or_default();
            entry.load_rps[side] = analysis.load_rps.get(s).copied().and_then(finite);
            entry.utilization[side] = analysis.utilization.get(s).copied().and_then(finite);
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CallMode;

    fn shop() -> Design {
        crate::model::diff::test_design()
    }

    #[test]
    fn a_timeout_resolves_the_missing_timeout_finding() {
        let old = shop();
        let mut new = old.clone();
        new.edges[0].timeout_ms = Some(500.0);
        let review = review(("a", &old), ("b", &new), DiffOptions::default());
        assert!(!review.same);
        assert!(
            review
                .findings
                .resolved
                .iter()
                .any(|f| f.rule == "missing-timeout"),
            "{:?}",
            review.findings
        );
        assert!(
            review
                .findings
                .added
                .iter()
                .all(|f| f.rule != "missing-timeout")
        );
        let checkout = &review.analysis.flows["checkout"];
        assert!(checkout.estimated_p99_ms[0].is_some() && checkout.estimated_p99_ms[1].is_some());
    }

    #[test]
    fn making_a_call_async_shows_in_load_and_latency() {
        let old = shop();
        let mut new = old.clone();
        new.edges[0].set_mode(CallMode::Async);
        let review = review(("a", &old), ("b", &new), DiffOptions::default());
        let p99 = review.analysis.flows["checkout"].estimated_p99_ms;
        assert!(p99[1].unwrap() < p99[0].unwrap(), "{p99:?}");
    }
}
