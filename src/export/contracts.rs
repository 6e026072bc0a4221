//! The design's calls as contracts teams code against:
//!
//! - `--target asyncapi`: one AsyncAPI 3.0 document for the design (`asyncapi/<design-file-safe-name>.yaml`, named
//!   `asyncapi/asyncapi.yaml`): a server per broker, a channel per queue or topic with its address (the call's
//!   topic; for AMQP the routing key on the broker's direct exchange, for Kafka the topic name Kafka accepts), a
//!   `send` operation per producing call and a `receive` operation per consuming call, a message per producing call
//!   with a placeholder payload, and a correlation id (the `x-syncopate-request` header) on the messages of polling
//!   flows, whose client is answered before the work is done. AMQP and Kafka channel bindings where AsyncAPI has
//!   them.
//! - `--target openapi`: an OpenAPI 3.1 document per service that takes HTTP (or GraphQL) calls
//!   (`openapi/<service>.yaml`): a path per calling relation, `/calls/<call id, percent-encoded>` (`POST`, or
//!   `PUT` for an idempotent call), with the call's timeout, retries and breaker as `x-syncopate-*` extensions;
//!   the entry of a polling flow answers `202` with `Location` and `Retry-After`, and `GET /status/{request}`
//!   answers `202` (still working), `303` (done) or `409` (failed), as the emulator does. A service that takes gRPC calls gets a `.proto`
//!   sketch (`openapi/<service>.proto`): package `<id with _>` (what the gateways route by), one service, an rpc
//!   per calling relation with placeholder messages.
//!
//! Display names and notes reach only descriptions and `//` comments with line breaks removed.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{
    ExportedFile, Exporter, Target, broker_protocol, call_port, comment_text, header_comment,
    path_segment, service_port, sorted_services, to_yaml,
};
use crate::model::{CallMode, Design, Edge, Protocol, Service, ServiceKind};

/// The AsyncAPI version written.
pub const ASYNCAPI_VERSION: &str = "3.0.0";
/// The OpenAPI version written.
pub const OPENAPI_VERSION: &str = "3.1.0";
/// The header a polling flow's messages carry its request's number in (docs/emulation.md).
const REQUEST_HEADER: &str = "x-syncopate-request";

pub(crate) struct AsyncapiExporter;

impl Exporter for AsyncapiExporter {
    fn target(&self) -> Target {
        Target::Asyncapi
    }

    fn export(&self, design: &Design) -> Vec<ExportedFile> {
        vec![ExportedFile {
            path: "asyncapi/asyncapi.yaml".to_owned(),
            contents: format!(
                "{}{}",
                header_comment(
                    design,
                    "AsyncAPI 3.0: the design's queues and topics, who sends and who receives; payloads are \
                     placeholders."
                ),
                to_yaml(&asyncapi(design))
            ),
        }]
    }
}

pub(crate) struct OpenapiExporter;

impl Exporter for OpenapiExporter {
    fn target(&self) -> Target {
        Target::Openapi
    }

    fn export(&self, design: &Design) -> Vec<ExportedFile> {
        let mut files = Vec::new();
        for service in sorted_services(design) {
            let calls = incoming_sync(design, service);
            let http: Vec<&Edge> = calls
                .iter()
                .copied()
                .filter(|e| matches!(e.effective_protocol(), Protocol::Http | Protocol::Graphql))
                .collect();
            let grpc: Vec<&Edge> = calls
                .iter()
                .copied()
                .filter(|e| e.effective_protocol() == Protocol::Grpc)
                .collect();
            if !http.is_empty() || polling_entry(design, service) {
                files.push(ExportedFile {
                    path: format!("openapi/{}.yaml", service.id),
                    contents: format!(
                        "{}{}",
                        header_comment(
                            design,
                            &format!(
                                "OpenAPI 3.1 of \"{}\" ({}): a path per calling relation, /calls/<call id>.",
                                service.id,
                                service.display_name()
                            )
                        ),
                        to_yaml(&openapi(design, service, &http))
                    ),
                });
            }
            if !grpc.is_empty() {
                files.push(ExportedFile {
                    path: format!("openapi/{}.proto", service.id),
                    contents: proto(design, service, &grpc),
                });
            }
        }
        files
    }
}

