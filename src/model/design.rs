//! The design types: what a `.syncopate` file holds, in memory.
//!
//! The field names, defaults and meanings are specified in `docs/design-format.md`. Serialization writes only
//! what differs from a default (plus ids and required fields), so saved files stay short and diff cleanly.

use serde::{Deserialize, Serialize, Serializer};

use super::ids::{EdgeId, FlowId, ServiceId};

/// The `type` tag every design file carries.
pub const FILE_TYPE: &str = "syncopate";

/// The file-format version this build writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// The value of the `type` field: always `"syncopate"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum FileTag {
    /// The only tag there is.
    #[default]
    #[serde(rename = "syncopate")]
    Syncopate,
}

/// A whole design: the services, the calls between them, the request flows that drive them, planned faults and
/// simulation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Design {
    /// Always `"syncopate"`.
    #[serde(rename = "type")]
    pub file_type: FileTag,
    /// The file-format version; [`FORMAT_VERSION`] when written by this build.
    pub version: u32,
    /// Display name of the design.
    #[serde(default = "default_design_name")]
    pub name: String,
    /// Services, in the user's order.
    #[serde(default)]
    pub services: Vec<Service>,
    /// Calls between services.
    #[serde(default)]
    pub edges: Vec<Edge>,
    /// Request flows: where traffic enters and how much.
    #[serde(default)]
    pub flows: Vec<Flow>,
    /// Faults planned over simulated time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<Fault>,
    /// Simulation settings; `None` means the defaults of [`SimulationSettings`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulation: Option<SimulationSettings>,
    /// Settings of the trade-off rules: thresholds and disabled rules.
    #[serde(default, skip_serializing_if = "LintSettings::is_empty")]
    pub lint: LintSettings,
}

/// Per-design settings of the trade-off rules (the `lint` section).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintSettings {
    /// Ids of rules that do not run on this design.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disabled: Vec<String>,
    /// Thresholds that replace the rules' defaults.
    #[serde(default, skip_serializing_if = "is_default")]
    pub thresholds: LintThresholds,
}

impl LintSettings {
    /// Whether nothing is set (the section is then left out of the file).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Rule thresholds; each `None` keeps the rule's default (see `docs/rules.md`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintThresholds {
    /// Most synchronous hops from a flow's entry before `deep-sync-chain` warns (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_sync_depth: Option<u32>,
    /// Synchronous hops of a write flow from which `write-heavy-sync-chain` warns (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_sync_depth: Option<u32>,
    /// Worst-case calls per request above which `retry-storm` warns (default 8).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "write_opt_number"
    )]
    pub max_retry_amplification: Option<f64>,
    /// Utilization from which `over-capacity` warns (default 0.8).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "write_opt_number"
    )]
    pub utilization_warning: Option<f64>,
    /// Utilization from which `over-capacity` is an error (default 1.0).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "write_opt_number"
    )]
    pub utilization_error: Option<f64>,
    /// Synchronous downstream calls that make a service an orchestrator (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orchestrator_sync_calls: Option<u32>,
    /// Sequential synchronous calls from which `sequential-fan-out` suggests parallel calls (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequential_fan_out: Option<u32>,
}

fn default_design_name() -> String {
    "Untitled design".to_owned()
}

impl Default for Design {
    fn default() -> Self {
        Self {
            file_type: FileTag::Syncopate,
            version: FORMAT_VERSION,
            name: default_design_name(),
            services: Vec::new(),
            edges: Vec::new(),
            flows: Vec::new(),
            faults: Vec::new(),
            simulation: None,
            lint: LintSettings::default(),
        }
    }
}

/// What a service is; each kind is drawn differently and some rules treat kinds specially (a `broker` forwards
/// messages by topic, a `client` is where people sit).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    /// A user-facing client (browser, mobile app).
    Client,
    /// An edge proxy or API gateway.
    Gateway,
    /// An application service.
    #[default]
    Service,
    /// A database or cache.
    Database,
    /// A message broker or log (RabbitMQ, Kafka, SQS, NATS).
    Broker,
    /// A third-party system outside the design's control.
    External,
}

impl ServiceKind {
    /// Every kind, in the order menus list them.
    pub const ALL: [ServiceKind; 6] = [
        ServiceKind::Client,
        ServiceKind::Gateway,
        ServiceKind::Service,
        ServiceKind::Database,
        ServiceKind::Broker,
        ServiceKind::External,
    ];

    /// The name used in the file format.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::Client => "client",
            ServiceKind::Gateway => "gateway",
            ServiceKind::Service => "service",
            ServiceKind::Database => "database",
            ServiceKind::Broker => "broker",
            ServiceKind::External => "external",
        }
    }
}

/// Whether a service mostly serves reads, writes, or both; rules use it to judge sync vs async choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Workload {
    /// Mostly queries.
    ReadHeavy,
    /// Mostly commands and ingestion.
    WriteHeavy,
    /// Both.
    #[default]
    Mixed,
}

