//! Local preview: runs a release the way its task definition would run on Fargate (the
//! same environment, CPU and memory limited to the task size, the health check judged as
//! ECS would) with the container port published on a free 127.0.0.1 port. One preview
//! container per app, found by name, so the desktop and the CLI see the same one.
//! Secrets are not resolved locally: they come from AWS at deploy time.

mod health;
mod running;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use bollard::models::{ContainerCreateBody, HealthConfig, HostConfig, PortBinding};
use bollard::query_parameters::{
    CreateContainerOptions, InspectContainerOptions, ListContainersOptions, LogsOptions,
    RemoveContainerOptions, StartContainerOptions, WaitContainerOptions,
};
use bollard::Docker;
use futures_util::StreamExt;
use serde::Serialize;

pub use health::{Health, HealthTracker};
pub use running::{running, RunningPreview};

use crate::docker::{self, engine_error};
use crate::releases::{self, labels, LocalRelease};
use slipway_core::error::{EngineError, Result};
use slipway_core::host::HostEnv;
use slipway_core::jobs::Cancel;
use slipway_core::progress::ProgressSink;
use slipway_core::project::{self, HealthProbe, ProjectConfig};

const ROLE_LABEL: &str = "dev.slipway.role";

pub fn container_name(app: &str) -> String {
    format!("slipway-preview-{app}")
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(
    tag = "state",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ContainerState {
    Running,
    Exited { exit_code: i32, oom_killed: bool },
    Other { status: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    pub app: String,
    pub version: String,
    pub image_id: String,
    pub container_id: String,
    /// `http://127.0.0.1:PORT/`, where the container port is published.
    pub url: String,
    pub container_port: u32,
    pub state: ContainerState,
    /// Secret names that are unset locally (they come from AWS at deploy time).
    pub unset_secrets: Vec<String>,
    /// CPU and memory limits as applied, e.g. "0.25 vCPU, 512 MiB".
    pub limits: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum LogStream {
    Stdout,
    Stderr,
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "type", content = "data", rename_all_fields = "camelCase")]
pub enum PreviewEvent {
    LogLogged {
        stream: LogStream,
        line: String,
        /// The line reads as an error (an error word, an HTTP 5xx), whichever stream it
        /// came on: servers write their ordinary lines to stderr too.
        error: bool,
    },
    HealthChanged {
        health: Health,
    },
    Exited {
        exit_code: i32,
        oom_killed: bool,
        message: String,
    },
}

/// Starts `version` of the project in `dir` (when `None`, the release built from exactly
/// what the folder holds now), replacing the app's running preview if there is one.
pub async fn start(host: &HostEnv, dir: &Path, version: Option<&str>) -> Result<Preview> {
    let (project_dir, config) = project::open_saved(dir)?;
    let (docker, ..) = docker::connect(host).await?;
    let release = match version {
        Some(version) => releases::find(&docker, &config.name, version).await?,
        None => {
            crate::build::release_for_folder(&docker, &project_dir, &config, &Cancel::new()).await?
        }
    };
    remove(&docker, &config.name).await?;
    let host_cpus = docker
        .info()
        .await
        .ok()
        .and_then(|i| i.ncpu)
        .unwrap_or(1)
        .max(1);
    let (body, limits) = container_body(&config, &project_dir, &release, host_cpus);
    let name = container_name(&config.name);
    let created = docker
        .create_container(
            Some(CreateContainerOptions {
                name: Some(name.clone()),
                ..Default::default()
            }),
            body,
        )
        .await
        .map_err(|e| engine_error("create the preview container", e))?;
    if let Err(e) = docker
        .start_container(&created.id, None::<StartContainerOptions>)
        .await
    {
        let _ = remove(&docker, &config.name).await;
        return Err(EngineError::PreviewFailed {
            app: config.name.clone(),
            reason: docker_message(e),
        });
    }
    let mut preview =
        describe(&docker, &config.name)
            .await?
            .ok_or_else(|| EngineError::PreviewFailed {
                app: config.name.clone(),
                reason: "the container vanished right after it started".into(),
            })?;
    preview.limits = limits;
    Ok(preview)
}

/// The container Fargate's task definition would describe, for the local engine.
fn container_body(
    config: &ProjectConfig,
    project_dir: &Path,
    release: &LocalRelease,
    host_cpus: i64,
) -> (ContainerCreateBody, String) {
    let port_key = format!("{}/tcp", config.port);
    let mut env: Vec<String> = config
        .env
        .iter()
        .map(|kv| format!("{}={}", kv.name, kv.value))
        .collect();
    env.sort();
    let healthcheck = match &config.health.probe {
        HealthProbe::Command { command } => {
            let ns = |s: u32| i64::from(s) * 1_000_000_000;
            Some(HealthConfig {
                test: Some(command.clone()),
                interval: Some(ns(config.health.interval)),
                timeout: Some(ns(config.health.timeout)),
                retries: Some(i64::from(config.health.retries)),
                start_period: Some(ns(config.health.start_period)),
                ..Default::default()
            })
        }
        // Fargate runs no container check for these; disable any HEALTHCHECK in the image
        // so the local result matches.
        HealthProbe::Http { .. } | HealthProbe::None => Some(HealthConfig {
            test: Some(vec!["NONE".into()]),
            ..Default::default()
        }),
    };
    let wanted_nano = i64::from(config.task.cpu) * 1_000_000_000 / 1024;
    let nano_cpus = wanted_nano.min(host_cpus * 1_000_000_000);
    let memory = i64::from(config.task.memory) * 1024 * 1024;
    let mut limits = format!(
        "{}, {} MiB",
        slipway_core::fargate::vcpu_label(config.task.cpu),
        config.task.memory
    );
    if nano_cpus < wanted_nano {
        limits.push_str(&format!(" (CPU capped at this machine's {host_cpus})"));
    }
    let body = ContainerCreateBody {
        image: Some(release.image_id.clone()),
        env: Some(env),
        exposed_ports: Some(vec![port_key.clone()]),
        healthcheck,
        labels: Some(HashMap::from([
            (labels::APP.to_owned(), release.app.clone()),
            (labels::VERSION.to_owned(), release.version.clone()),
            (
                labels::PROJECT.to_owned(),
                project_dir.display().to_string(),
            ),
            (ROLE_LABEL.to_owned(), "preview".to_owned()),
        ])),
        host_config: Some(HostConfig {
            port_bindings: Some(HashMap::from([(
                port_key,
                Some(vec![PortBinding {
                    host_ip: Some("127.0.0.1".into()),
                    host_port: Some(String::new()),
                }]),
            )])),
            nano_cpus: Some(nano_cpus),
            memory: Some(memory),
            memory_swap: Some(memory),
            ..Default::default()
        }),
        ..Default::default()
    };
    (body, limits)
}

/// The app's preview container as it is now, or `None` when there is none.
pub async fn status(host: &HostEnv, app: &str) -> Result<Option<Preview>> {
    let (docker, ..) = docker::connect(host).await?;
    describe(&docker, app).await
}

async fn describe(docker: &Docker, app: &str) -> Result<Option<Preview>> {
    let info = match docker
        .inspect_container(&container_name(app), None::<InspectContainerOptions>)
        .await
    {
        Ok(info) => info,
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => return Ok(None),
        Err(e) => return Err(engine_error("inspect the preview container", e)),
    };
    let config = info.config.clone().unwrap_or_default();
    let labels_of = config.labels.clone().unwrap_or_default();
    let port_key = config
        .exposed_ports
        .clone()
        .unwrap_or_default()
        .into_iter()
        .next()
        .unwrap_or_default();
    let container_port = port_key
        .split('/')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let host_port = info
        .network_settings
        .as_ref()
        .and_then(|n| n.ports.as_ref())
        .and_then(|ports| ports.get(&port_key).cloned().flatten())
        .and_then(|bindings| bindings.into_iter().find_map(|b| b.host_port))
        .unwrap_or_default();
    let state = info.state.clone().unwrap_or_default();
    let state = if state.running == Some(true) {
        ContainerState::Running
    } else if let Some(status) = state.status.filter(|s| s.to_string() != "exited") {
        ContainerState::Other {
            status: status.to_string(),
        }
    } else {
        ContainerState::Exited {
            exit_code: state.exit_code.unwrap_or(0) as i32,
            oom_killed: state.oom_killed.unwrap_or(false),
        }
    };
    let project_dir = labels_of.get(labels::PROJECT).cloned();
    let unset_secrets = project_dir
        .and_then(|d| project::load(Path::new(&d)).ok().flatten())
        .map(|c| c.secrets.into_iter().map(|s| s.name).collect())
        .unwrap_or_default();
    let host_config = info.host_config.clone().unwrap_or_default();
    let limits = format!(
        "{:.2} vCPU, {} MiB",
        host_config.nano_cpus.unwrap_or(0) as f64 / 1e9,
        host_config.memory.unwrap_or(0) / (1024 * 1024)
    );
    Ok(Some(Preview {
        app: app.to_owned(),
        version: labels_of.get(labels::VERSION).cloned().unwrap_or_default(),
        image_id: info.image.clone().unwrap_or_default(),
        container_id: info.id.clone().unwrap_or_default(),
        url: if host_port.is_empty() {
            String::new()
        } else {
            format!("http://127.0.0.1:{host_port}/")
        },
        container_port,
        state,
        unset_secrets,
        limits,
    }))
}

/// Removes the app's preview container; false when there was none.
pub async fn stop(host: &HostEnv, app: &str) -> Result<bool> {
    let (docker, ..) = docker::connect(host).await?;
    remove(&docker, app).await
}

async fn remove(docker: &Docker, app: &str) -> Result<bool> {
    match docker
        .remove_container(
            &container_name(app),
            Some(RemoveContainerOptions {
                force: true,
                ..Default::default()
            }),
        )
        .await
    {
        Ok(()) => Ok(true),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(false),
        Err(e) => Err(engine_error("remove the preview container", e)),
    }
}

/// Containers Slipway started for previews of `app` (running or not), by label.
pub async fn containers(host: &HostEnv, app: &str) -> Result<Vec<String>> {
    let (docker, ..) = docker::connect(host).await?;
    let list = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(HashMap::from([(
                "label".to_owned(),
                vec![
                    format!("{}={app}", labels::APP),
                    format!("{ROLE_LABEL}=preview"),
                ],
            )])),
            ..Default::default()
        }))
        .await
        .map_err(|e| engine_error("list containers", e))?;
    Ok(list.into_iter().filter_map(|c| c.id).collect())
}

