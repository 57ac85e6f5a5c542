//! The load balancer's part of the setup plan, pure like the rest: its security group, the
//! load balancer, the target group, the HTTP listener, and HTTPS on the user's domain (the
//! certificate, its DNS records, the HTTPS listener with port 80's redirect). Only what
//! Slipway made for this project is changed; a same-named resource of someone else's is
//! used when it fits and explained when it does not.

mod blue_green;
mod https;

use crate::setup::balancer::{BalancerWanted, DnsRecord};
use crate::setup::balancer::{
    DEREGISTRATION_DELAY, HEALTHY_CODES, HEALTHY_THRESHOLD, HEALTH_INTERVAL,
};
use crate::setup::names::Ownership;
use crate::setup::observe::{Observed, ObservedSecurityGroup};
use crate::setup::plan::{adopt, no_vpc, owner, resource, settle, whose, Wanted, OTHER_PROJECT};
use crate::setup::{Change, Owner, PlannedResource, ResourceKind, ResourceState};

/// The ports the load balancer listens on, open to `allow_from`.
pub const BALANCER_PORTS: [u16; 2] = [80, 443];

/// The balancer's security group: TCP 80 and 443 from `allow_from`.
pub(crate) fn balancer_group(
    w: &Wanted,
    o: &Observed,
    changes: &mut Vec<Change>,
) -> PlannedResource {
    let kind = ResourceKind::BalancerSecurityGroup;
    let name = &w.names.balancer_security_group;
    let mut facts = vec![format!("allows TCP 80 and 443 from {}", w.allow_from)];
    let Some(vpc) = &o.vpc else {
        return resource(kind, name, None, Owner::Nobody, no_vpc(w, o), facts);
    };
    let group = o.balancer_security_group.as_ref();
    let who = group.map(|g| whose(&g.tags, w));
    let mut new = Vec::new();
    match group.zip(who) {
        Some((_, Ownership::OtherProject)) => facts.push(OTHER_PROJECT.to_owned()),
        None => {
            new.push(Change::CreateBalancerGroup {
                name: name.clone(),
                vpc: vpc.id.clone(),
            });
            for port in BALANCER_PORTS {
                new.push(Change::AllowBalancerIngress {
                    group: None,
                    port,
                    cidr: w.allow_from.clone(),
                });
            }
        }
        Some((g, who)) => {
            for port in BALANCER_PORTS {
                if !g.ingress.iter().any(|r| r.covers(port, &w.allow_from)) {
                    new.push(Change::AllowBalancerIngress {
                        group: Some(g.id.clone()),
                        port,
                        cidr: w.allow_from.clone(),
                    });
                }
            }
            for rule in g.ingress.iter().filter(|r| {
                r.added_by_slipway && !BALANCER_PORTS.iter().any(|p| r.covers(*p, &w.allow_from))
            }) {
                new.push(Change::RevokeBalancerIngress {
                    group: g.id.clone(),
                    rule: rule.clone(),
                });
            }
            new.extend(adopt(w, who, kind, &g.id));
        }
    }
    let id = group.map(|g| g.id.clone());
    let state = settle(group.is_some(), new, changes);
    resource(
        kind,
        name,
        id,
        who.map_or(Owner::Nobody, owner),
        state,
        facts,
    )
}

