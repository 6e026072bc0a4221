//! A long `simulate` on a terminal: a progress line once the run takes more than a second (simulated time of the
//! total, events per second, time left), and Ctrl+C ending it with the report of what was simulated so far.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::sim::{SimReport, Simulation};

/// Steps of a run: small enough that Ctrl+C and the progress line answer within a fraction of a second on a slow
/// run, few enough to cost nothing.
const STEPS: u32 = 1000;

/// Wall time before the progress line shows: short runs print nothing extra.
const QUIET_FOR: Duration = Duration::from_secs(1);

/// Runs the simulation to its end, or until Ctrl+C, and returns its report (`partial` when stopped early). The
/// result of a whole run is the same as [`Simulation::run`]'s: stepping to successive times processes the same
/// events in the same order.
pub(super) fn run_with_progress(simulation: &mut Simulation) -> SimReport {
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // Only one handler may be set per process; when one is already set (a second run in the same process, as
        // in tests), Ctrl+C keeps its default meaning.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }
    let duration_s = simulation.settings().duration_s;
    let terminal = std::io::stderr().is_terminal();
    let started = Instant::now();
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut step = 0;
    while !simulation.finished() && !stop.load(Ordering::SeqCst) {
        step += 1;
        let until_s = if step >= STEPS {
            duration_s
        } else {
            duration_s * f64::from(step) / f64::from(STEPS)
        };
        simulation.step_until(until_s);
        if terminal && bar.is_none() && started.elapsed() > QUIET_FOR {
            bar = Some(progress_bar(duration_s));
        }
        if let Some(bar) = &bar {
            let elapsed = started.elapsed().as_secs_f64().max(1e-9);
            bar.set_position((simulation.time_s() * 1000.0) as u64);
            bar.set_message(format!(
                "{:.1} of {duration_s:.1} simulated s, {:.2} M events/s",
                simulation.time_s(),
                simulation.events() as f64 / elapsed / 1e6
            ));
        }
        if step >= STEPS {
            break;
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let mut report = simulation.report();
    report.partial = !simulation.finished() && stop.load(Ordering::SeqCst);
    report
}

fn progress_bar(duration_s: f64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new((duration_s * 1000.0) as u64);
    let style = indicatif::ProgressStyle::with_template(
        "simulating [{bar:30}] {msg}, about {eta} left (Ctrl+C stops with what is done)",
    )
    .map(|s| s.progress_chars("=> "));
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar
}
