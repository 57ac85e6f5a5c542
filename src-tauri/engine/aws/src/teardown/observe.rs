//! What teardown finds for an app: the setup resources with their tags, plus the app's
//! services (and their scaling targets), tasks and task definitions, listed page by page
//! and described in AWS's batch sizes, and the load balancer's side. Read-only.

use aws_sdk_ec2::types::Filter;
use aws_sdk_ecs::types::{ServiceField, TaskDefinitionField, TaskField};

use super::{TeardownBalancer, TeardownObserved};
use crate::aws::{classify, Connection};
use crate::setup::names::{
    is_managed, ResourceNames, Tags, APP_KEY, MANAGED_BY_KEY, MANAGED_BY_VALUE,
};
use crate::setup::observe;
use slipway_core::error::Result;

pub(super) async fn observe_teardown(
    c: &Connection,
    app: &str,
    names: &ResourceNames,
    domain: Option<&str>,
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
        load_balancer: setup.load_balancer.as_ref().map(|lb| TeardownBalancer {
            arn: lb.arn.clone(),
            dns_name: lb.dns_name.clone(),
            tags: lb.tags.clone(),
            listeners: setup
                .listeners
                .iter()
                .map(|l| (l.arn.clone(), l.port))
                .collect(),
        }),
        target_group: setup
            .target_group
            .as_ref()
            .map(|tg| (tg.arn.clone(), tg.tags.clone())),
        alternate_target_group: setup
            .blue_green
            .alternate
            .as_ref()
            .map(|tg| (tg.arn.clone(), tg.tags.clone())),
        infrastructure_role: setup
            .blue_green
            .role
            .as_ref()
            .map(|r| (r.arn.clone(), r.tags.clone())),
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
        let mut other_services = Vec::new();
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
                let tags = ecs_tags(service.tags());
                let apps = is_managed(&tags, app);
                // A DRAINING service is already being deleted; an INACTIVE one is gone.
                match (service.status.as_deref(), apps) {
                    (Some("ACTIVE"), true) => {
                        o.services.extend(service.service_name.map(|n| (n, tags)))
                    }
                    (Some("ACTIVE") | Some("DRAINING"), false) => {
                        o.others_in_cluster += 1;
                        other_services.extend(service.service_name);
                    }
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
                let tags = ecs_tags(task.tags());
                if is_managed(&tags, app) {
                    o.tasks.extend(task.task_arn.map(|arn| (arn, tags)));
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
        o.scaling_targets =
            super::balancer::observe_scaling(c, &names.cluster, &o.services, &other_services)
                .await?;
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
        let tags = ecs_tags(out.tags());
        let apps = is_managed(&tags, app);
        let same_family = definition.and_then(|t| t.family.as_deref()) == Some(app);
        let active = definition
            .and_then(|t| t.status.as_ref())
            .is_some_and(|s| s.as_str() == "ACTIVE");
        if apps && same_family && active {
            o.task_definitions.push((arn, tags));
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
    for group in tagged.security_groups.unwrap_or_default() {
        let tags = ec2_tags(group.tags());
        let balancers = group.group_name.as_deref() == Some(names.balancer_security_group.as_str());
        let Some(id) = group.group_id else { continue };
        if balancers {
            o.balancer_security_groups.push((id, tags));
        } else {
            o.security_groups.push((id, tags));
        }
    }
    super::balancer::observe_domains(c, app, domain, &mut o).await?;
    if let Some(group) = &setup.security_group {
        if !is_managed(&group.tags, app) {
            o.untagged_security_group = Some(group.id.clone());
        }
    }
    Ok(o)
}

fn ec2_tags(tags: &[aws_sdk_ec2::types::Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| Some((t.key.clone()?, t.value.clone()?)))
        .collect()
}

fn ecs_tags(tags: &[aws_sdk_ecs::types::Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| Some((t.key.clone()?, t.value.clone()?)))
        .collect()
}
