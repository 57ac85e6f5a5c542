//! An app's secrets on AWS from the window: listing them to pick one, and creating one
//! whose value goes straight to AWS (the window keeps no copy; the engine logs none).

use std::path::PathBuf;
use std::time::SystemTime;

use slipway_aws::secrets::{
    create_for, create_secret, list_secrets, read_env_file, ImportOutcome, NewSecret, SecretStore,
    SecretSummary,
};
use slipway_aws::setup::connect_project;
use tauri::State;

use crate::error::IpcError;
use crate::state::Host;

/// The secrets of the project's account and region, in both stores (never their values).
#[tauri::command]
#[specta::specta]
pub async fn app_secrets(
    dir: String,
    host: State<'_, Host>,
) -> Result<Vec<SecretSummary>, IpcError> {
    let (_, conn) = connect_project(&host.0, &PathBuf::from(dir), None, SystemTime::now()).await?;
    Ok(list_secrets(&conn).await?)
}

/// Creates a secret in the project's account and region; returns its ARN for `slipway.toml`.
#[tauri::command]
#[specta::specta]
pub async fn create_app_secret(
    dir: String,
    request: NewSecret,
    host: State<'_, Host>,
) -> Result<SecretSummary, IpcError> {
    let (_, conn) = connect_project(&host.0, &PathBuf::from(dir), None, SystemTime::now()).await?;
    Ok(create_secret(&conn, &request).await?)
}

/// Creates one secret per variable of the `.env` file at `file`, named after the app; the
/// window adds them to the settings it edits. Stops at the first refusal and says so.
#[tauri::command]
#[specta::specta]
pub async fn import_app_secrets(
    dir: String,
    file: String,
    store: SecretStore,
    host: State<'_, Host>,
) -> Result<ImportOutcome, IpcError> {
    let entries = read_env_file(&PathBuf::from(file))?;
    let (config, conn) =
        connect_project(&host.0, &PathBuf::from(dir), None, SystemTime::now()).await?;
    Ok(create_for(&conn, &config, entries, store).await?)
}
