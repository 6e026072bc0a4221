//! The emulator: a design run for real on this machine. Every replica is a network server on loopback, calls are
//! real HTTP/1.1 and gRPC requests, async calls go through a real RabbitMQ booted with the exported definitions,
//! and with `--through envoy` every caller's calls go through its exported Envoy bootstrap. Its report has the
//! shape of the simulator's, so the two can be held side by side (`compare`). See docs/emulation.md.
//!
//! This is a runtime shell like the app (tokio, hyper, amqprs, child processes); the core never imports it.

mod api;
mod client;
pub mod compare;
mod envoy;
mod load;
mod polling;
mod process;
mod rabbit;
mod server;
mod stats;
mod tare;
mod timer;
mod wire;
mod world;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use self::process::Children;
use self::world::{Replica, World};
use crate::model::{Design, ServiceKind, SimulationSettings};
use crate::rules::BrokerWork;
use crate::sim::SimReport;

/// How callers' calls travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Through {
    /// The emulator's own client applies the design's policies (as the simulator does).
    Direct,
    /// Each caller's exported Envoy proxy applies them.
    Envoy,
}

impl Through {
    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Through::Direct => "direct",
            Through::Envoy => "envoy",
        }
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Duration, warm-up and seed of the run (as for the simulator).
    pub settings: SimulationSettings,
    /// Direct or through Envoy.
    pub through: Through,
    /// The most listening sockets the run may open (replicas and proxies).
    pub max_listeners: usize,
    /// The most processes it may start (Envoys, RabbitMQ and its port mapper).
    pub max_processes: usize,
    /// `--serve`: keep the emulation up until stopped (not for the settings' duration) and serve the control API
    /// (`api`) on this loopback port (0: any free port; the progress says which, as `serving http://...`).
    pub serve_port: Option<u16>,
}

/// Default of [`Options::max_listeners`].
pub const DEFAULT_MAX_LISTENERS: usize = 2000;
/// Default of [`Options::max_processes`].
pub const DEFAULT_MAX_PROCESSES: usize = 64;

/// Why an emulation did not run or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum EmulateError {
    /// Refused before anything started (a missing program, over a limit, nothing to run).
    #[error("{0}")]
    Refused(String),
    /// Something failed while starting or running; everything started was stopped.
    #[error("{0}")]
    Failed(String),
}

