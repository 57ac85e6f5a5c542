//! The setup plan's decisions, one account state at a time.
use std::collections::BTreeMap;

use super::*;
use crate::setup::names::ResourceNames;
use crate::setup::names::{tags_for, PROJECT_KEY};
use crate::setup::network::IngressRule;
use crate::setup::network::ObservedSubnet;
use crate::setup::observe::*;
use crate::setup::policy::ArnScope;

pub(super) const PROJECT: &str = "0123456789abcdef";

pub(super) fn wanted() -> Wanted {
    Wanted {
        app: "hello".into(),
        project: Some(PROJECT.into()),
        names: ResourceNames::for_app("hello", "us-east-1").unwrap(),
        scope: ArnScope::new("us-east-1", "123456789012"),
        port: 8080,
        allow_from: "0.0.0.0/0".into(),
        retention_days: 30,
        secret_refs: vec![],
        vpc: None,
        balancer: None,
    }
}

fn default_vpc() -> VpcChoice {
    VpcChoice {
        id: "vpc-1".into(),
        cidr: "172.31.0.0/16".into(),
        is_default: true,
        name: None,
    }
}

fn public_subnet(id: &str) -> ObservedSubnet {
    ObservedSubnet {
        id: id.into(),
        availability_zone: "us-east-1a".into(),
        cidr: "172.31.0.0/20".into(),
        maps_public_ip: true,
        route_table: Some("rtb-1".into()),
        internet_gateway: Some("igw-1".into()),
    }
}

pub(super) fn empty_account() -> Observed {
    Observed {
        vpcs: vec![default_vpc()],
        vpc: Some(default_vpc()),
        subnets: vec![public_subnet("subnet-a"), public_subnet("subnet-b")],
        ..Default::default()
    }
}

/// The account as it is after a successful apply of `wanted()`.
pub(super) fn set_up_account() -> Observed {
    let w = wanted();
    let tags = tags_for("hello", Some(PROJECT));
    Observed {
        repository: Some(ObservedRepository {
            arn: "arn:repo".into(),
            uri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/hello".into(),
            scan_on_push: true,
            tags: tags.clone(),
        }),
        cluster: Some(ObservedCluster {
            arn: "arn:cluster".into(),
            tags: tags.clone(),
        }),
        log_group: Some(ObservedLogGroup {
            arn: "arn:logs".into(),
            retention_days: Some(30),
            tags: tags.clone(),
        }),
        role: Some(ObservedRole {
            arn: "arn:role".into(),
            trust: Some(policy::trust_policy("123456789012")),
            tags: tags.clone(),
            attached: vec![],
            inline: BTreeMap::from([(
                EXECUTION_POLICY.to_owned(),
                Some(policy::execution_policy(&w.scope, "hello", "/ecs/hello")),
            )]),
        }),
        security_group: Some(ObservedSecurityGroup {
            id: "sg-1".into(),
            tags,
            ingress: vec![IngressRule::tcp(8080, "0.0.0.0/0")],
            group_ingress: vec![],
        }),
        ..empty_account()
    }
}

#[test]
fn an_empty_account_gets_every_resource_created_in_dependency_order() {
    let plan = decide(&wanted(), &empty_account());
    for resource in &plan.resources[..5] {
        assert_eq!(
            resource.state,
            ResourceState::WillCreate,
            "{:?}",
            resource.kind
        );
        assert_eq!(resource.owner, Owner::Nobody);
    }
    assert_eq!(
        plan.resources[5].state,
        ResourceState::Ready,
        "subnets are found, not made"
    );
    let actions: Vec<_> = plan.changes.iter().map(Change::kind).collect();
    let mut sorted = actions.clone();
    sorted.sort_by_key(|k| *k as u8);
    assert_eq!(
        actions, sorted,
        "changes run resource by resource, in the listed order"
    );
    assert!(
        matches!(
            plan.changes.last(),
            Some(Change::AllowIngress {
                group: None,
                port: 8080,
                ..
            })
        ),
        "the rule goes on the group made in the same apply"
    );
    assert_eq!(plan.warnings.len(), 1, "0.0.0.0/0 is warned about");
}

#[test]
fn a_set_up_account_has_nothing_to_do() {
    let plan = decide(&wanted(), &set_up_account());
    assert!(plan.nothing_to_do(), "{:?}", plan.changes);
    assert!(plan.ready());
}

#[test]
fn a_users_repository_and_a_group_without_the_port_rule_give_exactly_that_difference() {
    let mut observed = set_up_account();
    observed.repository.as_mut().unwrap().tags = Tags::new();
    let group = observed.security_group.as_mut().unwrap();
    group.tags = Tags::new();
    group.ingress = vec![IngressRule {
        added_by_slipway: false,
        ..IngressRule::tcp(22, "10.0.0.0/8")
    }];
    let plan = decide(&wanted(), &observed);
    assert_eq!(
        plan.changes,
        vec![Change::AllowIngress {
            group: Some("sg-1".into()),
            port: 8080,
            cidr: "0.0.0.0/0".into()
        }],
        "a user's own extra rule is left alone"
    );
    assert_eq!(plan.resources[0].owner, Owner::Someone);
    assert_eq!(plan.resources[0].state, ResourceState::Ready);
}

