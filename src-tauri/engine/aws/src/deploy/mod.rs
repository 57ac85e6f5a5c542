//! Deploying a local release to ECS Fargate and watching it come up: push to ECR,
//! register the task definition (only when something changed), start it as a standalone
//! task or through a service, follow each task's states, find the public IP through the
//! task's network interface, and check the URL answers. A stopped task becomes a
//! plain-language diagnosis. Every step that makes or removes something on AWS is written
//! to the journal as it happens; cancel undoes what this deploy started.
//!
//! Faults are expected: one deploy per app at a time ([`lock`]); every AWS call is raced
//! against the cancel and the deadline; the watch polls through throttling, 5xx, resets
//! and timeouts until the deadline; once the new task answered the deploy has succeeded,
//! and retiring the previous one is best effort; an undo that cannot finish leaves the
//! deploy open as needing attention, with the tasks it left ([`undo`]).

pub mod balancer;
pub mod blue_green;
pub mod ecs;
pub mod guard;
pub mod history;
pub mod journal;
pub mod lock;
mod push;
mod register;
mod scale;
pub mod scaling;
pub use register::{describe as describe_task_definition, pending_changes, PendingChanges};
mod service;
mod source;
pub mod status;
mod stop;
mod task;
pub mod undo;
pub mod watch;

pub use push::MANIFEST_TYPES;

use std::path::Path;
use std::time::{Duration, Instant};

mod events;
pub use events::{DeployEvent, DeployMode, DeployOutcome, DeployRequest, DeployStep};
pub use journal::JournalEntry;
pub use scale::{scale, ScaleOutcome};
pub use scaling::Scaling;
pub use status::{
    left_unfinished, settle_unfinished, status, status_knowing, AppStatus, ClusterKnown, Leftover,
    RunningTask,
};
pub use stop::{stop_app, stop_app_task, StopFailure, StopOutcome};

use crate::aws::Connection;
use crate::setup::{self, ResourceNames};
use slipway_core::error::{EngineError, Result};
use slipway_core::host::HostEnv;
use slipway_core::jobs::Cancel;
use slipway_core::progress::ProgressSink;
use slipway_core::project::ProjectConfig;
use slipway_docker::docker;
use slipway_docker::releases;
use source::{roll_back, ship_release, Source};
use watch::Backoff;

/// Everything a deploy's steps share.
pub struct Deployment<'a> {
    pub conn: &'a Connection,
    pub config: &'a ProjectConfig,
    pub names: ResourceNames,
    pub sink: &'a dyn ProgressSink<DeployEvent>,
    pub cancel: &'a Cancel,
    pub journal: journal::Journal,
    pub mode: DeployMode,
    pub started: Instant,
    pub deadline: Instant,
    pub deadline_seconds: u32,
    pub port: u16,
    pub subnets: Vec<String>,
    pub security_group: String,
    pub has_health_check: bool,
    pub http_path: String,
    /// The load balancer the service is registered with (stable address), if any.
    pub balancer: Option<balancer::Balancer>,
    /// How many tasks the service keeps running.
    pub desired: i32,
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

    /// `call` raced against the cancel and the deadline: a cancel is honoured at once,
    /// whatever AWS is doing. Only for calls whose effect the undo can find without their
    /// answer (reads, and writes recorded before they are sent).
    pub async fn race<T>(
        &self,
        what: &str,
        call: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => Err(EngineError::Cancelled),
            outcome = tokio::time::timeout(left, call) => {
                outcome.unwrap_or_else(|_| Err(deadline_passed(self, what)))
            }
        }
    }

    /// A call that may be repeated safely (a read, or a write AWS deduplicates or that
    /// changes nothing the second time), made again through transient failures until the
    /// deadline, saying what it retries and why. Raced against the cancel unless it
    /// `creates` something: then each attempt is awaited (its answer names what the undo
    /// must stop) and the cancel is honoured between attempts.
    pub async fn persist<T, F, Fut>(&self, what: &str, creates: bool, mut call: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let mut backoff = Backoff::new(Duration::from_millis(300), Duration::from_secs(3));
        let mut attempt = 0;
        loop {
            let outcome = if creates {
                let outcome = call().await;
                if self.cancel.is_cancelled() && outcome.is_err() {
                    return Err(EngineError::Cancelled);
                }
                outcome
            } else {
                self.race(what, call()).await
            };
            match outcome {
                Err(e) if e.is_transient() => {
                    if self.past_deadline() {
                        return Err(deadline_passed(
                            self,
                            &format!("{what}: AWS kept failing ({})", transient_reason(&e)),
                        ));
                    }
                    attempt += 1;
                    self.emit(DeployEvent::Retrying {
                        what: what.to_owned(),
                        reason: transient_reason(&e),
                        attempt,
                    });
                    self.pause(backoff.next(false)).await?;
                }
                other => return other,
            }
        }
    }

    /// Says, and keeps for the outcome, something that did not work after the new task
    /// answered.
    fn warn(&self, warnings: &mut Vec<String>, message: String) {
        tracing::warn!(deploy = %self.journal.id, "{message}");
        self.emit(DeployEvent::Warning {
            message: message.clone(),
        });
        warnings.push(message);
    }
}

