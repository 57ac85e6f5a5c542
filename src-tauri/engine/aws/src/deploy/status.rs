//! What runs for an app on AWS, and the lookups a deploy and the status view share: tasks
//! described in AWS's batch size, public IPs from the tasks' network interfaces, the last
//! log lines of a task, the URL check; plus settling a deploy the journal shows as
//! unfinished. Stopping is `stop`'s.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use super::ecs::{describe_tasks, family_of, list_tasks, public_ips, revision_of, TaskFilter};
use super::journal::{self, JournalEntry};
use super::watch::TaskSnapshot;
use crate::aws::{classify, Connection};
use crate::cost::meter::{meter, BilledTask, RunningCost, TaskCost};
use crate::cost::pricelist::{price_book, Refresh};
use crate::setup::ResourceNames;
use slipway_core::error::{EngineError, Result};
use slipway_core::project::Platform;
use slipway_core::project::ProjectConfig;
use time::OffsetDateTime;

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RunningTask {
    pub task_id: String,
    pub task_arn: String,
    pub status: String,
    pub health: Option<String>,
    pub revision: Option<i32>,
    pub public_ip: Option<String>,
    pub private_ip: Option<String>,
    pub url: Option<String>,
    /// True for a service's task, false for a standalone one.
    pub from_service: bool,
    /// When AWS started billing it (ISO 8601).
    pub started_at: Option<String>,
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
    /// What it has cost so far and costs per hour (None when its size is not known).
    pub cost_so_far: Option<f64>,
    pub cost_per_hour: Option<f64>,
}

/// A task a deploy left running when it could not finish (the app was closed or killed
/// mid-deploy, or its undo could not stop it): billed, and not the app's live release.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Leftover {
    pub deploy_id: String,
    pub task_id: String,
    pub task_arn: String,
    /// Why it is left, in words.
    pub why: String,
    pub cost_per_hour: Option<f64>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ServiceStatus {
    pub name: String,
    pub desired: i32,
    pub running: i32,
    pub revision: Option<i32>,
    pub rollout: Option<String>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    pub app: String,
    pub account: String,
    pub region: String,
    pub cluster: String,
    pub tasks: Vec<RunningTask>,
    /// Tasks of other task definitions running in the app's cluster (not stopped by
    /// Stop everything, not in the app's cost).
    pub other_tasks: Vec<RunningTask>,
    pub service: Option<ServiceStatus>,
    /// Deploys of this app that never finished (the app was closed mid-deploy, or an undo
    /// could not stop everything), not counting one that is running now.
    pub unfinished: Vec<JournalEntry>,
    /// The running tasks those deploys left, each stopped with its deploy (settle).
    pub leftovers: Vec<Leftover>,
    /// The deploy of this app running now (in this or another window or terminal).
    pub deploying: Option<String>,
    /// The newest deploys of this app here, newest first.
    pub history: Vec<JournalEntry>,
    /// What the running tasks cost, at the cached or bundled prices.
    pub cost: RunningCost,
    /// The stable address, when the app runs behind its load balancer.
    pub balancer: Option<BalancerStatus>,
}

/// The app's load balancer: its address, the tasks registered with it and their health,
/// and the service's scaling.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct BalancerStatus {
    /// The address that never changes (`http://<load balancer>` or `https://<domain>`).
    pub url: String,
    pub dns_name: String,
    pub targets: Vec<super::balancer::Target>,
    pub scaling: Option<super::scaling::Scaling>,
}

/// What runs for the app now: its tasks (with IPs, URLs and cost) and its service.
pub async fn status(
    db: &Path,
    conn: &Connection,
    config: &ProjectConfig,
    now: OffsetDateTime,
) -> Result<AppStatus> {
    Ok(status_and_billing(db, conn, config, now).await?.0)
}

/// What the caller knows of the app's cluster before status looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterKnown {
    /// Ask ECS whether it exists (one more call).
    Unknown,
    /// A deploy of this session found it ready moments ago.
    Active,
}

