//! The local preview: start a release, watch its logs and health, stop it.

use std::path::PathBuf;

use slipway_docker::preview::{self, Preview, PreviewEvent, RunningPreview};
use tauri::ipc::Channel;
use tauri::State;

use super::jobs::channel_sink;
use crate::error::IpcError;
use crate::state::{Host, Jobs};

/// Runs `version` (when null, the release with exactly what the folder holds now), replacing the app's running preview.
#[tauri::command]
#[specta::specta]
pub async fn start_preview(
    dir: String,
    version: Option<String>,
    host: State<'_, Host>,
) -> Result<Preview, IpcError> {
    Ok(preview::start(&host.0, &PathBuf::from(dir), version.as_deref()).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn preview_status(
    app: String,
    host: State<'_, Host>,
) -> Result<Option<Preview>, IpcError> {
    Ok(preview::status(&host.0, &app).await?)
}

/// The previews running on this machine, whichever project they belong to.
#[tauri::command]
#[specta::specta]
pub async fn running_previews(host: State<'_, Host>) -> Result<Vec<RunningPreview>, IpcError> {
    Ok(preview::running(&host.0).await?)
}

/// Removes the app's preview container; false when none was there.
#[tauri::command]
#[specta::specta]
pub async fn stop_preview(app: String, host: State<'_, Host>) -> Result<bool, IpcError> {
    Ok(preview::stop(&host.0, &app).await?)
}

/// Streams the preview's logs and health until it exits or the job is cancelled.
#[tauri::command]
#[specta::specta]
pub async fn watch_preview(
    job_id: String,
    dir: String,
    on_event: Channel<PreviewEvent>,
    host: State<'_, Host>,
    jobs: State<'_, Jobs>,
) -> Result<(), IpcError> {
    let job = jobs.0.start(&job_id)?;
    let sink = channel_sink(on_event);
    Ok(preview::watch(&host.0, &PathBuf::from(dir), &sink, &job.cancel_token()).await?)
}
