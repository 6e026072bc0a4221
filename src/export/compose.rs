//! One `docker-compose.yml` with a service per deployed service of the design.
//!
//! Each service gets its image, its port (published on the host for what outside callers reach, gateways and the
//! services clients call, each on host ports of its own, one per replica; only exposed to the other containers
//! otherwise), `deploy.replicas`, the `<PEER>_ADDR` variables of everything it talks to, and
//! `depends_on` so that what it needs starts first: a caller depends on its callees, and a consumer on the broker
//! that delivers to it (never the broker on its consumers). A dependency that would close a cycle is left out,
//! since Compose refuses cyclic `depends_on`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{
    ExportedFile, Exporter, Target, compose_literal, header_comment, is_deployed, peer_addresses,
    service_image, service_port, sorted_services, to_yaml,
};
use crate::model::{CallMode, Design, Service, ServiceKind};

/// Label that carries a service's display name.
pub const NAME_LABEL: &str = crate::import::compose::NAME_LABEL;
/// Label with a service's group.
pub const GROUP_LABEL: &str = crate::import::compose::GROUP_LABEL;
/// Label that carries a service's kind, which an image alone may not tell.
pub const KIND_LABEL: &str = crate::import::compose::KIND_LABEL;
/// Label on the further nodes of a Kafka broker: the broker they are replicas of.
pub const NODE_OF_LABEL: &str = crate::import::compose::NODE_OF_LABEL;
/// The kind label of a Kafka broker's further nodes.
pub const KAFKA_NODE_KIND: &str = crate::import::compose::KAFKA_NODE_KIND;

pub(crate) struct ComposeExporter;

impl Exporter for ComposeExporter {
    fn target(&self) -> Target {
        Target::Compose
    }

