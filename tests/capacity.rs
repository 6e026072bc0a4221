//! Capacity answers against exact ones: the sweep's knee of an M/M/c station where the exact sojourn-time
//! distribution crosses the SLO, the plan of a chain whose minimal replicas follow from the utilization bound, and
//! the samples' sized designs meeting their SLOs in fresh runs. Then the command line's contract.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use syncopate::capacity::{self, PlanSettings, SweepSettings};
use syncopate::model::{self, Design};

fn load(value: &Value) -> Design {
    model::load_from_str(&value.to_string(), "test").unwrap_or_else(|e| panic!("{e}"))
}

fn no_progress(_: usize, _: usize) -> bool {
    true
}

/// Erlang's C formula: the probability an arrival waits at an M/M/c station with offered load `a` = λ/μ.
fn erlang_c(servers: u32, a: f64) -> f64 {
    let c = f64::from(servers);
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..servers {
        if k > 0 {
            term *= a / f64::from(k);
        }
        sum += term;
    }
    let last = term * a / c * c / (c - a);
    last / (sum + last)
}

/// The exact p99 of the sojourn time (wait + service) at an M/M/c FCFS station, in ms: P(T > t) =
/// e^(-μt) + Pw μ/(θ-μ) (e^(-μt) - e^(-θt)) with θ = cμ - λ, solved by bisection.
fn mmc_sojourn_p99_ms(lambda: f64, mu: f64, servers: u32) -> f64 {
    let waits = erlang_c(servers, lambda / mu);
    let theta = f64::from(servers) * mu - lambda;
    let tail = |t: f64| {
        (-mu * t).exp() + waits * mu / (theta - mu) * ((-mu * t).exp() - (-theta * t).exp())
    };
    let (mut low, mut high) = (0.0, 100.0);
    for _ in 0..200 {
        let middle = (low + high) / 2.0;
        if tail(middle) > 0.01 {
            low = middle;
        } else {
            high = middle;
        }
    }
    low * 1000.0
}

#[test]
fn the_sweep_finds_the_knee_where_the_exact_mmc_p99_crosses_the_slo() {
    // M/M/4, service 40 ms (μ = 25/s), 50 requests/s at factor 1, SLO p99 300 ms.
    let (mu, servers, base_rps, slo_ms) = (25.0, 4, 50.0, 300.0);
    let design = load(&json!({
        "type": "syncopate", "version": 1, "name": "M/M/4",
        "services": [{"id": "station", "concurrency": servers,
                      "service_time": {"dist": "exponential", "mean_ms": 1000.0 / mu}}],
        "edges": [],
        "flows": [{"id": "arrivals", "entry": "station", "rate_rps": base_rps, "slo_p99_ms": slo_ms}]
    }));
    // The exact arrival rate at which the p99 reaches the SLO.
    let (mut low, mut high) = (base_rps, f64::from(servers) * mu * 0.999);
    for _ in 0..100 {
        let middle = (low + high) / 2.0;
        if mmc_sojourn_p99_ms(middle, mu, servers) < slo_ms {
            low = middle;
        } else {
            high = middle;
        }
    }
    let exact_factor = low / base_rps;
    let result = capacity::sweep(
        &design,
        &SweepSettings {
            flow: None,
            from: 1.0,
            to: 1.9,
            step: 0.1,
            duration_s: 200.0,
            warmup_s: 10.0,
            seeds: 3,
            seed: 1,
        },
        &no_progress,
    )
    .expect("sweeps");
    assert_eq!(result.points.len(), 10);
    let knee = result.knee.expect("a knee inside the range");
    println!(
        "knee at factor {:.4} ({:.1}/s), exact {exact_factor:.4} ({low:.1}/s)",
        knee.factor, knee.offered_rps
    );
    assert!(
        (knee.factor - exact_factor).abs() / exact_factor < 0.05,
        "knee at factor {}, exact {exact_factor}",
        knee.factor
    );
    assert!((knee.offered_rps - knee.factor * base_rps).abs() < 1e-9);
    // Goodput follows the offered load below the knee.
    let first = &result.points[0].flows["arrivals"];
    assert!((first.goodput_rps - base_rps).abs() / base_rps < 0.05);
}

