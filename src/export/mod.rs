//! Configuration export: pure, deterministic converters from a design to the files that proxies, meshes,
//! orchestrators and brokers consume.
//!
//! Every target builds a typed model of its format and serializes it (serde for JSON and YAML, a small directive
//! tree for nginx), never a string template, so no text from the design can inject configuration. Display names
//! and notes only ever reach comments (with line breaks removed) or quoted values. Output is sorted by id and has
//! no timestamps: exporting the same design twice gives byte-identical files. `docs/export.md` maps every design
//! field to each target.

pub mod chaos;
mod compose;
mod contracts;
pub(crate) mod envoy;
mod istio;
mod kafka;
mod kubernetes;
mod namespaces;
pub(crate) mod nginx;
pub(crate) mod rabbitmq;
pub(crate) mod yaml11;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use nginx::grpc_package as nginx_grpc_package;

use crate::model::{CallMode, CircuitBreaker, Design, Edge, Protocol, Service, ServiceKind};

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// Envoy v3 bootstraps: a sidecar per service that makes sync calls, a front proxy per gateway.
    Envoy,
    /// Istio VirtualServices and DestinationRules per callee.
    Istio,
    /// Kubernetes Deployments, StatefulSets and Services.
    Kubernetes,
    /// One docker-compose file.
    Compose,
    /// A complete nginx configuration per gateway.
    Nginx,
    /// RabbitMQ definitions per AMQP broker.
    Rabbitmq,
    /// A Kafka topics file per Kafka broker.
    Kafka,
    /// Chaos experiments from the planned faults: Chaos Toolkit, Chaos Mesh, Istio faults (never in [`Target::ALL`]).
    Chaos,
    /// AsyncAPI 3.0: the design's queues and topics, their producers and consumers.
    Asyncapi,
    /// OpenAPI 3.1 per service that takes HTTP calls, and a `.proto` sketch per service that takes gRPC calls.
    Openapi,
}

impl Target {
    /// The contracts and experiments, written only when asked for by name (never by `--target all`).
    pub const ON_REQUEST: [Target; 3] = [Target::Chaos, Target::Asyncapi, Target::Openapi];

    /// Every production target, in the order `--target all` writes them.
    pub const ALL: [Target; 7] = [
        Target::Envoy,
        Target::Istio,
        Target::Kubernetes,
        Target::Compose,
        Target::Nginx,
        Target::Rabbitmq,
        Target::Kafka,
    ];

