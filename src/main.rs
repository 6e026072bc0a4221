//! The `syncopate` binary: parses the command line and hands over to the library.

// Release builds on Windows are GUI programs, so opening a design from Explorer shows no console window.
#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]

use std::process::ExitCode;

use clap::Parser;
use syncopate::cli::{Cli, run_command};

fn main() -> ExitCode {
    attach_to_the_terminal();
    let cli = Cli::parse();
    match &cli.command {
        Some(command) => {
            let code = run_command(command, &mut std::io::stdout(), &mut std::io::stderr());
            ExitCode::from(code)
        }
        None => ExitCode::from(syncopate::app::run(cli.file)),
    }
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
