//! Building the open project's image, as a cancellable job streaming build progress.

use std::path::PathBuf;

use slipway_docker::build::{build, BuildEvent, BuildOutcome, BuildRequest};
use tauri::ipc::Channel;
use tauri::State;
use time::OffsetDateTime;

use super::jobs::channel_sink;
use crate::error::IpcError;
use crate::state::{Host, Jobs};

#[tauri::command]
#[specta::specta]
pub async fn build_project(
    job_id: String,
    dir: String,
    request: BuildRequest,
    on_event: Channel<BuildEvent>,
    host: State<'_, Host>,
    jobs: State<'_, Jobs>,
) -> Result<BuildOutcome, IpcError> {
    let job = jobs.0.start(&job_id)?;
    let sink = channel_sink(on_event);
    Ok(build(
        &host.0,
        &PathBuf::from(dir),
        &request,
        &sink,
        &job.cancel_token(),
        OffsetDateTime::now_utc(),
    )
    .await?)
}
