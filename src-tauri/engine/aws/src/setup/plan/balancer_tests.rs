//! The setup plan's decisions for an app behind a load balancer, one account state at a
//! time: the groups, the load balancer, the target group, the listeners, and HTTPS on the
//! user's domain.
use super::tests::{set_up_account, wanted, PROJECT};
use super::*;
use crate::setup::balancer::*;
use crate::setup::names::tags_for;
use crate::setup::network::{GroupIngressRule, IngressRule, ObservedSubnet};
use crate::setup::observe::*;
use crate::setup::plan::stable::stable_url;

pub(super) const LB_ARN: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/slipway-hello/abc";
pub(super) const TG_ARN: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/slipway-hello/def";
pub(super) const DNS: &str = "slipway-hello-1.us-east-1.elb.amazonaws.com";
pub(super) const CERT: &str = "arn:aws:acm:us-east-1:123456789012:certificate/c1";

pub(super) fn lb_wanted(domain: Option<&str>) -> Wanted {
    Wanted {
        balancer: Some(BalancerWanted {
            health_path: "/health".into(),
            sticky_seconds: None,
            domain: domain.map(str::to_owned),
            bake_minutes: None,
        }),
        ..wanted()
    }
}

pub(super) fn subnet(id: &str, zone: &str) -> ObservedSubnet {
    ObservedSubnet {
        id: id.into(),
        availability_zone: zone.into(),
        cidr: "172.31.0.0/20".into(),
        maps_public_ip: true,
        route_table: Some("rtb-1".into()),
        internet_gateway: Some("igw-1".into()),
    }
}

pub(super) fn two_zones(o: &mut Observed) {
    o.subnets = vec![
        subnet("subnet-a", "us-east-1a"),
        subnet("subnet-a2", "us-east-1a"),
        subnet("subnet-b", "us-east-1b"),
    ];
}

pub(super) fn tags() -> crate::setup::names::Tags {
    tags_for("hello", Some(PROJECT))
}

pub(super) fn listener(arn: &str, port: u16, certificate: Option<&str>) -> ObservedListener {
    ObservedListener {
        arn: arn.into(),
        port,
        protocol: if certificate.is_some() {
            "HTTPS"
        } else {
            "HTTP"
        }
        .into(),
        certificate: certificate.map(str::to_owned),
        redirects: false,
        forwards_to: Some(TG_ARN.into()),
    }
}

/// The account after a successful apply of `lb_wanted(None)`.
pub(super) fn lb_account() -> Observed {
    let mut o = set_up_account();
    two_zones(&mut o);
    o.balancer_security_group = Some(ObservedSecurityGroup {
        id: "sg-lb".into(),
        tags: tags(),
        ingress: vec![
            IngressRule::tcp(80, "0.0.0.0/0"),
            IngressRule::tcp(443, "0.0.0.0/0"),
        ],
        group_ingress: vec![],
    });
    let group = o.security_group.as_mut().unwrap();
    group.ingress.clear();
    group.group_ingress = vec![GroupIngressRule::tcp(8080, "sg-lb")];
    o.load_balancer = Some(ObservedLoadBalancer {
        arn: LB_ARN.into(),
        dns_name: DNS.into(),
        canonical_zone: "Z35SXDOTRQ7X7K".into(),
        security_groups: vec!["sg-lb".into()],
        subnets: vec!["subnet-a".into(), "subnet-b".into()],
        zones: vec!["us-east-1a".into(), "us-east-1b".into()],
        state: "active".into(),
        scheme: "internet-facing".into(),
        kind: "application".into(),
        vpc: "vpc-1".into(),
        tags: tags(),
    });
    o.target_group = Some(ObservedTargetGroup {
        arn: TG_ARN.into(),
        port: 8080,
        protocol: "HTTP".into(),
        target_type: "ip".into(),
        vpc: "vpc-1".into(),
        health_path: "/health".into(),
        health_interval: 10,
        healthy_threshold: 2,
        matcher: "200-399".into(),
        deregistration_delay: Some(10),
        sticky_seconds: None,
        targets: 0,
        tags: tags(),
    });
    o.listeners = vec![listener("arn:l80", 80, None)];
    o
}

