//! The command line: argument types (clap) and the headless subcommands.
//!
//! Exit codes: 0 success; 1 invalid design, unreadable input, or (with `--deny-warnings`) warnings present;
//! 2 usage error. Errors go to stderr, one line each.

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use serde::Serialize;

mod capacity;
mod diff;
#[cfg(feature = "emulate")]
mod emulate;
mod progress;

use crate::export;
use crate::logging::LogLevel;
use crate::model::{self, Design, LoadError};
use crate::rules::{self, Severity};
use crate::sequence;
use crate::sim;

/// Exit code of a successful run.
pub const EXIT_OK: u8 = 0;
/// Exit code of an invalid design, unreadable input, or warnings under `--deny-warnings`.
pub const EXIT_INVALID: u8 = 1;
/// Exit code of a usage error (what clap uses too).
pub const EXIT_USAGE: u8 = 2;

/// Syncopate: design microservice topologies, see their sync/async trade-offs, simulate load, export configuration.
#[derive(Debug, Parser)]
#[command(name = "syncopate", version, about)]
pub struct Cli {
    /// What to do; without a command the desktop app opens.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// A design file to open in the desktop app.
    pub file: Option<PathBuf>,
    /// How much to write to the log file (in the data directory's `logs` folder, e.g.
    /// ~/.local/share/syncopate/logs on Linux; one file a day, the last seven kept).
    #[arg(long, global = true, value_enum, default_value_t = LogLevel::Info)]
    pub log_level: LogLevel,
}

impl Cli {
    /// Parses the process's arguments; a usage error (exit code 2) ends the process with clap's message.
    pub fn parse_args() -> Self {
        let cli = Self::parse();
        // A file to open and a subcommand together are a mistake (`syncopate a.syncopate check b.syncopate`).
        if let (Some(file), Some(_)) = (&cli.file, &cli.command) {
            use clap::CommandFactory;
            Self::command()
                .error(
                    clap::error::ErrorKind::ArgumentConflict,
                    format!(
                        "the file to open ({}) cannot be used with a subcommand",
                        file.display()
                    ),
                )
                .exit();
        }
        cli
    }
}

