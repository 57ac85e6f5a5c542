//! Operating any ECS service, one Slipway deployed or not (a vendor's stack made it, or
//! the console): the services of the account to pick from; one service's state, rollout,
//! events and tasks (private and public IPs, health, cost); scaling its desired count,
//! forcing a new deployment and rolling back to an earlier task definition revision;
//! its containers' logs ([`logs()`]) and one-off tasks on its task definition ([`run_once`]).
//!
//! Every change is one UpdateService call that sets an absolute value (a count, a
//! revision), so a retry after a lost answer leaves the same service; a forced new
//! deployment retried that way may start a second one (every task replaced twice).

use aws_sdk_ecs::types::{Service, TaskDefinition, TaskDefinitionStatus};
use serde::Serialize;
use time::OffsetDateTime;

use crate::aws::{classify, Connection};
use crate::cost::meter::{iso, meter, moment, BilledTask, RunningCost};
use crate::cost::pricelist::{price_book, Refresh};
use crate::deploy::ecs::{family_of, list_tasks, revision_of, TaskFilter};
use crate::deploy::status::{observe_tasks, RunningTask};
use crate::deploy::watch::{task_id, TaskSnapshot};
use slipway_core::diagnosis::{diagnose, Diagnosis};
use slipway_core::error::{EngineError, Result};

mod awslogs;
mod logs;
mod run;

pub use awslogs::AwsLogs;
pub use logs::logs;
pub use run::{
    run_once, OneOffEvent, OneOffOutcome, OneOffRequest, DEFAULT_DEADLINE, MAX_DEADLINE, RUN_TAG,
    STARTED_BY_PREFIX,
};

/// DescribeServices takes at most 10 services a call.
const DESCRIBE_BATCH: usize = 10;
/// The newest events shown of a service (ECS keeps the last 100).
const EVENTS_SHOWN: usize = 10;
/// The most stopped tasks a view explains.
const STOPPED_SHOWN: usize = 5;

/// A task of the service that stopped, and why in plain words.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StoppedServiceTask {
    pub task_id: String,
    pub revision: Option<i32>,
    pub diagnosis: Diagnosis,
}
/// The most tasks a scale asks for: beyond that, a typo is likelier than a wish.
pub const MAX_DESIRED: i32 = 100;

/// One service, as its cluster and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRef {
    pub cluster: String,
    pub service: String,
}

/// A service in the account's list, to pick from.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSummary {
    pub cluster: String,
    pub name: String,
    /// FARGATE, EC2 or EXTERNAL; None when a capacity provider decides.
    pub launch_type: Option<String>,
    pub desired: i32,
    pub running: i32,
    pub revision: Option<i32>,
    pub task_definition: String,
}

/// One deployment of a service: the revision it rolls out and how far it got.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDeployment {
    pub id: String,
    /// PRIMARY (the newest), ACTIVE (being replaced) or INACTIVE.
    pub status: String,
    pub revision: Option<i32>,
    pub desired: i32,
    pub running: i32,
    /// IN_PROGRESS, COMPLETED or FAILED, with ECS's reason.
    pub rollout: Option<String>,
    pub rollout_reason: Option<String>,
}

/// A line of the service's event log.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ServiceEvent {
    /// ISO 8601.
    pub at: Option<String>,
    pub message: String,
}

/// What one service is and runs now.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ServiceView {
    pub cluster: String,
    pub name: String,
    pub region: String,
    pub launch_type: Option<String>,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    pub task_definition: String,
    pub family: String,
    pub revision: Option<i32>,
    pub deployments: Vec<ServiceDeployment>,
    /// Newest first.
    pub events: Vec<ServiceEvent>,
    /// The service's tasks, with their IPs and what they cost.
    pub tasks: Vec<RunningTask>,
    pub cost: RunningCost,
    /// The CloudWatch Logs group its containers write to (their `awslogs` settings).
    pub log_group: Option<String>,
    /// Its newest stopped tasks (of the family it runs), each explained.
    pub stopped: Vec<StoppedServiceTask>,
}

/// What a change did: the value before and after (a count or a revision).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Changed {
    pub from: i32,
    pub to: i32,
    /// False when the service already had that value: no call was made.
    pub changed: bool,
}

