//! Deploying a local release to ECS Fargate and watching it come up: push to ECR,
//! register the task definition (only when something changed), start it as a standalone
//! task or through a service, follow each task's states, find the public IP through the
//! task's network interface, and check the URL answers. A stopped task becomes a
//! plain-language diagnosis. Every step that makes or removes something on AWS is written
//! to the journal as it happens; cancel undoes what this deploy started.

pub mod journal;
mod push;
mod register;
pub use register::{describe as describe_task_definition, pending_changes, PendingChanges};
mod service;
mod source;
pub mod status;
mod stop;
mod task;
pub mod watch;

pub use push::MANIFEST_TYPES;

use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub use journal::JournalEntry;
pub use status::{settle_unfinished, status, AppStatus, RunningTask};
pub use stop::{stop_app, stop_app_task, StopOutcome};

use crate::aws::Connection;
use crate::diagnosis::Diagnosis;
use crate::docker;
use crate::error::{EngineError, Result};
use crate::host::HostEnv;
use crate::jobs::Cancel;
use crate::progress::ProgressSink;
use crate::project::ProjectConfig;
use crate::releases;
use crate::setup::{self, ResourceNames, ResourceState};
use source::{roll_back, ship_release, Source};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum DeployMode {
    /// A standalone task (run-task), replaced by the next deploy.
    #[default]
    Task,
    /// An ECS service that keeps the task running and rolls deployments.
    Service,
}

impl DeployMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Task => "task",
            Self::Service => "service",
        }
    }

    pub fn parse(s: &str) -> Self {
        if s == "service" {
            Self::Service
        } else {
            Self::Task
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DeployRequest {
    #[serde(default)]
    pub mode: DeployMode,
    /// A local release; the newest build when absent.
    #[serde(default)]
    pub version: Option<String>,
    /// Task mode: leave the app's previous tasks running instead of stopping them once the
    /// new one answers.
    #[serde(default)]
    pub keep_previous: bool,
    /// How long the whole deploy may take, in seconds; 600 when absent.
    #[serde(default)]
    pub deadline_seconds: Option<u32>,
    /// Run an earlier revision instead of a local release (a rollback): nothing is built,
    /// pushed or registered; the revision and its image are checked first.
    #[serde(default)]
    pub rollback: Option<releases::aws::Rollback>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum DeployStep {
    Push,
    Register,
    Start,
    Wait,
    Verify,
    Retire,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(tag = "type", content = "data", rename_all_fields = "camelCase")]
pub enum DeployEvent {
    Started {
        deploy_id: String,
        app: String,
        version: String,
        mode: DeployMode,
        account: String,
        region: String,
        deadline_seconds: u32,
    },
    StepStarted {
        step: DeployStep,
        detail: String,
        at_ms: f64,
    },
    StepDone {
        step: DeployStep,
        detail: String,
        at_ms: f64,
    },
    PushProgress {
        tag: String,
        status: String,
        layers_done: u32,
        layers: u32,
        current_bytes: f64,
        total_bytes: f64,
    },
    TaskDefinition {
        family: String,
        /// The revision in use after this step.
        revision: i32,
        /// The one it replaces, if any.
        previous_revision: Option<i32>,
        changes: Vec<String>,
        registered: bool,
    },
    TaskStatus {
        task_id: String,
        status: String,
        health: Option<String>,
        /// The state before this one and the milliseconds spent in it.
        previous: Option<String>,
        previous_ms: Option<f64>,
        at_ms: f64,
    },
    ServiceEvent {
        at: String,
        message: String,
    },
    Address {
        task_id: String,
        public_ip: String,
        url: String,
    },
    Check {
        attempt: u32,
        outcome: String,
    },
    PreviousTasks {
        task_ids: Vec<String>,
        stopped: bool,
    },
    Failed {
        task_id: Option<String>,
        diagnosis: Diagnosis,
        last_log_lines: Vec<String>,
    },
}

/// A deploy that answered.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DeployOutcome {
    pub deploy_id: String,
    pub app: String,
    pub version: String,
    pub mode: DeployMode,
    pub url: String,
    pub public_ip: String,
    pub task_ids: Vec<String>,
    pub task_definition: String,
    pub revision: i32,
    pub image: String,
    pub pushed: bool,
    /// The HTTP status and the first bytes of the answer at the URL.
    pub http_status: u16,
    pub answer: String,
    pub stopped_previous: Vec<String>,
    pub kept_previous: Vec<String>,
    pub elapsed_ms: f64,
}

/// Everything a deploy's steps share.
pub struct Deployment<'a> {
    pub conn: &'a Connection,
    pub config: &'a ProjectConfig,
    pub names: ResourceNames,
    pub sink: &'a dyn ProgressSink<DeployEvent>,
    pub cancel: &'a Cancel,
    pub journal: journal::Journal,
    pub started: Instant,
    pub deadline: Instant,
    pub deadline_seconds: u32,
    pub port: u16,
    pub subnets: Vec<String>,
    pub security_group: String,
    pub has_health_check: bool,
    pub http_path: String,
}

impl Deployment<'_> {
    pub fn emit(&self, event: DeployEvent) {
        self.sink.emit(event);
    }

    pub fn at_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1000.0
    }

    pub fn step_started(&self, step: DeployStep, detail: impl Into<String>) {
        self.emit(DeployEvent::StepStarted {
            step,
            detail: detail.into(),
            at_ms: self.at_ms(),
        });
    }

    pub fn step_done(&self, step: DeployStep, detail: impl Into<String>) {
        self.emit(DeployEvent::StepDone {
            step,
            detail: detail.into(),
            at_ms: self.at_ms(),
        });
    }

    /// The startedBy mark of this deploy's standalone tasks (ECS allows 36 characters).
    pub fn started_by(&self) -> String {
        format!("slipway-{}", self.journal.id)
    }

    pub fn past_deadline(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Waits `wait`, or less when the deadline or a cancel comes first.
    pub async fn pause(&self, wait: Duration) -> Result<()> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        tokio::select! {
            _ = self.cancel.cancelled() => Err(EngineError::Cancelled),
            _ = tokio::time::sleep(wait.min(left)) => Ok(()),
        }
    }
}

