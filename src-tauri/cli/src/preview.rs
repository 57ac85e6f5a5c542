//! `slipway preview` (run the release the folder holds now, built first when needed, or a
//! chosen one, locally, print the URL, stream
//! logs until Ctrl-C), `slipway releases --local` and `slipway rollback --local`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use slipway_core::host::HostEnv;
use slipway_core::project;
use slipway_docker::preview::{self, Health, LogStream, Preview, PreviewEvent};

use crate::output::{cancel_on_ctrl_c, fail, json, json_line};

#[derive(Args)]
pub struct PreviewArgs {
    /// The project folder (default: the current folder).
    dir: Option<PathBuf>,
    /// The release to run (default: the one with exactly what the folder holds now, built
    /// first when there is none).
    #[arg(long)]
    release: Option<String>,
    /// Stop and remove the running preview instead.
    #[arg(long, conflicts_with_all = ["release", "detach"])]
    stop: bool,
    /// Start it, print the URL and leave it running.
    #[arg(long)]
    detach: bool,
}

pub async fn run(args: PreviewArgs, as_json: bool) -> ExitCode {
    let host = HostEnv::from_process();
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    let app = match project::open_saved(&dir) {
        Ok((_, config)) => config.name,
        Err(e) => return fail("preview", &e, as_json),
    };
    if args.stop {
        return match preview::stop(&host, &app).await {
            Ok(stopped) => {
                if as_json {
                    json(&serde_json::json!({ "stopped": stopped }));
                } else if stopped {
                    println!("Stopped and removed the preview of {app}.");
                } else {
                    println!("{app} has no preview running.");
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail("preview", &e, as_json),
        };
    }
    let release = match args.release {
        Some(release) => release,
        None => {
            let cancel = cancel_on_ctrl_c();
            match crate::build::current_release(&host, &dir, &cancel, "preview", as_json).await {
                Ok(version) => version,
                Err(code) => return code,
            }
        }
    };
    let started = match preview::start(&host, &dir, Some(&release)).await {
        Ok(p) => p,
        Err(e) => return fail("preview", &e, as_json),
    };
    announce(&started, as_json);
    if args.detach {
        return ExitCode::SUCCESS;
    }
    follow(&host, &dir, &app, as_json).await
}

fn announce(preview: &Preview, as_json: bool) {
    if as_json {
        json_line(&serde_json::json!({ "preview": preview }));
    } else {
        println!(
            "{} {} is running at {}",
            preview.app, preview.version, preview.url
        );
        println!("Limits: {}", preview.limits);
        if !preview.unset_secrets.is_empty() {
            println!(
                "Not set locally (secrets on AWS): {}",
                preview.unset_secrets.join(", ")
            );
        }
    }
}

/// Streams logs and health until the container exits or Ctrl-C, then removes it.
async fn follow(host: &HostEnv, dir: &std::path::Path, app: &str, as_json: bool) -> ExitCode {
    if !as_json {
        println!("Logs follow; Ctrl-C stops the preview.\n");
    }
    let print = move |event: PreviewEvent| {
        if as_json {
            json_line(&serde_json::json!({ "event": event }));
            return;
        }
        match event {
            PreviewEvent::LogLogged {
                stream: LogStream::Stdout,
                line,
                ..
            } => println!("{line}"),
            PreviewEvent::LogLogged {
                stream: LogStream::Stderr,
                line,
                ..
            } => eprintln!("{line}"),
            PreviewEvent::HealthChanged { health } => match health {
                Health::NotChecked => {}
                Health::Starting { detail } => println!("· health: starting ({detail})"),
                Health::Healthy { detail } => println!("✔ health: healthy ({detail})"),
                Health::Unhealthy { detail } => println!("✘ health: unhealthy ({detail})"),
            },
            PreviewEvent::Exited { message, .. } => println!("✘ {message}"),
        }
    };
    let cancel = cancel_on_ctrl_c();
    let watched = preview::watch(host, dir, &print, &cancel).await;
    let stopped = preview::stop(host, app).await;
    if !as_json {
        println!("\nStopped and removed the preview of {app}.");
    }
    match (watched, stopped) {
        (Err(e), _) | (Ok(()), Err(e)) => fail("preview", &e, as_json),
        (Ok(()), Ok(_)) => ExitCode::SUCCESS,
    }
}
