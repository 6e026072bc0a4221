//! Replica planning: the fewest replicas per service that carry the design's load with room to spare, found by the
//! static traffic analysis and confirmed (and corrected) by simulation.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{
    CapacityError, Progress, check_runnable, error_pct, flow_reports, mean, scale_rates,
    simulate_seeds,
};
use crate::model::validate::MAX_REPLICAS;
use crate::model::{Design, ServiceKind, SimulationSettings};
use crate::rules::analysis::{Topology, analyse};
use crate::sim::SimReport;

/// Most rounds of the static estimate; it settles in a few unless a call cycle multiplies load.
const STATIC_ROUNDS: usize = 50;

/// Most rounds of simulating and correcting.
const SIMULATED_ROUNDS: usize = 8;

/// A measured utilization may exceed the target by this fraction of it before replicas are added: a run's
/// utilization is an estimate, and the static one that sized the service is the expected value.
const UTILIZATION_NOISE: f64 = 0.03;

/// The most errors, in percent of a flow's requests, beyond those the design's own error rates cause.
pub const MAX_CAPACITY_ERROR_PCT: f64 = 0.1;

/// How to plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanSettings {
    /// The busiest any sized service may be, in (0, 1).
    pub target_utilization: f64,
    /// Extra load to plan for: rates × (1 + headroom).
    pub headroom: f64,
    /// Simulated seconds per run.
    pub duration_s: f64,
    /// Leading seconds of each run left out of the statistics.
    pub warmup_s: f64,
    /// Runs per check, with seeds `seed`, `seed + 1`….
    pub seeds: u32,
    /// The first seed.
    pub seed: u64,
}

/// What the plan does to one service.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ServicePlan {
    /// Replicas in the design.
    pub replicas_before: u32,
    /// Replicas the plan gives it.
    pub replicas_after: u32,
    /// Busy workers over all workers with the planned replicas, simulated (mean over the seeds).
    pub utilization: f64,
    /// 99th percentile of the time a request spends at the service with the planned replicas, in milliseconds.
    pub p99_ms: f64,
}

/// A replica plan: the `plan --json` shape, and the sized design.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanResult {
    /// Per sized service id (services, gateways and databases; clients, external services and brokers keep theirs).
    pub services: BTreeMap<String, ServicePlan>,
    /// Replicas of the sized services in the design.
    pub replicas_total_before: u32,
    /// Replicas of the sized services in the plan.
    pub replicas_total_after: u32,
    /// Whether the planned design's simulation met every flow's SLO with errors under 0.1% (beyond those of the
    /// services' own error rates) and no sized service above the target utilization.
    pub meets_slo: bool,
    /// The design with the planned replicas and nothing else changed.
    #[serde(skip)]
    pub sized: Design,
}

/// Whether the plan sizes this kind of service: brokers keep their replicas (they stand for durability and
/// quorum, not throughput), and clients and external services are not ours to run.
fn sized_kind(kind: ServiceKind) -> bool {
    matches!(
        kind,
        ServiceKind::Service | ServiceKind::Gateway | ServiceKind::Database
    )
}

