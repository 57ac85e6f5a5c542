//! What apply may do: the changes of the plan observed just before applying that the plan
//! the user confirmed listed too. A pure function of the two plans, so the account changing
//! between review and click never makes apply do something the user did not see.

use super::{Change, ResourceKind, SetupPlan};

/// The changes apply makes, and the resources it leaves alone with the reason in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmed {
    pub changes: Vec<Change>,
    pub skipped: Vec<(ResourceKind, String)>,
}

/// Why `confirmed` cannot be applied where `fresh` was observed (another app, account or
/// region), or `None` when it can.
pub fn other_target(confirmed: &SetupPlan, fresh: &SetupPlan) -> Option<String> {
    (confirmed.app != fresh.app
        || confirmed.account != fresh.account
        || confirmed.region != fresh.region)
        .then(|| {
            format!(
                "The plan you confirmed is for {} in account {} ({}), but these settings and credentials are for {} in account {} ({}).",
                confirmed.app,
                confirmed.account,
                confirmed.region,
                fresh.app,
                fresh.account,
                fresh.region
            )
        })
}

/// Resource by resource, the fresh plan's changes when the confirmed plan listed every one
/// of them; a resource with a change the user did not see is left alone and reported. A
/// resource the confirmed plan listed that needs nothing now (someone made it ready) has
/// no fresh change, so nothing is done to it.
pub fn confirmed_changes(confirmed: &SetupPlan, fresh: &SetupPlan) -> Confirmed {
    let mut changes = Vec::new();
    let mut skipped = Vec::new();
    for resource in &fresh.resources {
        let wanted: Vec<&Change> = fresh
            .changes
            .iter()
            .filter(|c| c.kind() == resource.kind)
            .collect();
        if wanted.is_empty() {
            continue;
        }
        if wanted.iter().all(|c| confirmed.changes.contains(c)) {
            changes.extend(wanted.into_iter().cloned());
        } else {
            skipped.push((
                resource.kind,
                format!(
                    "{} {} changed since you reviewed it; review the plan again.",
                    resource.title, resource.name
                ),
            ));
        }
    }
    Confirmed { changes, skipped }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::{Owner, PlannedResource, ResourceNames, ResourceState};

    fn resource(kind: ResourceKind, state: ResourceState) -> PlannedResource {
        PlannedResource {
            kind,
            title: kind.title().to_owned(),
            name: format!("{kind:?}"),
            id: None,
            state,
            owner: Owner::Nobody,
            facts: vec![],
        }
    }

    fn plan(changes: Vec<Change>) -> SetupPlan {
        let kinds = [
            ResourceKind::Repository,
            ResourceKind::Cluster,
            ResourceKind::LogGroup,
            ResourceKind::SecurityGroup,
        ];
        SetupPlan {
            app: "hello".into(),
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            names: ResourceNames::for_app("hello", "eu-west-1").unwrap(),
            vpc: None,
            vpcs: vec![],
            resources: kinds
                .iter()
                .map(|k| {
                    let state = if changes.iter().any(|c| c.kind() == *k) {
                        ResourceState::WillCreate
                    } else {
                        ResourceState::Ready
                    };
                    resource(*k, state)
                })
                .collect(),
            subnets: vec![],
            warnings: vec![],
            changes,
            dns_records: vec![],
        }
    }

    fn create_repository() -> Change {
        Change::CreateRepository {
            name: "hello".into(),
        }
    }

    fn create_log_group() -> Change {
        Change::CreateLogGroup {
            name: "/ecs/hello".into(),
            retention_days: 30,
        }
    }

    fn create_group() -> Vec<Change> {
        vec![
            Change::CreateSecurityGroup {
                name: "slipway-hello".into(),
                vpc: "vpc-1".into(),
            },
            Change::AllowIngress {
                group: None,
                port: 8080,
                cidr: "0.0.0.0/0".into(),
            },
        ]
    }

    #[test]
    fn an_unchanged_account_gets_exactly_the_confirmed_changes() {
        let confirmed = plan([vec![create_repository()], create_group()].concat());
        let fresh = confirmed.clone();
        let outcome = confirmed_changes(&confirmed, &fresh);
        assert_eq!(outcome.changes, confirmed.changes);
        assert!(outcome.skipped.is_empty());
    }

    #[test]
    fn a_resource_made_ready_behind_the_apps_back_is_skipped() {
        let confirmed = plan(vec![create_repository(), create_log_group()]);
        let fresh = plan(vec![create_repository()]);
        let outcome = confirmed_changes(&confirmed, &fresh);
        assert_eq!(
            outcome.changes,
            [create_repository()],
            "the log group someone created meanwhile is not created again"
        );
        assert!(outcome.skipped.is_empty(), "nothing to report: it is ready");
    }

    #[test]
    fn a_change_the_user_never_saw_is_not_made_and_is_reported() {
        let confirmed = plan(vec![create_repository()]);
        let fresh = plan(
            [
                vec![create_repository(), create_log_group()],
                create_group(),
            ]
            .concat(),
        );
        let outcome = confirmed_changes(&confirmed, &fresh);
        assert_eq!(
            outcome.changes,
            [create_repository()],
            "only what the confirmed plan listed is applied"
        );
        let kinds: Vec<_> = outcome.skipped.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            kinds,
            [ResourceKind::LogGroup, ResourceKind::SecurityGroup],
            "the log group someone deleted and the new group are left for another review"
        );
        assert!(
            outcome.skipped[0]
                .1
                .contains("changed since you reviewed it; review the plan again"),
            "{}",
            outcome.skipped[0].1
        );
    }

    #[test]
    fn a_resource_whose_changes_differ_from_the_confirmed_ones_is_left_whole() {
        let confirmed = plan(create_group());
        // Someone made the group meanwhile: the rule now names it, and no group is created.
        let fresh = plan(vec![Change::AllowIngress {
            group: Some("sg-theirs".into()),
            port: 8080,
            cidr: "0.0.0.0/0".into(),
        }]);
        let outcome = confirmed_changes(&confirmed, &fresh);
        assert!(
            outcome.changes.is_empty(),
            "a rule on a group the user did not review is not added: {:?}",
            outcome.changes
        );
        assert_eq!(outcome.skipped.len(), 1);
    }

    #[test]
    fn a_plan_for_another_account_or_region_cannot_be_applied() {
        let confirmed = plan(vec![create_repository()]);
        assert_eq!(other_target(&confirmed, &confirmed), None);
        let mut elsewhere = confirmed.clone();
        elsewhere.region = "us-east-1".into();
        let reason = other_target(&confirmed, &elsewhere).unwrap();
        assert!(
            reason.contains("eu-west-1") && reason.contains("us-east-1"),
            "{reason}"
        );
    }
}
