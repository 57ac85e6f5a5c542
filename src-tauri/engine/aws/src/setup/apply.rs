//! Carrying out the setup plan the user confirmed: the account is observed afresh, and only
//! the changes both plans list are made (`confirm`), one resource at a time in dependency
//! order, each reported as it happens; what was created is recorded at once, so a failure
//! or a cancel part-way leaves a state the next apply simply continues from.

use std::collections::HashMap;

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType, TagSpecification, UserIdGroupPair};
use aws_sdk_ecr::types::ImageScanningConfiguration;

use super::balancer::apply::Made;
use super::confirm::{confirmed_changes, other_target};
use super::names::{tags_for, Tags, PROJECT_KEY};
use super::network::RULE_MARK;
use super::policy::trust_policy;
use super::SetupPlan;
use super::{decide, observe_for, record_created, wanted, Change, ResourceKind, SetupEvent};
use crate::aws::{classify, Connection};
use slipway_core::error::{EngineError, Result};
use slipway_core::host::HostEnv;
use slipway_core::jobs::Cancel;
use slipway_core::progress::ProgressSink;
use slipway_core::project::ProjectConfig;

/// Makes the changes of `confirmed` (the plan the user reviewed) that the account still
/// needs, and returns the plan observed after. A resource that changed since the review is
/// left alone, reported as a [`SetupEvent::Skipped`] and among the returned plan's warnings.
pub async fn apply_setup(
    host: &HostEnv,
    connection: &Connection,
    config: &ProjectConfig,
    confirmed: &SetupPlan,
    sink: &dyn ProgressSink<SetupEvent>,
    cancel: &Cancel,
) -> Result<SetupPlan> {
    let wanted = wanted(config, connection)?;
    let observed = observe_for(connection, &wanted).await?;
    let mut plan = decide(&wanted, &observed);
    if let Some(reason) = other_target(confirmed, &plan) {
        return Err(EngineError::ReviewedPlanOutdated { reason });
    }
    let allowed = confirmed_changes(confirmed, &plan);
    let skipped: Vec<String> = allowed.skipped.iter().map(|(_, why)| why.clone()).collect();
    plan.changes = allowed.changes;
    plan.warnings.extend(skipped.iter().cloned());
    sink.emit(SetupEvent::Planned(Box::new(plan.clone())));
    for (kind, reason) in allowed.skipped {
        sink.emit(SetupEvent::Skipped { kind, reason });
    }
    let finish = |mut after: SetupPlan| {
        after.warnings.extend(skipped.iter().cloned());
        after
    };
    if plan.nothing_to_do() {
        return Ok(finish(plan));
    }
    let db = slipway_core::store::db_path(host);
    let mut applier = Applier {
        c: connection,
        app: &wanted.app,
        tags: tags_for(&wanted.app, wanted.project.as_deref()),
        created_group: None,
        made: Made::default(),
    };
    let mut current: Option<ResourceKind> = None;
    for change in &plan.changes {
        if cancel.is_cancelled() {
            return Err(EngineError::Cancelled);
        }
        let kind = change.kind();
        if current != Some(kind) {
            if let Some(done) = current.replace(kind) {
                sink.emit(SetupEvent::ResourceReady { kind: done });
            }
            sink.emit(SetupEvent::ResourceStarted { kind });
        }
        let created = applier.apply(change).await.map_err(|cause| {
            let fix = matches!(cause, EngineError::AccessDenied { .. })
                .then(|| change.fix())
                .flatten();
            EngineError::AwsStepFailed {
                step: change.describe(),
                cause: Box::new(cause),
                fix,
                again: "run setup again to continue from here".to_owned(),
            }
        })?;
        if let Some((name, id)) = created {
            record_created(&db, connection, &wanted.app, kind, &name, id.as_deref())?;
        }
        sink.emit(SetupEvent::ChangeApplied {
            kind,
            change: change.describe(),
        });
    }
    if let Some(done) = current {
        sink.emit(SetupEvent::ResourceReady { kind: done });
    }
    let after = observe_for(connection, &wanted).await?;
    Ok(finish(decide(&wanted, &after)))
}

