//! What the proxy says of a service for the scheduler: DescribeServices' deployments,
//! counts and events, and the service deployments (ListServiceDeployments,
//! DescribeServiceDeployments).

use aws_sdk_ecs::types::Service;
use serde_json::{json, Value};

use super::service_deployments::Counts;
use super::services::{Deployment, ServiceState};
use super::{TaskRun, World};

impl World {
    /// Tells the proxy what DescribeServices must say of the service.
    pub(super) fn report(&self, service: &Service, state: &ServiceState) {
        let balanced = !service.load_balancers().is_empty();
        let runs = self.shared.lock().expect("state").runs.clone();
        let running = |d: &Deployment| {
            d.tasks
                .iter()
                .filter(|t| matches!(runs.get(*t), Some(TaskRun::Running { .. })))
                .count()
        };
        let deployments: Vec<Value> = state
            .deployments
            .iter()
            .map(|d| {
                let desired = match (balanced, d.status) {
                    (true, "PRIMARY") => service.desired_count().max(0) as usize,
                    (true, _) => d.tasks.len(),
                    (false, _) => 1,
                };
                json!({
                    "id": d.id,
                    "status": d.status,
                    "taskDefinition": d.task_definition,
                    "desiredCount": desired,
                    "runningCount": running(d),
                    "pendingCount": if balanced { d.tasks.len() - running(d) } else { 0 },
                    "failedTasks": if balanced { d.failed } else { 0 },
                    "launchType": "FARGATE",
                    "rolloutState": d.rollout,
                    "createdAt": d.created_at,
                    "updatedAt": d.updated_at,
                    "rolloutStateReason": d.reason.clone().unwrap_or_else(|| format!("ECS deployment {} {}.", d.id, d.rollout.to_lowercase())),
                })
            })
            .collect();
        let running_count: usize = state.deployments.iter().map(running).sum();
        let mut patch = json!({
            "runningCount": running_count,
            "deployments": deployments,
        });
        if balanced {
            let all: usize = state.deployments.iter().map(|d| d.tasks.len()).sum();
            patch["pendingCount"] = json!(all - running_count);
            patch["events"] = json!(state.events);
        }
        let service_arn = service.service_arn().unwrap_or_default();
        self.proxy.patch_service(service_arn, patch);
        let counts = |revision: &str| -> Counts {
            state
                .deployments
                .iter()
                .find(|d| d.revision == revision)
                .map_or((0, 0, 0), |d| {
                    let requested = match (balanced, d.status) {
                        (true, "PRIMARY") => service.desired_count().max(0) as usize,
                        (true, _) => d.tasks.len(),
                        (false, _) => 1,
                    };
                    (requested, running(d), d.tasks.len() - running(d))
                })
        };
        let records = state.records.iter().map(|r| r.json(counts)).collect();
        self.proxy.report_service_deployments(service_arn, records);
    }
}
