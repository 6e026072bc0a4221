//! Rules about how sync calls fail: timeouts, retries and circuit breakers.

use super::analysis::sync_call_bound_ms;
use super::fix::round_up_ms;
use super::{Context, Finding, Fix, Rule, Severity, Subject, format_ms};
use crate::model::{CallMode, ServiceKind};

pub(super) const MISSING_TIMEOUT: Rule = Rule {
    id: "missing-timeout",
    title: "Sync call without a timeout",
    check: missing_timeout,
};

pub(super) const TIMEOUT_INVERSION: Rule = Rule {
    id: "timeout-inversion",
    title: "Timeout shorter than the callee may legitimately take",
    check: timeout_inversion,
};

pub(super) const RETRY_STORM: Rule = Rule {
    id: "retry-storm",
    title: "Retries multiply along a call chain",
    check: retry_storm,
};

pub(super) const RETRY_WITHOUT_BACKOFF: Rule = Rule {
    id: "retry-without-backoff",
    title: "Retries without backoff",
    check: retry_without_backoff,
};

pub(super) const RETRY_WITHOUT_PER_TRY_TIMEOUT: Rule = Rule {
    id: "retry-without-per-try-timeout",
    title: "Retries without a per-try timeout",
    check: retry_without_per_try_timeout,
};

pub(super) const RETRY_NON_IDEMPOTENT: Rule = Rule {
    id: "retry-non-idempotent",
    title: "Retries of a call that changes state",
    check: retry_non_idempotent,
};

pub(super) const MISSING_CIRCUIT_BREAKER: Rule = Rule {
    id: "missing-circuit-breaker",
    title: "Sync call into a fragile service without a circuit breaker",
    check: missing_circuit_breaker,
};

/// The longest `service` may legitimately take to answer: the p99 of its own work plus, per call group, the
/// longest its sync calls may take given their timeouts, retries and backoffs. `None` when one of its sync calls has
/// no bound (then `missing-timeout` applies instead).
pub(super) fn legitimate_time_ms(ctx: &Context, service: usize) -> Option<f64> {
    let mut total = ctx.design.services[service].service_time.p99_ms();
    let mut calls: Vec<usize> = ctx.topology.outgoing[service]
        .iter()
        .copied()
        .filter(|&e| ctx.topology.edge(e).mode == CallMode::Sync)
        .collect();
    calls.sort_by_key(|&e| ctx.topology.edge(e).order);
    let mut index = 0;
    while index < calls.len() {
        let order = ctx.topology.edge(calls[index]).order;
        let mut slowest: f64 = 0.0;
        while index < calls.len() && ctx.topology.edge(calls[index]).order == order {
            slowest = slowest.max(sync_call_bound_ms(ctx.topology.edge(calls[index]))?);
            index += 1;
        }
        total += slowest;
    }
    Some(total)
}

/// The slowest mean response of a service over all flows, in milliseconds.
fn slowest_response_ms(ctx: &Context, service: usize) -> f64 {
    ctx.analysis
        .response_ms
        .iter()
        .map(|per_service| per_service[service])
        .filter(|t| t.is_finite())
        .fold(0.0, f64::max)
}

/// The callee's typical answer (its slowest mean response, or its work's p99), for timeouts.
fn typical_answer_ms(ctx: &Context, callee: usize) -> f64 {
    slowest_response_ms(ctx, callee).max(ctx.design.services[callee].service_time.p99_ms())
}

/// A timeout to suggest for a sync call: a little above what the callee legitimately takes, at least twice its
/// typical answer.
pub(super) fn suggested_timeout_ms(ctx: &Context, edge: &crate::model::Edge) -> f64 {
    let Some(&callee) = ctx.topology.service_index.get(edge.to.as_str()) else {
        return 1000.0;
    };
    let typical = typical_answer_ms(ctx, callee);
    round_up_ms(
        legitimate_time_ms(ctx, callee)
            .map_or(typical * 3.0, |t| t * 1.2)
            .max(typical * 2.0),
    )
}

