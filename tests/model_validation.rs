//! One malformed design per loading rule, each checked for the exact place and a clear message.

use serde_json::{Value, json};
use syncopate::model::{self, LoadError};

/// A small valid design that every case below breaks in one place.
fn base() -> Value {
    json!({
        "type": "syncopate",
        "version": 1,
        "name": "Base",
        "services": [
            {"id": "web", "kind": "client", "position": [0, 0]},
            {"id": "api", "replicas": 2, "service_time": {"dist": "lognormal", "median_ms": 10, "p99_ms": 50}},
            {"id": "bus", "kind": "broker"},
            {"id": "worker"}
        ],
        "edges": [
            {"from": "web", "to": "api", "mode": "sync", "timeout_ms": 500,
             "retry": {"max_retries": 2, "backoff_ms": 50, "per_try_timeout_ms": 100},
             "circuit_breaker": {"consecutive_failures": 5, "open_ms": 30000}},
            {"from": "api", "to": "bus", "mode": "async", "protocol": "kafka", "topic": "t"},
            {"from": "bus", "to": "worker", "mode": "async", "topic": "t", "flows": ["f"]}
        ],
        "flows": [
            {"id": "f", "entry": "web", "rate_rps": 10, "kind": "write", "pattern": [[0, 10], [5, 20]]}
        ],
        "faults": [{"service": "worker", "kind": "slow", "start_s": 1, "end_s": 2, "factor": 3}],
        "simulation": {"duration_s": 60, "warmup_s": 5, "seed": 1}
    })
}

fn load(value: &Value) -> Result<model::Design, LoadError> {
    model::load_from_str(&value.to_string(), "case.syncopate")
}

/// Applies `mutate` to the base design and checks the first error's location and message.
#[track_caller]
fn assert_rejected(mutate: impl FnOnce(&mut Value), location: &str, message_part: &str) {
    let mut value = base();
    mutate(&mut value);
    let err = load(&value).expect_err("the design should be rejected");
    assert_eq!(err.location, location, "error was: {err}");
    assert!(
        err.message.contains(message_part),
        "message {:?} should contain {:?}",
        err.message,
        message_part
    );
    let line = err.to_string();
    assert!(line.starts_with("case.syncopate: "), "{line}");
    assert!(!line.contains('\n'), "one line: {line}");
}

#[test]
fn the_base_design_is_valid() {
    let design = load(&base()).unwrap();
    assert_eq!(design.edges[0].id.as_str(), "web-api", "default edge id");
}

#[test]
fn not_json() {
    let err = model::load_from_str("{\"type\": ", "x.syncopate").unwrap_err();
    assert!(err.message.contains("not valid JSON"), "{err}");
    assert!(err.message.contains("line 1"), "{err}");
}

#[test]
fn not_an_object() {
    let err = model::load_from_str("[1, 2]", "x.syncopate").unwrap_err();
    assert!(err.message.contains("expected a JSON object"), "{err}");
}

#[test]
fn wrong_type_tag() {
    assert_rejected(
        |v| v["type"] = json!("drawio"),
        "type",
        "not a Syncopate design",
    );
    assert_rejected(
        |v| {
            v.as_object_mut().unwrap().remove("type");
        },
        "type",
        "not a Syncopate design",
    );
}

#[test]
fn newer_version() {
    assert_rejected(|v| v["version"] = json!(2), "version", "newer Syncopate");
}

#[test]
fn bad_or_missing_version() {
    assert_rejected(
        |v| v["version"] = json!(0),
        "version",
        "expected a format version",
    );
    assert_rejected(
        |v| v["version"] = json!("1"),
        "version",
        "expected a format version",
    );
    assert_rejected(
        |v| {
            v.as_object_mut().unwrap().remove("version");
        },
        "version",
        "missing",
    );
}

