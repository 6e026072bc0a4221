//! Distributed traces (Zipkin v2 JSON, Jaeger JSON, OTLP/JSON) become designs: services from span service names,
//! calls from parent/child spans across services (CLIENT/SERVER sync, PRODUCER/CONSUMER async, through the broker
//! the messaging attributes name), service times from spans' self time, call order from the overlap of calls,
//! probabilities from how often a call appears per request, and flows from the root spans.
//!
//! The three formats are read into one span model first; everything after that is shared.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Deserialize;
use serde_json::Value;

use super::Builder;
use crate::model::{CallMode, Distribution, Flow, Protocol, ServiceKind};

/// The service a CLIENT span calls when the trace does not say (Zipkin spans without a remote service name).
pub const UNKNOWN_PEER: &str = "unknown-peer";
/// The service of a span that names none.
pub const UNKNOWN_SERVICE: &str = "unknown-service";

/// OpenTelemetry's resource attribute for a service's namespace: a group of services.
const NAMESPACE_ATTRIBUTE: &str = "service.namespace";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Client,
    Server,
    Producer,
    Consumer,
    Internal,
}

/// A span, whatever format it came from. Times are in microseconds.
#[derive(Debug, Clone)]
struct Span {
    trace: String,
    id: String,
    parent: Option<String>,
    service: String,
    kind: Kind,
    start_us: f64,
    duration_us: f64,
    /// The service on the other side, when the span names it (Zipkin's remote endpoint, `peer.service`).
    remote: Option<String>,
    tags: BTreeMap<String, String>,
}

impl Span {
    fn end_us(&self) -> f64 {
        self.start_us + self.duration_us
    }

    /// The messaging system or broker a PRODUCER or CONSUMER span goes through.
    fn broker(&self) -> Option<String> {
        self.remote
            .clone()
            .or_else(|| self.tags.get("messaging.system").cloned())
    }

    fn topic(&self) -> Option<String> {
        [
            "messaging.destination.name",
            "messaging.destination",
            "kafka.topic",
        ]
        .iter()
        .find_map(|k| self.tags.get(*k).cloned())
        .filter(|t| !t.trim().is_empty())
    }

    /// The remote service of a CLIENT span: named, or a database the span's attributes describe.
    fn remote_service(&self) -> Option<String> {
        self.remote.clone().or_else(|| {
            let system = self.tags.get("db.system")?;
            Some(
                ["server.address", "net.peer.name", "db.name"]
                    .iter()
                    .find_map(|k| self.tags.get(*k).cloned())
                    .unwrap_or_else(|| system.clone()),
            )
        })
    }
}

fn kind_from(text: Option<&str>) -> Kind {
    match text.map(|t| t.to_ascii_uppercase()).as_deref() {
        Some("CLIENT" | "SPAN_KIND_CLIENT" | "3") => Kind::Client,
        Some("SERVER" | "SPAN_KIND_SERVER" | "2") => Kind::Server,
        Some("PRODUCER" | "SPAN_KIND_PRODUCER" | "4") => Kind::Producer,
        Some("CONSUMER" | "SPAN_KIND_CONSUMER" | "5") => Kind::Consumer,
        _ => Kind::Internal,
    }
}

/// A JSON scalar as text.
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A JSON number or numeric string as a float (trace times are often strings of 64-bit integers).
fn number_of(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

fn parse_json(text: &str, what: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("not {what} JSON: {e}"))
}

// ------------------------------------------------------------------------------------------------ Zipkin v2

