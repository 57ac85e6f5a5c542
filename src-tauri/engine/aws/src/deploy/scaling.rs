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
