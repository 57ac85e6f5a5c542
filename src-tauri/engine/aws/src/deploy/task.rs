//! Standalone-task mode (seed 000 without its fixed sleep): run-task with a public IP in
//! the public subnets, watch it until it is RUNNING (and HEALTHY when it has a check) and
//! has a public IP, and once the new task answers, stop the app's previous tasks so the
//! user does not pay twice.

use std::time::{Duration, Instant};

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, DesiredStatus, LaunchType, NetworkConfiguration,
    PropagateTags, Tag,
};

use super::ecs::{describe_tasks, last_log_lines, list_tasks, public_ips, stop_task, TaskFilter};
use super::journal::StepKind;
use super::watch::{task_id, Backoff, TaskSnapshot, Timeline};
use super::{DeployEvent, DeployStep, Deployment, Running};
use crate::aws::classify;
use crate::setup::names::{APP_KEY, MANAGED_BY_KEY, MANAGED_BY_VALUE};
use slipway_core::diagnosis::diagnose;
use slipway_core::error::{EngineError, Result};

/// How long the listing of the previous tasks may take beside RunTask before it is left
/// for later (it is asked again once the new task answers).
const LIST_BESIDE_RUN_TASK: Duration = Duration::from_secs(5);

pub fn network(d: &Deployment<'_>) -> Result<NetworkConfiguration> {
    Ok(NetworkConfiguration::builder()
        .awsvpc_configuration(
            AwsVpcConfiguration::builder()
                .set_subnets(Some(d.subnets.clone()))
                .security_groups(&d.security_group)
                .assign_public_ip(AssignPublicIp::Enabled)
                .build()
                .map_err(|e| EngineError::Internal(format!("network configuration: {e}")))?,
        )
        .build())
}

/// Starts the task and waits until it is ready with its URL; the app's previous tasks are
/// looked for meanwhile (off the critical path), for [`retire_previous`] once the new one
/// answers.
pub async fn run(d: &Deployment<'_>, task_definition: &str) -> Result<(Running, Previous)> {
    d.step_started(
        DeployStep::Start,
        "a standalone Fargate task with a public IP",
    );
    let ecs = aws_sdk_ecs::Client::new(&d.conn.ctx.sdk);
    let network = network(d)?;
    // The client token makes a repeated RunTask (an answer lost on the way back, retried)
    // start no second task on AWS; where a repeat does (the emulator ignores the token),
    // the extra task carries this deploy's startedBy mark and is stopped below. The SDK's
    // own retries are off for this call, so `sent` counts every RunTask that went out.
    let sent = std::sync::atomic::AtomicU32::new(0);
    let start = d.persist("ecs:RunTask", true, || {
        sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        async {
            ecs.run_task()
                .cluster(&d.names.cluster)
                .task_definition(task_definition)
                .launch_type(LaunchType::Fargate)
                .count(1)
                .started_by(d.started_by())
                .client_token(d.started_by())
                .network_configuration(network.clone())
                .propagate_tags(PropagateTags::TaskDefinition)
                .tags(
                    Tag::builder()
                        .key(MANAGED_BY_KEY)
                        .value(MANAGED_BY_VALUE)
                        .build(),
                )
                .tags(Tag::builder().key(APP_KEY).value(&d.config.name).build())
                .tags(
                    Tag::builder()
                        .key("slipway:deploy")
                        .value(&d.journal.id)
                        .build(),
                )
                .customize()
                .config_override(
                    aws_sdk_ecs::config::Builder::default()
                        .retry_config(aws_sdk_ecs::config::retry::RetryConfig::disabled()),
                )
                .send()
                .await
                .map_err(|e| classify(&d.conn.ctx, "ecs:RunTask", e))
        }
    });
    // What RunTask started is in the journal as soon as its answer is read, whatever the
    // listing below is doing: a killed process leaves no started task unrecorded.
    let start = async {
        let answer = start.await?;
        for arn in answer.tasks().iter().filter_map(|t| t.task_arn()) {
            d.journal
                .step(StepKind::StartedTask, arn, task_definition)?;
        }
        Ok::<_, EngineError>(answer)
    };
    // The app's tasks before this one starts are the previous ones: listed while RunTask is
    // on its way, then described with the new task as it is watched, so retiring them
    // costs no call of its own. One try (the SDK's retries included) for at most
    // `LIST_BESIDE_RUN_TASK`, so a slow listing never holds the deploy back: one that fails
    // or runs out is done again once the new task answers, with the undo's patience.
    let (answer, listed) = tokio::try_join!(start, async {
        let family = TaskFilter::Family(&d.config.name, DesiredStatus::Running);
        let listing = d.race(
            "ecs:ListTasks",
            list_tasks(d.conn, &d.names.cluster, family),
        );
        Ok(tokio::time::timeout(LIST_BESIDE_RUN_TASK, listing)
            .await
            .ok()
            .and_then(Result::ok))
    })?;
    if let Some(failure) = answer.failures().first() {
        return Err(EngineError::AwsStepFailed {
            step: "start the task".into(),
            cause: Box::new(EngineError::Aws {
                operation: "ecs:RunTask".into(),
                aws_code: failure.reason().unwrap_or("failure").to_owned(),
                aws_message: failure.detail().unwrap_or_default().to_owned(),
            }),
            fix: None,
            again: "deploy again".into(),
        });
    }
    let arns: Vec<String> = answer
        .tasks()
        .iter()
        .filter_map(|t| t.task_arn().map(str::to_owned))
        .collect();
    if d.cancel.is_cancelled() {
        return Err(EngineError::Cancelled);
    }
    // The answer already says each task's first state: shown at once, without a call.
    let first: Vec<TaskSnapshot> = answer.tasks().iter().map(TaskSnapshot::from_sdk).collect();
    let arns = if sent.load(std::sync::atomic::Ordering::Relaxed) > 1 {
        stop_duplicates(d, arns).await?
    } else {
        arns
    };
    let ids: Vec<&str> = arns.iter().map(|a| task_id(a)).collect();
    d.step_done(DeployStep::Start, format!("task {}", ids.join(", ")));
    d.step_started(
        DeployStep::Wait,
        format!(
            "until it runs{} and has a public IP (deadline {} s)",
            if d.has_health_check {
                ", is healthy"
            } else {
                ""
            },
            d.deadline_seconds
        ),
    );
    let first: Vec<TaskSnapshot> = first
        .into_iter()
        .filter(|t| arns.contains(&t.arn))
        .collect();
    let others = listed.as_deref().unwrap_or_default();
    let (running, others) = watch_until_ready(d, &arns, others, first).await?;
    d.step_done(DeployStep::Wait, format!("public IP {}", running.public_ip));
    let ours = d.started_by();
    let previous = listed.map(|_| previous_among(others, &ours));
    Ok((running, Previous(previous)))
}

