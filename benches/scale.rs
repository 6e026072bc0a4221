//! The large-design budgets of the file format and the exporters, on a generated 1,000-service, 3,000-call design:
//! opening it (read the file, parse, validate) and exporting every target.
//!
//! Run: `cargo bench --bench scale`. Prints the median and worst of the runs; the budgets are 100 ms to open and
//! validate, 500 ms for all exports.

use std::time::{Duration, Instant};

use syncopate::export;
use syncopate::model::{self, generate::layered_design};

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
}