/// The app's group when the app sits behind the load balancer: the container port is let
/// in from the balancer's group, then the open rules Slipway added are revoked (in that
/// order, so the app is reachable one way or the other throughout). `group` is `None` for
/// the group the same apply creates.
pub(crate) fn admit_only_balancer(
    w: &Wanted,
    o: &Observed,
    group: Option<&ObservedSecurityGroup>,
    facts: &mut Vec<String>,
) -> Vec<Change> {
    let balancer = o.balancer_security_group.as_ref().map(|g| g.id.clone());
    let mut new = Vec::new();
    let admitted = group.is_some_and(|g| {
        balancer
            .as_deref()
            .is_some_and(|b| g.group_ingress.iter().any(|r| r.covers(w.port, b)))
    });
    if !admitted {
        new.push(Change::AdmitBalancer {
            group: group.map(|g| g.id.clone()),
            port: w.port,
            balancer_group: balancer.clone(),
        });
    }
    let Some(g) = group else { return new };
    for rule in g.ingress.iter().filter(|r| r.added_by_slipway) {
        new.push(Change::RevokeIngress {
            group: g.id.clone(),
            rule: rule.clone(),
        });
    }
    for rule in g
        .group_ingress
        .iter()
        .filter(|r| r.added_by_slipway && !balancer.as_deref().is_some_and(|b| r.covers(w.port, b)))
    {
        new.push(Change::RevokeGroupIngress {
            group: g.id.clone(),
            rule: rule.clone(),
        });
    }
    for rule in g.ingress.iter().filter(|r| !r.added_by_slipway) {
        facts.push(format!(
            "also allows {} (a rule Slipway did not add, left as it is): tasks stay reachable that way too",
            rule.describe()
        ));
    }
    new
}

/// The subnets the load balancer goes in: one per Availability Zone, each with a route to
/// an internet gateway, in zone order.
pub(crate) fn balancer_subnets(o: &Observed) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = o
        .subnets
        .iter()
        .filter(|s| s.internet_gateway.is_some())
        .map(|s| (s.availability_zone.clone(), s.id.clone()))
        .collect();
    found.sort();
    found.dedup_by(|a, b| a.0 == b.0);
    found.into_iter().map(|(zone, id)| (id, zone)).collect()
}

/// What the later resources need from the earlier ones.
struct Upstream {
    /// The load balancer's ARN, `None` when this apply creates it.
    load_balancer: Option<String>,
    /// The target group's ARN, `None` when this apply creates it (or replaces it).
    target_group: Option<String>,
    /// The ARNs of listeners a target group replacement removes.
    removed_listeners: Vec<String>,
    /// False when the load balancer or target group cannot be set up as things are.
    usable: bool,
    /// True when the load balancer is Slipway's for this project (its listeners may change).
    ours: bool,
}

/// The resources after the subnets, in apply order, and the DNS records the user must add
/// at their DNS provider.
pub(crate) fn resources(
    w: &Wanted,
    b: &BalancerWanted,
    o: &Observed,
    changes: &mut Vec<Change>,
) -> (Vec<PlannedResource>, Vec<DnsRecord>) {
    let (lb, lb_ok) = load_balancer(w, o, changes);
    let (tg, tg_ok, replaced) = target_group(w, b, o, changes);
    let up = Upstream {
        load_balancer: o.load_balancer.as_ref().map(|l| l.arn.clone()),
        target_group: if replaced {
            None
        } else {
            o.target_group.as_ref().map(|t| t.arn.clone())
        },
        removed_listeners: changes
            .iter()
            .find_map(|c| match c {
                Change::ReplaceTargetGroup { listeners, .. } => Some(listeners.clone()),
                _ => None,
            })
            .unwrap_or_default(),
        usable: lb_ok && tg_ok,
        ours: o
            .load_balancer
            .as_ref()
            .is_none_or(|l| whose(&l.tags, w).is_ours()),
    };
    let mut out = vec![lb, tg, listener(w, b, o, &up, changes)];
    let mut to_add = Vec::new();
    if let Some(domain) = &b.domain {
        out.push(https::certificate(w, domain, o, changes));
        let (records, add) = https::dns_records(w, domain, o, changes);
        out.push(records);
        to_add = add;
    }
    if let Some(https) = https::https_listener(b, o, &up, changes) {
        out.push(https);
    }
    out.extend(blue_green::blue_green(w, b, o, &up, changes));
    (out, to_add)
}

fn blocked(reason: String, fix: String) -> ResourceState {
    ResourceState::Blocked { reason, fix }
}

