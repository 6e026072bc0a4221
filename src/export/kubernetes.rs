//! Kubernetes manifests, one multi-document file per deployed service: a `Deployment` (a `StatefulSet` for brokers
//! and databases, which keep state) and a `Service`. Clients and external services are not deployed.
//!
//! Each container gets the service's image and port, TCP readiness and liveness probes on that port (the design
//! does not know health paths), and one `<CALLEE>_ADDR=<callee>:<port>` variable per service it talks to, sync or
//! async; a consumer of a broker gets the broker's address too, since it connects to it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::namespaces::Namespaces;
use super::{
    ExportedFile, Exporter, Metadata, Object, Target, header_comment, is_deployed, peer_addresses,
    service_image, service_ports, sorted_services, to_yaml_documents,
};
use crate::model::{CallMode, Design, Service, ServiceKind};

/// Annotation that carries a service's display name.
pub const NAME_ANNOTATION: &str = crate::import::kubernetes::NAME_ANNOTATION;
/// Annotation that carries a service's kind, which an image alone may not tell.
pub const KIND_ANNOTATION: &str = crate::import::kubernetes::KIND_ANNOTATION;
/// Annotation that carries a service's notes.
pub const NOTES_ANNOTATION: &str = "syncopate.dev/notes";
/// Annotation that carries a service's group (its namespace holds a cleaned form of it).
pub const GROUP_ANNOTATION: &str = crate::import::kubernetes::GROUP_ANNOTATION;
/// The file of the groups' namespaces: named to sort before every service's file (ids start with a letter), so
/// `kubectl apply -f kubernetes/` creates the namespaces first.
pub const NAMESPACES_FILE: &str = "kubernetes/00-namespaces.yaml";

pub(crate) struct KubernetesExporter;

impl Exporter for KubernetesExporter {
    fn target(&self) -> Target {
        Target::Kubernetes
    }

    fn export(&self, design: &Design) -> Vec<ExportedFile> {
        let namespaces = Namespaces::of(design);
        let namespace_objects: Vec<NamespaceObject> = namespaces
            .groups()
            .map(|(group, namespace)| NamespaceObject {
                api_version: "v1",
                kind: "Namespace",
                metadata: Metadata {
                    name: namespace.to_owned(),
                    namespace: None,
                    labels: BTreeMap::new(),
                    annotations: BTreeMap::from([(GROUP_ANNOTATION, group.to_owned())]),
                },
            })
            .collect();
        let namespaces_file = (!namespace_objects.is_empty()).then(|| ExportedFile {
            path: NAMESPACES_FILE.to_owned(),
            contents: format!(
                "{}{}",
                header_comment(
                    design,
                    "Kubernetes namespaces, one per group of the design; services outside any group are in \
                     \"default\". Apply this file first.",
                ),
                to_yaml_documents(&namespace_objects)
            ),
        });
        let services = sorted_services(design)
            .into_iter()
            .filter(|s| is_deployed(s))
            .map(|service| {
                let stateful = matches!(service.kind, ServiceKind::Broker | ServiceKind::Database);
                let documents = [
                    Resource::Workload(workload(design, &namespaces, service, stateful)),
                    Resource::Service(service_object(design, &namespaces, service, stateful)),
                ];
                let what = format!(
                    "Kubernetes {} and Service for \"{}\" ({}).",
                    if stateful {
                        "StatefulSet"
                    } else {
                        "Deployment"
                    },
                    service.id,
                    service.display_name()
                );
                ExportedFile {
                    path: format!("kubernetes/{}.yaml", service.id),
                    contents: format!(
                        "{}{}",
                        header_comment(design, &what),
                        to_yaml_documents(&documents)
                    ),
                }
            });
        namespaces_file.into_iter().chain(services).collect()
    }
}

/// Whether a sync call to the service has a circuit breaker.
fn guarded_by_breaker(design: &Design, service: &Service) -> bool {
    design
        .edges
        .iter()
        .any(|e| e.to == service.id && e.mode == CallMode::Sync && e.circuit_breaker.is_some())
}

