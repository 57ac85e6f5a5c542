//! The setup plan as a pure function of what the app wants and what the account has.
//! Resources that exist are used as they are and only completed (a missing rule, a
//! missing policy); one that Slipway did not create is never tagged as Slipway's, and one
//! another project of the same app name created is never changed at all.

use serde_json::Value;

pub use super::want::Wanted;

pub(crate) mod stable;
use super::names::{ownership, Ownership, Tags};
use super::names::{EXECUTION_POLICY, LOGS_POLICY, SECRETS_POLICY};
use super::network::{is_everyone, judge_subnet};
use super::observe::Observed;
use super::policy::{self, EXECUTION_ROLE_POLICY};
use super::{Change, Owner, PlannedResource, ResourceKind, ResourceState, SetupPlan};

pub fn decide(wanted: &Wanted, observed: &Observed) -> SetupPlan {
    let mut changes = Vec::new();
    let mut resources = vec![
        repository(wanted, observed, &mut changes),
        cluster(wanted, observed, &mut changes),
        log_group(wanted, observed, &mut changes),
        execution_role(wanted, observed, &mut changes),
    ];
    if wanted.balancer.is_some() {
        resources.push(stable::balancer_group(wanted, observed, &mut changes));
    }
    resources.push(security_group(wanted, observed, &mut changes));
    resources.push(subnets(wanted, observed));
    let mut dns_records = Vec::new();
    if let Some(b) = &wanted.balancer {
        let (more, records) = stable::resources(wanted, b, observed, &mut changes);
        resources.extend(more);
        dns_records = records;
    }
    let mut warnings = Vec::new();
    let others: Vec<&str> = resources
        .iter()
        .filter(|r| r.owner == Owner::OtherProject)
        .map(|r| r.title.as_str())
        .collect();
    if !others.is_empty() {
        warnings.push(format!(
            "Another Slipway project with the same app name (\"{}\") made the {} in this account and region. This project uses them as they are and never changes or removes them; give this project its own app name to keep the two apart.",
            wanted.app,
            others.join(", ").to_lowercase()
        ));
    }
    if is_everyone(&wanted.allow_from) {
        let ports = match wanted.balancer {
            Some(_) => "The load balancer's ports 80 and 443".to_owned(),
            None => format!("Port {}", wanted.port),
        };
        warnings.push(format!(
            "{ports} will be open to the whole internet (0.0.0.0/0). That is what a public demo needs, but anyone can reach it; choose \"Only my IP\" or a narrower range if it is not meant for everyone."
        ));
    }
    let leftover = observed
        .load_balancer
        .as_ref()
        .is_some_and(|lb| wanted.balancer.is_none() && whose(&lb.tags, wanted).is_ours());
    if leftover {
        warnings.push(format!(
            "The load balancer {} that setup made for this app still runs, and costs money, though the project no longer uses one; the app's tasks are reachable directly again. Teardown removes it with the app.",
            wanted.names.load_balancer
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
        dns_records,
    }
}

pub(crate) fn whose(tags: &Tags, w: &Wanted) -> Ownership {
    ownership(tags, &w.app, w.project.as_deref())
}

pub(crate) fn owner(who: Ownership) -> Owner {
    match who {
        Ownership::Ours | Ownership::OursUntagged => Owner::Slipway,
        Ownership::OtherProject => Owner::OtherProject,
        Ownership::NotSlipways => Owner::Someone,
    }
}

pub(crate) const OTHER_PROJECT: &str =
    "made by another Slipway project with the same app name: used as it is, never changed or removed";

/// The tag that adopts what an older Slipway made for this app into this project.
pub(crate) fn adopt(
    w: &Wanted,
    who: Ownership,
    kind: ResourceKind,
    target: &str,
) -> Option<Change> {
    match (who, &w.project) {
        (Ownership::OursUntagged, Some(project)) => Some(Change::TagProject {
            kind,
            target: target.to_owned(),
            project: project.clone(),
        }),
        _ => None,
    }
}

/// Adds `new` to the plan and says what the resource's state is as a result.
pub(crate) fn settle(exists: bool, new: Vec<Change>, changes: &mut Vec<Change>) -> ResourceState {
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

pub(crate) fn resource(
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
    let who = o.repository.as_ref().map(|r| whose(&r.tags, w));
    let mut new = Vec::new();
    let mut facts = vec!["images scanned on push".to_owned()];
    match o.repository.as_ref().zip(who) {
        None => new.push(Change::CreateRepository { name: name.clone() }),
        Some((_, Ownership::OtherProject)) => facts.push(OTHER_PROJECT.to_owned()),
        Some((repo, who)) => {
            if !repo.scan_on_push {
                new.push(Change::EnableScanOnPush { name: name.clone() });
            }
            new.extend(adopt(w, who, ResourceKind::Repository, &repo.arn));
        }
    }
    let id = o.repository.as_ref().map(|r| r.uri.clone());
    let state = settle(o.repository.is_some(), new, changes);
    resource(
        ResourceKind::Repository,
        name,
        id,
        who.map_or(Owner::Nobody, owner),
        state,
        facts,
    )
}

fn cluster(w: &Wanted, o: &Observed, changes: &mut Vec<Change>) -> PlannedResource {
    let name = &w.names.cluster;
    let who = o.cluster.as_ref().map(|c| whose(&c.tags, w));
    let mut new = Vec::new();
    let mut facts = vec!["Fargate tasks only; costs nothing by itself".to_owned()];
    match o.cluster.as_ref().zip(who) {
        None => new.push(Change::CreateCluster { name: name.clone() }),
        Some((_, Ownership::OtherProject)) => facts.push(OTHER_PROJECT.to_owned()),
        Some((c, who)) => new.extend(adopt(w, who, ResourceKind::Cluster, &c.arn)),
    }
    let id = o.cluster.as_ref().map(|c| c.arn.clone());
    let state = settle(o.cluster.is_some(), new, changes);
    resource(
        ResourceKind::Cluster,
        name,
        id,
        who.map_or(Owner::Nobody, owner),
        state,
        facts,
    )
}

fn log_group(w: &Wanted, o: &Observed, changes: &mut Vec<Change>) -> PlannedResource {
    let name = &w.names.log_group;
    let who = o.log_group.as_ref().map(|g| whose(&g.tags, w));
    let mut new = Vec::new();
    let mut facts = vec![format!("keeps logs {} days", w.retention_days)];
    match o.log_group.as_ref().zip(who) {
        None => new.push(Change::CreateLogGroup {
            name: name.clone(),
            retention_days: w.retention_days,
        }),
        // A shorter retention deletes older logs: only this project's own group follows
        // the setting; someone else's keeps theirs.
        Some((g, who)) if !who.is_ours() => {
            facts = vec![match g.retention_days {
                Some(days) => format!("keeps logs {days} days (its own setting, left as it is)"),
                None => "keeps logs forever (its own setting, left as it is)".to_owned(),
            }];
            if who == Ownership::OtherProject {
                facts.push(OTHER_PROJECT.to_owned());
            }
        }
        Some((g, who)) => {
            if g.retention_days != Some(w.retention_days) {
                new.push(Change::SetLogRetention {
                    name: name.clone(),
                    retention_days: w.retention_days,
                });
            }
            new.extend(adopt(w, who, ResourceKind::LogGroup, &g.arn));
        }
    }
    let id = o.log_group.as_ref().map(|g| g.arn.clone());
    let state = settle(o.log_group.is_some(), new, changes);
    resource(
        ResourceKind::LogGroup,
        name,
        id,
        who.map_or(Owner::Nobody, owner),
        state,
        facts,
    )
}

fn execution_role(w: &Wanted, o: &Observed, changes: &mut Vec<Change>) -> PlannedResource {
    let role = &w.names.execution_role;
    let who = o.role.as_ref().map(|r| whose(&r.tags, w));
    let managed_arn = w.scope.managed_policy_arn(EXECUTION_ROLE_POLICY);
    let execution = policy::execution_policy(&w.scope, &w.names.repository, &w.names.log_group);
    let secrets = policy::secrets_policy(&w.scope, &w.secret_refs);
    let mut facts = vec![
        format!(
            "pulls images only from the ECR repository {}",
            w.names.repository
        ),
        format!("writes logs only to {}", w.names.log_group),
    ];
    if !w.secret_refs.is_empty() {
        facts.push(format!(
            "reads only the app's {} secret(s)",
            w.secret_refs.len()
        ));
    }
    let limited = o.role.as_ref().is_none_or(|r| {
        r.trust
            .as_ref()
            .is_some_and(|t| policy::ecs_trust_limited_to(t, &w.scope.account))
    });
    if limited {
        facts.push("only ECS tasks of this account may use it".to_owned());
    }
    let mut new = Vec::new();
    match o.role.as_ref().zip(who) {
        None => {
            new.push(Change::CreateRole { name: role.clone() });
            new.extend(role_policies(
                w,
                &Default::default(),
                &execution,
                secrets.as_ref(),
            ));
        }
        Some((_, Ownership::OtherProject)) => facts.push(OTHER_PROJECT.to_owned()),
        Some((r, who)) => {
            if !r.trust.as_ref().is_some_and(policy::trusts_ecs_tasks) {
                new.push(Change::TrustEcsTasks {
                    role: role.clone(),
                    document: policy::with_ecs_trust(r.trust.as_ref(), &w.scope.account)
                        .to_string(),
                });
            }
            let has_managed = r.attached.contains(&managed_arn);
            if has_managed && !who.is_ours() {
                facts.push(
                    "also has AmazonECSTaskExecutionRolePolicy (ECR and logs on every resource), attached by someone else and left as it is".to_owned(),
                );
            }
            new.extend(adopt(w, who, ResourceKind::ExecutionRole, role));
            new.extend(role_policies(w, r, &execution, secrets.as_ref()));
            // Only after the scoped policy is in place, so tasks can always start.
            if has_managed && who.is_ours() {
                new.push(Change::DetachPolicy {
                    role: role.clone(),
                    policy_arn: managed_arn,
                });
            }
        }
    }
    let id = o.role.as_ref().map(|r| r.arn.clone());
    let state = settle(o.role.is_some(), new, changes);
    resource(
        ResourceKind::ExecutionRole,
        role,
        id,
        who.map_or(Owner::Nobody, owner),
        state,
        facts,
    )
}

/// The inline policies `r` needs written or removed: the execution policy, the secrets
/// policy (or none, when the app has no secrets), and no logs-only policy of old.
fn role_policies(
    w: &Wanted,
    r: &super::observe::ObservedRole,
    execution: &Value,
    secrets: Option<&Value>,
) -> Vec<Change> {
    let role = &w.names.execution_role;
    let put = |policy: &str, document: &Value| Change::PutInlinePolicy {
        role: role.clone(),
        policy: policy.to_owned(),
        document: document.to_string(),
    };
    let delete = |policy: &str| Change::DeleteInlinePolicy {
        role: role.clone(),
        policy: policy.to_owned(),
    };
    let mut new = Vec::new();
    if r.inline.get(EXECUTION_POLICY) != Some(&Some(execution.clone())) {
        new.push(put(EXECUTION_POLICY, execution));
    }
    match secrets {
        Some(doc) if r.inline.get(SECRETS_POLICY) != Some(&Some(doc.clone())) => {
            new.push(put(SECRETS_POLICY, doc))
        }
        None if r.inline.contains_key(SECRETS_POLICY) => new.push(delete(SECRETS_POLICY)),
        _ => {}
    }
    if r.inline.contains_key(LOGS_POLICY) {
        new.push(delete(LOGS_POLICY));
    }
    new
}

fn security_group(w: &Wanted, o: &Observed, changes: &mut Vec<Change>) -> PlannedResource {
    let name = &w.names.security_group;
    let facts = vec![match &w.balancer {
        Some(_) => format!(
            "allows TCP {} only from the load balancer ({})",
            w.port, w.names.balancer_security_group
        ),
        None => format!("allows TCP {} from {}", w.port, w.allow_from),
    }];
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
    let who = o.security_group.as_ref().map(|g| whose(&g.tags, w));
    let mut facts = facts;
    let mut new = Vec::new();
    match o.security_group.as_ref().zip(who) {
        Some((_, Ownership::OtherProject)) => facts.push(OTHER_PROJECT.to_owned()),
        None => {
            new.push(Change::CreateSecurityGroup {
                name: name.clone(),
                vpc: vpc.id.clone(),
            });
            match &w.balancer {
                Some(_) => new.extend(stable::admit_only_balancer(w, o, None, &mut facts)),
                None => new.push(Change::AllowIngress {
                    group: None,
                    port: w.port,
                    cidr: w.allow_from.clone(),
                }),
            }
        }
        Some((group, who)) if w.balancer.is_some() => {
            new.extend(stable::admit_only_balancer(w, o, Some(group), &mut facts));
            new.extend(adopt(w, who, ResourceKind::SecurityGroup, &group.id));
        }
        Some((group, who)) => {
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
            // added stays, and so does any rule that lets the wanted traffic in. Without a
            // load balancer any more, its group's rule goes too, once the open one is in.
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
            for rule in group.group_ingress.iter().filter(|r| r.added_by_slipway) {
                new.push(Change::RevokeGroupIngress {
                    group: group.id.clone(),
                    rule: rule.clone(),
                });
            }
            new.extend(adopt(w, who, ResourceKind::SecurityGroup, &group.id));
        }
    }
    let id = o.security_group.as_ref().map(|g| g.id.clone());
    let state = settle(o.security_group.is_some(), new, changes);
    resource(
        ResourceKind::SecurityGroup,
        name,
        id,
        who.map_or(Owner::Nobody, owner),
        state,
        facts,
    )
}

pub(crate) fn no_vpc(w: &Wanted, o: &Observed) -> ResourceState {
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
                "Create one in the AWS console (VPC, Your VPCs, Actions, Create default VPC), then review again.".to_owned()
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
mod balancer_tests;
#[cfg(test)]
mod blue_green_tests;
#[cfg(test)]
mod https_tests;
#[cfg(test)]
mod tests;
