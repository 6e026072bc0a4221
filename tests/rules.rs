//! Every rule, on a small design that triggers it and a near-identical one that does not; and the warnings each
//! sample's pattern should raise.

use serde_json::{Value, json};
use syncopate::model::{self, Design};
use syncopate::rules::{self, Finding, Severity, Subject};

fn design(services: Value, edges: Value, flows: Value) -> Value {
    json!({"type": "syncopate", "version": 1, "name": "t", "services": services, "edges": edges, "flows": flows})
}

fn load(value: &Value) -> Design {
    model::load_from_str(&value.to_string(), "test").unwrap_or_else(|e| panic!("{e}"))
}

fn findings(value: &Value, rule: &str) -> Vec<Finding> {
    rules::check(&load(value))
        .findings
        .into_iter()
        .filter(|f| f.rule == rule)
        .collect()
}

#[track_caller]
fn assert_fires(value: &Value, rule: &str) -> Finding {
    let found = findings(value, rule);
    assert!(
        !found.is_empty(),
        "{rule} should fire; all findings: {:#?}",
        rules::check(&load(value)).findings
    );
    found.into_iter().next().unwrap()
}

#[track_caller]
fn assert_quiet(value: &Value, rule: &str) {
    let found = findings(value, rule);
    assert!(found.is_empty(), "{rule} should not fire: {found:#?}");
}

/// A service with constant 10 ms work and plenty of workers, so only the numbers a test sets matter.
fn svc(id: &str) -> Value {
    json!({"id": id, "concurrency": 100, "service_time": {"dist": "constant", "ms": 10}})
}

/// A broker of three replicas (so `broker-single-replica` stays quiet).
fn broker(id: &str) -> Value {
    let mut broker = svc(id);
    broker["kind"] = json!("broker");
    broker["replicas"] = json!(3);
    broker
}

fn client(id: &str) -> Value {
    json!({"id": id, "kind": "client", "concurrency": 10000, "service_time": {"dist": "constant", "ms": 0}})
}

fn sync(from: &str, to: &str) -> Value {
    json!({"from": from, "to": to, "mode": "sync", "timeout_ms": 1000})
}

fn flow(entry: &str) -> Value {
    json!([{"id": "f", "entry": entry, "rate_rps": 10}])
}

#[test]
fn deep_sync_chain() {
    let chain = |hops: usize| {
        let ids: Vec<String> = (0..=hops).map(|i| format!("s{i}")).collect();
        let services: Vec<Value> = ids.iter().map(|id| svc(id)).collect();
        let edges: Vec<Value> = ids.windows(2).map(|w| sync(&w[0], &w[1])).collect();
        design(json!(services), json!(edges), flow("s0"))
    };
    let finding = assert_fires(&chain(4), "deep-sync-chain");
    assert!(
        finding.message.contains("4 synchronous hops"),
        "{}",
        finding.message
    );
    assert!(
        finding.message.contains("s0 -> s1 -> s2 -> s3 -> s4"),
        "{}",
        finding.message
    );
    assert_quiet(&chain(3), "deep-sync-chain");
    let mut relaxed = chain(4);
    relaxed["lint"] = json!({"thresholds": {"max_sync_depth": 4}});
    assert_quiet(&relaxed, "deep-sync-chain");
}

#[test]
fn missing_timeout() {
    let mut value = design(
        json!([svc("a"), svc("b")]),
        json!([{"from": "a", "to": "b", "mode": "sync"}]),
        flow("a"),
    );
    let finding = assert_fires(&value, "missing-timeout");
    assert_eq!(finding.subjects[0], Subject::Edge("a-b".into()));
    assert!(finding.fix.is_some());
    value["edges"][0]["timeout_ms"] = json!(100);
    assert_quiet(&value, "missing-timeout");
}

