//! The discrete-event load simulator: requests arrive per flow, queue at replicas, occupy workers, and make sync
//! and async calls with timeouts, retries, breakers and bulkheads, under planned or injected faults.
//!
//! It knows nothing of the UI: the app drives it through [`Simulation::step_until`], [`Simulation::snapshot`] and
//! the live controls, on a thread of its own. See `docs/simulation.md`.

mod engine;
pub mod history;
pub mod report;

pub use engine::{SimError, Simulation};
pub use report::{
    BreakerState, EdgeLive, EdgeReport, FlowLive, FlowReport, LatencyStats, ServiceLive,
    ServiceReport, SimReport, Snapshot,
};

use crate::model::{Design, SimulationSettings};

/// Runs a whole simulation of a design with the given settings.
pub fn simulate(design: &Design, settings: SimulationSettings) -> Result<SimReport, SimError> {
    Ok(Simulation::new(design, settings)?.run())
}

/// The circuit breaker and the service-time sampler, shared with the emulator so that its own client (`--through
/// direct`) applies exactly the simulator's breaker and draws service times from the same distributions.
#[cfg(feature = "emulate")]
pub(crate) use engine::{
    SimRng, arrival_stream,
    breaker::Breaker,
    chance, poisson_gap_s,
    sampler::Sampler,
    service_stream,
    stats::{new_histogram, record as record_ms},
};
