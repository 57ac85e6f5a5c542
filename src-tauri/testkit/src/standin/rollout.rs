//! What ECS does for a service with load balancers, beyond starting tasks: each running
//! task registered as an `ip` target (its private IP, the container port) in each of the
//! service's target groups and deregistered when it stops; a task whose target is
//! unhealthy past the health-check grace period stopped with AWS's reason; and the
//! deployment circuit breaker: after enough such failures the rollout is FAILED and, when
//! the breaker rolls back, the previous deployment is primary again (a blue/green one's
//! rollback is [`super::bluegreen`]'s). A deployment's tasks register in the group its
//! deployment names for a load balancer (a blue/green pair's other one), else in the load
//! balancer's `targetGroupArn`.

use std::time::Duration;

use aws_sdk_ecs::types::Service;
use aws_sdk_elasticloadbalancingv2::types::TargetDescription;
use serde_json::json;

use super::services::{short, ServiceState};
use super::targets::State;
use super::World;

impl World {
    /// Registers `task` in each of the service's target groups.
    pub(super) async fn register(&self, service: &Service, state: &mut ServiceState, task: &str) {
        let Some(ip) = self.shared.lock().expect("state").ips.get(task).cloned() else {
            return;
        };
        let name = service.service_name().unwrap_or_default();
        // ECS refuses a registration naming a container the task definition does not have;
        // moto does not check, so the stand-in does (and registers nothing).
        let containers: Vec<String> = match self
            .ecs
            .describe_task_definition()
            .task_definition(service.task_definition().unwrap_or_default())
            .send()
            .await
        {
            Ok(answer) => answer
                .task_definition()
                .map(|t| {
                    t.container_definitions()
                        .iter()
                        .filter_map(|c| c.name().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            Err(_) => return,
        };
        let placed = state
            .deployments
            .iter()
            .find(|d| d.tasks.iter().any(|t| t == task))
            .map(|d| d.groups.clone())
            .unwrap_or_default();
        let mut registered = Vec::new();
        for lb in service.load_balancers() {
            let (Some(group), Some(port)) = (lb.target_group_arn(), lb.container_port()) else {
                continue;
            };
            let group = placed.get(group).map_or(group, String::as_str);
            let container = lb.container_name().unwrap_or_default();
            if !containers.iter().any(|c| c == container) {
                state.event(format!(
                    "(service {name}) failed to register targets in (target-group {group}): the container {container} does not exist in the task definition"
                ));
                continue;
            }
            let target = TargetDescription::builder().id(&ip).port(port).build();
            if self
                .elb
                .register_targets()
                .target_group_arn(group)
                .targets(target)
                .send()
                .await
                .is_err()
            {
                continue;
            }
            self.groups
                .lock()
                .expect("target groups")
                .register(group, &ip, port);
            registered.push((group.to_owned(), ip.clone(), port));
            state.event(format!(
                "(service {name}) registered 1 targets in (target-group {group})"
            ));
        }
        // Nothing registered (moto refused): tried again at the next pass.
        if !registered.is_empty() {
            state.registered.insert(task.to_owned(), registered);
        }
    }

    /// Deregisters `task`'s targets (they drain).
    pub(super) async fn deregister(&self, service: &Service, state: &mut ServiceState, task: &str) {
        let Some(targets) = state.registered.remove(task) else {
            return;
        };
        let name = service.service_name().unwrap_or_default();
        for (group, ip, port) in targets {
            let target = TargetDescription::builder().id(&ip).port(port).build();
            let _ = self
                .elb
                .deregister_targets()
                .target_group_arn(&group)
                .targets(target)
                .send()
                .await;
            self.groups
                .lock()
                .expect("target groups")
                .deregister(&group, &ip, port);
            state.event(format!(
                "(service {name}) deregistered 1 targets in (target-group {group})"
            ));
        }
    }

    /// True when every target of `task` is healthy.
    pub(super) fn healthy_everywhere(&self, state: &ServiceState, task: &str) -> bool {
        let groups = self.groups.lock().expect("target groups");
        state.registered.get(task).is_some_and(|targets| {
            !targets.is_empty()
                && targets
                    .iter()
                    .all(|(g, ip, port)| groups.state(g, ip, *port) == Some(State::Healthy))
        })
    }

    /// Deregisters `task` and stops it (the scheduler's own stop, no failure).
    pub(super) async fn retire(
        &self,
        cluster: &str,
        service: &Service,
        state: &mut ServiceState,
        task: &str,
        reason: &str,
    ) {
        state.retired.insert(task.to_owned());
        for d in &mut state.deployments {
            d.tasks.retain(|t| t != task);
        }
        self.deregister(service, state, task).await;
        self.stop(cluster, service, state, task, reason).await;
    }

    async fn stop(
        &self,
        cluster: &str,
        service: &Service,
        state: &mut ServiceState,
        task: &str,
        reason: &str,
    ) {
        self.proxy
            .patch_task(task, json!({"stopCode": "ServiceSchedulerInitiated"}));
        let _ = self
            .ecs
            .stop_task()
            .cluster(cluster)
            .task(task)
            .reason(reason)
            .send()
            .await;
        state.event(format!(
            "(service {}) has stopped 1 running tasks: (task {}).",
            service.service_name().unwrap_or_default(),
            short(task)
        ));
    }

    /// Stops the primary deployment's tasks whose target stayed unhealthy past the grace
    /// period, as ECS does; each counts as a failure of a rollout in progress.
    pub(super) async fn stop_unhealthy(
        &self,
        cluster: &str,
        service: &Service,
        state: &mut ServiceState,
    ) {
        let grace = Duration::from_secs(self.grace_period(service).max(0) as u64);
        let Some(primary) = state.deployments.iter().find(|d| d.status == "PRIMARY") else {
            return;
        };
        let mut failing = Vec::new();
        {
            let groups = self.groups.lock().expect("target groups");
            for task in &primary.tasks {
                let past_grace = state
                    .running_since
                    .get(task)
                    .is_some_and(|since| since.elapsed() >= grace);
                let unhealthy = state.registered.get(task).and_then(|targets| {
                    targets
                        .iter()
                        .find(|(g, ip, port)| groups.state(g, ip, *port) == Some(State::Unhealthy))
                });
                if let (true, Some((group, ip, port))) = (past_grace, unhealthy) {
                    let why = groups
                        .report(group)
                        .into_iter()
                        .find(|t| t.id == *ip && t.port == *port)
                        .and_then(|t| t.description)
                        .unwrap_or_else(|| "Health checks failed".into());
                    failing.push((task.clone(), group.clone(), *port, why));
                }
            }
        }
        let name = service.service_name().unwrap_or_default().to_owned();
        for (task, group, port, why) in failing {
            state.event(format!(
                "(service {name}) (port {port}) is unhealthy in (target-group {group}) due to (reason {why})."
            ));
            let rolling = state
                .deployments
                .iter_mut()
                .find(|d| d.status == "PRIMARY" && d.tasks.contains(&task));
            if let Some(d) = rolling.filter(|d| d.rollout == "IN_PROGRESS") {
                d.failed += 1;
            }
            self.retire(
                cluster,
                service,
                state,
                &task,
                &format!("Task failed ELB health checks in (target-group {group})"),
            )
            .await;
        }
    }

    /// The deployment circuit breaker: a rollout with as many failed tasks as its threshold
    /// is FAILED; with rollback on, the previous deployment is primary again (and the
    /// service's task definition with it).
    pub(super) async fn break_circuit(
        &self,
        cluster: &str,
        service: &Service,
        state: &mut ServiceState,
    ) {
        let (enabled, rollback) = self.circuit_breaker(service);
        let threshold = (service.desired_count().max(0) as u32)
            .div_ceil(2)
            .clamp(3, 200);
        let Some(at) = state.deployments.iter().position(|d| {
            d.status == "PRIMARY" && d.rollout == "IN_PROGRESS" && d.failed >= threshold
        }) else {
            return;
        };
        if !enabled {
            return;
        }
        let name = service.service_name().unwrap_or_default().to_owned();
        let failed_id = state.deployments[at].id.clone();
        let why = "ECS deployment circuit breaker: tasks failed to start.";
        state.fail(at, why);
        state.event(format!(
            "(service {name}) (deployment {failed_id}) deployment failed: tasks failed to start."
        ));
        if !rollback {
            if let Some(record) = state.record(&failed_id) {
                record.set("STOPPED", Some(why.into()));
            }
            return;
        }
        self.roll_back(
            cluster,
            service,
            state,
            at,
            "Service deployment rolled back because the circuit breaker threshold was exceeded.",
        )
        .await;
    }

    /// Rolls the deployment at `at` back: production traffic shifted back if a blue/green
    /// one had moved it, the previous deployment primary again (and the service's task
    /// definition with it), the deployment's tasks retired; its service deployment
    /// ROLLBACK_IN_PROGRESS until the previous one is back.
    pub(super) async fn roll_back(
        &self,
        cluster: &str,
        service: &Service,
        state: &mut ServiceState,
        at: usize,
        reason: &str,
    ) {
        let name = service.service_name().unwrap_or_default().to_owned();
        let failed_id = state.deployments[at].id.clone();
        let previous = state
            .deployments
            .iter()
            .rposition(|d| d.status == "ACTIVE" && d.completed);
        let Some(previous) = previous else {
            if let Some(record) = state.record(&failed_id) {
                let why = format!("{reason} There is no earlier deployment to roll back to.");
                record.set("STOPPED", Some(why));
            }
            return;
        };
        let blue_green = state.deployments[at].blue_green.clone();
        if let Some(shifted) = blue_green.as_ref().filter(|bg| bg.shifted) {
            if !self.shift_back(service, state, shifted).await {
                if let Some(record) = state.record(&failed_id) {
                    let why = format!("{reason} Production traffic could not be shifted back.");
                    record.set("ROLLBACK_FAILED", Some(why));
                }
                return;
            }
        }
        let back_to = state.deployments[previous].id.clone();
        let revision = state.deployments[previous].revision.clone();
        if let Some(record) = state.record(&failed_id) {
            record.roll_back(reason, &back_to, &revision);
        }
        state.event(format!(
            "(service {name}) rolling back to deployment {back_to}."
        ));
        state.deployments[at].status = "ACTIVE";
        let target = &mut state.deployments[previous];
        target.status = "PRIMARY";
        // A blue/green deployment's predecessor kept serving: it is done as it was.
        if blue_green.is_none() {
            target.rollout = "IN_PROGRESS";
        }
        target.reason = None;
        target.updated_at = super::epoch_seconds();
        let definition = target.task_definition.clone();
        if service.task_definition() != Some(definition.as_str()) {
            let _ = self
                .ecs
                .update_service()
                .cluster(cluster)
                .service(service.service_arn().unwrap_or_default())
                .task_definition(&definition)
                .send()
                .await;
        }
        let failed_tasks = state.deployments[at].tasks.clone();
        for task in failed_tasks {
            self.retire(
                cluster,
                service,
                state,
                &task,
                &format!("Scaling activity initiated by (deployment {back_to})"),
            )
            .await;
        }
    }

    /// Stops the primary deployment's tasks beyond the desired count.
    pub(super) async fn scale_in(
        &self,
        cluster: &str,
        service: &Service,
        state: &mut ServiceState,
        want: usize,
    ) {
        let Some(primary) = state.deployments.iter().find(|d| d.status == "PRIMARY") else {
            return;
        };
        if primary.tasks.len() <= want {
            return;
        }
        let id = primary.id.clone();
        let extra: Vec<String> = primary.tasks[want..].to_vec();
        for task in extra {
            self.retire(
                cluster,
                service,
                state,
                &task,
                &format!("Scaling activity initiated by (deployment {id})"),
            )
            .await;
        }
    }

    /// The health-check grace period in seconds: moto's, else what CreateService asked.
    fn grace_period(&self, service: &Service) -> i32 {
        service
            .health_check_grace_period_seconds()
            .unwrap_or_else(|| {
                self.proxy
                    .created_service_field(
                        service.service_arn().unwrap_or_default(),
                        "healthCheckGracePeriodSeconds",
                    )
                    .and_then(|v| v.as_i64())
                    .unwrap_or(0) as i32
            })
    }

    /// The circuit breaker's (enable, rollback): moto's, else what CreateService asked.
    fn circuit_breaker(&self, service: &Service) -> (bool, bool) {
        if let Some(breaker) = service
            .deployment_configuration()
            .and_then(|c| c.deployment_circuit_breaker())
        {
            return (breaker.enable(), breaker.rollback());
        }
        let asked = self
            .proxy
            .created_service_field(
                service.service_arn().unwrap_or_default(),
                "deploymentConfiguration",
            )
            .unwrap_or_default();
        let breaker = &asked["deploymentCircuitBreaker"];
        (
            breaker["enable"].as_bool().unwrap_or(false),
            breaker["rollback"].as_bool().unwrap_or(false),
        )
    }
}
