//! What the simulator must show: cascades through blocking calls, queues that absorb failures and bursts,
//! breakers that cap latency, and retry storms.

use serde_json::{Value, json};
use syncopate::model::{self, Design, SimulationSettings};
use syncopate::sim::{Simulation, simulate};

fn load(value: Value) -> Design {
    model::load_from_str(&value.to_string(), "test").unwrap_or_else(|e| panic!("{e}"))
}

fn settings(duration_s: f64, warmup_s: f64) -> SimulationSettings {
    SimulationSettings {
        duration_s,
        warmup_s,
        seed: 5,
    }
}

/// Completed requests of flow 0 per second over `[from_s, to_s)`, stepping the simulation through it.
fn goodput_between(sim: &mut Simulation, from_s: f64, to_s: f64) -> f64 {
    sim.step_until(from_s);
    let before = sim.snapshot().flows[0].completed;
    sim.step_until(to_s);
    let after = sim.snapshot().flows[0].completed;
    (after - before) as f64 / (to_s - from_s)
}

fn chain(dependency_edge: Value, fault: Value) -> Design {
    load(json!({
        "type": "syncopate", "version": 1, "name": "chain",
        "services": [
            {"id": "users", "kind": "client", "concurrency": 100000, "queue_capacity": null,
             "service_time": {"dist": "constant", "ms": 0}},
            {"id": "api", "concurrency": 8, "service_time": {"dist": "exponential", "mean_ms": 5}},
            {"id": "db", "concurrency": 8, "service_time": {"dist": "exponential", "mean_ms": 5}}
        ],
        "edges": [
            {"from": "users", "to": "api", "mode": "sync"},
            dependency_edge
        ],
        "flows": [{"id": "requests", "entry": "users", "rate_rps": 200}],
        "faults": [fault]
    }))
}

#[test]
fn a_hanging_dependency_behind_blocking_calls_takes_its_callers_down_for_good() {
    let design = chain(
        json!({"from": "api", "to": "db", "mode": "sync"}),
        json!({"service": "db", "kind": "hang", "start_s": 10, "end_s": 20}),
    );
    let mut sim = Simulation::new(&design, settings(60.0, 1.0)).unwrap();
    let before = goodput_between(&mut sim, 2.0, 10.0);
    let during = goodput_between(&mut sim, 12.0, 20.0);
    let after = goodput_between(&mut sim, 30.0, 60.0);
    assert!(before > 180.0, "healthy goodput {before}");
    assert!(during < 2.0, "goodput during the hang {during}");
    assert!(
        after < 2.0,
        "the stuck workers never come back: goodput after the hang {after}"
    );
    let snapshot = sim.snapshot();
    assert_eq!(
        snapshot.services[1].busy_workers, 8,
        "every api worker is stuck waiting on db"
    );
}

#[test]
fn a_consumer_down_behind_a_queue_leaves_the_producer_healthy_and_its_backlog_drains() {
    let design = chain(
        json!({"from": "api", "to": "db", "mode": "async"}),
        json!({"service": "db", "kind": "down", "start_s": 10, "end_s": 20}),
    );
    let mut design = design;
    design.services[2].queue_capacity = None;
    let mut sim = Simulation::new(&design, settings(60.0, 1.0)).unwrap();
    let before = goodput_between(&mut sim, 2.0, 10.0);
    let during = goodput_between(&mut sim, 10.0, 20.0);
    let backlog_at_end_of_fault = sim.snapshot().services[2].queue_length;
    let after = goodput_between(&mut sim, 20.0, 40.0);
    let backlog_later = sim.snapshot().services[2].queue_length;
    assert!(
        before > 180.0 && during > 180.0 && after > 180.0,
        "{before} {during} {after}"
    );
    assert!(
        backlog_at_end_of_fault > 1500,
        "messages wait while db is down: {backlog_at_end_of_fault}"
    );
    assert!(
        backlog_later < 50,
        "the backlog drains once db is back: {backlog_later}"
    );
    let report = sim.report();
    assert_eq!(report.services["db"].rejected, 0, "nothing is lost");
}

#[test]
fn clearing_a_hang_by_hand_restarts_the_service_and_its_callers_recover() {
    let design = chain(
        json!({"from": "api", "to": "db", "mode": "sync", "timeout_ms": 200}),
        json!({"service": "db", "kind": "hang", "start_s": 10}),
    );
    let mut sim = Simulation::new(&design, settings(60.0, 1.0)).unwrap();
    let during = goodput_between(&mut sim, 12.0, 20.0);
    assert!(during < 2.0, "goodput during the hang {during}");
    let stuck = sim.snapshot().services[2].busy_workers;
    assert_eq!(stuck, 8, "every db worker is stuck");
    sim.clear_faults("db");
    let after = goodput_between(&mut sim, 22.0, 60.0);
    assert!(after > 180.0, "goodput after the restart {after}");
    let report = sim.report();
    let flow = &report.flows["requests"];
    assert_eq!(flow.started, flow.completed + flow.failed + flow.in_flight);
}