/// Streams the preview's logs and health until the container exits or `cancel` fires.
/// The project in `dir` says how health is judged.
pub async fn watch(
    host: &HostEnv,
    dir: &Path,
    sink: &dyn ProgressSink<PreviewEvent>,
    cancel: &Cancel,
) -> Result<()> {
    let (_, config) = project::open_saved(dir)?;
    let (docker, ..) = docker::connect(host).await?;
    let preview =
        describe(&docker, &config.name)
            .await?
            .ok_or_else(|| EngineError::PreviewNotRunning {
                app: config.name.clone(),
            })?;
    let name = container_name(&config.name);
    let mut logs = docker.logs(
        &name,
        Some(LogsOptions {
            follow: true,
            stdout: true,
            stderr: true,
            tail: "500".into(),
            ..Default::default()
        }),
    );
    let mut exited = Box::pin(
        docker
            .wait_container(&name, None::<WaitContainerOptions>)
            .collect::<Vec<_>>(),
    );
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(u64::from(config.health.timeout)))
        .build()
        .map_err(|e| EngineError::Internal(format!("HTTP client: {e}")))?;
    let mut tracker = HealthTracker::new(&config.health, Instant::now());
    if matches!(config.health.probe, HealthProbe::None) {
        sink.emit(PreviewEvent::HealthChanged {
            health: Health::NotChecked,
        });
    } else {
        sink.emit(PreviewEvent::HealthChanged {
            health: tracker.current().clone(),
        });
    }
    let mut next_check = tokio::time::Instant::now();
    let mut logs_open = true;
    loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return Ok(()),
            _ = &mut exited => {
                let final_state = describe(&docker, &config.name).await?.map(|p| p.state);
                let (exit_code, oom_killed) = match final_state {
                    Some(ContainerState::Exited { exit_code, oom_killed }) => (exit_code, oom_killed),
                    // Stop (or a newer preview) removed it: nothing went wrong, the watch ends.
                    None => return Ok(()),
                    Some(ContainerState::Other { status }) if status == "removing" => return Ok(()),
                    Some(_) => (0, false),
                };
                // The last lines the app wrote before it stopped.
                while let Ok(Some(Ok(out))) = tokio::time::timeout(Duration::from_millis(200), logs.next()).await {
                    emit_log(sink, out);
                }
                sink.emit(PreviewEvent::Exited {
                    exit_code,
                    oom_killed,
                    message: exit_message(exit_code, oom_killed, config.task.memory),
                });
                return Ok(());
            }
            line = logs.next(), if logs_open => match line {
                Some(Ok(out)) => emit_log(sink, out),
                Some(Err(e)) => {
                    tracing::debug!("preview logs ended: {e}");
                    logs_open = false;
                }
                None => logs_open = false,
            },
            _ = tokio::time::sleep_until(next_check), if !matches!(config.health.probe, HealthProbe::None) => {
                let (ok, detail) = match &config.health.probe {
                    HealthProbe::Http { path } => http_check(&client, &preview.url, path).await,
                    HealthProbe::Command { .. } => container_check(&docker, &name).await,
                    HealthProbe::None => unreachable!("guarded above"),
                };
                if let Some(changed) = tracker.record(ok, detail, Instant::now()) {
                    sink.emit(PreviewEvent::HealthChanged { health: changed });
                }
                next_check = tokio::time::Instant::now() + tracker.next_delay();
            }
        }
    }
}

