//! Rules about the shape of the call graph: chains, cycles, fan-out, dead ends and unreached services.

use std::collections::HashMap;

use super::{Context, Finding, Fix, Rule, Severity, Subject, format_ms, format_percent};
use crate::model::{CallMode, Design, Edge, Flow, ServiceId, ServiceKind};

pub(super) const DEEP_SYNC_CHAIN: Rule = Rule {
    id: "deep-sync-chain",
    title: "Deep synchronous chain",
    check: deep_sync_chain,
};

pub(super) const SEQUENTIAL_FAN_OUT: Rule = Rule {
    id: "sequential-fan-out",
    title: "Sequential calls that could run in parallel",
    check: sequential_fan_out,
};

pub(super) const SYNC_CYCLE: Rule = Rule {
    id: "sync-cycle",
    title: "Cycle of synchronous calls",
    check: sync_cycle,
};

pub(super) const UNCONSUMED_TOPIC: Rule = Rule {
    id: "unconsumed-topic",
    title: "Async messages nobody consumes",
    check: unconsumed_topic,
};

pub(super) const BROKER_AS_SERVICE: Rule = Rule {
    id: "broker-as-service",
    title: "Broker asked for a service's work",
    check: broker_as_service,
};

pub(super) const UNREACHABLE_SERVICE: Rule = Rule {
    id: "unreachable-service",
    title: "Service no flow reaches",
    check: unreachable_service,
};

pub(super) const UNKNOWN_LINT_RULE: Rule = Rule {
    id: "unknown-lint-rule",
    title: "Unknown rule in lint.disabled",
    check: unknown_lint_rule,
};

/// The longest chain of sync calls of `flow` from `service`: its edges, first call first. Cycles are cut.
pub(super) fn longest_sync_chain(
    ctx: &Context,
    flow: usize,
    service: usize,
    on_path: &mut Vec<usize>,
    memo: &mut HashMap<usize, Vec<usize>>,
) -> Vec<usize> {
    if let Some(known) = memo.get(&service) {
        return known.clone();
    }
    if on_path.contains(&service) {
        return Vec::new();
    }
    on_path.push(service);
    let flow_id = &ctx.design.flows[flow].id;
    let mut best: Vec<usize> = Vec::new();
    for &e in &ctx.topology.outgoing[service] {
        let edge = ctx.topology.edge(e);
        if edge.mode != CallMode::Sync || !edge.on_forward_path(flow_id) {
            continue;
        }
        let below = longest_sync_chain(ctx, flow, ctx.topology.edge_to[e], on_path, memo);
        if below.len() + 1 > best.len() {
            best = std::iter::once(e).chain(below).collect();
        }
    }
    on_path.pop();
    memo.insert(service, best.clone());
    best
}

/// `a -> b -> c` (by names) for a chain of edges starting at the service `entry`.
pub(super) fn chain_text(ctx: &Context, entry: &str, chain: &[usize]) -> String {
    std::iter::once(ctx.name(entry))
        .chain(chain.iter().map(|&e| ctx.name(&ctx.topology.edge(e).to)))
        .collect::<Vec<_>>()
        .join(" -> ")
}

fn deep_sync_chain(ctx: &Context, out: &mut Vec<Finding>) {
    let limit = ctx.thresholds.max_sync_depth as usize;
    for (f, flow) in ctx.design.flows.iter().enumerate() {
        let Some(&entry) = ctx.topology.service_index.get(flow.entry.as_str()) else {
            continue;
        };
        let chain = longest_sync_chain(ctx, f, entry, &mut Vec::new(), &mut HashMap::new());
        if chain.len() <= limit {
            continue;
        }
        let mut subjects = vec![Subject::Flow(flow.id.to_string())];
        subjects.extend(
            chain
                .iter()
                .map(|&e| Subject::Edge(ctx.topology.edge(e).id.to_string())),
        );
        out.push(Finding {
            rule: DEEP_SYNC_CHAIN.id,
            severity: Severity::Warning,
            subjects,
            message: format!(
                "flow \"{}\" waits on {} synchronous hops in a row ({}): estimated {} mean latency and {} availability, and a slow or failing service at the end cascades to every caller",
                flow.display_name(),
                chain.len(),
                chain_text(ctx, flow.entry.as_str(), &chain),
                format_ms(ctx.analysis.flow_latency_ms[f]),
                format_percent(ctx.analysis.flow_availability[f])
            ),
            tradeoff: "Synchronous calls are simple and immediately consistent, but every hop adds its latency and \
                       its failure rate to the caller's, and holds a worker in every service above it while it \
                       waits. The deeper the chain, the more one slow service at the bottom takes down the top.",
            suggestion: format!(
                "Keep synchronous chains to {limit} hops or fewer: cache or replicate data the caller needs, merge chatty services, or move work that the caller does not need to wait for behind a queue."
            ),
            fix: None,
            other_fixes: Vec::new(),
        });
    }
}