pub(super) fn zone(records: Vec<ObservedRecord>) -> ObservedZone {
    ObservedZone {
        id: "Z1".into(),
        name: "example.com".into(),
        records,
    }
}

pub(super) fn validation() -> DnsRecord {
    DnsRecord {
        name: "_x.app.example.com".into(),
        kind: "CNAME".into(),
        value: "_y.acm-validations.aws".into(),
    }
}

pub(super) fn certificate(status: &str) -> ObservedCertificate {
    ObservedCertificate {
        arn: CERT.into(),
        domain: "app.example.com".into(),
        status: status.into(),
        validation: Some(validation()),
        in_use_by: vec![],
        tags: tags(),
    }
}

pub(super) fn records_in_place() -> Vec<ObservedRecord> {
    vec![
        ObservedRecord {
            name: "app.example.com".into(),
            kind: "A".into(),
            ttl: None,
            values: vec![],
            alias: Some(AliasTarget {
                dns_name: format!("{DNS}."),
                hosted_zone: "Z35SXDOTRQ7X7K".into(),
            }),
            evaluates_health: false,
        },
        ObservedRecord {
            name: "_x.app.example.com".into(),
            kind: "CNAME".into(),
            ttl: Some(300),
            values: vec!["_y.acm-validations.aws.".into()],
            alias: None,
            evaluates_health: false,
        },
    ]
}

pub(super) fn state(plan: &SetupPlan, kind: ResourceKind) -> &ResourceState {
    &plan
        .resources
        .iter()
        .find(|r| r.kind == kind)
        .unwrap()
        .state
}

pub(super) fn kinds(plan: &SetupPlan) -> Vec<ResourceKind> {
    plan.resources.iter().map(|r| r.kind).collect()
}

#[test]
fn an_empty_account_gets_the_balancer_in_dependency_order_and_no_open_port_on_the_tasks() {
    let mut observed = super::tests::empty_account();
    two_zones(&mut observed);
    let plan = decide(&lb_wanted(None), &observed);
    assert_eq!(
        kinds(&plan),
        [
            ResourceKind::Repository,
            ResourceKind::Cluster,
            ResourceKind::LogGroup,
            ResourceKind::ExecutionRole,
            ResourceKind::BalancerSecurityGroup,
            ResourceKind::SecurityGroup,
            ResourceKind::Subnets,
            ResourceKind::LoadBalancer,
            ResourceKind::TargetGroup,
            ResourceKind::Listener,
        ]
    );
    let order: Vec<_> = plan.changes.iter().map(|c| c.kind() as u8).collect();
    assert!(
        order.windows(2).all(|w| w[0] <= w[1]),
        "changes run resource by resource, in the listed order: {:?}",
        plan.changes
    );
    let balancer: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.kind() != ResourceKind::Repository)
        .filter(|c| {
            !matches!(
                c.kind(),
                ResourceKind::Cluster | ResourceKind::LogGroup | ResourceKind::ExecutionRole
            )
        })
        .cloned()
        .collect();
    assert_eq!(
        balancer,
        vec![
            Change::CreateBalancerGroup {
                name: "slipway-hello-lb".into(),
                vpc: "vpc-1".into()
            },
            Change::AllowBalancerIngress {
                group: None,
                port: 80,
                cidr: "0.0.0.0/0".into()
            },
            Change::AllowBalancerIngress {
                group: None,
                port: 443,
                cidr: "0.0.0.0/0".into()
            },
            Change::CreateSecurityGroup {
                name: "slipway-hello".into(),
                vpc: "vpc-1".into()
            },
            Change::AdmitBalancer {
                group: None,
                port: 8080,
                balancer_group: None
            },
            Change::CreateLoadBalancer {
                name: "slipway-hello".into(),
                subnets: vec!["subnet-a".into(), "subnet-b".into()],
                security_group: None
            },
            Change::CreateTargetGroup {
                name: "slipway-hello".into(),
                port: 8080,
                vpc: "vpc-1".into(),
                health_path: "/health".into()
            },
            Change::SetTargetGroupAttributes {
                target_group: None,
                deregistration_delay: 10,
                sticky_seconds: None
            },
            Change::CreateListener {
                load_balancer: None,
                port: 80,
                certificate: None,
                target_group: None
            },
        ],
        "one subnet per zone; the tasks' group lets in only the balancer's"
    );
    let not_ready = plan.not_ready();
    assert!(
        not_ready
            .iter()
            .any(|m| m.contains("Load balancer slipway-hello is missing")),
        "a deploy refuses until setup made the balancer: {not_ready:?}"
    );
    assert!(plan.warnings[0].contains("The load balancer's ports 80 and 443"));
}

