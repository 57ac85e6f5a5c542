//! `slipway build`: the project's image as a new local release, with step progress.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use slipway_engine::build::{build, BuildEvent, BuildRequest};
use slipway_engine::host::HostEnv;
use slipway_engine::preflight::Severity;
use time::OffsetDateTime;

use crate::output::{cancel_on_ctrl_c, fail, json, json_line};

#[derive(Args)]
pub struct BuildArgs {
    /// The project folder (default: the current folder).
    dir: Option<PathBuf>,
    /// Build even when an identical release exists.
    #[arg(long)]
    force: bool,
    /// Print the builder's output lines too, not only the steps.
    #[arg(long, short)]
    verbose: bool,
}

pub async fn run(args: BuildArgs, as_json: bool) -> ExitCode {
    let host = HostEnv::from_process();
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    let verbose = args.verbose;
    let print = move |event: BuildEvent| {
        if as_json {
            json_line(&serde_json::json!({ "event": event }));
            return;
        }
        match event {
            BuildEvent::PreflightChecked { findings } => {
                for f in findings.iter().filter(|f| f.severity != Severity::Info) {
                    eprintln!("! {} {}", f.title, f.fix);
                }
            }
            BuildEvent::ContextPacked { files, bytes, .. } => {
                println!(
                    "Context: {files} files, {}",
                    slipway_engine::preflight::human_bytes(bytes as u64)
                );
            }
            BuildEvent::UpToDate { version } => {
                println!("Up to date: release {version} has exactly this content.")
            }
            BuildEvent::StepStarted {
                step,
                total,
                instruction,
                elapsed_ms,
            } => {
                println!(
                    "[{:>5.1}s] Step {step}/{total}: {instruction}",
                    elapsed_ms / 1000.0
                );
            }
            BuildEvent::OutputLogged { line } if verbose => println!("         {line}"),
            BuildEvent::OutputLogged { .. } | BuildEvent::LayerProgressed { .. } => {}
            BuildEvent::ImageTagged { tags, elapsed_ms } => {
                println!("Tagged {} in {:.1}s", tags.join(", "), elapsed_ms / 1000.0);
            }
        }
    };
    let cancel = cancel_on_ctrl_c();
    match build(
        &host,
        &dir,
        &BuildRequest { force: args.force },
        &print,
        &cancel,
        OffsetDateTime::now_utc(),
    )
    .await
    {
        Ok(outcome) => {
            if as_json {
                json(&outcome);
            } else {
                println!(
                    "Release {} ({})",
                    outcome.release.version, outcome.release.image_id
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail("build", &e, as_json),
    }
}