/// Every service of every cluster in the connection's region.
pub async fn list_services(conn: &Connection) -> Result<Vec<ServiceSummary>> {
    let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
    let mut clusters = Vec::new();
    let mut pages = ecs.list_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify(&conn.ctx, "ecs:ListClusters", e))?;
        clusters.extend(page.cluster_arns().iter().cloned());
    }
    let mut out = Vec::new();
    for cluster in clusters {
        let mut arns = Vec::new();
        let mut pages = ecs
            .list_services()
            .cluster(&cluster)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify(&conn.ctx, "ecs:ListServices", e))?;
            arns.extend(page.service_arns().iter().cloned());
        }
        for batch in arns.chunks(DESCRIBE_BATCH) {
            let answer = ecs
                .describe_services()
                .cluster(&cluster)
                .set_services(Some(batch.to_vec()))
                .send()
                .await
                .map_err(|e| classify(&conn.ctx, "ecs:DescribeServices", e))?;
            out.extend(
                answer
                    .services()
                    .iter()
                    .filter(|s| s.status() == Some("ACTIVE"))
                    .map(|s| summary(name_of(&cluster), s)),
            );
        }
    }
    out.sort_by(|a, b| (&a.cluster, &a.name).cmp(&(&b.cluster, &b.name)));
    Ok(out)
}

/// The service now: its deployments, events, tasks (with IPs and cost) and log group.
pub async fn describe(
    db: &std::path::Path,
    conn: &Connection,
    r: &ServiceRef,
    now: OffsetDateTime,
) -> Result<ServiceView> {
    let service = find(conn, r).await?;
    let task_definition = service.task_definition().unwrap_or_default().to_owned();
    let (port, log_group) = container_facts(conn, &task_definition).await?;
    let deployments: Vec<ServiceDeployment> = service
        .deployments()
        .iter()
        .map(|d| ServiceDeployment {
            id: d.id().unwrap_or_default().to_owned(),
            status: d.status().unwrap_or_default().to_owned(),
            revision: d.task_definition().and_then(revision_of),
            desired: d.desired_count(),
            running: d.running_count(),
            rollout: d.rollout_state().map(|s| s.as_str().to_owned()),
            rollout_reason: d.rollout_state_reason().map(str::to_owned),
        })
        .collect();
    // A service's tasks are started by its deployments ("ecs-svc/…" is the id's prefix).
    let ids: Vec<&str> = deployments.iter().map(|d| d.id.as_str()).collect();
    let observed: Vec<_> = observe_tasks(conn, &r.cluster, TaskFilter::Running)
        .await?
        .into_iter()
        .filter(|o| {
            o.snapshot
                .started_by
                .as_deref()
                .is_some_and(|by| ids.contains(&by))
        })
        .collect();
    let family = family_of(&task_definition).to_owned();
    let stopped_filter = TaskFilter::Family(&family, aws_sdk_ecs::types::DesiredStatus::Stopped);
    let stopped = stopped_tasks(conn, &r.cluster, &service, stopped_filter).await?;
    let book = price_book(db, &conn.ctx.region, Refresh::Never, now).await?;
    let billed: Vec<BilledTask> = observed.iter().filter_map(|o| o.billed()).collect();
    let cost = meter(&billed, &book, now);
    // Counted from the tasks themselves: ECS's own counts trail them (and the emulator's
    // say whatever was asked for), and the screen must not say "running" of nothing.
    let count = |status: &[&str]| {
        let n = observed
            .iter()
            .filter(|o| status.contains(&o.snapshot.last_status.as_str()))
            .count();
        i32::try_from(n).unwrap_or(i32::MAX)
    };
    let (running, pending) = (
        count(&["RUNNING"]),
        count(&["PROVISIONING", "PENDING", "ACTIVATING"]),
    );
    let tasks = observed
        .iter()
        .map(|o| {
            let spent = cost.tasks.iter().find(|c| c.task_id == o.snapshot.id());
            o.running(port, spent)
        })
        .collect();
    let mut events: Vec<ServiceEvent> = service
        .events()
        .iter()
        .map(|e| ServiceEvent {
            at: e.created_at().and_then(moment).map(iso),
            message: e.message().unwrap_or_default().to_owned(),
        })
        .collect();
    events.truncate(EVENTS_SHOWN);
    Ok(ServiceView {
        cluster: r.cluster.clone(),
        name: service.service_name().unwrap_or(&r.service).to_owned(),
        region: conn.ctx.region.clone(),
        launch_type: service.launch_type().map(|l| l.as_str().to_owned()),
        desired: service.desired_count(),
        running,
        pending,
        family,
        revision: revision_of(&task_definition),
        task_definition,
        deployments,
        events,
        tasks,
        cost,
        log_group,
        stopped,
    })
}

