//! Load sweeps: the design simulated at a range of multiples of its rates, and the knee where it stops keeping its
//! objectives.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde::Serialize;

use super::{
    CapacityError, Progress, check_runnable, error_pct, flow_reports, mean, scale_rates,
    simulate_seeds,
};
use crate::model::{Design, SimulationSettings};
use crate::sim::SimReport;

/// Most points one sweep may have.
pub const MAX_POINTS: usize = 1000;

/// Bisection steps between the last grid point that keeps the objectives and the first that does not: the knee is
/// then known to 1/32 of a grid step.
const REFINE_STEPS: usize = 5;

/// A flow's p99 may grow to this multiple of its value at the lowest factor, for a flow without an SLO.
const P99_GROWTH_WITHOUT_SLO: f64 = 3.0;

/// Errors at or above this percentage break the objectives.
const MAX_ERROR_PCT: f64 = 1.0;

/// What to sweep and how.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSettings {
    /// The flow whose rate is scaled; `None` scales every flow.
    pub flow: Option<String>,
    /// The lowest factor.
    pub from: f64,
    /// The highest factor (included when the steps reach it).
    pub to: f64,
    /// Between factors.
    pub step: f64,
    /// Simulated seconds per point.
    pub duration_s: f64,
    /// Leading seconds of each run left out of the statistics.
    pub warmup_s: f64,
    /// Runs per point, with seeds `seed`, `seed + 1`…; the same seeds at every point, so the points differ by their
    /// load only.
    pub seeds: u32,
    /// The first seed.
    pub seed: u64,
}

impl SweepSettings {
    /// The factors of the grid, or why there are none.
    pub fn factors(&self) -> Result<Vec<f64>, CapacityError> {
        let bad = |why: String| Err(CapacityError::Settings(why));
        if !(self.from.is_finite() && self.to.is_finite() && self.step.is_finite()) {
            return bad("the factor range must be finite numbers".to_owned());
        }
        if self.from <= 0.0 {
            return bad(format!(
                "the factor range must start above 0, not at {}",
                self.from
            ));
        }
        if self.to < self.from {
            return bad(format!(
                "the factor range {}:{} is empty: it ends before it starts",
                self.from, self.to
            ));
        }
        if self.step <= 0.0 {
            return bad(format!(
                "the factor step must be above 0, not {}",
                self.step
            ));
        }
        let count = ((self.to - self.from) / self.step + 1e-9).floor() + 1.0;
        if count > MAX_POINTS as f64 {
            return bad(format!(
                "{count} factors from {} to {} by {}; at most {MAX_POINTS} points",
                self.from, self.to, self.step
            ));
        }
        // Each factor from the start and its index, so steps like 0.1 add no rounding drift.
        Ok((0..count as usize)
            .map(|i| round_factor(self.from + i as f64 * self.step))
            .collect())
    }
}

/// A factor rounded to 12 significant digits: `0.1 * 3` reads as 0.3.
fn round_factor(value: f64) -> f64 {
    format!("{value:.12e}").parse().unwrap_or(value)
}

/// One flow at one point, averaged over the seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowPoint {
    /// Completed requests per second.
    pub goodput_rps: f64,
    /// Median latency of completed requests, in milliseconds.
    pub p50_ms: f64,
    /// 99th-percentile latency of completed requests, in milliseconds.
    pub p99_ms: f64,
    /// The lowest and highest p99 of the seeds: how much the runs disagree.
    pub p99_spread_ms: [f64; 2],
    /// Failed requests, in percent of finished ones.
    pub error_pct: f64,
    /// 99th percentile of the time until a request's work, async work included, is done (equals the latency's
    /// for a flow without async calls).
    pub settle_p99_ms: f64,
}

/// One factor of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepPoint {
    /// The multiple of the design's rate.
    pub factor: f64,
    /// The swept flow's rate at this factor (every flow's together when all are swept), in requests per second.
    pub offered_rps: f64,
    /// Per flow id.
    pub flows: BTreeMap<String, FlowPoint>,
}

/// The largest load at which the design still keeps its objectives.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Knee {
    /// The multiple of the design's rate.
    pub factor: f64,
    /// The swept rate there, in requests per second.
    pub offered_rps: f64,
}

/// A whole sweep: the `sweep --json` shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepResult {
    /// The grid's points, by factor.
    pub points: Vec<SweepPoint>,
    /// The largest factor at which every flow met its objective with errors under 1%, refined between the grid's
    /// points; `None` when even the lowest factor misses it. When every point keeps them, the highest factor.
    pub knee: Option<Knee>,
}

