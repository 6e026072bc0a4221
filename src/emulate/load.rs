//! The load: each flow's requests arrive open-loop at its entry (Poisson or constant, with its rate steps), as in
//! the simulator, each sent by an outside client as an HTTP request to the entry replica with the fewest requests,
//! and timed from its arrival at the entry to its answer there (as the simulator times it: the client's own
//! loopback hop to the entry is left out, see `wire::RESIDENCE_HEADER`). Planned faults switch replicas down and
//! up at their times.

use std::sync::Arc;
use std::time::Duration;

use super::stats::{bump, record};
use super::wire::{Outcome, Timed};
use super::world::World;
use crate::model::{ArrivalProcess, Protocol};
use crate::sim::SimRng;

/// The next arrival after `t_s` of a flow, or `None` past `end_s`. A Poisson gap that crosses a rate step is
/// redrawn from the step (exact, as the process is memoryless); a constant one restarts there.
fn next_arrival(world: &World, flow: usize, t_s: f64, end_s: f64, rng: &mut SimRng) -> Option<f64> {
    let flow = &world.design.flows[flow];
    let mut t = t_s;
    while t < end_s {
        let rate = flow.rate_at(t);
        let next_step = flow
            .pattern
            .iter()
            .flatten()
            .map(|step| step.at_s)
            .find(|&at| at > t)
            .unwrap_or(f64::INFINITY);
        if rate <= 0.0 {
            t = next_step;
            continue;
        }
        let gap = match flow.arrival {
            ArrivalProcess::Poisson => crate::sim::poisson_gap_s(rng, rate),
            ArrivalProcess::Constant => 1.0 / rate,
        };
        if t + gap >= next_step {
            t = next_step;
            continue;
        }
        t += gap;
        return (t < end_s).then_some(t);
    }
    None
}

/// Sends a flow's arrivals until `end_s`.
pub(crate) async fn drive_flow(world: Arc<World>, flow: usize, end_s: f64) {
    let Some(epoch) = world.epoch() else {
        return;
    };
    // The simulator's arrival stream of the flow: with the same seed, the same arrival times.
    let mut rng = crate::sim::arrival_stream(world.settings.seed, flow);
    let mut t = 0.0;
    while let Some(at) = next_arrival(&world, flow, t, end_s, &mut rng) {
        t = at;
        tokio::time::sleep_until((epoch + Duration::from_secs_f64(at)).into()).await;
        tokio::spawn(request(world.clone(), flow));
    }
}

/// One request of a flow, from its arrival at the entry to its answer.
async fn request(world: Arc<World>, flow: usize) {
    let arrived = world.now_ms();
    let measuring = world.measuring(arrived);
    let stats = &world.stats.flows[flow];
    if measuring {
        bump(&stats.started);
    }
    let entry = world.service_index(world.design.flows[flow].entry.as_str());
    // A polling flow's requests are numbered, so the entry can tell its client when their work is done.
    let polling = world.design.flows[flow].polling;
    let number = if polling.is_some() {
        world.requests.open()
    } else {
        0
    };
    let (outcome, residence_ms) = send_to_entry(&world, entry, flow, number).await;
    let answered = world.now_ms();
    // The simulator times a request from its arrival at the entry to its answer there: the loopback hop from this
    // outside client to the entry and back is the emulation's own, and left out.
    let entry_hop_ms =
        residence_ms.map_or(0.0, |at_entry| (answered - arrived - at_entry).max(0.0));
    match polling {
        Some(polling) if outcome == Outcome::Success => {
            // Answered at once (202 Accepted): the client polls for the result.
            tokio::spawn(super::polling::poll_until_done(
                world.clone(),
                flow,
                number,
                // Its wait starts when the request reached the entry: half the hop's round trip after it left.
                arrived + entry_hop_ms / 2.0,
                polling.interval_ms,
            ));
        }
        Some(_) => world.requests.forget(number),
        None => {}
    }
    if let Some(entry) = entry
        && outcome != Outcome::Success
        && measuring
        && world.is_down(entry, arrived / 1000.0)
    {
        // Refused at the door: the entry's listener is closed.
        bump(&world.stats.services[entry].arrivals);
        bump(&world.stats.services[entry].rejected);
    }
    if measuring {
        if outcome == Outcome::Success {
            bump(&stats.completed);
            record(&stats.latency, answered - arrived - entry_hop_ms);
        } else {
            bump(&stats.failed);
        }
    }
}

/// Sends one request of `flow` to a replica of its entry, as an outside client does: its outcome and how long it
/// was at the entry.
async fn send_to_entry(
    world: &Arc<World>,
    entry: Option<usize>,
    flow: usize,
    number: u64,
) -> (Outcome, Option<f64>) {
    match entry.and_then(|e| world.pick_replica(e)) {
        Some(replica) => {
            world
                .clients
                .send_timed(
                    replica.port,
                    "/",
                    Protocol::Http,
                    (flow, number),
                    Timed::Entry,
                )
                .await
        }
        None => (Outcome::Failure, None),
    }
}

/// One request of `flow` on behalf of a probe (`--serve`'s `GET /flows/<id>`): sent as the load's requests are,
/// not counted in the report. Whether it succeeded (for a polling flow: was accepted).
pub(crate) async fn probe(world: Arc<World>, flow: usize) -> bool {
    let entry = world.service_index(world.design.flows[flow].entry.as_str());
    send_to_entry(&world, entry, flow, 0).await.0 == Outcome::Success
}

/// Switches replicas down and up as the planned `down` faults start and end.
pub(crate) async fn apply_faults(world: Arc<World>) {
    loop {
        let at_s = world.now_ms() / 1000.0;
        for (service, replicas) in world.replicas.iter().enumerate() {
            let down = world.is_down(service, at_s);
            for replica in replicas {
                replica
                    .down
                    .send_if_modified(|d| std::mem::replace(d, down) != down);
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
