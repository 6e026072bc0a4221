//! Rules about the communication style of each flow: who waits for what, reads and writes, consistency and
//! latency objectives.

use std::collections::HashMap;

use super::structure::{chain_text, longest_sync_chain};
use super::{Context, Finding, Fix, Rule, Severity, Subject, format_ms};
use crate::model::{CallMode, FlowKind, ServiceKind, Workload};

pub(super) const CALLER_WAITS_ON_ASYNC: Rule = Rule {
    id: "caller-waits-on-async",
    title: "Caller waits for work that happens asynchronously",
    check: caller_waits_on_async,
};

pub(super) const WRITE_HEAVY_SYNC_CHAIN: Rule = Rule {
    id: "write-heavy-sync-chain",
    title: "Writes carried by a long synchronous chain",
    check: write_heavy_sync_chain,
};

pub(super) const READ_THROUGH_ASYNC: Rule = Rule {
    id: "read-through-async",
    title: "Reads that traverse asynchronous hops",
    check: read_through_async,
};

pub(super) const MIXED_STYLES: Rule = Rule {
    id: "mixed-styles",
    title: "Flow mixing sync and async calls",
    check: mixed_styles,
};

pub(super) const STALE_READ: Rule = Rule {
    id: "stale-read",
    title: "Reads of data written asynchronously",
    check: stale_read,
};

pub(super) const SLO_MISS: Rule = Rule {
    id: "slo-miss",
    title: "Estimated latency misses the SLO",
    check: slo_miss,
};

/// The edges a flow's requests and messages travel, in the order first reached (brokers forward by topic).
fn flow_edges(ctx: &Context, flow: usize) -> Vec<usize> {
    let flow_def = &ctx.design.flows[flow];
    let Some(&entry) = ctx.topology.service_index.get(flow_def.entry.as_str()) else {
        return Vec::new();
    };
    let mut edges = Vec::new();
    let mut seen_edges = vec![false; ctx.design.edges.len()];
    let mut seen_nodes: HashMap<(usize, Option<&str>), ()> = HashMap::new();
    let mut stack: Vec<(usize, Option<&str>)> = vec![(entry, None)];
    seen_nodes.insert((entry, None), ());
    while let Some((service, topic)) = stack.pop() {
        for &e in &ctx.topology.outgoing[service] {
            let edge = ctx.topology.edge(e);
            if !edge.on_forward_path(&flow_def.id) || !ctx.topology.forwards(e, topic) {
                continue;
            }
            if !seen_edges[e] {
                seen_edges[e] = true;
                edges.push(e);
            }
            let to = ctx.topology.edge_to[e];
            let next_topic = if edge.mode == CallMode::Async
                && ctx.design.services[to].kind == ServiceKind::Broker
            {
                edge.topic.as_deref()
            } else {
                None
            };
            if seen_nodes.insert((to, next_topic), ()).is_none() {
                stack.push((to, next_topic));
            }
        }
    }
    edges
}

fn async_edges(ctx: &Context, edges: &[usize]) -> Vec<usize> {
    edges
        .iter()
        .copied()
        .filter(|&e| ctx.topology.edge(e).mode == CallMode::Async)
        .collect()
}

fn edge_list(ctx: &Context, edges: &[usize]) -> String {
    let names: Vec<String> = edges
        .iter()
        .map(|&e| ctx.call(ctx.topology.edge(e)))
        .collect();
    super::list_names(&names)
}

fn caller_waits_on_async(ctx: &Context, out: &mut Vec<Finding>) {
    for (f, flow) in ctx.design.flows.iter().enumerate() {
        if !flow.caller_waits {
            continue;
        }
        let hops = async_edges(ctx, &flow_edges(ctx, f));
        if hops.is_empty() {
            continue;
        }
        let mut subjects = vec![Subject::Flow(flow.id.to_string())];
        subjects.extend(
            hops.iter()
                .map(|&e| Subject::Edge(ctx.topology.edge(e).id.to_string())),
        );
        out.push(Finding {
            rule: CALLER_WAITS_ON_ASYNC.id,
            severity: Severity::Warning,
            subjects,
            message: format!(
                "the caller of flow \"{}\" waits for an answer, but part of the work happens behind async hops ({}): the answer cannot include its result",
                flow.display_name(),
                edge_list(ctx, &hops)
            ),
            tradeoff: "A queue lets the producer move on at once, which is exactly why the caller cannot get the \
                       result of the queued work in its response. A caller that needs it now needs mediation: a \
                       synchronous wrapper that waits for a reply correlated by id, a query side (CQRS) it polls, or \
                       a synchronous path kept alongside the async one (dual support).",
            suggestion: format!(
                "If the caller can be told \"accepted\" and check later, mark flow \"{}\" as one whose caller does not wait; otherwise add a sync wrapper with correlation ids and a reply queue, or a status query the caller polls.",
                flow.display_name()
            ),
            fix: None,
            other_fixes: Vec::new(),
        });
    }
}

