//! Capacity questions answered by simulation: how a design behaves as its load grows ([`sweep`], with the knee
//! where it stops meeting its objectives) and how many replicas each service needs for its load ([`plan`]).
//!
//! Both run many independent simulations (points × seeds) in parallel on every core, each deterministic for its
//! seed, so a result depends only on the design and the settings. See `docs/capacity.md`.

mod plan;
mod sweep;

pub use plan::{PlanResult, PlanSettings, ServicePlan, plan};
pub use sweep::{FlowPoint, Knee, SweepPoint, SweepResult, SweepSettings, sweep};

use crate::model::{Design, SimulationSettings, validate};
use crate::sim::{self, SimReport};

/// Why a capacity question cannot be answered: bad settings for this design (a usage error), or a simulation
/// that could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CapacityError {
    /// The settings do not fit the design (no flows, an unknown flow, an empty factor range…).
    #[error("{0}")]
    Settings(String),
    /// A scaled design could not be simulated.
    #[error("{0}")]
    Simulation(String),
    /// The progress callback asked to stop.
    #[error("cancelled")]
    Cancelled,
}

/// Reports progress, `(done, total)` simulations, and answers whether to go on (`false` cancels). Called from the
/// worker threads.
pub type Progress<'a> = &'a (dyn Fn(usize, usize) -> bool + Sync);

/// The design with the rate of `flow` (or of every flow), its rate steps included, multiplied by `factor`.
pub fn scale_rates(design: &Design, flow: Option<&str>, factor: f64) -> Design {
    let mut scaled = design.clone();
    for f in scaled
        .flows
        .iter_mut()
        .filter(|f| flow.is_none_or(|id| f.id.as_str() == id))
    {
        f.rate_rps *= factor;
        for step in f.pattern.iter_mut().flatten() {
            step.rate_rps *= factor;
        }
    }
    scaled
}

/// Simulates `design` once per seed, in parallel; the reports come back in seed order.
fn simulate_seeds(
    design: &Design,
    settings: SimulationSettings,
    seeds: &[u64],
) -> Result<Vec<SimReport>, CapacityError> {
    use rayon::prelude::*;
    if let Some(problem) = validate(design).first() {
        return Err(CapacityError::Simulation(format!(
            "the scaled design is not valid at {}: {}",
            problem.path, problem.message
        )));
    }
    seeds
        .par_iter()
        .map(|&seed| {
            sim::simulate(design, SimulationSettings { seed, ..settings })
                .map_err(|e| CapacityError::Simulation(e.to_string()))
        })
        .collect()
}

/// Refuses what no sweep or plan can run: a design without load, or no seeds.
fn check_runnable(design: &Design, seeds: u32) -> Result<(), CapacityError> {
    if design.flows.is_empty() {
        return Err(CapacityError::Settings(
            "the design has no flows: add one to give it load".to_owned(),
        ));
    }
    if seeds == 0 {
        return Err(CapacityError::Settings(
            "at least one seed is needed".to_owned(),
        ));
    }
    Ok(())
}

/// One flow's report from each run.
fn flow_reports<'a>(reports: &'a [SimReport], flow: &str) -> Vec<&'a sim::FlowReport> {
    reports.iter().filter_map(|r| r.flows.get(flow)).collect()
}

/// Percentage of a flow's finished requests that failed.
fn error_pct(report: &sim::FlowReport) -> f64 {
    let finished = report.completed + report.failed;
    if finished == 0 {
        0.0
    } else {
        100.0 * report.failed as f64 / finished as f64
    }
}

fn mean(values: impl IntoIterator<Item = f64>) -> f64 {
    let (sum, n) = values
        .into_iter()
        .fold((0.0, 0usize), |(sum, n), v| (sum + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}
