//! Import: real compose files, manifests and traces from public projects (read from `../shared/real-world/`), our
//! own fixtures, the round trip through our own exports, and no panic on any input.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_yaml_ng::Value;
use syncopate::export::{self, Target};
use syncopate::import::{self, Imported, Source};
use syncopate::model::ids::slugify_service_id;
use syncopate::model::{self, CallMode, Design, ServiceKind};

fn real_world(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/real-world")
        .join(path)
}

/// Whether the real-world inputs are beside the checkout (`../shared/real-world/`, as CI has them). A clone on its
/// own skips these tests; CI, which sets `SYNCOPATE_REQUIRE_TOOLS`, fails instead.
fn have_real_world() -> bool {
    let present = real_world("README.md").is_file();
    assert!(
        present || std::env::var_os("SYNCOPATE_REQUIRE_TOOLS").is_none(),
        "../shared/real-world/ is required (SYNCOPATE_REQUIRE_TOOLS is set) but missing"
    );
    if !present {
        println!("skipped: ../shared/real-world/ is not beside this checkout");
    }
    present
}

fn import_real(source: Source, path: &str) -> Imported {
    import::import_file(source, &real_world(path)).unwrap_or_else(|e| panic!("{e}"))
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/import")
            .join(name),
    )
    .unwrap()
}

type EdgeSet = BTreeSet<(String, String, CallMode)>;

fn edges(design: &Design) -> EdgeSet {
    design
        .edges
        .iter()
        .map(|e| (e.from.to_string(), e.to.to_string(), e.mode))
        .collect()
}

fn ids(design: &Design) -> BTreeSet<String> {
    design.services.iter().map(|s| s.id.to_string()).collect()
}

fn edge(from: &str, to: &str, mode: CallMode) -> (String, String, CallMode) {
    (from.to_owned(), to.to_owned(), mode)
}

/// The services and `depends_on` edges of a compose file, read generically (not with the importer's code).
fn compose_declarations(path: &str) -> (BTreeSet<String>, EdgeSet) {
    let value: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(real_world(path)).unwrap()).unwrap();
    let services = value["services"].as_mapping().unwrap();
    let brokers: BTreeSet<String> = services
        .iter()
        .filter(|(_, s)| s["image"].as_str().is_some_and(|i| i.contains("rabbitmq")))
        .map(|(k, _)| k.as_str().unwrap().to_owned())
        .collect();
    let mut declared = EdgeSet::new();
    for (key, service) in services {
        for dependency in service["depends_on"].as_sequence().into_iter().flatten() {
            let to = dependency.as_str().unwrap();
            let mode = if brokers.contains(to) {
                CallMode::Async
            } else {
                CallMode::Sync
            };
            declared.insert(edge(key.as_str().unwrap(), to, mode));
        }
    }
    (
        services
            .keys()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect(),
        declared,
    )
}

#[test]
fn real_compose_files_import_with_every_service_and_exactly_their_declared_edges() {
    if !have_real_world() {
        return;
    }
    for (file, address_edges) in [
        // MONGO_HOST=user-db:27017 is the one address variable; nothing is in depends_on.
        (
            "compose/sock-shop.docker-compose.yml",
            vec![edge("user", "user-db", CallMode::Sync)],
        ),
        ("compose/dsb-socialnetwork-2021.docker-compose.yml", vec![]),
        ("compose/dsb-hotelreservation.docker-compose.yml", vec![]),
    ] {
        let imported = import_real(Source::Compose, file);
        let (services, mut declared) = compose_declarations(file);
        declared.extend(address_edges);
        assert_eq!(ids(&imported.design), services, "{file}");
        assert_eq!(edges(&imported.design), declared, "{file}");
        assert!(model::validate(&imported.design).is_empty());
        assert!(
            imported
                .design
                .services
                .iter()
                .all(|s| s.position.is_some()),
            "laid out"
        );
    }
}

