//! A one-off task on a service's task definition and network (a vendor's bootstrap
//! command, a migration): RunTask with the service's launch type or capacity providers,
//! its awsvpc subnets, security groups and public IP setting, and the command given in
//! place of one container's (its image's ENTRYPOINT stays); then its output, read from
//! the container's awslogs stream as it arrives, and its exit code once it STOPPED.
//!
//! The task is paid for from RunTask on, so it is never left running unknown: a cancel or
//! a passed deadline stops it; RunTask carries a client token (AWS starts one task for
//! a repeated request) and a `startedBy` mark of this run, so when an answer was lost and
//! a repeat started a second task anyway (the emulator ignores the token), that one is
//! found by its mark and stopped, and a RunTask that finally fails leaves no task of its
//! mark running.

use std::time::{Duration, Instant};

use aws_sdk_ecs::types::{
    CapacityProviderStrategyItem, ContainerOverride, LaunchType, NetworkConfiguration,
    PropagateTags, Service, Tag, TaskDefinition, TaskOverride,
};
use serde::{Deserialize, Serialize};

use super::awslogs::{self, AwsLogs};
use super::{find, task_definition, ServiceRef};
use crate::aws::{classify, Connection};
use crate::deploy::ecs::{describe_tasks, list_tasks, stop_task, TaskFilter};
use crate::deploy::watch::{task_id, Backoff, TaskSnapshot};
use crate::setup::names::{MANAGED_BY_KEY, MANAGED_BY_VALUE};
use slipway_core::diagnosis::diagnose;
use slipway_core::error::{EngineError, Result};
use slipway_core::jobs::Cancel;
use slipway_core::progress::ProgressSink;

/// How long a one-off task may take, from RunTask to STOPPED, unless the request says.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(15 * 60);
/// The longest deadline a request may ask for (Fargate bills every second of it).
pub const MAX_DEADLINE: Duration = Duration::from_secs(24 * 3600);
/// How long RunTask is tried through transient failures before giving up.
const START_BUDGET: Duration = Duration::from_secs(60);
/// After STOPPED, the stream is read until a read brings nothing new this long after the
/// stop (CloudWatch ingests the last lines a moment late), and at most `SETTLE_MAX`.
const SETTLE: Duration = Duration::from_secs(2);
const SETTLE_MAX: Duration = Duration::from_secs(10);
/// The most output lines an outcome keeps (a chatty command's all are in its log stream).
pub const OUTPUT_KEPT: usize = 10_000;
/// The tag that names a one-off task's run, beside Slipway's managed-by tag.
pub const RUN_TAG: &str = "slipway:run";
/// Every one-off task's `startedBy` begins with this.
pub const STARTED_BY_PREFIX: &str = "slipway-run/";

/// What to run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct OneOffRequest {
    /// The command and its arguments, in place of the container's CMD.
    pub command: Vec<String>,
    /// The container to run it in (default: the task definition's first essential one).
    #[serde(default)]
    pub container: Option<String>,
    /// Stop the task if it has not stopped by then (default 900 s).
    #[serde(default)]
    pub deadline_seconds: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "type", content = "data", rename_all_fields = "camelCase")]
pub enum OneOffEvent {
    /// RunTask answered: the task exists, and is paid for, from here.
    TaskStarted {
        task_id: String,
        container: String,
        log_group: String,
        log_stream: String,
    },
    /// The task's status as ECS reports it (PROVISIONING … RUNNING … STOPPED).
    StatusChanged { status: String },
    /// New output lines of the container, oldest first.
    Output { lines: Vec<String> },
    /// A call failed in a way that passes, and is tried again.
    Retrying {
        what: String,
        reason: String,
        attempt: u32,
    },
    /// Slipway asked ECS to stop a task of this run, and why.
    TaskStopping { task_id: String, reason: String },
}

/// A one-off task that ran and stopped.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct OneOffOutcome {
    pub task_id: String,
    pub task_arn: String,
    pub container: String,
    /// The container's exit code: 0 when the command succeeded.
    pub exit_code: i32,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub log_group: String,
    pub log_stream: String,
    /// What the container wrote, oldest first: its last [`OUTPUT_KEPT`] lines (the whole
    /// stream stays in CloudWatch Logs).
    pub output: Vec<String>,
    /// Older lines were left out of `output`.
    pub output_cut: bool,
}