/// The status, and its running tasks as billing sees them (for the idle guard).
pub async fn status_and_billing(
    db: &Path,
    conn: &Connection,
    config: &ProjectConfig,
    now: OffsetDateTime,
) -> Result<(AppStatus, Vec<BilledTask>)> {
    status_knowing(db, conn, config, now, ClusterKnown::Unknown).await
}

/// The status, trusting `cluster` instead of asking ECS about the cluster first.
pub async fn status_knowing(
    db: &Path,
    conn: &Connection,
    config: &ProjectConfig,
    now: OffsetDateTime,
    cluster: ClusterKnown,
) -> Result<(AppStatus, Vec<BilledTask>)> {
    let names = ResourceNames::for_app(&config.name, &conn.ctx.region)
        .map_err(|problems| EngineError::InvalidResourceNames { problems })?;
    let cluster_exists = cluster == ClusterKnown::Active || {
        let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
        let answer = ecs
            .describe_clusters()
            .clusters(&names.cluster)
            .send()
            .await
            .map_err(|e| classify(&conn.ctx, "ecs:DescribeClusters", e))?;
        answer
            .clusters()
            .iter()
            .any(|c| c.status() == Some("ACTIVE"))
    };
    let (everything, service) = if cluster_exists {
        (
            observe_tasks(conn, &names.cluster, TaskFilter::Running).await?,
            service_status(conn, &names.cluster, &config.name).await?,
        )
    } else {
        (Vec::new(), None)
    };
    let (observed, others): (Vec<Observed>, Vec<Observed>) = everything
        .into_iter()
        .partition(|o| family_of(&o.snapshot.task_definition_arn) == config.name);
    let book = price_book(db, &conn.ctx.region, Refresh::Never, now).await?;
    let billed: Vec<BilledTask> = observed.iter().filter_map(Observed::billed).collect();
    // The app's load balancer bills by the hour, with or without a task.
    // Best effort: a load balancer that cannot be read leaves the tasks' cost shown.
    let balancers = if config.aws.load_balancer {
        crate::cost::load_balancers::of_app(conn, &config.name, config.id.as_deref())
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(app = %config.name, "metering the load balancer: {e}");
                Vec::new()
            })
    } else {
        Vec::new()
    };
    let cost = crate::cost::meter::meter_with(&billed, &balancers, &book, now);
    let port = u16::try_from(config.port).unwrap_or(80);
    let tasks = observed
        .iter()
        .map(|o| {
            let spent = cost.tasks.iter().find(|c| c.task_id == o.snapshot.id());
            o.running(port, spent)
        })
        .collect();
    // Not the app's, but in its cluster and billed all the same: listed apart, with cost.
    let others_billed: Vec<BilledTask> = others.iter().filter_map(Observed::billed).collect();
    let others_cost = meter(&others_billed, &book, now);
    let other_tasks = others
        .iter()
        .map(|o| {
            let spent = others_cost
                .tasks
                .iter()
                .find(|c| c.task_id == o.snapshot.id());
            o.running(port, spent)
        })
        .collect();
    let mut history = journal::history(db, &conn.identity.account, &conn.ctx.region, &config.name)?;
    history.truncate(20);
    let deploying = db.parent().and_then(|data| {
        super::lock::holder(
            &data.join("locks"),
            &conn.identity.account,
            &conn.ctx.region,
            &config.name,
        )
    });
    let deploying = deploying.and_then(|h| h.deploy().map(str::to_owned));
    let unfinished: Vec<JournalEntry> = journal::unfinished(db)?
        .into_iter()
        .filter(|e| {
            e.app == config.name
                && e.account == conn.identity.account
                && e.region == conn.ctx.region
                && deploying.as_deref() != Some(e.id.as_str())
        })
        .collect();
    let leftovers = leftovers(&unfinished, &observed, &cost);
    let balancer = if config.aws.load_balancer {
        balancer_status(conn, config, &names, &observed, service.is_some()).await?
    } else {
        None
    };
    // Behind the load balancer a task's own address does not admit visitors: each task
    // is reached at the stable address.
    let mut tasks: Vec<RunningTask> = tasks;
    if let Some(b) = &balancer {
        for task in tasks.iter_mut().filter(|t| t.from_service) {
            task.url = Some(b.url.clone());
        }
    }
    let status = AppStatus {
        app: config.name.clone(),
        account: conn.identity.account.clone(),
        region: conn.ctx.region.clone(),
        cluster: names.cluster,
        tasks,
        other_tasks,
        service,
        unfinished,
        leftovers,
        deploying,
        history,
        cost,
        balancer,
    };
    Ok((status, billed))
}