/// Where a run is, for a progress line.
#[derive(Debug, Clone)]
pub struct Progress {
    /// What is happening ("starting RabbitMQ", "running").
    pub phase: String,
    /// Seconds of load sent so far.
    pub elapsed_s: f64,
    /// Seconds of load in all.
    pub total_s: f64,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct Emulated {
    /// Measured like the simulator's report (fields the real run cannot measure are left at zero here and written
    /// as `null` by [`report_json`]).
    pub report: SimReport,
    /// How calls travelled.
    pub through: Through,
    /// Direct: the mean loopback transit per call that callees absorbed (see `tare`); `None` through Envoy or
    /// without direct calls.
    pub absorbed_per_call_ms: Option<f64>,
}

/// What a direct run absorbed of the machine's loopback per call, said beside its report.
pub fn absorbed_note(ms: f64) -> String {
    format!(
        "Loopback transit absorbed by the callees: {ms:.3} ms per call (this machine's, not the design's)"
    )
}

/// Checks what the run needs before anything starts: flows to drive, the programs, and the limits.
pub fn preflight(design: &Design, options: &Options) -> Result<(), EmulateError> {
    if design.flows.is_empty() {
        return Err(EmulateError::Refused(
            "the design has no flows: nothing would send requests (add a flow)".to_owned(),
        ));
    }
    let asked_of_brokers = crate::rules::work_asked_of_brokers(design);
    if !asked_of_brokers.is_empty() {
        let named: Vec<String> = asked_of_brokers
            .iter()
            .map(|work| match work {
                BrokerWork::FlowEntersAt(f) => {
                    format!(
                        "flow {:?} enters at broker {:?}",
                        f.id.as_str(),
                        f.entry.as_str()
                    )
                }
                BrokerWork::CalledSync(e) => {
                    format!(
                        "call {:?} is a sync call to broker {:?}",
                        e.id.as_str(),
                        e.to.as_str()
                    )
                }
                BrokerWork::CallsSync(e) => {
                    format!(
                        "call {:?} is a sync call from broker {:?}",
                        e.id.as_str(),
                        e.from.as_str()
                    )
                }
            })
            .collect();
        // Only the advice that fits what was found: a flow to move, a call to make async, or both.
        let flows_asked = asked_of_brokers
            .iter()
            .filter(|w| matches!(w, BrokerWork::FlowEntersAt(_)))
            .count();
        let advice = [
            (flows_asked > 0).then_some("let the flow enter at the service that publishes"),
            (flows_asked < asked_of_brokers.len())
                .then_some("make the call async (the broker-as-service warning's fix)"),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", and ");
        return Err(EmulateError::Refused(format!(
            "the emulator runs a broker as RabbitMQ, which forwards messages but takes no requests and makes no \
             sync calls, and {}: {advice} (the simulator runs the design as drawn)",
            crate::rules::list_names(&named)
        )));
    }
    let listeners: usize = design
        .services
        .iter()
        .filter(|s| s.kind != ServiceKind::Broker)
        .map(|s| s.replicas as usize)
        .sum();
    let proxies = if options.through == Through::Envoy {
        envoy::process_count(design)
    } else {
        0
    };
    let rabbit = rabbit::needed(design);
    let processes = proxies + if rabbit { 2 } else { 0 };
    // Each proxy has an admin listener and about one listener per call.
    let proxy_listeners = proxies * 2
        + if options.through == Through::Envoy {
            design.edges.len()
        } else {
            0
        };
    if listeners + proxy_listeners > options.max_listeners {
        return Err(EmulateError::Refused(format!(
            "the run would open {} listening sockets ({listeners} replicas and {proxy_listeners} proxy \
             listeners), over the limit of {} (--max-listeners)",
            listeners + proxy_listeners,
            options.max_listeners
        )));
    }
    if processes > options.max_processes {
        return Err(EmulateError::Refused(format!(
            "the run would start {processes} processes ({proxies} Envoys{}), over the limit of {} \
             (--max-processes)",
            if rabbit {
                ", RabbitMQ and its port mapper"
            } else {
                ""
            },
            options.max_processes
        )));
    }
    if proxies > 0 {
        envoy::program()?;
    }
    if rabbit {
        rabbit::programs()?;
    }
    Ok(())
}

/// Runs the design for real for the settings' duration, or until `stop` is set (then the report is partial).
/// Every process started is stopped and every port freed before this returns, on success and on error.
pub fn run(
    design: &Design,
    options: &Options,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Emulated, EmulateError> {
    preflight(design, options)?;
    process::raise_open_files_limit();
    let settings = options.settings;
    let mut children = Children::default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| EmulateError::Failed(format!("no async runtime: {e}")))?;
    let result = run_in(
        design,
        options,
        settings,
        &runtime,
        &mut children,
        stop,
        progress,
    );
    // Tasks first (servers, clients, consumers), then the processes.
    runtime.shutdown_timeout(Duration::from_millis(500));
    children.stop_all();
    result
}

fn run_in(
    design: &Design,
    options: &Options,
    settings: SimulationSettings,
    runtime: &tokio::runtime::Runtime,
    children: &mut Children,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Emulated, EmulateError> {
    let mut say = |phase: &str, elapsed_s: f64| {
        progress(&Progress {
            phase: phase.to_owned(),
            elapsed_s,
            total_s: settings.duration_s,
        });
    };
    say("starting the services", 0.0);
    // Every replica's listener, bound before anything else so its port is taken.
    let mut listeners = Vec::new();
    let mut replicas: Vec<Vec<Arc<Replica>>> = Vec::new();
    for (index, service) in design.services.iter().enumerate() {
        let mut of_service = Vec::new();
        if service.kind != ServiceKind::Broker {
            for r in 0..service.replicas as usize {
                let listener = runtime
                    .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                    .map_err(|e| EmulateError::Failed(format!("cannot listen on loopback: {e}")))?;
                let port = listener
                    .local_addr()
                    .map_err(|e| EmulateError::Failed(format!("no local address: {e}")))?
                    .port();
                let replica = Arc::new(Replica::new(
                    index,
                    r,
                    port,
                    service.concurrency,
                    service.queue_capacity,
                ));
                listeners.push((replica.clone(), listener));
                of_service.push(replica);
            }
        }
        replicas.push(of_service);
    }
    let replica_ports: Vec<Vec<u16>> = replicas
        .iter()
        .map(|rs| rs.iter().map(|r| r.port).collect())
        .collect();
    // Served, the faults come through the API (a chaos experiment injects the planned ones at its own times), so
    // the emulation does not also apply them on the design's clock.
    let mut run_design = design.clone();
    if options.serve_port.is_some() {
        run_design.faults.clear();
    }
    let world = Arc::new(World::new(run_design, settings, replicas));
    for (replica, listener) in listeners {
        runtime.spawn(server::serve(world.clone(), replica, listener));
    }
    let dir = tempfile::tempdir()
        .map_err(|e| EmulateError::Failed(format!("no temporary folder: {e}")))?;
    if rabbit::needed(design) {
        say("starting RabbitMQ", 0.0);
        let programs = rabbit::programs()?;
        let server = rabbit::start(design, &programs, children)?;
        let rabbit = runtime.block_on(rabbit::Rabbit::connect(&world, server.amqp_port))?;
        let _ = world.rabbit.set(rabbit);
        // The node's folder is removed once the node is stopped.
        children.keep(server.into_dir());
    }
    let proxies = if options.through == Through::Envoy && envoy::process_count(design) > 0 {
        say("starting Envoy", 0.0);
        let program = envoy::program()?;
        let proxies = envoy::start(design, &replica_ports, &program, children, dir.path())?;
        let _ = world.proxies.set(proxies.routes.clone());
        Some(proxies)
    } else {
        None
    };
    let serving = match options.serve_port {
        Some(port) => {
            let listener = runtime
                .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
                .map_err(|e| {
                    EmulateError::Failed(format!("cannot serve the API on 127.0.0.1:{port}: {e}"))
                })?;
            let bound = listener
                .local_addr()
                .map_err(|e| EmulateError::Failed(format!("no local address: {e}")))?;
            runtime.spawn(api::serve(
                world.clone(),
                listener,
                options.through,
                design.faults.clone(),
            ));
            Some(bound)
        }
        None => None,
    };
    // Served, the emulation runs until stopped.
    let end_s = if serving.is_some() {
        f64::INFINITY
    } else {
        settings.duration_s
    };
    world.start_clock();
    let started = Instant::now();
    runtime.spawn(load::apply_faults(world.clone()));
    for flow in 0..design.flows.len() {
        runtime.spawn(load::drive_flow(world.clone(), flow, end_s));
    }
    if let Some(bound) = serving {
        say(&format!("serving http://{bound}"), 0.0);
    }
    let mut baseline = None;
    let mut stopped = false;
    loop {
        let elapsed_s = started.elapsed().as_secs_f64();
        if elapsed_s >= end_s {
            break;
        }
        if stop.load(Ordering::SeqCst) {
            stopped = true;
            break;
        }
        if let Some(exited) = children.exited() {
            return Err(EmulateError::Failed(format!("{exited} during the run")));
        }
        if baseline.is_none() && elapsed_s >= settings.warmup_s {
            world.stats.restart_gauges(world.now_ms());
            baseline = Some(
                proxies
                    .as_ref()
                    .map(envoy::Proxies::counts)
                    .unwrap_or_default(),
            );
        }
        say("running", elapsed_s);
        let left = end_s - elapsed_s;
        std::thread::sleep(Duration::from_secs_f64(left.clamp(0.001, 0.1)));
    }
    let end_ms = world.now_ms().min(end_s * 1000.0);
    let mut report = world.stats.report(design, &settings, end_ms);
    // Served, stopping is how the run ends.
    report.partial = stopped && serving.is_none();
    if let Some(proxies) = &proxies {
        let before = baseline.unwrap_or_default();
        for (edge, (retries, timeouts)) in proxies.counts() {
            let (retries_before, timeouts_before) = before.get(&edge).copied().unwrap_or_default();
            if let Some(r) = report.edges.get_mut(design.edges[edge].id.as_str()) {
                r.retries += retries.saturating_sub(retries_before);
                r.timeouts += timeouts.saturating_sub(timeouts_before);
            }
        }
    }
    Ok(Emulated {
        report,
        through: options.through,
        absorbed_per_call_ms: world.tare.mean_ms(),
    })
}

/// The report as JSON, in the shape of `simulate --json`, with `null` for what a real run does not measure: the
/// event count, the time until done of async work (`settled`, `unsettled`, `settle_failed`, `settle_ms`), the
/// backlog of async calls, a saga's inconsistency window, and a broker's utilization, queue and sojourn (RabbitMQ
/// does that work). Adds
/// `"emulated": {"through": ...}`.
pub fn report_json(design: &Design, emulated: &Emulated) -> Value {
    let mut value = serde_json::to_value(&emulated.report).unwrap_or(Value::Null);
    value["events"] = Value::Null;
    value["emulated"] = serde_json::json!({
        "through": emulated.through.as_str(),
        "absorbed_per_call_ms": emulated.absorbed_per_call_ms,
    });
    if let Some(flows) = value["flows"].as_object_mut() {
        for flow in flows.values_mut() {
            for field in ["settled", "unsettled", "settle_failed", "settle_ms"] {
                flow[field] = Value::Null;
            }
            if flow.get("compensated").is_some() {
                flow["inconsistency_window_ms"] = Value::Null;
            }
        }
    }
    if let Some(edges) = value["edges"].as_object_mut() {
        for edge in edges.values_mut() {
            if !edge["lag_ms"].is_null() {
                edge["max_backlog"] = Value::Null;
                edge["mean_backlog"] = Value::Null;
            }
        }
    }
    for broker in design
        .services
        .iter()
        .filter(|s| s.kind == ServiceKind::Broker)
    {
        let service = &mut value["services"][broker.id.as_str()];
        for field in [
            "utilization",
            "mean_queue_length",
            "max_queue_length",
            "sojourn_ms",
        ] {
            service[field] = Value::Null;
        }
    }
    value
}
