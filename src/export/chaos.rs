//! Chaos experiments from the design's planned faults (`--target chaos`), in a folder of their own, never mixed
//! into the production targets:
//!
//! - `chaos/experiment.json`: a Chaos Toolkit experiment. Its steady-state hypothesis is one HTTP probe per flow,
//!   with the flow's SLO p99 as the probe's timeout (an answer later than the SLO fails it); its method starts and
//!   clears the planned faults in time order, with the pauses between them; its rollbacks clear every fault. For a
//!   cluster the actions create and delete the Chaos Mesh resources below (chaostoolkit-kubernetes); for the
//!   emulator (`--for-emulator`) they call `syncopate emulate --serve`'s fault API.
//! - `chaos/chaos-mesh/`: a Chaos Mesh resource per fault (`down` → PodChaos pod-failure, `hang`/`slow` →
//!   NetworkChaos delay, `errors` → HTTPChaos abort on a share of the replicas, or PodChaos pod-failure on that
//!   share for callees that do not speak HTTP; a fault on an external service is made on its callers' traffic to
//!   it, and one on a client has none), and `workflow.yaml`, a Workflow that starts each fault at its time.
//! - `chaos/istio-faults/`: per fault on a callee of HTTP or gRPC calls, the callee's VirtualService with the
//!   production routes plus an Istio `fault` (delay or abort with the fault's rate as `percentage.value`), to apply
//!   instead of the production routes during an experiment.
//!
//! docs/chaos.md says what each tool can and cannot express and how the approximations are made.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::namespaces::Namespaces;
use super::{
    ExportedFile, Exporter, Metadata, Target, call_port, header_comment, is_http_family, to_json,
    to_yaml_documents,
};
use crate::model::{CallMode, Design, Fault, FaultKind, Protocol, Service};

/// The API version of Chaos Mesh's resources.
pub const CHAOS_MESH_API_VERSION: &str = "chaos-mesh.org/v1alpha1";

/// The folder every chaos file goes in.
const FOLDER: &str = "chaos";

/// Whom the experiment's actions talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChaosRunner {
    /// A Kubernetes cluster with Chaos Mesh: the actions create and delete the Chaos Mesh resources.
    Cluster,
    /// `syncopate emulate --serve`: the actions call its fault API.
    Emulator,
}

pub(crate) struct ChaosExporter;

impl Exporter for ChaosExporter {
    fn target(&self) -> Target {
        Target::Chaos
    }

    fn export(&self, design: &Design) -> Vec<ExportedFile> {
        files(design, ChaosRunner::Cluster)
    }
}

/// A planned fault with its place in time order and its window.
#[derive(Clone)]
struct Planned<'a> {
    /// 1-based, in time order.
    number: usize,
    fault: &'a Fault,
    service: &'a Service,
    start_s: f64,
    end_s: f64,
    /// The Chaos Mesh chaos that makes it in a cluster, and the namespace of that resource; `None` when nothing in
    /// a cluster stands for the fault (see `injection`).
    chaos: Option<ChaosSpec>,
    namespace: Option<String>,
}

impl Planned<'_> {
    /// A short name, unique in the design: `01-payment-down`.
    fn name(&self) -> String {
        // Service ids are DNS labels of at most 63 characters; the name keeps within 63 with the number and kind.
        let kind = self.fault.kind.as_str();
        let room = 63 - 3 - kind.len() - 1;
        let service: String = self.service.id.as_str().chars().take(room).collect();
        format!(
            "{:02}-{}-{kind}",
            self.number,
            service.trim_end_matches('-')
        )
    }

    fn window_s(&self) -> f64 {
        (self.end_s - self.start_s).max(0.001)
    }
}

/// The design's planned faults in time order (start, then service, then kind), each with its window and its chaos;
/// a fault without an end lasts to the end of the design's run.
fn planned<'a>(design: &'a Design, namespaces: &Namespaces) -> Vec<Planned<'a>> {
    let run_s = design.simulation_settings().duration_s;
    let mut faults: Vec<&Fault> = design.faults.iter().collect();
    faults.sort_by(|a, b| {
        a.start_s
            .total_cmp(&b.start_s)
            .then(a.service.cmp(&b.service))
            .then(a.kind.as_str().cmp(b.kind.as_str()))
    });
    faults
        .into_iter()
        .filter_map(|fault| Some((fault, design.service(fault.service.as_str())?)))
        .enumerate()
        .map(|(i, (fault, service))| {
            let mut planned = Planned {
                number: i + 1,
                fault,
                service,
                start_s: fault.start_s,
                end_s: fault.end_s.unwrap_or(run_s.max(fault.start_s + 1.0)),
                chaos: None,
                namespace: None,
            };
            let injected = if adds_nothing_in_a_cluster(fault) {
                None
            } else {
                injection(design, service)
            };
            (planned.chaos, planned.namespace) = match injected {
                Some(Injection::Own) => (
                    Some(chaos_spec(design, namespaces, &planned)),
                    namespaces.of_service(service.id.as_str()),
                ),
                Some(Injection::Callers(callers)) => (
                    Some(external_chaos_spec(namespaces, &planned, &callers)),
                    callers
                        .first()
                        .and_then(|c| namespaces.of_service(c.id.as_str())),
                ),
                None => (None, None),
            };
            planned
        })
        .collect()
}

