//! The simulator against queueing theory, through the CLI's JSON on designs in `tests/designs/`.
//!
//! Each test runs independent replications (seeds 1..=R, fixed in advance) and checks that the 99% confidence
//! interval of the simulated mean is narrower than ±2% of the exact value and contains it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn design(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/designs")
        .join(name)
}

/// Runs `syncopate simulate --json` for each seed, two at a time, and returns the parsed reports.
fn replications(design: &Path, seeds: std::ops::RangeInclusive<u64>, extra: &[&str]) -> Vec<Value> {
    let seeds: Vec<u64> = seeds.collect();
    let mut reports = Vec::with_capacity(seeds.len());
    for pair in seeds.chunks(2) {
        let handles: Vec<_> = pair
            .iter()
            .map(|&seed| {
                let mut command = Command::new(env!("CARGO_BIN_EXE_syncopate"));
                command
                    .arg("simulate")
                    .arg(design)
                    .args(["--json", "--seed", &seed.to_string()])
                    .args(extra);
                std::thread::spawn(move || command.output().expect("syncopate runs"))
            })
            .collect();
        for handle in handles {
            let out = handle.join().expect("the run's thread finishes");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            reports.push(serde_json::from_slice(&out.stdout).expect("simulate --json prints JSON"));
        }
    }
    reports
}

/// Student's t quantile at 0.995 for `df` degrees of freedom (the 99% two-sided interval).
fn t_995(df: usize) -> f64 {
    match df {
        7 => 3.499,
        15 => 2.947,
        23 => 2.807,
        _ => panic!("no t quantile for {df} degrees of freedom in this table"),
    }
}

/// Mean and 99% half-width of independent samples.
fn interval(samples: &[f64]) -> (f64, f64) {
    let n = samples.len() as f64;
    let mean = samples.iter().sum::<f64>() / n;
    let variance = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, t_995(samples.len() - 1) * (variance / n).sqrt())
}

#[track_caller]
fn assert_matches(what: &str, samples: &[f64], exact: f64) {
    let (mean, half_width) = interval(samples);
    println!("{what}: simulated {mean:.4} ± {half_width:.4} (99%), exact {exact:.4}");
    assert!(
        half_width < 0.02 * exact,
        "{what}: interval ±{half_width:.4} is not narrower than 2% of {exact:.4}"
    );
    assert!(
        (mean - exact).abs() <= half_width,
        "{what}: exact {exact:.4} outside {mean:.4} ± {half_width:.4}"
    );
}

fn service<'a>(report: &'a Value, id: &str) -> &'a Value {
    &report["services"][id]
}

fn f(value: &Value) -> f64 {
    value.as_f64().expect("a number")
}

#[test]
fn mm1_at_utilization_0_8() {
    // W = 1 / (mu - lambda) = 1 / (100/s - 80/s) = 50 ms.
    let reports = replications(&design("mm1.syncopate"), 1..=24, &[]);
    let sojourn: Vec<f64> = reports
        .iter()
        .map(|r| f(&service(r, "station")["sojourn_ms"]["mean"]))
        .collect();
    assert_matches("M/M/1 mean sojourn (ms)", &sojourn, 50.0);
    let utilization: Vec<f64> = reports
        .iter()
        .map(|r| f(&service(r, "station")["utilization"]))
        .collect();
    assert_matches("M/M/1 utilization", &utilization, 0.8);
    // Lq = rho^2 / (1 - rho) = 3.2.
    let queue: Vec<f64> = reports
        .iter()
        .map(|r| f(&service(r, "station")["mean_queue_length"]))
        .collect();
    let (mean_queue, _) = interval(&queue);
    assert!((mean_queue - 3.2).abs() < 0.1, "{mean_queue}");
}

#[test]
fn mmc_with_4_workers_at_utilization_0_8() {
    // Erlang C(4, 3.2) = 0.596372; Wq = C / (c mu - lambda) = 0.596372 / 80 s; W = Wq + 10 ms.
    let erlang_c = syncopate::rules::analysis::erlang_c(4, 3.2);
    let exact = erlang_c / 80.0 * 1000.0 + 10.0;
    assert!((exact - 17.4547).abs() < 1e-3, "{exact}");
    let reports = replications(&design("mmc4.syncopate"), 1..=24, &[]);
    let sojourn: Vec<f64> = reports
        .iter()
        .map(|r| f(&service(r, "station")["sojourn_ms"]["mean"]))
        .collect();
    assert_matches("M/M/4 mean sojourn (ms)", &sojourn, exact);
    let utilization: Vec<f64> = reports
        .iter()
        .map(|r| f(&service(r, "station")["utilization"]))
        .collect();
    assert_matches("M/M/4 utilization", &utilization, 0.8);
}

#[test]
fn tandem_of_ten_mm2_stations_chained_by_async_calls() {
    // By Burke's theorem each station sees Poisson arrivals: M/M/2 at rho = 0.7 has C = 2 rho^2 / (1 + rho),
    // Wq = C / (2 mu - lambda) and W = Wq + 10 ms = 19.6078 ms.
    let c = 2.0 * 0.49 / 1.7;
    let exact = c / 60.0 * 1000.0 + 10.0;
    let reports = replications(&design("tandem-mm2.syncopate"), 1..=16, &[]);
    for station in 1..=10 {
        let id = format!("station-{station}");
        let sojourn: Vec<f64> = reports
            .iter()
            .map(|r| f(&service(r, &id)["sojourn_ms"]["mean"]))
            .collect();
        assert_matches(&format!("{id} mean sojourn (ms)"), &sojourn, exact);
        let utilization: Vec<f64> = reports
            .iter()
            .map(|r| f(&service(r, &id)["utilization"]))
            .collect();
        assert_matches(&format!("{id} utilization"), &utilization, 0.7);
    }
}