/// The service's newest stopped tasks (its own: its group, not a one-off's or another
/// service's of the same family), each explained. ECS keeps a stopped task about an hour;
/// at most the first 100 listed are read (one DescribeTasks call).
async fn stopped_tasks(
    conn: &Connection,
    cluster: &str,
    service: &Service,
    filter: TaskFilter<'_>,
) -> Result<Vec<StoppedServiceTask>> {
    let mut arns = list_tasks(conn, cluster, filter).await?;
    arns.truncate(100);
    if arns.is_empty() {
        return Ok(Vec::new());
    }
    let group = format!("service:{}", service.service_name().unwrap_or_default());
    let answer = aws_sdk_ecs::Client::new(&conn.ctx.sdk)
        .describe_tasks()
        .cluster(cluster)
        .set_tasks(Some(arns))
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "ecs:DescribeTasks", e))?;
    let mut tasks: Vec<_> = answer
        .tasks()
        .iter()
        .filter(|t| t.group() == Some(group.as_str()))
        .collect();
    tasks.sort_by_key(|t| std::cmp::Reverse(t.stopped_at().map(|at| at.secs())));
    Ok(tasks
        .into_iter()
        .take(STOPPED_SHOWN)
        .map(|t| {
            let snapshot = TaskSnapshot::from_sdk(t);
            StoppedServiceTask {
                task_id: task_id(&snapshot.arn).to_owned(),
                revision: revision_of(&snapshot.task_definition_arn),
                diagnosis: diagnose(&snapshot.stopped),
            }
        })
        .collect())
}

/// Sets how many tasks the service keeps running (0 stops them all and keeps the service).
pub async fn scale(conn: &Connection, r: &ServiceRef, desired: i32) -> Result<Changed> {
    if !(0..=MAX_DESIRED).contains(&desired) {
        return Err(EngineError::InvalidInput {
            what: "The number of tasks".into(),
            reason: format!("{desired} is outside 0 to {MAX_DESIRED}"),
        });
    }
    let service = find(conn, r).await?;
    let from = service.desired_count();
    if from == desired {
        return Ok(Changed {
            from,
            to: desired,
            changed: false,
        });
    }
    update(conn, r, |u| u.desired_count(desired)).await?;
    tracing::info!(cluster = %r.cluster, service = %r.service, from, to = desired, "scaled a service");
    Ok(Changed {
        from,
        to: desired,
        changed: true,
    })
}

/// Starts a new deployment of the same revision: every task is replaced (a new image
/// behind the same tag, rotated secrets).
pub async fn redeploy(conn: &Connection, r: &ServiceRef) -> Result<i32> {
    let service = find(conn, r).await?;
    let revision = service
        .task_definition()
        .and_then(revision_of)
        .unwrap_or_default();
    update(conn, r, |u| u.force_new_deployment(true)).await?;
    tracing::info!(cluster = %r.cluster, service = %r.service, revision, "forced a new deployment");
    Ok(revision)
}

/// Points the service at an earlier revision of its task definition: `to`, else the
/// newest active one before the revision it runs now.
pub async fn rollback(conn: &Connection, r: &ServiceRef, to: Option<i32>) -> Result<Changed> {
    let service = find(conn, r).await?;
    let current = service.task_definition().unwrap_or_default().to_owned();
    let family = family_of(&current).to_owned();
    let from = revision_of(&current).unwrap_or_default();
    let revisions = active_revisions(conn, &family).await?;
    let target = match to {
        Some(revision) => revision,
        None => revisions
            .iter()
            .copied()
            .filter(|n| *n < from)
            .max()
            .ok_or_else(|| EngineError::RollbackRefused {
                revision: from,
                problems: vec![format!(
                    "{family} has no active revision before {from} to go back to."
                )],
            })?,
    };
    if target == from {
        return Ok(Changed {
            from,
            to: target,
            changed: false,
        });
    }
    if !revisions.contains(&target) {
        return Err(EngineError::RollbackRefused {
            revision: target,
            problems: vec![format!(
                "{family} has no active revision {target} (active: {}).",
                listed(&revisions)
            )],
        });
    }
    let definition = format!("{family}:{target}");
    update(conn, r, |u| u.task_definition(&definition)).await?;
    tracing::info!(cluster = %r.cluster, service = %r.service, from, to = target, "rolled a service back");
    Ok(Changed {
        from,
        to: target,
        changed: true,
    })
}

