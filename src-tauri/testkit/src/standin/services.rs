//! The service scheduler moto does not have: a deployment per task definition the service
//! is given, its tasks started by the deployment's id (as ECS does), the rollout COMPLETED
//! once they serve, the older deployments' tasks stopped, and the deployments reported
//! through the proxy. A service without load balancers gets one task per deployment, which
//! completes once it runs. A service with load balancers gets its desired count, each task
//! registered in its target groups ([`super::rollout`]), and completes once every new task
//! is healthy there. Each service is scheduled by one stand-in of the process at a time.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use aws_sdk_ecs::types::Service;
use serde_json::{json, Value};

use super::{epoch_seconds, TaskRun, World, NEXT_IP};

#[derive(Debug, Clone)]
pub(super) struct Deployment {
    pub id: String,
    pub task_definition: String,
    pub status: &'static str,
    pub rollout: &'static str,
    /// The rollout state's reason, when not the usual one.
    pub reason: Option<String>,
    /// Its tasks that have not stopped.
    pub tasks: Vec<String>,
    pub launched: u32,
    /// Its tasks that failed (exited, or failed their ELB health checks) while it rolled out.
    pub failed: u32,
    pub failed_at: Option<Instant>,
    /// Whether its rollout ever completed (a rollback goes back only to such a one).
    pub completed: bool,
    pub created_at: f64,
    pub updated_at: f64,
}

impl Deployment {
    fn new(id: String, task_definition: String) -> Self {
        Self {
            id,
            task_definition,
            status: "PRIMARY",
            rollout: "IN_PROGRESS",
            reason: None,
            tasks: Vec::new(),
            launched: 0,
            failed: 0,
            failed_at: None,
            completed: false,
            created_at: epoch_seconds(),
            updated_at: epoch_seconds(),
        }
    }
}

/// What the scheduler keeps of one service.
#[derive(Debug, Clone, Default)]
pub(super) struct ServiceState {
    pub deployments: Vec<Deployment>,
    /// The service's events, newest first.
    pub events: Vec<Value>,
    /// Each task's targets: (target group, private IP, port).
    pub registered: HashMap<String, Vec<(String, String, i32)>>,
    /// When each task was first seen running (the grace period counts from there).
    pub running_since: HashMap<String, Instant>,
    /// Tasks the scheduler stopped itself (their stop is no failure).
    pub retired: HashSet<String>,
}

impl ServiceState {
    pub fn event(&mut self, message: String) {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        self.events.insert(
            0,
            json!({
                "id": format!("{:08x}-{:04x}-4000-8000-{:012x}", std::process::id(), n >> 48, n),
                "createdAt": epoch_seconds(),
                "message": message,
            }),
        );
        self.events.truncate(100);
    }
}

/// Which stand-in of this process schedules each service (by ARN): a service is never
/// scheduled by two at once.
static SCHEDULERS: Mutex<Option<HashMap<String, u64>>> = Mutex::new(None);

/// Takes `service` for the stand-in `me` unless another one has it.
fn claim(me: u64, service: &str) -> bool {
    let mut schedulers = SCHEDULERS.lock().expect("schedulers");
    *schedulers
        .get_or_insert_with(HashMap::new)
        .entry(service.to_owned())
        .or_insert(me)
        == me
}

