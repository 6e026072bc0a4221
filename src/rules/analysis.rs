//! The static traffic analysis the rules share: how much load reaches each service, how busy it is, how long a
//! request of each flow takes, how retries multiply calls and how likely a synchronous chain is to succeed.
//!
//! It follows the request semantics of `docs/design-format.md`: a request at a service does local work and then
//! makes the service's calls of its flow in `order` groups; sync calls hold the worker until they return, async
//! calls hand a message over; a broker forwards a message along its async calls with the message's topic.

use std::collections::HashMap;

use crate::model::{CallMode, Design, Edge, ServiceKind};

/// Indexes of a design: services and edges by position, calls in and out of each service.
pub struct Topology<'a> {
    /// The design.
    pub design: &'a Design,
    /// Service index by id.
    pub service_index: HashMap<&'a str, usize>,
    /// Edge indices leaving each service, in file order.
    pub outgoing: Vec<Vec<usize>>,
    /// Edge indices entering each service, in file order.
    pub incoming: Vec<Vec<usize>>,
    /// Caller index of each edge.
    pub edge_from: Vec<usize>,
    /// Callee index of each edge.
    pub edge_to: Vec<usize>,
}

impl<'a> Topology<'a> {
    /// Indexes a design. Edges that name unknown services (only possible in unvalidated designs) are left out of
    /// the adjacency lists.
    pub fn new(design: &'a Design) -> Self {
        let service_index: HashMap<&str, usize> = design
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect();
        let count = design.services.len();
        let mut outgoing = vec![Vec::new(); count];
        let mut incoming = vec![Vec::new(); count];
        let mut edge_from = Vec::with_capacity(design.edges.len());
        let mut edge_to = Vec::with_capacity(design.edges.len());
        for (i, edge) in design.edges.iter().enumerate() {
            let from = service_index.get(edge.from.as_str()).copied();
            let to = service_index.get(edge.to.as_str()).copied();
            edge_from.push(from.unwrap_or(usize::MAX));
            edge_to.push(to.unwrap_or(usize::MAX));
            if let (Some(from), Some(to)) = (from, to) {
                outgoing[from].push(i);
                incoming[to].push(i);
            }
        }
        Self {
            design,
            service_index,
            outgoing,
            incoming,
            edge_from,
            edge_to,
        }
    }

    /// The edge at an index.
    pub fn edge(&self, index: usize) -> &'a Edge {
        &self.design.edges[index]
    }

    /// Outgoing calls of `service` in flow `flow`, grouped by ascending `order`; each group runs in parallel.
    pub fn call_groups(&self, service: usize, flow: usize) -> Vec<Vec<usize>> {
        let flow_id = &self.design.flows[flow].id;
        let mut calls: Vec<usize> = self.outgoing[service]
            .iter()
            .copied()
            .filter(|&e| self.edge(e).on_forward_path(flow_id))
            .collect();
        calls.sort_by_key(|&e| self.edge(e).order);
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for e in calls {
            match groups.last_mut() {
                Some(group) if self.edge(group[0]).order == self.edge(e).order => group.push(e),
                _ => groups.push(vec![e]),
            }
        }
        groups
    }

    /// Whether the call at `edge` is made when a message with `topic` is at its caller. Only brokers filter by topic.
    pub fn forwards(&self, edge: usize, topic: Option<&str>) -> bool {
        let e = self.edge(edge);
        let caller_is_broker =
            self.design.services[self.edge_from[edge]].kind == ServiceKind::Broker;
        !caller_is_broker
            || e.mode == CallMode::Sync
            || e.topic.is_none()
            || e.topic.as_deref() == topic
    }
}

/// Traffic of one flow.
#[derive(Debug, Clone, Default)]
pub struct FlowTraffic {
    /// Requests or messages per second arriving at each service.
    pub arrivals_rps: Vec<f64>,
    /// Calls per second made along each edge.
    pub calls_rps: Vec<f64>,
    /// Whether propagation did not settle: a cycle of calls multiplies load without bound.
    pub unbounded: bool,
    /// Polling flows: the clients' polls per second at the entry (already in `arrivals_rps`).
    pub polls_rps: f64,
    /// Polling flows: the mean time from the entry's answer until the work is done, from mean service times
    /// along the longest chain of work behind the answer (no queueing).
    pub work_after_answer_ms: f64,
}

