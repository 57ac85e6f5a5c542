//! Deploying to Fargate and staying in control afterwards: the deploy job (streaming its
//! timeline), what runs now, stopping it, and the deploys a killed app left unfinished.

use std::path::PathBuf;
use std::time::SystemTime;

use slipway_engine::deploy::{
    self, AppStatus, DeployEvent, DeployOutcome, DeployRequest, JournalEntry, StopOutcome,
};
use slipway_engine::setup::connect_project;
use tauri::ipc::Channel;
use tauri::State;

use super::jobs::channel_sink;
use crate::error::IpcError;
use crate::state::{Host, Jobs};

#[tauri::command]
#[specta::specta]
pub async fn deploy(
    job_id: String,
    dir: String,
    request: DeployRequest,
    on_event: Channel<DeployEvent>,
    host: State<'_, Host>,
    jobs: State<'_, Jobs>,
) -> Result<DeployOutcome, IpcError> {
    let job = jobs.0.start(&job_id)?;
    let dir = PathBuf::from(dir);
    let (config, connection) = connect_project(&host.0, &dir, None, SystemTime::now()).await?;
    let sink = channel_sink(on_event);
    Ok(deploy::deploy(
        &host.0,
        &dir,
        &connection,
        &config,
        &request,
        &sink,
        &job.cancel_token(),
    )
    .await?)
}

/// What runs for the app now; works from the app name and connection even when
/// slipway.toml does not validate, as stopping does.
#[tauri::command]
#[specta::specta]
pub async fn app_status(dir: String, host: State<'_, Host>) -> Result<AppStatus, IpcError> {
    let (config, connection) =
        deploy::connect_for_operations(&host.0, &PathBuf::from(dir), None, SystemTime::now())
            .await?;
    let db = slipway_engine::store::db_path(&host.0);
    Ok(deploy::status(&db, &connection, &config, time::OffsetDateTime::now_utc()).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn stop_app(dir: String, host: State<'_, Host>) -> Result<StopOutcome, IpcError> {
    let (config, connection) =
        deploy::connect_for_operations(&host.0, &PathBuf::from(dir), None, SystemTime::now())
            .await?;
    Ok(deploy::stop_app(&connection, &config).await?)
}

/// Stops one of the app's standalone tasks.
#[tauri::command]
#[specta::specta]
pub async fn stop_task(
    dir: String,
    task_id: String,
    host: State<'_, Host>,
) -> Result<StopOutcome, IpcError> {
    let (config, connection) =
        deploy::connect_for_operations(&host.0, &PathBuf::from(dir), None, SystemTime::now())
            .await?;
    Ok(deploy::stop_app_task(&connection, &config, &task_id).await?)
}

/// Deploys the journal shows as started and never finished, newest first (read at start),
/// not counting one running now in another window or terminal.
#[tauri::command]
#[specta::specta]
pub async fn unfinished_deploys(host: State<'_, Host>) -> Result<Vec<JournalEntry>, IpcError> {
    let db = slipway_engine::store::db_path(&host.0);
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
) -> Result<JournalEntry, IpcError> {
    let db = slipway_engine::store::db_path(&host.0);
    let entry = deploy::journal::get(&db, &deploy_id)?.ok_or(
        slipway_engine::EngineError::DeployNotFound {
            deploy_id: deploy_id.clone(),
        },
    )?;
    let (_, connection) = deploy::connect_for_operations(
        &host.0,
        &PathBuf::from(&entry.project_dir),
        None,
        SystemTime::now(),
    )
    .await?;
    Ok(deploy::settle_unfinished(&db, &connection, &deploy_id, stop).await?)
}

/// What the next deploy would change in the task definition (size, environment, secrets,
/// health check, port), against the current revision.
#[tauri::command]
#[specta::specta]
pub async fn task_definition_changes(
    dir: String,
    host: State<'_, Host>,
) -> Result<deploy::PendingChanges, IpcError> {
    let (config, connection) =
        connect_project(&host.0, &PathBuf::from(dir), None, SystemTime::now()).await?;
    Ok(deploy::pending_changes(&connection, &config).await?)
}