#[test]
fn a_set_up_balancer_has_nothing_to_do_and_its_address_is_the_load_balancers_name() {
    let w = lb_wanted(None);
    let observed = lb_account();
    let plan = decide(&w, &observed);
    assert!(plan.nothing_to_do(), "{:?}", plan.changes);
    assert!(plan.ready() && plan.not_ready().is_empty());
    let facts = &plan
        .resources
        .iter()
        .find(|r| r.kind == ResourceKind::TargetGroup)
        .unwrap()
        .facts;
    assert!(
        facts
            .iter()
            .any(|f| f.contains("health check GET /health every 10 s")),
        "{facts:?}"
    );
    assert_eq!(stable_url(&observed, &w), Some(format!("http://{DNS}")));
    assert_eq!(
        stable_url(&observed, &wanted()),
        None,
        "no stable address for a project without a load balancer"
    );
}

#[test]
fn turning_the_balancer_on_admits_it_before_the_open_rule_goes() {
    let mut observed = set_up_account();
    two_zones(&mut observed);
    let plan = decide(&lb_wanted(None), &observed);
    let group: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.kind() == ResourceKind::SecurityGroup)
        .cloned()
        .collect();
    assert_eq!(
        group,
        vec![
            Change::AdmitBalancer {
                group: Some("sg-1".into()),
                port: 8080,
                balancer_group: None
            },
            Change::RevokeIngress {
                group: "sg-1".into(),
                rule: IngressRule::tcp(8080, "0.0.0.0/0")
            },
        ],
        "the balancer's rule first, then the open one goes"
    );
}

#[test]
fn turning_the_balancer_off_opens_the_port_before_the_balancers_rule_goes_and_warns_of_its_cost() {
    let plan = decide(&wanted(), &lb_account());
    assert_eq!(
        plan.changes,
        vec![
            Change::AllowIngress {
                group: Some("sg-1".into()),
                port: 8080,
                cidr: "0.0.0.0/0".into()
            },
            Change::RevokeGroupIngress {
                group: "sg-1".into(),
                rule: GroupIngressRule::tcp(8080, "sg-lb")
            },
        ]
    );
    assert!(
        !plan
            .resources
            .iter()
            .any(|r| r.kind == ResourceKind::LoadBalancer),
        "the balancer is not part of a plan without one"
    );
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("still runs, and costs money")),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn public_subnets_in_one_zone_only_block_the_balancer_with_the_fix() {
    let mut observed = super::tests::empty_account();
    observed.subnets = vec![subnet("subnet-a", "us-east-1a")];
    let plan = decide(&lb_wanted(None), &observed);
    let ResourceState::Blocked { reason, fix } = state(&plan, ResourceKind::LoadBalancer) else {
        panic!("{:?}", state(&plan, ResourceKind::LoadBalancer));
    };
    assert!(
        reason.contains("at least two Availability Zones") && reason.contains("us-east-1a"),
        "{reason}"
    );
    assert!(fix.contains("another Availability Zone"), "{fix}");
    assert!(matches!(
        state(&plan, ResourceKind::Listener),
        ResourceState::Blocked { .. }
    ));
    assert!(!plan.changes.iter().any(|c| matches!(
        c,
        Change::CreateLoadBalancer { .. } | Change::CreateListener { .. }
    )));
    assert!(plan.not_ready().iter().any(|m| m.contains("Load balancer")));
}