fn missing_timeout(ctx: &Context, out: &mut Vec<Finding>) {
    for (e, edge) in ctx.design.edges.iter().enumerate() {
        if edge.mode != CallMode::Sync || sync_call_bound_ms(edge).is_some() {
            continue;
        }
        let callee = ctx.topology.edge_to[e];
        let typical = typical_answer_ms(ctx, callee);
        let suggested = suggested_timeout_ms(ctx, edge);
        let (caller, callee) = (ctx.name(&edge.from), ctx.name(&edge.to));
        out.push(Finding {
            rule: MISSING_TIMEOUT.id,
            severity: Severity::Warning,
            subjects: vec![Subject::Edge(edge.id.to_string()), Subject::Service(edge.from.to_string())],
            message: format!(
                "{caller} waits on {callee} with no timeout: if {callee} hangs, every worker of {caller} ends up stuck (typical answer {})",
                format_ms(typical)
            ),
            tradeoff: "A synchronous call holds the caller's worker until the answer comes. Without a timeout a hung \
                       or very slow callee holds it forever, the caller's workers run out, and the failure cascades \
                       to everyone upstream.",
            suggestion: format!(
                "Give the call {} a timeout a little above what {callee} legitimately takes, e.g. {suggested} ms.",
                ctx.call(edge)
            ),
            fix: Some(Fix::AddTimeout {
                edge: edge.id.to_string(),
                timeout_ms: suggested,
            }),
            other_fixes: Vec::new(),
        });
    }
}

fn timeout_inversion(ctx: &Context, out: &mut Vec<Finding>) {
    for (e, edge) in ctx.design.edges.iter().enumerate() {
        if edge.mode != CallMode::Sync {
            continue;
        }
        let per_try = edge.retry.and_then(|r| r.per_try_timeout_ms);
        let Some(limit) = per_try.or(edge.timeout_ms) else {
            continue;
        };
        let callee = ctx.topology.edge_to[e];
        let Some(needed) = legitimate_time_ms(ctx, callee) else {
            continue;
        };
        if limit >= needed {
            continue;
        }
        let which = if per_try.is_some() {
            "per-try timeout"
        } else {
            "timeout"
        };
        let suggested = round_up_ms(needed * 1.1);
        let fix = if per_try.is_some() {
            Fix::AddPerTryTimeout {
                edge: edge.id.to_string(),
                per_try_timeout_ms: suggested,
            }
        } else {
            Fix::AddTimeout {
                edge: edge.id.to_string(),
                timeout_ms: suggested,
            }
        };
        let callee = ctx.name(&edge.to);
        out.push(Finding {
            rule: TIMEOUT_INVERSION.id,
            severity: Severity::Warning,
            subjects: vec![Subject::Edge(edge.id.to_string()), Subject::Service(edge.to.to_string())],
            message: format!(
                "{} gives up on {callee} after {} ({}), but {callee} may legitimately take {} (its p99 work plus its own calls' timeouts, retries and backoffs)",
                ctx.name(&edge.from),
                format_ms(limit),
                which,
                format_ms(needed)
            ),
            tradeoff: "When a caller's timeout is shorter than its callee's own retry budget, the caller gives up \
                       while the callee is still legitimately working: that work is wasted, and the caller's \
                       retries pile new requests onto a callee that is already busy.",
            suggestion: format!(
                "Raise the {which} of {} to at least {suggested} ms, or tighten the timeouts and retries inside {callee}.",
                ctx.call(edge)
            ),
            fix: Some(fix),
            other_fixes: Vec::new(),
        });
    }
}

/// The worst retry amplification reachable from `service` in `flow` along sync calls, with the edges on the way.
fn worst_amplification(
    ctx: &Context,
    flow: usize,
    service: usize,
    on_path: &mut Vec<usize>,
    memo: &mut std::collections::HashMap<usize, (f64, Vec<usize>)>,
) -> (f64, Vec<usize>) {
    if let Some(known) = memo.get(&service) {
        return known.clone();
    }
    if on_path.contains(&service) {
        return (1.0, Vec::new());
    }
    on_path.push(service);
    let mut best = (1.0, Vec::new());
    for group in ctx.topology.call_groups(service, flow) {
        for e in group {
            let edge = ctx.topology.edge(e);
            if edge.mode != CallMode::Sync {
                continue;
            }
            let (below, path) =
                worst_amplification(ctx, flow, ctx.topology.edge_to[e], on_path, memo);
            let amplification = edge.max_tries() as f64 * below;
            if amplification > best.0 {
                let mut full = vec![e];
                full.extend(path);
                best = (amplification, full);
            }
        }
    }
    on_path.pop();
    memo.insert(service, best.clone());
    best
}

