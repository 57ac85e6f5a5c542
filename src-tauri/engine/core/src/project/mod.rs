//! A Slipway project: a folder with a Dockerfile (or naming a prebuilt image) and the
//! `slipway.toml` that describes how to build and run it. This module owns the settings' shape, their validation, the file
//! (read and written with toml_edit so a user's comments survive), the recent-projects
//! list and the sample project. Building and running belong to `build` and `preview`.

pub mod cidr;
mod connected;
mod file;
pub mod from_image;
pub mod image_ref;
mod lenient;
mod recent;
mod sample;
mod validate;
#[cfg(test)]
mod validation_fixture;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::error::FieldProblem;
pub use connected::{forget_connected, remember_connected, was_connected};
pub use file::{ensure_id, load, new_project_id, propose, save, PROJECT_FILE};
pub use image_ref::ImageRef;
pub use lenient::open_for_operations;
pub use recent::{forget_recent, recent_projects, remember, RecentProject};
pub use sample::{sample_dir, write_sample, SAMPLE_NAME};
pub(crate) use validate::is_app_name;
pub use validate::validate;

use crate::error::Result;
use crate::host::HostEnv;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, specta::Type)]
pub enum Platform {
    #[default]
    #[serde(rename = "linux/amd64")]
    LinuxAmd64,
    #[serde(rename = "linux/arm64")]
    LinuxArm64,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LinuxAmd64 => "linux/amd64",
            Self::LinuxArm64 => "linux/arm64",
        }
    }

    /// The architecture as Docker's image config names it.
    pub fn arch(self) -> &'static str {
        match self {
            Self::LinuxAmd64 => "amd64",
            Self::LinuxArm64 => "arm64",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "linux/amd64" => Some(Self::LinuxAmd64),
            "linux/arm64" => Some(Self::LinuxArm64),
            _ => None,
        }
    }
}

/// How the container's health is judged: an HTTP GET on the container port (what a load
/// balancer would do), a container health-check command (`CMD` or `CMD-SHELL` first, as in
/// a task definition), or not at all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum HealthProbe {
    Http { path: String },
    Command { command: Vec<String> },
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheck {
    pub probe: HealthProbe,
    /// Seconds between checks (5-300).
    pub interval: u32,
    /// Seconds before one check counts as failed (2-60).
    pub timeout: u32,
    /// Consecutive failures that make the container unhealthy (1-10).
    pub retries: u32,
    /// Seconds after start during which failures do not count (0-300).
    pub start_period: u32,
}