#[test]
fn timeout_inversion() {
    // b's work is 10 ms and it may wait up to 500 ms on c, so a's 100 ms timeout gives up too early.
    let mut value = design(
        json!([svc("a"), svc("b"), svc("c")]),
        json!([
            {"from": "a", "to": "b", "mode": "sync", "timeout_ms": 100},
            {"from": "b", "to": "c", "mode": "sync", "timeout_ms": 500}
        ]),
        flow("a"),
    );
    let finding = assert_fires(&value, "timeout-inversion");
    assert!(finding.message.contains("510 ms"), "{}", finding.message);
    value["edges"][0]["timeout_ms"] = json!(600);
    assert_quiet(&value, "timeout-inversion");
}

#[test]
fn timeout_inversion_counts_the_callees_retries_and_backoffs() {
    // b retries c: 3 tries of 100 ms plus 50 + 100 ms of backoff = 450 ms, plus 10 ms of work.
    let retrying = json!({"max_retries": 2, "backoff_ms": 50, "per_try_timeout_ms": 100});
    let mut value = design(
        json!([svc("a"), svc("b"), svc("c")]),
        json!([
            {"from": "a", "to": "b", "mode": "sync", "timeout_ms": 400},
            {"from": "b", "to": "c", "mode": "sync", "timeout_ms": 1000, "retry": retrying}
        ]),
        flow("a"),
    );
    assert_fires(&value, "timeout-inversion");
    value["edges"][0]["timeout_ms"] = json!(500);
    assert_quiet(&value, "timeout-inversion");
}

#[test]
fn retry_storm() {
    let retry = |n: u32| json!({"max_retries": n, "backoff_ms": 10, "per_try_timeout_ms": 50});
    let mut value = design(
        json!([svc("a"), svc("b"), svc("c")]),
        json!([
            {"from": "a", "to": "b", "mode": "sync", "timeout_ms": 1000, "retry": retry(2)},
            {"from": "b", "to": "c", "mode": "sync", "timeout_ms": 1000, "retry": retry(2)}
        ]),
        flow("a"),
    );
    let finding = assert_fires(&value, "retry-storm");
    assert!(
        finding.message.contains("9 calls to c"),
        "{}",
        finding.message
    );
    value["edges"][1]["retry"] = retry(1);
    assert_quiet(&value, "retry-storm");
}

#[test]
fn retry_without_backoff() {
    let mut value = design(
        json!([svc("a"), svc("b")]),
        json!([{"from": "a", "to": "b", "mode": "sync", "timeout_ms": 1000,
                "retry": {"max_retries": 2, "per_try_timeout_ms": 100}}]),
        flow("a"),
    );
    assert_fires(&value, "retry-without-backoff");
    value["edges"][0]["retry"]["backoff_ms"] = json!(50);
    assert_quiet(&value, "retry-without-backoff");
}

#[test]
fn retry_without_per_try_timeout() {
    let mut value = design(
        json!([svc("a"), svc("b")]),
        json!([{"from": "a", "to": "b", "mode": "sync", "timeout_ms": 1000,
                "retry": {"max_retries": 2, "backoff_ms": 50}}]),
        flow("a"),
    );
    assert_fires(&value, "retry-without-per-try-timeout");
    value["edges"][0]["retry"]["per_try_timeout_ms"] = json!(300);
    assert_quiet(&value, "retry-without-per-try-timeout");
}

#[test]
fn missing_circuit_breaker() {
    let mut provider = svc("provider");
    provider["kind"] = json!("external");
    let mut value = design(
        json!([svc("a"), provider]),
        json!([sync("a", "provider")]),
        flow("a"),
    );
    let finding = assert_fires(&value, "missing-circuit-breaker");
    assert!(finding.message.contains("external"), "{}", finding.message);
    value["edges"][0]["circuit_breaker"] = json!({"consecutive_failures": 5, "open_ms": 10000});
    assert_quiet(&value, "missing-circuit-breaker");
    // A plain internal service with no dependencies and no known failures is not flagged.
    let plain = design(
        json!([svc("a"), svc("b")]),
        json!([sync("a", "b")]),
        flow("a"),
    );
    assert_quiet(&plain, "missing-circuit-breaker");
}