#[derive(Deserialize)]
struct ZipkinSpan {
    #[serde(rename = "traceId")]
    trace_id: Option<String>,
    id: Option<String>,
    #[serde(rename = "parentId")]
    parent_id: Option<String>,
    kind: Option<String>,
    timestamp: Option<Value>,
    duration: Option<Value>,
    #[serde(rename = "localEndpoint")]
    local_endpoint: Option<ZipkinEndpoint>,
    #[serde(rename = "remoteEndpoint")]
    remote_endpoint: Option<ZipkinEndpoint>,
    #[serde(default)]
    tags: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct ZipkinEndpoint {
    #[serde(rename = "serviceName")]
    service_name: Option<String>,
}

pub(crate) fn import_zipkin(text: &str, name: &str) -> Result<Builder, String> {
    let value = parse_json(text, "Zipkin v2")?;
    let Value::Array(items) = value else {
        return Err("not Zipkin v2 JSON: expected a list of spans (or of traces)".to_owned());
    };
    // A list of spans, or a list of traces (lists of spans).
    let raw: Vec<Value> = if items.iter().all(Value::is_array) {
        items
            .into_iter()
            .flat_map(|t| match t {
                Value::Array(spans) => spans,
                _ => Vec::new(),
            })
            .collect()
    } else {
        items
    };
    let mut spans = Vec::with_capacity(raw.len());
    for (i, item) in raw.into_iter().enumerate() {
        let span: ZipkinSpan =
            serde_json::from_value(item).map_err(|e| format!("span {}: {e}", i + 1))?;
        let (Some(trace), Some(id)) = (span.trace_id, span.id) else {
            return Err(format!(
                "span {}: a Zipkin span needs traceId and id",
                i + 1
            ));
        };
        spans.push(Span {
            trace,
            id,
            parent: span.parent_id,
            service: span
                .local_endpoint
                .and_then(|e| e.service_name)
                .unwrap_or_else(|| UNKNOWN_SERVICE.to_owned()),
            kind: kind_from(span.kind.as_deref()),
            start_us: span.timestamp.as_ref().and_then(number_of).unwrap_or(0.0),
            duration_us: span.duration.as_ref().and_then(number_of).unwrap_or(0.0),
            remote: span.remote_endpoint.and_then(|e| e.service_name),
            tags: span
                .tags
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), text_of(v)?)))
                .collect(),
        });
    }
    build(spans, name, true)
}

// ------------------------------------------------------------------------------------------------ Jaeger

#[derive(Deserialize)]
struct JaegerTrace {
    #[serde(default)]
    spans: Vec<JaegerSpan>,
    #[serde(default)]
    processes: BTreeMap<String, JaegerProcess>,
}

#[derive(Deserialize)]
struct JaegerSpan {
    #[serde(rename = "traceID")]
    trace_id: Option<String>,
    #[serde(rename = "spanID")]
    span_id: Option<String>,
    #[serde(rename = "parentSpanID")]
    parent_span_id: Option<String>,
    #[serde(default)]
    references: Vec<JaegerReference>,
    #[serde(rename = "startTime")]
    start_time: Option<Value>,
    duration: Option<Value>,
    #[serde(default)]
    tags: Vec<KeyValue>,
    #[serde(rename = "processID")]
    process_id: Option<String>,
}

#[derive(Deserialize)]
struct JaegerReference {
    #[serde(rename = "spanID")]
    span_id: Option<String>,
}

#[derive(Deserialize)]
struct JaegerProcess {
    #[serde(rename = "serviceName")]
    service_name: Option<String>,
    #[serde(default)]
    tags: Vec<KeyValue>,
}

#[derive(Deserialize)]
struct KeyValue {
    key: String,
    #[serde(default)]
    value: Value,
}

