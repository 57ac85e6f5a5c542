//! Carrying out the teardown plan the user confirmed, step by step in its order and never
//! beyond what it listed, waiting (with a deadline, never a fixed sleep) for what AWS does
//! in its own time: tasks stopping, services draining, network interfaces being released.

use std::time::Duration;

use aws_sdk_ec2::error::ProvideErrorMetadata;

use super::{
    confirmed_removals, observe_and_plan, other_target, plan_teardown, TeardownEvent, TeardownItem,
    TeardownObserved, TeardownPlan, TeardownStep,
};
use crate::aws::{classify, Connection};
use crate::setup::forget_created;
use crate::setup::names::ResourceNames;
use slipway_core::error::{EngineError, Result};
use slipway_core::host::HostEnv;
use slipway_core::jobs::Cancel;
use slipway_core::progress::ProgressSink;
use slipway_core::project::ProjectConfig;

/// How long teardown waits for AWS to stop tasks and release their network interfaces (a
/// deleted load balancer's can hold its security group for a few minutes).
const WAIT_LIMIT: Duration = Duration::from_secs(300);

/// Removes what `confirmed` (the teardown plan the user reviewed) listed for removal and
/// is still there to remove, and returns the plan observed after. Whatever a fresh look
/// would remove that `confirmed` did not list stays, reported as [`TeardownEvent::Skipped`].
pub async fn apply_teardown(
    host: &HostEnv,
    connection: &Connection,
    config: &ProjectConfig,
    confirmed: &TeardownPlan,
    sink: &dyn ProgressSink<TeardownEvent>,
    cancel: &Cancel,
) -> Result<TeardownPlan> {
    let app = config.name.as_str();
    let (fresh, observed) = observe_and_plan(connection, config).await?;
    if let Some(reason) = other_target(confirmed, &fresh) {
        return Err(EngineError::ReviewedPlanOutdated { reason });
    }
    let (removals, skipped) = confirmed_removals(confirmed, &fresh);
    // What apply will do: the fresh plan, with each removal cut down to what was confirmed.
    let items = fresh
        .items
        .iter()
        .filter_map(|i| match i.action {
            super::TeardownAction::Remove { .. } => {
                removals.iter().find(|r| r.step == i.step).cloned()
            }
            super::TeardownAction::Keep { .. } => Some(i.clone()),
        })
        .collect();
    sink.emit(TeardownEvent::Planned(TeardownPlan {
        items,
        ..fresh.clone()
    }));
    for (step, reason) in skipped {
        sink.emit(TeardownEvent::Skipped { step, reason });
    }
    let names = ResourceNames::for_app(app, &connection.ctx.region)
        .map_err(|problems| EngineError::InvalidResourceNames { problems })?;
    let db = slipway_core::store::db_path(host);
    for item in &removals {
        if cancel.is_cancelled() {
            return Err(EngineError::Cancelled);
        }
        sink.emit(TeardownEvent::StepStarted { step: item.step });
        remove(connection, &names, &observed, item, sink, cancel)
            .await
            .map_err(|cause| EngineError::AwsStepFailed {
                step: format!(
                    "remove the {} {}",
                    item.title.to_lowercase(),
                    item.names.join(", ")
                ),
                cause: Box::new(cause),
                fix: None,
                again: "run teardown again to finish".to_owned(),
            })?;
        if let Some(kind) = item.step.resource_kind() {
            forget_created(&db, connection, app, kind)?;
        }
        sink.emit(TeardownEvent::StepDone { step: item.step });
    }
    plan_teardown(connection, config).await
}

