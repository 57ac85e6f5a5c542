//! A stand-in for Fargate in front of the AWS emulator, so a deploy test runs the task it
//! started: every task moto reports RUNNING has its image pulled from the (ECR-named)
//! registry with ECR's token and run as a local container with the task's memory limit;
//! its network interface gets a public IP (an Elastic IP on its own 127.0.x.y, where the
//! container's port is published); its output goes to the task's log stream. When the
//! container cannot be pulled or started, or exits, the task is stopped in the emulator
//! with the stop code, exit code and reason Fargate would give (through the proxy, which
//! moto cannot store). For services it plays the scheduler: a task per deployment, and
//! the deployment's rollout COMPLETED once that task runs. A task runs its first container
//! with the command RunTask's overrides give it, else its task definition's.
//!
//! It also makes Elastic Load Balancing real for services with load balancers: their tasks
//! are registered as targets and health-checked, rollouts complete only once the new
//! tasks are healthy (and fail, and roll back, as the circuit breaker does), and each
//! load balancer listens on its own loopback address under its DNS name, answering by its
//! listeners' rules (path and host patterns, weighted forwards) ([`elb`], [`balancer`],
//! [`rollout`], [`rules`]).
//!
//! A service whose deployment strategy is BLUE_GREEN (ECS-native, with an alternate target
//! group and a production listener rule per load balancer) deploys a later revision as
//! ECS does: its tasks in the other group, production traffic moved with ModifyRule once
//! they are healthy, a bake time (of [`FargateStandIn::set_bake_minute`] minutes), then
//! the old tasks retired; a failure before the end rolls it back, traffic and all
//! ([`bluegreen`], [`lifecycle`]). Every deployment of every service has a service
//! deployment, which the proxy answers ListServiceDeployments, DescribeServiceDeployments
//! and StopServiceDeployment (a rollback) from ([`service_deployments`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_ecs::types::Task;
use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
use bollard::query_parameters::{CreateContainerOptions, RemoveContainerOptions};
use bollard::Docker;
use serde_json::json;
use tokio::task::JoinHandle;

use crate::{FaultProxy, TargetHealth};

mod balancer;
mod bluegreen;
mod container;
mod elb;
mod forwarding;
mod hosts;
mod lifecycle;
mod registry;
mod report;
mod rollout;
mod rules;
mod service_deployments;
mod services;
mod targets;
mod tls;
use services::ServiceState;

/// Loopback addresses handed out as public IPs, unique within the test process.
static NEXT_IP: AtomicU32 = AtomicU32::new(0);

fn next_public_ip() -> String {
    let n = NEXT_IP.fetch_add(1, Ordering::SeqCst);
    let block = 20 + std::process::id() % 200;
    format!("127.{block}.{}.{}", n / 250, n % 250 + 2)
}

/// The next loopback address no container on the engine publishes a port on: the block
/// is per process, and another test process with the same block may have left one.
async fn free_public_ip(docker: &Docker) -> String {
    let taken: std::collections::HashSet<String> = docker
        .list_containers(Some(bollard::query_parameters::ListContainersOptions {
            all: true,
            ..Default::default()
        }))
        .await
        .unwrap_or_default()
        .iter()
        .flat_map(|c| c.ports.clone().unwrap_or_default())
        .filter_map(|p| p.ip)
        .collect();
    loop {
        let ip = next_public_ip();
        if !taken.contains(&ip) {
            return ip;
        }
    }
}

/// What the stand-in did with one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskRun {
    Running {
        container: String,
        public_ip: String,
    },
    Stopped {
        reason: String,
    },
}

#[derive(Default)]
struct Shared {
    runs: HashMap<String, TaskRun>,
    /// Service ARN → its deployments and events as the stand-in schedules them.
    services: HashMap<String, ServiceState>,
    /// Task ARN → its private IP.
    ips: HashMap<String, String>,
}

/// Stand-ins started in this process, each with its own number.
static STARTED: AtomicU64 = AtomicU64::new(1);

