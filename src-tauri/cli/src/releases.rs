//! `slipway releases`, `slipway rollback` and `slipway ps` for the app on AWS: what was
//! deployed (ECS revisions joined with ECR's images and Slipway's journal), a rollback to
//! an earlier revision (a deploy of it, with the same timeline and checks), and what runs.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use slipway_app::Session;
use slipway_aws::deploy;
use slipway_aws::deploy::history as releases;
use slipway_core::host::HostEnv;
use slipway_core::EngineError;
use slipway_docker::preview;
use time::OffsetDateTime;

use crate::output::{cancel_on_ctrl_c, connected, fail, heading, json, line, Mark};

/// The project connected to AWS and its releases there, or the exit code after the
/// error is reported.
async fn on_aws(
    dir: Option<PathBuf>,
    endpoint_url: Option<String>,
    verb: &str,
    as_json: bool,
) -> Result<
    (
        HostEnv,
        PathBuf,
        slipway_core::project::ProjectConfig,
        slipway_aws::aws::Connection,
        releases::AwsReleases,
    ),
    ExitCode,
> {
    let host = HostEnv::from_process();
    let dir = dir.unwrap_or_else(|| PathBuf::from("."));
    let (config, connection) = connected(&host, &dir, endpoint_url, verb, as_json).await?;
    let db = slipway_core::store::db_path(&host);
    match releases::list(&db, &connection, &config, OffsetDateTime::now_utc()).await {
        Ok(list) => Ok((host, dir, config, connection, list)),
        Err(e) => Err(fail(verb, &e, as_json)),
    }
}

async fn list_on_aws(args: ReleasesArgs, as_json: bool) -> ExitCode {
    let (_, _, _, _, list) = match on_aws(
        args.project.or(args.dir),
        args.endpoint_url,
        "releases",
        as_json,
    )
    .await
    {
        Ok(found) => found,
        Err(code) => return code,
    };
    if as_json {
        json(&list);
        return ExitCode::SUCCESS;
    }
    heading(&format!(
        "{} on AWS ({} revisions, images in {})",
        list.app,
        list.releases.len(),
        list.repository
    ));
    if list.releases.is_empty() {
        line(Mark::Info, "nothing deployed yet: run `slipway deploy`");
    }
    for r in &list.releases {
        let tags = if r.tags.is_empty() {
            "no tags".to_owned()
        } else {
            r.tags.join(", ")
        };
        let deployed = r.deploys.first().map_or(String::new(), |d| {
            format!(
                ", last deployed {} ({}){}",
                d.deploy_id,
                d.outcome.map_or("unfinished", |o| o.as_str()),
                if d.rolled_back { " as a rollback" } else { "" }
            )
        });
        let mark = if r.running { Mark::Ok } else { Mark::Info };
        line(
            mark,
            format!(
                "revision {}{} · {} · {} · pushed {}{}",
                r.revision,
                if r.running { " (running)" } else { "" },
                tags,
                r.digest.as_deref().unwrap_or(&r.image),
                r.pushed_at.as_deref().unwrap_or("?"),
                deployed
            ),
        );
        if !r.rollback.possible && !r.running {
            println!("      cannot roll back: {}", r.rollback.problems.join(" "));
        }
        if let Some(w) = &r.rollback.warning {
            println!("      warning: {w}");
        }
    }
    if let Some(target) = list.rollback_target {
        line(
            Mark::Info,
            format!("`slipway rollback` goes to revision {target}"),
        );
    }
    if let Some(lifecycle) = &list.lifecycle {
        line(Mark::Info, lifecycle);
    }
    ExitCode::SUCCESS
}

async fn rollback_on_aws(args: RollbackArgs, as_json: bool) -> ExitCode {
    let dir = args
        .project
        .or(args.dir)
        .unwrap_or_else(|| PathBuf::from("."));
    let session = Session::new(HostEnv::from_process(), dir).with_endpoint(args.endpoint_url);
    let to = match args.to.as_deref().map(str::parse::<i32>) {
        None => None,
        Some(Ok(revision)) => Some(revision),
        Some(Err(_)) => {
            let e = EngineError::InvalidInput {
                what: "--to".into(),
                reason: "give a task definition revision number (see `slipway releases`)".into(),
            };
            return fail("rollback", &e, as_json);
        }
    };
    let cancel = cancel_on_ctrl_c();
    let ran = slipway_app::rollback(
        &session,
        to,
        args.retag,
        Some(args.timeout),
        &crate::deploy::printer(as_json),
        &cancel,
    )
    .await;
    crate::deploy::report(ran, as_json)
}

#[derive(Args)]
pub struct PsArgs {
    /// The project folder (default: the current folder).
    #[arg(long)]
    project: Option<PathBuf>,
    /// Send AWS calls here instead of the saved override or AWS (an emulator).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
}

/// What runs: one line per task with its IPs, URL, revision, start and cost.
pub async fn ps(args: PsArgs, as_json: bool) -> ExitCode {
    let host = HostEnv::from_process();
    let dir = args.project.unwrap_or_else(|| PathBuf::from("."));
    // Like status and stop, ps works from the app name when slipway.toml does not validate.
    let (config, connection) = match deploy::connect_for_operations(
        &host,
        &dir,
        args.endpoint_url,
        std::time::SystemTime::now(),
    )
    .await
    {
        Ok(found) => found,
        Err(e) => return fail("ps", &e, as_json),
    };
    let db = slipway_core::store::db_path(&host);
    let status = match deploy::status(&db, &connection, &config, OffsetDateTime::now_utc()).await {
        Ok(status) => status,
        Err(e) => return fail("ps", &e, as_json),
    };
    if as_json {
        json(&status.tasks);
        return ExitCode::SUCCESS;
    }
    if status.tasks.is_empty() {
        println!("Nothing of {} runs on AWS.", status.app);
    } else {
        print_tasks(&status.tasks);
    }
    if !status.other_tasks.is_empty() {
        println!(
            "\nOther tasks in the cluster {} (not the app's, not stopped by `slipway stop`; still billed):",
            status.cluster
        );
        print_tasks(&status.other_tasks);
    }
    ExitCode::SUCCESS
}

fn print_tasks(tasks: &[deploy::RunningTask]) {
    println!(
        "{:<34} {:<9} {:>4} {:<15} {:<15} {:<26} {:>9} {:>9}",
        "TASK", "STATUS", "REV", "PUBLIC IP", "PRIVATE IP", "STARTED", "$/HOUR", "$ SO FAR"
    );
    for t in tasks {
        println!(
            "{:<34} {:<9} {:>4} {:<15} {:<15} {:<26} {:>9} {:>9}",
            t.task_id,
            t.status,
            t.revision.map_or("?".into(), |r| r.to_string()),
            t.public_ip.as_deref().unwrap_or("-"),
            t.private_ip.as_deref().unwrap_or("-"),
            t.started_at.as_deref().unwrap_or("-"),
            t.cost_per_hour.map_or("-".into(), |c| format!("{c:.4}")),
            t.cost_so_far.map_or("-".into(), |c| format!("{c:.4}")),
        );
        if let Some(url) = &t.url {
            println!("  {url}{}", if t.from_service { "  (service)" } else { "" });
        }
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
        return list_on_aws(args, as_json).await;
    }
    let host = HostEnv::from_process();
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    match preview::release_list(&host, &dir).await {
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
        return rollback_on_aws(args, as_json).await;
    }
    let host = HostEnv::from_process();
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    match preview::rollback(&host, &dir, args.to.as_deref()).await {
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
