//! The task definition step: read the family's current revision back into a
//! [`TaskDefinitionSpec`], show what would change, and register a revision only when
//! something does.

use aws_sdk_ecs::types::{
    Compatibility, ContainerDefinition, CpuArchitecture, HealthCheck, KeyValuePair,
    LogConfiguration, LogDriver, NetworkMode, OsFamily, PortMapping, RuntimePlatform, Secret, Tag,
    TaskDefinition, TransportProtocol,
};

use serde::Serialize;

use super::{DeployEvent, Deployment};
use crate::aws::classify;
use crate::setup::names::{APP_KEY, MANAGED_BY_KEY, MANAGED_BY_VALUE};
use slipway_core::error::{EngineError, Result};
use slipway_core::taskdef::{self, ContainerHealthCheck, TaskDefinitionSpec, CONTAINER};

pub struct Registered {
    pub arn: String,
    pub revision: i32,
    /// False when the current revision already matched.
    pub registered: bool,
}

/// The task definition `family` (its newest ACTIVE revision) or `family:revision`; None
/// when ECS has no such thing.
pub async fn describe(conn: &crate::aws::Connection, name: &str) -> Result<Option<TaskDefinition>> {
    let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
    match ecs
        .describe_task_definition()
        .task_definition(name)
        .send()
        .await
    {
        Ok(answer) => Ok(answer.task_definition().cloned()),
        // ECS has no typed not-found error here: an unknown family or revision is a
        // ClientException whose message says "Unable to describe task definition". Any
        // other ClientException (a malformed name, say) is an error, not "none".
        Err(e)
            if e.as_service_error().is_some_and(|s| {
                s.is_client_exception()
                    && s.meta()
                        .message()
                        .is_some_and(|m| m.contains("Unable to describe task definition"))
            }) =>
        {
            Ok(None)
        }
        Err(e) => Err(classify(&conn.ctx, "ecs:DescribeTaskDefinition", e)),
    }
}

pub async fn ensure(d: &Deployment<'_>, wanted: &TaskDefinitionSpec) -> Result<Registered> {
    let ecs = aws_sdk_ecs::Client::new(&d.conn.ctx.sdk);
    let current = d
        .persist("ecs:DescribeTaskDefinition", false, || {
            describe(d.conn, &wanted.family)
        })
        .await?;
    let current_spec = current.as_ref().and_then(read_back);
    let changes = match &current_spec {
        Some(spec) => taskdef::differences(spec, wanted),
        None => vec!["first revision".to_owned()],
    };
    let previous_revision = current.as_ref().map(|t| t.revision());
    if let (Some(current), true) = (&current, changes.is_empty()) {
        d.emit(DeployEvent::TaskDefinition {
            family: wanted.family.clone(),
            revision: current.revision(),
            previous_revision,
            changes,
            registered: false,
        });
        return Ok(Registered {
            arn: current.task_definition_arn().unwrap_or_default().to_owned(),
            revision: current.revision(),
            registered: false,
        });
    }
    let containers = container(wanted)?;
    // Repeated through transient failures: a repeat that AWS had already taken registers
    // an identical revision, which costs nothing.
    let answer = d
        .persist("ecs:RegisterTaskDefinition", true, || async {
            ecs.register_task_definition()
                .family(&wanted.family)
                .requires_compatibilities(Compatibility::Fargate)
                .network_mode(NetworkMode::Awsvpc)
                .cpu(&wanted.cpu)
                .memory(&wanted.memory)
                .execution_role_arn(&wanted.execution_role_arn)
                .runtime_platform(
                    RuntimePlatform::builder()
                        .cpu_architecture(CpuArchitecture::from(wanted.cpu_architecture.as_str()))
                        .operating_system_family(OsFamily::Linux)
                        .build(),
                )
                .container_definitions(containers.clone())
                .tags(tag(MANAGED_BY_KEY, MANAGED_BY_VALUE))
                .tags(tag(APP_KEY, &wanted.family))
                .send()
                .await
                .map_err(|e| classify(&d.conn.ctx, "ecs:RegisterTaskDefinition", e))
        })
        .await?;
    let registered = answer
        .task_definition()
        .ok_or_else(|| EngineError::Internal("RegisterTaskDefinition returned nothing".into()))?;
    let arn = registered
        .task_definition_arn()
        .unwrap_or_default()
        .to_owned();
    d.journal.step(
        super::journal::StepKind::Registered,
        &arn,
        &changes.join("; "),
    )?;
    d.emit(DeployEvent::TaskDefinition {
        family: wanted.family.clone(),
        revision: registered.revision(),
        previous_revision,
        changes,
        registered: true,
    });
    Ok(Registered {
        arn,
        revision: registered.revision(),
        registered: true,
    })
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

fn internal(what: &str) -> impl Fn(aws_sdk_ecs::error::BuildError) -> EngineError + '_ {
    move |e| EngineError::Internal(format!("{what}: {e}"))
}

