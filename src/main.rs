//! The `syncopate` binary: parses the command line and hands over to the library.

use std::process::ExitCode;

use clap::Parser;
use syncopate::cli::{Cli, run_command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Some(command) => {
            let code = run_command(command, &mut std::io::stdout(), &mut std::io::stderr());
            ExitCode::from(code)
        }
        None => ExitCode::from(syncopate::app::run(cli.file)),
    }
}
