//! Semantic validation: everything a well-typed design can still get wrong (dangling references, duplicate ids,
//! out-of-range numbers, options that do not fit the call's mode).
//!
//! The loader runs this after parsing, and the editor runs it on every edit so that an invalid value is refused
//! before it reaches the document.

use std::collections::{HashMap, HashSet};
use std::fmt;

use super::design::{CallMode, Design, Distribution, Edge, Fault, FaultKind, Flow, Service};
use super::ids::{
    MAX_STATEFUL_SERVICE_ID_LEN, escape_for_message, max_service_id_len, other_id_problem,
    service_id_problem,
};

/// Most replicas of one service: far beyond real deployments, low enough that a simulation stays in memory.
pub const MAX_REPLICAS: u32 = 10_000;
/// Most workers per replica.
pub const MAX_CONCURRENCY: u32 = 100_000;
/// Most retries of one call.
pub const MAX_RETRIES: u32 = 100;
/// Longest time any duration field may hold: one day, in milliseconds.
pub const MAX_DURATION_MS: f64 = 86_400_000.0;
/// Longest simulated run: 30 days, in seconds.
pub const MAX_SIMULATED_S: f64 = 2_592_000.0;
/// Highest arrival rate of one flow, in requests per second.
pub const MAX_RATE_RPS: f64 = 10_000_000.0;

/// One thing wrong with a design: where (a JSON path such as `edges[3].timeout_ms`) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// JSON path of the offending value.
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Collects problems under a path prefix.
struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn report(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    /// A finite number within `[min, max]`.
    fn number_in(&mut self, path: String, value: f64, min: f64, max: f64, what: &str) {
        if !value.is_finite() || value < min || value > max {
            self.report(
                path,
                format!(
                    "expected {what} between {min} and {max}, found {}",
                    shown(value)
                ),
            );
        }
    }

    /// A finite number greater than zero and at most `max`.
    fn positive(&mut self, path: String, value: f64, max: f64, what: &str) {
        if !value.is_finite() || value <= 0.0 || value > max {
            self.report(
                path,
                format!(
                    "expected {what} greater than 0 and at most {max}, found {}",
                    shown(value)
                ),
            );
        }
    }

    fn probability(&mut self, path: String, value: f64) {
        self.number_in(path, value, 0.0, 1.0, "a probability");
    }

    fn duration_ms(&mut self, path: String, value: f64) {
        self.positive(path, value, MAX_DURATION_MS, "a time in milliseconds");
    }
}

/// Every problem of the design, in file order. An empty list means the design is valid.
pub fn validate(design: &Design) -> Vec<Problem> {
    let mut checker = Checker {
        problems: Vec::new(),
    };
    let service_ids = check_services(&mut checker, &design.services);
    let flow_ids = check_flows(&mut checker, &design.flows, &service_ids);
    check_edges(&mut checker, &design.edges, &service_ids, &flow_ids);
    check_faults(&mut checker, design, &service_ids);
    if let Some(sim) = &design.simulation {
        checker.positive(
            "simulation.duration_s".into(),
            sim.duration_s,
            MAX_SIMULATED_S,
            "a simulated time in seconds",
        );
        if !sim.warmup_s.is_finite() || sim.warmup_s < 0.0 {
            checker.report(
                "simulation.warmup_s",
                format!(
                    "expected a warm-up of 0 seconds or more, found {}",
                    shown(sim.warmup_s)
                ),
            );
        } else if sim.warmup_s >= sim.duration_s {
            checker.report(
                "simulation.warmup_s",
                format!(
                    "the warm-up ({} s) must be shorter than the run (duration_s = {} s)",
                    sim.warmup_s, sim.duration_s
                ),
            );
        }
    }
    check_lint(&mut checker, &design.lint);
    checker.problems
}