/// Runs `request.command` once on the service's task definition and network and waits
/// until the task stopped; its output goes to `sink` as it arrives and comes back whole
/// in the outcome. A non-zero exit code is an outcome, not an error; a task that never
/// ran its command (its image could not be pulled…) is an error that says why.
pub async fn run_once(
    conn: &Connection,
    r: &ServiceRef,
    request: &OneOffRequest,
    sink: &dyn ProgressSink<OneOffEvent>,
    cancel: &Cancel,
) -> Result<OneOffOutcome> {
    if request.command.is_empty() || request.command[0].trim().is_empty() {
        return Err(EngineError::InvalidInput {
            what: "The command".into(),
            reason: "it is empty; give the program to run and its arguments".into(),
        });
    }
    let deadline = match request.deadline_seconds {
        None => DEFAULT_DEADLINE,
        Some(s) if s > 0 && Duration::from_secs(s.into()) <= MAX_DEADLINE => {
            Duration::from_secs(s.into())
        }
        Some(s) => {
            return Err(EngineError::InvalidInput {
                what: "The deadline".into(),
                reason: format!("{s} s is outside 1 s to {} s", MAX_DEADLINE.as_secs()),
            })
        }
    };
    let service = find(conn, r).await?;
    let definition = task_definition(conn, service.task_definition().unwrap_or_default()).await?;
    let unfit = |reason: String| EngineError::ServiceUnfit {
        service: r.service.clone(),
        action: "run a one-off task".into(),
        reason,
    };
    let container = awslogs::pick(&definition, request.container.as_deref())?;
    let name = container.name().unwrap_or_default().to_owned();
    let logs = awslogs::of(container).map_err(unfit)?;
    let network = network_of(&service, &definition).map_err(unfit)?;
    if cancel.is_cancelled() {
        return Err(EngineError::Cancelled);
    }
    let run = Run {
        conn,
        cluster: &r.cluster,
        mark: format!("{STARTED_BY_PREFIX}{}", fresh_id()),
        sink,
        cancel,
    };
    let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
    let ctx = &conn.ctx;
    let send = || {
        let request = ecs
            .run_task()
            .cluster(&r.cluster)
            .task_definition(definition.task_definition_arn().unwrap_or_default())
            .count(1)
            .set_launch_type(launch_type_of(&service))
            .set_capacity_provider_strategy(capacity_of(&service))
            .set_platform_version(service.platform_version().map(str::to_owned))
            .set_network_configuration(network.clone())
            .overrides(
                TaskOverride::builder()
                    .container_overrides(
                        ContainerOverride::builder()
                            .name(&name)
                            .set_command(Some(request.command.clone()))
                            .build(),
                    )
                    .build(),
            )
            .started_by(&run.mark)
            .client_token(&run.mark)
            .set_propagate_tags(
                (service.propagate_tags() == Some(&PropagateTags::TaskDefinition))
                    .then_some(PropagateTags::TaskDefinition),
            )
            .enable_ecs_managed_tags(service.enable_ecs_managed_tags())
            .tags(
                Tag::builder()
                    .key(MANAGED_BY_KEY)
                    .value(MANAGED_BY_VALUE)
                    .build(),
            )
            .tags(Tag::builder().key(RUN_TAG).value(&run.mark).build())
            .tags(
                Tag::builder()
                    .key("slipway:service")
                    .value(&r.service)
                    .build(),
            )
            // One request per attempt, so the attempts are counted here and a repeat is
            // known to have happened.
            .customize()
            .config_override(
                aws_sdk_ecs::config::Builder::default()
                    .retry_config(aws_sdk_ecs::config::retry::RetryConfig::disabled()),
            );
        async move {
            request
                .send()
                .await
                .map_err(|e| classify(ctx, "ecs:RunTask", e))
        }
    };
    let arn = run.start(send).await?;
    let id = task_id(&arn).to_owned();
    tracing::info!(cluster = %r.cluster, service = %r.service, task = %id, "started a one-off task");
    sink.emit(OneOffEvent::TaskStarted {
        task_id: id.clone(),
        container: name.clone(),
        log_group: logs.group.clone(),
        log_stream: logs.stream(&id),
    });
    run.watch(&arn, &name, &logs, Instant::now() + deadline, deadline)
        .await
}

