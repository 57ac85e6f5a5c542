//! Setting up an app's AWS infrastructure, as a plan and then its application: the ECR
//! repository, the ECS cluster, the log group, the task execution role, the security
//! group, and the public subnets to run in; with a load balancer (`balancer`), its
//! security group, the Application Load Balancer, its target group and listeners, and
//! HTTPS on the user's domain (certificate and DNS records). Observing is read-only (`observe`), deciding
//! is a pure function (`plan::decide`), and `apply` makes exactly the plan's changes, so a
//! second run finds nothing to do. Removal lives in `crate::teardown`.

mod apply;
pub mod balancer;
mod change;
pub mod confirm;
pub mod names;
pub mod network;
pub(crate) mod observe;
pub mod plan;
pub mod policy;
mod want;

use std::path::Path;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

pub use apply::apply_setup;
pub use balancer::{BalancerWanted, DnsRecord};
pub use balancer::{ObservedCertificate, ObservedListener, ObservedLoadBalancer};
pub use balancer::{ObservedRecord, ObservedTargetGroup, ObservedZone};
pub use change::Change;
pub use confirm::{confirmed_changes, Confirmed};
pub use names::ResourceNames;
pub use network::{my_public_ip, GroupIngressRule, IngressRule, ObservedSubnet, SubnetVerdict};
pub use observe::{
    observe, observe_for, Observed, ObservedCluster, ObservedLogGroup, ObservedRepository,
};
pub use observe::{ObservedRole, ObservedSecurityGroup, VpcChoice};
pub use plan::stable::stable_url;
pub use plan::{decide, Wanted};

