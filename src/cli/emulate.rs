//! `syncopate emulate`: the design run for real (src/emulate), its report printed like `simulate`'s, and with
//! `--compare` beside a simulation of the same design, seed and duration.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{
    EXIT_INVALID, EXIT_OK, EXIT_USAGE, EmulateThrough, id_column_width, load_or_report,
    run_settings,
};
use crate::emulate::{self, EmulateError, Options, Through, compare};
use crate::sim::{self, SimReport};

/// Arguments of `syncopate emulate`.
pub(super) struct EmulateArgs<'a> {
    pub path: &'a Path,
    pub duration_s: Option<f64>,
    pub warmup_s: Option<f64>,
    pub seed: Option<u64>,
    pub through: EmulateThrough,
    pub json: bool,
    pub compare: bool,
    pub tolerance: Option<f64>,
    pub max_listeners: usize,
    pub max_processes: usize,
    /// `--serve`: the control API's port.
    pub serve_port: Option<u16>,
}

/// Runs the command; exit 0, 1 (invalid design, a failed run, or differences beyond `--tolerance`), or 2 (bad
/// arguments, or refused before starting: a missing program, over a limit).
pub(super) fn emulate(args: &EmulateArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let Ok(design) = load_or_report(args.path, err) else {
        return EXIT_INVALID;
    };
    let settings = match run_settings(&design, args.duration_s, args.warmup_s, args.seed, err) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    if let Some(tolerance) = args.tolerance
        && !(tolerance.is_finite() && tolerance >= 0.0)
    {
        let _ = writeln!(
            err,
            "error: --tolerance must be a percentage of at least 0, not {tolerance}"
        );
        return EXIT_USAGE;
    }
    let options = Options {
        settings,
        through: match args.through {
            EmulateThrough::Direct => Through::Direct,
            EmulateThrough::Envoy => Through::Envoy,
        },
        max_listeners: args.max_listeners,
        max_processes: args.max_processes,
        serve_port: args.serve_port,
    };
    if let Err(e) = emulate::preflight(&design, &options) {
        let _ = writeln!(err, "error: {}: {e}", args.path.display());
        return EXIT_USAGE;
    }
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // Ctrl+C ends the run with what was measured so far; every process is stopped on the way out.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new((settings.duration_s * 1000.0) as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "emulating [{bar:30}] {msg} (Ctrl+C stops with what is measured)",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    });
    let mut said_serving = false;
    let mut progress = |p: &emulate::Progress| {
        // Served, the API's address goes to stdout at once (a script waits for this line).
        if let Some(url) = p.phase.strip_prefix("serving ")
            && !said_serving
        {
            said_serving = true;
            let _ = writeln!(out, "serving {url} (Ctrl+C stops and prints the report)");
            let _ = out.flush();
        }
        if let Some(bar) = &bar {
            bar.set_position((p.elapsed_s * 1000.0) as u64);
            bar.set_message(format!(
                "{}: {:.0} of {:.0} s",
                p.phase, p.elapsed_s, p.total_s
            ));
        }
    };
    let result = emulate::run(&design, &options, &stop, &mut progress);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let emulated = match result {
        Ok(emulated) => emulated,
        Err(e @ EmulateError::Refused(_)) => {
            let _ = writeln!(err, "error: {}: {e}", args.path.display());
            return EXIT_USAGE;
        }
        Err(e) => {
            let _ = writeln!(err, "error: {}: emulation failed: {e}", args.path.display());
            return EXIT_INVALID;
        }
    };
    if emulated.report.partial {
        let _ = writeln!(
            err,
            "stopped at {:.1} s of {:.1} s: the report is of what was measured so far (partial)",
            emulated.report.simulated_s, settings.duration_s
        );
    }
    let emulated_json = emulate::report_json(&design, &emulated);
    if !args.compare {
        if args.json {
            let _ = writeln!(out, "{}", super::to_json(&emulated_json));
        } else {
            print_report(&emulated.report, options.through, out);
            print_absorbed(emulated.absorbed_per_call_ms, out);
        }
        return EXIT_OK;
    }
    let simulated = match sim::simulate(&design, settings) {
        Ok(report) => report,
        Err(e) => {
            let _ = writeln!(err, "error: {}: {e}", args.path.display());
            return EXIT_INVALID;
        }
    };
    let comparison = compare::compare(&emulated.report, &simulated);
    let beyond = args
        .tolerance
        .map(|t| comparison.beyond(t))
        .unwrap_or_default();
    if args.json {
        let value = serde_json::json!({
            "emulated": emulated_json,
            "simulated": simulated,
            "comparison": comparison,
            "tolerance_pct": args.tolerance,
            "within_tolerance": args.tolerance.map(|_| beyond.is_empty()),
        });
        let _ = writeln!(out, "{}", super::to_json(&value));
    } else {
        print_comparison(
            &emulated.report,
            &simulated,
            &comparison,
            options.through,
            out,
        );
        print_absorbed(emulated.absorbed_per_call_ms, out);
        if let Some(tolerance) = args.tolerance {
            if beyond.is_empty() {
                let _ = writeln!(out, "\nEvery measure within {tolerance}%.");
            } else {
                let list: Vec<String> = beyond.iter().map(|(f, m)| format!("{f} {m}")).collect();
                let _ = writeln!(out, "\nBeyond {tolerance}%: {}", list.join(", "));
            }
        }
    }
    if beyond.is_empty() {
        EXIT_OK
    } else {
        EXIT_INVALID
    }
}