/// The results of the analysis.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Per flow, in design order.
    pub flows: Vec<FlowTraffic>,
    /// Offered load per service, all flows together, in requests per second.
    pub load_rps: Vec<f64>,
    /// Mean time a worker is held per request (local work plus waiting on sync calls), in milliseconds.
    pub holding_ms: Vec<f64>,
    /// Busy workers over all workers: load × holding time / (replicas × concurrency).
    pub utilization: Vec<f64>,
    /// Busy workers from local work alone: load × mean service time / (replicas × concurrency).
    pub local_utilization: Vec<f64>,
    /// Mean wait in the queue (M/M/c estimate), in milliseconds; infinite when overloaded.
    pub wait_ms: Vec<f64>,
    /// Mean latency of each flow along its synchronous critical path, in milliseconds.
    pub flow_latency_ms: Vec<f64>,
    /// A conservative 99th-percentile estimate of each flow's latency, in milliseconds.
    pub flow_p99_ms: Vec<f64>,
    /// Probability a request of each flow succeeds, from error rates along its synchronous calls.
    pub flow_availability: Vec<f64>,
    /// Edges on each flow's critical path (the slowest call of every group along the way).
    pub critical_edges: Vec<Vec<usize>>,
    /// Mean response time of each service per flow (`[flow][service]`), in milliseconds.
    pub response_ms: Vec<Vec<f64>>,
}

/// Cap on propagation steps per flow; a design needing more has a call cycle that multiplies load.
const MAX_PROPAGATION_STEPS: usize = 200_000;
/// Erlang recursion is exact but linear in workers; beyond this many workers queueing is negligible unless
/// utilization is extreme, so the wait is estimated from the last step.
const MAX_ERLANG_WORKERS: u64 = 20_000;

/// Runs the analysis of a design.
pub fn analyse(topology: &Topology) -> Analysis {
    let design = topology.design;
    let services = design.services.len();
    let flows: Vec<FlowTraffic> = (0..design.flows.len())
        .map(|f| propagate(topology, f))
        .collect();
    let mut load_rps = vec![0.0; services];
    for flow in &flows {
        for (s, rate) in flow.arrivals_rps.iter().enumerate() {
            load_rps[s] += rate;
        }
    }

    // Callees before callers, so each caller sees its callees' response times.
    let order = sync_postorder(topology);
    let flow_count = design.flows.len();
    let mut response_ms = vec![vec![0.0; services]; flow_count];
    let mut holding_per_flow = vec![vec![0.0; services]; flow_count];
    let mut holding_ms = vec![0.0; services];
    let mut utilization = vec![0.0; services];
    let mut local_utilization = vec![0.0; services];
    let mut wait_ms = vec![0.0; services];
    let mut wait_p99_ms = vec![0.0; services];
    for &s in &order {
        let service = &design.services[s];
        let local_ms = service.service_time.mean_ms();
        let mut busy_ms_per_s = 0.0;
        for f in 0..flow_count {
            let rate = flows[f].arrivals_rps[s];
            let mut holding = local_ms;
            for group in topology.call_groups(s, f) {
                let slowest = group
                    .iter()
                    .filter(|&&e| topology.edge(e).mode == CallMode::Sync)
                    .map(|&e| sync_call_mean_ms(topology, e, response_ms[f][topology.edge_to[e]]))
                    .fold(0.0, f64::max);
                holding += slowest;
            }
            holding_per_flow[f][s] = holding;
            busy_ms_per_s += rate * holding;
        }
        let workers = service.total_workers().max(1) as f64;
        let load = load_rps[s];
        holding_ms[s] = if load > 0.0 {
            busy_ms_per_s / load
        } else {
            holding_per_flow
                .iter()
                .map(|h| h[s])
                .fold(local_ms, f64::max)
        };
        utilization[s] = busy_ms_per_s / 1000.0 / workers;
        local_utilization[s] = load * local_ms / 1000.0 / workers;
        let (wait, wait_p99) = mmc_wait_ms(
            load,
            holding_ms[s],
            service.total_workers().max(1),
            service.service_time.scv(),
        );
        wait_ms[s] = wait;
        wait_p99_ms[s] = wait_p99;
        for f in 0..flow_count {
            response_ms[f][s] = wait + holding_per_flow[f][s];
        }
    }

    let mut flow_latency_ms = Vec::with_capacity(flow_count);
    let mut flow_p99_ms = Vec::with_capacity(flow_count);
    let mut flow_availability = Vec::with_capacity(flow_count);
    let mut critical_edges = Vec::with_capacity(flow_count);
    for (f, flow) in design.flows.iter().enumerate() {
        let Some(&entry) = topology.service_index.get(flow.entry.as_str()) else {
            flow_latency_ms.push(0.0);
            flow_p99_ms.push(0.0);
            flow_availability.push(1.0);
            critical_edges.push(Vec::new());
            continue;
        };
        flow_latency_ms.push(response_ms[f][entry]);
        let mut memo = HashMap::new();
        flow_p99_ms.push(p99_estimate(
            topology,
            f,
            entry,
            &wait_p99_ms,
            &mut memo,
            &mut Vec::new(),
        ));
        let mut memo = HashMap::new();
        flow_availability.push(availability(topology, f, entry, &mut memo, &mut Vec::new()));
        let mut path = Vec::new();
        critical_path(
            topology,
            f,
            entry,
            &response_ms[f],
            &mut path,
            &mut vec![false; services],
        );
        critical_edges.push(path);
    }

    Analysis {
        flows,
        load_rps,
        holding_ms,
        utilization,
        local_utilization,
        wait_ms,
        flow_latency_ms,
        flow_p99_ms,
        flow_availability,
        critical_edges,
        response_ms,
    }
}