/// The sync calls a service takes, by caller then id.
fn incoming_sync<'a>(design: &'a Design, service: &Service) -> Vec<&'a Edge> {
    let mut calls: Vec<&Edge> = design
        .edges
        .iter()
        .filter(|e| e.to == service.id && e.mode == CallMode::Sync)
        .collect();
    calls.sort_by(|a, b| a.from.cmp(&b.from).then(a.id.cmp(&b.id)));
    calls
}

/// Whether a service is the entry of a polling flow (its client polls it for the outcome).
fn polling_entry(design: &Design, service: &Service) -> bool {
    design
        .flows
        .iter()
        .any(|f| f.polling.is_some() && f.entry == service.id)
        || design.flows.iter().any(|f| {
            f.polling.is_some()
                && design
                    .edges
                    .iter()
                    .any(|e| e.from == f.entry && e.to == service.id && e.mode == CallMode::Sync)
        })
}

/// Whether a call takes part in a polling flow (its messages then carry the request's number).
fn in_polling_flow(design: &Design, edge: &Edge) -> bool {
    design.flows.iter().any(|flow| {
        flow.polling.is_some()
            && edge
                .flows
                .as_ref()
                .is_none_or(|flows| flows.contains(&flow.id))
    })
}

/// A text safe as a description: one line.
fn one_line(text: &str) -> String {
    comment_text(text)
}

/// Names made from ids for a format that allows fewer characters than ids do, one per id in the order given:
/// `make` turns an id into a name, and a name already taken (by an earlier id or by `reserved`) gets the lowest
/// number from 2 that makes it free. Edge ids may hold any text without spaces, so two of them can make one name
/// (`x-y` and `x_y`); without this a document would define it twice.
fn unique_names<'a>(
    ids: impl IntoIterator<Item = &'a str>,
    reserved: &[String],
    make: impl Fn(&str) -> String,
    taken_by: impl Fn(&str) -> Vec<String>,
) -> Vec<String> {
    let mut taken: std::collections::BTreeSet<String> = reserved.iter().cloned().collect();
    let mut names = Vec::new();
    for id in ids {
        let base = make(id);
        let mut name = base.clone();
        let mut n = 2;
        while taken_by(&name).iter().any(|t| taken.contains(t)) {
            name = format!("{base}{n}");
            n += 1;
        }
        taken.extend(taken_by(&name));
        names.push(name);
    }
    names
}

/// An id as a key AsyncAPI accepts for a component (`^[a-zA-Z0-9.\-_]+$`): every other character becomes `_`.
/// Keys also appear in `$ref` pointers, where `/` and `~` would need escaping; neither survives here.
fn component_key(id: &str) -> String {
    super::word_chars(id).collect()
}

// ------------------------------------------------------------------------------------------------ AsyncAPI

/// A channel: where messages of one address on one broker (or one service's own queue) go.
struct Channel<'a> {
    key: String,
    address: String,
    broker: Option<&'a Service>,
    protocol: Protocol,
    producers: Vec<&'a Edge>,
    consumers: Vec<&'a Edge>,
}