/// Plans the fewest replicas per service that keep every sized service at or under the target utilization and every
/// flow within its SLO at the design's rates × (1 + headroom). Planned faults are left out: the plan is for load,
/// and no replica count makes a failed dependency answer.
pub fn plan(
    design: &Design,
    settings: &PlanSettings,
    progress: Progress,
) -> Result<PlanResult, CapacityError> {
    check_runnable(design, settings.seeds)?;
    let target = settings.target_utilization;
    if !(target > 0.0 && target < 1.0) {
        return Err(CapacityError::Settings(format!(
            "the target utilization must be between 0 and 1 (exclusive), not {target}"
        )));
    }
    if !(settings.headroom.is_finite() && settings.headroom >= 0.0) {
        return Err(CapacityError::Settings(format!(
            "the headroom must be 0 or more, not {}",
            settings.headroom
        )));
    }
    let mut loaded = scale_rates(design, None, 1.0 + settings.headroom);
    loaded.faults.clear();
    refuse_unbounded_load(&loaded)?;
    let sized_ids: Vec<usize> = (0..loaded.services.len())
        .filter(|&i| sized_kind(loaded.services[i].kind))
        .collect();
    static_estimate(&mut loaded, &sized_ids, target);

    let seeds: Vec<u64> = (0..u64::from(settings.seeds))
        .map(|k| settings.seed.wrapping_add(k))
        .collect();
    // The floor run and at most SIMULATED_ROUNDS checks, each a run per seed (one after another, the seeds of
    // each in parallel).
    let total = (1 + SIMULATED_ROUNDS) * seeds.len();
    let mut done = 0;
    let mut report_progress = |runs: usize| {
        done += runs;
        if progress(done.min(total), total) {
            Ok(())
        } else {
            Err(CapacityError::Cancelled)
        }
    };
    let simulation = SimulationSettings {
        duration_s: settings.duration_s,
        warmup_s: settings.warmup_s,
        seed: 0,
    };
    // What no replica count changes: each flow's errors and p99 with four times the estimated replicas (every
    // sized service at most a quarter as busy as the target), from the services' own error rates, timeouts
    // shorter than their work, and the work itself.
    let mut ample = loaded.clone();
    for &i in &sized_ids {
        ample.services[i].replicas = ample.services[i]
            .replicas
            .saturating_mul(4)
            .min(MAX_REPLICAS);
    }
    let floor: Vec<(f64, f64)> = {
        let reports = simulate_seeds(&ample, simulation, &seeds)?;
        report_progress(seeds.len())?;
        loaded
            .flows
            .iter()
            .map(|flow| {
                let of_flow = flow_reports(&reports, flow.id.as_str());
                (
                    mean(of_flow.iter().map(|r| error_pct(r))),
                    mean(of_flow.iter().map(|r| r.latency_ms.p99)),
                )
            })
            .collect()
    };
    let mut reports;
    let mut meets;
    let mut round = 0;
    loop {
        reports = simulate_seeds(&loaded, simulation, &seeds)?;
        report_progress(seeds.len())?;
        let check = check(&loaded, &sized_ids, &reports, target, &floor);
        meets = check.changes.is_empty() && !check.beyond_capacity;
        round += 1;
        if check.changes.is_empty() || round == SIMULATED_ROUNDS {
            break;
        }
        for (index, replicas) in check.changes {
            loaded.services[index].replicas = replicas;
        }
    }
    let mut sized = design.clone();
    let mut services = BTreeMap::new();
    for &i in &sized_ids {
        let planned = &loaded.services[i];
        let before = design.services[i].replicas;
        sized.services[i].replicas = planned.replicas;
        let of_service: Vec<_> = reports
            .iter()
            .filter_map(|r| r.services.get(planned.id.as_str()))
            .collect();
        services.insert(
            planned.id.to_string(),
            ServicePlan {
                replicas_before: before,
                replicas_after: planned.replicas,
                utilization: mean(of_service.iter().map(|s| s.utilization)),
                p99_ms: mean(of_service.iter().map(|s| s.sojourn_ms.p99)),
            },
        );
    }
    Ok(PlanResult {
        replicas_total_before: services.values().map(|s| s.replicas_before).sum(),
        replicas_total_after: services.values().map(|s| s.replicas_after).sum(),
        services,
        meets_slo: meets,
        sized,
    })
}

/// Refuses a design whose load a cycle of calls multiplies without bound (the `over-capacity` finding's "no bound"):
/// no replica count carries it, and each round would add replicas up to the limit, whose runs then make ever more
/// calls per simulated second (minutes each, where a bounded design takes a second).
fn refuse_unbounded_load(design: &Design) -> Result<(), CapacityError> {
    let analysis = analyse(&Topology::new(design));
    let unbounded: Vec<String> = analysis
        .flows
        .iter()
        .zip(&design.flows)
        .filter(|(traffic, _)| {
            traffic.unbounded && traffic.arrivals_rps.iter().any(|&rps| rps > 0.0)
        })
        .map(|(_, flow)| format!("flow \"{}\"", flow.display_name()))
        .collect();
    if unbounded.is_empty() {
        return Ok(());
    }
    Err(CapacityError::Settings(format!(
        "no number of replicas carries this design's load: a cycle of calls multiplies the requests of {} at \
         every turn (the over-capacity findings name the services, sync-cycle a synchronous cycle); break the \
         cycle, then plan",
        crate::rules::list_names(&unbounded)
    )))
}