/// A chain of asynchronous hops: the entry answers at once and each consumer's load is the flow's rate, so the
/// fewest replicas are ⌈λ × service time / (target × concurrency)⌉ exactly.
fn chain(replicas: u32) -> Design {
    load(&json!({
        "type": "syncopate", "version": 1, "name": "chain",
        "services": [
            {"id": "web", "kind": "client"},
            {"id": "a", "replicas": replicas, "concurrency": 2,
             "service_time": {"dist": "exponential", "mean_ms": 20}},
            {"id": "bus", "kind": "broker"},
            {"id": "b", "replicas": replicas, "concurrency": 1,
             "service_time": {"dist": "exponential", "mean_ms": 15}},
            {"id": "bus2", "kind": "broker"},
            {"id": "c", "replicas": replicas, "concurrency": 4,
             "service_time": {"dist": "exponential", "mean_ms": 50}}
        ],
        "edges": [
            {"from": "web", "to": "a", "mode": "sync", "timeout_ms": 2000},
            {"from": "a", "to": "bus", "mode": "async", "topic": "t"},
            {"from": "bus", "to": "b", "mode": "async", "topic": "t"},
            {"from": "b", "to": "bus2", "mode": "async", "topic": "u"},
            {"from": "bus2", "to": "c", "mode": "async", "topic": "u"}
        ],
        "flows": [{"id": "f", "entry": "web", "rate_rps": 200}]
    }))
}

fn plan_settings() -> PlanSettings {
    PlanSettings {
        target_utilization: 0.7,
        headroom: 0.0,
        duration_s: 40.0,
        warmup_s: 5.0,
        seeds: 2,
        seed: 1,
    }
}

#[test]
fn the_plan_of_a_chain_gives_exactly_the_minimal_replicas_from_too_few_or_too_many() {
    // a: 200/s × 20 ms = 4 busy workers of 2 per replica at 70% → 3; b: 3 busy of 1 → 5; c: 10 busy of 4 → 4.
    for start in [1, 12] {
        let result = capacity::plan(&chain(start), &plan_settings(), &no_progress).expect("plans");
        let after: Vec<(String, u32)> = result
            .services
            .iter()
            .map(|(id, s)| (id.clone(), s.replicas_after))
            .collect();
        assert_eq!(
            after,
            [
                ("a".to_owned(), 3),
                ("b".to_owned(), 5),
                ("c".to_owned(), 4)
            ],
            "from {start} replicas each"
        );
        assert!(result.meets_slo);
        assert_eq!(result.replicas_total_before, 3 * start);
        assert_eq!(result.replicas_total_after, 12);
        for (id, service) in &result.services {
            assert!(service.utilization <= 0.7 * 1.03, "{id}: {service:?}");
        }
        // The sized design differs from the input in replicas only.
        let mut expected = chain(start);
        for service in &mut expected.services {
            if let Some(planned) = result.services.get(service.id.as_str()) {
                service.replicas = planned.replicas_after;
            }
        }
        assert_eq!(result.sized, expected);
    }
}

/// A message that makes two more at every turn: the load has no bound, so the plan says so at once instead of
/// adding replicas up to the limit and simulating an ever faster flood (it took over five minutes before).
#[test]
fn the_plan_refuses_a_load_that_a_cycle_multiplies_without_bound() {
    let design = load(&json!({
        "type": "syncopate", "version": 1, "name": "flood",
        "services": [
            {"id": "web", "kind": "client"},
            {"id": "a", "concurrency": 4, "service_time": {"dist": "exponential", "mean_ms": 5}},
            {"id": "b", "concurrency": 4, "service_time": {"dist": "exponential", "mean_ms": 5}}
        ],
        "edges": [
            {"from": "web", "to": "a", "mode": "sync"},
            {"from": "a", "to": "b", "mode": "async"},
            {"from": "b", "to": "a", "mode": "async"},
            {"from": "b", "to": "b", "mode": "async"}
        ],
        "flows": [{"id": "orders", "name": "Orders", "entry": "web", "rate_rps": 50}]
    }));
    let started = std::time::Instant::now();
    let error = capacity::plan(&design, &plan_settings(), &no_progress)
        .expect_err("an unbounded load cannot be planned")
        .to_string();
    assert!(
        error.contains("no number of replicas") && error.contains("flow \"Orders\""),
        "{error}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "refused before simulating"
    );
}
fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(format!("{name}.syncopate"))
}