#[test]
fn a_new_port_replaces_an_unused_target_group_and_its_listener_but_blocks_a_used_one() {
    let mut w = lb_wanted(None);
    w.port = 3000;
    let mut observed = lb_account();
    observed.security_group.as_mut().unwrap().group_ingress =
        vec![GroupIngressRule::tcp(3000, "sg-lb")];
    let plan = decide(&w, &observed);
    let balancer: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.kind(), ResourceKind::TargetGroup | ResourceKind::Listener))
        .cloned()
        .collect();
    assert_eq!(
        balancer,
        vec![
            Change::ReplaceTargetGroup {
                target_group: TG_ARN.into(),
                old_port: 8080,
                listeners: vec!["arn:l80".into()]
            },
            Change::CreateTargetGroup {
                name: "slipway-hello".into(),
                port: 3000,
                vpc: "vpc-1".into(),
                health_path: "/health".into()
            },
            Change::SetTargetGroupAttributes {
                target_group: None,
                deregistration_delay: 10,
                sticky_seconds: None
            },
            Change::CreateListener {
                load_balancer: Some(LB_ARN.into()),
                port: 80,
                certificate: None,
                target_group: None
            },
        ]
    );

    observed.target_group.as_mut().unwrap().targets = 2;
    let plan = decide(&w, &observed);
    let ResourceState::Blocked { reason, fix } = state(&plan, ResourceKind::TargetGroup) else {
        panic!("{:?}", state(&plan, ResourceKind::TargetGroup));
    };
    assert!(
        reason.contains("port 8080") && reason.contains("2 task(s)"),
        "{reason}"
    );
    assert!(fix.contains("Stop the app's service"), "{fix}");
    assert!(!plan
        .changes
        .iter()
        .any(|c| c.kind() == ResourceKind::TargetGroup));
}

#[test]
fn a_new_health_path_slow_draining_and_stickiness_are_changed_in_place() {
    let mut w = lb_wanted(None);
    w.balancer.as_mut().unwrap().health_path = "/ready".into();
    w.balancer.as_mut().unwrap().sticky_seconds = Some(3600);
    let mut observed = lb_account();
    observed.target_group.as_mut().unwrap().deregistration_delay = Some(300);
    let plan = decide(&w, &observed);
    assert_eq!(
        plan.changes,
        vec![
            Change::SetHealthCheck {
                target_group: TG_ARN.into(),
                path: "/ready".into()
            },
            Change::SetTargetGroupAttributes {
                target_group: Some(TG_ARN.into()),
                deregistration_delay: 10,
                sticky_seconds: Some(3600)
            },
        ]
    );
}

#[test]
fn someone_elses_internal_load_balancer_of_the_same_name_is_explained_not_changed() {
    let mut observed = lb_account();
    let lb = observed.load_balancer.as_mut().unwrap();
    lb.tags = Default::default();
    lb.scheme = "internal".into();
    let plan = decide(&lb_wanted(None), &observed);
    let ResourceState::Blocked { reason, fix } = state(&plan, ResourceKind::LoadBalancer) else {
        panic!("{:?}", state(&plan, ResourceKind::LoadBalancer));
    };
    assert!(reason.contains("internal"), "{reason}");
    assert!(fix.contains("another app name"), "{fix}");
    assert!(plan.nothing_to_do(), "{:?}", plan.changes);
}
