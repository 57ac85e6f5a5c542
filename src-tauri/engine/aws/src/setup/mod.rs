//! Setting up an app's AWS infrastructure, as a plan and then its application: the ECR
//! repository, the ECS cluster, the log group, the task execution role, the security
//! group, and the public subnets to run in. Observing is read-only (`observe`), deciding
//! is a pure function (`plan::decide`), and `apply` makes exactly the plan's changes, so a
//! second run finds nothing to do. Removal lives in `crate::teardown`.

mod apply;
pub mod confirm;
pub mod names;
pub mod network;
pub(crate) mod observe;
pub mod plan;
pub mod policy;

use std::path::Path;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

pub use apply::apply_setup;
pub use confirm::{confirmed_changes, Confirmed};
pub use names::ResourceNames;
pub use network::{my_public_ip, IngressRule, ObservedSubnet, SubnetVerdict};
pub use observe::{observe, Observed, ObservedCluster, ObservedLogGroup, ObservedRepository};
pub use observe::{ObservedRole, ObservedSecurityGroup, VpcChoice};
pub use plan::{decide, Wanted};

use crate::aws::{AwsTarget, Connection, CredentialSource};
use slipway_core::error::{EngineError, Result};
use slipway_core::host::HostEnv;
use slipway_core::project::{AwsSettings, ProjectConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum ResourceKind {
    Repository,
    Cluster,
    LogGroup,
    ExecutionRole,
    SecurityGroup,
    Subnets,
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
        }
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

/// One change apply makes, in the order it makes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum Change {
    CreateRepository {
        name: String,
    },
    EnableScanOnPush {
        name: String,
    },
    CreateCluster {
        name: String,
    },
    CreateLogGroup {
        name: String,
        retention_days: i32,
    },
    SetLogRetention {
        name: String,
        retention_days: i32,
    },
    CreateRole {
        name: String,
    },
    /// `document` keeps the statements the role already had.
    TrustEcsTasks {
        role: String,
        document: String,
    },
    /// Replaces the broad managed policy earlier versions attached; comes after the
    /// scoped policy is in place, so the role is never left unable to start a task.
    DetachPolicy {
        role: String,
        policy_arn: String,
    },
    PutInlinePolicy {
        role: String,
        policy: String,
        document: String,
    },
    DeleteInlinePolicy {
        role: String,
        policy: String,
    },
    CreateSecurityGroup {
        name: String,
        vpc: String,
    },
    /// `group` is `None` for the group this same apply creates.
    AllowIngress {
        group: Option<String>,
        port: u16,
        cidr: String,
    },
    RevokeIngress {
        group: String,
        rule: IngressRule,
    },
    /// Adopts a resource an older Slipway made (tagged for the app, but with no project):
    /// `target` is what the tagging call names (an ARN, a role name, a group id).
    TagProject {
        kind: ResourceKind,
        target: String,
        project: String,
    },
}

impl Change {
    pub fn kind(&self) -> ResourceKind {
        match self {
            Self::CreateRepository { .. } | Self::EnableScanOnPush { .. } => {
                ResourceKind::Repository
            }
            Self::CreateCluster { .. } => ResourceKind::Cluster,
            Self::CreateLogGroup { .. } | Self::SetLogRetention { .. } => ResourceKind::LogGroup,
            Self::CreateRole { .. }
            | Self::TrustEcsTasks { .. }
            | Self::DetachPolicy { .. }
            | Self::PutInlinePolicy { .. }
            | Self::DeleteInlinePolicy { .. } => ResourceKind::ExecutionRole,
            Self::CreateSecurityGroup { .. }
            | Self::AllowIngress { .. }
            | Self::RevokeIngress { .. } => ResourceKind::SecurityGroup,
            Self::TagProject { kind, .. } => *kind,
        }
    }

