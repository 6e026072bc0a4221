//! docker-compose files (v2, v3 and the compose spec): a service per compose service, a call per `depends_on`,
//! `links` entry and environment value that names another service.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_yaml_ng::Value;

use super::{Builder, Reference, call_style, hosts_in_value, resolve_host};
use crate::model::{Protocol, ServiceId, ServiceKind};

/// Label of Syncopate's compose export with a service's kind.
pub const KIND_LABEL: &str = "dev.syncopate.kind";
/// Label of Syncopate's compose export with a service's display name.
pub const NAME_LABEL: &str = "dev.syncopate.name";
/// Label of Syncopate's compose export with a service's group.
pub const GROUP_LABEL: &str = "dev.syncopate.group";
/// The label projects use to say which application a service is part of (Kubernetes' recommended label, also
/// found on compose services).
pub const PART_OF_LABEL: &str = "app.kubernetes.io/part-of";
/// Label of Syncopate's compose export on the further nodes of a Kafka broker, naming the broker.
pub const NODE_OF_LABEL: &str = "dev.syncopate.node-of";
/// Kind label of Syncopate's compose export on the further nodes of a Kafka broker.
pub const KAFKA_NODE_KIND: &str = "broker-node";

#[derive(Deserialize)]
struct ComposeFile {
    #[serde(default)]
    services: Option<BTreeMap<String, Option<ComposeService>>>,
}

#[derive(Deserialize, Default)]
struct ComposeService {
    #[serde(default)]
    image: Option<Value>,
    #[serde(default)]
    hostname: Option<Value>,
    #[serde(default)]
    container_name: Option<Value>,
    #[serde(default)]
    ports: Option<Vec<Value>>,
    #[serde(default)]
    expose: Option<Vec<Value>>,
    #[serde(default)]
    environment: Option<Value>,
    #[serde(default)]
    depends_on: Option<Value>,
    #[serde(default)]
    links: Option<Vec<Value>>,
    #[serde(default)]
    deploy: Option<Deploy>,
    #[serde(default)]
    scale: Option<Value>,
    #[serde(default)]
    labels: Option<Value>,
    #[serde(default)]
    network_mode: Option<Value>,
}

#[derive(Deserialize, Default)]
struct Deploy {
    #[serde(default)]
    replicas: Option<Value>,
}

/// A YAML scalar as text (compose accepts numbers and booleans where it means strings).
pub(crate) fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `KEY=VALUE` list or `KEY: VALUE` map, as pairs (a key without a value is left out).
fn key_values(value: &Value) -> Vec<(String, String)> {
    match value {
        Value::Sequence(items) => items
            .iter()
            .filter_map(scalar_text)
            .filter_map(|item| {
                let (key, value) = item.split_once('=')?;
                Some((key.trim().to_owned(), value.trim().to_owned()))
            })
            .collect(),
        Value::Mapping(map) => map
            .iter()
            .filter_map(|(k, v)| Some((scalar_text(k)?, scalar_text(v)?)))
            .collect(),
        _ => Vec::new(),
    }
}

/// Names in a `depends_on` list or map.
fn dependency_names(value: &Value) -> Vec<String> {
    match value {
        Value::Sequence(items) => items.iter().filter_map(scalar_text).collect(),
        Value::Mapping(map) => map.keys().filter_map(scalar_text).collect(),
        _ => Vec::new(),
    }
}

/// The container port of a `ports` or `expose` entry: `"80"`, `"8080:80"`, `"127.0.0.1:8080:80/tcp"`,
/// `{target: 80}`, `80`.
fn container_port(entry: &Value) -> Option<u16> {
    let text = match entry {
        Value::Mapping(map) => return map.get("target").and_then(scalar_text)?.parse().ok(),
        other => scalar_text(other)?,
    };
    let without_protocol = text.split('/').next()?;
    let last = without_protocol.rsplit(':').next()?;
    // A range ("8000-8010") takes its first port.
    last.split('-').next()?.trim().parse().ok()
}

fn replicas(value: &Value) -> Option<u32> {
    scalar_text(value)?.parse().ok()
}

/// A compose service and its key.
type Keyed = (String, ComposeService);

/// The value of one of a service's labels.
fn label(service: &ComposeService, key: &str) -> Option<String> {
    service
        .labels
        .as_ref()
        .map(key_values)
        .unwrap_or_default()
        .into_iter()
        .find_map(|(k, v)| (k == key).then_some(v))
}