#[test]
fn unknown_fields_are_errors() {
    assert_rejected(
        |v| v["edges"][0]["timout_ms"] = json!(5),
        "edges[0].timout_ms",
        "unknown field `timout_ms`",
    );
    assert_rejected(
        |v| v["services"][1]["replica"] = json!(5),
        "services[1].replica",
        "unknown field",
    );
    assert_rejected(|v| v["colour"] = json!("red"), "colour", "unknown field");
    assert_rejected(
        |v| v["services"][1]["service_time"]["mean_ms"] = json!(5),
        "services[1].service_time",
        "unknown field `mean_ms`",
    );
    assert_rejected(
        |v| v["simulation"]["speed"] = json!(2),
        "simulation.speed",
        "unknown field",
    );
    assert_rejected(
        |v| v["flows"][0]["rps"] = json!(2),
        "flows[0].rps",
        "unknown field",
    );
    assert_rejected(
        |v| v["faults"][0]["severity"] = json!(2),
        "faults[0].severity",
        "unknown field",
    );
    assert_rejected(
        |v| v["edges"][0]["retry"]["jitter"] = json!(true),
        "edges[0].retry.jitter",
        "unknown field",
    );
}

#[test]
fn wrong_types() {
    assert_rejected(
        |v| v["edges"][0]["timeout_ms"] = json!("fast"),
        "edges[0].timeout_ms",
        "expected a number",
    );
    assert_rejected(
        |v| v["services"][1]["replicas"] = json!(-1),
        "services[1].replicas",
        "expected a whole number",
    );
    assert_rejected(
        |v| v["services"][1]["replicas"] = json!(1.5),
        "services[1].replicas",
        "expected a whole number",
    );
    assert_rejected(
        |v| v["services"][0]["kind"] = json!("lambda"),
        "services[0].kind",
        "unknown variant `lambda`",
    );
    assert_rejected(
        |v| v["edges"][0]["mode"] = json!("rpc"),
        "edges[0].mode",
        "unknown variant `rpc`",
    );
    assert_rejected(
        |v| v["flows"][0]["caller_waits"] = json!("yes"),
        "flows[0].caller_waits",
        "expected true or false",
    );
    assert_rejected(
        |v| v["services"][0]["position"] = json!([1]),
        "services[0].position",
        "array",
    );
    assert_rejected(
        |v| v["services"][1]["port"] = json!(70000),
        "services[1].port",
        "port number",
    );
    assert_rejected(
        |v| v["services"] = json!({}),
        "services",
        "expected a sequence",
    );
}

#[test]
fn missing_required_fields() {
    assert_rejected(
        |v| {
            v["edges"][0].as_object_mut().unwrap().remove("mode");
        },
        "edges[0]",
        "missing field `mode`",
    );
    assert_rejected(
        |v| {
            v["services"][0].as_object_mut().unwrap().remove("id");
        },
        "services[0]",
        "missing field `id`",
    );
    assert_rejected(
        |v| {
            v["flows"][0].as_object_mut().unwrap().remove("entry");
        },
        "flows[0]",
        "missing field `entry`",
    );
    assert_rejected(
        |v| v["services"][1]["service_time"] = json!({"dist": "gamma", "shape": 2}),
        "services[1].service_time.dist",
        "unknown variant `gamma`",
    );
}

#[test]
fn service_ids_must_be_dns_labels() {
    assert_rejected(
        |v| v["services"][3]["id"] = json!("Worker_1"),
        "services[3].id",
        "must use only a-z",
    );
    assert_rejected(
        |v| v["services"][3]["id"] = json!("9lives"),
        "services[3].id",
        "start with a letter",
    );
    assert_rejected(
        |v| v["services"][3]["id"] = json!(""),
        "services[3].id",
        "must not be empty",
    );
    assert_rejected(
        |v| v["services"][3]["id"] = json!("a".repeat(64)),
        "services[3].id",
        "at most 63",
    );
}

#[test]
fn duplicate_ids() {
    assert_rejected(
        |v| v["services"][3]["id"] = json!("api"),
        "services[3].id",
        "duplicate service id \"api\"",
    );
    assert_rejected(
        |v| {
            let copy = v["edges"][0].clone();
            v["edges"].as_array_mut().unwrap().push(copy);
        },
        "edges[3].id",
        "duplicate edge id \"web-api\"",
    );
    assert_rejected(
        |v| {
            let copy = v["flows"][0].clone();
            v["flows"].as_array_mut().unwrap().push(copy);
        },
        "flows[1].id",
        "duplicate flow id",
    );
}