/// The headless subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a design and report its trade-off warnings.
    Check {
        /// The design file.
        file: PathBuf,
        /// Print a machine-readable report on stdout.
        #[arg(long)]
        json: bool,
        /// Exit with 1 when there are warnings, not only errors.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Run a load simulation of a design and print its statistics.
    Simulate {
        /// The design file.
        file: PathBuf,
        /// Simulated seconds (overrides the design's simulation.duration_s).
        #[arg(long)]
        duration_s: Option<f64>,
        /// Seconds left out of the statistics at the start (overrides simulation.warmup_s).
        #[arg(long)]
        warmup_s: Option<f64>,
        /// Random seed (overrides simulation.seed).
        #[arg(long)]
        seed: Option<u64>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Simulate a design at a range of multiples of its load, and find the knee where it stops keeping its SLOs.
    Sweep {
        /// The design file.
        file: PathBuf,
        /// Scale only this flow's rate (default: every flow's).
        #[arg(long)]
        flow: Option<String>,
        /// The factors, FROM:TO:STEP (e.g. 0.5:3:0.25): each point runs the design at rate × factor.
        #[arg(long, allow_hyphen_values = true)]
        scale: String,
        /// Simulated seconds per point (default: the design's simulation.duration_s).
        #[arg(long)]
        duration_s: Option<f64>,
        /// Seconds of each run left out of the statistics (default: the design's simulation.warmup_s).
        #[arg(long)]
        warmup_s: Option<f64>,
        /// Runs per point, with seeds seed, seed + 1…; their mean is reported, and the spread of p99.
        #[arg(long, default_value_t = 3)]
        seeds: u32,
        /// The first seed (default: the design's simulation.seed).
        #[arg(long)]
        seed: Option<u64>,
        /// Print JSON instead of a table.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Print CSV, one row per point and flow.
        #[arg(long)]
        csv: bool,
    },
    /// Plan the fewest replicas per service for the design's load, confirmed by simulation.
    Plan {
        /// The design file.
        file: PathBuf,
        /// The busiest any service may be, between 0 and 1.
        #[arg(long, allow_hyphen_values = true, default_value_t = 0.7)]
        target_utilization: f64,
        /// Extra load to plan for: the design's rates × (1 + headroom), e.g. 0.5 for 50% more.
        #[arg(long, allow_hyphen_values = true, default_value_t = 0.0)]
        headroom: f64,
        /// Write the sized design (only replicas changed) to this file.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// Simulated seconds per check (default: the design's simulation.duration_s).
        #[arg(long)]
        duration_s: Option<f64>,
        /// Runs per check, with seeds seed, seed + 1….
        #[arg(long, default_value_t = 3)]
        seeds: u32,
        /// The first seed (default: the design's simulation.seed).
        #[arg(long)]
        seed: Option<u64>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run the design for real on this machine (servers on loopback, real HTTP/gRPC, RabbitMQ, and optionally the
    /// exported Envoy proxies) and report what it measured, in the shape of `simulate --json`.
    #[cfg(feature = "emulate")]
    Emulate {
        /// The design file.
        file: PathBuf,
        /// Seconds of load (overrides the design's simulation.duration_s).
        #[arg(long)]
        duration_s: Option<f64>,
        /// Seconds left out of the statistics at the start (overrides simulation.warmup_s).
        #[arg(long)]
        warmup_s: Option<f64>,
        /// Random seed of arrivals, service times and errors (overrides simulation.seed).
        #[arg(long)]
        seed: Option<u64>,
        /// How calls travel: `direct` (the emulator applies each call's policies) or `envoy` (through each
        /// caller's exported Envoy proxy).
        #[arg(long, value_enum, default_value_t = EmulateThrough::Direct)]
        through: EmulateThrough,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Also simulate the design with the same seed and duration, and print both side by side.
        #[arg(long)]
        compare: bool,
        /// With --compare: exit 1 when a flow's goodput, p50, p95 or p99 differs by more than this percentage,
        /// or its error rate by more than this many percentage points.
        #[arg(long, requires = "compare")]
        tolerance: Option<f64>,
        /// Refuse designs that need more listening sockets than this.
        #[arg(long, default_value_t = crate::emulate::DEFAULT_MAX_LISTENERS)]
        max_listeners: usize,
        /// Refuse designs that need more processes (Envoys, RabbitMQ) than this.
        #[arg(long, default_value_t = crate::emulate::DEFAULT_MAX_PROCESSES)]
        max_processes: usize,
        /// Keep the emulation up until Ctrl+C (or SIGTERM) and serve its control API on loopback: inject and
        /// clear faults, probe a flow, read the report (docs/chaos.md). Prints `serving http://127.0.0.1:PORT`.
        #[arg(long, conflicts_with = "compare")]
        serve: bool,
        /// With --serve: the API's port (0 for any free port).
        #[arg(long, default_value_t = 7070, requires = "serve")]
        serve_port: u16,
    },
    /// Compare two designs: what changed, item by item, and what it changes (findings, estimated latency and load,
    /// and with --simulate both sides simulated). Exit 0 when the same, 1 when they differ, 2 on errors.
    Diff {
        /// The old design: a file, or `REV:PATH` read from the git repository around the current folder (as `git
        /// show REV:PATH` reads it).
        old: String,
        /// The new design: a file or `REV:PATH`.
        new: String,
        /// Print JSON (the same as --format json).
        #[arg(long, conflicts_with = "format")]
        json: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
        /// Also simulate both sides with the same seed and duration and compare each flow.
        #[arg(long)]
        simulate: bool,
        /// Simulated seconds of each side (default: the old design's simulation.duration_s).
        #[arg(long, requires = "simulate")]
        duration_s: Option<f64>,
        /// Seed of both runs (default: the old design's simulation.seed).
        #[arg(long, requires = "simulate")]
        seed: Option<u64>,
        /// Pair a removed and an added item with the same display name as one renamed item.
        #[arg(long)]
        match_names: bool,
        /// Count moved services as changed (positions are ignored otherwise).
        #[arg(long)]
        positions: bool,
    },
    /// Lay a design out again (layered, few crossings) and save it; only the services' positions change.
    Layout {
        /// The design file.
        file: PathBuf,
        /// Write the laid-out design here instead of replacing FILE (which is saved atomically).
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
    },
    /// Generate sequence diagrams of a design's flows.
    Sequence {
        /// The design file.
        file: PathBuf,
        /// Only this flow (default: every flow).
        #[arg(long)]
        flow: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = SequenceFormat::Mermaid)]
        format: SequenceFormat,
        /// Write to this path instead of stdout: the file, for one flow; for several, a folder (created if
        /// needed) with one file per flow, `<flow id>.<mmd|puml|svg>` (an id that is not a portable file name, with `/`
        /// or `:` say, is made one and given a short hash). Prints the paths written.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
    },
    /// Export configuration for proxies and orchestrators.
    Export {
        /// The design file.
        file: PathBuf,
        /// What to generate.
        #[arg(long, value_enum)]
        target: ExportTarget,
        /// Folder to write the files into (default: the current folder).
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// With `--target chaos`: the experiment's actions call `syncopate emulate FILE --serve`'s fault API
        /// instead of creating Chaos Mesh resources in a cluster.
        #[arg(long = "for-emulator")]
        for_emulator: bool,
    },
    /// Turn an existing system description into a design.
    Import {
        /// What kind of input it is.
        #[arg(value_enum)]
        kind: ImportKind,
        /// The input file.
        input: PathBuf,
        /// Write the design to this file instead of stdout.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
    },
}

/// Formats of `syncopate sequence`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SequenceFormat {
    /// Mermaid `sequenceDiagram` text.
    Mermaid,
    /// PlantUML text.
    Plantuml,
    /// A standalone SVG image.
    Svg,
}

