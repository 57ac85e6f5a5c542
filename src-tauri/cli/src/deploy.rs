//! `slipway deploy`, `slipway status` and `slipway stop`: the desktop's Deploy and
//! Running-on-AWS cards for terminals and CI. Deploy builds first (skipped when nothing
//! changed), streams the timeline and ends with the URL it checked.
//! Exit codes: 0 success, 2 the deploy failed (the diagnosis is printed), 130 cancelled,
//! 1 anything else.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use slipway_app::{Session, Sessions};
use slipway_aws::deploy::{DeployEvent, DeployMode, DeployOutcome, DeployRequest, DeployStep};
use slipway_core::host::HostEnv;
use slipway_core::{EngineError, ErrorCode};

use crate::output::{cancel_on_ctrl_c, fail, heading, json, json_line, line, Mark};

#[derive(Clone, Copy, ValueEnum)]
pub enum Mode {
    /// A standalone task, replaced by the next deploy.
    Task,
    /// An ECS service that keeps the task running.
    Service,
}

#[derive(Args)]
pub struct DeployArgs {
    /// The project folder (default: the current folder).
    #[arg(long)]
    project: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "task")]
    mode: Mode,
    /// Deploy this local release instead of building (see `slipway releases --local`).
    #[arg(long)]
    version: Option<String>,
    /// Leave the previous task running (task mode).
    #[arg(long)]
    keep_previous: bool,
    /// Give up (and stop what this deploy started) after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u32,
    /// When another deploy of this app is running, wait for it instead of stopping here.
    #[arg(long)]
    wait: bool,
    /// Send AWS calls here instead of the saved override or AWS (an emulator).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
}

#[derive(Args)]
pub struct StatusArgs {
    /// The project folder (default: the current folder).
    #[arg(long)]
    project: Option<PathBuf>,
    /// Send AWS calls here instead of the saved override or AWS (an emulator).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
}

#[derive(Args)]
pub struct StopArgs {
    #[command(flatten)]
    on: StatusArgs,
    /// Stop only what this unfinished deploy left running (see `slipway status`), and
    /// close it.
    #[arg(long, value_name = "DEPLOY_ID", conflicts_with = "task")]
    deploy: Option<String>,
    /// Stop only this standalone task.
    #[arg(long, value_name = "TASK_ID")]
    task: Option<String>,
}

fn step_name(step: DeployStep) -> &'static str {
    match step {
        DeployStep::Push => "Push",
        DeployStep::Register => "Task definition",
        DeployStep::Start => "Start",
        DeployStep::Wait => "Wait",
        DeployStep::Verify => "Verify",
        DeployStep::Retire => "Stop previous",
    }
}

fn print_event(event: DeployEvent) {
    match event {
        DeployEvent::Started {
            app,
            version,
            mode,
            account,
            region,
            deadline_seconds,
            ..
        } => heading(&format!(
            "Deploying {app} {version} as a {} to {account} in {region} (deadline {deadline_seconds} s)",
            mode.as_str()
        )),
        DeployEvent::StepStarted { step, detail, .. } => {
            line(Mark::Info, format!("{}: {detail}", step_name(step)))
        }
        DeployEvent::StepDone { step, detail, at_ms } => line(
            Mark::Ok,
            format!("{}: {detail} ({:.1} s)", step_name(step), at_ms / 1000.0),
        ),
        DeployEvent::PushProgress { .. } | DeployEvent::Check { .. } => {}
        DeployEvent::Retrying {
            what,
            reason,
            attempt,
        } => println!("      retrying {what} ({reason}; attempt {attempt})"),
        DeployEvent::Warning { message } => line(Mark::Problem, message),
        DeployEvent::TaskDefinition { changes, .. } => {
            for change in changes {
                println!("      {change}");
            }
        }
        DeployEvent::TaskStatus {
            task_id,
            status,
            health,
            previous,
            previous_ms,
            at_ms,
        } => {
            let after = match (previous, previous_ms) {
                (Some(p), Some(ms)) => format!(" after {:.1} s in {p}", ms / 1000.0),
                _ => String::new(),
            };
            let health = health.map(|h| format!(" ({h})")).unwrap_or_default();
            println!("      [{:>6.1} s] task {task_id}: {status}{health}{after}", at_ms / 1000.0);
        }
        DeployEvent::ServiceEvent { message, .. } => println!("      service: {message}"),
        DeployEvent::Rollout { said, .. } => println!("      blue/green: {said}"),
        DeployEvent::Target {
            task_id,
            target,
            said,
            at_ms,
            ..
        } => println!(
            "      [{:>6.1} s] task {task_id} at the load balancer ({target}): {said}",
            at_ms / 1000.0
        ),
        DeployEvent::Address { url, .. } => line(Mark::Info, format!("public URL {url}")),
        DeployEvent::PreviousTasks { task_ids, stopped } => line(
            Mark::Info,
            if stopped {
                format!("stopped the previous task {} so you don't pay twice", task_ids.join(", "))
            } else {
                format!("kept the previous task {} running, as asked (it is still billed)", task_ids.join(", "))
            },
        ),
        DeployEvent::Failed {
            diagnosis,
            last_log_lines,
            ..
        } => {
            heading("The deploy failed");
            line(Mark::Problem, &diagnosis.cause);
            println!("      Fix: {}", diagnosis.fix);
            println!("      AWS said: {}", diagnosis.evidence);
            if !last_log_lines.is_empty() {
                println!("      Last log lines:");
                for l in last_log_lines {
                    println!("        | {l}");
                }
            }
        }
    }
}

