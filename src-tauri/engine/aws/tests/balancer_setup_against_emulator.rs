//! Setup of the stable address against the emulator (moto), through the fault proxy: the
//! load balancer, its groups, target group and listeners, and HTTPS on a domain, checked
//! in the emulator afterwards. Each test has its own region, app name and hosted zone.

mod balancing;
mod emulator;

use aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum;
use balancing::{balanced, hosted_zone, mutating_besides_route53, records, route53_calls, truth};
use emulator::state_of;
use slipway_aws::setup::{observe_for, plan_setup, stable_url, wanted, ResourceKind};
use slipway_aws::setup::{Owner, ResourceState};
use slipway_testkit::Fault;

/// The app's security group as the emulator holds it: its CIDR rules and the groups it
/// admits, as (port, source).
async fn app_group_rules(fx: &emulator::Fixture) -> (Vec<(i32, String)>, Vec<(i32, String)>) {
    let names = fx.names();
    let groups = aws_sdk_ec2::Client::new(&fx.direct().await)
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-name")
                .values(&names.security_group)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let group = &groups.security_groups()[0];
    let mut cidrs = Vec::new();
    let mut sources = Vec::new();
    for p in group.ip_permissions() {
        for r in p.ip_ranges() {
            cidrs.push((p.from_port.unwrap(), r.cidr_ip.clone().unwrap()));
        }
        for g in p.user_id_group_pairs() {
            sources.push((p.from_port.unwrap(), g.group_id.clone().unwrap()));
        }
    }
    (cidrs, sources)
}

