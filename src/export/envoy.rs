//! Envoy v3 bootstraps: a sidecar for every service that makes sync calls (one outbound listener per callee on a
//! local port), and a front proxy for every gateway (one public listener routing by path prefix to its callees).
//!
//! HTTP-family calls (http, grpc, graphql) get the call's `timeout_ms` as the route timeout and its retry policy;
//! TCP calls go through a `tcp_proxy` whose connection may last at most the call's timeout and whose connect
//! attempts are its tries. Each callee is a STRICT_DNS cluster on its service name and port (a name that resolves to
//! every replica, so each replica is a host of its own), with `circuit_breakers` thresholds from `max_in_flight`
//! (shared out over the caller's replicas) and the retries the design can make, and `outlier_detection` from the
//! call's `circuit_breaker`, with panic mode off so that ejected hosts are not sent to anyway.

use serde::Serialize;

use super::{
    ExportedFile, Exporter, Target, call_port, header_comment, is_deployed, is_http_family,
    outlier_sweep_ms, per_replica_failures, proto_duration, service_port, sorted_services,
    sync_calls_from, to_yaml,
};
use crate::model::{Design, Edge, Protocol, Service, ServiceKind};

/// First local port of a sidecar's outbound listeners: the n-th callee (by id) listens on this + n.
pub const SIDECAR_FIRST_PORT: u16 = 15001;

/// The outbound listener port of a sidecar's `index`-th call (in `sync_calls_from` order). At most a few thousand
/// calls per service keep it below 65535; it saturates rather than wraps.
pub(crate) fn sidecar_port(index: usize) -> u16 {
    SIDECAR_FIRST_PORT.saturating_add(u16::try_from(index).unwrap_or(u16::MAX))
}

/// The conditions retries apply to, for every HTTP-family call.
pub const RETRY_ON: &str = "5xx,reset,connect-failure";

/// The retry conditions of a call: for gRPC also the status codes a failing server answers with (an HTTP 200 whose
/// `grpc-status` is UNAVAILABLE or INTERNAL is no 5xx).
pub(crate) fn retry_on(call: &Edge) -> String {
    if call.effective_protocol() == Protocol::Grpc {
        format!("{RETRY_ON},unavailable,internal")
    } else {
        RETRY_ON.to_owned()
    }
}

/// How long a new connection to a callee may take to open.
const CONNECT_TIMEOUT: &str = "1s";

/// Envoy's shortest retry back-off interval.
const MIN_BACKOFF_MS: f64 = 1.0;

pub(crate) struct EnvoyExporter;

impl Exporter for EnvoyExporter {
    fn target(&self) -> Target {
        Target::Envoy
    }

    fn export(&self, design: &Design) -> Vec<ExportedFile> {
        let mut files = Vec::new();
        // Clients and external services run no proxy of ours.
        for service in sorted_services(design)
            .into_iter()
            .filter(|s| is_deployed(s))
        {
            let calls = sync_calls_from(design, service);
            if calls.is_empty() {
                continue;
            }
            let (what, bootstrap, path) = if service.kind == ServiceKind::Gateway {
                (
                    format!(
                        "Envoy front proxy for the gateway \"{}\" ({}).",
                        service.id,
                        service.display_name()
                    ),
                    front_proxy(design, service, &calls),
                    format!("envoy/{}-front-proxy.yaml", service.id),
                )
            } else {
                (
                    format!(
                        "Envoy sidecar for \"{}\" ({}): one outbound listener per callee, from port {SIDECAR_FIRST_PORT}.",
                        service.id,
                        service.display_name()
                    ),
                    sidecar(design, service, &calls, Proxy::Sidecar),
                    format!("envoy/{}-sidecar.yaml", service.id),
                )
            };
            files.push(ExportedFile {
                path,
                contents: format!("{}{}", header_comment(design, &what), to_yaml(&bootstrap)),
            });
            if service.kind != ServiceKind::Gateway && service.replicas > 1 {
                let what = format!(
                    "Envoy egress proxy for \"{}\" ({}), one shared by its {} replicas where each cannot run a \
                     sidecar (compose): the sidecar's listeners on every address (ports from \
                     {SIDECAR_FIRST_PORT}), and the whole bulkhead in this one proxy.",
                    service.id,
                    service.display_name(),
                    service.replicas
                );
                files.push(ExportedFile {
                    path: egress_path(service),
                    contents: format!(
                        "{}{}",
                        header_comment(design, &what),
                        to_yaml(&sidecar(design, service, &calls, Proxy::SharedEgress))
                    ),
                });
            }
        }
        files
    }
}