#[test]
fn real_compose_kinds_replicas_and_ports() {
    if !have_real_world() {
        return;
    }
    let design = import_real(Source::Compose, "compose/sock-shop.docker-compose.yml").design;
    let kind = |id: &str| design.service(id).unwrap().kind;
    assert_eq!(kind("rabbitmq"), ServiceKind::Broker);
    assert_eq!(kind("carts-db"), ServiceKind::Database);
    assert_eq!(kind("user-db"), ServiceKind::Database);
    assert_eq!(kind("carts"), ServiceKind::Service);
    assert_eq!(design.service("edge-router").unwrap().port, Some(80));
    assert_eq!(
        design.service("carts").unwrap().image.as_deref(),
        Some("weaveworksdemos/carts:0.4.8")
    );
    let hotel = import_real(
        Source::Compose,
        "compose/dsb-hotelreservation.docker-compose.yml",
    )
    .design;
    assert_eq!(hotel.service("frontend").unwrap().port, Some(5000));
    assert_eq!(hotel.service("frontend").unwrap().replicas, 1);
}

#[test]
fn the_real_kubernetes_manifest_imports_every_workload_and_its_one_address() {
    if !have_real_world() {
        return;
    }
    let imported = import_real(
        Source::Kubernetes,
        "kubernetes/sock-shop.complete-demo.yaml",
    );
    let text =
        std::fs::read_to_string(real_world("kubernetes/sock-shop.complete-demo.yaml")).unwrap();
    // Every Deployment, counted by hand from the file: the same 14 names as its Services.
    let deployments: BTreeSet<String> = [
        "carts",
        "carts-db",
        "catalogue",
        "catalogue-db",
        "front-end",
        "orders",
        "orders-db",
        "payment",
        "queue-master",
        "rabbitmq",
        "session-db",
        "shipping",
        "user",
        "user-db",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    assert_eq!(text.matches("kind: Deployment").count(), deployments.len());
    assert_eq!(ids(&imported.design), deployments);
    // The one address variable: user's mongo=user-db:27017. ZIPKIN names a host in another namespace.
    assert_eq!(
        edges(&imported.design),
        EdgeSet::from([edge("user", "user-db", CallMode::Sync)])
    );
    assert_eq!(
        imported.design.service("rabbitmq").unwrap().kind,
        ServiceKind::Broker
    );
    assert_eq!(
        imported.design.service("front-end").unwrap().port,
        Some(8079)
    );
    assert!(
        imported
            .notes
            .iter()
            .any(|n| n.message.contains("Namespace"))
    );
}

/// The edges of one fixture from `edges/<file>`'s section `## <section>`: `a -> b : sync|async : ...`, with `?`
/// standing for the unknown peer and names made into ids.
fn listed_edges(edges_file: &str, section: &str) -> EdgeSet {
    let text = std::fs::read_to_string(real_world(&format!("edges/{edges_file}"))).unwrap();
    let mut inside = false;
    let mut listed = EdgeSet::new();
    for line in text.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            inside = title.split(':').next().unwrap().trim() == section;
            continue;
        }
        if !inside || line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (pair, rest) = line.split_once(" : ").unwrap();
        let (from, to) = pair.split_once(" -> ").unwrap();
        let mode = if rest.starts_with("async") {
            CallMode::Async
        } else {
            CallMode::Sync
        };
        let id = |name: &str| {
            if name.trim() == "?" {
                "unknown-peer".to_owned()
            } else {
                slugify_service_id(name.trim())
            }
        };
        listed.insert((id(from), id(to), mode));
    }
    listed
}

#[test]
fn zipkin_fixtures_give_exactly_the_listed_edges() {
    if !have_real_world() {
        return;
    }
    for file in [
        "ascend",
        "envoy",
        "messaging-kafka",
        "messaging",
        "messaging2",
        "simple-db-p6",
        "skew",
    ] {
        let path = format!("traces/zipkin/{file}.json");
        let imported = import_real(Source::Zipkin, &path);
        assert_eq!(
            edges(&imported.design),
            listed_edges("zipkin-testdata.txt", &format!("{file}.json")),
            "{file}"
        );
        // Every service a span names is there.
        let spans: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(real_world(&path)).unwrap()).unwrap();
        for span in spans.as_array().unwrap() {
            if let Some(name) = span["localEndpoint"]["serviceName"].as_str() {
                assert!(
                    imported.design.service(&slugify_service_id(name)).is_some(),
                    "{file}: {name}"
                );
            }
        }
    }
}