/// A probability distribution of times in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum Distribution {
    /// Exponential with the given mean.
    Exponential {
        /// Mean, in milliseconds.
        #[serde(serialize_with = "write_number")]
        mean_ms: f64,
    },
    /// Always the same time.
    Constant {
        /// The time, in milliseconds.
        #[serde(serialize_with = "write_number")]
        ms: f64,
    },
    /// Uniform between two bounds.
    Uniform {
        /// Lower bound, in milliseconds.
        #[serde(serialize_with = "write_number")]
        min_ms: f64,
        /// Upper bound, in milliseconds.
        #[serde(serialize_with = "write_number")]
        max_ms: f64,
    },
    /// Log-normal given by its median and 99th percentile, the two figures people know of their services.
    Lognormal {
        /// Median, in milliseconds.
        #[serde(serialize_with = "write_number")]
        median_ms: f64,
        /// 99th percentile, in milliseconds.
        #[serde(serialize_with = "write_number")]
        p99_ms: f64,
    },
}

/// The standard normal quantile at 0.99, used to turn a lognormal's p99 into its sigma.
pub const Z_P99: f64 = 2.326_347_874_040_841;

impl Distribution {
    /// The mean of the distribution, in milliseconds.
    pub fn mean_ms(&self) -> f64 {
        match *self {
            Distribution::Exponential { mean_ms } => mean_ms,
            Distribution::Constant { ms } => ms,
            Distribution::Uniform { min_ms, max_ms } => (min_ms + max_ms) / 2.0,
            Distribution::Lognormal { median_ms, p99_ms } => {
                let sigma = Self::lognormal_sigma(median_ms, p99_ms);
                median_ms * (sigma * sigma / 2.0).exp()
            }
        }
    }

    /// The squared coefficient of variation (variance / mean²), which queueing estimates need.
    pub fn scv(&self) -> f64 {
        match *self {
            Distribution::Exponential { .. } => 1.0,
            Distribution::Constant { .. } => 0.0,
            Distribution::Uniform { min_ms, max_ms } => {
                let mean = (min_ms + max_ms) / 2.0;
                if mean <= 0.0 {
                    0.0
                } else {
                    let width = max_ms - min_ms;
                    width * width / 12.0 / (mean * mean)
                }
            }
            Distribution::Lognormal { median_ms, p99_ms } => {
                let sigma = Self::lognormal_sigma(median_ms, p99_ms);
                (sigma * sigma).exp() - 1.0
            }
        }
    }

    /// Sigma of the underlying normal of a lognormal with this median and p99.
    pub fn lognormal_sigma(median_ms: f64, p99_ms: f64) -> f64 {
        if median_ms <= 0.0 || p99_ms <= median_ms {
            0.0
        } else {
            (p99_ms / median_ms).ln() / Z_P99
        }
    }

    /// The 99th percentile, in milliseconds (exact for every variant).
    pub fn p99_ms(&self) -> f64 {
        match *self {
            Distribution::Exponential { mean_ms } => mean_ms * 100f64.ln(),
            Distribution::Constant { ms } => ms,
            Distribution::Uniform { min_ms, max_ms } => min_ms + 0.99 * (max_ms - min_ms),
            Distribution::Lognormal { p99_ms, .. } => p99_ms,
        }
    }
}

impl Default for Distribution {
    fn default() -> Self {
        Distribution::Exponential { mean_ms: 10.0 }
    }
}

/// One service of the design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Unique id; a DNS label (see [`crate::model::ids::service_id_problem`]).
    pub id: ServiceId,
    /// Display name; the id when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The group the service belongs to (a domain, namespace or bounded context), when it has one. Drawn as a box
    /// around its services, laid out together, collapsible, and a Kubernetes namespace when exported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// What the service is.
    #[serde(default, skip_serializing_if = "is_default")]
    pub kind: ServiceKind,
    /// Position on the canvas, `[x, y]` in canvas units.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "write_position"
    )]
    pub position: Option<[f32; 2]>,
    /// Number of replicas (instances).
    #[serde(
        default = "default_replicas",
        skip_serializing_if = "is_default_replicas"
    )]
    pub replicas: u32,
    /// Workers per replica: requests one replica serves at once.
    #[serde(
        default = "default_concurrency",
        skip_serializing_if = "is_default_concurrency"
    )]
    pub concurrency: u32,
    /// Waiting room per replica; `None` (JSON `null`) is unbounded.
    #[serde(
        default = "default_queue_capacity",
        skip_serializing_if = "is_default_queue_capacity"
    )]
    pub queue_capacity: Option<u32>,
    /// Local work per request.
    #[serde(default, skip_serializing_if = "is_default")]
    pub service_time: Distribution,
    /// Probability that a request fails at this service on its own.
    #[serde(
        default,
        skip_serializing_if = "is_zero",
        serialize_with = "write_number"
    )]
    pub error_rate: f64,
    /// Whether the service mostly reads or writes.
    #[serde(default, skip_serializing_if = "is_default")]
    pub workload: Workload,
    /// Container image, for exports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Listening port, for exports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// Default replicas of a service.
