//! The simulator's own thread for the live view: it takes commands over a channel (run, pause, step, speed, reset,
//! live rate and fault changes), paces the simulation against wall-clock time at the chosen speed, and publishes
//! snapshots about 20 times a second over a bounded channel, waking the UI through a callback. The UI never waits
//! on it: it drains what arrived within a small time budget per frame, and a full channel drops the oldest news
//! (the next snapshot supersedes it).

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::model::{Design, Fault, SimulationSettings};
use crate::sim::{SimReport, Simulation, Snapshot};

/// How often snapshots are published while running.
pub const PUBLISH_INTERVAL: Duration = Duration::from_millis(50);
/// How long the thread simulates before looking at its commands again, when running as fast as possible.
const SLICE_BUDGET: Duration = Duration::from_millis(10);
/// Simulated seconds the charts' points are apart at least (rates and percentiles over a few requests would only
/// show noise); updates in between refresh the gauges.
pub const CHART_WINDOW_S: f64 = 0.5;
/// Most chart windows one update carries; with as many waiting, a run as fast as possible waits for the next update
/// to go out (so no window is merged into a longer one and drawn as a straight stretch).
const MAX_EARLIER_WINDOWS: usize = 64;
/// Snapshots that may wait in the channel for the UI.
const UPDATE_CAPACITY: usize = 8;

/// How fast simulated time runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// This many simulated seconds per wall-clock second (1 = real time).
    Times(f64),
    /// As fast as the machine goes.
    Fastest,
}

/// What the UI asks of the simulator thread.
#[derive(Debug, Clone)]
pub enum SimCommand {
    /// Run (from where it is) at the current speed.
    Run,
    /// Stop advancing; the state is kept.
    Pause,
    /// Advance this many simulated seconds now, then stay paused.
    Step(f64),
    /// Change the speed.
    SetSpeed(Speed),
    /// Start over with this design and settings (paused).
    Reset(Box<Design>, SimulationSettings),
    /// Change a flow's arrival rate (by index in the design) from now on.
    SetFlowRate {
        /// The flow's index.
        flow: usize,
        /// Its new rate.
        rate_rps: f64,
    },
    /// Inject a fault from now on.
    AddFault(Fault),
    /// Clear every fault of a service.
    ClearFaults(String),
}

/// What the simulator thread reports.
#[derive(Debug, Clone)]
pub struct SimUpdate {
    /// Live numbers now.
    pub snapshot: Snapshot,
    /// Whether this snapshot closes a chart window: its recent latencies cover the time since the previous one
    /// that did, and its counters make the next point of the charts.
    pub window_closed: bool,
    /// Chart windows that closed since the previous update, oldest first, each a snapshot that closes its window
    /// (before `snapshot`). Running as fast as possible passes many windows between two updates; without these
    /// the charts would get one point per update, seconds of simulated time apart.
    pub earlier_windows: Vec<Snapshot>,
    /// Whether it is advancing.
    pub running: bool,
    /// Whether the run reached its duration.
    pub finished: bool,
    /// The whole run's statistics, once finished.
    pub report: Option<Box<SimReport>>,
    /// Why the simulation could not start (an invalid design), if so.
    pub error: Option<String>,
}

/// The handle the app keeps: send commands, take updates. Dropping it stops the thread.
pub struct SimRunner {
    commands: Option<Sender<SimCommand>>,
    updates: Receiver<SimUpdate>,
    thread: Option<JoinHandle<()>>,
}

impl SimRunner {
    /// Starts the thread on `design`, paused. `wake` is called after each published update (the app passes a
    /// closure that asks egui for a repaint; the simulator knows nothing of egui).
    pub fn start(
        design: &Design,
        settings: SimulationSettings,
        wake: Arc<dyn Fn() + Send + Sync>,
    ) -> Result<Self, String> {
        let (command_tx, command_rx) = mpsc::channel();
        let (update_tx, update_rx) = mpsc::sync_channel(UPDATE_CAPACITY);
        let design = design.clone();
        let thread = std::thread::Builder::new()
            .name("syncopate-simulator".to_owned())
            .spawn(move || run_thread(design, settings, command_rx, update_tx, wake))
            .map_err(|e| format!("cannot start the simulator thread: {e}"))?;
        Ok(Self {
            commands: Some(command_tx),
            updates: update_rx,
            thread: Some(thread),
        })
    }

    /// Sends a command; a thread that has stopped ignores it.
    pub fn send(&self, command: SimCommand) {
        if let Some(commands) = &self.commands {
            let _ = commands.send(command);
        }
    }