/// The service, or ServiceNotFound when the cluster has no active one of that name.
async fn find(conn: &Connection, r: &ServiceRef) -> Result<Service> {
    let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
    let answer = ecs
        .describe_services()
        .cluster(&r.cluster)
        .services(&r.service)
        .send()
        .await;
    let not_found = || EngineError::ServiceNotFound {
        cluster: r.cluster.clone(),
        service: r.service.clone(),
        region: conn.ctx.region.clone(),
    };
    let answer = match answer {
        Ok(answer) => answer,
        // A cluster that does not exist is the same news for the user.
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_cluster_not_found_exception()) =>
        {
            return Err(not_found())
        }
        Err(e) => return Err(classify(&conn.ctx, "ecs:DescribeServices", e)),
    };
    answer
        .services()
        .iter()
        .find(|s| s.status() == Some("ACTIVE"))
        .cloned()
        .ok_or_else(not_found)
}

/// The task definition `arn` names (an ARN or family:revision).
async fn task_definition(conn: &Connection, arn: &str) -> Result<TaskDefinition> {
    let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
    let answer = ecs
        .describe_task_definition()
        .task_definition(arn)
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "ecs:DescribeTaskDefinition", e))?;
    answer
        .task_definition()
        .cloned()
        .ok_or_else(|| EngineError::Internal(format!("ECS described no task definition {arn}")))
}

async fn update(
    conn: &Connection,
    r: &ServiceRef,
    set: impl FnOnce(
        aws_sdk_ecs::operation::update_service::builders::UpdateServiceFluentBuilder,
    )
        -> aws_sdk_ecs::operation::update_service::builders::UpdateServiceFluentBuilder,
) -> Result<()> {
    let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
    set(ecs.update_service().cluster(&r.cluster).service(&r.service))
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "ecs:UpdateService", e))?;
    Ok(())
}

/// The ACTIVE revisions of `family`, ascending.
async fn active_revisions(conn: &Connection, family: &str) -> Result<Vec<i32>> {
    let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
    let mut pages = ecs
        .list_task_definitions()
        .family_prefix(family)
        .status(TaskDefinitionStatus::Active)
        .into_paginator()
        .send();
    let mut revisions = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify(&conn.ctx, "ecs:ListTaskDefinitions", e))?;
        // The prefix also matches longer families (app and app-worker): keep this one's.
        revisions.extend(
            page.task_definition_arns()
                .iter()
                .filter(|arn| family_of(arn) == family)
                .filter_map(|arn| revision_of(arn)),
        );
    }
    revisions.sort_unstable();
    revisions.dedup();
    Ok(revisions)
}

/// The first container's first port (for the tasks' addresses) and its log group.
async fn container_facts(
    conn: &Connection,
    task_definition: &str,
) -> Result<(u16, Option<String>)> {
    let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
    let answer = ecs
        .describe_task_definition()
        .task_definition(task_definition)
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "ecs:DescribeTaskDefinition", e))?;
    let containers = answer
        .task_definition()
        .map(|d| d.container_definitions())
        .unwrap_or_default();
    let port = containers
        .iter()
        .flat_map(|c| c.port_mappings())
        .find_map(|p| p.container_port())
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(80);
    let log_group = containers.iter().find_map(|c| {
        c.log_configuration()
            .filter(|l| l.log_driver().as_str() == "awslogs")
            .and_then(|l| l.options())
            .and_then(|o| o.get("awslogs-group").cloned())
    });
    Ok((port, log_group))
}

fn summary(cluster: &str, s: &Service) -> ServiceSummary {
    let task_definition = s.task_definition().unwrap_or_default().to_owned();
    ServiceSummary {
        cluster: cluster.to_owned(),
        name: s.service_name().unwrap_or_default().to_owned(),
        launch_type: s.launch_type().map(|l| l.as_str().to_owned()),
        desired: s.desired_count(),
        running: s.running_count(),
        revision: revision_of(&task_definition),
        task_definition,
    }
}

/// A cluster's name from its ARN (or the name itself).
fn name_of(cluster: &str) -> &str {
    cluster.rsplit('/').next().unwrap_or(cluster)
}

fn listed(revisions: &[i32]) -> String {
    if revisions.is_empty() {
        return "none".into();
    }
    revisions
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_is_named_by_the_last_part_of_its_arn() {
        assert_eq!(
            name_of("arn:aws:ecs:eu-west-1:123456789012:cluster/dbward"),
            "dbward"
        );
        assert_eq!(name_of("dbward"), "dbward");
    }

    #[test]
    fn revisions_are_listed_in_words() {
        assert_eq!(listed(&[]), "none");
        assert_eq!(listed(&[1, 3]), "1, 3");
    }
}
