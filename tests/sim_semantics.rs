//! Hand-computed cases of the request semantics that docs/simulation.md states: what a circuit breaker counts, what
//! `retries` and `short_circuited` count, overlapping faults, a flow's entry that is down, async calls without
//! policies, and the time until a request's work is done (settle).

use serde_json::{Value, json};
use syncopate::model::{self, Design, SimulationSettings};
use syncopate::sim::{EdgeReport, FlowReport, SimReport, simulate};

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

fn edge<'a>(report: &'a SimReport, id: &str) -> &'a EdgeReport {
    &report.edges[id]
}

fn flow<'a>(report: &'a SimReport, id: &str) -> &'a FlowReport {
    &report.flows[id]
}

/// A client calling `api` synchronously over edge `call`, with the given call policy, callee and faults.
fn caller_and_callee(call: Value, callee: Value, flow: Value, faults: Value) -> Design {
    let mut call = call;
    call["id"] = json!("call");
    call["from"] = json!("client");
    call["to"] = json!("api");
    call["mode"] = json!("sync");
    let mut callee = callee;
    callee["id"] = json!("api");
    let mut flow = flow;
    flow["id"] = json!("requests");
    flow["entry"] = json!("client");
    load(json!({
        "type": "syncopate", "version": 1, "name": "breaker",
        "services": [
            {"id": "client", "kind": "client", "concurrency": 100000, "queue_capacity": null,
             "service_time": {"dist": "constant", "ms": 0}},
            callee
        ],
        "edges": [call],
        "flows": [flow],
        "faults": faults
    }))
}

#[test]
fn answers_already_on_their_way_do_not_close_an_open_breaker() {
    // Constant 30 ms work, a call every 10 ms, one failure opens the breaker for 5 s. A 10 ms window of errors
    // fails one try at 10.000 s; the three tries already on their way answer successfully within 30 ms and must
    // not close it. Open from 10.000 s to 15.000 s: 500 calls fail fast, then the trial goes out at 15.000 s and
    // answers at 15.030 s, while the 2 calls in between fail fast too: 502.
    let design = caller_and_callee(
        json!({"circuit_breaker": {"consecutive_failures": 1, "open_ms": 5000}}),
        json!({"concurrency": 100, "service_time": {"dist": "constant", "ms": 30}}),
        json!({"rate_rps": 100, "arrival": "constant"}),
        json!([{"service": "api", "kind": "errors", "error_rate": 1.0, "start_s": 10.0, "end_s": 10.01}]),
    );
    let report = run(&design, 30.0, 0.0, 1);
    let call = edge(&report, "call");
    println!("{call:?}");
    assert!(
        (call.short_circuited as i64 - 502).abs() <= 2,
        "short-circuited {} (expected 502 ± 2)",
        call.short_circuited
    );
    assert_eq!(call.failures, call.short_circuited + 1);
    assert_eq!(call.retries, 0);
}

#[test]
fn a_breaker_in_front_of_a_half_failing_callee_sheds_most_calls() {
    // Callee fails half its requests (exponential 50 ms), breaker 5 failures / 2000 ms, 200 calls/s. Per cycle:
    // 62 outcomes on average until 5 failures in a row (E = (1 - p^5) / ((1 - p) p^5) with p = 1/2), plus about
    // 10 calls still on their way when it opens (200/s x 50 ms); then a geometric number (mean 2) of open periods,
    // each shedding 400 calls and about 10 more while its trial is out (half-open). Short-circuited:
    // 2 x 410 / (2 x 410 + 72 + 2) = 91.7%.
    let design = caller_and_callee(
        json!({"circuit_breaker": {"consecutive_failures": 5, "open_ms": 2000}}),
        json!({"concurrency": 1000, "queue_capacity": null, "error_rate": 0.5,
               "service_time": {"dist": "exponential", "mean_ms": 50}}),
        json!({"rate_rps": 200}),
        json!([]),
    );
    let report = run(&design, 1800.0, 0.0, 7);
    let call = edge(&report, "call");
    let shed = call.short_circuited as f64 / call.calls as f64;
    println!("short-circuited {:.4} of {} calls", shed, call.calls);
    assert!(
        (shed - 0.917).abs() <= 0.0092,
        "short-circuited {shed:.4} of calls, expected 0.917 ± 1%"
    );
}