#[test]
fn a_changed_port_moves_the_rule_on_slipways_own_group() {
    let mut w = wanted();
    w.port = 3000;
    let plan = decide(&w, &set_up_account());
    let sg = &plan.resources[4];
    assert!(matches!(sg.state, ResourceState::WillChange { ref changes } if changes.len() == 2));
    assert!(plan.changes.contains(&Change::RevokeIngress {
        group: "sg-1".into(),
        rule: IngressRule::tcp(8080, "0.0.0.0/0")
    }));
}

#[test]
fn a_users_rule_and_a_rule_that_already_lets_the_port_in_are_never_revoked() {
    let mut observed = set_up_account();
    let group = observed.security_group.as_mut().unwrap();
    group.ingress = vec![
        IngressRule {
            protocol: "tcp".into(),
            from_port: 8000,
            to_port: 9000,
            cidr: "0.0.0.0/0".into(),
            added_by_slipway: true,
        },
        IngressRule {
            added_by_slipway: false,
            ..IngressRule::tcp(443, "0.0.0.0/0")
        },
    ];
    let plan = decide(&wanted(), &observed);
    assert!(
        plan.nothing_to_do(),
        "the range covers 8080 and 443 is the user's: {:?}",
        plan.changes
    );
}

#[test]
fn someone_elses_log_group_keeps_its_retention() {
    let mut observed = set_up_account();
    let group = observed.log_group.as_mut().unwrap();
    group.tags = Tags::new();
    group.retention_days = Some(3653);
    let mut w = wanted();
    w.retention_days = 7;
    let plan = decide(&w, &observed);
    assert!(plan.nothing_to_do(), "{:?}", plan.changes);
    assert!(plan.resources[2].facts[0].contains("left as it is"));
}

#[test]
fn retention_trust_policies_and_secrets_are_completed_in_place() {
    let mut w = wanted();
    w.retention_days = 7;
    w.secret_refs = vec!["/hello/token".into()];
    let mut observed = set_up_account();
    observed.role.as_mut().unwrap().trust = None;
    observed.role.as_mut().unwrap().inline.clear();
    let plan = decide(&w, &observed);
    let kinds: Vec<_> = plan
        .changes
        .iter()
        .map(|c| match c {
            Change::SetLogRetention {
                retention_days: 7, ..
            } => "retention",
            Change::TrustEcsTasks { .. } => "trust",
            Change::PutInlinePolicy { policy, .. } if policy == EXECUTION_POLICY => "execution",
            Change::PutInlinePolicy { policy, .. } if policy == SECRETS_POLICY => "secrets",
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["retention", "trust", "execution", "secrets"]);

    let mut had_secrets = set_up_account();
    had_secrets
        .role
        .as_mut()
        .unwrap()
        .inline
        .insert(SECRETS_POLICY.into(), None);
    let plan = decide(&wanted(), &had_secrets);
    assert_eq!(
        plan.changes,
        vec![Change::DeleteInlinePolicy {
            role: "slipway-hello-us-east-1".into(),
            policy: SECRETS_POLICY.into()
        }],
        "secret access goes when the last secret does"
    );
}

#[test]
fn no_public_subnet_or_no_vpc_is_explained_not_attempted() {
    let mut observed = empty_account();
    for s in &mut observed.subnets {
        s.internet_gateway = None;
    }
    let plan = decide(&wanted(), &observed);
    match &plan.resources[5].state {
        ResourceState::Blocked { reason, fix } => {
            assert!(reason.contains("subnet-a") && reason.contains("internet gateway"));
            assert!(fix.contains("internet gateway"));
        }
        other => panic!("{other:?}"),
    }
    assert!(!plan.ready());

    let mut no_vpc = empty_account();
    no_vpc.vpc = None;
    no_vpc.vpcs.clear();
    let plan = decide(&wanted(), &no_vpc);
    assert!(matches!(
        plan.resources[4].state,
        ResourceState::Blocked { .. }
    ));
    assert!(
        !plan
            .changes
            .iter()
            .any(|c| c.kind() == ResourceKind::SecurityGroup),
        "no security group is attempted without a VPC"
    );
}

#[test]
fn a_new_role_gets_the_scoped_policy_and_no_managed_policy() {
    let plan = decide(&wanted(), &empty_account());
    let role: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.kind() == ResourceKind::ExecutionRole)
        .collect();
    assert!(matches!(role[0], Change::CreateRole { .. }));
    assert!(
        matches!(role[1], Change::PutInlinePolicy { policy, document, .. }
            if policy == EXECUTION_POLICY && document.contains("repository/hello")),
        "{role:?}"
    );
    assert_eq!(role.len(), 2, "nothing broad is attached: {role:?}");
    assert!(plan.resources[3]
        .facts
        .iter()
        .any(|f| f == "writes logs only to /ecs/hello"));
}