fn retry_storm(ctx: &Context, out: &mut Vec<Finding>) {
    let threshold = ctx.thresholds.max_retry_amplification;
    for (f, flow) in ctx.design.flows.iter().enumerate() {
        let Some(&entry) = ctx.topology.service_index.get(flow.entry.as_str()) else {
            continue;
        };
        let (amplification, path) = worst_amplification(
            ctx,
            f,
            entry,
            &mut Vec::new(),
            &mut std::collections::HashMap::new(),
        );
        if amplification <= threshold {
            continue;
        }
        let retrying: Vec<String> = path
            .iter()
            .filter(|&&e| ctx.topology.edge(e).max_tries() > 1)
            .map(|&e| ctx.call(ctx.topology.edge(e)))
            .collect();
        let deepest = ctx.name(
            path.last()
                .map_or(flow.entry.as_str(), |&e| ctx.topology.edge(e).to.as_str()),
        );
        let mut subjects = vec![Subject::Flow(flow.id.to_string())];
        subjects.extend(
            path.iter()
                .map(|&e| Subject::Edge(ctx.topology.edge(e).id.to_string())),
        );
        out.push(Finding {
            rule: RETRY_STORM.id,
            severity: Severity::Warning,
            subjects,
            message: format!(
                "one request of flow \"{}\" can become {:.0} calls to {} when it fails: retries multiply along {}",
                flow.display_name(),
                amplification,
                deepest,
                super::list_names(&retrying)
            ),
            tradeoff: "Each layer that retries multiplies the load the layers below see. When the deepest service \
                       struggles, that is exactly when every layer retries, and the multiplied load keeps it down: \
                       a retry storm.",
            suggestion: format!(
                "Retry in one layer only (usually the one closest to the failure), keep the others at 0 retries, \
                 and add circuit breakers so retries stop when {deepest} is down."
            ),
            fix: None,
            other_fixes: Vec::new(),
        });
    }
}

fn retry_without_backoff(ctx: &Context, out: &mut Vec<Finding>) {
    for (e, edge) in ctx.design.edges.iter().enumerate() {
        let Some(retry) = edge.retry else { continue };
        if retry.max_retries == 0 || retry.backoff_ms > 0.0 {
            continue;
        }
        let callee = ctx.topology.edge_to[e];
        let backoff = round_up_ms(ctx.design.services[callee].service_time.mean_ms() * 2.0);
        out.push(Finding {
            rule: RETRY_WITHOUT_BACKOFF.id,
            severity: Severity::Warning,
            subjects: vec![Subject::Edge(edge.id.to_string())],
            message: format!(
                "{} retries {} up to {} with no backoff: failed calls are repeated at once",
                ctx.name(&edge.from),
                ctx.name(&edge.to),
                super::times(retry.max_retries)
            ),
            tradeoff: "Immediate retries hit a struggling service again while it is still struggling, turning a \
                       short hiccup into sustained overload. Exponential backoff spreads the retries out and gives \
                       the callee time to recover.",
            suggestion: format!(
                "Back off between retries of {} (e.g. {backoff} ms, doubling per retry).",
                ctx.call(edge)
            ),
            fix: Some(Fix::AddBackoff {
                edge: edge.id.to_string(),
                backoff_ms: backoff,
            }),
            other_fixes: Vec::new(),
        });
    }
}

fn retry_without_per_try_timeout(ctx: &Context, out: &mut Vec<Finding>) {
    for (e, edge) in ctx.design.edges.iter().enumerate() {
        let Some(retry) = edge.retry else { continue };
        if edge.mode != CallMode::Sync
            || retry.max_retries == 0
            || retry.per_try_timeout_ms.is_some()
        {
            continue;
        }
        let callee = ctx.topology.edge_to[e];
        let tries = edge.max_tries() as f64;
        let suggested = match edge.timeout_ms {
            Some(timeout) => round_up_ms(((timeout - retry.total_backoff_ms()) / tries).max(10.0)),
            None => round_up_ms(
                slowest_response_ms(ctx, callee)
                    .max(ctx.design.services[callee].service_time.p99_ms())
                    * 2.0,
            ),
        };
        out.push(Finding {
            rule: RETRY_WITHOUT_PER_TRY_TIMEOUT.id,
            severity: Severity::Warning,
            subjects: vec![Subject::Edge(edge.id.to_string())],
            message: format!(
                "{} retries {} {} but has no per-try timeout: a slow first try {}",
                ctx.name(&edge.from),
                ctx.name(&edge.to),
                super::times(retry.max_retries),
                if edge.timeout_ms.is_some() {
                    "uses up the whole timeout, so the retries never run"
                } else {
                    "can hang forever, so the retries never run"
                }
            ),
            tradeoff: "Retries only help if a slow try is abandoned in time for another. Without a per-try timeout \
                       the first try can consume the whole budget, and the retries exist only on paper.",
            suggestion: format!(
                "Give each try of {} its own timeout (e.g. {suggested} ms).",
                ctx.call(edge)
            ),
            fix: Some(Fix::AddPerTryTimeout {
                edge: edge.id.to_string(),
                per_try_timeout_ms: suggested,
            }),
            other_fixes: Vec::new(),
        });
    }
}

