//! Rules about capacity and single points of failure.

use super::{Context, Finding, Fix, Rule, Severity, Subject, format_ms, format_percent};
use crate::model::{CallMode, ServiceKind};

pub(super) const OVER_CAPACITY: Rule = Rule {
    id: "over-capacity",
    title: "Service at or over capacity",
    check: over_capacity,
};

pub(super) const BROKER_SINGLE_REPLICA: Rule = Rule {
    id: "broker-single-replica",
    title: "Broker with a single replica",
    check: broker_single_replica,
};

pub(super) const ORCHESTRATOR_SINGLE_REPLICA: Rule = Rule {
    id: "orchestrator-single-replica",
    title: "Orchestrator with a single replica",
    check: orchestrator_single_replica,
};

pub(super) const UNBOUNDED_QUEUE: Rule = Rule {
    id: "unbounded-queue",
    title: "Unbounded queue on an async consumer",
    check: unbounded_queue,
};

pub(super) const ASYNC_BACKLOG: Rule = Rule {
    id: "async-backlog",
    title: "Async work done late: a consumer that falls behind",
    check: async_backlog,
};

/// Replicas needed to bring utilization down to 70%.
fn replicas_for_headroom(ctx: &Context, service: usize) -> u32 {
    let s = &ctx.design.services[service];
    let busy_workers = ctx.analysis.utilization[service] * s.total_workers() as f64;
    let needed = (busy_workers / (0.7 * f64::from(s.concurrency))).ceil();
    (needed as u32).clamp(s.replicas + 1, crate::model::validate::MAX_REPLICAS)
}

fn over_capacity(ctx: &Context, out: &mut Vec<Finding>) {
    for (i, s) in ctx.design.services.iter().enumerate() {
        let utilization = ctx.analysis.utilization[i];
        let severity = if utilization >= ctx.thresholds.utilization_error {
            Severity::Error
        } else if utilization >= ctx.thresholds.utilization_warning {
            Severity::Warning
        } else {
            continue;
        };
        // Load multiplied without bound by a call cycle: no replica count carries it, so the finding points at the
        // cycle (the `sync-cycle` finding names it) instead of suggesting thousands of replicas.
        let unbounded_flows: Vec<String> = ctx
            .analysis
            .flows
            .iter()
            .zip(&ctx.design.flows)
            .filter(|(traffic, _)| {
                traffic.unbounded && traffic.arrivals_rps.get(i).is_some_and(|&rate| rate > 0.0)
            })
            .map(|(_, flow)| format!("flow \"{}\"", flow.display_name()))
            .collect();
        if !unbounded_flows.is_empty() {
            out.push(Finding {
                rule: OVER_CAPACITY.id,
                severity,
                subjects: vec![Subject::Service(s.id.to_string())],
                message: format!(
                    "{}'s load has no bound: a cycle of calls multiplies the requests of {} at every turn (a \
                     synchronous one is named by the sync-cycle finding), so no number of replicas carries it",
                    s.display_name(),
                    super::list_names(&unbounded_flows)
                ),
                tradeoff: "A request that comes back to a service it passed through makes more requests at every \
                           turn; the load grows until something refuses it, whatever the capacity.",
                suggestion: "Break the cycle (make one of its calls async, or end the recursion) before sizing this \
                             service."
                    .to_owned(),
                fix: None,
                other_fixes: Vec::new(),
            });
            continue;
        }
        let replicas = replicas_for_headroom(ctx, i);
        let holding = ctx.analysis.holding_ms[i];
        let local = s.service_time.mean_ms();
        let blocked_note = if holding > local * 1.05 {
            format!(
                " (each request holds a worker {} of which {} is waiting on sync calls)",
                format_ms(holding),
                format_ms(holding - local)
            )
        } else {
            format!(" (each request holds a worker {})", format_ms(holding))
        };
        out.push(Finding {
            rule: OVER_CAPACITY.id,
            severity,
            subjects: vec![Subject::Service(s.id.to_string())],
            message: format!(
                "{} is at {} utilization: {:.0} requests/s on {} workers ({} × {}){}",
                s.display_name(),
                format_percent(utilization),
                ctx.analysis.load_rps[i],
                s.total_workers(),
                s.replicas,
                s.concurrency,
                blocked_note
            ),
            tradeoff: "Queueing delay grows without bound as utilization approaches 100%, and past it the queue \
                       only grows: requests are rejected or time out. Synchronous calls make it worse, since a \
                       worker waiting on a callee is busy doing nothing.",
            suggestion: format!(
                "Run {replicas} replicas of {} (about 70% utilization), speed up its work, or move slow downstream calls off the request path (async).",
                s.display_name()
            ),
            fix: Some(Fix::SetReplicas {
                service: s.id.to_string(),
                replicas,
            }),
            other_fixes: Vec::new(),
        });
    }
}