#[test]
fn over_capacity() {
    let at_rate = |rate: f64| {
        let mut b = svc("b");
        b["concurrency"] = json!(1);
        b["service_time"] = json!({"dist": "exponential", "mean_ms": 10});
        design(
            json!([client("a"), b]),
            json!([sync("a", "b")]),
            json!([{"id": "f", "entry": "a", "rate_rps": rate}]),
        )
    };
    let error = assert_fires(&at_rate(100.0), "over-capacity");
    assert_eq!(error.severity, Severity::Error);
    assert!(
        error.message.contains("100% utilization"),
        "{}",
        error.message
    );
    assert_eq!(
        assert_fires(&at_rate(85.0), "over-capacity").severity,
        Severity::Warning
    );
    assert_quiet(&at_rate(50.0), "over-capacity");
}

#[test]
fn broker_single_replica() {
    let mut bus = svc("bus");
    bus["kind"] = json!("broker");
    let mut value = design(
        json!([svc("p"), bus, svc("c")]),
        json!([
            {"from": "p", "to": "bus", "mode": "async", "topic": "t"},
            {"from": "bus", "to": "c", "mode": "async", "topic": "t"}
        ]),
        flow("p"),
    );
    assert_fires(&value, "broker-single-replica");
    value["services"][1]["replicas"] = json!(3);
    assert_quiet(&value, "broker-single-replica");
}

#[test]
fn orchestrator_single_replica() {
    let mut value = design(
        json!([svc("o"), svc("x"), svc("y"), svc("z")]),
        json!([sync("o", "x"), sync("o", "y"), sync("o", "z")]),
        flow("o"),
    );
    assert_fires(&value, "orchestrator-single-replica");
    value["services"][0]["replicas"] = json!(2);
    assert_quiet(&value, "orchestrator-single-replica");
}

#[test]
fn sequential_fan_out() {
    let mut value = design(
        json!([svc("o"), svc("x"), svc("y"), svc("z")]),
        json!([sync("o", "x"), sync("o", "y"), sync("o", "z")]),
        flow("o"),
    );
    value["edges"][1]["order"] = json!(1);
    value["edges"][2]["order"] = json!(2);
    let finding = assert_fires(&value, "sequential-fan-out");
    // The fix makes them parallel, after which the rule is quiet.
    let fixed = rules::apply_fix(&load(&value), finding.fix.as_ref().unwrap());
    assert!(
        rules::check(&fixed)
            .findings
            .iter()
            .all(|f| f.rule != "sequential-fan-out")
    );
    value["edges"][2]["order"] = json!(1);
    assert_quiet(&value, "sequential-fan-out");
}

#[test]
fn sync_cycle() {
    let mut value = design(
        json!([svc("a"), svc("b")]),
        json!([sync("a", "b"), sync("b", "a")]),
        flow("a"),
    );
    assert_eq!(assert_fires(&value, "sync-cycle").severity, Severity::Error);
    value["edges"][1]["probability"] = json!(0.5);
    assert_eq!(
        assert_fires(&value, "sync-cycle").severity,
        Severity::Warning
    );
    value["edges"][1] = json!({"from": "b", "to": "a", "mode": "async"});
    assert_quiet(&value, "sync-cycle");
}

#[test]
fn caller_waits_on_async() {
    let mut value = design(
        json!([svc("a"), svc("b")]),
        json!([{"from": "a", "to": "b", "mode": "async"}]),
        flow("a"),
    );
    assert_fires(&value, "caller-waits-on-async");
    value["flows"][0]["caller_waits"] = json!(false);
    assert_quiet(&value, "caller-waits-on-async");
}

#[test]
fn write_heavy_sync_chain() {
    let mut db = svc("db");
    db["kind"] = json!("database");
    let mut value = design(
        json!([client("web"), svc("api"), svc("orders"), db]),
        json!([
            sync("web", "api"),
            sync("api", "orders"),
            sync("orders", "db")
        ]),
        json!([{"id": "f", "entry": "web", "rate_rps": 10, "kind": "write"}]),
    );
    let finding = assert_fires(&value, "write-heavy-sync-chain");
    // The fix hands the write over asynchronously after the first hop, which silences the rule.
    let fixed = rules::apply_fix(&load(&value), finding.fix.as_ref().unwrap());
    assert_eq!(
        fixed.edge("api-orders").unwrap().mode,
        syncopate::model::CallMode::Async
    );
    assert!(model::validate(&fixed).is_empty());
    assert!(
        rules::check(&fixed)
            .findings
            .iter()
            .all(|f| f.rule != "write-heavy-sync-chain")
    );
    value["flows"][0]["kind"] = json!("read");
    assert_quiet(&value, "write-heavy-sync-chain");
}