async fn remove(
    c: &Connection,
    names: &ResourceNames,
    o: &TeardownObserved,
    item: &TeardownItem,
    sink: &dyn ProgressSink<TeardownEvent>,
    cancel: &Cancel,
) -> Result<()> {
    let sdk = &c.ctx.sdk;
    let ctx = &c.ctx;
    let ecs = aws_sdk_ecs::Client::new(sdk);
    match item.step {
        TeardownStep::Services => {
            for service in &item.names {
                ecs.update_service()
                    .cluster(&names.cluster)
                    .service(service)
                    .desired_count(0)
                    .send()
                    .await
                    .map_err(|e| classify(ctx, "ecs:UpdateService", e))?;
                ecs.delete_service()
                    .cluster(&names.cluster)
                    .service(service)
                    .force(true)
                    .send()
                    .await
                    .map_err(|e| classify(ctx, "ecs:DeleteService", e))?;
            }
            // The cluster can only go once its services are INACTIVE.
            sink.emit(TeardownEvent::Waiting {
                step: item.step,
                what: format!("{} service(s) to drain", item.names.len()),
            });
            wait_until(
                cancel,
                &format!("draining {}", item.names.join(", ")),
                || async {
                    let out = ecs
                        .describe_services()
                        .cluster(&names.cluster)
                        .set_services(Some(item.names.clone()))
                        .send()
                        .await
                        .map_err(|e| classify(ctx, "ecs:DescribeServices", e))?;
                    Ok(out
                        .services()
                        .iter()
                        .all(|s| s.status.as_deref() == Some("INACTIVE")))
                },
            )
            .await?;
        }
        TeardownStep::Tasks => {
            for task in &item.names {
                ecs.stop_task()
                    .cluster(&names.cluster)
                    .task(task)
                    .reason("Removed with the app by Slipway teardown")
                    .send()
                    .await
                    .map_err(|e| classify(ctx, "ecs:StopTask", e))?;
            }
            sink.emit(TeardownEvent::Waiting {
                step: item.step,
                what: format!("{} task(s) to stop", item.names.len()),
            });
            wait_until(cancel, "the app's tasks to stop", || async {
                for batch in item.names.chunks(100) {
                    let out = ecs
                        .describe_tasks()
                        .cluster(&names.cluster)
                        .set_tasks(Some(batch.to_vec()))
                        .send()
                        .await
                        .map_err(|e| classify(ctx, "ecs:DescribeTasks", e))?;
                    let stopped = out
                        .tasks()
                        .iter()
                        .all(|t| t.last_status.as_deref() == Some("STOPPED"));
                    if !stopped {
                        return Ok(false);
                    }
                }
                Ok(true)
            })
            .await?;
        }
        TeardownStep::TaskDefinitions => {
            for arn in &item.names {
                ecs.deregister_task_definition()
                    .task_definition(arn)
                    .send()
                    .await
                    .map_err(|e| classify(ctx, "ecs:DeregisterTaskDefinition", e))?;
            }
        }
        TeardownStep::Cluster => {
            ecs.delete_cluster()
                .cluster(&names.cluster)
                .send()
                .await
                .map_err(|e| classify(ctx, "ecs:DeleteCluster", e))?;
        }
        TeardownStep::SecurityGroup | TeardownStep::BalancerSecurityGroup => {
            delete_groups(c, item, sink, cancel).await?;
        }
        TeardownStep::ScalingTarget => {
            super::balancer::remove_scaling_targets(c, &item.names).await?;
        }
        TeardownStep::DnsRecords => {
            super::balancer::remove_records(c, o, &item.names).await?;
        }
        TeardownStep::Listeners => {
            for listener in &item.names {
                crate::setup::balancer::apply::delete_listener(c, listener).await?;
            }
        }
        TeardownStep::LoadBalancer => {
            let Some(lb) = &o.load_balancer else {
                return Ok(());
            };
            let elb = aws_sdk_elasticloadbalancingv2::Client::new(sdk);
            match elb
                .delete_load_balancer()
                .load_balancer_arn(&lb.arn)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_load_balancer_not_found_exception()) => {}
                Err(e) => return Err(classify(ctx, "elasticloadbalancing:DeleteLoadBalancer", e)),
            }
            // Its security group and target group can go only once it is gone.
            sink.emit(TeardownEvent::Waiting {
                step: item.step,
                what: format!("the load balancer {} to be deleted", names.load_balancer),
            });
            wait_until(
                cancel,
                &format!("the load balancer {} to be deleted", names.load_balancer),
                || async {
                    match elb
                        .describe_load_balancers()
                        .load_balancer_arns(&lb.arn)
                        .send()
                        .await
                    {
                        Ok(out) => Ok(out.load_balancers().is_empty()),
                        Err(e)
                            if e.as_service_error()
                                .is_some_and(|e| e.is_load_balancer_not_found_exception()) =>
                        {
                            Ok(true)
                        }
                        Err(e) => Err(classify(
                            ctx,
                            "elasticloadbalancing:DescribeLoadBalancers",
                            e,
                        )),
                    }
                },
            )
            .await?;
        }
        TeardownStep::TargetGroup | TeardownStep::AlternateTargetGroup => {
            let (found, name) = match item.step {
                TeardownStep::TargetGroup => (&o.target_group, &names.target_group),
                _ => (&o.alternate_target_group, &names.alternate_target_group),
            };
            let Some((arn, _)) = found else {
                return Ok(());
            };
            let elb = aws_sdk_elasticloadbalancingv2::Client::new(sdk);
            wait_until(
                cancel,
                &format!("AWS to release the target group {name}"),
                || async {
                    match elb.delete_target_group().target_group_arn(arn).send().await {
                        Ok(_) => Ok(true),
                        Err(e)
                            if e.as_service_error()
                                .is_some_and(|e| e.is_resource_in_use_exception()) =>
                        {
                            Ok(false)
                        }
                        // Not modelled for this call: the code is the only handle on "gone".
                        Err(e) if e.code() == Some("TargetGroupNotFound") => Ok(true),
                        Err(e) => Err(classify(ctx, "elasticloadbalancing:DeleteTargetGroup", e)),
                    }
                },
            )
            .await?;
        }
        TeardownStep::Certificate => {
            let acm = aws_sdk_acm::Client::new(sdk);
            for arn in &item.names {
                // A listener just deleted can keep the certificate "in use" for a moment.
                wait_until(
                    cancel,
                    &format!("AWS to release the certificate {arn}"),
                    || async {
                        match acm.delete_certificate().certificate_arn(arn).send().await {
                            Ok(_) => Ok(true),
                            Err(e)
                                if e.as_service_error()
                                    .is_some_and(|e| e.is_resource_in_use_exception()) =>
                            {
                                Ok(false)
                            }
                            Err(e)
                                if e.as_service_error()
                                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
                            {
                                Ok(true)
                            }
                            Err(e) => Err(classify(ctx, "acm:DeleteCertificate", e)),
                        }
                    },
                )
                .await?;
            }
        }
        TeardownStep::ExecutionRole | TeardownStep::InfrastructureRole => {
            let iam = aws_sdk_iam::Client::new(sdk);
            let role = match item.step {
                TeardownStep::ExecutionRole => &names.execution_role,
                _ => &names.infrastructure_role,
            };
            let attached = iam
                .list_attached_role_policies()
                .role_name(role)
                .send()
                .await
                .map_err(|e| classify(ctx, "iam:ListAttachedRolePolicies", e))?;
            for policy in attached.attached_policies() {
                if let Some(arn) = &policy.policy_arn {
                    iam.detach_role_policy()
                        .role_name(role)
                        .policy_arn(arn)
                        .send()
                        .await
                        .map_err(|e| classify(ctx, "iam:DetachRolePolicy", e))?;
                }
            }
            let inline = iam
                .list_role_policies()
                .role_name(role)
                .send()
                .await
                .map_err(|e| classify(ctx, "iam:ListRolePolicies", e))?;
            for policy in inline.policy_names() {
                iam.delete_role_policy()
                    .role_name(role)
                    .policy_name(policy)
                    .send()
                    .await
                    .map_err(|e| classify(ctx, "iam:DeleteRolePolicy", e))?;
            }
            iam.delete_role()
                .role_name(role)
                .send()
                .await
                .map_err(|e| classify(ctx, "iam:DeleteRole", e))?;
        }
        TeardownStep::LogGroup => {
            aws_sdk_cloudwatchlogs::Client::new(sdk)
                .delete_log_group()
                .log_group_name(&names.log_group)
                .send()
                .await
                .map_err(|e| classify(ctx, "logs:DeleteLogGroup", e))?;
        }
        TeardownStep::Repository => {
            aws_sdk_ecr::Client::new(sdk)
                .delete_repository()
                .repository_name(&names.repository)
                .force(true)
                .send()
                .await
                .map_err(|e| classify(ctx, "ecr:DeleteRepository", e))?;
        }
    }
    Ok(())
}