use crate::aws::{AwsTarget, Connection, CredentialSource};
use slipway_core::error::{EngineError, Result};
use slipway_core::host::HostEnv;
use slipway_core::project::{AwsSettings, HealthProbe, ProjectConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum ResourceKind {
    Repository,
    Cluster,
    LogGroup,
    ExecutionRole,
    /// The load balancer's own security group; before the app's, whose rule names it.
    BalancerSecurityGroup,
    SecurityGroup,
    Subnets,
    LoadBalancer,
    TargetGroup,
    /// The HTTP listener on port 80.
    Listener,
    Certificate,
    DnsRecords,
    /// HTTPS on port 443, and port 80's redirect to it.
    HttpsListener,
    /// Blue/green deploys: the second target group, the production rule and ECS's role.
    BlueGreen,
}

impl ResourceKind {
    pub fn title(self) -> &'static str {
        match self {
            Self::Repository => "ECR repository",
            Self::Cluster => "ECS cluster",
            Self::LogGroup => "CloudWatch log group",
            Self::ExecutionRole => "Task execution role",
            Self::SecurityGroup => "Security group",
            Self::Subnets => "Public subnets",
            Self::BalancerSecurityGroup => "Load balancer security group",
            Self::LoadBalancer => "Load balancer",
            Self::TargetGroup => "Target group",
            Self::Listener => "HTTP listener",
            Self::Certificate => "Certificate",
            Self::DnsRecords => "DNS records",
            Self::HttpsListener => "HTTPS listener",
            Self::BlueGreen => "Blue/green switch",
        }
    }

    /// True for what a deploy can do without: HTTPS on the user's domain waits for the
    /// certificate, and HTTP works meanwhile.
    pub fn optional_for_deploy(self) -> bool {
        matches!(
            self,
            Self::Certificate | Self::DnsRecords | Self::HttpsListener
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum ResourceState {
    /// Exists and is as the app needs it.
    Ready,
    WillCreate,
    /// Exists; apply will make these changes.
    WillChange {
        changes: Vec<String>,
    },
    /// Apply cannot make this right; the reason and what the user can do.
    Blocked {
        reason: String,
        fix: String,
    },
    /// Waits on something outside apply (AWS validating a certificate, the user adding DNS
    /// records at their provider); the app works meanwhile. `next` says what happens or
    /// what the user does.
    Waiting {
        reason: String,
        next: String,
    },
}

/// Who made a resource, which decides whether teardown may remove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum Owner {
    /// Tagged as Slipway's, for this app and this project (or by an older Slipway, and
    /// adopted by this project).
    Slipway,
    /// Same name, not tagged by Slipway: used as it is, never removed.
    Someone,
    /// Made by Slipway for another project with the same app name: used as it is, never
    /// changed, never removed.
    OtherProject,
    /// Does not exist yet.
    Nobody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PlannedResource {
    pub kind: ResourceKind,
    pub title: String,
    pub name: String,
    /// ARN or id, once it exists.
    pub id: Option<String>,
    pub state: ResourceState,
    pub owner: Owner,
    /// What it is or will be, in words ("scan on push", "keeps logs 30 days").
    pub facts: Vec<String>,
}

/// What setup would do for one app in one account and region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SetupPlan {
    pub app: String,
    pub account: String,
    pub region: String,
    pub names: ResourceNames,
    /// The VPC in use, and the others the user could choose.
    pub vpc: Option<VpcChoice>,
    pub vpcs: Vec<VpcChoice>,
    pub resources: Vec<PlannedResource>,
    pub subnets: Vec<SubnetVerdict>,
    pub warnings: Vec<String>,
    pub changes: Vec<Change>,
    /// The records the user must add at their DNS provider (the domain's hosted zone is not
    /// in this account); empty otherwise. Those whose value is not known yet are left out
    /// and said in the DNS records' facts.
    pub dns_records: Vec<DnsRecord>,
}

impl SetupPlan {
    /// What is not ready for a deploy, in words ("ECR repository x is missing"), as a
    /// deploy refused for it says; empty when everything is. HTTPS on the user's domain is
    /// not needed for a deploy (HTTP works while the certificate waits), so it is left out.
    pub fn not_ready(&self) -> Vec<String> {
        self.resources
            .iter()
            .filter(|r| !r.kind.optional_for_deploy())
            .filter(|r| {
                !matches!(
                    r.state,
                    ResourceState::Ready | ResourceState::Waiting { .. }
                )
            })
            .map(|r| match &r.state {
                ResourceState::Blocked { reason, .. } => {
                    format!("{} {} ({reason})", r.title, r.name)
                }
                ResourceState::WillCreate => format!("{} {} is missing", r.title, r.name),
                _ => format!("{} {} needs changes", r.title, r.name),
            })
            .collect()
    }
}

impl SetupPlan {
    pub fn nothing_to_do(&self) -> bool {
        self.changes.is_empty()
    }

    /// True when every resource is ready, the public subnets included; one that waits on
    /// AWS or the user (a certificate being validated) counts, as the app works without it.
    pub fn ready(&self) -> bool {
        self.resources.iter().all(|r| {
            matches!(
                r.state,
                ResourceState::Ready | ResourceState::Waiting { .. }
            )
        })
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(tag = "type", content = "data")]
pub enum SetupEvent {
    /// The plan apply is about to carry out: observed afresh, and holding only the changes
    /// that the plan the user confirmed listed too (see [`confirm::confirmed_changes`]).
    Planned(Box<SetupPlan>),
    /// A resource apply leaves alone because the account changed since the user reviewed
    /// the plan; `reason` says so in words.
    Skipped {
        kind: ResourceKind,
        reason: String,
    },
    ResourceStarted {
        kind: ResourceKind,
    },
    ChangeApplied {
        kind: ResourceKind,
        change: String,
    },
    ResourceReady {
        kind: ResourceKind,
    },
}

/// The wanted state for `config` on `connection`, after checking every name.
pub fn wanted(config: &ProjectConfig, connection: &Connection) -> Result<Wanted> {
    let names = ResourceNames::for_app(&config.name, &connection.ctx.region)
        .map_err(|problems| EngineError::InvalidResourceNames { problems })?;
    let port = u16::try_from(config.port).map_err(|_| EngineError::InvalidInput {
        what: "The container port".to_owned(),
        reason: format!("{} is not between 1 and 65535", config.port),
    })?;
    let balancer = config.aws.load_balancer.then(|| BalancerWanted {
        health_path: match &config.health.probe {
            HealthProbe::Http { path } if path.starts_with('/') => path.clone(),
            _ => "/".to_owned(),
        },
        sticky_seconds: config.aws.sticky_seconds,
        bake_minutes: config.aws.bake_minutes,
        domain: config
            .aws
            .domain
            .as_deref()
            .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
            .filter(|d| !d.is_empty()),
    });
    network::parse_cidr(config.aws.allow_from()).map_err(|reason| EngineError::InvalidInput {
        what: "Allowed addresses (aws.allow_from)".to_owned(),
        reason,
    })?;
    Ok(Wanted {
        app: config.name.clone(),
        project: config.id.clone(),
        names,
        scope: policy::ArnScope::new(&connection.ctx.region, &connection.identity.account),
        port,
        allow_from: config.aws.allow_from().to_owned(),
        retention_days: config.aws.log_retention_days() as i32,
        secret_refs: config.secrets.iter().map(|s| s.value.clone()).collect(),
        vpc: config.aws.vpc.clone(),
        balancer,
    })
}

/// The AWS target a project works with: the profile and region in its slipway.toml, and
/// the endpoint override given (a CLI flag), else the one saved in Slipway's settings.
pub fn target_for(
    host: &HostEnv,
    aws: &AwsSettings,
    endpoint_override: Option<String>,
) -> Result<AwsTarget> {
    let endpoint_url = match endpoint_override {
        Some(url) => Some(url),
        None => slipway_core::settings::load(host)?.aws_endpoint_url,
    };
    Ok(AwsTarget {
        source: match &aws.profile {
            Some(name) => CredentialSource::Profile(name.clone()),
            None => CredentialSource::Default,
        },
        region: aws.region.clone(),
        endpoint_url,
    })
}

/// Opens the saved project in `dir`, gives it an id when it has none yet (written into its
/// slipway.toml: setup and teardown tag and recognise resources by it), and connects.
pub async fn connect_to_set_up(
    host: &HostEnv,
    dir: &Path,
    endpoint_override: Option<String>,
    now: SystemTime,
) -> Result<(ProjectConfig, Connection)> {
    let (config, connection) = connect_project(host, dir, endpoint_override, now).await?;
    let id = match config.id {
        Some(id) => id,
        None => slipway_core::project::ensure_id(dir)?,
    };
    Ok((
        ProjectConfig {
            id: Some(id),
            ..config
        },
        connection,
    ))
}

/// Opens the saved project in `dir` and connects with its target.
pub async fn connect_project(
    host: &HostEnv,
    dir: &Path,
    endpoint_override: Option<String>,
    now: SystemTime,
) -> Result<(ProjectConfig, Connection)> {
    let (_, config) = slipway_core::project::open_saved(dir)?;
    let target = target_for(host, &config.aws, endpoint_override)?;
    let connection = crate::aws::connect(host, &target, now).await?;
    Ok((config, connection))
}

/// The record's spelling of where a project connects (profile, region, endpoint).
fn target_key(target: &AwsTarget) -> String {
    serde_json::to_string(target).unwrap_or_default()
}

/// The user's Connect: connects as [`connect_project`] does, and remembers that they did,
/// with that target, so opening the project again connects it again
/// ([`reconnect_project`]).
pub async fn connect_project_by_choice(
    host: &HostEnv,
    dir: &Path,
    endpoint_override: Option<String>,
    now: SystemTime,
) -> Result<(ProjectConfig, Connection)> {
    let (config, connection) = connect_project(host, dir, endpoint_override.clone(), now).await?;
    let key = target_key(&target_for(host, &config.aws, endpoint_override)?);
    let (host, dir) = (host.clone(), dir.to_owned());
    // Not remembering only costs a click at the next opening: the connection stands.
    let remembered = tokio::task::spawn_blocking(move || {
        slipway_core::project::remember_connected(&host, &dir, &key)
    })
    .await;
    if let Ok(Err(e)) = remembered {
        tracing::warn!(error = %e, "could not remember that the project connected");
    }
    Ok((config, connection))
}

/// Whether opening the project in `dir` connects it again ([`reconnect_project`]): the
/// user connected it from this computer before with the target its slipway.toml names now
/// (or deployed it from here). Reads only the local record, so the window can say
/// "connecting as before" only when that is what happens. A record that cannot be read
/// counts as never connected: the user presses Connect, as the first time.
pub async fn connects_again(
    host: &HostEnv,
    dir: &Path,
    endpoint_override: Option<String>,
) -> Result<bool> {
    if !dir.join(slipway_core::project::PROJECT_FILE).is_file() {
        return Ok(false);
    }
    let (_, config) = slipway_core::project::open_saved(dir)?;
    let key = target_key(&target_for(host, &config.aws, endpoint_override)?);
    let (h, d) = (host.clone(), dir.to_owned());
    let known =
        tokio::task::spawn_blocking(move || slipway_core::project::was_connected(&h, &d, &key))
            .await
            .map_err(|e| e.to_string())
            .and_then(|read| read.map_err(|e| e.to_string()));
    Ok(known.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "could not read whether the project connected before");
        false
    }))
}