    /// The updates that arrived, oldest first, reading for at most `budget`.
    pub fn drain(&self, budget: Duration) -> Vec<SimUpdate> {
        let started = Instant::now();
        let mut updates = Vec::new();
        while let Ok(update) = self.updates.try_recv() {
            updates.push(update);
            if started.elapsed() >= budget {
                break;
            }
        }
        updates
    }

    /// The newest update that arrived, reading for at most `budget`; `None` when nothing new came.
    pub fn latest(&self, budget: Duration) -> Option<SimUpdate> {
        self.drain(budget).pop()
    }
}

impl Drop for SimRunner {
    fn drop(&mut self) {
        // Closing the command channel ends the thread's loop.
        self.commands = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The thread's state between commands.
struct Pacing {
    running: bool,
    speed: Speed,
    /// Wall-clock time and simulated seconds when the current speed took effect.
    anchor: Option<(Instant, f64)>,
}

fn run_thread(
    design: Design,
    settings: SimulationSettings,
    commands: Receiver<SimCommand>,
    updates: SyncSender<SimUpdate>,
    wake: Arc<dyn Fn() + Send + Sync>,
) {
    let mut simulation = Simulation::new(&design, settings).map_err(|e| e.0);
    if let Err(error) = &simulation {
        tracing::warn!(%error, "the design cannot be simulated");
    }
    let mut pacing = Pacing {
        running: false,
        speed: Speed::Times(1.0),
        anchor: None,
    };
    let mut last_publish: Option<Instant> = None;
    let mut publish_now = true;
    let mut window_start_s = 0.0;
    let mut earlier_windows = Vec::new();
    loop {
        // Paused or finished: sleep until a command comes. Running: look at commands without waiting.
        let idle = !pacing.running || simulation.as_ref().is_ok_and(Simulation::finished);
        let command = if idle {
            match commands.recv_timeout(Duration::from_secs(1)) {
                Ok(command) => Some(command),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        } else {
            match commands.try_recv() {
                Ok(command) => Some(command),
                Err(mpsc::TryRecvError::Empty) => None,
                Err(mpsc::TryRecvError::Disconnected) => return,
            }
        };
        if let Some(command) = command {
            match &command {
                SimCommand::Reset(design, _) => {
                    // A reset carries the whole design: too much for a log line.
                    tracing::debug!(services = design.services.len(), "simulator reset");
                    window_start_s = 0.0;
                    earlier_windows.clear();
                }
                other => tracing::debug!(command = ?other, "simulator command"),
            }
            publish_now = true;
            apply(command, &mut simulation, &mut pacing);
        }
        if let Ok(sim) = &mut simulation
            && pacing.running
            && !sim.finished()
        {
            advance(sim, &mut pacing, &mut window_start_s, &mut earlier_windows);
            if sim.finished() {
                tracing::info!(simulated_s = sim.time_s(), "simulation run finished");
                pacing.running = false;
                publish_now = true;
            }
        }
        let due = last_publish.is_none_or(|t| t.elapsed() >= PUBLISH_INTERVAL)
            || earlier_windows.len() >= MAX_EARLIER_WINDOWS;
        if publish_now || (pacing.running && due) {
            let update = match &mut simulation {
                Ok(sim) => {
                    let finished = sim.finished();
                    let elapsed_s = sim.time_s() - window_start_s;
                    let window_closed =
                        elapsed_s >= CHART_WINDOW_S || (finished && elapsed_s > 0.0);
                    if window_closed {
                        window_start_s = sim.time_s();
                    }
                    SimUpdate {
                        snapshot: if window_closed {
                            sim.snapshot()
                        } else {
                            sim.peek()
                        },
                        window_closed,
                        earlier_windows: std::mem::take(&mut earlier_windows),
                        running: pacing.running,
                        finished,
                        report: finished.then(|| Box::new(sim.report())),
                        error: None,
                    }
                }
                Err(error) => SimUpdate {
                    snapshot: Snapshot::default(),
                    window_closed: false,
                    earlier_windows: Vec::new(),
                    running: false,
                    finished: false,
                    report: None,
                    error: Some(error.clone()),
                },
            };
            match updates.try_send(update) {
                Ok(()) => {
                    last_publish = Some(Instant::now());
                    publish_now = false;
                }
                Err(TrySendError::Full(update)) => {
                    // The window is behind: the chart windows this update carried (and the one it closed) wait for
                    // the next, and so does a last update, which must arrive.
                    let mut waiting = update.earlier_windows;
                    if update.window_closed {
                        waiting.push(update.snapshot);
                    }
                    waiting.append(&mut earlier_windows);
                    earlier_windows = waiting;
                    publish_now = true;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(TrySendError::Disconnected(_)) => return,
            }
            wake();
        }
        if pacing.running && matches!(pacing.speed, Speed::Times(_)) {
            // Paced runs have nothing to do until wall-clock time moves on.
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn apply(command: SimCommand, simulation: &mut Result<Simulation, String>, pacing: &mut Pacing) {
    let now_s = simulation.as_ref().map_or(0.0, Simulation::time_s);
    match command {
        SimCommand::Run => {
            pacing.running = true;
            pacing.anchor = Some((Instant::now(), now_s));
        }
        SimCommand::Pause => pacing.running = false,
        SimCommand::Step(seconds) => {
            pacing.running = false;
            if let Ok(sim) = simulation
                && seconds.is_finite()
                && seconds > 0.0
            {
                sim.step_until(now_s + seconds);
            }
        }
        SimCommand::SetSpeed(speed) => {
            pacing.speed = speed;
            pacing.anchor = Some((Instant::now(), now_s));
        }
        SimCommand::Reset(design, settings) => {
            *simulation = Simulation::new(&design, settings).map_err(|e| e.0);
            pacing.running = false;
            pacing.anchor = None;
        }
        SimCommand::SetFlowRate { flow, rate_rps } => {
            if let Ok(sim) = simulation {
                sim.set_flow_rate(flow, rate_rps);
            }
        }
        SimCommand::AddFault(fault) => {
            if let Ok(sim) = simulation {
                sim.add_fault(fault);
            }
        }
        SimCommand::ClearFaults(service) => {
            if let Ok(sim) = simulation {
                sim.clear_faults(&service);
            }
        }
    }
}

/// Moves the simulation on at the pace asked for. Running as fast as possible, it stops at every chart window's
/// end and keeps the snapshot that closes it in `closed`, and stops with `MAX_EARLIER_WINDOWS` waiting until an
/// update takes them, so the charts keep their resolution however fast the run and however slow the window.
fn advance(
    sim: &mut Simulation,
    pacing: &mut Pacing,
    window_start_s: &mut f64,
    closed: &mut Vec<Snapshot>,
) {
    match pacing.speed {
        Speed::Times(factor) => {
            let (wall, from_s) = *pacing.anchor.get_or_insert((Instant::now(), sim.time_s()));
            sim.step_until(from_s + wall.elapsed().as_secs_f64() * factor.max(0.0));
        }
        Speed::Fastest => {
            // Small simulated slices until the wall-clock budget is used, so commands are never far away.
            let started = Instant::now();
            let slice_s = (sim.settings().duration_s / 1000.0).max(0.001);
            while !sim.finished()
                && started.elapsed() < SLICE_BUDGET
                && closed.len() < MAX_EARLIER_WINDOWS
            {
                let window_end_s = *window_start_s + CHART_WINDOW_S;
                sim.step_until((sim.time_s() + slice_s).min(window_end_s));
                if !sim.finished() && sim.time_s() >= window_end_s {
                    closed.push(sim.snapshot());
                    *window_start_s = sim.time_s();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::model::{Flow, Service};

    fn design() -> Design {
        let mut design = Design::new("live");
        design.services.push(Service::new("api"));
        design.flows.push(Flow::new("requests", "api", 50.0));
        design
    }

    fn settings(duration_s: f64) -> SimulationSettings {
        SimulationSettings {
            duration_s,
            warmup_s: 0.0,
            seed: 1,
        }
    }

    /// Waits (up to 30 s) for an update that satisfies `done`.
    fn wait_for(runner: &SimRunner, done: impl Fn(&SimUpdate) -> bool) -> SimUpdate {
        let started = Instant::now();
        loop {
            if let Some(update) = runner.latest(Duration::from_millis(1))
                && done(&update)
            {
                return update;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no such update came"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn starts_paused_steps_exactly_and_runs_to_the_end_as_fast_as_possible() {
        let wakes = Arc::new(AtomicUsize::new(0));
        let counter = wakes.clone();
        let runner = SimRunner::start(
            &design(),
            settings(20.0),
            Arc::new(move || {
                counter.fetch_add(1, Ordering::Relaxed);
            }),
        )
        .unwrap();
        let first = wait_for(&runner, |_| true);
        assert!(!first.running);
        assert_eq!(first.snapshot.time_s, 0.0);
        runner.send(SimCommand::Step(2.0));
        let stepped = wait_for(&runner, |u| u.snapshot.time_s > 0.0);
        assert_eq!(stepped.snapshot.time_s, 2.0);
        assert!(!stepped.running);
        runner.send(SimCommand::SetSpeed(Speed::Fastest));
        runner.send(SimCommand::Run);
        let done = wait_for(&runner, |u| u.finished);
        assert_eq!(done.snapshot.time_s, 20.0);
        let report = done.report.expect("a finished run reports");
        let flow = &report.flows["requests"];
        assert!(flow.started > 500, "{}", flow.started);
        assert!(wakes.load(Ordering::Relaxed) >= 3);
    }

    /// Runs `duration_s` as fast as possible, reading the updates every `read_every` after a first wait of
    /// `first_wait`, and returns the end time of every chart window the updates carried, in order.
    fn chart_windows(duration_s: f64, first_wait: Duration, read_every: Duration) -> Vec<f64> {
        let runner = SimRunner::start(&design(), settings(duration_s), Arc::new(|| {})).unwrap();
        runner.send(SimCommand::SetSpeed(Speed::Fastest));
        runner.send(SimCommand::Run);
        let started = Instant::now();
        let mut windows = Vec::new();
        std::thread::sleep(first_wait);
        loop {
            let updates = runner.drain(Duration::from_millis(5));
            let finished = updates.iter().any(|u| u.finished);
            for update in updates {
                windows.extend(update.earlier_windows.iter().map(|w| w.time_s));
                if update.window_closed {
                    windows.push(update.snapshot.time_s);
                }
            }
            if finished {
                return windows;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the run never finished"
            );
            std::thread::sleep(read_every);
        }
    }

    fn every_half_second(windows: &[f64]) -> bool {
        windows
            .windows(2)
            .all(|w| (w[1] - w[0] - CHART_WINDOW_S).abs() < 1e-9)
    }

    #[test]
    fn a_run_as_fast_as_possible_keeps_a_chart_point_every_window() {
        let windows = chart_windows(30.0, Duration::ZERO, Duration::from_millis(2));
        // Every half simulated second closes a window, however few updates the run took.
        assert_eq!(windows.len(), 60, "{windows:?}");
        assert!(every_half_second(&windows));
        assert_eq!(windows.last().copied(), Some(30.0));
    }

    #[test]
    fn a_window_slow_to_read_its_updates_still_gets_every_chart_point() {
        // Ten simulated minutes as fast as possible (1,200 windows, far more than one update carries), read by a
        // window that looks only now and then: before, updates that found the channel full were dropped with
        // their windows, and windows beyond one update's share were merged into one long stretch.
        let windows = chart_windows(600.0, Duration::from_millis(300), Duration::from_millis(30));
        assert_eq!(windows.len(), 1200);
        assert!(every_half_second(&windows), "a gap in {windows:?}");
    }

    #[test]
    fn live_changes_reach_the_running_simulation() {
        let runner = SimRunner::start(&design(), settings(3600.0), Arc::new(|| {})).unwrap();
        runner.send(SimCommand::SetSpeed(Speed::Times(10.0)));
        runner.send(SimCommand::Run);
        let running = wait_for(&runner, |u| u.running && u.snapshot.time_s > 0.0);
        assert!(!running.finished);
        runner.send(SimCommand::SetFlowRate {
            flow: 0,
            rate_rps: 5.0,
        });
        wait_for(&runner, |u| u.snapshot.flows[0].rate_rps == 5.0);
        runner.send(SimCommand::Pause);
        let paused = wait_for(&runner, |u| !u.running);
        // Paused: time stands still.
        std::thread::sleep(Duration::from_millis(100));
        runner.send(SimCommand::Step(0.0));
        let later = wait_for(&runner, |_| true);
        assert_eq!(later.snapshot.time_s, paused.snapshot.time_s);
    }

    #[test]
    fn an_invalid_design_is_reported_not_run() {
        let mut broken = design();
        broken.flows[0].entry = "nowhere".into();
        let runner = SimRunner::start(&broken, settings(10.0), Arc::new(|| {})).unwrap();
        let update = wait_for(&runner, |_| true);
        assert!(update.error.is_some());
        runner.send(SimCommand::Reset(Box::new(design()), settings(10.0)));
        let fixed = wait_for(&runner, |u| u.error.is_none());
        assert_eq!(fixed.snapshot.flows.len(), 1);
    }
}
