//! RabbitMQ definitions, one file per AMQP broker, in the single-virtual-host form that the management API imports
//! (`POST /api/definitions/<vhost>`) and `rabbitmqadmin import` reads.
//!
//! The broker is a durable *direct* exchange named after it; producers publish with the call's `topic` as routing
//! key (empty without one). A direct exchange matches keys exactly, so a design topic holding `*` or `#` is a name,
//! never a wildcard. Every consumer gets one durable queue named after it, bound once per topic it receives; a
//! delivery without a topic (everything) is bound with every key the broker's producers publish with. A consumer
//! with a bounded queue gets `x-max-length` = its queue capacity × replicas (at least 1: RabbitMQ checks the limit
//! before handing a message to a waiting consumer, so 0 would refuse every message) with `reject-publish` overflow
//! (a full queue rejects, as in the simulator). Queues are quorum queues (replicated) when the broker runs 2 or
//! more replicas. Messages the consumer rejects go through the `<broker>.dlx` exchange to its dead-letter queue
//! `<consumer>.dlq`. A delivery with a `dead_letter` policy makes the consumer's queue a quorum queue (whatever the
//! broker's replicas: only quorum queues count deliveries) with `x-delivery-limit` = deliveries − 1 (RabbitMQ
//! dead-letters a message returned more times than the limit), so a message the consumer rejects with requeue is
//! delivered again until its last delivery, then goes to `<consumer>.dlq`; with several such deliveries into one
//! queue the largest count applies.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::{ExportedFile, Exporter, Target, broker_protocol, sorted_services, to_json};
use crate::model::{CallMode, Design, Protocol, ServiceKind};

pub(crate) struct RabbitmqExporter;

impl Exporter for RabbitmqExporter {
    fn target(&self) -> Target {
        Target::Rabbitmq
    }

    fn export(&self, design: &Design) -> Vec<ExportedFile> {
        sorted_services(design)
            .into_iter()
            .filter(|s| {
                s.kind == ServiceKind::Broker && broker_protocol(design, s) == Some(Protocol::Amqp)
            })
            .map(|broker| ExportedFile {
                path: format!("rabbitmq/{}.definitions.json", broker.id),
                contents: to_json(&definitions(design, broker.id.as_str())),
            })
            .collect()
    }
}

#[derive(Serialize)]
struct Definitions {
    exchanges: Vec<Exchange>,
    queues: Vec<Queue>,
    bindings: Vec<Binding>,
}

#[derive(Serialize)]
struct Exchange {
    name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    durable: bool,
    auto_delete: bool,
    internal: bool,
    arguments: BTreeMap<String, Value>,
}

#[derive(Serialize)]
struct Queue {
    name: String,
    durable: bool,
    auto_delete: bool,
    arguments: BTreeMap<String, Value>,
}

#[derive(Serialize)]
struct Binding {
    source: String,
    destination: String,
    destination_type: &'static str,
    routing_key: String,
    arguments: BTreeMap<String, Value>,
}

/// The limit of a consumer's queue: its queue capacity × replicas (at least 1, see the module's comment), with
/// `reject-publish` overflow; nothing for an unbounded queue.
pub(crate) fn queue_limit(design: &Design, consumer: &str) -> BTreeMap<String, Value> {
    let mut arguments = BTreeMap::new();
    if let Some(service) = design.service(consumer)
        && let Some(capacity) = service.queue_capacity
    {
        let length = (u64::from(capacity) * u64::from(service.replicas)).max(1);
        arguments.insert("x-max-length".to_owned(), Value::from(length));
        arguments.insert("x-overflow".to_owned(), Value::from("reject-publish"));
    }
    arguments
}

/// A dead-letter policy as queue arguments: a quorum queue (only those count deliveries) with `x-delivery-limit` =
/// deliveries − 1, since RabbitMQ dead-letters a message returned more times than the limit.
pub(crate) fn delivery_limit(arguments: &mut BTreeMap<String, Value>, after_deliveries: u32) {
    arguments.insert("x-queue-type".to_owned(), Value::from("quorum"));
    arguments.insert(
        "x-delivery-limit".to_owned(),
        Value::from(after_deliveries.saturating_sub(1)),
    );
}