/// Expected time a sync call holds its caller: the callee's response time, capped by the call's timeouts, and
/// weighted by how often the call is made.
fn sync_call_mean_ms(topology: &Topology, edge: usize, callee_response_ms: f64) -> f64 {
    let e = topology.edge(edge);
    let mut time = callee_response_ms;
    if let Some(per_try) = e.retry.and_then(|r| r.per_try_timeout_ms) {
        time = time.min(per_try);
    }
    if let Some(timeout) = e.timeout_ms {
        time = time.min(timeout);
    }
    e.probability * time
}

/// Mean time from a sync call to its successful answer when the callee fails a try with probability
/// `callee_error_rate` (at the end of its work) and the call retries: the tries that failed, and the backoffs before
/// the retries, come before the answer. `response_ms` is the callee's mean response time.
pub fn successful_call_mean_ms(edge: &Edge, response_ms: f64, callee_error_rate: f64) -> f64 {
    let r = callee_error_rate.clamp(0.0, 1.0);
    let tries = edge.max_tries().min(101);
    if r <= 0.0 || tries <= 1 || r >= 1.0 {
        return response_ms;
    }
    let Some(retry) = edge.retry else {
        return response_ms;
    };
    let (mut weighted, mut success, mut before) = (0.0, 0.0, 0.0);
    for k in 1..=tries {
        // Success on try k: k - 1 failed tries first, each followed by its backoff.
        let p = r.powi(k as i32 - 1) * (1.0 - r);
        weighted += p * (before + response_ms);
        success += p;
        before += response_ms + retry.backoff_before_retry_ms(k as u32);
    }
    weighted / success
}

/// The longest a sync call can hold its caller given its timeouts, retries and backoffs; `None` when nothing
/// bounds it.
pub fn sync_call_bound_ms(edge: &Edge) -> Option<f64> {
    // Without a per-try timeout a try may take up to the overall timeout, after which no retry follows, so only
    // per-try timeouts bound the tries.
    let tries_bound = edge.retry.and_then(|r| {
        r.per_try_timeout_ms
            .map(|per_try| per_try * edge.max_tries() as f64 + r.total_backoff_ms())
    });
    match (edge.timeout_ms, tries_bound) {
        (Some(timeout), Some(bound)) => Some(timeout.min(bound)),
        (Some(timeout), None) => Some(timeout),
        (None, bound) => bound,
    }
}

