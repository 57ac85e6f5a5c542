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
mod tests;