async fn balancer_status(
    conn: &Connection,
    config: &ProjectConfig,
    names: &ResourceNames,
    observed: &[Observed],
    has_service: bool,
) -> Result<Option<BalancerStatus>> {
    let Some(found) = super::balancer::find(
        conn,
        &names.load_balancer,
        &names.target_group,
        &names.alternate_target_group,
    )
    .await?
    else {
        return Ok(None);
    };
    let snapshots: Vec<TaskSnapshot> = observed.iter().map(|o| o.snapshot.clone()).collect();
    let targets = super::balancer::targets(conn, &found.target_group, &snapshots).await?;
    let scaling = if has_service {
        super::scaling::read(conn, &names.cluster, &config.name)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(app = %config.name, "reading the service's scaling: {e}");
                None
            })
    } else {
        None
    };
    Ok(Some(BalancerStatus {
        url: found.url(config.aws.domain.as_deref()),
        dns_name: found.dns_name,
        targets,
        scaling,
    }))
}

/// The running tasks that unfinished deploys started (by the journal's ARNs or their
/// startedBy mark).
fn leftovers(
    unfinished: &[JournalEntry],
    observed: &[Observed],
    cost: &RunningCost,
) -> Vec<Leftover> {
    let mut out = Vec::new();
    for entry in unfinished {
        let mark = format!("slipway-{}", entry.id);
        let why = match (entry.outcome, entry.summary.as_deref()) {
            (Some(_), Some(summary)) => format!(
                "Deploy {} of {} could not stop what it started: {summary}",
                entry.id, entry.version
            ),
            _ => format!(
                "Deploy {} of {} never finished: Slipway was closed or stopped while it ran.",
                entry.id, entry.version
            ),
        };
        for o in observed {
            let t = &o.snapshot;
            if entry.started_tasks.contains(&t.arn) || t.started_by.as_deref() == Some(&mark) {
                out.push(Leftover {
                    deploy_id: entry.id.clone(),
                    task_id: t.id().to_owned(),
                    task_arn: t.arn.clone(),
                    why: why.clone(),
                    cost_per_hour: cost
                        .tasks
                        .iter()
                        .find(|c| c.task_id == t.id())
                        .map(|c| c.per_hour),
                });
            }
        }
    }
    out
}

/// One of the app's running tasks as DescribeTasks and its network interface show it.
pub(crate) struct Observed {
    pub(crate) snapshot: TaskSnapshot,
    public_ip: Option<String>,
    platform: Platform,
}

impl Observed {
    pub(super) fn in_service(&self) -> bool {
        self.snapshot
            .started_by
            .as_deref()
            .is_some_and(|s| s.starts_with("ecs-svc/"))
    }

    pub(crate) fn billed(&self) -> Option<BilledTask> {
        let t = &self.snapshot;
        Some(BilledTask {
            task_id: t.id().to_owned(),
            task_arn: t.arn.clone(),
            cpu: t.cpu?,
            memory: t.memory?,
            platform: self.platform,
            billed_from: OffsetDateTime::from_unix_timestamp(t.billed_from?).ok()?,
            public_ip: self.public_ip.is_some(),
            from_service: self.in_service(),
        })
    }

