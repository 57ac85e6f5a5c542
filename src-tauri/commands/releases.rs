//! Releases: local ones and rollback between them in the preview; those deployed to AWS,
//! and deregistering old revisions. A rollback on AWS is the `deploy` command with
//! `request.rollback` set (same job, timeline and checks).

use std::path::PathBuf;

use slipway_aws::deploy::history::{self, AwsReleases, DeregisterPlan};
use slipway_docker::preview::Preview;
use slipway_docker::preview::{self, ReleaseList};
use tauri::State;
use time::OffsetDateTime;

use crate::error::IpcError;
use crate::state::{Host, Projects};

#[tauri::command]
#[specta::specta]
pub async fn local_releases(dir: String, host: State<'_, Host>) -> Result<ReleaseList, IpcError> {
    Ok(preview::release_list(&host.0, &PathBuf::from(dir)).await?)
}

/// Runs `to` in the preview, or the release just before the running one when null.
#[tauri::command]
#[specta::specta]
pub async fn rollback_local(
    dir: String,
    to: Option<String>,
    host: State<'_, Host>,
) -> Result<Preview, IpcError> {
    Ok(preview::rollback(&host.0, &PathBuf::from(dir), to.as_deref()).await?)
}

/// The app's releases on AWS: revisions, images, deploys, and whether each can be rolled
/// back to.
#[tauri::command]
#[specta::specta]
pub async fn aws_releases(
    dir: String,
    host: State<'_, Host>,
    projects: State<'_, Projects>,
) -> Result<AwsReleases, IpcError> {
    let (config, connection) = projects.session(&host, &dir).connect().await?;
    let db = slipway_core::store::db_path(&host.0);
    Ok(history::list(&db, &connection, &config, OffsetDateTime::now_utc()).await?)
}

/// Which revisions deregistering would remove, keeping the newest `keep` (no change).
#[tauri::command]
#[specta::specta]
pub async fn deregister_plan(
    dir: String,
    keep: u32,
    host: State<'_, Host>,
    projects: State<'_, Projects>,
) -> Result<DeregisterPlan, IpcError> {
    let (config, connection) = projects.session(&host, &dir).connect().await?;
    let db = slipway_core::store::db_path(&host.0);
    Ok(history::deregister_plan(
        &db,
        &connection,
        &config,
        keep as usize,
        OffsetDateTime::now_utc(),
    )
    .await?)
}

/// Deregisters the `revisions` confirmed from a plan, as far as a fresh plan still allows
/// (never one that runs or the rollback target).
#[tauri::command]
#[specta::specta]
pub async fn deregister_revisions(
    dir: String,
    keep: u32,
    revisions: Vec<i32>,
    host: State<'_, Host>,
    projects: State<'_, Projects>,
) -> Result<DeregisterPlan, IpcError> {
    let (config, connection) = projects.session(&host, &dir).connect().await?;
    let db = slipway_core::store::db_path(&host.0);
    Ok(history::deregister_old(
        &db,
        &connection,
        &config,
        keep as usize,
        &revisions,
        OffsetDateTime::now_utc(),
    )
    .await?)
}