// ------------------------------------------------------------------------------------------------ typed model

#[derive(Serialize)]
struct Bootstrap {
    static_resources: StaticResources,
}

#[derive(Serialize)]
struct StaticResources {
    listeners: Vec<Listener>,
    clusters: Vec<Cluster>,
}

#[derive(Serialize)]
struct Listener {
    name: String,
    address: Address,
    filter_chains: Vec<FilterChain>,
}

#[derive(Serialize)]
struct Address {
    socket_address: SocketAddress,
}

#[derive(Serialize)]
struct SocketAddress {
    address: String,
    port_value: u16,
}

#[derive(Serialize)]
struct FilterChain {
    filters: Vec<NetworkFilter>,
}

#[derive(Serialize)]
struct NetworkFilter {
    name: &'static str,
    typed_config: NetworkFilterConfig,
}

#[derive(Serialize)]
#[serde(untagged)]
enum NetworkFilterConfig {
    Http(Box<HttpConnectionManager>),
    Tcp(TcpProxy),
}

#[derive(Serialize)]
struct HttpConnectionManager {
    #[serde(rename = "@type")]
    type_url: &'static str,
    stat_prefix: String,
    route_config: RouteConfiguration,
    http_filters: Vec<HttpFilter>,
}

#[derive(Serialize)]
struct TcpProxy {
    #[serde(rename = "@type")]
    type_url: &'static str,
    stat_prefix: String,
    cluster: String,
    /// A TCP call's timeout bounds the whole exchange, so the connection's lifetime, not its idle time.
    #[serde(skip_serializing_if = "Option::is_none")]
    max_downstream_connection_duration: Option<String>,
    max_connect_attempts: u64,
}

#[derive(Serialize)]
struct HttpFilter {
    name: &'static str,
    typed_config: TypeOnly,
}

#[derive(Serialize)]
struct TypeOnly {
    #[serde(rename = "@type")]
    type_url: &'static str,
}

#[derive(Serialize)]
struct RouteConfiguration {
    name: String,
    virtual_hosts: Vec<VirtualHost>,
}

#[derive(Serialize)]
struct VirtualHost {
    name: String,
    domains: Vec<String>,
    routes: Vec<Route>,
}

#[derive(Serialize)]
struct Route {
    name: String,
    #[serde(rename = "match")]
    route_match: RouteMatch,
    route: RouteAction,
}

#[derive(Serialize)]
struct RouteMatch {
    prefix: String,
}

#[derive(Serialize)]
struct RouteAction {
    cluster: String,
    /// "0s" when the call has no timeout: Envoy's own default (15 s) would invent one.
    timeout: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    prefix_rewrite: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_policy: Option<RetryPolicy>,
}

#[derive(Serialize)]
struct RetryPolicy {
    retry_on: String,
    num_retries: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    per_try_timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_back_off: Option<RetryBackOff>,
}

#[derive(Serialize)]
struct RetryBackOff {
    base_interval: String,
    max_interval: String,
}

#[derive(Serialize)]
struct Cluster {
    name: String,
    #[serde(rename = "type")]
    discovery: &'static str,
    connect_timeout: &'static str,
    lb_policy: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    common_lb_config: Option<CommonLbConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    typed_extension_protocol_options: Option<ProtocolOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    circuit_breakers: Option<CircuitBreakers>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outlier_detection: Option<OutlierDetection>,
    load_assignment: LoadAssignment,
}

#[derive(Serialize)]
struct CommonLbConfig {
    healthy_panic_threshold: Percent,
    /// How long Envoy gathers host health changes before its load balancers see them: "0s", where the default
    /// of 1 s let calls reach ejected hosts for up to a second after every ejection.
    update_merge_window: &'static str,
}

#[derive(Serialize)]
struct Percent {
    value: f64,
}

#[derive(Serialize)]
struct ProtocolOptions {
    #[serde(rename = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions")]
    http: HttpProtocolOptions,
}

#[derive(Serialize)]
struct HttpProtocolOptions {
    #[serde(rename = "@type")]
    type_url: &'static str,
    explicit_http_config: ExplicitHttpConfig,
}