pub struct FargateStandIn {
    id: u64,
    shared: Arc<Mutex<Shared>>,
    loop_task: JoinHandle<()>,
    elb_task: JoinHandle<()>,
    groups: Arc<Mutex<targets::TargetGroups>>,
    balancers: Arc<Mutex<balancer::Balancers>>,
    docker: Docker,
    bake_minute: Arc<Mutex<Duration>>,
}

impl FargateStandIn {
    /// Starts watching `region` of the emulator at `endpoint` (moto itself, not the proxy);
    /// `proxy` is where the tests' app talks, and where the stand-in reports what moto
    /// cannot store.
    pub async fn start(endpoint: &str, region: &str, proxy: Arc<FaultProxy>) -> Self {
        // moto advances a task one state per DescribeTasks unless told not to; Fargate's
        // tasks stay RUNNING until stopped.
        reqwest_free_post(
            endpoint,
            "/moto-api/state-manager/set-transition",
            r#"{"model_name":"ecs::task","transition":{"progression":"manual","times":1000000}}"#,
        )
        .await;
        let sdk = crate::emulator::direct_sdk(endpoint, region).await;
        let docker = Docker::connect_with_local_defaults().expect("connect to Docker");
        let shared = Arc::new(Mutex::new(Shared::default()));
        let bake_minute = Arc::new(Mutex::new(Duration::from_secs(60)));
        let id = STARTED.fetch_add(1, Ordering::SeqCst);
        let groups = Arc::new(Mutex::new(targets::TargetGroups::default()));
        let balancers = Arc::new(Mutex::new(balancer::Balancers::new()));
        let elb = elb::Elb {
            client: aws_sdk_elasticloadbalancingv2::Client::new(&sdk),
            groups: groups.clone(),
            balancers: balancers.clone(),
            proxy: proxy.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .tls_danger_accept_invalid_certs(true)
                .no_proxy()
                .build()
                .expect("an HTTP client for health checks"),
            reported: Default::default(),
            route53: aws_sdk_route53::Client::new(&sdk),
            aliases_read: None,
        };
        let elb_task = tokio::spawn(elb.run());
        let world = World {
            id,
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&sdk),
            groups: groups.clone(),
            ecs: aws_sdk_ecs::Client::new(&sdk),
            ecr: aws_sdk_ecr::Client::new(&sdk),
            ec2: aws_sdk_ec2::Client::new(&sdk),
            logs: aws_sdk_cloudwatchlogs::Client::new(&sdk),
            docker: docker.clone(),
            proxy,
            shared: shared.clone(),
            mirror: tokio::sync::Mutex::new(registry::Mirror::new()),
            bake_minute: bake_minute.clone(),
            balancers: balancers.clone(),
        };
        let loop_task = tokio::spawn(async move {
            loop {
                world.tick().await;
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
        });
        Self {
            id,
            shared,
            loop_task,
            elb_task,
            groups,
            balancers,
            docker,
            bake_minute,
        }
    }

    /// How long a minute of a blue/green deployment's bake time lasts (a minute unless
    /// told), so a test can bake for `bakeTimeInMinutes` of seconds.
    pub fn set_bake_minute(&self, minute: Duration) {
        *self.bake_minute.lock().expect("bake minute") = minute;
    }

    /// The health of each target of `target_group_arn` as the stand-in measured it (what
    /// DescribeTargetHealth answers through the proxy).
    pub fn target_health(&self, target_group_arn: &str) -> Vec<TargetHealth> {
        self.groups
            .lock()
            .expect("target groups")
            .report(target_group_arn)
    }

    /// The loopback IP the load balancer named `dns_name` listens on (its DNS name leads
    /// there through /etc/hosts), once the stand-in has seen it.
    pub fn load_balancer_address(&self, dns_name: &str) -> Option<String> {
        self.balancers.lock().expect("balancers").address(dns_name)
    }

    /// The loopback IP a task's container listens on, by the task's private IP (a
    /// target's id).
    pub fn target_address(&self, private_ip: &str) -> Option<String> {
        self.groups
            .lock()
            .expect("target groups")
            .address(private_ip)
            .cloned()
    }