pub const DEFAULT_REPLICAS: u32 = 1;
/// Default workers per replica.
pub const DEFAULT_CONCURRENCY: u32 = 8;
/// Default waiting room per replica.
pub const DEFAULT_QUEUE_CAPACITY: Option<u32> = Some(100);

fn default_replicas() -> u32 {
    DEFAULT_REPLICAS
}
fn is_default_replicas(v: &u32) -> bool {
    *v == DEFAULT_REPLICAS
}
fn default_concurrency() -> u32 {
    DEFAULT_CONCURRENCY
}
fn is_default_concurrency(v: &u32) -> bool {
    *v == DEFAULT_CONCURRENCY
}
fn default_queue_capacity() -> Option<u32> {
    DEFAULT_QUEUE_CAPACITY
}
fn is_default_queue_capacity(v: &Option<u32>) -> bool {
    *v == DEFAULT_QUEUE_CAPACITY
}

impl Service {
    /// A service with every field at its default.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: ServiceId::new(id),
            name: None,
            group: None,
            kind: ServiceKind::default(),
            position: None,
            replicas: DEFAULT_REPLICAS,
            concurrency: DEFAULT_CONCURRENCY,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            service_time: Distribution::default(),
            error_rate: 0.0,
            workload: Workload::default(),
            image: None,
            port: None,
            notes: None,
        }
    }

    /// The name to show: the display name, or the id when there is none.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(self.id.as_str())
    }

    /// Total workers over all replicas.
    pub fn total_workers(&self) -> u64 {
        u64::from(self.replicas) * u64::from(self.concurrency)
    }
}

/// Synchronous (the caller waits for the answer) or asynchronous (the caller hands a message over and moves on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallMode {
    /// Request/response: the caller's worker waits.
    Sync,
    /// A message through a queue or log: the caller moves on at once.
    Async,
}

impl CallMode {
    /// The name used in the file format.
    pub fn as_str(self) -> &'static str {
        match self {
            CallMode::Sync => "sync",
            CallMode::Async => "async",
        }
    }

    /// The protocol a call of this mode uses when none is given.
    pub fn default_protocol(self) -> Protocol {
        match self {
            CallMode::Sync => Protocol::Http,
            CallMode::Async => Protocol::Amqp,
        }
    }
}

/// The wire protocol of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// HTTP request/response.
    Http,
    /// gRPC.
    Grpc,
    /// GraphQL over HTTP.
    Graphql,
    /// Plain TCP request/response (databases, caches).
    Tcp,
    /// AMQP (RabbitMQ).
    Amqp,
    /// Kafka.
    Kafka,
    /// Amazon SQS.
    Sqs,
    /// NATS.
    Nats,
}

impl Protocol {
    /// Every protocol, sync ones first.
    pub const ALL: [Protocol; 8] = [
        Protocol::Http,
        Protocol::Grpc,
        Protocol::Graphql,
        Protocol::Tcp,
        Protocol::Amqp,
        Protocol::Kafka,
        Protocol::Sqs,
        Protocol::Nats,
    ];

    /// The mode this protocol belongs to.
    pub fn mode(self) -> CallMode {
        match self {
            Protocol::Http | Protocol::Grpc | Protocol::Graphql | Protocol::Tcp => CallMode::Sync,
            Protocol::Amqp | Protocol::Kafka | Protocol::Sqs | Protocol::Nats => CallMode::Async,
        }
    }

    /// The name used in the file format.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Grpc => "grpc",
            Protocol::Graphql => "graphql",
            Protocol::Tcp => "tcp",
            Protocol::Amqp => "amqp",
            Protocol::Kafka => "kafka",
            Protocol::Sqs => "sqs",
            Protocol::Nats => "nats",
        }
    }
}

/// Retries after the first try of a call, with exponential backoff.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Retries after the first try (so at most `max_retries + 1` tries).
    pub max_retries: u32,
    /// Wait before the first retry; doubles before each further one. 0 means no backoff.
    #[serde(
        default,
        skip_serializing_if = "is_zero",
        serialize_with = "write_number"
    )]
    pub backoff_ms: f64,
    /// Timeout of each single try; `None` leaves only the call's overall `timeout_ms`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "write_opt_number"
    )]
    pub per_try_timeout_ms: Option<f64>,
}

impl RetryPolicy {
    /// Backoff before retry number `retry` (1-based): `backoff_ms * 2^(retry-1)`.
    pub fn backoff_before_retry_ms(&self, retry: u32) -> f64 {
        let exponent = retry.saturating_sub(1).min(62);
        self.backoff_ms * (1u64 << exponent) as f64
    }

    /// Sum of all backoffs when every retry is used.
    pub fn total_backoff_ms(&self) -> f64 {
        (1..=self.max_retries)
            .map(|r| self.backoff_before_retry_ms(r))
            .sum()
    }
}