/// Mean and 99th-percentile queueing wait of an M/M/c queue (Allen–Cunneen corrected for the service time's
/// variability), in milliseconds. Infinite when the offered load reaches the capacity.
pub fn mmc_wait_ms(
    arrival_rps: f64,
    holding_ms: f64,
    workers: u64,
    service_scv: f64,
) -> (f64, f64) {
    if arrival_rps <= 0.0 || holding_ms <= 0.0 {
        return (0.0, 0.0);
    }
    let c = workers as f64;
    let offered = arrival_rps * holding_ms / 1000.0; // in erlangs
    if offered >= c {
        return (f64::INFINITY, f64::INFINITY);
    }
    let erlang_c = erlang_c(workers, offered);
    let service_rate_per_ms = 1.0 / holding_ms;
    let drain_per_ms = c * service_rate_per_ms - arrival_rps / 1000.0;
    let variability = (1.0 + service_scv) / 2.0;
    let mean = erlang_c / drain_per_ms * variability;
    let p99 = if erlang_c > 0.01 {
        (erlang_c / 0.01).ln() / drain_per_ms * variability
    } else {
        0.0
    };
    (mean, p99)
}

/// Probability an arrival waits in an M/M/c queue with `offered` erlangs (Erlang C), via the stable Erlang B
/// recursion.
pub fn erlang_c(workers: u64, offered: f64) -> f64 {
    let c = workers.min(MAX_ERLANG_WORKERS);
    let scaled = offered * c as f64 / workers as f64;
    let mut blocking = 1.0;
    for k in 1..=c {
        blocking = scaled * blocking / (k as f64 + scaled * blocking);
    }
    let rho = scaled / c as f64;
    if rho >= 1.0 {
        return 1.0;
    }
    blocking / (1.0 - rho * (1.0 - blocking))
}

/// Spreads a flow's arrivals through the design: per service and per edge, in requests per second.
fn propagate(topology: &Topology, flow: usize) -> FlowTraffic {
    let design = topology.design;
    let services = design.services.len();
    let mut traffic = FlowTraffic {
        arrivals_rps: vec![0.0; services],
        calls_rps: vec![0.0; design.edges.len()],
        unbounded: false,
        polls_rps: 0.0,
        work_after_answer_ms: 0.0,
    };
    let flow_def = &design.flows[flow];
    let Some(&entry) = topology.service_index.get(flow_def.entry.as_str()) else {
        return traffic;
    };
    let rate = flow_def.mean_rate_over(design.simulation_settings().duration_s);
    if rate <= 0.0 {
        return traffic;
    }
    let mut table = NodeTable::default();
    let mut pending: Vec<f64> = Vec::new();
    let mut queued: Vec<bool> = Vec::new();
    let mut queue = std::collections::VecDeque::new();
    let start = table.id(design, entry, None);
    pending.resize(table.nodes.len(), 0.0);
    queued.resize(table.nodes.len(), false);
    pending[start] = rate;
    queued[start] = true;
    queue.push_back(start);
    let negligible = rate * 1e-9;
    let flow_id = &flow_def.id;
    let mut steps = 0;
    while let Some(node) = queue.pop_front() {
        queued[node] = false;
        let delta = std::mem::take(&mut pending[node]);
        let (service, topic) = table.nodes[node];
        traffic.arrivals_rps[service] += delta;
        steps += 1;
        if steps > MAX_PROPAGATION_STEPS {
            traffic.unbounded = true;
            break;
        }
        for &e in &topology.outgoing[service] {
            let edge = topology.edge(e);
            if !edge.on_forward_path(flow_id) || !topology.forwards(e, topic) {
                continue;
            }
            let carried = delta * edge.probability;
            traffic.calls_rps[e] += carried;
            if carried <= negligible {
                continue;
            }
            let message_topic = if edge.mode == CallMode::Async {
                edge.topic.as_deref()
            } else {
                None
            };
            let target = table.id(design, topology.edge_to[e], message_topic);
            if target >= pending.len() {
                pending.resize(table.nodes.len(), 0.0);
                queued.resize(table.nodes.len(), false);
            }
            // Failed messages delivered again arrive again (see the simulator's `delivery`).
            pending[target] += carried * deliveries_per_message(design, edge, topology.edge_to[e]);
            if !queued[target] {
                queued[target] = true;
                queue.push_back(target);
            }
        }
    }
    if let Some(polling) = flow_def.polling {
        traffic.work_after_answer_ms = work_after_answer_ms(topology, flow);
        traffic.polls_rps =
            rate * polls_per_request(polling.interval_ms, traffic.work_after_answer_ms);
        traffic.arrivals_rps[entry] += traffic.polls_rps;
    }
    traffic
}

