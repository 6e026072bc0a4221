//! Hand-computed cases of the patterns the format names (docs/simulation.md, "Sagas, polling and dead letters"):
//! compensating calls and the inconsistency window, asynchronous request-reply with polling, and dead-letter queues.

use serde_json::{Value, json};
use syncopate::model::{self, Design, SimulationSettings};
use syncopate::sim::{SimReport, simulate};

fn load(value: Value) -> Design {
    model::load_from_str(&value.to_string(), "test").unwrap_or_else(|e| panic!("{e}"))
}

fn run(design: &Design, duration_s: f64, warmup_s: f64, seed: u64) -> SimReport {
    let settings = SimulationSettings {
        duration_s,
        warmup_s,
        seed,
    };
    simulate(design, settings).unwrap_or_else(|e| panic!("{e}"))
}

/// An orchestrator that reserves (compensated by `release`), then charges; the charge fails with `charge_error`.
fn saga(charge: Value, charge_call: Value, rate_rps: f64) -> Design {
    let mut charge = charge;
    charge["id"] = json!("payment");
    let mut charge_call = charge_call;
    for (key, value) in [
        ("id", json!("charge")),
        ("from", json!("orders")),
        ("to", json!("payment")),
        ("mode", json!("sync")),
        ("order", json!(2)),
    ] {
        charge_call[key] = value;
    }
    load(json!({
        "type": "syncopate", "version": 1, "name": "saga",
        "services": [
            {"id": "orders", "concurrency": 100000, "queue_capacity": null,
             "service_time": {"dist": "constant", "ms": 0}},
            {"id": "stock", "concurrency": 100000, "queue_capacity": null,
             "service_time": {"dist": "constant", "ms": 10}},
            charge
        ],
        "edges": [
            {"id": "reserve", "from": "orders", "to": "stock", "mode": "sync", "order": 1},
            charge_call,
            {"id": "release", "from": "orders", "to": "stock", "mode": "sync", "compensates": "reserve"}
        ],
        "flows": [{"id": "place", "entry": "orders", "rate_rps": rate_rps, "kind": "write"}]
    }))
}

#[test]
fn a_saga_compensates_as_often_as_its_later_step_fails() {
    let p = 0.2;
    let design = saga(
        json!({"concurrency": 100000, "queue_capacity": null, "error_rate": p,
               "service_time": {"dist": "exponential", "mean_ms": 5}}),
        json!({}),
        2000.0,
    );
    let report = run(&design, 60.0, 5.0, 7);
    let place = &report.flows["place"];
    assert!(place.started >= 100_000, "{} requests", place.started);
    let rate = place
        .compensation_rate
        .expect("a saga flow reports its compensation rate");
    let sigma = (p * (1.0 - p) / place.started as f64).sqrt();
    assert!(
        (rate - p).abs() <= 3.0 * sigma,
        "compensation rate {rate} (expected {p} ± {})",
        3.0 * sigma
    );
    // Every failure rolled back first (a rollback under way at the end has not failed its request yet).
    let compensated = place.compensated.expect("count");
    assert!(
        compensated >= place.failed && compensated - place.failed <= place.in_flight,
        "{compensated} rolled back, {} failed, {} in flight",
        place.failed,
        place.in_flight
    );
    assert_eq!(place.compensation_failed, Some(0));
    // The compensating call is counted on its own edge, never made on the forward path.
    let release = &report.edges["release"];
    let reserve = &report.edges["reserve"];
    assert_eq!(reserve.calls, place.started);
    assert!(
        release.calls.abs_diff(place.failed) <= place.in_flight,
        "{} releases for {} failures",
        release.calls,
        place.failed
    );
}