fn load_balancer(w: &Wanted, o: &Observed, changes: &mut Vec<Change>) -> (PlannedResource, bool) {
    let kind = ResourceKind::LoadBalancer;
    let name = &w.names.load_balancer;
    let subnets = balancer_subnets(o);
    let zones = |list: &[(String, String)]| {
        list.iter()
            .map(|(id, zone)| format!("{id} ({zone})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(vpc) = &o.vpc else {
        return (
            resource(kind, name, None, Owner::Nobody, no_vpc(w, o), vec![]),
            false,
        );
    };
    let Some(lb) = &o.load_balancer else {
        let facts = vec![
            "internet-facing Application Load Balancer: one address that never changes across deploys and rollbacks".to_owned(),
            format!("in {}", zones(&subnets)),
        ];
        if subnets.len() < 2 {
            let state = blocked(
                format!(
                    "An Application Load Balancer needs public subnets in at least two Availability Zones; {} has {}.",
                    vpc.id,
                    match subnets.len() {
                        0 => "none (no subnet's route table sends 0.0.0.0/0 to an internet gateway)".to_owned(),
                        _ => format!("one only: {}", zones(&subnets)),
                    }
                ),
                format!(
                    "Add a subnet in another Availability Zone of {} whose route table sends 0.0.0.0/0 to the internet gateway, or choose another VPC.",
                    vpc.id
                ),
            );
            return (
                resource(kind, name, None, Owner::Nobody, state, facts),
                false,
            );
        }
        let state = settle(
            false,
            vec![Change::CreateLoadBalancer {
                name: name.clone(),
                subnets: subnets.into_iter().map(|(id, _)| id).collect(),
                security_group: o.balancer_security_group.as_ref().map(|g| g.id.clone()),
            }],
            changes,
        );
        return (
            resource(kind, name, None, Owner::Nobody, state, facts),
            true,
        );
    };
    let who = whose(&lb.tags, w);
    let mut facts = vec![
        format!("one address that never changes: http://{}", lb.dns_name),
        format!(
            "internet-facing, in {} Availability Zones ({})",
            lb.zones.len(),
            lb.zones.join(", ")
        ),
    ];
    let unfit = if lb.kind != "application" {
        Some(format!("it is a {} load balancer", lb.kind))
    } else if lb.scheme != "internet-facing" {
        Some("it is internal (not reachable from the internet)".to_owned())
    } else if lb.vpc != vpc.id {
        Some(format!(
            "it is in {}, and the app runs in {}",
            lb.vpc, vpc.id
        ))
    } else if lb.state == "failed" {
        Some("AWS reports it as failed".to_owned())
    } else {
        None
    };
    if let Some(why) = unfit {
        let state = blocked(
            format!("A load balancer named {name} exists, but {why}."),
            if who.is_ours() {
                format!(
                    "Delete the load balancer {name} (teardown removes it), then run setup again."
                )
            } else {
                format!("Rename or delete the load balancer {name}, or give this project another app name.")
            },
        );
        return (
            resource(kind, name, Some(lb.arn.clone()), owner(who), state, facts),
            false,
        );
    }
    if lb.state == "provisioning" {
        facts.push("AWS is still starting it; it answers within a few minutes".to_owned());
    }
    let mut new = Vec::new();
    match who {
        Ownership::OtherProject => facts.push(OTHER_PROJECT.to_owned()),
        Ownership::NotSlipways => facts.push(
            "not created by Slipway: used as it is, its settings left alone, never removed"
                .to_owned(),
        ),
        Ownership::Ours | Ownership::OursUntagged => {
            let group = o.balancer_security_group.as_ref().map(|g| g.id.clone());
            if group
                .as_ref()
                .is_none_or(|g| !lb.security_groups.contains(g))
            {
                new.push(Change::UseBalancerGroup {
                    load_balancer: lb.arn.clone(),
                    group,
                });
            }
            new.extend(adopt(w, who, kind, &lb.arn));
        }
    }
    let state = settle(true, new, changes);
    (
        resource(kind, name, Some(lb.arn.clone()), owner(who), state, facts),
        true,
    )
}

/// The target group, whether it can be used, and whether this apply replaces it.
fn target_group(
    w: &Wanted,
    b: &BalancerWanted,
    o: &Observed,
    changes: &mut Vec<Change>,
) -> (PlannedResource, bool, bool) {
    let kind = ResourceKind::TargetGroup;
    let name = &w.names.target_group;
    let mut facts = vec![
        format!("tasks register by IP address on port {} (HTTP)", w.port),
        format!(
            "health check GET {} every {HEALTH_INTERVAL} s; a task is healthy after {HEALTHY_THRESHOLD} answers {HEALTHY_CODES}",
            b.health_path
        ),
        format!(
            "a stopping task's requests get {DEREGISTRATION_DELAY} s to finish (AWS's default, 300 s, would slow every deploy)"
        ),
    ];
    if let Some(seconds) = b.sticky_seconds {
        facts.push(format!(
            "sticky sessions: a cookie keeps each visitor on one task for {seconds} s"
        ));
    }
    let Some(vpc) = &o.vpc else {
        return (
            resource(kind, name, None, Owner::Nobody, no_vpc(w, o), facts),
            false,
            false,
        );
    };
    let create = |new: &mut Vec<Change>| {
        new.push(Change::CreateTargetGroup {
            name: name.clone(),
            port: w.port,
            vpc: vpc.id.clone(),
            health_path: b.health_path.clone(),
        });
        new.push(Change::SetTargetGroupAttributes {
            target_group: None,
            deregistration_delay: DEREGISTRATION_DELAY,
            sticky_seconds: b.sticky_seconds,
        });
    };
    let Some(tg) = &o.target_group else {
        let mut new = Vec::new();
        create(&mut new);
        let state = settle(false, new, changes);
        return (
            resource(kind, name, None, Owner::Nobody, state, facts),
            true,
            false,
        );
    };
    let who = whose(&tg.tags, w);
    let id = Some(tg.arn.clone());
    let fits =
        tg.target_type == "ip" && tg.protocol == "HTTP" && tg.vpc == vpc.id && tg.port == w.port;
    if !who.is_ours() {
        if who == Ownership::OtherProject {
            facts.push(OTHER_PROJECT.to_owned());
        }
        let state = if fits {
            facts.push(format!(
                "not this project's: its own health check (GET {}) is left as it is",
                tg.health_path
            ));
            ResourceState::Ready
        } else {
            blocked(
                format!(
                    "A target group named {name} exists that this project did not make, and it does not fit the app ({} on port {} in {}; the app needs ip targets on port {} in {}).",
                    tg.target_type, tg.port, tg.vpc, w.port, vpc.id
                ),
                format!("Rename or delete the target group {name}, or give this project another app name."),
            )
        };
        return (
            resource(kind, name, id, owner(who), state, facts),
            fits,
            false,
        );
    }
    let mut new = Vec::new();
    if !fits {
        if tg.targets > 0 {
            let state = blocked(
                format!(
                    "The target group {name} sends requests to {} on port {}, and the app now needs ip targets on port {} in {}; AWS cannot change that in place, and {} task(s) are registered with it.",
                    tg.target_type, tg.port, w.port, vpc.id, tg.targets
                ),
                "Stop the app's service, run setup again to replace the target group, then deploy.".to_owned(),
            );
            return (
                resource(kind, name, id, owner(who), state, facts),
                false,
                false,
            );
        }
        let listeners = o
            .listeners
            .iter()
            .filter(|l| l.forwards_to.as_deref() == Some(tg.arn.as_str()))
            .map(|l| l.arn.clone())
            .collect();
        new.push(Change::ReplaceTargetGroup {
            target_group: tg.arn.clone(),
            old_port: tg.port,
            listeners,
        });
        create(&mut new);
        let state = settle(true, new, changes);
        return (
            resource(kind, name, id, owner(who), state, facts),
            true,
            true,
        );
    }
    let health_differs = tg.health_path != b.health_path
        || tg.health_interval != HEALTH_INTERVAL
        || tg.healthy_threshold != HEALTHY_THRESHOLD
        || tg.matcher != HEALTHY_CODES;
    if health_differs {
        new.push(Change::SetHealthCheck {
            target_group: tg.arn.clone(),
            path: b.health_path.clone(),
        });
    }
    if tg.deregistration_delay != Some(DEREGISTRATION_DELAY)
        || tg.sticky_seconds != b.sticky_seconds
    {
        new.push(Change::SetTargetGroupAttributes {
            target_group: Some(tg.arn.clone()),
            deregistration_delay: DEREGISTRATION_DELAY,
            sticky_seconds: b.sticky_seconds,
        });
    }
    new.extend(adopt(w, who, kind, &tg.arn));
    let state = settle(true, new, changes);
    (
        resource(kind, name, id, owner(who), state, facts),
        true,
        false,
    )
}

fn waits_upstream() -> ResourceState {
    blocked(
        "It needs the load balancer and the target group, which cannot be set up as things are (see above).".to_owned(),
        "Do what is said above, then review the plan again.".to_owned(),
    )
}

/// The HTTP listener on port 80: it forwards to the target group, or, with HTTPS on the
/// domain, redirects to it (which the HTTPS listener's part decides).
fn listener(
    w: &Wanted,
    b: &BalancerWanted,
    o: &Observed,
    up: &Upstream,
    changes: &mut Vec<Change>,
) -> PlannedResource {
    let kind = ResourceKind::Listener;
    let name = "HTTP :80";
    let mut facts = vec!["HTTP on port 80, forwarding to the target group".to_owned()];
    if !up.usable {
        return resource(kind, name, None, Owner::Nobody, waits_upstream(), facts);
    }
    let found = o
        .listeners
        .iter()
        .find(|l| l.port == 80 && !up.removed_listeners.contains(&l.arn));
    let Some(l) = found else {
        if !up.ours {
            let state = blocked(
                format!(
                    "The load balancer {} is not this project's, and it has no listener on port 80.",
                    w.names.load_balancer
                ),
                "Add a listener on port 80 that forwards to the target group, or give this project another app name.".to_owned(),
            );
            return resource(kind, name, None, Owner::Someone, state, facts);
        }
        let state = settle(
            false,
            vec![Change::CreateListener {
                load_balancer: up.load_balancer.clone(),
                port: 80,
                certificate: None,
                target_group: up.target_group.clone(),
            }],
            changes,
        );
        return resource(kind, name, None, Owner::Nobody, state, facts);
    };
    let who = if up.ours {
        Owner::Slipway
    } else {
        Owner::Someone
    };
    let forwards = l.forwards_to.is_some() && l.forwards_to == up.target_group;
    let https_redirect = l.redirects && b.domain.is_some();
    if https_redirect {
        facts = vec!["port 80 redirects to HTTPS on 443 (301)".to_owned()];
    }
    let mut new = Vec::new();
    if !forwards && !https_redirect {
        if !up.ours {
            let state = blocked(
                format!(
                    "The load balancer {} is not this project's, and its port 80 listener does not forward to the target group.",
                    w.names.load_balancer
                ),
                "Make that listener forward to the target group, or give this project another app name.".to_owned(),
            );
            return resource(kind, name, Some(l.arn.clone()), who, state, facts);
        }
        new.push(Change::ForwardListener {
            listener: l.arn.clone(),
            port: 80,
            target_group: up.target_group.clone(),
        });
    }
    let state = settle(true, new, changes);
    resource(kind, name, Some(l.arn.clone()), who, state, facts)
}

/// The app's address that never changes: `https://<domain>` once port 443 serves the
/// domain's certificate and the domain's alias record points at the load balancer;
/// `http://<load balancer's DNS name>` otherwise. `None` when the project has no load
/// balancer (or it does not exist yet).
pub fn stable_url(observed: &Observed, wanted: &Wanted) -> Option<String> {
    let balancer = wanted.balancer.as_ref()?;
    let lb = observed.load_balancer.as_ref()?;
    let https = balancer.domain.as_deref().filter(|domain| {
        let issued = observed.certificate.as_ref().filter(|c| {
            c.status == "ISSUED" && crate::setup::balancer::dns_name(&c.domain) == *domain
        });
        let serves = issued.is_some_and(|c| {
            observed
                .listeners
                .iter()
                .any(|l| l.port == 443 && l.certificate.as_deref() == Some(c.arn.as_str()))
        });
        let points = observed
            .hosted_zone
            .as_ref()
            .is_some_and(|z| z.points_at(domain, &lb.dns_name));
        serves && points
    });
    Some(match https {
        Some(domain) => format!("https://{domain}"),
        None => format!("http://{}", lb.dns_name),
    })
}
