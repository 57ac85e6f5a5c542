//! The app's CloudWatch logs: a search, follow mode (a job streaming new lines), and
//! saving what a search finds to a file.

use std::path::PathBuf;

use slipway_aws::logs::{self, LogEvent, LogPage, LogQuery};
use tauri::ipc::Channel;
use tauri::State;
use time::OffsetDateTime;

use super::jobs::channel_sink;
use crate::error::IpcError;
use crate::state::{Host, Jobs, Projects};

#[tauri::command]
#[specta::specta]
pub async fn app_logs(
    dir: String,
    query: LogQuery,
    host: State<'_, Host>,
    projects: State<'_, Projects>,
) -> Result<LogPage, IpcError> {
    let (config, connection) = projects.session(&host, &dir).connect().await?;
    Ok(logs::fetch(&connection, &config, &query, OffsetDateTime::now_utc()).await?)
}

/// Streams new lines until cancelled.
#[tauri::command]
#[specta::specta]
pub async fn follow_logs(
    job_id: String,
    dir: String,
    query: LogQuery,
    on_event: Channel<LogEvent>,
    host: State<'_, Host>,
    projects: State<'_, Projects>,
    jobs: State<'_, Jobs>,
) -> Result<(), IpcError> {
    let job = jobs.0.start(&job_id)?;
    let (config, connection) = projects.session(&host, &dir).connect().await?;
    let sink = channel_sink(on_event);
    Ok(logs::follow(
        &connection,
        &config,
        &query,
        OffsetDateTime::now_utc(),
        &sink,
        &job.cancel_token(),
    )
    .await?)
}

/// Writes the lines `query` finds to `path` as text; returns how many.
#[tauri::command]
#[specta::specta]
pub async fn save_logs(
    dir: String,
    query: LogQuery,
    path: String,
    host: State<'_, Host>,
    projects: State<'_, Projects>,
) -> Result<u32, IpcError> {
    let (config, connection) = projects.session(&host, &dir).connect().await?;
    let page = logs::fetch(&connection, &config, &query, OffsetDateTime::now_utc()).await?;
    logs::save(&PathBuf::from(path), &page.lines)?;
    Ok(page.lines.len() as u32)
}