#[test]
fn a_timeout_and_a_breaker_keep_the_callers_latency_near_the_timeout_during_a_fault() {
    let guarded = chain(
        json!({"from": "api", "to": "db", "mode": "sync", "timeout_ms": 100,
               "circuit_breaker": {"consecutive_failures": 5, "open_ms": 1000}}),
        json!({"service": "db", "kind": "hang", "start_s": 5}),
    );
    // Measure only the fault: the warm-up ends when it has started.
    let report = simulate(&guarded, settings(40.0, 10.0)).unwrap();
    let api = &report.services["api"];
    assert!(
        api.sojourn_ms.p99 <= 120.0,
        "api p99 {} ms with a 100 ms timeout",
        api.sojourn_ms.p99
    );
    assert!(
        report.edges["api-db"].short_circuited > 1000,
        "{:?}",
        report.edges["api-db"]
    );
    // A call refused by the open breaker has failed: every short-circuit is among the failures.
    assert!(
        report.edges["api-db"].failures >= report.edges["api-db"].short_circuited,
        "{:?}",
        report.edges["api-db"]
    );
    // Without them, the same fault leaves the api's requests waiting for ever.
    let unguarded = chain(
        json!({"from": "api", "to": "db", "mode": "sync"}),
        json!({"service": "db", "kind": "hang", "start_s": 5}),
    );
    let report = simulate(&unguarded, settings(40.0, 10.0)).unwrap();
    assert!(
        report.services["api"].completed < 10,
        "{:?}",
        report.services["api"]
    );
}

#[test]
fn retries_without_backoff_multiply_load_on_an_overloaded_service_and_cut_goodput() {
    let with_retry = |retry: Value| {
        let mut edge = json!({"from": "api", "to": "db", "mode": "sync", "timeout_ms": 2000});
        if !retry.is_null() {
            edge["retry"] = retry;
        }
        let mut design = chain(
            edge,
            json!({"service": "db", "kind": "slow", "start_s": 0, "factor": 1}),
        );
        design.faults.clear();
        design.flows[0].rate_rps = 1700.0; // db: 8 workers × 200/s = 1600/s of capacity.
        design.services[1].concurrency = 400;
        design
    };
    let plain = simulate(&with_retry(Value::Null), settings(30.0, 5.0)).unwrap();
    let storm = simulate(
        &with_retry(json!({"max_retries": 3, "backoff_ms": 0, "per_try_timeout_ms": 30})),
        settings(30.0, 5.0),
    )
    .unwrap();
    let plain_goodput = plain.flows["requests"].goodput_rps;
    let storm_goodput = storm.flows["requests"].goodput_rps;
    let plain_load = plain.services["db"].arrivals;
    let storm_load = storm.services["db"].arrivals;
    assert!(
        storm_load as f64 > 1.5 * plain_load as f64,
        "db arrivals {plain_load} -> {storm_load}"
    );
    assert!(
        storm_goodput < 0.8 * plain_goodput,
        "goodput {plain_goodput} -> {storm_goodput}"
    );
    assert!(storm.edges["api-db"].retries > 10_000);
}

#[test]
fn a_burst_above_capacity_is_absorbed_by_a_broker_queue_with_nothing_lost() {
    let design = load(json!({
        "type": "syncopate", "version": 1, "name": "burst",
        "services": [
            {"id": "producer", "concurrency": 100000, "queue_capacity": null, "service_time": {"dist": "constant", "ms": 0}},
            {"id": "bus", "kind": "broker", "replicas": 3, "concurrency": 64, "queue_capacity": null,
             "service_time": {"dist": "exponential", "mean_ms": 0.5}},
            {"id": "consumer", "concurrency": 1, "queue_capacity": null, "service_time": {"dist": "exponential", "mean_ms": 10}}
        ],
        "edges": [
            {"from": "producer", "to": "bus", "mode": "async", "topic": "events"},
            {"from": "bus", "to": "consumer", "mode": "async", "topic": "events"}
        ],
        "flows": [{"id": "events", "entry": "producer", "rate_rps": 20, "caller_waits": false,
                   "pattern": [[10, 300], [15, 20], [100, 0]]}]
    }));
    let mut sim = Simulation::new(&design, settings(120.0, 0.0)).unwrap();
    sim.step_until(15.0);
    let backlog = sim.snapshot().services[2].queue_length;
    assert!(backlog > 500, "the burst queues up: {backlog}");
    sim.step_until(120.0);
    let report = sim.report();
    let published = report.flows["events"].completed;
    assert_eq!(
        report.services["bus"].rejected + report.services["consumer"].rejected,
        0
    );
    assert_eq!(
        report.services["consumer"].completed, published,
        "every message was consumed"
    );
    assert!(report.flows["events"].failed == 0);
}
