//! Import: pure converters from what users already run (docker-compose files, Kubernetes manifests, distributed
//! traces in Zipkin, Jaeger or OTLP JSON) to a design, plus a list of what each guessed or skipped, so the user
//! knows what to check. Every importer ends with the automatic layered layout, so the result opens tidy.
//!
//! Input is untrusted: every problem is an [`ImportError`] that prints as one line; nothing panics. `docs/import.md`
//! says what each importer reads and what it guesses.

pub mod compose;
pub mod kubernetes;
mod traces;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::model::ids::slugify_service_id;
use crate::model::{CallMode, Design, Edge, EdgeId, Protocol, Service, ServiceId, ServiceKind};

/// Largest input an importer reads: far above real compose files, manifests and trace exports, and low enough
/// that a stray huge file fails at once instead of filling memory.
pub const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;

/// What kind of input to import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// A docker-compose file (v2, v3 or the compose spec).
    Compose,
    /// Kubernetes manifests (multi-document YAML).
    Kubernetes,
    /// Zipkin v2 JSON spans.
    Zipkin,
    /// Jaeger JSON (the query API and UI export format).
    Jaeger,
    /// OTLP/JSON traces.
    Otlp,
}

impl Source {
    /// Every source.
    pub const ALL: [Source; 5] = [
        Source::Compose,
        Source::Kubernetes,
        Source::Zipkin,
        Source::Jaeger,
        Source::Otlp,
    ];

    /// The source's name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Compose => "compose",
            Source::Kubernetes => "kubernetes",
            Source::Zipkin => "zipkin",
            Source::Jaeger => "jaeger",
            Source::Otlp => "otlp",
        }
    }
}

/// A design made from an input, with what the importer had to guess or leave out.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The design, valid and laid out.
    pub design: Design,
    /// What was guessed or skipped, in the order met; shown to the user.
    pub notes: Vec<Note>,
}

/// One thing the importer guessed or skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Guessed or skipped.
    pub kind: NoteKind,
    /// What, in one line.
    pub message: String,
}

/// Whether a note is a guess or something left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// The importer chose a value the input does not state.
    Guessed,
    /// The importer left something out.
    Skipped,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            NoteKind::Guessed => "guessed",
            NoteKind::Skipped => "skipped",
        };
        write!(f, "{kind}: {}", self.message)
    }
}

/// Why an input could not be imported; prints as one line naming the input and, where known, the place in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// The input's name (its path).
    pub source: String,
    /// What is wrong, and where.
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Messages may quote the input: keep the error on one line whatever it holds.
        let message: String = self
            .message
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        write!(f, "{}: {message}", self.source)
    }
}

impl std::error::Error for ImportError {}

/// Imports `text` (the content of the input named `source_name`) as a design.
pub fn import(source: Source, text: &str, source_name: &str) -> Result<Imported, ImportError> {
    let fail = |message: String| ImportError {
        source: source_name.to_owned(),
        message,
    };
    if text.len() > MAX_INPUT_BYTES {
        return Err(fail(format!(
            "the input is {} MiB; at most {} MiB can be imported",
            text.len() / (1024 * 1024),
            MAX_INPUT_BYTES / (1024 * 1024)
        )));
    }
    let name = design_name(source_name);
    let builder = match source {
        Source::Compose => compose::import(text, &name),
        Source::Kubernetes => kubernetes::import(text, &name),
        Source::Zipkin => traces::import_zipkin(text, &name),
        Source::Jaeger => traces::import_jaeger(text, &name),
        Source::Otlp => traces::import_otlp(text, &name),
    }
    .map_err(fail)?;
    builder.finish().map_err(fail)
}

