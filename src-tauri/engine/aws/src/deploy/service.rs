//! Service mode (seed 001): create the app's service, or point it at the new revision
//! (forcing a new deployment when the revision is unchanged), with the deployment circuit
//! breaker and rollback on. Done is the deployment's rolloutState COMPLETED; a rollback to
//! another revision is a failure even though the service ends up stable.

use std::collections::HashSet;

use aws_sdk_ecs::types::{
    AdvancedConfiguration, DeploymentCircuitBreaker, DeploymentConfiguration, DeploymentStrategy,
    DesiredStatus, LaunchType, LoadBalancer, PropagateTags, Service, Tag,
};

use super::balancer::{TargetWatch, GRACE_SECONDS};
use super::ecs::{describe_tasks, list_tasks, TaskFilter};
use super::journal::StepKind;
use super::task::{address, failed_behind, network, show_changes};
use super::watch::{Backoff, TaskSnapshot, Timeline};
use super::{DeployEvent, DeployStep, Deployment, Running};
use crate::aws::classify;
use crate::setup::names::{APP_KEY, MANAGED_BY_KEY, MANAGED_BY_VALUE};
use slipway_core::diagnosis::Diagnosis;
use slipway_core::error::{EngineError, Result};

async fn describe(d: &Deployment<'_>) -> Result<Option<Service>> {
    let ecs = aws_sdk_ecs::Client::new(&d.conn.ctx.sdk);
    let answer = d
        .persist("ecs:DescribeServices", false, || async {
            ecs.describe_services()
                .cluster(&d.names.cluster)
                .services(&d.config.name)
                .send()
                .await
                .map_err(|e| classify(&d.conn.ctx, "ecs:DescribeServices", e))
        })
        .await?;
    Ok(answer
        .services()
        .iter()
        .find(|s| s.status() == Some("ACTIVE"))
        .cloned())
}

pub async fn run(d: &Deployment<'_>, task_definition: &str) -> Result<Running> {
    let ecs = aws_sdk_ecs::Client::new(&d.conn.ctx.sdk);
    let existing = describe(d).await?;
    let seen_events: HashSet<String> = existing
        .iter()
        .flat_map(|s| s.events())
        .filter_map(|e| e.id().map(str::to_owned))
        .collect();
    match &existing {
        None if d.past_deadline() => {
            return Err(super::deadline_passed(d, "the service was not created"));
        }
        None => {
            d.step_started(
                DeployStep::Start,
                format!("creating service {}", d.config.name),
            );
            let network = network(d)?;
            // Recorded before it is sent, so an undo scales it down even when the answer
            // is lost; the client token makes a repeat create nothing more.
            d.journal
                .step(StepKind::CreatedService, &d.config.name, task_definition)?;
            d.persist("ecs:CreateService", true, || async {
                ecs.create_service()
                    .cluster(&d.names.cluster)
                    .service_name(&d.config.name)
                    .task_definition(task_definition)
                    .desired_count(d.desired)
                    .set_load_balancers(registration(d))
                    .set_health_check_grace_period_seconds(
                        d.balancer.as_ref().map(|_| GRACE_SECONDS),
                    )
                    .launch_type(LaunchType::Fargate)
                    .network_configuration(network.clone())
                    .deployment_configuration(deployment_configuration(d))
                    .propagate_tags(PropagateTags::Service)
                    .client_token(d.started_by())
                    .tags(
                        Tag::builder()
                            .key(MANAGED_BY_KEY)
                            .value(MANAGED_BY_VALUE)
                            .build(),
                    )
                    .tags(Tag::builder().key(APP_KEY).value(&d.config.name).build())
                    .send()
                    .await
                    .map_err(|e| classify(&d.conn.ctx, "ecs:CreateService", e))
            })
            .await?;
            d.step_done(
                DeployStep::Start,
                match (&d.balancer, d.desired) {
                    (Some(_), 1) => {
                        "service created with 1 task behind the load balancer".to_owned()
                    }
                    (Some(_), n) => {
                        format!("service created with {n} tasks behind the load balancer")
                    }
                    (None, 1) => "service created with 1 task".to_owned(),
                    (None, n) => format!("service created with {n} tasks"),
                },
            );
        }
        Some(service) => {
            let previous = service.task_definition().unwrap_or_default().to_owned();
            let same = previous == task_definition;
            d.step_started(
                DeployStep::Start,
                if same {
                    format!("forcing a new deployment of service {}", d.config.name)
                } else {
                    format!("updating service {} to the new revision", d.config.name)
                },
            );
            // Recorded before it is sent (the detail keeps what undo restores: the
            // revision and the desired count).
            d.journal.step(
                StepKind::UpdatedService,
                &d.config.name,
                &format!("{previous} {}", service.desired_count()),
            )?;
            let desired = desired_now(d, service);
            // Registered with the load balancer, or no longer, when that changed (another
            // target group after setup replaced it, another port, or off).
            let now: Vec<(Option<&str>, Option<&str>, Option<i32>)> = service
                .load_balancers()
                .iter()
                .map(|l| (l.target_group_arn(), l.container_name(), l.container_port()))
                .collect();
            let wanted = registration(d).unwrap_or_default();
            let same = now.len() == wanted.len()
                && wanted.iter().all(|l| {
                    now.contains(&(l.target_group_arn(), l.container_name(), l.container_port()))
                });
            // Blue/green names the groups, rule and role each time (the serving group
            // changes at every deploy).
            let blue_green = d.balancer.as_ref().is_some_and(|b| b.blue_green.is_some());
            let register = (!same || blue_green).then_some(wanted);
            d.persist("ecs:UpdateService", true, || async {
                ecs.update_service()
                    .cluster(&d.names.cluster)
                    .service(&d.config.name)
                    .task_definition(task_definition)
                    .desired_count(desired)
                    .set_load_balancers(register.clone())
                    .set_health_check_grace_period_seconds(
                        register
                            .as_ref()
                            .and_then(|r| (!r.is_empty()).then_some(GRACE_SECONDS)),
                    )
                    .force_new_deployment(same)
                    .deployment_configuration(deployment_configuration(d))
                    .send()
                    .await
                    .map_err(|e| classify(&d.conn.ctx, "ecs:UpdateService", e))
            })
            .await?;
            d.step_done(DeployStep::Start, "service updated");
        }
    }
    d.step_started(
        DeployStep::Wait,
        format!(
            "until the deployment completes (deadline {} s)",
            d.deadline_seconds
        ),
    );
    let running = watch_rollout(d, task_definition, seen_events).await?;
    d.step_done(
        DeployStep::Wait,
        match &d.balancer {
            Some(_) => {
                "rollout completed; the load balancer sends visitors to the new revision".to_owned()
            }
            None => format!("rollout completed; public IP {}", running.public_ip),
        },
    );
    Ok(running)
}