    /// The target's name on the command line, and the folder its files go into.
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Envoy => "envoy",
            Target::Istio => "istio",
            Target::Kubernetes => "kubernetes",
            Target::Compose => "compose",
            Target::Nginx => "nginx",
            Target::Rabbitmq => "rabbitmq",
            Target::Kafka => "kafka",
            Target::Chaos => "chaos",
            Target::Asyncapi => "asyncapi",
            Target::Openapi => "openapi",
        }
    }

    /// What a design needs for the target to write anything: why nothing was written, in the CLI's error and the
    /// app's export window.
    pub fn needs(self) -> &'static str {
        match self {
            Target::Envoy | Target::Istio => "sync calls",
            Target::Kubernetes | Target::Compose => {
                "deployable services (clients and external services are not deployed)"
            }
            Target::Nginx => "a gateway with sync HTTP, gRPC or GraphQL calls",
            Target::Rabbitmq => "an AMQP broker",
            Target::Kafka => "a Kafka broker",
            Target::Chaos => "flows or planned faults",
            Target::Asyncapi => "async calls",
            Target::Openapi => {
                "a service that takes sync HTTP, GraphQL or gRPC calls, or is the entry of a polling flow"
            }
        }
    }

    /// The target's exporter.
    pub fn exporter(self) -> &'static dyn Exporter {
        match self {
            Target::Envoy => &envoy::EnvoyExporter,
            Target::Istio => &istio::IstioExporter,
            Target::Kubernetes => &kubernetes::KubernetesExporter,
            Target::Compose => &compose::ComposeExporter,
            Target::Nginx => &nginx::NginxExporter,
            Target::Rabbitmq => &rabbitmq::RabbitmqExporter,
            Target::Kafka => &kafka::KafkaExporter,
            Target::Chaos => &chaos::ChaosExporter,
            Target::Asyncapi => &contracts::AsyncapiExporter,
            Target::Openapi => &contracts::OpenapiExporter,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedFile {
    /// Where it goes, relative to the export folder, with `/` separators (e.g. `envoy/order-api.yaml`).
    pub path: String,
    /// Its text.
    pub contents: String,
}

/// A converter from a design to one target's files.
pub trait Exporter {
    /// Which target this is.
    fn target(&self) -> Target;
    /// The files for `design`, sorted by path. A design with nothing for this target (no gateway for nginx, no
    /// Kafka broker for kafka) gives no files. The design must be valid (`model::validate`).
    fn export(&self, design: &Design) -> Vec<ExportedFile>;
}

/// The files of one target for `design`, sorted by path.
pub fn export(design: &Design, target: Target) -> Vec<ExportedFile> {
    let mut files = target.exporter().export(design);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// The files of every target, sorted by path.
pub fn export_all(design: &Design) -> Vec<ExportedFile> {
    // The targets are independent, so they are exported side by side; the result is sorted, so it does not depend
    // on which finishes first.
    let mut files: Vec<ExportedFile> = std::thread::scope(|scope| {
        let exports: Vec<_> = Target::ALL
            .iter()
            .map(|&target| scope.spawn(move || export(design, target)))
            .collect();
        exports
            .into_iter()
            .flat_map(|export| {
                export
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// Writes exported files under `folder` (creating the target folders), each atomically; returns the paths written.
/// The one piece of I/O here, shared by the command line and the app.
pub fn write_files(
    folder: &Path,
    files: &[ExportedFile],
) -> Result<Vec<PathBuf>, crate::model::SaveError> {
    let mut written = Vec::with_capacity(files.len());
    for file in files {
        let path = file
            .path
            .split('/')
            .fold(folder.to_path_buf(), |path, part| path.join(part));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| crate::model::SaveError {
                path: parent.to_path_buf(),
                reason: format!("cannot create the folder: {e}"),
            })?;
        }
        crate::model::file::write_atomically(&path, file.contents.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

// ---------------------------------------------------------------------------------------------------------------
// Shared facts about a design that several targets need.

/// Whether a service is deployed by the orchestrator targets: clients are the people or systems calling in, and
/// external services belong to somebody else.
pub(crate) fn is_deployed(service: &Service) -> bool {
    !matches!(service.kind, ServiceKind::Client | ServiceKind::External)
}

/// The messaging protocol a broker speaks: the protocol of its async calls, in or out (the most common one, ties
/// to the first in protocol order); `None` for a broker nobody sends to or receives from asynchronously.
pub(crate) fn broker_protocol(design: &Design, broker: &Service) -> Option<Protocol> {
    let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
    for edge in &design.edges {
        if edge.mode == CallMode::Async && (edge.to == broker.id || edge.from == broker.id) {
            let protocol = edge.effective_protocol();
            let rank = Protocol::ALL
                .iter()
                .position(|p| *p == protocol)
                .unwrap_or(0);
            *counts.entry(rank).or_default() += 1;
        }
    }
    let best = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))?;
    Protocol::ALL.get(*best.0).copied()
}

/// The port a service listens on: its `port`, or the usual port of what it is.
pub(crate) fn service_port(design: &Design, service: &Service) -> u16 {
    if let Some(port) = service.port {
        return port;
    }
    if service.kind == ServiceKind::Broker {
        return match broker_protocol(design, service) {
            Some(Protocol::Kafka) => 9092,
            Some(Protocol::Nats) => 4222,
            Some(Protocol::Sqs) => 9324,
            _ => 5672,
        };
    }
    if service.kind == ServiceKind::Database {
        return 5432;
    }
    let grpc_only = design
        .edges
        .iter()
        .filter(|e| e.to == service.id)
        .all(|e| e.effective_protocol() == Protocol::Grpc)
        && design.edges.iter().any(|e| e.to == service.id);
    if grpc_only { 50051 } else { 8080 }
}

/// The ports a service listens on, each named by what it speaks (Kubernetes and Istio read the protocol from a
/// port's name): one per kind of synchronous call it receives (gRPC, HTTP and GraphQL, plain TCP). The kind most
/// of its calls use (ties: gRPC, then HTTP, then TCP) keeps the service's port; each other kind gets the next port
/// up, so a callee of both gRPC and HTTP calls is not all `http`. A service called by one protocol has one port
/// named after it; brokers and databases one port named after what they speak.
pub(crate) fn service_ports(design: &Design, service: &Service) -> Vec<(&'static str, u16)> {
    let port = service_port(design, service);
    if service.kind == ServiceKind::Broker {
        return vec![(
            broker_protocol(design, service).map_or("amqp", |p| p.as_str()),
            port,
        )];
    }
    if service.kind == ServiceKind::Database {
        return vec![("tcp", port)];
    }
    let incoming: Vec<Protocol> = design
        .edges
        .iter()
        .filter(|e| e.to == service.id)
        .map(|e| e.effective_protocol())
        .collect();
    match incoming.first() {
        Some(first) if incoming.iter().all(|p| p == first) && first.mode() == CallMode::Sync => {
            return vec![(first.as_str(), port)];
        }
        _ => {}
    }
    // Counts per kind, in the order that breaks ties.
    let mut kinds: Vec<(&'static str, usize)> = ["grpc", "http", "tcp"]
        .into_iter()
        .map(|kind| {
            let calls = incoming
                .iter()
                .filter(|p| p.mode() == CallMode::Sync && port_kind(**p) == kind)
                .count();
            (kind, calls)
        })
        .filter(|(_, calls)| *calls > 0)
        .collect();
    if kinds.is_empty() {
        return vec![("http", port)];
    }
    // A stable sort keeps the tie order among kinds of as many calls.
    kinds.sort_by_key(|kind| std::cmp::Reverse(kind.1));
    kinds
        .into_iter()
        .enumerate()
        .map(|(i, (kind, _))| (kind, port.saturating_add(i as u16)))
        .collect()
}

/// The kind of port a synchronous protocol is served on.
fn port_kind(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Grpc => "grpc",
        Protocol::Tcp => "tcp",
        _ => "http",
    }
}

/// The port a call reaches its callee on: the callee's port for the call's kind of protocol.
pub(crate) fn call_port(design: &Design, call: &Edge) -> u16 {
    let Some(callee) = design.service(call.to.as_str()) else {
        return 8080;
    };
    let ports = service_ports(design, callee);
    let kind = port_kind(call.effective_protocol());
    ports
        .iter()
        .find(|(name, _)| *name == kind)
        .or(ports.first())
        .map_or_else(|| service_port(design, callee), |(_, port)| *port)
}

/// The path prefix a gateway routes a call by: `/<package>.` for gRPC (a gRPC client asks for
/// `/<package>.<Service>/<Method>`, which no prefix can be put in front of; the package is the callee id with `_` for
/// `-`), else `/<callee>/`, which the gateway rewrites to `/`. The nginx and Istio exports route by it, and the Envoy
/// front proxy for gRPC.
pub(crate) fn gateway_path(call: &Edge) -> String {
    if call.effective_protocol() == Protocol::Grpc {
        format!("/{}.", nginx::grpc_package(call.to.as_str()))
    } else {
        format!("/{}/", call.to)
    }
}

/// The container image of a service: its `image`, a real broker image for brokers, else `<id>:latest`.
pub(crate) fn service_image(design: &Design, service: &Service) -> String {
    if let Some(image) = &service.image {
        return image.clone();
    }
    if service.kind == ServiceKind::Broker {
        return broker_image(broker_protocol(design, service)).to_owned();
    }
    format!("{}:latest", service.id)
}

/// The image that runs a broker of a protocol.
pub(crate) fn broker_image(protocol: Option<Protocol>) -> &'static str {
    match protocol {
        Some(Protocol::Kafka) => "apache/kafka:3.8.1",
        Some(Protocol::Nats) => "nats:2.10",
        Some(Protocol::Sqs) => "softwaremill/elasticmq-native:1.6.9",
        _ => "rabbitmq:3.13-management",
    }
}

/// The environment variable that tells a caller where a callee is: `ORDER_API_ADDR` for `order-api`.
pub(crate) fn address_variable(callee: &Service) -> String {
    format!(
        "{}_ADDR",
        callee.id.as_str().to_ascii_uppercase().replace('-', "_")
    )
}

/// The addresses a service needs: `<CALLEE>_ADDR` for every service it calls, and `<BROKER>_SUBSCRIBE_ADDR` for
/// every broker that delivers to it (so a reader, the importer among them, can tell reading from writing), each
/// peer named by `host`.
pub(crate) fn peer_addresses(
    design: &Design,
    service: &Service,
    host: impl Fn(&Service) -> String,
) -> BTreeMap<String, String> {
    let mut addresses = BTreeMap::new();
    for edge in &design.edges {
        // A broker does not dial its consumers: they subscribe to it.
        let delivery_by_broker =
            service.kind == ServiceKind::Broker && edge.mode == CallMode::Async;
        let (peer, subscribes) = if edge.from == service.id
            && edge.to != service.id
            && !delivery_by_broker
        {
            (design.service(edge.to.as_str()), false)
        } else if edge.to == service.id && edge.from != service.id && edge.mode == CallMode::Async {
            let broker = design
                .service(edge.from.as_str())
                .filter(|from| from.kind == ServiceKind::Broker);
            (broker, true)
        } else {
            (None, false)
        };
        if let Some(peer) = peer {
            let variable = address_variable(peer);
            let variable = if subscribes {
                variable.replace("_ADDR", "_SUBSCRIBE_ADDR")
            } else {
                variable
            };
            // A caller reaches its callee on the port of its call's protocol; a consumer its broker on the
            // broker's one port.
            let port = if edge.to == peer.id {
                call_port(design, edge)
            } else {
                service_port(design, peer)
            };
            addresses.insert(variable, format!("{}:{port}", host(peer)));
        }
    }
    addresses
}

/// A service's outgoing sync calls, sorted by callee then edge id.
pub(crate) fn sync_calls_from<'a>(design: &'a Design, caller: &Service) -> Vec<&'a Edge> {
    let mut edges: Vec<&Edge> = design
        .edges
        .iter()
        .filter(|e| e.from == caller.id && e.mode == CallMode::Sync && e.to != caller.id)
        .collect();
    edges.sort_by(|a, b| a.to.cmp(&b.to).then(a.id.cmp(&b.id)));
    edges
}

/// A call's breaker as failures in a row of each of the callee's replicas, for proxies whose outlier detection
/// ejects hosts (Envoy, Istio) where the design's breaker counts the call's failures. With the calls spread in turn
/// over the callee's N replicas, k failures of the call in a row are about k/N in a row at each replica, so each
/// replica is ejected after ceil(k/N) of its own and the last about when the design's breaker opens; with k per
/// replica the proxy would let about N x k failing calls through first.
pub(crate) fn per_replica_failures(breaker: &CircuitBreaker, callee_replicas: u32) -> u32 {
    breaker
        .consecutive_failures
        .div_ceil(callee_replicas.max(1))
        .max(1)
}

/// The longest outlier sweep interval: how late at most an ejected host comes back after its ejection time. Two
/// breakers in a row (a caller's and its callee's) race at their returns; a second late on the callee's side
/// kept the caller's open for another whole period in payment-guarded.
const MAX_SWEEP_MS: f64 = 100.0;

/// How often a proxy's outlier detection returns ejected hosts, for a breaker: 1% of its open time, between 1 ms
/// (the shortest interval proxies take) and `MAX_SWEEP_MS`.
pub(crate) fn outlier_sweep_ms(breaker: &CircuitBreaker) -> f64 {
    (breaker.open_ms * 0.01).clamp(1.0, MAX_SWEEP_MS)
}

/// Whether a protocol is carried over HTTP (and so has per-request timeouts and retries in proxies).
pub(crate) fn is_http_family(protocol: Protocol) -> bool {
    matches!(
        protocol,
        Protocol::Http | Protocol::Grpc | Protocol::Graphql
    )
}

/// Services sorted by id.
pub(crate) fn sorted_services(design: &Design) -> Vec<&Service> {
    let mut services: Vec<&Service> = design.services.iter().collect();
    services.sort_by(|a, b| a.id.cmp(&b.id));
    services
}

/// A duration in the protobuf JSON form Envoy and Istio read: seconds with up to nine decimals, e.g. `0.25s`.
pub(crate) fn proto_duration(ms: f64) -> String {
    // Whole nanoseconds; durations in a design are at most hours, far below u64's range.
    let nanos = (ms.max(0.0) * 1e6).round() as u64;
    let seconds = nanos / 1_000_000_000;
    let fraction = nanos % 1_000_000_000;
    if fraction == 0 {
        return format!("{seconds}s");
    }
    let digits = format!("{fraction:09}");
    format!("{seconds}.{}s", digits.trim_end_matches('0'))
}

/// Parses a protobuf JSON duration (`0.25s`) back to milliseconds; the inverse of [`proto_duration`].
pub fn parse_proto_duration_ms(text: &str) -> Option<f64> {
    let seconds: f64 = text.strip_suffix('s')?.parse().ok()?;
    Some(seconds * 1000.0)
}

/// Whole milliseconds for formats that count in them, rounded up so a short timeout never becomes zero.
pub(crate) fn whole_ms(ms: f64) -> u64 {
    ms.max(0.0).ceil() as u64
}

/// Whether any consumer of our files may read `c` as the end of a line: the control characters (CR, LF, NEL
/// U+0085 among them) and the Unicode line and paragraph separators, which YAML 1.1 parsers (PyYAML, go-yaml in
/// kubectl and compose) treat as line breaks.
pub(crate) fn breaks_lines(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// The characters of `text` with each one outside `A-Z a-z 0-9 . - _` as `_`: what Kafka topic names and AsyncAPI
/// component keys allow.
pub(crate) fn word_chars(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars().map(|c| {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
            c
        } else {
            '_'
        }
    })
}

/// The characters an id keeps in one segment of a URL path: RFC 3986's unreserved ones. Every other byte is
/// percent-encoded, so braces never read as an OpenAPI path parameter or a Chaos Toolkit `${...}` substitution, and
/// `/`, `?`, `#` or `%` never end the segment or read as an escape.
const PATH_SEGMENT_ENCODED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// An id as one segment of a URL path, percent-encoded (UTF-8) but for `A-Z a-z 0-9 - . _ ~`.
pub fn path_segment(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, PATH_SEGMENT_ENCODED).to_string()
}

/// Text safe to put after `#` on one comment line: anything a consumer may read as a line break becomes a space.
pub(crate) fn comment_text(text: &str) -> String {
    text.chars()
        .map(|c| if breaks_lines(c) { ' ' } else { c })
        .collect()
}

/// Text for a docker-compose value, which Compose interpolates: every `$` doubled so it stays a `$`.
pub(crate) fn compose_literal(text: &str) -> String {
    text.replace('$', "$$")
}

/// The comment lines that head every generated YAML or nginx file.
pub(crate) fn header_comment(design: &Design, what: &str) -> String {
    format!(
        "# {}\n# Generated by Syncopate from the design \"{}\". Edit the design, not this file.\n",
        comment_text(what),
        comment_text(&design.name)
    )
}

/// A Kubernetes-style object (`apiVersion`, `kind`, `metadata`, `spec`), shared by the Kubernetes and Istio
/// exporters.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Object<Spec> {
    pub(crate) api_version: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) metadata: Metadata,
    pub(crate) spec: Spec,
}

