//! Stopping what the app runs on AWS: everything (its standalone tasks, and its service
//! scaled to zero), or one standalone task. Tasks of other task definitions in the
//! cluster are never touched. Every task is tried, each StopTask repeated through
//! transient failures; what could not be stopped is listed with why, never hidden behind
//! the first failure.

use serde::Serialize;

use super::ecs::{stop_task, TaskFilter};
use super::status::{observe_tasks, service_status};
use super::undo::repeat_until;
use crate::aws::{classify, Connection};
use crate::setup::ResourceNames;
use slipway_core::error::{EngineError, Result};
use slipway_core::project::ProjectConfig;

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StopOutcome {
    pub stopped_tasks: Vec<String>,
    /// The service scaled to zero, if there was one.
    pub service_scaled_down: Option<String>,
    /// What could not be stopped, and why: it still runs and is billed.
    pub failed: Vec<StopFailure>,
}

/// A task (or the service) that could not be stopped.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StopFailure {
    /// The task id, or "service NAME".
    pub what: String,
    pub reason: String,
}

/// How long one stop keeps repeating a transiently failing StopTask.
const STOP_PATIENCE: std::time::Duration = std::time::Duration::from_secs(20);

/// Stops everything the app runs: its standalone tasks, and its service scaled to zero
/// (kept, so the next deploy updates it).
pub async fn stop_app(conn: &Connection, config: &ProjectConfig) -> Result<StopOutcome> {
    let names = ResourceNames::for_app(&config.name, &conn.ctx.region)
        .map_err(|problems| EngineError::InvalidResourceNames { problems })?;
    let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
    let until = || std::time::Instant::now() + STOP_PATIENCE;
    let mut outcome = StopOutcome {
        stopped_tasks: vec![],
        service_scaled_down: None,
        failed: vec![],
    };
    let service = repeat_until(until(), || {
        service_status(conn, &names.cluster, &config.name)
    })
    .await?;
    if let Some(s) = service.filter(|s| s.desired > 0) {
        // Auto scaling would start the tasks again: Slipway's scaling goes first (the next
        // deploy sets it up again from slipway.toml).
        // (Read also when slipway.toml no longer asks for a load balancer, or does not
        // validate: a scaling Slipway once set is still there.)
        let scaled = repeat_until(until(), || {
            super::scaling::apply(conn, &names.cluster, &s.name, None)
        })
        .await;
        if let Err(e) = scaled {
            outcome.failed.push(StopFailure {
                what: format!("auto scaling of service {}", s.name),
                reason: e.to_string(),
            });
        }
        let scaled = repeat_until(until(), || async {
            ecs.update_service()
                .cluster(&names.cluster)
                .service(&s.name)
                .desired_count(0)
                .send()
                .await
                .map_err(|e| classify(&conn.ctx, "ecs:UpdateService", e))
        })
        .await;
        match scaled {
            Ok(_) => outcome.service_scaled_down = Some(s.name),
            Err(e) => outcome.failed.push(StopFailure {
                what: format!("service {}", s.name),
                reason: e.to_string(),
            }),
        }
    }
    let running = repeat_until(until(), || {
        observe_tasks(
            conn,
            &names.cluster,
            TaskFilter::Family(&config.name, aws_sdk_ecs::types::DesiredStatus::Running),
        )
    })
    .await?;
    for task in running {
        let t = task.snapshot;
        match repeat_until(until(), || {
            stop_task(conn, &names.cluster, &t.arn, "Stopped in Slipway")
        })
        .await
        {
            Ok(()) => outcome.stopped_tasks.push(t.id().to_owned()),
            Err(e) => outcome.failed.push(StopFailure {
                what: t.id().to_owned(),
                reason: e.to_string(),
            }),
        }
    }
    Ok(outcome)
}

/// Stops one of the app's standalone tasks. A service's task is refused: ECS would start
/// another at once, so the way to stop it is to scale the service down.
pub async fn stop_app_task(
    conn: &Connection,
    config: &ProjectConfig,
    task_id: &str,
) -> Result<StopOutcome> {
    let names = ResourceNames::for_app(&config.name, &conn.ctx.region)
        .map_err(|problems| EngineError::InvalidResourceNames { problems })?;
    let running = observe_tasks(
        conn,
        &names.cluster,
        TaskFilter::Family(&config.name, aws_sdk_ecs::types::DesiredStatus::Running),
    )
    .await?;
    let Some(task) = running.iter().find(|o| o.snapshot.id() == task_id) else {
        return Err(EngineError::InvalidInput {
            what: format!("Task {task_id}"),
            reason: format!(
                "it is not running for {} (refresh to see what runs)",
                config.name
            ),
        });
    };
    if task.in_service() {
        return Err(EngineError::InvalidInput {
            what: format!("Task {task_id}"),
            reason: "it belongs to the app's service, which would start another at once; stop everything instead, which scales the service to zero".to_owned(),
        });
    }
    repeat_until(std::time::Instant::now() + STOP_PATIENCE, || {
        stop_task(
            conn,
            &names.cluster,
            &task.snapshot.arn,
            "Stopped in Slipway",
        )
    })
    .await?;
    Ok(StopOutcome {
        stopped_tasks: vec![task_id.to_owned()],
        service_scaled_down: None,
        failed: vec![],
    })
}