/// Targets of `syncopate export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportTarget {
    /// Envoy v3 sidecar and front-proxy bootstraps.
    Envoy,
    /// Istio VirtualServices and DestinationRules.
    Istio,
    /// Kubernetes Deployments, Services and broker StatefulSets.
    Kubernetes,
    /// A docker-compose file.
    Compose,
    /// nginx configuration for gateways.
    Nginx,
    /// RabbitMQ definitions.
    Rabbitmq,
    /// Kafka topics.
    Kafka,
    /// Chaos experiments from the planned faults (Chaos Toolkit, Chaos Mesh, Istio faults); not part of `all`.
    Chaos,
    /// AsyncAPI 3.0 document of the queues and topics; not part of `all`.
    Asyncapi,
    /// OpenAPI 3.1 documents and gRPC `.proto` sketches per service; not part of `all`.
    Openapi,
    /// Every production target (envoy to kafka; chaos, asyncapi and openapi only when named).
    All,
}

/// Formats of `syncopate diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Lines for a terminal.
    Text,
    /// A comment for a pull request.
    Markdown,
    /// Machine-readable JSON (documented in docs/review.md).
    Json,
}

/// How `syncopate emulate` sends calls.
#[cfg(feature = "emulate")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmulateThrough {
    /// The emulator's own client applies each call's timeout, retries, breaker and bulkhead.
    Direct,
    /// Each caller's exported Envoy proxy does.
    Envoy,
}

/// Inputs of `syncopate import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportKind {
    /// A docker-compose file.
    Compose,
    /// Kubernetes manifests (multi-document YAML).
    Kubernetes,
    /// Zipkin v2 JSON traces.
    Zipkin,
    /// Jaeger JSON traces.
    Jaeger,
    /// OTLP/JSON traces.
    Otlp,
}

/// Runs a headless subcommand, writing results to `out` and errors to `err`; returns the exit code.
pub fn run_command(command: &Command, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let started = std::time::Instant::now();
    let code = dispatch(command, out, err);
    tracing::info!(
        command = ?command,
        exit_code = code,
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        "command finished"
    );
    code
}