/// A transient failure in a few words, for the timeline.
fn transient_reason(e: &EngineError) -> String {
    match e {
        EngineError::AwsThrottled { .. } => "AWS is throttling requests".to_owned(),
        EngineError::AwsServerError {
            status, aws_code, ..
        } => format!("AWS answered HTTP {status} ({aws_code})"),
        EngineError::AwsUnreachable { reason, .. } => reason.clone(),
        EngineError::Aws { aws_message, .. } => aws_message.clone(),
        other => other.to_string(),
    }
}

/// Who is deploying, for another deploy's refusal: the window or the CLI.
/// `config` with the task count and scaling slipway.toml holds now, when a scale (which
/// holds the same lock) saved others while this deploy waited for it; `None` when they
/// are as read, or the file cannot be read as a whole now.
fn task_count_saved_since(dir: &Path, config: &ProjectConfig) -> Option<ProjectConfig> {
    let now = slipway_core::project::load(dir).ok().flatten()?;
    let (a, b) = (&now.aws, &config.aws);
    let same = (a.tasks, a.max_tasks, a.cpu_target, a.requests_target)
        == (b.tasks, b.max_tasks, b.cpu_target, b.requests_target);
    (!same).then(|| {
        let mut config = config.clone();
        config.aws.tasks = a.tasks;
        config.aws.max_tasks = a.max_tasks;
        config.aws.cpu_target = a.cpu_target;
        config.aws.requests_target = a.requests_target;
        config
    })
}