pub async fn deploy(args: DeployArgs, as_json: bool) -> ExitCode {
    let host = HostEnv::from_process();
    let dir = args.project.unwrap_or_else(|| PathBuf::from("."));
    let session = Session::new(host.clone(), &dir).with_endpoint(args.endpoint_url);
    // Connected before the build, so a missing sign-in is said before minutes of building.
    if let Err(e) = session.connect().await {
        return fail("deploy", &e, as_json);
    }
    let cancel = cancel_on_ctrl_c();
    let version = match args.version {
        Some(v) => v,
        None => {
            match crate::build::current_release(&host, &dir, &cancel, "deploy", as_json).await {
                Ok(version) => version,
                Err(code) => return code,
            }
        }
    };
    let request = DeployRequest {
        mode: match args.mode {
            Mode::Task => DeployMode::Task,
            Mode::Service => DeployMode::Service,
        },
        version: Some(version),
        keep_previous: args.keep_previous,
        deadline_seconds: Some(args.timeout),
        rollback: None,
        wait_for_other_deploy: args.wait,
    };
    let ran = slipway_app::deploy(&session, &request, &printer(as_json), &cancel).await;
    report(ran, as_json)
}

/// Prints a deploy's (or a rollback's) events as they come: lines, or JSON lines.
pub fn printer(as_json: bool) -> impl Fn(DeployEvent) {
    move |event: DeployEvent| {
        if as_json {
            json_line(&serde_json::json!({ "event": event }));
        } else {
            print_event(event);
        }
    }
}