#[test]
fn read_through_async() {
    let mut value = design(
        json!([svc("a"), svc("b")]),
        json!([{"from": "a", "to": "b", "mode": "async"}]),
        json!([{"id": "f", "entry": "a", "rate_rps": 10, "kind": "read", "caller_waits": false}]),
    );
    assert_fires(&value, "read-through-async");
    value["flows"][0]["kind"] = json!("write");
    assert_quiet(&value, "read-through-async");
}

#[test]
fn mixed_styles() {
    let mut value = design(
        json!([svc("a"), svc("b"), svc("c")]),
        json!([sync("a", "b"), {"from": "b", "to": "c", "mode": "async"}]),
        flow("a"),
    );
    assert_eq!(
        assert_fires(&value, "mixed-styles").severity,
        Severity::Info
    );
    value["edges"][1] = sync("b", "c");
    assert_quiet(&value, "mixed-styles");
}

#[test]
fn stale_read() {
    let mut db = svc("db");
    db["kind"] = json!("database");
    let mut value = design(
        json!([svc("writer"), svc("projector"), svc("reader"), db]),
        json!([
            {"from": "writer", "to": "projector", "mode": "async", "flows": ["write"]},
            {"from": "projector", "to": "db", "mode": "sync", "timeout_ms": 100, "flows": ["write"]},
            {"from": "reader", "to": "db", "mode": "sync", "timeout_ms": 100, "flows": ["read"]}
        ]),
        json!([
            {"id": "write", "entry": "writer", "rate_rps": 5, "kind": "write", "caller_waits": false},
            {"id": "read", "entry": "reader", "rate_rps": 50, "kind": "read"}
        ]),
    );
    let finding = assert_fires(&value, "stale-read");
    assert!(finding.subjects.contains(&Subject::Service("db".into())));
    value["edges"][0]["mode"] = json!("sync");
    value["edges"][0]["timeout_ms"] = json!(100);
    assert_quiet(&value, "stale-read");
}

#[test]
fn unconsumed_topic() {
    let mut value = design(
        json!([svc("p"), broker("bus"), svc("c")]),
        json!([
            {"from": "p", "to": "bus", "mode": "async", "topic": "orders"},
            {"from": "bus", "to": "c", "mode": "async", "topic": "payments"}
        ]),
        flow("p"),
    );
    let finding = assert_fires(&value, "unconsumed-topic");
    assert!(
        finding.message.contains("\"orders\""),
        "{}",
        finding.message
    );
    value["edges"][1]["topic"] = json!("orders");
    assert_quiet(&value, "unconsumed-topic");
}

#[test]
fn broker_as_service() {
    let mut value = design(
        json!([svc("p"), broker("bus"), svc("c")]),
        json!([
            {"from": "p", "to": "bus", "mode": "sync"},
            {"from": "bus", "to": "c", "mode": "async"}
        ]),
        flow("p"),
    );
    let finding = assert_fires(&value, "broker-as-service");
    assert!(
        finding.message.contains("calls the broker"),
        "{}",
        finding.message
    );
    // The fix hands the message over, and the finding goes.
    let fixed = rules::apply_fix(&load(&value), finding.fix.as_ref().expect("a fix"));
    assert!(
        rules::check(&fixed)
            .findings
            .iter()
            .all(|f| f.rule != "broker-as-service")
    );
    value["edges"][0]["mode"] = json!("async");
    assert_quiet(&value, "broker-as-service");
    // A broker making a sync call, and a flow entering at a broker.
    value["edges"][1]["mode"] = json!("sync");
    assert!(
        assert_fires(&value, "broker-as-service")
            .message
            .contains("makes no calls")
    );
    value["edges"][1]["mode"] = json!("async");
    value["flows"][0]["entry"] = json!("bus");
    assert!(
        assert_fires(&value, "broker-as-service")
            .message
            .contains("enters at the broker")
    );
}