fn deployed_by() -> String {
    let program = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default();
    match program.as_str() {
        "slipway-desktop" => "the Slipway window".to_owned(),
        "slipway" => "the slipway command line".to_owned(),
        other => format!("Slipway ({other})"),
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

/// Connects for what must work whatever slipway.toml says (stop, status, teardown): from
/// the project's app name and `[aws]` section even when the rest does not validate.
pub async fn connect_for_operations(
    host: &HostEnv,
    dir: &Path,
    endpoint_override: Option<String>,
    now: std::time::SystemTime,
) -> Result<(ProjectConfig, Connection)> {
    let config = slipway_core::project::open_for_operations(dir)?;
    let target = setup::target_for(host, &config.aws, endpoint_override)?;
    let connection = crate::aws::connect(host, &target, now).await?;
    Ok((config, connection))
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
    // Boxed: a deploy's future is large, and callers often hold two.
    Box::pin(deploy_with_setup(
        host, dir, conn, config, None, request, sink, cancel,
    ))
    .await
    .map(|(outcome, _)| outcome)
}

/// A deploy that trusts `known` as the account's setup (what an earlier deploy observed
/// ready) instead of observing it, or observes it when `None`; it answers with the
/// setup it relied on, for the next one.
#[allow(clippy::too_many_arguments)]
pub async fn deploy_with_setup(
    host: &HostEnv,
    dir: &Path,
    conn: &Connection,
    config: &ProjectConfig,
    known: Option<setup::Observed>,
    request: &DeployRequest,
    sink: &dyn ProgressSink<DeployEvent>,
    cancel: &Cancel,
) -> Result<(DeployOutcome, setup::Observed)> {
    let started = Instant::now();
    // The stable address is a service behind the load balancer, whatever mode was asked.
    let as_service;
    let request = if config.aws.load_balancer && request.mode != DeployMode::Service {
        as_service = DeployRequest {
            mode: DeployMode::Service,
            ..request.clone()
        };
        &as_service
    } else {
        request
    };
    // A blue/green deploy also waits out its bake time.
    let bake_seconds = match config.aws.blue_green() {
        true => config.aws.bake_minutes.unwrap_or(0) * 60,
        false => 0,
    };
    let deadline_seconds = request.deadline_seconds.unwrap_or(600).clamp(30, 3600) + bake_seconds;
    let deadline = started + Duration::from_secs(deadline_seconds.into());
    let id = new_deploy_id();
    // Held until this function returns, undo included.
    let _lock = lock::acquire(
        &slipway_core::app::data_dir(host).join("locks"),
        &conn.identity.account,
        &conn.ctx.region,
        &config.name,
        &lock::Holder {
            deploy_id: id.clone(),
            held_for: lock::HeldFor::Deploy,
            pid: std::process::id(),
            by: deployed_by(),
            since: time::OffsetDateTime::now_utc().unix_timestamp(),
        },
        if request.wait_for_other_deploy {
            lock::WhenHeld::Wait { until: deadline }
        } else {
            lock::WhenHeld::Refuse
        },
        cancel,
    )
    .await?;
    let now_saved;
    let config = match task_count_saved_since(dir, config) {
        Some(saved) => {
            now_saved = saved;
            &now_saved
        }
        None => config,
    };
    let wanted = setup::wanted(config, conn)?;
    // Reads only: repeated through transient failures, abandoned at once on a cancel.
    let observed = match known {
        Some(observed) => observed,
        None => tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(EngineError::Cancelled),
            observed = undo::repeat_until(deadline, || {
                setup::observe(conn, &wanted.names, wanted.vpc.as_deref())
            }) => observed?,
        },
    };
    let plan = setup::decide(&wanted, &observed);
    let missing = plan.not_ready();
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
        Some(rollback) => {
            let target = tokio::select! {
                biased;
                _ = cancel.cancelled() => return Err(EngineError::Cancelled),
                target = undo::repeat_until(deadline, || {
                    history::rollback_target(conn, &wanted.names, &config.name, rollback.revision)
                }) => target?,
            };
            Source::Rollback(target, rollback.retag)
        }
        None => {
            let (docker, ..) = docker::connect(host).await?;
            let release = match request.version.as_deref() {
                Some(version) => releases::find(&docker, &config.name, version).await?,
                None => {
                    slipway_docker::build::release_for_folder(&docker, dir, config, cancel).await?
                }
            };
            Source::Release(docker, release)
        }
    };
    let version = source.version().to_owned();

    let db = slipway_core::store::db_path(host);
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
        mode: request.mode,
        started,
        deadline,
        deadline_seconds,
        port,
        subnets: plan
            .subnets
            .iter()
            .filter(|s| s.public)
            .map(|s| s.id.clone())
            .collect(),
        security_group: group.id.clone(),
        has_health_check: !matches!(
            config.health.probe,
            slipway_core::project::HealthProbe::None
        ),
        http_path: match &config.health.probe {
            slipway_core::project::HealthProbe::Http { path } => path.clone(),
            _ => "/".to_owned(),
        },
        balancer: match (&observed.target_group, &observed.load_balancer) {
            (Some(group), Some(lb)) if config.aws.load_balancer => {
                let https = observed
                    .listeners
                    .iter()
                    .any(|l| l.port == 443 && l.certificate.is_some());
                let serving = balancer::serving_group(&observed, &group.arn);
                Some(balancer::Balancer {
                    blue_green: balancer::BlueGreen::of(&observed, config, &group.arn, &serving),
                    target_group: serving,
                    dns_name: lb.dns_name.clone(),
                    url: balancer::address(&lb.dns_name, config.aws.domain.as_deref(), https),
                })
            }
            _ => None,
        },
        desired: i32::try_from(config.aws.tasks()).unwrap_or(1),
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

    let result = match run_steps(&d, &source, &repository.uri, &role.arn).await {
        Ok(live) => Ok(after_verify(&d, &source, request, live).await),
        Err(e) => Err(e),
    };
    let outcome = finish(&d, request, result).await?;
    Ok((outcome, observed))
}

