//! The service scheduler moto does not have: a deployment per task definition the service
//! is given, its tasks started by the deployment's id (as ECS does), the rollout COMPLETED
//! once they serve, the older deployments' tasks stopped, and the deployments reported
//! through the proxy ([`super::report`]), each with its service deployment
//! ([`super::service_deployments`]). A service without load balancers gets one task per
//! deployment, which completes once it runs. A service with load balancers gets its desired
//! count, each task registered in its target groups ([`super::rollout`]), and completes
//! once every new task is healthy there; a later deployment of a blue/green service goes
//! through the blue/green lifecycle instead ([`super::bluegreen`]). Each service is
//! scheduled by one stand-in of the process at a time.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use aws_sdk_ecs::types::Service;
use serde_json::{json, Value};

use super::lifecycle::BlueGreen;
use super::service_deployments::{self, Record, Standing};
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
    /// Its service revision's ARN.
    pub revision: String,
    /// The target group its tasks register in instead of a load balancer's
    /// `targetGroupArn` (a blue/green pair's other group), by that ARN.
    pub groups: HashMap<String, String>,
    /// Its blue/green lifecycle, for a later deployment of a blue/green service.
    pub blue_green: Option<BlueGreen>,
}

impl Deployment {
    fn new(id: String, task_definition: String, revision: String) -> Self {
        Self {
            id,
            task_definition,
            revision,
            groups: HashMap::new(),
            blue_green: None,
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
    /// Its service deployments, oldest first.
    pub records: Vec<Record>,
}

impl ServiceState {
    /// Marks the deployment at `at` FAILED for `reason`.
    pub fn fail(&mut self, at: usize, reason: &str) {
        let deployment = &mut self.deployments[at];
        deployment.rollout = "FAILED";
        deployment.reason = Some(reason.to_owned());
        deployment.failed_at = Some(Instant::now());
        deployment.updated_at = epoch_seconds();
    }

    /// The newest service deployment of the deployment `id`.
    pub fn record(&mut self, id: &str) -> Option<&mut Record> {
        self.records.iter_mut().rev().find(|r| r.deployment == id)
    }

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
        let pass_started = epoch_seconds();
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
            self.begin(cluster, service, state, &wanted).await;
        }
        self.roll_back_on_request(cluster, service, state).await;
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
            self.advance(cluster, service, state, want).await;
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
        let standing: HashMap<String, Standing> = state
            .deployments
            .iter()
            .map(|d| {
                let standing = Standing {
                    primary: d.status == "PRIMARY",
                    completed: d.rollout == "COMPLETED",
                    ever_completed: d.completed,
                    failed: d.rollout == "FAILED",
                };
                (d.id.clone(), standing)
            })
            .collect();
        service_deployments::settle(
            &mut state.records,
            |id| standing.get(id).copied(),
            pass_started,
        );
    }

    /// Starts a deployment of `task_definition`, the primary one from now on, with its
    /// service deployment.
    async fn begin(
        &self,
        cluster: &str,
        service: &Service,
        state: &mut ServiceState,
        task_definition: &str,
    ) {
        self.supersede(cluster, service, state).await;
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
        let service_arn = service.service_arn().unwrap_or_default();
        let cluster_arn = service.cluster_arn().unwrap_or(cluster);
        let revision = service_deployments::new_arn("service-revision", service_arn, cluster_arn);
        let first = !state.deployments.iter().any(|d| d.completed);
        let (groups, blue_green) = self.place(service, first).await;
        let sources = state
            .deployments
            .iter()
            .filter(|d| !d.tasks.is_empty())
            .map(|d| d.revision.clone())
            .collect();
        state.records.push(Record::new(
            service_arn,
            cluster_arn,
            &id,
            &revision,
            sources,
            self.strategy(service),
        ));
        state
            .records
            .drain(..state.records.len().saturating_sub(50));
        let mut deployment = Deployment::new(id, task_definition.to_owned(), revision);
        deployment.groups = groups;
        deployment.blue_green = blue_green;
        state.deployments.push(deployment);
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
        let blue_green = primary.blue_green.is_some();
        if blue_green || primary.rollout != "IN_PROGRESS" || primary.tasks.len() < want.max(1) {
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
}

/// A task's id (the last part of its ARN).
pub(super) fn short(task: &str) -> &str {
    task.rsplit('/').next().unwrap_or(task)
}