/// The service's registration with the app's target group (stable address): the serving
/// group, and for blue/green the other group, the rule ECS switches and its role.
fn registration(d: &Deployment<'_>) -> Option<Vec<LoadBalancer>> {
    d.balancer.as_ref().map(|balancer| {
        let advanced = balancer.blue_green.as_ref().map(|bg| {
            AdvancedConfiguration::builder()
                .alternate_target_group_arn(&bg.standby)
                .production_listener_rule(&bg.rule)
                .role_arn(&bg.role)
                .build()
        });
        vec![LoadBalancer::builder()
            .target_group_arn(&balancer.target_group)
            .container_name(slipway_core::taskdef::CONTAINER)
            .container_port(i32::from(d.port))
            .set_advanced_configuration(advanced)
            .build()]
    })
}

/// How many tasks the updated service keeps: the project's count, or what scaling chose
/// (kept within the scaling range) when scaling is on.
fn desired_now(d: &Deployment<'_>, service: &Service) -> i32 {
    match d.config.aws.scaling() {
        Some(range) => service
            .desired_count()
            .max(i32::try_from(range.min).unwrap_or(1))
            .min(i32::try_from(range.max).unwrap_or(1)),
        None => d.desired,
    }
}

/// How long a completed rollout behind the load balancer waits for the previous
/// revision's targets to leave it.
const DRAIN_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// The circuit breaker with rollback, and rolling or (with its bake time) blue/green.
fn deployment_configuration(d: &Deployment<'_>) -> DeploymentConfiguration {
    let blue_green = d.balancer.as_ref().and_then(|b| b.blue_green.as_ref());
    DeploymentConfiguration::builder()
        .deployment_circuit_breaker(
            DeploymentCircuitBreaker::builder()
                .enable(true)
                .rollback(true)
                .build(),
        )
        .maximum_percent(200)
        .minimum_healthy_percent(100)
        .strategy(match blue_green {
            Some(_) => DeploymentStrategy::BlueGreen,
            None => DeploymentStrategy::Rolling,
        })
        .set_bake_time_in_minutes(blue_green.map(|bg| i32::try_from(bg.bake_minutes).unwrap_or(0)))
        .build()
}