#[test]
fn zipkin_messaging_goes_through_its_broker_with_topics() {
    if !have_real_world() {
        return;
    }
    let design = import_real(Source::Zipkin, "traces/zipkin/messaging-kafka.json").design;
    assert_eq!(design.service("kafka").unwrap().kind, ServiceKind::Broker);
    let produce = design
        .edges
        .iter()
        .find(|e| e.from == "servicea" && e.to == "kafka")
        .unwrap();
    assert_eq!(produce.effective_protocol().as_str(), "kafka");
    assert!(produce.topic.is_some());
    let db = import_real(Source::Zipkin, "traces/zipkin/simple-db-p6.json").design;
    assert_eq!(db.service("app-db").unwrap().kind, ServiceKind::Database);
}

#[test]
fn the_jaeger_fixture_gives_exactly_the_listed_edges() {
    if !have_real_world() {
        return;
    }
    let imported = import_real(Source::Jaeger, "traces/jaeger/tracegraph-test.json");
    assert_eq!(
        edges(&imported.design),
        listed_edges("jaeger-tracegraph.txt", "TraceGraph-testTrace.json")
    );
    assert_eq!(
        ids(&imported.design),
        BTreeSet::from(["service1".to_owned(), "service2".to_owned()])
    );
    // service1's own work: its 390 ms span less the calls it waited on (33 + 37 + 66 + 20 ms, partly at once).
    let time = &imported.design.service("service1").unwrap().service_time;
    assert!((time.mean_ms() - 234.0).abs() < 1e-6, "{time:?}");
    // Jaeger UI keeps one fetched trace as {"data": {trace}}: the same design.
    let text = std::fs::read_to_string(real_world("traces/jaeger/tracegraph-test.json")).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let trace = match &value {
        serde_json::Value::Object(map) if map.contains_key("spans") => value.clone(),
        serde_json::Value::Array(traces) => traces[0].clone(),
        _ => value["data"][0].clone(),
    };
    let wrapped = serde_json::json!({ "data": trace }).to_string();
    let one = import::import(Source::Jaeger, &wrapped, "trace.json").unwrap();
    assert_eq!(edges(&one.design), edges(&imported.design));
}

#[test]
fn the_otlp_example_imports_its_service() {
    if !have_real_world() {
        return;
    }
    let imported = import_real(Source::Otlp, "traces/otlp/trace-example.json");
    assert_eq!(
        ids(&imported.design),
        BTreeSet::from(["my-service".to_owned()])
    );
    assert_eq!(
        imported
            .design
            .service("my-service")
            .unwrap()
            .name
            .as_deref(),
        Some("my.service")
    );
}

#[test]
fn compose_forms_we_wrote_ourselves() {
    let imported = import::import(
        Source::Compose,
        &fixture("shop.compose.yml"),
        "shop.compose.yml",
    )
    .unwrap();
    let design = &imported.design;
    assert_eq!(
        edges(design),
        EdgeSet::from([
            edge("web", "api", CallMode::Sync),        // depends_on map form
            edge("api", "orders-db", CallMode::Sync),  // a URL with credentials
            edge("api", "cache", CallMode::Sync), // CACHE_HOST bare name, through its hostname alias
            edge("api", "events", CallMode::Async), // host:port into a broker
            edge("events", "mailer", CallMode::Async), // a consumer's subscription
            edge("worker", "api", CallMode::Sync), // links
        ])
    );
    assert_eq!(design.service("api").unwrap().replicas, 3);
    assert_eq!(design.service("api").unwrap().port, Some(8080));
    assert_eq!(design.service("events").unwrap().kind, ServiceKind::Broker);
    assert_eq!(
        design
            .edge("api-orders-db")
            .unwrap()
            .effective_protocol()
            .as_str(),
        "tcp"
    );
    assert!(
        imported.notes.iter().any(|n| n.message.contains("nowhere")),
        "{:?}",
        imported.notes
    );
}

