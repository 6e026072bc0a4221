//! Async calls through a real RabbitMQ: a node of the emulator's own on loopback (fresh data folder, its own port
//! mapper), booted with every broker's exported definitions, each broker in a virtual host of its name. Every
//! async protocol of the design (AMQP, Kafka, SQS, NATS) is carried by it: a broker is its direct exchange, each
//! consumer its queue. A producer publishes to the broker's exchange with the call's topic as routing key; each
//! consumer replica takes messages with as many unacknowledged as it has workers, acknowledges them when their
//! work is done and rejects them (to the dead-letter queue) when it failed. An async call straight to a service (no
//! broker in between) goes through a queue of the consumer's name in the virtual host `direct`, declared like the
//! exporter's consumer queues.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use amqprs::BasicProperties;
use amqprs::channel::{
    BasicAckArguments, BasicConsumeArguments, BasicPublishArguments, BasicQosArguments,
    BasicRejectArguments, Channel,
};
use amqprs::connection::{Connection, OpenConnectionArguments};
use serde_json::{Value, json};

use super::process::{Children, find_program, free_port};
use super::stats::{bump, record};
use super::world::World;
use super::{EmulateError, server};
use crate::model::{CallMode, Design, ServiceKind};

/// The virtual host of async calls made straight to a service.
const DIRECT_VHOST: &str = "direct";

/// The password hash of the user `guest` with password `guest` (RabbitMQ's SHA-256 scheme: base64 of a 4-byte
/// salt and SHA-256(salt + password)): a node booted from definitions seeds no default user. Loopback only.
const GUEST_PASSWORD_HASH: &str = "kI3GCrswBLNZQzHJJ95QLoyfAVooYhnvf7jbqiW9BjOYUloe";

/// The programs RabbitMQ needs, found before anything starts.
pub(crate) struct Programs {
    server: PathBuf,
    epmd: PathBuf,
}

/// Where RabbitMQ is on this machine, or how to install it.
pub(crate) fn programs() -> Result<Programs, EmulateError> {
    let server = find_program(
        "SYNCOPATE_RABBITMQ_SERVER",
        &["rabbitmq-server"],
        // Debian's /usr/sbin/rabbitmq-server is a wrapper that switches to the `rabbitmq` user, who cannot use
        // the emulator's folder; the script it wraps runs the node as the caller.
        &[
            "/usr/lib/rabbitmq/bin",
            "/opt/homebrew/sbin",
            "/usr/local/sbin",
        ],
    );
    let epmd = find_program("SYNCOPATE_EPMD", &["epmd"], &[]);
    match (server, epmd) {
        (Some(server), Some(epmd)) => Ok(Programs { server, epmd }),
        _ => Err(EmulateError::Refused(
            "the design has async calls, which run through RabbitMQ, but rabbitmq-server (with Erlang's epmd) \
             was not found: install it (Debian/Ubuntu: apt install rabbitmq-server; macOS: brew install \
             rabbitmq) or set SYNCOPATE_RABBITMQ_SERVER to its path"
                .to_owned(),
        )),
    }
}

/// Whether the design has async calls.
pub(crate) fn needed(design: &Design) -> bool {
    design.edges.iter().any(|e| e.mode == CallMode::Async)
}

/// Where a call's messages are published: virtual host, exchange, routing key.
#[derive(Debug, Clone)]
struct Route {
    vhost: String,
    exchange: String,
    routing_key: String,
}