pub(crate) fn import_jaeger(text: &str, name: &str) -> Result<Builder, String> {
    let value = parse_json(text, "Jaeger")?;
    // The query API wraps traces in {"data": [...]}; Jaeger UI keeps one fetched trace as {"data": {trace}}; a single
    // exported trace is the object itself.
    let traces: Vec<Value> = match value {
        Value::Object(mut map) if map.contains_key("data") => match map.remove("data") {
            Some(Value::Array(traces)) => traces,
            Some(Value::Object(trace)) if trace.contains_key("spans") => vec![Value::Object(trace)],
            _ => {
                return Err(
                    "not Jaeger JSON: `data` should be a list of traces or one trace with `spans`"
                        .to_owned(),
                );
            }
        },
        Value::Object(map) if map.contains_key("spans") => vec![Value::Object(map)],
        Value::Array(traces) => traces,
        _ => {
            return Err(
                "not Jaeger JSON: expected {\"data\": [traces]} or a trace with `spans`".to_owned(),
            );
        }
    };
    let mut spans = Vec::new();
    for (t, trace) in traces.into_iter().enumerate() {
        let trace: JaegerTrace =
            serde_json::from_value(trace).map_err(|e| format!("trace {}: {e}", t + 1))?;
        for (i, span) in trace.spans.into_iter().enumerate() {
            let (Some(trace_id), Some(id)) = (span.trace_id, span.span_id) else {
                return Err(format!(
                    "trace {}, span {}: a Jaeger span needs traceID and spanID",
                    t + 1,
                    i + 1
                ));
            };
            let tags: BTreeMap<String, String> = span
                .tags
                .iter()
                .filter_map(|kv| Some((kv.key.clone(), text_of(&kv.value)?)))
                .collect();
            let process = span
                .process_id
                .as_ref()
                .and_then(|p| trace.processes.get(p));
            let service = process
                .and_then(|p| p.service_name.clone())
                .unwrap_or_else(|| UNKNOWN_SERVICE.to_owned());
            let mut tags = tags;
            // The process's tags are its resource's attributes; `service.namespace` among them groups services.
            if let Some(namespace) = process.and_then(|p| {
                p.tags
                    .iter()
                    .find(|kv| kv.key == NAMESPACE_ATTRIBUTE)
                    .and_then(|kv| text_of(&kv.value))
            }) {
                tags.insert(NAMESPACE_ATTRIBUTE.to_owned(), namespace);
            }
            spans.push(Span {
                trace: trace_id,
                id,
                parent: span
                    .references
                    .first()
                    .and_then(|r| r.span_id.clone())
                    .or(span.parent_span_id),
                service,
                kind: kind_from(tags.get("span.kind").map(String::as_str)),
                start_us: span.start_time.as_ref().and_then(number_of).unwrap_or(0.0),
                duration_us: span.duration.as_ref().and_then(number_of).unwrap_or(0.0),
                remote: tags.get("peer.service").cloned(),
                tags,
            });
        }
    }
    build(spans, name, false)
}

// ------------------------------------------------------------------------------------------------ OTLP/JSON

#[derive(Deserialize)]
struct OtlpRoot {
    #[serde(rename = "resourceSpans", default)]
    resource_spans: Vec<ResourceSpans>,
}

#[derive(Deserialize)]
struct ResourceSpans {
    #[serde(default)]
    resource: Option<Resource>,
    #[serde(rename = "scopeSpans", default)]
    scope_spans: Vec<ScopeSpans>,
    #[serde(rename = "instrumentationLibrarySpans", default)]
    library_spans: Vec<ScopeSpans>,
}

#[derive(Deserialize)]
struct Resource {
    #[serde(default)]
    attributes: Vec<KeyValue>,
}

#[derive(Deserialize)]
struct ScopeSpans {
    #[serde(default)]
    spans: Vec<OtlpSpan>,
}

#[derive(Deserialize)]
struct OtlpSpan {
    #[serde(rename = "traceId")]
    trace_id: Option<String>,
    #[serde(rename = "spanId")]
    span_id: Option<String>,
    #[serde(rename = "parentSpanId")]
    parent_span_id: Option<String>,
    kind: Option<Value>,
    #[serde(rename = "startTimeUnixNano")]
    start: Option<Value>,
    #[serde(rename = "endTimeUnixNano")]
    end: Option<Value>,
    #[serde(default)]
    attributes: Vec<KeyValue>,
}

/// An OTLP `AnyValue` as text.
fn any_value_text(value: &Value) -> Option<String> {
    let Value::Object(map) = value else {
        return text_of(value);
    };
    ["stringValue", "intValue", "doubleValue", "boolValue"]
        .iter()
        .find_map(|k| map.get(*k).and_then(text_of))
}