/// The deadline passed before `what`.
pub(crate) fn deadline_passed(d: &Deployment<'_>, what: &str) -> EngineError {
    EngineError::DeployTimedOut {
        seconds: d.deadline_seconds.into(),
        waiting_for: what.to_owned(),
        left: String::new(),
    }
}

/// A new deploy id: the UTC time and four random hex digits (`20261122-014628-3fa1`).
fn new_deploy_id() -> String {
    let now = time::OffsetDateTime::now_utc();
    let format = time::macros::format_description!("[year][month][day]-[hour][minute][second]");
    let stamp = now.format(&format).unwrap_or_default();
    let random = std::collections::hash_map::RandomState::new();
    let noise = std::hash::BuildHasher::hash_one(&random, now.unix_timestamp_nanos()) as u16;
    format!("{stamp}-{noise:04x}")
}

/// Deploys a local release of the project in `dir` to `conn`'s account and region.
pub async fn deploy(
    host: &HostEnv,
    dir: &Path,
    conn: &Connection,
    config: &ProjectConfig,
    request: &DeployRequest,
    sink: &dyn ProgressSink<DeployEvent>,
    cancel: &Cancel,
) -> Result<DeployOutcome> {
    let started = Instant::now();
    let wanted = setup::wanted(config, conn)?;
    let observed = setup::observe(conn, &wanted.names, wanted.vpc.as_deref()).await?;
    let plan = setup::decide(&wanted, &observed);
    let missing: Vec<String> = plan
        .resources
        .iter()
        .filter(|r| !matches!(r.state, ResourceState::Ready))
        .map(|r| match &r.state {
            ResourceState::Blocked { reason, .. } => format!("{} {} ({reason})", r.title, r.name),
            ResourceState::WillCreate => format!("{} {} is missing", r.title, r.name),
            _ => format!("{} {} needs changes", r.title, r.name),
        })
        .collect();
    let (Some(repository), Some(role), Some(group), true) = (
        &observed.repository,
        &observed.role,
        &observed.security_group,
        missing.is_empty(),
    ) else {
        return Err(EngineError::SetupNeeded {
            app: config.name.clone(),
            region: conn.ctx.region.clone(),
            missing,
        });
    };
    // A rollback is checked before anything changes; a release needs Docker.
    let source = match request.rollback {
        Some(rollback) => Source::Rollback(
            releases::aws::rollback_target(conn, &wanted.names, &config.name, rollback.revision)
                .await?,
            rollback.retag,
        ),
        None => {
            let (docker, ..) = docker::connect(host).await?;
            let releases = releases::list(&docker, &config.name).await?;
            let release =
                releases::pick(&releases, &config.name, request.version.as_deref())?.clone();
            Source::Release(docker, release)
        }
    };
    let version = source.version().to_owned();

    let deadline_seconds = request.deadline_seconds.unwrap_or(600).clamp(30, 3600);
    let id = new_deploy_id();
    let db = crate::store::db_path(host);
    let journal = journal::Journal::begin(
        &db,
        &JournalEntry {
            id: id.clone(),
            app: config.name.clone(),
            project_dir: dir.display().to_string(),
            account: conn.identity.account.clone(),
            region: conn.ctx.region.clone(),
            cluster: wanted.names.cluster.clone(),
            mode: request.mode,
            version: version.clone(),
            started_at: 0.0,
            finished_at: None,
            outcome: None,
            url: None,
            summary: None,
            started_tasks: vec![],
            service: None,
            task_definition: None,
            image: None,
            rolled_back_to: None,
            retagged: false,
        },
    )?;
    let port = u16::try_from(config.port).unwrap_or(80);
    let d = Deployment {
        conn,
        config,
        names: wanted.names.clone(),
        sink,
        cancel,
        journal,
        started,
        deadline: started + Duration::from_secs(deadline_seconds.into()),
        deadline_seconds,
        port,
        subnets: plan
            .subnets
            .iter()
            .filter(|s| s.public)
            .map(|s| s.id.clone())
            .collect(),
        security_group: group.id.clone(),
        has_health_check: !matches!(config.health.probe, crate::project::HealthProbe::None),
        http_path: match &config.health.probe {
            crate::project::HealthProbe::Http { path } => path.clone(),
            _ => "/".to_owned(),
        },
    };
    d.emit(DeployEvent::Started {
        deploy_id: id.clone(),
        app: config.name.clone(),
        version: version.clone(),
        mode: request.mode,
        account: conn.identity.account.clone(),
        region: conn.ctx.region.clone(),
        deadline_seconds,
    });

    let result = run_steps(&d, &source, &repository.uri, &role.arn, request).await;
    finish(&d, request, result).await
}