fn check_lint(checker: &mut Checker, lint: &super::design::LintSettings) {
    for (i, rule) in lint.disabled.iter().enumerate() {
        if other_id_problem("rule", rule).is_some() {
            checker.report(
                format!("lint.disabled[{i}]"),
                format!(
                    "expected a rule id such as \"missing-timeout\", found \"{}\"",
                    escape_for_message(rule)
                ),
            );
        }
    }
    let t = &lint.thresholds;
    let at = "lint.thresholds";
    for (name, value) in [
        ("max_sync_depth", t.max_sync_depth),
        ("write_sync_depth", t.write_sync_depth),
        ("orchestrator_sync_calls", t.orchestrator_sync_calls),
        ("sequential_fan_out", t.sequential_fan_out),
    ] {
        if value == Some(0) {
            checker.report(
                format!("{at}.{name}"),
                "expected a whole number of 1 or more, found 0",
            );
        }
    }
    if let Some(amplification) = t.max_retry_amplification {
        checker.number_in(
            format!("{at}.max_retry_amplification"),
            amplification,
            1.0,
            1e12,
            "a number of calls",
        );
    }
    if let Some(warning) = t.utilization_warning {
        checker.positive(
            format!("{at}.utilization_warning"),
            warning,
            100.0,
            "a utilization",
        );
    }
    if let Some(error) = t.utilization_error {
        checker.positive(
            format!("{at}.utilization_error"),
            error,
            100.0,
            "a utilization",
        );
    }
}

/// What a blank text is, for an error: empty, or only blank space, shown escaped (a line separator or a
/// no-break space is as blank as a space, and as invisible in a message).
fn blank_found(text: &str) -> String {
    if text.is_empty() {
        "an empty string".to_owned()
    } else {
        format!("only blank space {text:?}")
    }
}

/// The most characters a group name may have: it is drawn as a box's title and becomes a namespace.
pub const MAX_GROUP_LEN: usize = 100;

/// Why `group` cannot be a group name, or `None` when it can: not blank, at most [`MAX_GROUP_LEN`] characters, no
/// control characters or line separators (a group is one line of a box's title).
pub fn group_problem(group: &str) -> Option<String> {
    if group.trim().is_empty() {
        return Some(format!(
            "expected a group name such as \"payments\", found {}",
            blank_found(group)
        ));
    }
    let length = group.chars().count();
    if length > MAX_GROUP_LEN {
        return Some(format!(
            "expected a group name of at most {MAX_GROUP_LEN} characters, found {length}"
        ));
    }
    if group
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
    {
        return Some(format!(
            "expected a group name on one line without control characters, found \"{}\"",
            escape_for_message(group)
        ));
    }
    None
}

/// Reports duplicates among `ids` (in order), returning the set of ids.
fn check_unique<'a>(
    checker: &mut Checker,
    what: &str,
    ids: impl Iterator<Item = (String, &'a str)>,
) -> HashSet<&'a str> {
    let mut first_at: HashMap<&str, String> = HashMap::new();
    for (path, id) in ids {
        if let Some(first) = first_at.get(id) {
            checker.report(
                path,
                format!(
                    "duplicate {what} id \"{}\" (first used at {first})",
                    escape_for_message(id)
                ),
            );
        } else {
            first_at.insert(id, path);
        }
    }
    first_at.into_keys().collect()
}

fn check_services<'a>(checker: &mut Checker, services: &'a [Service]) -> HashSet<&'a str> {
    for (i, service) in services.iter().enumerate() {
        let at = format!("services[{i}]");
        if let Some(problem) = service_id_problem(service.id.as_str()) {
            checker.report(format!("{at}.id"), problem);
        } else if service.id.as_str().len() > max_service_id_len(service.kind) {
            checker.report(
                format!("{at}.id"),
                format!(
                    "the id of {} \"{}\" is {} characters long; a {} may have at most {MAX_STATEFUL_SERVICE_ID_LEN}: \
                     it is deployed as a Kubernetes StatefulSet, whose pods' revision label adds 11 characters to \
                     the name and holds at most 63",
                    service.kind.as_str(),
                    service.id,
                    service.id.as_str().len(),
                    service.kind.as_str()
                ),
            );
        }
        if let Some(position) = service.position
            && position.iter().any(|c| !c.is_finite())
        {
            checker.report(
                format!("{at}.position"),
                "expected two finite numbers [x, y]",
            );
        }
        if let Some(group) = &service.group
            && let Some(problem) = group_problem(group)
        {
            checker.report(format!("{at}.group"), problem);
        }
        if service.replicas == 0 || service.replicas > MAX_REPLICAS {
            checker.report(
                format!("{at}.replicas"),
                format!(
                    "expected a whole number from 1 to {MAX_REPLICAS}, found {}",
                    service.replicas
                ),
            );
        }
        if service.concurrency == 0 || service.concurrency > MAX_CONCURRENCY {
            checker.report(
                format!("{at}.concurrency"),
                format!(
                    "expected a whole number of workers per replica from 1 to {MAX_CONCURRENCY}, found {}",
                    service.concurrency
                ),
            );
        }
        check_distribution(
            checker,
            &format!("{at}.service_time"),
            &service.service_time,
        );
        checker.probability(format!("{at}.error_rate"), service.error_rate);
        if service.port == Some(0) {
            checker.report(
                format!("{at}.port"),
                "expected a port from 1 to 65535, found 0",
            );
        }
        if let Some(image) = service.image.as_deref().filter(|i| i.trim().is_empty()) {
            checker.report(
                format!("{at}.image"),
                format!(
                    "expected a container image name, found {}",
                    blank_found(image)
                ),
            );
        }
    }
    check_unique(
        checker,
        "service",
        services
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("services[{i}].id"), s.id.as_str())),
    )
}