/// Prints how a deploy (or a rollback) ended; the exit code says how.
pub fn report(ran: Result<DeployOutcome, EngineError>, as_json: bool) -> ExitCode {
    match ran {
        Ok(outcome) => {
            if as_json {
                json_line(&serde_json::json!({ "result": outcome }));
            } else {
                heading(&format!("Live at {}", outcome.url));
                line(
                    Mark::Ok,
                    format!(
                        "answered HTTP {} after {:.1} s (revision {}, task {})",
                        outcome.http_status,
                        outcome.elapsed_ms / 1000.0,
                        outcome.revision,
                        outcome.task_ids.join(", ")
                    ),
                );
                for warning in &outcome.warnings {
                    line(Mark::Problem, warning);
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) if e.code() == ErrorCode::DeployFailed => {
            if as_json {
                json_line(
                    &serde_json::json!({ "error": { "code": e.code(), "message": e.to_string() } }),
                );
            }
            eprintln!("slipway deploy: {e}");
            ExitCode::from(2)
        }
        Err(e) => fail("deploy", &e, as_json),
    }
}

pub async fn status(args: StatusArgs, as_json: bool) -> ExitCode {
    let host = HostEnv::from_process();
    let dir = args.project.unwrap_or_else(|| PathBuf::from("."));
    let session = Session::new(host, dir).with_endpoint(args.endpoint_url);
    let status = match slipway_app::status(&session).await {
        Ok(s) => s,
        Err(e) => return fail("status", &e, as_json),
    };
    if as_json {
        json(&status);
        return ExitCode::SUCCESS;
    }
    heading(&format!(
        "{} in account {} ({}), cluster {}",
        status.app, status.account, status.region, status.cluster
    ));
    if let Some(balancer) = &status.balancer {
        line(
            Mark::Ok,
            format!("address (never changes): {}", balancer.url),
        );
        for target in &balancer.targets {
            line(
                if target.is_healthy() {
                    Mark::Ok
                } else {
                    Mark::Problem
                },
                format!(
                    "target {}:{}{}: {}",
                    target.ip,
                    target.port,
                    target
                        .task_id
                        .as_deref()
                        .map(|t| format!(" (task {t})"))
                        .unwrap_or_default(),
                    target.said
                ),
            );
        }
        if let Some(scaling) = &balancer.scaling {
            line(
                Mark::Info,
                format!(
                    "scales between {} and {} tasks{}",
                    scaling.min,
                    scaling.max,
                    // As the window says it: requests first, when both policies are there.
                    match (scaling.requests_target, scaling.cpu_target) {
                        (Some(r), _) => format!(", keeping each task near {r} requests a minute"),
                        (_, Some(c)) => format!(", keeping average CPU near {c}%"),
                        _ => String::new(),
                    }
                ),
            );
        }
    }
    if status.tasks.is_empty() {
        line(
            Mark::Info,
            "nothing runs on AWS (nothing is billed for tasks)",
        );
    }
    for task in &status.tasks {
        line(
            Mark::Ok,
            format!(
                "task {} {}{} revision {} at {}{}",
                task.task_id,
                task.status,
                task.health
                    .as_deref()
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default(),
                task.revision.map_or("?".into(), |r| r.to_string()),
                task.url.as_deref().unwrap_or("(no public IP yet)"),
                if task.from_service {
                    ", from the service"
                } else {
                    ""
                }
            ),
        );
    }
    if !status.tasks.is_empty() {
        let c = &status.cost;
        line(
            Mark::Info,
            format!(
                "running cost: ${:.4} an hour now, ${:.4} so far (prices: {}, {})",
                c.per_hour, c.so_far, c.prices.source_text, c.prices.as_of
            ),
        );
    }
    if let Some(s) = &status.service {
        line(
            Mark::Info,
            format!(
                "service {}: {} of {} running, revision {}, rollout {}",
                s.name,
                s.running,
                s.desired,
                s.revision.map_or("?".into(), |r| r.to_string()),
                s.rollout.as_deref().unwrap_or("unknown")
            ),
        );
    }
    if let Some(id) = &status.deploying {
        line(Mark::Info, format!("deploy {id} is running now"));
    }
    if !status.leftovers.is_empty() {
        heading("Needs attention: left running by deploys that did not finish (billed)");
        for left in &status.leftovers {
            line(
                Mark::Problem,
                format!(
                    "task {}{}: {}",
                    left.task_id,
                    left.cost_per_hour
                        .map(|c| format!(" (${c:.4}/h)"))
                        .unwrap_or_default(),
                    left.why
                ),
            );
        }
    }
    for entry in &status.unfinished {
        line(
            Mark::Problem,
            format!(
                "deploy {} ({}) never finished. Stop exactly what it started with `slipway stop --deploy {}`.",
                entry.id, entry.version, entry.id
            ),
        );
    }
    if !status.history.is_empty() {
        heading("Recent deploys");
        for entry in status.history.iter().take(5) {
            println!(
                "      {} {} {} {}{}",
                entry.id,
                entry.version,
                entry.mode.as_str(),
                entry.outcome.map_or("running", |o| o.as_str()),
                entry
                    .url
                    .as_deref()
                    .map(|u| format!(" {u}"))
                    .unwrap_or_default()
            );
        }
    }
    ExitCode::SUCCESS
}

pub async fn stop(args: StopArgs, as_json: bool) -> ExitCode {
    let host = HostEnv::from_process();
    let dir = args.on.project.unwrap_or_else(|| PathBuf::from("."));
    if let Some(id) = args.deploy {
        let sessions = Sessions::with_endpoint(args.on.endpoint_url.clone());
        return match slipway_app::settle(&sessions, &host, &id, true).await {
            Ok(entry) if entry.finished_at.is_some() => {
                if as_json {
                    json(&entry);
                } else {
                    line(Mark::Ok, entry.summary.unwrap_or_default());
                }
                ExitCode::SUCCESS
            }
            Ok(entry) => {
                if as_json {
                    json(&entry);
                }
                eprintln!(
                    "slipway stop: deploy {id} still needs attention: {}",
                    entry.summary.unwrap_or_default()
                );
                ExitCode::FAILURE
            }
            Err(e) => fail("stop", &e, as_json),
        };
    }
    let session = Session::new(host, dir).with_endpoint(args.on.endpoint_url);
    let report = match slipway_app::stop(&session, args.task.as_deref()).await {
        Ok(report) => report,
        Err(e) => return fail("stop", &e, as_json),
    };
    let stopped = &report.stopped;
    if as_json {
        json(&report);
    } else {
        if stopped.stopped_tasks.is_empty()
            && stopped.service_scaled_down.is_none()
            && stopped.failed.is_empty()
        {
            line(Mark::Ok, "nothing was running");
        }
        for task in &stopped.stopped_tasks {
            line(Mark::Ok, format!("stopped task {task}"));
        }
        if let Some(s) = &stopped.service_scaled_down {
            line(
                Mark::Ok,
                format!("scaled service {s} to 0 (kept; the next deploy updates it)"),
            );
        }
        for failure in &stopped.failed {
            line(
                Mark::Problem,
                format!(
                    "{} still runs and is billed: {}",
                    failure.what, failure.reason
                ),
            );
        }
        for deploy in &report.settled {
            line(Mark::Ok, format!("closed unfinished deploy {deploy}"));
        }
        for said in &report.unsettled {
            line(Mark::Problem, said);
        }
    }
    if stopped.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "slipway stop: {} of the app's tasks could not be stopped (above); run `slipway stop` again, or stop them in the AWS console.",
            stopped.failed.len()
        );
        ExitCode::FAILURE
    }
}