/// Lets go of every service `me` scheduled.
pub(super) fn release(me: u64) {
    if let Some(schedulers) = SCHEDULERS.lock().expect("schedulers").as_mut() {
        schedulers.retain(|_, owner| *owner != me);
    }
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
            if !claim(self.id, &arn) {
                continue;
            }
            let mut state = self
                .shared
                .lock()
                .expect("state")
                .services
                .get(&arn)
                .cloned()
                .unwrap_or_default();
            self.schedule(cluster, service, &mut state).await;
            self.report(service, &state);
            self.shared
                .lock()
                .expect("state")
                .services
                .insert(arn, state);
        }
    }

    /// One pass over one service.
    async fn schedule(&self, cluster: &str, service: &Service, state: &mut ServiceState) {
        let balanced = !service.load_balancers().is_empty();
        let want = if balanced {
            service.desired_count().max(0) as usize
        } else {
            1
        };
        let wanted = service.task_definition().unwrap_or_default().to_owned();
        let primary_matches = state
            .deployments
            .iter()
            .any(|d| d.status == "PRIMARY" && d.task_definition == wanted);
        if !primary_matches && service.desired_count() > 0 {
            for d in state
                .deployments
                .iter_mut()
                .filter(|d| d.status == "PRIMARY")
            {
                d.status = "ACTIVE";
                d.updated_at = epoch_seconds();
            }
            let id = match (state.deployments.is_empty(), service.deployments().first()) {
                (true, Some(first)) => first.id().unwrap_or_default().to_owned(),
                _ => format!(
                    "ecs-svc/{}",
                    1_000_000_000 + NEXT_IP.fetch_add(1, Ordering::SeqCst)
                ),
            };
            state.deployments.push(Deployment::new(id, wanted.clone()));
        }
        let runs = self.shared.lock().expect("state").runs.clone();
        // Tasks that stopped: a failure of a rollout unless the scheduler stopped them.
        let mut stopped = Vec::new();
        for d in &mut state.deployments {
            let rolling = d.status == "PRIMARY" && d.rollout == "IN_PROGRESS";
            d.tasks.retain(|task| {
                if !matches!(runs.get(task), Some(TaskRun::Stopped { .. })) {
                    return true;
                }
                if rolling && !state.retired.contains(task) {
                    d.failed += 1;
                }
                stopped.push(task.clone());
                false
            });
        }
        for task in &stopped {
            self.deregister(service, state, task).await;
        }
        let live: Vec<String> = state
            .deployments
            .iter()
            .flat_map(|d| d.tasks.clone())
            .collect();
        for task in &live {
            if matches!(runs.get(task), Some(TaskRun::Running { .. })) {
                state
                    .running_since
                    .entry(task.clone())
                    .or_insert_with(Instant::now);
                if balanced && !state.registered.contains_key(task) {
                    self.register(service, state, task).await;
                }
            }
        }
        if balanced {
            self.stop_unhealthy(cluster, service, state).await;
            self.break_circuit(cluster, service, state).await;
        }
        self.launch(cluster, service, state, want).await;
        self.complete(cluster, service, state, want).await;
        if balanced {
            self.scale_in(cluster, service, state, want).await;
        }
        if state
            .deployments
            .iter()
            .any(|d| d.status == "PRIMARY" && d.rollout == "COMPLETED")
        {
            // A failed deployment stays listed a little while, so a watcher sees it fail.
            state.deployments.retain(|d| {
                d.status == "PRIMARY" || d.failed_at.is_some_and(|at| at.elapsed().as_secs() < 10)
            });
        }
    }

    /// Starts the primary deployment's missing tasks.
    async fn launch(
        &self,
        cluster: &str,
        service: &Service,
        state: &mut ServiceState,
        want: usize,
    ) {
        let balanced = !service.load_balancers().is_empty();
        let Some(primary) = state.deployments.iter_mut().find(|d| d.status == "PRIMARY") else {
            return;
        };
        let missing = if balanced {
            if primary.rollout == "FAILED" {
                0
            } else {
                want.saturating_sub(primary.tasks.len())
            }
        } else {
            usize::from(primary.launched == 0 && primary.rollout == "IN_PROGRESS")
        };
        if missing == 0 {
            return;
        }
        let run = self
            .ecs
            .run_task()
            .cluster(cluster)
            .task_definition(&primary.task_definition)
            .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
            .started_by(&primary.id)
            .count(missing.min(10) as i32)
            .group(format!(
                "service:{}",
                service.service_name().unwrap_or_default()
            ))
            .set_network_configuration(service.network_configuration().cloned())
            .send()
            .await;
        let started: Vec<String> = match run {
            Ok(run) => run
                .tasks()
                .iter()
                .filter_map(|t| t.task_arn().map(str::to_owned))
                .collect(),
            // The call may have started tasks all the same: they are the deployment's.
            Err(_) if balanced => self
                .ecs
                .list_tasks()
                .cluster(cluster)
                .started_by(&primary.id)
                .send()
                .await
                .map(|l| l.task_arns().to_vec())
                .unwrap_or_default()
                .into_iter()
                .filter(|t| !primary.tasks.contains(t) && !state.retired.contains(t))
                .filter(|t| {
                    !matches!(
                        self.shared.lock().expect("state").runs.get(t),
                        Some(TaskRun::Stopped { .. })
                    )
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        if started.is_empty() {
            return;
        }
        primary.launched += started.len() as u32;
        primary.tasks.extend(started.iter().cloned());
        if balanced {
            let ids: Vec<String> = started
                .iter()
                .map(|t| format!("(task {})", short(t)))
                .collect();
            state.event(format!(
                "(service {}) has started {} tasks: {}.",
                service.service_name().unwrap_or_default(),
                started.len(),
                ids.join(" ")
            ));
        }
    }

    /// Completes the primary rollout once its tasks serve (healthy in every target group,
    /// or running when the service has none), and stops the older deployments' tasks.
    async fn complete(
        &self,
        cluster: &str,
        service: &Service,
        state: &mut ServiceState,
        want: usize,
    ) {
        let balanced = !service.load_balancers().is_empty();
        let runs = self.shared.lock().expect("state").runs.clone();
        let Some(primary) = state.deployments.iter().find(|d| d.status == "PRIMARY") else {
            return;
        };
        if primary.rollout != "IN_PROGRESS" || primary.tasks.len() < want.max(1) {
            return;
        }
        let serving = |task: &String| {
            if balanced {
                self.healthy_everywhere(state, task)
            } else {
                matches!(runs.get(task), Some(TaskRun::Running { .. }))
            }
        };
        if primary.tasks.iter().filter(|t| serving(t)).count() < want.max(1) {
            return;
        }
        let id = primary.id.clone();
        let old: Vec<String> = state
            .deployments
            .iter()
            .filter(|d| d.status == "ACTIVE")
            .flat_map(|d| d.tasks.clone())
            .collect();
        for d in state
            .deployments
            .iter_mut()
            .filter(|d| d.status == "PRIMARY")
        {
            d.rollout = "COMPLETED";
            d.reason = None;
            d.completed = true;
            d.updated_at = epoch_seconds();
        }
        let name = service.service_name().unwrap_or_default();
        if balanced {
            state.event(format!(
                "(service {name}) (deployment {id}) deployment completed."
            ));
            for task in &old {
                self.retire(
                    cluster,
                    service,
                    state,
                    task,
                    &format!("Scaling activity initiated by (deployment {id})"),
                )
                .await;
            }
            state.event(format!("(service {name}) has reached a steady state."));
        } else {
            for task in old {
                let _ = self
                    .ecs
                    .stop_task()
                    .cluster(cluster)
                    .task(&task)
                    .reason("Replaced by a new deployment")
                    .send()
                    .await;
            }
        }
    }

    /// Stops the primary deployment's tasks beyond the desired count.
    async fn scale_in(
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

    /// Tells the proxy what DescribeServices must say of the service.
    fn report(&self, service: &Service, state: &ServiceState) {
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
        self.proxy
            .patch_service(service.service_arn().unwrap_or_default(), patch);
    }
}

/// A task's id (the last part of its ARN).
pub(super) fn short(task: &str) -> &str {
    task.rsplit('/').next().unwrap_or(task)
}