fn sequential_fan_out(ctx: &Context, out: &mut Vec<Finding>) {
    let threshold = ctx.thresholds.sequential_fan_out as usize;
    for (i, s) in ctx.design.services.iter().enumerate() {
        let mut orders: Vec<i32> = ctx.topology.outgoing[i]
            .iter()
            .map(|&e| ctx.topology.edge(e))
            // Compensating calls are made only when a saga rolls back, not one after another on the way.
            .filter(|e| e.mode == CallMode::Sync && !e.is_compensation())
            .map(|e| e.order)
            .collect();
        orders.sort_unstable();
        orders.dedup();
        if orders.len() < threshold {
            continue;
        }
        let calls: Vec<usize> = ctx.topology.outgoing[i]
            .iter()
            .copied()
            .filter(|&e| {
                let edge = ctx.topology.edge(e);
                edge.mode == CallMode::Sync && !edge.is_compensation()
            })
            .collect();
        let worst_response = |e: usize| {
            ctx.analysis
                .response_ms
                .iter()
                .map(|r| r[ctx.topology.edge_to[e]])
                .fold(0.0, f64::max)
        };
        let sequential: f64 = orders
            .iter()
            .map(|&o| {
                calls
                    .iter()
                    .filter(|&&e| ctx.topology.edge(e).order == o)
                    .map(|&e| worst_response(e))
                    .fold(0.0, f64::max)
            })
            .sum();
        let parallel = calls.iter().map(|&e| worst_response(e)).fold(0.0, f64::max);
        let mut subjects = vec![Subject::Service(s.id.to_string())];
        subjects.extend(
            calls
                .iter()
                .map(|&e| Subject::Edge(ctx.topology.edge(e).id.to_string())),
        );
        out.push(Finding {
            rule: SEQUENTIAL_FAN_OUT.id,
            severity: Severity::Warning,
            subjects,
            message: format!(
                "{} makes {} synchronous calls one after another: about {} in sequence, about {} if independent calls ran in parallel",
                s.display_name(),
                orders.len(),
                format_ms(sequential),
                format_ms(parallel)
            ),
            tradeoff: "Calls made one after another add up their latencies and hold the caller's worker for the \
                       sum. Calls that do not need each other's results can run in parallel, so the caller waits \
                       only for the slowest.",
            suggestion: format!(
                "Give the calls of {} that do not depend on each other the same order so they run in parallel.",
                s.display_name()
            ),
            fix: Some(Fix::MakeCallsParallel {
                service: s.id.to_string(),
            }),
            other_fixes: Vec::new(),
        });
    }
}

/// Strongly connected components of the sync-call graph with more than one service, or with a self-call.
fn sync_cycles(ctx: &Context) -> Vec<Vec<usize>> {
    let count = ctx.design.services.len();
    let successors: Vec<Vec<usize>> = (0..count)
        .map(|s| {
            ctx.topology.outgoing[s]
                .iter()
                .filter(|&&e| ctx.topology.edge(e).mode == CallMode::Sync)
                .map(|&e| ctx.topology.edge_to[e])
                .collect()
        })
        .collect();
    // Iterative Tarjan.
    let mut index = vec![usize::MAX; count];
    let mut low = vec![0; count];
    let mut on_stack = vec![false; count];
    let mut stack = Vec::new();
    let mut next_index = 0;
    let mut components = Vec::new();
    for root in 0..count {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work = vec![(root, 0usize)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (node, ref mut child)) = work.last_mut() {
            if let Some(&next) = successors[node].get(*child) {
                *child += 1;
                if index[next] == usize::MAX {
                    index[next] = next_index;
                    low[next] = next_index;
                    next_index += 1;
                    stack.push(next);
                    on_stack[next] = true;
                    work.push((next, 0));
                } else if on_stack[next] {
                    low[node] = low[node].min(index[next]);
                }
            } else {
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[node]);
                }
                if low[node] == index[node] {
                    let mut component = Vec::new();
                    while let Some(member) = stack.pop() {
                        on_stack[member] = false;
                        component.push(member);
                        if member == node {
                            break;
                        }
                    }
                    let self_call = successors[node].contains(&node);
                    if component.len() > 1 || self_call {
                        component.sort_unstable();
                        components.push(component);
                    }
                }
            }
        }
    }
    components
}