/// A circuit breaker on a call: after `consecutive_failures` failures in a row it opens and fails calls at once
/// for `open_ms`, then lets one trial call through (half-open).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircuitBreaker {
    /// Failures in a row that open the breaker.
    pub consecutive_failures: u32,
    /// How long the breaker stays open before a trial call.
    #[serde(serialize_with = "write_number")]
    pub open_ms: f64,
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        Self {
            consecutive_failures: 5,
            open_ms: 30_000.0,
        }
    }
}

/// A call from one service to another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    /// Unique id; `"<from>-<to>"` when the file leaves it out (or empty).
    #[serde(default)]
    pub id: EdgeId,
    /// The caller.
    pub from: ServiceId,
    /// The callee.
    pub to: ServiceId,
    /// Sync or async.
    pub mode: CallMode,
    /// Wire protocol; the mode's default (`http` / `amqp`) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// The caller makes its calls in ascending `order`; equal orders run in parallel.
    #[serde(default, skip_serializing_if = "is_default")]
    pub order: i32,
    /// Probability that a request takes this call.
    #[serde(
        default = "one",
        skip_serializing_if = "is_one",
        serialize_with = "write_number"
    )]
    pub probability: f64,
    /// Overall timeout of the call (sync only); `None` waits forever.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "write_opt_number"
    )]
    pub timeout_ms: Option<f64>,
    /// Retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
    /// Circuit breaker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circuit_breaker: Option<CircuitBreaker>,
    /// Bulkhead: at most this many calls in flight at once; further calls fail at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<u32>,
    /// Topic or routing key (async only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// The flows this call takes part in; `None` means every flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flows: Option<Vec<FlowId>>,
    /// Whether making the call twice has the effect of making it once (so retrying it is safe).
    #[serde(default, skip_serializing_if = "is_default")]
    pub idempotent: bool,
    /// A compensating call: the call (same caller) whose effect this call undoes. It is never made on the forward
    /// path; the caller makes it when its request fails after the compensated call succeeded (a saga's rollback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compensates: Option<EdgeId>,
    /// Async only: a message whose handling fails is delivered again until this many deliveries in all, then goes
    /// to a dead-letter queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter: Option<DeadLetter>,
}

/// A dead-letter queue on an async call: how many deliveries a message gets before it is set aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadLetter {
    /// Deliveries in all (the first included) before a failing message goes to the dead-letter queue, ≥ 1.
    pub after_deliveries: u32,
}

/// Asynchronous request-reply: the client, answered at once (`202 Accepted`), asks the entry for the result every
/// `interval_ms` until the request's work is done.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Polling {
    /// Time between the client's polls, in milliseconds (> 0).
    #[serde(serialize_with = "write_number")]
    pub interval_ms: f64,
}

impl Edge {
    /// A call with every optional field at its default and the default id.
    pub fn new(from: impl Into<String>, to: impl Into<String>, mode: CallMode) -> Self {
        let from = ServiceId::new(from);
        let to = ServiceId::new(to);
        Self {
            id: Self::default_id(&from, &to),
            from,
            to,
            mode,
            protocol: None,
            order: 0,
            probability: 1.0,
            timeout_ms: None,
            retry: None,
            circuit_breaker: None,
            max_in_flight: None,
            topic: None,
            flows: None,
            idempotent: false,
            compensates: None,
            dead_letter: None,
        }
    }

    /// The id an edge gets when the file gives none.
    pub fn default_id(from: &ServiceId, to: &ServiceId) -> EdgeId {
        EdgeId(format!("{from}-{to}"))
    }

    /// Switches the call to `mode`, dropping what only the other mode may have: the protocol (it must fit the
    /// mode), the timeout, retries, breaker and bulkhead of a sync call, or the topic of an async one.
    pub fn set_mode(&mut self, mode: CallMode) {
        if self.mode == mode {
            return;
        }
        self.mode = mode;
        self.protocol = None;
        match mode {
            CallMode::Async => {
                // What only a waiting caller can apply (see validation).
                self.timeout_ms = None;
                self.retry = None;
                self.circuit_breaker = None;
                self.max_in_flight = None;
            }
            CallMode::Sync => self.topic = None,
        }
    }

    /// The protocol in effect: the given one, or the mode's default.
    pub fn effective_protocol(&self) -> Protocol {
        self.protocol.unwrap_or(self.mode.default_protocol())
    }

    /// Whether this call takes part in `flow`.
    pub fn in_flow(&self, flow: &FlowId) -> bool {
        self.flows.as_ref().is_none_or(|flows| flows.contains(flow))
    }

    /// Whether the call is made on `flow`'s forward path: it takes part in the flow and is not a compensating
    /// call (those are made only when a saga rolls back).
    pub fn on_forward_path(&self, flow: &FlowId) -> bool {
        self.compensates.is_none() && self.in_flow(flow)
    }

    /// Whether this is a compensating call.
    pub fn is_compensation(&self) -> bool {
        self.compensates.is_some()
    }

    /// Tries at most made per call: `max_retries + 1`.
    pub fn max_tries(&self) -> u64 {
        self.retry.map_or(1, |r| u64::from(r.max_retries) + 1)
    }
}

