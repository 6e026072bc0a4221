//! Kubernetes manifests (multi-document YAML): a service per Deployment, StatefulSet, DaemonSet or ReplicaSet, the
//! Services that select its pods as names it is reached by, and a call per container environment value that names
//! a Service (a host, `host:port`, a URL, or a cluster DNS name).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_yaml_ng::Value;

use super::compose::{add_call, scalar_text};
use super::{Builder, Reference, hosts_in_value, is_address_key, resolve_host};
use crate::model::{Protocol, ServiceId, ServiceKind};

/// Annotation of Syncopate's Kubernetes export with a service's kind.
pub const KIND_ANNOTATION: &str = "syncopate.dev/kind";
/// Annotation of Syncopate's Kubernetes export with a service's display name.
pub const NAME_ANNOTATION: &str = "syncopate.dev/name";
/// Annotation of Syncopate's Kubernetes export with a service's group (exactly; its namespace is a cleaned form).
pub const GROUP_ANNOTATION: &str = "syncopate.dev/group";

/// The objects read; every other kind is skipped. Only the fields used are named, so the rest of an object (which
/// real manifests sometimes repeat, like a doubled `limits:`) is not looked at.
#[derive(Deserialize)]
#[serde(tag = "kind")]
enum Object {
    Deployment(Workload),
    StatefulSet(Workload),
    DaemonSet(Workload),
    ReplicaSet(Workload),
    Service(KubeService),
    #[serde(other)]
    Other,
}

