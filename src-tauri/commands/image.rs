//! Starting a project from an existing image (no Dockerfile): the form's defaults and the
//! new project, written and opened.

use slipway_core::project::from_image::{self, ImageProjectDefaults, NewImageProject};
use slipway_core::project::Project;
use tauri::State;

use crate::error::IpcError;
use crate::state::Host;

/// The app name and settings folder the form proposes for `image`.
#[tauri::command]
#[specta::specta]
pub fn image_project_defaults(image: String, host: State<'_, Host>) -> ImageProjectDefaults {
    from_image::defaults(&host.0, &image)
}

/// Writes the new project's slipway.toml (making its folder) and opens it.
#[tauri::command]
#[specta::specta]
pub fn create_image_project(
    request: NewImageProject,
    host: State<'_, Host>,
) -> Result<Project, IpcError> {
    Ok(from_image::create_project(&host.0, &request)?)
}