fn dispatch(command: &Command, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match command {
        Command::Check {
            file,
            json,
            deny_warnings,
        } => check(file, *json, *deny_warnings, out, err),
        Command::Simulate {
            file,
            duration_s,
            warmup_s,
            seed,
            json,
        } => simulate(file, *duration_s, *warmup_s, *seed, *json, out, err),
        Command::Sweep {
            file,
            flow,
            scale,
            duration_s,
            warmup_s,
            seeds,
            seed,
            json,
            csv,
        } => capacity::sweep(
            capacity::SweepArgs {
                path: file,
                flow: flow.as_deref(),
                scale,
                duration_s: *duration_s,
                warmup_s: *warmup_s,
                seeds: *seeds,
                seed: *seed,
                format: if *json {
                    capacity::Format::Json
                } else if *csv {
                    capacity::Format::Csv
                } else {
                    capacity::Format::Table
                },
            },
            out,
            err,
        ),
        Command::Plan {
            file,
            target_utilization,
            headroom,
            output,
            duration_s,
            seeds,
            seed,
            json,
        } => capacity::plan(
            capacity::PlanArgs {
                path: file,
                target_utilization: *target_utilization,
                headroom: *headroom,
                output: output.as_deref(),
                duration_s: *duration_s,
                seeds: *seeds,
                seed: *seed,
                json: *json,
            },
            out,
            err,
        ),
        #[cfg(feature = "emulate")]
        Command::Emulate {
            file,
            duration_s,
            warmup_s,
            seed,
            through,
            json,
            compare,
            tolerance,
            max_listeners,
            max_processes,
            serve,
            serve_port,
        } => emulate::emulate(
            &emulate::EmulateArgs {
                path: file,
                duration_s: *duration_s,
                warmup_s: *warmup_s,
                seed: *seed,
                through: *through,
                json: *json,
                compare: *compare,
                tolerance: *tolerance,
                max_listeners: *max_listeners,
                max_processes: *max_processes,
                serve_port: serve.then_some(*serve_port),
            },
            out,
            err,
        ),
        Command::Sequence {
            file,
            flow,
            format,
            output,
        } => sequence(file, flow.as_deref(), *format, output.as_deref(), out, err),
        Command::Export {
            file,
            target,
            output,
            for_emulator,
        } => export(file, *target, *for_emulator, output.as_deref(), out, err),
        Command::Import {
            kind,
            input,
            output,
        } => import(*kind, input, output.as_deref(), out, err),
        Command::Layout { file, output } => layout(file, output.as_deref(), out, err),
        Command::Diff {
            old,
            new,
            json,
            format,
            simulate,
            duration_s,
            seed,
            match_names,
            positions,
        } => diff::diff(
            &diff::DiffArgs {
                old,
                new,
                format: if *json { DiffFormat::Json } else { *format },
                simulate: *simulate,
                duration_s: *duration_s,
                seed: *seed,
                options: model::diff::DiffOptions {
                    match_names: *match_names,
                    positions: *positions,
                },
            },
            out,
            err,
        ),
    }
}

/// `syncopate layout`: new positions for every service, nothing else changed, written through the atomic save.
fn layout(
    path: &std::path::Path,
    output: Option<&std::path::Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let Ok(mut design) = load_or_report(path, err) else {
        return EXIT_INVALID;
    };
    let before = model::layout::crossings(&design);
    model::layout::tidy_layout(&mut design);
    let after = model::layout::crossings(&design);
    let target = output.unwrap_or(path);
    if let Err(e) = model::save_file(target, &design) {
        let _ = writeln!(err, "error: {e}");
        return EXIT_INVALID;
    }
    let _ = writeln!(
        out,
        "laid out {} services into {} ({before} crossings before, {after} now)",
        design.services.len(),
        target.display()
    );
    EXIT_OK
}

/// Loads a design for a subcommand, printing the one-line error on failure.
fn load_or_report(path: &std::path::Path, err: &mut dyn Write) -> Result<Design, LoadError> {
    model::load_file(path).inspect_err(|e| {
        let _ = writeln!(err, "error: {e}");
    })
}

/// The `check --json` report (documented in docs/rules.md).
#[derive(Serialize)]
struct CheckReport<'a> {
    file: String,
    valid: bool,
    errors: Vec<ReportedProblem>,
    summary: Summary,
    findings: &'a [rules::Finding],
}

