//! The state every emulated server, client and load generator shares: the design, its replicas, the clock, the
//! faults in force, the policies of the emulator's own client, and the measurements.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

use tokio::sync::{Semaphore, watch};

use super::rabbit::Rabbit;
use super::stats::Stats;
use crate::model::{
    CallMode, Design, Fault, FaultEffect, FaultKind, ServiceId, SimulationSettings, either_fails,
};
use crate::sim::{Breaker, Sampler, SimRng};

/// One replica of a service: a server on a loopback port with `concurrency` workers and a waiting room.
pub(crate) struct Replica {
    pub(crate) service: usize,
    /// Its index among the service's replicas.
    pub(crate) index: usize,
    pub(crate) port: u16,
    /// Requests waiting or in service here.
    pub(crate) present: AtomicU32,
    /// Admission limit of `present`: workers plus waiting places (`u32::MAX` for an unbounded queue).
    limit: u32,
    /// The workers; FIFO, as tokio's semaphore hands out permits in order.
    pub(crate) workers: Semaphore,
    /// True while a `down` fault is in force: the listener is closed and open connections are dropped.
    pub(crate) down: watch::Sender<bool>,
}

impl Replica {
    pub(crate) fn new(
        service: usize,
        index: usize,
        port: u16,
        concurrency: u32,
        queue: Option<u32>,
    ) -> Self {
        Self {
            service,
            index,
            port,
            present: AtomicU32::new(0),
            limit: queue.map_or(u32::MAX, |q| q.saturating_add(concurrency)),
            workers: Semaphore::new(concurrency as usize),
            down: watch::Sender::new(false),
        }
    }

    /// Takes a place if one is free (a worker or a waiting place).
    pub(crate) fn try_enter(&self) -> bool {
        self.present
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .is_ok()
    }

    /// Takes a place whatever the limit (a message the broker already queued).
    pub(crate) fn enter(&self) {
        self.present.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn leave(&self) {
        self.present.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Where a call goes through an Envoy: the listener port and the path its route matches.
#[derive(Debug, Clone)]
pub(crate) struct ProxyRoute {
    pub(crate) port: u16,
    pub(crate) path: String,
}

/// Everything the running emulation shares.
pub(crate) struct World {
    pub(crate) design: Design,
    pub(crate) settings: SimulationSettings,
    /// When the load started (time 0 of the run); unset while things start.
    epoch: OnceLock<Instant>,
    /// Per service, per flow: the service's calls of the flow in ascending `order` groups (edge indices).
    pub(crate) groups: Vec<Vec<Vec<Vec<usize>>>>,
    /// Per edge: its compensating call (a saga's undo), if it has one.
    pub(crate) compensation: Vec<Option<usize>>,
    pub(crate) replicas: Vec<Vec<Arc<Replica>>>,
    /// Service id -> its index in the design (calls and arrivals look their callee up on every request).
    service_index: HashMap<ServiceId, usize>,
    round_robin: Vec<AtomicUsize>,
    samplers: Vec<Sampler>,
    rngs: Vec<Mutex<SimRng>>,
    /// The emulator's own client: breakers and bulkhead counts per edge (`--through direct`, and calls no
    /// exported proxy carries).
    pub(crate) breakers: Vec<Mutex<Breaker>>,
    pub(crate) in_flight: Vec<AtomicU32>,
    /// `--through envoy`: (edge, caller replica) -> the proxy route.
    pub(crate) proxies: OnceLock<HashMap<(usize, usize), ProxyRoute>>,
    pub(crate) rabbit: OnceLock<Rabbit>,
    /// The requests of polling flows whose work is followed (see `polling`).
    pub(crate) requests: super::polling::Requests,
    pub(crate) clients: super::client::Clients,
    pub(crate) stats: Stats,
    /// The number of the next call made through a proxy.
    next_call: AtomicU64,
    /// Calls made through a proxy, by number, some try of which reached a replica and that have not ended yet.
    reached_calls: Mutex<HashSet<u64>>,
    /// Faults injected while the emulation runs (`--serve`'s API), by id; in force until cleared.
    injected: RwLock<BTreeMap<String, Fault>>,
    /// Whether any fault is injected: the hot path reads this, not the lock.
    any_injected: AtomicBool,
    /// The loopback transit of direct calls, which their callees absorb (see `tare`).
    pub(crate) tare: super::tare::HopTare,
}

/// A call through a proxy in flight. Its number is forgotten when it ends, and also when its caller abandons it (a
/// sibling call failed first) and drops it.
pub(crate) struct ProxiedCall<'a> {
    world: &'a World,
    number: u64,
}

impl ProxiedCall<'_> {
    /// The number its requests carry.
    pub(crate) fn number(&self) -> u64 {
        self.number
    }

    /// The call ended: whether any of its tries reached a replica.
    pub(crate) fn end(self) -> bool {
        let reached = self.world.forget_call(self.number);
        // Forgotten already; the drop would only forget it again. It holds nothing else.
        std::mem::forget(self);
        reached
    }
}

impl Drop for ProxiedCall<'_> {
    fn drop(&mut self) {
        self.world.forget_call(self.number);
    }
}