#[test]
fn a_sync_call_into_ample_workers_adds_exactly_its_service_time() {
    let reports = replications(&design("sync-ample.syncopate"), 1..=8, &[]);
    let caller: Vec<f64> = reports
        .iter()
        .map(|r| f(&service(r, "caller")["sojourn_ms"]["mean"]))
        .collect();
    assert_matches("caller sojourn = callee service time (ms)", &caller, 10.0);
    let latency: Vec<f64> = reports
        .iter()
        .map(|r| f(&r["flows"]["calls"]["latency_ms"]["mean"]))
        .collect();
    assert_matches("flow latency (ms)", &latency, 10.0);
}

#[test]
fn settle_time_behind_an_async_call_is_the_consumer_s_sojourn_while_the_answer_is_instant() {
    // The producer answers at once; the work is done when the M/M/1 consumer (lambda 20/s, mean service 40 ms,
    // rho 0.8) has processed the message: settle W = 1 / (mu - lambda) = 1 / (25/s - 20/s) = 200 ms.
    let reports = replications(&design("async-mm1.syncopate"), 1..=24, &[]);
    let settle: Vec<f64> = reports
        .iter()
        .map(|r| f(&r["flows"]["orders"]["settle_ms"]["mean"]))
        .collect();
    assert_matches("async M/M/1 mean settle time (ms)", &settle, 200.0);
    // Lag is the wait before a worker takes the message: Wq = rho / (mu - lambda) = 160 ms.
    let lag: Vec<f64> = reports
        .iter()
        .map(|r| f(&r["edges"]["publish"]["lag_ms"]["mean"]))
        .collect();
    assert_matches("async M/M/1 mean message lag (ms)", &lag, 160.0);
    for report in &reports {
        let flow = &report["flows"]["orders"];
        assert!(
            f(&flow["latency_ms"]["max"]) <= 0.001,
            "the answer does not wait for the work: {}",
            flow["latency_ms"]
        );
        let completed = flow["completed"].as_u64().unwrap();
        let accounted = flow["settled"].as_u64().unwrap()
            + flow["unsettled"].as_u64().unwrap()
            + flow["settle_failed"].as_u64().unwrap();
        assert_eq!(
            completed, accounted,
            "completed = settled + unsettled + settle_failed"
        );
        // Little's law for the backlog: mean messages waiting = message rate x mean lag.
        let measured_s = f(&report["simulated_s"]) - f(&report["warmup_s"]);
        let edge = &report["edges"]["publish"];
        let rate = f(&edge["calls"]) / measured_s;
        let lambda_wq = rate * f(&edge["lag_ms"]["mean"]) / 1000.0;
        let backlog = f(&edge["mean_backlog"]);
        assert!(
            (backlog - lambda_wq).abs() / lambda_wq < 0.01,
            "backlog L = {backlog:.4}, lambda Wq = {lambda_wq:.4}"
        );
        assert!(edge["max_backlog"].as_u64().unwrap() >= backlog as u64);
        assert_eq!(
            edge["max_backlog"], report["services"]["consumer"]["max_queue_length"],
            "every message waiting at the consumer came along this edge"
        );
    }
}

#[test]
fn littles_law_holds_for_every_service() {
    // L = lambda W for every service of a sample with sync and async calls, timeouts and a broker.
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/order-saga.syncopate");
    let reports = replications(&sample, 1..=2, &["--duration-s", "400", "--warmup-s", "20"]);
    for report in &reports {
        let measured_s = f(&report["simulated_s"]) - f(&report["warmup_s"]);
        let design = syncopate::model::load_file(&sample).unwrap();
        for s in &design.services {
            let stats = service(report, s.id.as_str());
            let arrivals = f(&stats["arrivals"]);
            if arrivals < 2000.0 {
                continue;
            }
            let in_system = f(&stats["utilization"]) * s.total_workers() as f64
                + f(&stats["mean_queue_length"]);
            let lambda_w = arrivals / measured_s * f(&stats["sojourn_ms"]["mean"]) / 1000.0;
            let relative = (in_system - lambda_w).abs() / lambda_w.max(1e-9);
            assert!(
                relative < 0.02,
                "{}: L = {in_system:.4}, lambda W = {lambda_w:.4}",
                s.id
            );
        }
    }
}

#[test]
fn counters_balance_and_runs_are_reproducible() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/payment-guarded.syncopate");
    let first = Command::new(env!("CARGO_BIN_EXE_syncopate"))
        .args(["simulate", "--json", "--seed", "3"])
        .arg(&sample)
        .output()
        .unwrap();
    let second = Command::new(env!("CARGO_BIN_EXE_syncopate"))
        .args(["simulate", "--json", "--seed", "3"])
        .arg(&sample)
        .output()
        .unwrap();
    assert_eq!(
        first.stdout, second.stdout,
        "the same seed gives byte-identical results"
    );
    let report: Value = serde_json::from_slice(&first.stdout).unwrap();
    for (id, flow) in report["flows"].as_object().unwrap() {
        let started = flow["started"].as_u64().unwrap();
        let ended = flow["completed"].as_u64().unwrap() + flow["failed"].as_u64().unwrap();
        let in_flight = flow["in_flight"].as_u64().unwrap();
        assert_eq!(started, ended + in_flight, "{id}");
    }
}
