//! A generator of large, realistic designs for benchmarks and scale tests: layered services (clients, gateways,
//! services, databases, brokers) with sync and async calls and flows, laid out tidily. Seeded, so the same
//! arguments give the same design.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::design::{
    CallMode, CircuitBreaker, Design, Distribution, Edge, Flow, FlowKind, RetryPolicy, Service,
    ServiceKind,
};
use super::layout::tidy_layout;

/// How many gateways each client calls, as a web or mobile front end does.
const CALLS_PER_CLIENT: usize = 2;

/// How often a request takes each call between services. With about three calls out of every service, a request
/// takes some 0.75 of them on average, so it visits around ten services (as requests in production systems do)
/// instead of fanning out over the whole graph.
const CALL_PROBABILITY: f64 = 0.25;

/// A valid design with `services` services and about `calls` calls.
pub fn layered_design(services: usize, calls: usize, seed: u64) -> Design {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut design = Design::new(format!("Generated: {services} services, {calls} calls"));
    let services = services.max(4);
    let layers = ((services as f64).sqrt() as usize / 3).clamp(3, 12);
    let brokers = (services / 40).max(1);
    let clients = (services / 100).max(1);
    let mut by_layer: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for i in 0..services {
        let (kind, layer) = if i < clients {
            (ServiceKind::Client, 0)
        } else if i < clients + brokers {
            (ServiceKind::Broker, layers / 2)
        } else {
            let layer = 1 + (i % (layers - 1));
            let kind = if layer == layers - 1 {
                ServiceKind::Database
            } else if layer == 1 {
                ServiceKind::Gateway
            } else {
                ServiceKind::Service
            };
            (kind, layer)
        };
        let mut service = Service::new(format!("{}-{i}", kind.as_str()));
        service.kind = kind;
        service.replicas = rng.random_range(1..=4);
        service.concurrency = if kind == ServiceKind::Client {
            10_000
        } else {
            16
        };
        service.queue_capacity = Some(1000);
        let median = rng.random_range(1.0..20.0f64).round();
        service.service_time = if kind == ServiceKind::Client {
            Distribution::Constant { ms: 0.0 }
        } else {
            Distribution::Lognormal {
                median_ms: median,
                p99_ms: (median * rng.random_range(2.0..6.0f64)).round(),
            }
        };
        design.services.push(service);
        by_layer[layer].push(i);
    }
    let mut edge_count = 0;
    let mut attempts = 0;
    let mut topic_counter = 0;
    let client_calls: Vec<(usize, usize)> = by_layer[0]
        .iter()
        .flat_map(|&client| std::iter::repeat_n(client, CALLS_PER_CLIENT))
        .filter_map(|client| pick(&mut rng, &by_layer[1]).map(|&gateway| (client, gateway)))
        .collect();
    let mut client_calls = client_calls.into_iter();
    while edge_count < calls && attempts < calls * 20 {
        attempts += 1;
        // The clients' few calls first, then calls between the layers behind them.
        let (from, to) = match client_calls.next() {
            Some(call) => call,
            None => {
                let from_layer = rng.random_range(1..layers - 1);
                let to_layer = (from_layer + rng.random_range(1..=2)).min(layers - 1);
                let (Some(&from), Some(&to)) = (
                    pick(&mut rng, &by_layer[from_layer]),
                    pick(&mut rng, &by_layer[to_layer]),
                ) else {
                    continue;
                };
                (from, to)
            }
        };
        let from_kind = design.services[from].kind;
        let to_kind = design.services[to].kind;
        if from == to || from_kind == ServiceKind::Database || to_kind == ServiceKind::Client {
            continue;
        }
        let id = format!("e{edge_count}");
        let asynchronous = to_kind == ServiceKind::Broker
            || from_kind == ServiceKind::Broker
            || (to_kind == ServiceKind::Service && rng.random_bool(0.2));
        let mut edge = Edge::new(
            design.services[from].id.as_str(),
            design.services[to].id.as_str(),
            if asynchronous {
                CallMode::Async
            } else {
                CallMode::Sync
            },
        );
        edge.id = id.into();
        edge.order = rng.random_range(0..3);
        if asynchronous {
            if to_kind == ServiceKind::Broker || from_kind == ServiceKind::Broker {
                edge.topic = Some(format!("topic-{}", topic_counter % 8));
                topic_counter += 1;
            }
        } else {
            edge.timeout_ms = Some(rng.random_range(2..20) as f64 * 50.0);
            if rng.random_bool(0.3) {
                edge.retry = Some(RetryPolicy {
                    max_retries: rng.random_range(1..=3),
                    backoff_ms: 50.0,
                    per_try_timeout_ms: Some(200.0),
                });
            }
            if rng.random_bool(0.3) {
                edge.circuit_breaker = Some(CircuitBreaker::default());
            }
        }
        if from_kind != ServiceKind::Client {
            edge.probability = CALL_PROBABILITY;
        }
        design.edges.push(edge);
        edge_count += 1;
    }
    for (i, &client) in by_layer[0].iter().enumerate() {
        let mut flow = Flow::new(
            format!("flow-{i}"),
            design.services[client].id.as_str(),
            20.0,
        );
        flow.kind = if i % 2 == 0 {
            FlowKind::Read
        } else {
            FlowKind::Write
        };
        flow.slo_p99_ms = Some(500.0);
        design.flows.push(flow);
    }
    tidy_layout(&mut design);
    design
}

fn pick<'a, R: Rng>(rng: &mut R, items: &'a [usize]) -> Option<&'a usize> {
    if items.is_empty() {
        None
    } else {
        items.get(rng.random_range(0..items.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::validate;

    #[test]
    fn generated_designs_are_valid_and_deterministic() {
        let design = layered_design(200, 600, 7);
        assert_eq!(validate(&design), vec![]);
        assert_eq!(design.services.len(), 200);
        assert!(design.edges.len() >= 550, "{}", design.edges.len());
        assert_eq!(design, layered_design(200, 600, 7));
    }
}
