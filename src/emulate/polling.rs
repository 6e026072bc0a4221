//! Asynchronous request-reply for real: the requests of a flow with `polling` are numbered, every job and message
//! of one holds a count on it (carried in the `x-syncopate-request` header and in the message body), so the entry
//! knows when all its work is done; the client, answered at once, polls the entry every `interval_ms` with the
//! request's number (`x-syncopate-poll`). A poll takes a worker of the entry for one sample of its service time,
//! as any request, then answers `202 Accepted` (with `Retry-After`) while the work goes on, `303 See Other` (with
//! `Location`) once it is all done, and `409 Conflict` when some of it failed.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::stats::{bump, record};
use super::world::{Replica, World};

/// What a poll finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// The work goes on (or the request is unknown: not yet started, or long forgotten).
    Pending,
    /// Every piece of its work is done.
    Done,
    /// Some of its work failed or was dropped.
    Failed,
}

#[derive(Debug, Default)]
struct Track {
    /// Jobs and messages of the request alive now.
    outstanding: u64,
    /// Some async work failed.
    failed: bool,
    /// Its work ended (the count came back to zero).
    ended: bool,
}

/// The requests of polling flows whose work is followed.
#[derive(Debug, Default)]
pub(crate) struct Requests {
    next: AtomicU64,
    tracks: Mutex<HashMap<u64, Track>>,
}

impl Requests {
    /// A new request of a polling flow: its number (never 0). Its entry's job holds the first count when it is
    /// admitted.
    pub(crate) fn open(&self) -> u64 {
        let number = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        if let Ok(mut tracks) = self.tracks.lock() {
            tracks.insert(number, Track::default());
        }
        number
    }

    /// `count` more jobs or messages of the request exist (nothing for request 0).
    pub(crate) fn hold(&self, request: u64, count: u64) {
        if request == 0 || count == 0 {
            return;
        }
        if let Ok(mut tracks) = self.tracks.lock()
            && let Some(track) = tracks.get_mut(&request)
        {
            track.outstanding += count;
        }
    }

    /// `count` jobs or messages of the request ended; `ok` false when one of them was async work that failed.
    pub(crate) fn release(&self, request: u64, count: u64, ok: bool) {
        if request == 0 || count == 0 {
            return;
        }
        if let Ok(mut tracks) = self.tracks.lock()
            && let Some(track) = tracks.get_mut(&request)
        {
            track.outstanding = track.outstanding.saturating_sub(count);
            track.failed |= !ok;
            if track.outstanding == 0 {
                track.ended = true;
            }
        }
    }

    /// What a poll finds.
    pub(crate) fn status(&self, request: u64) -> Status {
        let Ok(tracks) = self.tracks.lock() else {
            return Status::Pending;
        };
        match tracks.get(&request) {
            Some(track) if track.ended && track.failed => Status::Failed,
            Some(track) if track.ended => Status::Done,
            _ => Status::Pending,
        }
    }

    /// The client is done with the request (it saw the result, or its answer failed): forgotten.
    pub(crate) fn forget(&self, request: u64) {
        if let Ok(mut tracks) = self.tracks.lock() {
            tracks.remove(&request);
        }
    }
}

/// A poll at a replica of the entry: admitted like any request (a full replica refuses it), one sample of the
/// service time on a worker (failing with the service's error rate), then the request's status.
pub(crate) async fn serve_poll(world: &Arc<World>, replica: &Arc<Replica>, request: u64) -> u16 {
    let service = replica.service;
    let stats = &world.stats.services[service];
    let arrived = world.now_ms();
    if world.measuring(arrived) {
        bump(&stats.arrivals);
    }
    if !replica.try_enter() {
        if world.measuring(arrived) {
            bump(&stats.rejected);
        }
        return 503;
    }
    // The status is read as the poll arrives, as the simulator does.
    let status = world.requests.status(request);
    let ok = super::server::on_a_worker(world, replica, arrived, |start| async move {
        super::server::local_work(world, service, start, 0.0)
            .await
            .0
    })
    .await;
    match (ok, status) {
        (false, _) => 500,
        (true, Status::Pending) => 202,
        (true, Status::Done) => 303,
        (true, Status::Failed) => 409,
    }
}

/// The client of a request answered `202 Accepted` at `arrived_ms`: polls the entry every `interval_ms` (the next
/// one `interval_ms` after the previous one went out, or at once when that took longer) until a poll finds the
/// work ended, or the run ends.
pub(crate) async fn poll_until_done(
    world: Arc<World>,
    flow: usize,
    request: u64,
    arrived_ms: f64,
    interval_ms: f64,
) {
    let measured = world.measuring(arrived_ms);
    let stats = &world.stats.flows[flow];
    let entry = world.service_index(world.design.flows[flow].entry.as_str());
    let Some(epoch) = world.epoch() else {
        return;
    };
    let mut sent_ms = world.now_ms();
    loop {
        let next_ms = sent_ms + interval_ms;
        tokio::time::sleep_until((epoch + Duration::from_secs_f64(next_ms / 1000.0)).into()).await;
        sent_ms = world.now_ms();
        if measured {
            bump(&stats.polls);
        }
        let Some(replica) = entry.and_then(|e| world.pick_replica(e)) else {
            continue;
        };
        let status = world.clients.poll(replica.port, flow, request).await;
        match status {
            303 => {
                if measured {
                    bump(&stats.seen);
                    record(&stats.seen_ms, world.now_ms() - arrived_ms);
                }
                world.requests.forget(request);
                return;
            }
            409 => {
                world.requests.forget(request);
                return;
            }
            _ => {}
        }
    }
}