/// Reads a file and imports it; the error names the file.
pub fn import_file(source: Source, path: &std::path::Path) -> Result<Imported, ImportError> {
    let name = path.display().to_string();
    let fail = |message: String| ImportError {
        source: name.clone(),
        message,
    };
    let size = std::fs::metadata(path)
        .map_err(|e| fail(format!("cannot read the file: {e}")))?
        .len();
    if size > MAX_INPUT_BYTES as u64 {
        return Err(fail(format!(
            "the file is {} MiB; at most {} MiB can be imported",
            size / (1024 * 1024),
            MAX_INPUT_BYTES / (1024 * 1024)
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read the file: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        fail(format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    import(source, &text, &name)
}

/// A design's name from its input's file name: `shop.docker-compose.yml` becomes `shop`.
fn design_name(source_name: &str) -> String {
    let file = source_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(source_name);
    let stem = file.split('.').next().unwrap_or(file);
    if stem.is_empty() {
        "Imported design".to_owned()
    } else {
        format!("Imported from {file}")
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Building a design from what an importer finds.

/// Collects services, calls and notes, then makes a valid, laid-out design of them.
pub(crate) struct Builder {
    name: String,
    services: Vec<Service>,
    /// Input name (compose key, Kubernetes name, trace service name) -> service id.
    ids: BTreeMap<String, ServiceId>,
    edges: Vec<Edge>,
    edge_keys: BTreeSet<(ServiceId, ServiceId, CallMode)>,
    pub(crate) flows: Vec<crate::model::Flow>,
    notes: Vec<Note>,
    /// Services the input says serve gRPC, with what says so.
    grpc: BTreeMap<ServiceId, String>,
    /// Each service's group as the input says it, and whether Syncopate's own export said it (exact).
    groups: BTreeMap<ServiceId, (String, bool)>,
}

impl Builder {
    pub(crate) fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            services: Vec::new(),
            ids: BTreeMap::new(),
            edges: Vec::new(),
            edge_keys: BTreeSet::new(),
            flows: Vec::new(),
            notes: Vec::new(),
            grpc: BTreeMap::new(),
            groups: BTreeMap::new(),
        }
    }

    /// Notes a service's group (`exact` when Syncopate's own export wrote it; `from` says where it was read, for
    /// the note when it is not kept). Names that are no group name are left out.
    pub(crate) fn group(&mut self, service: &ServiceId, group: String, exact: bool, from: &str) {
        if crate::model::validate::group_problem(&group).is_none() {
            self.groups.insert(service.clone(), (group, exact));
        } else {
            self.skipped(format!(
                "{service}: {from} \"{group}\" cannot be a group name"
            ));
        }
    }

    /// Gives the services their groups, unless one group would hold every service (one box around everything
    /// says nothing) and Syncopate's export did not write it.
    fn apply_groups(&mut self) {
        let groups = std::mem::take(&mut self.groups);
        let distinct: BTreeSet<&str> = groups.values().map(|(g, _)| g.as_str()).collect();
        if groups.len() == self.services.len()
            && distinct.len() == 1
            && groups.values().all(|(_, exact)| !exact)
        {
            if let Some(group) = distinct.first() {
                self.skipped(format!(
                    "every service is in \"{group}\": not made a group (one box around everything)"
                ));
            }
            return;
        }
        for service in &mut self.services {
            if let Some((group, _)) = groups.get(&service.id) {
                service.group = Some(group.clone());
            }
        }
    }

    /// Notes that the input says `service` serves gRPC (`why`: a port's name, a gRPC probe…): its synchronous HTTP
    /// calls become gRPC when the design is finished.
    pub(crate) fn serves_grpc(&mut self, service: &ServiceId, why: String) {
        self.grpc.entry(service.clone()).or_insert(why);
    }

    pub(crate) fn guessed(&mut self, message: impl Into<String>) {
        self.notes.push(Note {
            kind: NoteKind::Guessed,
            message: message.into(),
        });
    }

    pub(crate) fn skipped(&mut self, message: impl Into<String>) {
        self.notes.push(Note {
            kind: NoteKind::Skipped,
            message: message.into(),
        });
    }

    /// The service an input name stands for, if it was added.
    pub(crate) fn id_of(&self, name: &str) -> Option<&ServiceId> {
        self.ids.get(name)
    }

    pub(crate) fn service_mut(&mut self, id: &ServiceId) -> Option<&mut Service> {
        self.services.iter_mut().find(|s| &s.id == id)
    }

    pub(crate) fn service(&self, id: &ServiceId) -> Option<&Service> {
        self.services.iter().find(|s| &s.id == id)
    }

    /// Adds a service for an input name (once; later calls return the same id). Names that are not valid ids are
    /// turned into one, with a note.
    pub(crate) fn add_service(&mut self, name: &str) -> ServiceId {
        if let Some(id) = self.ids.get(name) {
            return id.clone();
        }
        let base = slugify_service_id(name);
        let mut id = base.clone();
        let mut n = 2;
        while self.services.iter().any(|s| s.id.as_str() == id) {
            let suffix = format!("-{n}");
            let keep = base
                .len()
                .min(crate::model::ids::MAX_SERVICE_ID_LEN - suffix.len());
            id = format!("{}{suffix}", base[..keep].trim_end_matches('-'));
            n += 1;
        }
        if id != name {
            self.guessed(format!(
                "\"{name}\" is not a valid service id; it became \"{id}\""
            ));
        }
        let mut service = Service::new(id.clone());
        if id != name {
            service.name = Some(name.to_owned());
        }
        let id = service.id.clone();
        self.services.push(service);
        self.ids.insert(name.to_owned(), id.clone());
        id
    }

    /// What a service is: the kind Syncopate's own export labelled it with, else what its image says, else what its
    /// name says (`user-db`), else a plain service; guesses are noted. Also the protocol of a broker's image.
    pub(crate) fn classify(
        &mut self,
        name: &str,
        label: Option<&str>,
        image: Option<&str>,
    ) -> (ServiceKind, Option<Protocol>) {
        let from_image = image.and_then(kind_from_image);
        if let Some(kind) = label.and_then(kind_from_label) {
            return (kind, from_image.and_then(|k| k.1));
        }
        if let Some((kind, protocol)) = from_image {
            self.guessed(format!(
                "{name} is a {} (from its image {})",
                kind.as_str(),
                image.unwrap_or_default()
            ));
            return (kind, protocol);
        }
        match kind_from_name(name) {
            Some(kind) => {
                self.guessed(format!("{name} is a {} (from its name)", kind.as_str()));
                (kind, None)
            }
            None => (ServiceKind::Service, None),
        }
    }

    /// Adds a call (once per caller, callee and mode); returns whether it was new.
    pub(crate) fn add_edge(
        &mut self,
        from: &ServiceId,
        to: &ServiceId,
        mode: CallMode,
        protocol: Protocol,
    ) -> bool {
        if !self.edge_keys.insert((from.clone(), to.clone(), mode)) {
            return false;
        }
        let mut edge = Edge::new(from.as_str(), to.as_str(), mode);
        edge.protocol = Some(protocol);
        let mut id = Edge::default_id(from, to);
        if self.edges.iter().any(|e| e.id == id) {
            id = EdgeId::new(format!("{id}-{}", mode.as_str()));
        }
        edge.id = id;
        self.edges.push(edge);
        true
    }

    pub(crate) fn edge_mut(
        &mut self,
        from: &ServiceId,
        to: &ServiceId,
        mode: CallMode,
    ) -> Option<&mut Edge> {
        self.edges
            .iter_mut()
            .find(|e| &e.from == from && &e.to == to && e.mode == mode)
    }

    /// Rate of a proposed flow: a guess to edit, low enough for any design to carry.
    const PROPOSED_RATE_RPS: f64 = 10.0;

    /// When the input gave no flows (compose files and manifests never do), one per entry point: a service that
    /// nothing calls and that calls others (a gateway, a frontend, a load generator), so the import can be
    /// simulated at once; each is noted as guessed.
    fn propose_flows(&mut self) {
        if !self.flows.is_empty() {
            return;
        }
        let entries: Vec<ServiceId> = self
            .services
            .iter()
            .filter(|s| !matches!(s.kind, ServiceKind::Broker | ServiceKind::Database))
            .filter(|s| !self.edges.iter().any(|e| e.to == s.id))
            .filter(|s| self.edges.iter().any(|e| e.from == s.id))
            .map(|s| s.id.clone())
            .collect();
        for entry in entries {
            self.flows.push(crate::model::Flow::new(
                entry.as_str(),
                entry.as_str(),
                Self::PROPOSED_RATE_RPS,
            ));
            self.guessed(format!(
                "flow {entry}: requests enter at {entry}, which nothing here calls and which calls others, at {} \
                 requests/s (a guess: set the real rate)",
                Self::PROPOSED_RATE_RPS
            ));
        }
    }

    /// The design: services sorted by id, calls by id, laid out, and checked.
    fn finish(mut self) -> Result<Imported, String> {
        for (service, why) in std::mem::take(&mut self.grpc) {
            let mut changed = 0;
            for edge in self.edges.iter_mut().filter(|e| {
                e.to == service && e.mode == CallMode::Sync && e.protocol == Some(Protocol::Http)
            }) {
                edge.protocol = Some(Protocol::Grpc);
                changed += 1;
            }
            if changed > 0 {
                self.guessed(format!("calls to {service} are gRPC: {why}"));
            }
        }
        self.apply_groups();
        self.services.sort_by(|a, b| a.id.cmp(&b.id));
        self.edges.sort_by(|a, b| a.id.cmp(&b.id));
        self.propose_flows();
        let mut design = Design {
            name: self.name,
            services: self.services,
            edges: self.edges,
            flows: self.flows,
            ..Design::default()
        };
        if design.services.is_empty() {
            return Err("found no services to import".to_owned());
        }
        // A name made a broker or database id too long for a StatefulSet (known only once its kind is): cut it.
        let too_long: Vec<(ServiceId, ServiceKind)> = design
            .services
            .iter()
            .filter(|s| s.id.as_str().len() > crate::model::ids::max_service_id_len(s.kind))
            .map(|s| (s.id.clone(), s.kind))
            .collect();
        for (old, kind) in too_long {
            let new = design.free_service_id_for(kind, old.as_str());
            design.rename_service(&old, &new);
            self.notes.push(Note {
                kind: NoteKind::Guessed,
                message: format!(
                    "\"{old}\" is too long for the id of a {} (a StatefulSet name holds at most {} \
                     characters); it became \"{new}\"",
                    kind.as_str(),
                    crate::model::ids::MAX_STATEFUL_SERVICE_ID_LEN
                ),
            });
        }
        // Renamed ids and the calls' default ids that follow them keep the order.
        design.services.sort_by(|a, b| a.id.cmp(&b.id));
        design.edges.sort_by(|a, b| a.id.cmp(&b.id));
        crate::model::layout::tidy_layout(&mut design);
        if let Some(problem) = crate::model::validate(&design).first() {
            // The importers only make values validation accepts; this guards against a missed case.
            return Err(format!(
                "the imported design is not valid at {}: {}",
                problem.path, problem.message
            ));
        }
        Ok(Imported {
            design,
            notes: self.notes,
        })
    }
}

// ---------------------------------------------------------------------------------------------------------------
// What an image or a name says a service is.

/// What a container image (or, failing that, a service name) suggests a service is, and the messaging protocol of
/// a broker.
pub(crate) fn kind_from_image(image: &str) -> Option<(ServiceKind, Option<Protocol>)> {
    let name = image
        .rsplit('/')
        .next()
        .unwrap_or(image)
        .split([':', '@'])
        .next()
        .unwrap_or(image)
        .to_ascii_lowercase();
    let has = |word: &str| name.contains(word);
    if has("rabbitmq") || has("activemq") || has("artemis") {
        Some((ServiceKind::Broker, Some(Protocol::Amqp)))
    } else if has("kafka") || has("redpanda") {
        Some((ServiceKind::Broker, Some(Protocol::Kafka)))
    } else if has("nats") {
        Some((ServiceKind::Broker, Some(Protocol::Nats)))
    } else if has("elasticmq") || has("sqs") {
        Some((ServiceKind::Broker, Some(Protocol::Sqs)))
    } else if [
        "postgres",
        "mysql",
        "mariadb",
        "mongo",
        "redis",
        "cassandra",
        "memcached",
        "couchdb",
        "cockroach",
        "scylla",
        "dynamodb",
        "valkey",
    ]
    .iter()
    .any(|db| has(db))
    {
        Some((ServiceKind::Database, None))
    } else if [
        "nginx",
        "envoy",
        "traefik",
        "haproxy",
        "kong",
        "openresty",
        "gateway",
    ]
    .iter()
    .any(|gw| has(gw))
    {
        Some((ServiceKind::Gateway, None))
    } else {
        None
    }
}

/// A database by its name alone (`user-db`, `orders-mongodb`): a weaker hint than the image.
pub(crate) fn kind_from_name(name: &str) -> Option<ServiceKind> {
    let name = name.to_ascii_lowercase();
    (name.ends_with("db") || name.ends_with("-database")).then_some(ServiceKind::Database)
}

/// Parses a service kind as Syncopate's own exports label it.
pub(crate) fn kind_from_label(text: &str) -> Option<ServiceKind> {
    ServiceKind::ALL.into_iter().find(|k| k.as_str() == text)
}

/// How a caller talks to a callee of a kind: async with its protocol into a broker, TCP into a database, HTTP
/// otherwise (a guess the importer notes).
pub(crate) fn call_style(
    callee: &Service,
    broker_protocol: Option<Protocol>,
) -> (CallMode, Protocol) {
    match callee.kind {
        ServiceKind::Broker => (CallMode::Async, broker_protocol.unwrap_or(Protocol::Amqp)),
        ServiceKind::Database => (CallMode::Sync, Protocol::Tcp),
        _ => (CallMode::Sync, Protocol::Http),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Addresses in environment variables.

/// Variable name endings that hold a bare host name.
const ADDRESS_KEY_ENDINGS: [&str; 8] = [
    "_ADDR",
    "_ADDRESS",
    "_HOST",
    "_HOSTNAME",
    "_URL",
    "_URI",
    "_SERVER",
    "_SERVERS",
];

/// Whether an environment variable name says its value is an address.
pub(crate) fn is_address_key(key: &str) -> bool {
    let key = key.to_ascii_uppercase();
    ADDRESS_KEY_ENDINGS.iter().any(|end| key.ends_with(end))
}

/// The service an address variable is named after, for a value that points at a proxy (a sidecar listening on
/// loopback, or one of `proxies` by name, as in Syncopate's compose export): `ORDER_API_ADDR=127.0.0.1:15001`
/// stands for `order-api`.
pub(crate) fn sidecar_target(key: &str, host: &str, proxies: &[String]) -> Option<String> {
    if !matches!(host, "127.0.0.1" | "localhost" | "::1")
        && !proxies.iter().any(|p| p.eq_ignore_ascii_case(host))
    {
        return None;
    }
    let upper = key.to_ascii_uppercase();
    let stem = ADDRESS_KEY_ENDINGS
        .iter()
        .find_map(|end| upper.strip_suffix(end))?;
    (!stem.is_empty()).then(|| stem.to_ascii_lowercase().replace('_', "-"))
}

/// How an input refers from one service to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reference {
    /// `depends_on` or `links`: start-up order, read as a call unless the same service is a subscription.
    Declared,
    /// An address variable: a call to the service it names.
    Address,
    /// An address variable that tells a consumer where the broker it reads from is: the broker delivers to it.
    Subscription,
}

impl Reference {
    /// What an address variable is, by its name: Syncopate's exports name a consumer's broker address
    /// `<BROKER>_SUBSCRIBE_ADDR`; other systems often say CONSUMER or SUBSCRIBE.
    pub(crate) fn of_variable(key: &str) -> Self {
        let key = key.to_ascii_uppercase();
        if key.contains("SUBSCRIBE") || key.contains("CONSUMER") {
            Reference::Subscription
        } else {
            Reference::Address
        }
    }
}

/// The host names an environment value refers to: URL hosts, the hosts of `host:port` pairs, and, when the
/// variable's name says it is an address, bare host names. Lists separated by commas or spaces give several.
pub(crate) fn hosts_in_value(key: &str, value: &str) -> Vec<String> {
    let address_key = is_address_key(key);
    let mut hosts = Vec::new();
    for token in value
        .split([',', ' ', ';'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let (rest, is_url) = match token.split_once("://") {
            Some((_, rest)) => (rest, true),
            None => (token, false),
        };
        // Drop a path and credentials.
        let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        let has_port = port.is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        if is_url || has_port || (address_key && port.is_none()) {
            let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
            if !host.is_empty() {
                hosts.push(host);
            }
        }
    }
    hosts
}

/// The service a host name stands for among `known` names: the name itself, or the first label of a cluster DNS
/// name (`orders.shop.svc.cluster.local`, `orders.shop.svc`, `orders.shop`).
pub(crate) fn resolve_host<'a>(
    host: &str,
    known: &'a BTreeMap<String, ServiceId>,
) -> Option<&'a ServiceId> {
    if let Some(id) = known.get(host) {
        return Some(id);
    }
    let mut labels = host.split('.');
    let first = labels.next()?;
    let rest: Vec<&str> = labels.collect();
    let cluster_name = matches!(
        rest.as_slice(),
        [_namespace] | [_namespace, "svc"] | [_namespace, "svc", "cluster", "local"]
    );
    if cluster_name { known.get(first) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_come_from_urls_pairs_and_address_variables() {
        assert_eq!(hosts_in_value("MONGO_HOST", "user-db:27017"), ["user-db"]);
        assert_eq!(hosts_in_value("mongo", "user-db:27017"), ["user-db"]);
        assert_eq!(
            hosts_in_value("CATALOG_URL", "http://catalog/api"),
            ["catalog"]
        );
        assert_eq!(
            hosts_in_value("DB", "postgres://u:p@orders-db:5432/orders"),
            ["orders-db"]
        );
        assert_eq!(hosts_in_value("CART_ADDR", "cart"), ["cart"]);
        assert_eq!(hosts_in_value("BROKERS", "k1:9092,k2:9092"), ["k1", "k2"]);
        assert!(hosts_in_value("MODE", "cart").is_empty());
        assert!(hosts_in_value("JAVA_OPTS", "-Dx=file:/dev/urandom").is_empty());
    }

    #[test]
    fn cluster_dns_names_resolve_to_their_service() {
        let known = BTreeMap::from([("orders".to_owned(), ServiceId::new("orders"))]);
        for host in [
            "orders",
            "orders.shop",
            "orders.shop.svc",
            "orders.shop.svc.cluster.local",
        ] {
            assert_eq!(
                resolve_host(host, &known).map(|s| s.as_str()),
                Some("orders"),
                "{host}"
            );
        }
        assert!(resolve_host("orders.example.com.x", &known).is_none());
        assert!(resolve_host("zipkin.jaeger.svc.cluster.local", &known).is_none());
    }

    #[test]
    fn images_say_what_a_service_is() {
        assert_eq!(
            kind_from_image("rabbitmq:3.6.8").map(|k| k.0),
            Some(ServiceKind::Broker)
        );
        assert_eq!(
            kind_from_image("confluentinc/cp-kafka:7").map(|k| k.1),
            Some(Some(Protocol::Kafka))
        );
        assert_eq!(
            kind_from_image("mongo:3.4").map(|k| k.0),
            Some(ServiceKind::Database)
        );
        assert_eq!(kind_from_image("weaveworksdemos/carts:0.4.8"), None);
    }
}