fn write_heavy_sync_chain(ctx: &Context, out: &mut Vec<Finding>) {
    let limit = ctx.thresholds.write_sync_depth as usize;
    for (f, flow) in ctx.design.flows.iter().enumerate() {
        if flow.kind != FlowKind::Write {
            continue;
        }
        let Some(&entry) = ctx.topology.service_index.get(flow.entry.as_str()) else {
            continue;
        };
        let chain = longest_sync_chain(ctx, f, entry, &mut Vec::new(), &mut HashMap::new());
        if chain.len() < limit {
            continue;
        }
        // Only chains that write somewhere beyond the first hop: the first call is the request itself.
        let writes_deep = chain.iter().skip(1).any(|&e| {
            let callee = &ctx.design.services[ctx.topology.edge_to[e]];
            callee.kind == ServiceKind::Database || callee.workload == Workload::WriteHeavy
        });
        if !writes_deep {
            continue;
        }
        let mut subjects = vec![Subject::Flow(flow.id.to_string())];
        subjects.extend(
            chain
                .iter()
                .map(|&e| Subject::Edge(ctx.topology.edge(e).id.to_string())),
        );
        out.push(Finding {
            rule: WRITE_HEAVY_SYNC_CHAIN.id,
            severity: Severity::Warning,
            subjects,
            message: format!(
                "write flow \"{}\" ({} requests/s) is carried by {} synchronous hops ({}): every write waits on the whole chain",
                flow.display_name(),
                flow.rate_rps,
                chain.len(),
                chain_text(ctx, flow.entry.as_str(), &chain)
            ),
            tradeoff: "Writes are where asynchronous messaging shines: a queue absorbs bursts, the writer is \
                       answered as soon as the command is accepted, and consumers scale on their own. Carried \
                       synchronously, every write holds a worker at every hop and fails if any hop fails.",
            suggestion: format!(
                "Accept the write at the first service, answer at once, and carry it on through a queue or log: \
                 for example make {} async (the caller then sees eventual consistency).",
                ctx.call(ctx.topology.edge(chain[1]))
            ),
            // The first hop is the request itself; the hop after it is where the write can be handed over.
            fix: Some(Fix::SwitchToAsync {
                edge: ctx.topology.edge(chain[1]).id.to_string(),
            }),
            other_fixes: Vec::new(),
        });
    }
}

fn read_through_async(ctx: &Context, out: &mut Vec<Finding>) {
    for (f, flow) in ctx.design.flows.iter().enumerate() {
        if flow.kind != FlowKind::Read {
            continue;
        }
        let hops = async_edges(ctx, &flow_edges(ctx, f));
        if hops.is_empty() {
            continue;
        }
        let mut subjects = vec![Subject::Flow(flow.id.to_string())];
        subjects.extend(
            hops.iter()
                .map(|&e| Subject::Edge(ctx.topology.edge(e).id.to_string())),
        );
        out.push(Finding {
            rule: READ_THROUGH_ASYNC.id,
            severity: Severity::Warning,
            subjects,
            message: format!(
                "read flow \"{}\" goes through async hops ({}): a query has to wait for messages to be queued and consumed",
                flow.display_name(),
                edge_list(ctx, &hops)
            ),
            tradeoff: "Reads want an answer now, which is what synchronous queries give. Routing a read through a \
                       queue adds queueing delay and needs a reply channel back to the reader, for no gain in \
                       resilience: a read has nothing to absorb.",
            suggestion: "Serve reads with synchronous queries against a store or read model kept up to date \
                         asynchronously (CQRS)."
                .to_owned(),
            fix: None,
            other_fixes: Vec::new(),
        });
    }
}

fn mixed_styles(ctx: &Context, out: &mut Vec<Finding>) {
    for (f, flow) in ctx.design.flows.iter().enumerate() {
        let edges = flow_edges(ctx, f);
        let asynchronous = async_edges(ctx, &edges).len();
        let synchronous = edges.len() - asynchronous;
        if asynchronous == 0 || synchronous == 0 {
            continue;
        }
        out.push(Finding {
            rule: MIXED_STYLES.id,
            severity: Severity::Info,
            subjects: vec![Subject::Flow(flow.id.to_string())],
            message: format!(
                "flow \"{}\" mixes {synchronous} sync and {asynchronous} async calls: both sets of trade-offs apply",
                flow.display_name()
            ),
            tradeoff: "The synchronous part couples its services in time (latency and failures add up), the \
                       asynchronous part is eventually consistent and harder to trace. Knowing where the boundary \
                       lies tells you which guarantees each part of the flow gives.",
            suggestion: format!(
                "Check the sequence diagram of flow \"{}\" to see which work the caller waits for and which continues after its answer.",
                flow.display_name()
            ),
            fix: None,
            other_fixes: Vec::new(),
        });
    }
}

