//! Istio `networking.istio.io/v1` resources, one file per callee of sync calls.
//!
//! Policies belong to a call (a caller and a callee), while Istio resources belong to a host (the callee). So the
//! callee's `VirtualService` has one HTTP route per caller, matched by the caller's `app` label, carrying that
//! call's timeout and retries; and each call with a bulkhead or breaker gets its own `DestinationRule`, applied
//! to the caller's pods by a `workloadSelector`, carrying `connectionPool` and `outlierDetection`. TCP calls
//! (databases) have no per-request timeout or retry in Istio: they only get the DestinationRule.

use std::collections::BTreeMap;

use serde::Serialize;

use super::namespaces::Namespaces;
use super::{
    ExportedFile, Exporter, Metadata, Object, Target, call_port, header_comment, is_deployed,
    is_http_family, outlier_sweep_ms, per_replica_failures, proto_duration, service_port,
    sorted_services, to_yaml_documents,
};
use crate::model::{CallMode, Design, Edge, Protocol, Service};

/// The API version of the exported resources.
pub const API_VERSION: &str = "networking.istio.io/v1";

pub(crate) struct IstioExporter;

impl Exporter for IstioExporter {
    fn target(&self) -> Target {
        Target::Istio
    }

    fn export(&self, design: &Design) -> Vec<ExportedFile> {
        let namespaces = Namespaces::of(design);
        let mut files = Vec::new();
        for callee in sorted_services(design) {
            let mut calls: Vec<&Edge> = design
                .edges
                .iter()
                .filter(|e| e.to == callee.id && e.mode == CallMode::Sync && e.from != callee.id)
                .collect();
            if calls.is_empty() {
                continue;
            }
            calls.sort_by(|a, b| a.from.cmp(&b.from).then(a.id.cmp(&b.id)));
            let mut documents = Vec::new();
            if callee.kind == crate::model::ServiceKind::External {
                documents.push(Resource::ServiceEntry(service_entry(
                    design, callee, &calls,
                )));
            }
            let http_calls: Vec<&Edge> = calls
                .iter()
                .copied()
                .filter(|c| is_http_family(c.effective_protocol()))
                .collect();
            if !http_calls.is_empty() {
                documents.push(Resource::VirtualService(virtual_service(
                    design,
                    callee,
                    &http_calls,
                    None,
                )));
            }
            for (i, call) in calls.iter().enumerate() {
                // Only callers inside the mesh run a sidecar that a DestinationRule can configure.
                if !caller_in_mesh(design, call)
                    || (call.max_in_flight.is_none() && call.circuit_breaker.is_none())
                {
                    continue;
                }
                // A caller with several calls to one callee gets a rule per call, numbered after the first.
                let same_caller_before = calls[..i].iter().filter(|c| c.from == call.from).count();
                let name = if same_caller_before == 0 {
                    format!("{}-to-{}", call.from, callee.id)
                } else {
                    format!("{}-to-{}-{}", call.from, callee.id, same_caller_before + 1)
                };
                documents.push(Resource::DestinationRule(destination_rule(
                    &namespaces,
                    name,
                    callee,
                    call,
                )));
            }
            if documents.is_empty() {
                continue;
            }
            // The callee's own resources live in its namespace, where its short name means it.
            for document in &mut documents {
                if let Resource::ServiceEntry(o) = document {
                    o.metadata.namespace = namespaces.of_service(callee.id.as_str());
                } else if let Resource::VirtualService(o) = document {
                    o.metadata.namespace = namespaces.of_service(callee.id.as_str());
                }
            }
            let mut what = format!(
                "Istio traffic policy for calls to \"{}\" ({}).",
                callee.id,
                callee.display_name()
            );
            // Istio tells callers apart by their labels only: of several calls from one caller, the first one's
            // route matches and the others' never do. Said here, rather than dropped silently.
            let mut shared = Vec::new();
            for (i, call) in calls.iter().enumerate() {
                if calls[..i].iter().any(|c| c.from == call.from) {
                    continue;
                }
                let same: Vec<&str> = calls
                    .iter()
                    .filter(|c| c.from == call.from)
                    .map(|c| c.id.as_str())
                    .collect();
                if same.len() > 1 {
                    shared.push(format!(
                        "the calls {} from {} share one route and rule, with the policy of {}",
                        same.join(", "),
                        call.from,
                        same[0]
                    ));
                }
            }
            if !shared.is_empty() {
                what.push_str(&format!(
                    " Istio matches callers by label only: {}.",
                    shared.join("; ")
                ));
            }
            files.push(ExportedFile {
                path: format!("istio/{}.yaml", callee.id),
                contents: format!(
                    "{}{}",
                    header_comment(design, &what),
                    to_yaml_documents(&documents)
                ),
            });
        }
        for gateway in sorted_services(design)
            .into_iter()
            .filter(|s| s.kind == crate::model::ServiceKind::Gateway)
        {
            if let Some(file) = ingress(design, &namespaces, gateway) {
                files.push(file);
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files
    }
}

/// The callee's VirtualService as exported for production, with `fault(protocol)` on every route (chaos
/// experiments); `None` for a service that takes no sync HTTP-family calls.
pub(crate) fn fault_virtual_service(
    design: &Design,
    namespaces: &Namespaces,
    callee: &Service,
    fault: impl Fn(Protocol) -> HttpFault,
) -> Option<String> {
    let mut calls: Vec<&Edge> = design
        .edges
        .iter()
        .filter(|e| {
            e.to == callee.id
                && e.mode == CallMode::Sync
                && e.from != callee.id
                && is_http_family(e.effective_protocol())
        })
        .collect();
    if calls.is_empty() {
        return None;
    }
    calls.sort_by(|a, b| a.from.cmp(&b.from).then(a.id.cmp(&b.id)));
    let mut service = virtual_service(design, callee, &calls, Some(&fault));
    service.metadata.namespace = namespaces.of_service(callee.id.as_str());
    Some(to_yaml_documents(&[service]))
}

/// A gateway's HTTP and gRPC calls as routes bound to the mesh's ingress gateway: in a mesh the ingress stands
/// for the design's gateway, and a route bound to it (not to `mesh`) is what applies to traffic coming in from
/// outside. `None` for a gateway without such calls.
fn ingress(design: &Design, namespaces: &Namespaces, gateway: &Service) -> Option<ExportedFile> {
    let mut calls: Vec<&Edge> = design
        .edges
        .iter()
        .filter(|e| {
            e.from == gateway.id
                && e.to != gateway.id
                && e.mode == CallMode::Sync
                && is_http_family(e.effective_protocol())
        })
        .collect();
    if calls.is_empty() {
        return None;
    }
    calls.sort_by(|a, b| a.to.cmp(&b.to).then(a.id.cmp(&b.id)));
    let port = service_port(design, gateway);
    let mut routes = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        // Several calls to one callee share its path: the first one's route matches, as in the nginx export.
        if calls[..i].iter().any(|c| c.to == call.to) {
            continue;
        }
        let grpc = call.effective_protocol() == crate::model::Protocol::Grpc;
        routes.push(HttpRoute {
            name: format!("to-{}", call.to),
            matches: vec![HttpMatch {
                source_labels: BTreeMap::new(),
                uri: Some(StringMatch {
                    prefix: super::gateway_path(call),
                }),
            }],
            rewrite: (!grpc).then(|| Rewrite {
                uri: "/".to_owned(),
            }),
            route: vec![RouteDestination {
                destination: Destination {
                    host: namespaces.host(gateway.id.as_str(), call.to.as_str()),
                    port: PortSelector {
                        number: call_port(design, call),
                    },
                },
            }],
            timeout: call.timeout_ms.map(proto_duration),
            retries: Some(retries(call)),
            fault: None,
        });
    }
    // Ids hold no `.`, so `<gateway>.ingress` is no callee's VirtualService name.
    let name = format!("{}.ingress", gateway.id);
    let documents = [
        Resource::Gateway(Object {
            api_version: API_VERSION,
            kind: "Gateway",
            metadata: Metadata {
                name: name.clone(),
                namespace: namespaces.of_service(gateway.id.as_str()),
                labels: app_label(gateway),
                annotations: BTreeMap::new(),
            },
            spec: GatewaySpec {
                selector: BTreeMap::from([("istio", "ingressgateway".to_owned())]),
                servers: vec![GatewayServer {
                    port: ServerPort {
                        number: port,
                        name: "http".to_owned(),
                        protocol: "HTTP",
                    },
                    hosts: vec!["*".to_owned()],
                }],
            },
        }),
        Resource::VirtualService(Object {
            api_version: API_VERSION,
            kind: "VirtualService",
            metadata: Metadata {
                name: name.clone(),
                namespace: namespaces.of_service(gateway.id.as_str()),
                labels: app_label(gateway),
                annotations: BTreeMap::new(),
            },
            spec: VirtualServiceSpec {
                hosts: vec!["*".to_owned()],
                gateways: vec![name],
                http: routes,
            },
        }),
    ];
    let what = format!(
        "Istio ingress for gateway \"{}\" ({}): its calls as routes bound to the mesh's ingress gateway \
         (selector istio: ingressgateway) on port {port}, /<callee>/ rewritten to /, gRPC by its service path \
         /<package>.; mesh routes never apply to traffic entering through the ingress.",
        gateway.id,
        gateway.display_name()
    );
    Some(ExportedFile {
        path: format!("istio/{}-ingress.yaml", gateway.id),
        contents: format!(
            "{}{}",
            header_comment(design, &what),
            to_yaml_documents(&documents)
        ),
    })
}

// ------------------------------------------------------------------------------------------------ typed model

#[derive(Serialize)]
#[serde(untagged)]
enum Resource {
    Gateway(Object<GatewaySpec>),
    ServiceEntry(Object<ServiceEntrySpec>),
    VirtualService(Object<VirtualServiceSpec>),
    DestinationRule(Object<DestinationRuleSpec>),
}

/// An external callee is in no registry of the mesh: without an entry for its host, the mesh's routes and rules for
/// it would apply to nothing.
#[derive(Serialize)]
struct ServiceEntrySpec {
    hosts: Vec<String>,
    location: &'static str,
    ports: Vec<ServiceEntryPort>,
    resolution: &'static str,
}

#[derive(Serialize)]
struct ServiceEntryPort {
    number: u16,
    name: String,
    protocol: &'static str,
}

/// The mesh's ingress gateway listening for a design gateway's traffic.
#[derive(Serialize)]
struct GatewaySpec {
    selector: BTreeMap<&'static str, String>,
    servers: Vec<GatewayServer>,
}

#[derive(Serialize)]
struct GatewayServer {
    port: ServerPort,
    hosts: Vec<String>,
}

#[derive(Serialize)]
struct ServerPort {
    number: u16,
    name: String,
    protocol: &'static str,
}

#[derive(Serialize)]
struct VirtualServiceSpec {
    hosts: Vec<String>,
    /// Empty: the mesh (sidecars); else the ingress gateways the routes are bound to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    gateways: Vec<String>,
    http: Vec<HttpRoute>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HttpRoute {
    name: String,
    #[serde(rename = "match", skip_serializing_if = "Vec::is_empty")]
    matches: Vec<HttpMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rewrite: Option<Rewrite>,
    route: Vec<RouteDestination>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retries: Option<HttpRetry>,
    /// A fault injected into the route (chaos experiments only; production routes have none).
    #[serde(skip_serializing_if = "Option::is_none")]
    fault: Option<HttpFault>,
}

/// An Istio HTTP fault: a delay or an abort for a share of the route's requests.
#[derive(Serialize)]
pub(crate) struct HttpFault {
    #[serde(skip_serializing_if = "Option::is_none")]
    delay: Option<FaultDelay>,
    #[serde(skip_serializing_if = "Option::is_none")]
    abort: Option<FaultAbort>,
}

impl HttpFault {
    /// Answers `http_status` (or `grpc_status` on a gRPC route) to `percent` of the requests.
    pub(crate) fn abort(
        grpc: bool,
        http_status: u16,
        grpc_status: &'static str,
        percent: f64,
    ) -> Self {
        Self {
            delay: None,
            abort: Some(FaultAbort {
                http_status: (!grpc).then_some(http_status),
                grpc_status: grpc.then_some(grpc_status),
                percentage: Percent::of(percent),
            }),
        }
    }