struct Applier<'a> {
    c: &'a Connection,
    app: &'a str,
    tags: Tags,
    /// The security group this apply created, for the rule that follows it.
    created_group: Option<String>,
    /// What the load balancer's changes created, for those that follow them.
    made: Made,
}

/// The name and id of a resource a change created, for the record.
type Created = Option<(String, Option<String>)>;

impl Applier<'_> {
    async fn apply(&mut self, change: &Change) -> Result<Created> {
        // Boxed: the load balancer's calls would make this future too large for a stack.
        if let Some(done) = Box::pin(super::balancer::apply::apply(
            self.c,
            self.app,
            &self.tags,
            &mut self.made,
            change,
        ))
        .await
        {
            return done;
        }
        let sdk = &self.c.ctx.sdk;
        let ctx = &self.c.ctx;
        match change {
            Change::CreateRepository { name } => {
                let ecr = aws_sdk_ecr::Client::new(sdk);
                let tags = self
                    .tags
                    .iter()
                    .map(|(k, v)| aws_sdk_ecr::types::Tag::builder().key(k).value(v).build())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| EngineError::Internal(e.to_string()))?;
                let out = ecr
                    .create_repository()
                    .repository_name(name)
                    .image_scanning_configuration(
                        ImageScanningConfiguration::builder()
                            .scan_on_push(true)
                            .build(),
                    )
                    .set_tags(Some(tags))
                    .send()
                    .await;
                match out {
                    Ok(out) => Ok(Some((
                        name.clone(),
                        out.repository.and_then(|r| r.repository_arn),
                    ))),
                    // Made by someone else since the plan was observed: use it as it is.
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|e| e.is_repository_already_exists_exception()) =>
                    {
                        Ok(None)
                    }
                    Err(e) => Err(classify(ctx, "ecr:CreateRepository", e)),
                }
            }
            Change::EnableScanOnPush { name } => {
                aws_sdk_ecr::Client::new(sdk)
                    .put_image_scanning_configuration()
                    .repository_name(name)
                    .image_scanning_configuration(
                        ImageScanningConfiguration::builder()
                            .scan_on_push(true)
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(|e| classify(ctx, "ecr:PutImageScanningConfiguration", e))?;
                Ok(None)
            }
            Change::CreateCluster { name } => {
                let tags = self
                    .tags
                    .iter()
                    .map(|(k, v)| aws_sdk_ecs::types::Tag::builder().key(k).value(v).build())
                    .collect();
                let out = aws_sdk_ecs::Client::new(sdk)
                    .create_cluster()
                    .cluster_name(name)
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .map_err(|e| classify(ctx, "ecs:CreateCluster", e))?;
                Ok(Some((
                    name.clone(),
                    out.cluster.and_then(|c| c.cluster_arn),
                )))
            }
            Change::CreateLogGroup {
                name,
                retention_days,
            } => {
                let logs = aws_sdk_cloudwatchlogs::Client::new(sdk);
                let tags: HashMap<String, String> = self.tags.clone().into_iter().collect();
                let created = match logs
                    .create_log_group()
                    .log_group_name(name)
                    .set_tags(Some(tags))
                    .send()
                    .await
                {
                    Ok(_) => true,
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|e| e.is_resource_already_exists_exception()) =>
                    {
                        false
                    }
                    Err(e) => return Err(classify(ctx, "logs:CreateLogGroup", e)),
                };
                set_retention(self.c, name, *retention_days).await?;
                Ok(created.then(|| (name.clone(), None)))
            }
            Change::SetLogRetention {
                name,
                retention_days,
            } => {
                set_retention(self.c, name, *retention_days).await?;
                Ok(None)
            }
            Change::CreateRole { name } => {
                let tags = self
                    .tags
                    .iter()
                    .map(|(k, v)| aws_sdk_iam::types::Tag::builder().key(k).value(v).build())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| EngineError::Internal(e.to_string()))?;
                let out = aws_sdk_iam::Client::new(sdk)
                    .create_role()
                    .role_name(name)
                    .assume_role_policy_document(trust_policy(&self.c.identity.account).to_string())
                    .description(format!(
                        "Lets ECS pull {}'s image and write its logs, and nothing else. Created by Slipway.",
                        self.app
                    ))
                    .set_tags(Some(tags))
                    .send()
                    .await;
                match out {
                    Ok(out) => Ok(Some((name.clone(), out.role.map(|r| r.arn)))),
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|e| e.is_entity_already_exists_exception()) =>
                    {
                        Ok(None)
                    }
                    Err(e) => Err(classify(ctx, "iam:CreateRole", e)),
                }
            }
            Change::TrustEcsTasks { role, document } => {
                aws_sdk_iam::Client::new(sdk)
                    .update_assume_role_policy()
                    .role_name(role)
                    .policy_document(document)
                    .send()
                    .await
                    .map_err(|e| classify(ctx, "iam:UpdateAssumeRolePolicy", e))?;
                Ok(None)
            }
            Change::DetachPolicy { role, policy_arn } => {
                match aws_sdk_iam::Client::new(sdk)
                    .detach_role_policy()
                    .role_name(role)
                    .policy_arn(policy_arn)
                    .send()
                    .await
                {
                    Ok(_) => Ok(None),
                    // Detached by someone since the plan was observed: the goal is reached.
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|e| e.is_no_such_entity_exception()) =>
                    {
                        Ok(None)
                    }
                    Err(e) => Err(classify(ctx, "iam:DetachRolePolicy", e)),
                }
            }
            Change::TagProject {
                kind,
                target,
                project,
            } => {
                tag_project(self.c, *kind, target, project).await?;
                Ok(None)
            }
            Change::PutInlinePolicy {
                role,
                policy,
                document,
            } => {
                aws_sdk_iam::Client::new(sdk)
                    .put_role_policy()
                    .role_name(role)
                    .policy_name(policy)
                    .policy_document(document)
                    .send()
                    .await
                    .map_err(|e| classify(ctx, "iam:PutRolePolicy", e))?;
                Ok(None)
            }
            Change::DeleteInlinePolicy { role, policy } => {
                aws_sdk_iam::Client::new(sdk)
                    .delete_role_policy()
                    .role_name(role)
                    .policy_name(policy)
                    .send()
                    .await
                    .map_err(|e| classify(ctx, "iam:DeleteRolePolicy", e))?;
                Ok(None)
            }
            Change::CreateSecurityGroup { name, vpc } => {
                let id = self.create_group(name, vpc, "the container port").await?;
                self.created_group = Some(id.clone());
                Ok(Some((name.clone(), Some(id))))
            }
            Change::CreateBalancerGroup { name, vpc } => {
                let id = self
                    .create_group(name, vpc, "its load balancer's ports 80 and 443")
                    .await?;
                self.made.balancer_group = Some(id.clone());
                Ok(Some((name.clone(), Some(id))))
            }
            Change::AllowIngress { group, port, cidr } => {
                let group = created(group, &self.created_group)?;
                let range = IpRange::builder()
                    .cidr_ip(cidr)
                    .description(format!("{} container port {RULE_MARK}", self.app))
                    .build();
                self.authorize(&group, *port, Some(range), None).await
            }
            Change::AllowBalancerIngress { group, port, cidr } => {
                let group = created(group, &self.made.balancer_group)?;
                let range = IpRange::builder()
                    .cidr_ip(cidr)
                    .description(format!("{} load balancer {RULE_MARK}", self.app))
                    .build();
                self.authorize(&group, *port, Some(range), None).await
            }
            Change::AdmitBalancer {
                group,
                port,
                balancer_group,
            } => {
                let group = created(group, &self.created_group)?;
                let source = created(balancer_group, &self.made.balancer_group)?;
                let pair = UserIdGroupPair::builder()
                    .group_id(source)
                    .description(format!("{} from its load balancer {RULE_MARK}", self.app))
                    .build();
                self.authorize(&group, *port, None, Some(pair)).await
            }
            Change::RevokeIngress { group, rule }
            | Change::RevokeBalancerIngress { group, rule } => {
                let permission = IpPermission::builder()
                    .ip_protocol(&rule.protocol)
                    .from_port(rule.from_port)
                    .to_port(rule.to_port)
                    .ip_ranges(IpRange::builder().cidr_ip(&rule.cidr).build())
                    .build();
                self.revoke(group, permission).await
            }
            Change::RevokeGroupIngress { group, rule } => {
                let permission = IpPermission::builder()
                    .ip_protocol(&rule.protocol)
                    .from_port(rule.from_port)
                    .to_port(rule.to_port)
                    .user_id_group_pairs(
                        UserIdGroupPair::builder()
                            .group_id(&rule.group)
                            .set_description(rule.description.clone())
                            .build(),
                    )
                    .build();
                self.revoke(group, permission).await
            }
            other => Err(EngineError::Internal(format!(
                "setup has no way to apply {other:?}"
            ))),
        }
    }

    async fn create_group(&self, name: &str, vpc: &str, what: &str) -> Result<String> {
        let tags = self
            .tags
            .iter()
            .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build())
            .collect();
        let out = aws_sdk_ec2::Client::new(&self.c.ctx.sdk)
            .create_security_group()
            .group_name(name)
            .vpc_id(vpc)
            .description(format!("{}: {what}. Created by Slipway.", self.app))
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::SecurityGroup)
                    .set_tags(Some(tags))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| classify(&self.c.ctx, "ec2:CreateSecurityGroup", e))?;
        out.group_id.ok_or_else(|| {
            EngineError::Internal("EC2 created a security group without an id".into())
        })
    }

    async fn authorize(
        &self,
        group: &str,
        port: u16,
        range: Option<IpRange>,
        pair: Option<UserIdGroupPair>,
    ) -> Result<Created> {
        let permission = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(i32::from(port))
            .to_port(i32::from(port))
            .set_ip_ranges(range.map(|r| vec![r]))
            .set_user_id_group_pairs(pair.map(|p| vec![p]))
            .build();
        match aws_sdk_ec2::Client::new(&self.c.ctx.sdk)
            .authorize_security_group_ingress()
            .group_id(group)
            .ip_permissions(permission)
            .send()
            .await
        {
            Ok(_) => Ok(None),
            // EC2 models no error types; its code is the only handle on "already there".
            Err(e) if e.code() == Some("InvalidPermission.Duplicate") => Ok(None),
            Err(e) => Err(classify(
                &self.c.ctx,
                "ec2:AuthorizeSecurityGroupIngress",
                e,
            )),
        }
    }

    async fn revoke(&self, group: &str, permission: IpPermission) -> Result<Created> {
        aws_sdk_ec2::Client::new(&self.c.ctx.sdk)
            .revoke_security_group_ingress()
            .group_id(group)
            .ip_permissions(permission)
            .send()
            .await
            .map_err(|e| classify(&self.c.ctx, "ec2:RevokeSecurityGroupIngress", e))?;
        Ok(None)
    }
}