#[test]
fn overlapping_errors_faults_each_hold_until_their_own_end() {
    // Two 50% errors faults from 0 s, one to 10 s and one to 30 s: from 10 s to 30 s half the requests fail.
    let design = load(json!({
        "type": "syncopate", "version": 1, "name": "overlap",
        "services": [{"id": "api", "concurrency": 1000, "queue_capacity": null,
                      "service_time": {"dist": "constant", "ms": 1}}],
        "edges": [],
        "flows": [{"id": "requests", "entry": "api", "rate_rps": 1000}],
        "faults": [
            {"service": "api", "kind": "errors", "error_rate": 0.5, "start_s": 0, "end_s": 10},
            {"service": "api", "kind": "errors", "error_rate": 0.5, "start_s": 0, "end_s": 30}
        ]
    }));
    let report = run(&design, 30.0, 10.0, 3);
    let requests = flow(&report, "requests");
    let failed = requests.failed as f64 / (requests.completed + requests.failed) as f64;
    assert!((failed - 0.5).abs() <= 0.01, "failed fraction {failed:.4}");
    // While both are in force, they combine as independent causes: 1 - 0.5 x 0.5.
    let both = run(&design, 10.0, 1.0, 3);
    let requests = flow(&both, "requests");
    let failed = requests.failed as f64 / (requests.completed + requests.failed) as f64;
    assert!(
        (failed - 0.75).abs() <= 0.015,
        "failed fraction {failed:.4}"
    );
}

#[test]
fn a_retry_the_breaker_refuses_is_no_retry_and_its_call_is_not_short_circuited() {
    // One call a second to a callee that always fails; one failure opens the breaker for good. The first call's
    // try fails and opens it, so its retry (due 10 ms later) is refused: no retry ran, and the call had a try, so
    // it failed but was not short-circuited. The next two calls are refused outright.
    let design = caller_and_callee(
        json!({"retry": {"max_retries": 1, "backoff_ms": 10},
               "circuit_breaker": {"consecutive_failures": 1, "open_ms": 100000}}),
        json!({"concurrency": 1, "error_rate": 1.0, "service_time": {"dist": "constant", "ms": 5}}),
        json!({"rate_rps": 1, "arrival": "constant"}),
        json!([]),
    );
    let report = run(&design, 3.5, 0.0, 1);
    let call = edge(&report, "call");
    assert_eq!(
        (
            call.calls,
            call.retries,
            call.short_circuited,
            call.failures
        ),
        (3, 0, 2, 3),
        "{call:?}"
    );
}

#[test]
fn a_retry_due_after_its_caller_failed_is_not_counted() {
    // The caller calls `api` (fails after 5 ms, retried after 50 ms) and `slow` (fails after 20 ms, no retry) in
    // parallel. At 20 ms the caller fails through `slow`, so the retry due at 55 ms never runs.
    let design = load(json!({
        "type": "syncopate", "version": 1, "name": "siblings",
        "services": [
            {"id": "client", "kind": "client", "concurrency": 1000, "queue_capacity": null,
             "service_time": {"dist": "constant", "ms": 0}},
            {"id": "api", "concurrency": 10, "error_rate": 1.0, "service_time": {"dist": "constant", "ms": 5}},
            {"id": "slow", "concurrency": 10, "error_rate": 1.0, "service_time": {"dist": "constant", "ms": 20}}
        ],
        "edges": [
            {"id": "to-api", "from": "client", "to": "api", "mode": "sync",
             "retry": {"max_retries": 1, "backoff_ms": 50}},
            {"id": "to-slow", "from": "client", "to": "slow", "mode": "sync"}
        ],
        "flows": [{"id": "requests", "entry": "client", "rate_rps": 1, "arrival": "constant"}]
    }));
    let report = run(&design, 5.5, 0.0, 1);
    assert_eq!(edge(&report, "to-api").calls, 5);
    assert_eq!(
        edge(&report, "to-api").retries,
        0,
        "{:?}",
        edge(&report, "to-api")
    );
    assert_eq!(
        report.services["api"].arrivals, 5,
        "one try per call went out"
    );
    assert_eq!(flow(&report, "requests").failed, 5);
}

#[test]
fn requests_at_an_entry_that_is_down_fail_at_once() {
    // 100 requests/s at an entry that is down from 10 s to 20 s: each fails on arrival (rejected), none waits for
    // it to come back, so there is no burst of old requests afterwards.
    let design = load(json!({
        "type": "syncopate", "version": 1, "name": "down entry",
        "services": [{"id": "api", "concurrency": 4, "queue_capacity": null,
                      "service_time": {"dist": "constant", "ms": 5}}],
        "edges": [],
        "flows": [{"id": "requests", "entry": "api", "rate_rps": 100, "arrival": "constant"}],
        "faults": [{"service": "api", "kind": "down", "start_s": 10, "end_s": 20}]
    }));
    let report = run(&design, 30.0, 0.0, 1);
    let requests = flow(&report, "requests");
    let api = &report.services["api"];
    assert!(
        (requests.failed as i64 - 1000).abs() <= 1,
        "failed {}",
        requests.failed
    );
    assert_eq!(api.rejected, requests.failed);
    assert!(
        requests.latency_ms.max < 5.1,
        "no answered request waited for the service to come back: {:?}",
        requests.latency_ms
    );
}

