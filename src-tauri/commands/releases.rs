//! Local releases and rollback between them.

use std::path::PathBuf;

use slipway_engine::preview::Preview;
use slipway_engine::releases::{self, ReleaseList};
use tauri::State;

use crate::error::IpcError;
use crate::state::Host;

#[tauri::command]
#[specta::specta]
pub async fn local_releases(dir: String, host: State<'_, Host>) -> Result<ReleaseList, IpcError> {
    Ok(releases::for_project(&host.0, &PathBuf::from(dir)).await?)
}

/// Runs `to` in the preview, or the release just before the running one when null.
#[tauri::command]
#[specta::specta]
pub async fn rollback_local(
    dir: String,
    to: Option<String>,
    host: State<'_, Host>,
) -> Result<Preview, IpcError> {
    Ok(releases::rollback_local(&host.0, &PathBuf::from(dir), to.as_deref()).await?)
}