/// Connects the project in `dir` again when [`connects_again`] says so: its credentials
/// may have expired since, which is the error. `None` when it never connected, names
/// another profile, region or endpoint now, or has no saved settings yet.
pub async fn reconnect_project(
    host: &HostEnv,
    dir: &Path,
    endpoint_override: Option<String>,
    now: SystemTime,
) -> Result<Option<(ProjectConfig, Connection)>> {
    if !connects_again(host, dir, endpoint_override.clone()).await? {
        return Ok(None);
    }
    connect_project(host, dir, endpoint_override, now)
        .await
        .map(Some)
}

/// Observes the account and decides; makes no change.
pub async fn plan_setup(connection: &Connection, config: &ProjectConfig) -> Result<SetupPlan> {
    let wanted = wanted(config, connection)?;
    let observed = observe_for(connection, &wanted).await?;
    Ok(decide(&wanted, &observed))
}

/// Slipway's record of what it created, kept so that the next apply and teardown can say
/// when and by which run something was made. AWS tags stay the source of truth.
pub(crate) fn record_created(
    db: &Path,
    connection: &Connection,
    app: &str,
    kind: ResourceKind,
    name: &str,
    id: Option<&str>,
) -> Result<()> {
    let conn = slipway_core::store::open_at(db)?;
    conn.execute(
        "INSERT OR REPLACE INTO aws_resources (account, region, app, kind, name, id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%s','now'))",
        rusqlite::params![
            connection.identity.account,
            connection.ctx.region,
            app,
            format!("{kind:?}"),
            name,
            id
        ],
    )
    .map_err(|e| slipway_core::store::storage_error(db, e))?;
    Ok(())
}