#[derive(Serialize, Clone, Copy)]
struct Summary {
    errors: usize,
    warnings: usize,
    info: usize,
}

#[derive(Serialize)]
struct ReportedProblem {
    path: String,
    message: String,
}

fn check(
    path: &std::path::Path,
    json: bool,
    deny_warnings: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let loaded = load_or_report(path, err);
    let report = loaded.as_ref().map(rules::check).unwrap_or_default();
    let summary = Summary {
        errors: report.count(Severity::Error),
        warnings: report.count(Severity::Warning),
        info: report.count(Severity::Info),
    };
    if json {
        let errors = match &loaded {
            Ok(_) => Vec::new(),
            Err(e) => std::iter::once(ReportedProblem {
                path: e.location.clone(),
                message: e.message.clone(),
            })
            .chain(e.more.iter().map(|p| ReportedProblem {
                path: p.path.clone(),
                message: p.message.clone(),
            }))
            .collect(),
        };
        let json_report = CheckReport {
            file: path.display().to_string(),
            valid: loaded.is_ok(),
            errors,
            summary,
            findings: &report.findings,
        };
        let _ = writeln!(out, "{}", to_json(&json_report));
    } else if let Ok(design) = &loaded {
        let _ = writeln!(
            out,
            "{}: valid design ({} services, {} calls, {} flows): {} errors, {} warnings, {} info",
            path.display(),
            design.services.len(),
            design.edges.len(),
            design.flows.len(),
            summary.errors,
            summary.warnings,
            summary.info
        );
        print_findings(&report.findings, out);
    }
    let failed = loaded.is_err() || summary.errors > 0 || (deny_warnings && summary.warnings > 0);
    if failed { EXIT_INVALID } else { EXIT_OK }
}

/// Prints findings grouped by severity, most severe first.
fn print_findings(findings: &[rules::Finding], out: &mut dyn Write) {
    for severity in [Severity::Error, Severity::Warning, Severity::Info] {
        let group: Vec<&rules::Finding> =
            findings.iter().filter(|f| f.severity == severity).collect();
        if group.is_empty() {
            continue;
        }
        let heading = match severity {
            Severity::Error => "Errors",
            Severity::Warning => "Warnings",
            Severity::Info => "Info",
        };
        let _ = writeln!(out, "\n{heading} ({}):", group.len());
        for finding in group {
            let _ = writeln!(
                out,
                "  {}[{}] {}",
                severity.as_str(),
                finding.rule,
                finding.message
            );
            let _ = writeln!(out, "      why: {}", finding.tradeoff);
            let _ = writeln!(out, "      do:  {}", finding.suggestion);
        }
    }
}

fn simulate(
    path: &std::path::Path,
    duration_s: Option<f64>,
    warmup_s: Option<f64>,
    seed: Option<u64>,
    json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let Ok(design) = load_or_report(path, err) else {
        return EXIT_INVALID;
    };
    let settings = match run_settings(&design, duration_s, warmup_s, seed, err) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let mut simulation = match sim::Simulation::new(&design, settings) {
        Ok(simulation) => simulation,
        Err(e) => {
            let _ = writeln!(err, "error: {}: {e}", path.display());
            return EXIT_INVALID;
        }
    };
    let report = progress::run_with_progress(&mut simulation);
    if report.partial {
        let _ = writeln!(
            err,
            "stopped at {:.1} s of {:.1} s: the report is of what was simulated so far (partial)",
            report.simulated_s, settings.duration_s
        );
    }
    if json {
        let _ = writeln!(out, "{}", to_json(&report));
    } else {
        print_simulation(&report, out);
    }
    EXIT_OK
}