fn check_distribution(checker: &mut Checker, at: &str, dist: &Distribution) {
    let what = "a time in milliseconds";
    match *dist {
        Distribution::Exponential { mean_ms } => {
            checker.positive(format!("{at}.mean_ms"), mean_ms, MAX_DURATION_MS, what)
        }
        Distribution::Constant { ms } => {
            checker.number_in(format!("{at}.ms"), ms, 0.0, MAX_DURATION_MS, what)
        }
        Distribution::Uniform { min_ms, max_ms } => {
            checker.number_in(format!("{at}.min_ms"), min_ms, 0.0, MAX_DURATION_MS, what);
            checker.number_in(format!("{at}.max_ms"), max_ms, 0.0, MAX_DURATION_MS, what);
            if min_ms > max_ms {
                checker.report(
                    format!("{at}.max_ms"),
                    format!("max_ms ({max_ms}) must not be less than min_ms ({min_ms})"),
                );
            }
        }
        Distribution::Lognormal { median_ms, p99_ms } => {
            checker.positive(format!("{at}.median_ms"), median_ms, MAX_DURATION_MS, what);
            checker.positive(format!("{at}.p99_ms"), p99_ms, MAX_DURATION_MS, what);
            if p99_ms < median_ms {
                checker.report(
                    format!("{at}.p99_ms"),
                    format!("p99_ms ({p99_ms}) must not be less than median_ms ({median_ms})"),
                );
            }
        }
    }
}

fn check_flows<'a>(
    checker: &mut Checker,
    flows: &'a [Flow],
    service_ids: &HashSet<&str>,
) -> HashSet<&'a str> {
    for (i, flow) in flows.iter().enumerate() {
        let at = format!("flows[{i}]");
        if let Some(problem) = other_id_problem("flow", flow.id.as_str()) {
            checker.report(format!("{at}.id"), problem);
        }
        if !service_ids.contains(flow.entry.as_str()) {
            checker.report(
                format!("{at}.entry"),
                format!(
                    "unknown service \"{}\": a flow's entry must be the id of a service in this design",
                    escape_for_message(flow.entry.as_str())
                ),
            );
        }
        checker.number_in(
            format!("{at}.rate_rps"),
            flow.rate_rps,
            0.0,
            MAX_RATE_RPS,
            "a rate in requests per second",
        );
        if let Some(pattern) = &flow.pattern {
            let mut previous_at_s = None;
            for (j, step) in pattern.iter().enumerate() {
                let step_at = format!("{at}.pattern[{j}]");
                if !step.at_s.is_finite() || step.at_s < 0.0 {
                    checker.report(
                        step_at.clone(),
                        format!(
                            "expected [at_s, rate_rps] with at_s >= 0, found at_s = {}",
                            step.at_s
                        ),
                    );
                } else if previous_at_s.is_some_and(|p| step.at_s <= p) {
                    checker.report(
                        step_at.clone(),
                        format!(
                            "steps must be in ascending time: {} s does not come after {} s",
                            step.at_s,
                            previous_at_s.unwrap_or_default()
                        ),
                    );
                }
                previous_at_s = Some(step.at_s);
                if !step.rate_rps.is_finite() || step.rate_rps < 0.0 || step.rate_rps > MAX_RATE_RPS
                {
                    checker.report(
                        step_at,
                        format!(
                            "expected [at_s, rate_rps] with rate_rps between 0 and {MAX_RATE_RPS}, found {}",
                            shown(step.rate_rps)
                        ),
                    );
                }
            }
        }
        if let Some(slo) = flow.slo_p99_ms {
            checker.duration_ms(format!("{at}.slo_p99_ms"), slo);
        }
        if let Some(polling) = &flow.polling {
            if flow.caller_waits {
                checker.report(
                    format!("{at}.polling"),
                    "polling applies to flows whose caller does not wait (caller_waits: false): a waiting \
                     caller already has its answer",
                );
            }
            checker.duration_ms(format!("{at}.polling.interval_ms"), polling.interval_ms);
        }
    }
    check_unique(
        checker,
        "flow",
        flows
            .iter()
            .enumerate()
            .map(|(i, f)| (format!("flows[{i}].id"), f.id.as_str())),
    )
}