impl Default for HealthCheck {
    fn default() -> Self {
        Self {
            probe: HealthProbe::Http { path: "/".into() },
            interval: 30,
            timeout: 5,
            retries: 3,
            start_period: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct KeyValue {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct TaskSize {
    /// CPU units (1024 = 1 vCPU).
    pub cpu: u32,
    /// Memory in MiB.
    pub memory: u32,
}

impl Default for TaskSize {
    fn default() -> Self {
        Self {
            cpu: 256,
            memory: 512,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AwsSettings {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// The VPC to run in; the region's default VPC when unset.
    pub vpc: Option<String>,
    /// Who may reach the container port (an IPv4 CIDR); everyone when unset.
    pub allow_from: Option<String>,
    /// How long CloudWatch keeps the app's logs; 30 days when unset.
    pub log_retention_days: Option<u32>,
    /// One address that never changes: the app runs as a service behind an Application
    /// Load Balancer, whose name is its URL. Off (a standalone task with a new public IP
    /// at each deploy) when unset.
    #[serde(default)]
    pub load_balancer: bool,
    /// The user's domain for HTTPS on the load balancer (`app.example.com`): a certificate
    /// validated by DNS, and an alias record when its hosted zone is in the account.
    #[serde(default)]
    #[specta(optional)]
    pub domain: Option<String>,
    /// How many tasks the service keeps running; 1 when unset.
    #[serde(default)]
    #[specta(optional)]
    pub tasks: Option<u32>,
    /// Scaling between `tasks` and this many tasks on the CPU target; no scaling when unset.
    #[serde(default)]
    #[specta(optional)]
    pub max_tasks: Option<u32>,
    /// The average CPU (percent) scaling keeps the service at; 60 when unset.
    #[serde(default)]
    #[specta(optional)]
    pub cpu_target: Option<u32>,
    /// Scale on requests instead of CPU: the requests a minute each task serves on
    /// average (the load balancer's count per target) before scaling adds one.
    #[serde(default)]
    #[specta(optional)]
    pub requests_target: Option<u32>,
    /// Sticky sessions: the load balancer's cookie keeps a visitor on one task this many
    /// seconds; off when unset.
    #[serde(default)]
    #[specta(optional)]
    pub sticky_seconds: Option<u32>,
    /// Blue/green deploys: the new release gets all the traffic once every new task is
    /// healthy, and the previous one stays ready this many minutes (the bake time), when a
    /// click puts the traffic straight back. Rolling (tasks replaced a few at a time)
    /// when unset.
    #[serde(default)]
    #[specta(optional)]
    pub bake_minutes: Option<u32>,
}

impl AwsSettings {
    pub const DEFAULT_ALLOW_FROM: &'static str = "0.0.0.0/0";
    pub const DEFAULT_LOG_RETENTION_DAYS: u32 = 30;
    /// The retention periods CloudWatch Logs accepts (PutRetentionPolicy), in days.
    pub const LOG_RETENTION_CHOICES: [u32; 22] = [
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
        2922, 3288, 3653,
    ];

    pub fn allow_from(&self) -> &str {
        self.allow_from
            .as_deref()
            .unwrap_or(Self::DEFAULT_ALLOW_FROM)
    }

    pub fn log_retention_days(&self) -> u32 {
        self.log_retention_days
            .unwrap_or(Self::DEFAULT_LOG_RETENTION_DAYS)
    }

    pub const DEFAULT_CPU_TARGET: u32 = 60;
    /// The most tasks a service may ask for here (a guard against a typo that bills).
    pub const MAX_TASKS: u32 = 20;

    /// How many tasks the service keeps running.
    pub fn tasks(&self) -> u32 {
        self.tasks.unwrap_or(1)
    }

    /// The longest bake time ECS takes (a day).
    pub const MAX_BAKE_MINUTES: u32 = 1440;

    /// True when deploys switch all traffic at once after checks (blue/green).
    pub fn blue_green(&self) -> bool {
        self.load_balancer && self.bake_minutes.is_some()
    }

    /// The most requests a minute per task a requests target may be.
    pub const MAX_REQUESTS_TARGET: u32 = 1_000_000;

    /// The scaling range and what it follows, when scaling is on.
    pub fn scaling(&self) -> Option<ScalingRange> {
        self.max_tasks.map(|max| ScalingRange {
            min: self.tasks(),
            max,
            on: match self.requests_target {
                Some(per_task) => ScaleOn::Requests(per_task),
                None => ScaleOn::Cpu(self.cpu_target.unwrap_or(Self::DEFAULT_CPU_TARGET)),
            },
        })
    }
}

/// Auto scaling as slipway.toml asks for it: between `min` and `max` tasks, on `on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalingRange {
    pub min: u32,
    pub max: u32,
    pub on: ScaleOn,
}

/// What target tracking keeps steady by adding or removing tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleOn {
    /// The service's average CPU, in percent.
    Cpu(u32),
    /// Requests a minute per task, counted by the load balancer.
    Requests(u32),
}

/// Everything `slipway.toml` says. Paths are relative to the project folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ProjectConfig {
    /// The project's id (`[project] id` in slipway.toml): made once, at random, when the
    /// project is first saved or set up, and tagged on every AWS resource setup creates, so
    /// two projects that use the same app name in one account never take each other's.
    /// `None` for a project saved before Slipway gave projects ids.
    #[serde(default)]
    #[specta(optional)]
    pub id: Option<String>,
    pub name: String,
    /// An image to deploy as it is (`ghcr.io/org/app:1.2`), instead of building the
    /// Dockerfile; `dockerfile` and `context` are unused then. See `project::from_image`.
    #[serde(default)]
    #[specta(optional)]
    pub image: Option<String>,
    pub dockerfile: String,
    pub context: String,
    /// The Dockerfile stage to build (`docker build --target`); the last stage when absent.
    #[serde(default)]
    #[specta(optional)]
    pub target: Option<String>,
    pub platform: Platform,
    pub port: u32,
    pub health: HealthCheck,
    pub build_args: Vec<KeyValue>,
    pub env: Vec<KeyValue>,
    /// Environment variables filled from Secrets Manager or SSM on AWS (name, ARN).
    pub secrets: Vec<KeyValue>,
    pub task: TaskSize,
    pub aws: AwsSettings,
}

/// A project as the UI and CLI see it: where it is, its settings, whether they are saved
/// yet, and what validation says about them.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub dir: String,
    pub config: ProjectConfig,
    /// False when there is no slipway.toml yet and `config` is Slipway's proposal.
    pub saved: bool,
    pub problems: Vec<FieldProblem>,
}

impl Project {
    pub fn dir(&self) -> PathBuf {
        PathBuf::from(&self.dir)
    }
}

/// Opens the project in `dir`: its slipway.toml when there is one, else a proposal from
/// the folder and its Dockerfile. Remembers it among the recent projects.
pub fn open(host: &HostEnv, dir: &Path) -> Result<Project> {
    let dir = std::fs::canonicalize(dir).map_err(|e| crate::EngineError::ProjectNotFound {
        dir: dir.to_owned(),
        reason: e.to_string(),
    })?;
    if !dir.is_dir() {
        return Err(crate::EngineError::ProjectNotFound {
            dir,
            reason: "it is a file, not a folder".into(),
        });
    }
    let (config, saved) = match load(&dir)? {
        Some(config) => (config, true),
        None => (propose(&dir), false),
    };
    remember(host, &dir, &config.name)?;
    Ok(Project {
        dir: dir.display().to_string(),
        problems: validate(&config),
        config,
        saved,
    })
}

/// The project in `dir` with its saved settings; a folder without slipway.toml is an error
/// here, because building needs settings the user has seen.
pub fn open_saved(dir: &Path) -> Result<(PathBuf, ProjectConfig)> {
    let dir = std::fs::canonicalize(dir).map_err(|e| crate::EngineError::ProjectNotFound {
        dir: dir.to_owned(),
        reason: e.to_string(),
    })?;
    match load(&dir)? {
        Some(config) => {
            let problems = validate(&config);
            if problems.is_empty() {
                Ok((dir, config))
            } else {
                Err(crate::EngineError::InvalidProjectConfig { problems })
            }
        }
        None => Err(crate::EngineError::ProjectNotInitialised { dir }),
    }
}
