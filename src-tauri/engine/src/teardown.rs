//! Removing an app from AWS: exactly what Slipway created for it, found by its tags, after
//! stopping the app's services and tasks. Like setup, a plan first (pure, from what was
//! observed) and then its application. A resource of the same name without Slipway's tags
//! is listed as kept and never touched.

use std::time::Duration;

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::Filter;
use aws_sdk_ecs::types::{ServiceField, TaskDefinitionField, TaskField};
use serde::Serialize;

use crate::aws::{classify, Connection};
use crate::error::{EngineError, Result};
use crate::host::HostEnv;
use crate::jobs::Cancel;
use crate::progress::ProgressSink;
use crate::setup::names::{
    is_managed, ResourceNames, Tags, APP_KEY, MANAGED_BY_KEY, MANAGED_BY_VALUE,
};
use crate::setup::{forget_created, observe, ResourceKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum TeardownStep {
    Services,
    Tasks,
    TaskDefinitions,
    Cluster,
    SecurityGroup,
    ExecutionRole,
    LogGroup,
    Repository,
}

impl TeardownStep {
    pub fn title(self) -> &'static str {
        match self {
            Self::Services => "ECS services",
            Self::Tasks => "Running tasks",
            Self::TaskDefinitions => "Task definitions",
            Self::Cluster => "ECS cluster",
            Self::SecurityGroup => "Security group",
            Self::ExecutionRole => "Task execution role",
            Self::LogGroup => "CloudWatch log group",
            Self::Repository => "ECR repository",
        }
    }

    fn resource_kind(self) -> Option<ResourceKind> {
        match self {
            Self::Cluster => Some(ResourceKind::Cluster),
            Self::SecurityGroup => Some(ResourceKind::SecurityGroup),
            Self::ExecutionRole => Some(ResourceKind::ExecutionRole),
            Self::LogGroup => Some(ResourceKind::LogGroup),
            Self::Repository => Some(ResourceKind::Repository),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum TeardownAction {
    /// Slipway's: will be removed; `details` says what goes with it.
    Remove { details: Vec<String> },
    /// Same name but not created by Slipway for this app: left exactly as it is.
    Keep { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TeardownItem {
    pub step: TeardownStep,
    pub title: String,
    /// Names or ids; several for tasks, services and task definitions.
    pub names: Vec<String>,
    pub action: TeardownAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TeardownPlan {
    pub app: String,
    pub account: String,
    pub region: String,
    pub items: Vec<TeardownItem>,
}

impl TeardownPlan {
    pub fn nothing_to_do(&self) -> bool {
        !self
            .items
            .iter()
            .any(|i| matches!(i.action, TeardownAction::Remove { .. }))
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(tag = "type", content = "data")]
pub enum TeardownEvent {
    Planned(TeardownPlan),
    StepStarted {
        step: TeardownStep,
    },
    StepDone {
        step: TeardownStep,
    },
    /// Waiting for something AWS does in its own time (tasks stopping, network interfaces
    /// being released), with what is awaited.
    Waiting {
        step: TeardownStep,
        what: String,
    },
}

/// What exists for the app, with the tags that say whose it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeardownObserved {
    pub cluster: Option<(String, Tags)>,
    /// Services and running tasks in the app's cluster that carry the app's tags.
    pub services: Vec<String>,
    pub tasks: Vec<String>,
    /// Services and tasks in that cluster that are not the app's: the cluster stays.
    pub others_in_cluster: usize,
    pub task_definitions: Vec<String>,
    /// Security groups tagged for the app, in any VPC, and a same-named untagged one.
    pub security_groups: Vec<String>,
    pub untagged_security_group: Option<String>,
    pub role: Option<(String, Tags)>,
    pub log_group: Option<(String, Tags)>,
    pub repository: Option<(String, Tags, usize)>,
}

/// The teardown plan, a pure function of what was observed.
pub fn decide_teardown(
    app: &str,
    names: &ResourceNames,
    o: &TeardownObserved,
) -> Vec<TeardownItem> {
    let mut items = Vec::new();
    let item = |step: TeardownStep, names: Vec<String>, action| TeardownItem {
        step,
        title: step.title().to_owned(),
        names,
        action,
    };
    let keep = || TeardownAction::Keep {
        reason: "not created by Slipway for this app (no Slipway tags), so it stays".to_owned(),
    };
    if !o.services.is_empty() {
        items.push(item(
            TeardownStep::Services,
            o.services.clone(),
            TeardownAction::Remove {
                details: vec!["scaled to 0, then deleted".to_owned()],
            },
        ));
    }
    if !o.tasks.is_empty() {
        items.push(item(
            TeardownStep::Tasks,
            o.tasks.clone(),
            TeardownAction::Remove {
                details: vec!["stopped (they stop costing money)".to_owned()],
            },
        ));
    }
    if !o.task_definitions.is_empty() {
        items.push(item(
            TeardownStep::TaskDefinitions,
            o.task_definitions.clone(),
            TeardownAction::Remove {
                details: vec!["deregistered".to_owned()],
            },
        ));
    }
    if let Some((_, tags)) = &o.cluster {
        let action = match (is_managed(tags, app), o.others_in_cluster) {
            (false, _) => keep(),
            (true, 0) => TeardownAction::Remove { details: vec![] },
            (true, others) => TeardownAction::Keep {
                reason: format!(
                    "it also runs {others} service(s) or task(s) that are not this app's, so it stays"
                ),
            },
        };
        items.push(item(
            TeardownStep::Cluster,
            vec![names.cluster.clone()],
            action,
        ));
    }
    if !o.security_groups.is_empty() {
        items.push(item(
            TeardownStep::SecurityGroup,
            o.security_groups.clone(),
            TeardownAction::Remove { details: vec![] },
        ));
    }
    if let Some(id) = &o.untagged_security_group {
        items.push(item(TeardownStep::SecurityGroup, vec![id.clone()], keep()));
    }
    if let Some((_, tags)) = &o.role {
        let action = if is_managed(tags, app) {
            TeardownAction::Remove {
                details: vec!["its policies are detached and deleted first".to_owned()],
            }
        } else {
            keep()
        };
        items.push(item(
            TeardownStep::ExecutionRole,
            vec![names.execution_role.clone()],
            action,
        ));
    }
    if let Some((_, tags)) = &o.log_group {
        let action = if is_managed(tags, app) {
            TeardownAction::Remove {
                details: vec!["the app's logs are deleted with it".to_owned()],
            }
        } else {
            keep()
        };
        items.push(item(
            TeardownStep::LogGroup,
            vec![names.log_group.clone()],
            action,
        ));
    }
    if let Some((_, tags, images)) = &o.repository {
        let action = if is_managed(tags, app) {
            TeardownAction::Remove {
                details: vec![format!("with its {images} image(s)")],
            }
        } else {
            keep()
        };
        items.push(item(
            TeardownStep::Repository,
            vec![names.repository.clone()],
            action,
        ));
    }
    items
}

pub async fn plan_teardown(connection: &Connection, app: &str) -> Result<TeardownPlan> {
    let names = ResourceNames::for_app(app, &connection.ctx.region)
        .map_err(|problems| EngineError::InvalidResourceNames { problems })?;
    let observed = observe_teardown(connection, app, &names).await?;
    Ok(TeardownPlan {
        app: app.to_owned(),
        account: connection.identity.account.clone(),
        region: connection.ctx.region.clone(),
        items: decide_teardown(app, &names, &observed),
    })
}

async fn observe_teardown(
    c: &Connection,
    app: &str,
    names: &ResourceNames,
) -> Result<TeardownObserved> {
    let setup = observe(c, names, None).await?;
    let ecs = aws_sdk_ecs::Client::new(&c.ctx.sdk);
    let ecr = aws_sdk_ecr::Client::new(&c.ctx.sdk);
    let ec2 = aws_sdk_ec2::Client::new(&c.ctx.sdk);
    let mut o = TeardownObserved {
        cluster: setup
            .cluster
            .as_ref()
            .map(|cl| (cl.arn.clone(), cl.tags.clone())),
        role: setup.role.as_ref().map(|r| (r.arn.clone(), r.tags.clone())),
        log_group: setup
            .log_group
            .as_ref()
            .map(|g| (g.arn.clone(), g.tags.clone())),
        ..Default::default()
    };
    if let Some(repo) = &setup.repository {
        let images: Vec<_> = ecr
            .list_images()
            .repository_name(&names.repository)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify(&c.ctx, "ecr:ListImages", e))?;
        o.repository = Some((repo.arn.clone(), repo.tags.clone(), images.len()));
    }
    if o.cluster.is_some() {
        let services: Vec<String> = ecs
            .list_services()
            .cluster(&names.cluster)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify(&c.ctx, "ecs:ListServices", e))?;
        // DescribeServices takes at most 10 services a call.
        for batch in services.chunks(10) {
            let described = ecs
                .describe_services()
                .cluster(&names.cluster)
                .set_services(Some(batch.to_vec()))
                .include(ServiceField::Tags)
                .send()
                .await
                .map_err(|e| classify(&c.ctx, "ecs:DescribeServices", e))?;
            for service in described.services.unwrap_or_default() {
                let ours = is_managed(&ecs_tags(service.tags()), app);
                // A DRAINING service is already being deleted; an INACTIVE one is gone.
                match (service.status.as_deref(), ours) {
                    (Some("ACTIVE"), true) => o.services.extend(service.service_name),
                    (Some("ACTIVE") | Some("DRAINING"), false) => o.others_in_cluster += 1,
                    _ => {}
                }
            }
        }
        let tasks: Vec<String> = ecs
            .list_tasks()
            .cluster(&names.cluster)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify(&c.ctx, "ecs:ListTasks", e))?;
        // DescribeTasks takes at most 100 tasks a call.
        for batch in tasks.chunks(100) {
            let described = ecs
                .describe_tasks()
                .cluster(&names.cluster)
                .set_tasks(Some(batch.to_vec()))
                .include(TaskField::Tags)
                .send()
                .await
                .map_err(|e| classify(&c.ctx, "ecs:DescribeTasks", e))?;
            for task in described.tasks.unwrap_or_default() {
                if task.last_status.as_deref() == Some("STOPPED") {
                    continue;
                }
                if is_managed(&ecs_tags(task.tags()), app) {
                    o.tasks.extend(task.task_arn);
                } else if task
                    .group
                    .as_deref()
                    .is_none_or(|g| !g.starts_with("service:"))
                {
                    // A service's own tasks are counted with their service.
                    o.others_in_cluster += 1;
                }
            }
        }
    }
    let definitions: Vec<String> = ecs
        .list_task_definitions()
        .family_prefix(app)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(&c.ctx, "ecs:ListTaskDefinitions", e))?;
    for arn in definitions {
        let out = ecs
            .describe_task_definition()
            .task_definition(&arn)
            .include(TaskDefinitionField::Tags)
            .send()
            .await
            .map_err(|e| classify(&c.ctx, "ecs:DescribeTaskDefinition", e))?;
        let definition = out.task_definition.as_ref();
        let ours = is_managed(&ecs_tags(out.tags()), app);
        let same_family = definition.and_then(|t| t.family.as_deref()) == Some(app);
        let active = definition
            .and_then(|t| t.status.as_ref())
            .is_some_and(|s| s.as_str() == "ACTIVE");
        if ours && same_family && active {
            o.task_definitions.push(arn);
        }
    }
    let tagged = ec2
        .describe_security_groups()
        .filters(
            Filter::builder()
                .name(format!("tag:{MANAGED_BY_KEY}"))
                .values(MANAGED_BY_VALUE)
                .build(),
        )
        .filters(
            Filter::builder()
                .name(format!("tag:{APP_KEY}"))
                .values(app)
                .build(),
        )
        .send()
        .await
        .map_err(|e| classify(&c.ctx, "ec2:DescribeSecurityGroups", e))?;
    o.security_groups = tagged
        .security_groups
        .unwrap_or_default()
        .into_iter()
        .filter_map(|g| g.group_id)
        .collect();
    if let Some(group) = &setup.security_group {
        if !is_managed(&group.tags, app) {
            o.untagged_security_group = Some(group.id.clone());
        }
    }
    Ok(o)
}

fn ecs_tags(tags: &[aws_sdk_ecs::types::Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| Some((t.key.clone()?, t.value.clone()?)))
        .collect()
}

/// How long teardown waits for AWS to stop tasks and release their network interfaces.
const WAIT_LIMIT: Duration = Duration::from_secs(180);

pub async fn apply_teardown(
    host: &HostEnv,
    connection: &Connection,
    app: &str,
    sink: &dyn ProgressSink<TeardownEvent>,
    cancel: &Cancel,
) -> Result<TeardownPlan> {
    let plan = plan_teardown(connection, app).await?;
    sink.emit(TeardownEvent::Planned(plan.clone()));
    let names = ResourceNames::for_app(app, &connection.ctx.region)
        .map_err(|problems| EngineError::InvalidResourceNames { problems })?;
    let db = crate::store::db_path(host);
    for item in &plan.items {
        if !matches!(item.action, TeardownAction::Remove { .. }) {
            continue;
        }
        if cancel.is_cancelled() {
            return Err(EngineError::Cancelled);
        }
        sink.emit(TeardownEvent::StepStarted { step: item.step });
        remove(connection, &names, item, sink, cancel)
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
    plan_teardown(connection, app).await
}

async fn remove(
    c: &Connection,
    names: &ResourceNames,
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
        TeardownStep::SecurityGroup => {
            let ec2 = aws_sdk_ec2::Client::new(sdk);
            for id in &item.names {
                // A stopped task's network interface is released a little later; until
                // then EC2 answers DependencyViolation (a code string: EC2 models no errors).
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
                                        "AWS to release what still uses {id} (usually a stopped task's network interface)"
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
        }
        TeardownStep::ExecutionRole => {
            let iam = aws_sdk_iam::Client::new(sdk);
            let role = &names.execution_role;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::names::tags_for;

    #[test]
    fn only_tagged_resources_are_removed_and_twins_are_kept() {
        let names = ResourceNames::for_app("hello", "us-east-1").unwrap();
        let observed = TeardownObserved {
            cluster: Some(("arn:c".into(), tags_for("hello"))),
            tasks: vec!["arn:task/1".into()],
            security_groups: vec!["sg-ours".into()],
            untagged_security_group: Some("sg-theirs".into()),
            role: Some(("arn:r".into(), Tags::new())),
            log_group: Some(("arn:l".into(), tags_for("other-app"))),
            repository: Some(("arn:repo".into(), tags_for("hello"), 3)),
            ..Default::default()
        };
        let items = decide_teardown("hello", &names, &observed);
        let summary: Vec<_> = items
            .iter()
            .map(|i| (i.step, matches!(i.action, TeardownAction::Remove { .. })))
            .collect();
        assert_eq!(
            summary,
            [
                (TeardownStep::Tasks, true),
                (TeardownStep::Cluster, true),
                (TeardownStep::SecurityGroup, true),
                (TeardownStep::SecurityGroup, false),
                (TeardownStep::ExecutionRole, false),
                (TeardownStep::LogGroup, false),
                (TeardownStep::Repository, true),
            ],
            "tasks stop before the cluster goes; untagged and other apps' resources stay"
        );
        assert!(
            matches!(&items[6].action, TeardownAction::Remove { details } if details[0].contains("3 image"))
        );
    }

    #[test]
    fn an_empty_account_has_nothing_to_tear_down() {
        let names = ResourceNames::for_app("hello", "us-east-1").unwrap();
        let plan = TeardownPlan {
            app: "hello".into(),
            account: "1".into(),
            region: "us-east-1".into(),
            items: decide_teardown("hello", &names, &TeardownObserved::default()),
        };
        assert!(plan.items.is_empty() && plan.nothing_to_do());
    }
}