/// Deliveries per message of an async call to `callee`: with a dead-letter queue after N deliveries and a
/// consumer that fails with probability r, `1 + r + ... + r^(N-1)`; 1 otherwise (and for sync calls).
pub fn deliveries_per_message(design: &Design, edge: &Edge, callee: usize) -> f64 {
    let Some(dead_letter) = edge.dead_letter.filter(|_| edge.mode == CallMode::Async) else {
        return 1.0;
    };
    let r = design.services[callee].error_rate.clamp(0.0, 1.0);
    (0..dead_letter.after_deliveries.min(1_000))
        .map(|k| r.powi(k as i32))
        .sum()
}

/// Polls per request when the client polls every `interval_ms` for work that takes an exponential time of mean
/// `work_ms` after the answer: the first poll after the work is done finds it, so `1 / (1 - e^(-T/m))` (one poll
/// when there is no work).
pub fn polls_per_request(interval_ms: f64, work_ms: f64) -> f64 {
    if work_ms <= 0.0 || interval_ms <= 0.0 {
        return 1.0;
    }
    1.0 / (1.0 - (-interval_ms / work_ms).exp())
}

/// The mean time from a flow's answer until its work is done, from mean service times: the longest chain of work
/// that async calls start (sync calls under them included), without queueing.
pub fn work_after_answer_ms(topology: &Topology, flow: usize) -> f64 {
    let design = topology.design;
    let flow_def = &design.flows[flow];
    let Some(&entry) = topology.service_index.get(flow_def.entry.as_str()) else {
        return 0.0;
    };
    // Longest chain of mean service times below a service, following every call; `after_async` once an async
    // call was crossed (only that part runs after the answer). Depth-first, each service once, cycles cut.
    fn longest(
        topology: &Topology,
        flow: &crate::model::FlowId,
        service: usize,
        on_path: &mut Vec<bool>,
        memo: &mut HashMap<usize, (f64, f64)>,
    ) -> (f64, f64) {
        // (time of the whole chain below, the part behind an async call)
        if let Some(&known) = memo.get(&service) {
            return known;
        }
        if on_path[service] {
            return (0.0, 0.0);
        }
        on_path[service] = true;
        let mut whole = 0.0_f64;
        let mut behind_async = 0.0_f64;
        for &e in &topology.outgoing[service] {
            let edge = topology.edge(e);
            if !edge.on_forward_path(flow) {
                continue;
            }
            let to = topology.edge_to[e];
            let own = topology.design.services[to].service_time.mean_ms();
            let (below, below_async) = longest(topology, flow, to, on_path, memo);
            match edge.mode {
                CallMode::Sync => {
                    whole = whole.max(own + below);
                    behind_async = behind_async.max(below_async);
                }
                CallMode::Async => behind_async = behind_async.max(own + below.max(below_async)),
            }
        }
        on_path[service] = false;
        memo.insert(service, (whole, behind_async));
        (whole, behind_async)
    }
    let mut on_path = vec![false; design.services.len()];
    longest(
        topology,
        &flow_def.id,
        entry,
        &mut on_path,
        &mut HashMap::new(),
    )
    .1
}

