//! Facts about Slipway itself for the window: version and data directory; and the
//! support bundle a user attaches to a bug report.

use std::path::PathBuf;

use slipway_aws::support::{self, SupportBundle};
use slipway_core::app::{app_info as engine_app_info, AppInfo};
use tauri::State;

use crate::error::IpcError;
use crate::state::Host;

#[tauri::command]
#[specta::specta]
pub fn app_info(host: State<'_, Host>) -> AppInfo {
    engine_app_info(&host.0)
}

/// Writes the support bundle (logs, deploy journal, versions; redacted) to `path`.
#[tauri::command]
#[specta::specta]
pub async fn export_support_bundle(
    path: String,
    host: State<'_, Host>,
) -> Result<SupportBundle, IpcError> {
    Ok(support::export_support_bundle(&host.0, &PathBuf::from(path)).await?)
}