/// How requests of a flow arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ArrivalProcess {
    /// Exponential gaps between arrivals (independent users).
    #[default]
    Poisson,
    /// Evenly spaced arrivals.
    Constant,
}

/// Whether a flow reads or changes data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FlowKind {
    /// A query.
    #[default]
    Read,
    /// A command that changes state.
    Write,
}

/// One step of a flow's rate pattern: from `at_s` on, requests arrive at `rate_rps`. Written as `[at_s, rate_rps]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateStep {
    /// When the step starts, in simulated seconds.
    pub at_s: f64,
    /// The arrival rate from then on, in requests per second.
    pub rate_rps: f64,
}

impl Serialize for RateStep {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        [Number(self.at_s), Number(self.rate_rps)].serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RateStep {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let numbers = Vec::<f64>::deserialize(deserializer)?;
        match numbers[..] {
            [at_s, rate_rps] => Ok(Self { at_s, rate_rps }),
            _ => Err(serde::de::Error::custom(format!(
                "expected a step [at_s, rate_rps] of two numbers, found an array of {}",
                numbers.len()
            ))),
        }
    }
}

/// A kind of request that enters the system at one service at some rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    /// Unique id.
    pub id: FlowId,
    /// Display name; the id when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The service where requests arrive.
    pub entry: ServiceId,
    /// Mean arrival rate, in requests per second (before any `pattern` step).
    #[serde(serialize_with = "write_number")]
    pub rate_rps: f64,
    /// How arrivals are spaced.
    #[serde(default, skip_serializing_if = "is_default")]
    pub arrival: ArrivalProcess,
    /// Rate steps over time, for bursts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<Vec<RateStep>>,
    /// Read or write.
    #[serde(default, skip_serializing_if = "is_default")]
    pub kind: FlowKind,
    /// Whether the caller needs the answer now.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub caller_waits: bool,
    /// Latency objective for the 99th percentile, in milliseconds.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "write_opt_number"
    )]
    pub slo_p99_ms: Option<f64>,
    /// Asynchronous request-reply (flows whose caller does not wait only): the client polls the entry for the
    /// result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polling: Option<Polling>,
}

impl Flow {
    /// A flow with every optional field at its default.
    pub fn new(id: impl Into<String>, entry: impl Into<String>, rate_rps: f64) -> Self {
        Self {
            id: FlowId::new(id),
            name: None,
            entry: ServiceId::new(entry),
            rate_rps,
            arrival: ArrivalProcess::default(),
            pattern: None,
            kind: FlowKind::default(),
            caller_waits: true,
            slo_p99_ms: None,
            polling: None,
        }
    }

    /// The name to show: the display name, or the id when there is none.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(self.id.as_str())
    }

    /// The arrival rate in force at simulated time `at_s`.
    pub fn rate_at(&self, at_s: f64) -> f64 {
        let mut rate = self.rate_rps;
        for step in self.pattern.iter().flatten() {
            if step.at_s <= at_s {
                rate = step.rate_rps;
            }
        }
        rate
    }

    /// The mean rate over `[0, duration_s)`, taking the pattern into account.
    pub fn mean_rate_over(&self, duration_s: f64) -> f64 {
        let Some(pattern) = self.pattern.as_ref().filter(|p| !p.is_empty()) else {
            return self.rate_rps;
        };
        if duration_s <= 0.0 {
            return self.rate_rps;
        }
        let mut total = 0.0;
        let mut from_s = 0.0;
        let mut rate = self.rate_rps;
        for step in pattern {
            let until_s = step.at_s.clamp(from_s, duration_s);
            total += rate * (until_s - from_s);
            from_s = until_s;
            rate = step.rate_rps;
        }
        total += rate * (duration_s - from_s).max(0.0);
        total / duration_s
    }
}

/// What goes wrong in a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Stopped: sync calls fail at once; async messages wait in its queue until it is back.
    Down,
    /// Accepts calls and messages and never finishes them.
    Hang,
    /// Service time multiplied by `factor`.
    Slow,
    /// Each request fails with probability `error_rate`.
    Errors,
}

impl FaultKind {
    /// The name used in the file format.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Down => "down",
            FaultKind::Hang => "hang",
            FaultKind::Slow => "slow",
            FaultKind::Errors => "errors",
        }
    }
}

/// A fault injected into one service over a window of simulated time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// The service that fails.
    pub service: ServiceId,
    /// How it fails.
    pub kind: FaultKind,
    /// Start, in simulated seconds.
    #[serde(default, serialize_with = "write_number")]
    pub start_s: f64,
    /// End, in simulated seconds; `None` lasts to the end of the run.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "write_opt_number"
    )]
    pub end_s: Option<f64>,
    /// Service-time multiplier (`slow` only).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "write_opt_number"
    )]
    pub factor: Option<f64>,
    /// Failure probability (`errors` only).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "write_opt_number"
    )]
    pub error_rate: Option<f64>,
}

impl Fault {
    /// Whether the fault is in force at simulated time `at_s`.
    pub fn active_at(&self, at_s: f64) -> bool {
        at_s >= self.start_s && self.end_s.is_none_or(|end| at_s < end)
    }
}