/// The nodes traffic flows through: a service, or for brokers a (broker, topic) pair, since a broker forwards by
/// topic.
#[derive(Default)]
struct NodeTable<'a> {
    nodes: Vec<(usize, Option<&'a str>)>,
    ids: HashMap<(usize, Option<&'a str>), usize>,
}

impl<'a> NodeTable<'a> {
    fn id(&mut self, design: &Design, service: usize, topic: Option<&'a str>) -> usize {
        let key = if design.services[service].kind == ServiceKind::Broker {
            (service, topic)
        } else {
            (service, None)
        };
        *self.ids.entry(key).or_insert_with(|| {
            self.nodes.push(key);
            self.nodes.len() - 1
        })
    }
}

/// Services ordered callees-first along sync calls (a depth-first post-order); cycles are cut where found.
fn sync_postorder(topology: &Topology) -> Vec<usize> {
    let count = topology.design.services.len();
    let mut state = vec![0u8; count];
    let mut order = Vec::with_capacity(count);
    for root in 0..count {
        if state[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let outgoing = &topology.outgoing[node];
            if let Some(&e) = outgoing.get(*next) {
                *next += 1;
                let child = topology.edge_to[e];
                if topology.edge(e).mode == CallMode::Sync && state[child] == 0 {
                    state[child] = 1;
                    stack.push((child, 0));
                }
            } else {
                state[node] = 2;
                order.push(node);
                stack.pop();
            }
        }
    }
    order
}

/// A conservative p99 of a request at `service` in `flow`: its queue's p99 wait, its local p99, and per group the
/// slowest call's p99 (capped by its timeouts).
fn p99_estimate(
    topology: &Topology,
    flow: usize,
    service: usize,
    wait_p99_ms: &[f64],
    memo: &mut HashMap<usize, f64>,
    on_path: &mut Vec<usize>,
) -> f64 {
    if let Some(&known) = memo.get(&service) {
        return known;
    }
    if on_path.contains(&service) {
        return 0.0;
    }
    on_path.push(service);
    let mut total = wait_p99_ms[service] + topology.design.services[service].service_time.p99_ms();
    for group in topology.call_groups(service, flow) {
        let mut slowest: f64 = 0.0;
        for &e in &group {
            let edge = topology.edge(e);
            // Calls made by fewer than 1% of requests do not move the 99th percentile much.
            if edge.mode != CallMode::Sync || edge.probability < 0.01 {
                continue;
            }
            let callee = p99_estimate(
                topology,
                flow,
                topology.edge_to[e],
                wait_p99_ms,
                memo,
                on_path,
            );
            let bounded = sync_call_bound_ms(edge).map_or(callee, |bound| callee.min(bound));
            slowest = slowest.max(bounded);
        }
        total += slowest;
    }
    on_path.pop();
    memo.insert(service, total);
    total
}

/// Probability that a request at `service` in `flow` succeeds: its own error rate and its sync calls' (with
/// retries), multiplied.
fn availability(
    topology: &Topology,
    flow: usize,
    service: usize,
    memo: &mut HashMap<usize, f64>,
    on_path: &mut Vec<usize>,
) -> f64 {
    if let Some(&known) = memo.get(&service) {
        return known;
    }
    if on_path.contains(&service) {
        return 1.0;
    }
    on_path.push(service);
    let mut success = 1.0 - topology.design.services[service].error_rate;
    for group in topology.call_groups(service, flow) {
        for e in group {
            let edge = topology.edge(e);
            if edge.mode != CallMode::Sync {
                continue;
            }
            let callee = availability(topology, flow, topology.edge_to[e], memo, on_path);
            let call_success = 1.0 - (1.0 - callee).powf(edge.max_tries() as f64);
            success *= 1.0 - edge.probability * (1.0 - call_success);
        }
    }
    on_path.pop();
    memo.insert(service, success);
    success
}

/// Collects the edges of the slowest sync call of every group along the way from `service`.
fn critical_path(
    topology: &Topology,
    flow: usize,
    service: usize,
    response_ms: &[f64],
    path: &mut Vec<usize>,
    visited: &mut Vec<bool>,
) {
    if visited[service] {
        return;
    }
    visited[service] = true;
    for group in topology.call_groups(service, flow) {
        let slowest = group
            .iter()
            .copied()
            .filter(|&e| topology.edge(e).mode == CallMode::Sync)
            .max_by(|&a, &b| {
                let time_a = sync_call_mean_ms(topology, a, response_ms[topology.edge_to[a]]);
                let time_b = sync_call_mean_ms(topology, b, response_ms[topology.edge_to[b]]);
                time_a.total_cmp(&time_b).then(b.cmp(&a))
            });
        if let Some(e) = slowest {
            path.push(e);
            critical_path(
                topology,
                flow,
                topology.edge_to[e],
                response_ms,
                path,
                visited,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Distribution, Edge, Flow, Service};

    fn chain() -> Design {
        let mut design = Design::new("t");
        let mut a = Service::new("a");
        a.concurrency = 1000;
        a.service_time = Distribution::Constant { ms: 0.0 };
        let mut b = Service::new("b");
        b.concurrency = 1;
        b.service_time = Distribution::Exponential { mean_ms: 10.0 };
        design.services = vec![a, b];
        design.edges.push(Edge::new("a", "b", CallMode::Sync));
        design.flows.push(Flow::new("f", "a", 80.0));
        design
    }

    #[test]
    fn a_retried_call_to_a_failing_callee_answers_after_its_failed_tries() {
        let mut edge = Edge::new("a", "b", CallMode::Sync);
        assert_eq!(successful_call_mean_ms(&edge, 10.0, 0.5), 10.0, "no retry");
        edge.retry = Some(crate::model::RetryPolicy {
            max_retries: 1,
            backoff_ms: 50.0,
            per_try_timeout_ms: None,
        });
        // Half answer at once (10 ms); a quarter after a failed try and the backoff (10 + 50 + 10 ms); of the
        // three quarters that succeed: (0.5 x 10 + 0.25 x 70) / 0.75 = 30 ms.
        assert!((successful_call_mean_ms(&edge, 10.0, 0.5) - 30.0).abs() < 1e-9);
        assert_eq!(successful_call_mean_ms(&edge, 10.0, 0.0), 10.0);
    }

    #[test]
    fn mm1_matches_the_textbook() {
        // M/M/1 at rho = 0.8 with mean service 10 ms: Wq = rho / (mu - lambda) = 0.8 / (100 - 80) s = 40 ms.
        let design = chain();
        let topology = Topology::new(&design);
        let analysis = analyse(&topology);
        assert!((analysis.utilization[1] - 0.8).abs() < 1e-9);
        assert!(
            (analysis.wait_ms[1] - 40.0).abs() < 1e-6,
            "{}",
            analysis.wait_ms[1]
        );
        // The caller's latency is the callee's sojourn: 40 + 10 ms.
        assert!((analysis.flow_latency_ms[0] - 50.0).abs() < 1e-6);
        // The caller's workers are held for the whole call.
        assert!((analysis.holding_ms[0] - 50.0).abs() < 1e-6);
    }

    #[test]
    fn erlang_c_matches_a_known_value() {
        // c = 4, offered 3.2 erlangs (rho = 0.8): C = 0.5964 (tables).
        assert!(
            (erlang_c(4, 3.2) - 0.596_37).abs() < 1e-4,
            "{}",
            erlang_c(4, 3.2)
        );
    }

    #[test]
    fn brokers_forward_by_topic() {
        let mut design = Design::new("t");
        let mut bus = Service::new("bus");
        bus.kind = ServiceKind::Broker;
        design.services = vec![Service::new("p"), bus, Service::new("x"), Service::new("y")];
        let mut publish = Edge::new("p", "bus", CallMode::Async);
        publish.topic = Some("t1".into());
        let mut to_x = Edge::new("bus", "x", CallMode::Async);
        to_x.topic = Some("t1".into());
        let mut to_y = Edge::new("bus", "y", CallMode::Async);
        to_y.topic = Some("t2".into());
        design.edges = vec![publish, to_x, to_y];
        design.flows.push(Flow::new("f", "p", 10.0));
        let topology = Topology::new(&design);
        let analysis = analyse(&topology);
        assert_eq!(analysis.load_rps, vec![10.0, 10.0, 10.0, 0.0]);
    }

    #[test]
    fn call_cycles_that_multiply_load_are_reported_unbounded() {
        let mut design = chain();
        design.edges.push(Edge::new("b", "a", CallMode::Async));
        let mut again = Edge::new("b", "a", CallMode::Sync);
        again.id = "b-a-2".into();
        design.edges.push(again);
        let topology = Topology::new(&design);
        let analysis = analyse(&topology);
        assert!(analysis.flows[0].unbounded);
    }
}