/// What a run of the steps gives before the journal is closed.
struct Reached {
    outcome: DeployOutcome,
}

async fn run_steps(
    d: &Deployment<'_>,
    source: &Source,
    repository_uri: &str,
    role_arn: &str,
    request: &DeployRequest,
) -> Result<Reached> {
    let (image_by_digest, task_definition, revision, pushed) = match source {
        Source::Release(docker, release) => {
            ship_release(d, docker, release, repository_uri, role_arn).await?
        }
        Source::Rollback(target, retag) => roll_back(d, target, *retag).await?,
    };
    d.journal.step(
        journal::StepKind::UsedRevision,
        &task_definition,
        &image_by_digest,
    )?;

    let running = match request.mode {
        DeployMode::Task => task::run(d, &task_definition).await?,
        DeployMode::Service => service::run(d, &task_definition).await?,
    };

    d.step_started(DeployStep::Verify, format!("{} answers", running.url));
    let (http_status, answer) = status::check_url(d, &running.url, &running.task_arns).await?;
    let mut verified = format!("{} answered HTTP {http_status}", running.url);
    if let Source::Rollback(target, true) = source {
        push::tag_remotely(d, &target.digest, &target.manifest, &["latest"]).await?;
        d.journal
            .step(journal::StepKind::Retagged, "latest", &target.digest)?;
        verified.push_str(&format!("; latest points to {} again", target.digest));
    }
    d.step_done(DeployStep::Verify, verified);

    let (stopped_previous, kept_previous) = match request.mode {
        DeployMode::Task => {
            task::retire_previous(d, &running.task_arns, request.keep_previous).await?
        }
        DeployMode::Service => (vec![], vec![]),
    };
    Ok(Reached {
        outcome: DeployOutcome {
            deploy_id: d.journal.id.clone(),
            app: d.config.name.clone(),
            version: source.version().to_owned(),
            mode: request.mode,
            url: running.url,
            public_ip: running.public_ip,
            task_ids: running
                .task_arns
                .iter()
                .map(|a| watch::task_id(a).to_owned())
                .collect(),
            task_definition,
            revision,
            image: image_by_digest,
            pushed,
            http_status,
            answer,
            stopped_previous,
            kept_previous,
            elapsed_ms: d.at_ms(),
        },
    })
}

