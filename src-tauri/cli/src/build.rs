//! `slipway build`: the project's image as a new local release, with step progress.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use slipway_core::host::HostEnv;
use slipway_docker::build::{build, BuildEvent, BuildRequest, Builder};
use slipway_docker::preflight::Severity;
use time::OffsetDateTime;

use crate::output::{cancel_on_ctrl_c, fail, json, json_line, line, Mark};

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
            BuildEvent::BuilderChosen { builder, note } => match (builder, note) {
                (_, Some(note)) => eprintln!("! {note}"),
                (Builder::BuildKit, None) => println!("Builder: BuildKit"),
                (Builder::Legacy, None) => println!("Builder: legacy"),
            },
            BuildEvent::ContextPacked {
                files,
                bytes,
                skipped,
                ..
            } => {
                println!(
                    "Context: {files} files, {}",
                    slipway_docker::preflight::human_bytes(bytes as u64)
                );
                if !skipped.is_empty() {
                    eprintln!(
                        "! Not sent (special files Docker cannot copy): {}",
                        skipped.join(", ")
                    );
                }
            }
            BuildEvent::ContextSent {
                files,
                bytes,
                changed_only,
            } => println!(
                "{}",
                slipway_docker::build::sent_words(files, bytes, changed_only)
            ),
            BuildEvent::UpToDate { version } => {
                println!("Up to date: release {version} has exactly this content.")
            }
            BuildEvent::StepStarted {
                step,
                total,
                instruction,
                stage,
                elapsed_ms,
            } => {
                let stage = stage.map(|s| format!("{s} ")).unwrap_or_default();
                println!(
                    "[{:>5.1}s] {stage}Step {step}/{total}: {instruction}",
                    elapsed_ms / 1000.0
                );
            }
            BuildEvent::StepFinished {
                step,
                total,
                stage,
                cached,
                step_ms,
                ..
            } if verbose => {
                let stage = stage.map(|s| format!("{s} ")).unwrap_or_default();
                if cached {
                    println!("         {stage}Step {step}/{total}: cached");
                } else {
                    println!(
                        "         {stage}Step {step}/{total}: done in {:.1}s",
                        step_ms / 1000.0
                    );
                }
            }
            BuildEvent::StepFinished { .. } => {}
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

/// The release that holds what the folder holds now, built first when there is none, for
/// the verbs that act on "the app" (deploy, preview): one line says which release it is.
/// `Err` is the exit code of a build that did not finish (its message already printed).
pub async fn current_release(
    host: &HostEnv,
    dir: &std::path::Path,
    cancel: &slipway_core::jobs::Cancel,
    verb: &str,
    as_json: bool,
) -> Result<String, ExitCode> {
    let quiet = |_: BuildEvent| {};
    match build(
        host,
        dir,
        &BuildRequest::default(),
        &quiet,
        cancel,
        OffsetDateTime::now_utc(),
    )
    .await
    {
        Ok(outcome) => {
            if as_json {
                json_line(&serde_json::json!({ "event": { "type": "Built", "data": &outcome } }));
            } else if outcome.up_to_date {
                line(
                    Mark::Ok,
                    format!(
                        "build: {} is up to date (it has exactly what the folder holds)",
                        outcome.release.version
                    ),
                );
            } else {
                line(
                    Mark::Ok,
                    format!("build: built {}", outcome.release.version),
                );
            }
            Ok(outcome.release.version)
        }
        Err(e) => Err(fail(verb, &e, as_json)),
    }
}
