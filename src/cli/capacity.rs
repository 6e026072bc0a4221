//! `syncopate sweep` and `syncopate plan`: capacity questions on the command line, with a progress bar on a
//! terminal.

use std::io::{IsTerminal, Write};
use std::path::Path;

use super::{EXIT_INVALID, EXIT_OK, EXIT_USAGE, load_or_report, run_settings, to_json};
use crate::capacity::{self, CapacityError, PlanSettings, SweepSettings};
use crate::model;

/// How `sweep` prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Table,
    Json,
    Csv,
}

/// The arguments of `sweep`.
pub(super) struct SweepArgs<'a> {
    pub path: &'a Path,
    pub flow: Option<&'a str>,
    pub scale: &'a str,
    pub duration_s: Option<f64>,
    pub warmup_s: Option<f64>,
    pub seeds: u32,
    pub seed: Option<u64>,
    pub format: Format,
}

/// The arguments of `plan`.
pub(super) struct PlanArgs<'a> {
    pub path: &'a Path,
    pub target_utilization: f64,
    pub headroom: f64,
    pub output: Option<&'a Path>,
    pub duration_s: Option<f64>,
    pub seeds: u32,
    pub seed: Option<u64>,
    pub json: bool,
}

/// `FROM:TO:STEP` as three numbers.
fn parse_scale(text: &str) -> Result<(f64, f64, f64), String> {
    let parts: Vec<&str> = text.split(':').collect();
    let [from, to, step] = parts.as_slice() else {
        return Err(format!(
            "--scale expects FROM:TO:STEP (e.g. 0.5:3:0.25), not \"{text}\""
        ));
    };
    let number = |what: &str, value: &str| {
        value
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("--scale {what} \"{value}\" is not a number (FROM:TO:STEP)"))
    };
    Ok((
        number("FROM", from)?,
        number("TO", to)?,
        number("STEP", step)?,
    ))
}

/// Runs `work` with a progress callback that drives a bar on stderr when it is a terminal.
fn with_progress<T>(what: &str, work: impl FnOnce(capacity::Progress) -> T) -> T {
    let bar = progress_bar(what);
    let progress = |done: usize, total: usize| {
        if let Some(bar) = &bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
        true
    };
    let result = work(&progress);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    result
}

/// A progress bar on stderr when it is a terminal, else nothing.
fn progress_bar(what: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    let style = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:30}] {pos}/{len} runs, {elapsed} elapsed, about {eta} left",
    )
    .map(|s| s.progress_chars("=> "));
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    Some(bar)
}

fn report_error(e: &CapacityError, path: &Path, err: &mut dyn Write) -> u8 {
    let _ = writeln!(err, "error: {}: {e}", path.display());
    match e {
        CapacityError::Settings(_) => EXIT_USAGE,
        CapacityError::Simulation(_) | CapacityError::Cancelled => EXIT_INVALID,
    }
}

pub(super) fn sweep(args: SweepArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let (from, to, step) = match parse_scale(args.scale) {
        Ok(scale) => scale,
        Err(message) => {
            let _ = writeln!(err, "error: {message}");
            return EXIT_USAGE;
        }
    };
    let Ok(design) = load_or_report(args.path, err) else {
        return EXIT_INVALID;
    };
    let run = match run_settings(&design, args.duration_s, args.warmup_s, args.seed, err) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let settings = SweepSettings {
        flow: args.flow.map(str::to_owned),
        from,
        to,
        step,
        duration_s: run.duration_s,
        warmup_s: run.warmup_s,
        seeds: args.seeds,
        seed: run.seed,
    };
    let result = with_progress("sweep", |progress| {
        capacity::sweep(&design, &settings, progress)
    });
    let result = match result {
        Ok(result) => result,
        Err(e) => return report_error(&e, args.path, err),
    };
    match args.format {
        Format::Json => {
            let _ = writeln!(out, "{}", to_json(&result));
        }
        Format::Csv => print_sweep_csv(&result, out),
        Format::Table => print_sweep_table(&design, &settings, &result, out),
    }
    EXIT_OK
}

fn print_sweep_csv(result: &capacity::SweepResult, out: &mut dyn Write) {
    let _ = writeln!(
        out,
        "factor,offered_rps,flow,goodput_rps,p50_ms,p99_ms,p99_min_ms,p99_max_ms,error_pct,settle_p99_ms"
    );
    for point in &result.points {
        for (flow, f) in &point.flows {
            // Flow ids hold no spaces or control characters; a comma or quote is quoted as CSV wants.
            let flow = if flow.contains([',', '"']) {
                format!("\"{}\"", flow.replace('"', "\"\""))
            } else {
                flow.clone()
            };
            let _ = writeln!(
                out,
                "{},{:.3},{flow},{:.3},{:.3},{:.3},{:.3},{:.3},{:.4},{:.3}",
                point.factor,
                point.offered_rps,
                f.goodput_rps,
                f.p50_ms,
                f.p99_ms,
                f.p99_spread_ms[0],
                f.p99_spread_ms[1],
                f.error_pct,
                f.settle_p99_ms
            );
        }
    }
}

