//! The large-design budgets of the file format, the exporters, the layout and the simulator, on a generated
//! 1,000-service, 3,000-call design: opening it (read the file, parse, validate), exporting every target, laying it
//! out, and simulating 60 s of it at 20,000 requests per second.
//!
//! Run: `cargo bench --bench scale`. Prints the median and worst of the runs; the budgets are 100 ms to open and
//! validate, 500 ms for all exports; the simulation prints its wall time, events and peak memory.

mod common;

use std::time::{Duration, Instant};

use syncopate::export;
use syncopate::model::{self, SimulationSettings, generate::layered_design};
use syncopate::sim::Simulation;

/// The simulated load: every flow's rate scaled so they add up to this.
const TOTAL_RATE_RPS: f64 = 20_000.0;
const SIMULATED_S: f64 = 60.0;

fn timed<T>(runs: usize, mut work: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        last = Some(work());
        times.push(start.elapsed());
    }
    times.sort();
    let Some(last) = last else {
        unreachable!("runs is at least one")
    };
    (times[times.len() / 2], times[times.len() - 1], last)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn main() {
    let design = layered_design(1000, 3000, 42);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("large.syncopate");
    model::save_file(&path, &design).expect("the design saves");
    let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
    println!(
        "design: {} services, {} calls, {} flows; file {:.1} MiB",
        design.services.len(),
        design.edges.len(),
        design.flows.len(),
        bytes as f64 / (1024.0 * 1024.0)
    );
    let (median, worst, loaded) = timed(20, || model::load_file(&path).expect("the design loads"));
    assert_eq!(loaded, design);
    println!(
        "open (read, parse, validate): median {:.1} ms, worst {:.1} ms (budget 100 ms)",
        ms(median),
        ms(worst)
    );
    let (median, worst, files) = timed(10, || export::export_all(&design));
    let total: usize = files.iter().map(|f| f.contents.len()).sum();
    println!(
        "export all targets ({} files, {:.1} MiB): median {:.1} ms, worst {:.1} ms (budget 500 ms)",
        files.len(),
        total as f64 / (1024.0 * 1024.0),
        ms(median),
        ms(worst)
    );

    let (median, worst, crossings) = timed(5, || {
        let mut laid_out = design.clone();
        model::layout::tidy_layout(&mut laid_out);
        model::layout::crossings(&laid_out)
    });
    println!(
        "tidy layout: median {:.1} ms, worst {:.1} ms (budget 1 s), {crossings} crossings",
        ms(median),
        ms(worst)
    );

    simulate_at_scale(design.clone());
    plan_at_scale(&design);
}

/// `syncopate plan` of the 1,000-service design at its own rates: 60 s runs, 3 seeds, on every core.
fn plan_at_scale(design: &model::Design) {
    let settings = syncopate::capacity::PlanSettings {
        target_utilization: 0.7,
        headroom: 0.0,
        duration_s: SIMULATED_S,
        warmup_s: 5.0,
        seeds: 3,
        seed: 1,
    };
    let rounds = std::sync::atomic::AtomicUsize::new(0);
    let start = Instant::now();
    let result = syncopate::capacity::plan(design, &settings, &|_, _| {
        rounds.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        true
    })
    .expect("the generated design plans");
    println!(
        "plan (target 70%, 3 seeds of {SIMULATED_S} s, {} threads): {} -> {} replicas, meets SLOs: {}, {} checks, \
         {:.1} s of wall time (budget 120 s)",
        rayon::current_num_threads(),
        result.replicas_total_before,
        result.replicas_total_after,
        result.meets_slo,
        rounds.load(std::sync::atomic::Ordering::Relaxed),
        start.elapsed().as_secs_f64()
    );
}

/// 60 simulated seconds at 20,000 requests/s, stepped in one-second slices as the live view does.
fn simulate_at_scale(mut design: model::Design) {
    let total: f64 = design.flows.iter().map(|f| f.rate_rps).sum();
    for flow in &mut design.flows {
        flow.rate_rps *= TOTAL_RATE_RPS / total;
        // The rate steps of a flow are absolute rates too.
        for step in flow.pattern.iter_mut().flatten() {
            step.rate_rps *= TOTAL_RATE_RPS / total;
        }
    }
    provision(&mut design);
    let settings = SimulationSettings {
        duration_s: SIMULATED_S,
        warmup_s: 0.0,
        seed: 1,
    };
    let start = Instant::now();
    let mut sim = Simulation::new(&design, settings).expect("the generated design simulates");
    let mut max_in_flight = 0;
    for second in 1..=SIMULATED_S as u32 {
        sim.step_until(f64::from(second));
        max_in_flight = max_in_flight.max(sim.jobs_in_flight());
    }
    let report = sim.report();
    let elapsed = start.elapsed();
    let started: u64 = report.flows.values().map(|f| f.started).sum();
    let completed: u64 = report.flows.values().map(|f| f.completed).sum();
    let failed: u64 = report.flows.values().map(|f| f.failed).sum();
    println!(
        "simulate {SIMULATED_S} s at {TOTAL_RATE_RPS} requests/s: {started} requests ({completed} completed, {failed} failed), {} events \
         in {:.1} s of wall time ({:.2}x real time, {:.1} M events/s); at most {max_in_flight} requests in flight; \
         peak RSS of this process {:.0} MiB",
        report.events,
        elapsed.as_secs_f64(),
        SIMULATED_S / elapsed.as_secs_f64(),
        report.events as f64 / elapsed.as_secs_f64() / 1e6,
        common::status_mib("self", "VmHWM").unwrap_or(f64::NAN)
    );
}

/// Scales replicas, as the design's operators would for this load, so the static analysis puts every service at or
/// under 50% utilization (the generator sizes services for its own 200 requests/s).
fn provision(design: &mut model::Design) {
    for _ in 0..3 {
        let utilization =
            syncopate::rules::analyse(&syncopate::rules::Topology::new(design)).utilization;
        for (service, utilization) in design.services.iter_mut().zip(&utilization) {
            if *utilization > 0.5 {
                let scaled = f64::from(service.replicas) * utilization / 0.5;
                service.replicas = scaled.ceil().min(1000.0) as u32;
            }
        }
    }
    let replicas: u32 = design.services.iter().map(|s| s.replicas).sum();
    println!("provisioned for {TOTAL_RATE_RPS} requests/s: {replicas} replicas in all");
}
