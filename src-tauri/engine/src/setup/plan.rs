//! The setup plan as a pure function of what the app wants and what the account has.
//! Resources that exist are used as they are and only completed (a missing rule, a
//! missing policy); one that Slipway did not create is never tagged as Slipway's.

use serde_json::Value;

use super::names::{is_managed, ResourceNames, LOGS_POLICY, SECRETS_POLICY};
use super::network::{is_everyone, judge_subnet};
use super::observe::Observed;
use super::policy::{self, ArnScope, EXECUTION_ROLE_POLICY};
use super::{Change, Owner, PlannedResource, ResourceKind, ResourceState, SetupPlan};
use crate::setup::names::Tags;

/// What the app needs, resolved from slipway.toml and the connected account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub app: String,
    pub names: ResourceNames,
    pub scope: ArnScope,
    pub port: u16,
    pub allow_from: String,
    pub retention_days: i32,
    /// The `valueFrom` of each secret the task reads.
    pub secret_refs: Vec<String>,
    /// The asked-for VPC; the default VPC when `None`.
    pub vpc: Option<String>,
}

pub fn decide(wanted: &Wanted, observed: &Observed) -> SetupPlan {
    let mut changes = Vec::new();
    let resources = vec![
        repository(wanted, observed, &mut changes),
        cluster(wanted, observed, &mut changes),
        log_group(wanted, observed, &mut changes),
        execution_role(wanted, observed, &mut changes),
        security_group(wanted, observed, &mut changes),
        subnets(wanted, observed),
    ];
    let mut warnings = Vec::new();
    if is_everyone(&wanted.allow_from) {
        warnings.push(format!(
            "Port {} will be open to the whole internet (0.0.0.0/0). That is what a public demo needs, but anyone can reach it; choose \"Only my IP\" or a narrower range if it is not meant for everyone.",
            wanted.port
        ));
    }
    SetupPlan {
        app: wanted.app.clone(),
        account: wanted.scope.account.clone(),
        region: wanted.scope.region.clone(),
        names: wanted.names.clone(),
        vpc: observed.vpc.clone(),
        vpcs: observed.vpcs.clone(),
        subnets: observed.subnets.iter().map(judge_subnet).collect(),
        resources,
        warnings,
        changes,
    }
}

fn owner(tags: &Tags, app: &str) -> Owner {
    if is_managed(tags, app) {
        Owner::Slipway
    } else {
        Owner::Someone
    }
}

/// Adds `new` to the plan and says what the resource's state is as a result.
fn settle(exists: bool, new: Vec<Change>, changes: &mut Vec<Change>) -> ResourceState {
    let state = match (exists, new.is_empty()) {
        (false, _) => ResourceState::WillCreate,
        (true, true) => ResourceState::Ready,
        (true, false) => ResourceState::WillChange {
            changes: new.iter().map(Change::describe).collect(),
        },
    };
    changes.extend(new);
    state
}

fn resource(
    kind: ResourceKind,
    name: &str,
    id: Option<String>,
    owner: Owner,
    state: ResourceState,
    facts: Vec<String>,
) -> PlannedResource {
    PlannedResource {
        kind,
        title: kind.title().to_owned(),
        name: name.to_owned(),
        id,
        state,
        owner,
        facts,
    }
}

fn repository(w: &Wanted, o: &Observed, changes: &mut Vec<Change>) -> PlannedResource {
    let name = &w.names.repository;
    let mut new = Vec::new();
    match &o.repository {
        None => new.push(Change::CreateRepository { name: name.clone() }),
        Some(repo) if !repo.scan_on_push => {
            new.push(Change::EnableScanOnPush { name: name.clone() })
        }
        Some(_) => {}
    }
    let (id, who) = match &o.repository {
        Some(r) => (Some(r.uri.clone()), owner(&r.tags, &w.app)),
        None => (None, Owner::Nobody),
    };
    let state = settle(o.repository.is_some(), new, changes);
    resource(
        ResourceKind::Repository,
        name,
        id,
        who,
        state,
        vec!["images scanned on push".to_owned()],
    )
}

fn cluster(w: &Wanted, o: &Observed, changes: &mut Vec<Change>) -> PlannedResource {
    let name = &w.names.cluster;
    let mut new = Vec::new();
    if o.cluster.is_none() {
        new.push(Change::CreateCluster { name: name.clone() });
    }
    let (id, who) = match &o.cluster {
        Some(c) => (Some(c.arn.clone()), owner(&c.tags, &w.app)),
        None => (None, Owner::Nobody),
    };
    let state = settle(o.cluster.is_some(), new, changes);
    resource(
        ResourceKind::Cluster,
        name,
        id,
        who,
        state,
        vec!["Fargate tasks only; costs nothing by itself".to_owned()],
    )
}