/// Services a flow reaches through calls that include at least one async hop.
fn reached_after_async(ctx: &Context, flow: usize) -> Vec<bool> {
    let flow_def = &ctx.design.flows[flow];
    let mut after = vec![false; ctx.design.services.len()];
    let Some(&entry) = ctx.topology.service_index.get(flow_def.entry.as_str()) else {
        return after;
    };
    let mut seen: HashMap<(usize, bool), ()> = HashMap::new();
    let mut stack = vec![(entry, false)];
    seen.insert((entry, false), ());
    while let Some((service, through_async)) = stack.pop() {
        if through_async {
            after[service] = true;
        }
        for &e in &ctx.topology.outgoing[service] {
            let edge = ctx.topology.edge(e);
            if !edge.on_forward_path(&flow_def.id) {
                continue;
            }
            let state = (
                ctx.topology.edge_to[e],
                through_async || edge.mode == CallMode::Async,
            );
            if seen.insert(state, ()).is_none() {
                stack.push(state);
            }
        }
    }
    after
}

/// Services a flow reaches through sync calls only, from its entry.
fn reached_synchronously(ctx: &Context, flow: usize) -> Vec<bool> {
    let flow_def = &ctx.design.flows[flow];
    let mut reached = vec![false; ctx.design.services.len()];
    let Some(&entry) = ctx.topology.service_index.get(flow_def.entry.as_str()) else {
        return reached;
    };
    let mut stack = vec![entry];
    reached[entry] = true;
    while let Some(service) = stack.pop() {
        for &e in &ctx.topology.outgoing[service] {
            let edge = ctx.topology.edge(e);
            let to = ctx.topology.edge_to[e];
            if edge.mode == CallMode::Sync && edge.on_forward_path(&flow_def.id) && !reached[to] {
                reached[to] = true;
                stack.push(to);
            }
        }
    }
    reached
}

fn stale_read(ctx: &Context, out: &mut Vec<Finding>) {
    let writes: Vec<(usize, Vec<bool>)> = ctx
        .design
        .flows
        .iter()
        .enumerate()
        .filter(|(_, f)| f.kind == FlowKind::Write)
        .map(|(f, _)| (f, reached_after_async(ctx, f)))
        .collect();
    for (r, read) in ctx.design.flows.iter().enumerate() {
        if read.kind != FlowKind::Read {
            continue;
        }
        let reads = reached_synchronously(ctx, r);
        for (w, written_async) in &writes {
            let stores: Vec<usize> = (0..reads.len())
                .filter(|&s| reads[s] && written_async[s])
                .collect();
            if stores.is_empty() {
                continue;
            }
            let write = &ctx.design.flows[*w];
            let mut subjects = vec![
                Subject::Flow(read.id.to_string()),
                Subject::Flow(write.id.to_string()),
            ];
            subjects.extend(
                stores
                    .iter()
                    .map(|&s| Subject::Service(ctx.design.services[s].id.to_string())),
            );
            let store_names: Vec<&str> = stores
                .iter()
                .map(|&s| ctx.design.services[s].display_name())
                .collect();
            out.push(Finding {
                rule: STALE_READ.id,
                severity: Severity::Info,
                subjects,
                message: format!(
                    "read flow \"{}\" reads {} synchronously, which write flow \"{}\" updates through async hops: reads may see stale data",
                    read.display_name(),
                    super::list_names(&store_names),
                    write.display_name()
                ),
                tradeoff: "Data written through a queue becomes visible only after the message is consumed: the \
                           system is eventually consistent. A user who writes and then reads may not see their \
                           own write, and the lag grows with the consumer's backlog.",
                suggestion: format!(
                    "Decide how stale the data read by flow \"{}\" may be; show it to users (\"processing\"), read your own writes from the write side, or make the write path synchronous where it must be immediately visible.",
                    read.display_name()
                ),
                fix: None,
                other_fixes: Vec::new(),
            });
        }
    }
}

fn slo_miss(ctx: &Context, out: &mut Vec<Finding>) {
    for (f, flow) in ctx.design.flows.iter().enumerate() {
        let Some(slo) = flow.slo_p99_ms else { continue };
        let mean = ctx.analysis.flow_latency_ms[f];
        let p99 = ctx.analysis.flow_p99_ms[f];
        let severity = if mean > slo {
            Severity::Error
        } else if p99 > slo {
            Severity::Warning
        } else {
            continue;
        };
        let mut subjects = vec![Subject::Flow(flow.id.to_string())];
        subjects.extend(
            ctx.analysis.critical_edges[f]
                .iter()
                .map(|&e| Subject::Edge(ctx.topology.edge(e).id.to_string())),
        );
        out.push(Finding {
            rule: SLO_MISS.id,
            severity,
            subjects,
            message: format!(
                "flow \"{}\" has a p99 objective of {} but is estimated at {} p99 ({} mean)",
                flow.display_name(),
                format_ms(slo),
                format_ms(p99),
                format_ms(mean)
            ),
            tradeoff: "Latency along a synchronous path is the sum of every hop's queueing and work, and tails add \
                       up faster than means. Every hop the caller waits on spends part of the budget.",
            suggestion: "Shorten the critical path: run independent calls in parallel, cache, add capacity where \
                         queues form, or answer before the slow work and finish it asynchronously."
                .to_owned(),
            fix: None,
            other_fixes: Vec::new(),
        });
    }
}
