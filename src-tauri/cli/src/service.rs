//! `slipway service`: operating any ECS service of the account, one Slipway deployed or
//! not (a vendor's stack made it): list them, see one's tasks with their private and public
//! IPs, scale it, force a new deployment, roll it back to an earlier revision, read its
//! logs, and run a one-off command on its task definition and network (its output printed
//! as it arrives, the CLI exiting with the command's exit code).

use std::process::ExitCode;

use clap::{Args, Subcommand};
use slipway_aws::aws::Connection;
use slipway_aws::logs::LogQuery;
use slipway_aws::service::{
    describe, list_services, logs, redeploy, rollback, run_once, scale, Changed, OneOffEvent,
    OneOffOutcome, OneOffRequest, ServiceRef, ServiceView,
};
use slipway_core::host::HostEnv;
use slipway_core::EngineError;
use time::OffsetDateTime;

use crate::aws::{connect_target, TargetArgs};
use crate::logs::seconds;
use crate::output::{cancel_on_ctrl_c, fail, json, json_line, line, Mark};

#[derive(Subcommand)]
pub enum ServiceCommand {
    /// List the ECS services of every cluster in the region.
    List(TargetArgs),
    /// One service: its tasks (private and public IPs, health, cost), rollout and events.
    Ps(Named),
    /// Set how many tasks the service keeps running (0 stops them and keeps the service).
    Scale(ScaleArgs),
    /// Replace every task with a new one of the same revision (a new image behind the same
    /// tag, rotated secrets).
    Redeploy(Named),
    /// Point the service at an earlier revision of its task definition (default: the newest
    /// active one before the revision it runs).
    Rollback(RollbackArgs),
    /// Recent log lines of the service's tasks, from its task definition's awslogs settings.
    Logs(ServiceLogsArgs),
    /// Run a command once in a new task of the service's task definition, on its network;
    /// prints the output and exits with the command's exit code. Ctrl-C stops the task.
    Run(RunArgs),
}

#[derive(Args)]
pub struct ServiceLogsArgs {
    /// The container whose logs to read (default: the first essential one).
    #[arg(long)]
    container: Option<String>,
    /// Only this task's lines (its id, as `slipway service ps` shows it).
    #[arg(long, value_name = "ID")]
    task: Option<String>,
    /// Only lines containing this text (any case).
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// From this long ago: 90s, 15m, 2h, 7d (default 1h).
    #[arg(long, value_name = "DURATION")]
    since: Option<String>,
    /// At most this many lines, the newest (default 10000, at most 100000).
    #[arg(long)]
    limit: Option<u32>,
    #[command(flatten)]
    named: Named,
}

#[derive(Args)]
pub struct RunArgs {
    /// The container to run the command in (default: the first essential one).
    #[arg(long)]
    container: Option<String>,
    /// Stop the task if it has not finished by then: 90s, 15m, 2h (default 15m).
    #[arg(long, value_name = "DURATION")]
    deadline: Option<String>,
    #[command(flatten)]
    named: Named,
    /// The command and its arguments, after `--`: they replace the container's command.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<String>,
}

#[derive(Args)]
pub struct Named {
    /// The cluster's name or ARN.
    #[arg(long)]
    cluster: String,
    /// The service's name or ARN.
    #[arg(long)]
    service: String,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Args)]
pub struct ScaleArgs {
    /// How many tasks to keep running.
    desired: i32,
    #[command(flatten)]
    named: Named,
}

#[derive(Args)]
pub struct RollbackArgs {
    /// The revision to go back to.
    #[arg(long)]
    to: Option<i32>,
    #[command(flatten)]
    named: Named,
}