async fn watch_rollout(
    d: &Deployment<'_>,
    task_definition: &str,
    mut seen_events: HashSet<String>,
) -> Result<Running> {
    let mut timeline = Timeline::default();
    let mut backoff = Backoff::for_deploys();
    let mut ours_seen = false;
    let mut tasks: Vec<String> = Vec::new();
    let mut failed_seen = 0;
    let mut targets = TargetWatch::default();
    let mut completed_at: Option<std::time::Instant> = None;
    let mut stage = super::blue_green::Stages::default();
    loop {
        let mut changed = false;
        // Right after CreateService, DescribeServices may not show it yet.
        let Some(service) = describe(d).await? else {
            if d.past_deadline() {
                return Err(super::deadline_passed(d, "the service never appeared"));
            }
            d.pause(backoff.next(false)).await?;
            continue;
        };
        let mut events: Vec<_> = service
            .events()
            .iter()
            .filter(|e| e.id().is_some_and(|id| !seen_events.contains(id)))
            .collect();
        events.reverse(); // AWS lists the newest first.
        for event in events {
            seen_events.insert(event.id().unwrap_or_default().to_owned());
            changed = true;
            d.emit(DeployEvent::ServiceEvent {
                at: event
                    .created_at()
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                message: event.message().unwrap_or_default().to_owned(),
            });
        }
        let primary = service
            .deployments()
            .iter()
            .find(|dep| dep.status() == Some("PRIMARY"));
        let ours = service.deployments().iter().find(|dep| {
            dep.task_definition() == Some(task_definition) && dep.status() == Some("PRIMARY")
        });
        if let Some(ours) = ours {
            ours_seen = true;
            let id = ours.id().unwrap_or_default().to_owned();
            let running = d
                .persist("ecs:ListTasks", false, || {
                    list_tasks(d.conn, &d.names.cluster, TaskFilter::StartedBy(&id))
                })
                .await?;
            for arn in running {
                if !tasks.contains(&arn) {
                    tasks.push(arn);
                }
            }
            if ours.failed_tasks() > failed_seen {
                // A failed task is no longer RUNNING, and startedBy cannot be combined
                // with a status: list the family's stopped tasks and keep this deployment's.
                failed_seen = ours.failed_tasks();
                let stopped = d
                    .persist("ecs:ListTasks", false, || {
                        list_tasks(
                            d.conn,
                            &d.names.cluster,
                            TaskFilter::Family(&d.config.name, DesiredStatus::Stopped),
                        )
                    })
                    .await?;
                let stopped = d
                    .persist("ecs:DescribeTasks", false, || {
                        describe_tasks(d.conn, &d.names.cluster, &stopped)
                    })
                    .await?;
                for task in stopped {
                    if task.started_by.as_deref() == Some(id.as_str()) && !tasks.contains(&task.arn)
                    {
                        tasks.push(task.arn);
                    }
                }
            }
            let snapshots = d
                .persist("ecs:DescribeTasks", false, || {
                    describe_tasks(d.conn, &d.names.cluster, &tasks)
                })
                .await?;
            changed |= show_changes(d, &mut timeline, &snapshots);
            if let Some(balancer) = &d.balancer {
                changed |= targets.look(d, balancer, &snapshots).await;
                if let Some(bg) = &balancer.blue_green {
                    changed |= stage.look(d, bg).await;
                }
            }
            match ours.rollout_state().map(|r| r.as_str()) {
                Some("FAILED") => {
                    return Err(rollout_failed(
                        d,
                        &snapshots,
                        &targets,
                        ours.rollout_state_reason(),
                    )
                    .await)
                }
                // Behind the load balancer, done once only the new revision serves: the
                // previous tasks' targets drain (not waited for past DRAIN_PATIENCE, as a
                // target group may hold targets that are none of the service's).
                Some("COMPLETED")
                    if d.balancer.is_none()
                        || targets.others_healthy == 0
                        || completed_at
                            .get_or_insert_with(std::time::Instant::now)
                            .elapsed()
                            > DRAIN_PATIENCE =>
                {
                    if let Some(running) = address(d, &snapshots).await? {
                        return Ok(running);
                    }
                }
                _ => {}
            }
        } else if ours_seen {
            // The circuit breaker rolled back: the service is stable on another revision.
            let back_to = primary
                .and_then(|p| p.task_definition())
                .unwrap_or("an earlier revision");
            let snapshots = d
                .persist("ecs:DescribeTasks", false, || {
                    describe_tasks(d.conn, &d.names.cluster, &tasks)
                })
                .await?;
            let reason = format!("the deployment failed and the circuit breaker rolled the service back to {back_to}");
            return Err(rollout_failed(d, &snapshots, &targets, Some(&reason)).await);
        }
        if d.past_deadline() {
            return Err(EngineError::DeployTimedOut {
                seconds: d.deadline_seconds.into(),
                waiting_for: format!(
                    "service {} has {} of {} tasks running and its deployment has not completed",
                    d.config.name,
                    service.running_count(),
                    service.desired_count()
                ),
                left: String::new(),
            });
        }
        d.pause(backoff.next(changed)).await?;
    }
}

/// The failure of a rollout: the newest stopped task's diagnosis when there is one, else
/// AWS's reason verbatim.
async fn rollout_failed(
    d: &Deployment<'_>,
    snapshots: &[TaskSnapshot],
    targets: &TargetWatch,
    reason: Option<&str>,
) -> EngineError {
    if let Some(stopped) = snapshots.iter().rev().find(|t| t.is_stopped()) {
        return failed_behind(d, stopped, targets.of_task(stopped.id())).await;
    }
    let said = reason.unwrap_or("the deployment failed").to_owned();
    let diagnosis = Diagnosis {
        cause: format!("The service's deployment failed: {said}."),
        fix: "Read the service events above; the previous revision keeps serving.".to_owned(),
        evidence: said,
        known: false,
    };
    d.emit(DeployEvent::Failed {
        task_id: None,
        diagnosis: diagnosis.clone(),
        last_log_lines: vec![],
    });
    EngineError::DeployFailed {
        deploy_id: d.journal.id.clone(),
        diagnosis: Box::new(diagnosis),
    }
}
