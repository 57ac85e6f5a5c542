//! How many tasks the app's service runs (seed 004): a fixed count, or target-tracking
//! auto scaling between a minimum and a maximum on average CPU or on the load balancer's
//! requests per task, through Application Auto Scaling. Applying looks first and changes
//! only what differs, so a second run makes no call that changes anything; teardown
//! deregisters the scalable target (which drops its policies).

use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};
use serde::Serialize;

use crate::aws::{classify, Connection};
use slipway_core::error::{EngineError, Result};
use slipway_core::project::{ScaleOn, ScalingRange};

/// The names of the policies Slipway puts on the service (one at a time); a scalable
/// target without either is someone else's and is left alone.
pub const POLICY: &str = "slipway-cpu";
pub const REQUESTS_POLICY: &str = "slipway-requests";

/// What scaling is on the service now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Scaling {
    pub min: i32,
    pub max: i32,
    /// Average CPU, in percent, the policy keeps the service at.
    pub cpu_target: Option<u32>,
    /// Requests a minute per task the policy keeps the service at.
    pub requests_target: Option<u32>,
}

impl Scaling {
    /// Slipway set it (one of its policies is there).
    fn is_slipways(&self) -> bool {
        self.cpu_target.is_some() || self.requests_target.is_some()
    }
}

/// The scalable target's resource id of a service.
pub fn resource_id(cluster: &str, service: &str) -> String {
    format!("service/{cluster}/{service}")
}

/// The service's scaling as Application Auto Scaling has it; `None` when none.
pub async fn read(conn: &Connection, cluster: &str, service: &str) -> Result<Option<Scaling>> {
    Ok(read_with_label(conn, cluster, service)
        .await?
        .map(|(scaling, _)| scaling))
}

/// The service's scaling, with the target group the requests policy counts on (its
/// resource label), when there is one.
async fn read_with_label(
    conn: &Connection,
    cluster: &str,
    service: &str,
) -> Result<Option<(Scaling, Option<String>)>> {
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
    let target_of = |name: &str| {
        policies
            .scaling_policies()
            .iter()
            .find(|p| p.policy_name() == name)
            .and_then(|p| p.target_tracking_scaling_policy_configuration())
            .map(|c| c.target_value().round() as u32)
    };
    let label = policies
        .scaling_policies()
        .iter()
        .find(|p| p.policy_name() == REQUESTS_POLICY)
        .and_then(|p| p.target_tracking_scaling_policy_configuration())
        .and_then(|c| c.predefined_metric_specification())
        .and_then(|m| m.resource_label())
        .map(str::to_owned);
    Ok(Some((
        Scaling {
            min: target.min_capacity(),
            max: target.max_capacity(),
            cpu_target: target_of(POLICY),
            requests_target: target_of(REQUESTS_POLICY),
        },
        label,
    )))
}