    /// Holds `percent` of the requests back `delay_ms` before passing them on.
    pub(crate) fn delay(delay_ms: f64, percent: f64) -> Self {
        Self {
            delay: Some(FaultDelay {
                fixed_delay: proto_duration(delay_ms.max(1.0)),
                percentage: Percent::of(percent),
            }),
            abort: None,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FaultDelay {
    fixed_delay: String,
    percentage: Percent,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FaultAbort {
    #[serde(skip_serializing_if = "Option::is_none")]
    http_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    grpc_status: Option<&'static str>,
    percentage: Percent,
}

#[derive(Serialize)]
struct Percent {
    value: f64,
}

impl Percent {
    fn of(percent: f64) -> Self {
        Self {
            value: (percent.clamp(0.0, 100.0) * 1000.0).round() / 1000.0,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HttpMatch {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    source_labels: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri: Option<StringMatch>,
}

#[derive(Serialize)]
struct StringMatch {
    prefix: String,
}

#[derive(Serialize)]
struct Rewrite {
    uri: String,
}

#[derive(Serialize)]
struct RouteDestination {
    destination: Destination,
}

#[derive(Serialize)]
struct Destination {
    host: String,
    port: PortSelector,
}

#[derive(Serialize)]
struct PortSelector {
    number: u16,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HttpRetry {
    attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    per_try_timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_on: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DestinationRuleSpec {
    host: String,
    workload_selector: WorkloadSelector,
    traffic_policy: TrafficPolicy,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WorkloadSelector {
    match_labels: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TrafficPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    connection_pool: Option<ConnectionPool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outlier_detection: Option<OutlierDetection>,
}

#[derive(Serialize)]
struct ConnectionPool {
    tcp: TcpSettings,
    #[serde(skip_serializing_if = "Option::is_none")]
    http: Option<HttpSettings>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TcpSettings {
    max_connections: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HttpSettings {
    http1_max_pending_requests: u32,
    http2_max_requests: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OutlierDetection {
    consecutive5xx_errors: u32,
    /// How often ejected hosts are looked at to return them: Istio's default of 10 s would keep them out up to
    /// 10 s beyond `open_ms`.
    interval: String,
    base_ejection_time: String,
    max_ejection_percent: u32,
}

// ------------------------------------------------------------------------------------------------ building

fn service_entry(design: &Design, callee: &Service, calls: &[&Edge]) -> Object<ServiceEntrySpec> {
    // The protocol of the first call decides how the mesh treats the port (gRPC, HTTP, or plain TCP).
    let protocol = match calls.first().map(|c| c.effective_protocol()) {
        Some(crate::model::Protocol::Grpc) => "GRPC",
        Some(crate::model::Protocol::Tcp) => "TCP",
        _ => "HTTP",
    };
    let port = calls
        .first()
        .map_or_else(|| service_port(design, callee), |c| call_port(design, c));
    Object {
        api_version: API_VERSION,
        kind: "ServiceEntry",
        metadata: Metadata {
            name: callee.id.to_string(),
            namespace: None,
            labels: app_label(callee),
            annotations: BTreeMap::new(),
        },
        spec: ServiceEntrySpec {
            hosts: vec![callee.id.to_string()],
            location: "MESH_EXTERNAL",
            ports: vec![ServiceEntryPort {
                number: port,
                name: format!("{}-{port}", protocol.to_ascii_lowercase()),
                protocol,
            }],
            resolution: "DNS",
        },
    }
}

/// Whether a call's caller runs in the mesh: clients and external services do not, so their calls are matched by
/// no label.
fn caller_in_mesh(design: &Design, call: &Edge) -> bool {
    design.service(call.from.as_str()).is_some_and(is_deployed)
}

fn retries(call: &Edge) -> HttpRetry {
    match &call.retry {
        Some(retry) => HttpRetry {
            attempts: retry.max_retries,
            per_try_timeout: retry.per_try_timeout_ms.map(proto_duration),
            retry_on: Some(super::envoy::retry_on(call)),
        },
        // Istio retries twice by default; a call without a retry policy makes one try.
        None => HttpRetry {
            attempts: 0,
            per_try_timeout: None,
            retry_on: None,
        },
    }
}

fn app_label(service: &Service) -> BTreeMap<&'static str, String> {
    BTreeMap::from([("app", service.id.to_string())])
}

fn virtual_service(
    design: &Design,
    callee: &Service,
    calls: &[&Edge],
    fault: Option<&dyn Fn(Protocol) -> HttpFault>,
) -> Object<VirtualServiceSpec> {
    let fault_on = |call: Option<&&Edge>| -> Option<HttpFault> {
        let fault = fault?;
        Some(fault(
            call.map_or(Protocol::Http, |c| c.effective_protocol()),
        ))
    };
    // Each route goes to the callee's port for its call's protocol (a callee of gRPC and HTTP has two).
    let destination = |port: u16| {
        vec![RouteDestination {
            destination: Destination {
                host: callee.id.to_string(),
                port: PortSelector { number: port },
            },
        }]
    };
    let (inside, outside): (Vec<&Edge>, Vec<&Edge>) = calls
        .iter()
        .copied()
        .partition(|c| caller_in_mesh(design, c));
    let mut http: Vec<HttpRoute> = inside
        .iter()
        .enumerate()
        .map(|(i, call)| HttpRoute {
            // Only the first route of a caller can match; later ones keep distinct names all the same.
            name: match inside[..i].iter().filter(|c| c.from == call.from).count() {
                0 => format!("from-{}", call.from),
                n => format!("from-{}-{}", call.from, n + 1),
            },
            matches: vec![HttpMatch {
                source_labels: BTreeMap::from([("app", call.from.to_string())]),
                uri: None,
            }],
            rewrite: None,
            route: destination(call_port(design, call)),
            timeout: call.timeout_ms.map(proto_duration),
            retries: Some(retries(call)),
            fault: fault_on(Some(call)),
        })
        .collect();
    // Everything else (clients and external callers come in through an ingress, and unknown callers) takes the
    // default route, with the policy of the first outside call when there is one.
    let outside_call = outside.first();
    http.push(HttpRoute {
        name: "default".to_owned(),
        matches: Vec::new(),
        rewrite: None,
        route: destination(
            outside_call
                .or(calls.first())
                .map_or_else(|| service_port(design, callee), |c| call_port(design, c)),
        ),
        timeout: outside_call.and_then(|c| c.timeout_ms).map(proto_duration),
        retries: outside_call.map(|c| retries(c)),
        fault: fault_on(outside_call.or(calls.first())),
    });
    Object {
        api_version: API_VERSION,
        kind: "VirtualService",
        metadata: Metadata {
            name: callee.id.to_string(),
            namespace: None,
            labels: app_label(callee),
            annotations: BTreeMap::new(),
        },
        spec: VirtualServiceSpec {
            hosts: vec![callee.id.to_string()],
            gateways: Vec::new(),
            http,
        },
    }
}

/// A call's rule: it selects the caller's workloads, so it lives in the caller's namespace and names the callee
/// by the name it has from there.
fn destination_rule(
    namespaces: &Namespaces,
    name: String,
    callee: &Service,
    call: &Edge,
) -> Object<DestinationRuleSpec> {
    let http = is_http_family(call.effective_protocol());
    Object {
        api_version: API_VERSION,
        kind: "DestinationRule",
        metadata: Metadata {
            name,
            namespace: namespaces.of_service(call.from.as_str()),
            labels: app_label(callee),
            annotations: BTreeMap::new(),
        },
        spec: DestinationRuleSpec {
            host: namespaces.host(call.from.as_str(), callee.id.as_str()),
            workload_selector: WorkloadSelector {
                match_labels: BTreeMap::from([("app", call.from.to_string())]),
            },
            traffic_policy: TrafficPolicy {
                connection_pool: call.max_in_flight.map(|limit| ConnectionPool {
                    tcp: TcpSettings {
                        max_connections: limit,
                    },
                    http: http.then_some(HttpSettings {
                        http1_max_pending_requests: limit,
                        http2_max_requests: limit,
                    }),
                }),
                outlier_detection: call
                    .circuit_breaker
                    .as_ref()
                    .map(|breaker| OutlierDetection {
                        consecutive5xx_errors: per_replica_failures(breaker, callee.replicas),
                        interval: proto_duration(outlier_sweep_ms(breaker)),
                        base_ejection_time: proto_duration(breaker.open_ms),
                        max_ejection_percent: 100,
                    }),
            },
        },
    }
}