fn container(spec: &TaskDefinitionSpec) -> Result<ContainerDefinition> {
    let memory: i32 = spec.memory.parse().unwrap_or(512);
    let mut builder = ContainerDefinition::builder()
        .name(CONTAINER)
        .image(&spec.image)
        .essential(true)
        // Fargate only needs the task's memory; the container's is set to the same so
        // the container may use all of it (and ECS APIs that want one are satisfied).
        .memory(memory)
        .port_mappings(
            PortMapping::builder()
                .container_port(spec.port.into())
                .protocol(TransportProtocol::Tcp)
                .build(),
        )
        .log_configuration(
            LogConfiguration::builder()
                .log_driver(LogDriver::Awslogs)
                .options("awslogs-group", &spec.log_group)
                .options("awslogs-region", &spec.log_region)
                .options("awslogs-stream-prefix", "slipway")
                .build()
                .map_err(internal("log configuration"))?,
        );
    for (name, value) in &spec.environment {
        builder = builder.environment(KeyValuePair::builder().name(name).value(value).build());
    }
    for (name, value_from) in &spec.secrets {
        builder = builder.secrets(
            Secret::builder()
                .name(name)
                .value_from(value_from)
                .build()
                .map_err(internal("secret"))?,
        );
    }
    if let Some(h) = &spec.health_check {
        builder = builder.health_check(
            HealthCheck::builder()
                .set_command(Some(h.command.clone()))
                .interval(h.interval as i32)
                .timeout(h.timeout as i32)
                .retries(h.retries as i32)
                .start_period(h.start_period as i32)
                .build()
                .map_err(internal("health check"))?,
        );
    }
    Ok(builder.build())
}

/// What the next deploy would change in the task definition, compared with the family's
/// current revision (the image aside: a deploy pins whatever release it runs).
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PendingChanges {
    pub family: String,
    /// The current revision; None before the first deploy.
    pub revision: Option<i32>,
    pub changes: Vec<String>,
}

pub async fn pending_changes(
    conn: &crate::aws::Connection,
    config: &slipway_core::project::ProjectConfig,
) -> Result<PendingChanges> {
    let current = describe(conn, &config.name).await?;
    let Some((current, spec)) = current.as_ref().and_then(|t| Some((t, read_back(t)?))) else {
        return Ok(PendingChanges {
            family: config.name.clone(),
            revision: None,
            changes: vec!["first revision".to_owned()],
        });
    };
    let mut wanted = taskdef::spec_for(
        config,
        u16::try_from(config.port).unwrap_or(80),
        &taskdef::Deployables {
            image_by_digest: spec.image.clone(),
            execution_role_arn: spec.execution_role_arn.clone(),
            log_group: spec.log_group.clone(),
            region: spec.log_region.clone(),
        },
    );
    wanted.cpu_architecture = match config.platform {
        slipway_core::project::Platform::LinuxArm64 => "ARM64",
        slipway_core::project::Platform::LinuxAmd64 => "X86_64",
    }
    .to_owned();
    Ok(PendingChanges {
        family: config.name.clone(),
        revision: Some(current.revision()),
        changes: taskdef::differences(&spec, &wanted),
    })
}

/// The spec a registered revision amounts to; `None` when it is not one of Slipway's
/// shapes (then the next deploy registers a fresh revision).
fn read_back(t: &TaskDefinition) -> Option<TaskDefinitionSpec> {
    let c = t
        .container_definitions()
        .iter()
        .find(|c| c.name() == Some(CONTAINER))?;
    let log = c.log_configuration();
    let option = |key: &str| {
        log.and_then(|l| l.options())
            .and_then(|o| o.get(key).cloned())
            .unwrap_or_default()
    };
    let mut environment: Vec<(String, String)> = c
        .environment()
        .iter()
        .map(|kv| {
            (
                kv.name().unwrap_or_default().to_owned(),
                kv.value().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    environment.sort();
    let mut secrets: Vec<(String, String)> = c
        .secrets()
        .iter()
        .map(|s| (s.name().to_owned(), s.value_from().to_owned()))
        .collect();
    secrets.sort();
    Some(TaskDefinitionSpec {
        family: t.family().unwrap_or_default().to_owned(),
        cpu: t.cpu().unwrap_or_default().to_owned(),
        memory: t.memory().unwrap_or_default().to_owned(),
        cpu_architecture: t
            .runtime_platform()
            .and_then(|p| p.cpu_architecture())
            .map_or("X86_64", |a| a.as_str())
            .to_owned(),
        execution_role_arn: t.execution_role_arn().unwrap_or_default().to_owned(),
        image: c.image().unwrap_or_default().to_owned(),
        port: c
            .port_mappings()
            .first()
            .and_then(|p| p.container_port())
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(0),
        environment,
        secrets,
        health_check: c.health_check().map(|h| ContainerHealthCheck {
            command: h.command().to_vec(),
            interval: h.interval().unwrap_or(30) as u32,
            timeout: h.timeout().unwrap_or(5) as u32,
            retries: h.retries().unwrap_or(3) as u32,
            start_period: h.start_period().unwrap_or(0) as u32,
        }),
        log_group: option("awslogs-group"),
        log_region: option("awslogs-region"),
    })
}
