//! Mechanical fixes that findings offer: each turns the design into a corrected one in a single step.

use serde::Serialize;

use crate::model::{
    CallMode, CircuitBreaker, Design, Distribution, Edge, Protocol, RetryPolicy, Service,
    ServiceKind,
};

/// A change the app can apply as one undoable edit.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fix {
    /// Give a sync call a timeout.
    AddTimeout {
        /// The call.
        edge: String,
        /// The timeout to set.
        timeout_ms: f64,
    },
    /// Give a sync call a circuit breaker.
    AddCircuitBreaker {
        /// The call.
        edge: String,
    },
    /// Run more replicas of a service.
    SetReplicas {
        /// The service.
        service: String,
        /// The new number of replicas.
        replicas: u32,
    },
    /// Make a service's sync calls run in parallel (one `order` group).
    MakeCallsParallel {
        /// The calling service.
        service: String,
    },
    /// Turn a sync call into an async message.
    SwitchToAsync {
        /// The call.
        edge: String,
    },
    /// Replace a call with a message through a new broker: the caller publishes to the broker, which forwards to
    /// the callee, both async on one topic.
    RouteThroughBroker {
        /// The call.
        edge: String,
    },
    /// Give a call's retries an exponential backoff.
    AddBackoff {
        /// The call.
        edge: String,
        /// The first backoff.
        backoff_ms: f64,
    },
    /// Give a call's retries a per-try timeout.
    AddPerTryTimeout {
        /// The call.
        edge: String,
        /// The per-try timeout.
        per_try_timeout_ms: f64,
    },
    /// Mark a call idempotent (the callee deduplicates, so a retry cannot do the work twice).
    MarkIdempotent {
        /// The call.
        edge: String,
    },
    /// Remove a call's retries.
    RemoveRetry {
        /// The call.
        edge: String,
    },
    /// Give a compensating call the retries of a default policy (2 retries, 100 ms backoff).
    RetryCompensation {
        /// The compensating call.
        edge: String,
    },
    /// Give an async call a dead-letter queue after the given deliveries.
    AddDeadLetter {
        /// The async call.
        edge: String,
        /// Deliveries before a message is set aside.
        after_deliveries: u32,
    },
}

impl Fix {
    /// The button text.
    pub fn label(&self) -> String {
        match self {
            Fix::AddTimeout { timeout_ms, .. } => format!("Add a {timeout_ms} ms timeout"),
            Fix::AddCircuitBreaker { .. } => "Add a circuit breaker".to_owned(),
            Fix::SetReplicas { replicas, .. } => format!("Run {replicas} replicas"),
            Fix::MakeCallsParallel { .. } => "Make the calls parallel".to_owned(),
            Fix::SwitchToAsync { .. } => "Switch the call to async".to_owned(),
            Fix::RouteThroughBroker { .. } => "Route the call through a broker".to_owned(),
            Fix::AddBackoff { backoff_ms, .. } => format!("Back off {backoff_ms} ms"),
            Fix::AddPerTryTimeout {
                per_try_timeout_ms, ..
            } => format!("Add a {per_try_timeout_ms} ms per-try timeout"),
            Fix::MarkIdempotent { .. } => "Mark the call idempotent".to_owned(),
            Fix::RemoveRetry { .. } => "Remove the retry".to_owned(),
            Fix::RetryCompensation { .. } => "Retry the compensation".to_owned(),
            Fix::AddDeadLetter {
                after_deliveries, ..
            } => format!("Dead-letter after {after_deliveries} deliveries"),
        }
    }
}

