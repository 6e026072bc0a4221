//! Rules and traffic analysis on a generated 1,000-service, 3,000-call design.
//!
//! Run: `cargo bench --bench rules`. Prints the median and worst of 30 runs; the budget is 50 ms.

use std::time::{Duration, Instant};

use syncopate::model::generate::layered_design;
use syncopate::rules;

fn main() {
    let design = layered_design(1000, 3000, 42);
    println!(
        "design: {} services, {} calls, {} flows",
        design.services.len(),
        design.edges.len(),
        design.flows.len()
    );
    let mut times: Vec<Duration> = Vec::new();
    let mut findings = 0;
    for _ in 0..30 {
        let start = Instant::now();
        let report = rules::check(&design);
        times.push(start.elapsed());
        findings = report.findings.len();
    }
    times.sort();
    println!(
        "rules::check (analysis + {} rules, {findings} findings): median {:.1} ms, worst {:.1} ms (budget 50 ms)",
        rules::RULES.len(),
        times[times.len() / 2].as_secs_f64() * 1000.0,
        times[times.len() - 1].as_secs_f64() * 1000.0
    );
}