fn emit_log(sink: &dyn ProgressSink<PreviewEvent>, out: bollard::container::LogOutput) {
    use bollard::container::LogOutput;
    let (stream, message) = match out {
        LogOutput::StdErr { message } => (LogStream::Stderr, message),
        LogOutput::StdOut { message } | LogOutput::Console { message } => {
            (LogStream::Stdout, message)
        }
        LogOutput::StdIn { .. } => return,
    };
    for line in String::from_utf8_lossy(&message).lines() {
        if !line.trim().is_empty() {
            sink.emit(PreviewEvent::LogLogged {
                stream,
                line: line.to_owned(),
                error: slipway_core::log_line::is_error(line),
            });
        }
    }
}

async fn http_check(client: &reqwest::Client, url: &str, path: &str) -> (bool, String) {
    let target = format!("{}{}", url.trim_end_matches('/'), path);
    match client.get(&target).send().await {
        Ok(response) => {
            let status = response.status();
            (
                status.is_success() || status.is_redirection(),
                format!("HTTP {} from {path}", status.as_u16()),
            )
        }
        Err(e) if e.is_timeout() => (false, format!("no answer from {path} in time")),
        Err(e) if e.is_connect() => (
            false,
            format!("nothing answers on the container port yet ({path})"),
        ),
        Err(e) => (false, format!("{path}: {e}")),
    }
}

