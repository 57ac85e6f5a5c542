//! Newer versions of Slipway itself: checked on start against the release feed the build
//! was configured with (`plugins.updater` in tauri.conf.json, filled in by the release
//! workflow), offered in the window, and installed only after the download's signature
//! matches the public key built in. A build without a feed offers nothing.

use serde::Serialize;
use slipway_core::ErrorCode;
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_updater::{Update, Updater, UpdaterExt};

use crate::error::IpcError;
use crate::state::{Host, Jobs};

type MakeUpdater = dyn Fn(&Host) -> Result<Option<Updater>, IpcError> + Send + Sync;

/// The app's updater, made in `setup` (the commands themselves stay free of the runtime
/// type), and the update found by the last check, kept for Install.
pub struct UpdateService {
    updater: Box<MakeUpdater>,
    restart: Box<dyn Fn() + Send + Sync>,
    pending: tokio::sync::Mutex<Option<Update>>,
}

impl UpdateService {
    pub fn new<R: Runtime>(app: AppHandle<R>) -> Self {
        let for_updater = app.clone();
        Self {
            updater: Box::new(move |host| updater(&for_updater, host)),
            restart: Box::new(move || {
                crate::window_state::save(&app);
                app.state::<crate::instance::Held>().release();
                app.restart()
            }),
            pending: tokio::sync::Mutex::new(None),
        }
    }
}

/// A newer Slipway, as the window offers it.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct UpdateOffer {
    pub version: String,
    pub current: String,
    /// The release notes, when the feed has them.
    pub notes: Option<String>,
}

fn failed(message: String) -> IpcError {
    IpcError {
        code: ErrorCode::UpdateFailed,
        message,
    }
}

fn check_failed(e: tauri_plugin_updater::Error) -> IpcError {
    failed(format!("Could not check for a newer Slipway: {e}."))
}

/// The updater for this build's feed. In debug builds (tests) `SLIPWAY_UPDATE_ENDPOINT` and
/// `SLIPWAY_UPDATE_PUBKEY` replace the feed and the key; a release build answers only to
/// what it was built with. `None` when the build has no feed.
#[cfg_attr(not(debug_assertions), allow(unused_variables))]
fn updater<R: Runtime>(app: &AppHandle<R>, host: &Host) -> Result<Option<Updater>, IpcError> {
    let mut builder = app.updater_builder();
    #[cfg(debug_assertions)]
    if let Some(endpoint) = host.0.var("SLIPWAY_UPDATE_ENDPOINT") {
        let url = endpoint.parse().map_err(|e| {
            failed(format!(
                "SLIPWAY_UPDATE_ENDPOINT is not an address ({e}): unset it to use Slipway's own feed."
            ))
        })?;
        builder = builder
            .endpoints(vec![url])
            .map_err(|e| failed(format!("SLIPWAY_UPDATE_ENDPOINT cannot be used: {e}.")))?;
    }
    #[cfg(debug_assertions)]
    if let Some(key) = host.0.var("SLIPWAY_UPDATE_PUBKEY") {
        builder = builder.pubkey(key);
    }
    match builder.build() {
        Ok(updater) => Ok(Some(updater)),
        Err(tauri_plugin_updater::Error::EmptyEndpoints) => Ok(None),
        Err(e) => Err(check_failed(e)),
    }
}

/// Asks the release feed for a newer Slipway; `None` when this is the newest or the build
/// has no feed.
#[tauri::command]
#[specta::specta]
pub async fn check_update(
    host: State<'_, Host>,
    service: State<'_, UpdateService>,
) -> Result<Option<UpdateOffer>, IpcError> {
    let Some(updater) = (service.updater)(&host)? else {
        return Ok(None);
    };
    let found = updater.check().await.map_err(check_failed)?;
    let offer = found.as_ref().map(|update| UpdateOffer {
        version: update.version.clone(),
        current: update.current_version.clone(),
        notes: update.body.clone().filter(|b| !b.trim().is_empty()),
    });
    if let Some(update) = &found {
        tracing::info!(version = %update.version, "a newer Slipway is available");
    }
    *service.pending.lock().await = found;
    Ok(offer)
}

/// Downloads the update found by the last check, verifies its signature and installs it,
/// then restarts Slipway. Running jobs are cancelled and undone first, as when the window
/// closes. A signature that does not match installs nothing.
#[tauri::command]
#[specta::specta]
pub async fn install_update(
    jobs: State<'_, Jobs>,
    service: State<'_, UpdateService>,
) -> Result<(), IpcError> {
    // Kept (cloned) until it installs: after a failed download Install can be pressed again.
    let Some(update) = service.pending.lock().await.clone() else {
        return Err(failed(
            "No update is waiting to be installed: check for updates again.".to_owned(),
        ));
    };
    let version = update.version.clone();
    let bytes = update.download(|_, _| {}, || {}).await.map_err(|e| {
        failed(format!(
            "Slipway {version} was not installed: {e}. This version goes on running."
        ))
    })?;
    crate::shutdown::cancel_and_wait(&jobs.0).await;
    // Installing may wait on the OS (a password prompt for a .deb): off the async workers.
    let installed = tokio::task::spawn_blocking(move || update.install(bytes))
        .await
        .map_err(|e| failed(format!("Slipway {version} could not be installed: {e}.")))?;
    installed.map_err(|e| {
        failed(format!(
            "Slipway {version} was downloaded but could not be installed: {e}. This version goes on running."
        ))
    })?;
    tracing::info!(%version, "update installed: restarting");
    (service.restart)();
    Ok(())
}