/// Sizes every service from the static analysis: replicas = ⌈busy workers / (target × concurrency)⌉, where busy
/// workers = load × holding time (local work and waits on sync calls). A caller's holding time depends on its
/// callees' waits, so this repeats until nothing changes.
fn static_estimate(design: &mut Design, sized: &[usize], target: f64) {
    for _ in 0..STATIC_ROUNDS {
        let analysis = analyse(&Topology::new(design));
        let mut changed = false;
        for &i in sized {
            let service = &design.services[i];
            let busy_workers = analysis.load_rps[i] * analysis.holding_ms[i] / 1000.0;
            let replicas = if busy_workers.is_finite() {
                let per_replica = target * f64::from(service.concurrency.max(1));
                // A hair under an integer is that integer: float noise must not add a replica.
                ((busy_workers / per_replica) - 1e-9).ceil().max(1.0)
            } else {
                // Waiting on an overloaded callee: more of it for now; the callee grows this round too.
                f64::from(service.replicas) * 2.0
            }
            .min(f64::from(MAX_REPLICAS)) as u32;
            if replicas != service.replicas {
                design.services[i].replicas = replicas;
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

/// What a simulated check found.
struct Check {
    /// The replicas to change, by service index; empty when replicas cannot help any more.
    changes: BTreeMap<usize, u32>,
    /// A flow misses its SLO even with ample replicas: no replica count fixes it.
    beyond_capacity: bool,
}

/// Checks a simulated run: a sized service busier than the target, or a flow over its SLO or with errors of
/// capacity's making (beyond `floor`, each flow's errors and p99 with ample replicas), asks for more replicas.
fn check(
    design: &Design,
    sized: &[usize],
    reports: &[SimReport],
    target: f64,
    floor: &[(f64, f64)],
) -> Check {
    let utilization = |i: usize| {
        mean(
            reports
                .iter()
                .filter_map(|r| r.services.get(design.services[i].id.as_str()))
                .map(|s| s.utilization),
        )
    };
    let analysis = analyse(&Topology::new(design));
    let mut changes = BTreeMap::new();
    let mut beyond_capacity = false;
    for &i in sized {
        let u = utilization(i);
        if u > target * (1.0 + UTILIZATION_NOISE) {
            let replicas = design.services[i].replicas;
            let needed = (f64::from(replicas) * u / target).ceil() as u32;
            changes.insert(i, needed.max(replicas + 1).min(MAX_REPLICAS));
        }
    }
    for (f, flow) in design.flows.iter().enumerate() {
        let of_flow = flow_reports(reports, flow.id.as_str());
        let p99 = mean(of_flow.iter().map(|r| r.latency_ms.p99));
        let errors = mean(of_flow.iter().map(|r| error_pct(r)));
        let (floor_errors, floor_p99) = floor.get(f).copied().unwrap_or((0.0, 0.0));
        let slo = flow.slo_p99_ms.unwrap_or(f64::INFINITY);
        // Errors of the services' own making are the design's, not capacity's; an SLO out of reach is a miss.
        if floor_p99 > slo {
            beyond_capacity = true;
        }
        // What replicas can fix: latency the floor keeps within the SLO, errors above the floor's.
        let slow = p99 > slo && floor_p99 <= slo;
        let failing = errors - floor_errors >= MAX_CAPACITY_ERROR_PCT;
        if !(slow || failing) {
            continue;
        }
        // The busiest sized service the flow reaches gets a replica more (a quarter more when it has many).
        let busiest = sized
            .iter()
            .copied()
            .filter(|&i| {
                analysis
                    .flows
                    .get(f)
                    .is_some_and(|traffic| traffic.arrivals_rps.get(i).is_some_and(|&r| r > 0.0))
            })
            .max_by(|&a, &b| utilization(a).total_cmp(&utilization(b)));
        if let Some(i) = busiest {
            let replicas = changes
                .get(&i)
                .copied()
                .unwrap_or(design.services[i].replicas);
            changes.insert(i, (replicas + replicas.div_ceil(4)).min(MAX_REPLICAS));
        }
    }
    Check {
        changes,
        beyond_capacity,
    }
}