fn check_edges(
    checker: &mut Checker,
    edges: &[Edge],
    service_ids: &HashSet<&str>,
    flow_ids: &HashSet<&str>,
) {
    for (i, edge) in edges.iter().enumerate() {
        let at = format!("edges[{i}]");
        if let Some(problem) = other_id_problem("edge", edge.id.as_str()) {
            checker.report(format!("{at}.id"), problem);
        }
        for (field, id) in [("from", &edge.from), ("to", &edge.to)] {
            if !service_ids.contains(id.as_str()) {
                checker.report(
                    format!("{at}.{field}"),
                    format!(
                        "unknown service \"{}\": expected the id of a service in this design",
                        escape_for_message(id.as_str())
                    ),
                );
            }
        }
        if let Some(protocol) = edge.protocol
            && protocol.mode() != edge.mode
        {
            checker.report(
                format!("{at}.protocol"),
                format!(
                    "\"{}\" is a {} protocol but the call is {}; {} calls use {}",
                    protocol.as_str(),
                    protocol.mode().as_str(),
                    edge.mode.as_str(),
                    edge.mode.as_str(),
                    match edge.mode {
                        CallMode::Sync => "http, grpc, graphql or tcp",
                        CallMode::Async => "amqp, kafka, sqs or nats",
                    }
                ),
            );
        }
        checker.probability(format!("{at}.probability"), edge.probability);
        if let Some(timeout) = edge.timeout_ms {
            if edge.mode == CallMode::Async {
                checker.report(
                    format!("{at}.timeout_ms"),
                    "timeout_ms applies to sync calls only; an async call does not wait for an answer",
                );
            } else {
                checker.duration_ms(format!("{at}.timeout_ms"), timeout);
            }
        }
        if edge.mode == CallMode::Async {
            // The simulator, the exporters and the emulator give these no meaning on a message handed to a queue;
            // accepting them would promise a protection that nothing applies.
            for (field, set) in [
                ("retry", edge.retry.is_some()),
                ("circuit_breaker", edge.circuit_breaker.is_some()),
                ("max_in_flight", edge.max_in_flight.is_some()),
            ] {
                if set {
                    checker.report(
                        format!("{at}.{field}"),
                        format!(
                            "{field} applies to sync calls only; an async call hands its message to the queue \
                             and does not wait, retry or trip a breaker (remove it, or make the call sync)"
                        ),
                    );
                }
            }
        }
        if let Some(retry) = &edge.retry {
            if retry.max_retries > MAX_RETRIES {
                checker.report(
                    format!("{at}.retry.max_retries"),
                    format!(
                        "expected at most {MAX_RETRIES} retries, found {}",
                        retry.max_retries
                    ),
                );
            }
            checker.number_in(
                format!("{at}.retry.backoff_ms"),
                retry.backoff_ms,
                0.0,
                MAX_DURATION_MS,
                "a time in milliseconds",
            );
            if let Some(per_try) = retry.per_try_timeout_ms {
                checker.duration_ms(format!("{at}.retry.per_try_timeout_ms"), per_try);
            }
        }
        if let Some(breaker) = &edge.circuit_breaker {
            if breaker.consecutive_failures == 0 {
                checker.report(
                    format!("{at}.circuit_breaker.consecutive_failures"),
                    "expected at least 1 failure before the breaker opens, found 0",
                );
            }
            checker.duration_ms(format!("{at}.circuit_breaker.open_ms"), breaker.open_ms);
        }
        if edge.max_in_flight == Some(0) {
            checker.report(
                format!("{at}.max_in_flight"),
                "expected at least 1 call in flight, found 0",
            );
        }
        if let Some(topic) = &edge.topic {
            if edge.mode == CallMode::Sync {
                checker.report(format!("{at}.topic"), "topic applies to async calls only");
            } else if topic.trim().is_empty() {
                checker.report(
                    format!("{at}.topic"),
                    format!("expected a topic name, found {}", blank_found(topic)),
                );
            }
        }
        if let Some(flows) = &edge.flows {
            let mut seen = HashSet::new();
            for (j, flow) in flows.iter().enumerate() {
                if !flow_ids.contains(flow.as_str()) {
                    checker.report(
                        format!("{at}.flows[{j}]"),
                        format!(
                            "unknown flow \"{}\": expected the id of a flow in this design",
                            escape_for_message(flow.as_str())
                        ),
                    );
                } else if !seen.insert(flow.as_str()) {
                    checker.report(
                        format!("{at}.flows[{j}]"),
                        format!(
                            "flow \"{}\" is listed twice",
                            escape_for_message(flow.as_str())
                        ),
                    );
                }
            }
        }
    }
    check_compensations(checker, edges);
    check_unique(
        checker,
        "edge",
        edges
            .iter()
            .enumerate()
            .map(|(i, e)| (format!("edges[{i}].id"), e.id.as_str())),
    );
}

