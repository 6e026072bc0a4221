//! Rules about the patterns the format draws: sagas (compensating calls), asynchronous request-reply (polling)
//! and dead-letter queues.

use super::analysis::deliveries_per_message;
use super::{Context, Finding, Fix, Rule, Severity, Subject, format_ms, format_percent};
use crate::model::{CallMode, Edge, FaultKind, FlowKind};

pub(super) const SAGA_STEP_WITHOUT_TIMEOUT: Rule = Rule {
    id: "saga-step-without-timeout",
    title: "Saga step after a compensatable call without a timeout",
    check: saga_step_without_timeout,
};

pub(super) const SAGA_PIVOT_ORDER: Rule = Rule {
    id: "saga-pivot-order",
    title: "Compensatable saga step after one that cannot be undone",
    check: saga_pivot_order,
};

pub(super) const COMPENSATION_WITHOUT_RETRY: Rule = Rule {
    id: "compensation-without-retry",
    title: "Compensating call without retries",
    check: compensation_without_retry,
};

pub(super) const POLL_TOO_OFTEN: Rule = Rule {
    id: "poll-too-often",
    title: "Polls cost more than the work they wait for",
    check: poll_too_often,
};

pub(super) const POLL_TOO_RARE: Rule = Rule {
    id: "poll-too-rare",
    title: "Poll interval longer than the work",
    check: poll_too_rare,
};

pub(super) const NO_DEAD_LETTER: Rule = Rule {
    id: "no-dead-letter",
    title: "Failing consumer without a dead-letter queue",
    check: no_dead_letter,
};

pub(super) const REDELIVERY_OVERLOAD: Rule = Rule {
    id: "redelivery-overload",
    title: "Redeliveries push a consumer over capacity",
    check: redelivery_overload,
};

/// The forward calls of a service that have a compensating call.
fn compensated_calls<'a>(ctx: &'a Context, from: &'a crate::model::ServiceId) -> Vec<&'a Edge> {
    ctx.design
        .edges
        .iter()
        .filter(|e| &e.from == from && !e.is_compensation())
        .filter(|e| ctx.design.compensation_of(&e.id).is_some())
        .collect()
}

/// The callers that orchestrate a saga: each with the calls it can undo, in design order.
fn orchestrators<'a>(ctx: &'a Context) -> Vec<(&'a crate::model::ServiceId, Vec<&'a Edge>)> {
    let mut seen: Vec<&crate::model::ServiceId> = Vec::new();
    for edge in ctx.design.edges.iter().filter(|e| e.is_compensation()) {
        if !seen.contains(&&edge.from) {
            seen.push(&edge.from);
        }
    }
    seen.into_iter()
        .map(|from| (from, compensated_calls(ctx, from)))
        .filter(|(_, calls)| !calls.is_empty())
        .collect()
}

/// Whether the call takes part in a write flow.
fn in_write_flow(ctx: &Context, edge: &Edge) -> bool {
    ctx.design
        .flows
        .iter()
        .any(|f| f.kind == FlowKind::Write && edge.in_flow(&f.id))
}

fn saga_step_without_timeout(ctx: &Context, out: &mut Vec<Finding>) {
    for (from, compensated) in orchestrators(ctx) {
        if !compensated.iter().any(|e| in_write_flow(ctx, e)) {
            continue;
        }
        let first_order = compensated.iter().map(|e| e.order).min().unwrap_or(0);
        for later in ctx.design.edges.iter().filter(|e| {
            &e.from == from
                && !e.is_compensation()
                && e.mode == CallMode::Sync
                && e.order > first_order
                && e.timeout_ms.is_none()
        }) {
            out.push(Finding {
                rule: SAGA_STEP_WITHOUT_TIMEOUT.id,
                severity: Severity::Warning,
                subjects: vec![Subject::Edge(later.id.to_string())],
                message: format!(
                    "{} waits on {} with no timeout after a step it may have to undo: if {} hangs, the saga \
                     neither finishes nor rolls back, and the earlier step stays done",
                    ctx.name(from),
                    ctx.name(&later.to),
                    ctx.name(&later.to)
                ),
                tradeoff: "A saga rolls back only when it learns that a step failed. A step that never answers \
                           keeps the compensatable steps before it in force and the data inconsistent for as long \
                           as it hangs; a timeout turns the hang into a failure the saga can compensate.",
                suggestion: format!(
                    "Give {} a timeout, so the saga compensates instead of waiting for ever.",
                    ctx.call(later)
                ),
                fix: Some(Fix::AddTimeout {
                    edge: later.id.to_string(),
                    timeout_ms: super::resilience::suggested_timeout_ms(ctx, later),
                }),
                other_fixes: Vec::new(),
            });
        }
    }
}