#[tokio::test]
async fn setup_with_a_load_balancer_twice_makes_no_mutating_call_the_second_time() {
    let Some(mut fx) = balanced("eu-central-2").await else {
        return;
    };
    let plan = plan_setup(&fx.connect().await, &fx.config).await.unwrap();
    for kind in [
        ResourceKind::BalancerSecurityGroup,
        ResourceKind::LoadBalancer,
        ResourceKind::TargetGroup,
        ResourceKind::Listener,
    ] {
        assert_eq!(
            *state_of(&plan, kind),
            ResourceState::WillCreate,
            "{kind:?}"
        );
    }
    assert!(
        plan.not_ready()
            .iter()
            .any(|m| m.starts_with("Load balancer")),
        "a deploy refuses until setup has made the load balancer: {:?}",
        plan.not_ready()
    );

    let (after, _) = fx.apply().await.unwrap();
    assert!(after.ready(), "{:?}", after.resources);
    assert!(after.not_ready().is_empty());
    for kind in [ResourceKind::LoadBalancer, ResourceKind::TargetGroup] {
        let resource = after.resources.iter().find(|r| r.kind == kind).unwrap();
        assert_eq!(resource.owner, Owner::Slipway, "{kind:?} is tagged");
    }

    let t = truth(&fx).await;
    let lb = t.load_balancer.expect("the load balancer exists");
    assert_eq!(lb.scheme.as_ref().unwrap().as_str(), "internet-facing");
    assert_eq!(lb.r#type.as_ref().unwrap().as_str(), "application");
    let zones: Vec<_> = lb
        .availability_zones()
        .iter()
        .map(|z| z.zone_name.clone().unwrap())
        .collect();
    assert!(zones.len() >= 2, "two zones at least: {zones:?}");
    let balancer_group = after
        .resources
        .iter()
        .find(|r| r.kind == ResourceKind::BalancerSecurityGroup)
        .and_then(|r| r.id.clone())
        .unwrap();
    assert_eq!(lb.security_groups(), std::slice::from_ref(&balancer_group));

    let tg = t.target_group.expect("the target group exists");
    assert_eq!(tg.target_type.as_ref().unwrap().as_str(), "ip");
    assert_eq!(tg.port, Some(8080));
    assert_eq!(tg.health_check_path.as_deref(), Some("/health"));
    assert_eq!(tg.health_check_interval_seconds, Some(10));
    assert_eq!(tg.healthy_threshold_count, Some(2));
    assert!(
        t.attributes
            .contains(&("deregistration_delay.timeout_seconds".into(), "10".into())),
        "deploys do not wait 300 s for draining: {:?}",
        t.attributes
    );

    assert_eq!(t.listeners.len(), 1, "{:?}", t.listeners);
    let http = &t.listeners[0];
    assert_eq!(http.port, Some(80));
    let action = &http.default_actions()[0];
    assert_eq!(action.r#type, Some(ActionTypeEnum::Forward));
    assert_eq!(action.target_group_arn, tg.target_group_arn);

    let (cidrs, sources) = app_group_rules(&fx).await;
    assert!(
        cidrs.is_empty(),
        "the tasks are reachable only through the load balancer: {cidrs:?}"
    );
    assert_eq!(sources, [(8080, balancer_group)]);

    fx.proxy.forget_calls();
    fx.apply().await.unwrap();
    assert_eq!(
        fx.proxy.mutating_calls(),
        Vec::<String>::new(),
        "a second setup changes nothing"
    );
    let kinds: Vec<_> = fx.recorded().into_iter().map(|(k, _)| k).collect();
    for kind in ["LoadBalancer", "TargetGroup", "BalancerSecurityGroup"] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{kind} recorded: {kinds:?}"
        );
    }

    let connection = fx.connect().await;
    let w = wanted(&fx.config, &connection).unwrap();
    let observed = observe_for(&connection, &w).await.unwrap();
    assert_eq!(
        stable_url(&observed, &w),
        Some(format!("http://{}", lb.dns_name.unwrap()))
    );

    // Sticky sessions turned on: the target group's cookie for an hour, changed in place,
    // once.
    fx.config.aws.sticky_seconds = Some(3600);
    fx.apply().await.unwrap();
    let t = truth(&fx).await;
    for (key, value) in [
        ("stickiness.enabled", "true"),
        ("stickiness.type", "lb_cookie"),
        ("stickiness.lb_cookie.duration_seconds", "3600"),
    ] {
        assert!(
            t.attributes.contains(&(key.into(), value.into())),
            "{key} = {value}: {:?}",
            t.attributes
        );
    }
    assert_eq!(
        t.target_group.and_then(|g| g.target_group_arn),
        tg.target_group_arn,
        "the same target group"
    );
    fx.proxy.forget_calls();
    fx.apply().await.unwrap();
    assert_eq!(fx.proxy.mutating_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn a_running_app_moves_behind_the_balancer_and_back_never_closed_on_both_sides() {
    let Some(mut fx) = balanced("eu-south-2").await else {
        return;
    };
    fx.config.aws.load_balancer = false;
    fx.apply().await.unwrap();
    assert_eq!(
        app_group_rules(&fx).await.0,
        [(8080, "0.0.0.0/0".to_owned())]
    );

    fx.config.aws.load_balancer = true;
    fx.proxy.forget_calls();
    fx.apply().await.unwrap();
    let (cidrs, sources) = app_group_rules(&fx).await;
    assert!(cidrs.is_empty(), "{cidrs:?}");
    assert_eq!(sources.len(), 1, "{sources:?}");
    let calls = fx.proxy.mutating_calls();
    let admit = calls
        .iter()
        .rposition(|c| c == "AuthorizeSecurityGroupIngress")
        .unwrap();
    let revoke = calls
        .iter()
        .position(|c| c == "RevokeSecurityGroupIngress")
        .unwrap();
    assert!(
        admit < revoke,
        "the balancer is let in before the open rule goes: {calls:?}"
    );

    fx.config.aws.load_balancer = false;
    fx.proxy.forget_calls();
    let (after, _) = fx.apply().await.unwrap();
    let (cidrs, sources) = app_group_rules(&fx).await;
    assert_eq!(cidrs, [(8080, "0.0.0.0/0".to_owned())]);
    assert!(sources.is_empty(), "{sources:?}");
    let calls = fx.proxy.mutating_calls();
    assert_eq!(
        calls,
        [
            "AuthorizeSecurityGroupIngress",
            "RevokeSecurityGroupIngress"
        ],
        "the open rule is back before the balancer's goes; nothing else changes"
    );
    assert!(
        after.warnings.iter().any(|w| w.contains("still runs")),
        "{:?}",
        after.warnings
    );
}

#[tokio::test]
async fn https_on_a_domain_whose_zone_is_in_route_53_turns_on_once_the_certificate_is_issued() {
    let Some(mut fx) = balanced("ap-south-2").await else {
        return;
    };
    let (zone, domain) = hosted_zone(&fx).await;
    fx.config.aws.domain = Some(domain.clone());

    let (after, _) = fx.apply().await.unwrap();
    assert!(
        after.not_ready().is_empty(),
        "a pending certificate does not stop a deploy: {:?}",
        after.not_ready()
    );
    let certificates = balancing::certificates(&fx, &domain).await;
    assert_eq!(certificates.len(), 1, "{certificates:?}");
    let t = truth(&fx).await;
    let dns = t.load_balancer.as_ref().unwrap().dns_name.clone().unwrap();
    assert_eq!(
        records(&fx, &zone, &domain).await,
        [("A".to_owned(), vec![dns.clone()])],
        "an alias of the load balancer"
    );
    let certificate = aws_sdk_acm::Client::new(&fx.direct().await)
        .describe_certificate()
        .certificate_arn(&certificates[0].0)
        .send()
        .await
        .unwrap()
        .certificate
        .unwrap();
    let validation = certificate.domain_validation_options()[0]
        .resource_record
        .clone()
        .unwrap();
    assert_eq!(
        records(&fx, &zone, validation.name.trim_end_matches('.')).await,
        [(
            "CNAME".to_owned(),
            vec![validation.value.trim_end_matches('.').to_owned()]
        )],
        "the validation record"
    );
    let issued_already = certificates[0].1 == "ISSUED";
    if !issued_already {
        assert!(
            matches!(
                state_of(&after, ResourceKind::HttpsListener),
                ResourceState::Waiting { .. }
            ),
            "{:?}",
            state_of(&after, ResourceKind::HttpsListener)
        );
        assert_eq!(
            t.listeners.len(),
            1,
            "no 443 before the certificate is issued"
        );
    }

    // A plan alone, to count the Route 53 reads a look at the account makes.
    fx.proxy.forget_calls();
    plan_setup(&fx.connect().await, &fx.config).await.unwrap();
    let reads = route53_calls(&fx);
    balancing::wait_until_issued(&fx, &domain).await;
    let (after, _) = fx.apply().await.unwrap();
    assert_eq!(
        *state_of(&after, ResourceKind::HttpsListener),
        ResourceState::Ready
    );
    let t = truth(&fx).await;
    assert_eq!(t.listeners.len(), 2, "{:?}", t.listeners);
    let https = t.listeners.iter().find(|l| l.port == Some(443)).unwrap();
    assert_eq!(
        https.certificates()[0].certificate_arn.as_deref(),
        Some(certificates[0].0.as_str())
    );
    assert_eq!(
        https.default_actions()[0].target_group_arn,
        t.target_group.as_ref().unwrap().target_group_arn
    );
    let http = t.listeners.iter().find(|l| l.port == Some(80)).unwrap();
    let redirect = http.default_actions()[0].redirect_config.clone().unwrap();
    assert_eq!(redirect.protocol.as_deref(), Some("HTTPS"));
    assert_eq!(redirect.port.as_deref(), Some("443"));
    assert_eq!(redirect.status_code.unwrap().as_str(), "HTTP_301");

    let connection = fx.connect().await;
    let w = wanted(&fx.config, &connection).unwrap();
    let observed = observe_for(&connection, &w).await.unwrap();
    assert_eq!(stable_url(&observed, &w), Some(format!("https://{domain}")));

    fx.proxy.forget_calls();
    fx.apply().await.unwrap();
    assert_eq!(mutating_besides_route53(&fx), Vec::<String>::new());
    assert_eq!(
        route53_calls(&fx),
        2 * reads,
        "every Route 53 call of a second setup is one of its two looks (plan, then apply)"
    );
}

#[tokio::test]
async fn a_domain_whose_zone_is_elsewhere_gets_the_records_to_add_at_the_dns_provider() {
    let Some(mut fx) = balanced("ap-southeast-3").await else {
        return;
    };
    let domain = format!("www.{}.elsewhere.example", fx.config.name);
    fx.config.aws.domain = Some(domain.clone());
    let plan = plan_setup(&fx.connect().await, &fx.config).await.unwrap();
    assert!(
        matches!(
            state_of(&plan, ResourceKind::DnsRecords),
            ResourceState::Waiting { .. }
        ),
        "{:?}",
        state_of(&plan, ResourceKind::DnsRecords)
    );
    let (after, _) = fx.apply_confirmed(&plan).await.unwrap();
    let dns = truth(&fx).await.load_balancer.unwrap().dns_name.unwrap();
    let kinds: Vec<_> = after
        .dns_records
        .iter()
        .map(|r| (r.kind.as_str(), r.name.as_str()))
        .collect();
    assert_eq!(kinds.len(), 2, "{:?}", after.dns_records);
    assert_eq!(kinds[0].0, "CNAME");
    assert!(
        kinds[0].1.ends_with(&domain) && kinds[0].1.starts_with('_'),
        "the validation record first: {:?}",
        after.dns_records
    );
    assert_eq!(after.dns_records[1].name, domain);
    assert_eq!(after.dns_records[1].value, dns);
    // Waiting for the user's records, unless the emulator issued the certificate already
    // (MOTO_ACM_VALIDATION_WAIT seconds after the request).
    match state_of(&after, ResourceKind::DnsRecords) {
        ResourceState::Waiting { next, .. } => {
            assert!(next.contains(&format!("CNAME {domain} → {dns}")), "{next}")
        }
        ResourceState::Ready => {
            assert_eq!(balancing::certificates(&fx, &domain).await[0].1, "ISSUED")
        }
        other => panic!("{other:?}"),
    }
    assert!(
        after.not_ready().is_empty(),
        "waiting on the user does not stop a deploy: {:?}",
        after.not_ready()
    );
}

#[tokio::test]
async fn throttling_server_errors_and_cut_answers_on_the_balancer_path_still_converge() {
    let Some(mut fx) = balanced("ap-southeast-4").await else {
        return;
    };
    fx.config.aws.domain = Some(format!("www.{}.faults.example", fx.config.name));
    fx.proxy
        .fail("DescribeLoadBalancers", Fault::ServerError(503), 1);
    fx.proxy.fail("CreateLoadBalancer", Fault::Throttle, 1);
    fx.proxy.fail("CreateTargetGroup", Fault::Truncate, 1);
    fx.proxy
        .fail("ModifyTargetGroupAttributes", Fault::ServerError(500), 1);
    fx.proxy.fail("CreateListener", Fault::Throttle, 1);
    fx.proxy.fail("RequestCertificate", Fault::Truncate, 1);
    fx.proxy
        .fail("AuthorizeSecurityGroupIngress", Fault::Drop, 1);
    let (after, _) = fx.apply().await.expect("retried faults do not fail setup");
    assert!(after.not_ready().is_empty(), "{:?}", after.resources);
    let injected = fx
        .proxy
        .calls()
        .iter()
        .filter(|c| c.fault.is_some())
        .count();
    assert_eq!(injected, 7, "every fault was served once");

    let names = fx.names();
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&fx.direct().await);
    let lbs = elb.describe_load_balancers().send().await.unwrap();
    let ours: Vec<_> = lbs
        .load_balancers()
        .iter()
        .filter(|l| l.load_balancer_name.as_deref() == Some(names.load_balancer.as_str()))
        .collect();
    assert_eq!(ours.len(), 1, "one load balancer");
    let tgs = elb.describe_target_groups().send().await.unwrap();
    assert_eq!(
        tgs.target_groups()
            .iter()
            .filter(|t| t.target_group_name.as_deref() == Some(names.target_group.as_str()))
            .count(),
        1,
        "one target group, though its creation was answered halfway"
    );
    assert_eq!(truth(&fx).await.listeners.len(), 1);
    let domain = fx.config.aws.domain.clone().unwrap();
    assert_eq!(
        balancing::certificates(&fx, &domain).await.len(),
        1,
        "one certificate: the retried request carried the same idempotency token"
    );

    let again = plan_setup(&fx.connect().await, &fx.config).await.unwrap();
    assert!(
        again
            .changes
            .iter()
            .all(|c| c.kind() == ResourceKind::HttpsListener),
        "converged: nothing is left to do but HTTPS, once the emulator has issued the certificate: {:?}",
        again.changes
    );
}