/// The app's other standalone tasks as they were when the new one was ready; `None` when
/// they could not be listed then (they are looked for again before retiring).
pub struct Previous(Option<Vec<TaskSnapshot>>);

impl Previous {
    /// Not looked for yet: they are listed before retiring.
    pub fn unknown() -> Self {
        Self(None)
    }
}

/// Of the app's tasks, those a deploy retires: still meant to run, not started by this
/// deploy (`ours`), and not a service's (the service replaces what is stopped).
fn previous_among(tasks: Vec<TaskSnapshot>, ours: &str) -> Vec<TaskSnapshot> {
    tasks
        .into_iter()
        .filter(|t| !t.is_stopping())
        .filter(|t| t.started_by.as_deref() != Some(ours))
        .filter(|t| {
            !t.started_by
                .as_deref()
                .is_some_and(|s| s.starts_with("ecs-svc/"))
        })
        .collect()
}

/// The app's tasks that run and are neither `new` nor this deploy's own, asked afresh
/// (ListTasks, DescribeTasks) with the undo's patience.
async fn find_previous(d: &Deployment<'_>, new: &[String]) -> Result<Vec<TaskSnapshot>> {
    let until = std::time::Instant::now() + super::undo::UNDO_BUDGET;
    let others: Vec<String> = super::undo::repeat_until(until, || {
        list_tasks(
            d.conn,
            &d.names.cluster,
            TaskFilter::Family(&d.config.name, DesiredStatus::Running),
        )
    })
    .await?
    .into_iter()
    .filter(|arn| !new.contains(arn))
    .collect();
    let described =
        super::undo::repeat_until(until, || describe_tasks(d.conn, &d.names.cluster, &others))
            .await?;
    Ok(previous_among(described, &d.started_by()))
}