/// Reads the engine's verdict on the container's own health check.
async fn container_check(docker: &Docker, name: &str) -> (bool, String) {
    let info = docker
        .inspect_container(name, None::<InspectContainerOptions>)
        .await;
    let health = info.ok().and_then(|i| i.state).and_then(|s| s.health);
    let status = health
        .as_ref()
        .and_then(|h| h.status)
        .map(|s| s.to_string())
        .unwrap_or_default();
    let last = health
        .and_then(|h| h.log)
        .and_then(|log| log.last().cloned())
        .map(|r| {
            format!(
                "exit {} {}",
                r.exit_code.unwrap_or(-1),
                r.output.unwrap_or_default().trim()
            )
        })
        .unwrap_or_else(|| "no check has run yet".into());
    (status == "healthy", format!("health-check command: {last}"))
}

fn exit_message(exit_code: i32, oom_killed: bool, memory: u32) -> String {
    if oom_killed {
        return format!("The container ran out of its {memory} MiB and was killed (on Fargate: OutOfMemoryError, exit 137). Raise the task's memory.");
    }
    match exit_code {
        0 => "The container's command finished (exit 0). A web app should keep running: check CMD.".into(),
        137 => "The container was killed (exit 137).".into(),
        126 | 127 => format!("The container could not run its command (exit {exit_code}): check CMD/ENTRYPOINT and that the program is in the image."),
        code => format!("The container stopped with exit code {code}; its last log lines say why."),
    }
}

fn docker_message(e: bollard::errors::Error) -> String {
    match e {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message,
        other => other.to_string(),
    }
}

/// A project's local releases and which one its preview runs.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseList {
    pub app: String,
    /// Newest first.
    pub releases: Vec<LocalRelease>,
    /// The version the preview container runs, when one is running.
    pub running: Option<String>,
}

/// The app's local releases, and which one the preview runs.
pub async fn release_list(host: &HostEnv, dir: &Path) -> Result<ReleaseList> {
    let (_, config) = project::open_saved(dir)?;
    let (docker, ..) = docker::connect(host).await?;
    let releases = releases::list(&docker, &config.name).await?;
    let running = status(host, &config.name)
        .await?
        .filter(|p| p.state == ContainerState::Running)
        .map(|p| p.version);
    Ok(ReleaseList {
        app: config.name,
        releases,
        running,
    })
}

/// Runs an earlier release in the preview: `to`, or the one just older than what runs now.
pub async fn rollback(host: &HostEnv, dir: &Path, to: Option<&str>) -> Result<Preview> {
    let list = release_list(host, dir).await?;
    let target = match to {
        Some(version) => releases::pick(&list.releases, &list.app, Some(version))?,
        None => releases::rollback_target(&list.releases, &list.app, list.running.as_deref())?,
    };
    start(host, dir, Some(&target.version)).await
}
