//! Facts about Slipway itself for the window: version and data directory.

use slipway_engine::app::{app_info as engine_app_info, AppInfo};
use tauri::State;

use crate::state::Host;

#[tauri::command]
#[specta::specta]
pub fn app_info(host: State<'_, Host>) -> AppInfo {
    engine_app_info(&host.0)
}