#[test]
fn retries_breakers_and_bulkheads_on_async_calls_are_refused_by_name() {
    for (field, value) in [
        ("retry", json!({"max_retries": 2})),
        (
            "circuit_breaker",
            json!({"consecutive_failures": 5, "open_ms": 1000}),
        ),
        ("max_in_flight", json!(10)),
    ] {
        let mut edge = json!({"id": "publish", "from": "a", "to": "b", "mode": "async"});
        edge[field] = value;
        let text = json!({
            "type": "syncopate", "version": 1, "name": "async policy",
            "services": [{"id": "a"}, {"id": "b"}],
            "edges": [edge],
            "flows": [{"id": "f", "entry": "a", "rate_rps": 1}]
        })
        .to_string();
        let error = model::load_from_str(&text, "x.syncopate")
            .expect_err("an async call with a caller-side policy is refused")
            .to_string();
        assert!(
            error.contains(&format!("edges[0].{field}")) && error.contains("sync calls only"),
            "{error}"
        );
    }
}

#[test]
fn a_sync_only_flow_settles_exactly_when_it_answers() {
    let design = load(json!({
        "type": "syncopate", "version": 1, "name": "sync chain",
        "services": [
            {"id": "api", "concurrency": 8, "service_time": {"dist": "exponential", "mean_ms": 5}},
            {"id": "db", "concurrency": 8, "service_time": {"dist": "exponential", "mean_ms": 5}}
        ],
        "edges": [{"from": "api", "to": "db", "mode": "sync"}],
        "flows": [{"id": "requests", "entry": "api", "rate_rps": 300}]
    }));
    let report = run(&design, 60.0, 5.0, 2);
    let requests = flow(&report, "requests");
    assert_eq!(requests.settle_ms, requests.latency_ms);
    assert_eq!(requests.settled, requests.completed);
    assert_eq!((requests.unsettled, requests.settle_failed), (0, 0));
    assert_eq!(
        report.edges["api-db"].lag_ms, None,
        "sync calls have no lag"
    );
}

#[test]
fn a_request_whose_message_a_full_queue_refused_is_not_settled() {
    // The consumer has one worker and no waiting place, and takes 100 ms a message at 50 messages/s: most
    // messages are refused, and their requests, though answered, never settle.
    let design = load(json!({
        "type": "syncopate", "version": 1, "name": "full queue",
        "services": [
            {"id": "producer", "kind": "client", "concurrency": 1000, "queue_capacity": null,
             "service_time": {"dist": "constant", "ms": 1}},
            {"id": "consumer", "concurrency": 1, "queue_capacity": 0,
             "service_time": {"dist": "constant", "ms": 100}}
        ],
        "edges": [{"id": "publish", "from": "producer", "to": "consumer", "mode": "async"}],
        "flows": [{"id": "orders", "entry": "producer", "rate_rps": 50, "arrival": "constant"}]
    }));
    let report = run(&design, 20.0, 0.0, 1);
    let orders = flow(&report, "orders");
    let publish = edge(&report, "publish");
    assert!(publish.failures > 700, "{publish:?}");
    assert_eq!(orders.settle_failed, publish.failures);
    assert_eq!(
        orders.completed,
        orders.settled + orders.settle_failed + orders.unsettled
    );
    // Accepted messages wait for nobody: they settle 101 ms after arrival.
    assert!(
        (orders.settle_ms.mean - 101.0).abs() < 0.5,
        "{:?}",
        orders.settle_ms
    );
    assert_eq!(publish.max_backlog, Some(0));
}

#[test]
fn overload_holds_what_the_design_s_capacities_hold_not_the_offered_load() {
    // payment-guarded at the highest rate a design may have: almost every call is refused at once. A refused call
    // used to leave its timeout in the event queue until it fired (2.5 million after 0.25 s; 1.9 GB after 16 s).
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/payment-guarded.syncopate");
    let mut design = syncopate::model::load_file(&path).unwrap();
    design.flows[0].rate_rps = syncopate::model::validate::MAX_RATE_RPS;
    let settings = syncopate::model::SimulationSettings {
        duration_s: 1.0,
        warmup_s: 0.0,
        seed: 1,
    };
    let mut sim = syncopate::sim::Simulation::new(&design, settings).unwrap();
    let mut most_events = 0;
    for step in 1..=5 {
        sim.step_until(0.05 * f64::from(step));
        most_events = most_events.max(sim.events_pending());
    }
    // Workers, queue places and their timers: some tens of thousands at most.
    let workers_and_places: usize = design
        .services
        .iter()
        .map(|s| (s.replicas * (s.concurrency + s.queue_capacity.unwrap_or(0))) as usize)
        .sum();
    assert!(
        most_events <= 4 * workers_and_places,
        "{most_events} events waiting; the design holds {workers_and_places} requests"
    );
}