/// Whether a fault adds nothing a cluster can inject: a `slow` fault of factor at most 1 (Chaos Mesh and Istio add
/// delay; neither can make a service faster), or an `errors` fault that fails no request. Written as a delay of at
/// least 1 ms, or as one failing replica, such a fault would do what the design does not plan.
fn adds_nothing_in_a_cluster(fault: &Fault) -> bool {
    match fault.kind {
        FaultKind::Slow => fault.factor.is_none_or(|factor| factor <= 1.0),
        FaultKind::Errors => fault.error_rate.is_none_or(|rate| rate <= 0.0),
        FaultKind::Down | FaultKind::Hang => false,
    }
}

/// Every chaos file of the design, for a cluster or for the emulator.
pub fn files(design: &Design, runner: ChaosRunner) -> Vec<ExportedFile> {
    let namespaces = Namespaces::of(design);
    let planned = planned(design, &namespaces);
    // The faults Chaos Mesh can make in a cluster; the emulator makes every one.
    let (in_cluster, left_out): (Vec<Planned>, Vec<Planned>) =
        planned.iter().cloned().partition(|f| f.chaos.is_some());
    let acted = match runner {
        ChaosRunner::Cluster => &in_cluster,
        ChaosRunner::Emulator => &planned,
    };
    let left_out = match runner {
        ChaosRunner::Cluster => left_out.as_slice(),
        ChaosRunner::Emulator => &[],
    };
    let mut files = vec![ExportedFile {
        path: format!("{FOLDER}/experiment.json"),
        contents: to_json(&experiment(design, acted, left_out, runner)),
    }];
    for fault in &planned {
        if let Some(resource) = chaos_mesh_resource(fault) {
            files.push(ExportedFile {
                path: format!("{FOLDER}/chaos-mesh/{}.yaml", fault.name()),
                contents: format!(
                    "{}{}",
                    header_comment(design, &describe(fault)),
                    to_yaml_documents(&[resource])
                ),
            });
        }
        let istio = if adds_nothing_in_a_cluster(fault.fault) {
            None
        } else {
            super::istio::fault_virtual_service(design, &namespaces, fault.service, |protocol| {
                istio_fault(fault, protocol)
            })
        };
        if let Some(text) = istio {
            files.push(ExportedFile {
                path: format!("{FOLDER}/istio-faults/{}.yaml", fault.name()),
                contents: format!(
                    "{}{}",
                    header_comment(
                        design,
                        &format!(
                            "{} As an Istio fault: the callee's VirtualService with its production routes and \
                             the fault on each; apply it instead of istio/{}.yaml for the experiment, and that file \
                             again afterwards.",
                            describe(fault),
                            fault.service.id
                        )
                    ),
                    text
                ),
            });
        }
    }
    if !in_cluster.is_empty() {
        files.push(ExportedFile {
            path: format!("{FOLDER}/chaos-mesh/workflow.yaml"),
            contents: format!(
                "{}{}",
                header_comment(
                    design,
                    "Every planned fault in one Chaos Mesh Workflow, each started at its time after the workflow \
                     starts (a Suspend for the wait) and lasting its window (the chaos node's deadline)."
                ),
                to_yaml_documents(&[workflow(&in_cluster)])
            ),
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// One line saying what a fault is, for the files' headers.
fn describe(fault: &Planned) -> String {
    let what = match fault.fault.kind {
        FaultKind::Down => "down".to_owned(),
        FaultKind::Hang => "hangs".to_owned(),
        FaultKind::Slow => format!("slow (x{})", fault.fault.factor.unwrap_or(1.0)),
        FaultKind::Errors => format!(
            "fails {}% of requests",
            round2(fault.fault.error_rate.unwrap_or(0.0) * 100.0)
        ),
    };
    format!(
        "Planned fault {}: \"{}\" ({}) {what} from {} s to {} s of the run.",
        fault.number,
        fault.service.id,
        fault.service.display_name(),
        round2(fault.start_s),
        round2(fault.end_s)
    )
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A duration in Go's form, as Chaos Mesh reads it: whole seconds as `20s`, else milliseconds (`1500ms`).
pub(crate) fn go_duration(seconds: f64) -> String {
    let ms = (seconds * 1000.0).round().max(1.0) as u64;
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// The added delay a `slow` fault stands for: the service's mean time times (factor - 1), at least 1 ms.
fn slow_delay_ms(fault: &Planned) -> f64 {
    let factor = fault.fault.factor.unwrap_or(1.0);
    (fault.service.service_time.mean_ms() * (factor - 1.0))
        .max(1.0)
        .round()
}

/// How many replicas an `errors` fault fails to approximate its rate (Chaos Mesh has no percentage of requests):
/// the rate's share of the replicas, rounded, at least one.
fn failing_replicas(fault: &Planned) -> u32 {
    let rate = fault.fault.error_rate.unwrap_or(0.0);
    let replicas = fault.service.replicas.max(1);
    ((rate * f64::from(replicas)).round() as u32).clamp(1, replicas)
}

/// Whether the service's sync callers speak HTTP/1 or GraphQL to it (HTTPChaos works on those, not gRPC or TCP).
fn takes_plain_http(design: &Design, service: &Service) -> Option<u16> {
    design
        .edges
        .iter()
        .filter(|e| e.to == service.id && e.mode == CallMode::Sync)
        .find(|e| matches!(e.effective_protocol(), Protocol::Http | Protocol::Graphql))
        .map(|e| call_port(design, e))
}

// ------------------------------------------------------------------------------------------------ Chaos Mesh

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChaosObject {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: ChaosSpec,
}

#[derive(Serialize, Clone)]
#[serde(untagged)]
enum ChaosSpec {
    Pod(PodChaosSpec),
    Network(NetworkChaosSpec),
    Http(HttpChaosSpec),
}

#[derive(Serialize, Clone)]
struct Selector {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    namespaces: Vec<String>,
    #[serde(rename = "labelSelectors", skip_serializing_if = "BTreeMap::is_empty")]
    label_selectors: BTreeMap<&'static str, String>,
    #[serde(rename = "expressionSelectors", skip_serializing_if = "Vec::is_empty")]
    expression_selectors: Vec<LabelExpression>,
}

#[derive(Serialize, Clone)]
struct PodChaosSpec {
    action: &'static str,
    mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    selector: Selector,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<String>,
}

#[derive(Serialize, Clone)]
struct NetworkChaosSpec {
    action: &'static str,
    mode: &'static str,
    selector: Selector,
    direction: &'static str,
    /// Hosts outside the cluster the selected pods' traffic to is affected (an external service's).
    #[serde(rename = "externalTargets", skip_serializing_if = "Vec::is_empty")]
    external_targets: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delay: Option<NetworkDelay>,
    #[serde(skip_serializing_if = "Option::is_none")]
    loss: Option<NetworkLoss>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<String>,
}

#[derive(Serialize, Clone)]
struct NetworkLoss {
    /// Percent of packets lost.
    loss: String,
    correlation: &'static str,
}

/// A set-based label selector: `app` in the listed services.
#[derive(Serialize, Clone)]
struct LabelExpression {
    key: &'static str,
    operator: &'static str,
    values: Vec<String>,
}

#[derive(Serialize, Clone)]
struct NetworkDelay {
    latency: String,
    jitter: &'static str,
    correlation: &'static str,
}

#[derive(Serialize, Clone)]
struct HttpChaosSpec {
    mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    selector: Selector,
    target: &'static str,
    port: u16,
    abort: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<String>,
}

impl ChaosSpec {
    fn kind(&self) -> &'static str {
        match self {
            ChaosSpec::Pod(_) => "PodChaos",
            ChaosSpec::Network(_) => "NetworkChaos",
            ChaosSpec::Http(_) => "HTTPChaos",
        }
    }

    /// The same chaos without its own duration (a Workflow's node deadline stands for it).
    fn without_duration(&self) -> Self {
        let mut spec = self.clone();
        match &mut spec {
            ChaosSpec::Pod(s) => s.duration = None,
            ChaosSpec::Network(s) => s.duration = None,
            ChaosSpec::Http(s) => s.duration = None,
        }
        spec
    }
}

/// The plural Kubernetes resource name of a chaos kind, for the cluster actions.
fn plural(kind: &str) -> &'static str {
    match kind {
        "PodChaos" => "podchaos",
        "NetworkChaos" => "networkchaos",
        _ => "httpchaos",
    }
}

/// Where Chaos Mesh makes a fault happen.
enum Injection<'a> {
    /// On the service's own pods.
    Own,
    /// On the traffic of the service's deployed callers to its host: an external service has no pods in the
    /// cluster (export/kubernetes.rs deploys neither clients nor external services).
    Callers(Vec<&'a Service>),
}

/// Where a fault on `service` is injected in a cluster; `None` when nothing there stands for it: a client (it
/// runs outside the cluster and nothing calls it), or an external service that no deployed service calls.
fn injection<'a>(design: &'a Design, service: &Service) -> Option<Injection<'a>> {
    if super::is_deployed(service) {
        return Some(Injection::Own);
    }
    if service.kind != crate::model::ServiceKind::External {
        return None;
    }
    let mut callers: Vec<&Service> = design
        .edges
        .iter()
        .filter(|e| e.to == service.id)
        .filter_map(|e| design.service(e.from.as_str()))
        .filter(|s| super::is_deployed(s))
        .collect();
    callers.sort_by(|a, b| a.id.cmp(&b.id));
    callers.dedup_by(|a, b| a.id == b.id);
    (!callers.is_empty()).then_some(Injection::Callers(callers))
}

/// The pods of `services`, by the label every exported workload carries (export/kubernetes.rs).
fn selector(namespaces: &Namespaces, services: &[&Service]) -> Selector {
    let mut in_namespaces: Vec<String> = services
        .iter()
        .filter_map(|s| namespaces.of_service(s.id.as_str()))
        .collect();
    in_namespaces.sort();
    in_namespaces.dedup();
    match services {
        [one] => Selector {
            namespaces: in_namespaces,
            label_selectors: BTreeMap::from([("app", one.id.to_string())]),
            expression_selectors: Vec::new(),
        },
        _ => Selector {
            namespaces: in_namespaces,
            label_selectors: BTreeMap::new(),
            expression_selectors: vec![LabelExpression {
                key: "app",
                operator: "In",
                values: services.iter().map(|s| s.id.to_string()).collect(),
            }],
        },
    }
}

/// The Chaos Mesh chaos of a fault on a service of the cluster, on its own pods.
fn chaos_spec(design: &Design, namespaces: &Namespaces, fault: &Planned) -> ChaosSpec {
    let duration = Some(go_duration(fault.window_s()));
    let selector = selector(namespaces, &[fault.service]);
    let pod_failure = |mode: &'static str, value: Option<String>| {
        ChaosSpec::Pod(PodChaosSpec {
            action: "pod-failure",
            mode,
            value,
            selector: selector.clone(),
            duration: duration.clone(),
        })
    };
    let delay = |latency_s: f64| {
        ChaosSpec::Network(NetworkChaosSpec {
            action: "delay",
            mode: "all",
            selector: selector.clone(),
            direction: "to",
            external_targets: Vec::new(),
            delay: Some(network_delay(latency_s)),
            loss: None,
            duration: duration.clone(),
        })
    };
    match fault.fault.kind {
        FaultKind::Down => pod_failure("all", None),
        // A hang: every answer held back for the whole window, longer than any timeout worth having.
        FaultKind::Hang => delay(fault.window_s()),
        FaultKind::Slow => delay(slow_delay_ms(fault) / 1000.0),
        FaultKind::Errors => {
            let share = Some(failing_replicas(fault).to_string());
            match takes_plain_http(design, fault.service) {
                Some(port) => ChaosSpec::Http(HttpChaosSpec {
                    mode: "fixed",
                    value: share,
                    selector: selector.clone(),
                    target: "Request",
                    port,
                    abort: true,
                    duration: duration.clone(),
                }),
                None => pod_failure("fixed", share),
            }
        }
    }
}

/// A delay of every packet by `latency_s`.
fn network_delay(latency_s: f64) -> NetworkDelay {
    NetworkDelay {
        latency: go_duration(latency_s),
        jitter: "0ms",
        correlation: "100",
    }
}

/// A fault on an external service, made on its callers' traffic to its host: `down` cuts it off (a partition:
/// calls wait for their timeouts rather than being refused), `hang` and `slow` delay it as on a service of the
/// cluster, and `errors` loses that share of its packets (Chaos Mesh cannot fail answers from outside the cluster;
/// lost packets slow calls by retransmission or fail them by timeout: the Istio fault file does it exactly).
fn external_chaos_spec(
    namespaces: &Namespaces,
    fault: &Planned,
    callers: &[&Service],
) -> ChaosSpec {
    let (action, delay, loss) = match fault.fault.kind {
        FaultKind::Down => ("partition", None, None),
        FaultKind::Hang => ("delay", Some(network_delay(fault.window_s())), None),
        FaultKind::Slow => (
            "delay",
            Some(network_delay(slow_delay_ms(fault) / 1000.0)),
            None,
        ),
        FaultKind::Errors => (
            "loss",
            None,
            Some(NetworkLoss {
                loss: format!("{}", round2(fault.fault.error_rate.unwrap_or(0.0) * 100.0)),
                correlation: "0",
            }),
        ),
    };
    ChaosSpec::Network(NetworkChaosSpec {
        action,
        mode: "all",
        selector: selector(namespaces, callers),
        direction: "to",
        external_targets: vec![fault.service.id.to_string()],
        delay,
        loss,
        duration: Some(go_duration(fault.window_s())),
    })
}

fn chaos_mesh_resource(fault: &Planned) -> Option<ChaosObject> {
    let spec = fault.chaos.clone()?;
    Some(ChaosObject {
        api_version: CHAOS_MESH_API_VERSION,
        kind: spec.kind(),
        metadata: Metadata {
            name: format!("syncopate-{}", fault.name()),
            namespace: fault.namespace.clone(),
            labels: BTreeMap::from([("app.kubernetes.io/managed-by", "syncopate".to_owned())]),
            annotations: BTreeMap::new(),
        },
        spec,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WorkflowObject {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: WorkflowSpec,
}

#[derive(Serialize)]
struct WorkflowSpec {
    entry: &'static str,
    templates: Vec<WorkflowTemplate>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WorkflowTemplate {
    name: String,
    template_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    deadline: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    children: Vec<String>,
    #[serde(rename = "podChaos", skip_serializing_if = "Option::is_none")]
    pod_chaos: Option<ChaosSpec>,
    #[serde(rename = "networkChaos", skip_serializing_if = "Option::is_none")]
    network_chaos: Option<ChaosSpec>,
    #[serde(rename = "httpChaos", skip_serializing_if = "Option::is_none")]
    http_chaos: Option<ChaosSpec>,
}

impl WorkflowTemplate {
    fn new(name: String, template_type: &'static str) -> Self {
        Self {
            name,
            template_type,
            deadline: None,
            children: Vec::new(),
            pod_chaos: None,
            network_chaos: None,
            http_chaos: None,
        }
    }
}

fn workflow(planned: &[Planned]) -> WorkflowObject {
    let entry = "planned-faults";
    let mut templates = vec![WorkflowTemplate {
        children: planned
            .iter()
            .map(|f| format!("fault-{}", f.name()))
            .collect(),
        ..WorkflowTemplate::new(entry.to_owned(), "Parallel")
    }];
    for fault in planned {
        let name = format!("fault-{}", fault.name());
        // Only faults with a chaos are given (`in_cluster`).
        let Some(spec) = fault.chaos.as_ref().map(ChaosSpec::without_duration) else {
            continue;
        };
        let kind = spec.kind();
        let mut chaos = WorkflowTemplate {
            deadline: Some(go_duration(fault.window_s())),
            ..WorkflowTemplate::new(format!("{name}-inject"), kind)
        };
        match kind {
            "PodChaos" => chaos.pod_chaos = Some(spec),
            "NetworkChaos" => chaos.network_chaos = Some(spec),
            _ => chaos.http_chaos = Some(spec),
        }
        let mut steps = Vec::new();
        if fault.start_s > 0.0 {
            steps.push(WorkflowTemplate {
                deadline: Some(go_duration(fault.start_s)),
                ..WorkflowTemplate::new(format!("{name}-wait"), "Suspend")
            });
        }
        steps.push(chaos);
        templates.push(WorkflowTemplate {
            children: steps.iter().map(|s| s.name.clone()).collect(),
            ..WorkflowTemplate::new(name, "Serial")
        });
        templates.extend(steps);
    }
    WorkflowObject {
        api_version: CHAOS_MESH_API_VERSION,
        kind: "Workflow",
        metadata: Metadata {
            name: "syncopate-planned-faults".to_owned(),
            namespace: None,
            labels: BTreeMap::from([("app.kubernetes.io/managed-by", "syncopate".to_owned())]),
            annotations: BTreeMap::new(),
        },
        spec: WorkflowSpec { entry, templates },
    }
}

// ------------------------------------------------------------------------------------------------ Istio

/// The Istio fault that stands for a planned fault on a route of `protocol`.
fn istio_fault(fault: &Planned, protocol: Protocol) -> super::istio::HttpFault {
    use super::istio::HttpFault;
    let grpc = protocol == Protocol::Grpc;
    match fault.fault.kind {
        FaultKind::Down => HttpFault::abort(grpc, 503, "UNAVAILABLE", 100.0),
        FaultKind::Errors => HttpFault::abort(
            grpc,
            500,
            "INTERNAL",
            fault.fault.error_rate.unwrap_or(0.0) * 100.0,
        ),
        FaultKind::Hang => HttpFault::delay(fault.window_s() * 1000.0, 100.0),
        FaultKind::Slow => HttpFault::delay(slow_delay_ms(fault), 100.0),
    }
}

// ------------------------------------------------------------------------------------------------ Chaos Toolkit

/// The configuration key of a flow's probe URL.
fn flow_url_key(index: usize) -> String {
    format!("flow_{}_url", index + 1)
}

/// The URL a flow's probe asks by default on a cluster: the entry's first sync HTTP callee, through its service name.
fn default_flow_url(design: &Design, entry: &str) -> String {
    let callee = design
        .edges
        .iter()
        .filter(|e| e.from.as_str() == entry && e.mode == CallMode::Sync)
        .find(|e| is_http_family(e.effective_protocol()))
        .map(|e| (e.to.to_string(), call_port(design, e)));
    match callee {
        Some((host, port)) => format!("http://{host}:{port}/"),
        None => format!("http://{entry}:8080/"),
    }
}

/// The Chaos Toolkit experiment: `planned` are the faults its method makes, `left_out` those a cluster cannot (said
/// in its description).
fn experiment(
    design: &Design,
    planned: &[Planned],
    left_out: &[Planned],
    runner: ChaosRunner,
) -> Value {
    let mut configuration = serde_json::Map::new();
    if runner == ChaosRunner::Emulator {
        configuration.insert(
            "emulator_url".to_owned(),
            json!({"type": "env", "key": "SYNCOPATE_EMULATOR_URL", "default": "http://127.0.0.1:7070"}),
        );
    }
    let mut probes = Vec::new();
    let mut flows: Vec<_> = design.flows.iter().collect();
    flows.sort_by(|a, b| a.id.cmp(&b.id));
    // Only flows with an SLO have a steady state to hold: a flow without one is not probed.
    for (i, flow) in flows.iter().enumerate() {
        let Some(slo_ms) = flow.slo_p99_ms else {
            continue;
        };
        // On a cluster each flow's URL is a configuration value (where its entry is reached is the cluster's
        // business); the emulator serves every flow under its own URL (Chaos Toolkit expands one level only).
        let url = match runner {
            ChaosRunner::Cluster => {
                let key = flow_url_key(i);
                configuration.insert(
                    key.clone(),
                    json!({
                        "type": "env",
                        "key": format!("SYNCOPATE_FLOW_{}_URL", i + 1),
                        "default": default_flow_url(design, flow.entry.as_str()),
                    }),
                );
                format!("${{{key}}}")
            }
            ChaosRunner::Emulator => {
                format!(
                    "${{emulator_url}}/flows/{}",
                    super::path_segment(flow.id.as_str())
                )
            }
        };
        // A probe is one request: it holds the SLO when it answers 200 within the flow's p99.
        probes.push(json!({
            "type": "probe",
            "name": format!("flow {} answers within its SLO of {slo_ms} ms", flow.id),
            "tolerance": 200,
            "provider": {
                "type": "http",
                "url": url,
                "method": "GET",
                "timeout": slo_ms / 1000.0,
            },
        }));
    }
    let mut method = Vec::new();
    // Events in time order: each fault's start, and its end when the method outlasts it.
    let mut events: Vec<(f64, bool, &Planned)> = Vec::new();
    let last_start = planned.iter().map(|f| f.start_s).fold(0.0, f64::max);
    for fault in planned {
        events.push((fault.start_s, true, fault));
        // Faults still in force at the last start are cleared by the rollbacks, after the closing hypothesis runs
        // while they are in force.
        if fault.end_s <= last_start {
            events.push((fault.end_s, false, fault));
        }
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut now = 0.0;
    for (at, start, fault) in &events {
        let mut action = if *start {
            inject_action(fault, runner)
        } else {
            clear_action(fault, runner)
        };
        let wait = at - now;
        if wait > 0.0 {
            action["pauses"] = json!({"before": round2(wait)});
        }
        now = *at;
        method.push(action);
    }
    // The closing hypothesis is checked halfway through the last fault's window, once the design's defences have
    // had time to act.
    let last_window = planned
        .iter()
        .filter(|f| f.start_s >= last_start)
        .map(Planned::window_s)
        .reduce(f64::max);
    if let (Some(last), Some(action)) = (last_window, method.last_mut()) {
        action["pauses"]["after"] = json!(round2(last / 2.0));
    }
    if method.is_empty() {
        // No planned faults: the method only observes the flows, so the experiment still runs and says so.
        method.extend(probes.iter().map(|probe| {
            let mut probe = probe.clone();
            if let Some(name) = probe["name"].as_str() {
                probe["name"] = json!(format!("observe: {name} (the design plans no faults)"));
            }
            if let Some(object) = probe.as_object_mut() {
                object.remove("tolerance");
            }
            probe
        }));
    }
    if method.is_empty() {
        // Neither faults nor SLOs: Chaos Toolkit needs one activity; a harmless probe (a pure-Python function of the
        // standard library, which `chaos validate` can inspect) says there is nothing to try.
        method.push(json!({
            "type": "probe",
            "name": "nothing to try: the design plans no faults and sets no SLO",
            "provider": {"type": "python", "module": "platform", "func": "python_version"},
        }));
    }
    let rollbacks: Vec<Value> = planned
        .iter()
        .map(|fault| clear_action(fault, runner))
        .collect();
    let mut experiment = json!({
        "version": "1.0.0",
        // Chaos Toolkit substitutes `${...}` in the title; `$$` is its escape for a `$` the design's name holds.
        "title": format!(
            "Does \"{}\" hold its SLOs through its planned faults?",
            design.name.replace('$', "$$")
        ),
        "description": format!(
            "Generated by Syncopate from the design \"{}\": the steady state is every flow answering within its \
             SLO p99 (one request per probe), the method the design's {} planned fault(s) in time order.{} {}",
            design.name,
            planned.len(),
            if left_out.is_empty() {
                String::new()
            } else {
                format!(
                    " Left out, as nothing in a cluster stands for them (a client runs outside it; an external \
                     service no deployed service calls has no traffic to affect; a slow fault of factor at most 1 \
                     or an errors fault of rate 0 adds nothing a cluster can inject): {}.",
                    left_out
                        .iter()
                        .map(Planned::name)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            match runner {
                ChaosRunner::Cluster => "Actions create and delete the Chaos Mesh resources in chaos-mesh/ \
                    (run `chaos run experiment.json` from this folder, with chaostoolkit-kubernetes installed and a \
                    kubeconfig for a cluster running Chaos Mesh); set each flow's URL (SYNCOPATE_FLOW_<n>_URL).",
                ChaosRunner::Emulator => "Actions call the fault API of `syncopate emulate FILE --serve` \
                    (SYNCOPATE_EMULATOR_URL); each probe runs one request of its flow through the emulation.",
            }
        ),
        "tags": ["syncopate"],
        "configuration": configuration,
        "steady-state-hypothesis": {
            "title": "Every flow answers within its SLO",
            "probes": probes,
        },
        "method": method,
        "rollbacks": rollbacks,
    });
    if experiment["steady-state-hypothesis"]["probes"]
        .as_array()
        .is_some_and(Vec::is_empty)
    {
        // A design without flows has nothing to probe: a hypothesis with no probes is refused by Chaos Toolkit.
        if let Some(object) = experiment.as_object_mut() {
            object.remove("steady-state-hypothesis");
        }
    }
    experiment
}

/// A cluster action on a fault's Chaos Mesh resource: chaostoolkit-kubernetes' `func` with the resource's group,
/// version, plural and namespace, and `argument` (the file to create from, or the name to delete).
fn cluster_action(name: String, func: &str, argument: (&str, String), fault: &Planned) -> Value {
    // Cluster actions are made only for faults with a chaos (`files`), so the fallback is never used.
    let kind = fault.chaos.as_ref().map_or("PodChaos", ChaosSpec::kind);
    let mut arguments = json!({
        "group": "chaos-mesh.org",
        "version": "v1alpha1",
        "plural": plural(kind),
        "ns": fault.namespace.clone().unwrap_or_else(|| "default".to_owned()),
    });
    arguments[argument.0] = json!(argument.1);
    json!({
        "type": "action",
        "name": name,
        "provider": {
            "type": "python",
            "module": "chaosk8s.crd.actions",
            "func": func,
            "arguments": arguments,
        },
    })
}

/// The action that starts a fault.
fn inject_action(fault: &Planned, runner: ChaosRunner) -> Value {
    let name = format!("start fault {}", fault.name());
    match runner {
        ChaosRunner::Cluster => cluster_action(
            name,
            "create_custom_object",
            (
                "resource_as_yaml_file",
                format!("chaos-mesh/{}.yaml", fault.name()),
            ),
            fault,
        ),
        ChaosRunner::Emulator => {
            let mut body = json!({
                "id": fault.name(),
                "service": fault.service.id.as_str(),
                "kind": fault.fault.kind.as_str(),
            });
            if let Some(factor) = fault.fault.factor {
                body["factor"] = json!(factor);
            }
            if let Some(rate) = fault.fault.error_rate {
                body["error_rate"] = json!(rate);
            }
            json!({
                "type": "action",
                "name": name,
                "provider": {
                    "type": "http",
                    "url": "${emulator_url}/faults",
                    "method": "POST",
                    "headers": {"Content-Type": "application/json"},
                    "arguments": body,
                },
            })
        }
    }
}

/// The action that clears a fault.
fn clear_action(fault: &Planned, runner: ChaosRunner) -> Value {
    let name = format!("clear fault {}", fault.name());
    match runner {
        ChaosRunner::Cluster => cluster_action(
            name,
            "delete_custom_object",
            ("name", format!("syncopate-{}", fault.name())),
            fault,
        ),
        ChaosRunner::Emulator => json!({
            "type": "action",
            "name": name,
            "provider": {
                "type": "http",
                "url": format!("${{emulator_url}}/faults/{}", fault.name()),
                "method": "DELETE",
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iot_ingest_with(faults: &[(&str, FaultKind)]) -> Design {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/iot-ingest.syncopate");
        let mut design = crate::model::load_file(std::path::Path::new(path)).unwrap();
        design.faults = faults
            .iter()
            .enumerate()
            .map(|(i, &(service, kind))| Fault {
                service: crate::model::ServiceId::new(service),
                kind,
                start_s: 1.0 + 2.0 * i as f64,
                end_s: Some(2.0 + 2.0 * i as f64),
                factor: (kind == FaultKind::Slow).then_some(2.0),
                error_rate: (kind == FaultKind::Errors).then_some(0.25),
            })
            .collect();
        design
    }

    #[test]
    fn a_fault_on_an_external_service_is_made_on_its_callers_traffic_to_it() {
        let design = iot_ingest_with(&[
            ("pager", FaultKind::Down),
            ("pager", FaultKind::Errors),
            ("pager", FaultKind::Hang),
        ]);
        let files = files(&design, ChaosRunner::Cluster);
        let text = |name: &str| {
            let file = files.iter().find(|f| f.path.ends_with(name)).unwrap();
            file.contents.clone()
        };
        // The pager has no pods (it is not deployed); its one deployed caller, alerting, is selected, and its
        // traffic to the pager's host is cut, lossy, or held back.
        let down = text("01-pager-down.yaml");
        assert!(down.contains("kind: NetworkChaos") && down.contains("action: partition"));
        assert!(down.contains("app: alerting") && down.contains("externalTargets:\n  - pager"));
        let errors = text("02-pager-errors.yaml");
        assert!(
            errors.contains("action: loss") && errors.contains("loss: '25'"),
            "{errors}"
        );
        assert!(text("03-pager-hang.yaml").contains("action: delay"));
    }

    #[test]
    fn a_fault_on_a_client_has_no_chaos_in_a_cluster_and_the_experiment_says_so() {
        let design = iot_ingest_with(&[
            ("devices", FaultKind::Down),
            ("ingest-api", FaultKind::Hang),
        ]);
        let cluster = files(&design, ChaosRunner::Cluster);
        assert!(!cluster.iter().any(|f| f.path.contains("devices")));
        let experiment = cluster
            .iter()
            .find(|f| f.path.ends_with("experiment.json"))
            .unwrap();
        let experiment: Value = serde_json::from_str(&experiment.contents).unwrap();
        let actions: Vec<&str> = experiment["method"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["name"].as_str())
            .collect();
        assert_eq!(actions, ["start fault 02-ingest-api-hang"]);
        // Its wait counts from the run's start, as if the client's fault had been made.
        assert_eq!(experiment["method"][0]["pauses"]["before"], json!(3.0));
        assert!(
            experiment["description"]
                .as_str()
                .unwrap()
                .contains("Left out, as nothing in a cluster stands for them")
        );
        // The emulator makes every fault, the client's too.
        let emulator = files(&design, ChaosRunner::Emulator);
        let experiment = emulator
            .iter()
            .find(|f| f.path.ends_with("experiment.json"))
            .unwrap();
        assert!(experiment.contents.contains("start fault 01-devices-down"));
    }

    #[test]
    fn a_fault_that_adds_nothing_a_cluster_can_inject_is_left_out_of_the_cluster_and_kept_for_the_emulator()
     {
        let mut design = iot_ingest_with(&[
            ("ingest-api", FaultKind::Slow),
            ("stream-processor", FaultKind::Errors),
            ("timeseries-db", FaultKind::Slow),
            ("ingest-gateway", FaultKind::Hang),
        ]);
        // Faster than the service (0.5), a rate that fails nothing, and a factor of exactly 1.
        design.faults[0].factor = Some(0.5);
        design.faults[1].error_rate = Some(0.0);
        design.faults[2].factor = Some(1.0);
        let cluster = files(&design, ChaosRunner::Cluster);
        let paths: Vec<&str> = cluster.iter().map(|f| f.path.as_str()).collect();
        for quiet in [
            "ingest-api-slow",
            "stream-processor-errors",
            "timeseries-db-slow",
        ] {
            assert!(
                !paths.iter().any(|p| p.contains(quiet)),
                "{quiet}: {paths:?}"
            );
        }
        assert!(
            paths.contains(&"chaos/chaos-mesh/04-ingest-gateway-hang.yaml"),
            "{paths:?}"
        );
        let experiment = cluster
            .iter()
            .find(|f| f.path.ends_with("experiment.json"))
            .unwrap();
        let experiment: Value = serde_json::from_str(&experiment.contents).unwrap();
        let description = experiment["description"].as_str().unwrap();
        assert!(
            description
                .contains("01-ingest-api-slow, 02-stream-processor-errors, 03-timeseries-db-slow"),
            "{description}"
        );
        let emulator = files(&design, ChaosRunner::Emulator);
        let experiment = emulator
            .iter()
            .find(|f| f.path.ends_with("experiment.json"))
            .unwrap();
        assert!(
            experiment.contents.contains("\"factor\": 0.5"),
            "{}",
            experiment.contents
        );
        assert!(
            experiment
                .contents
                .contains("start fault 02-stream-processor-errors")
        );
    }

    #[test]
    fn go_durations_are_whole_seconds_or_milliseconds() {
        assert_eq!(go_duration(20.0), "20s");
        assert_eq!(go_duration(1.5), "1500ms");
        assert_eq!(go_duration(0.0), "1ms");
    }
}