fn exchange(name: String, kind: &'static str) -> Exchange {
    Exchange {
        name,
        kind,
        durable: true,
        auto_delete: false,
        internal: false,
        arguments: BTreeMap::new(),
    }
}

fn binding(source: &str, queue: &str, routing_key: &str) -> Binding {
    Binding {
        source: source.to_owned(),
        destination: queue.to_owned(),
        destination_type: "queue",
        routing_key: routing_key.to_owned(),
        arguments: BTreeMap::new(),
    }
}

/// The definitions of one broker as JSON: what the exported file holds, for the emulator to load into a RabbitMQ
/// of its own.
#[cfg(feature = "emulate")]
pub(crate) fn definitions_json(design: &Design, broker: &str) -> Value {
    serde_json::to_value(definitions(design, broker)).unwrap_or(Value::Null)
}

fn definitions(design: &Design, broker: &str) -> Definitions {
    let dead_letters = format!("{broker}.dlx");
    let replicated = design.service(broker).is_some_and(|b| b.replicas >= 2);
    // Every routing key published to the broker (empty for a publish without a topic).
    let mut published: Vec<&str> = design
        .edges
        .iter()
        .filter(|e| e.to == broker && e.mode == CallMode::Async && e.from != broker)
        .map(|e| e.topic.as_deref().unwrap_or(""))
        .collect();
    published.sort_unstable();
    published.dedup();
    if published.is_empty() {
        published.push("");
    }
    // Consumer id -> the routing keys it is bound with; and the deliveries a message gets before it is
    // dead-lettered, where a delivery says.
    let mut consumers: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut deliveries: BTreeMap<&str, u32> = BTreeMap::new();
    for edge in &design.edges {
        if edge.from == broker && edge.mode == CallMode::Async && edge.to != broker {
            if let Some(dead_letter) = edge.dead_letter {
                let most = deliveries.entry(edge.to.as_str()).or_default();
                *most = (*most).max(dead_letter.after_deliveries);
            }
            let keys = consumers.entry(edge.to.as_str()).or_default();
            match edge.topic.as_deref() {
                Some(topic) => keys.push(topic),
                None => keys.extend(published.iter().copied()),
            }
        }
    }
    let queue_type = |arguments: &mut BTreeMap<String, Value>| {
        if replicated {
            arguments.insert("x-queue-type".to_owned(), Value::from("quorum"));
        }
    };
    let mut queues = Vec::new();
    let mut bindings = Vec::new();
    for (consumer, keys) in &mut consumers {
        let mut arguments = BTreeMap::from([
            (
                "x-dead-letter-exchange".to_owned(),
                Value::from(dead_letters.clone()),
            ),
            (
                "x-dead-letter-routing-key".to_owned(),
                Value::from(*consumer),
            ),
        ]);
        arguments.extend(queue_limit(design, consumer));
        queue_type(&mut arguments);
        if let Some(&after) = deliveries.get(consumer) {
            delivery_limit(&mut arguments, after);
        }
        queues.push(Queue {
            name: (*consumer).to_owned(),
            durable: true,
            auto_delete: false,
            arguments,
        });
        let dead_letter_queue = format!("{consumer}.dlq");
        let mut dead_letter_arguments = BTreeMap::new();
        queue_type(&mut dead_letter_arguments);
        queues.push(Queue {
            name: dead_letter_queue.clone(),
            durable: true,
            auto_delete: false,
            arguments: dead_letter_arguments,
        });
        keys.sort_unstable();
        keys.dedup();
        for key in keys.iter() {
            bindings.push(binding(broker, consumer, key));
        }
        bindings.push(binding(&dead_letters, &dead_letter_queue, consumer));
    }
    queues.sort_by(|a, b| a.name.cmp(&b.name));
    Definitions {
        exchanges: vec![
            exchange(broker.to_owned(), "direct"),
            exchange(dead_letters, "direct"),
        ],
        queues,
        bindings,
    }
}