fn channels(design: &Design) -> Vec<Channel<'_>> {
    let mut channels: BTreeMap<(String, String), Channel> = BTreeMap::new();
    let mut asynchronous: Vec<&Edge> = design
        .edges
        .iter()
        .filter(|e| e.mode == CallMode::Async)
        .collect();
    asynchronous.sort_by(|a, b| a.id.cmp(&b.id));
    for edge in &asynchronous {
        let Some(to) = design.service(edge.to.as_str()) else {
            continue;
        };
        let Some(from) = design.service(edge.from.as_str()) else {
            continue;
        };
        if from.kind == ServiceKind::Broker {
            continue;
        }
        let protocol = edge.effective_protocol();
        let (owner, address) = if to.kind == ServiceKind::Broker {
            let topic = edge.topic.clone().unwrap_or_default();
            let address = match protocol {
                Protocol::Kafka => super::kafka::kafka_topic_name(if topic.is_empty() {
                    to.id.as_str()
                } else {
                    &topic
                }),
                Protocol::Amqp => topic,
                // Neither a NATS subject nor an SQS queue name may be empty (AMQP's routing key may).
                _ if topic.is_empty() => to.id.to_string(),
                _ => topic,
            };
            (to.id.to_string(), address)
        } else {
            // A message sent straight to a service waits in that service's own queue.
            (to.id.to_string(), to.id.to_string())
        };
        let entry = channels
            .entry((owner.clone(), address.clone()))
            .or_insert_with(|| Channel {
                key: String::new(),
                address,
                broker: (to.kind == ServiceKind::Broker).then_some(to),
                protocol,
                producers: Vec::new(),
                consumers: Vec::new(),
            });
        entry.producers.push(edge);
        if to.kind != ServiceKind::Broker {
            entry.consumers.push(edge);
        }
    }
    // Deliveries from a broker: to the channels of their topic, or to every channel of the broker without one.
    for edge in &asynchronous {
        let Some(from) = design.service(edge.from.as_str()) else {
            continue;
        };
        if from.kind != ServiceKind::Broker {
            continue;
        }
        for ((owner, _), channel) in channels.iter_mut() {
            if owner.as_str() != from.id.as_str() {
                continue;
            }
            let matches = match &edge.topic {
                None => true,
                Some(topic) => {
                    let wanted = if channel.protocol == Protocol::Kafka {
                        super::kafka::kafka_topic_name(topic)
                    } else {
                        topic.clone()
                    };
                    wanted == channel.address
                }
            };
            if matches {
                channel.consumers.push(edge);
            }
        }
    }
    // Keys name the owner and a number, never the topic text (a topic may hold anything).
    let mut numbers: BTreeMap<String, usize> = BTreeMap::new();
    channels
        .into_iter()
        .map(|((owner, _), mut channel)| {
            let n = numbers.entry(owner.clone()).or_insert(0);
            *n += 1;
            channel.key = format!("{owner}.channel-{n}");
            channel
        })
        .collect()
}

fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Kafka => "kafka",
        Protocol::Nats => "nats",
        Protocol::Sqs => "sqs",
        _ => "amqp",
    }
}