#[test]
fn kubernetes_forms_we_wrote_ourselves() {
    let imported = import::import(
        Source::Kubernetes,
        &fixture("shop.k8s.yaml"),
        "shop.k8s.yaml",
    )
    .unwrap();
    let design = &imported.design;
    // The Service "catalog" selects the Deployment "catalog-v2"; addresses use the Service's cluster names.
    assert_eq!(
        edges(design),
        EdgeSet::from([
            edge("frontend", "catalog-v2", CallMode::Sync),
            edge("frontend", "queue", CallMode::Async),
            edge("queue", "indexer", CallMode::Async),
        ])
    );
    assert_eq!(design.service("catalog-v2").unwrap().replicas, 4);
    assert_eq!(design.service("queue").unwrap().kind, ServiceKind::Broker);
}

#[test]
fn traces_we_wrote_ourselves_give_order_probability_and_flows() {
    let imported = import::import(
        Source::Otlp,
        &fixture("checkout.otlp.json"),
        "checkout.otlp.json",
    )
    .unwrap();
    let design = &imported.design;
    // Two requests to checkout; both call cart and pricing at once, then payment; one of them also calls fraud.
    let order = |to: &str| {
        design
            .edges
            .iter()
            .find(|e| e.from == "checkout" && e.to == to)
            .unwrap()
            .order
    };
    assert_eq!(order("cart"), order("pricing"));
    assert!(order("payment") > order("cart"));
    let fraud = design.edges.iter().find(|e| e.to == "fraud").unwrap();
    assert!((fraud.probability - 0.5).abs() < 1e-9);
    let publish = design.edges.iter().find(|e| e.to == "orders-bus").unwrap();
    assert_eq!(publish.mode, CallMode::Async);
    assert_eq!(publish.topic.as_deref(), Some("order.placed"));
    assert_eq!(
        design.service("orders-bus").unwrap().kind,
        ServiceKind::Broker
    );
    assert_eq!(design.flows.len(), 1);
    assert_eq!(design.flows[0].entry, "web");
    // Two traces over 10 s.
    assert!(
        (design.flows[0].rate_rps - 0.2).abs() < 1e-9,
        "{}",
        design.flows[0].rate_rps
    );
}

#[test]
fn bad_input_gives_one_clear_line() {
    for (source, text, expected) in [
        (Source::Compose, "services: [", "not a docker-compose file"),
        (Source::Compose, "name: x\n", "no `services`"),
        (
            Source::Kubernetes,
            "apiVersion: v1\nmetadata: {name: x}\n",
            "has no `kind`",
        ),
        (Source::Kubernetes, "- a\n- b\n", "not Kubernetes manifests"),
        (
            Source::Kubernetes,
            "kind: Namespace\nmetadata: {name: x}\n",
            "no services",
        ),
        (Source::Zipkin, "{", "not Zipkin v2 JSON"),
        (
            Source::Zipkin,
            "[{\"traceId\": \"1\", \"name\": \"x\"}]",
            "needs traceId and id",
        ),
        (
            Source::Jaeger,
            "{\"data\": [{\"spans\": [{\"traceID\": \"1\"}]}]}",
            "needs traceID and spanID",
        ),
        (Source::Jaeger, "[1]", "trace 1"),
        (
            Source::Otlp,
            "{\"resourceSpans\": [{\"scopeSpans\": [{\"spans\": [{\"name\": \"x\"}]}]}]}",
            "needs traceId and spanId",
        ),
        (Source::Otlp, "{\"spans\": []}", "resourceSpans"),
        (Source::Zipkin, "[]", "no spans"),
    ] {
        let error = import::import(source, text, "input.txt")
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("input.txt: "), "{error}");
        assert!(error.contains(expected), "{source:?}: {error}");
        assert_eq!(error.lines().count(), 1, "{error}");
    }
}

