//! How many tasks the app's service runs (seed 004): a fixed count, or target-tracking
//! auto scaling between a minimum and a maximum on average CPU, through Application Auto
//! Scaling. Applying looks first and changes only what differs, so a second run makes no
//! call that changes anything; teardown deregisters the scalable target (which drops its
//! policy).

use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};
use serde::Serialize;

use crate::aws::{classify, Connection};
use slipway_core::error::{EngineError, Result};

/// The name of the policy Slipway puts on the service; a scalable target without it is
/// someone else's and is left alone.
pub const POLICY: &str = "slipway-cpu";

/// What scaling is on the service now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Scaling {
    pub min: i32,
    pub max: i32,
    /// Average CPU, in percent, the policy keeps the service at.
    pub cpu_target: Option<u32>,
}

/// The scalable target's resource id of a service.
pub fn resource_id(cluster: &str, service: &str) -> String {
    format!("service/{cluster}/{service}")
}

/// The service's scaling as Application Auto Scaling has it; `None` when none.
pub async fn read(conn: &Connection, cluster: &str, service: &str) -> Result<Option<Scaling>> {
    let aas = aws_sdk_applicationautoscaling::Client::new(&conn.ctx.sdk);
    let id = resource_id(cluster, service);
    let targets = aas
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_ids(&id)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .send()
        .await
        .map_err(|e| {
            classify(
                &conn.ctx,
                "application-autoscaling:DescribeScalableTargets",
                e,
            )
        })?;
    let Some(target) = targets.scalable_targets().first() else {
        return Ok(None);
    };
    let policies = aas
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(&id)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .send()
        .await
        .map_err(|e| {
            classify(
                &conn.ctx,
                "application-autoscaling:DescribeScalingPolicies",
                e,
            )
        })?;
    let cpu_target = policies
        .scaling_policies()
        .iter()
        .find(|p| p.policy_name() == POLICY)
        .and_then(|p| p.target_tracking_scaling_policy_configuration())
        .map(|c| c.target_value().round() as u32);
    Ok(Some(Scaling {
        min: target.min_capacity(),
        max: target.max_capacity(),
        cpu_target,
    }))
}

/// Makes the service's scaling `wanted` (min, max, CPU target), or removes Slipway's when
/// `None`. Answers with what changed, in words (empty when nothing did).
pub async fn apply(
    conn: &Connection,
    cluster: &str,
    service: &str,
    wanted: Option<(u32, u32, u32)>,
) -> Result<Vec<String>> {
    let aas = aws_sdk_applicationautoscaling::Client::new(&conn.ctx.sdk);
    let id = resource_id(cluster, service);
    let now = read(conn, cluster, service).await?;
    let mut done = Vec::new();
    match (wanted, now) {
        (None, None) => {}
        (None, Some(now)) => {
            if now.cpu_target.is_some() {
                aas.deregister_scalable_target()
                    .service_namespace(ServiceNamespace::Ecs)
                    .resource_id(&id)
                    .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                    .send()
                    .await
                    .map_err(|e| {
                        classify(
                            &conn.ctx,
                            "application-autoscaling:DeregisterScalableTarget",
                            e,
                        )
                    })?;
                done.push("turned auto scaling off".to_owned());
            }
        }
        (Some((min, max, cpu)), now) => {
            let min = i32::try_from(min).map_err(|_| too_many(min))?;
            let max = i32::try_from(max).map_err(|_| too_many(max))?;
            if now.as_ref().map(|n| (n.min, n.max)) != Some((min, max)) {
                aas.register_scalable_target()
                    .service_namespace(ServiceNamespace::Ecs)
                    .resource_id(&id)
                    .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                    .min_capacity(min)
                    .max_capacity(max)
                    .send()
                    .await
                    .map_err(|e| {
                        classify(
                            &conn.ctx,
                            "application-autoscaling:RegisterScalableTarget",
                            e,
                        )
                    })?;
                done.push(format!("scales between {min} and {max} tasks"));
            }
            if now.and_then(|n| n.cpu_target) != Some(cpu) {
                aas.put_scaling_policy()
                    .policy_name(POLICY)
                    .service_namespace(ServiceNamespace::Ecs)
                    .resource_id(&id)
                    .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                    .policy_type(PolicyType::TargetTrackingScaling)
                    .target_tracking_scaling_policy_configuration(
                        TargetTrackingScalingPolicyConfiguration::builder()
                            .target_value(f64::from(cpu))
                            .predefined_metric_specification(
                                PredefinedMetricSpecification::builder()
                                    .predefined_metric_type(
                                        MetricType::EcsServiceAverageCpuUtilization,
                                    )
                                    .build()
                                    .map_err(|e| EngineError::Internal(e.to_string()))?,
                            )
                            .scale_in_cooldown(120)
                            .scale_out_cooldown(60)
                            .build()
                            .map_err(|e| EngineError::Internal(e.to_string()))?,
                    )
                    .send()
                    .await
                    .map_err(|e| {
                        classify(&conn.ctx, "application-autoscaling:PutScalingPolicy", e)
                    })?;
                done.push(format!("keeps average CPU near {cpu}%"));
            }
        }
    }
    Ok(done)
}