/// Makes the service's scaling `wanted` (range, and CPU or requests), or removes
/// Slipway's when `None`. Answers with what changed, in words (empty when nothing did).
pub async fn apply(
    conn: &Connection,
    cluster: &str,
    service: &str,
    wanted: Option<ScalingRange>,
) -> Result<Vec<String>> {
    let aas = aws_sdk_applicationautoscaling::Client::new(&conn.ctx.sdk);
    let id = resource_id(cluster, service);
    let (now, label_now) = match read_with_label(conn, cluster, service).await? {
        Some((scaling, label)) => (Some(scaling), label),
        None => (None, None),
    };
    let mut done = Vec::new();
    let Some(wanted) = wanted else {
        if now.as_ref().is_some_and(Scaling::is_slipways) {
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
        return Ok(done);
    };
    let min = i32::try_from(wanted.min).map_err(|_| too_many(wanted.min))?;
    let max = i32::try_from(wanted.max).map_err(|_| too_many(wanted.max))?;
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
    let (cpu_now, requests_now) = now
        .as_ref()
        .map_or((None, None), |n| (n.cpu_target, n.requests_target));
    // The policy it follows now, and the other one (if there) removed after.
    let other = match wanted.on {
        ScaleOn::Cpu(cpu) => {
            if cpu_now != Some(cpu) {
                let metric = PredefinedMetricSpecification::builder()
                    .predefined_metric_type(MetricType::EcsServiceAverageCpuUtilization)
                    .build()
                    .map_err(|e| EngineError::Internal(e.to_string()))?;
                put_policy(conn, &id, POLICY, metric, cpu).await?;
                done.push(format!("keeps average CPU near {cpu}%"));
            }
            requests_now.map(|_| REQUESTS_POLICY)
        }
        ScaleOn::Requests(per_task) => {
            // Counted on the service's target group now: setup may have replaced it.
            let label = request_count_label(conn, cluster, service).await?;
            if requests_now != Some(per_task) || label_now.as_deref() != Some(label.as_str()) {
                let metric = PredefinedMetricSpecification::builder()
                    .predefined_metric_type(MetricType::AlbRequestCountPerTarget)
                    .resource_label(label)
                    .build()
                    .map_err(|e| EngineError::Internal(e.to_string()))?;
                put_policy(conn, &id, REQUESTS_POLICY, metric, per_task).await?;
                done.push(format!("keeps each task near {per_task} requests a minute"));
            }
            cpu_now.map(|_| POLICY)
        }
    };
    if let Some(other) = other {
        aas.delete_scaling_policy()
            .policy_name(other)
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(&id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .send()
            .await
            .map_err(|e| classify(&conn.ctx, "application-autoscaling:DeleteScalingPolicy", e))?;
    }
    Ok(done)
}

/// Puts Slipway's target-tracking policy `name` on the scalable target `id`.
async fn put_policy(
    conn: &Connection,
    id: &str,
    name: &str,
    metric: PredefinedMetricSpecification,
    target: u32,
) -> Result<()> {
    aws_sdk_applicationautoscaling::Client::new(&conn.ctx.sdk)
        .put_scaling_policy()
        .policy_name(name)
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(id)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(
            TargetTrackingScalingPolicyConfiguration::builder()
                .target_value(f64::from(target))
                .predefined_metric_specification(metric)
                .scale_in_cooldown(120)
                .scale_out_cooldown(60)
                .build()
                .map_err(|e| EngineError::Internal(e.to_string()))?,
        )
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "application-autoscaling:PutScalingPolicy", e))?;
    Ok(())
}

/// The load balancer's request count per target names its target group as
/// `app/<balancer>/<id>/targetgroup/<group>/<id>`: read from the service's target group.
async fn request_count_label(conn: &Connection, cluster: &str, service: &str) -> Result<String> {
    let services = aws_sdk_ecs::Client::new(&conn.ctx.sdk)
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "ecs:DescribeServices", e))?;
    let group = services
        .services()
        .first()
        .and_then(|s| s.load_balancers().first())
        .and_then(|lb| lb.target_group_arn())
        .map(str::to_owned)
        .ok_or_else(|| EngineError::InvalidInput {
            what: "Scaling on requests".to_owned(),
            reason: format!(
                "{service} is not behind the load balancer yet: deploy with the stable address first, or scale on CPU."
            ),
        })?;
    let groups = aws_sdk_elasticloadbalancingv2::Client::new(&conn.ctx.sdk)
        .describe_target_groups()
        .target_group_arns(&group)
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "elasticloadbalancing:DescribeTargetGroups", e))?;
    let balancer = groups
        .target_groups()
        .first()
        .and_then(|g| g.load_balancer_arns().first())
        .cloned()
        .unwrap_or_default();
    label(&balancer, &group).ok_or_else(|| {
        EngineError::Internal(format!(
            "the target group {group} has no load balancer ({balancer:?}) to count requests on"
        ))
    })
}

/// `app/…/targetgroup/…` from the load balancer's and the target group's ARNs.
fn label(balancer_arn: &str, group_arn: &str) -> Option<String> {
    let balancer = balancer_arn.split_once(":loadbalancer/")?.1;
    let group = group_arn
        .rsplit_once(':')
        .map(|(_, g)| g)
        .filter(|g| g.starts_with("targetgroup/"))?;
    Some(format!("{balancer}/{group}"))
}

fn too_many(n: u32) -> EngineError {
    EngineError::InvalidInput {
        what: "Number of tasks".to_owned(),
        reason: format!("{n} is more tasks than a service can run"),
    }
}

#[cfg(test)]
mod tests {
    use super::label;

    #[test]
    fn the_request_count_label_names_the_balancer_and_its_target_group() {
        assert_eq!(
            label(
                "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web-lb/50dc6c495c0c9188",
                "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-tg/943f017f100becff",
            )
            .as_deref(),
            Some("app/web-lb/50dc6c495c0c9188/targetgroup/web-tg/943f017f100becff")
        );
        assert_eq!(
            label(
                "",
                "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/t/1"
            ),
            None
        );
    }
}