/// An object's `metadata`: its name, labels and (when any) annotations.
#[derive(Serialize)]
pub(crate) struct Metadata {
    pub(crate) name: String,
    /// The namespace, when the design's groups give one (see `namespaces`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) namespace: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) labels: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) annotations: BTreeMap<&'static str, String>,
}

/// Serializes a typed document to YAML.
pub(crate) fn to_yaml<T: Serialize>(value: &T) -> String {
    // The documents are plain structs, maps and strings: YAML serialization cannot fail on them.
    let text = serde_yaml_ng::to_string(value)
        .unwrap_or_else(|e| unreachable!("serializing an export document failed: {e}"));
    // YAML 1.1 readers (PyYAML, kubectl, Envoy) must read every string as a string (see `yaml11`).
    yaml11::quote_for_yaml_1_1(&text)
}

/// Serializes several typed documents as one multi-document YAML stream.
pub(crate) fn to_yaml_documents<T: Serialize>(documents: &[T]) -> String {
    documents
        .iter()
        .map(|d| format!("---\n{}", to_yaml(d)))
        .collect()
}

/// Serializes a typed document as pretty JSON with a final newline.
pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    // As for YAML: plain data cannot fail to serialize.
    let mut text = serde_json::to_string_pretty(value)
        .unwrap_or_else(|e| unreachable!("serializing an export document failed: {e}"));
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_s_failures_in_a_row_are_shared_out_over_the_callee_s_replicas() {
        let breaker = |k| CircuitBreaker {
            consecutive_failures: k,
            open_ms: 10_000.0,
        };
        assert_eq!(per_replica_failures(&breaker(5), 1), 5);
        assert_eq!(per_replica_failures(&breaker(5), 3), 2);
        assert_eq!(per_replica_failures(&breaker(6), 3), 2);
        assert_eq!(per_replica_failures(&breaker(1), 4), 1);
        assert_eq!(per_replica_failures(&breaker(5), 0), 5);
    }

    #[test]
    fn ejected_hosts_are_looked_at_every_hundredth_of_the_open_time_within_bounds() {
        let sweep = |open_ms| {
            outlier_sweep_ms(&CircuitBreaker {
                consecutive_failures: 5,
                open_ms,
            })
        };
        assert_eq!(sweep(5_000.0), 50.0);
        assert_eq!(sweep(30_000.0), 100.0);
        assert_eq!(sweep(20.0), 1.0);
    }

    #[test]
    fn durations_print_in_protobuf_form_and_parse_back() {
        for (ms, text) in [
            (0.0, "0s"),
            (300.0, "0.3s"),
            (1000.0, "1s"),
            (15000.0, "15s"),
            (0.5, "0.0005s"),
            (1234.5678, "1.2345678s"),
        ] {
            assert_eq!(proto_duration(ms), text);
            let back = parse_proto_duration_ms(text).unwrap();
            assert!((back - ms).abs() < 1e-6, "{text} -> {back}");
        }
    }

    #[test]
    fn comments_cannot_break_out_of_their_line() {
        assert_eq!(comment_text("a\nb\r\nc\u{0}"), "a b  c ");
        assert_eq!(
            comment_text("a\u{85}b\u{2028}c\u{2029}d"),
            "a b c d",
            "YAML 1.1 line breaks"
        );
    }

    #[test]
    fn compose_keeps_dollars_literal() {
        assert_eq!(
            compose_literal("Price ${HOME} $(id) $$"),
            "Price $${HOME} $$(id) $$$$"
        );
    }
}
