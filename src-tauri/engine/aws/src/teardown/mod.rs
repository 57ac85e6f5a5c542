//! Removing an app from AWS: exactly what Slipway created for it in this project, found by
//! its tags, after stopping the app's services and tasks. Like setup, a plan first (pure,
//! from what was observed, here) and then the application of the plan the user confirmed
//! (`apply`), never more than it listed. A resource of the same name without Slipway's
//! tags, or made by another project with the same app name, is listed as kept and never
//! touched. The load balancer's side is decided in `balancer`.

mod apply;
mod balancer;
mod observe;

use serde::{Deserialize, Serialize};

pub use apply::apply_teardown;
pub use balancer::{record_label, TeardownBalancer};
use observe::observe_teardown;

use crate::aws::Connection;
use crate::setup::balancer::{ObservedCertificate, ObservedRecord};
use crate::setup::names::{ownership, Ownership, ResourceNames, Tags};
use crate::setup::ResourceKind;
use slipway_core::error::{EngineError, Result};
use slipway_core::project::ProjectConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum TeardownStep {
    Services,
    /// The services' Application Auto Scaling targets (and their policies).
    ScalingTarget,
    Tasks,
    TaskDefinitions,
    Cluster,
    DnsRecords,
    Listeners,
    LoadBalancer,
    TargetGroup,
    /// Blue/green's second target group.
    AlternateTargetGroup,
    SecurityGroup,
    BalancerSecurityGroup,
    Certificate,
    ExecutionRole,
    /// The role ECS took to move traffic in blue/green deploys.
    InfrastructureRole,
    LogGroup,
    Repository,
}