struct Run<'a> {
    conn: &'a Connection,
    cluster: &'a str,
    /// This run's `startedBy` and client token.
    mark: String,
    sink: &'a dyn ProgressSink<OneOffEvent>,
    cancel: &'a Cancel,
}

impl Run<'_> {
    /// RunTask, tried again through transient failures; returns the one task of this run,
    /// with any other task a repeat started stopped.
    async fn start<F, Fut>(&self, send: F) -> Result<String>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<aws_sdk_ecs::operation::run_task::RunTaskOutput>>,
    {
        let until = Instant::now() + START_BUDGET;
        let mut backoff = Backoff::new(Duration::from_millis(300), Duration::from_secs(3));
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            // Not raced with the cancel: an answer dropped half-way would leave a task
            // unknown. The call is bounded by the SDK's timeouts.
            let e = match send().await {
                Ok(answer) => {
                    let arn = answer
                        .tasks()
                        .iter()
                        .find_map(|t| t.task_arn().map(str::to_owned));
                    let Some(arn) = arn else {
                        let failure = answer.failures().first();
                        let e = EngineError::Aws {
                            operation: "ecs:RunTask".into(),
                            aws_code: failure
                                .and_then(|f| f.reason())
                                .unwrap_or("no task started")
                                .to_owned(),
                            aws_message: failure
                                .and_then(|f| f.detail())
                                .unwrap_or_default()
                                .to_owned(),
                        };
                        return Err(self.settle_failed_start(e, attempt).await);
                    };
                    if attempt > 1 {
                        let single = self
                            .stop_marked_except(&arn, "a repeated RunTask started it twice")
                            .await;
                        if let Err(e) = single {
                            // The run cannot be made one task: this one is stopped too, so
                            // nothing of it runs unknown (the error names what still might).
                            let why = "Stopped by Slipway: its run started twice";
                            return Err(match self.stop(&arn, why).await {
                                Ok(()) => e,
                                Err(_) => self.left_running(&arn, "was started twice", &e),
                            });
                        }
                    }
                    if self.cancel.is_cancelled() {
                        self.stop(&arn, "Cancelled in Slipway before it ran")
                            .await
                            .map_err(|e| self.left_running(&arn, "was cancelled", &e))?;
                        return Err(EngineError::Cancelled);
                    }
                    return Ok(arn);
                }
                Err(e) => e,
            };
            if !e.is_transient() || Instant::now() >= until || self.cancel.is_cancelled() {
                return Err(self.settle_failed_start(e, attempt).await);
            }
            self.sink.emit(OneOffEvent::Retrying {
                what: "ecs:RunTask".into(),
                reason: e.to_string(),
                attempt,
            });
            tokio::select! {
                () = self.cancel.cancelled() => {}
                () = tokio::time::sleep(backoff.next(false)) => {}
            }
            // Cancelled while waiting to try again: no further RunTask, and whatever an
            // earlier attempt may have started is stopped.
            if self.cancel.is_cancelled() {
                return Err(self.settle_failed_start(e, attempt).await);
            }
        }
    }

    /// RunTask failed for good: a task an earlier attempt started (its answer lost) is
    /// stopped, so the failure leaves nothing running. A single attempt that was answered
    /// started nothing.
    async fn settle_failed_start(&self, e: EngineError, attempt: u32) -> EngineError {
        let answered_once = attempt == 1 && !e.is_transient();
        let e = if self.cancel.is_cancelled() {
            EngineError::Cancelled
        } else {
            e
        };
        if answered_once {
            return e;
        }
        match self.stop_marked_except("", "its RunTask failed").await {
            Ok(()) => e,
            Err(check) => EngineError::OneOffFailed {
                task_id: format!("started by {}", self.mark),
                problem: format!(
                    "could not be started ({e}), and Slipway could not check whether AWS \
                     started it anyway ({check}). Look in cluster {} for a task started by \
                     {} and stop it: it is paid for while it runs.",
                    self.cluster, self.mark
                ),
            },
        }
    }

    /// Stops every running task of this run's mark but `keep`.
    async fn stop_marked_except(&self, keep: &str, why: &str) -> Result<()> {
        let marked =
            retried(|| list_tasks(self.conn, self.cluster, TaskFilter::StartedBy(&self.mark)))
                .await?;
        for extra in marked.iter().filter(|a| *a != keep) {
            self.stop(extra, &format!("Stopped by Slipway: {why}"))
                .await
                .map_err(|e| self.left_running(extra, "was started twice", &e))?;
        }
        Ok(())
    }

    async fn stop(&self, arn: &str, reason: &str) -> Result<()> {
        self.sink.emit(OneOffEvent::TaskStopping {
            task_id: task_id(arn).to_owned(),
            reason: reason.to_owned(),
        });
        tracing::info!(cluster = %self.cluster, task = %task_id(arn), reason, "stopping a one-off task");
        retried(|| stop_task(self.conn, self.cluster, arn, reason)).await
    }

    fn left_running(&self, arn: &str, what: &str, e: &EngineError) -> EngineError {
        EngineError::OneOffFailed {
            task_id: task_id(arn).to_owned(),
            problem: format!(
                "{what}, but Slipway could not stop it ({e}). It is still running and paid \
                 for: stop it in the ECS console (cluster {}).",
                self.cluster
            ),
        }
    }

    /// Follows the task to STOPPED, its output as it arrives; stops it on a cancel or at
    /// the deadline.
    async fn watch(
        &self,
        arn: &str,
        container: &str,
        logs: &AwsLogs,
        until: Instant,
        deadline: Duration,
    ) -> Result<OneOffOutcome> {
        let id = task_id(arn).to_owned();
        let stream = logs.stream(&id);
        let mut reader = StreamReader::new(self.conn, logs, &stream);
        let mut output = Vec::new();
        let mut cut = false;
        let mut backoff = Backoff::for_deploys();
        let mut status = String::new();
        let mut stopped: Option<(Instant, TaskSnapshot)> = None;
        loop {
            let mut changed = false;
            if stopped.is_none() {
                // A transient failure is asked again at the next poll.
                if let Ok(found) = describe_tasks(self.conn, self.cluster, &[arn.to_owned()]).await
                {
                    if let Some(task) = found.into_iter().next() {
                        if task.last_status != status {
                            status = task.last_status.clone();
                            changed = true;
                            self.sink.emit(OneOffEvent::StatusChanged {
                                status: status.clone(),
                            });
                        }
                        if task.is_stopped() {
                            stopped = Some((Instant::now(), task));
                        }
                    }
                }
            }
            let lines = reader.read().await;
            if !lines.is_empty() {
                changed = true;
                self.sink.emit(OneOffEvent::Output {
                    lines: lines.clone(),
                });
                output.extend(lines.iter().cloned());
                if output.len() > OUTPUT_KEPT {
                    output.drain(..output.len() - OUTPUT_KEPT);
                    cut = true;
                }
            }
            if let Some((at, task)) = &stopped {
                let waited = at.elapsed();
                if (lines.is_empty() && waited >= SETTLE) || waited >= SETTLE_MAX {
                    return finished(arn, container, logs, &stream, task, output, cut);
                }
            }
            if self.cancel.is_cancelled() {
                self.stop(arn, "Cancelled in Slipway")
                    .await
                    .map_err(|e| self.left_running(arn, "was cancelled", &e))?;
                return Err(EngineError::Cancelled);
            }
            if stopped.is_none() && Instant::now() >= until {
                self.stop(
                    arn,
                    &format!(
                        "Stopped by Slipway: not done within {} s",
                        deadline.as_secs()
                    ),
                )
                .await
                .map_err(|e| self.left_running(arn, "ran past its deadline", &e))?;
                return Err(EngineError::OneOffFailed {
                    task_id: id,
                    problem: format!(
                        "had not finished after {} s, so Slipway stopped it. Its output so far \
                         is in {stream} of {}.",
                        deadline.as_secs(),
                        logs.group
                    ),
                });
            }
            let pause = if stopped.is_some() {
                Duration::from_millis(500)
            } else {
                backoff.next(changed)
            };
            tokio::select! {
                () = self.cancel.cancelled() => {}
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
}

/// The outcome of a stopped task: its container's exit code, or why it never ran.
fn finished(
    arn: &str,
    container: &str,
    logs: &AwsLogs,
    stream: &str,
    task: &TaskSnapshot,
    output: Vec<String>,
    output_cut: bool,
) -> Result<OneOffOutcome> {
    let facts = &task.stopped;
    // A task that failed to start ran no command, whatever exit code is reported.
    let started = facts.stop_code.as_deref() != Some("TaskFailedToStart");
    let exit_code = facts
        .containers
        .iter()
        .find(|c| c.name == container)
        .or(facts
            .containers
            .first()
            .filter(|_| facts.containers.len() == 1))
        .and_then(|c| c.exit_code)
        .filter(|_| started);
    let Some(exit_code) = exit_code else {
        let mut facts = facts.clone();
        facts.last_log_lines = output.iter().rev().take(20).rev().cloned().collect();
        let d = diagnose(&facts);
        return Err(EngineError::OneOffFailed {
            task_id: task.id().to_owned(),
            problem: format!(
                "stopped without running the command: {} {} (AWS said: {})",
                d.cause, d.fix, d.evidence
            ),
        });
    };
    Ok(OneOffOutcome {
        task_id: task.id().to_owned(),
        task_arn: arn.to_owned(),
        container: container.to_owned(),
        exit_code,
        stop_code: facts.stop_code.clone(),
        stopped_reason: facts.stopped_reason.clone(),
        log_group: logs.group.clone(),
        log_stream: stream.to_owned(),
        output,
        output_cut,
    })
}

/// Reads a task's stream forward from where the last read ended.
struct StreamReader<'a> {
    logs: aws_sdk_cloudwatchlogs::Client,
    group: &'a str,
    stream: &'a str,
    token: Option<String>,
}

impl<'a> StreamReader<'a> {
    fn new(conn: &Connection, logs: &'a AwsLogs, stream: &'a str) -> Self {
        Self {
            logs: crate::logs::client(conn, logs.region.as_deref()),
            group: &logs.group,
            stream,
            token: None,
        }
    }

    /// The lines written since the last read; none while the stream does not exist yet,
    /// or when the read fails (it is read again at the next poll, from the same place).
    async fn read(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let answer = self
                .logs
                .get_log_events()
                .log_group_name(self.group)
                .log_stream_name(self.stream)
                .start_from_head(true)
                .set_next_token(self.token.clone())
                .send()
                .await;
            let Ok(answer) = answer else {
                return lines;
            };
            let before = lines.len();
            lines.extend(
                answer
                    .events()
                    .iter()
                    .filter_map(|e| e.message().map(|m| m.trim_end().to_owned())),
            );
            let next = answer.next_forward_token().map(str::to_owned);
            // The same token again means the end of the stream for now.
            let at_end = next.is_none() || next == self.token || lines.len() == before;
            if next.is_some() {
                self.token = next;
            }
            if at_end {
                return lines;
            }
        }
    }
}