#[test]
fn dangling_references() {
    assert_rejected(
        |v| v["edges"][1]["to"] = json!("nowhere"),
        "edges[1].to",
        "unknown service \"nowhere\"",
    );
    assert_rejected(
        |v| v["edges"][1]["from"] = json!("nowhere"),
        "edges[1].from",
        "unknown service",
    );
    assert_rejected(
        |v| v["flows"][0]["entry"] = json!("nowhere"),
        "flows[0].entry",
        "unknown service",
    );
    assert_rejected(
        |v| v["faults"][0]["service"] = json!("nowhere"),
        "faults[0].service",
        "unknown service",
    );
    assert_rejected(
        |v| v["edges"][2]["flows"] = json!(["f", "g"]),
        "edges[2].flows[1]",
        "unknown flow \"g\"",
    );
    assert_rejected(
        |v| v["edges"][2]["flows"] = json!(["f", "f"]),
        "edges[2].flows[1]",
        "listed twice",
    );
}

#[test]
fn service_numbers_in_range() {
    assert_rejected(
        |v| v["services"][1]["replicas"] = json!(0),
        "services[1].replicas",
        "from 1 to",
    );
    assert_rejected(
        |v| v["services"][1]["concurrency"] = json!(0),
        "services[1].concurrency",
        "from 1 to",
    );
    assert_rejected(
        |v| v["services"][1]["replicas"] = json!(1_000_000),
        "services[1].replicas",
        "from 1 to",
    );
    assert_rejected(
        |v| v["services"][1]["error_rate"] = json!(1.5),
        "services[1].error_rate",
        "probability",
    );
    assert_rejected(
        |v| v["services"][1]["port"] = json!(0),
        "services[1].port",
        "from 1 to 65535",
    );
    assert_rejected(
        |v| v["services"][1]["image"] = json!(" "),
        "services[1].image",
        "expected a container image name, found only blank space",
    );
    // Too big for the f32 a coordinate is: refused where it is read, naming the coordinate.
    assert_rejected(
        |v| v["services"][0]["position"] = json!([1e300, 0]),
        "services[0].position[0]",
        "out of range",
    );
}

#[test]
fn distributions_in_range() {
    let at = "services[1].service_time";
    assert_rejected(
        |v| v["services"][1]["service_time"] = json!({"dist": "exponential", "mean_ms": 0}),
        &format!("{at}.mean_ms"),
        "greater than 0",
    );
    assert_rejected(
        |v| v["services"][1]["service_time"] = json!({"dist": "constant", "ms": -1}),
        &format!("{at}.ms"),
        "between 0",
    );
    assert_rejected(
        |v| v["services"][1]["service_time"] = json!({"dist": "uniform", "min_ms": 9, "max_ms": 3}),
        &format!("{at}.max_ms"),
        "must not be less than min_ms",
    );
    assert_rejected(
        |v| {
            v["services"][1]["service_time"] =
                json!({"dist": "lognormal", "median_ms": 10, "p99_ms": 5})
        },
        &format!("{at}.p99_ms"),
        "must not be less than median_ms",
    );
    assert_rejected(
        |v| v["services"][1]["service_time"] = json!({"dist": "exponential", "mean_ms": 1e12}),
        &format!("{at}.mean_ms"),
        "at most",
    );
}

#[test]
fn protocol_must_fit_the_mode() {
    assert_rejected(
        |v| v["edges"][0]["protocol"] = json!("kafka"),
        "edges[0].protocol",
        "\"kafka\" is a async protocol but the call is sync",
    );
    assert_rejected(
        |v| v["edges"][1]["protocol"] = json!("grpc"),
        "edges[1].protocol",
        "but the call is async",
    );
    assert_rejected(
        |v| v["edges"][1]["protocol"] = json!("soap"),
        "edges[1].protocol",
        "unknown variant `soap`",
    );
}