/// The design with `fix` applied. A fix naming something that no longer exists changes nothing.
pub fn apply_fix(design: &Design, fix: &Fix) -> Design {
    let mut fixed = design.clone();
    match fix {
        Fix::AddTimeout { edge, timeout_ms } => {
            if let Some(e) = fixed.edge_mut(edge) {
                e.timeout_ms = Some(*timeout_ms);
            }
        }
        Fix::AddCircuitBreaker { edge } => {
            if let Some(e) = fixed.edge_mut(edge) {
                e.circuit_breaker = Some(CircuitBreaker::default());
            }
        }
        Fix::SetReplicas { service, replicas } => {
            if let Some(s) = fixed.service_mut(service) {
                s.replicas = *replicas;
            }
        }
        Fix::MakeCallsParallel { service } => {
            let first = fixed
                .edges
                .iter()
                .filter(|e| e.from.as_str() == service && e.mode == CallMode::Sync)
                .map(|e| e.order)
                .min();
            if let Some(first) = first {
                for e in fixed
                    .edges
                    .iter_mut()
                    .filter(|e| e.from.as_str() == service && e.mode == CallMode::Sync)
                {
                    e.order = first;
                }
            }
        }
        Fix::SwitchToAsync { edge } => {
            if let Some(e) = fixed.edge_mut(edge) {
                // An async hand-off does not wait, so timeouts no longer apply; retries of the publish stay.
                e.set_mode(CallMode::Async);
            }
        }
        Fix::RouteThroughBroker { edge } => route_through_broker(&mut fixed, edge),
        Fix::MarkIdempotent { edge } => {
            if let Some(e) = fixed.edge_mut(edge) {
                e.idempotent = true;
            }
        }
        Fix::RemoveRetry { edge } => {
            if let Some(e) = fixed.edge_mut(edge) {
                e.retry = None;
            }
        }
        Fix::RetryCompensation { edge } => {
            if let Some(e) = fixed.edge_mut(edge)
                && e.mode == CallMode::Sync
            {
                e.retry = Some(RetryPolicy {
                    max_retries: 2,
                    backoff_ms: 100.0,
                    per_try_timeout_ms: e.retry.and_then(|r| r.per_try_timeout_ms),
                });
            }
        }
        Fix::AddDeadLetter {
            edge,
            after_deliveries,
        } => {
            if let Some(e) = fixed.edge_mut(edge)
                && e.mode == CallMode::Async
            {
                e.dead_letter = Some(crate::model::DeadLetter {
                    after_deliveries: *after_deliveries,
                });
            }
        }
        Fix::AddBackoff { edge, backoff_ms } => {
            if let Some(retry) = fixed.edge_mut(edge).and_then(|e| e.retry.as_mut()) {
                retry.backoff_ms = *backoff_ms;
            }
        }
        Fix::AddPerTryTimeout {
            edge,
            per_try_timeout_ms,
        } => {
            if let Some(e) = fixed.edge_mut(edge) {
                let retry = e.retry.get_or_insert(RetryPolicy {
                    max_retries: 0,
                    backoff_ms: 0.0,
                    per_try_timeout_ms: None,
                });
                retry.per_try_timeout_ms = Some(*per_try_timeout_ms);
            }
        }
    }
    fixed
}

/// Replaces the call `edge_id` with caller -> broker -> callee, async on one topic, in the call's place: its
/// order, probability and flows stay with the publish, and waiting (timeout, breaker, bulkhead) goes, since nothing
/// waits any more. The broker is new, named after the callee ("payment-queue"), placed between the two, with one
/// replica (the rules then point out that it is a single point of failure) and an unbounded queue: the messaging
/// system holds the backlog.
fn route_through_broker(design: &mut Design, edge_id: &str) {
    let Some(index) = design.edges.iter().position(|e| e.id == edge_id) else {
        return;
    };
    let call = design.edges.remove(index);
    let broker_id = design.free_service_id_for(ServiceKind::Broker, &format!("{}-queue", call.to));
    let callee = design.service(call.to.as_str());
    let callee_name = callee
        .map_or(call.to.as_str(), Service::display_name)
        .to_owned();
    let position = match (
        design.service(call.from.as_str()).and_then(|s| s.position),
        callee.and_then(|s| s.position),
    ) {
        // Between the two, a little below the line so the new calls do not overlap the others.
        (Some([fx, fy]), Some([tx, ty])) => Some([(fx + tx) / 2.0, (fy + ty) / 2.0 + 60.0]),
        (_, position) => position.map(|[x, y]| [x, y + 100.0]),
    };
    design.services.push(Service {
        name: Some(format!("{callee_name} queue")),
        kind: ServiceKind::Broker,
        position,
        concurrency: 16,
        queue_capacity: None,
        service_time: Distribution::Exponential { mean_ms: 0.5 },
        image: Some("rabbitmq:3.13-management".to_owned()),
        port: Some(5672),
        ..Service::new(broker_id.as_str())
    });
    let topic = call
        .topic
        .clone()
        .unwrap_or_else(|| format!("{}.requests", call.to));
    // The publish is the call, async, to the broker; what waited on the answer (timeout, breaker, bulkhead) goes.
    let mut publish = Edge {
        id: design.free_edge_id(&format!("{}-{broker_id}", call.from)),
        to: broker_id.clone(),
        circuit_breaker: None,
        max_in_flight: None,
        ..call.clone()
    };
    publish.set_mode(CallMode::Async);
    publish.protocol = Some(Protocol::Amqp);
    publish.topic = Some(topic.clone());
    let deliver = Edge {
        id: design.free_edge_id(&format!("{broker_id}-{}", call.to)),
        protocol: Some(Protocol::Amqp),
        topic: Some(topic),
        flows: call.flows,
        ..Edge::new(broker_id.as_str(), call.to.as_str(), CallMode::Async)
    };
    design.edges.insert(index, deliver);
    design.edges.insert(index, publish);
}