#[test]
fn every_sample_s_sized_design_meets_its_slos_in_fresh_runs() {
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")).unwrap() {
        let path = entry.unwrap().path();
        let design = model::load_file(&path).unwrap();
        let settings = PlanSettings {
            duration_s: 30.0,
            ..plan_settings()
        };
        let result = capacity::plan(&design, &settings, &no_progress).expect("plans");
        assert!(result.meets_slo, "{}: {result:?}", path.display());
        // Fresh seeds, and the plan's conditions: no planned faults.
        let mut sized = result.sized.clone();
        sized.faults.clear();
        for seed in [101, 102] {
            let report = syncopate::sim::simulate(
                &sized,
                model::SimulationSettings {
                    duration_s: 30.0,
                    warmup_s: 5.0,
                    seed,
                },
            )
            .unwrap();
            for flow in &sized.flows {
                let measured = &report.flows[flow.id.as_str()];
                if let Some(slo) = flow.slo_p99_ms {
                    assert!(
                        measured.latency_ms.p99 <= slo,
                        "{} {}: p99 {} over the SLO {slo} (seed {seed})",
                        path.display(),
                        flow.id,
                        measured.latency_ms.p99
                    );
                }
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------ the CLI

fn syncopate(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_syncopate"))
        .args(args)
        .output()
        .expect("syncopate runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn sweep_and_plan_speak_their_json_and_csv_and_refuse_bad_input_with_exit_2() {
    let ecommerce = sample("ecommerce");
    let file = ecommerce.to_str().unwrap();
    let args = [
        "sweep",
        file,
        "--flow",
        "checkout",
        "--scale",
        "1:2:0.5",
        "--duration-s",
        "10",
        "--seeds",
        "2",
    ];
    let (code, json_text, err) = syncopate(&[&args[..], &["--json"]].concat());
    assert_eq!(code, 0, "{err}");
    let sweep: Value = serde_json::from_str(&json_text).unwrap();
    let points = sweep["points"].as_array().unwrap();
    assert_eq!(points.len(), 3);
    assert_eq!(points[1]["factor"], 1.5);
    // The swept flow's rate: checkout's 30/s × 1.5.
    assert_eq!(points[1]["offered_rps"], 45.0);
    for key in [
        "goodput_rps",
        "p50_ms",
        "p99_ms",
        "error_pct",
        "settle_p99_ms",
    ] {
        assert!(points[0]["flows"]["checkout"][key].is_number(), "{key}");
    }
    assert!(sweep["knee"].is_null() || sweep["knee"]["factor"].is_number());
    // Deterministic for given seeds.
    assert_eq!(syncopate(&[&args[..], &["--json"]].concat()).1, json_text);
    let (code, csv, _) = syncopate(&[&args[..], &["--csv"]].concat());
    assert_eq!(code, 0);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("factor,offered_rps,flow,goodput_rps"));
    assert_eq!(lines.len(), 1 + 3 * 2, "a row per point and flow");

    for bad in [
        vec!["sweep", file, "--scale", "2:1:0.5"],
        vec!["sweep", file, "--scale", "-1:1:0.5"],
        vec!["sweep", file, "--scale", "1:2:0"],
        vec!["sweep", file, "--scale", "1:2"],
        vec!["sweep", file, "--scale", "1:2:0.5", "--flow", "nope"],
        vec!["plan", file, "--target-utilization", "1"],
        vec!["plan", file, "--target-utilization", "0"],
        vec!["plan", file, "--headroom", "-0.5"],
    ] {
        let (code, out, err) = syncopate(&bad);
        assert_eq!(code, 2, "{bad:?}: {err}");
        assert!(out.is_empty());
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
    let dir = tempfile::tempdir().unwrap();
    let no_flows = dir.path().join("no-flows.syncopate");
    std::fs::write(
        &no_flows,
        json!({"type": "syncopate", "version": 1, "name": "idle",
               "services": [{"id": "a"}], "edges": [], "flows": []})
        .to_string(),
    )
    .unwrap();
    for command in ["sweep", "plan"] {
        let mut args = vec![command, no_flows.to_str().unwrap()];
        if command == "sweep" {
            args.extend(["--scale", "1:2:1"]);
        }
        let (code, _, err) = syncopate(&args);
        assert_eq!(code, 2, "{command}: {err}");
        assert!(err.contains("no flows"), "{err}");
    }

    // plan -o writes the sized design; --json has the contract's keys.
    let sized = dir.path().join("sized.syncopate");
    let (code, out, err) = syncopate(&[
        "plan",
        file,
        "--duration-s",
        "20",
        "--seeds",
        "2",
        "--json",
        "-o",
        sized.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let plan: Value = serde_json::from_str(&out).unwrap();
    for key in ["replicas_total_before", "replicas_total_after", "meets_slo"] {
        assert!(!plan[key].is_null(), "{key}");
    }
    let checkout = &plan["services"]["checkout"];
    for key in ["replicas_before", "replicas_after", "utilization", "p99_ms"] {
        assert!(checkout[key].is_number(), "{key}");
    }
    let written = model::load_file(&sized).unwrap();
    let mut original = model::load_file(&ecommerce).unwrap();
    for service in &mut original.services {
        service.replicas = written.service(service.id.as_str()).unwrap().replicas;
    }
    assert_eq!(written, original, "only replicas changed");
}