#[test]
fn unbounded_queue() {
    let mut consumer = svc("c");
    consumer["queue_capacity"] = Value::Null;
    let mut value = design(
        json!([svc("p"), consumer]),
        json!([{"from": "p", "to": "c", "mode": "async"}]),
        flow("p"),
    );
    assert_fires(&value, "unbounded-queue");
    value["services"][1]["queue_capacity"] = json!(1000);
    assert_quiet(&value, "unbounded-queue");
}

#[test]
fn async_backlog() {
    // 10 messages/s at a consumer with one worker taking 200 ms: it finishes 5 a second.
    let mut consumer = svc("c");
    consumer["concurrency"] = json!(1);
    consumer["service_time"] = json!({"dist": "constant", "ms": 200});
    let mut value = design(
        json!([svc("p"), consumer]),
        json!([{"from": "p", "to": "c", "mode": "async"}]),
        flow("p"),
    );
    let finding = assert_fires(&value, "async-backlog");
    assert_eq!(finding.severity, Severity::Error);
    assert!(
        finding.message.contains("answer fast")
            && finding.message.contains("5 messages every second"),
        "{}",
        finding.message
    );
    assert!(
        finding.message.contains("60 s later"),
        "{}",
        finding.message
    );
    // Fast enough: quiet, unless the flow's caller does not wait and its objective is shorter than the work.
    value["services"][1]["service_time"] = json!({"dist": "constant", "ms": 50});
    assert_quiet(&value, "async-backlog");
    value["flows"][0]["caller_waits"] = json!(false);
    value["flows"][0]["slo_p99_ms"] = json!(20);
    let finding = assert_fires(&value, "async-backlog");
    assert_eq!(finding.severity, Severity::Warning);
    assert!(
        finding.message.contains("answers fast"),
        "{}",
        finding.message
    );
}

#[test]
fn retry_non_idempotent() {
    let mut call = sync("a", "b");
    call["retry"] = json!({"max_retries": 2, "backoff_ms": 50});
    let mut value = design(json!([svc("a"), svc("b")]), json!([call]), flow("a"));
    assert_quiet(&value, "retry-non-idempotent");
    value["flows"][0]["kind"] = json!("write");
    let finding = assert_fires(&value, "retry-non-idempotent");
    assert_eq!(finding.subjects, vec![Subject::Edge("a-b".to_owned())]);
    // Both ways out are offered, and marking the call idempotent quiets the rule.
    assert_eq!(
        finding.fix,
        Some(rules::Fix::MarkIdempotent { edge: "a-b".into() })
    );
    assert_eq!(
        finding.other_fixes,
        vec![rules::Fix::RemoveRetry { edge: "a-b".into() }]
    );
    let fixed = rules::apply_fix(&load(&value), finding.fix.as_ref().unwrap());
    assert!(fixed.edges[0].idempotent);
    assert!(
        rules::check(&fixed)
            .findings
            .iter()
            .all(|f| f.rule != "retry-non-idempotent")
    );
    value["edges"][0]["idempotent"] = json!(true);
    assert_quiet(&value, "retry-non-idempotent");
}

/// An orchestrator `o` that reserves at `stock` (undone by `release`), then charges at `pay`.
fn saga_design() -> Value {
    let mut reserve = sync("o", "stock");
    reserve["id"] = json!("reserve");
    reserve["order"] = json!(1);
    let mut charge = sync("o", "pay");
    charge["id"] = json!("charge");
    charge["order"] = json!(2);
    let mut release = sync("o", "stock");
    release["id"] = json!("release");
    release["compensates"] = json!("reserve");
    release["retry"] = json!({"max_retries": 3, "backoff_ms": 100});
    release["idempotent"] = json!(true);
    design(
        json!([svc("o"), svc("stock"), svc("pay")]),
        json!([reserve, charge, release]),
        json!([{"id": "f", "entry": "o", "rate_rps": 10, "kind": "write"}]),
    )
}

