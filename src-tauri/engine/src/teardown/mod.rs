//! Removing an app from AWS: exactly what Slipway created for it, found by its tags, after
//! stopping the app's services and tasks. Like setup, a plan first (pure, from what was
//! observed, here) and then its application (`apply`). A resource of the same name without
//! Slipway's tags is listed as kept and never touched.

mod apply;
mod observe;

use serde::Serialize;

pub use apply::apply_teardown;
use observe::observe_teardown;

use crate::aws::Connection;
use crate::error::{EngineError, Result};
use crate::setup::names::{is_managed, ResourceNames, Tags};
use crate::setup::ResourceKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum TeardownStep {
    Services,
    Tasks,
    TaskDefinitions,
    Cluster,
    SecurityGroup,
    ExecutionRole,
    LogGroup,
    Repository,
}

impl TeardownStep {
    pub fn title(self) -> &'static str {
        match self {
            Self::Services => "ECS services",
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
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum TeardownAction {
    /// Slipway's: will be removed; `details` says what goes with it.
    Remove { details: Vec<String> },
    /// Same name but not created by Slipway for this app: left exactly as it is.
    Keep { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TeardownItem {
    pub step: TeardownStep,
    pub title: String,
    /// Names or ids; several for tasks, services and task definitions.
    pub names: Vec<String>,
    pub action: TeardownAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
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
    /// Services and running tasks in the app's cluster that carry the app's tags.
    pub services: Vec<String>,
    pub tasks: Vec<String>,
    /// Services and tasks in that cluster that are not the app's: the cluster stays.
    pub others_in_cluster: usize,
    pub task_definitions: Vec<String>,
    /// Security groups tagged for the app, in any VPC, and a same-named untagged one.
    pub security_groups: Vec<String>,
    pub untagged_security_group: Option<String>,
    pub role: Option<(String, Tags)>,
    pub log_group: Option<(String, Tags)>,
    pub repository: Option<(String, Tags, usize)>,
}

/// The teardown plan, a pure function of what was observed.
pub fn decide_teardown(
    app: &str,
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
    let keep = || TeardownAction::Keep {
        reason: "not created by Slipway for this app (no Slipway tags), so it stays".to_owned(),
    };
    if !o.services.is_empty() {
        items.push(item(
            TeardownStep::Services,
            o.services.clone(),
            TeardownAction::Remove {
                details: vec!["scaled to 0, then deleted".to_owned()],
            },
        ));
    }
    if !o.tasks.is_empty() {
        items.push(item(
            TeardownStep::Tasks,
            o.tasks.clone(),
            TeardownAction::Remove {
                details: vec!["stopped (they stop costing money)".to_owned()],
            },
        ));
    }
    if !o.task_definitions.is_empty() {
        items.push(item(
            TeardownStep::TaskDefinitions,
            o.task_definitions.clone(),
            TeardownAction::Remove {
                details: vec!["deregistered".to_owned()],
            },
        ));
    }
    if let Some((_, tags)) = &o.cluster {
        let action = match (is_managed(tags, app), o.others_in_cluster) {
            (false, _) => keep(),
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
    if !o.security_groups.is_empty() {
        items.push(item(
            TeardownStep::SecurityGroup,
            o.security_groups.clone(),
            TeardownAction::Remove { details: vec![] },
        ));
    }
    if let Some(id) = &o.untagged_security_group {
        items.push(item(TeardownStep::SecurityGroup, vec![id.clone()], keep()));
    }
    if let Some((_, tags)) = &o.role {
        let action = if is_managed(tags, app) {
            TeardownAction::Remove {
                details: vec!["its policies are detached and deleted first".to_owned()],
            }
        } else {
            keep()
        };
        items.push(item(
            TeardownStep::ExecutionRole,
            vec![names.execution_role.clone()],
            action,
        ));
    }
    if let Some((_, tags)) = &o.log_group {
        let action = if is_managed(tags, app) {
            TeardownAction::Remove {
                details: vec!["the app's logs are deleted with it".to_owned()],
            }
        } else {
            keep()
        };
        items.push(item(
            TeardownStep::LogGroup,
            vec![names.log_group.clone()],
            action,
        ));
    }
    if let Some((_, tags, images)) = &o.repository {
        let action = if is_managed(tags, app) {
            TeardownAction::Remove {
                details: vec![format!("with its {images} image(s)")],
            }
        } else {
            keep()
        };
        items.push(item(
            TeardownStep::Repository,
            vec![names.repository.clone()],
            action,
        ));
    }
    items
}

pub async fn plan_teardown(connection: &Connection, app: &str) -> Result<TeardownPlan> {
    let names = ResourceNames::for_app(app, &connection.ctx.region)
        .map_err(|problems| EngineError::InvalidResourceNames { problems })?;
    let observed = observe_teardown(connection, app, &names).await?;
    Ok(TeardownPlan {
        app: app.to_owned(),
        account: connection.identity.account.clone(),
        region: connection.ctx.region.clone(),
        items: decide_teardown(app, &names, &observed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::names::tags_for;

    #[test]
    fn only_tagged_resources_are_removed_and_twins_are_kept() {
        let names = ResourceNames::for_app("hello", "us-east-1").unwrap();
        let observed = TeardownObserved {
            cluster: Some(("arn:c".into(), tags_for("hello"))),
            tasks: vec!["arn:task/1".into()],
            security_groups: vec!["sg-ours".into()],
            untagged_security_group: Some("sg-theirs".into()),
            role: Some(("arn:r".into(), Tags::new())),
            log_group: Some(("arn:l".into(), tags_for("other-app"))),
            repository: Some(("arn:repo".into(), tags_for("hello"), 3)),
            ..Default::default()
        };
        let items = decide_teardown("hello", &names, &observed);
        let summary: Vec<_> = items
            .iter()
            .map(|i| (i.step, matches!(i.action, TeardownAction::Remove { .. })))
            .collect();
        assert_eq!(
            summary,
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
    fn an_empty_account_has_nothing_to_tear_down() {
        let names = ResourceNames::for_app("hello", "us-east-1").unwrap();
        let plan = TeardownPlan {
            app: "hello".into(),
            account: "1".into(),
            region: "us-east-1".into(),
            items: decide_teardown("hello", &names, &TeardownObserved::default()),
        };
        assert!(plan.items.is_empty() && plan.nothing_to_do());
    }
}
