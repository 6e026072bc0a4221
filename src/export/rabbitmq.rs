//! RabbitMQ definitions, one file per AMQP broker, in the single-virtual-host form that the management API imports
//! (`POST /api/definitions/<vhost>`) and `rabbitmqadmin import` reads.
//!
//! The broker is a durable topic exchange named after it; producers publish with the call's `topic` as routing
//! key. Every consumer gets one durable queue named after it, bound once per topic it receives (`#`, everything,
//! for a delivery without a topic). A consumer with a bounded queue gets `x-max-length` = its queue capacity ×
//! replicas with `reject-publish` overflow (a full queue rejects, as in the simulator). Messages the consumer
//! rejects go through the `<broker>.dlx` exchange to its dead-letter queue `<consumer>.dlq`.

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

/// The routing key that binds a delivery without a topic: every message.
pub const ALL_TOPICS: &str = "#";

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

fn definitions(design: &Design, broker: &str) -> Definitions {
    let dead_letters = format!("{broker}.dlx");
    // Consumer id -> the routing keys it is bound with.
    let mut consumers: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for edge in &design.edges {
        if edge.from == broker && edge.mode == CallMode::Async && edge.to != broker {
            consumers
                .entry(edge.to.as_str())
                .or_default()
                .push(edge.topic.as_deref().unwrap_or(ALL_TOPICS));
        }
    }
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
        if let Some(service) = design.service(consumer)
            && let Some(capacity) = service.queue_capacity
        {
            let length = u64::from(capacity) * u64::from(service.replicas);
            arguments.insert("x-max-length".to_owned(), Value::from(length));
            arguments.insert("x-overflow".to_owned(), Value::from("reject-publish"));
        }
        queues.push(Queue {
            name: (*consumer).to_owned(),
            durable: true,
            auto_delete: false,
            arguments,
        });
        let dead_letter_queue = format!("{consumer}.dlq");
        queues.push(Queue {
            name: dead_letter_queue.clone(),
            durable: true,
            auto_delete: false,
            arguments: BTreeMap::new(),
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
            exchange(broker.to_owned(), "topic"),
            exchange(dead_letters, "direct"),
        ],
        queues,
        bindings,
    }
}