fn saga_pivot_order(ctx: &Context, out: &mut Vec<Finding>) {
    for (from, compensated) in orchestrators(ctx) {
        for step in &compensated {
            let pivots: Vec<&Edge> = ctx
                .design
                .edges
                .iter()
                .filter(|e| {
                    &e.from == from
                        && !e.is_compensation()
                        && e.order < step.order
                        && !compensated.iter().any(|c| c.id == e.id)
                })
                .collect();
            let Some(pivot) = pivots.first() else {
                continue;
            };
            out.push(Finding {
                rule: SAGA_PIVOT_ORDER.id,
                severity: Severity::Warning,
                subjects: vec![
                    Subject::Edge(step.id.to_string()),
                    Subject::Edge(pivot.id.to_string()),
                ],
                message: format!(
                    "{} can be undone but comes after {}, which cannot: when a later step fails, the saga \
                     undoes {} and leaves {} done",
                    ctx.call(step),
                    ctx.call(pivot),
                    ctx.name(&step.to),
                    ctx.name(&pivot.to)
                ),
                tradeoff: "A saga's steps go in three kinds: those that can be compensated, then the pivot (the \
                           step that cannot be undone, the point of no return), then steps that can only be \
                           retried until they succeed. A compensatable step after the pivot rolls back a part of \
                           the transaction while the pivot's effect stays.",
                suggestion: format!(
                    "Move {} before {} (a lower order), or give {} a compensating call too.",
                    ctx.call(step),
                    ctx.call(pivot),
                    ctx.call(pivot)
                ),
                fix: None,
                other_fixes: Vec::new(),
            });
        }
    }
}

fn compensation_without_retry(ctx: &Context, out: &mut Vec<Finding>) {
    for edge in ctx.design.edges.iter().filter(|e| e.is_compensation()) {
        if edge.mode != CallMode::Sync || edge.retry.is_some_and(|r| r.max_retries > 0) {
            continue;
        }
        out.push(Finding {
            rule: COMPENSATION_WITHOUT_RETRY.id,
            severity: Severity::Warning,
            subjects: vec![Subject::Edge(edge.id.to_string())],
            message: format!(
                "{} undoes {} with a single try: if it fails, the saga stays half done",
                ctx.call(edge),
                edge.compensates.as_ref().map_or("", |c| c.as_str())
            ),
            tradeoff: "Nothing compensates a compensation: a refund that fails once leaves money taken for an \
                       order that does not exist. Compensating calls must be retried until they succeed (and be \
                       idempotent so that the retries are safe), or handed to a queue that keeps them.",
            suggestion: format!(
                "Retry {} (and mark it idempotent), or make it async through a queue with a dead-letter queue.",
                ctx.call(edge)
            ),
            fix: Some(Fix::RetryCompensation {
                edge: edge.id.to_string(),
            }),
            other_fixes: Vec::new(),
        });
    }
}

fn poll_too_often(ctx: &Context, out: &mut Vec<Finding>) {
    for (f, flow) in ctx.design.flows.iter().enumerate() {
        let Some(polling) = flow.polling else {
            continue;
        };
        let traffic = &ctx.analysis.flows[f];
        let Some(&entry) = ctx.topology.service_index.get(flow.entry.as_str()) else {
            continue;
        };
        let rate = flow.mean_rate_over(ctx.design.simulation_settings().duration_s);
        if rate <= 0.0 {
            continue;
        }
        let poll_ms = ctx.design.services[entry].service_time.mean_ms();
        let poll_load = traffic.polls_rps * poll_ms;
        // The work's own load: worker time per second over every service the request reaches, polls aside.
        let work_load: f64 = traffic
            .arrivals_rps
            .iter()
            .enumerate()
            .map(|(s, &arrivals)| {
                let own = if s == entry {
                    arrivals - traffic.polls_rps
                } else {
                    arrivals
                };
                own.max(0.0) * ctx.design.services[s].service_time.mean_ms()
            })
            .sum();
        if poll_load <= work_load || poll_load <= 0.0 {
            continue;
        }
        let per_request = traffic.polls_rps / rate;
        out.push(Finding {
            rule: POLL_TOO_OFTEN.id,
            severity: Severity::Warning,
            subjects: vec![Subject::Flow(flow.id.to_string())],
            message: format!(
                "Clients of {} poll every {} for work that takes about {}: about {:.1} polls per request, \
                 which cost {} more worker time than the work itself",
                flow.display_name(),
                format_ms(polling.interval_ms),
                format_ms(traffic.work_after_answer_ms),
                per_request,
                format_percent(poll_load / work_load.max(f64::MIN_POSITIVE) - 1.0)
            ),
            tradeoff: "A short poll interval shows the result sooner (the client waits on average half an \
                       interval past the work), but every poll is a request to the entry: polling much faster \
                       than the work finishes turns the status endpoint into the system's main load.",
            suggestion: format!(
                "Poll about every {} (near the work's time), tell clients when to come back (Retry-After), or \
                 push the result (a callback or a notification) instead.",
                format_ms(traffic.work_after_answer_ms.max(1.0))
            ),
            fix: None,
            other_fixes: Vec::new(),
        });
    }
}

