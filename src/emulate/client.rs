//! Outbound calls of an emulated service. Through a proxy (`--through envoy`) a call is one request to the
//! caller's Envoy, whose route applies the call's timeout, retries, breaker and bulkhead. Otherwise (`--through
//! direct`, and calls no exported proxy carries: those of clients, external systems and a service to itself) the
//! emulator's own client applies the design's policies exactly as the simulator does (docs/simulation.md), with
//! the simulator's own circuit breaker.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::stats::{bump, record};
use super::wire::{self, Outcome};
use super::world::{ProxyRoute, World};
use crate::model::Protocol;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// HTTP clients: pooled HTTP/1.1 (`http`, `graphql`, and `tcp` calls the emulator's own client makes), HTTP/2 with
/// prior knowledge (`grpc`), and a new connection per call for `tcp` through a proxy (its TCP limits apply per
/// connection).
pub(crate) struct Clients {
    http1: HttpClient,
    http2: HttpClient,
    fresh: HttpClient,
}

fn connector() -> HttpConnector {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(Duration::from_secs(1)));
    connector
}

impl Clients {
    pub(crate) fn new() -> Self {
        Self {
            http1: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .build(connector()),
            http2: Client::builder(TokioExecutor::new())
                .http2_only(true)
                .build(connector()),
            fresh: Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(0)
                .build(connector()),
        }
    }

    fn for_protocol(&self, protocol: Protocol) -> &HttpClient {
        match protocol {
            Protocol::Grpc => &self.http2,
            Protocol::Tcp => &self.fresh,
            _ => &self.http1,
        }
    }

    /// Sends one request and reads its answer whole.
    pub(crate) async fn send(
        &self,
        port: u16,
        path: &str,
        protocol: Protocol,
        flow: usize,
        call: Option<u64>,
        request: u64,
    ) -> Outcome {
        self.exchange(port, path, protocol, (flow, call, request), None)
            .await
            .0
    }

    /// Sends one request whose answer says how long it was held ([`wire::Timed`]): its outcome and, when
    /// answered, that time in milliseconds.
    pub(crate) async fn send_timed(
        &self,
        port: u16,
        path: &str,
        protocol: Protocol,
        (flow, request): (usize, u64),
        timed: wire::Timed,
    ) -> (Outcome, Option<f64>) {
        self.exchange(port, path, protocol, (flow, None, request), Some(timed))
            .await
    }

    /// One request and its whole answer: the outcome and, when `timed`, how long the replica held it.
    async fn exchange(
        &self,
        port: u16,
        path: &str,
        protocol: Protocol,
        (flow, call, request): (usize, Option<u64>, u64),
        timed: Option<wire::Timed>,
    ) -> (Outcome, Option<f64>) {
        let grpc = protocol == Protocol::Grpc;
        let Ok(mut sent) = wire::request(
            &format!("127.0.0.1:{port}"),
            path,
            grpc,
            flow,
            call,
            request,
        ) else {
            return (Outcome::Failure, None);
        };
        if let Some(timed) = timed {
            wire::set_timed(&mut sent, timed);
        }
        match self.for_protocol(protocol).request(sent).await {
            Ok(response) => {
                let residence_ms = wire::residence_ms(&response);
                (wire::outcome(response, grpc).await, residence_ms)
            }
            Err(_) => (Outcome::Failure, None),
        }
    }
}

impl Clients {
    /// A client's poll for a request's result; the answer's HTTP status (500 when there was none).
    pub(crate) async fn poll(&self, port: u16, flow: usize, request: u64) -> u16 {
        let Ok(poll) = wire::poll_request(&format!("127.0.0.1:{port}"), flow, request) else {
            return 500;
        };
        match self.for_protocol(Protocol::Http).request(poll).await {
            Ok(response) => {
                let status = response.status().as_u16();
                // Read to its end, so the connection goes back to the pool.
                let _ = http_body_util::BodyExt::collect(response.into_body()).await;
                status
            }
            Err(_) => 500,
        }
    }
}