/// What a direct run absorbed of the machine's loopback per call.
fn print_absorbed(absorbed_per_call_ms: Option<f64>, out: &mut dyn Write) {
    if let Some(ms) = absorbed_per_call_ms {
        let _ = writeln!(out, "\n{}", emulate::absorbed_note(ms));
    }
}

/// The readable table of an emulated run.
fn print_report(report: &SimReport, through: Through, out: &mut dyn Write) {
    let width = id_column_width(report);
    let _ = writeln!(
        out,
        "Emulated {:.1} s through {} (warm-up {:.1} s, seed {})",
        report.simulated_s,
        through.as_str(),
        report.warmup_s,
        report.seed
    );
    let _ = writeln!(
        out,
        "\n{:width$}  {:>9} {:>9} {:>7} {:>10} {:>9} {:>9} {:>9} {:>9}",
        "FLOW",
        "started",
        "completed",
        "failed",
        "goodput/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms"
    );
    for (id, f) in &report.flows {
        let l = &f.latency_ms;
        let _ = writeln!(
            out,
            "{id:width$}  {:>9} {:>9} {:>7} {:>10.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            f.started, f.completed, f.failed, f.goodput_rps, l.p50, l.p95, l.p99, l.max
        );
    }
    let _ = writeln!(
        out,
        "\n{:width$}  {:>9} {:>9} {:>7} {:>8} {:>6} {:>9}",
        "SERVICE", "arrivals", "completed", "failed", "rejected", "util", "p99 ms"
    );
    for (id, s) in &report.services {
        let _ = writeln!(
            out,
            "{id:width$}  {:>9} {:>9} {:>7} {:>8} {:>5.0}% {:>9.1}",
            s.arrivals,
            s.completed,
            s.failed,
            s.rejected,
            s.utilization * 100.0,
            s.sojourn_ms.p99
        );
    }
    let _ = writeln!(
        out,
        "\n{:width$}  {:>9} {:>9} {:>9} {:>9} {:>15} {:>11}",
        "CALL", "calls", "failures", "timeouts", "retries", "short-circuited", "lag p99 ms"
    );
    for (id, e) in &report.edges {
        let lag = e.lag_ms.map_or("-".to_owned(), |l| format!("{:.1}", l.p99));
        let _ = writeln!(
            out,
            "{id:width$}  {:>9} {:>9} {:>9} {:>9} {:>15} {:>11}",
            e.calls, e.failures, e.timeouts, e.retries, e.short_circuited, lag
        );
    }
}

/// Both runs side by side: per flow and measure, emulated, simulated and the difference.
fn print_comparison(
    emulated: &SimReport,
    simulated: &SimReport,
    comparison: &compare::Comparison,
    through: Through,
    out: &mut dyn Write,
) {
    let width = id_column_width(emulated).max(id_column_width(simulated));
    let _ = writeln!(
        out,
        "Emulated (through {}) vs simulated, {:.1} s, warm-up {:.1} s, seed {}",
        through.as_str(),
        emulated.simulated_s,
        emulated.warmup_s,
        emulated.seed
    );
    let _ = writeln!(
        out,
        "\n{:width$}  {:<12} {:>10} {:>10} {:>11}",
        "FLOW", "measure", "emulated", "simulated", "difference"
    );
    for (id, flow) in &comparison.flows {
        for (name, m) in flow.measures() {
            let unit = if name == "errors %" { " pp" } else { "%" };
            let _ = writeln!(
                out,
                "{id:width$}  {name:<12} {:>10.2} {:>10.2} {:>+10.1}{unit}",
                m.emulated, m.simulated, m.difference
            );
        }
    }
    let _ = writeln!(
        out,
        "\n{:width$}  {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "CALL", "calls", "(sim)", "failures", "(sim)", "retries", "(sim)", "short-c.", "(sim)"
    );
    for (id, e) in &emulated.edges {
        let s = simulated.edges.get(id).cloned().unwrap_or_default();
        let _ = writeln!(
            out,
            "{id:width$}  {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            e.calls,
            s.calls,
            e.failures,
            s.failures,
            e.retries,
            s.retries,
            e.short_circuited,
            s.short_circuited
        );
    }
}