fn asyncapi(design: &Design) -> Value {
    let channels = channels(design);
    // Every async call's key in the document, from its id (sorted, so a key does not depend on the edges' order).
    let mut asynchronous: Vec<&str> = design
        .edges
        .iter()
        .filter(|e| e.mode == CallMode::Async)
        .map(|e| e.id.as_str())
        .collect();
    asynchronous.sort_unstable();
    let keys: BTreeMap<&str, String> = asynchronous
        .iter()
        .copied()
        .zip(unique_names(
            asynchronous.iter().copied(),
            &[],
            component_key,
            |name| vec![name.to_owned()],
        ))
        .collect();
    let key_of = |edge: &Edge| keys.get(edge.id.as_str()).cloned().unwrap_or_default();
    let mut servers = Map::new();
    for broker in sorted_services(design)
        .into_iter()
        .filter(|s| s.kind == ServiceKind::Broker)
    {
        let protocol = broker_protocol(design, broker).unwrap_or(Protocol::Amqp);
        servers.insert(
            broker.id.to_string(),
            json!({
                "host": format!("{}:{}", broker.id, service_port(design, broker)),
                "protocol": protocol_name(protocol),
                "description": one_line(&format!("Broker \"{}\" ({})", broker.id, broker.display_name())),
            }),
        );
    }
    let mut channel_objects = Map::new();
    let mut operations = Map::new();
    let mut messages = Map::new();
    for channel in &channels {
        let mut channel_messages = Map::new();
        for producer in &channel.producers {
            let key = format!("{}.message", key_of(producer));
            let mut message = json!({
                "name": producer.id.as_str(),
                "x-syncopate-call": producer.id.as_str(),
                "title": one_line(&format!(
                    "{} -> {}",
                    design.service_name(producer.from.as_str()),
                    design.service_name(producer.to.as_str())
                )),
                "contentType": "application/json",
                "payload": {
                    "type": "object",
                    "description": "Placeholder: the design does not say what the message holds.",
                },
            });
            if in_polling_flow(design, producer) {
                message["headers"] = json!({
                    "type": "object",
                    "properties": {REQUEST_HEADER: {"type": "integer", "description": "The polling request's number."}},
                });
                message["correlationId"] = json!({
                    "description": "The request the client polls for.",
                    "location": format!("$message.header#/{REQUEST_HEADER}"),
                });
            }
            messages.insert(key.clone(), message);
            channel_messages.insert(
                key.clone(),
                json!({"$ref": format!("#/components/messages/{key}")}),
            );
        }
        let mut object = json!({
            "title": one_line(&match channel.broker {
                Some(broker) => format!("{} on {}", if channel.address.is_empty() { "(no topic)" } else { &channel.address }, broker.id),
                None => format!("the queue of {}", channel.address),
            }),
            "messages": channel_messages,
        });
        // An address holds `{name}` parameters in AsyncAPI: a topic with braces is kept as an extension instead.
        if channel.address.contains(['{', '}']) {
            object["address"] = Value::Null;
            object["x-syncopate-address"] = json!(channel.address);
        } else {
            object["address"] = json!(channel.address);
        }
        if let Some(broker) = channel.broker {
            object["servers"] = json!([{"$ref": format!("#/servers/{}", broker.id)}]);
            match channel.protocol {
                Protocol::Amqp => {
                    object["bindings"] = json!({"amqp": {
                        "is": "routingKey",
                        "exchange": {"name": broker.id.as_str(), "type": "direct", "durable": true, "autoDelete": false, "vhost": "/"},
                        "bindingVersion": "0.3.0",
                    }});
                }
                Protocol::Kafka => {
                    object["bindings"] =
                        json!({"kafka": {"topic": channel.address, "bindingVersion": "0.5.0"}});
                }
                _ => {}
            }
        }
        let message_refs: Vec<Value> = channel
            .producers
            .iter()
            .map(|p| json!({"$ref": format!("#/channels/{}/messages/{}.message", channel.key, key_of(p))}))
            .collect();
        for producer in &channel.producers {
            let key = key_of(producer);
            operations.insert(
                format!("{key}.send"),
                json!({
                    "action": "send",
                    "channel": {"$ref": format!("#/channels/{}", channel.key)},
                    "summary": one_line(&format!("{} sends", design.service_name(producer.from.as_str()))),
                    "messages": [{"$ref": format!("#/channels/{}/messages/{key}.message", channel.key)}],
                    "x-syncopate-call": producer.id.as_str(),
                }),
            );
        }
        for consumer in &channel.consumers {
            let who = consumer.to.as_str();
            operations.insert(
                format!(
                    "{}.receive.{}",
                    key_of(consumer),
                    channel.key.replace('.', "-")
                ),
                json!({
                    "action": "receive",
                    "x-syncopate-call": consumer.id.as_str(),
                    "channel": {"$ref": format!("#/channels/{}", channel.key)},
                    "summary": one_line(&format!(
                        "{} receives{}",
                        design.service_name(who),
                        consumer.dead_letter.map_or_else(String::new, |d| format!(
                            " (dead-lettered to {who}.dlq after {} deliveries)",
                            d.after_deliveries
                        ))
                    )),
                    "messages": message_refs,
                }),
            );
        }
        channel_objects.insert(channel.key.clone(), object);
    }
    let mut document = json!({
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": one_line(&design.name),
            "version": "1.0.0",
            "description": "Generated by Syncopate from the design: its asynchronous calls as channels and operations.",
        },
        "defaultContentType": "application/json",
        "channels": channel_objects,
        "operations": operations,
        "components": {"messages": messages},
    });
    if !servers.is_empty() {
        document["servers"] = Value::Object(servers);
    }
    document
}