fn broker_single_replica(ctx: &Context, out: &mut Vec<Finding>) {
    for (i, s) in ctx.design.services.iter().enumerate() {
        if s.kind != ServiceKind::Broker || s.replicas > 1 {
            continue;
        }
        let producers = ctx.topology.incoming[i].len();
        let consumers = ctx.topology.outgoing[i].len();
        out.push(Finding {
            rule: BROKER_SINGLE_REPLICA.id,
            severity: Severity::Warning,
            subjects: vec![Subject::Service(s.id.to_string())],
            message: format!(
                "{} runs as a single replica, and {} producer call(s) and {} consumer call(s) go through it",
                s.display_name(), producers, consumers
            ),
            tradeoff: "Asynchronous messaging decouples services from each other but couples all of them to the \
                       broker: it becomes the central point of failure. One broker node down stops every flow \
                       through it, and its queue may be lost with it.",
            suggestion: format!("Run {} as a cluster of 3 replicas with replicated queues or partitions.", s.display_name()),
            fix: Some(Fix::SetReplicas {
                service: s.id.to_string(),
                replicas: 3,
            }),
            other_fixes: Vec::new(),
        });
    }
}

fn orchestrator_single_replica(ctx: &Context, out: &mut Vec<Finding>) {
    for (i, s) in ctx.design.services.iter().enumerate() {
        if s.replicas > 1 || matches!(s.kind, ServiceKind::Client | ServiceKind::External) {
            continue;
        }
        let mut callees: Vec<&str> = ctx.topology.outgoing[i]
            .iter()
            .map(|&e| ctx.topology.edge(e))
            .filter(|e| e.mode == CallMode::Sync)
            .map(|e| ctx.name(&e.to))
            .collect();
        callees.sort_unstable();
        callees.dedup();
        if callees.len() < ctx.thresholds.orchestrator_sync_calls as usize {
            continue;
        }
        out.push(Finding {
            rule: ORCHESTRATOR_SINGLE_REPLICA.id,
            severity: Severity::Warning,
            subjects: vec![Subject::Service(s.id.to_string())],
            message: format!(
                "{} orchestrates {} services synchronously ({}) and runs as a single replica",
                s.display_name(),
                callees.len(),
                super::list_names(&callees)
            ),
            tradeoff: "An orchestrator keeps the flow in one place, which is easy to follow, but every request \
                       depends on it and it waits on all its callees. One replica means one restart or one slow \
                       callee takes the whole flow down.",
            suggestion: format!("Run at least 2 replicas of {} and guard its calls with timeouts and breakers.", s.display_name()),
            fix: Some(Fix::SetReplicas {
                service: s.id.to_string(),
                replicas: 2,
            }),
            other_fixes: Vec::new(),
        });
    }
}

fn unbounded_queue(ctx: &Context, out: &mut Vec<Finding>) {
    for (i, s) in ctx.design.services.iter().enumerate() {
        if s.queue_capacity.is_some() || s.kind == ServiceKind::Broker {
            continue;
        }
        let async_producers: Vec<&str> = ctx.topology.incoming[i]
            .iter()
            .map(|&e| ctx.topology.edge(e))
            .filter(|e| e.mode == CallMode::Async)
            .map(|e| ctx.name(&e.from))
            .collect();
        if async_producers.is_empty() {
            continue;
        }
        out.push(Finding {
            rule: UNBOUNDED_QUEUE.id,
            severity: Severity::Warning,
            subjects: vec![Subject::Service(s.id.to_string())],
            message: format!(
                "{} consumes messages from {} into an unbounded queue",
                s.display_name(),
                super::list_names(&async_producers)
            ),
            tradeoff: "A queue absorbs bursts, but an unbounded one also absorbs a consumer that can never keep up: \
                       the backlog and the age of every message grow until memory runs out, and nobody is told to \
                       slow down.",
            suggestion: format!(
                "Give {} a queue capacity (and a dead-letter or back-pressure policy) sized for the bursts you expect.",
                s.display_name()
            ),
            fix: None,
            other_fixes: Vec::new(),
        });
    }
}