/// Most deliveries of one message before it is dead-lettered.
pub const MAX_DELIVERIES: u32 = 10_000;

/// Dead-letter queues and compensating calls (sagas): what they refer to and what they may carry.
fn check_compensations(checker: &mut Checker, edges: &[Edge]) {
    let by_id: HashMap<&str, &Edge> = edges.iter().map(|e| (e.id.as_str(), e)).collect();
    let mut compensated: HashMap<&str, usize> = HashMap::new();
    for (i, edge) in edges.iter().enumerate() {
        let at = format!("edges[{i}]");
        if let Some(dead_letter) = &edge.dead_letter {
            if edge.mode == CallMode::Sync {
                checker.report(
                    format!("{at}.dead_letter"),
                    "dead_letter applies to async calls only: a sync caller sees the failure itself",
                );
            } else if dead_letter.after_deliveries == 0
                || dead_letter.after_deliveries > MAX_DELIVERIES
            {
                checker.report(
                    format!("{at}.dead_letter.after_deliveries"),
                    format!(
                        "expected 1 to {MAX_DELIVERIES} deliveries before a message is dead-lettered, found {}",
                        dead_letter.after_deliveries
                    ),
                );
            }
        }
        let Some(target) = &edge.compensates else {
            continue;
        };
        let path = format!("{at}.compensates");
        let Some(original) = by_id.get(target.as_str()) else {
            checker.report(
                path,
                format!(
                    "unknown call \"{}\": expected the id of the call this one undoes",
                    escape_for_message(target.as_str())
                ),
            );
            continue;
        };
        if original.id == edge.id {
            checker.report(path, "a call cannot compensate itself");
            continue;
        }
        if original.from != edge.from {
            checker.report(
                path.clone(),
                format!(
                    "a compensating call is made by the caller of the call it undoes: \"{}\" is called by \"{}\", \
                     this call by \"{}\"",
                    escape_for_message(target.as_str()),
                    escape_for_message(original.from.as_str()),
                    escape_for_message(edge.from.as_str())
                ),
            );
        }
        if original.compensates.is_some() {
            checker.report(
                path.clone(),
                format!(
                    "\"{}\" is itself a compensating call; compensations do not chain",
                    escape_for_message(target.as_str())
                ),
            );
        }
        if let Some(first) = compensated.insert(target.as_str(), i) {
            checker.report(
                path,
                format!(
                    "\"{}\" already has a compensating call (edges[{first}]); a call has at most one",
                    escape_for_message(target.as_str())
                ),
            );
        }
        if edge.order != 0 {
            checker.report(
                format!("{at}.order"),
                "a compensating call has no order: it is made only when the saga rolls back, in reverse order \
                 of the calls it undoes",
            );
        }
        if edge.probability != 1.0 {
            checker.report(
                format!("{at}.probability"),
                "a compensating call has no probability: it is made whenever the call it undoes must be undone",
            );
        }
    }
}

