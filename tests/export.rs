//! Configuration export: golden files for every target and sample, determinism, values that read back equal to
//! the design's, and display names that cannot break a file.

use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;
use syncopate::export::{self, ExportedFile, Target, parse_proto_duration_ms};
use syncopate::model::{self, CallMode, Design, Edge, ServiceKind};

fn samples() -> Vec<(String, Design)> {
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, model::load_file(&path).unwrap())
        })
        .collect()
}

fn hostile() -> Design {
    model::load_file(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/designs/hostile-names.syncopate"),
    )
    .unwrap()
}

fn file<'a>(files: &'a [ExportedFile], path: &str) -> &'a ExportedFile {
    files.iter().find(|f| f.path == path).unwrap_or_else(|| {
        panic!(
            "no {path} among {:?}",
            files.iter().map(|f| &f.path).collect::<Vec<_>>()
        )
    })
}

fn yaml_documents(text: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect()
}

fn ms(value: &Value) -> f64 {
    parse_proto_duration_ms(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not a duration: {value:?}")),
    )
    .unwrap()
}

#[test]
fn every_target_of_every_sample_matches_its_golden_files() {
    for (name, design) in samples() {
        let files = export::export_all(&design);
        assert!(!files.is_empty(), "{name} exports nothing");
        for f in &files {
            let snapshot = format!("{name}__{}", f.path.replace('/', "__"));
            insta::assert_snapshot!(snapshot, &f.contents);
        }
    }
}

#[test]
fn export_is_deterministic_and_sorted() {
    for (name, design) in samples() {
        for target in Target::ALL {
            let first = export::export(&design, target);
            assert_eq!(first, export::export(&design, target), "{name} {target}");
            let mut paths: Vec<&str> = first.iter().map(|f| f.path.as_str()).collect();
            let unsorted = paths.clone();
            paths.sort_unstable();
            assert_eq!(paths, unsorted, "{name} {target}");
            assert!(
                first
                    .iter()
                    .all(|f| f.path.starts_with(&format!("{target}/")))
            );
        }
    }
}

#[test]
fn every_sample_exports_each_kind_of_target_it_has_material_for() {
    let all: Vec<(String, Vec<ExportedFile>)> = samples()
        .into_iter()
        .map(|(n, d)| (n, export::export_all(&d)))
        .collect();
    for target in Target::ALL {
        assert!(
            all.iter().any(|(_, files)| files
                .iter()
                .any(|f| f.path.starts_with(&format!("{target}/")))),
            "no sample exports {target}"
        );
    }
}

fn sync_calls(design: &Design) -> Vec<&Edge> {
    design
        .edges
        .iter()
        .filter(|e| e.mode == CallMode::Sync && e.from != e.to)
        .collect()
}

fn is_http(edge: &Edge) -> bool {
    matches!(
        edge.effective_protocol().as_str(),
        "http" | "grpc" | "graphql"
    )
}