/// A sync call from a replica of the caller; true when it succeeded. Counts the call, its failure and its latency.
pub(crate) async fn call(
    world: Arc<World>,
    caller_replica: usize,
    edge: usize,
    flow: usize,
    request: u64,
) -> bool {
    let started = world.now_ms();
    let measuring = world.measuring(started);
    let stats = &world.stats.edges[edge];
    if measuring {
        bump(&stats.calls);
    }
    let route = world
        .proxies
        .get()
        .and_then(|p| p.get(&(edge, caller_replica)))
        .cloned();
    let ok = match route {
        Some(route) => through_proxy(&world, &route, edge, flow, request, measuring).await,
        None => direct(&world, edge, flow, request, measuring).await,
    };
    if measuring {
        if ok {
            record(&stats.latency, world.now_ms() - started);
        } else {
            bump(&stats.failures);
        }
    }
    ok
}

async fn through_proxy(
    world: &World,
    route: &ProxyRoute,
    edge: usize,
    flow: usize,
    request: u64,
    measuring: bool,
) -> bool {
    let protocol = world.design.edges[edge].effective_protocol();
    let call = world.proxied_call();
    let outcome = world
        .clients
        .send(
            route.port,
            &route.path,
            protocol,
            flow,
            Some(call.number()),
            request,
        )
        .await;
    let reached_a_replica = call.end();
    match outcome {
        Outcome::Success => true,
        // Short-circuited as the simulator counts it: the breaker refused the call before any try went out. A call
        // whose first try timed out and whose retry found every host ejected also ends in Envoy's "no healthy
        // upstream", but it failed, as in the simulator.
        Outcome::ShortCircuited => {
            if measuring && !reached_a_replica {
                bump(&world.stats.edges[edge].short_circuited);
            }
            false
        }
        Outcome::Failure => false,
    }
}

/// No try in flight (for [`direct`]'s record of the try an overall timeout cuts short).
const NO_TRY: u64 = u64::MAX;

/// A bulkhead place, given back when the try ends or is abandoned.
struct InFlight<'a>(&'a std::sync::atomic::AtomicU32);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A call made by the emulator's own client with the design's policies: tries bounded by `per_try_timeout_ms`,
/// retries after the doubling back-off while `timeout_ms` allows, the breaker judging its own tries, and the
/// bulkhead refusing at once.
async fn direct(world: &World, edge: usize, flow: usize, request: u64, measuring: bool) -> bool {
    let call = &world.design.edges[edge];
    let stats = &world.stats.edges[edge];
    let try_epoch = AtomicU64::new(NO_TRY);
    let started = world.now_ms();
    let tries = tries(world, edge, (flow, request), measuring, started, &try_epoch);
    let Some(timeout_ms) = call.timeout_ms else {
        return tries.await;
    };
    match tokio::time::timeout(super::timer::duration_ms(timeout_ms), tries).await {
        Ok(ok) => ok,
        Err(_) => {
            if measuring {
                bump(&stats.timeouts);
            }
            let epoch = try_epoch.load(Ordering::Acquire);
            if epoch != NO_TRY {
                record_breaker(world, edge, epoch as u32, false);
            }
            false
        }
    }
}

fn record_breaker(world: &World, edge: usize, epoch: u32, success: bool) {
    if let Some(policy) = world.design.edges[edge].circuit_breaker
        && let Ok(mut breaker) = world.breakers[edge].lock()
    {
        breaker.record(epoch, success, world.now_ms(), &policy);
    }
}