#[test]
fn saga_rules() {
    let mut value = saga_design();
    for rule in [
        "saga-step-without-timeout",
        "saga-pivot-order",
        "compensation-without-retry",
    ] {
        assert_quiet(&value, rule);
    }
    // The charge without a timeout: the saga can hang between its steps.
    value["edges"][1]
        .as_object_mut()
        .unwrap()
        .remove("timeout_ms");
    let finding = assert_fires(&value, "saga-step-without-timeout");
    assert_eq!(finding.subjects, vec![Subject::Edge("charge".into())]);
    // The charge (which cannot be undone) before the reservation: the pivot comes first.
    let mut value = saga_design();
    value["edges"][1]["order"] = json!(0);
    let finding = assert_fires(&value, "saga-pivot-order");
    assert_eq!(
        finding.subjects,
        vec![
            Subject::Edge("reserve".into()),
            Subject::Edge("charge".into())
        ]
    );
    // A compensation with one try.
    let mut value = saga_design();
    value["edges"][2].as_object_mut().unwrap().remove("retry");
    let finding = assert_fires(&value, "compensation-without-retry");
    let fixed = rules::apply_fix(&load(&value), finding.fix.as_ref().unwrap());
    assert!(fixed.edges[2].retry.is_some_and(|r| r.max_retries > 0));
}

fn polling_design(interval_ms: f64) -> Value {
    let worker = json!({"id": "worker", "concurrency": 100,
                        "service_time": {"dist": "exponential", "mean_ms": 400}});
    design(
        json!([svc("api"), worker]),
        json!([{"from": "api", "to": "worker", "mode": "async"}]),
        json!([{"id": "f", "entry": "api", "rate_rps": 10, "caller_waits": false,
                "polling": {"interval_ms": interval_ms}}]),
    )
}

#[test]
fn polling_rules() {
    // Work of 400 ms polled every 5 ms: some 80 polls of 10 ms each, twice the work's own 410 ms.
    let finding = assert_fires(&polling_design(5.0), "poll-too-often");
    assert_eq!(finding.subjects, vec![Subject::Flow("f".into())]);
    assert_quiet(&polling_design(5.0), "poll-too-rare");
    assert_quiet(&polling_design(300.0), "poll-too-often");
    assert_quiet(&polling_design(300.0), "poll-too-rare");
    assert_fires(&polling_design(2000.0), "poll-too-rare");
    // The polls are load on the entry in the analysis too.
    let report = rules::check(&load(&polling_design(5.0)));
    let polls = report.analysis.flows[0].polls_rps;
    assert!((polls / 10.0 - 1.0 / (1.0 - (-5.0_f64 / 400.0).exp())).abs() < 1e-6);
    assert!((report.analysis.load_rps[0] - 10.0 - polls).abs() < 1e-6);
}

#[test]
fn dead_letter_rules() {
    let mut consumer = svc("consumer");
    consumer["error_rate"] = json!(0.1);
    let mut value = design(
        json!([svc("api"), consumer]),
        json!([{"from": "api", "to": "consumer", "mode": "async"}]),
        flow("api"),
    );
    let finding = assert_fires(&value, "no-dead-letter");
    let fixed = rules::apply_fix(&load(&value), finding.fix.as_ref().unwrap());
    assert_eq!(
        fixed.edges[0].dead_letter.map(|d| d.after_deliveries),
        Some(3)
    );
    value["edges"][0]["dead_letter"] = json!({"after_deliveries": 3});
    assert_quiet(&value, "no-dead-letter");
    assert_quiet(&value, "redelivery-overload");
    // A consumer at 90% that fails half its messages and redelivers up to 5 times: 1.94 deliveries each.
    value["services"][1]["error_rate"] = json!(0.5);
    value["services"][1]["concurrency"] = json!(1);
    value["flows"][0]["rate_rps"] = json!(90);
    value["edges"][0]["dead_letter"] = json!({"after_deliveries": 5});
    let finding = assert_fires(&value, "redelivery-overload");
    assert_eq!(finding.severity, Severity::Error);
    value["edges"][0]["dead_letter"] = json!({"after_deliveries": 1});
    assert_quiet(&value, "redelivery-overload");
}