fn otlp_attributes(attributes: &[KeyValue]) -> BTreeMap<String, String> {
    attributes
        .iter()
        .filter_map(|kv| Some((kv.key.clone(), any_value_text(&kv.value)?)))
        .collect()
}

pub(crate) fn import_otlp(text: &str, name: &str) -> Result<Builder, String> {
    let value = parse_json(text, "OTLP")?;
    if !value.get("resourceSpans").is_some_and(Value::is_array) {
        return Err(
            "not OTLP/JSON traces: expected an object with a `resourceSpans` list".to_owned(),
        );
    }
    let root: OtlpRoot =
        serde_json::from_value(value).map_err(|e| format!("not OTLP/JSON traces: {e}"))?;
    let mut spans = Vec::new();
    for (r, resource_spans) in root.resource_spans.into_iter().enumerate() {
        let resource = resource_spans
            .resource
            .map(|r| otlp_attributes(&r.attributes))
            .unwrap_or_default();
        let service = resource
            .get("service.name")
            .cloned()
            .unwrap_or_else(|| UNKNOWN_SERVICE.to_owned());
        for span in resource_spans
            .scope_spans
            .into_iter()
            .chain(resource_spans.library_spans)
            .flat_map(|s| s.spans)
        {
            let (Some(trace), Some(id)) = (span.trace_id, span.span_id) else {
                return Err(format!(
                    "resourceSpans[{r}]: an OTLP span needs traceId and spanId"
                ));
            };
            let mut tags = otlp_attributes(&span.attributes);
            if let Some(namespace) = resource.get(NAMESPACE_ATTRIBUTE) {
                tags.insert(NAMESPACE_ATTRIBUTE.to_owned(), namespace.clone());
            }
            let start_ns = span.start.as_ref().and_then(number_of).unwrap_or(0.0);
            let end_ns = span.end.as_ref().and_then(number_of).unwrap_or(start_ns);
            spans.push(Span {
                trace,
                id,
                parent: span.parent_span_id.filter(|p| !p.is_empty()),
                service: service.clone(),
                kind: kind_from(span.kind.as_ref().and_then(text_of).as_deref()),
                start_us: start_ns / 1000.0,
                duration_us: ((end_ns - start_ns) / 1000.0).max(0.0),
                remote: tags.get("peer.service").cloned(),
                tags,
            });
        }
    }
    build(spans, name, false)
}

// ------------------------------------------------------------------------------------------------ shared

/// One observed call: caller and callee service names, how, and the span of the caller it was made in.
struct Occurrence {
    caller: String,
    callee: String,
    mode: CallMode,
    protocol: Protocol,
    /// The caller's entry span (the request it serves), when the caller has spans.
    entry: Option<usize>,
    start_us: f64,
    end_us: f64,
    topic: Option<String>,
}

fn broker_protocol(name: &str) -> Protocol {
    let name = name.to_ascii_lowercase();
    if name.contains("kafka") {
        Protocol::Kafka
    } else if name.contains("nats") {
        Protocol::Nats
    } else if name.contains("sqs") {
        Protocol::Sqs
    } else {
        Protocol::Amqp
    }
}