#[test]
fn sync_only_and_async_only_options() {
    assert_rejected(
        |v| v["edges"][1]["timeout_ms"] = json!(100),
        "edges[1].timeout_ms",
        "sync calls only",
    );
    assert_rejected(
        |v| v["edges"][0]["topic"] = json!("t"),
        "edges[0].topic",
        "async calls only",
    );
    assert_rejected(
        |v| v["edges"][1]["topic"] = json!(""),
        "edges[1].topic",
        "empty",
    );
}

#[test]
fn edge_numbers_in_range() {
    assert_rejected(
        |v| v["edges"][0]["timeout_ms"] = json!(0),
        "edges[0].timeout_ms",
        "greater than 0",
    );
    assert_rejected(
        |v| v["edges"][0]["timeout_ms"] = json!(-5),
        "edges[0].timeout_ms",
        "greater than 0",
    );
    assert_rejected(
        |v| v["edges"][0]["probability"] = json!(2),
        "edges[0].probability",
        "probability",
    );
    assert_rejected(
        |v| v["edges"][0]["retry"]["max_retries"] = json!(1000),
        "edges[0].retry.max_retries",
        "at most 100",
    );
    assert_rejected(
        |v| v["edges"][0]["retry"]["backoff_ms"] = json!(-1),
        "edges[0].retry.backoff_ms",
        "between 0",
    );
    assert_rejected(
        |v| v["edges"][0]["retry"]["per_try_timeout_ms"] = json!(0),
        "edges[0].retry.per_try_timeout_ms",
        "greater than 0",
    );
    assert_rejected(
        |v| v["edges"][0]["circuit_breaker"]["consecutive_failures"] = json!(0),
        "edges[0].circuit_breaker.consecutive_failures",
        "at least 1",
    );
    assert_rejected(
        |v| v["edges"][0]["circuit_breaker"]["open_ms"] = json!(0),
        "edges[0].circuit_breaker.open_ms",
        "greater than 0",
    );
    assert_rejected(
        |v| v["edges"][0]["max_in_flight"] = json!(0),
        "edges[0].max_in_flight",
        "at least 1",
    );
    assert_rejected(
        |v| v["edges"][0]["id"] = json!("has space"),
        "edges[0].id",
        "must not contain spaces",
    );
}

#[test]
fn flow_numbers_in_range() {
    assert_rejected(
        |v| v["flows"][0]["rate_rps"] = json!(-1),
        "flows[0].rate_rps",
        "between 0",
    );
    assert_rejected(
        |v| v["flows"][0]["slo_p99_ms"] = json!(0),
        "flows[0].slo_p99_ms",
        "greater than 0",
    );
    assert_rejected(
        |v| v["flows"][0]["pattern"] = json!([[5, 1], [5, 2]]),
        "flows[0].pattern[1]",
        "ascending",
    );
    assert_rejected(
        |v| v["flows"][0]["pattern"] = json!([[-1, 1]]),
        "flows[0].pattern[0]",
        "at_s >= 0",
    );
    assert_rejected(
        |v| v["flows"][0]["pattern"] = json!([[1, -1]]),
        "flows[0].pattern[0]",
        "rate_rps between 0",
    );
    assert_rejected(
        |v| v["flows"][0]["pattern"] = json!([[1, 2, 3]]),
        "flows[0].pattern[0]",
        "two numbers",
    );
    assert_rejected(
        |v| v["flows"][0]["id"] = json!(""),
        "flows[0].id",
        "must not be empty",
    );
    assert_rejected(
        |v| v["flows"][0]["arrival"] = json!("bursty"),
        "flows[0].arrival",
        "unknown variant",
    );
}

