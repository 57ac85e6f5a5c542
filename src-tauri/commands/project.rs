//! Opening, checking and saving a project's settings; the recent list; the sample.

use std::path::PathBuf;

use slipway_core::fargate::{task_size_options, TaskSizeOption};
use slipway_core::project::{self, FieldProblem, Project, ProjectConfig, RecentProject};
use slipway_docker::preflight::{self, Preflight};
use tauri::State;

use super::blocking;
use crate::error::IpcError;
use crate::state::Host;

#[tauri::command]
#[specta::specta]
pub async fn open_project(dir: String, host: State<'_, Host>) -> Result<Project, IpcError> {
    let host = host.0.clone();
    blocking(move || project::open(&host, &PathBuf::from(dir))).await
}

/// Opens the sample project, writing its files first when this is the first time.
#[tauri::command]
#[specta::specta]
pub async fn open_sample(host: State<'_, Host>) -> Result<Project, IpcError> {
    let host = host.0.clone();
    blocking(move || {
        let dir = project::sample_dir(&host);
        project::write_sample(&dir)?;
        project::open(&host, &dir)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub fn validate_project(config: ProjectConfig) -> Vec<FieldProblem> {
    project::validate(&config)
}

/// Validates and writes slipway.toml; the file is untouched when validation fails.
#[tauri::command]
#[specta::specta]
pub async fn save_project(
    dir: String,
    config: ProjectConfig,
    host: State<'_, Host>,
) -> Result<Project, IpcError> {
    let host = host.0.clone();
    blocking(move || {
        let dir = PathBuf::from(dir);
        project::save(&dir, &config)?;
        project::open(&host, &dir)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn recent_projects(host: State<'_, Host>) -> Result<Vec<RecentProject>, IpcError> {
    let host = host.0.clone();
    blocking(move || project::recent_projects(&host)).await
}

#[tauri::command]
#[specta::specta]
pub async fn forget_recent_project(dir: String, host: State<'_, Host>) -> Result<(), IpcError> {
    let host = host.0.clone();
    blocking(move || project::forget_recent(&host, &dir)).await
}

#[tauri::command]
#[specta::specta]
pub fn task_sizes() -> Vec<TaskSizeOption> {
    task_size_options()
}

/// Pre-flight for the settings as they are in the form (saved or not).
#[tauri::command]
#[specta::specta]
pub async fn check_project(
    dir: String,
    config: ProjectConfig,
    host: State<'_, Host>,
) -> Result<Preflight, IpcError> {
    Ok(preflight::check(&host.0, &PathBuf::from(dir), &config).await?)
}
