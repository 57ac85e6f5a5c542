//! How records and aliases are compared, and which subnets the load balancer takes.
use super::*;
use crate::setup::network::ObservedSubnet;
use crate::setup::observe::Observed;

fn alias(name: &str, dns: &str) -> ObservedRecord {
    ObservedRecord {
        name: dns_name(name),
        kind: "A".into(),
        ttl: None,
        values: vec![],
        alias: Some(AliasTarget {
            dns_name: dns.into(),
            hosted_zone: "Z1".into(),
        }),
        evaluates_health: false,
    }
}

#[test]
fn an_alias_points_at_the_balancer_whatever_route_53_adds_to_its_name() {
    let zone = ObservedZone {
        id: "Z".into(),
        name: "example.com".into(),
        records: vec![alias(
            "App.Example.com.",
            "dualstack.Slipway-Hello-1.us-east-1.elb.amazonaws.com.",
        )],
    };
    assert!(zone.points_at(
        "app.example.com",
        "slipway-hello-1.us-east-1.elb.amazonaws.com"
    ));
    assert!(!zone.points_at("app.example.com", "other-1.us-east-1.elb.amazonaws.com"));
    assert!(!zone.points_at(
        "www.example.com",
        "slipway-hello-1.us-east-1.elb.amazonaws.com"
    ));
}

#[test]
fn the_balancer_takes_one_subnet_per_zone_with_an_internet_route_only() {
    let subnet = |id: &str, zone: &str, igw: bool| ObservedSubnet {
        id: id.into(),
        availability_zone: zone.into(),
        cidr: "10.0.0.0/24".into(),
        maps_public_ip: false,
        route_table: Some("rtb".into()),
        internet_gateway: igw.then(|| "igw-1".to_owned()),
    };
    let observed = Observed {
        subnets: vec![
            subnet("subnet-b2", "eu-west-1b", true),
            subnet("subnet-a1", "eu-west-1a", true),
            subnet("subnet-b1", "eu-west-1b", true),
            subnet("subnet-c1", "eu-west-1c", false),
        ],
        ..Default::default()
    };
    assert_eq!(
        crate::setup::plan::stable::balancer_subnets(&observed),
        [
            ("subnet-a1".to_owned(), "eu-west-1a".to_owned()),
            ("subnet-b1".to_owned(), "eu-west-1b".to_owned()),
        ],
        "a load balancer's subnet needs no public IPs of its own, only the route"
    );
}