#[test]
fn faults_are_consistent() {
    assert_rejected(
        |v| v["faults"][0]["end_s"] = json!(1),
        "faults[0].end_s",
        "must end after it starts",
    );
    assert_rejected(
        |v| v["faults"][0]["start_s"] = json!(-1),
        "faults[0].start_s",
        "between 0",
    );
    assert_rejected(
        |v| {
            v["faults"][0].as_object_mut().unwrap().remove("factor");
        },
        "faults[0].factor",
        "needs a factor",
    );
    assert_rejected(
        |v| v["faults"][0]["factor"] = json!(0),
        "faults[0].factor",
        "greater than 0",
    );
    assert_rejected(
        |v| v["faults"][0]["kind"] = json!("down"),
        "faults[0].factor",
        "slow faults only",
    );
    assert_rejected(
        |v| v["faults"][0] = json!({"service": "api", "kind": "errors"}),
        "faults[0].error_rate",
        "needs an error_rate",
    );
    assert_rejected(
        |v| v["faults"][0] = json!({"service": "api", "kind": "errors", "error_rate": 2}),
        "faults[0].error_rate",
        "probability",
    );
    assert_rejected(
        |v| v["faults"][0] = json!({"service": "api", "kind": "hang", "error_rate": 0.5}),
        "faults[0].error_rate",
        "errors faults only",
    );
}

#[test]
fn simulation_settings_in_range() {
    assert_rejected(
        |v| v["simulation"]["duration_s"] = json!(0),
        "simulation.duration_s",
        "greater than 0",
    );
    assert_rejected(
        |v| v["simulation"]["warmup_s"] = json!(60),
        "simulation.warmup_s",
        "shorter than the run",
    );
    assert_rejected(
        |v| v["simulation"]["warmup_s"] = json!(-1),
        "simulation.warmup_s",
        "0 seconds or more",
    );
    assert_rejected(
        |v| v["simulation"]["seed"] = json!(-1),
        "simulation.seed",
        "whole number",
    );
}

#[test]
fn every_problem_is_counted() {
    let mut value = base();
    value["edges"][0]["to"] = json!("x");
    value["edges"][1]["to"] = json!("y");
    let err = load(&value).unwrap_err();
    assert_eq!(err.more.len(), 1);
    assert!(err.to_string().ends_with("(and 1 more problem)"), "{err}");
    assert_eq!(err.all_problems().len(), 2);
}

#[test]
fn trailing_garbage_is_an_error() {
    let text = format!("{} x", base());
    assert!(model::load_from_str(&text, "t").is_err());
}

#[test]
fn files_that_are_not_text_or_too_large() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("binary.syncopate");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x01]).unwrap();
    let err = model::load_file(&binary).unwrap_err();
    assert!(err.message.contains("not UTF-8"), "{err}");
    assert!(err.source.ends_with("binary.syncopate"));

    let missing = dir.path().join("missing.syncopate");
    let err = model::load_file(&missing).unwrap_err();
    assert!(err.message.contains("cannot read"), "{err}");

    let huge = dir.path().join("huge.syncopate");
    let file = std::fs::File::create(&huge).unwrap();
    file.set_len(model::file::MAX_FILE_BYTES + 1).unwrap();
    let err = model::load_file(&huge).unwrap_err();
    assert!(err.message.contains("not loaded"), "{err}");
}

