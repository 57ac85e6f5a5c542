//! Blue/green's part of the setup plan: the second target group, ECS's role and the
//! production rule, made when the project wants blue/green deploys. When it no longer
//! does, what was made stays (the rule may be sending the traffic to either group, and
//! teardown removes it all); rolling deploys then register with the serving group.

use super::Upstream;
use crate::setup::balancer::blue_green::INFRASTRUCTURE_POLICY;
use crate::setup::balancer::{BalancerWanted, DEREGISTRATION_DELAY};
use crate::setup::names::Ownership;
use crate::setup::observe::Observed;
use crate::setup::plan::{owner, resource, settle, whose, Wanted, OTHER_PROJECT};
use crate::setup::{Change, Owner, PlannedResource, ResourceKind, ResourceState};

/// The blue/green row of the plan; `None` when the project has none and wants none.
pub(super) fn blue_green(
    w: &Wanted,
    b: &BalancerWanted,
    o: &Observed,
    up: &Upstream,
    changes: &mut Vec<Change>,
) -> Option<PlannedResource> {
    let kind = ResourceKind::BlueGreen;
    let seen = &o.blue_green;
    let name = &w.names.alternate_target_group;
    let Some(bake) = b.bake_minutes else {
        let ours = seen
            .alternate
            .as_ref()
            .is_some_and(|g| whose(&g.tags, w).is_ours());
        return ours.then(|| {
            resource(
                kind,
                name,
                seen.alternate.as_ref().map(|g| g.arn.clone()),
                Owner::Slipway,
                ResourceState::Ready,
                vec!["kept from blue/green deploys: rolling deploys use whichever group serves now; teardown removes it".to_owned()],
            )
        });
    };
    let mut facts = vec![
        format!("each new release starts in the group that is not serving, on port {}", w.port),
        format!(
            "once every new task is healthy, all traffic moves to it; the previous release stays ready {bake} min, when Roll back now moves the traffic back at once"
        ),
        "while both releases run, the app's tasks cost twice as much".to_owned(),
    ];
    if !up.usable {
        return Some(resource(
            kind,
            name,
            None,
            Owner::Nobody,
            super::waits_upstream(),
            facts,
        ));
    }
    let Some(vpc) = &o.vpc else {
        return None;
    };
    let mut new = Vec::new();
    let mut who = Owner::Nobody;
    // The second target group.
    match &seen.alternate {
        None => new.push(Change::CreateAlternateTargetGroup {
            name: name.clone(),
            port: w.port,
            vpc: vpc.id.clone(),
            health_path: b.health_path.clone(),
            sticky_seconds: b.sticky_seconds,
        }),
        Some(g) => {
            let ownership = whose(&g.tags, w);
            who = owner(ownership);
            if !ownership.is_ours() {
                if ownership == Ownership::OtherProject {
                    facts.push(OTHER_PROJECT.to_owned());
                }
                return Some(resource(
                    kind,
                    name,
                    Some(g.arn.clone()),
                    who,
                    super::blocked(
                        format!("A target group named {name} exists that this project did not make."),
                        format!("Rename or delete the target group {name}, or give this project another app name."),
                    ),
                    facts,
                ));
            }
            if g.port != w.port || g.target_type != "ip" || g.vpc != vpc.id {
                return Some(resource(
                    kind,
                    name,
                    Some(g.arn.clone()),
                    who,
                    super::blocked(
                        format!(
                            "The target group {name} takes {} targets on port {} in {}; the app now needs ip targets on port {} in {}, which AWS cannot change in place.",
                            g.target_type, g.port, g.vpc, w.port, vpc.id
                        ),
                        "Tear the app down and set it up again, or go back to rolling deploys.".to_owned(),
                    ),
                    facts,
                ));
            }
            if g.health_path != b.health_path {
                new.push(Change::SetHealthCheck {
                    target_group: g.arn.clone(),
                    path: b.health_path.clone(),
                });
            }
            if g.deregistration_delay != Some(DEREGISTRATION_DELAY)
                || g.sticky_seconds != b.sticky_seconds
            {
                new.push(Change::SetTargetGroupAttributes {
                    target_group: Some(g.arn.clone()),
                    deregistration_delay: DEREGISTRATION_DELAY,
                    sticky_seconds: b.sticky_seconds,
                });
            }
        }
    }
    // ECS's role.
    let role = &w.names.infrastructure_role;
    match &seen.role {
        None => {
            new.push(Change::CreateInfrastructureRole { name: role.clone() });
            new.push(Change::AttachInfrastructurePolicy { role: role.clone() });
        }
        Some(r) => {
            let attached = r.attached.iter().any(|p| p == INFRASTRUCTURE_POLICY);
            if !attached && whose(&r.tags, w).is_ours() {
                new.push(Change::AttachInfrastructurePolicy { role: role.clone() });
            } else if !attached {
                facts.push(format!(
                    "the role {role} was not made by Slipway and lacks AmazonECSInfrastructureRolePolicyForLoadBalancers: deploys fail until it has it"
                ));
            }
        }
    }
    // The production rule, on the listener that serves: 443 once HTTPS is on, else 80.
    let https = o
        .listeners
        .iter()
        .find(|l| l.port == 443 && l.certificate.is_some());
    let http = o
        .listeners
        .iter()
        .find(|l| l.port == 80 && !up.removed_listeners.contains(&l.arn));
    let (listener, port) = match https {
        Some(l) => (Some(l.arn.clone()), 443),
        None => (http.map(|l| l.arn.clone()), 80),
    };
    let main = up.target_group.clone();
    let alternate = seen.alternate.as_ref().map(|g| g.arn.clone());
    let stale = seen
        .rule
        .as_ref()
        .filter(|r| Some(&r.listener) != listener.as_ref());
    if let Some(rule) = stale {
        new.push(Change::DeleteRule {
            rule: rule.arn.clone(),
            port: rule.port,
        });
    }
    if seen.rule.is_none() || stale.is_some() {
        // The group with the app's tasks keeps serving: the main one, unless a deploy
        // moved them to the second.
        let serving_alternate = match (&seen.rule, &seen.alternate) {
            (Some(rule), Some(g)) => rule.serving() == Some(g.arn.as_str()),
            (None, Some(g)) => {
                g.targets > 0 && o.target_group.as_ref().is_none_or(|t| t.targets == 0)
            }
            _ => false,
        };
        let (serving, standby) = if serving_alternate {
            (alternate, main)
        } else {
            (main, alternate)
        };
        new.push(Change::CreateProductionRule {
            listener,
            port,
            serving,
            standby,
        });
    } else if let Some(rule) = &seen.rule {
        let group = match rule.serving() {
            Some(arn) if Some(arn) == seen.alternate.as_ref().map(|g| g.arn.as_str()) => {
                name.clone()
            }
            _ => w.names.target_group.clone(),
        };
        facts.push(format!("serving now: target group {group}, on port {port}"));
    }
    let exists = seen.alternate.is_some();
    let state = settle(exists, new, changes);
    Some(resource(
        kind,
        name,
        seen.alternate.as_ref().map(|g| g.arn.clone()),
        if exists { who } else { Owner::Nobody },
        state,
        facts,
    ))
}