#[derive(Args)]
pub struct ScaleArgs {
    /// How many tasks the service keeps running (with scaling: the least).
    #[arg(
        value_name = "N",
        required_unless_present = "min",
        conflicts_with = "min"
    )]
    tasks: Option<u32>,
    /// The least tasks with auto scaling (instead of N).
    #[arg(long, value_name = "N", requires = "max")]
    min: Option<u32>,
    /// Scale up to this many tasks (on CPU, or on requests with --requests-target; with
    /// neither, on what it follows now); without it, no scaling.
    #[arg(long, value_name = "N")]
    max: Option<u32>,
    /// The average CPU, in percent, scaling aims for (default 60).
    #[arg(long, value_name = "PERCENT", requires = "max")]
    cpu_target: Option<u32>,
    /// Scale on requests instead of CPU: the requests a minute each task serves on
    /// average before another starts.
    #[arg(
        long,
        value_name = "PER_MINUTE",
        requires = "max",
        conflicts_with = "cpu_target"
    )]
    requests_target: Option<u32>,
    #[command(flatten)]
    on: StatusArgs,
}

pub async fn scale(args: ScaleArgs, as_json: bool) -> ExitCode {
    let host = HostEnv::from_process();
    let dir = args.on.project.unwrap_or_else(|| PathBuf::from("."));
    let session = Session::new(host, dir).with_endpoint(args.on.endpoint_url);
    // Without --cpu-target or --requests-target, scaling follows what it follows now.
    let (cpu_target, requests_target) = match (args.cpu_target, args.requests_target) {
        (None, None) => session
            .config()
            .map(|c| (c.aws.cpu_target, c.aws.requests_target))
            .unwrap_or_default(),
        asked => asked,
    };
    let request = slipway_app::ScaleRequest {
        tasks: args.min.or(args.tasks).unwrap_or(1),
        max_tasks: args.max,
        cpu_target,
        requests_target,
    };
    let outcome = match slipway_app::scale(&session, request).await {
        Ok(outcome) => outcome,
        Err(e) => return fail("scale", &e, as_json),
    };
    if as_json {
        json(&outcome);
        return ExitCode::SUCCESS;
    }
    if outcome.changes.is_empty() {
        line(
            Mark::Ok,
            format!(
                "{} already runs {} task{} as asked",
                outcome.service,
                outcome.desired,
                if outcome.desired == 1 { "" } else { "s" }
            ),
        );
    }
    for change in &outcome.changes {
        line(Mark::Ok, format!("{}: {change}", outcome.service));
    }
    line(
        Mark::Info,
        format!(
            "{} of {} running now; `slipway status` shows them as they start, `slipway cost` what they cost",
            outcome.running, outcome.desired
        ),
    );
    ExitCode::SUCCESS
}