/// The tasks this deploy's RunTask started, as its answer names them; any other task with
/// this deploy's startedBy mark (a repeated RunTask whose first answer was lost) is
/// recorded and stopped, so one deploy runs one task and none is taken for a previous one.
/// Only asked when RunTask went out more than once: one request starts at most one task.
async fn stop_duplicates(d: &Deployment<'_>, arns: Vec<String>) -> Result<Vec<String>> {
    let ours = d.started_by();
    let marked = d
        .persist("ecs:ListTasks", false, || {
            list_tasks(d.conn, &d.names.cluster, TaskFilter::StartedBy(&ours))
        })
        .await?;
    for extra in marked.iter().filter(|a| !arns.contains(a)) {
        d.journal
            .step(StepKind::StartedTask, extra, "a repeated RunTask")?;
        let reason = format!(
            "Duplicate of Slipway deploy {} (a repeated RunTask)",
            d.journal.id
        );
        d.persist("ecs:StopTask", false, || {
            stop_task(d.conn, &d.names.cluster, extra, &reason)
        })
        .await?;
        d.journal.step(StepKind::StoppedTask, extra, &reason)?;
        d.emit(DeployEvent::Warning {
            message: format!(
                "AWS started task {} twice for one request (its first answer was lost); the extra task was stopped.",
                task_id(extra)
            ),
        });
    }
    Ok(arns)
}