    /// The service's events as the stand-in reports them (newest first; only services
    /// with load balancers have any).
    pub fn service_events(&self, service_arn: &str) -> Vec<String> {
        self.shared
            .lock()
            .expect("stand-in state")
            .services
            .get(service_arn)
            .map(|s| {
                s.events
                    .iter()
                    .filter_map(|e| e["message"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// What happened to each task seen, by ARN.
    pub fn runs(&self) -> HashMap<String, TaskRun> {
        self.shared.lock().expect("stand-in state").runs.clone()
    }

    /// The containers still running for tasks.
    pub fn running_containers(&self) -> Vec<String> {
        self.runs()
            .into_values()
            .filter_map(|r| match r {
                TaskRun::Running { container, .. } => Some(container),
                TaskRun::Stopped { .. } => None,
            })
            .collect()
    }

    /// Stops the watch and removes every container it started, its listeners and its
    /// /etc/hosts lines.
    pub async fn shut_down(self) {
        self.stop_watching();
        for container in self.running_containers() {
            remove(&self.docker, &container).await;
        }
    }

    fn stop_watching(&self) {
        self.loop_task.abort();
        self.elb_task.abort();
        services::release(self.id);
        if let Ok(mut balancers) = self.balancers.lock() {
            balancers.close_all();
        }
    }
}

impl Drop for FargateStandIn {
    fn drop(&mut self) {
        self.stop_watching();
    }
}

async fn remove(docker: &Docker, container: &str) {
    let _ = docker
        .remove_container(
            container,
            Some(RemoveContainerOptions {
                force: true,
                ..Default::default()
            }),
        )
        .await;
}

/// A POST with no HTTP client crate: the state manager is one call at start.
async fn reqwest_free_post(endpoint: &str, path: &str, body: &str) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(host)
        .await
        .expect("reach the emulator");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
}

struct World {
    /// The stand-in's number in this process.
    id: u64,
    ecs: aws_sdk_ecs::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    groups: Arc<Mutex<targets::TargetGroups>>,
    ecr: aws_sdk_ecr::Client,
    ec2: aws_sdk_ec2::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    docker: Docker,
    proxy: Arc<FaultProxy>,
    shared: Arc<Mutex<Shared>>,
    mirror: tokio::sync::Mutex<registry::Mirror>,
    /// The length of a bake time's minute.
    bake_minute: Arc<Mutex<Duration>>,
    balancers: Arc<Mutex<balancer::Balancers>>,
}

impl World {
    async fn tick(&self) {
        let mut mirror = self.mirror.lock().await;
        mirror.copy_new_pushes(&self.ecr).await;
        drop(mirror);
        let Ok(clusters) = self.ecs.list_clusters().send().await else {
            return;
        };
        for cluster in clusters.cluster_arns() {
            self.schedule_services(cluster).await;
            self.run_tasks(cluster).await;
        }
    }

    async fn run_tasks(&self, cluster: &str) {
        let Ok(list) = self.ecs.list_tasks().cluster(cluster).send().await else {
            return;
        };
        if list.task_arns().is_empty() {
            return;
        }
        let Ok(described) = self
            .ecs
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(list.task_arns().to_vec()))
            .send()
            .await
        else {
            return;
        };
        for task in described.tasks() {
            let arn = task.task_arn().unwrap_or_default().to_owned();
            let known = self.shared.lock().expect("state").runs.get(&arn).cloned();
            let stopped =
                task.desired_status() == Some("STOPPED") || task.last_status() == Some("STOPPED");
            match (known, stopped) {
                (None, false) => {
                    let run = self.start(cluster, task).await;
                    self.shared.lock().expect("state").runs.insert(arn, run);
                }
                (Some(TaskRun::Running { container, .. }), true) => {
                    remove(&self.docker, &container).await;
                    self.shared.lock().expect("state").runs.insert(
                        arn,
                        TaskRun::Stopped {
                            reason: task.stopped_reason().unwrap_or_default().to_owned(),
                        },
                    );
                }
                (Some(TaskRun::Running { container, .. }), false) => {
                    self.check_exit(cluster, &arn, &container).await;
                }
                _ => {}
            }
        }
    }

    async fn start(&self, cluster: &str, task: &Task) -> TaskRun {
        let arn = task.task_arn().unwrap_or_default();
        let id = arn.rsplit('/').next().unwrap_or(arn).to_owned();
        // Fargate reports when it created the task and pulled its image (billing starts at
        // the pull); moto reports neither, so the stand-in says what it did and when.
        let seen = epoch_seconds();
        self.proxy
            .patch_task(arn, json!({"createdAt": seen, "pullStartedAt": seen}));
        let Ok(def) = self
            .ecs
            .describe_task_definition()
            .task_definition(task.task_definition_arn().unwrap_or_default())
            .send()
            .await
        else {
            return self
                .fail(
                    cluster,
                    arn,
                    "TaskFailedToStart",
                    "ResourceInitializationError: the task definition is gone",
                    None,
                )
                .await;
        };
        let def = def.task_definition().expect("a task definition").clone();
        let c = def
            .container_definitions()
            .first()
            .expect("a container")
            .clone();
        let image = c.image().unwrap_or_default().to_owned();
        if let Err(e) = self.pull(&image).await {
            let reason = format!(
                "CannotPullContainerError: pull image manifest has been retried 1 time(s): {e}"
            );
            return self
                .fail(cluster, arn, "TaskFailedToStart", &reason, None)
                .await;
        }
        let port = c
            .port_mappings()
            .first()
            .and_then(|p| p.container_port())
            .unwrap_or(80);
        let memory_mib: i64 = def.memory().and_then(|m| m.parse().ok()).unwrap_or(512);
        let public_ip = free_public_ip(&self.docker).await;
        let name = format!("slipway-standin-{id}");
        // The task's command: RunTask's override for this container, else the task
        // definition's, else the image's; the entry point is the definition's or the image's.
        let overridden = task
            .overrides()
            .map(|o| o.container_overrides())
            .unwrap_or_default()
            .iter()
            .find(|o| o.name() == c.name())
            .map(|o| o.command().to_vec())
            .filter(|command| !command.is_empty());
        let command = overridden.or_else(|| Some(c.command().to_vec()).filter(|c| !c.is_empty()));
        let entrypoint = Some(c.entry_point().to_vec()).filter(|e| !e.is_empty());
        let body = ContainerCreateBody {
            image: Some(image.clone()),
            cmd: command,
            entrypoint,
            env: Some(
                c.environment()
                    .iter()
                    .map(|kv| {
                        format!(
                            "{}={}",
                            kv.name().unwrap_or_default(),
                            kv.value().unwrap_or_default()
                        )
                    })
                    .collect(),
            ),
            exposed_ports: Some(vec![format!("{port}/tcp")]),
            labels: Some(HashMap::from([(
                "dev.slipway.standin".to_owned(),
                arn.to_owned(),
            )])),
            host_config: Some(HostConfig {
                port_bindings: Some(HashMap::from([(
                    format!("{port}/tcp"),
                    Some(vec![PortBinding {
                        host_ip: Some(public_ip.clone()),
                        host_port: Some(port.to_string()),
                    }]),
                )])),
                memory: Some(memory_mib * 1024 * 1024),
                memory_swap: Some(memory_mib * 1024 * 1024),
                ..Default::default()
            }),
            ..Default::default()
        };
        let created = self
            .docker
            .create_container(
                Some(CreateContainerOptions {
                    name: Some(name.clone()),
                    ..Default::default()
                }),
                body,
            )
            .await;
        if let Err(e) = created {
            let reason = format!("CannotCreateContainerError: {e}");
            return self
                .fail(cluster, arn, "TaskFailedToStart", &reason, None)
                .await;
        }
        if let Err(e) = self
            .docker
            .start_container(
                &name,
                None::<bollard::query_parameters::StartContainerOptions>,
            )
            .await
        {
            // Give the log forwarder a moment with what the container said.
            tokio::time::sleep(Duration::from_millis(300)).await;
            remove(&self.docker, &name).await;
            let reason = format!("CannotStartContainerError: {e}");
            return self
                .fail(cluster, arn, "TaskFailedToStart", &reason, None)
                .await;
        }
        // After the start: following a container that never ran ends at once. Docker
        // keeps its output from the start, so no line is missed.
        self.proxy.patch_task(
            arn,
            json!({
                "cpu": def.cpu().unwrap_or_default(),
                "memory": def.memory().unwrap_or_default(),
                "startedAt": epoch_seconds(),
                "attributes": [{
                    "name": "ecs.cpu-architecture",
                    "value": match def.runtime_platform().and_then(|p| p.cpu_architecture()) {
                        Some(a) if a.as_str() == "ARM64" => "arm64",
                        _ => "x86_64",
                    }
                }],
            }),
        );
        self.forward_logs(&def, &name, &id).await;
        self.give_public_ip(task, &public_ip).await;
        if let Some(private_ip) = private_ip(task) {
            self.groups
                .lock()
                .expect("target groups")
                .add_address(&private_ip, &public_ip);
            self.shared
                .lock()
                .expect("state")
                .ips
                .insert(arn.to_owned(), private_ip);
        }
        TaskRun::Running {
            container: name,
            public_ip,
        }
    }

    /// A container that exited stops its task, as Fargate reports an essential container.
    async fn check_exit(&self, cluster: &str, arn: &str, container: &str) {
        let Ok(inspect) = self.docker.inspect_container(container, None).await else {
            return;
        };
        let Some(state) = inspect.state else { return };
        if state.running == Some(true) {
            return;
        }
        let exit_code = state.exit_code.unwrap_or(0) as i32;
        let oom = state.oom_killed == Some(true);
        let container_reason =
            oom.then_some("OutOfMemoryError: Container killed due to memory usage");
        // Let the log forwarder deliver the last lines first.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let run = self
            .fail(
                cluster,
                arn,
                "EssentialContainerExited",
                "Essential container in task exited",
                Some((exit_code, container_reason)),
            )
            .await;
        remove(&self.docker, container).await;
        self.shared
            .lock()
            .expect("state")
            .runs
            .insert(arn.to_owned(), run);
    }

    async fn fail(
        &self,
        cluster: &str,
        arn: &str,
        stop_code: &str,
        reason: &str,
        exit: Option<(i32, Option<&str>)>,
    ) -> TaskRun {
        let container = match exit {
            Some((code, Some(why))) => {
                json!({"exitCode": code, "reason": why, "lastStatus": "STOPPED"})
            }
            Some((code, None)) => json!({"exitCode": code, "lastStatus": "STOPPED"}),
            None => json!({"reason": reason, "lastStatus": "STOPPED"}),
        };
        let mut container = container;
        if exit.is_none() {
            container
                .as_object_mut()
                .expect("object")
                .remove("exitCode");
        }
        self.proxy.patch_task(
            arn,
            json!({"stopCode": stop_code, "containers": [container]}),
        );
        let _ = self
            .ecs
            .stop_task()
            .cluster(cluster)
            .task(arn)
            .reason(reason)
            .send()
            .await;
        TaskRun::Stopped {
            reason: reason.to_owned(),
        }
    }
}

/// The private IP of a task's network interface.
fn private_ip(task: &Task) -> Option<String> {
    task.attachments()
        .iter()
        .flat_map(|a| a.details())
        .find(|d| d.name() == Some("privateIPv4Address"))
        .and_then(|d| d.value().map(str::to_owned))
}

/// Now as ECS's JSON says a time: seconds since the epoch, with a fraction.
fn epoch_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// ECR's token is base64 of `user:password`.
pub(crate) fn decode_token(token: &str) -> Option<String> {
    String::from_utf8(aws_smithy_types::base64::decode(token).ok()?).ok()
}
