//! The service scheduler moto does not have: a task per deployment (started by the
//! deployment's id, as ECS does), the rollout COMPLETED once that task runs, the older
//! deployments' tasks stopped, and the deployments reported through the proxy.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use serde_json::json;

use super::{TaskRun, World, NEXT_IP};

#[derive(Debug, Clone)]
pub(super) struct Deployment {
    id: String,
    task_definition: String,
    status: &'static str,
    rollout: &'static str,
    task: Option<String>,
}

impl World {
    /// Plays the service scheduler moto does not have.
    pub(super) async fn schedule_services(&self, cluster: &str) {
        let Ok(list) = self.ecs.list_services().cluster(cluster).send().await else {
            return;
        };
        if list.service_arns().is_empty() {
            return;
        }
        let Ok(described) = self
            .ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(list.service_arns().to_vec()))
            .send()
            .await
        else {
            return;
        };
        for service in described
            .services()
            .iter()
            .filter(|s| s.status() == Some("ACTIVE"))
        {
            let arn = service.service_arn().unwrap_or_default().to_owned();
            let wanted = service.task_definition().unwrap_or_default().to_owned();
            let mut deployments = self
                .shared
                .lock()
                .expect("state")
                .services
                .get(&arn)
                .cloned()
                .unwrap_or_default();
            let primary_matches = deployments
                .iter()
                .any(|d| d.status == "PRIMARY" && d.task_definition == wanted);
            if !primary_matches && service.desired_count() > 0 {
                for d in deployments.iter_mut().filter(|d| d.status == "PRIMARY") {
                    d.status = "ACTIVE";
                }
                let id = match (deployments.is_empty(), service.deployments().first()) {
                    (true, Some(first)) => first.id().unwrap_or_default().to_owned(),
                    _ => format!(
                        "ecs-svc/{}",
                        1_000_000_000 + NEXT_IP.fetch_add(1, Ordering::SeqCst)
                    ),
                };
                deployments.push(Deployment {
                    id,
                    task_definition: wanted.clone(),
                    status: "PRIMARY",
                    rollout: "IN_PROGRESS",
                    task: None,
                });
            }
            let runs = self.shared.lock().expect("state").runs.clone();
            let mut retire = HashSet::new();
            if let Some(primary) = deployments.iter_mut().find(|d| d.status == "PRIMARY") {
                match &primary.task {
                    None if primary.rollout == "IN_PROGRESS" => {
                        let network = service.network_configuration().cloned();
                        if let Ok(run) = self
                            .ecs
                            .run_task()
                            .cluster(cluster)
                            .task_definition(&primary.task_definition)
                            .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
                            .started_by(&primary.id)
                            .group(format!(
                                "service:{}",
                                service.service_name().unwrap_or_default()
                            ))
                            .set_network_configuration(network)
                            .send()
                            .await
                        {
                            primary.task = run
                                .tasks()
                                .first()
                                .and_then(|t| t.task_arn().map(str::to_owned));
                        }
                    }
                    Some(task) if primary.rollout == "IN_PROGRESS" => {
                        if matches!(runs.get(task), Some(TaskRun::Running { .. })) {
                            primary.rollout = "COMPLETED";
                            retire.extend(deployments_tasks(&deployments, "ACTIVE"));
                        }
                    }
                    _ => {}
                }
            }
            if deployments
                .iter()
                .any(|d| d.status == "PRIMARY" && d.rollout == "COMPLETED")
            {
                deployments.retain(|d| d.status == "PRIMARY");
            }
            for task in retire {
                let _ = self
                    .ecs
                    .stop_task()
                    .cluster(cluster)
                    .task(&task)
                    .reason("Replaced by a new deployment")
                    .send()
                    .await;
            }
            let running = deployments
                .iter()
                .filter_map(|d| d.task.as_ref())
                .filter(|t| matches!(runs.get(*t), Some(TaskRun::Running { .. })))
                .count();
            self.proxy.patch_service(
                &arn,
                json!({
                    "runningCount": running,
                    "deployments": deployments.iter().map(|d| json!({
                        "id": d.id,
                        "status": d.status,
                        "taskDefinition": d.task_definition,
                        "desiredCount": 1,
                        "runningCount": d.task.as_ref().filter(|t| matches!(runs.get(*t), Some(TaskRun::Running { .. }))).map_or(0, |_| 1),
                        "pendingCount": 0,
                        "failedTasks": 0,
                        "launchType": "FARGATE",
                        "rolloutState": d.rollout,
                        "rolloutStateReason": format!("ECS deployment {} {}.", d.id, d.rollout.to_lowercase()),
                    })).collect::<Vec<_>>(),
                }),
            );
            self.shared
                .lock()
                .expect("state")
                .services
                .insert(arn, deployments);
        }
    }
}

fn deployments_tasks(deployments: &[Deployment], status: &str) -> Vec<String> {
    deployments
        .iter()
        .filter(|d| d.status == status)
        .filter_map(|d| d.task.clone())
        .collect()
}