    pub(crate) fn running(&self, port: u16, spent: Option<&TaskCost>) -> RunningTask {
        let t = &self.snapshot;
        RunningTask {
            task_id: t.id().to_owned(),
            task_arn: t.arn.clone(),
            status: t.last_status.clone(),
            health: t.health.clone(),
            revision: revision_of(&t.task_definition_arn),
            url: self
                .public_ip
                .as_ref()
                .map(|ip| format!("http://{ip}:{port}")),
            public_ip: self.public_ip.clone(),
            private_ip: t.private_ip.clone(),
            from_service: self.in_service(),
            started_at: spent.map(|c| c.billed_from.clone()),
            cpu: t.cpu,
            memory: t.memory,
            cost_so_far: spent.map(|c| c.so_far),
            cost_per_hour: spent.map(|c| c.per_hour),
        }
    }
}

/// The architecture each task definition runs on (its runtimePlatform; X86_64 when unset).
/// A revision never changes once registered and its ARN names account, region, family and
/// revision, so each is asked once per process and endpoint (an emulator reset may reuse
/// an ARN; AWS never does): later status refreshes ask nothing.
async fn platforms(conn: &Connection, arns: &[&str]) -> Result<HashMap<String, Platform>> {
    type Memo = HashMap<(Option<String>, String), Platform>;
    static KNOWN: std::sync::OnceLock<std::sync::Mutex<Memo>> = std::sync::OnceLock::new();
    let known = KNOWN.get_or_init(Default::default);
    let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
    let mut out = HashMap::new();
    for arn in arns {
        if out.contains_key(*arn) {
            continue;
        }
        let key = (conn.ctx.endpoint_url.clone(), (*arn).to_owned());
        if let Some(platform) = known.lock().expect("platform memo").get(&key) {
            out.insert((*arn).to_owned(), *platform);
            continue;
        }
        let answer = ecs
            .describe_task_definition()
            .task_definition(*arn)
            .send()
            .await
            .map_err(|e| classify(&conn.ctx, "ecs:DescribeTaskDefinition", e))?;
        let arm = answer
            .task_definition()
            .and_then(|d| d.runtime_platform())
            .and_then(|p| p.cpu_architecture())
            .is_some_and(|a| a.as_str() == "ARM64");
        let platform = if arm {
            Platform::LinuxArm64
        } else {
            Platform::LinuxAmd64
        };
        known.lock().expect("platform memo").insert(key, platform);
        out.insert((*arn).to_owned(), platform);
    }
    Ok(out)
}

pub(crate) async fn observe_tasks(
    conn: &Connection,
    cluster: &str,
    filter: TaskFilter<'_>,
) -> Result<Vec<Observed>> {
    let arns = list_tasks(conn, cluster, filter).await?;
    let snapshots: Vec<TaskSnapshot> = describe_tasks(conn, cluster, &arns)
        .await?
        .into_iter()
        .filter(|t| !t.is_stopping())
        .collect();
    let enis: Vec<String> = snapshots
        .iter()
        .filter_map(|t| t.network_interface.clone())
        .collect();
    let ips = public_ips(conn, &enis).await?;
    let unreported: Vec<&str> = snapshots
        .iter()
        .filter(|t| t.architecture.is_none())
        .map(|t| t.task_definition_arn.as_str())
        .collect();
    let by_definition = platforms(conn, &unreported).await?;
    Ok(snapshots
        .into_iter()
        .map(|t| {
            let platform = match t.architecture.as_deref() {
                Some("arm64") => Platform::LinuxArm64,
                Some(_) => Platform::LinuxAmd64,
                None => by_definition
                    .get(&t.task_definition_arn)
                    .copied()
                    .unwrap_or_default(),
            };
            Observed {
                public_ip: t
                    .network_interface
                    .as_ref()
                    .and_then(|eni| ips.get(eni).cloned()),
                snapshot: t,
                platform,
            }
        })
        .collect())
}

