//! The loopback hop's own cost, measured and absorbed (`--through direct`). The design's calls take no time on the
//! wire: a call lasts its callee's wait, work and calls. Emulated, every call also crosses loopback TCP and the
//! runtime's wake-ups there and back, 0.1-0.26 ms a call on the 2-core CI machine: a tenth of a hop of a few
//! milliseconds, so every flow of short hops came out 10-25% slower than designed. Each direct call's caller
//! measures that transit (its try's round trip less the time the callee held the request, which the callee says
//! in `x-syncopate-residence-us`), and callees answer that much early: the service-time wait is shortened (at most
//! to zero) and the worker stays taken for the rest of the service time after answering. So a call is answered
//! when the design says, and a replica is busy as long as it says. Through Envoy nothing is absorbed: the
//! proxies' cost is what that mode is for. The run's report says how much was absorbed per call.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// The most absorbed per call: beyond it, a saturated machine's transit shows in the latencies.
const MAX_TARE_NS: i64 = 500_000;

/// How much of each observation moves the estimate (1/16: steady against single slow calls).
const GAIN_SHIFT: u32 = 4;

/// The transit estimate of a run, and what was observed.
#[derive(Debug, Default)]
pub(crate) struct HopTare {
    /// The current estimate, in nanoseconds: what callees absorb.
    estimate_ns: AtomicI64,
    observed: AtomicU64,
    observed_sum_ns: AtomicU64,
}

impl HopTare {
    /// A direct call's try took `round_trip_ms` at its caller, of which its callee held it `residence_ms`.
    pub(crate) fn observe(&self, round_trip_ms: f64, residence_ms: f64) {
        // Clamped, so never negative: the sum below takes it as it is.
        let transit_ns =
            ((round_trip_ms - residence_ms) * 1e6).clamp(0.0, MAX_TARE_NS as f64) as i64;
        let _ = self
            .estimate_ns
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |estimate| {
                Some((estimate + ((transit_ns - estimate) >> GAIN_SHIFT)).clamp(0, MAX_TARE_NS))
            });
        self.observed.fetch_add(1, Ordering::Relaxed);
        self.observed_sum_ns
            .fetch_add(transit_ns.unsigned_abs(), Ordering::Relaxed);
    }

    /// What a callee of a direct call absorbs now, in milliseconds.
    pub(crate) fn absorb_ms(&self) -> f64 {
        self.estimate_ns.load(Ordering::Relaxed) as f64 / 1e6
    }

    /// The mean transit per call observed over the run (each capped as absorbed), if any direct call was made.
    pub(crate) fn mean_ms(&self) -> Option<f64> {
        let observed = self.observed.load(Ordering::Relaxed);
        (observed > 0)
            .then(|| self.observed_sum_ns.load(Ordering::Relaxed) as f64 / observed as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_follows_the_transit_and_stays_within_its_cap() {
        let tare = HopTare::default();
        assert_eq!(tare.absorb_ms(), 0.0);
        assert_eq!(tare.mean_ms(), None);
        for _ in 0..200 {
            tare.observe(2.15, 2.0);
        }
        assert!(
            (tare.absorb_ms() - 0.15).abs() < 0.01,
            "{}",
            tare.absorb_ms()
        );
        assert!((tare.mean_ms().unwrap_or(0.0) - 0.15).abs() < 1e-5);
        // A saturated machine's transit is absorbed only up to the cap; a clock oddity never makes it negative.
        for _ in 0..400 {
            tare.observe(50.0, 1.0);
        }
        assert!((tare.absorb_ms() - 0.5).abs() < 1e-4);
        for _ in 0..400 {
            tare.observe(1.0, 2.0);
        }
        assert!(tare.absorb_ms() >= 0.0 && tare.absorb_ms() < 0.01);
    }
}