/// The network the task needs: the service's awsvpc settings, or none for a task
/// definition whose network mode needs none (bridge, host on EC2).
fn network_of(
    service: &Service,
    definition: &TaskDefinition,
) -> std::result::Result<Option<NetworkConfiguration>, String> {
    // No network mode is bridge on EC2; Fargate takes awsvpc only.
    let awsvpc = definition
        .network_mode()
        .is_some_and(|m| m.as_str() == "awsvpc")
        || launch_type_of(service).as_ref() == Some(&LaunchType::Fargate);
    let configured = service
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
        .filter(|c| !c.subnets().is_empty());
    match (awsvpc, configured) {
        (_, Some(_)) => Ok(service.network_configuration().cloned()),
        (false, None) => Ok(None),
        (true, None) => Err(
            "it has no network configuration (subnets and security groups), which a task \
             of its task definition needs (network mode awsvpc). A service made by a \
             CloudFormation stack with launch type EC2 often has none. Give the service its \
             subnets and security groups in its template or the ECS console."
                .into(),
        ),
    }
}

/// The service's launch type, unless capacity providers decide.
fn launch_type_of(service: &Service) -> Option<LaunchType> {
    if !service.capacity_provider_strategy().is_empty() {
        return None;
    }
    service.launch_type().cloned()
}