/// The price of async the answer does not show: a consumer that cannot keep up, or that finishes the work of an
/// async flow later than the flow's objective.
fn async_backlog(ctx: &Context, out: &mut Vec<Finding>) {
    for (i, s) in ctx.design.services.iter().enumerate() {
        if s.kind == ServiceKind::Broker {
            continue;
        }
        let producers: Vec<&str> = ctx.topology.incoming[i]
            .iter()
            .filter(|&&e| {
                ctx.topology.edge(e).mode == CallMode::Async
                    && ctx.analysis.flows.iter().any(|f| f.calls_rps[e] > 0.0)
            })
            .map(|&e| ctx.name(&ctx.topology.edge(e).from))
            .collect();
        if producers.is_empty() {
            continue;
        }
        let utilization = ctx.analysis.utilization[i];
        let holding_ms = ctx.analysis.holding_ms[i];
        if utilization >= 1.0 && holding_ms > 0.0 {
            // Messages arrive faster than the workers take them: the backlog grows by the difference every second,
            // so after a minute at this load new work waits behind a minute's surplus.
            let load_rps = ctx.analysis.load_rps[i];
            let capacity_rps = s.total_workers() as f64 * 1000.0 / holding_ms;
            let late_after_minute_s = 60.0 * (load_rps - capacity_rps) / capacity_rps;
            let replicas = replicas_for_headroom(ctx, i);
            out.push(Finding {
                rule: ASYNC_BACKLOG.id,
                severity: Severity::Error,
                subjects: vec![Subject::Service(s.id.to_string())],
                message: format!(
                    "{} takes messages from {} at {:.0}/s but can finish only {:.0}/s: the callers answer fast, but \
                     the backlog grows by {:.0} messages every second, and after a minute of this load the work is \
                     done {} later",
                    s.display_name(),
                    super::list_names(&producers),
                    load_rps,
                    capacity_rps,
                    load_rps - capacity_rps,
                    super::format_ms(late_after_minute_s * 1000.0),
                ),
                tradeoff: "Making a call async takes the slow work off the answer's path, so the caller's latency \
                           looks fine; the work itself still has to be done. A consumer slower than its producers \
                           builds a backlog without bound: orders are paid, emails sent and views updated later and \
                           later, and nothing on the request path shows it.",
                suggestion: format!(
                    "Run {replicas} replicas of {} (about 70% utilization), or make its work cheaper; watch its \
                     settle time and message lag in the simulation.",
                    s.display_name()
                ),
                fix: Some(Fix::SetReplicas {
                    service: s.id.to_string(),
                    replicas,
                }),
                other_fixes: Vec::new(),
            });
            continue;
        }
        // Below capacity: a flow whose caller does not wait still needs its work done within its objective.
        let settle_ms = ctx.analysis.wait_ms[i] + holding_ms;
        for (f, flow) in ctx.design.flows.iter().enumerate() {
            let Some(slo) = flow.slo_p99_ms else { continue };
            let reached = ctx.topology.incoming[i].iter().any(|&e| {
                ctx.topology.edge(e).mode == CallMode::Async
                    && ctx.analysis.flows[f].calls_rps[e] > 0.0
            });
            if flow.caller_waits || !reached || settle_ms <= slo {
                continue;
            }
            out.push(Finding {
                rule: ASYNC_BACKLOG.id,
                severity: Severity::Warning,
                subjects: vec![Subject::Service(s.id.to_string()), Subject::Flow(flow.id.to_string())],
                message: format!(
                    "flow \"{}\" answers fast, but its work at {} is done about {} later on average (queue wait {} plus \
                     {} of work), beyond its objective of {}",
                    flow.display_name(),
                    s.display_name(),
                    super::format_ms(settle_ms),
                    super::format_ms(ctx.analysis.wait_ms[i]),
                    super::format_ms(holding_ms),
                    super::format_ms(slo),
                ),
                tradeoff: "The caller of an async flow does not wait, so its answer meets any latency objective; \
                           what the user waits for is the work behind the queue. A busy consumer delays every \
                           message by its queueing time.",
                suggestion: format!(
                    "Add replicas or workers to {} until its queue wait fits the objective, or split the work.",
                    s.display_name()
                ),
                fix: None,
                other_fixes: Vec::new(),
            });
        }
    }
}