pub async fn run(command: ServiceCommand, as_json: bool) -> ExitCode {
    let host = HostEnv::from_process();
    match command {
        ServiceCommand::List(target) => {
            let conn = match connect_target(&host, target, "service list", as_json).await {
                Ok(conn) => conn,
                Err(code) => return code,
            };
            match list_services(&conn).await {
                Ok(services) if as_json => {
                    json(&services);
                    ExitCode::SUCCESS
                }
                Ok(services) => {
                    if services.is_empty() {
                        line(
                            Mark::Info,
                            format!("no ECS services in {}", conn.ctx.region),
                        );
                    }
                    for s in &services {
                        let revision = s.revision.map(|r| format!(", revision {r}"));
                        line(
                            Mark::Info,
                            format!(
                                "{} in cluster {}: {} of {} running{}",
                                s.name,
                                s.cluster,
                                s.running,
                                s.desired,
                                revision.unwrap_or_default()
                            ),
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail("service list", &e, as_json),
            }
        }
        ServiceCommand::Ps(named) => {
            let (conn, r) = match named.connect(&host, "service ps", as_json).await {
                Ok(found) => found,
                Err(code) => return code,
            };
            let db = slipway_core::store::db_path(&host);
            match describe(&db, &conn, &r, OffsetDateTime::now_utc()).await {
                Ok(view) if as_json => {
                    json(&view);
                    ExitCode::SUCCESS
                }
                Ok(view) => {
                    print_view(&view);
                    ExitCode::SUCCESS
                }
                Err(e) => fail("service ps", &e, as_json),
            }
        }
        ServiceCommand::Scale(args) => {
            let (conn, r) = match args.named.connect(&host, "service scale", as_json).await {
                Ok(found) => found,
                Err(code) => return code,
            };
            match scale(&conn, &r, args.desired).await {
                Ok(changed) => said(&changed, "tasks", &r, as_json),
                Err(e) => fail("service scale", &e, as_json),
            }
        }
        ServiceCommand::Redeploy(named) => {
            let (conn, r) = match named.connect(&host, "service redeploy", as_json).await {
                Ok(found) => found,
                Err(code) => return code,
            };
            match redeploy(&conn, &r).await {
                Ok(revision) if as_json => {
                    json(&serde_json::json!({ "revision": revision }));
                    ExitCode::SUCCESS
                }
                Ok(revision) => {
                    line(
                        Mark::Ok,
                        format!(
                            "{}: a new deployment of revision {revision} replaces every task (`slipway service ps` follows it)",
                            r.service
                        ),
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail("service redeploy", &e, as_json),
            }
        }
        ServiceCommand::Rollback(args) => {
            let (conn, r) = match args.named.connect(&host, "service rollback", as_json).await {
                Ok(found) => found,
                Err(code) => return code,
            };
            match rollback(&conn, &r, args.to).await {
                Ok(changed) => said(&changed, "revision", &r, as_json),
                Err(e) => fail("service rollback", &e, as_json),
            }
        }
        ServiceCommand::Logs(args) => service_logs(&host, args, as_json).await,
        ServiceCommand::Run(args) => run_command(&host, args, as_json).await,
    }
}

async fn service_logs(host: &HostEnv, args: ServiceLogsArgs, as_json: bool) -> ExitCode {
    let since_seconds = match parse_duration("--since", args.since.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail("service logs", &e, as_json),
    };
    let (conn, r) = match args.named.connect(host, "service logs", as_json).await {
        Ok(found) => found,
        Err(code) => return code,
    };
    let query = LogQuery {
        task_id: args.task,
        text: args.filter,
        since_seconds,
        until_ms: None,
        limit: args.limit,
    };
    let now = OffsetDateTime::now_utc();
    match logs(&conn, &r, args.container.as_deref(), &query, now).await {
        Ok(page) => {
            if !as_json && page.lines.is_empty() {
                eprintln!(
                    "slipway service logs: no lines in {} for that time (widen --since)",
                    page.group
                );
            }
            for l in &page.lines {
                crate::logs::print(l, as_json);
            }
            if page.truncated {
                eprintln!(
                    "slipway service logs: more lines matched; showing the newest {} (raise --limit, or narrow --since or --filter)",
                    page.lines.len()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail("service logs", &e, as_json),
    }
}

async fn run_command(host: &HostEnv, args: RunArgs, as_json: bool) -> ExitCode {
    let deadline_seconds = match parse_duration("--deadline", args.deadline.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail("service run", &e, as_json),
    };
    let (conn, r) = match args.named.connect(host, "service run", as_json).await {
        Ok(found) => found,
        Err(code) => return code,
    };
    let request = OneOffRequest {
        command: args.command,
        container: args.container,
        deadline_seconds,
    };
    let cancel = cancel_on_ctrl_c();
    // The command's output goes to stdout as it arrives (so it can be piped); what
    // Slipway says about the task goes to stderr.
    let sink = move |event: OneOffEvent| {
        if as_json {
            json_line(&serde_json::json!({ "event": event }));
            return;
        }
        match event {
            OneOffEvent::TaskStarted {
                task_id, container, ..
            } => eprintln!("slipway service run: task {task_id} started ({container})"),
            OneOffEvent::StatusChanged { status } => {
                eprintln!("slipway service run: task {status}")
            }
            OneOffEvent::Output { lines } => lines.iter().for_each(|l| println!("{l}")),
            OneOffEvent::Retrying { what, reason, .. } => {
                eprintln!("slipway service run: {what} failed ({reason}); trying again")
            }
            OneOffEvent::TaskStopping { task_id, reason } => {
                eprintln!("slipway service run: stopping task {task_id}: {reason}")
            }
        }
    };
    match run_once(&conn, &r, &request, &sink, &cancel).await {
        Ok(outcome) => ran(&outcome, as_json),
        Err(e) => {
            if as_json {
                json_line(
                    &serde_json::json!({ "error": { "code": e.code(), "message": e.to_string() } }),
                );
            }
            fail("service run", &e, false)
        }
    }
}

/// The task's exit code as the CLI's: 0 for 0; a failure stays a failure even where the
/// shell would read its code as 0 (256).
fn exit_status(code: i32) -> u8 {
    match code {
        0 => 0,
        1..=255 => code as u8,
        _ => 1,
    }
}

fn ran(outcome: &OneOffOutcome, as_json: bool) -> ExitCode {
    if as_json {
        json_line(&serde_json::json!({ "result": outcome }));
    } else if outcome.exit_code == 0 {
        eprintln!(
            "slipway service run: task {} finished (exit code 0)",
            outcome.task_id
        );
    } else {
        eprintln!(
            "slipway service run: the command failed in task {} with exit code {}; slipway exits with it",
            outcome.task_id, outcome.exit_code
        );
    }
    ExitCode::from(exit_status(outcome.exit_code))
}

fn parse_duration(flag: &str, text: Option<&str>) -> Result<Option<u32>, EngineError> {
    match text {
        None => Ok(None),
        Some(text) => seconds(text)
            .map(Some)
            .ok_or_else(|| EngineError::InvalidInput {
                what: flag.into(),
                reason: format!("\"{text}\" is not a duration such as 90s, 15m, 2h or 7d"),
            }),
    }
}

impl Named {
    async fn connect(
        self,
        host: &HostEnv,
        verb: &str,
        as_json: bool,
    ) -> Result<(Connection, ServiceRef), ExitCode> {
        let conn = connect_target(host, self.target, verb, as_json).await?;
        Ok((
            conn,
            ServiceRef {
                cluster: self.cluster,
                service: self.service,
            },
        ))
    }
}

fn said(changed: &Changed, what: &str, r: &ServiceRef, as_json: bool) -> ExitCode {
    if as_json {
        json(changed);
    } else if changed.changed {
        line(
            Mark::Ok,
            format!(
                "{}: {what} {} → {} (`slipway service ps` follows the rollout)",
                r.service, changed.from, changed.to
            ),
        );
    } else {
        line(
            Mark::Info,
            format!(
                "{}: {what} is already {}; nothing changed",
                r.service, changed.to
            ),
        );
    }
    ExitCode::SUCCESS
}

fn print_view(view: &ServiceView) {
    let revision = view
        .revision
        .map(|r| format!("{}:{r}", view.family))
        .unwrap_or_else(|| view.task_definition.clone());
    line(
        Mark::Info,
        format!(
            "{} in cluster {} ({}): {} of {} running, {} pending, {revision}",
            view.name, view.cluster, view.region, view.running, view.desired, view.pending
        ),
    );
    for d in &view.deployments {
        let rollout = d.rollout.as_deref().unwrap_or("");
        let reason = d
            .rollout_reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        line(
            Mark::Info,
            format!(
                "deployment {} {}: revision {}, {} of {} running {rollout}{reason}",
                d.id,
                d.status,
                d.revision.map(|r| r.to_string()).unwrap_or_default(),
                d.running,
                d.desired
            ),
        );
    }
    if view.tasks.is_empty() {
        line(Mark::Info, "no tasks running");
    }
    for t in &view.tasks {
        let health = t
            .health
            .as_deref()
            .map(|h| format!(" {h}"))
            .unwrap_or_default();
        let cost = t
            .cost_per_hour
            .map(|c| format!(", ${c:.4}/h"))
            .unwrap_or_default();
        line(
            Mark::Info,
            format!(
                "task {} {}{health}: private {}, public {}{cost}",
                t.task_id,
                t.status,
                t.private_ip.as_deref().unwrap_or("-"),
                t.public_ip.as_deref().unwrap_or("-"),
            ),
        );
    }
    if !view.tasks.is_empty() {
        line(
            Mark::Info,
            format!("together ${:.4} an hour", view.cost.per_hour),
        );
    }
    if let Some(group) = &view.log_group {
        line(Mark::Info, format!("logs in {group}"));
    }
    for e in &view.events {
        line(
            Mark::Info,
            format!("{} {}", e.at.as_deref().unwrap_or(""), e.message),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::exit_status;

    #[test]
    fn a_failed_command_never_exits_the_cli_with_success() {
        assert_eq!(exit_status(0), 0);
        assert_eq!(exit_status(3), 3);
        assert_eq!(exit_status(255), 255);
        assert_eq!(exit_status(256), 1, "256 would read as 0 to the shell");
        assert_eq!(exit_status(-1), 1);
    }
}
