//! The Environment screen's check, as a cancellable job streaming one event per probe.

use std::time::SystemTime;

use slipway_aws::environment::{check, CheckRequest, EnvironmentEvent, EnvironmentReport};
use tauri::ipc::Channel;
use tauri::State;

use super::jobs::channel_sink;
use crate::error::IpcError;
use crate::state::{Host, Jobs};

#[tauri::command]
#[specta::specta]
pub async fn check_environment(
    job_id: String,
    request: CheckRequest,
    on_event: Channel<EnvironmentEvent>,
    host: State<'_, Host>,
    jobs: State<'_, Jobs>,
) -> Result<EnvironmentReport, IpcError> {
    let job = jobs.0.start(&job_id)?;
    let sink = channel_sink(on_event);
    Ok(check(
        &host.0,
        &request,
        &sink,
        &job.cancel_token(),
        SystemTime::now(),
    )
    .await?)
}
