//! `slipway`: the headless front end of Slipway over the same engine as the desktop app,
//! for CI and power users. Each verb prints for people by default and JSON with `--json`.

mod aws;
mod build;
mod cost;
mod deploy;
mod doctor;
mod logs;
mod output;
mod preview;
mod project;
mod releases;
mod secret;
mod service;
mod setup;
mod stack;
mod support;

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
    /// Write slipway.toml for a folder with a Dockerfile, from flags or answers (validated).
    Init(project::InitArgs),
    /// Validate slipway.toml and run pre-flight on the Dockerfile and build context.
    Check(project::CheckArgs),
    /// Build the image as a new local release (skipped when nothing changed).
    Build(build::BuildArgs),
    /// Run a release locally as Fargate would, print its URL and follow its logs until Ctrl-C.
    Preview(preview::PreviewArgs),
    /// List the releases deployed to AWS (ECS revisions with their ECR images and deploys,
    /// and whether each can be rolled back to); `--local`: those on this machine.
    Releases(releases::ReleasesArgs),
    /// Run an earlier release on AWS (checked first, verified at its URL, recorded);
    /// `--retag` also points `latest` back at its image; `--local`: in the local preview.
    Rollback(releases::RollbackArgs),
    /// The app's running tasks on AWS with their IPs, URLs, start time and cost.
    Ps(releases::PsArgs),
    /// The app's logs on AWS (CloudWatch): one task's or all interleaved; `--follow` keeps
    /// printing new lines, `--filter` searches, `--since 15m` goes back.
    Logs(logs::LogsArgs),
    /// AWS connection: profiles, identity, adding an access key, the endpoint override.
    #[command(subcommand)]
    Aws(aws::AwsCommand),
    /// The app's secrets on AWS (Secrets Manager or Parameter Store): list, create, update.
    /// Values are read from stdin and never printed.
    #[command(subcommand)]
    Secret(secret::SecretCommand),
    /// Operate any ECS service of the account, one Slipway deployed or not: list, ps (tasks
    /// with private and public IPs), scale, redeploy, rollback, logs, run (a one-off task).
    #[command(subcommand)]
    Service(service::ServiceCommand),
    /// A vendor's CloudFormation stack from its template: deploy (review first, `--yes` to
    /// do it), list, status, outputs, events, delete (what stays behind first).
    #[command(subcommand)]
    Stack(stack::StackCommand),
    /// Show what the app needs on AWS (ECR, ECS, logs, IAM role, security group, subnets);
    /// `--apply` creates what is missing. Safe to repeat.
    Setup(setup::SetupArgs),
    /// Show what Slipway created for the app on AWS; `--apply` stops its tasks and removes
    /// exactly that (untagged resources of the same name are kept).
    Teardown(setup::SetupArgs),
    /// Build (when something changed), push to ECR and run on Fargate; streams the timeline
    /// and ends with the URL it checked. Exit 2 when the deploy failed (with the diagnosis).
    Deploy(deploy::DeployArgs),
    /// What runs for the app on AWS: tasks with their URLs, the service, recent deploys.
    Status(deploy::StatusArgs),
    /// Stop the app's tasks on AWS and scale its service to zero.
    Stop(deploy::StopArgs),
    /// How many tasks the app's service runs behind its load balancer (saved in
    /// slipway.toml): `scale 2`, or `scale --min 1 --max 4 --cpu-target 60` (or `--requests-target 1000`) for auto scaling.
    Scale(deploy::ScaleArgs),
    /// Estimate what the app costs on Fargate (compute, public IPv4, logs, image storage) per
    /// hour, day and month, with the prices used and their date.
    Cost(cost::CostArgs),
    /// Write a support bundle (.tar.gz) to attach to a bug report: Slipway's logs, the deploy
    /// journal, versions and the AWS profiles by name and kind. Secret keys, session
    /// tokens, environment values and your home folder's path are left out.
    SupportBundle(support::SupportBundleArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The CLI logs to the same file as the window; to the terminal only when SLIPWAY_LOG
    // asks, so its output stays what each verb prints.
    let host = slipway_core::host::HostEnv::from_process();
    let echo = host.var("SLIPWAY_LOG").is_some();
    if let Err(e) = slipway_aws::support::log::init(&host, "cli", echo) {
        eprintln!("slipway: running without the log file: {e}");
    }
    match cli.command {
        Command::Doctor(args) => doctor::run(args, cli.json).await,
        Command::Init(args) => project::init(args, cli.json),
        Command::Check(args) => project::check(args, cli.json).await,
        Command::Build(args) => build::run(args, cli.json).await,
        Command::Preview(args) => preview::run(args, cli.json).await,
        Command::Releases(args) => releases::list(args, cli.json).await,
        Command::Rollback(args) => releases::rollback(args, cli.json).await,
        Command::Aws(command) => aws::run(command, cli.json).await,
        Command::Secret(command) => secret::run(command, cli.json).await,
        Command::Service(command) => service::run(command, cli.json).await,
        Command::Stack(command) => stack::run(command, cli.json).await,
        Command::Setup(args) => setup::setup(args, cli.json).await,
        Command::Teardown(args) => setup::teardown(args, cli.json).await,
        Command::Deploy(args) => deploy::deploy(args, cli.json).await,
        Command::Status(args) => deploy::status(args, cli.json).await,
        Command::Stop(args) => deploy::stop(args, cli.json).await,
        Command::Scale(args) => deploy::scale(args, cli.json).await,
        Command::Cost(args) => cost::run(args, cli.json).await,
        Command::Ps(args) => releases::ps(args, cli.json).await,
        Command::Logs(args) => logs::run(args, cli.json).await,
        Command::SupportBundle(args) => support::run(args, cli.json).await,
    }
}
