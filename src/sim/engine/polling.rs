//! Asynchronous request-reply: the client of a flow with `polling` is answered at once (`202 Accepted`) and then
//! asks the entry for the result every `interval_ms` until a poll finds the request's work ended.
//!
//! The first poll goes out `interval_ms` after the entry's answer; each next one `interval_ms` after the previous
//! one went out (or at once when the previous one took longer). A poll is a request to the entry service: it joins
//! the queue, takes a worker for one sample of the service time and may fail with the service's error rate or be
//! refused (down, full queue), so polls are load. It reads the request's status as it reaches the entry. The poll
//! that found the work all done answers the client: `seen_ms` runs from the request's arrival to that answer. A
//! poll that found some of the work failed ends the polling too (the client is told it failed). A failed or
//! refused poll is followed by the next one on schedule.

use super::Simulation;
use super::events::EventKind;
use super::request::Carried;
use super::stats::record;

/// What a poll found when it reached the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum PollSaw {
    /// The work goes on.
    Pending = 0,
    /// Every piece of the request's work is done.
    Done = 1,
    /// Some of its work failed or was dropped.
    Failed = 2,
}

impl PollSaw {
    fn from_u8(value: u8) -> Self {
        match value {
            1 => Self::Done,
            2 => Self::Failed,
            _ => Self::Pending,
        }
    }
}

impl Simulation {
    /// The entry answered a request of `flow` successfully: when the flow polls, the client's first poll is set.
    #[inline]
    pub(super) fn start_polling(&mut self, flow: u32, request: u32) {
        let Some(polling) = self.design.flows[flow as usize].polling else {
            return;
        };
        self.requests.start_polling(request);
        self.schedule(
            self.now + polling.interval_ms,
            EventKind::Poll { flow, request },
        );
    }

    /// A poll goes out: it arrives at the flow's entry, reading the request's status.
    pub(super) fn on_poll(&mut self, flow: u32, request: u32) {
        let entry = self.flows[flow as usize].entry;
        if self.requests.measured(request) {
            self.flows[flow as usize].polls += 1;
        }
        let saw = match self.requests.poll_status(request) {
            None => PollSaw::Pending,
            Some(true) => PollSaw::Done,
            Some(false) => PollSaw::Failed,
        };
        let job = self.alloc_job(request, flow, entry, Carried::NOTHING);
        {
            let j = &mut self.jobs[job as usize];
            j.poll = true;
            j.poll_saw = saw as u8;
        }
        if !self.arrive(job) {
            let arrived_at = self.jobs[job as usize].arrived_at;
            self.free_job(job);
            self.poll_answered(flow, request, false, saw as u8, arrived_at);
        }
    }

    /// A poll that went out at `sent_at` answered (or failed): the client has its result, or polls again.
    #[inline(never)]
    pub(super) fn poll_answered(
        &mut self,
        flow: u32,
        request: u32,
        success: bool,
        saw: u8,
        sent_at: f64,
    ) {
        match (success, PollSaw::from_u8(saw)) {
            (true, PollSaw::Done) => {
                let seen_ms = self.now - self.requests.arrived_at(request);
                let (measured, live) = (self.requests.measured(request), self.live);
                let f = &mut self.flows[flow as usize];
                if live {
                    record(&mut f.recent_seen, seen_ms);
                }
                if measured {
                    f.seen += 1;
                    record(&mut f.seen_ms, seen_ms);
                }
                self.requests.stop_polling(request);
            }
            (true, PollSaw::Failed) => self.requests.stop_polling(request),
            _ => {
                let interval = self.design.flows[flow as usize]
                    .polling
                    .map_or(0.0, |p| p.interval_ms);
                let at = (sent_at + interval).max(self.now);
                self.schedule(at, EventKind::Poll { flow, request });
            }
        }
    }
}