/// The design's simulation settings with the command line's overrides, checked; a usage error is said on `err`
/// and its exit code returned.
fn run_settings(
    design: &Design,
    duration_s: Option<f64>,
    warmup_s: Option<f64>,
    seed: Option<u64>,
    err: &mut dyn Write,
) -> Result<model::SimulationSettings, u8> {
    let mut settings = design.simulation_settings();
    if let Some(duration) = duration_s {
        settings.duration_s = duration;
    }
    if let Some(warmup) = warmup_s {
        settings.warmup_s = warmup;
    }
    if let Some(seed) = seed {
        settings.seed = seed;
    }
    if !(settings.duration_s.is_finite()
        && settings.duration_s > 0.0
        && settings.duration_s <= model::validate::MAX_SIMULATED_S)
    {
        let _ = writeln!(
            err,
            "error: --duration-s must be a number of seconds greater than 0 and at most {}, not {}",
            model::validate::MAX_SIMULATED_S,
            settings.duration_s
        );
        return Err(EXIT_USAGE);
    }
    if !(settings.warmup_s.is_finite()
        && settings.warmup_s >= 0.0
        && settings.warmup_s < settings.duration_s)
    {
        let _ = writeln!(
            err,
            "error: the warm-up ({} s) must be at least 0 and shorter than the duration ({} s); set --warmup-s",
            settings.warmup_s, settings.duration_s
        );
        return Err(EXIT_USAGE);
    }
    Ok(settings)
}

/// The width of a report table's first column: the longest flow, service or call id (at least 7).
fn id_column_width(report: &sim::SimReport) -> usize {
    report
        .flows
        .keys()
        .chain(report.services.keys())
        .chain(report.edges.keys())
        .map(|k| k.chars().count())
        .max()
        .unwrap_or(4)
        .max(7)
}

/// The readable table of `simulate`.
fn print_simulation(report: &sim::SimReport, out: &mut dyn Write) {
    let _ = writeln!(
        out,
        "Simulated {:.1} s (warm-up {:.1} s, seed {}, {} events)",
        report.simulated_s, report.warmup_s, report.seed, report.events
    );
    let width = id_column_width(report);
    let _ = writeln!(
        out,
        "\n{:width$}  {:>9} {:>9} {:>7} {:>10} {:>9} {:>9} {:>9} {:>9} {:>14} {:>9} {:>13}",
        "FLOW",
        "started",
        "completed",
        "failed",
        "goodput/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "settle p99 ms",
        "unsettled",
        "settle failed"
    );
    for (id, f) in &report.flows {
        let l = &f.latency_ms;
        let _ = writeln!(
            out,
            "{id:width$}  {:>9} {:>9} {:>7} {:>10.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>14.1} {:>9} {:>13}",
            f.started,
            f.completed,
            f.failed,
            f.goodput_rps,
            l.p50,
            l.p95,
            l.p99,
            l.max,
            f.settle_ms.p99,
            f.unsettled,
            f.settle_failed
        );
    }
    let _ = writeln!(
        out,
        "\n{:width$}  {:>9} {:>9} {:>7} {:>8} {:>6} {:>9} {:>9} {:>9} {:>9}",
        "SERVICE",
        "arrivals",
        "completed",
        "failed",
        "rejected",
        "util",
        "queue",
        "max queue",
        "mean ms",
        "p99 ms"
    );
    for (id, s) in &report.services {
        let _ = writeln!(
            out,
            "{id:width$}  {:>9} {:>9} {:>7} {:>8} {:>5.0}% {:>9.1} {:>9} {:>9.1} {:>9.1}",
            s.arrivals,
            s.completed,
            s.failed,
            s.rejected,
            s.utilization * 100.0,
            s.mean_queue_length,
            s.max_queue_length,
            s.sojourn_ms.mean,
            s.sojourn_ms.p99
        );
    }
    let _ = writeln!(
        out,
        "\n{:width$}  {:>9} {:>9} {:>9} {:>9} {:>15} {:>11} {:>11}",
        "CALL",
        "calls",
        "failures",
        "timeouts",
        "retries",
        "short-circuited",
        "lag p99 ms",
        "max backlog"
    );
    for (id, e) in &report.edges {
        // Lag and backlog belong to async calls; a sync call shows a dash.
        let lag = e.lag_ms.map_or("-".to_owned(), |l| format!("{:.1}", l.p99));
        let backlog = e.max_backlog.map_or("-".to_owned(), |b| b.to_string());
        let _ = writeln!(
            out,
            "{id:width$}  {:>9} {:>9} {:>9} {:>9} {:>15} {:>11} {:>11}",
            e.calls, e.failures, e.timeouts, e.retries, e.short_circuited, lag, backlog
        );
    }
}