#[derive(Deserialize, Default)]
struct Metadata {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<Value>,
    #[serde(default)]
    labels: BTreeMap<String, Value>,
    #[serde(default)]
    annotations: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct Workload {
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    spec: WorkloadSpec,
}

#[derive(Deserialize, Default)]
struct WorkloadSpec {
    #[serde(default)]
    replicas: Option<Value>,
    #[serde(default)]
    template: PodTemplate,
}

#[derive(Deserialize, Default)]
struct PodTemplate {
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    spec: PodSpec,
}

#[derive(Deserialize, Default)]
struct PodSpec {
    #[serde(default, deserialize_with = "null_as_empty")]
    containers: Vec<Container>,
}

#[derive(Deserialize, Default)]
struct Container {
    #[serde(default)]
    image: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    ports: Vec<ContainerPort>,
    #[serde(default, deserialize_with = "null_as_empty")]
    env: Vec<EnvVar>,
    #[serde(default, rename = "readinessProbe")]
    readiness_probe: Option<Value>,
    #[serde(default, rename = "livenessProbe")]
    liveness_probe: Option<Value>,
}

#[derive(Deserialize)]
struct ContainerPort {
    #[serde(default, rename = "containerPort")]
    container_port: Option<Value>,
    #[serde(default)]
    name: Option<Value>,
}

#[derive(Deserialize)]
struct EnvVar {
    name: String,
    #[serde(default)]
    value: Option<Value>,
}

#[derive(Deserialize)]
struct KubeService {
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    spec: ServiceSpec,
}

#[derive(Deserialize, Default)]
struct ServiceSpec {
    #[serde(default)]
    selector: BTreeMap<String, Value>,
    #[serde(default, deserialize_with = "null_as_empty")]
    ports: Vec<ServicePort>,
}

#[derive(Deserialize)]
struct ServicePort {
    #[serde(default)]
    name: Option<Value>,
    #[serde(default, rename = "appProtocol")]
    app_protocol: Option<Value>,
}

/// A list that may be written as nothing (`env:` with no entries is `null` in YAML): empty then.
fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// What says a set of named ports serves gRPC: a port named `grpc…` (Istio's convention) or with `appProtocol`
/// gRPC, and none named `http…` (a service of both keeps HTTP: which calls are which is not said).
fn grpc_by_port_names(
    ports: impl Iterator<Item = (Option<String>, Option<String>)>,
) -> Option<String> {
    let mut grpc = None;
    for (name, app_protocol) in ports {
        let name = name.unwrap_or_default().to_ascii_lowercase();
        let app_protocol = app_protocol.unwrap_or_default().to_ascii_lowercase();
        if name.starts_with("http") || app_protocol.starts_with("http") {
            return None;
        }
        if grpc.is_none() && (name.starts_with("grpc") || app_protocol.contains("grpc")) {
            grpc = Some(if app_protocol.contains("grpc") {
                format!("a port's appProtocol is {app_protocol}")
            } else {
                format!("a port is named {name}")
            });
        }
    }
    grpc
}

/// Whether a container's probes check gRPC health: Kubernetes' own `grpc` probe, or the `grpc_health_probe` tool.
fn grpc_probe(container: &Container) -> bool {
    [&container.readiness_probe, &container.liveness_probe]
        .into_iter()
        .flatten()
        .any(|probe| {
            probe.get("grpc").is_some()
                || probe
                    .get("exec")
                    .and_then(|e| e.get("command"))
                    .and_then(Value::as_sequence)
                    .is_some_and(|c| {
                        c.iter()
                            .filter_map(scalar_text)
                            .any(|part| part.contains("grpc_health_probe"))
                    })
        })
}

fn labels(map: &BTreeMap<String, Value>) -> BTreeMap<String, String> {
    map.iter()
        .filter_map(|(k, v)| Some((k.clone(), scalar_text(v)?)))
        .collect()
}

/// A workload's group, whether it is exact, and where it was read: Syncopate's group annotation (exact), else its
/// namespace (other than `default`), else its `app.kubernetes.io/part-of` label (the workload's or its pods').
fn workload_group(workload: &Workload) -> Option<(String, bool, &'static str)> {
    let annotations = labels(&workload.metadata.annotations);
    if let Some(group) = annotations.get(GROUP_ANNOTATION) {
        return Some((group.clone(), true, "its group annotation"));
    }
    if let Some(namespace) = workload
        .metadata
        .namespace
        .as_ref()
        .and_then(scalar_text)
        .filter(|n| n != "default")
    {
        return Some((namespace, false, "its namespace"));
    }
    let key = super::compose::PART_OF_LABEL;
    labels(&workload.metadata.labels)
        .remove(key)
        .or_else(|| labels(&workload.spec.template.metadata.labels).remove(key))
        .map(|g| (g, false, key))
}

pub(crate) fn import(text: &str, name: &str) -> Result<Builder, String> {
    let mut workloads: Vec<(String, Workload)> = Vec::new();
    let mut services: Vec<KubeService> = Vec::new();
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    // First the kinds, to name what is skipped; then the objects read.
    #[derive(Deserialize)]
    struct Head {
        #[serde(default)]
        kind: Option<Value>,
    }
    let mut kinds = Vec::new();
    for (index, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        match Option::<Head>::deserialize(document) {
            Ok(None) => kinds.push(None),
            Ok(Some(head)) => match head.kind.as_ref().and_then(scalar_text) {
                Some(kind) => kinds.push(Some(kind)),
                None => {
                    return Err(format!(
                        "document {}: not a Kubernetes object (it has no `kind`)",
                        index + 1
                    ));
                }
            },
            Err(e) => {
                return Err(format!(
                    "not Kubernetes manifests: document {}: {e}",
                    index + 1
                ));
            }
        }
    }
    for (index, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let Some(Some(kind)) = kinds.get(index) else {
            continue;
        };
        let object = match Option::<Object>::deserialize(document) {
            Ok(Some(object)) => object,
            Ok(None) => continue,
            Err(e) => return Err(format!("document {} ({kind}): {e}", index + 1)),
        };
        if matches!(object, Object::Other) {
            *skipped.entry(kind.clone()).or_default() += 1;
        }
        match object {
            Object::Deployment(w)
            | Object::StatefulSet(w)
            | Object::DaemonSet(w)
            | Object::ReplicaSet(w) => {
                let Some(name) = w.metadata.name.clone() else {
                    return Err(format!(
                        "document {}: a workload without metadata.name",
                        index + 1
                    ));
                };
                workloads.push((name, w));
            }
            Object::Service(s) => services.push(s),
            Object::Other => {}
        }
    }
    let mut builder = Builder::new(name);
    for (kind, count) in skipped {
        builder.skipped(format!(
            "{count} {kind} object(s): they are not services or calls"
        ));
    }
    let mut broker_protocols: BTreeMap<ServiceId, Option<Protocol>> = BTreeMap::new();
    let mut names: BTreeMap<String, ServiceId> = BTreeMap::new();
    for (workload_name, workload) in &workloads {
        let id = builder.add_service(workload_name);
        names.insert(workload_name.to_ascii_lowercase(), id.clone());
        let annotations = labels(&workload.metadata.annotations);
        let container = workload.spec.template.spec.containers.first();
        let image = container.and_then(|c| c.image.clone());
        let (kind, protocol) = builder.classify(
            workload_name,
            annotations.get(KIND_ANNOTATION).map(String::as_str),
            image.as_deref(),
        );
        if kind == ServiceKind::Broker {
            broker_protocols.insert(id.clone(), protocol);
        }
        let port = workload
            .spec
            .template
            .spec
            .containers
            .iter()
            .flat_map(|c| &c.ports)
            .find_map(|p| {
                p.container_port
                    .as_ref()
                    .and_then(scalar_text)?
                    .parse()
                    .ok()
            });
        let replicas = workload
            .spec
            .replicas
            .as_ref()
            .and_then(scalar_text)
            .and_then(|r| r.parse::<u32>().ok())
            .filter(|r| *r >= 1);
        let containers = &workload.spec.template.spec.containers;
        let by_name = grpc_by_port_names(
            containers
                .iter()
                .flat_map(|c| &c.ports)
                .map(|p| (p.name.as_ref().and_then(scalar_text), None)),
        );
        if let Some(why) = by_name {
            builder.serves_grpc(&id, format!("{workload_name}: {why}"));
        } else if containers.iter().any(grpc_probe) {
            builder.serves_grpc(
                &id,
                format!("{workload_name}: its probe checks gRPC health"),
            );
        }
        if let Some(entry) = builder.service_mut(&id) {
            entry.kind = kind;
            entry.image = image;
            entry.port = port;
            entry.replicas = replicas.unwrap_or(1);
            if let Some(display) = annotations.get(NAME_ANNOTATION) {
                entry.name = Some(display.clone());
            }
        }
        if let Some((group, exact, from)) = workload_group(workload) {
            builder.group(&id, group, exact, from);
        }
    }
    // A Service is a name for the workloads whose pod labels its selector matches.
    for service in &services {
        let Some(service_name) = &service.metadata.name else {
            continue;
        };
        let selector = labels(&service.spec.selector);
        let selected: Vec<&String> = workloads
            .iter()
            .filter(|(_, w)| {
                let pod = labels(&w.spec.template.metadata.labels);
                !selector.is_empty() && selector.iter().all(|(k, v)| pod.get(k) == Some(v))
            })
            .map(|(name, _)| name)
            .collect();
        match selected.as_slice() {
            [one] => {
                let id = names[&one.to_ascii_lowercase()].clone();
                if let Some(why) = grpc_by_port_names(service.spec.ports.iter().map(|p| {
                    (
                        p.name.as_ref().and_then(scalar_text),
                        p.app_protocol.as_ref().and_then(scalar_text),
                    )
                })) {
                    builder.serves_grpc(&id, format!("Service {service_name}: {why}"));
                }
                names.entry(service_name.to_ascii_lowercase()).or_insert(id);
            }
            [] => builder.skipped(format!(
                "Service {service_name}: it selects no workload of these manifests"
            )),
            many => builder.skipped(format!(
                "Service {service_name}: it selects {} workloads, so calls to it are ambiguous",
                many.len()
            )),
        }
    }
    for (workload_name, workload) in &workloads {
        let from = names[&workload_name.to_ascii_lowercase()].clone();
        for variable in workload
            .spec
            .template
            .spec
            .containers
            .iter()
            .flat_map(|c| &c.env)
        {
            let Some(value) = variable.value.as_ref().and_then(scalar_text) else {
                continue;
            };
            for host in hosts_in_value(&variable.name, &value) {
                match resolve_host(&host, &names) {
                    Some(to) if *to != from => {
                        let to = to.clone();
                        add_call(
                            &mut builder,
                            &broker_protocols,
                            &from,
                            &to,
                            Reference::of_variable(&variable.name),
                            workload_name,
                            &format!("{}={value}", variable.name),
                        );
                    }
                    Some(_) => {}
                    None if is_address_key(&variable.name) || host.contains('.') => {
                        builder.skipped(format!(
                            "{workload_name}: {} points at \"{host}\", which is not a Service of these manifests",
                            variable.name
                        ));
                    }
                    None => {}
                }
            }
        }
    }
    Ok(builder)
}