#[test]
fn slipways_older_role_trades_the_managed_policy_for_the_scoped_one() {
    let w = wanted();
    let mut observed = set_up_account();
    let role = observed.role.as_mut().unwrap();
    role.attached = vec![w.scope.managed_policy_arn(EXECUTION_ROLE_POLICY)];
    role.inline = BTreeMap::from([(
        LOGS_POLICY.to_owned(),
        Some(serde_json::json!({"Version": "2012-10-17"})),
    )]);
    let plan = decide(&w, &observed);
    let names: Vec<_> = plan
        .changes
        .iter()
        .map(|c| match c {
            Change::PutInlinePolicy { policy, .. } => format!("put {policy}"),
            Change::DeleteInlinePolicy { policy, .. } => format!("delete {policy}"),
            Change::DetachPolicy { .. } => "detach".to_owned(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        names,
        ["put slipway-execution", "delete slipway-logs", "detach"],
        "the scoped policy is in place before the broad one goes"
    );
    let ResourceState::WillChange { changes } = &plan.resources[3].state else {
        panic!("{:?}", plan.resources[3].state)
    };
    assert!(
        changes.iter().any(|c| c.contains(
            "replace broad ECR/logs access (AmazonECSTaskExecutionRolePolicy) on slipway-hello-us-east-1 with access to this app's repository and log group only"
        )),
        "{changes:?}"
    );
}

#[test]
fn someone_elses_role_is_completed_but_keeps_its_managed_policy() {
    let w = wanted();
    let mut observed = set_up_account();
    let role = observed.role.as_mut().unwrap();
    role.tags = Tags::new();
    role.attached = vec![w.scope.managed_policy_arn(EXECUTION_ROLE_POLICY)];
    role.inline.clear();
    let plan = decide(&w, &observed);
    assert!(
        !plan
            .changes
            .iter()
            .any(|c| matches!(c, Change::DetachPolicy { .. })),
        "a role Slipway did not make loses nothing: {:?}",
        plan.changes
    );
    assert!(plan.changes.iter().any(
        |c| matches!(c, Change::PutInlinePolicy { policy, .. } if policy == EXECUTION_POLICY)
    ));
    assert!(plan.resources[3]
        .facts
        .iter()
        .any(|f| f.contains("attached by someone else")));
}

#[test]
fn another_projects_resources_are_used_as_they_are_and_never_changed() {
    let mut observed = set_up_account();
    let theirs = tags_for("hello", Some("fedcba9876543210"));
    observed.repository.as_mut().unwrap().tags = theirs.clone();
    observed.repository.as_mut().unwrap().scan_on_push = false;
    observed.log_group.as_mut().unwrap().tags = theirs.clone();
    observed.log_group.as_mut().unwrap().retention_days = Some(1);
    let group = observed.security_group.as_mut().unwrap();
    group.tags = theirs;
    group.ingress.clear();
    let plan = decide(&wanted(), &observed);
    assert!(
        plan.nothing_to_do(),
        "another project's repository, log group and group are not changed: {:?}",
        plan.changes
    );
    for i in [0, 2, 4] {
        assert_eq!(plan.resources[i].owner, Owner::OtherProject);
        assert!(plan.resources[i]
            .facts
            .iter()
            .any(|f| f.contains("made by another Slipway project with the same app name")));
    }
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("Another Slipway project with the same app name")),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn an_older_slipways_resources_are_adopted_with_the_project_tag() {
    let mut observed = set_up_account();
    let older = tags_for("hello", None);
    observed.cluster.as_mut().unwrap().tags = older.clone();
    observed.role.as_mut().unwrap().tags = older;
    let plan = decide(&wanted(), &observed);
    assert_eq!(
        plan.changes,
        vec![
            Change::TagProject {
                kind: ResourceKind::Cluster,
                target: "arn:cluster".into(),
                project: PROJECT.into()
            },
            Change::TagProject {
                kind: ResourceKind::ExecutionRole,
                target: "slipway-hello-us-east-1".into(),
                project: PROJECT.into()
            },
        ]
    );
    assert_eq!(plan.resources[1].owner, Owner::Slipway);
    assert!(matches!(
        &plan.resources[1].state,
        ResourceState::WillChange { changes } if changes[0].contains("this project's id")
    ));
    assert!(tags_for("hello", Some(PROJECT)).contains_key(PROJECT_KEY));
}