fn sequence(
    path: &std::path::Path,
    flow: Option<&str>,
    format: SequenceFormat,
    output: Option<&std::path::Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let Ok(design) = load_or_report(path, err) else {
        return EXIT_INVALID;
    };
    let diagrams = match flow {
        Some(id) => match sequence::diagram(&design, id) {
            Some(diagram) => vec![diagram],
            None => {
                let known: Vec<&str> = design.flows.iter().map(|f| f.id.as_str()).collect();
                let _ = writeln!(
                    err,
                    "error: {} has no flow \"{id}\"; its flows are: {}",
                    path.display(),
                    if known.is_empty() {
                        "(none)".to_owned()
                    } else {
                        known.join(", ")
                    }
                );
                return EXIT_USAGE;
            }
        },
        None => sequence::diagrams(&design),
    };
    if diagrams.is_empty() {
        let _ = writeln!(
            err,
            "error: {} has no flows, so there is no sequence to draw",
            path.display()
        );
        return EXIT_INVALID;
    }
    let render = |diagram: &sequence::SequenceDiagram| match format {
        SequenceFormat::Mermaid => sequence::to_mermaid(diagram),
        SequenceFormat::Plantuml => sequence::to_plantuml(diagram),
        SequenceFormat::Svg => sequence::to_svg(diagram),
    };
    let extension = match format {
        SequenceFormat::Mermaid => "mmd",
        SequenceFormat::Plantuml => "puml",
        SequenceFormat::Svg => "svg",
    };
    let write = |target: &std::path::Path, text: &str, err: &mut dyn Write| {
        if let Err(e) = model::file::write_atomically(target, text.as_bytes()) {
            let _ = writeln!(err, "error: {e}");
            return false;
        }
        true
    };
    match output {
        // One diagram: the path is the file.
        Some(target) if diagrams.len() == 1 => {
            if !write(target, &render(&diagrams[0]), err) {
                return EXIT_INVALID;
            }
            let _ = writeln!(out, "{}", target.display());
        }
        // Several: the path is a folder with one file per flow.
        Some(folder) => {
            if let Err(e) = std::fs::create_dir_all(folder) {
                let _ = writeln!(
                    err,
                    "error: {}: cannot create the folder: {e}",
                    folder.display()
                );
                return EXIT_INVALID;
            }
            // Flow ids are free text (`/`, `..`, `:`): each file gets a name that stays in the folder.
            let stems = model::ids::portable_file_stems(diagrams.iter().map(|d| d.flow.as_str()));
            for (diagram, stem) in diagrams.iter().zip(stems) {
                let target = folder.join(format!("{stem}.{extension}"));
                if !write(&target, &render(diagram), err) {
                    return EXIT_INVALID;
                }
                let _ = writeln!(out, "{}", target.display());
            }
        }
        None => {
            let texts: Vec<String> = diagrams.iter().map(render).collect();
            let _ = write!(out, "{}", texts.join("\n"));
        }
    }
    EXIT_OK
}

impl ExportTarget {
    /// The export targets this choice stands for.
    pub fn targets(self) -> Vec<export::Target> {
        match self {
            ExportTarget::Envoy => vec![export::Target::Envoy],
            ExportTarget::Istio => vec![export::Target::Istio],
            ExportTarget::Kubernetes => vec![export::Target::Kubernetes],
            ExportTarget::Compose => vec![export::Target::Compose],
            ExportTarget::Nginx => vec![export::Target::Nginx],
            ExportTarget::Rabbitmq => vec![export::Target::Rabbitmq],
            ExportTarget::Kafka => vec![export::Target::Kafka],
            ExportTarget::Chaos => vec![export::Target::Chaos],
            ExportTarget::Asyncapi => vec![export::Target::Asyncapi],
            ExportTarget::Openapi => vec![export::Target::Openapi],
            ExportTarget::All => export::Target::ALL.to_vec(),
        }
    }
}