// ------------------------------------------------------------------------------------------------ OpenAPI

fn openapi(design: &Design, service: &Service, calls: &[&Edge]) -> Value {
    let mut paths = Map::new();
    for call in calls {
        let mut operation = json!({
            "operationId": call.id.as_str(),
            "summary": one_line(&format!("Called by {}", design.service_name(call.from.as_str()))),
            "requestBody": {
                "required": false,
                "content": {"application/json": {"schema": {
                    "type": "object",
                    "description": "Placeholder: the design does not say what the request holds.",
                }}},
            },
            "responses": responses(design, service, call),
            "x-syncopate-call": call.id.as_str(),
            "x-syncopate-caller": call.from.as_str(),
            "x-syncopate-idempotent": call.idempotent,
        });
        if let Some(timeout) = call.timeout_ms {
            operation["x-syncopate-timeout-ms"] = json!(timeout);
        }
        if let Some(retry) = &call.retry {
            operation["x-syncopate-retry"] = serde_json::to_value(retry).unwrap_or(Value::Null);
        }
        if let Some(breaker) = &call.circuit_breaker {
            operation["x-syncopate-circuit-breaker"] =
                serde_json::to_value(breaker).unwrap_or(Value::Null);
        }
        if let Some(limit) = call.max_in_flight {
            operation["x-syncopate-max-in-flight"] = json!(limit);
        }
        let method = if call.idempotent { "put" } else { "post" };
        paths.insert(
            format!("/calls/{}", path_segment(call.id.as_str())),
            json!({ method: operation }),
        );
    }
    if polling_entry(design, service) {
        // Operation ids are unique in a document, and a call's id could be "pollStatus".
        let taken: Vec<String> = calls.iter().map(|c| c.id.to_string()).collect();
        let poll_operation = unique_names(["pollStatus"], &taken, str::to_owned, |name| {
            vec![name.to_owned()]
        })
        .remove(0);
        paths.insert(
            "/status/{request}".to_owned(),
            json!({"get": {
                "operationId": poll_operation,
                "summary": "The client polls for the outcome of its request.",
                "parameters": [{
                    "name": "request",
                    "in": "path",
                    "required": true,
                    "schema": {"type": "integer"},
                }],
                "responses": {
                    "202": {
                        "description": "Still working: poll again after Retry-After.",
                        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds until the next poll."}},
                    },
                    "303": {
                        "description": "Done: the outcome is at Location.",
                        "headers": {"Location": {"schema": {"type": "string"}}},
                    },
                    "409": {"description": "Some of the work failed."},
                },
            }}),
        );
    }
    let port = calls
        .first()
        .map_or_else(|| service_port(design, service), |c| call_port(design, c));
    json!({
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": one_line(&format!("{} ({})", service.id, service.display_name())),
            "version": "1.0.0",
            "description": "Generated by Syncopate from the design: one path per calling relation, \
                /calls/<call id>; request and response bodies are placeholders.",
        },
        "servers": [{"url": format!("http://{}:{port}", service.id)}],
        "paths": paths,
    })
}

fn responses(design: &Design, service: &Service, call: &Edge) -> Value {
    let polled = design
        .flows
        .iter()
        .any(|f| f.polling.is_some() && f.entry == call.from && call.to == service.id);
    if polled {
        return json!({
            "202": {
                "description": "Accepted: the work goes on; poll Location after Retry-After.",
                "headers": {
                    "Location": {"schema": {"type": "string"}, "description": "/status/{request}"},
                    "Retry-After": {"schema": {"type": "integer"}},
                },
            },
        });
    }
    json!({
        "200": {"description": "Done."},
        "5XX": {"description": "Failed: the caller's retry and breaker policy apply."},
    })
}

