//! Every preview that runs on this machine, whichever project it belongs to: a preview
//! keeps running (and holding its port and memory) after the window moves to another project.

use std::collections::HashMap;

use bollard::query_parameters::ListContainersOptions;
use serde::Serialize;

use super::ROLE_LABEL;
use crate::docker::{self, engine_error};
use crate::releases::labels;
use slipway_core::error::Result;
use slipway_core::host::HostEnv;

/// A running preview, as the sidebar lists it.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RunningPreview {
    pub app: String,
    /// The project folder it was built from, when its image says so.
    pub project_dir: Option<String>,
    pub version: String,
    /// `http://127.0.0.1:PORT/`, or `None` while no port is published.
    pub url: Option<String>,
}

/// The previews running now, by app name.
pub async fn running(host: &HostEnv) -> Result<Vec<RunningPreview>> {
    let (docker, ..) = docker::connect(host).await?;
    let list = docker
        .list_containers(Some(ListContainersOptions {
            filters: Some(HashMap::from([
                ("label".to_owned(), vec![format!("{ROLE_LABEL}=preview")]),
                ("status".to_owned(), vec!["running".to_owned()]),
            ])),
            ..Default::default()
        }))
        .await
        .map_err(|e| engine_error("list the running previews", e))?;
    let mut previews: Vec<RunningPreview> = list
        .into_iter()
        .filter_map(|c| {
            let labels_of = c.labels.unwrap_or_default();
            let app = labels_of.get(labels::APP)?.clone();
            let port = c
                .ports
                .unwrap_or_default()
                .into_iter()
                .find_map(|p| p.public_port);
            Some(RunningPreview {
                app,
                project_dir: labels_of.get(labels::PROJECT).cloned(),
                version: labels_of.get(labels::VERSION).cloned().unwrap_or_default(),
                url: port.map(|p| format!("http://127.0.0.1:{p}/")),
            })
        })
        .collect();
    previews.sort_by(|a, b| a.app.cmp(&b.app));
    Ok(previews)
}