/// What the `slow` and `errors` faults in force on one service do to its work together (docs/design-format.md):
/// `slow` factors multiply, and `errors` rates combine as independent causes, `1 − Π(1 − rate)`. The simulator and
/// the emulator both take them from here.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultEffect {
    /// Service time × this.
    pub slow_factor: f64,
    /// The chance the faults fail a request.
    pub error_rate: f64,
}

impl FaultEffect {
    /// The effect of these faults (all in force on one service; `down` and `hang` do not count here).
    pub fn of<'a>(faults: impl IntoIterator<Item = &'a Fault>) -> Self {
        let (mut slow_factor, mut passing) = (1.0, 1.0);
        for fault in faults {
            match fault.kind {
                FaultKind::Slow => slow_factor *= fault.factor.unwrap_or(1.0),
                FaultKind::Errors => passing *= 1.0 - fault.error_rate.unwrap_or(0.0),
                FaultKind::Down | FaultKind::Hang => {}
            }
        }
        Self {
            slow_factor,
            error_rate: 1.0 - passing,
        }
    }
}

/// The chance a request fails when `a` and `b` are independent causes (a service's own `error_rate` and its
/// faults').
#[inline]
pub fn either_fails(a: f64, b: f64) -> f64 {
    1.0 - (1.0 - a) * (1.0 - b)
}

/// Settings of a simulation run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationSettings {
    /// Simulated time, in seconds.
    #[serde(default = "default_duration_s", serialize_with = "write_number")]
    pub duration_s: f64,
    /// Leading simulated time left out of the statistics, in seconds.
    #[serde(default = "default_warmup_s", serialize_with = "write_number")]
    pub warmup_s: f64,
    /// Seed of the random number generator.
    #[serde(default = "default_seed")]
    pub seed: u64,
}

fn default_duration_s() -> f64 {
    60.0
}
fn default_warmup_s() -> f64 {
    5.0
}
fn default_seed() -> u64 {
    1
}

impl Default for SimulationSettings {
    fn default() -> Self {
        Self {
            duration_s: default_duration_s(),
            warmup_s: default_warmup_s(),
            seed: default_seed(),
        }
    }
}

/// `base` cut to leave room for a "-NNNNN" suffix within `max_len` bytes, without a trailing '-' (ids are ASCII).
fn cut_for_suffix(base: &str, max_len: usize) -> &str {
    let keep = base.len().min(max_len.saturating_sub(6));
    base.get(..keep).unwrap_or(base).trim_end_matches('-')
}

/// `base` if `taken` says no to it, else the first of `base-2`, `base-3`… it says no to.
fn first_free(base: &str, taken: impl Fn(&str) -> bool) -> String {
    std::iter::once(base.to_owned())
        .chain((2u64..).map(|n| format!("{base}-{n}")))
        .find(|id| !taken(id))
        .unwrap_or_else(|| unreachable!("an unbounded sequence of ids has a free one"))
}