/// A `.proto` sketch of a service's gRPC calls.
fn proto(design: &Design, service: &Service, calls: &[&Edge]) -> String {
    let package = super::nginx::grpc_package(service.id.as_str());
    let name = pascal(service.id.as_str());
    let mut text = format!(
        "// gRPC sketch of \"{}\" ({}): one rpc per calling relation, placeholder messages.\n\
         // Generated by Syncopate from the design \"{}\". Edit the design, not this file.\n\
         syntax = \"proto3\";\n\npackage {package};\n\nservice {name} {{\n",
        service.id,
        comment_text(service.display_name()),
        comment_text(&design.name)
    );
    let mut messages = String::new();
    // One rpc per call, its name and its two messages' names unique in the file (calls `x-y` and `x_y` both make
    // `XY`; a call `x` makes the message `XRequest`, which is also the service `x-request`).
    let rpcs = unique_names(
        calls.iter().map(|c| c.id.as_str()),
        std::slice::from_ref(&name),
        pascal,
        |rpc| {
            vec![
                rpc.to_owned(),
                format!("{rpc}Request"),
                format!("{rpc}Reply"),
            ]
        },
    );
    for (call, rpc) in calls.iter().zip(rpcs) {
        text.push_str(&format!(
            "  // Called by {} ({}); call {}.\n  rpc {rpc} ({rpc}Request) returns ({rpc}Reply);\n",
            call.from,
            comment_text(design.service_name(call.from.as_str())),
            call.id
        ));
        messages.push_str(&format!(
            "\n// Placeholder: the design does not say what the call carries.\nmessage {rpc}Request {{}}\n\nmessage {rpc}Reply {{}}\n"
        ));
    }
    text.push_str("}\n");
    text.push_str(&messages);
    text
}

/// `order-api` → `OrderApi`; an id starting with a digit gets a leading `S` (proto names start with a letter), and
/// one without an ASCII letter or digit is `Call`.
fn pascal(id: &str) -> String {
    let mut out: String = id
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    if out.is_empty() {
        return "Call".to_owned();
    }
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert(0, 'S');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{component_key, pascal, unique_names};
    use crate::export::path_segment;

    #[test]
    fn proto_names_are_pascal_case_and_start_with_a_letter() {
        assert_eq!(pascal("order-api"), "OrderApi");
        assert_eq!(pascal("3d-render"), "S3dRender");
        assert_eq!(pascal("ñ"), "Call");
    }

    #[test]
    fn a_nats_or_sqs_call_without_a_topic_addresses_the_broker_not_an_empty_name() {
        let design = crate::model::load_from_str(
            r#"{"type": "syncopate", "version": 1, "name": "queues",
                "services": [{"id": "web"}, {"id": "jobs", "kind": "broker"}, {"id": "bus", "kind": "broker"}],
                "edges": [{"from": "web", "to": "jobs", "mode": "async", "protocol": "sqs"},
                          {"from": "web", "to": "bus", "mode": "async", "protocol": "amqp"}]}"#,
            "test",
        )
        .unwrap();
        let document = super::asyncapi(&design);
        let addresses: Vec<&str> = document["channels"]
            .as_object()
            .unwrap()
            .values()
            .map(|c| c["address"].as_str().unwrap())
            .collect();
        // AMQP's empty routing key is a real one; an SQS queue needs a name.
        assert_eq!(addresses, ["", "jobs"]);
    }

    #[test]
    fn names_made_from_ids_never_repeat_nor_take_a_reserved_one() {
        let rpcs = unique_names(
            ["x-y", "x_y", "xY", "x", "ñ", "ü"],
            &["XRequest".to_owned()],
            pascal,
            |rpc| vec![rpc.to_owned(), format!("{rpc}Request")],
        );
        assert_eq!(rpcs, ["XY", "XY2", "XY3", "X2", "Call", "Call2"]);
    }

    #[test]
    fn ids_become_keys_and_path_segments_that_keep_their_meaning_out_of_the_syntax() {
        assert_eq!(component_key("a/b~c#ñ"), "a_b_c__");
        assert_eq!(component_key("order-api.v2_x"), "order-api.v2_x");
        assert_eq!(path_segment("a{b}/c?d#ñ"), "a%7Bb%7D%2Fc%3Fd%23%C3%B1");
        assert_eq!(path_segment("order-api-inventory"), "order-api-inventory");
    }
}