#[test]
fn slo_miss() {
    // a (10 ms) calls b (10 ms): about 20 ms.
    let mut value = design(
        json!([svc("a"), svc("b")]),
        json!([sync("a", "b")]),
        json!([{"id": "f", "entry": "a", "rate_rps": 10, "slo_p99_ms": 15}]),
    );
    let finding = assert_fires(&value, "slo-miss");
    assert_eq!(finding.severity, Severity::Error);
    value["flows"][0]["slo_p99_ms"] = json!(100);
    assert_quiet(&value, "slo-miss");
}

#[test]
fn unreachable_service() {
    let mut value = design(
        json!([svc("a"), svc("b"), svc("lonely")]),
        json!([sync("a", "b")]),
        flow("a"),
    );
    let finding = assert_fires(&value, "unreachable-service");
    assert_eq!(finding.subjects, vec![Subject::Service("lonely".into())]);
    value["edges"]
        .as_array_mut()
        .unwrap()
        .push(sync("b", "lonely"));
    assert_quiet(&value, "unreachable-service");
}

#[test]
fn unknown_lint_rule_and_disabling() {
    let mut value = design(
        json!([svc("a"), svc("b")]),
        json!([{"from": "a", "to": "b", "mode": "sync"}]),
        flow("a"),
    );
    value["lint"] = json!({"disabled": ["missing-timeuot"]});
    assert_fires(&value, "unknown-lint-rule");
    assert_fires(&value, "missing-timeout");
    value["lint"] = json!({"disabled": ["missing-timeout"]});
    assert_quiet(&value, "unknown-lint-rule");
    assert_quiet(&value, "missing-timeout");
}

#[test]
fn every_rule_is_tested_here() {
    let source = include_str!("rules.rs");
    for rule in rules::RULES {
        assert!(
            source.contains(&format!("\"{}\"", rule.id)),
            "no test names {}",
            rule.id
        );
    }
}

#[test]
fn findings_are_sorted_and_deterministic() {
    let value = design(
        json!([svc("a"), svc("b"), svc("c"), svc("lonely")]),
        json!([{"from": "a", "to": "b", "mode": "sync"}, {"from": "b", "to": "c", "mode": "sync"}]),
        flow("a"),
    );
    let first = rules::check(&load(&value)).findings;
    let second = rules::check(&load(&value)).findings;
    assert_eq!(first, second);
    assert!(first.windows(2).all(|w| w[0].severity <= w[1].severity));
}

fn sample(name: &str) -> Design {
    model::load_file(std::path::Path::new(&format!(
        "{}/samples/{name}.syncopate",
        env!("CARGO_MANIFEST_DIR")
    )))
    .unwrap_or_else(|e| panic!("{e}"))
}

fn rules_of(design: &Design) -> Vec<&'static str> {
    let mut ids: Vec<&str> = rules::check(design)
        .findings
        .iter()
        .map(|f| f.rule)
        .collect();
    ids.dedup();
    ids
}