fn sync_cycle(ctx: &Context, out: &mut Vec<Finding>) {
    for component in sync_cycles(ctx) {
        let edges: Vec<usize> = ctx
            .design
            .edges
            .iter()
            .enumerate()
            .filter(|(e, edge)| {
                edge.mode == CallMode::Sync
                    && component.contains(&ctx.topology.edge_from[*e])
                    && component.contains(&ctx.topology.edge_to[*e])
            })
            .map(|(e, _)| e)
            .collect();
        let certain = edges
            .iter()
            .all(|&e| ctx.topology.edge(e).probability >= 1.0);
        let names: Vec<&str> = component
            .iter()
            .map(|&s| ctx.design.services[s].display_name())
            .collect();
        let mut subjects: Vec<Subject> = component
            .iter()
            .map(|&s| Subject::Service(ctx.design.services[s].id.to_string()))
            .collect();
        subjects.extend(
            edges
                .iter()
                .map(|&e| Subject::Edge(ctx.topology.edge(e).id.to_string())),
        );
        out.push(Finding {
            rule: SYNC_CYCLE.id,
            severity: if certain { Severity::Error } else { Severity::Warning },
            subjects,
            message: if certain {
                format!(
                    "{} call each other synchronously in a cycle that every request follows: requests never finish",
                    super::list_names(&names)
                )
            } else {
                format!("{} call each other synchronously in a cycle", super::list_names(&names))
            },
            tradeoff: "In a synchronous cycle each service holds a worker while waiting on the next, which waits on \
                       the first: under load all workers end up waiting on each other (a distributed deadlock), and \
                       no service in the cycle can be deployed or scaled on its own.",
            suggestion: "Break the cycle: let one side publish an event instead of calling back, or move the shared \
                         logic into one service."
                .to_owned(),
            fix: None,
            other_fixes: Vec::new(),
        });
    }
}

fn unconsumed_topic(ctx: &Context, out: &mut Vec<Finding>) {
    for (e, edge) in ctx.design.edges.iter().enumerate() {
        if edge.mode != CallMode::Async {
            continue;
        }
        let broker = ctx.topology.edge_to[e];
        if ctx.design.services[broker].kind != ServiceKind::Broker {
            continue;
        }
        let topic = edge.topic.as_deref();
        let consumed = ctx.topology.outgoing[broker].iter().any(|&o| {
            ctx.topology.edge(o).mode == CallMode::Async && ctx.topology.forwards(o, topic)
        });
        if consumed {
            continue;
        }
        let topic_text = topic.map_or_else(
            || "without a topic".to_owned(),
            |t| format!("on topic \"{t}\""),
        );
        let broker_name = ctx.name(&edge.to);
        out.push(Finding {
            rule: UNCONSUMED_TOPIC.id,
            severity: Severity::Warning,
            subjects: vec![Subject::Edge(edge.id.to_string()), Subject::Service(edge.to.to_string())],
            message: format!(
                "{} publishes to {broker_name} {topic_text}, but no consumer of {broker_name} subscribes to it: the messages go nowhere",
                ctx.name(&edge.from)
            ),
            tradeoff: "With asynchronous messaging the producer never learns whether anyone acts on its messages. \
                       A topic with no consumer silently drops work, or fills the broker until it stops accepting \
                       messages for everyone.",
            suggestion: format!(
                "Add an async call from {broker_name} to the service that should handle these messages, with the same topic, or remove the publish."
            ),
            fix: None,
            other_fixes: Vec::new(),
        });
    }
}