impl Design {
    /// The name a person knows a service by: its display name, or `id` itself when no service has that id.
    pub fn service_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.service(id).map_or(id, Service::display_name)
    }

    /// A call as a person reads it: `caller -> callee`, by the services' names.
    pub fn call_name(&self, edge: &Edge) -> String {
        format!(
            "{} -> {}",
            self.service_name(edge.from.as_str()),
            self.service_name(edge.to.as_str())
        )
    }

    /// The groups services belong to, sorted, each once.
    pub fn groups(&self) -> Vec<&str> {
        let groups: std::collections::BTreeSet<&str> = self
            .services
            .iter()
            .filter_map(|s| s.group.as_deref())
            .collect();
        groups.into_iter().collect()
    }

    /// An empty design with a name.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// The service with this id.
    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.id.as_str() == id)
    }

    /// The service with this id, to change it.
    pub fn service_mut(&mut self, id: &str) -> Option<&mut Service> {
        self.services.iter_mut().find(|s| s.id.as_str() == id)
    }

    /// The edge with this id.
    pub fn edge(&self, id: &str) -> Option<&Edge> {
        self.edges.iter().find(|e| e.id.as_str() == id)
    }

    /// The edge with this id, to change it.
    pub fn edge_mut(&mut self, id: &str) -> Option<&mut Edge> {
        self.edges.iter_mut().find(|e| e.id.as_str() == id)
    }

    /// `base`, or `base-2`, `base-3`…: the first id no service has. `base` is cut so that the id stays within the
    /// length limit; it should be a valid service id.
    pub fn free_service_id(&self, base: &str) -> ServiceId {
        self.free_service_id_for(ServiceKind::Service, base)
    }

    /// [`Self::free_service_id`] for a service of `kind`, within that kind's id length limit (brokers and
    /// databases have a shorter one).
    pub fn free_service_id_for(&self, kind: ServiceKind, base: &str) -> ServiceId {
        let base = cut_for_suffix(base, super::ids::max_service_id_len(kind));
        ServiceId::new(first_free(base, |id| self.service(id).is_some()))
    }

    /// Renames service `old` to `new` and points every reference at it (calls, flow entries, faults); calls whose
    /// id was the default `"<from>-<to>"` get the new default.
    pub fn rename_service(&mut self, old: &ServiceId, new: &ServiceId) {
        if let Some(service) = self.services.iter_mut().find(|s| s.id == *old) {
            service.id = new.clone();
        }
        let mut renamed_edges = Vec::new();
        for edge in &mut self.edges {
            let had_default_id = edge.id == Edge::default_id(&edge.from, &edge.to);
            if edge.from == *old {
                edge.from = new.clone();
            }
            if edge.to == *old {
                edge.to = new.clone();
            }
            if had_default_id {
                let renamed = Edge::default_id(&edge.from, &edge.to);
                if renamed != edge.id {
                    renamed_edges.push((std::mem::replace(&mut edge.id, renamed.clone()), renamed));
                }
            }
        }
        for (old_edge, new_edge) in &renamed_edges {
            self.rename_edge_references(old_edge, new_edge);
        }
        for flow in &mut self.flows {
            if flow.entry == *old {
                flow.entry = new.clone();
            }
        }
        for fault in &mut self.faults {
            if fault.service == *old {
                fault.service = new.clone();
            }
        }
    }

    /// Points the compensating calls of call `old` at its new id `new` (the call itself is already renamed).
    pub fn rename_edge_references(&mut self, old: &EdgeId, new: &EdgeId) {
        for edge in &mut self.edges {
            if edge.compensates.as_ref() == Some(old) {
                edge.compensates = Some(new.clone());
            }
        }
    }

    /// `base`, or `base-2`, `base-3`…: the first id no call has, within the length limit.
    pub fn free_edge_id(&self, base: &str) -> EdgeId {
        let base = cut_for_suffix(base, super::ids::MAX_OTHER_ID_LEN);
        EdgeId::new(first_free(base, |id| self.edge(id).is_some()))
    }

    /// The flow with this id.
    pub fn flow(&self, id: &str) -> Option<&Flow> {
        self.flows.iter().find(|f| f.id.as_str() == id)
    }

    /// The index of the compensating call of call `edge` (validation allows at most one), if it has one.
    pub fn compensation_of(&self, edge: &EdgeId) -> Option<usize> {
        self.edges
            .iter()
            .position(|c| c.compensates.as_ref() == Some(edge))
    }

    /// Whether a flow is a saga: some compensating call takes part in it.
    pub fn is_saga(&self, flow: &FlowId) -> bool {
        self.edges
            .iter()
            .any(|e| e.is_compensation() && e.in_flow(flow))
    }

    /// The services and calls a flow's requests can reach: from its entry along the calls that take part in the
    /// flow (in either mode), each id once, sorted. Empty for an unknown flow.
    pub fn flow_reach(&self, id: &str) -> (Vec<ServiceId>, Vec<EdgeId>) {
        let Some(flow) = self.flow(id) else {
            return (Vec::new(), Vec::new());
        };
        let mut services = std::collections::BTreeSet::from([flow.entry.clone()]);
        let mut edges = std::collections::BTreeSet::new();
        let mut todo = vec![flow.entry.clone()];
        while let Some(at) = todo.pop() {
            for edge in self
                .edges
                .iter()
                .filter(|e| e.from == at && e.in_flow(&flow.id))
            {
                edges.insert(edge.id.clone());
                if services.insert(edge.to.clone()) {
                    todo.push(edge.to.clone());
                }
            }
        }
        (services.into_iter().collect(), edges.into_iter().collect())
    }

    /// A service's neighbourhood: the services within `hops` calls of it (either way, any mode) and the calls
    /// between them, each id once, sorted. Empty for an unknown service.
    pub fn neighbourhood(&self, id: &str, hops: u32) -> (Vec<ServiceId>, Vec<EdgeId>) {
        let Some(start) = self.service(id) else {
            return (Vec::new(), Vec::new());
        };
        let mut services = std::collections::BTreeSet::from([start.id.clone()]);
        let mut ring = vec![start.id.clone()];
        for _ in 0..hops {
            let mut next = Vec::new();
            for at in &ring {
                for edge in &self.edges {
                    let other = if edge.from == *at {
                        &edge.to
                    } else if edge.to == *at {
                        &edge.from
                    } else {
                        continue;
                    };
                    if services.insert(other.clone()) {
                        next.push(other.clone());
                    }
                }
            }
            ring = next;
        }
        let edges: std::collections::BTreeSet<EdgeId> = self
            .edges
            .iter()
            .filter(|e| services.contains(&e.from) && services.contains(&e.to))
            .map(|e| e.id.clone())
            .collect();
        (services.into_iter().collect(), edges.into_iter().collect())
    }

    /// The simulation settings in force (the file's, or the defaults).
    pub fn simulation_settings(&self) -> SimulationSettings {
        self.simulation.unwrap_or_default()
    }

    /// Gives every edge without an id its default `"<from>-<to>"` id. Loading calls this before validation.
    pub fn fill_default_ids(&mut self) {
        for edge in &mut self.edges {
            if edge.id.as_str().is_empty() {
                edge.id = Edge::default_id(&edge.from, &edge.to);
            }
        }
    }
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}
fn is_zero(value: &f64) -> bool {
    *value == 0.0
}
fn one() -> f64 {
    1.0
}
fn is_one(value: &f64) -> bool {
    *value == 1.0
}
fn yes() -> bool {
    true
}
fn is_true(value: &bool) -> bool {
    *value
}

