//! Cost: the estimate for a project (and for choices being tried), the app's cost choices,
//! and the watch that meters what runs and applies the idle guard.

use std::path::PathBuf;
use std::time::Duration;

use slipway_aws::cost::{self, CostInputs, CostSettings, CostSheet, PriceRefresh};
use slipway_aws::deploy::guard::CostEvent;
use slipway_aws::deploy::guard::{self, SystemClock};
use tauri::ipc::Channel;
use tauri::State;
use time::OffsetDateTime;

use super::blocking;
use super::jobs::channel_sink;
use crate::error::IpcError;
use crate::state::{Host, Jobs, Projects};

/// How often the watch looks at what runs.
const WATCH_EVERY: Duration = Duration::from_secs(30);

#[tauri::command]
#[specta::specta]
pub async fn project_cost(
    dir: String,
    refresh: PriceRefresh,
    host: State<'_, Host>,
) -> Result<CostSheet, IpcError> {
    let dir = PathBuf::from(dir);
    Ok(cost::project_sheet(&host.0, &dir, refresh, None, OffsetDateTime::now_utc()).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn estimate_cost(
    inputs: CostInputs,
    host: State<'_, Host>,
) -> Result<CostSheet, IpcError> {
    Ok(cost::sheet_for(&host.0, &inputs, OffsetDateTime::now_utc()).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn cost_settings(dir: String, host: State<'_, Host>) -> Result<CostSettings, IpcError> {
    let host = host.0.clone();
    blocking(move || cost::project_settings(&host, &PathBuf::from(dir))).await
}

#[tauri::command]
#[specta::specta]
pub async fn save_cost_settings(
    dir: String,
    settings: CostSettings,
    host: State<'_, Host>,
) -> Result<CostSettings, IpcError> {
    let host = host.0.clone();
    blocking(move || cost::save_project_settings(&host, &PathBuf::from(dir), &settings)).await
}

/// Meters what the app runs every 30 s and applies its auto-stop and reminder, until
/// cancelled.
#[tauri::command]
#[specta::specta]
pub async fn watch_costs(
    job_id: String,
    dir: String,
    on_event: Channel<CostEvent>,
    host: State<'_, Host>,
    projects: State<'_, Projects>,
    jobs: State<'_, Jobs>,
) -> Result<(), IpcError> {
    let job = jobs.0.start(&job_id)?;
    let (config, connection) = projects.session(&host, &dir).connect().await?;
    let db = slipway_core::store::db_path(&host.0);
    let sink = channel_sink(on_event);
    Ok(guard::watch(
        &db,
        &connection,
        &config,
        &SystemClock,
        WATCH_EVERY,
        &sink,
        &job.cancel_token(),
    )
    .await?)
}