#[derive(Serialize)]
struct ExplicitHttpConfig {
    http2_protocol_options: Empty,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct CircuitBreakers {
    thresholds: Vec<Thresholds>,
}

#[derive(Serialize)]
struct Thresholds {
    priority: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_connections: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_pending_requests: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_requests: Option<u32>,
    /// Envoy allows 3 retries in flight per cluster unless told otherwise, which would cap the design's retries.
    #[serde(skip_serializing_if = "Option::is_none")]
    max_retries: Option<u32>,
}

#[derive(Serialize)]
struct OutlierDetection {
    consecutive_5xx: u32,
    /// Gateway failures (502, 503, 504, resets) are 5xx too; counted by `consecutive_5xx` already.
    base_ejection_time: String,
    /// Ejection time grows with each ejection up to this; equal to the base, a breaker stays open `open_ms`.
    max_ejection_time: String,
    /// How often ejected hosts are looked at again: a host comes back at the first sweep after its ejection time,
    /// so a short sweep keeps the open period close to `open_ms` (Envoy's default is 10 s).
    interval: String,
    /// A breaker opens for every replica; Envoy's default (10%) would never eject a small cluster's hosts.
    max_ejection_percent: u32,
}

#[derive(Serialize)]
struct LoadAssignment {
    cluster_name: String,
    endpoints: Vec<LocalityEndpoints>,
}

#[derive(Serialize)]
struct LocalityEndpoints {
    lb_endpoints: Vec<LbEndpoint>,
}

#[derive(Serialize)]
struct LbEndpoint {
    endpoint: Endpoint,
}

#[derive(Serialize)]
struct Endpoint {
    address: Address,
}

// ------------------------------------------------------------------------------------------------ building

const HCM_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const TCP_PROXY_TYPE: &str =
    "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
const ROUTER_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";
const HTTP_OPTIONS_TYPE: &str =
    "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

/// The cluster name of a call: the callee's id, or `<callee>_<n>` when one caller has several calls to the same
/// callee with different policies (each keeps its own thresholds). Service ids never hold `_`, so these names
/// cannot meet another callee's (`api_2` beside a service `api-2`).
pub(crate) fn cluster_names(calls: &[&Edge]) -> Vec<String> {
    calls
        .iter()
        .enumerate()
        .map(|(i, call)| {
            let same_callee_before = calls[..i].iter().filter(|c| c.to == call.to).count();
            if same_callee_before == 0 {
                call.to.to_string()
            } else {
                format!("{}_{}", call.to, same_callee_before + 1)
            }
        })
        .collect()
}

/// Where a caller's outbound proxy runs.
#[derive(Clone, Copy, PartialEq)]
enum Proxy {
    /// Beside each replica, on its loopback: each replica's proxy gets its share of a bulkhead.
    Sidecar,
    /// One proxy for every replica, reached over the network: it enforces the whole bulkhead, and its breakers
    /// see every replica's calls (as the simulator's do).
    SharedEgress,
}

/// The path of a caller's shared egress proxy bootstrap, written for callers of several replicas.
pub(crate) fn egress_path(caller: &Service) -> String {
    format!("envoy/{}-egress.yaml", caller.id)
}

fn sidecar(design: &Design, caller: &Service, calls: &[&Edge], proxy: Proxy) -> Bootstrap {
    let (bind, proxies) = match proxy {
        Proxy::Sidecar => ("127.0.0.1", caller.replicas),
        Proxy::SharedEgress => ("0.0.0.0", 1),
    };
    let names = cluster_names(calls);
    let listeners = calls
        .iter()
        .zip(&names)
        .enumerate()
        .map(|(i, (call, cluster))| {
            let port = sidecar_port(i);
            let filter = if is_http_family(call.effective_protocol()) {
                http_filter(
                    cluster,
                    vec![VirtualHost {
                        name: cluster.clone(),
                        domains: vec!["*".to_owned()],
                        routes: vec![route(call, cluster, "/", None)],
                    }],
                )
            } else {
                tcp_filter(call, cluster)
            };
            Listener {
                name: format!("outbound-{cluster}"),
                address: socket(bind, port),
                filter_chains: vec![FilterChain {
                    filters: vec![filter],
                }],
            }
        })
        .collect();
    Bootstrap {
        static_resources: StaticResources {
            listeners,
            clusters: clusters(design, proxies, calls, &names),
        },
    }
}

fn front_proxy(design: &Design, gateway: &Service, calls: &[&Edge]) -> Bootstrap {
    let names = cluster_names(calls);
    let mut listeners = Vec::new();
    let http_routes: Vec<Route> = calls
        .iter()
        .zip(&names)
        .filter(|(call, _)| is_http_family(call.effective_protocol()))
        .map(|(call, cluster)| {
            if call.effective_protocol() == Protocol::Grpc {
                // Routed by the gRPC package, as the nginx and Istio exports do.
                route(call, cluster, &super::gateway_path(call), None)
            } else {
                route(call, cluster, &format!("/{cluster}/"), Some("/"))
            }
        })
        .collect();
    if !http_routes.is_empty() {
        listeners.push(Listener {
            name: "ingress_http".to_owned(),
            address: socket("0.0.0.0", service_port(design, gateway)),
            filter_chains: vec![FilterChain {
                filters: vec![http_filter(
                    "ingress",
                    vec![VirtualHost {
                        name: gateway.id.to_string(),
                        domains: vec!["*".to_owned()],
                        routes: http_routes,
                    }],
                )],
            }],
        });
    }
    // TCP callees of a gateway each get a public port after the HTTP one.
    let http_port = service_port(design, gateway);
    for (i, (call, cluster)) in calls
        .iter()
        .zip(&names)
        .filter(|(call, _)| !is_http_family(call.effective_protocol()))
        .enumerate()
    {
        let port = http_port.saturating_add(1 + u16::try_from(i).unwrap_or(u16::MAX));
        listeners.push(Listener {
            name: format!("ingress-{cluster}"),
            address: socket("0.0.0.0", port),
            filter_chains: vec![FilterChain {
                filters: vec![tcp_filter(call, cluster)],
            }],
        });
    }
    Bootstrap {
        static_resources: StaticResources {
            listeners,
            clusters: clusters(design, gateway.replicas, calls, &names),
        },
    }
}

fn socket(address: &str, port: u16) -> Address {
    Address {
        socket_address: SocketAddress {
            address: address.to_owned(),
            port_value: port,
        },
    }
}

fn http_filter(prefix: &str, virtual_hosts: Vec<VirtualHost>) -> NetworkFilter {
    NetworkFilter {
        name: "envoy.filters.network.http_connection_manager",
        typed_config: NetworkFilterConfig::Http(Box::new(HttpConnectionManager {
            type_url: HCM_TYPE,
            stat_prefix: prefix.to_owned(),
            route_config: RouteConfiguration {
                name: prefix.to_owned(),
                virtual_hosts,
            },
            http_filters: vec![HttpFilter {
                name: "envoy.filters.http.router",
                typed_config: TypeOnly {
                    type_url: ROUTER_TYPE,
                },
            }],
        })),
    }
}

fn tcp_filter(call: &Edge, cluster: &str) -> NetworkFilter {
    NetworkFilter {
        name: "envoy.filters.network.tcp_proxy",
        typed_config: NetworkFilterConfig::Tcp(TcpProxy {
            type_url: TCP_PROXY_TYPE,
            stat_prefix: cluster.to_owned(),
            cluster: cluster.to_owned(),
            max_downstream_connection_duration: call.timeout_ms.map(proto_duration),
            max_connect_attempts: call.max_tries(),
        }),
    }
}

fn route(call: &Edge, cluster: &str, prefix: &str, rewrite: Option<&str>) -> Route {
    let retry_policy = call.retry.as_ref().map(|retry| RetryPolicy {
        retry_on: retry_on(call),
        num_retries: retry.max_retries,
        per_try_timeout: retry.per_try_timeout_ms.map(proto_duration),
        // Envoy's backoff is fully jittered (a random wait up to the interval) and rounds intervals below 1 ms up
        // to 1 ms; without a back-off it would wait its default 25 ms, so a design's zero backoff is that 1 ms.
        retry_back_off: Some(RetryBackOff {
            base_interval: proto_duration(retry.backoff_ms.max(MIN_BACKOFF_MS)),
            max_interval: proto_duration(
                retry
                    .backoff_before_retry_ms(retry.max_retries.max(1))
                    .max(MIN_BACKOFF_MS),
            ),
        }),
    });
    Route {
        name: call.id.to_string(),
        route_match: RouteMatch {
            prefix: prefix.to_owned(),
        },
        route: RouteAction {
            cluster: cluster.to_owned(),
            timeout: proto_duration(call.timeout_ms.unwrap_or(0.0)),
            prefix_rewrite: rewrite.map(str::to_owned),
            retry_policy,
        },
    }
}

/// The bulkhead one proxy enforces: the design's `max_in_flight` holds across all the caller's replicas, each of
/// which runs its own proxy, so each gets its share (rounded up).
pub(crate) fn per_proxy_limit(max_in_flight: u32, caller_replicas: u32) -> u32 {
    max_in_flight.div_ceil(caller_replicas.max(1))
}

/// The clusters of a caller's calls, for a proxy that is one of `proxies` sharing the caller's bulkheads.
fn clusters(design: &Design, proxies: u32, calls: &[&Edge], names: &[String]) -> Vec<Cluster> {
    calls
        .iter()
        .zip(names)
        .map(|(call, name)| {
            let port = call_port(design, call);
            let bulkhead = call
                .max_in_flight
                .map(|limit| per_proxy_limit(limit, proxies));
            // Retries in flight at once: every call in flight may be retrying. Without a bulkhead, Envoy's default
            // of 1,024 requests bounds the calls in flight, and so the retries.
            let max_retries = call
                .retry
                .filter(|r| r.max_retries > 0)
                .map(|_| bulkhead.unwrap_or(1024));
            Cluster {
                name: name.clone(),
                discovery: "STRICT_DNS",
                connect_timeout: CONNECT_TIMEOUT,
                lb_policy: "ROUND_ROBIN",
                // With every replica ejected Envoy would otherwise panic and send to them anyway (threshold 50%):
                // the breaker would never fail fast. Ejections reach the load balancer at once, not merged over
                // Envoy's default window of a second (measured: at 50 calls/s about 50 calls reached the ejected
                // replicas after each ejection, and as many after each return).
                common_lb_config: call.circuit_breaker.map(|_| CommonLbConfig {
                    healthy_panic_threshold: Percent { value: 0.0 },
                    update_merge_window: "0s",
                }),
                typed_extension_protocol_options: (call.effective_protocol() == Protocol::Grpc)
                    .then_some(ProtocolOptions {
                        http: HttpProtocolOptions {
                            type_url: HTTP_OPTIONS_TYPE,
                            explicit_http_config: ExplicitHttpConfig {
                                http2_protocol_options: Empty {},
                            },
                        },
                    }),
                circuit_breakers: (bulkhead.is_some() || max_retries.is_some()).then(|| {
                    CircuitBreakers {
                        thresholds: vec![Thresholds {
                            priority: "DEFAULT",
                            // Envoy checks `max_requests` when it hands a request to a free connection. With
                            // room for twice the limit in connections and pending requests, a call over the limit
                            // is handed a connection (new or free) at once and refused there, as in the
                            // simulator; with as many connections as the limit, HTTP/1.1 would queue it for the
                            // next free one instead.
                            max_connections: bulkhead.map(|limit| limit.saturating_mul(2)),
                            max_pending_requests: bulkhead,
                            max_requests: bulkhead,
                            max_retries,
                        }],
                    }
                }),
                outlier_detection: call
                    .circuit_breaker
                    .as_ref()
                    .map(|breaker| OutlierDetection {
                        consecutive_5xx: per_replica_failures(
                            breaker,
                            design.service(call.to.as_str()).map_or(1, |s| s.replicas),
                        ),
                        base_ejection_time: proto_duration(breaker.open_ms),
                        max_ejection_time: proto_duration(breaker.open_ms),
                        interval: proto_duration(outlier_sweep_ms(breaker)),
                        max_ejection_percent: 100,
                    }),
                load_assignment: LoadAssignment {
                    cluster_name: name.clone(),
                    endpoints: vec![LocalityEndpoints {
                        lb_endpoints: vec![LbEndpoint {
                            endpoint: Endpoint {
                                address: socket(call.to.as_str(), port),
                            },
                        }],
                    }],
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bulkhead_is_shared_out_over_the_caller_s_proxies() {
        assert_eq!(per_proxy_limit(10, 1), 10);
        assert_eq!(per_proxy_limit(10, 3), 4);
        assert_eq!(per_proxy_limit(1, 4), 1);
        assert_eq!(per_proxy_limit(5, 0), 5);
    }

    #[test]
    fn cluster_names_never_meet_another_callee_s() {
        let mut first = Edge::new("web", "api", crate::model::CallMode::Sync);
        first.id = "e1".into();
        let mut second = first.clone();
        second.id = "e2".into();
        let mut other = Edge::new("web", "api-2", crate::model::CallMode::Sync);
        other.id = "e3".into();
        let names = cluster_names(&[&first, &second, &other]);
        assert_eq!(names, ["api", "api_2", "api-2"]);
    }
}
