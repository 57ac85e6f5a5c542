//! Deploying to Fargate and staying in control afterwards: the deploy job (streaming its
//! timeline; a rollback is a deploy with `request.rollback`), what runs now, stopping it,
//! and the deploys a killed app left unfinished. Each is the application layer's use case.

use slipway_app::StopReport;
use slipway_aws::deploy::{
    self, AppStatus, DeployEvent, DeployOutcome, DeployRequest, JournalEntry,
};
use tauri::ipc::Channel;
use tauri::State;

use super::jobs::channel_sink;
use crate::error::IpcError;
use crate::state::{Host, Jobs, Projects};

#[tauri::command]
#[specta::specta]
pub async fn deploy(
    job_id: String,
    dir: String,
    request: DeployRequest,
    on_event: Channel<DeployEvent>,
    host: State<'_, Host>,
    jobs: State<'_, Jobs>,
    projects: State<'_, Projects>,
) -> Result<DeployOutcome, IpcError> {
    let job = jobs.0.start(&job_id)?;
    let session = projects.session(&host, &dir);
    let sink = channel_sink(on_event);
    Ok(slipway_app::deploy(&session, &request, &sink, &job.cancel_token()).await?)
}

/// What runs for the app now; works from the app name and connection even when
/// slipway.toml does not validate, as stopping does.
#[tauri::command]
#[specta::specta]
pub async fn app_status(
    dir: String,
    host: State<'_, Host>,
    projects: State<'_, Projects>,
) -> Result<AppStatus, IpcError> {
    Ok(slipway_app::status(&projects.session(&host, &dir)).await?)
}

/// Stops every task of the app and scales its service to zero; then closes the deploys a
/// killed app left unfinished.
#[tauri::command]
#[specta::specta]
pub async fn stop_app(
    dir: String,
    host: State<'_, Host>,
    projects: State<'_, Projects>,
) -> Result<StopReport, IpcError> {
    Ok(slipway_app::stop(&projects.session(&host, &dir), None).await?)
}

/// How many tasks the app's service runs behind its load balancer (saved in slipway.toml
/// first, refused there when it is not allowed), and its auto scaling.
#[tauri::command]
#[specta::specta]
pub async fn scale_app(
    dir: String,
    request: slipway_app::ScaleRequest,
    host: State<'_, Host>,
    projects: State<'_, Projects>,
) -> Result<deploy::ScaleOutcome, IpcError> {
    Ok(slipway_app::scale(&projects.session(&host, &dir), request).await?)
}

/// Stops one of the app's standalone tasks.
#[tauri::command]
#[specta::specta]
pub async fn stop_task(
    dir: String,
    task_id: String,
    host: State<'_, Host>,
    projects: State<'_, Projects>,
) -> Result<StopReport, IpcError> {
    Ok(slipway_app::stop(&projects.session(&host, &dir), Some(&task_id)).await?)
}

/// Deploys the journal shows as started and never finished, newest first (read at start),
/// not counting one running now in another window or terminal.
#[tauri::command]
#[specta::specta]
pub async fn unfinished_deploys(host: State<'_, Host>) -> Result<Vec<JournalEntry>, IpcError> {
    let db = slipway_core::store::db_path(&host.0);
    Ok(deploy::left_unfinished(&db)?)
}

/// Closes an unfinished deploy, stopping exactly the tasks it started when `stop` is true
/// (it stays open, needing attention, when they could not all be stopped).
#[tauri::command]
#[specta::specta]
pub async fn settle_deploy(
    deploy_id: String,
    stop: bool,
    host: State<'_, Host>,
    projects: State<'_, Projects>,
) -> Result<JournalEntry, IpcError> {
    Ok(slipway_app::settle(&projects.0, &host.0, &deploy_id, stop).await?)
}

/// What the next deploy would change in the task definition (size, environment, secrets,
/// health check, port), against the current revision.
#[tauri::command]
#[specta::specta]
pub async fn task_definition_changes(
    dir: String,
    host: State<'_, Host>,
    projects: State<'_, Projects>,
) -> Result<deploy::PendingChanges, IpcError> {
    let (config, connection) = projects.session(&host, &dir).connect().await?;
    Ok(deploy::pending_changes(&connection, &config).await?)
}