    /// The change as the step of a sentence ("create the ECR repository hello").
    pub fn describe(&self) -> String {
        match self {
            Self::CreateRepository { name } => format!("create the ECR repository {name}"),
            Self::EnableScanOnPush { name } => format!("turn on scan on push for {name}"),
            Self::CreateCluster { name } => format!("create the ECS cluster {name}"),
            Self::CreateLogGroup {
                name,
                retention_days,
            } => format!("create the log group {name} (keeps logs {retention_days} days)"),
            Self::SetLogRetention {
                name,
                retention_days,
            } => format!("set {name} to keep logs {retention_days} days"),
            Self::CreateRole { name } => format!("create the IAM role {name}"),
            Self::TrustEcsTasks { role, .. } => format!("let ECS tasks assume {role}"),
            Self::DetachPolicy { role, policy_arn } => {
                let short = policy_arn.rsplit('/').next().unwrap_or(policy_arn);
                format!("replace broad ECR/logs access ({short}) on {role} with access to this app's repository and log group only")
            }
            Self::PutInlinePolicy { role, policy, .. } => {
                format!("write the policy {policy} of {role}")
            }
            Self::DeleteInlinePolicy { role, policy } => {
                format!("remove the policy {policy} from {role} (no longer needed)")
            }
            Self::CreateSecurityGroup { name, vpc } => {
                format!("create the security group {name} in {vpc}")
            }
            Self::AllowIngress { port, cidr, .. } => format!("allow TCP {port} from {cidr}"),
            Self::RevokeIngress { rule, .. } => {
                format!("remove the rule {} (no longer wanted)", rule.describe())
            }
            Self::TagProject { project, .. } => format!(
                "tag it with this project's id ({project}): an older Slipway made it for this app"
            ),
        }
    }

    /// What to tell the user when AWS refuses this change, beyond AWS's own words.
    /// (Only given when AWS denied the action.)
    pub fn fix(&self) -> Option<String> {
        match self {
            Self::CreateRole { .. }
            | Self::TrustEcsTasks { .. }
            | Self::DetachPolicy { .. }
            | Self::PutInlinePolicy { .. }
            | Self::DeleteInlinePolicy { .. } => Some(
                "Creating the execution role needs IAM permissions (iam:CreateRole, iam:TagRole, iam:PutRolePolicy, iam:DeleteRolePolicy, iam:DetachRolePolicy, iam:UpdateAssumeRolePolicy); an administrator can create it once and Slipway will use it.".to_owned(),
            ),
            Self::TagProject { .. } => Some(
                "Tagging needs the service's tag permission (ecr:TagResource, ecs:TagResource, logs:TagResource, iam:TagRole or ec2:CreateTags).".to_owned(),
            ),
            Self::CreateSecurityGroup { .. } | Self::AllowIngress { .. } | Self::RevokeIngress { .. } => Some(
                "Check that the VPC still exists and that these credentials may change its security groups (ec2:CreateSecurityGroup, ec2:CreateTags, ec2:AuthorizeSecurityGroupIngress).".to_owned(),
            ),
            Self::CreateRepository { .. } | Self::EnableScanOnPush { .. } => Some(
                "These credentials need ecr:CreateRepository, ecr:TagResource and ecr:PutImageScanningConfiguration.".to_owned(),
            ),
            Self::CreateCluster { .. } => Some(
                "These credentials need ecs:CreateCluster and ecs:TagResource.".to_owned(),
            ),
            Self::CreateLogGroup { .. } | Self::SetLogRetention { .. } => Some(
                "These credentials need logs:CreateLogGroup, logs:TagResource and logs:PutRetentionPolicy.".to_owned(),
            ),
        }
    }
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
}

impl SetupPlan {
    /// What is not ready, in words ("ECR repository x is missing"), as a deploy refused for
    /// it says; empty when everything is.
    pub fn not_ready(&self) -> Vec<String> {
        self.resources
            .iter()
            .filter(|r| !matches!(r.state, ResourceState::Ready))
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

    /// True when every resource is ready, the public subnets included.
    pub fn ready(&self) -> bool {
        self.resources
            .iter()
            .all(|r| matches!(r.state, ResourceState::Ready))
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
    let observed = observe(connection, &wanted.names, wanted.vpc.as_deref()).await?;
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