/// Work a broker is drawn doing that only a service can do. A broker holds and forwards messages; a real one
/// (RabbitMQ, Kafka) neither answers a request nor calls a service.
#[derive(Debug, Clone, Copy)]
pub enum BrokerWork<'a> {
    /// A flow's requests arrive at the broker.
    FlowEntersAt(&'a Flow),
    /// A sync call to the broker.
    CalledSync(&'a Edge),
    /// A sync call the broker makes.
    CallsSync(&'a Edge),
}

/// Every piece of work the design asks of a broker beyond forwarding messages (see [`BrokerWork`]): flows first,
/// then calls, in the design's order. One home for the `broker-as-service` rule and the emulator, which refuses
/// such a design.
pub fn work_asked_of_brokers(design: &Design) -> Vec<BrokerWork<'_>> {
    let is_broker = |id: &ServiceId| {
        design
            .service(id.as_str())
            .is_some_and(|s| s.kind == ServiceKind::Broker)
    };
    let flows = design
        .flows
        .iter()
        .filter(|f| is_broker(&f.entry))
        .map(BrokerWork::FlowEntersAt);
    let calls = design
        .edges
        .iter()
        .filter(|e| e.mode == CallMode::Sync)
        .filter_map(|e| {
            if is_broker(&e.to) {
                Some(BrokerWork::CalledSync(e))
            } else if is_broker(&e.from) {
                Some(BrokerWork::CallsSync(e))
            } else {
                None
            }
        });
    flows.chain(calls).collect()
}

fn broker_as_service(ctx: &Context, out: &mut Vec<Finding>) {
    const TRADEOFF: &str = "A broker decouples producers from consumers: it holds messages and forwards them. \
                            Drawn taking requests or making calls, it hides where the work is done, and a real \
                            broker (RabbitMQ, Kafka) does neither: no answer comes back from a publish, and nothing \
                            in the broker calls a service. The emulator refuses such a design.";
    for work in work_asked_of_brokers(ctx.design) {
        let (subjects, message, suggestion, fix) = match work {
            BrokerWork::FlowEntersAt(flow) => {
                let broker = ctx.name(&flow.entry);
                (
                    vec![
                        Subject::Flow(flow.id.to_string()),
                        Subject::Service(flow.entry.to_string()),
                    ],
                    format!(
                        "flow \"{}\" enters at the broker {broker}: a broker takes messages from producers, not \
                         requests from clients",
                        flow.id
                    ),
                    format!(
                        "Let the flow enter at the service or gateway that publishes to {broker}."
                    ),
                    None,
                )
            }
            BrokerWork::CalledSync(edge) | BrokerWork::CallsSync(edge) => {
                let (from, to) = (ctx.name(&edge.from), ctx.name(&edge.to));
                let message = if matches!(work, BrokerWork::CalledSync(_)) {
                    format!(
                        "{from} calls the broker {to} synchronously: a broker takes messages and has no answer \
                         to wait for"
                    )
                } else {
                    format!(
                        "the broker {from} calls {to} synchronously: a broker forwards messages and makes no calls \
                         of its own"
                    )
                };
                (
                    vec![Subject::Edge(edge.id.to_string())],
                    message,
                    format!("Make {} async: a message handed over.", ctx.call(edge)),
                    Some(Fix::SwitchToAsync {
                        edge: edge.id.to_string(),
                    }),
                )
            }
        };
        out.push(Finding {
            rule: BROKER_AS_SERVICE.id,
            severity: Severity::Warning,
            subjects,
            message,
            tradeoff: TRADEOFF,
            suggestion,
            fix,
            other_fixes: Vec::new(),
        });
    }
}

/// Services that some flow's requests or messages can reach.
fn reached_services(ctx: &Context) -> Vec<bool> {
    let mut reached = vec![false; ctx.design.services.len()];
    for flow in &ctx.design.flows {
        let Some(&entry) = ctx.topology.service_index.get(flow.entry.as_str()) else {
            continue;
        };
        let mut stack = vec![entry];
        let mut seen = vec![false; reached.len()];
        seen[entry] = true;
        while let Some(s) = stack.pop() {
            reached[s] = true;
            for &e in &ctx.topology.outgoing[s] {
                let to = ctx.topology.edge_to[e];
                if ctx.topology.edge(e).on_forward_path(&flow.id) && !seen[to] {
                    seen[to] = true;
                    stack.push(to);
                }
            }
        }
    }
    reached
}

fn unreachable_service(ctx: &Context, out: &mut Vec<Finding>) {
    let reached = reached_services(ctx);
    for (i, s) in ctx.design.services.iter().enumerate() {
        if reached[i] {
            continue;
        }
        out.push(Finding {
            rule: UNREACHABLE_SERVICE.id,
            severity: Severity::Info,
            subjects: vec![Subject::Service(s.id.to_string())],
            message: if ctx.design.flows.is_empty() {
                format!("no flow reaches {}: the design has no flows yet", s.display_name())
            } else {
                format!(
                    "no flow reaches {}: no request or message of any flow arrives there",
                    s.display_name()
                )
            },
            tradeoff: "Warnings, the sequence diagrams and the simulation are all driven by flows. A service no \
                       flow reaches is never analysed or loaded, so its trade-offs stay invisible.",
            suggestion: format!(
                "Add a flow that enters at {} or at a service that calls it, or connect it to an existing flow (check which flows each of its calls belongs to).",
                s.display_name()
            ),
            fix: None,
            other_fixes: Vec::new(),
        });
    }
}

fn unknown_lint_rule(ctx: &Context, out: &mut Vec<Finding>) {
    for (i, id) in ctx.design.lint.disabled.iter().enumerate() {
        if super::rule(id).is_some() {
            continue;
        }
        out.push(Finding {
            rule: UNKNOWN_LINT_RULE.id,
            severity: Severity::Warning,
            subjects: Vec::new(),
            message: format!("lint.disabled[{i}] names \"{id}\", which is not a rule: it disables nothing"),
            tradeoff: "A misspelt rule id in lint.disabled silently does nothing, so the warning it was meant to \
                       silence keeps appearing, or a real one is believed to be off.",
            suggestion: "Use one of the rule ids listed in docs/rules.md.".to_owned(),
            fix: None,
            other_fixes: Vec::new(),
        });
    }
}
