//! Entry point of the `mfa-enforcer` command.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = mfa_enforcer_cli::Cli::parse();
    mfa_enforcer::runtime::run(move || mfa_enforcer_cli::run(cli))
}