/// A number written the way people write it: `100`, not `100.0`, when it is whole.
struct Number(f64);

/// Largest magnitude below which every whole `f64` is exactly an integer (2^53).
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value = self.0;
        if value.fract() == 0.0 && value.abs() < EXACT_INTEGER_LIMIT {
            // Exact: the value is whole and within the range where f64 holds integers exactly.
            serializer.serialize_i64(value as i64)
        } else {
            serializer.serialize_f64(value)
        }
    }
}

fn write_number<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    Number(*value).serialize(serializer)
}

/// A canvas coordinate: whole numbers as integers, others in f32's shortest form (`0.1`, not `0.10000000149`).
struct Coordinate(f32);

impl Serialize for Coordinate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.fract() == 0.0 && self.0.abs() < 16_777_216.0 {
            // Exact: a whole f32 below 2^24 is exactly an integer.
            serializer.serialize_i64(self.0 as i64)
        } else {
            serializer.serialize_f32(self.0)
        }
    }
}

fn write_position<S: Serializer>(
    value: &Option<[f32; 2]>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    value
        .map(|[x, y]| [Coordinate(x), Coordinate(y)])
        .serialize(serializer)
}

fn write_opt_number<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    value.map(Number).serialize(serializer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_written_without_a_fraction() {
        let json = serde_json::to_string(&Distribution::Exponential { mean_ms: 10.0 }).unwrap();
        assert_eq!(json, r#"{"dist":"exponential","mean_ms":10}"#);
        let json = serde_json::to_string(&Distribution::Constant { ms: 2.5 }).unwrap();
        assert_eq!(json, r#"{"dist":"constant","ms":2.5}"#);
    }

    #[test]
    fn lognormal_moments_follow_median_and_p99() {
        let d = Distribution::Lognormal {
            median_ms: 10.0,
            p99_ms: 80.0,
        };
        let sigma = (8f64).ln() / Z_P99;
        assert!((d.mean_ms() - 10.0 * (sigma * sigma / 2.0).exp()).abs() < 1e-9);
        assert_eq!(d.p99_ms(), 80.0);
    }

    #[test]
    fn pattern_steps_change_the_rate() {
        let mut flow = Flow::new("f", "a", 10.0);
        flow.pattern = Some(vec![
            RateStep {
                at_s: 10.0,
                rate_rps: 100.0,
            },
            RateStep {
                at_s: 20.0,
                rate_rps: 10.0,
            },
        ]);
        assert_eq!(flow.rate_at(5.0), 10.0);
        assert_eq!(flow.rate_at(10.0), 100.0);
        assert_eq!(flow.rate_at(25.0), 10.0);
        assert!((flow.mean_rate_over(30.0) - 40.0).abs() < 1e-9);
    }

    #[test]
    fn switching_a_call_s_mode_drops_what_only_the_other_mode_may_have() {
        let mut call = Edge::new("a", "b", CallMode::Sync);
        call.protocol = Some(Protocol::Grpc);
        call.timeout_ms = Some(500.0);
        call.retry = Some(RetryPolicy {
            max_retries: 2,
            backoff_ms: 50.0,
            per_try_timeout_ms: Some(100.0),
        });
        call.circuit_breaker = Some(CircuitBreaker::default());
        call.max_in_flight = Some(10);
        call.set_mode(CallMode::Async);
        assert_eq!(
            (call.mode, call.protocol, call.timeout_ms),
            (CallMode::Async, None, None)
        );
        assert_eq!(
            (call.retry, call.circuit_breaker, call.max_in_flight),
            (None, None, None),
            "an async call has no retries, breaker or bulkhead"
        );
        call.topic = Some("t".to_owned());
        call.protocol = Some(Protocol::Kafka);
        call.set_mode(CallMode::Async);
        assert_eq!(
            call.protocol,
            Some(Protocol::Kafka),
            "the same mode changes nothing"
        );
        call.set_mode(CallMode::Sync);
        assert_eq!(
            (call.mode, call.protocol, call.topic),
            (CallMode::Sync, None, None)
        );
    }

    #[test]
    fn backoff_doubles() {
        let retry = RetryPolicy {
            max_retries: 3,
            backoff_ms: 50.0,
            per_try_timeout_ms: None,
        };
        assert_eq!(retry.backoff_before_retry_ms(1), 50.0);
        assert_eq!(retry.backoff_before_retry_ms(3), 200.0);
        assert_eq!(retry.total_backoff_ms(), 350.0);
    }
}