/// A design the compose and Kubernetes exports can carry whole: deployed kinds only, sync calls into non-brokers,
/// async calls into and out of brokers.
fn deployable_design() -> impl Strategy<Value = Design> {
    let kinds = prop::sample::select(vec![
        ServiceKind::Service,
        ServiceKind::Gateway,
        ServiceKind::Database,
        ServiceKind::Broker,
    ]);
    // Groups that clean to one namespace, one with a `$` for compose, and none.
    let groups = prop::sample::select(vec!["", "Payments", "payments", "Orders & $Billing"]);
    (
        prop::collection::vec((kinds, 1u32..4, groups), 1..12),
        prop::collection::vec((0usize..12, 0usize..12), 0..30),
    )
        .prop_map(|(services, calls)| {
            let mut design = Design::default();
            for (i, (kind, replicas, group)) in services.iter().enumerate() {
                let mut service = model::Service::new(format!("s{i}"));
                service.kind = *kind;
                service.replicas = *replicas;
                service.group = (!group.is_empty()).then(|| (*group).to_owned());
                design.services.push(service);
            }
            let n = design.services.len();
            let mut seen = BTreeSet::new();
            for (a, b) in calls {
                let (a, b) = (a % n, b % n);
                if a == b || !seen.insert((a, b)) {
                    continue;
                }
                let (from, to) = (&design.services[a], &design.services[b]);
                let mode = match (from.kind, to.kind) {
                    (ServiceKind::Broker, ServiceKind::Broker) => continue,
                    (_, ServiceKind::Broker) | (ServiceKind::Broker, _) => CallMode::Async,
                    _ => CallMode::Sync,
                };
                let edge = model::Edge::new(from.id.as_str(), to.id.as_str(), mode);
                design.edges.push(edge);
            }
            design.fill_default_ids();
            design
        })
}

/// Services (id, kind, replicas, group) and calls.
type Summary = (
    BTreeSet<(String, ServiceKind, u32, Option<String>)>,
    EdgeSet,
);

