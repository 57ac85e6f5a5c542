//! Connecting to AWS: the profile list, adding an access-key profile, who a project's
//! credentials belong to, and Slipway's app settings (the endpoint override).

use std::path::PathBuf;
use std::time::SystemTime;

use slipway_aws::aws::{
    add_access_key_profile as add_profile, read_profiles, AwsProfile, AwsProfiles, CallerIdentity,
    NewAccessKeyProfile,
};
use slipway_aws::setup::{
    connect_project_by_choice, connects_again, my_public_ip, reconnect_project,
};
use slipway_core::settings::{self, AppSettings};
use tauri::State;

use super::blocking;
use crate::error::IpcError;
use crate::state::Host;

#[tauri::command]
#[specta::specta]
pub async fn aws_profiles(host: State<'_, Host>) -> Result<AwsProfiles, IpcError> {
    let host = host.0.clone();
    blocking(move || Ok(read_profiles(&host))).await
}

/// Writes a named access-key profile to the AWS CLI's own files (owner-only).
#[tauri::command]
#[specta::specta]
pub async fn add_access_key_profile(
    request: NewAccessKeyProfile,
    host: State<'_, Host>,
) -> Result<AwsProfile, IpcError> {
    let host = host.0.clone();
    blocking(move || add_profile(&host, &request)).await
}

/// Who the project's AWS settings (profile, region, endpoint override) connect as.
#[tauri::command]
#[specta::specta]
pub async fn connect_project_aws(
    dir: String,
    host: State<'_, Host>,
) -> Result<CallerIdentity, IpcError> {
    let (_, connection) =
        connect_project_by_choice(&host.0, &PathBuf::from(dir), None, SystemTime::now()).await?;
    Ok(connection.identity)
}

/// On opening a project: whether it connects again by itself (it connected from this
/// computer before, with the target it names now). Reads only the local record.
#[tauri::command]
#[specta::specta]
pub async fn project_connects_again(dir: String, host: State<'_, Host>) -> Result<bool, IpcError> {
    Ok(connects_again(&host.0, &PathBuf::from(dir), None).await?)
}

/// On opening a project: who it connects as, when it connected from this computer before
/// (null when it never did); an error when its credentials no longer work.
#[tauri::command]
#[specta::specta]
pub async fn reconnect_project_aws(
    dir: String,
    host: State<'_, Host>,
) -> Result<Option<CallerIdentity>, IpcError> {
    let connected =
        reconnect_project(&host.0, &PathBuf::from(dir), None, SystemTime::now()).await?;
    Ok(connected.map(|(_, connection)| connection.identity))
}

#[tauri::command]
#[specta::specta]
pub async fn app_settings(host: State<'_, Host>) -> Result<AppSettings, IpcError> {
    let host = host.0.clone();
    blocking(move || settings::load(&host)).await
}

#[tauri::command]
#[specta::specta]
pub async fn save_app_settings(
    settings: AppSettings,
    host: State<'_, Host>,
) -> Result<AppSettings, IpcError> {
    let host = host.0.clone();
    blocking(move || settings::save(&host, &settings)).await
}

/// This computer's public IPv4 as a /32, for "only my IP".
#[tauri::command]
#[specta::specta]
pub async fn find_my_ip() -> Result<String, IpcError> {
    Ok(my_public_ip().await?)
}