/// Follows `arns` until one is ready with a public IP; a stopped task is diagnosed.
/// `first` is what RunTask's answer said of them (shown before the first poll). `others`
/// are described in the same calls, and answered as the last call saw them.
pub async fn watch_until_ready(
    d: &Deployment<'_>,
    arns: &[String],
    others: &[String],
    first: Vec<TaskSnapshot>,
) -> Result<(Running, Vec<TaskSnapshot>)> {
    let asked: Vec<String> = arns
        .iter()
        .chain(others.iter().filter(|a| !arns.contains(a)))
        .cloned()
        .collect();
    let mut timeline = Timeline::default();
    let mut backoff = Backoff::for_deploys();
    if !first.is_empty() && first.iter().all(|t| !t.is_stopped()) {
        let changed = show_changes(d, &mut timeline, &first);
        d.pause(backoff.next(changed)).await?;
    }
    loop {
        let (snapshots, others): (Vec<TaskSnapshot>, Vec<TaskSnapshot>) = d
            .persist("ecs:DescribeTasks", false, || {
                describe_tasks(d.conn, &d.names.cluster, &asked)
            })
            .await?
            .into_iter()
            .partition(|t| arns.contains(&t.arn));
        let changed = show_changes(d, &mut timeline, &snapshots);
        if let Some(stopped) = snapshots.iter().find(|t| t.is_stopped()) {
            return Err(failed(d, stopped).await);
        }
        if let Some(mut running) = address(d, &snapshots).await? {
            // All the tasks this deploy started, for the URL check and the retirement.
            running.task_arns = arns.to_vec();
            return Ok((running, others));
        }
        if d.past_deadline() {
            let state = snapshots
                .iter()
                .map(|t| {
                    format!(
                        "task {} is {}{}",
                        t.id(),
                        t.last_status,
                        t.health
                            .as_deref()
                            .map(|h| format!(" ({h})"))
                            .unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            return Err(EngineError::DeployTimedOut {
                seconds: d.deadline_seconds.into(),
                waiting_for: if state.is_empty() {
                    "no task was seen".into()
                } else {
                    state
                },
                left: String::new(),
            });
        }
        d.pause(backoff.next(changed)).await?;
    }
}

/// Emits a `TaskStatus` for each task whose status or health changed; true if any did.
pub(super) fn show_changes(
    d: &Deployment<'_>,
    timeline: &mut Timeline,
    snapshots: &[TaskSnapshot],
) -> bool {
    let mut changed = false;
    for task in snapshots {
        if let Some(change) = timeline.observe(task, Instant::now()) {
            changed = true;
            d.emit(DeployEvent::TaskStatus {
                task_id: change.task_id,
                status: change.status,
                health: change.health,
                previous: change.previous,
                previous_ms: change.previous_ms,
                at_ms: d.at_ms(),
            });
        }
    }
    changed
}

/// Where the first ready task with a public IP answers (emitted as `Address`); `None`
/// while no ready task has one yet.
pub(super) async fn address(
    d: &Deployment<'_>,
    snapshots: &[TaskSnapshot],
) -> Result<Option<Running>> {
    let ready: Vec<&TaskSnapshot> = snapshots
        .iter()
        .filter(|t| t.is_ready(d.has_health_check))
        .collect();
    let enis: Vec<String> = ready
        .iter()
        .filter_map(|t| t.network_interface.clone())
        .collect();
    let ips = d
        .persist("ec2:DescribeNetworkInterfaces", false, || {
            public_ips(d.conn, &enis)
        })
        .await?;
    let Some((task, ip)) = ready.iter().find_map(|t| {
        let ip = ips.get(t.network_interface.as_deref()?)?;
        Some((t, ip.clone()))
    }) else {
        return Ok(None);
    };
    let url = match &d.balancer {
        Some(balancer) => balancer.url.clone(),
        None => format!("http://{ip}:{}", d.port),
    };
    d.emit(DeployEvent::Address {
        task_id: task.id().to_owned(),
        public_ip: ip.clone(),
        url: url.clone(),
    });
    Ok(Some(Running {
        task_arns: ready.iter().map(|t| t.arn.clone()).collect(),
        public_ip: ip,
        url,
    }))
}

/// The diagnosis of a stopped task, emitted, as the deploy's error.
pub(super) async fn failed(d: &Deployment<'_>, task: &TaskSnapshot) -> EngineError {
    failed_behind(d, task, None).await
}

/// [`failed`], for a task behind the load balancer: a failed health check is explained
/// with the path, the port and what the load balancer last saw of its target.
pub(super) async fn failed_behind(
    d: &Deployment<'_>,
    task: &TaskSnapshot,
    target: Option<&super::balancer::Target>,
) -> EngineError {
    let mut facts = task.stopped.clone();
    // CloudWatch takes a moment to show a task's last lines: ask a few times (a cancel
    // or the deadline ends the asking, not the diagnosis).
    for _ in 0..4 {
        facts.last_log_lines = d
            .race("the task's last log lines", async {
                Ok(last_log_lines(d.conn, &d.names.log_group, &task.arn, 20).await)
            })
            .await
            .unwrap_or_default();
        if !facts.last_log_lines.is_empty()
            || d.pause(std::time::Duration::from_millis(750))
                .await
                .is_err()
            || d.past_deadline()
        {
            break;
        }
    }
    let mut diagnosis = diagnose(&facts);
    if d.balancer.is_some() {
        diagnosis = super::balancer::explain_health(diagnosis, &d.http_path, d.port, target);
    }
    d.emit(DeployEvent::Failed {
        task_id: Some(task.id().to_owned()),
        diagnosis: diagnosis.clone(),
        last_log_lines: facts.last_log_lines.clone(),
    });
    EngineError::DeployFailed {
        deploy_id: d.journal.id.clone(),
        diagnosis: Box::new(diagnosis),
    }
}

/// What retiring the previous tasks did.
pub struct Retired {
    pub stopped: Vec<String>,
    pub kept: Vec<String>,
    /// What did not work, with what still runs.
    pub warnings: Vec<String>,
}

/// Once the new task answers: stops the app's other standalone tasks, or lists them when
/// the user keeps them. Service tasks are the service's business, and this deploy's own
/// tasks (its startedBy mark) are never "previous". Best effort: the deploy has succeeded,
/// so a failure is a warning naming what still runs, never an error.
pub async fn retire_previous(
    d: &Deployment<'_>,
    new: &[String],
    found: Previous,
    keep: bool,
) -> Retired {
    let mut retired = Retired {
        stopped: vec![],
        kept: vec![],
        warnings: vec![],
    };
    let found = match found.0 {
        Some(previous) => Ok(previous),
        None => find_previous(d, new).await,
    };
    let previous = match found {
        Ok(previous) => previous,
        Err(e) => {
            retired.warnings.push(format!(
                "Could not look for the app's previous tasks ({e}); one may still run and be billed until the app is stopped."
            ));
            return retired;
        }
    };
    if previous.is_empty() {
        return retired;
    }
    let ids: Vec<String> = previous.iter().map(|t| t.id().to_owned()).collect();
    if keep {
        d.emit(DeployEvent::PreviousTasks {
            task_ids: ids.clone(),
            stopped: false,
        });
        retired.kept = ids;
        return retired;
    }
    d.step_started(
        DeployStep::Retire,
        format!(
            "stopping the previous task {} so you don't pay twice",
            ids.join(", ")
        ),
    );
    let reason = format!("Replaced by Slipway deploy {}", d.journal.id);
    let until = std::time::Instant::now() + super::undo::UNDO_BUDGET;
    for task in &previous {
        let stopped = super::undo::repeat_until(until, || {
            stop_task(d.conn, &d.names.cluster, &task.arn, &reason)
        })
        .await;
        match stopped {
            Ok(()) => {
                let _ = d.journal.step(StepKind::StoppedTask, &task.arn, "replaced");
                retired.stopped.push(task.id().to_owned());
            }
            Err(e) => retired.warnings.push(format!(
                "The previous task {} could not be stopped ({e}); it still runs and is billed. Stop it from the app's running tasks.",
                task.id()
            )),
        }
    }
    if !retired.stopped.is_empty() {
        d.emit(DeployEvent::PreviousTasks {
            task_ids: retired.stopped.clone(),
            stopped: true,
        });
    }
    d.step_done(
        DeployStep::Retire,
        if retired.stopped.len() == ids.len() {
            format!("stopped {}", ids.join(", "))
        } else {
            format!(
                "stopped {} of {} previous tasks",
                retired.stopped.len(),
                ids.len()
            )
        },
    );
    retired
}

/// Asks the URL until it answers (any HTTP status below 500) or the deadline passes.
/// The task(s) behind the URL are watched meanwhile: one that stops is diagnosed instead
/// of waiting out the deadline.
pub async fn check_url(d: &Deployment<'_>, url: &str, tasks: &[String]) -> Result<(u16, String)> {
    let client = super::balancer::check_client(d.balancer.as_ref(), url)
        .await
        .timeout(Duration::from_secs(4))
        .no_proxy()
        .build()
        .map_err(|e| EngineError::Internal(e.to_string()))?;
    let target = format!("{url}{}", d.http_path);
    let mut backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(2));
    let mut attempt = 0;
    loop {
        attempt += 1;
        let answered = d
            .race(&format!("{target} to answer"), async {
                Ok(client.get(&target).send().await)
            })
            .await?;
        let outcome = match answered {
            Ok(response) if response.status().as_u16() < 500 => {
                let status = response.status().as_u16();
                let body = d
                    .race("the answer's body", async {
                        Ok(response.text().await.unwrap_or_default())
                    })
                    .await?;
                d.emit(DeployEvent::Check {
                    attempt,
                    outcome: format!("HTTP {status}"),
                });
                return Ok((status, body.chars().take(2000).collect()));
            }
            Ok(response) => format!("HTTP {}", response.status().as_u16()),
            Err(e) if e.is_timeout() => "no answer yet (timed out)".to_owned(),
            Err(e) if e.is_connect() => "connection refused or unreachable".to_owned(),
            Err(e) => e.to_string(),
        };
        d.emit(DeployEvent::Check {
            attempt,
            outcome: outcome.clone(),
        });
        let described = d
            .persist("ecs:DescribeTasks", false, || {
                describe_tasks(d.conn, &d.names.cluster, tasks)
            })
            .await?;
        if let Some(stopped) = described.iter().find(|t| t.is_stopped()) {
            return Err(super::task::failed(d, stopped).await);
        }
        if d.past_deadline() {
            return Err(EngineError::DeployTimedOut {
                seconds: d.deadline_seconds.into(),
                waiting_for: match &d.balancer {
                    Some(_) => format!("{target} never answered (last: {outcome}); the load balancer reached the new tasks, so check that your address is in the allowed range (the load balancer admits only it)"),
                    None => format!("{target} never answered (last: {outcome}); check that the app listens on 0.0.0.0:{} and that the security group lets you in", d.port),
                },
                left: String::new(),
            });
        }
        d.pause(backoff.next(false)).await?;
    }
}

/// The tasks this deploy started that still run, in words (for a failure message).
pub async fn left_running(d: &Deployment<'_>) -> String {
    let mut arns = d.journal.started_tasks().unwrap_or_default();
    if let Ok(listed) = list_tasks(
        d.conn,
        &d.names.cluster,
        TaskFilter::StartedBy(&d.started_by()),
    )
    .await
    {
        arns.extend(
            listed
                .into_iter()
                .filter(|a| !arns.contains(a))
                .collect::<Vec<_>>(),
        );
    }
    let still = match describe_tasks(d.conn, &d.names.cluster, &arns).await {
        Ok(tasks) => tasks
            .into_iter()
            .filter(|t| !t.is_stopping())
            .map(|t| t.id().to_owned())
            .collect(),
        // Unknown is not "nothing": name what was started.
        Err(_) => arns
            .iter()
            .map(|a| task_id(a).to_owned())
            .collect::<Vec<_>>(),
    };
    if still.is_empty() {
        "Nothing this deploy started is left running.".to_owned()
    } else {
        format!(
            "Still running (and billed): task {}; stop it from the app's running tasks.",
            still.join(", ")
        )
    }
}
