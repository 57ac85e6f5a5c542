//! The project's AWS infrastructure: setup and teardown, each as a plan (a quick read of
//! the account) and an apply of the plan the window showed (a cancellable job streaming
//! per-resource progress).

use std::path::PathBuf;
use std::time::SystemTime;

use slipway_aws::setup::{self, connect_to_set_up, SetupEvent, SetupPlan};
use slipway_aws::teardown::{self, TeardownEvent, TeardownPlan};
use tauri::ipc::Channel;
use tauri::State;

use super::jobs::channel_sink;
use crate::error::IpcError;
use crate::state::{Host, Jobs, Projects};

#[tauri::command]
#[specta::specta]
pub async fn plan_setup(dir: String, host: State<'_, Host>) -> Result<SetupPlan, IpcError> {
    let (config, connection) =
        connect_to_set_up(&host.0, &PathBuf::from(dir), None, SystemTime::now()).await?;
    Ok(setup::plan_setup(&connection, &config).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn apply_setup(
    job_id: String,
    dir: String,
    plan: SetupPlan,
    on_event: Channel<SetupEvent>,
    host: State<'_, Host>,
    jobs: State<'_, Jobs>,
    projects: State<'_, Projects>,
) -> Result<SetupPlan, IpcError> {
    let job = jobs.0.start(&job_id)?;
    // What a deploy of this project knew of the setup may no longer be true.
    projects.session(&host, &dir).forget_setup();
    let (config, connection) =
        connect_to_set_up(&host.0, &PathBuf::from(dir), None, SystemTime::now()).await?;
    let sink = channel_sink(on_event);
    let cancel = job.cancel_token();
    Ok(setup::apply_setup(&host.0, &connection, &config, &plan, &sink, &cancel).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn plan_teardown(dir: String, host: State<'_, Host>) -> Result<TeardownPlan, IpcError> {
    let (config, connection) =
        connect_to_set_up(&host.0, &PathBuf::from(dir), None, SystemTime::now()).await?;
    Ok(teardown::plan_teardown(&connection, &config).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn apply_teardown(
    job_id: String,
    dir: String,
    plan: TeardownPlan,
    on_event: Channel<TeardownEvent>,
    host: State<'_, Host>,
    jobs: State<'_, Jobs>,
    projects: State<'_, Projects>,
) -> Result<TeardownPlan, IpcError> {
    let job = jobs.0.start(&job_id)?;
    // What a deploy of this project knew of the setup is no longer true.
    projects.session(&host, &dir).forget_setup();
    let (config, connection) =
        connect_to_set_up(&host.0, &PathBuf::from(dir), None, SystemTime::now()).await?;
    let sink = channel_sink(on_event);
    let cancel = job.cancel_token();
    Ok(teardown::apply_teardown(&host.0, &connection, &config, &plan, &sink, &cancel).await?)
}