    fn export(&self, design: &Design) -> Vec<ExportedFile> {
        let deployed: Vec<&Service> = sorted_services(design)
            .into_iter()
            .filter(|s| is_deployed(s))
            .collect();
        if deployed.is_empty() {
            return Vec::new();
        }
        let dependencies = dependencies(design, &deployed);
        let mut host_ports = HostPorts::default();
        let services = deployed
            .iter()
            .map(|service| {
                let container_port = service_port(design, service);
                let port = container_port.to_string();
                let published =
                    service.kind == ServiceKind::Gateway || called_by_client(design, service);
                let mut labels = BTreeMap::from([(KIND_LABEL, service.kind.as_str().to_owned())]);
                if let Some(name) = &service.name {
                    // Compose interpolates `$` in every value; doubled, the name stays the name.
                    labels.insert(NAME_LABEL, compose_literal(name));
                }
                if let Some(group) = &service.group {
                    labels.insert(GROUP_LABEL, compose_literal(group));
                }
                // A gateway that runs nginx (no image of its own, or an nginx image) mounts the configuration this
                // export writes beside it.
                let nginx = service.kind == ServiceKind::Gateway
                    && service
                        .image
                        .as_deref()
                        .is_none_or(|image| image.starts_with("nginx"))
                    && super::nginx::has_config(design, service);
                // One that runs Envoy mounts its exported front proxy.
                let envoy = service.kind == ServiceKind::Gateway
                    && service
                        .image
                        .as_deref()
                        .is_some_and(|image| image.starts_with("envoyproxy/envoy"))
                    && !super::sync_calls_from(design, service).is_empty();
                let image = match (&service.image, nginx) {
                    (None, true) => NGINX_IMAGE.to_owned(),
                    _ => service_image(design, service),
                };
                let volumes = if nginx {
                    vec![format!(
                        "../nginx/{}.conf:/etc/nginx/nginx.conf:ro",
                        service.id
                    )]
                } else if envoy {
                    vec![format!(
                        "../envoy/{}-front-proxy.yaml:/etc/envoy/envoy.yaml:ro",
                        service.id
                    )]
                } else {
                    Vec::new()
                };
                let sidecar = runs_sidecar(design, service);
                (
                    service.id.to_string(),
                    ComposeService {
                        network_mode: None,
                        image: compose_literal(&image),
                        volumes,
                        ports: if published {
                            vec![host_ports.mapping(container_port, replicas_run(design, service))]
                        } else {
                            Vec::new()
                        },
                        expose: if published { Vec::new() } else { vec![port] },
                        environment: {
                            let mut environment =
                                peer_addresses(design, service, |peer| peer.id.to_string());
                            if sidecar {
                                // Sync calls go through the sidecar's outbound listener for the callee.
                                environment.extend(sidecar_addresses(design, service));
                            }
                            if is_kafka(design, service) {
                                environment.extend(kafka_environment(service, container_port, 1));
                            }
                            environment
                        },
                        depends_on: {
                            let mut depends_on: Vec<String> = dependencies
                                .get(service.id.as_str())
                                .map(|d| d.iter().map(|s| s.to_string()).collect())
                                .unwrap_or_default();
                            if sidecar && service.replicas > 1 {
                                // Its calls go through the shared egress proxy.
                                depends_on.push(proxy_key(service));
                                depends_on.sort();
                            }
                            depends_on
                        },
                        deploy: Deploy {
                            replicas: replicas_run(design, service),
                        },
                        labels,
                    },
                )
            })
            .collect::<BTreeMap<String, ComposeService>>();
        // Each caller's outbound proxy, running the exported bootstrap. Its key has `_`, which no service id holds,
        // so it never meets a service's. A caller of one replica gets its sidecar on its network (its 127.0.0.1);
        // compose joins a container to one other container's network only, so the replicas of a caller of several
        // share one egress proxy reached by name, which enforces their bulkheads and breakers together.
        let mut services = services;
        for service in deployed.iter().filter(|s| runs_sidecar(design, s)) {
            let joined = service.replicas == 1;
            let calls = super::sync_calls_from(design, service).len();
            services.insert(
                proxy_key(service),
                ComposeService {
                    image: ENVOY_IMAGE.to_owned(),
                    network_mode: joined.then(|| format!("service:{}", service.id)),
                    volumes: vec![format!(
                        "../{}:/etc/envoy/envoy.yaml:ro",
                        if joined {
                            format!("envoy/{}-sidecar.yaml", service.id)
                        } else {
                            super::envoy::egress_path(service)
                        }
                    )],
                    ports: Vec::new(),
                    expose: if joined {
                        Vec::new()
                    } else {
                        (0..calls)
                            .map(|i| super::envoy::sidecar_port(i).to_string())
                            .collect()
                    },
                    environment: BTreeMap::new(),
                    depends_on: if joined {
                        vec![service.id.to_string()]
                    } else {
                        Vec::new()
                    },
                    deploy: Deploy { replicas: 1 },
                    labels: BTreeMap::from([(KIND_LABEL, "sidecar".to_owned())]),
                },
            );
        }
        // The further nodes of each Kafka cluster, each a service of its own (see `kafka_environment`).
        for service in deployed
            .iter()
            .filter(|s| is_kafka(design, s) && kafka_nodes(s) > 1)
        {
            let port = service_port(design, service);
            for node in 2..=kafka_nodes(service) {
                services.insert(
                    kafka_node_host(service, node),
                    ComposeService {
                        image: compose_literal(&service_image(design, service)),
                        network_mode: None,
                        volumes: Vec::new(),
                        ports: Vec::new(),
                        expose: vec![port.to_string()],
                        environment: kafka_environment(service, port, node),
                        depends_on: Vec::new(),
                        deploy: Deploy { replicas: 1 },
                        labels: BTreeMap::from([
                            (KIND_LABEL, KAFKA_NODE_KIND.to_owned()),
                            (NODE_OF_LABEL, service.id.to_string()),
                        ]),
                    },
                );
            }
        }
        let mut what =
            "docker-compose file: one service per deployed service of the design.".to_owned();
        let clustered: Vec<String> = deployed
            .iter()
            .filter(|s| is_kafka(design, s) && s.replicas > 1)
            .map(|s| {
                let nodes = kafka_nodes(s);
                if nodes < s.replicas {
                    format!("{} ({nodes} nodes of its {} replicas)", s.id, s.replicas)
                } else {
                    format!("{} ({nodes} nodes)", s.id)
                }
            })
            .collect();
        if !clustered.is_empty() {
            what.push_str(&format!(
                " Each replica of a Kafka broker is a service of its own here, <broker> and <broker>_node2…, \
                 since every node needs its own id and advertised address: {}.",
                clustered.join(", ")
            ));
        }
        vec![ExportedFile {
            path: "compose/docker-compose.yml".to_owned(),
            contents: format!(
                "{}{}",
                header_comment(design, &what),
                to_yaml(&ComposeFile { services })
            ),
        }]
    }
}

#[derive(Serialize)]
struct ComposeFile {
    services: BTreeMap<String, ComposeService>,
}

/// The image a gateway runs its exported nginx configuration with.
pub const NGINX_IMAGE: &str = "nginx:1.27";