impl TeardownStep {
    pub fn title(self) -> &'static str {
        match self {
            Self::Services => "ECS services",
            Self::ScalingTarget => "Auto scaling",
            Self::DnsRecords => "DNS records",
            Self::Listeners => "Load balancer listeners",
            Self::LoadBalancer => "Load balancer",
            Self::TargetGroup => "Target group",
            Self::AlternateTargetGroup => "Second target group (blue/green)",
            Self::InfrastructureRole => "Blue/green role",
            Self::BalancerSecurityGroup => "Load balancer security group",
            Self::Certificate => "Certificate",
            Self::Tasks => "Running tasks",
            Self::TaskDefinitions => "Task definitions",
            Self::Cluster => "ECS cluster",
            Self::SecurityGroup => "Security group",
            Self::ExecutionRole => "Task execution role",
            Self::LogGroup => "CloudWatch log group",
            Self::Repository => "ECR repository",
        }
    }

    fn resource_kind(self) -> Option<ResourceKind> {
        match self {
            Self::Cluster => Some(ResourceKind::Cluster),
            Self::SecurityGroup => Some(ResourceKind::SecurityGroup),
            Self::ExecutionRole => Some(ResourceKind::ExecutionRole),
            Self::LogGroup => Some(ResourceKind::LogGroup),
            Self::Repository => Some(ResourceKind::Repository),
            Self::LoadBalancer => Some(ResourceKind::LoadBalancer),
            Self::TargetGroup => Some(ResourceKind::TargetGroup),
            Self::BalancerSecurityGroup => Some(ResourceKind::BalancerSecurityGroup),
            Self::Certificate => Some(ResourceKind::Certificate),
            // The last of blue/green's to go.
            Self::InfrastructureRole => Some(ResourceKind::BlueGreen),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum TeardownAction {
    /// Slipway's: will be removed; `details` says what goes with it.
    Remove { details: Vec<String> },
    /// Same name but not created by Slipway for this app: left exactly as it is.
    Keep { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TeardownItem {
    pub step: TeardownStep,
    pub title: String,
    /// Names or ids; several for tasks, services and task definitions.
    pub names: Vec<String>,
    pub action: TeardownAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TeardownPlan {
    pub app: String,
    pub account: String,
    pub region: String,
    pub items: Vec<TeardownItem>,
}

impl TeardownPlan {
    pub fn nothing_to_do(&self) -> bool {
        !self
            .items
            .iter()
            .any(|i| matches!(i.action, TeardownAction::Remove { .. }))
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(tag = "type", content = "data")]
pub enum TeardownEvent {
    Planned(TeardownPlan),
    StepStarted {
        step: TeardownStep,
    },
    StepDone {
        step: TeardownStep,
    },
    /// Something the plan observed just now would remove but the plan the user confirmed
    /// did not list: left as it is, with the reason in words.
    Skipped {
        step: TeardownStep,
        reason: String,
    },
    /// Waiting for something AWS does in its own time (tasks stopping, network interfaces
    /// being released), with what is awaited.
    Waiting {
        step: TeardownStep,
        what: String,
    },
}

/// What exists for the app, with the tags that say whose it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeardownObserved {
    pub cluster: Option<(String, Tags)>,
    /// Services and running tasks in the app's cluster that carry the app's tags (in any
    /// project), with their tags.
    pub services: Vec<(String, Tags)>,
    pub tasks: Vec<(String, Tags)>,
    /// Services and tasks in that cluster that are not the app's: the cluster stays.
    pub others_in_cluster: usize,
    pub task_definitions: Vec<(String, Tags)>,
    /// Security groups tagged for the app, in any VPC and any project, with their tags, and
    /// a same-named untagged one.
    pub security_groups: Vec<(String, Tags)>,
    pub untagged_security_group: Option<String>,
    pub role: Option<(String, Tags)>,
    pub log_group: Option<(String, Tags)>,
    pub repository: Option<(String, Tags, usize)>,
    /// The Application Auto Scaling targets of services in the app's cluster
    /// (`service/<cluster>/<service>`), with the tags of the service each scales (empty
    /// when that service is gone); other apps' services' targets are not listed.
    pub scaling_targets: Vec<(String, Tags)>,
    pub load_balancer: Option<TeardownBalancer>,
    pub target_group: Option<(String, Tags)>,
    pub alternate_target_group: Option<(String, Tags)>,
    pub infrastructure_role: Option<(String, Tags)>,
    /// Security groups tagged for the app and named as its load balancer's.
    pub balancer_security_groups: Vec<(String, Tags)>,
    /// Certificates tagged for the app (in any project).
    pub certificates: Vec<ObservedCertificate>,
    /// The records, by zone, named like the project's domain, its certificates' domains and
    /// their validation records: teardown removes only those whose value Slipway wrote.
    pub dns_records: Vec<(String, ObservedRecord)>,
}

/// The teardown plan, a pure function of what was observed. `project` is the project's id:
/// what another project of the same app name made is kept.
pub fn decide_teardown(
    app: &str,
    project: Option<&str>,
    names: &ResourceNames,
    o: &TeardownObserved,
) -> Vec<TeardownItem> {
    let mut items = Vec::new();
    let item = |step: TeardownStep, names: Vec<String>, action| TeardownItem {
        step,
        title: step.title().to_owned(),
        names,
        action,
    };
    let whose = |tags: &Tags| ownership(tags, app, project);
    let keep = |who: Ownership| TeardownAction::Keep {
        reason: match who {
            Ownership::OtherProject => {
                "made by another Slipway project with the same app name, so it stays".to_owned()
            }
            _ => "not created by Slipway for this app (no Slipway tags), so it stays".to_owned(),
        },
    };
    let cluster_is_others = o
        .cluster
        .as_ref()
        .is_some_and(|(_, tags)| whose(tags) == Ownership::OtherProject);
    // What deploys start carries no project tag when an older Slipway started it: it is
    // this project's unless the cluster it runs in is another project's.
    let ours = |tags: &Tags| match whose(tags) {
        Ownership::Ours => true,
        Ownership::OursUntagged => !cluster_is_others,
        Ownership::OtherProject | Ownership::NotSlipways => false,
    };
    let split = |list: &[(String, Tags)]| -> (Vec<String>, usize) {
        let mine: Vec<String> = list
            .iter()
            .filter(|(_, tags)| ours(tags))
            .map(|(name, _)| name.clone())
            .collect();
        let others = list.len() - mine.len();
        (mine, others)
    };
    let (services, other_services) = split(&o.services);
    let (tasks, other_tasks) = split(&o.tasks);
    let (task_definitions, _) = split(&o.task_definitions);
    let others_in_cluster = o.others_in_cluster + other_services + other_tasks;
    if !services.is_empty() {
        items.push(item(
            TeardownStep::Services,
            services,
            TeardownAction::Remove {
                details: vec!["scaled to 0, then deleted".to_owned()],
            },
        ));
    }
    let cluster_ours = o
        .cluster
        .as_ref()
        .is_some_and(|(_, tags)| whose(tags).is_ours());
    items.extend(balancer::scaling_item(o, &ours, cluster_ours));
    if !tasks.is_empty() {
        items.push(item(
            TeardownStep::Tasks,
            tasks,
            TeardownAction::Remove {
                details: vec!["stopped (they stop costing money)".to_owned()],
            },
        ));
    }
    if !task_definitions.is_empty() {
        items.push(item(
            TeardownStep::TaskDefinitions,
            task_definitions,
            TeardownAction::Remove {
                details: vec!["deregistered".to_owned()],
            },
        ));
    }
    if let Some((_, tags)) = &o.cluster {
        let who = whose(tags);
        let action = match (who.is_ours(), others_in_cluster) {
            (false, _) => keep(who),
            (true, 0) => TeardownAction::Remove { details: vec![] },
            (true, others) => TeardownAction::Keep {
                reason: format!(
                    "it also runs {others} service(s) or task(s) that are not this app's, so it stays"
                ),
            },
        };
        items.push(item(
            TeardownStep::Cluster,
            vec![names.cluster.clone()],
            action,
        ));
    }
    items.extend(balancer::balancer_items(o, names, &whose, &keep));
    let (groups, other_groups): (Vec<_>, Vec<_>) = o
        .security_groups
        .iter()
        .partition(|(_, tags)| whose(tags).is_ours());
    if !groups.is_empty() {
        items.push(item(
            TeardownStep::SecurityGroup,
            groups.into_iter().map(|(id, _)| id.clone()).collect(),
            TeardownAction::Remove { details: vec![] },
        ));
    }
    if !other_groups.is_empty() {
        items.push(item(
            TeardownStep::SecurityGroup,
            other_groups.into_iter().map(|(id, _)| id.clone()).collect(),
            keep(Ownership::OtherProject),
        ));
    }
    if let Some(id) = &o.untagged_security_group {
        items.push(item(
            TeardownStep::SecurityGroup,
            vec![id.clone()],
            keep(Ownership::NotSlipways),
        ));
    }
    items.extend(balancer::after_group_items(o, &whose, &keep));
    let singles = [
        (
            TeardownStep::ExecutionRole,
            &names.execution_role,
            o.role.as_ref().map(|(_, tags)| tags),
            "its policies are detached and deleted first".to_owned(),
        ),
        (
            TeardownStep::InfrastructureRole,
            &names.infrastructure_role,
            o.infrastructure_role.as_ref().map(|(_, tags)| tags),
            "its policy is detached first".to_owned(),
        ),
        (
            TeardownStep::LogGroup,
            &names.log_group,
            o.log_group.as_ref().map(|(_, tags)| tags),
            "the app's logs are deleted with it".to_owned(),
        ),
        (
            TeardownStep::Repository,
            &names.repository,
            o.repository.as_ref().map(|(_, tags, _)| tags),
            format!(
                "with its {} image(s)",
                o.repository.as_ref().map_or(0, |(_, _, n)| *n)
            ),
        ),
    ];
    for (step, name, tags, detail) in singles {
        let Some(tags) = tags else { continue };
        let who = whose(tags);
        let action = if who.is_ours() {
            TeardownAction::Remove {
                details: vec![detail],
            }
        } else {
            keep(who)
        };
        items.push(item(step, vec![name.clone()], action));
    }
    items
}

/// What teardown may remove: of each item the plan observed just now would remove, the
/// names the confirmed plan listed for removal too; the rest is left and reported.
pub fn confirmed_removals(
    confirmed: &TeardownPlan,
    fresh: &TeardownPlan,
) -> (Vec<TeardownItem>, Vec<(TeardownStep, String)>) {
    let mut removals = Vec::new();
    let mut skipped = Vec::new();
    for item in &fresh.items {
        if !matches!(item.action, TeardownAction::Remove { .. }) {
            continue;
        }
        let listed: Vec<&String> = confirmed
            .items
            .iter()
            .filter(|c| c.step == item.step && matches!(c.action, TeardownAction::Remove { .. }))
            .flat_map(|c| &c.names)
            .collect();
        let (allowed, unseen): (Vec<String>, Vec<String>) = item
            .names
            .iter()
            .cloned()
            .partition(|name| listed.contains(&name));
        if !unseen.is_empty() {
            skipped.push((
                item.step,
                format!(
                    "{} {} was not in the plan you confirmed, so it stays; review the plan again.",
                    item.title,
                    unseen.join(", ")
                ),
            ));
        }
        if !allowed.is_empty() {
            removals.push(TeardownItem {
                names: allowed,
                ..item.clone()
            });
        }
    }
    (removals, skipped)
}

/// Why `confirmed` cannot be applied where `fresh` was observed, or `None` when it can.
pub fn other_target(confirmed: &TeardownPlan, fresh: &TeardownPlan) -> Option<String> {
    (confirmed.app != fresh.app
        || confirmed.account != fresh.account
        || confirmed.region != fresh.region)
        .then(|| {
            format!(
                "The teardown you confirmed is for {} in account {} ({}), but these settings and credentials are for {} in account {} ({}).",
                confirmed.app, confirmed.account, confirmed.region, fresh.app, fresh.account, fresh.region
            )
        })
}

pub async fn plan_teardown(
    connection: &Connection,
    config: &ProjectConfig,
) -> Result<TeardownPlan> {
    Ok(observe_and_plan(connection, config).await?.0)
}

/// The teardown plan and what it was decided from (which apply needs to remove DNS
/// records exactly as they are).
async fn observe_and_plan(
    connection: &Connection,
    config: &ProjectConfig,
) -> Result<(TeardownPlan, TeardownObserved)> {
    let app = &config.name;
    let names = ResourceNames::for_app(app, &connection.ctx.region)
        .map_err(|problems| EngineError::InvalidResourceNames { problems })?;
    let observed = observe_teardown(connection, app, &names, config.aws.domain.as_deref()).await?;
    let plan = TeardownPlan {
        app: app.clone(),
        account: connection.identity.account.clone(),
        region: connection.ctx.region.clone(),
        items: decide_teardown(app, config.id.as_deref(), &names, &observed),
    };
    Ok((plan, observed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::names::tags_for;

    const OURS: Option<&str> = Some("aaaaaaaaaaaaaaaa");
    const THEIRS: Option<&str> = Some("bbbbbbbbbbbbbbbb");

    fn removes(items: &[TeardownItem]) -> Vec<(TeardownStep, bool)> {
        items
            .iter()
            .map(|i| (i.step, matches!(i.action, TeardownAction::Remove { .. })))
            .collect()
    }

    #[test]
    fn only_tagged_resources_are_removed_and_twins_are_kept() {
        let names = ResourceNames::for_app("hello", "us-east-1").unwrap();
        let observed = TeardownObserved {
            cluster: Some(("arn:c".into(), tags_for("hello", OURS))),
            tasks: vec![("arn:task/1".into(), tags_for("hello", None))],
            security_groups: vec![("sg-ours".into(), tags_for("hello", OURS))],
            untagged_security_group: Some("sg-theirs".into()),
            role: Some(("arn:r".into(), Tags::new())),
            log_group: Some(("arn:l".into(), tags_for("other-app", OURS))),
            repository: Some(("arn:repo".into(), tags_for("hello", OURS), 3)),
            ..Default::default()
        };
        let items = decide_teardown("hello", OURS, &names, &observed);
        assert_eq!(
            removes(&items),
            [
                (TeardownStep::Tasks, true),
                (TeardownStep::Cluster, true),
                (TeardownStep::SecurityGroup, true),
                (TeardownStep::SecurityGroup, false),
                (TeardownStep::ExecutionRole, false),
                (TeardownStep::LogGroup, false),
                (TeardownStep::Repository, true),
            ],
            "tasks stop before the cluster goes; untagged and other apps' resources stay"
        );
        assert!(
            matches!(&items[6].action, TeardownAction::Remove { details } if details[0].contains("3 image"))
        );
    }

    #[test]
    fn another_projects_resources_with_the_same_app_name_are_kept_and_say_why() {
        let names = ResourceNames::for_app("hello", "us-east-1").unwrap();
        let theirs = tags_for("hello", THEIRS);
        let observed = TeardownObserved {
            cluster: Some(("arn:c".into(), theirs.clone())),
            tasks: vec![("arn:task/old".into(), tags_for("hello", None))],
            task_definitions: vec![("arn:td/1".into(), theirs.clone())],
            security_groups: vec![("sg-a".into(), theirs.clone())],
            role: Some(("arn:r".into(), theirs.clone())),
            log_group: Some(("arn:l".into(), theirs.clone())),
            repository: Some(("arn:repo".into(), theirs, 0)),
            ..Default::default()
        };
        let items = decide_teardown("hello", OURS, &names, &observed);
        assert!(
            removes(&items).iter().all(|(_, remove)| !remove),
            "nothing of the other project is removed, not even an untagged task in its cluster: {items:?}"
        );
        for item in &items {
            let TeardownAction::Keep { reason } = &item.action else {
                unreachable!()
            };
            assert!(
                reason.contains("made by another Slipway project with the same app name"),
                "{:?}: {reason}",
                item.step
            );
        }
    }

    #[test]
    fn what_an_older_slipway_made_for_the_app_is_this_projects_to_remove() {
        let names = ResourceNames::for_app("hello", "us-east-1").unwrap();
        let older = tags_for("hello", None);
        let observed = TeardownObserved {
            cluster: Some(("arn:c".into(), older.clone())),
            services: vec![("web".into(), older.clone())],
            repository: Some(("arn:repo".into(), older, 1)),
            ..Default::default()
        };
        let items = decide_teardown("hello", OURS, &names, &observed);
        assert!(
            removes(&items).iter().all(|(_, remove)| *remove),
            "{items:?}"
        );
    }

    fn plan(items: Vec<TeardownItem>) -> TeardownPlan {
        TeardownPlan {
            app: "hello".into(),
            account: "1".into(),
            region: "us-east-1".into(),
            items,
        }
    }

    fn remove(step: TeardownStep, names: &[&str]) -> TeardownItem {
        TeardownItem {
            step,
            title: step.title().to_owned(),
            names: names.iter().map(|n| n.to_string()).collect(),
            action: TeardownAction::Remove { details: vec![] },
        }
    }

    #[test]
    fn teardown_removes_only_what_the_confirmed_plan_listed() {
        let confirmed = plan(vec![
            remove(TeardownStep::Tasks, &["arn:task/1"]),
            remove(TeardownStep::SecurityGroup, &["sg-1"]),
            remove(TeardownStep::LogGroup, &["/ecs/hello"]),
            TeardownItem {
                action: TeardownAction::Keep {
                    reason: "not ours".into(),
                },
                ..remove(TeardownStep::Repository, &["hello"])
            },
        ]);
        let fresh = plan(vec![
            remove(TeardownStep::Tasks, &["arn:task/1", "arn:task/2"]),
            remove(TeardownStep::SecurityGroup, &["sg-1"]),
            remove(TeardownStep::Repository, &["hello"]),
        ]);
        let (removals, skipped) = confirmed_removals(&confirmed, &fresh);
        assert_eq!(
            removals,
            [
                remove(TeardownStep::Tasks, &["arn:task/1"]),
                remove(TeardownStep::SecurityGroup, &["sg-1"]),
            ],
            "a task started since and a repository the plan kept are not removed; the log group someone deleted is not attempted"
        );
        let steps: Vec<_> = skipped.iter().map(|(s, _)| *s).collect();
        assert_eq!(steps, [TeardownStep::Tasks, TeardownStep::Repository]);
        assert!(skipped[0].1.contains("arn:task/2"), "{}", skipped[0].1);
        assert!(skipped[1].1.contains("review the plan again"));
    }

    #[test]
    fn a_teardown_confirmed_for_another_region_is_refused() {
        let confirmed = plan(vec![]);
        assert_eq!(other_target(&confirmed, &confirmed), None);
        let elsewhere = TeardownPlan {
            region: "eu-west-1".into(),
            ..confirmed.clone()
        };
        assert!(other_target(&confirmed, &elsewhere).is_some());
    }

    #[test]
    fn an_empty_account_has_nothing_to_tear_down() {
        let names = ResourceNames::for_app("hello", "us-east-1").unwrap();
        let plan = plan(decide_teardown(
            "hello",
            OURS,
            &names,
            &TeardownObserved::default(),
        ));
        assert!(plan.items.is_empty() && plan.nothing_to_do());
    }
}