pub(crate) fn forget_created(
    db: &Path,
    connection: &Connection,
    app: &str,
    kind: ResourceKind,
) -> Result<()> {
    let conn = slipway_core::store::open_at(db)?;
    conn.execute(
        "DELETE FROM aws_resources WHERE account = ?1 AND region = ?2 AND app = ?3 AND kind = ?4",
        rusqlite::params![
            connection.identity.account,
            connection.ctx.region,
            app,
            format!("{kind:?}")
        ],
    )
    .map_err(|e| slipway_core::store::storage_error(db, e))?;
    Ok(())
}

/// What Slipway has recorded as created for `app` (kind, name), oldest first.
pub fn recorded_resources(
    db: &Path,
    account: &str,
    region: &str,
    app: &str,
) -> Result<Vec<(String, String)>> {
    let conn = slipway_core::store::open_at(db)?;
    let mut statement = conn
        .prepare(
            "SELECT kind, name FROM aws_resources WHERE account = ?1 AND region = ?2 AND app = ?3
             ORDER BY created_at, rowid",
        )
        .map_err(|e| slipway_core::store::storage_error(db, e))?;
    let rows = statement
        .query_map(rusqlite::params![account, region, app], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .map_err(|e| slipway_core::store::storage_error(db, e))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| slipway_core::store::storage_error(db, e))
}