/// Every broker's definitions, each in its virtual host, plus the queues of direct async calls: the file the node
/// boots with.
fn boot_definitions(design: &Design) -> Value {
    let mut vhosts = Vec::new();
    let mut exchanges = Vec::new();
    let mut queues = Vec::new();
    let mut bindings = Vec::new();
    let mut add = |vhost: &str, definitions: &Value| {
        vhosts.push(vhost.to_owned());
        for (list, into) in [
            ("exchanges", &mut exchanges),
            ("queues", &mut queues),
            ("bindings", &mut bindings),
        ] {
            for item in definitions[list].as_array().into_iter().flatten() {
                let mut item = item.clone();
                item["vhost"] = Value::from(vhost);
                into.push(item);
            }
        }
    };
    for broker in design
        .services
        .iter()
        .filter(|s| s.kind == ServiceKind::Broker)
    {
        add(
            broker.id.as_str(),
            &crate::export::rabbitmq::definitions_json(design, broker.id.as_str()),
        );
    }
    let mut direct: Vec<Value> = Vec::new();
    for consumer in direct_consumers(design) {
        let mut arguments = crate::export::rabbitmq::queue_limit(design, consumer);
        // As the export does for a broker's queues: a dead-letter policy is a delivery limit on a quorum queue,
        // here with the default exchange routing to `<consumer>.dlq`.
        let deliveries = design
            .edges
            .iter()
            .filter(|e| e.mode == CallMode::Async && e.to == consumer)
            .filter(|e| !is_broker(design, e.from.as_str()))
            .filter_map(|e| e.dead_letter.map(|d| d.after_deliveries))
            .max();
        if let Some(after) = deliveries {
            let dead_letter_queue = format!("{consumer}.dlq");
            crate::export::rabbitmq::delivery_limit(&mut arguments, after);
            arguments.insert("x-dead-letter-exchange".to_owned(), Value::from(""));
            arguments.insert(
                "x-dead-letter-routing-key".to_owned(),
                Value::from(dead_letter_queue.clone()),
            );
            direct.push(
                json!({"name": dead_letter_queue, "durable": true, "auto_delete": false,
                               "arguments": {"x-queue-type": "quorum"}}),
            );
        }
        direct.push(json!({"name": consumer, "durable": true, "auto_delete": false, "arguments": arguments}));
    }
    if !direct.is_empty() {
        add(DIRECT_VHOST, &json!({"queues": direct}));
    }
    json!({
        "users": [{"name": "guest", "password_hash": GUEST_PASSWORD_HASH,
                   "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]}],
        "vhosts": vhosts.iter().map(|v| json!({"name": v})).collect::<Vec<_>>(),
        "permissions": vhosts.iter().map(|v| json!({"user": "guest", "vhost": v,
            "configure": ".*", "write": ".*", "read": ".*"})).collect::<Vec<_>>(),
        "exchanges": exchanges,
        "queues": queues,
        "bindings": bindings,
    })
}

/// Services that receive async calls straight from a non-broker service.
fn direct_consumers(design: &Design) -> Vec<&str> {
    let mut consumers: Vec<&str> = design
        .edges
        .iter()
        .filter(|e| e.mode == CallMode::Async && !is_broker(design, e.from.as_str()))
        .filter(|e| !is_broker(design, e.to.as_str()))
        .map(|e| e.to.as_str())
        .collect();
    consumers.sort_unstable();
    consumers.dedup();
    consumers
}

fn is_broker(design: &Design, id: &str) -> bool {
    design
        .service(id)
        .is_some_and(|s| s.kind == ServiceKind::Broker)
}

/// A RabbitMQ node of the emulator's own.
pub(crate) struct Server {
    pub(crate) amqp_port: u16,
    _dir: tempfile::TempDir,
}

/// Boots a node with the design's definitions; waits until it accepts AMQP connections.
pub(crate) fn start(
    design: &Design,
    programs: &Programs,
    children: &mut Children,
) -> Result<Server, EmulateError> {
    let failed = |what: &str, e: &dyn std::fmt::Display| {
        EmulateError::Failed(format!("RabbitMQ: {what}: {e}"))
    };
    let dir = tempfile::tempdir().map_err(|e| failed("no temporary folder", &e))?;
    let d = dir.path();
    let (amqp, dist, epmd_port) = (free_port()?, free_port()?, free_port()?);
    let definitions = d.join("definitions.json");
    std::fs::write(&definitions, boot_definitions(design).to_string())
        .map_err(|e| failed("could not write its definitions", &e))?;
    std::fs::write(
        d.join("rabbitmq.conf"),
        format!(
            "listeners.tcp.1 = 127.0.0.1:{amqp}\nloopback_users = none\n\
             definitions.import_backend = local_filesystem\ndefinitions.local.path = {}\n",
            definitions.display()
        ),
    )
    .map_err(|e| failed("could not write its configuration", &e))?;
    std::fs::write(d.join("enabled_plugins"), "[].\n")
        .map_err(|e| failed("could not write its plugins file", &e))?;
    children.spawn(
        "epmd (Erlang's port mapper, for RabbitMQ)",
        Command::new(&programs.epmd)
            .args(["-address", "127.0.0.1", "-port", &epmd_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        false,
    )?;
    let output_path = d.join("server.out");
    let output = std::fs::File::create(&output_path).map_err(|e| failed("no output file", &e))?;
    children.spawn(
        "rabbitmq-server",
        Command::new(&programs.server)
            .env("HOME", d)
            .env(
                "RABBITMQ_NODENAME",
                format!("syncopate-emulate-{amqp}@localhost"),
            )
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_DIST_PORT", dist.to_string())
            .env("ERL_EPMD_ADDRESS", "127.0.0.1")
            .env("ERL_EPMD_PORT", epmd_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", d.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", d.join("log"))
            .env("RABBITMQ_CONFIG_FILE", d.join("rabbitmq"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", d.join("enabled_plugins"))
            // The server script then `exec`s the Erlang VM instead of waiting on it as a child: the VM is the
            // process we started, so it ends with the emulator even when the emulator is killed.
            .env("NOTIFY_SOCKET", d.join("no-systemd"))
            .stdin(Stdio::null())
            .stdout(Stdio::from(
                output
                    .try_clone()
                    .map_err(|e| failed("no output file", &e))?,
            ))
            .stderr(Stdio::from(output)),
        true,
    )?;
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", amqp)).is_err() {
        if let Some(exited) = children.exited() {
            return Err(EmulateError::Failed(format!(
                "{exited} while starting: {}",
                last_error(d)
            )));
        }
        if started.elapsed() > Duration::from_secs(120) {
            return Err(EmulateError::Failed(
                "RabbitMQ did not accept connections within 120 s".to_owned(),
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(Server {
        amqp_port: amqp,
        _dir: dir,
    })
}

impl Server {
    /// The node's folder (data, log), to remove once the node is stopped.
    pub(crate) fn into_dir(self) -> tempfile::TempDir {
        self._dir
    }
}

/// The last error lines of a node's output and logs (its folder is removed when the run ends), for the error
/// message.
fn last_error(folder: &std::path::Path) -> String {
    let log_files = std::fs::read_dir(folder.join("log"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path());
    let mut lines: Vec<String> = std::iter::once(folder.join("server.out"))
        .chain(log_files)
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .flat_map(|text| {
            text.lines()
                .filter(|l| {
                    let l = l.to_ascii_lowercase();
                    l.contains("error") || l.contains("failed")
                })
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    let keep = lines.len().saturating_sub(3);
    lines.drain(..keep);
    if lines.is_empty() {
        "it logged no error".to_owned()
    } else {
        lines.join(" | ")
    }
}

/// The emulator's AMQP side: a publishing channel per virtual host, and where each async call publishes.
pub(crate) struct Rabbit {
    /// Per virtual host, the channel messages are published on.
    publishers: HashMap<String, Channel>,
    /// Per edge, where its messages are published (`None` for sync calls and a broker's own deliveries).
    routes: Vec<Option<Route>>,
    /// Held open for the run: closing a connection would close its channels and stop its consumers.
    _connections: Vec<Connection>,
}

async fn connect(port: u16, vhost: &str) -> Result<Connection, EmulateError> {
    let mut arguments = OpenConnectionArguments::new("127.0.0.1", port, "guest", "guest");
    arguments.virtual_host(vhost);
    Connection::open(&arguments)
        .await
        .map_err(|e| EmulateError::Failed(format!("RabbitMQ: could not connect to {vhost}: {e}")))
}

/// The edge a message published on `published_edge` is delivered to `consumer` by: the broker's async call to the
/// consumer whose topic matches (or that has none), or the published call itself when it went straight there.
fn delivering_edge(design: &Design, published_edge: usize, consumer: &str) -> Option<usize> {
    let published = design.edges.get(published_edge)?;
    if published.to == consumer {
        return Some(published_edge);
    }
    design.edges.iter().position(|e| {
        e.from == published.to
            && e.to == consumer
            && e.mode == CallMode::Async
            && (e.topic.is_none() || e.topic == published.topic)
    })
}

impl Rabbit {
    /// Connects to the node: publishers for every virtual host, and consumers for every replica of every consumer.
    pub(crate) async fn connect(world: &Arc<World>, port: u16) -> Result<Self, EmulateError> {
        let design = &world.design;
        let routes: Vec<Option<Route>> = design
            .edges
            .iter()
            .map(|e| {
                if e.mode != CallMode::Async || is_broker(design, e.from.as_str()) {
                    return None;
                }
                Some(if is_broker(design, e.to.as_str()) {
                    Route {
                        vhost: e.to.to_string(),
                        exchange: e.to.to_string(),
                        routing_key: e.topic.clone().unwrap_or_default(),
                    }
                } else {
                    Route {
                        vhost: DIRECT_VHOST.to_owned(),
                        exchange: String::new(),
                        routing_key: e.to.to_string(),
                    }
                })
            })
            .collect();
        let mut connections = Vec::new();
        let mut publishers = HashMap::new();
        let vhosts: BTreeSet<&str> = routes.iter().flatten().map(|r| r.vhost.as_str()).collect();
        for vhost in vhosts {
            let connection = connect(port, vhost).await?;
            let channel = connection.open_channel(None).await.map_err(|e| {
                EmulateError::Failed(format!("RabbitMQ: no channel on {vhost}: {e}"))
            })?;
            publishers.insert(vhost.to_owned(), channel);
            connections.push(connection);
        }
        // Consumers: (virtual host, queue = consumer id) for each broker that delivers to it, and `direct`.
        let mut queues: BTreeSet<(String, usize)> = BTreeSet::new();
        for e in &design.edges {
            if e.mode != CallMode::Async || is_broker(design, e.to.as_str()) {
                continue;
            }
            let Some(consumer) = design.services.iter().position(|s| s.id == e.to) else {
                continue;
            };
            let vhost = if is_broker(design, e.from.as_str()) {
                e.from.to_string()
            } else {
                DIRECT_VHOST.to_owned()
            };
            queues.insert((vhost, consumer));
        }
        for (vhost, consumer) in queues {
            let connection = connect(port, &vhost).await?;
            for replica in &world.replicas[consumer] {
                let channel = connection.open_channel(None).await.map_err(|e| {
                    EmulateError::Failed(format!("RabbitMQ: no channel on {vhost}: {e}"))
                })?;
                let service = &design.services[consumer];
                let prefetch = u16::try_from(service.concurrency).unwrap_or(u16::MAX);
                channel
                    .basic_qos(BasicQosArguments::new(0, prefetch, false))
                    .await
                    .map_err(|e| EmulateError::Failed(format!("RabbitMQ: qos: {e}")))?;
                let queue = service.id.to_string();
                let (_, deliveries) = channel
                    .basic_consume_rx(BasicConsumeArguments::new(
                        &queue,
                        &format!("{queue}-{}", replica.index),
                    ))
                    .await
                    .map_err(|e| {
                        EmulateError::Failed(format!(
                            "RabbitMQ: cannot consume {queue} on {vhost}: {e}"
                        ))
                    })?;
                tokio::spawn(consume(world.clone(), replica.clone(), channel, deliveries));
            }
            connections.push(connection);
        }
        Ok(Self {
            publishers,
            routes,
            _connections: connections,
        })
    }

    /// Publishes a message of `flow` on async call `edge`; false when it could not be handed over.
    pub(crate) async fn publish(
        &self,
        world: &World,
        edge: usize,
        flow: usize,
        request: u64,
        now_ms: f64,
    ) -> bool {
        let Some(Some(route)) = self.routes.get(edge) else {
            return false;
        };
        let Some(channel) = self.publishers.get(&route.vhost) else {
            return false;
        };
        let body =
            json!({"flow": flow, "edge": edge, "sent_ms": now_ms, "request": request}).to_string();
        let sent = channel
            .basic_publish(
                BasicProperties::default(),
                body.into_bytes(),
                BasicPublishArguments::new(&route.exchange, &route.routing_key),
            )
            .await
            .is_ok();
        // The broker's own counts: a message that reached it arrived and was passed on.
        let broker = world.design.edges[edge].to.as_str();
        if sent
            && is_broker(&world.design, broker)
            && world.measuring(now_ms)
            && let Some(index) = world.service_index(broker)
        {
            bump(&world.stats.services[index].arrivals);
            bump(&world.stats.services[index].completed);
        }
        sent
    }
}

/// Takes a consumer replica's deliveries: each becomes a job (waiting for a worker if the replica's workers are
/// busy with sync calls too), acknowledged when its work succeeded and rejected otherwise. While the service is
/// down its messages wait in the queue.
async fn consume(
    world: Arc<World>,
    replica: Arc<super::world::Replica>,
    channel: Channel,
    mut deliveries: tokio::sync::mpsc::UnboundedReceiver<amqprs::channel::ConsumerMessage>,
) {
    let consumer = world.design.services[replica.service].id.to_string();
    while let Some(message) = deliveries.recv().await {
        // Quorum queues count deliveries: a message's n-th return to the queue carries x-delivery-count n.
        let delivery = 1 + message
            .basic_properties
            .as_ref()
            .and_then(|p| p.headers())
            .and_then(|h| {
                h.get(&amqprs::FieldName::try_from("x-delivery-count").ok()?)
                    .cloned()
            })
            .map_or(0, |count| match count {
                amqprs::FieldValue::l(n) => u64::try_from(n).unwrap_or(0),
                amqprs::FieldValue::I(n) => u64::try_from(n).unwrap_or(0),
                amqprs::FieldValue::i(n) => u64::from(n),
                amqprs::FieldValue::s(n) => u64::try_from(n).unwrap_or(0),
                amqprs::FieldValue::u(n) => u64::from(n),
                amqprs::FieldValue::b(n) => u64::try_from(n).unwrap_or(0),
                amqprs::FieldValue::B(n) => u64::from(n),
                _ => 0,
            });
        let (Some(deliver), Some(content)) = (message.deliver, message.content) else {
            continue;
        };
        while world.is_down(replica.service, world.now_ms() / 1000.0) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let body: Value = serde_json::from_slice(&content).unwrap_or(Value::Null);
        let flow = body["flow"].as_u64().map(|f| f as usize);
        let published_edge = body["edge"].as_u64().map(|e| e as usize);
        let sent_ms = body["sent_ms"].as_f64();
        let request = body["request"].as_u64().unwrap_or(0);
        let tag = deliver.delivery_tag();
        let (Some(flow), Some(published_edge), Some(sent_ms)) = (flow, published_edge, sent_ms)
        else {
            let _ = channel
                .basic_reject(BasicRejectArguments::new(tag, false))
                .await;
            continue;
        };
        let now = world.now_ms();
        let delivering = delivering_edge(&world.design, published_edge, &consumer);
        // Deliveries a message gets before it is dead-lettered, when its call has a dead-letter queue.
        let dead_letter_after = delivering
            .and_then(|edge| world.design.edges[edge].dead_letter)
            .map(|d| u64::from(d.after_deliveries));
        if let Some(edge) = delivering
            && world.measuring(now)
        {
            let stats = &world.stats.edges[edge];
            if delivery > 1 {
                // A redelivery after a failed handling: an arrival again, not a new call.
                bump(&stats.redeliveries);
            } else {
                if let Some(lag) = &stats.lag {
                    record(lag, now - sent_ms);
                }
                // A broker's delivery is its call to the consumer; a direct call was counted when sent.
                if edge != published_edge {
                    bump(&stats.calls);
                }
            }
        }
        replica.enter();
        if world.measuring(now) {
            bump(&world.stats.services[replica.service].arrivals);
        }
        let (world, replica, channel) = (world.clone(), replica.clone(), channel.clone());
        tokio::spawn(async move {
            let answer =
                server::work(world.clone(), replica, (flow, request), (now, 0.0), None).await;
            let _ = if answer == super::wire::Answer::Ok {
                world.requests.release(request, 1, true);
                channel.basic_ack(BasicAckArguments::new(tag, false)).await
            } else {
                // The message is done with, unless RabbitMQ delivers it again (a dead-letter policy and deliveries
                // left): then it still holds its count on the request.
                let again = dead_letter_after.is_some_and(|after| delivery < after);
                if !again {
                    world.requests.release(request, 1, false);
                }
                // With a dead-letter policy the message goes back for another delivery; RabbitMQ dead-letters it
                // when this was its last (the queue's x-delivery-limit). Without one it is dead-lettered at once.
                if let (Some(after), Some(edge)) = (dead_letter_after, delivering)
                    && delivery >= after
                    && world.measuring(world.now_ms())
                {
                    bump(&world.stats.edges[edge].dead_lettered);
                }
                channel
                    .basic_reject(BasicRejectArguments::new(tag, dead_letter_after.is_some()))
                    .await
            };
        });
    }
}