/// The group a rule goes on: the one named, else the one this apply created.
fn created(group: &Option<String>, made: &Option<String>) -> Result<String> {
    group.clone().or_else(|| made.clone()).ok_or_else(|| {
        EngineError::Internal("a rule was planned for a security group that was not created".into())
    })
}

/// Adds the project tag to a resource an older Slipway made, with its service's own call.
async fn tag_project(
    c: &Connection,
    kind: ResourceKind,
    target: &str,
    project: &str,
) -> Result<()> {
    let sdk = &c.ctx.sdk;
    let ctx = &c.ctx;
    match kind {
        ResourceKind::Repository => {
            let tag = aws_sdk_ecr::types::Tag::builder()
                .key(PROJECT_KEY)
                .value(project)
                .build()
                .map_err(|e| EngineError::Internal(e.to_string()))?;
            aws_sdk_ecr::Client::new(sdk)
                .tag_resource()
                .resource_arn(target)
                .tags(tag)
                .send()
                .await
                .map_err(|e| classify(ctx, "ecr:TagResource", e))?;
        }
        ResourceKind::Cluster => {
            let tag = aws_sdk_ecs::types::Tag::builder()
                .key(PROJECT_KEY)
                .value(project)
                .build();
            aws_sdk_ecs::Client::new(sdk)
                .tag_resource()
                .resource_arn(target)
                .tags(tag)
                .send()
                .await
                .map_err(|e| classify(ctx, "ecs:TagResource", e))?;
        }
        ResourceKind::LogGroup => {
            aws_sdk_cloudwatchlogs::Client::new(sdk)
                .tag_resource()
                .resource_arn(target)
                .tags(PROJECT_KEY, project)
                .send()
                .await
                .map_err(|e| classify(ctx, "logs:TagResource", e))?;
        }
        ResourceKind::ExecutionRole => {
            let tag = aws_sdk_iam::types::Tag::builder()
                .key(PROJECT_KEY)
                .value(project)
                .build()
                .map_err(|e| EngineError::Internal(e.to_string()))?;
            aws_sdk_iam::Client::new(sdk)
                .tag_role()
                .role_name(target)
                .tags(tag)
                .send()
                .await
                .map_err(|e| classify(ctx, "iam:TagRole", e))?;
        }
        ResourceKind::SecurityGroup | ResourceKind::BalancerSecurityGroup => {
            aws_sdk_ec2::Client::new(sdk)
                .create_tags()
                .resources(target)
                .tags(
                    aws_sdk_ec2::types::Tag::builder()
                        .key(PROJECT_KEY)
                        .value(project)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| classify(ctx, "ec2:CreateTags", e))?;
        }
        ResourceKind::LoadBalancer | ResourceKind::TargetGroup => {
            aws_sdk_elasticloadbalancingv2::Client::new(sdk)
                .add_tags()
                .resource_arns(target)
                .tags(
                    aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                        .key(PROJECT_KEY)
                        .value(project)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| classify(ctx, "elasticloadbalancing:AddTags", e))?;
        }
        ResourceKind::Certificate => {
            let tag = aws_sdk_acm::types::Tag::builder()
                .key(PROJECT_KEY)
                .value(project)
                .build()
                .map_err(|e| EngineError::Internal(e.to_string()))?;
            aws_sdk_acm::Client::new(sdk)
                .add_tags_to_certificate()
                .certificate_arn(target)
                .tags(tag)
                .send()
                .await
                .map_err(|e| classify(ctx, "acm:AddTagsToCertificate", e))?;
        }
        ResourceKind::Subnets
        | ResourceKind::Listener
        | ResourceKind::DnsRecords
        | ResourceKind::HttpsListener
        // Made by this version first: always tagged with the project.
        | ResourceKind::BlueGreen => {}
    }
    Ok(())
}

async fn set_retention(c: &Connection, name: &str, days: i32) -> Result<()> {
    aws_sdk_cloudwatchlogs::Client::new(&c.ctx.sdk)
        .put_retention_policy()
        .log_group_name(name)
        .retention_in_days(days)
        .send()
        .await
        .map_err(|e| classify(&c.ctx, "logs:PutRetentionPolicy", e))?;
    Ok(())
}