fn check_faults(checker: &mut Checker, design: &Design, service_ids: &HashSet<&str>) {
    for (i, fault) in design.faults.iter().enumerate() {
        check_fault(checker, &format!("faults[{i}]"), fault, service_ids);
    }
}

/// The problems of one fault of `design` (its service, times, factor and rate, as a planned fault of the design
/// would be checked), with paths under `at`. The emulator's fault API holds the faults it is sent to these rules,
/// so a fault the design may plan is one the API injects, and none the engine cannot take gets in.
pub fn fault_problems(design: &Design, fault: &Fault, at: &str) -> Vec<Problem> {
    let mut checker = Checker {
        problems: Vec::new(),
    };
    let service_ids: HashSet<&str> = design.services.iter().map(|s| s.id.as_str()).collect();
    check_fault(&mut checker, at, fault, &service_ids);
    checker.problems
}

fn check_fault(checker: &mut Checker, at: &str, fault: &Fault, service_ids: &HashSet<&str>) {
    if !service_ids.contains(fault.service.as_str()) {
        checker.report(
            format!("{at}.service"),
            format!(
                "unknown service \"{}\": expected the id of a service in this design",
                escape_for_message(fault.service.as_str())
            ),
        );
    }
    checker.number_in(
        format!("{at}.start_s"),
        fault.start_s,
        0.0,
        MAX_SIMULATED_S,
        "a time in seconds",
    );
    if let Some(end_s) = fault.end_s {
        if !end_s.is_finite() || end_s > MAX_SIMULATED_S {
            checker.report(
                format!("{at}.end_s"),
                format!(
                    "expected a time in seconds up to {MAX_SIMULATED_S}, found {}",
                    shown(end_s)
                ),
            );
        } else if end_s <= fault.start_s {
            checker.report(
                format!("{at}.end_s"),
                format!(
                    "the fault must end after it starts: end_s ({end_s}) <= start_s ({})",
                    fault.start_s
                ),
            );
        }
    }
    match (fault.kind, fault.factor) {
        (FaultKind::Slow, Some(factor)) => checker.positive(
            format!("{at}.factor"),
            factor,
            1_000_000.0,
            "a service-time multiplier",
        ),
        (FaultKind::Slow, None) => checker.report(
            format!("{at}.factor"),
            "a slow fault needs a factor (service time is multiplied by it)",
        ),
        (kind, Some(_)) => checker.report(
            format!("{at}.factor"),
            format!(
                "factor applies to slow faults only, not to {}",
                kind.as_str()
            ),
        ),
        (_, None) => {}
    }
    match (fault.kind, fault.error_rate) {
        (FaultKind::Errors, Some(rate)) => checker.probability(format!("{at}.error_rate"), rate),
        (FaultKind::Errors, None) => checker.report(
            format!("{at}.error_rate"),
            "an errors fault needs an error_rate (the probability that a request fails)",
        ),
        (kind, Some(_)) => checker.report(
            format!("{at}.error_rate"),
            format!(
                "error_rate applies to errors faults only, not to {}",
                kind.as_str()
            ),
        ),
        (_, None) => {}
    }
}

/// A number as an error message shows it: as written for everyday sizes, in scientific notation when huge or tiny
/// (a 1e308 typed by mistake must not print as 309 digits).
fn shown(value: f64) -> String {
    let magnitude = value.abs();
    if value.is_finite() && magnitude != 0.0 && !(1e-4..1e9).contains(&magnitude) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod shown_tests {
    #[test]
    fn huge_and_tiny_numbers_are_shown_short() {
        assert_eq!(super::shown(1e308), "1e308");
        assert_eq!(super::shown(-2.5e-7), "-2.5e-7");
        assert_eq!(super::shown(-5.0), "-5");
        assert_eq!(super::shown(0.25), "0.25");
        assert_eq!(super::shown(f64::NAN), "NaN");
    }
}
