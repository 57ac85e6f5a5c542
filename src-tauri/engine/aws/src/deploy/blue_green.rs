//! Blue/green deploys as ECS runs them (natively, no CodeDeploy): the new release starts
//! beside the current one in the other target group, ECS moves all the traffic to it once
//! it is healthy, the previous release stays ready for the bake time, then stops. The
//! deploy follows ECS's service deployment and says each stage in plain words; Roll back
//! now asks ECS to stop it with a rollback, which puts the traffic back at once.

use aws_sdk_ecs::types::{ServiceDeploymentStatus, StopServiceDeploymentStopType};

use super::balancer::BlueGreen;
use super::{DeployEvent, Deployment};
use crate::aws::{classify, Connection};
use slipway_core::error::Result;

/// A service deployment of the app's service that has not finished: its ARN and its
/// lifecycle stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InProgress {
    pub arn: String,
    pub stage: String,
}

/// The service's deployment in progress, if any.
pub async fn in_progress(
    conn: &Connection,
    cluster: &str,
    service: &str,
) -> Result<Option<InProgress>> {
    let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
    let listed = ecs
        .list_service_deployments()
        .cluster(cluster)
        .service(service)
        .status(ServiceDeploymentStatus::InProgress)
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "ecs:ListServiceDeployments", e))?;
    let Some(arn) = listed
        .service_deployments()
        .first()
        .and_then(|d| d.service_deployment_arn())
    else {
        return Ok(None);
    };
    let described = ecs
        .describe_service_deployments()
        .service_deployment_arns(arn)
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "ecs:DescribeServiceDeployments", e))?;
    Ok(described.service_deployments().first().map(|d| InProgress {
        arn: arn.to_owned(),
        stage: d
            .lifecycle_stage()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
    }))
}

/// Asks ECS to stop the service's deployment in progress and roll back (traffic back to
/// the previous release at once, the new one stopped). Answers the service deployment's
/// ARN, `None` when nothing was in progress.
pub async fn roll_back(conn: &Connection, cluster: &str, service: &str) -> Result<Option<String>> {
    let Some(deployment) = Box::pin(in_progress(conn, cluster, service)).await? else {
        return Ok(None);
    };
    let stopped = aws_sdk_ecs::Client::new(&conn.ctx.sdk)
        .stop_service_deployment()
        .service_deployment_arn(&deployment.arn)
        .stop_type(StopServiceDeploymentStopType::Rollback)
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "ecs:StopServiceDeployment", e));
    match stopped {
        Ok(_) => Ok(Some(deployment.arn)),
        // A refusal after a first call took effect (its answer lost, the SDK's retry
        // refused as the deployment is no longer in progress): the rollback is on.
        Err(e) if !e.is_transient() => match Box::pin(status(conn, &deployment.arn)).await {
            Ok(Some(now)) if now.starts_with("ROLLBACK") => Ok(Some(deployment.arn)),
            _ => Err(e),
        },
        Err(e) => Err(e),
    }
}

/// The status of the service deployment `arn` (ROLLBACK_IN_PROGRESS, ROLLBACK_SUCCESSFUL,
/// ...), as ECS says it now.
pub async fn status(conn: &Connection, arn: &str) -> Result<Option<String>> {
    let described = aws_sdk_ecs::Client::new(&conn.ctx.sdk)
        .describe_service_deployments()
        .service_deployment_arns(arn)
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "ecs:DescribeServiceDeployments", e))?;
    Ok(described
        .service_deployments()
        .first()
        .and_then(|d| d.status())
        .map(|s| s.as_str().to_owned()))
}

/// A lifecycle stage in the user's words; `None` for the stages that say nothing new.
pub fn say(stage: &str, bake_minutes: u32) -> Option<String> {
    let text = match stage {
        "PRE_SCALE_UP" | "SCALE_UP" => {
            "Starting the new release beside the current one; visitors still get the current one".to_owned()
        }
        "PRODUCTION_TRAFFIC_SHIFT" => {
            "The new release is healthy; moving all visitors to it".to_owned()
        }
        "BAKE_TIME" => format!(
            "The new release has all visitors; the previous one stays ready for {bake_minutes} min, and Roll back now moves them back at once"
        ),
        "CLEAN_UP" => "Stopping the previous release".to_owned(),
        _ => return None,
    };
    Some(text)
}

/// The last stage the deploy said.
#[derive(Default)]
pub struct Stages {
    said: Option<String>,
}

impl Stages {
    /// Reads the stage and says it when it changed; a failed read is left for the next
    /// pass (the rollout's state decides the deploy, the stage is shown).
    pub async fn look(&mut self, d: &Deployment<'_>, bg: &BlueGreen) -> bool {
        let read = d
            .race(
                "the blue/green deployment's stage",
                // Boxed: the SDK's futures are large, and this one sits deep in a deploy.
                Box::pin(in_progress(d.conn, &d.names.cluster, &d.config.name)),
            )
            .await;
        let stage = match read {
            Ok(Some(deployment)) => deployment.stage,
            Ok(None) => return false,
            Err(e) => {
                tracing::warn!(app = %d.config.name, "reading the service deployment: {e}");
                return false;
            }
        };
        let Some(said) = say(&stage, bg.bake_minutes) else {
            return false;
        };
        if self.said.as_deref() == Some(said.as_str()) {
            return false;
        }
        self.said = Some(said.clone());
        d.emit(DeployEvent::Rollout { stage, said });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_stage_a_person_waits_on_is_said_once_in_plain_words() {
        assert!(say("SCALE_UP", 5)
            .unwrap()
            .contains("still get the current one"));
        assert!(say("BAKE_TIME", 5).unwrap().contains("5 min"));
        assert!(say("BAKE_TIME", 5).unwrap().contains("Roll back now"));
        assert_eq!(say("RECONCILE_SERVICE", 5), None);
        assert_eq!(say("TEST_TRAFFIC_SHIFT", 5), None);
    }
}