fn poll_too_rare(ctx: &Context, out: &mut Vec<Finding>) {
    for (f, flow) in ctx.design.flows.iter().enumerate() {
        let Some(polling) = flow.polling else {
            continue;
        };
        let work_ms = ctx.analysis.flows[f].work_after_answer_ms;
        if polling.interval_ms <= 2.0 * work_ms.max(1.0) {
            continue;
        }
        out.push(Finding {
            rule: POLL_TOO_RARE.id,
            severity: Severity::Info,
            subjects: vec![Subject::Flow(flow.id.to_string())],
            message: format!(
                "Clients of {} poll every {} for work that takes about {}: most see the result only at the \
                 first poll, on average {} after it was ready",
                flow.display_name(),
                format_ms(polling.interval_ms),
                format_ms(work_ms),
                format_ms((polling.interval_ms - work_ms).max(0.0))
            ),
            tradeoff: "A long poll interval keeps the poll load low, but the client learns of the result only \
                       at its next poll: the interval, not the work, sets how long the user waits.",
            suggestion: format!(
                "Poll about every {}, or send the first poll after the expected work time and then more often.",
                format_ms(work_ms.max(1.0))
            ),
            fix: None,
            other_fixes: Vec::new(),
        });
    }
}

/// The chance a consumer fails a message on its own: its error rate, or a planned `errors` fault's.
fn failure_rate(ctx: &Context, service: usize) -> f64 {
    let s = &ctx.design.services[service];
    ctx.design
        .faults
        .iter()
        .filter(|f| f.service == s.id && f.kind == FaultKind::Errors)
        .filter_map(|f| f.error_rate)
        .fold(s.error_rate, f64::max)
}

fn no_dead_letter(ctx: &Context, out: &mut Vec<Finding>) {
    for (e, edge) in ctx.design.edges.iter().enumerate() {
        if edge.mode != CallMode::Async || edge.dead_letter.is_some() {
            continue;
        }
        let to = ctx.topology.edge_to[e];
        if ctx.design.services[to].kind == crate::model::ServiceKind::Broker {
            continue;
        }
        let rate = failure_rate(ctx, to);
        if rate <= 0.0 {
            continue;
        }
        out.push(Finding {
            rule: NO_DEAD_LETTER.id,
            severity: Severity::Warning,
            subjects: vec![Subject::Edge(edge.id.to_string())],
            message: format!(
                "{} fails {} of its messages from {} and they have no dead-letter queue: each failed message \
                 is dropped, and the work it stood for is lost without a trace",
                ctx.name(&edge.to),
                format_percent(rate),
                ctx.name(&edge.from)
            ),
            tradeoff: "A message that fails is either lost or retried for ever (a poison message blocks or loads \
                       the consumer). A dead-letter queue redelivers a failing message a few times, then sets it \
                       aside where someone can look at it and replay it.",
            suggestion: format!(
                "Give {} a dead-letter queue after 3 deliveries.",
                ctx.call(edge)
            ),
            fix: Some(Fix::AddDeadLetter {
                edge: edge.id.to_string(),
                after_deliveries: 3,
            }),
            other_fixes: Vec::new(),
        });
    }
}

fn redelivery_overload(ctx: &Context, out: &mut Vec<Finding>) {
    for (e, edge) in ctx.design.edges.iter().enumerate() {
        if edge.mode != CallMode::Async || edge.dead_letter.is_none() {
            continue;
        }
        let to = ctx.topology.edge_to[e];
        let factor = deliveries_per_message(ctx.design, edge, to);
        let utilization = ctx.analysis.utilization[to];
        if factor <= 1.0 || utilization < 1.0 || utilization / factor >= 1.0 {
            continue;
        }
        out.push(Finding {
            rule: REDELIVERY_OVERLOAD.id,
            severity: Severity::Error,
            subjects: vec![
                Subject::Service(ctx.design.services[to].id.to_string()),
                Subject::Edge(edge.id.to_string()),
            ],
            message: format!(
                "Redeliveries of failed messages from {} give {} {:.2} deliveries per message and put it at {} \
                 utilization, {} without them",
                ctx.name(&edge.from),
                ctx.name(&edge.to),
                factor,
                format_percent(utilization),
                format_percent(utilization / factor)
            ),
            tradeoff: "Each redelivery is work again: a consumer that fails often and redelivers many times does \
                       the failing work several times over, and the backlog grows while the failures last.",
            suggestion: format!(
                "Dead-letter sooner (fewer deliveries), fix what makes {} fail, or add replicas.",
                ctx.name(&edge.to)
            ),
            fix: None,
            other_fixes: Vec::new(),
        });
    }
}