#[test]
fn deeply_nested_json_is_an_error_not_a_crash() {
    let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let err = model::load_from_str(&text, "deep").unwrap_err();
    assert!(err.message.contains("expected a JSON object"), "{err}");
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    for field in ["name", "colour"] {
        let text = format!(r#"{{"type": "syncopate", "version": 1, "{field}": {nested}}}"#);
        let err = model::load_from_str(&text, "deep").unwrap_err();
        assert!(!err.to_string().contains('\n'), "{err}");
    }
}

#[test]
fn a_broker_or_database_id_too_long_for_a_statefulset() {
    let long = format!("b{}", "x".repeat(52));
    assert_rejected(
        |d| {
            d["services"][2]["id"] = json!(long);
            d["edges"][1]["to"] = json!(long);
            d["edges"][2]["from"] = json!(long);
        },
        "services[2].id",
        "a broker may have at most 52",
    );
    // A plain service may use all 63 characters of a DNS label.
    let mut value = base();
    let long = format!("w{}", "x".repeat(62));
    value["services"][3]["id"] = json!(long);
    value["edges"][2]["to"] = json!(long);
    value["faults"][0]["service"] = json!(long);
    load(&value).expect("a 63-character service id is valid");
}

#[test]
fn a_group_is_one_line_of_at_most_100_characters() {
    assert_rejected(
        |v| v["services"][1]["group"] = json!("  "),
        "services[1].group",
        "expected a group name",
    );
    assert_rejected(
        |v| v["services"][1]["group"] = json!("x".repeat(101)),
        "services[1].group",
        "at most 100 characters, found 101",
    );
    assert_rejected(
        |v| v["services"][1]["group"] = json!("Payments\u{2028}injected: 1"),
        "services[1].group",
        "on one line",
    );
    // A group of any other text loads, and older files without one load unchanged.
    let mut value = base();
    value["services"][1]["group"] = json!("Payments & Billing: {eu}");
    let design = load(&value).unwrap();
    assert_eq!(
        design.services[1].group.as_deref(),
        Some("Payments & Billing: {eu}")
    );
    assert_eq!(load(&base()).unwrap().services[1].group, None);
}

/// One bad design: how the base is broken, where the error must point, and what it must say.
type Case = (Box<dyn FnOnce(&mut Value)>, &'static str, &'static str);

/// The patterns' fields (idempotent, compensates, dead_letter, polling): twenty bad values, each refused with one
/// line that names the place.
#[test]
fn pattern_fields_refuse_bad_values() {
    let cases: Vec<Case> = vec![
        (
            Box::new(|v| v["edges"][0]["idempotent"] = json!("yes")),
            "edges[0].idempotent",
            "true or false",
        ),
        (
            Box::new(|v| v["edges"][0]["idempotent"] = json!(1)),
            "edges[0].idempotent",
            "true or false",
        ),
        (
            Box::new(|v| v["edges"][0]["compensates"] = json!(3)),
            "edges[0].compensates",
            "string",
        ),
        (
            Box::new(|v| v["edges"][0]["compensates"] = json!("nope")),
            "edges[0].compensates",
            "unknown call \"nope\"",
        ),
        (
            Box::new(|v| v["edges"][0]["compensates"] = json!("web-api")),
            "edges[0].compensates",
            "cannot compensate itself",
        ),
        (
            Box::new(|v| v["edges"][1]["compensates"] = json!("web-api")),
            "edges[1].compensates",
            "made by the caller",
        ),
        (
            Box::new(|v| {
                v["edges"].as_array_mut().unwrap().push(json!({"id": "undo", "from": "web", "to": "api", "mode": "sync", "compensates": "web-api", "order": 2}));
            }),
            "edges[3].order",
            "has no order",
        ),
        (
            Box::new(|v| {
                v["edges"].as_array_mut().unwrap().push(json!({"id": "undo", "from": "web", "to": "api", "mode": "sync", "compensates": "web-api", "probability": 0.5}));
            }),
            "edges[3].probability",
            "has no probability",
        ),
        (
            Box::new(|v| {
                let edges = v["edges"].as_array_mut().unwrap();
                edges.push(json!({"id": "undo", "from": "web", "to": "api", "mode": "sync", "compensates": "web-api"}));
                edges.push(json!({"id": "undo-undo", "from": "web", "to": "api", "mode": "sync", "compensates": "undo"}));
            }),
            "edges[4].compensates",
            "compensations do not chain",
        ),
        (
            Box::new(|v| {
                let edges = v["edges"].as_array_mut().unwrap();
                edges.push(json!({"id": "undo", "from": "web", "to": "api", "mode": "sync", "compensates": "web-api"}));
                edges.push(json!({"id": "undo-2", "from": "web", "to": "api", "mode": "async", "compensates": "web-api"}));
            }),
            "edges[4].compensates",
            "already has a compensating call",
        ),
        (
            Box::new(|v| v["edges"][0]["dead_letter"] = json!({"after_deliveries": 3})),
            "edges[0].dead_letter",
            "async calls only",
        ),
        (
            Box::new(|v| v["edges"][1]["dead_letter"] = json!({"after_deliveries": 0})),
            "edges[1].dead_letter.after_deliveries",
            "expected 1 to 10000",
        ),
        (
            Box::new(|v| v["edges"][1]["dead_letter"] = json!({"after_deliveries": 10001})),
            "edges[1].dead_letter.after_deliveries",
            "expected 1 to 10000",
        ),
        (
            Box::new(|v| v["edges"][1]["dead_letter"] = json!({"after_deliveries": -1})),
            "edges[1].dead_letter.after_deliveries",
            "invalid value",
        ),
        (
            Box::new(|v| v["edges"][1]["dead_letter"] = json!({})),
            "edges[1].dead_letter",
            "after_deliveries",
        ),
        (
            Box::new(|v| {
                v["edges"][1]["dead_letter"] = json!({"after_deliveries": 2, "exchange": "x"})
            }),
            "edges[1].dead_letter",
            "unknown field",
        ),
        (
            Box::new(|v| v["flows"][0]["polling"] = json!({"interval_ms": 100})),
            "flows[0].polling",
            "caller does not wait",
        ),
        (
            Box::new(|v| {
                v["flows"][0]["caller_waits"] = json!(false);
                v["flows"][0]["polling"] = json!({"interval_ms": 0});
            }),
            "flows[0].polling.interval_ms",
            "greater than 0",
        ),
        (
            Box::new(|v| {
                v["flows"][0]["caller_waits"] = json!(false);
                v["flows"][0]["polling"] = json!({"interval_ms": 1e12});
            }),
            "flows[0].polling.interval_ms",
            "at most",
        ),
        (
            Box::new(|v| {
                v["flows"][0]["caller_waits"] = json!(false);
                v["flows"][0]["polling"] = json!({"every_ms": 100});
            }),
            "flows[0].polling",
            "unknown field",
        ),
    ];
    assert_eq!(cases.len(), 20);
    for (mutate, location, message) in cases {
        let mut value = base();
        mutate(&mut value);
        let error = load(&value).expect_err(location).to_string();
        assert!(!error.contains('\n'), "one line: {error}");
        assert!(error.contains(location), "{location} in: {error}");
        assert!(error.contains(message), "{message} in: {error}");
    }
}

/// Files without the patterns' fields load as before and save without them.
#[test]
fn files_without_the_pattern_fields_are_unchanged() {
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/designs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "syncopate") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let design = model::load_from_str(&text, "design").unwrap();
        let saved = model::to_json_pretty(&design);
        // Only the fields a file does not have (a test design may use a pattern on purpose).
        for field in ["idempotent", "compensates", "dead_letter", "polling"] {
            if text.contains(&format!("\"{field}\"")) {
                continue;
            }
            assert!(!saved.contains(field), "{} gained {field}", path.display());
        }
        if !text.contains("\"compensates\"") {
            assert_eq!(
                design.edges.iter().filter(|e| e.is_compensation()).count(),
                0
            );
        }
    }
}

#[test]
fn a_blank_text_says_whether_it_is_empty_or_only_blank_space() {
    assert_rejected(
        |v| v["edges"][1]["topic"] = json!(""),
        "edges[1].topic",
        "expected a topic name, found an empty string",
    );
    // A line separator alone is blank too; the message shows it escaped instead of calling it empty.
    assert_rejected(
        |v| v["edges"][1]["topic"] = json!("\u{2028}"),
        "edges[1].topic",
        r#"expected a topic name, found only blank space "\u{2028}""#,
    );
    assert_rejected(
        |v| v["services"][1]["image"] = json!(" \u{a0}"),
        "services[1].image",
        r#"found only blank space " \u{a0}""#,
    );
    assert_rejected(
        |v| v["services"][1]["group"] = json!("\t"),
        "services[1].group",
        r#"found only blank space "\t""#,
    );
}