fn export(
    path: &std::path::Path,
    target: ExportTarget,
    for_emulator: bool,
    output: Option<&std::path::Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    if for_emulator && target != ExportTarget::Chaos {
        let _ = writeln!(
            err,
            "error: --for-emulator goes with --target chaos (it points the chaos experiment at `syncopate emulate \
             --serve`)"
        );
        return EXIT_USAGE;
    }
    let Ok(design) = load_or_report(path, err) else {
        return EXIT_INVALID;
    };
    let files: Vec<export::ExportedFile> = if for_emulator {
        export::chaos::files(&design, export::chaos::ChaosRunner::Emulator)
    } else {
        target
            .targets()
            .into_iter()
            .flat_map(|t| export::export(&design, t))
            .collect()
    };
    if target == ExportTarget::All {
        let _ = writeln!(
            err,
            "note: --target all writes the production configuration; chaos experiments, AsyncAPI and OpenAPI are \
             written only when named (--target chaos, asyncapi, openapi)"
        );
    }
    if files.is_empty() {
        // Only the named targets' needs: a design with nothing for openapi is told what openapi needs. Targets
        // with the same need are named together ("envoy and istio need sync calls").
        let mut by_need: Vec<(&str, Vec<&str>)> = Vec::new();
        for t in target.targets() {
            match by_need.iter_mut().find(|(need, _)| *need == t.needs()) {
                Some((_, names)) => names.push(t.as_str()),
                None => by_need.push((t.needs(), vec![t.as_str()])),
            }
        }
        let needs: Vec<String> = by_need
            .into_iter()
            .map(|(need, names)| {
                let verb = if names.len() == 1 { "needs" } else { "need" };
                format!("{} {verb} {need}", names.join(" and "))
            })
            .collect();
        let _ = writeln!(
            err,
            "error: {} has nothing to export for {}: {}",
            path.display(),
            target
                .to_possible_value()
                .map_or_else(|| "this target".to_owned(), |v| v.get_name().to_owned()),
            needs.join("; "),
        );
        return EXIT_INVALID;
    }
    let folder = output.unwrap_or_else(|| std::path::Path::new("."));
    match export::write_files(folder, &files) {
        Ok(written) => {
            for path in written {
                let _ = writeln!(out, "{}", path.display());
            }
            EXIT_OK
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            EXIT_INVALID
        }
    }
}

impl ImportKind {
    /// The importer this choice stands for.
    pub fn source(self) -> crate::import::Source {
        use crate::import::Source;
        match self {
            ImportKind::Compose => Source::Compose,
            ImportKind::Kubernetes => Source::Kubernetes,
            ImportKind::Zipkin => Source::Zipkin,
            ImportKind::Jaeger => Source::Jaeger,
            ImportKind::Otlp => Source::Otlp,
        }
    }
}

/// `import`: the design goes to the output file, or to stdout (then the guesses go to stderr, so stdout stays a
/// clean design file).
fn import(
    kind: ImportKind,
    input: &std::path::Path,
    output: Option<&std::path::Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let imported = match crate::import::import_file(kind.source(), input) {
        Ok(imported) => imported,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return EXIT_INVALID;
        }
    };
    let design = &imported.design;
    let summary = format!(
        "imported {} services, {} calls and {} flows from {}",
        design.services.len(),
        design.edges.len(),
        design.flows.len(),
        input.display()
    );
    match output {
        Some(path) => {
            if let Err(e) = model::save_file(path, design) {
                let _ = writeln!(err, "error: {e}");
                return EXIT_INVALID;
            }
            let _ = writeln!(out, "{summary} into {}", path.display());
            for note in &imported.notes {
                let _ = writeln!(out, "  {note}");
            }
        }
        None => {
            let _ = write!(out, "{}", model::to_json_pretty(design));
            let _ = writeln!(err, "{summary}");
            for note in &imported.notes {
                let _ = writeln!(err, "  {note}");
            }
        }
    }
    EXIT_OK
}

/// Pretty JSON of a report made of plain data.
fn to_json<T: Serialize>(value: &T) -> String {
    // Reports are plain structs of strings, numbers and vectors: serializing them cannot fail.
    serde_json::to_string_pretty(value)
        .unwrap_or_else(|e| unreachable!("serializing a report failed: {e}"))
}