/// Why a service may fail or slow down, or `None` when nothing suggests it will.
fn fragility(ctx: &Context, service: usize) -> Option<String> {
    let s = &ctx.design.services[service];
    let name = s.display_name();
    if s.kind == ServiceKind::External {
        return Some(format!("{name} is an external system"));
    }
    if s.error_rate > 0.0 {
        return Some(format!(
            "{name} fails {} of requests",
            super::format_percent(s.error_rate)
        ));
    }
    if let Some(fault) = ctx.design.faults.iter().find(|f| f.service == s.id) {
        return Some(format!(
            "a {} fault is planned for {name}",
            fault.kind.as_str()
        ));
    }
    if ctx.analysis.utilization[service] >= ctx.thresholds.utilization_warning {
        return Some(format!(
            "{name} runs at {} utilization",
            super::format_percent(ctx.analysis.utilization[service])
        ));
    }
    let sync_downstream = ctx.topology.outgoing[service]
        .iter()
        .find(|&&e| ctx.topology.edge(e).mode == CallMode::Sync)?;
    Some(format!(
        "{name} depends synchronously on {}",
        ctx.name(&ctx.topology.edge(*sync_downstream).to)
    ))
}

fn missing_circuit_breaker(ctx: &Context, out: &mut Vec<Finding>) {
    for (e, edge) in ctx.design.edges.iter().enumerate() {
        // A compensation must get through in the end (retries, not a breaker that fails it fast): see
        // `compensation-without-retry`.
        if edge.mode != CallMode::Sync || edge.circuit_breaker.is_some() || edge.is_compensation() {
            continue;
        }
        // Clients (browsers, apps) are people: they do not run breakers.
        if ctx.design.services[ctx.topology.edge_from[e]].kind == ServiceKind::Client {
            continue;
        }
        let Some(reason) = fragility(ctx, ctx.topology.edge_to[e]) else {
            continue;
        };
        out.push(Finding {
            rule: MISSING_CIRCUIT_BREAKER.id,
            severity: Severity::Warning,
            subjects: vec![Subject::Edge(edge.id.to_string()), Subject::Service(edge.to.to_string())],
            message: format!(
                "{} calls {} synchronously without a circuit breaker, and {reason}",
                ctx.name(&edge.from),
                ctx.name(&edge.to)
            ),
            tradeoff: "When a dependency fails, callers without a breaker keep sending it requests and keep waiting \
                       on each one, so the failure spreads to them. A breaker fails fast while the dependency is \
                       down and lets it recover.",
            suggestion: format!(
                "Guard {} with a circuit breaker (e.g. open after 5 consecutive failures for 30 s) and decide what {} does while it is open.",
                ctx.call(edge),
                ctx.name(&edge.from)
            ),
            fix: Some(Fix::AddCircuitBreaker {
                edge: edge.id.to_string(),
            }),
            other_fixes: Vec::new(),
        });
    }
}

fn retry_non_idempotent(ctx: &Context, out: &mut Vec<Finding>) {
    for edge in &ctx.design.edges {
        let Some(retry) = edge.retry else { continue };
        if retry.max_retries == 0 || edge.mode != CallMode::Sync || edge.idempotent {
            continue;
        }
        let writes: Vec<String> = ctx
            .design
            .flows
            .iter()
            .filter(|f| f.kind == crate::model::FlowKind::Write && edge.in_flow(&f.id))
            .map(|f| format!("\"{}\"", f.display_name()))
            .collect();
        if writes.is_empty() {
            continue;
        }
        out.push(Finding {
            rule: RETRY_NON_IDEMPOTENT.id,
            severity: Severity::Warning,
            subjects: vec![Subject::Edge(edge.id.to_string())],
            message: format!(
                "{} retries {} up to {} in the write flow {}: a try that timed out may have done its work, \
                 and the retry does it again",
                ctx.name(&edge.from),
                ctx.name(&edge.to),
                super::times(retry.max_retries),
                super::list_names(&writes)
            ),
            tradeoff: "A timeout does not say whether the callee did the work: retrying a call that changes state \
                       (charge a card, place an order) can do it twice. Proxies refuse to retry such requests unless \
                       told to (nginx's non_idempotent), and the export tells them to because the design retries.",
            suggestion: format!(
                "Make {} idempotent (an idempotency key the callee deduplicates on) and mark the call so, or remove the retry of {}.",
                ctx.name(&edge.to),
                ctx.call(edge)
            ),
            fix: Some(Fix::MarkIdempotent {
                edge: edge.id.to_string(),
            }),
            other_fixes: vec![Fix::RemoveRetry {
                edge: edge.id.to_string(),
            }],
        });
    }
}
