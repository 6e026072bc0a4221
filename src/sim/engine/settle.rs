//! Time until done ("settle"): for each request, from its arrival at the flow's entry until the last piece of work
//! it caused has finished, async descendants included.
//!
//! Every job (the root request, each sync try, each async message and what a broker forwards) belongs to the request
//! that caused it and holds one count on it while it is alive. A request settles when its entry has answered
//! successfully and the count drops to zero. Work that failed or was dropped on the async side (a message the queue
//! refused, a consumer that failed it) marks the request `settle_failed`. Requests whose answer failed are left out:
//! settling is about the work behind successful answers, so `completed = settled + settle_failed + unsettled`.

/// Bookkeeping of one request.
#[derive(Debug, Clone, Copy)]
pub(super) struct RequestTrack {
    pub(super) flow: u32,
    pub(super) arrived_at: f64,
    /// Jobs of this request alive now.
    outstanding: u32,
    /// The entry answered successfully.
    answered: bool,
    /// Some of its async work failed or was dropped.
    pub(super) async_failed: bool,
    /// Arrived in the measured period.
    pub(super) measured: bool,
    /// A saga rolled some of its calls back (counted once per request), and a compensation failed.
    compensated: bool,
    compensation_failed: bool,
    /// The client polls for its result (see `polling`): the slot is kept when its work ends, until a poll finds
    /// that out.
    polled: bool,
    /// Its work has ended (`polled` requests only): all done, or some of it failed.
    ended: Option<bool>,
}

/// What became of a request whose last job ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Settled {
    /// Its work is still going, or it was never answered: nothing to record.
    No,
    /// Answered, and every piece of its work done: settle time in ms.
    Done {
        flow: u32,
        settle_ms: f64,
        measured: bool,
    },
    /// Answered, but some of its async work failed or was dropped.
    Failed { flow: u32, measured: bool },
}

/// All requests alive, in a slab whose slots are reused.
#[derive(Debug, Default)]
pub(super) struct Requests {
    slots: Vec<RequestTrack>,
    free: Vec<u32>,
}

impl Requests {
    /// A new request of `flow` arriving now; it holds no job yet.
    #[inline]
    pub(super) fn open(&mut self, flow: u32, now: f64, measured: bool) -> u32 {
        let track = RequestTrack {
            flow,
            arrived_at: now,
            outstanding: 0,
            answered: false,
            async_failed: false,
            measured,
            compensated: false,
            compensation_failed: false,
            polled: false,
            ended: None,
        };
        match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = track;
                slot
            }
            None => {
                self.slots.push(track);
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// A job of the request starts to exist.
    #[inline]
    pub(super) fn hold(&mut self, request: u32) {
        self.slots[request as usize].outstanding += 1;
    }

    /// The entry answered successfully.
    #[inline]
    pub(super) fn answered(&mut self, request: u32) {
        self.slots[request as usize].answered = true;
    }

    /// Some async work of the request failed or was dropped.
    #[inline]
    pub(super) fn async_failed(&mut self, request: u32) {
        self.slots[request as usize].async_failed = true;
    }

    /// A job of the request ended: whether it was the last (then [`Self::finish`] must follow).
    #[inline(always)]
    pub(super) fn release_one(&mut self, request: u32) -> bool {
        let track = &mut self.slots[request as usize];
        track.outstanding -= 1;
        track.outstanding == 0
    }

    /// A job of the request ended at `now`; when it was the last, the request is freed and what became of it
    /// returned.
    #[cfg(test)]
    fn release(&mut self, request: u32, now: f64) -> Settled {
        if !self.release_one(request) {
            return Settled::No;
        }
        self.finish(request, now)
    }

    /// Whether the request arrived in the measured period.
    #[inline]
    pub(super) fn measured(&self, request: u32) -> bool {
        self.slots[request as usize].measured
    }

    /// A saga of the request starts rolling back: whether this is its first rollback.
    pub(super) fn mark_compensated(&mut self, request: u32) -> bool {
        !std::mem::replace(&mut self.slots[request as usize].compensated, true)
    }

    /// A compensation of the request failed for good: whether this is its first.
    pub(super) fn mark_compensation_failed(&mut self, request: u32) -> bool {
        !std::mem::replace(&mut self.slots[request as usize].compensation_failed, true)
    }

    /// The client starts polling for the request's result: its slot outlives its work until [`Self::stop_polling`].
    pub(super) fn start_polling(&mut self, request: u32) {
        self.slots[request as usize].polled = true;
    }

    /// What a poll finds: `None` while the work goes on; `Some(true)` when it is all done, `Some(false)` when some
    /// of it failed.
    pub(super) fn poll_status(&self, request: u32) -> Option<bool> {
        self.slots[request as usize].ended
    }

    /// The client stopped polling (it found the work ended): the slot is freed.
    pub(super) fn stop_polling(&mut self, request: u32) {
        let track = &mut self.slots[request as usize];
        track.polled = false;
        if track.ended.is_some() {
            self.free.push(request);
        }
    }

    /// The request's arrival time, in ms.
    pub(super) fn arrived_at(&self, request: u32) -> f64 {
        self.slots[request as usize].arrived_at
    }

    /// The request's last job ended at `now`: it is freed (unless its client still polls), and what became of it
    /// returned.
    pub(super) fn finish(&mut self, request: u32, now: f64) -> Settled {
        let track = self.slots[request as usize];
        if track.polled {
            self.slots[request as usize].ended = Some(track.answered && !track.async_failed);
        } else {
            self.free.push(request);
        }
        match (track.answered, track.async_failed) {
            (false, _) => Settled::No,
            (true, false) => Settled::Done {
                flow: track.flow,
                settle_ms: now - track.arrived_at,
                measured: track.measured,
            },
            (true, true) => Settled::Failed {
                flow: track.flow,
                measured: track.measured,
            },
        }
    }

    /// Requests answered whose work is still going.
    pub(super) fn still_settling(&self) -> impl Iterator<Item = &RequestTrack> {
        let mut free = vec![false; self.slots.len()];
        for &slot in &self.free {
            free[slot as usize] = true;
        }
        self.slots
            .iter()
            .zip(free)
            .filter(|(track, free)| !free && track.answered && track.outstanding > 0)
            .map(|(track, _)| track)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_settles_when_its_last_job_ends_after_its_answer() {
        let mut requests = Requests::default();
        let r = requests.open(0, 10.0, true);
        requests.hold(r); // the root
        requests.hold(r); // a message it sent
        requests.answered(r);
        assert_eq!(requests.release(r, 20.0), Settled::No);
        assert_eq!(requests.still_settling().count(), 1);
        assert_eq!(
            requests.release(r, 250.0),
            Settled::Done {
                flow: 0,
                settle_ms: 240.0,
                measured: true
            }
        );
        assert_eq!(requests.still_settling().count(), 0);
    }

    #[test]
    fn failed_async_work_or_a_failed_answer_is_not_settled() {
        let mut requests = Requests::default();
        let r = requests.open(1, 0.0, true);
        requests.hold(r);
        requests.answered(r);
        requests.async_failed(r);
        assert_eq!(
            requests.release(r, 5.0),
            Settled::Failed {
                flow: 1,
                measured: true
            }
        );
        let failed = requests.open(1, 0.0, true);
        assert_eq!(failed, r, "the slot is reused");
        requests.hold(failed);
        assert_eq!(requests.release(failed, 5.0), Settled::No);
    }
}