fn print_sweep_table(
    design: &model::Design,
    settings: &SweepSettings,
    result: &capacity::SweepResult,
    out: &mut dyn Write,
) {
    let swept = settings.flow.as_deref().unwrap_or("every flow");
    let _ = writeln!(
        out,
        "Sweep of {swept}: {} points, {} s each, {} seeds from {}, planned faults left out (means over the seeds; \
         p99 spread in brackets)",
        result.points.len(),
        settings.duration_s,
        settings.seeds,
        settings.seed
    );
    let width = design
        .flows
        .iter()
        .map(|f| f.id.as_str().chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        out,
        "\n{:>7} {:>11}  {:width$}  {:>10} {:>9} {:>9} {:>19} {:>8} {:>13}",
        "factor",
        "offered/s",
        "FLOW",
        "goodput/s",
        "p50 ms",
        "p99 ms",
        "p99 spread",
        "errors",
        "settle p99 ms"
    );
    for point in &result.points {
        for (i, (flow, f)) in point.flows.iter().enumerate() {
            let (factor, offered) = if i == 0 {
                (
                    format!("{}", point.factor),
                    format!("{:.1}", point.offered_rps),
                )
            } else {
                (String::new(), String::new())
            };
            let slo = design
                .flow(flow)
                .and_then(|f| f.slo_p99_ms)
                .is_some_and(|slo| f.p99_ms > slo);
            let _ = writeln!(
                out,
                "{factor:>7} {offered:>11}  {flow:width$}  {:>10.1} {:>9.1} {:>8.1}{} {:>19} {:>7.2}% {:>13.1}",
                f.goodput_rps,
                f.p50_ms,
                f.p99_ms,
                if slo { "!" } else { " " },
                format!("[{:.1}-{:.1}]", f.p99_spread_ms[0], f.p99_spread_ms[1]),
                f.error_pct,
                f.settle_p99_ms
            );
        }
    }
    let _ = writeln!(out, "\n(! marks a p99 over the flow's SLO)");
    match result.knee {
        Some(knee) => {
            let _ = writeln!(
                out,
                "Knee: factor {:.3} ({:.1} requests/s): the largest load at which every flow keeps its SLO (or, \
                 without one, 3x its p99 at the lowest factor) with errors under 1%.",
                knee.factor, knee.offered_rps
            );
        }
        None => {
            let _ = writeln!(
                out,
                "Knee: none: even the lowest factor misses an SLO or has 1% errors or more."
            );
        }
    }
}

pub(super) fn plan(args: PlanArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    if !(args.target_utilization > 0.0 && args.target_utilization < 1.0) {
        let _ = writeln!(
            err,
            "error: --target-utilization must be between 0 and 1 (exclusive), not {}",
            args.target_utilization
        );
        return EXIT_USAGE;
    }
    if !(args.headroom.is_finite() && args.headroom >= 0.0) {
        let _ = writeln!(
            err,
            "error: --headroom must be 0 or more (0.5 plans for 50% more load), not {}",
            args.headroom
        );
        return EXIT_USAGE;
    }
    let Ok(design) = load_or_report(args.path, err) else {
        return EXIT_INVALID;
    };
    let run = match run_settings(&design, args.duration_s, None, args.seed, err) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let settings = PlanSettings {
        target_utilization: args.target_utilization,
        headroom: args.headroom,
        duration_s: run.duration_s,
        warmup_s: run.warmup_s,
        seeds: args.seeds,
        seed: run.seed,
    };
    let result = with_progress("plan", |progress| {
        capacity::plan(&design, &settings, progress)
    });
    let result = match result {
        Ok(result) => result,
        Err(e) => return report_error(&e, args.path, err),
    };
    if let Some(output) = args.output
        && let Err(e) = model::save_file(output, &result.sized)
    {
        let _ = writeln!(err, "error: {}: {e}", output.display());
        return EXIT_INVALID;
    }
    if args.json {
        let _ = writeln!(out, "{}", to_json(&result));
    } else {
        print_plan(&settings, &result, out);
        if let Some(output) = args.output {
            let _ = writeln!(out, "Wrote the sized design to {}", output.display());
        }
    }
    EXIT_OK
}

fn print_plan(settings: &PlanSettings, result: &capacity::PlanResult, out: &mut dyn Write) {
    let _ = writeln!(
        out,
        "Replica plan for the design's rates x {:.2}, services at most {:.0}% busy ({} seeds of {} s each)",
        1.0 + settings.headroom,
        settings.target_utilization * 100.0,
        settings.seeds,
        settings.duration_s
    );
    let width = result
        .services
        .keys()
        .map(|k| k.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    let _ = writeln!(
        out,
        "\n{:width$}  {:>8} {:>8} {:>12} {:>9}",
        "SERVICE", "before", "after", "utilization", "p99 ms"
    );
    for (id, service) in &result.services {
        let change = match service.replicas_after.cmp(&service.replicas_before) {
            std::cmp::Ordering::Greater => "+",
            std::cmp::Ordering::Less => "-",
            std::cmp::Ordering::Equal => " ",
        };
        let _ = writeln!(
            out,
            "{id:width$}  {:>8} {:>7}{change} {:>11.1}% {:>9.1}",
            service.replicas_before,
            service.replicas_after,
            service.utilization * 100.0,
            service.p99_ms
        );
    }
    let _ = writeln!(
        out,
        "{:width$}  {:>8} {:>8}",
        "total", result.replicas_total_before, result.replicas_total_after
    );
    let _ = writeln!(
        out,
        "\n{}",
        if result.meets_slo {
            "The planned design meets every flow's SLO with errors under 0.1% (beyond the services' own error \
             rates) in simulation."
        } else {
            "The planned design still misses an SLO, the error bound or the utilization target in simulation: see \
             `syncopate simulate` of the sized design."
        }
    );
}