/// Sweeps the design's load over the settings' factors, simulating each with every seed in parallel, then refines
/// the knee between the grid's points. Planned faults are left out.
pub fn sweep(
    design: &Design,
    settings: &SweepSettings,
    progress: Progress,
) -> Result<SweepResult, CapacityError> {
    check_runnable(design, settings.seeds)?;
    if let Some(flow) = &settings.flow
        && design.flow(flow).is_none()
    {
        let known: Vec<&str> = design.flows.iter().map(|f| f.id.as_str()).collect();
        return Err(CapacityError::Settings(format!(
            "there is no flow \"{flow}\" (flows: {})",
            known.join(", ")
        )));
    }
    let factors = settings.factors()?;
    let base_rps: f64 = design
        .flows
        .iter()
        .filter(|f| {
            settings
                .flow
                .as_deref()
                .is_none_or(|id| f.id.as_str() == id)
        })
        .map(|f| f.rate_rps)
        .sum();
    let seeds: Vec<u64> = (0..u64::from(settings.seeds))
        .map(|k| settings.seed.wrapping_add(k))
        .collect();
    let total = (factors.len() + REFINE_STEPS) * seeds.len();
    let done = AtomicUsize::new(0);
    let cancelled = AtomicBool::new(false);
    let run = |factor: f64| -> Result<SweepPoint, CapacityError> {
        if cancelled.load(Ordering::Relaxed) {
            return Err(CapacityError::Cancelled);
        }
        let mut scaled = scale_rates(design, settings.flow.as_deref(), factor);
        // The question is load: planned faults would blur where the design itself breaks.
        scaled.faults.clear();
        let reports = simulate_seeds(
            &scaled,
            SimulationSettings {
                duration_s: settings.duration_s,
                warmup_s: settings.warmup_s,
                seed: 0,
            },
            &seeds,
        )?;
        let finished = done.fetch_add(reports.len(), Ordering::Relaxed) + reports.len();
        if !progress(finished.min(total), total) {
            cancelled.store(true, Ordering::Relaxed);
            return Err(CapacityError::Cancelled);
        }
        Ok(point(factor, factor * base_rps, design, &reports))
    };
    let points = {
        use rayon::prelude::*;
        factors
            .par_iter()
            .map(|&factor| run(factor))
            .collect::<Result<Vec<_>, _>>()?
    };
    let baseline = &points[0];
    let keeps = |p: &SweepPoint| keeps_objectives(design, baseline, p);
    let knee = match points.iter().position(|p| !keeps(p)) {
        None => points.last().map(|p| Knee {
            factor: p.factor,
            offered_rps: p.offered_rps,
        }),
        Some(0) => None,
        Some(first_missed) => {
            // Bisection between the last point that keeps the objectives and the first that misses them.
            let (mut low, mut high) =
                (points[first_missed - 1].factor, points[first_missed].factor);
            for _ in 0..REFINE_STEPS {
                let middle = round_factor((low + high) / 2.0);
                if keeps(&run(middle)?) {
                    low = middle;
                } else {
                    high = middle;
                }
            }
            Some(Knee {
                factor: low,
                offered_rps: low * base_rps,
            })
        }
    };
    Ok(SweepResult { points, knee })
}

/// The seeds' reports of one factor, averaged per flow.
fn point(factor: f64, offered_rps: f64, design: &Design, reports: &[SimReport]) -> SweepPoint {
    let flows = design
        .flows
        .iter()
        .map(|flow| {
            let of_flow = flow_reports(reports, flow.id.as_str());
            let p99s: Vec<f64> = of_flow.iter().map(|f| f.latency_ms.p99).collect();
            let spread = [
                p99s.iter().copied().fold(f64::INFINITY, f64::min),
                p99s.iter().copied().fold(0.0, f64::max),
            ];
            (
                flow.id.to_string(),
                FlowPoint {
                    goodput_rps: mean(of_flow.iter().map(|f| f.goodput_rps)),
                    p50_ms: mean(of_flow.iter().map(|f| f.latency_ms.p50)),
                    p99_ms: mean(p99s.iter().copied()),
                    p99_spread_ms: if p99s.is_empty() { [0.0, 0.0] } else { spread },
                    error_pct: mean(of_flow.iter().map(|f| error_pct(f))),
                    settle_p99_ms: mean(of_flow.iter().map(|f| f.settle_ms.p99)),
                },
            )
        })
        .collect();
    SweepPoint {
        factor,
        offered_rps,
        flows,
    }
}

/// Whether every flow keeps its objective at `point`: its p99 within its SLO (without one, within 3× its p99 at
/// the lowest factor), errors under 1%, and some requests answered.
fn keeps_objectives(design: &Design, baseline: &SweepPoint, point: &SweepPoint) -> bool {
    design.flows.iter().all(|flow| {
        let Some(now) = point.flows.get(flow.id.as_str()) else {
            return false;
        };
        let limit_ms = flow.slo_p99_ms.unwrap_or_else(|| {
            baseline
                .flows
                .get(flow.id.as_str())
                .map_or(0.0, |b| b.p99_ms * P99_GROWTH_WITHOUT_SLO)
        });
        now.goodput_rps > 0.0 && now.error_pct < MAX_ERROR_PCT && now.p99_ms <= limit_ms
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(from: f64, to: f64, step: f64) -> SweepSettings {
        SweepSettings {
            flow: None,
            from,
            to,
            step,
            duration_s: 10.0,
            warmup_s: 0.0,
            seeds: 1,
            seed: 1,
        }
    }

    #[test]
    fn factors_cover_the_range_without_drift_and_refuse_empty_ones() {
        assert_eq!(
            settings(0.5, 1.0, 0.1).factors().unwrap(),
            [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
        );
        assert_eq!(settings(1.0, 1.0, 1.0).factors().unwrap(), [1.0]);
        assert!(settings(2.0, 1.0, 0.1).factors().is_err());
        assert!(settings(-1.0, 1.0, 0.1).factors().is_err());
        assert!(settings(0.0, 1.0, 0.1).factors().is_err());
        assert!(settings(1.0, 2.0, 0.0).factors().is_err());
        assert!(settings(1.0, 2000.0, 1.0).factors().is_err());
    }
}