fn summary(design: &Design) -> Summary {
    (
        design
            .services
            .iter()
            .map(|s| (s.id.to_string(), s.kind, s.replicas, s.group.clone()))
            .collect(),
        edges(design),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn export_then_import_gives_back_the_services_and_calls(design in deployable_design()) {
        prop_assert!(model::validate(&design).is_empty());
        for (target, source) in [(Target::Compose, Source::Compose), (Target::Kubernetes, Source::Kubernetes)] {
            let files = export::export(&design, target);
            let text: String = files.iter().map(|f| f.contents.clone()).collect::<Vec<_>>().join("\n");
            let imported = import::import(source, &text, "exported").unwrap();
            prop_assert_eq!(summary(&imported.design), summary(&design), "{:?}", target);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        let text = String::from_utf8_lossy(&bytes);
        for source in Source::ALL {
            let _ = import::import(source, &text, "fuzz");
        }
    }

    #[test]
    fn arbitrary_json_and_yaml_never_panic(value in json_value()) {
        let json = value.to_string();
        let yaml = serde_yaml_ng::to_string(&value).unwrap();
        for source in Source::ALL {
            let _ = import::import(source, &json, "fuzz.json");
            let _ = import::import(source, &yaml, "fuzz.yaml");
        }
    }
}

/// Arbitrary JSON, biased towards the keys the importers look for so that it gets past the first checks.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let keys = prop::sample::select(vec![
        "services",
        "image",
        "ports",
        "environment",
        "depends_on",
        "deploy",
        "replicas",
        "kind",
        "metadata",
        "name",
        "spec",
        "template",
        "containers",
        "env",
        "value",
        "selector",
        "traceId",
        "id",
        "parentId",
        "localEndpoint",
        "remoteEndpoint",
        "serviceName",
        "timestamp",
        "duration",
        "data",
        "spans",
        "traceID",
        "spanID",
        "references",
        "processes",
        "processID",
        "tags",
        "resourceSpans",
        "scopeSpans",
        "spanId",
        "parentSpanId",
        "startTimeUnixNano",
        "endTimeUnixNano",
        "resource",
        "attributes",
        "key",
        "labels",
    ]);
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        prop::sample::select(vec![
            "CLIENT",
            "SERVER",
            "PRODUCER",
            "CONSUMER",
            "Deployment",
            "Service",
            "a",
            "b:80",
            "http://a/x",
            "1"
        ])
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(5, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(keys.clone(), inner, 0..6).prop_map(|m| {
                serde_json::Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

#[test]
fn a_broker_named_too_long_for_a_statefulset_is_cut_with_a_note() {
    let queue = format!("events-{}", "q".repeat(50));
    let text = format!(
        "services:\n  web:\n    image: shop/web:1\n    environment:\n      QUEUE_URL: amqp://{queue}:5672\n  {queue}:\n    image: rabbitmq:3.13\n"
    );
    let imported = syncopate::import::import(Source::Compose, &text, "docker-compose.yml").unwrap();
    let broker = imported
        .design
        .services
        .iter()
        .find(|s| s.kind == model::ServiceKind::Broker)
        .expect("the broker");
    assert!(broker.id.as_str().len() <= 52, "{}", broker.id);
    assert!(
        imported
            .notes
            .iter()
            .any(|n| n.message.contains("StatefulSet") && n.message.contains(&queue)),
        "{:?}",
        imported.notes
    );
    assert!(imported.design.edges.iter().any(|e| e.to == broker.id));
}

#[test]
fn kubernetes_grpc_is_read_from_probes_and_port_names() {
    let imported = import::import(
        Source::Kubernetes,
        &fixture("boutique-grpc.k8s.yaml"),
        "boutique-grpc.k8s.yaml",
    )
    .unwrap();
    let protocol = |from: &str, to: &str| {
        imported
            .design
            .edges
            .iter()
            .find(|e| e.from == from && e.to == to)
            .unwrap_or_else(|| panic!("{from} -> {to}"))
            .effective_protocol()
            .as_str()
    };
    // A gRPC readiness probe; a container port named grpc; Redis stays TCP.
    assert_eq!(protocol("frontend", "productcatalogservice"), "grpc");
    assert_eq!(protocol("frontend", "cartservice"), "grpc");
    assert_eq!(protocol("cartservice", "redis-cart"), "tcp");
    assert!(
        imported.notes.iter().any(|n| n
            .message
            .contains("calls to productcatalogservice are gRPC")),
        "{:?}",
        imported.notes
    );
}

#[test]
fn compose_grpc_is_read_from_the_conventional_port() {
    let text = "services:\n  web:\n    image: shop/web:1\n    environment:\n      PRICES_ADDR: prices:50051\n      \
                USERS_ADDR: users:8080\n  prices:\n    image: shop/prices:1\n    expose: [\"50051\"]\n  users:\n    \
                image: shop/users:1\n    expose: [\"8080\"]\n";
    let imported = import::import(Source::Compose, text, "docker-compose.yml").unwrap();
    let protocol = |to: &str| {
        imported
            .design
            .edges
            .iter()
            .find(|e| e.to == to)
            .unwrap()
            .effective_protocol()
            .as_str()
    };
    assert_eq!(protocol("prices"), "grpc");
    assert_eq!(protocol("users"), "http");
}

#[test]
fn an_import_proposes_a_flow_per_entry_point_and_simulates_at_once() {
    let imported = import::import(
        Source::Kubernetes,
        &fixture("boutique-grpc.k8s.yaml"),
        "boutique-grpc.k8s.yaml",
    )
    .unwrap();
    let entries: Vec<&str> = imported
        .design
        .flows
        .iter()
        .map(|f| f.entry.as_str())
        .collect();
    assert_eq!(
        entries,
        ["frontend"],
        "nothing calls frontend, and it calls others"
    );
    assert!(
        imported
            .notes
            .iter()
            .any(|n| n.message.starts_with("flow frontend:")),
        "{:?}",
        imported.notes
    );
    let report = syncopate::sim::simulate(
        &imported.design,
        model::SimulationSettings {
            duration_s: 10.0,
            warmup_s: 1.0,
            seed: 1,
        },
    )
    .unwrap();
    assert!(report.flows["frontend"].completed > 0);
    if have_real_world() {
        let shop = import_real(Source::Compose, "compose/sock-shop.docker-compose.yml").design;
        assert!(!shop.flows.is_empty(), "sock-shop gets proposed flows");
    }
}

/// A Deployment of `name` in `namespace` (when given) with the given labels, calling `calls` by address variables.
fn deployment(name: &str, namespace: Option<&str>, labels: &str, calls: &[&str]) -> String {
    let namespace = namespace.map_or(String::new(), |n| format!("\n  namespace: {n}"));
    let env: String = calls
        .iter()
        .map(|c| {
            format!(
                "\n        - name: {}_ADDR\n          value: {c}:8080",
                c.to_uppercase()
            )
        })
        .collect();
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}{namespace}\n  labels: {{{labels}}}\nspec:\n  \
         selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    \
         spec:\n      containers:\n      - name: {name}\n        image: {name}:1\n        env:{env}\n"
    )
}

#[test]
fn groups_come_from_namespaces_part_of_labels_and_otel_service_namespaces() {
    let manifests = [
        deployment("web", None, "", &["shop.shop"]),
        deployment("shop", Some("shop"), "", &["billing"]),
        deployment("billing", None, "app.kubernetes.io/part-of: payments", &[]),
        deployment("plain", Some("default"), "", &[]),
    ]
    .concat();
    let imported = import::import(Source::Kubernetes, &manifests, "groups.yaml").unwrap();
    let group = |id: &str| imported.design.service(id).unwrap().group.clone();
    assert_eq!(group("shop").as_deref(), Some("shop"));
    assert_eq!(group("billing").as_deref(), Some("payments"));
    assert_eq!(group("web"), None);
    assert_eq!(group("plain"), None, "the default namespace is no group");
    // One namespace around everything is no group, and a note says so.
    let one = [
        deployment("a", Some("sock-shop"), "", &["b"]),
        deployment("b", Some("sock-shop"), "", &[]),
    ]
    .concat();
    let imported = import::import(Source::Kubernetes, &one, "one.yaml").unwrap();
    assert!(imported.design.services.iter().all(|s| s.group.is_none()));
    assert!(
        imported
            .notes
            .iter()
            .any(|n| n.message.contains("\"sock-shop\": not made a group")),
        "{:?}",
        imported.notes
    );
    // OpenTelemetry's service.namespace, a resource attribute.
    let mut otlp: serde_json::Value = serde_json::from_str(&fixture("checkout.otlp.json")).unwrap();
    let mut named = Vec::new();
    for resource in otlp["resourceSpans"].as_array_mut().unwrap() {
        let attributes = resource["resource"]["attributes"].as_array_mut().unwrap();
        let service = attributes
            .iter()
            .find(|a| a["key"] == "service.name")
            .and_then(|a| a["value"]["stringValue"].as_str())
            .unwrap()
            .to_owned();
        if service == "checkout" || service == "payment" {
            attributes.push(
                serde_json::json!({"key": "service.namespace", "value": {"stringValue": "orders"}}),
            );
            named.push(service);
        }
    }
    assert_eq!(named.len(), 2, "{named:?}");
    let imported = import::import(Source::Otlp, &otlp.to_string(), "t.otlp.json").unwrap();
    let grouped: BTreeSet<String> = imported
        .design
        .services
        .iter()
        .filter(|s| s.group.as_deref() == Some("orders"))
        .map(|s| s.id.to_string())
        .collect();
    assert_eq!(
        grouped,
        BTreeSet::from(["checkout".to_owned(), "payment".to_owned()])
    );
}
