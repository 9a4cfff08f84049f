//! Entry point of the `mfa-enforcer` command.

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    mfa_enforcer_cli::run(mfa_enforcer_cli::Cli::parse()).await
}