/// Where a deploy's new task(s) answer.
pub struct Running {
    pub task_arns: Vec<String>,
    pub public_ip: String,
    pub url: String,
}

/// Closes the journal with the outcome; a cancel or a deadline undoes what this deploy
/// started first and says what is left.
async fn finish(
    d: &Deployment<'_>,
    request: &DeployRequest,
    result: Result<Reached>,
) -> Result<DeployOutcome> {
    match result {
        Ok(reached) => {
            let o = &reached.outcome;
            d.journal.finish(
                "succeeded",
                Some(&o.url),
                &format!(
                    "{} revision {} answered at {}",
                    o.version, o.revision, o.url
                ),
            )?;
            Ok(reached.outcome)
        }
        Err(EngineError::Cancelled) => {
            let left = undo(d, request.mode, "Cancelled in Slipway").await;
            d.journal.finish("cancelled", None, &left)?;
            Err(EngineError::DeployCancelled { left })
        }
        Err(EngineError::DeployTimedOut {
            seconds,
            waiting_for,
            ..
        }) => {
            let left = undo(d, request.mode, "Deploy deadline passed (Slipway)").await;
            d.journal.finish("timed out", None, &left)?;
            Err(EngineError::DeployTimedOut {
                seconds,
                waiting_for,
                left,
            })
        }
        Err(e @ EngineError::DeployFailed { .. }) => {
            // The failed task stopped on its own; anything else this deploy started is
            // named so the user can decide.
            let left = status::left_running(d).await;
            d.journal.finish("failed", None, &format!("{e} {left}"))?;
            Err(e)
        }
        Err(e) => {
            // An error midway (AWS unreachable, throttled, denied): what this deploy
            // started is stopped, so nothing runs and bills unknown to the user.
            let left = undo(d, request.mode, "Deploy stopped by an error (Slipway)").await;
            d.journal
                .finish("stopped by an error", None, &format!("{e} {left}"))?;
            Err(EngineError::DeployStopped {
                cause: Box::new(e),
                left,
            })
        }
    }
}

/// Stops what this deploy started (tasks; a service it created is scaled to zero, one it
/// updated goes back to its previous revision). Returns what is left, in words.
async fn undo(d: &Deployment<'_>, mode: DeployMode, reason: &str) -> String {
    let undone = match mode {
        DeployMode::Task => task::stop_started(d, reason).await,
        DeployMode::Service => service::undo(d).await,
    };
    match undone {
        Ok(said) => said,
        Err(e) => format!(
            "Slipway could not undo everything ({e}); open Status to see what still runs and stop it there."
        ),
    }
}
