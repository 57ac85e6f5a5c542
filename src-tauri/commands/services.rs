//! Any ECS service of the account from the window (one Slipway deployed or a vendor's
//! stack made): the list, one service's tasks and events, scaling it, a new deployment, a
//! rollback to an earlier revision, a one-off command with its output, the service's logs.
//! Each is the engine's `service` module.

use slipway_aws::aws::AwsTarget;
use slipway_aws::logs::{LogPage, LogQuery};
use slipway_aws::service::{
    self, Changed, OneOffEvent, OneOffOutcome, OneOffRequest, ServiceRef, ServiceSummary,
    ServiceView,
};
use tauri::ipc::Channel;
use tauri::State;
use time::OffsetDateTime;

use super::jobs::channel_sink;
use crate::error::IpcError;
use crate::state::{Desk, Jobs};

#[tauri::command]
#[specta::specta]
pub async fn list_services(
    target: AwsTarget,
    desk: State<'_, Desk>,
) -> Result<Vec<ServiceSummary>, IpcError> {
    Ok(service::list_services(&desk.0.connection(&target).await?).await?)
}

/// One service: its tasks with their IPs and cost, its rollout and its events.
#[tauri::command]
#[specta::specta]
pub async fn describe_service(
    target: AwsTarget,
    cluster: String,
    service: String,
    desk: State<'_, Desk>,
) -> Result<ServiceView, IpcError> {
    let conn = desk.0.connection(&target).await?;
    let r = ServiceRef { cluster, service };
    Ok(service::describe(&desk.0.db(), &conn, &r, OffsetDateTime::now_utc()).await?)
}

/// Sets how many tasks the service keeps running.
#[tauri::command]
#[specta::specta]
pub async fn scale_service(
    target: AwsTarget,
    cluster: String,
    service: String,
    desired: i32,
    desk: State<'_, Desk>,
) -> Result<Changed, IpcError> {
    let conn = desk.0.connection(&target).await?;
    Ok(service::scale(&conn, &ServiceRef { cluster, service }, desired).await?)
}

/// Replaces every task with a new one of the same revision; the revision rolled out.
#[tauri::command]
#[specta::specta]
pub async fn redeploy_service(
    target: AwsTarget,
    cluster: String,
    service: String,
    desk: State<'_, Desk>,
) -> Result<i32, IpcError> {
    let conn = desk.0.connection(&target).await?;
    Ok(service::redeploy(&conn, &ServiceRef { cluster, service }).await?)
}

/// Points the service at an earlier revision (default: the one before it).
#[tauri::command]
#[specta::specta]
pub async fn roll_back_service(
    target: AwsTarget,
    cluster: String,
    service: String,
    to: Option<i32>,
    desk: State<'_, Desk>,
) -> Result<Changed, IpcError> {
    let conn = desk.0.connection(&target).await?;
    Ok(service::rollback(&conn, &ServiceRef { cluster, service }, to).await?)
}

/// Runs a one-off command on the service's task definition and network, streaming its
/// output; the task is stopped if the job is cancelled.
#[tauri::command]
#[specta::specta]
#[allow(clippy::too_many_arguments)]
pub async fn run_service_task(
    job_id: String,
    target: AwsTarget,
    cluster: String,
    service: String,
    request: OneOffRequest,
    on_event: Channel<OneOffEvent>,
    desk: State<'_, Desk>,
    jobs: State<'_, Jobs>,
) -> Result<OneOffOutcome, IpcError> {
    let job = jobs.0.start(&job_id)?;
    let conn = desk.0.connection(&target).await?;
    let sink = channel_sink(on_event);
    let r = ServiceRef { cluster, service };
    Ok(service::run_once(&conn, &r, &request, &sink, &job.cancel_token()).await?)
}

/// The newest lines the service's containers wrote (its task definition's awslogs).
#[tauri::command]
#[specta::specta]
pub async fn service_logs(
    target: AwsTarget,
    cluster: String,
    service: String,
    query: LogQuery,
    desk: State<'_, Desk>,
) -> Result<LogPage, IpcError> {
    let conn = desk.0.connection(&target).await?;
    let r = ServiceRef { cluster, service };
    Ok(service::logs(&conn, &r, None, &query, OffsetDateTime::now_utc()).await?)
}
