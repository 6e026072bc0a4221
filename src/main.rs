//! The `syncopate` binary: parses the command line and hands over to the library.

// Release builds on Windows are GUI programs, so opening a design from Explorer shows no console window.
#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]

use std::process::ExitCode;

use syncopate::cli::{Cli, run_command};
use syncopate::logging;

fn main() -> ExitCode {
    attach_to_the_terminal();
    let cli = Cli::parse_args();
    // Held to the end of main: dropping it flushes the log file.
    let _log = logging::init(cli.log_level, logging::log_dir().as_deref());
    let code = match &cli.command {
        Some(command) => run_command(command, &mut std::io::stdout(), &mut std::io::stderr()),
        None => open_app(cli.file),
    };
    tracing::info!(exit_code = code, "syncopate exits");
    ExitCode::from(code)
}

#[cfg(feature = "gui")]
fn open_app(file: Option<std::path::PathBuf>) -> u8 {
    syncopate::app::run(file)
}

/// A build without the `gui` feature has only the subcommands.
#[cfg(not(feature = "gui"))]
fn open_app(_file: Option<std::path::PathBuf>) -> u8 {
    eprintln!(
        "error: this build of syncopate has no desktop app; see `syncopate --help` for its subcommands"
    );
    2
}

/// On Windows, a GUI-subsystem program has no console: attach to the one of the terminal that started it (if any),
/// so `syncopate check …`, `--help` and `--version` print there. Started from Explorer, there is none, and nothing
/// changes.
#[cfg(windows)]
fn attach_to_the_terminal() {
    use windows_sys::Win32::System::Console::{ATTACH_PARENT_PROCESS, AttachConsole};
    // SAFETY: AttachConsole has no preconditions; it fails harmlessly when there is no parent console.
    unsafe {
        AttachConsole(ATTACH_PARENT_PROCESS);
    }
}

#[cfg(not(windows))]
fn attach_to_the_terminal() {}
