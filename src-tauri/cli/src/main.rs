//! `slipway`: the headless front end of Slipway over the same engine as the desktop app,
//! for CI and power users. Each verb prints for people by default and JSON with `--json`.

mod doctor;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "slipway",
    version,
    about = "From a folder with a Dockerfile to a running URL on AWS Fargate"
)]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check this machine: the Docker engine, AWS profiles and identity, Slipway's data directory.
    ///
    /// Exit code 0 when everything needed is ready, 1 when something is not (the report says
    /// what and how to fix it).
    Doctor(doctor::DoctorArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Doctor(args) => doctor::run(args, cli.json).await,
    }
}
