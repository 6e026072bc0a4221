//! A call edge's circuit breaker: which tries it lets through, and which outcomes it counts.
//!
//! Every change of state starts a new *epoch*, and each try carries the epoch it was admitted in. Only outcomes of
//! tries admitted in the current epoch count: answers (or failures) of tries that were already on their way when
//! the breaker opened neither close it nor push its open period out, and in half-open only the trial's outcome
//! counts. This is what a real breaker does: it judges the traffic it let through in its current state.

use crate::model::CircuitBreaker;
use crate::sim::BreakerState;

/// The breaker of one call edge.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Breaker {
    pub(crate) state: BreakerState,
    consecutive_failures: u32,
    /// While open: when the next try may be the half-open trial.
    pub(crate) open_until: f64,
    /// When the half-open trial started; a trial whose caller gave up never reports, so after another open
    /// period a new trial is let through.
    trial_started: f64,
    /// Bumped on every change of state.
    epoch: u32,
}

impl Breaker {
    /// Asks to start a try at `now`: the epoch the try belongs to, or `None` when the breaker refuses it (open,
    /// or half-open with its trial still out).
    #[inline]
    pub(crate) fn admit(&mut self, now: f64, policy: &CircuitBreaker) -> Option<u32> {
        match self.state {
            BreakerState::Closed => Some(self.epoch),
            BreakerState::Open if now >= self.open_until => Some(self.start_trial(now)),
            BreakerState::HalfOpen if now >= self.trial_started + policy.open_ms => {
                Some(self.start_trial(now))
            }
            BreakerState::Open | BreakerState::HalfOpen => None,
        }
    }

    fn start_trial(&mut self, now: f64) -> u32 {
        self.state = BreakerState::HalfOpen;
        self.trial_started = now;
        self.epoch = self.epoch.wrapping_add(1);
        self.epoch
    }

    /// The admitted trial never went out (the bulkhead refused it): the breaker is open again with its period
    /// over, so the next try becomes the trial.
    pub(crate) fn trial_not_sent(&mut self, epoch: u32) {
        if self.state == BreakerState::HalfOpen && self.epoch == epoch {
            self.state = BreakerState::Open;
            self.epoch = self.epoch.wrapping_add(1);
        }
    }

    /// The outcome of a try admitted in `epoch`. Outcomes of tries from an earlier epoch are ignored.
    #[inline]
    pub(crate) fn record(&mut self, epoch: u32, success: bool, now: f64, policy: &CircuitBreaker) {
        if epoch != self.epoch {
            return;
        }
        match (self.state, success) {
            (BreakerState::Closed, true) => self.consecutive_failures = 0,
            (BreakerState::Closed, false) => {
                self.consecutive_failures += 1;
                if self.consecutive_failures >= policy.consecutive_failures {
                    self.open(now, policy);
                }
            }
            (BreakerState::HalfOpen, true) => {
                self.state = BreakerState::Closed;
                self.consecutive_failures = 0;
                self.epoch = self.epoch.wrapping_add(1);
            }
            (BreakerState::HalfOpen, false) => self.open(now, policy),
            // No try is admitted while open, so no outcome carries an open epoch.
            (BreakerState::Open, _) => {}
        }
    }

    fn open(&mut self, now: f64, policy: &CircuitBreaker) {
        self.state = BreakerState::Open;
        self.consecutive_failures = 0;
        self.open_until = now + policy.open_ms;
        self.epoch = self.epoch.wrapping_add(1);
    }

    /// The state as a person watching would name it: an open breaker whose period is over is half-open (the
    /// next call will be its trial).
    pub(crate) fn shown_state(&self, now: f64) -> BreakerState {
        if self.state == BreakerState::Open && now >= self.open_until {
            BreakerState::HalfOpen
        } else {
            self.state
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: CircuitBreaker = CircuitBreaker {
        consecutive_failures: 2,
        open_ms: 100.0,
    };

    #[test]
    fn late_answers_of_tries_sent_before_it_opened_neither_close_it_nor_extend_it() {
        let mut breaker = Breaker::default();
        let early = breaker.admit(0.0, &POLICY).unwrap();
        let late = breaker.admit(1.0, &POLICY).unwrap();
        let slow = breaker.admit(2.0, &POLICY).unwrap();
        breaker.record(early, false, 10.0, &POLICY);
        breaker.record(late, false, 11.0, &POLICY);
        assert_eq!(breaker.state, BreakerState::Open);
        assert_eq!(breaker.open_until, 111.0);
        // The third try was on its way: its success does not close the breaker...
        breaker.record(slow, true, 12.0, &POLICY);
        assert_eq!(breaker.state, BreakerState::Open);
        assert_eq!(breaker.admit(50.0, &POLICY), None);
        // ...and a failure would not have pushed the open period out either.
        breaker.record(slow, false, 13.0, &POLICY);
        assert_eq!(breaker.open_until, 111.0);
    }

    #[test]
    fn one_trial_after_the_open_period_decides() {
        let mut breaker = Breaker::default();
        let first = breaker.admit(0.0, &POLICY).unwrap();
        let second = breaker.admit(0.0, &POLICY).unwrap();
        breaker.record(first, false, 1.0, &POLICY);
        breaker.record(second, false, 1.0, &POLICY);
        assert_eq!(breaker.shown_state(101.0), BreakerState::HalfOpen);
        let trial = breaker.admit(101.0, &POLICY).unwrap();
        assert_eq!(breaker.admit(102.0, &POLICY), None, "one trial at a time");
        breaker.record(trial, false, 105.0, &POLICY);
        assert_eq!(breaker.state, BreakerState::Open);
        assert_eq!(breaker.open_until, 205.0);
        let trial = breaker.admit(205.0, &POLICY).unwrap();
        breaker.record(trial, true, 206.0, &POLICY);
        assert_eq!(breaker.state, BreakerState::Closed);
        assert!(breaker.admit(207.0, &POLICY).is_some());
    }

    #[test]
    fn a_trial_that_never_reports_is_replaced_after_another_open_period() {
        let mut breaker = Breaker::default();
        for _ in 0..2 {
            let epoch = breaker.admit(0.0, &POLICY).unwrap();
            breaker.record(epoch, false, 0.0, &POLICY);
        }
        let lost = breaker.admit(100.0, &POLICY).unwrap();
        assert_eq!(breaker.admit(150.0, &POLICY), None);
        let replacement = breaker.admit(200.0, &POLICY).unwrap();
        // The lost trial's answer comes in after all: it no longer counts.
        breaker.record(lost, true, 201.0, &POLICY);
        assert_eq!(breaker.state, BreakerState::HalfOpen);
        breaker.record(replacement, true, 202.0, &POLICY);
        assert_eq!(breaker.state, BreakerState::Closed);
    }

    #[test]
    fn a_trial_the_bulkhead_refused_leaves_the_next_try_as_the_trial() {
        let mut breaker = Breaker::default();
        for _ in 0..2 {
            let epoch = breaker.admit(0.0, &POLICY).unwrap();
            breaker.record(epoch, false, 0.0, &POLICY);
        }
        let refused = breaker.admit(100.0, &POLICY).unwrap();
        breaker.trial_not_sent(refused);
        assert_eq!(breaker.state, BreakerState::Open);
        assert!(breaker.admit(100.0, &POLICY).is_some());
        assert_eq!(breaker.state, BreakerState::HalfOpen);
    }
}