// ------------------------------------------------------------------------------------------------ typed model

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NamespaceObject {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Resource {
    Workload(Object<WorkloadSpec>),
    Service(Object<ServiceSpec>),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WorkloadSpec {
    replicas: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_name: Option<String>,
    selector: Selector,
    template: PodTemplate,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Selector {
    match_labels: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
struct PodTemplate {
    metadata: PodMetadata,
    spec: PodSpec,
}

#[derive(Serialize)]
struct PodMetadata {
    labels: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
struct PodSpec {
    containers: Vec<Container>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Container {
    name: String,
    image: String,
    ports: Vec<ContainerPort>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    env: Vec<EnvVar>,
    readiness_probe: Probe,
    liveness_probe: Probe,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContainerPort {
    name: &'static str,
    container_port: u16,
}

#[derive(Serialize)]
struct EnvVar {
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    tcp_socket: TcpSocket,
    initial_delay_seconds: u32,
    period_seconds: u32,
}

#[derive(Serialize)]
struct TcpSocket {
    port: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceSpec {
    /// "None" for the headless Service a StatefulSet needs.
    #[serde(rename = "clusterIP", skip_serializing_if = "Option::is_none")]
    cluster_ip: Option<&'static str>,
    selector: BTreeMap<&'static str, String>,
    ports: Vec<ServicePort>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServicePort {
    name: &'static str,
    port: u16,
    target_port: &'static str,
}

// ------------------------------------------------------------------------------------------------ building

fn labels(service: &Service) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("app", service.id.to_string()),
        ("app.kubernetes.io/name", service.id.to_string()),
    ])
}

fn metadata(namespaces: &Namespaces, service: &Service) -> Metadata {
    let mut annotations = BTreeMap::from([(KIND_ANNOTATION, service.kind.as_str().to_owned())]);
    if let Some(group) = &service.group {
        annotations.insert(GROUP_ANNOTATION, group.clone());
    }
    if let Some(name) = &service.name {
        annotations.insert(NAME_ANNOTATION, name.clone());
    }
    if let Some(notes) = &service.notes {
        annotations.insert(NOTES_ANNOTATION, notes.clone());
    }
    Metadata {
        name: service.id.to_string(),
        namespace: namespaces.of_service(service.id.as_str()),
        labels: labels(service),
        annotations,
    }
}

fn workload(
    design: &Design,
    namespaces: &Namespaces,
    service: &Service,
    stateful: bool,
) -> Object<WorkloadSpec> {
    let ports = service_ports(design, service);
    // The probes watch the main port (the service's own, listed first).
    let main_port = ports.first().map_or("http", |(name, _)| *name);
    let probe = |initial_delay_seconds, period_seconds| Probe {
        tcp_socket: TcpSocket { port: main_port },
        initial_delay_seconds,
        period_seconds,
    };
    Object {
        api_version: "apps/v1",
        kind: if stateful {
            "StatefulSet"
        } else {
            "Deployment"
        },
        metadata: metadata(namespaces, service),
        spec: WorkloadSpec {
            replicas: service.replicas,
            service_name: stateful.then(|| service.id.to_string()),
            selector: Selector {
                match_labels: BTreeMap::from([("app", service.id.to_string())]),
            },
            template: PodTemplate {
                metadata: PodMetadata {
                    labels: labels(service),
                },
                spec: PodSpec {
                    containers: vec![Container {
                        name: service.id.to_string(),
                        image: service_image(design, service),
                        ports: ports
                            .iter()
                            .map(|&(name, container_port)| ContainerPort {
                                name,
                                container_port,
                            })
                            .collect(),
                        env: peer_addresses(design, service, |peer| {
                            namespaces.host(service.id.as_str(), peer.id.as_str())
                        })
                        .into_iter()
                        .map(|(name, value)| EnvVar { name, value })
                        .collect(),
                        readiness_probe: probe(0, 5),
                        liveness_probe: probe(10, 10),
                    }],
                },
            },
        },
    }
}

fn service_object(
    design: &Design,
    namespaces: &Namespaces,
    service: &Service,
    stateful: bool,
) -> Object<ServiceSpec> {
    Object {
        api_version: "v1",
        kind: "Service",
        metadata: metadata(namespaces, service),
        spec: ServiceSpec {
            // Headless for state (stable pod names) and for callees guarded by a breaker: the callers' proxies
            // (Envoy, nginx) then resolve every replica and eject a failing one on its own, where one virtual IP
            // would be one host that is ejected whole or not at all.
            cluster_ip: (stateful || guarded_by_breaker(design, service)).then_some("None"),
            selector: BTreeMap::from([("app", service.id.to_string())]),
            ports: service_ports(design, service)
                .into_iter()
                .map(|(name, port)| ServicePort {
                    name,
                    port,
                    target_port: name,
                })
                .collect(),
        },
    }
}