/// Where the deploy stands once its new task answered at its URL.
struct Live {
    running: Running,
    /// The app's previous standalone tasks (task mode), to stop now that this one answers.
    previous: Option<task::Previous>,
    task_definition: String,
    revision: i32,
    image: String,
    pushed: bool,
    http_status: u16,
    answer: String,
}

/// Every step up to the URL answering; an error here undoes what the deploy started.
async fn run_steps(
    d: &Deployment<'_>,
    source: &Source,
    repository_uri: &str,
    role_arn: &str,
) -> Result<Live> {
    let (image, task_definition, revision, pushed) = match source {
        Source::Release(docker, release) => {
            ship_release(d, docker, release, repository_uri, role_arn).await?
        }
        Source::Rollback(target, retag) => roll_back(d, target, *retag).await?,
    };
    d.journal
        .step(journal::StepKind::UsedRevision, &task_definition, &image)?;

    let (running, previous) = match d.mode {
        DeployMode::Task => {
            let (running, previous) = task::run(d, &task_definition).await?;
            (running, Some(previous))
        }
        // Standalone tasks of the app from before the stable address was chosen are
        // retired once the service answers: they bill, and no visitor reaches them.
        DeployMode::Service if d.balancer.is_some() => (
            service::run(d, &task_definition).await?,
            Some(task::Previous::unknown()),
        ),
        DeployMode::Service => (service::run(d, &task_definition).await?, None),
    };

    d.step_started(DeployStep::Verify, format!("{} answers", running.url));
    let (http_status, answer) = task::check_url(d, &running.url, &running.task_arns).await?;
    Ok(Live {
        running,
        previous,
        task_definition,
        revision,
        image,
        pushed,
        http_status,
        answer,
    })
}