#[test]
fn with_constant_times_the_inconsistency_window_is_the_sum_of_its_parts() {
    // The reservation answers at 10 ms; the charge fails at the end of its 20 ms of work (30 ms); the release
    // takes 10 ms (40 ms): the window from the reservation's answer to the release's is 20 + 10 = 30 ms.
    let design = saga(
        json!({"concurrency": 100000, "queue_capacity": null, "error_rate": 1.0,
               "service_time": {"dist": "constant", "ms": 20}}),
        json!({}),
        100.0,
    );
    let report = run(&design, 20.0, 1.0, 3);
    let place = &report.flows["place"];
    let window = place.inconsistency_window_ms.expect("a window");
    assert!(place.failed > 1000);
    assert_eq!(place.compensated, Some(place.failed));
    for value in [window.mean, window.p50, window.p99, window.max] {
        assert!((value - 30.0).abs() < 0.05, "window {window:?}");
    }
    // The failed request's answer comes after its rollback: 40 ms in all.
    assert_eq!(place.completed, 0);

    // The charge hangs past its 25 ms timeout: window = 25 ms of waiting + 10 ms of release.
    let design = saga(
        json!({"concurrency": 100000, "queue_capacity": null,
               "service_time": {"dist": "constant", "ms": 200}}),
        json!({"timeout_ms": 25}),
        100.0,
    );
    let report = run(&design, 20.0, 1.0, 3);
    let window = report.flows["place"]
        .inconsistency_window_ms
        .expect("a window");
    for value in [window.mean, window.p50, window.max] {
        assert!((value - 35.0).abs() < 0.05, "window {window:?}");
    }
}

#[test]
fn a_compensation_that_fails_leaves_the_request_inconsistent() {
    // The release itself fails half the time, with no retry: half the rollbacks are stuck.
    let mut design = saga(
        json!({"concurrency": 100000, "queue_capacity": null, "error_rate": 1.0,
               "service_time": {"dist": "constant", "ms": 1}}),
        json!({}),
        500.0,
    );
    design.services.push(model::Service {
        error_rate: 0.5,
        ..model::Service::new("ledger")
    });
    let release = design
        .edges
        .iter_mut()
        .find(|e| e.id.as_str() == "release")
        .expect("release");
    release.to = model::ServiceId::new("ledger");
    assert!(model::validate(&design).is_empty());
    let report = run(&design, 30.0, 1.0, 5);
    let place = &report.flows["place"];
    let compensated = place.compensated.expect("count") as f64;
    let stuck = place.compensation_failed.expect("count") as f64;
    let share = stuck / compensated;
    assert!((share - 0.5).abs() < 0.02, "{stuck} of {compensated} stuck");
}

/// A client answered at once whose work (exponential, mean `work_ms`) runs behind a queue, polling every
/// `interval_ms`.
fn polled(work_ms: f64, interval_ms: f64, rate_rps: f64) -> Design {
    load(json!({
        "type": "syncopate", "version": 1, "name": "polling",
        "services": [
            {"id": "api", "concurrency": 100000, "queue_capacity": null,
             "service_time": {"dist": "constant", "ms": 0}},
            {"id": "worker", "concurrency": 100000, "queue_capacity": null,
             "service_time": {"dist": "exponential", "mean_ms": work_ms}}
        ],
        "edges": [{"id": "job", "from": "api", "to": "worker", "mode": "async"}],
        "flows": [{"id": "ocr", "entry": "api", "rate_rps": rate_rps, "caller_waits": false,
                   "polling": {"interval_ms": interval_ms}}]
    }))
}

#[test]
fn polling_adds_the_wait_until_the_next_poll_and_its_polls() {
    for (work_ms, interval_ms) in [(200.0, 100.0), (100.0, 250.0)] {
        let design = polled(work_ms, interval_ms, 1000.0);
        let report = run(&design, 110.0, 5.0, 11);
        let ocr = &report.flows["ocr"];
        let q = (-interval_ms / work_ms).exp();
        let expected_extra = interval_ms - work_ms + interval_ms * q / (1.0 - q);
        let expected_polls = 1.0 / (1.0 - q);
        let seen = ocr.seen_ms.expect("seen");
        let extra = seen.mean - ocr.settle_ms.mean;
        let polls = ocr.polls.expect("polls") as f64 / ocr.started as f64;
        assert!(ocr.started >= 100_000);
        assert!(
            (extra - expected_extra).abs() <= 0.02 * expected_extra,
            "T {interval_ms} m {work_ms}: extra wait {extra} ms (expected {expected_extra})"
        );
        assert!(
            (polls - expected_polls).abs() <= 0.02 * expected_polls,
            "T {interval_ms} m {work_ms}: {polls} polls per request (expected {expected_polls})"
        );
        // Polls are load: each one is an arrival at the entry (those of warm-up requests and those after the end
        // make the counts differ at the edges of the measured period only).
        let api = &report.services["api"];
        let offered = (ocr.started + ocr.polls.unwrap_or(0)) as f64;
        assert!(
            (api.arrivals as f64 - offered).abs() <= 0.005 * offered,
            "{} arrivals at the entry for {offered} requests and polls",
            api.arrivals
        );
    }
}