/// Deletes the security groups of `item`, waiting while EC2 answers DependencyViolation.
async fn delete_groups(
    c: &Connection,
    item: &TeardownItem,
    sink: &dyn ProgressSink<TeardownEvent>,
    cancel: &Cancel,
) -> Result<()> {
    let ec2 = aws_sdk_ec2::Client::new(&c.ctx.sdk);
    let ctx = &c.ctx;
    for id in &item.names {
        // A stopped task's network interface, or a deleted load balancer's, is released a
        // little later; until then EC2 answers DependencyViolation (a code string: EC2
        // models no errors).
        let waited = std::sync::atomic::AtomicBool::new(false);
        let awaited = format!("AWS to release what still uses {id}");
        wait_until(cancel, &awaited, || async {
            match ec2.delete_security_group().group_id(id).send().await {
                Ok(_) => Ok(true),
                Err(e) if e.code() == Some("InvalidGroup.NotFound") => Ok(true),
                Err(e) if e.code() == Some("DependencyViolation") => {
                    if !waited.swap(true, std::sync::atomic::Ordering::Relaxed) {
                        sink.emit(TeardownEvent::Waiting {
                            step: item.step,
                            what: format!(
                                "AWS to release what still uses {id} (usually a stopped task's or a deleted load balancer's network interface)"
                            ),
                        });
                    }
                    Ok(false)
                }
                Err(e) => Err(classify(ctx, "ec2:DeleteSecurityGroup", e)),
            }
        })
        .await?;
    }
    Ok(())
}

/// Polls `done` until it says yes, quickly at first and then every few seconds, until
/// [`WAIT_LIMIT`]. There is no fixed sleep: the first check is immediate.
async fn wait_until<F, Fut>(cancel: &Cancel, what: &str, mut done: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let deadline = tokio::time::Instant::now() + WAIT_LIMIT;
    let mut pause = Duration::from_millis(250);
    loop {
        if done().await? {
            return Ok(());
        }
        if tokio::time::Instant::now() + pause > deadline {
            return Err(EngineError::AwsWaitTimedOut {
                what: what.to_owned(),
                seconds: WAIT_LIMIT.as_secs(),
            });
        }
        tokio::select! {
            _ = cancel.cancelled() => return Err(EngineError::Cancelled),
            _ = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}
