//! Signing in with AWS SSO from the window: the sign-in as a cancellable job whose events
//! say what the user has to do (the browser page, or a code), saving the chosen account and
//! role as a profile, and what a profile whose session expired needs to sign in again.

use std::time::SystemTime;

use slipway_aws::aws::{
    request_for_profile, save_sso_profile as save_profile, sign_in, AwsProfile, NewSsoProfile,
    SsoSignInEvent, SsoSignInRequest, SsoSignedIn,
};
use slipway_core::EngineError;
use tauri::ipc::Channel;
use tauri::State;

use super::blocking;
use super::jobs::channel_sink;
use crate::error::IpcError;
use crate::state::{Host, Jobs};

/// Runs the sign-in; `on_event` says when to open the browser (the window opens it) or which
/// code to confirm. Ends with the accounts and roles to choose from.
#[tauri::command]
#[specta::specta]
pub async fn sso_sign_in(
    job_id: String,
    request: SsoSignInRequest,
    on_event: Channel<SsoSignInEvent>,
    host: State<'_, Host>,
    jobs: State<'_, Jobs>,
) -> Result<SsoSignedIn, IpcError> {
    let job = jobs.0.start(&job_id)?;
    let sink = channel_sink(on_event);
    Ok(sign_in(
        &host.0,
        &request,
        &sink,
        &job.cancel_token(),
        SystemTime::now(),
    )
    .await?)
}

/// Adds the chosen account and role as a profile in the AWS CLI's config.
#[tauri::command]
#[specta::specta]
pub async fn save_sso_profile(
    request: NewSsoProfile,
    host: State<'_, Host>,
) -> Result<AwsProfile, IpcError> {
    let host = host.0.clone();
    blocking(move || save_profile(&host, &request)).await
}

/// The portal and region `profile` signs in with; null when it is not an SSO profile.
#[tauri::command]
#[specta::specta]
pub async fn sso_sign_in_for_profile(
    profile: String,
    host: State<'_, Host>,
) -> Result<Option<SsoSignInRequest>, IpcError> {
    let host = host.0.clone();
    blocking(move || Ok(request_for_profile(&host, &profile))).await
}

/// Opens an http(s) address in the user's browser. In a debug build,
/// `SLIPWAY_TEST_BROWSER_LOG` names a file the address is appended to instead: the
/// WebDriver tests play the browser themselves (the test kit's SSO stand-in follows it).
#[tauri::command]
#[specta::specta]
#[cfg_attr(not(debug_assertions), allow(unused_variables))]
pub async fn open_in_browser(url: String, host: State<'_, Host>) -> Result<(), IpcError> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(EngineError::InvalidInput {
            what: "The address".into(),
            reason: format!("{url} is not a web address"),
        }
        .into());
    }
    #[cfg(debug_assertions)]
    if let Some(log) = host.0.var("SLIPWAY_TEST_BROWSER_LOG") {
        use std::io::Write;
        let path = std::path::PathBuf::from(log);
        return blocking(move || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut file| writeln!(file, "{url}"))
                .map_err(|e| EngineError::io(&path, e))
        })
        .await;
    }
    tauri_plugin_opener::open_url(&url, None::<&str>).map_err(|e| {
        EngineError::Internal(format!(
            "the browser could not be opened ({e}); open {url} yourself"
        ))
        .into()
    })
}