#[test]
fn dead_letters_come_after_the_last_delivery() {
    let (r, deliveries) = (0.5_f64, 3);
    let design = load(json!({
        "type": "syncopate", "version": 1, "name": "poison",
        "services": [
            {"id": "api", "concurrency": 100000, "queue_capacity": null,
             "service_time": {"dist": "constant", "ms": 0}},
            {"id": "consumer", "concurrency": 100000, "queue_capacity": null, "error_rate": r,
             "service_time": {"dist": "exponential", "mean_ms": 2}}
        ],
        "edges": [{"id": "events", "from": "api", "to": "consumer", "mode": "async",
                   "dead_letter": {"after_deliveries": deliveries}}],
        "flows": [{"id": "ingest", "entry": "api", "rate_rps": 2000, "caller_waits": false}]
    }));
    let report = run(&design, 60.0, 5.0, 13);
    let events = &report.edges["events"];
    let calls = events.calls as f64;
    assert!(calls >= 100_000.0);
    let dead = events.dead_lettered.expect("dead letters") as f64 / calls;
    let redelivered = events.redeliveries.expect("redeliveries") as f64 / calls;
    let expected_dead = r.powi(deliveries);
    let expected_redelivered: f64 = (1..deliveries).map(|k| r.powi(k)).sum();
    assert!(
        (dead - expected_dead).abs() <= 0.03 * expected_dead,
        "{dead} dead-lettered per message (expected {expected_dead})"
    );
    assert!(
        (redelivered - expected_redelivered).abs() <= 0.03 * expected_redelivered,
        "{redelivered} redeliveries per message (expected {expected_redelivered})"
    );
    // Redeliveries are arrivals at the consumer; dead-lettered messages' work is never done.
    let consumer = &report.services["consumer"];
    assert!(
        consumer
            .arrivals
            .abs_diff(events.calls + events.redeliveries.unwrap_or(0))
            <= 10
    );
    let ingest = &report.flows["ingest"];
    assert!(
        ingest
            .settle_failed
            .abs_diff(events.dead_lettered.unwrap_or(0))
            <= 10,
        "{} settle failed, {:?} dead-lettered",
        ingest.settle_failed,
        events.dead_lettered
    );

    // Without a dead-letter queue a failed message is dropped at once: no redelivery.
    let mut without = design.clone();
    without.edges[0].dead_letter = None;
    let report = run(&without, 20.0, 1.0, 13);
    assert_eq!(report.edges["events"].redeliveries, Some(0));
    assert_eq!(report.edges["events"].dead_lettered, Some(0));
    let ingest = &report.flows["ingest"];
    let dropped = ingest.settle_failed as f64 / report.edges["events"].calls as f64;
    assert!((dropped - r).abs() < 0.02, "{dropped}");
}

#[test]
fn a_design_without_the_patterns_reports_as_before() {
    let design = polled(10.0, 100.0, 10.0);
    let mut plain = design.clone();
    plain.flows[0].polling = None;
    let report = run(&plain, 10.0, 1.0, 1);
    let json = serde_json::to_string(&report).expect("json");
    for field in [
        "compensated",
        "compensation_rate",
        "inconsistency_window_ms",
        "polls",
        "seen_ms",
    ] {
        assert!(!json.contains(field), "{field} in {json}");
    }
    // An async call says it redelivered nothing; a sync one does not say it at all.
    assert_eq!(report.edges["job"].redeliveries, Some(0));
}