fn sync_protocol(span: &Span) -> Protocol {
    if span.tags.contains_key("db.system") {
        Protocol::Tcp
    } else if span.tags.get("rpc.system").is_some_and(|s| s == "grpc") {
        Protocol::Grpc
    } else {
        Protocol::Http
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Total length of the union of intervals.
fn covered_length(mut intervals: Vec<(f64, f64)>) -> f64 {
    intervals.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut total = 0.0;
    let mut current: Option<(f64, f64)> = None;
    for (start, end) in intervals {
        match &mut current {
            Some((_, e)) if start <= *e => *e = e.max(end),
            _ => {
                if let Some((s, e)) = current {
                    total += e - s;
                }
                current = Some((start, end));
            }
        }
    }
    if let Some((s, e)) = current {
        total += e - s;
    }
    total
}

/// Turns spans into services, calls and flows. `unknown_peers`: a CLIENT span that names nobody still calls
/// someone (Zipkin records CLIENT spans around remote calls only), so it becomes a call to [`UNKNOWN_PEER`].
fn build(spans: Vec<Span>, name: &str, unknown_peers: bool) -> Result<Builder, String> {
    if spans.is_empty() {
        return Err("the traces hold no spans".to_owned());
    }
    let mut by_id: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    let mut children: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, span) in spans.iter().enumerate() {
        by_id.entry((&span.trace, &span.id)).or_default().push(i);
        if let Some(parent) = &span.parent {
            children.entry((&span.trace, parent)).or_default().push(i);
        }
    }
    // The parent of a span: the span with its parent id (the non-shared half when Zipkin shares ids).
    let parent_of = |i: usize| -> Option<usize> {
        let span = &spans[i];
        let candidates = by_id.get(&(span.trace.as_str(), span.parent.as_deref()?))?;
        candidates
            .iter()
            .copied()
            .find(|&j| spans[j].kind != Kind::Server)
            .or_else(|| candidates.first().copied())
    };
    // The span of a request's entry into its service: climb while the parent is in the same service and this span
    // is not itself an entry.
    let entry_of = |mut i: usize| -> usize {
        for _ in 0..spans.len() {
            if matches!(spans[i].kind, Kind::Server | Kind::Consumer) {
                break;
            }
            match parent_of(i) {
                Some(p) if spans[p].service == spans[i].service && p != i => i = p,
                _ => break,
            }
        }
        i
    };
    let mut occurrences: Vec<Occurrence> = Vec::new();
    let mut brokers: BTreeMap<String, Protocol> = BTreeMap::new();
    let mut remotes: BTreeSet<(String, bool)> = BTreeSet::new();
    let mut covered: BTreeSet<usize> = BTreeSet::new();
    let mut unresolved_clients = 0usize;
    for (i, span) in spans.iter().enumerate() {
        let occurrence = |callee: String, mode, protocol, topic: Option<String>| Occurrence {
            caller: span.service.clone(),
            callee,
            mode,
            protocol,
            entry: Some(entry_of(i)),
            start_us: span.start_us,
            end_us: span.end_us(),
            topic,
        };
        match span.kind {
            Kind::Client => {
                let key = (span.trace.as_str(), span.id.as_str());
                let server = by_id
                    .get(&key)
                    .into_iter()
                    .flatten()
                    .chain(children.get(&key).into_iter().flatten())
                    .copied()
                    .find(|&j| j != i && spans[j].kind == Kind::Server);
                if let Some(j) = server {
                    covered.insert(j);
                    occurrences.push(occurrence(
                        spans[j].service.clone(),
                        CallMode::Sync,
                        sync_protocol(span),
                        None,
                    ));
                } else if let Some(remote) = span.remote_service() {
                    remotes.insert((remote.clone(), span.tags.contains_key("db.system")));
                    occurrences.push(occurrence(
                        remote,
                        CallMode::Sync,
                        sync_protocol(span),
                        None,
                    ));
                } else if unknown_peers {
                    remotes.insert((UNKNOWN_PEER.to_owned(), false));
                    occurrences.push(occurrence(
                        UNKNOWN_PEER.to_owned(),
                        CallMode::Sync,
                        sync_protocol(span),
                        None,
                    ));
                } else {
                    unresolved_clients += 1;
                }
            }
            Kind::Producer => {
                if let Some(broker) = span.broker() {
                    let protocol = broker_protocol(&broker);
                    brokers.insert(broker.clone(), protocol);
                    occurrences.push(occurrence(broker, CallMode::Async, protocol, span.topic()));
                }
                // Without a broker, the consumer's span (a child in another service) makes the call.
            }
            Kind::Consumer => {
                if let Some(broker) = span.broker() {
                    let protocol = broker_protocol(&broker);
                    brokers.insert(broker.clone(), protocol);
                    occurrences.push(Occurrence {
                        caller: broker,
                        callee: span.service.clone(),
                        mode: CallMode::Async,
                        protocol,
                        entry: None,
                        start_us: span.start_us,
                        end_us: span.end_us(),
                        topic: span.topic(),
                    });
                } else if let Some(p) = parent_of(i).filter(|&p| spans[p].service != span.service) {
                    let protocol = brokers_default(&spans[p]);
                    occurrences.push(Occurrence {
                        caller: spans[p].service.clone(),
                        callee: span.service.clone(),
                        mode: CallMode::Async,
                        protocol,
                        entry: Some(entry_of(p)),
                        start_us: spans[p].start_us,
                        end_us: spans[p].end_us(),
                        topic: span.topic().or_else(|| spans[p].topic()),
                    });
                }
            }
            Kind::Server => {
                if covered.contains(&i) {
                    continue;
                }
                // A server whose parent is a CLIENT span was (or will be) reached from that client.
                let Some(p) = parent_of(i) else { continue };
                let parent = &spans[p];
                let client_call = parent.kind == Kind::Client
                    || by_id
                        .get(&(span.trace.as_str(), span.id.as_str()))
                        .is_some_and(|halves| {
                            halves.iter().any(|&j| spans[j].kind == Kind::Client)
                        });
                if client_call || parent.service == span.service {
                    continue;
                }
                occurrences.push(Occurrence {
                    caller: parent.service.clone(),
                    callee: span.service.clone(),
                    mode: CallMode::Sync,
                    protocol: Protocol::Http,
                    entry: Some(entry_of(p)),
                    start_us: span.start_us,
                    end_us: span.end_us(),
                    topic: None,
                });
            }
            Kind::Internal => {}
        }
    }

    let mut builder = Builder::new(name);
    // Services in order of first appearance, so ids made unique by suffixes do not depend on map order.
    let mut seen = BTreeSet::new();
    for span in &spans {
        if seen.insert(span.service.clone()) {
            let id = builder.add_service(&span.service);
            // OpenTelemetry's `service.namespace` (a resource attribute, or a tag where the format has no
            // resources) groups services.
            if let Some(namespace) = span.tags.get(NAMESPACE_ATTRIBUTE) {
                builder.group(&id, namespace.clone(), false, NAMESPACE_ATTRIBUTE);
            }
        }
    }
    if spans.iter().any(|s| s.service == UNKNOWN_SERVICE) {
        builder.guessed(format!(
            "some spans name no service; they became \"{UNKNOWN_SERVICE}\""
        ));
    }
    for (broker, protocol) in &brokers {
        let id = builder.add_service(broker);
        if let Some(service) = builder.service_mut(&id) {
            service.kind = ServiceKind::Broker;
        }
        builder.guessed(format!(
            "{broker} is a broker speaking {} (from the messaging spans)",
            protocol.as_str()
        ));
    }
    for (remote, database) in &remotes {
        if seen.contains(remote) || brokers.contains_key(remote) {
            continue;
        }
        let id = builder.add_service(remote);
        let kind = if *database || super::kind_from_name(remote).is_some() {
            ServiceKind::Database
        } else {
            ServiceKind::External
        };
        if let Some(service) = builder.service_mut(&id) {
            service.kind = kind;
        }
        if remote == UNKNOWN_PEER {
            builder.guessed(format!(
                "CLIENT spans that name no remote service call \"{UNKNOWN_PEER}\""
            ));
        } else {
            builder.guessed(format!(
                "{remote} only appears as a remote peer; it became a {} service",
                kind.as_str()
            ));
        }
    }
    if unresolved_clients > 0 {
        builder.skipped(format!(
            "{unresolved_clients} CLIENT span(s) with no server span and no peer.service: whom they call is unknown"
        ));
    }

    // Which requests of each caller make each call: for probabilities and order groups.
    let mut entries_by_service: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    for i in 0..spans.len() {
        let entry = entry_of(i);
        entries_by_service
            .entry(spans[entry].service.as_str())
            .or_default()
            .insert(entry);
    }
    type EdgeKey = (String, String, CallMode);
    let mut per_entry: BTreeMap<usize, Vec<&Occurrence>> = BTreeMap::new();
    let mut edge_entries: BTreeMap<EdgeKey, BTreeSet<usize>> = BTreeMap::new();
    for occurrence in &occurrences {
        let key = (
            occurrence.caller.clone(),
            occurrence.callee.clone(),
            occurrence.mode,
        );
        let resolve = |name: &str| builder.id_of(name).cloned();
        let (Some(from), Some(to)) = (resolve(&occurrence.caller), resolve(&occurrence.callee))
        else {
            continue;
        };
        if from == to {
            builder.skipped(format!(
                "a call from {} to itself (another instance of the same service)",
                occurrence.caller
            ));
            continue;
        }
        builder.add_edge(&from, &to, occurrence.mode, occurrence.protocol);
        if let (Some(topic), Some(edge)) = (
            &occurrence.topic,
            builder.edge_mut(&from, &to, occurrence.mode),
        ) && edge.topic.is_none()
        {
            edge.topic = Some(topic.clone());
        }
        if let Some(entry) = occurrence.entry {
            per_entry.entry(entry).or_default().push(occurrence);
            edge_entries.entry(key).or_default().insert(entry);
        }
    }
    // Probability: the share of the caller's requests that make the call.
    for ((caller, callee, mode), entries) in &edge_entries {
        let total = entries_by_service
            .get(caller.as_str())
            .map_or(0, BTreeSet::len);
        let (Some(from), Some(to)) = (
            builder.id_of(caller).cloned(),
            builder.id_of(callee).cloned(),
        ) else {
            continue;
        };
        if total > 0 && entries.len() < total {
            let probability = entries.len() as f64 / total as f64;
            if let Some(edge) = builder.edge_mut(&from, &to, *mode) {
                edge.probability = (probability * 1000.0).round() / 1000.0;
            }
        }
    }
    // Order: within a request, calls whose spans overlap in time run in parallel (one group); later ones follow.
    let mut ordered: BTreeSet<EdgeKey> = BTreeSet::new();
    let mut entry_list: Vec<(&usize, &Vec<&Occurrence>)> = per_entry.iter().collect();
    entry_list.sort_by(|a, b| spans[*a.0].start_us.total_cmp(&spans[*b.0].start_us));
    for (_, calls) in entry_list {
        let mut calls = calls.clone();
        calls.sort_by(|a, b| a.start_us.total_cmp(&b.start_us));
        let mut group = 0;
        let mut group_end = f64::NEG_INFINITY;
        for (n, call) in calls.iter().enumerate() {
            if n > 0 && call.start_us >= group_end {
                group += 1;
            }
            group_end = if n == 0 || call.start_us >= group_end {
                call.end_us
            } else {
                group_end.max(call.end_us)
            };
            let key = (call.caller.clone(), call.callee.clone(), call.mode);
            if ordered.insert(key) {
                let (Some(from), Some(to)) = (
                    builder.id_of(&call.caller).cloned(),
                    builder.id_of(&call.callee).cloned(),
                ) else {
                    continue;
                };
                if let Some(edge) = builder.edge_mut(&from, &to, call.mode) {
                    edge.order = group;
                }
            }
        }
    }
    // Service times: each request's time in a service less the time it waited on calls.
    let mut self_times: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut waits: HashMap<usize, Vec<(f64, f64)>> = HashMap::new();
    for (i, span) in spans.iter().enumerate() {
        let entry = entry_of(i);
        let waiting = matches!(span.kind, Kind::Client | Kind::Producer) && entry != i;
        if waiting {
            waits
                .entry(entry)
                .or_default()
                .push((span.start_us, span.end_us()));
        }
        // Direct children in other services (a server reached without a client span) are waited on too.
        if let Some(p) = parent_of(i)
            && spans[p].service != span.service
            && !matches!(span.kind, Kind::Consumer)
        {
            let entry = entry_of(p);
            waits
                .entry(entry)
                .or_default()
                .push((span.start_us, span.end_us()));
        }
    }
    for (service, entries) in &entries_by_service {
        for &entry in entries {
            let span = &spans[entry];
            let intervals: Vec<(f64, f64)> = waits
                .get(&entry)
                .into_iter()
                .flatten()
                .map(|&(s, e)| (s.max(span.start_us), e.min(span.end_us())))
                .filter(|(s, e)| e > s)
                .collect();
            let own_us = (span.duration_us - covered_length(intervals)).max(0.0);
            self_times.entry(service).or_default().push(own_us / 1000.0);
        }
    }
    for (service, mut samples) in self_times {
        let Some(id) = builder.id_of(service).cloned() else {
            continue;
        };
        samples.sort_by(f64::total_cmp);
        let median = percentile(&samples, 0.5);
        let p99 = percentile(&samples, 0.99);
        let distribution = if samples.len() >= 2 && median > 0.0 && p99 > median {
            Distribution::Lognormal {
                median_ms: round_ms(median),
                p99_ms: round_ms(p99),
            }
        } else {
            let mean = samples.iter().sum::<f64>() / samples.len() as f64;
            Distribution::Constant { ms: round_ms(mean) }
        };
        if let Some(entry) = builder.service_mut(&id) {
            entry.service_time = distribution;
        }
        builder.guessed(format!(
            "{service}: service time from {} span(s) of self time (median {:.2} ms, p99 {:.2} ms)",
            samples.len(),
            median,
            p99
        ));
    }
    // Flows: one per service where traces start, at the rate the traces show.
    let first_us = spans
        .iter()
        .map(|s| s.start_us)
        .fold(f64::INFINITY, f64::min);
    let last_us = spans
        .iter()
        .map(Span::end_us)
        .fold(f64::NEG_INFINITY, f64::max);
    let window_s = ((last_us - first_us) / 1e6).max(1.0);
    // A request starts at a span without a parent, or at the spans under one parent the export left out (an
    // incomplete trace): those count once. Outgoing calls and deliveries from a named broker start nothing.
    let mut starts: BTreeMap<&str, BTreeSet<(&str, &str)>> = BTreeMap::new();
    for (i, span) in spans.iter().enumerate() {
        let outgoing = matches!(span.kind, Kind::Client | Kind::Producer);
        let delivered = span.kind == Kind::Consumer && span.broker().is_some();
        let start = match &span.parent {
            None => Some(span.id.as_str()),
            Some(parent) if parent_of(i).is_none() && !outgoing && !delivered => {
                Some(parent.as_str())
            }
            Some(_) => None,
        };
        if let Some(start) = start {
            starts
                .entry(span.service.as_str())
                .or_default()
                .insert((span.trace.as_str(), start));
        }
    }
    let roots: BTreeMap<&str, usize> = starts.into_iter().map(|(s, set)| (s, set.len())).collect();
    for (service, count) in roots {
        let Some(entry) = builder.id_of(service).cloned() else {
            continue;
        };
        let rate = ((count as f64 / window_s) * 1000.0).round() / 1000.0;
        let mut flow = Flow::new(format!("from-{entry}"), entry.as_str(), rate.max(0.001));
        flow.name = Some(format!("Requests into {service}"));
        builder.flows.push(flow);
        builder.guessed(format!(
            "flow from-{entry}: {count} trace root(s) over {window_s:.1} s, so {rate} requests/s"
        ));
    }
    Ok(builder)
}

/// The protocol of a direct producer-to-consumer call without a named broker.
fn brokers_default(producer: &Span) -> Protocol {
    producer
        .broker()
        .map_or(Protocol::Amqp, |b| broker_protocol(&b))
}

fn round_ms(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covered_length_merges_overlaps() {
        assert_eq!(
            covered_length(vec![(0.0, 2.0), (1.0, 3.0), (5.0, 6.0)]),
            4.0
        );
        assert_eq!(covered_length(Vec::new()), 0.0);
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let values = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&values, 0.5), 2.0);
        assert_eq!(percentile(&values, 0.99), 4.0);
    }
}