#[test]
fn samples_raise_the_warnings_of_their_pattern() {
    // The naive synchronous chain: cascading failure and missing timeouts.
    let ecommerce = rules_of(&sample("ecommerce"));
    for expected in [
        "deep-sync-chain",
        "missing-timeout",
        "missing-circuit-breaker",
        "sequential-fan-out",
        "orchestrator-single-replica",
    ] {
        assert!(
            ecommerce.contains(&expected),
            "ecommerce lacks {expected}: {ecommerce:?}"
        );
    }
    // The guarded payment path: none of that.
    let payment = rules_of(&sample("payment-guarded"));
    for unexpected in [
        "deep-sync-chain",
        "missing-timeout",
        "missing-circuit-breaker",
        "timeout-inversion",
        "retry-storm",
        "over-capacity",
    ] {
        assert!(
            !payment.contains(&unexpected),
            "payment-guarded has {unexpected}: {payment:?}"
        );
    }
    // The OCR pipeline: its caller cannot wait for the OCR result.
    assert!(rules_of(&sample("ocr-pipeline")).contains(&"caller-waits-on-async"));
    // The single-replica bus: a central point of failure.
    assert!(rules_of(&sample("event-choreography")).contains(&"broker-single-replica"));
    // CQRS and choreography read what was written asynchronously.
    assert!(rules_of(&sample("cqrs")).contains(&"stale-read"));
    assert!(rules_of(&sample("event-choreography")).contains(&"stale-read"));
    // The saga mixes both styles, with the inventory check kept synchronous.
    assert!(rules_of(&sample("order-saga")).contains(&"mixed-styles"));
    // The parallel orchestrator does not get told to parallelise.
    assert!(!rules_of(&sample("parallel-orchestrator")).contains(&"sequential-fan-out"));
    // No sample is over capacity at its designed load.
    for name in [
        "cqrs",
        "ecommerce",
        "event-choreography",
        "iot-ingest",
        "ocr-pipeline",
        "order-saga",
        "parallel-orchestrator",
        "payment-guarded",
        "travel-booking",
        "weather-api",
    ] {
        let design = sample(name);
        let report = rules::check(&design);
        assert_eq!(
            report.count(Severity::Error),
            0,
            "{name}: {:#?}",
            report.findings
        );
    }
}

#[test]
fn fixes_apply_as_one_change_and_silence_their_finding() {
    let design = sample("ecommerce");
    let report = rules::check(&design);
    for finding in report.findings.iter().filter(|f| f.fix.is_some()) {
        let fix = finding.fix.as_ref().unwrap();
        let fixed = rules::apply_fix(&design, fix);
        assert!(
            model::validate(&fixed).is_empty(),
            "{fix:?} made the design invalid"
        );
        assert_ne!(fixed, design, "{fix:?} changed nothing");
        let still = rules::check(&fixed)
            .findings
            .into_iter()
            .any(|f| f.rule == finding.rule && f.subjects == finding.subjects);
        assert!(
            !still,
            "{fix:?} did not silence {}: {}",
            finding.rule, finding.message
        );
    }
}

#[test]
fn a_cycle_that_makes_load_unbounded_is_pointed_at_not_sized() {
    // web -> a -> b -> a: every request goes round for ever.
    let value = design(
        json!([client("web"), svc("a"), svc("b")]),
        json!([sync("web", "a"), sync("a", "b"), sync("b", "a")]),
        json!([{"id": "f", "entry": "web", "rate_rps": 10}]),
    );
    let cycle = assert_fires(&value, "sync-cycle");
    assert!(cycle.message.contains("a") && cycle.message.contains("b"));
    let over = findings(&value, "over-capacity");
    assert!(!over.is_empty());
    for finding in &over {
        assert!(finding.fix.is_none(), "no replica count: {finding:?}");
        assert!(finding.message.contains("no bound"), "{}", finding.message);
        assert!(
            !finding.suggestion.contains("replicas of"),
            "{}",
            finding.suggestion
        );
    }
}

#[test]
fn no_sample_disables_retry_non_idempotent_and_it_never_fires_on_an_idempotent_call() {
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/samples")).unwrap() {
        let path = entry.unwrap().path();
        let design = model::load_file(&path).unwrap();
        assert!(
            !design
                .lint
                .disabled
                .iter()
                .any(|r| r == "retry-non-idempotent"),
            "{} disables retry-non-idempotent",
            path.display()
        );
        for finding in rules::check(&design)
            .findings
            .iter()
            .filter(|f| f.rule == "retry-non-idempotent")
        {
            for subject in &finding.subjects {
                if let Subject::Edge(id) = subject {
                    assert!(
                        !design.edge(id).unwrap().idempotent,
                        "{}: fires on the idempotent call {id}",
                        path.display()
                    );
                }
            }
        }
    }
}
