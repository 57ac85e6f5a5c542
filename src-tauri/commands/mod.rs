//! IPC commands, one file per feature: parse the request, call the engine, convert the error.

pub mod app;
pub mod aws;
pub mod build;
pub mod cost;
pub mod deploy;
pub mod environment;
pub mod image;
pub mod jobs;
pub mod logs;
pub mod preview;
pub mod project;
pub mod releases;
pub mod secrets;
pub mod services;
pub mod setup;
pub mod sso;
pub mod stacks;
pub mod update;

use slipway_core::EngineError;

use crate::error::IpcError;

/// Runs file work (a project folder, the AWS CLI's files, Slipway's data) on a blocking
/// thread: a slow disk or an odd folder never holds up the window or the async workers.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, EngineError> + Send + 'static,
) -> Result<T, IpcError> {
    let done = tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| EngineError::Internal(format!("file work stopped: {e}")))?;
    Ok(done?)
}