pub(super) async fn service_status(
    conn: &Connection,
    cluster: &str,
    name: &str,
) -> Result<Option<ServiceStatus>> {
    let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
    let answer = ecs
        .describe_services()
        .cluster(cluster)
        .services(name)
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "ecs:DescribeServices", e))?;
    Ok(answer
        .services()
        .iter()
        .find(|s| s.status() == Some("ACTIVE"))
        .map(|s| {
            let primary = s
                .deployments()
                .iter()
                .find(|d| d.status() == Some("PRIMARY"));
            ServiceStatus {
                name: s.service_name().unwrap_or(name).to_owned(),
                desired: s.desired_count(),
                running: s.running_count(),
                revision: s.task_definition().and_then(revision_of),
                rollout: primary
                    .and_then(|d| d.rollout_state())
                    .map(|r| r.as_str().to_owned()),
            }
        }))
}

/// Deploys the journal shows unfinished that are not running now (in this or another
/// window or terminal): cut short, or left needing attention. Newest first.
pub fn left_unfinished(db: &Path) -> Result<Vec<JournalEntry>> {
    let locks = db.parent().map(|data| data.join("locks"));
    Ok(journal::unfinished(db)?
        .into_iter()
        .filter(|e| {
            locks
                .as_ref()
                .and_then(|l| super::lock::holder(l, &e.account, &e.region, &e.app))
                .is_none_or(|h| h.deploy() != Some(e.id.as_str()))
        })
        .collect())
}

/// Closes an unfinished deploy: with `stop`, stops exactly the tasks it started (the
/// journal's ARNs and its startedBy mark) and puts back a service it created or updated;
/// without, records that the user keeps them. A stop that could not finish leaves the
/// deploy open as needing attention, saying what still runs. Returns the entry as it is
/// now. A deploy that is running now (its lock is held) is refused.
pub async fn settle_unfinished(
    db: &Path,
    conn: &Connection,
    deploy_id: &str,
    stop: bool,
) -> Result<JournalEntry> {
    let entry = journal::get(db, deploy_id)?
        .filter(|e| e.finished_at.is_none())
        .ok_or_else(|| EngineError::DeployNotFound {
            deploy_id: deploy_id.to_owned(),
        })?;
    if entry.account != conn.identity.account || entry.region != conn.ctx.region {
        return Err(EngineError::DeployElsewhere {
            deploy_id: deploy_id.to_owned(),
            account: entry.account,
            region: entry.region,
        });
    }
    if let Some(holder) = db.parent().and_then(|data| {
        super::lock::holder(
            &data.join("locks"),
            &entry.account,
            &entry.region,
            &entry.app,
        )
    }) {
        if holder.deploy() == Some(entry.id.as_str()) {
            return Err(EngineError::DeployInProgress {
                app: entry.app,
                region: entry.region,
                holder: format!(
                    "deploy {} in {} (process {})",
                    holder.deploy_id, holder.by, holder.pid
                ),
                since: "it started".to_owned(),
                then: "wait for it to finish, or cancel it there".to_owned(),
            });
        }
    }
    let journal = journal::Journal::reopen(db, deploy_id);
    if !stop {
        journal::finish(
            db,
            deploy_id,
            journal::Outcome::Abandoned,
            None,
            "closed after a restart; the tasks it started were kept running",
        )?;
    } else {
        let until = std::time::Instant::now() + super::undo::UNDO_BUDGET;
        let mut undone = super::undo::stop_deploy_tasks(
            conn,
            &entry.cluster,
            &journal,
            &format!("slipway-{}", entry.id),
            "Unfinished deploy stopped in Slipway",
            until,
        )
        .await;
        if let Some(service) = &entry.service {
            let restored =
                super::undo::restore_service(conn, &entry.cluster, service, &journal, until, false)
                    .await;
            undone.service = restored.service;
            undone.service_left = restored.service_left;
        }
        if undone.complete() {
            journal::finish(
                db,
                deploy_id,
                journal::Outcome::Abandoned,
                None,
                &format!("closed after a restart: {}", undone.said()),
            )?;
        } else {
            journal.needs_attention(&undone.said())?;
        }
    }
    journal::get(db, deploy_id)?.ok_or_else(|| EngineError::DeployNotFound {
        deploy_id: deploy_id.to_owned(),
    })
}