/// Once the new task answered, the deploy has succeeded: moving `latest` back (a rollback
/// with re-tag) and stopping the previous tasks are best effort, and what did not work is a
/// warning with what still runs, never an undo of the working deploy.
async fn after_verify(
    d: &Deployment<'_>,
    source: &Source,
    request: &DeployRequest,
    live: Live,
) -> DeployOutcome {
    let mut warnings = Vec::new();
    let mut verified = format!("{} answered HTTP {}", live.running.url, live.http_status);
    if let Source::Rollback(target, true) = source {
        match push::tag_remotely(d, &target.digest, &target.manifest, &["latest"]).await {
            Ok(()) => {
                if let Err(e) =
                    d.journal
                        .step(journal::StepKind::Retagged, "latest", &target.digest)
                {
                    d.warn(&mut warnings, format!("The re-tag was not recorded: {e}"));
                }
                verified.push_str(&format!("; latest points to {} again", target.digest));
            }
            Err(e) => d.warn(
                &mut warnings,
                format!("latest could not be moved back to {}: {e}", target.digest),
            ),
        }
    }
    d.step_done(DeployStep::Verify, verified);

    // Scaling follows the project once the service is there (best effort: the deploy
    // answered; what could not be set is said).
    // (Also when scaling is no longer wanted: Slipway's is removed.)
    if d.mode == DeployMode::Service {
        let wanted = d.config.aws.scaling();
        let until = Instant::now() + Duration::from_secs(20);
        match undo::repeat_until(until, || {
            scaling::apply(d.conn, &d.names.cluster, &d.config.name, wanted)
        })
        .await
        {
            Ok(changes) if !changes.is_empty() => d.emit(DeployEvent::ServiceEvent {
                at: String::new(),
                message: format!("Scaling: {}", changes.join("; ")),
            }),
            Ok(_) => {}
            Err(e) if wanted.is_some() || d.balancer.is_some() => d.warn(
                &mut warnings,
                format!("The service's scaling could not be set ({e}); deploy again to retry."),
            ),
            // Only looking for a scaling Slipway once set: not the user's concern now.
            Err(e) => tracing::warn!(app = %d.config.name, "reading the service's scaling: {e}"),
        }
    }
    let (stopped_previous, kept_previous) = match live.previous {
        Some(previous) => {
            let retired =
                task::retire_previous(d, &live.running.task_arns, previous, request.keep_previous)
                    .await;
            for warning in retired.warnings {
                d.warn(&mut warnings, warning);
            }
            (retired.stopped, retired.kept)
        }
        None => (vec![], vec![]),
    };
    DeployOutcome {
        deploy_id: d.journal.id.clone(),
        app: d.config.name.clone(),
        version: source.version().to_owned(),
        mode: request.mode,
        url: live.running.url,
        public_ip: live.running.public_ip,
        task_ids: live
            .running
            .task_arns
            .iter()
            .map(|a| watch::task_id(a).to_owned())
            .collect(),
        task_definition: live.task_definition,
        revision: live.revision,
        image: live.image,
        pushed: live.pushed,
        http_status: live.http_status,
        answer: live.answer,
        stopped_previous,
        kept_previous,
        warnings,
        elapsed_ms: d.at_ms(),
    }
}

/// Where a deploy's new task(s) answer.
pub struct Running {
    pub task_arns: Vec<String>,
    pub public_ip: String,
    pub url: String,
}

/// Closes the journal with the outcome; a cancel, a deadline or an error undoes what this
/// deploy started first and says what is left. An undo that could not finish leaves the
/// deploy open in the journal as needing attention, with the tasks it left.
async fn finish(
    d: &Deployment<'_>,
    request: &DeployRequest,
    result: Result<DeployOutcome>,
) -> Result<DeployOutcome> {
    match result {
        Ok(mut outcome) => {
            let summary = format!(
                "{} revision {} answered at {}",
                outcome.version, outcome.revision, outcome.url
            );
            if let Err(e) =
                d.journal
                    .finish(journal::Outcome::Succeeded, Some(&outcome.url), &summary)
            {
                d.warn(
                    &mut outcome.warnings,
                    format!("The deploy answered but could not be recorded as finished: {e}"),
                );
            }
            Ok(outcome)
        }
        Err(EngineError::Cancelled) => {
            let left = close_undone(
                d,
                request.mode,
                "Cancelled in Slipway",
                journal::Outcome::Cancelled,
                "",
            )
            .await;
            Err(EngineError::DeployCancelled { left })
        }
        Err(EngineError::DeployTimedOut {
            seconds,
            waiting_for,
            ..
        }) => {
            let left = close_undone(
                d,
                request.mode,
                "Deploy deadline passed (Slipway)",
                journal::Outcome::TimedOut,
                "",
            )
            .await;
            Err(EngineError::DeployTimedOut {
                seconds,
                waiting_for,
                left,
            })
        }
        Err(e @ EngineError::DeployFailed { .. }) => {
            // A service that ran nothing before this deploy (created by it, or left at zero
            // by an earlier failure) has no revision for the circuit breaker to go back
            // to: ECS would go on starting (and billing) failing tasks, so it goes back to
            // zero. One that ran tasks was rolled back by the breaker.
            let ran_nothing = request.mode == DeployMode::Service
                && match d.journal.service_step() {
                    Ok(Some((journal::StepKind::CreatedService, _))) => true,
                    Ok(Some((_, detail))) => detail.ends_with(" 0"),
                    _ => false,
                };
            let put_back = if ran_nothing {
                let until = Instant::now() + undo::UNDO_BUDGET;
                let undone = undo::restore_service(
                    d.conn,
                    &d.names.cluster,
                    &d.config.name,
                    &d.journal,
                    until,
                    false,
                )
                .await;
                if let Some(said) = &undone.service {
                    d.emit(DeployEvent::ServiceEvent {
                        at: String::new(),
                        message: said.clone(),
                    });
                }
                Some(undone)
            } else {
                None
            };
            // The failed task stopped on its own; anything else this deploy started is
            // named so the user can decide.
            let left = task::left_running(d).await;
            let service_said = put_back
                .as_ref()
                .and_then(|u| u.service.as_deref())
                .map(|s| format!("{s} "))
                .unwrap_or_default();
            let summary = format!("{e} {service_said}{left}");
            let written = match put_back.and_then(|u| u.service_left) {
                Some(why) => d.journal.needs_attention(&format!(
                    "{summary} The service could not be scaled back to zero ({why}): it may go on starting tasks that fail."
                )),
                None => d.journal.finish(journal::Outcome::Failed, None, &summary),
            };
            if let Err(write) = written {
                tracing::warn!(deploy = %d.journal.id, "journal: {write}");
            }
            Err(e)
        }
        Err(e) => {
            // An error midway (AWS unreachable, throttled, denied): what this deploy
            // started is stopped, so nothing runs and bills unknown to the user.
            let left = close_undone(
                d,
                request.mode,
                "Deploy stopped by an error (Slipway)",
                journal::Outcome::StoppedByError,
                &e.to_string(),
            )
            .await;
            Err(EngineError::DeployStopped {
                cause: Box::new(e),
                left,
            })
        }
    }
}