pub(crate) fn import(text: &str, name: &str) -> Result<Builder, String> {
    let file: ComposeFile =
        serde_yaml_ng::from_str(text).map_err(|e| format!("not a docker-compose file: {e}"))?;
    let Some(services) = file.services else {
        return Err("not a docker-compose file: it has no `services` section".to_owned());
    };
    let mut builder = Builder::new(name);
    let mut broker_protocols: BTreeMap<ServiceId, Option<Protocol>> = BTreeMap::new();
    // Names a service can be reached by: its key, and its hostname and container name when no other service
    // shares them.
    let mut names: BTreeMap<String, ServiceId> = BTreeMap::new();
    let mut alias_count: BTreeMap<String, usize> = BTreeMap::new();
    // A container that joins another's network (`network_mode: service:<name>`) is that service's sidecar, a
    // proxy such as the Envoy the exporter adds, not a service of the design; so is one our export labels a
    // sidecar (the egress proxy the replicas of a caller share). Addresses that point at one stand for the
    // service their variable names.
    let (proxies, services): (Vec<Keyed>, Vec<Keyed>) = services
        .into_iter()
        .map(|(key, service)| (key, service.unwrap_or_default()))
        .partition(|(_, service)| {
            service
                .network_mode
                .as_ref()
                .and_then(scalar_text)
                .is_some_and(|mode| mode.starts_with("service:"))
                || label(service, KIND_LABEL).as_deref() == Some("sidecar")
        });
    // The further nodes of a Kafka broker our export writes (`<broker>_node2`…) are replicas of that broker.
    let (nodes, services): (Vec<Keyed>, Vec<Keyed>) = services
        .into_iter()
        .partition(|(_, service)| label(service, KIND_LABEL).as_deref() == Some(KAFKA_NODE_KIND));
    let mut further_nodes: BTreeMap<String, u32> = BTreeMap::new();
    for broker in nodes
        .iter()
        .filter_map(|(_, node)| label(node, NODE_OF_LABEL))
    {
        *further_nodes
            .entry(broker.to_ascii_lowercase())
            .or_default() += 1;
    }
    let proxies: Vec<String> = proxies
        .into_iter()
        .chain(nodes)
        .map(|(key, _)| key.to_ascii_lowercase())
        .collect();
    for (key, service) in &services {
        let id = builder.add_service(key);
        names.insert(key.to_ascii_lowercase(), id.clone());
        for alias in [&service.hostname, &service.container_name]
            .into_iter()
            .flatten()
            .filter_map(scalar_text)
        {
            *alias_count.entry(alias.to_ascii_lowercase()).or_default() += 1;
        }
        let labels: BTreeMap<String, String> = service
            .labels
            .as_ref()
            .map(key_values)
            .unwrap_or_default()
            .into_iter()
            .collect();
        // `$$` is Compose's literal `$`.
        let image = service
            .image
            .as_ref()
            .and_then(scalar_text)
            .map(|image| image.replace("$$", "$"));
        let (kind, protocol) = builder.classify(
            key,
            labels.get(KIND_LABEL).map(String::as_str),
            image.as_deref(),
        );
        if kind == ServiceKind::Broker {
            broker_protocols.insert(id.clone(), protocol);
        }
        let ports: Vec<u16> = service
            .ports
            .iter()
            .chain(service.expose.iter())
            .flatten()
            .filter_map(container_port)
            .collect();
        let port = ports.first().copied();
        // gRPC's conventional port, or an image named for it: its HTTP calls are gRPC.
        if ports.contains(&50051) {
            builder.serves_grpc(
                &id,
                format!("{key} listens on 50051, gRPC's conventional port"),
            );
        } else if image.as_deref().is_some_and(|i| {
            i.rsplit('/')
                .next()
                .is_some_and(|name| name.to_ascii_lowercase().contains("grpc"))
        }) {
            builder.serves_grpc(&id, format!("{key}: its image is named for gRPC"));
        }
        let replicas = service
            .deploy
            .as_ref()
            .and_then(|d| d.replicas.as_ref())
            .or(service.scale.as_ref())
            .and_then(replicas)
            .filter(|r| *r >= 1);
        if let Some(entry) = builder.service_mut(&id) {
            entry.kind = kind;
            entry.image = image;
            entry.port = port;
            entry.replicas = replicas.unwrap_or(1);
            if let Some(display) = labels.get(NAME_LABEL) {
                // Compose reads `$$` as a literal `$` (and the exporter doubles every `$`).
                entry.name = Some(display.replace("$$", "$"));
            }
        }
        // A group from Syncopate's own label, else the part-of label.
        if let Some(group) = labels.get(GROUP_LABEL) {
            builder.group(&id, group.replace("$$", "$"), true, "its group label");
        } else if let Some(group) = labels.get(PART_OF_LABEL) {
            builder.group(&id, group.replace("$$", "$"), false, PART_OF_LABEL);
        }
    }
    for (key, service) in &services {
        let id = names[&key.to_ascii_lowercase()].clone();
        for alias in [&service.hostname, &service.container_name]
            .into_iter()
            .flatten()
            .filter_map(scalar_text)
            .map(|a| a.to_ascii_lowercase())
        {
            if alias_count.get(&alias) == Some(&1) {
                names.entry(alias).or_insert(id.clone());
            }
        }
    }
    for (key, service) in &services {
        let from = names[&key.to_ascii_lowercase()].clone();
        let mut targets: Vec<(ServiceId, String, Reference)> = Vec::new();
        let declared = service
            .depends_on
            .as_ref()
            .map(dependency_names)
            .unwrap_or_default()
            .into_iter()
            .map(|d| (d, "depends_on"))
            .chain(
                service
                    .links
                    .iter()
                    .flatten()
                    .filter_map(scalar_text)
                    .map(|l| (l.split(':').next().unwrap_or_default().to_owned(), "links")),
            );
        for (dependency, how) in declared {
            match names.get(&dependency.to_ascii_lowercase()) {
                Some(to) => targets.push((
                    to.clone(),
                    format!("{how} {dependency}"),
                    Reference::Declared,
                )),
                // Waiting for its own proxy is no call.
                None if proxies.contains(&dependency.to_ascii_lowercase()) => {}
                None => builder.skipped(format!(
                    "{key}: {how} names \"{dependency}\", which is not a service of this file"
                )),
            }
        }
        for (variable, value) in service
            .environment
            .as_ref()
            .map(key_values)
            .unwrap_or_default()
        {
            for host in hosts_in_value(&variable, &value) {
                // Through a local sidecar: the variable's name says which service.
                let host = super::sidecar_target(&variable, &host, &proxies).unwrap_or(host);
                match resolve_host(&host, &names) {
                    Some(to) => targets.push((
                        to.clone(),
                        format!("{variable}={value}"),
                        Reference::of_variable(&variable),
                    )),
                    None if super::is_address_key(&variable) => builder.skipped(format!(
                        "{key}: {variable} points at \"{host}\", which is not a service of this file"
                    )),
                    None => {}
                }
            }
        }
        // A consumer also depends on its broker to start after it; that is its subscription, not a publish.
        let subscribed: Vec<ServiceId> = targets
            .iter()
            .filter(|(_, _, reference)| *reference == Reference::Subscription)
            .map(|(to, _, _)| to.clone())
            .collect();
        for (to, why, reference) in targets {
            if to == from || (reference == Reference::Declared && subscribed.contains(&to)) {
                continue;
            }
            add_call(
                &mut builder,
                &broker_protocols,
                &from,
                &to,
                reference,
                key,
                &why,
            );
        }
    }
    for (broker, count) in further_nodes {
        if let Some(id) = names.get(&broker).cloned()
            && let Some(service) = builder.service_mut(&id)
        {
            service.replicas = service.replicas.saturating_add(count);
        }
    }
    Ok(builder)
}

