//! A replica as a real server: it accepts HTTP/1.1 and HTTP/2 (gRPC) on its loopback port, admits a request to a
//! worker or a waiting place (a full replica answers at once with a refusal), waits its service time, fails with
//! its error rate, or makes its calls of the request's flow in `order` groups, exactly the request semantics of
//! docs/design-format.md. A `down` fault closes the listener and drops open connections.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

use super::client;
use super::stats::{bump, record};
use super::wire::{self, Answer};
use super::world::{Replica, World};
use crate::model::CallMode;

/// Serves a replica until the runtime ends.
pub(crate) async fn serve(world: Arc<World>, replica: Arc<Replica>, listener: TcpListener) {
    let mut down = replica.down.subscribe();
    let mut listener = Some(listener);
    loop {
        if *down.borrow_and_update() {
            // Down: nothing listens, so connecting is refused, as to a stopped process.
            listener = None;
            if down.changed().await.is_err() {
                return;
            }
            continue;
        }
        let Some(active) = &listener else {
            // Back up: listen again on the same port.
            match TcpListener::bind(("127.0.0.1", replica.port)).await {
                Ok(l) => listener = Some(l),
                Err(e) => {
                    tracing::warn!(port = replica.port, error = %e, "replica could not listen again");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
            continue;
        };
        tokio::select! {
            accepted = active.accept() => {
                if let Ok((stream, _)) = accepted {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(connection(world.clone(), replica.clone(), stream, replica.down.subscribe()));
                }
            }
            changed = down.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

async fn connection(
    world: Arc<World>,
    replica: Arc<Replica>,
    stream: tokio::net::TcpStream,
    mut down: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |request: hyper::Request<_>| {
        let (world, replica) = (world.clone(), replica.clone());
        async move {
            let received_ms = world.now_ms();
            let grpc = wire::is_grpc(&request);
            let timed = wire::timed(&request);
            if let Some(asked) = wire::poll_of(&request) {
                let status = super::polling::serve_poll(&world, &replica, asked).await;
                let interval_ms = wire::flow_of(&request)
                    .and_then(|f| world.design.flows.get(f))
                    .and_then(|f| f.polling)
                    .map_or(1000.0, |p| p.interval_ms);
                return Ok::<_, Infallible>(wire::poll_reply(status, asked, interval_ms));
            }
            if let Some(call) = wire::call_of(&request) {
                world.call_reached(call);
            }
            let number = wire::request_of(&request);
            // A direct call's callee answers early by the loopback's transit (see `tare`).
            let absorb_ms = if timed == Some(wire::Timed::Call) {
                world.tare.absorb_ms()
            } else {
                0.0
            };
            let answer = match wire::flow_of(&request).filter(|&f| f < world.design.flows.len()) {
                Some(flow) => arrive(&world, &replica, (flow, number), absorb_ms).await,
                None => Answer::Failed,
            };
            let mut reply = wire::reply(answer, grpc);
            if timed.is_some() {
                wire::set_residence(&mut reply, world.now_ms() - received_ms);
            }
            Ok::<_, Infallible>(reply)
        }
    });
    let builder =
        hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    let serving = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    tokio::select! {
        _ = serving => {}
        // Going down drops the connection: calls on it see a reset.
        _ = down.wait_for(|down| *down) => {}
    }
}

/// A request (a call, or a flow's arrival at its entry) at a replica: admitted or refused, then answered when its
/// work ends. The work runs as a task of its own, so a caller that gives up does not stop it: that work is wasted,
/// as in the simulator.
/// A job of a polled `request` (0: none) holds a count on it until its work ends. The answer goes `absorb_ms` before
/// the service time is over (see `tare`), the worker stays taken until it is.
pub(crate) async fn arrive(
    world: &Arc<World>,
    replica: &Arc<Replica>,
    (flow, request): (usize, u64),
    absorb_ms: f64,
) -> Answer {
    let service = replica.service;
    let stats = &world.stats.services[service];
    let now = world.now_ms();
    let measuring = world.measuring(now);
    if measuring {
        bump(&stats.arrivals);
    }
    if !replica.try_enter() {
        if measuring {
            bump(&stats.rejected);
        }
        return Answer::Rejected;
    }
    let (done, answer) = oneshot::channel();
    world.requests.hold(request, 1);
    let (world, replica) = (world.clone(), replica.clone());
    tokio::spawn(async move {
        work(
            world.clone(),
            replica,
            (flow, request),
            (now, absorb_ms),
            Some(done),
        )
        .await;
        world.requests.release(request, 1, true);
    });
    // A job that hangs keeps its sender forever: its caller waits, as on a deadlocked server.
    answer.await.unwrap_or(Answer::Failed)
}

/// One job at a replica, from its arrival to the end of its work: waits for a worker, does its work and its
/// calls, and says how it ended (to `done` as soon as it is answered, `absorb_ms` early; see `tare`). The
/// replica's place must already be taken (`try_enter` or `enter`).
pub(crate) async fn work(
    world: Arc<World>,
    replica: Arc<Replica>,
    (flow, request): (usize, u64),
    (arrived_ms, absorb_ms): (f64, f64),
    mut done: Option<oneshot::Sender<Answer>>,
) -> Answer {
    let (on_world, on_replica, answer_early) = (&world, &replica, &mut done);
    let ok = on_a_worker(&world, &replica, arrived_ms, |start| async move {
        let (ok, held_ms) = do_work(on_world, on_replica, (flow, request), start, absorb_ms).await;
        if let Some(done) = answer_early.take() {
            let _ = done.send(Answer::of(ok));
        }
        // Answered early: the worker stays taken for the rest of the service time.
        if held_ms > 0.0 {
            super::timer::sleep(super::timer::duration_ms(held_ms)).await;
        }
        ok
    })
    .await;
    let answer = Answer::of(ok);
    // Never on a worker (the replica stopped): answered now.
    if let Some(done) = done {
        let _ = done.send(answer);
    }
    answer
}

/// A job that arrived at `arrived_ms` on a worker of the replica (whose place it already holds): waits for the
/// worker, runs `job` from the time it started, and keeps the gauges, the replica's place and its counts. False
/// when it failed.
pub(crate) async fn on_a_worker<F: std::future::Future<Output = bool>>(
    world: &World,
    replica: &Replica,
    arrived_ms: f64,
    job: impl FnOnce(f64) -> F,
) -> bool {
    let stats = &world.stats.services[replica.service];
    stats.waiting.add(1, world.now_ms());
    let Ok(worker) = replica.workers.acquire().await else {
        replica.leave();
        return false;
    };
    let start = world.now_ms();
    stats.waiting.add(-1, start);
    stats.busy.add(1, start);
    let ok = job(start).await;
    let end = world.now_ms();
    stats.busy.add(-1, end);
    drop(worker);
    replica.leave();
    if world.measuring(end) {
        bump(if ok { &stats.completed } else { &stats.failed });
        record(&stats.sojourn, end - arrived_ms);
    }
    ok
}

/// A job's own work at `service` from `start_ms`: a deadlocked worker in a hang, else one sample of the service
/// time (times a `slow` fault's factor) less `absorb_ms` (see `tare`), then a failure with the service's error
/// rate. Whether it succeeded, and how much of the service time it left to hold the worker for after answering.
pub(crate) async fn local_work(
    world: &World,
    service: usize,
    start_ms: f64,
    absorb_ms: f64,
) -> (bool, f64) {
    let at_s = start_ms / 1000.0;
    if world.hangs(service, at_s) {
        // A deadlocked worker: it never finishes, and stays busy for the rest of the run.
        std::future::pending::<()>().await;
    }
    let ms = world.sample_service_time(service) * world.fault_effect(service, at_s).slow_factor;
    let held_ms = ms.min(absorb_ms);
    if ms - held_ms > 0.0 {
        super::timer::sleep(super::timer::duration_ms(ms - held_ms)).await;
    }
    let error_rate = world.error_rate(service, world.now_ms() / 1000.0);
    (!world.chance(service, error_rate), held_ms)
}

async fn do_work(
    world: &Arc<World>,
    replica: &Arc<Replica>,
    (flow, request): (usize, u64),
    start_ms: f64,
    absorb_ms: f64,
) -> (bool, f64) {
    let (ok, held_ms) = local_work(world, replica.service, start_ms, absorb_ms).await;
    (
        ok && run_calls(world, replica, flow, request).await,
        held_ms,
    )
}

/// The service's calls of the flow, group by group; the first sync call that fails for good fails the request at
/// once, and the group's other calls are abandoned (their callees keep working). Calls with a compensating call
/// that succeeded are undone first, in reverse order (a saga's rollback; see `compensate`).
async fn run_calls(world: &Arc<World>, replica: &Arc<Replica>, flow: usize, request: u64) -> bool {
    let service = replica.service;
    let caller_replica = replica.index;
    // The compensating calls of the calls that succeeded so far, in the order they succeeded.
    let mut to_undo: Vec<usize> = Vec::new();
    for group in &world.groups[service][flow] {
        let mut calls = JoinSet::new();
        for &edge in group {
            let call = &world.design.edges[edge];
            if !world.chance(service, call.probability) {
                continue;
            }
            match call.mode {
                CallMode::Async => {
                    if client::send_message(world, edge, flow, request).await
                        && let Some(undo) = world.compensation[edge]
                    {
                        to_undo.push(undo);
                    }
                }
                CallMode::Sync => {
                    let world = world.clone();
                    calls.spawn(async move {
                        (
                            edge,
                            client::call(world, caller_replica, edge, flow, request).await,
                        )
                    });
                }
            }
        }
        while let Some(result) = calls.join_next().await {
            match result {
                Ok((edge, true)) => to_undo.extend(world.compensation[edge]),
                _ => {
                    calls.abort_all();
                    compensate(world, caller_replica, (flow, request), &to_undo).await;
                    return false;
                }
            }
        }
    }
    true
}

/// A saga rolls back: the compensating calls of the calls that succeeded, one after another in reverse order, each
/// with its own policy, before the work fails (docs/design-format.md, "Sagas").
async fn compensate(
    world: &Arc<World>,
    caller_replica: usize,
    (flow, request): (usize, u64),
    to_undo: &[usize],
) {
    if to_undo.is_empty() {
        return;
    }
    let flow_id = &world.design.flows[flow].id;
    let mut failed = false;
    for &edge in to_undo.iter().rev() {
        if !world.design.edges[edge].in_flow(flow_id) {
            continue;
        }
        let done = match world.design.edges[edge].mode {
            CallMode::Async => client::send_message(world, edge, flow, request).await,
            CallMode::Sync => {
                client::call(world.clone(), caller_replica, edge, flow, request).await
            }
        };
        failed |= !done;
    }
    let stats = &world.stats.flows[flow];
    if world.measuring(world.now_ms()) {
        bump(&stats.compensated);
        if failed {
            bump(&stats.compensation_failed);
        }
    }
}