/// Undoes what this deploy started and closes its journal entry with `outcome`, or leaves
/// it open as needing attention when something could not be stopped. Returns what is
/// left, in words.
async fn close_undone(
    d: &Deployment<'_>,
    mode: DeployMode,
    reason: &str,
    outcome: journal::Outcome,
    cause: &str,
) -> String {
    let until = Instant::now() + undo::UNDO_BUDGET;
    let mut undone = undo::stop_deploy_tasks(
        d.conn,
        &d.names.cluster,
        &d.journal,
        &d.started_by(),
        reason,
        until,
    )
    .await;
    if mode == DeployMode::Service {
        let service = undo::restore_service(
            d.conn,
            &d.names.cluster,
            &d.config.name,
            &d.journal,
            until,
            d.balancer.as_ref().is_some_and(|b| b.blue_green.is_some()),
        )
        .await;
        undone.service = service.service;
        undone.service_left = service.service_left;
    }
    let said = undone.said();
    let summary = if cause.is_empty() {
        said.clone()
    } else {
        format!("{cause} {said}")
    };
    let written = if undone.complete() {
        d.journal.finish(outcome, None, &summary)
    } else {
        d.journal.needs_attention(&summary)
    };
    if let Err(e) = written {
        tracing::warn!(deploy = %d.journal.id, "journal: {e}");
    }
    said
}

#[cfg(test)]
mod tests {
    use super::task_count_saved_since;
    use slipway_core::project;

    #[test]
    fn a_deploy_that_waited_for_a_scale_takes_the_count_it_saved() {
        let dir = tempfile::tempdir().unwrap();
        project::write_sample(dir.path()).unwrap();
        let mut read = project::load(dir.path()).unwrap().unwrap();
        read.aws.load_balancer = true;
        project::save(dir.path(), &read).unwrap();
        assert_eq!(task_count_saved_since(dir.path(), &read), None);
        let mut scaled = read.clone();
        scaled.aws.tasks = Some(2);
        scaled.aws.max_tasks = Some(4);
        scaled.aws.requests_target = Some(500);
        project::save(dir.path(), &scaled).unwrap();
        let now = task_count_saved_since(dir.path(), &read).expect("the saved count");
        assert_eq!(now.aws, scaled.aws);
        assert_eq!(now.port, read.port);
    }
}