/// Every timeout, retry count and breaker threshold of a sync call reads back from the Envoy bootstrap of its
/// caller as the design has it.
fn check_envoy(name: &str, design: &Design) {
    let files = export::export(design, Target::Envoy);
    for call in sync_calls(design) {
        let caller = design.service(call.from.as_str()).unwrap();
        if matches!(caller.kind, ServiceKind::Client | ServiceKind::External) {
            // Clients and external services run no proxy of ours.
            assert!(
                !files
                    .iter()
                    .any(|f| f.path.contains(&format!("/{}-", caller.id)))
            );
            continue;
        }
        let path = if caller.kind == ServiceKind::Gateway {
            format!("envoy/{}-front-proxy.yaml", caller.id)
        } else {
            format!("envoy/{}-sidecar.yaml", caller.id)
        };
        let doc = &yaml_documents(&file(&files, &path).contents)[0];
        let resources = &doc["static_resources"];
        let cluster_name = if is_http(call) {
            let route = resources["listeners"]
                .as_sequence()
                .unwrap()
                .iter()
                .flat_map(|l| l["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]["virtual_hosts"].as_sequence().cloned().unwrap_or_default())
                .flat_map(|vh| vh["routes"].as_sequence().cloned().unwrap())
                .find(|r| r["name"].as_str() == Some(call.id.as_str()))
                .unwrap_or_else(|| panic!("{name}: no route {} in {path}", call.id));
            let action = &route["route"];
            assert_eq!(
                ms(&action["timeout"]),
                call.timeout_ms.unwrap_or(0.0),
                "{name} {}",
                call.id
            );
            match &call.retry {
                Some(retry) => {
                    let policy = &action["retry_policy"];
                    assert_eq!(
                        policy["num_retries"].as_u64().unwrap(),
                        u64::from(retry.max_retries)
                    );
                    match retry.per_try_timeout_ms {
                        Some(t) => assert_eq!(ms(&policy["per_try_timeout"]), t),
                        None => assert!(policy.get("per_try_timeout").is_none()),
                    }
                    // Envoy's shortest interval is 1 ms, which a zero backoff becomes.
                    assert_eq!(
                        ms(&policy["retry_back_off"]["base_interval"]),
                        retry.backoff_ms.max(1.0)
                    );
                }
                None => assert!(action.get("retry_policy").is_none(), "{name} {}", call.id),
            }
            action["cluster"].as_str().unwrap().to_owned()
        } else {
            let proxy = resources["listeners"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|l| l["filter_chains"][0]["filters"][0]["typed_config"].clone())
                .find(|c| {
                    c["cluster"].as_str().is_some_and(|c| {
                        c == call.to.as_str() || c.starts_with(&format!("{}_", call.to))
                    })
                })
                .unwrap_or_else(|| panic!("{name}: no tcp proxy for {}", call.id));
            assert_eq!(
                proxy["max_connect_attempts"].as_u64().unwrap(),
                call.max_tries()
            );
            match call.timeout_ms {
                Some(t) => assert_eq!(ms(&proxy["max_downstream_connection_duration"]), t),
                None => assert!(proxy.get("max_downstream_connection_duration").is_none()),
            }
            proxy["cluster"].as_str().unwrap().to_owned()
        };
        let cluster = resources["clusters"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|c| c["name"].as_str() == Some(cluster_name.as_str()))
            .unwrap();
        assert_eq!(cluster["type"].as_str(), Some("STRICT_DNS"));
        let endpoint = &cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
            ["socket_address"];
        assert_eq!(endpoint["address"].as_str(), Some(call.to.as_str()));
        match &call.circuit_breaker {
            Some(breaker) => {
                let outlier = &cluster["outlier_detection"];
                // Envoy ejects replicas: the call's k failures in a row are about k / N at each of N.
                assert_eq!(
                    outlier["consecutive_5xx"].as_u64().unwrap(),
                    u64::from(
                        breaker
                            .consecutive_failures
                            .div_ceil(replicas_of(design, &call.to))
                    )
                );
                assert_eq!(ms(&outlier["base_ejection_time"]), breaker.open_ms);
                assert_eq!(ms(&outlier["max_ejection_time"]), breaker.open_ms);
                // With every replica ejected, a panic threshold above 0 would send to them anyway.
                assert_eq!(
                    cluster["common_lb_config"]["healthy_panic_threshold"]["value"].as_f64(),
                    Some(0.0)
                );
            }
            None => assert!(cluster.get("outlier_detection").is_none()),
        }
        let caller_replicas = design.service(call.from.as_str()).map_or(1, |s| s.replicas);
        let thresholds = &cluster["circuit_breakers"]["thresholds"][0];
        match call.max_in_flight {
            Some(limit) => assert_eq!(
                thresholds["max_requests"].as_u64().unwrap(),
                u64::from(limit.div_ceil(caller_replicas))
            ),
            None => assert!(thresholds.get("max_requests").is_none()),
        }
        if call.retry.is_some_and(|r| r.max_retries > 0) {
            assert!(
                thresholds["max_retries"].as_u64().unwrap() >= 1,
                "{name} {}: Envoy's default of 3 retries in flight would apply",
                call.id
            );
        }
    }
}

/// The same for Istio: the callee's VirtualService route for the caller, and the call's DestinationRule.
fn check_istio(name: &str, design: &Design) {
    let files = export::export(design, Target::Istio);
    let in_mesh = |edge: &Edge| {
        !matches!(
            design.service(edge.from.as_str()).unwrap().kind,
            ServiceKind::Client | ServiceKind::External
        )
    };
    for call in sync_calls(design) {
        // Istio tells callers apart by label only: of several calls from one caller to one callee, the first one's
        // route applies to all (docs/export.md); the file's header names the others.
        let shares_a_route = sync_calls(design)
            .into_iter()
            .take_while(|e| e.id != call.id)
            .any(|e| e.from == call.from && e.to == call.to);
        let wants_rule = in_mesh(call)
            && !shares_a_route
            && (call.circuit_breaker.is_some() || call.max_in_flight.is_some());
        // Calls from outside the mesh share the default route, which has the policy of the first of them.
        let first_outside = sync_calls(design)
            .into_iter()
            .filter(|e| e.to == call.to && is_http(e) && !in_mesh(e))
            .min_by(|a, b| a.from.cmp(&b.from).then(a.id.cmp(&b.id)))
            .is_some_and(|e| e.id == call.id);
        let checks_route = is_http(call) && !shares_a_route && (in_mesh(call) || first_outside);
        if !checks_route && !wants_rule {
            continue;
        }
        let docs = yaml_documents(&file(&files, &format!("istio/{}.yaml", call.to)).contents);
        if checks_route {
            let vs = docs
                .iter()
                .find(|d| d["kind"].as_str() == Some("VirtualService"))
                .unwrap();
            let name = if in_mesh(call) {
                format!("from-{}", call.from)
            } else {
                "default".to_owned()
            };
            let route = vs["spec"]["http"]
                .as_sequence()
                .unwrap()
                .iter()
                .find(|r| r["name"].as_str() == Some(name.as_str()))
                .unwrap();
            if in_mesh(call) {
                assert_eq!(
                    route["match"][0]["sourceLabels"]["app"].as_str(),
                    Some(call.from.as_str())
                );
            }
            match call.timeout_ms {
                Some(t) => assert_eq!(ms(&route["timeout"]), t, "{name} {}", call.id),
                None => assert!(route.get("timeout").is_none()),
            }
            let retries = &route["retries"];
            assert_eq!(
                retries["attempts"].as_u64().unwrap(),
                u64::from(call.retry.map_or(0, |r| r.max_retries))
            );
            if let Some(t) = call.retry.and_then(|r| r.per_try_timeout_ms) {
                assert_eq!(ms(&retries["perTryTimeout"]), t);
            }
        }
        if wants_rule {
            let rule = docs
                .iter()
                .find(|d| {
                    d["metadata"]["name"].as_str()
                        == Some(format!("{}-to-{}", call.from, call.to).as_str())
                })
                .unwrap_or_else(|| panic!("{name}: no DestinationRule for {}", call.id));
            assert_eq!(
                rule["spec"]["workloadSelector"]["matchLabels"]["app"].as_str(),
                Some(call.from.as_str())
            );
            let policy = &rule["spec"]["trafficPolicy"];
            if let Some(breaker) = call.circuit_breaker {
                assert_eq!(
                    policy["outlierDetection"]["consecutive5xxErrors"]
                        .as_u64()
                        .unwrap(),
                    u64::from(
                        breaker
                            .consecutive_failures
                            .div_ceil(replicas_of(design, &call.to))
                    )
                );
                assert_eq!(
                    ms(&policy["outlierDetection"]["baseEjectionTime"]),
                    breaker.open_ms
                );
            }
            if let Some(limit) = call.max_in_flight {
                assert_eq!(
                    policy["connectionPool"]["tcp"]["maxConnections"]
                        .as_u64()
                        .unwrap(),
                    u64::from(limit)
                );
            }
        }
    }
}

/// A tiny reader of the nginx files we write: (directive path, arguments) for every simple directive.
fn nginx_directives(text: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "}" {
            stack.pop();
        } else if let Some(head) = line.strip_suffix('{') {
            stack.push(head.trim().to_owned());
        } else {
            let mut words = line
                .trim_end_matches(';')
                .split_whitespace()
                .map(str::to_owned);
            let name = words.next().unwrap();
            let mut path = stack.clone();
            path.push(name);
            out.push((path, words.collect()));
        }
    }
    out
}

fn check_nginx(name: &str, design: &Design) {
    let files = export::export(design, Target::Nginx);
    for call in sync_calls(design) {
        let caller = design.service(call.from.as_str()).unwrap();
        if caller.kind != ServiceKind::Gateway || !is_http(call) {
            continue;
        }
        let directives =
            nginx_directives(&file(&files, &format!("nginx/{}.conf", caller.id)).contents);
        // gRPC is routed by its service path, `/<package>.`, on a listener of its own.
        let location = if call.effective_protocol() == model::Protocol::Grpc {
            format!(
                "location /{}.",
                syncopate::export::nginx_grpc_package(call.to.as_str())
            )
        } else {
            format!("location /{}/", call.to)
        };
        let in_location = |directive: &str| -> Option<Vec<String>> {
            directives
                .iter()
                .find(|(path, _)| {
                    path.len() == 4 && path[2] == location && path[3].ends_with(directive)
                })
                .map(|(_, args)| args.clone())
        };
        let tries =
            in_location("_next_upstream_tries").unwrap_or_else(|| panic!("{name}: {location}"));
        assert_eq!(tries, vec![call.max_tries().to_string()]);
        let try_timeout = call
            .retry
            .and_then(|r| r.per_try_timeout_ms)
            .or(call.timeout_ms);
        match try_timeout {
            Some(t) => assert_eq!(
                in_location("_read_timeout").unwrap(),
                vec![format!("{}ms", t.ceil())]
            ),
            None => assert!(in_location("_read_timeout").is_none()),
        }
        let servers: Vec<&Vec<String>> = directives
            .iter()
            .filter(|(path, _)| {
                path.len() == 3 && path[1] == format!("upstream {}", call.to) && path[2] == "server"
            })
            .map(|(_, args)| args)
            .collect();
        // One server on the service name, which nginx resolves to every replica.
        assert_eq!(servers.len(), 1, "{name}: {servers:?}");
        assert!(
            servers[0][0].starts_with(&format!("{}:", call.to)),
            "{name}: {servers:?}"
        );
        if let Some(breaker) = call.circuit_breaker {
            for args in servers {
                assert!(
                    args.contains(&format!("max_fails={}", breaker.consecutive_failures)),
                    "{args:?}"
                );
                assert!(
                    args.contains(&format!(
                        "fail_timeout={}s",
                        (breaker.open_ms / 1000.0).ceil()
                    )),
                    "{args:?}"
                );
            }
        }
    }
}

#[test]
fn exported_policies_read_back_equal_to_the_design() {
    let mut designs = samples();
    designs.push(("hostile-names".to_owned(), hostile()));
    for (name, design) in &designs {
        check_envoy(name, design);
        check_istio(name, design);
        check_nginx(name, design);
    }
}

fn assert_no_injected_key(value: &Value, path: &str) {
    match value {
        Value::Mapping(map) => {
            for (key, inner) in map {
                let key = serde_yaml_ng::to_string(key).unwrap();
                assert!(!key.contains("injected"), "{path}: key {key}");
                assert_no_injected_key(inner, path);
            }
        }
        Value::Sequence(items) => items.iter().for_each(|i| assert_no_injected_key(i, path)),
        _ => {}
    }
}

#[test]
fn display_names_stay_in_comments_and_quoted_values() {
    let design = hostile();
    for f in export::export_all(&design) {
        if f.path.ends_with(".yaml") || f.path.ends_with(".yml") {
            // Every document parses, and no display name leaked into a key.
            for doc in yaml_documents(&f.contents) {
                assert_no_injected_key(&doc, &f.path);
            }
        } else if f.path.ends_with(".json") {
            serde_json::from_str::<serde_json::Value>(&f.contents).unwrap();
        }
        if f.path.ends_with(".conf") {
            // nginx: every name stays on its comment line.
            for line in f.contents.lines() {
                assert!(
                    !line.trim_start().starts_with("injected"),
                    "{}: {line}",
                    f.path
                );
            }
        }
    }
}

#[test]
fn display_names_and_notes_survive_exactly_in_annotations_and_labels() {
    let design = hostile();
    let files = export::export_all(&design);
    let edge = design.service("edge").unwrap();
    let docs = yaml_documents(&file(&files, "kubernetes/edge.yaml").contents);
    let annotations = &docs[0]["metadata"]["annotations"];
    assert_eq!(
        annotations["syncopate.dev/name"].as_str(),
        edge.name.as_deref()
    );
    assert_eq!(
        annotations["syncopate.dev/notes"].as_str(),
        edge.notes.as_deref()
    );
    let compose = &yaml_documents(&file(&files, "compose/docker-compose.yml").contents)[0];
    let cart = design.service("cart").unwrap();
    assert_eq!(
        compose["services"]["cart"]["labels"]["dev.syncopate.name"].as_str(),
        cart.name.as_deref()
    );
}

#[test]
fn a_design_without_gateways_or_brokers_exports_only_what_applies() {
    let mut design = Design::default();
    design.services.push(model::Service::new("a"));
    design.services.push(model::Service::new("b"));
    design.edges.push(Edge::new("a", "b", CallMode::Sync));
    design.fill_default_ids();
    assert!(model::validate(&design).is_empty());
    assert!(export::export(&design, Target::Nginx).is_empty());
    assert!(export::export(&design, Target::Rabbitmq).is_empty());
    assert!(export::export(&design, Target::Kafka).is_empty());
    assert_eq!(export::export(&design, Target::Kubernetes).len(), 2);
    assert_eq!(export::export(&design, Target::Envoy).len(), 1);
}

#[test]
fn every_sample_s_compose_file_could_start_and_its_nginx_upstreams_resolve_in_it() {
    for (name, design) in samples() {
        let files = export::export_all(&design);
        let compose = &yaml_documents(&file(&files, "compose/docker-compose.yml").contents)[0];
        let services = compose["services"].as_mapping().unwrap();
        // No host port is published twice: every range of every service is disjoint from the others.
        let mut taken = std::collections::BTreeSet::new();
        for (id, service) in services {
            for mapping in service["ports"].as_sequence().into_iter().flatten() {
                let mapping = mapping.as_str().unwrap();
                let host = mapping.rsplit_once(':').unwrap().0;
                let (first, last) = host.split_once('-').unwrap_or((host, host));
                let (first, last): (u32, u32) = (first.parse().unwrap(), last.parse().unwrap());
                let replicas = service["deploy"]["replicas"].as_u64().unwrap() as u32;
                assert_eq!(
                    last - first + 1,
                    replicas,
                    "{name} {id:?}: a host port per replica"
                );
                for port in first..=last {
                    assert!(
                        taken.insert(port),
                        "{name}: host port {port} published twice"
                    );
                }
            }
        }
        // Every nginx upstream server is a service of the compose file, and its gateway mounts the file.
        for f in files.iter().filter(|f| f.path.starts_with("nginx/")) {
            let gateway = f
                .path
                .trim_start_matches("nginx/")
                .trim_end_matches(".conf");
            for (path, args) in nginx_directives(&f.contents) {
                if path.last().map(String::as_str) == Some("server") && path.len() == 3 {
                    let host = args[0].split(':').next().unwrap();
                    assert!(
                        services.contains_key(host),
                        "{name}: nginx upstream {host} is no compose service"
                    );
                }
            }
            // The gateway runs the exported configuration of what its image is: nginx, or Envoy.
            let volumes = &services[gateway]["volumes"];
            let image = services[gateway]["image"].as_str().unwrap();
            let expected = if image.starts_with("envoyproxy/envoy") {
                format!("../envoy/{gateway}-front-proxy.yaml:/etc/envoy/envoy.yaml:ro")
            } else {
                format!("../nginx/{gateway}.conf:/etc/nginx/nginx.conf:ro")
            };
            assert_eq!(
                volumes[0].as_str(),
                Some(expected.as_str()),
                "{name}: {gateway} runs its exported configuration"
            );
        }
        // Every sync call of a service goes through its Envoy proxy: the address points at the proxy's
        // listener (on loopback for a joined sidecar, by name for a shared egress proxy), and the proxy runs an
        // exported bootstrap.
        for caller in design
            .services
            .iter()
            .filter(|s| s.kind == model::ServiceKind::Service)
        {
            let Some(service) = services.get(caller.id.as_str()) else {
                continue;
            };
            for call in sync_calls(&design)
                .into_iter()
                .filter(|e| e.from == caller.id)
            {
                let variable =
                    format!("{}_ADDR", call.to.as_str().to_uppercase().replace('-', "_"));
                let address = service["environment"][variable.as_str()].as_str().unwrap();
                let proxy = format!("{}_envoy", caller.id);
                let expected_host = if caller.replicas == 1 {
                    "127.0.0.1"
                } else {
                    proxy.as_str()
                };
                assert_eq!(
                    address.split(':').next(),
                    Some(expected_host),
                    "{name}: {} {variable}",
                    caller.id
                );
                let mounted = services[proxy.as_str()]["volumes"][0].as_str().unwrap();
                let bootstrap = mounted.trim_start_matches("../").split(':').next().unwrap();
                assert!(
                    files.iter().any(|f| f.path == bootstrap),
                    "{name}: {proxy} mounts {bootstrap}, which the export has"
                );
            }
        }
    }
}

#[test]
fn a_callee_of_grpc_and_http_calls_gets_a_named_port_for_each_and_callers_reach_their_own() {
    let design = model::load_from_str(
        &serde_json::json!({
            "type": "syncopate", "version": 1, "name": "mixed",
            "services": [
                {"id": "web"}, {"id": "worker"}, {"id": "admin"},
                {"id": "api", "port": 9000, "replicas": 2}
            ],
            "edges": [
                {"from": "web", "to": "api", "mode": "sync", "protocol": "http", "timeout_ms": 100},
                {"from": "worker", "to": "api", "mode": "sync", "protocol": "grpc", "timeout_ms": 100},
                {"from": "admin", "to": "api", "mode": "sync", "protocol": "grpc", "timeout_ms": 100}
            ],
            "flows": [{"id": "f", "entry": "web", "rate_rps": 1}]
        })
        .to_string(),
        "mixed",
    )
    .unwrap();
    let files = export::export(&design, Target::Kubernetes);
    let documents = yaml_documents(&file(&files, "kubernetes/api.yaml").contents);
    let service = documents
        .iter()
        .find(|d| d["kind"] == "Service")
        .expect("a Service");
    let ports: Vec<(String, u64)> = service["spec"]["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["port"].as_u64().unwrap(),
            )
        })
        .collect();
    // gRPC, the protocol of most calls, keeps the design's port; HTTP gets the next one.
    assert_eq!(
        ports,
        [("grpc".to_owned(), 9000), ("http".to_owned(), 9001)]
    );
    let container_ports = documents
        .iter()
        .find(|d| d["kind"] == "Deployment")
        .expect("a Deployment")["spec"]["template"]["spec"]["containers"][0]["ports"]
        .as_sequence()
        .unwrap()
        .len();
    assert_eq!(container_ports, 2);
    let address = |caller: &str| {
        let documents =
            yaml_documents(&file(&files, &format!("kubernetes/{caller}.yaml")).contents);
        documents
            .iter()
            .find(|d| d["kind"] == "Deployment")
            .unwrap()["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "API_ADDR")
            .unwrap()["value"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(address("web"), "api:9001");
    assert_eq!(address("worker"), "api:9000");
    // The Envoy sidecars send each call to the port of its protocol.
    let envoy = export::export(&design, Target::Envoy);
    assert!(
        file(&envoy, "envoy/web-sidecar.yaml")
            .contents
            .contains("port_value: 9001")
    );
    assert!(
        file(&envoy, "envoy/worker-sidecar.yaml")
            .contents
            .contains("port_value: 9000")
    );
}

#[test]
fn a_gateway_s_calls_are_routes_bound_to_the_mesh_ingress() {
    for (name, design) in samples() {
        let files = export::export(&design, Target::Istio);
        for gateway in design
            .services
            .iter()
            .filter(|s| s.kind == model::ServiceKind::Gateway)
        {
            let callees: std::collections::BTreeSet<String> = sync_calls(&design)
                .into_iter()
                .filter(|e| e.from == gateway.id && is_http(e))
                .map(|e| e.to.to_string())
                .collect();
            let path = format!("istio/{}-ingress.yaml", gateway.id);
            let Some(found) = files.iter().find(|f| f.path == path) else {
                assert!(callees.is_empty(), "{name}: no {path}");
                continue;
            };
            let documents = yaml_documents(&found.contents);
            let bound = documents
                .iter()
                .find(|d| d["kind"] == "Gateway")
                .expect("a Gateway")["metadata"]["name"]
                .clone();
            let routes = documents
                .iter()
                .find(|d| d["kind"] == "VirtualService")
                .expect("a VirtualService");
            assert_eq!(routes["spec"]["gateways"][0], bound, "{name}");
            let routed: std::collections::BTreeSet<String> = routes["spec"]["http"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|r| {
                    r["route"][0]["destination"]["host"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect();
            assert_eq!(routed, callees, "{name}: {path}");
        }
    }
}

/// How many replicas the service `id` runs.
fn replicas_of(design: &Design, id: &model::ServiceId) -> u32 {
    design.service(id.as_str()).map_or(1, |s| s.replicas.max(1))
}