async fn tries(
    world: &World,
    edge: usize,
    (flow, request): (usize, u64),
    measuring: bool,
    started_ms: f64,
    try_epoch: &AtomicU64,
) -> bool {
    let call = &world.design.edges[edge];
    let stats = &world.stats.edges[edge];
    let callee = world.service_index(call.to.as_str());
    // This client applies the call's limits itself, so a `tcp` call reuses pooled connections as a driver's pool
    // does; only through a proxy is each call a connection of its own (its TCP limits count connections). A new
    // connection per call costs about 0.25 ms of loopback handshakes, a tenth of a millisecond-scale hop.
    let protocol = match call.effective_protocol() {
        Protocol::Tcp => Protocol::Http,
        protocol => protocol,
    };
    let path = wire::call_path(call);
    let mut tries = 0u32;
    loop {
        let mut epoch = 0;
        if let Some(policy) = call.circuit_breaker {
            let admitted = world.breakers[edge]
                .lock()
                .ok()
                .and_then(|mut b| b.admit(world.now_ms(), &policy));
            match admitted {
                Some(admitted) => epoch = admitted,
                None => {
                    // An open breaker ends the call at once, without retries; it is short-circuited only when
                    // none of its tries went out.
                    if tries == 0 && measuring {
                        bump(&stats.short_circuited);
                    }
                    return false;
                }
            }
        }
        tries += 1;
        if tries > 1 && measuring {
            bump(&stats.retries);
        }
        // Every try in flight is counted; with a bulkhead, one over its limit fails at once (and counts as a try).
        let counter = &world.in_flight[edge];
        let before = counter.fetch_add(1, Ordering::AcqRel);
        let place = InFlight(counter);
        let place = if call.max_in_flight.is_some_and(|max| before >= max) {
            drop(place);
            if let Ok(mut b) = world.breakers[edge].lock() {
                b.trial_not_sent(epoch);
            }
            None
        } else {
            Some(place)
        };
        let success = if let Some(place) = place {
            try_epoch.store(u64::from(epoch), Ordering::Release);
            let one_try = async {
                match callee.and_then(|c| world.pick_replica(c)) {
                    // Through Envoy nothing is absorbed, not even on the calls no proxy carries.
                    Some(replica) if world.proxies.get().is_some() => {
                        world
                            .clients
                            .send(replica.port, &path, protocol, flow, None, request)
                            .await
                            == Outcome::Success
                    }
                    Some(replica) => {
                        let sent_ms = world.now_ms();
                        let (outcome, residence_ms) = world
                            .clients
                            .send_timed(
                                replica.port,
                                &path,
                                protocol,
                                (flow, request),
                                wire::Timed::Call,
                            )
                            .await;
                        if let Some(residence_ms) = residence_ms {
                            world.tare.observe(world.now_ms() - sent_ms, residence_ms);
                        }
                        outcome == Outcome::Success
                    }
                    None => false,
                }
            };
            let success = match call.retry.and_then(|r| r.per_try_timeout_ms) {
                Some(per_try_ms) => {
                    match tokio::time::timeout(super::timer::duration_ms(per_try_ms), one_try).await
                    {
                        Ok(success) => success,
                        Err(_) => {
                            if measuring {
                                bump(&stats.timeouts);
                            }
                            false
                        }
                    }
                }
                None => one_try.await,
            };
            try_epoch.store(NO_TRY, Ordering::Release);
            drop(place);
            record_breaker(world, edge, epoch, success);
            success
        } else {
            false
        };
        if success {
            return true;
        }
        let Some(retry) = call.retry else {
            return false;
        };
        if tries > retry.max_retries {
            return false;
        }
        let backoff_ms = retry.backoff_before_retry_ms(tries);
        if call
            .timeout_ms
            .is_some_and(|timeout| world.now_ms() + backoff_ms >= started_ms + timeout)
        {
            return false;
        }
        if backoff_ms > 0.0 {
            super::timer::sleep(super::timer::duration_ms(backoff_ms)).await;
        }
    }
}

/// An async call: a message handed to RabbitMQ, and the worker moves on. A message that cannot be handed over
/// counts as the call's failure.
/// Publishes a message of `flow` on async call `edge`; returns whether the broker took it.
/// A message of a polled request holds one count on it per queue it reaches, until a consumer is done with it.
pub(crate) async fn send_message(
    world: &Arc<World>,
    edge: usize,
    flow: usize,
    request: u64,
) -> bool {
    let now = world.now_ms();
    let measuring = world.measuring(now);
    let stats = &world.stats.edges[edge];
    if measuring {
        bump(&stats.calls);
    }
    let copies = world.queues_reached(edge);
    world.requests.hold(request, copies);
    let sent = match world.rabbit.get() {
        Some(rabbit) => rabbit.publish(world, edge, flow, request, now).await,
        None => false,
    };
    if !sent {
        world.requests.release(request, copies, false);
        if measuring {
            bump(&stats.failures);
        }
    }
    sent
}