fn log_group(w: &Wanted, o: &Observed, changes: &mut Vec<Change>) -> PlannedResource {
    let name = &w.names.log_group;
    let mut new = Vec::new();
    let mut facts = vec![format!("keeps logs {} days", w.retention_days)];
    match &o.log_group {
        None => new.push(Change::CreateLogGroup {
            name: name.clone(),
            retention_days: w.retention_days,
        }),
        // A shorter retention deletes older logs: only Slipway's own group follows the
        // setting; someone else's keeps theirs.
        Some(g) if !is_managed(&g.tags, &w.app) => {
            facts = vec![match g.retention_days {
                Some(days) => format!("keeps logs {days} days (its own setting, left as it is)"),
                None => "keeps logs forever (its own setting, left as it is)".to_owned(),
            }];
        }
        Some(g) if g.retention_days != Some(w.retention_days) => {
            new.push(Change::SetLogRetention {
                name: name.clone(),
                retention_days: w.retention_days,
            })
        }
        Some(_) => {}
    }
    let (id, who) = match &o.log_group {
        Some(g) => (Some(g.arn.clone()), owner(&g.tags, &w.app)),
        None => (None, Owner::Nobody),
    };
    let state = settle(o.log_group.is_some(), new, changes);
    resource(ResourceKind::LogGroup, name, id, who, state, facts)
}

fn execution_role(w: &Wanted, o: &Observed, changes: &mut Vec<Change>) -> PlannedResource {
    let role = &w.names.execution_role;
    let managed_arn = w.scope.managed_policy_arn(EXECUTION_ROLE_POLICY);
    let logs = policy::logs_policy(&w.scope, &w.names.log_group);
    let secrets = policy::secrets_policy(&w.scope, &w.secret_refs);
    let none = Default::default();
    let (trusted, attached, inline) = match &o.role {
        Some(r) => (
            r.trust.as_ref().is_some_and(policy::trusts_ecs_tasks),
            r.attached.as_slice(),
            &r.inline,
        ),
        None => (false, [].as_slice(), &none),
    };
    let mut new = Vec::new();
    match &o.role {
        None => new.push(Change::CreateRole { name: role.clone() }),
        Some(r) if !trusted => new.push(Change::TrustEcsTasks {
            role: role.clone(),
            document: policy::with_ecs_trust(r.trust.as_ref()).to_string(),
        }),
        Some(_) => {}
    }
    if !attached.contains(&managed_arn) {
        new.push(Change::AttachPolicy {
            role: role.clone(),
            policy_arn: managed_arn,
        });
    }
    let put = |policy: &str, document: &Value| Change::PutInlinePolicy {
        role: role.clone(),
        policy: policy.to_owned(),
        document: document.to_string(),
    };
    if inline.get(LOGS_POLICY) != Some(&Some(logs.clone())) {
        new.push(put(LOGS_POLICY, &logs));
    }
    match &secrets {
        Some(doc) if inline.get(SECRETS_POLICY) != Some(&Some(doc.clone())) => {
            new.push(put(SECRETS_POLICY, doc))
        }
        None if inline.contains_key(SECRETS_POLICY) => new.push(Change::DeleteInlinePolicy {
            role: role.clone(),
            policy: SECRETS_POLICY.to_owned(),
        }),
        _ => {}
    }
    let mut facts = vec![
        "AmazonECSTaskExecutionRolePolicy (pull from ECR, write logs)".to_owned(),
        format!("writes only to {}", w.names.log_group),
    ];
    if !w.secret_refs.is_empty() {
        facts.push(format!(
            "reads only the app's {} secret(s)",
            w.secret_refs.len()
        ));
    }
    let (id, who) = match &o.role {
        Some(r) => (Some(r.arn.clone()), owner(&r.tags, &w.app)),
        None => (None, Owner::Nobody),
    };
    let state = settle(o.role.is_some(), new, changes);
    resource(ResourceKind::ExecutionRole, role, id, who, state, facts)
}

fn security_group(w: &Wanted, o: &Observed, changes: &mut Vec<Change>) -> PlannedResource {
    let name = &w.names.security_group;
    let facts = vec![format!("allows TCP {} from {}", w.port, w.allow_from)];
    let Some(vpc) = &o.vpc else {
        return resource(
            ResourceKind::SecurityGroup,
            name,
            None,
            Owner::Nobody,
            no_vpc(w, o),
            facts,
        );
    };
    let mut new = Vec::new();
    match &o.security_group {
        None => {
            new.push(Change::CreateSecurityGroup {
                name: name.clone(),
                vpc: vpc.id.clone(),
            });
            new.push(Change::AllowIngress {
                group: None,
                port: w.port,
                cidr: w.allow_from.clone(),
            });
        }
        Some(group) => {
            if !group
                .ingress
                .iter()
                .any(|r| r.covers(w.port, &w.allow_from))
            {
                new.push(Change::AllowIngress {
                    group: Some(group.id.clone()),
                    port: w.port,
                    cidr: w.allow_from.clone(),
                });
            }
            // Rules Slipway added for an older port or range go; a rule someone else
            // added stays, and so does any rule that lets the wanted traffic in.
            for rule in group
                .ingress
                .iter()
                .filter(|r| r.added_by_slipway && !r.covers(w.port, &w.allow_from))
            {
                new.push(Change::RevokeIngress {
                    group: group.id.clone(),
                    rule: rule.clone(),
                });
            }
        }
    }
    let (id, who) = match &o.security_group {
        Some(g) => (Some(g.id.clone()), owner(&g.tags, &w.app)),
        None => (None, Owner::Nobody),
    };
    let state = settle(o.security_group.is_some(), new, changes);
    resource(ResourceKind::SecurityGroup, name, id, who, state, facts)
}

