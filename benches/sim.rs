//! Simulator speed and memory on the 10-station M/M/2 tandem at utilization 0.7 (tests/designs/tandem-mm2).
//!
//! Run: `cargo bench --bench sim` (add `-- 10000000` for the 10^7-arrival memory run). Prints arrivals simulated
//! per second of wall time on one core and the peak resident memory. `benches/compare_simpy.sh` runs the same
//! model in SimPy beside it.

mod common;

use std::time::Instant;

use syncopate::model::{self, SimulationSettings};
use syncopate::sim::Simulation;

fn main() {
    let arrivals: f64 = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000.0);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/designs/tandem-mm2.syncopate"
    );
    let design = match model::load_file(std::path::Path::new(path)) {
        Ok(design) => design,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let rate = design.flows[0].rate_rps;
    let duration_s = arrivals / rate;
    let settings = SimulationSettings {
        duration_s,
        warmup_s: 0.0,
        seed: 1,
    };
    let start = Instant::now();
    let mut sim = match Simulation::new(&design, settings) {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    // Step in slices, as the live view does, and watch the live population stay small.
    let mut max_in_flight = 0;
    let slices = 100;
    for slice in 1..=slices {
        sim.step_until(duration_s * slice as f64 / slices as f64);
        max_in_flight = max_in_flight.max(sim.jobs_in_flight());
    }
    let report = sim.report();
    let elapsed = start.elapsed().as_secs_f64();
    let started = report.flows["jobs"].started;
    println!(
        "tandem M/M/2 x10 at 0.7: {started} arrivals, {} events in {elapsed:.2} s: {:.0} requests/s, {:.0} events/s; \
         at most {max_in_flight} requests in flight; peak RSS {:.1} MiB",
        report.events,
        started as f64 / elapsed,
        report.events as f64 / elapsed,
        common::status_mib("self", "VmHWM").unwrap_or(f64::NAN)
    );
}