/// Rounds a suggested time up to a value people would type: 50 ms steps below a second, 100 ms steps above.
pub fn round_up_ms(ms: f64) -> f64 {
    if !ms.is_finite() || ms <= 0.0 {
        return 100.0;
    }
    let step = if ms < 1000.0 { 50.0 } else { 100.0 };
    ((ms / step).ceil() * step).max(step)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Service, validate};

    fn two_services() -> Design {
        let mut design = Design::new("t");
        design.services.push(Service {
            position: Some([0.0, 0.0]),
            ..Service::new("checkout")
        });
        design.services.push(Service {
            position: Some([300.0, 100.0]),
            ..Service::new("payment")
        });
        let mut call = Edge::new("checkout", "payment", CallMode::Sync);
        call.order = 2;
        call.timeout_ms = Some(500.0);
        call.circuit_breaker = Some(CircuitBreaker::default());
        design.edges.push(call);
        design
    }

    #[test]
    fn a_broker_for_a_callee_with_the_longest_id_gets_an_id_a_statefulset_can_take() {
        let mut design = two_services();
        let long = "p".repeat(crate::model::ids::MAX_SERVICE_ID_LEN);
        design.rename_service(&"payment".into(), &long.as_str().into());
        let edge = design.edges[0].id.to_string();
        let routed = apply_fix(&design, &Fix::RouteThroughBroker { edge });
        assert!(validate(&routed).is_empty(), "{:?}", validate(&routed));
        let broker = routed
            .services
            .iter()
            .find(|s| s.kind == ServiceKind::Broker)
            .unwrap();
        assert!(broker.id.as_str().len() <= crate::model::ids::MAX_STATEFUL_SERVICE_ID_LEN);
    }

    #[test]
    fn routing_through_a_broker_replaces_the_call_with_two_async_hops_on_one_topic() {
        let design = two_services();
        let fix = Fix::RouteThroughBroker {
            edge: "checkout-payment".to_owned(),
        };
        let routed = apply_fix(&design, &fix);
        assert!(validate(&routed).is_empty(), "{:?}", validate(&routed));
        let broker = routed.service("payment-queue").unwrap();
        assert_eq!(broker.kind, ServiceKind::Broker);
        assert_eq!(broker.position, Some([150.0, 110.0]));
        let ids: Vec<&str> = routed.edges.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["checkout-payment-queue", "payment-queue-payment"]);
        let publish = &routed.edges[0];
        assert_eq!((publish.mode, publish.order), (CallMode::Async, 2));
        assert_eq!(publish.timeout_ms, None);
        assert_eq!(publish.circuit_breaker, None);
        assert_eq!(routed.edges[1].topic, publish.topic);
        // Routing the new publish again makes a second broker with ids of its own.
        let again = apply_fix(
            &routed,
            &Fix::RouteThroughBroker {
                edge: "checkout-payment-queue".to_owned(),
            },
        );
        assert!(validate(&again).is_empty(), "{:?}", validate(&again));
        assert!(again.service("payment-queue-queue").is_some());
        // A call that is not there changes nothing.
        assert_eq!(
            apply_fix(
                &design,
                &Fix::RouteThroughBroker {
                    edge: "nope".to_owned()
                }
            ),
            design
        );
    }

    #[test]
    fn broker_ids_stay_valid_and_unique() {
        let mut design = Design::new("t");
        let long = "s".repeat(63);
        design.services.push(Service::new(long.as_str()));
        design.services.push(Service::new("a"));
        design.services.push(Service::new(format!("{}-queue", "a")));
        design
            .edges
            .push(Edge::new("a", long.as_str(), CallMode::Sync));
        design
            .edges
            .push(Edge::new(long.as_str(), "a", CallMode::Sync));
        for edge in [format!("a-{long}"), format!("{long}-a")] {
            design = apply_fix(&design, &Fix::RouteThroughBroker { edge });
            assert!(validate(&design).is_empty(), "{:?}", validate(&design));
        }
        assert!(design.service("a-queue-2").is_some());
    }
}