fn no_vpc(w: &Wanted, o: &Observed) -> ResourceState {
    match &w.vpc {
        Some(id) => ResourceState::Blocked {
            reason: format!("There is no VPC {id} in {}.", w.scope.region),
            fix: if o.vpcs.is_empty() {
                "Create a VPC (or the default VPC) in the VPC console.".to_owned()
            } else {
                format!(
                    "Choose one of: {}.",
                    o.vpcs
                        .iter()
                        .map(|v| v.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        },
        None => ResourceState::Blocked {
            reason: format!("{} has no default VPC.", w.scope.region),
            fix: if o.vpcs.is_empty() {
                "Create one with `aws ec2 create-default-vpc` or in the VPC console.".to_owned()
            } else {
                "Choose one of the region's VPCs in the setup options.".to_owned()
            },
        },
    }
}

fn subnets(w: &Wanted, o: &Observed) -> PlannedResource {
    let verdicts: Vec<_> = o.subnets.iter().map(judge_subnet).collect();
    let public: Vec<_> = verdicts.iter().filter(|v| v.public).collect();
    let name = o
        .vpc
        .as_ref()
        .map(|v| format!("in {}", v.id))
        .unwrap_or_default();
    let state = match (&o.vpc, public.is_empty()) {
        (None, _) => no_vpc(w, o),
        (Some(vpc), true) => ResourceState::Blocked {
            reason: if verdicts.is_empty() {
                format!("{} has no subnets.", vpc.id)
            } else {
                format!(
                    "No subnet of {} is public: {}.",
                    vpc.id,
                    verdicts
                        .iter()
                        .map(|v| format!("{} {}", v.id, v.reason))
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            },
            fix: "A task needs a public subnet to get a public IP: attach an internet gateway to the VPC and route 0.0.0.0/0 to it (the default VPC has this unless it was changed), or choose another VPC.".to_owned(),
        },
        (Some(_), false) => ResourceState::Ready,
    };
    let facts = public
        .iter()
        .map(|v| format!("{} ({})", v.id, v.availability_zone))
        .collect();
    resource(
        ResourceKind::Subnets,
        &name,
        None,
        Owner::Someone,
        state,
        facts,
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::setup::names::tags_for;
    use crate::setup::network::IngressRule;
    use crate::setup::network::ObservedSubnet;
    use crate::setup::observe::*;

    fn wanted() -> Wanted {
        Wanted {
            app: "hello".into(),
            names: ResourceNames::for_app("hello", "us-east-1").unwrap(),
            scope: ArnScope::new("us-east-1", "123456789012"),
            port: 8080,
            allow_from: "0.0.0.0/0".into(),
            retention_days: 30,
            secret_refs: vec![],
            vpc: None,
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

    fn empty_account() -> Observed {
        Observed {
            vpcs: vec![default_vpc()],
            vpc: Some(default_vpc()),
            subnets: vec![public_subnet("subnet-a"), public_subnet("subnet-b")],
            ..Default::default()
        }
    }

    /// The account as it is after a successful apply of `wanted()`.
    fn set_up_account() -> Observed {
        let w = wanted();
        let tags = tags_for("hello");
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
                trust: Some(policy::trust_policy()),
                tags: tags.clone(),
                attached: vec![w.scope.managed_policy_arn(EXECUTION_ROLE_POLICY)],
                inline: BTreeMap::from([(
                    LOGS_POLICY.to_owned(),
                    Some(policy::logs_policy(&w.scope, "/ecs/hello")),
                )]),
            }),
            security_group: Some(ObservedSecurityGroup {
                id: "sg-1".into(),
                tags,
                ingress: vec![IngressRule::tcp(8080, "0.0.0.0/0")],
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
        assert!(
            matches!(sg.state, ResourceState::WillChange { ref changes } if changes.len() == 2)
        );
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
        observed.role.as_mut().unwrap().attached.clear();
        let plan = decide(&w, &observed);
        let kinds: Vec<_> = plan
            .changes
            .iter()
            .map(|c| match c {
                Change::SetLogRetention {
                    retention_days: 7, ..
                } => "retention",
                Change::TrustEcsTasks { .. } => "trust",
                Change::AttachPolicy { .. } => "attach",
                Change::PutInlinePolicy { policy, .. } if policy == SECRETS_POLICY => "secrets",
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(kinds, ["retention", "trust", "attach", "secrets"]);

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
}