fn too_many(n: u32) -> EngineError {
    EngineError::InvalidInput {
        what: "Number of tasks".to_owned(),
        reason: format!("{n} is more tasks than a service can run"),
    }
}

/// What a scale did, for the window and the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ScaleOutcome {
    pub service: String,
    /// The tasks the service now keeps running.
    pub desired: i32,
    /// The tasks running when it was asked (the new ones start in a minute or so).
    pub running: i32,
    pub scaling: Option<Scaling>,
    /// What changed, in words; empty when the service already was as asked.
    pub changes: Vec<String>,
}

/// Makes the app's service run as `config` says (`aws.tasks`, and scaling when
/// `aws.max_tasks` is set). The caller saves those in slipway.toml first, so the next
/// deploy keeps them. Repeated through throttling and 5xx; a second run changes nothing.
pub async fn scale(
    conn: &Connection,
    config: &slipway_core::project::ProjectConfig,
) -> Result<ScaleOutcome> {
    let names = crate::setup::ResourceNames::for_app(&config.name, &conn.ctx.region)
        .map_err(|problems| EngineError::InvalidResourceNames { problems })?;
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let service = super::undo::repeat_until(until, || {
        super::status::service_status(conn, &names.cluster, &config.name)
    })
    .await?
    .ok_or_else(|| EngineError::InvalidInput {
        what: "Number of tasks".to_owned(),
        reason: format!(
            "{} has no service in {} yet. The number is saved: the next deploy starts that many tasks.",
            config.name, conn.ctx.region
        ),
    })?;
    let wanted = config.aws.scaling();
    let desired = match wanted {
        Some((min, max, _)) => service
            .desired
            .max(i32::try_from(min).unwrap_or(1))
            .min(i32::try_from(max).unwrap_or(1)),
        None => i32::try_from(config.aws.tasks()).unwrap_or(1),
    };
    let mut changes = Vec::new();
    // From auto scaling to a fixed count: scaling goes first, or it would move the count.
    if wanted.is_none() {
        changes.extend(
            super::undo::repeat_until(until, || apply(conn, &names.cluster, &config.name, None))
                .await?,
        );
    }
    if service.desired != desired {
        let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
        super::undo::repeat_until(until, || async {
            ecs.update_service()
                .cluster(&names.cluster)
                .service(&config.name)
                .desired_count(desired)
                .send()
                .await
                .map_err(|e| classify(&conn.ctx, "ecs:UpdateService", e))
        })
        .await?;
        changes.push(format!(
            "runs {desired} task{} (was {})",
            if desired == 1 { "" } else { "s" },
            service.desired
        ));
    }
    if wanted.is_some() {
        changes.extend(
            super::undo::repeat_until(until, || apply(conn, &names.cluster, &config.name, wanted))
                .await?,
        );
    }
    let scaling =
        super::undo::repeat_until(until, || read(conn, &names.cluster, &config.name)).await?;
    Ok(ScaleOutcome {
        service: config.name.clone(),
        desired,
        running: service.running,
        scaling,
        changes,
    })
}
