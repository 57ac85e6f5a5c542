//! `slipway service`: operating any ECS service of the account, one Slipway deployed or
//! not (a vendor's stack made it): list them, see one's tasks with their private and public
//! IPs, scale it, force a new deployment, roll it back to an earlier revision.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use slipway_aws::aws::Connection;
use slipway_aws::service::{
    describe, list_services, redeploy, rollback, scale, Changed, ServiceRef, ServiceView,
};
use slipway_core::host::HostEnv;
use time::OffsetDateTime;

use crate::aws::{connect_target, TargetArgs};
use crate::output::{fail, json, line, Mark};

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
