//! `slipway preview` (run the release the folder holds now, built first when needed, or a
//! chosen one, locally, print the URL, stream
//! logs until Ctrl-C), `slipway releases --local` and `slipway rollback --local`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use slipway_engine::host::HostEnv;
use slipway_engine::preview::{self, Health, LogStream, Preview, PreviewEvent};
use slipway_engine::project;
use slipway_engine::releases;

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
            } => println!("{line}"),
            PreviewEvent::LogLogged {
                stream: LogStream::Stderr,
                line,
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

#[derive(Args)]
pub struct ReleasesArgs {
    /// The project folder (default: the current folder).
    pub dir: Option<PathBuf>,
    /// The project folder, as the AWS verbs take it.
    #[arg(long, conflicts_with = "dir")]
    pub project: Option<PathBuf>,
    /// The releases on this machine's Docker engine instead of those deployed to AWS.
    #[arg(long)]
    pub local: bool,
    /// Send AWS calls here instead of the saved override or AWS (an emulator).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

pub async fn list(args: ReleasesArgs, as_json: bool) -> ExitCode {
    if !args.local {
        return crate::releases::list(args, as_json).await;
    }
    let host = HostEnv::from_process();
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    match releases::for_project(&host, &dir).await {
        Ok(list) => {
            if as_json {
                json(&list);
            } else if list.releases.is_empty() {
                println!(
                    "{} has no local release yet: run `slipway build`.",
                    list.app
                );
            } else {
                println!("Local releases of {}, newest first:", list.app);
                for r in &list.releases {
                    let mut marks = Vec::new();
                    if list.running.as_deref() == Some(r.version.as_str()) {
                        marks.push("running");
                    }
                    if r.latest {
                        marks.push("latest");
                    }
                    let short = r
                        .image_id
                        .trim_start_matches("sha256:")
                        .chars()
                        .take(12)
                        .collect::<String>();
                    println!("  {:<32} {short}  {}", r.version, marks.join(", "));
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail("releases", &e, as_json),
    }
}

#[derive(Args)]
pub struct RollbackArgs {
    /// The project folder (default: the current folder).
    pub dir: Option<PathBuf>,
    /// The project folder, as the AWS verbs take it.
    #[arg(long, conflicts_with = "dir")]
    pub project: Option<PathBuf>,
    /// Roll back the local preview instead of the app on AWS.
    #[arg(long)]
    pub local: bool,
    /// The release to go back to: a local version with --local, else a task definition
    /// revision (default: the newest earlier release that can still run).
    #[arg(long, value_name = "RELEASE")]
    pub to: Option<String>,
    /// On AWS, also point `latest` in ECR back at that release's image.
    #[arg(long, conflicts_with = "local")]
    pub retag: bool,
    /// Give up (and stop what the rollback started) after this many seconds.
    #[arg(long, default_value_t = 600)]
    pub timeout: u32,
    /// Send AWS calls here instead of the saved override or AWS (an emulator).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

pub async fn rollback(args: RollbackArgs, as_json: bool) -> ExitCode {
    if !args.local {
        return crate::releases::rollback(args, as_json).await;
    }
    let host = HostEnv::from_process();
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    match releases::rollback_local(&host, &dir, args.to.as_deref()).await {
        Ok(preview) => {
            if as_json {
                json(&preview);
            } else {
                println!(
                    "Rolled back: {} {} is running at {}",
                    preview.app, preview.version, preview.url
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail("rollback", &e, as_json),
    }
}