fn capacity_of(service: &Service) -> Option<Vec<CapacityProviderStrategyItem>> {
    let strategy = service.capacity_provider_strategy();
    (!strategy.is_empty()).then(|| strategy.to_vec())
}

/// A call that must get through (stopping a paid task, finding one): tried again through
/// transient failures for up to half a minute.
async fn retried<T, F, Fut>(mut call: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let until = Instant::now() + Duration::from_secs(30);
    let mut backoff = Backoff::new(Duration::from_millis(300), Duration::from_secs(3));
    loop {
        match call().await {
            Err(e) if e.is_transient() && Instant::now() < until => {
                tokio::time::sleep(backoff.next(false)).await;
            }
            other => return other,
        }
    }
}

/// 12 hex digits, unique enough to tell this run's tasks from any other's.
fn fresh_id() -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).expect("the OS has a random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::{AwsVpcConfiguration, NetworkMode};

    fn service(launch: Option<LaunchType>, subnets: &[&str]) -> Service {
        let mut b = Service::builder().set_launch_type(launch);
        if !subnets.is_empty() {
            b = b.network_configuration(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(
                        AwsVpcConfiguration::builder()
                            .set_subnets(Some(subnets.iter().map(|s| s.to_string()).collect()))
                            .security_groups("sg-1")
                            .build()
                            .unwrap(),
                    )
                    .build(),
            );
        }
        b.build()
    }

    fn definition(mode: NetworkMode) -> TaskDefinition {
        TaskDefinition::builder().network_mode(mode).build()
    }

    #[test]
    fn an_awsvpc_task_takes_the_services_network_or_is_refused_without_one() {
        let with = service(Some(LaunchType::Fargate), &["subnet-1"]);
        let net = network_of(&with, &definition(NetworkMode::Awsvpc))
            .unwrap()
            .expect("the service's network");
        assert_eq!(
            net.awsvpc_configuration().unwrap().subnets(),
            ["subnet-1".to_owned()]
        );
        let stack_made = service(Some(LaunchType::Ec2), &[]);
        let refused = network_of(&stack_made, &definition(NetworkMode::Awsvpc)).unwrap_err();
        assert!(refused.contains("no network configuration"), "{refused}");
        assert!(
            !refused.contains("slipway "),
            "the refusal says what to change, not a command to run: {refused}"
        );
        // A bridge-mode task on EC2 needs no network configuration.
        assert_eq!(
            network_of(&stack_made, &definition(NetworkMode::Bridge)).unwrap(),
            None
        );
    }

    #[test]
    fn capacity_providers_decide_instead_of_a_launch_type() {
        let s = Service::builder()
            .launch_type(LaunchType::Fargate)
            .capacity_provider_strategy(
                CapacityProviderStrategyItem::builder()
                    .capacity_provider("FARGATE_SPOT")
                    .build()
                    .unwrap(),
            )
            .build();
        assert_eq!(launch_type_of(&s), None, "ECS refuses both at once");
        assert_eq!(capacity_of(&s).unwrap().len(), 1);
        let plain = service(Some(LaunchType::Fargate), &["subnet-1"]);
        assert_eq!(launch_type_of(&plain), Some(LaunchType::Fargate));
        assert_eq!(capacity_of(&plain), None);
    }

    #[test]
    fn a_run_mark_fits_a_client_token_and_started_by() {
        let mark = format!("{STARTED_BY_PREFIX}{}", fresh_id());
        assert!(
            mark.len() <= 36,
            "clientToken and startedBy take it: {mark}"
        );
        assert_ne!(fresh_id(), fresh_id());
    }
}
