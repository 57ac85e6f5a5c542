//! Stopping what the app runs on AWS: everything (its standalone tasks, and its service
//! scaled to zero), or one standalone task. Tasks of other task definitions in the
//! cluster are never touched.

use serde::Serialize;

use super::status::{observe_tasks, service_status, stop_task, TaskFilter};
use crate::aws::{classify, Connection};
use crate::error::{EngineError, Result};
use crate::project::ProjectConfig;
use crate::setup::ResourceNames;

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StopOutcome {
    pub stopped_tasks: Vec<String>,
    /// The service scaled to zero, if there was one.
    pub service_scaled_down: Option<String>,
}

/// Stops everything the app runs: its standalone tasks, and its service scaled to zero
/// (kept, so the next deploy updates it).
pub async fn stop_app(conn: &Connection, config: &ProjectConfig) -> Result<StopOutcome> {
    let names = ResourceNames::for_app(&config.name, &conn.ctx.region)
        .map_err(|problems| EngineError::InvalidResourceNames { problems })?;
    let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
    let service = service_status(conn, &names.cluster, &config.name).await?;
    let mut service_scaled_down = None;
    if let Some(s) = service.filter(|s| s.desired > 0) {
        ecs.update_service()
            .cluster(&names.cluster)
            .service(&s.name)
            .desired_count(0)
            .send()
            .await
            .map_err(|e| classify(&conn.ctx, "ecs:UpdateService", e))?;
        service_scaled_down = Some(s.name);
    }
    let running = observe_tasks(
        conn,
        &names.cluster,
        TaskFilter::Family(&config.name, aws_sdk_ecs::types::DesiredStatus::Running),
    )
    .await?;
    let mut stopped_tasks = Vec::new();
    for task in running {
        let t = task.snapshot;
        stop_task(conn, &names.cluster, &t.arn, "Stopped in Slipway").await?;
        stopped_tasks.push(t.id().to_owned());
    }
    Ok(StopOutcome {
        stopped_tasks,
        service_scaled_down,
    })
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
            reason: "it belongs to the app's service, which would start another at once; use Stop everything to scale the service to zero".to_owned(),
        });
    }
    stop_task(
        conn,
        &names.cluster,
        &task.snapshot.arn,
        "Stopped in Slipway",
    )
    .await?;
    Ok(StopOutcome {
        stopped_tasks: vec![task_id.to_owned()],
        service_scaled_down: None,
    })
}