#[derive(Serialize)]
struct ComposeService {
    image: String,
    /// `service:<caller>` for a sidecar, which shares its caller's network (and so its 127.0.0.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    network_mode: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    volumes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ports: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    expose: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    environment: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<String>,
    deploy: Deploy,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
struct Deploy {
    replicas: u32,
}

/// Host ports handed out so far: every published replica gets a host port no other takes (two services on 8080 would
/// make `docker compose up` fail, and so would replicas sharing one).
#[derive(Default)]
struct HostPorts {
    taken: BTreeSet<u32>,
}

impl HostPorts {
    /// The `ports` entry of a service: `HOST:PORT` for one replica, `FIRST-LAST:PORT` (a port per replica) for
    /// several, from the first free run of host ports at or above the container's port.
    fn mapping(&mut self, container_port: u16, replicas: u32) -> String {
        let count = replicas.max(1);
        let mut first = u32::from(container_port);
        while (first..first + count).any(|p| self.taken.contains(&p)) {
            first += 1;
        }
        // Above the last port, wrap to the unprivileged range; a design never publishes thousands of services.
        if first + count - 1 > u32::from(u16::MAX) {
            first = 20_000;
            while (first..first + count).any(|p| self.taken.contains(&p)) {
                first += 1;
            }
        }
        self.taken.extend(first..first + count);
        if count == 1 {
            format!("{first}:{container_port}")
        } else {
            format!("{first}-{}:{container_port}", first + count - 1)
        }
    }
}

/// The image the sidecars run.
pub const ENVOY_IMAGE: &str = "envoyproxy/envoy:v1.31-latest";

/// Whether a service's calls go through an exported Envoy proxy here: it makes sync calls (so the Envoy export has
/// a sidecar for it, and an egress proxy when it runs several replicas).
fn runs_sidecar(design: &Design, service: &Service) -> bool {
    service.kind != ServiceKind::Gateway && !super::sync_calls_from(design, service).is_empty()
}

/// The compose key of a caller's proxy.
fn proxy_key(service: &Service) -> String {
    format!("{}_envoy", service.id)
}

/// `<CALLEE>_ADDR` of each sync call through the caller's proxy: `127.0.0.1:<port>` of its sidecar's outbound
/// listener, or `<caller>_envoy:<port>` of the shared egress proxy (the first call's, when several go to one
/// callee).
fn sidecar_addresses(design: &Design, service: &Service) -> BTreeMap<String, String> {
    let host = if service.replicas == 1 {
        "127.0.0.1".to_owned()
    } else {
        proxy_key(service)
    };
    let mut addresses = BTreeMap::new();
    for (i, call) in super::sync_calls_from(design, service).iter().enumerate() {
        let Some(callee) = design.service(call.to.as_str()) else {
            continue;
        };
        let port = super::envoy::sidecar_port(i);
        addresses
            .entry(super::address_variable(callee))
            .or_insert_with(|| format!("{host}:{port}"));
    }
    addresses
}

/// Whether a service is a Kafka broker.
fn is_kafka(design: &Design, service: &Service) -> bool {
    service.kind == ServiceKind::Broker
        && super::broker_protocol(design, service) == Some(crate::model::Protocol::Kafka)
}

/// The replicas compose runs: the design's, but one for a Kafka broker (see `kafka_environment`).
fn replicas_run(design: &Design, service: &Service) -> u32 {
    if is_kafka(design, service) {
        1
    } else {
        service.replicas
    }
}

/// Most Kafka nodes compose runs for one broker: enough for every replication factor the Kafka export uses (at most
/// 3) and an odd controller quorum, few enough to start on one machine.
pub const MAX_KAFKA_NODES: u32 = 5;

/// The Kafka nodes compose runs for a broker: the design's replicas, at most [`MAX_KAFKA_NODES`].
fn kafka_nodes(service: &Service) -> u32 {
    service.replicas.clamp(1, MAX_KAFKA_NODES)
}

/// The compose key and host name of a Kafka broker's node (1-based): the service's id for the first, so clients
/// bootstrap from the service's name; `<id>_node<k>` for the others (`_` keeps it apart from every service id).
fn kafka_node_host(service: &Service, node: u32) -> String {
    if node == 1 {
        service.id.to_string()
    } else {
        format!("{}_node{node}", service.id)
    }
}

/// One node of a KRaft Kafka cluster (broker and controller in one process) that clients in the other containers
/// reach by name: the image's defaults advertise `localhost`, which no other container can connect to. Every node
/// of a broker is a compose service of its own, since compose gives the replicas of one service one environment and
/// each node needs its own id and advertised address; all are voters of the controller quorum, and the internal
/// topics are replicated as the Kafka export replicates the design's topics.
fn kafka_environment(service: &Service, port: u16, node: u32) -> BTreeMap<String, String> {
    let nodes = kafka_nodes(service);
    let voters = if nodes == 1 {
        "1@localhost:9093".to_owned()
    } else {
        (1..=nodes)
            .map(|k| format!("{k}@{}:9093", kafka_node_host(service, k)))
            .collect::<Vec<_>>()
            .join(",")
    };
    let replication = nodes.min(3);
    let min_isr = if replication >= 3 { 2 } else { 1 };
    let mut environment: BTreeMap<String, String> = [
        ("KAFKA_NODE_ID", node.to_string()),
        ("KAFKA_PROCESS_ROLES", "broker,controller".to_owned()),
        (
            "KAFKA_LISTENERS",
            format!("PLAINTEXT://:{port},CONTROLLER://:9093"),
        ),
        (
            "KAFKA_ADVERTISED_LISTENERS",
            format!("PLAINTEXT://{}:{port}", kafka_node_host(service, node)),
        ),
        ("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER".to_owned()),
        (
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
            "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT".to_owned(),
        ),
        ("KAFKA_CONTROLLER_QUORUM_VOTERS", voters),
        (
            "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
            replication.to_string(),
        ),
        (
            "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
            replication.to_string(),
        ),
        ("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", min_isr.to_string()),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect();
    if nodes > 1 {
        // The nodes of one cluster must share its id (a UUID, base64url): one derived from the broker's id.
        environment.insert(
            "CLUSTER_ID".to_owned(),
            kafka_cluster_id(service.id.as_str()),
        );
    }
    environment
}

/// A Kafka cluster id for a broker: 16 bytes from two FNV-1a hashes of its id, in unpadded base64url as Kafka's
/// `Uuid` is written. Deterministic, so the export stays byte-identical.
fn kafka_cluster_id(id: &str) -> String {
    use base64::Engine as _;
    let fnv = |seed: u64| {
        id.bytes().fold(seed, |hash, b| {
            (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&fnv(0xcbf2_9ce4_8422_2325).to_be_bytes());
    bytes[8..].copy_from_slice(&fnv(0x8422_2325_cbf2_9ce4).to_be_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether a client calls this service directly, so its port is published on the host.
fn called_by_client(design: &Design, service: &Service) -> bool {
    design.edges.iter().any(|e| {
        e.to == service.id
            && design
                .service(e.from.as_str())
                .is_some_and(|from| from.kind == ServiceKind::Client)
    })
}

/// Who depends on whom to start first, cycles cut: edges are taken in id order and one that would close a cycle
/// is skipped.
fn dependencies<'a>(
    design: &'a Design,
    deployed: &[&'a Service],
) -> BTreeMap<&'a str, BTreeSet<&'a str>> {
    let deployed_ids: BTreeSet<&str> = deployed.iter().map(|s| s.id.as_str()).collect();
    let mut wanted: Vec<(&str, &str)> = design
        .edges
        .iter()
        .filter_map(|e| {
            let from_broker = design
                .service(e.from.as_str())
                .is_some_and(|s| s.kind == ServiceKind::Broker);
            // A broker's delivery to a consumer: the consumer needs the broker, not the other way round.
            let (needs, needed) = if e.mode == CallMode::Async && from_broker {
                (e.to.as_str(), e.from.as_str())
            } else {
                (e.from.as_str(), e.to.as_str())
            };
            (needs != needed && deployed_ids.contains(needs) && deployed_ids.contains(needed))
                .then_some((needs, needed))
        })
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (needs, needed) in wanted {
        if !reaches(&graph, needed, needs) {
            graph.entry(needs).or_default().insert(needed);
        }
    }
    graph
}

/// Whether `to` can be reached from `from` along the dependencies so far.
fn reaches(graph: &BTreeMap<&str, BTreeSet<&str>>, from: &str, to: &str) -> bool {
    let mut stack = vec![from];
    let mut seen = BTreeSet::new();
    while let Some(node) = stack.pop() {
        if node == to {
            return true;
        }
        if seen.insert(node) {
            stack.extend(graph.get(node).into_iter().flatten().copied());
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_ports_are_never_handed_out_twice() {
        let mut ports = HostPorts::default();
        assert_eq!(ports.mapping(8080, 1), "8080:8080");
        assert_eq!(ports.mapping(8080, 3), "8081-8083:8080");
        assert_eq!(ports.mapping(8082, 1), "8084:8082");
        assert_eq!(ports.mapping(9000, 2), "9000-9001:9000");
    }
}