impl World {
    /// A new call through a proxy, numbered so that its tries can say they reached a replica.
    pub(crate) fn proxied_call(&self) -> ProxiedCall<'_> {
        ProxiedCall {
            world: self,
            number: self.next_call.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// A try of the call numbered `call` reached a replica.
    pub(crate) fn call_reached(&self, call: u64) {
        if let Ok(mut reached) = self.reached_calls.lock() {
            reached.insert(call);
        }
    }

    /// Forgets a call: whether any of its tries reached a replica.
    fn forget_call(&self, call: u64) -> bool {
        self.reached_calls
            .lock()
            .is_ok_and(|mut reached| reached.remove(&call))
    }

    pub(crate) fn new(
        design: Design,
        settings: SimulationSettings,
        replicas: Vec<Vec<Arc<Replica>>>,
    ) -> Self {
        let flow_ids: Vec<_> = design.flows.iter().map(|f| f.id.clone()).collect();
        let groups = design
            .services
            .iter()
            .map(|service| {
                flow_ids
                    .iter()
                    .map(|flow| {
                        let mut edges: Vec<usize> = design
                            .edges
                            .iter()
                            .enumerate()
                            .filter(|(_, e)| e.from == service.id && e.on_forward_path(flow))
                            .map(|(i, _)| i)
                            .collect();
                        edges.sort_by_key(|&i| (design.edges[i].order, i));
                        let mut groups: Vec<Vec<usize>> = Vec::new();
                        for edge in edges {
                            match groups.last_mut() {
                                Some(group)
                                    if design.edges[group[0]].order == design.edges[edge].order =>
                                {
                                    group.push(edge);
                                }
                                _ => groups.push(vec![edge]),
                            }
                        }
                        groups
                    })
                    .collect()
            })
            .collect();
        let seed = settings.seed;
        let compensation = design
            .edges
            .iter()
            .map(|edge| design.compensation_of(&edge.id))
            .collect();
        Self {
            groups,
            compensation,
            service_index: design
                .services
                .iter()
                .enumerate()
                .map(|(i, s)| (s.id.clone(), i))
                .collect(),
            round_robin: design
                .services
                .iter()
                .map(|_| AtomicUsize::new(0))
                .collect(),
            samplers: design
                .services
                .iter()
                .map(|s| Sampler::new(&s.service_time))
                .collect(),
            // The simulator's streams (common random numbers): with the same seed, each service draws what it drew
            // in the simulation, in the order its work asks.
            rngs: (0..design.services.len())
                .map(|i| Mutex::new(crate::sim::service_stream(seed, i)))
                .collect(),
            breakers: design.edges.iter().map(|_| Mutex::default()).collect(),
            in_flight: design.edges.iter().map(|_| AtomicU32::new(0)).collect(),
            proxies: OnceLock::new(),
            rabbit: OnceLock::new(),
            requests: super::polling::Requests::default(),
            clients: super::client::Clients::new(),
            stats: Stats::new(&design),
            next_call: AtomicU64::new(0),
            reached_calls: Mutex::new(HashSet::new()),
            injected: RwLock::new(BTreeMap::new()),
            any_injected: AtomicBool::new(false),
            tare: super::tare::HopTare::default(),
            replicas,
            design,
            settings,
            epoch: OnceLock::new(),
        }
    }

    /// How many queues a message published on async call `edge` lands in: one for a call straight to a consumer;
    /// for a call into a broker, one per consumer the broker delivers its topic to (the export binds a queue per
    /// consumer).
    pub(crate) fn queues_reached(&self, edge: usize) -> u64 {
        let Some(published) = self.design.edges.get(edge) else {
            return 0;
        };
        let is_broker = |id: &ServiceId| {
            self.design
                .service(id.as_str())
                .is_some_and(|s| s.kind == crate::model::ServiceKind::Broker)
        };
        if !is_broker(&published.to) {
            return 1;
        }
        let mut consumers: Vec<&ServiceId> = self
            .design
            .edges
            .iter()
            .filter(|e| {
                e.from == published.to
                    && e.mode == CallMode::Async
                    && !is_broker(&e.to)
                    && (e.topic.is_none() || e.topic == published.topic)
            })
            .map(|e| &e.to)
            .collect();
        consumers.sort_unstable();
        consumers.dedup();
        consumers.len() as u64
    }

    /// The index of the service with this id.
    pub(crate) fn service_index(&self, id: &str) -> Option<usize> {
        self.service_index.get(id).copied()
    }

    /// Starts the run's clock.
    pub(crate) fn start_clock(&self) {
        let _ = self.epoch.set(Instant::now());
    }

    /// When the load started.
    pub(crate) fn epoch(&self) -> Option<Instant> {
        self.epoch.get().copied()
    }

    /// Milliseconds since the load started (0 before).
    pub(crate) fn now_ms(&self) -> f64 {
        self.epoch
            .get()
            .map_or(0.0, |e| e.elapsed().as_secs_f64() * 1000.0)
    }

    /// Whether an event at `at_ms` is in the measured period.
    pub(crate) fn measuring(&self, at_ms: f64) -> bool {
        self.epoch.get().is_some() && at_ms >= self.settings.warmup_s * 1000.0
    }

    /// A service time of `service`, in milliseconds.
    pub(crate) fn sample_service_time(&self, service: usize) -> f64 {
        self.rngs[service]
            .lock()
            .map_or(0.0, |mut rng| self.samplers[service].sample(&mut rng))
    }

    /// True with probability `p`, from `service`'s random numbers.
    pub(crate) fn chance(&self, service: usize, p: f64) -> bool {
        self.rngs[service]
            .lock()
            .is_ok_and(|mut rng| crate::sim::chance(&mut rng, p))
    }

    /// The replica of `service` with the fewest requests waiting or in service, ties taken in turn.
    pub(crate) fn pick_replica(&self, service: usize) -> Option<&Arc<Replica>> {
        let replicas = &self.replicas[service];
        let n = replicas.len();
        if n == 0 {
            return None;
        }
        let start = self.round_robin[service].fetch_add(1, Ordering::Relaxed) % n;
        (0..n)
            .map(|k| &replicas[(start + k) % n])
            .min_by_key(|r| r.present.load(Ordering::Acquire))
    }

    /// Whether a fault of `kind` is in force on `service` at `at_s`, planned or injected.
    fn has_fault(&self, service: usize, kind: FaultKind, at_s: f64) -> bool {
        let id = &self.design.services[service].id;
        self.design
            .faults
            .iter()
            .any(|f| f.service == *id && f.kind == kind && f.active_at(at_s))
            || self.has_injected(service, kind)
    }

    /// Whether a fault of `kind` is injected on `service` (the lock is read only when some fault is injected).
    fn has_injected(&self, service: usize, kind: FaultKind) -> bool {
        if !self.any_injected.load(Ordering::Acquire) {
            return false;
        }
        let id = &self.design.services[service].id;
        self.injected.read().is_ok_and(|injected| {
            injected
                .values()
                .any(|f| f.service == *id && f.kind == kind)
        })
    }

    /// Whether a `down` fault is in force on `service` at `at_s`.
    pub(crate) fn is_down(&self, service: usize, at_s: f64) -> bool {
        self.has_fault(service, FaultKind::Down, at_s)
    }

    /// Whether work starting now on `service` hangs.
    pub(crate) fn hangs(&self, service: usize, at_s: f64) -> bool {
        self.has_fault(service, FaultKind::Hang, at_s)
    }

    /// What the `slow` and `errors` faults in force on `service` at `at_s` do to its work, planned and injected.
    pub(crate) fn fault_effect(&self, service: usize, at_s: f64) -> FaultEffect {
        let id = &self.design.services[service].id;
        let planned = self
            .design
            .faults
            .iter()
            .filter(|f| f.service == *id && f.active_at(at_s));
        if !self.any_injected.load(Ordering::Acquire) {
            return FaultEffect::of(planned);
        }
        match self.injected.read() {
            Ok(injected) => {
                FaultEffect::of(planned.chain(injected.values().filter(|f| f.service == *id)))
            }
            Err(_) => FaultEffect::of(planned),
        }
    }

    /// Injects a fault under `id`, in force until cleared; false when that id is taken.
    pub(crate) fn inject(&self, id: String, fault: Fault) -> bool {
        let Ok(mut injected) = self.injected.write() else {
            return false;
        };
        if injected.contains_key(&id) {
            return false;
        }
        injected.insert(id, fault);
        self.any_injected.store(true, Ordering::Release);
        true
    }

    /// Clears the injected fault `id` (every one with `None`); how many were cleared.
    pub(crate) fn clear(&self, id: Option<&str>) -> usize {
        let Ok(mut injected) = self.injected.write() else {
            return 0;
        };
        let cleared = match id {
            Some(id) => usize::from(injected.remove(id).is_some()),
            None => std::mem::take(&mut *injected).len(),
        };
        self.any_injected
            .store(!injected.is_empty(), Ordering::Release);
        cleared
    }

    /// The injected faults, by id.
    pub(crate) fn injected(&self) -> BTreeMap<String, Fault> {
        self.injected
            .read()
            .map(|injected| injected.clone())
            .unwrap_or_default()
    }

    /// The chance that work on `service` fails at `at_s`: its own `error_rate` and its faults'.
    pub(crate) fn error_rate(&self, service: usize, at_s: f64) -> f64 {
        either_fails(
            self.design.services[service].error_rate,
            self.fault_effect(service, at_s).error_rate,
        )
    }
}
