//! Structured logs: `tracing` events with fields, written by a background thread to a daily log file in the
//! platform's data directory (`~/.local/share/syncopate/logs/` on Linux), so a user can attach one to a bug report.
//!
//! Logs never go to the terminal: the CLI's standard error is reserved for its one-line messages.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use clap::ValueEnum;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// How many daily log files are kept; older ones are deleted as new ones start.
const KEPT_LOG_FILES: usize = 7;

/// The log file name is `syncopate.YYYY-MM-DD.log`.
const LOG_FILE_PREFIX: &str = "syncopate";
const LOG_FILE_SUFFIX: &str = "log";

static PROCESS_START: OnceLock<Instant> = OnceLock::new();

/// How much is logged (`--log-level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum, Default)]
pub enum LogLevel {
    /// Nothing, and no log file is written.
    Off,
    /// Failures only.
    Error,
    /// Failures and things that went wrong but were handled.
    Warn,
    /// What the user did and what the program did about it (files opened and saved, runs, exports).
    #[default]
    Info,
    /// Also every applied command, autosave and command to the simulator thread.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    fn filter(self) -> LevelFilter {
        match self {
            LogLevel::Off => LevelFilter::OFF,
            LogLevel::Error => LevelFilter::ERROR,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Trace => LevelFilter::TRACE,
        }
    }
}

/// The platform's data directory for Syncopate (e.g. `~/.local/share/syncopate` on Linux), where the log files,
/// the recovery file and the recent-files list live.
pub fn data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "Syncopate", "Syncopate")
        .map(|dirs| dirs.data_dir().to_owned())
}

/// The folder of the log files, inside the data directory.
pub fn log_dir() -> Option<PathBuf> {
    data_dir().map(|dir| dir.join("logs"))
}

/// Keeps the background writer alive; dropping it flushes what is still queued.
pub struct LogGuard {
    _writer: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// Starts logging at `level` into daily files in `dir` (normally [`log_dir`]). Logging is best effort: when the
/// folder cannot be created or written, the program runs without a log. Call once, at the start of `main`.
pub fn init(level: LogLevel, dir: Option<&Path>) -> LogGuard {
    let _ = PROCESS_START.set(Instant::now());
    install_log_bridge();
    let none = LogGuard { _writer: None };
    let Some(dir) = dir else { return none };
    if level == LogLevel::Off {
        return none;
    }
    // The appender would complain on standard error about a missing folder; without one there is no log.
    if std::fs::create_dir_all(dir).is_err() {
        return none;
    }
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(LOG_FILE_PREFIX)
        .filename_suffix(LOG_FILE_SUFFIX)
        .max_log_files(KEPT_LOG_FILES)
        .build(dir);
    let Ok(appender) = appender else { return none };
    let (writer, guard) = tracing_appender::non_blocking(appender);
    // Other crates (winit, wgpu) log chatty warnings about the platform on every start: only their errors are
    // kept, unless the user asked for debug or trace.
    let others = if level >= LogLevel::Debug {
        level.filter()
    } else {
        LevelFilter::ERROR
    };
    let targets = Targets::new()
        .with_target(env!("CARGO_CRATE_NAME"), level.filter())
        .with_default(others);
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false)
        .with_thread_names(true);
    let installed = tracing_subscriber::registry()
        .with(layer)
        .with(targets)
        .try_init();
    if installed.is_err() {
        // Another subscriber is already set (a test harness): keep it.
        return none;
    }
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        os = std::env::consts::OS,
        arch = std::env::consts::ARCH,
        pid = std::process::id(),
        "syncopate started"
    );
    LogGuard {
        _writer: Some(guard),
    }
}

/// Milliseconds since [`init`] was called (or since the first call of this function, if it never was).
pub fn ms_since_start() -> f64 {
    PROCESS_START
        .get_or_init(Instant::now)
        .elapsed()
        .as_secs_f64()
        * 1000.0
}

/// The last file dialog failure reported through the `log` crate, not yet taken.
static DIALOG_FAILURE: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Carries the `log` crate's warnings and errors into the log file (rfd, which shows the native file dialogs,
/// reports through it), and keeps the last file dialog failure so the window can say why no dialog appeared:
/// rfd answers "no file" both when the user cancels and when no dialog could be shown.
struct LogBridge;

impl log::Log for LogBridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record<'_>) {
        thread_local! {
            static FORWARDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        }
        // tracing, without a subscriber of its own, hands its events back to `log`: forwarded once, never again.
        if !self.enabled(record.metadata()) || FORWARDING.with(std::cell::Cell::get) {
            return;
        }
        FORWARDING.with(|f| f.set(true));
        self.forward(record);
        FORWARDING.with(|f| f.set(false));
    }

    fn flush(&self) {}
}

impl LogBridge {
    fn forward(&self, record: &log::Record<'_>) {
        let message = record.args().to_string();
        let target = record.target();
        if record.level() == log::Level::Error {
            tracing::error!(target: "log", source = target, "{message}");
            if target.starts_with("rfd")
                && let Ok(mut failure) = DIALOG_FAILURE.lock()
            {
                *failure = Some(message);
            }
        } else {
            tracing::warn!(target: "log", source = target, "{message}");
        }
    }
}

/// Installs the bridge from the `log` crate (once; later calls change nothing).
pub fn install_log_bridge() {
    static BRIDGE: LogBridge = LogBridge;
    if log::set_logger(&BRIDGE).is_ok() {
        log::set_max_level(log::LevelFilter::Warn);
    }
}

/// Forgets any earlier file dialog failure (before a new dialog is shown).
pub fn clear_dialog_failure() {
    if let Ok(mut failure) = DIALOG_FAILURE.lock() {
        *failure = None;
    }
}

/// The file dialog failure reported since [`clear_dialog_failure`], if any (taken).
pub fn take_dialog_failure() -> Option<String> {
    DIALOG_FAILURE.lock().ok().and_then(|mut f| f.take())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dialog_that_rfd_could_not_show_is_kept_for_the_window() {
        install_log_bridge();
        clear_dialog_failure();
        log::warn!(target: "rfd::backend", "a warning is no failure");
        assert_eq!(take_dialog_failure(), None);
        log::error!(target: "other", "Failed to do something else");
        assert_eq!(take_dialog_failure(), None);
        log::error!(target: "rfd::backend::xdg_desktop_portal", "Failed to pick folder with zenity: not found");
        assert_eq!(
            take_dialog_failure().as_deref(),
            Some("Failed to pick folder with zenity: not found")
        );
        assert_eq!(take_dialog_failure(), None, "taken once");
    }
}