/// Adds the call a reference stands for: a call to the referenced service, or, for a consumer's subscription to a
/// broker, the broker's delivery to the consumer.
pub(crate) fn add_call(
    builder: &mut Builder,
    broker_protocols: &BTreeMap<ServiceId, Option<Protocol>>,
    from: &ServiceId,
    to: &ServiceId,
    reference: Reference,
    what: &str,
    why: &str,
) {
    let Some(callee) = builder.service(to).cloned() else {
        return;
    };
    let protocol = broker_protocols.get(to).copied().flatten();
    let (mode, protocol) = call_style(&callee, protocol);
    let (caller, callee_id) =
        if reference == Reference::Subscription && callee.kind == ServiceKind::Broker {
            (to, from)
        } else {
            (from, to)
        };
    if builder.add_edge(caller, callee_id, mode, protocol) {
        builder.guessed(format!(
            "{what}: {} call {caller} -> {callee_id} over {} (from {why})",
            mode.as_str(),
            protocol.as_str()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_ports_in_every_form() {
        for (entry, port) in [
            ("\"80\"", 80),
            ("\"8080:80\"", 80),
            ("\"127.0.0.1:8080:80/tcp\"", 80),
            ("\"5775:5775/udp\"", 5775),
            ("{target: 81, published: 8081}", 81),
            ("82", 82),
            ("\"9000-9010:9000-9010\"", 9000),
        ] {
            let value: Value = serde_yaml_ng::from_str(entry).unwrap();
            assert_eq!(container_port(&value), Some(port), "{entry}");
        }
    }
}
