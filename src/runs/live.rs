//! The live run the window shows: the simulator thread of one design state, the history built from its snapshots,
//! the faults injected by hand, and a finished run kept as the baseline of a comparison.

use std::sync::Arc;
use std::time::Duration;

use super::sim_runner::{SimCommand, SimRunner, SimUpdate, Speed};
use crate::model::{Design, Fault, ServiceId, SimulationSettings};
use crate::sim::SimReport;
use crate::sim::history::RunHistory;

/// A fault injected by hand during a run, with the simulated time it started and, once cleared, ended.
#[derive(Debug, Clone, PartialEq)]
pub struct InjectedFault {
    /// The fault.
    pub fault: Fault,
    /// Simulated second it was injected.
    pub from_s: f64,
    /// Simulated second it was cleared, if it was.
    pub until_s: Option<f64>,
}

/// The run on screen.
pub struct LiveRun {
    runner: SimRunner,
    /// The document state the run simulates.
    pub state_id: u64,
    /// The design as it was run (ids and names for the dashboard).
    pub design: Design,
    /// Its duration, warm-up and seed.
    pub settings: SimulationSettings,
    /// What happened so far.
    pub history: RunHistory,
    /// The newest update.
    pub latest: Option<SimUpdate>,
    /// The whole run's statistics, once finished.
    pub report: Option<SimReport>,
    /// Faults injected by hand.
    pub injected: Vec<InjectedFault>,
    /// Each flow's arrival rate as set live (starts at the design's rate).
    pub rates_rps: Vec<f64>,
}

impl LiveRun {
    /// Starts the simulator thread on `design`, paused.
    pub fn start(
        design: &Design,
        state_id: u64,
        settings: SimulationSettings,
        wake: Arc<dyn Fn() + Send + Sync>,
    ) -> Result<Self, String> {
        Ok(Self {
            runner: SimRunner::start(design, settings, wake)?,
            state_id,
            design: design.clone(),
            settings,
            history: RunHistory::new(design),
            latest: None,
            report: None,
            injected: Vec::new(),
            rates_rps: design.flows.iter().map(|f| f.rate_rps).collect(),
        })
    }

    /// Sends a command to the simulator thread.
    pub fn send(&self, command: SimCommand) {
        self.runner.send(command);
    }

    /// Starts (or resumes) at a speed.
    pub fn run(&self, speed: Speed) {
        self.send(SimCommand::SetSpeed(speed));
        self.send(SimCommand::Run);
    }

    /// Takes in what the thread published, reading for at most `budget`; returns whether anything came.
    pub fn drain(&mut self, budget: Duration) -> bool {
        let updates = self.runner.drain(budget);
        let changed = !updates.is_empty();
        for update in updates {
            if update.error.is_none() {
                for window in &update.earlier_windows {
                    self.history.push(window, true);
                }
                self.history.push(&update.snapshot, update.window_closed);
            }
            if let Some(report) = &update.report {
                self.report = Some((**report).clone());
            }
            self.latest = Some(update);
        }
        changed
    }

    /// Whether the clock is moving.
    pub fn running(&self) -> bool {
        self.latest.as_ref().is_some_and(|u| u.running)
    }

    /// Injects a fault now.
    pub fn inject(&mut self, fault: Fault) {
        self.injected.push(InjectedFault {
            fault: fault.clone(),
            from_s: self.history.time_s,
            until_s: None,
        });
        self.send(SimCommand::AddFault(fault));
    }

    /// Clears every fault of a service now.
    pub fn clear(&mut self, service: &ServiceId) {
        let now = self.history.time_s;
        for injected in &mut self.injected {
            if injected.fault.service == *service && injected.until_s.is_none() {
                injected.until_s = Some(now);
            }
        }
        self.send(SimCommand::ClearFaults(service.to_string()));
    }

    /// Sets a flow's arrival rate from now on.
    pub fn set_rate(&mut self, flow: usize, rate_rps: f64) {
        if let Some(rate) = self.rates_rps.get_mut(flow) {
            *rate = rate_rps;
            self.send(SimCommand::SetFlowRate { flow, rate_rps });
        }
    }

    /// The run kept for a comparison, when it has finished.
    pub fn to_finished(&self, label: String) -> Option<FinishedRun> {
        Some(FinishedRun {
            label,
            history: self.history.clone(),
            report: self.report.clone()?,
            settings: self.settings,
        })
    }
}

/// A finished run kept as the baseline of a comparison.
#[derive(Debug, Clone)]
pub struct FinishedRun {
    /// What the user calls it in the charts and the table.
    pub label: String,
    /// Its time series.
    pub history: RunHistory,
    /// Its statistics.
    pub report: SimReport,
    /// Its duration, warm-up and seed: a fair comparison uses the same.
    pub settings: SimulationSettings,
}
