//! What the load balancer tests share: a project that wants a load balancer (with a
//! health path, and a domain when asked), a public hosted zone of the test's own in the
//! emulator's Route 53 (which is global: every zone name is the test's app name), and
//! reading the emulator's truth behind the app's back.
#![allow(dead_code)]

use std::time::Duration;

use aws_sdk_elasticloadbalancingv2::types::{Listener, LoadBalancer, TargetGroup};
use slipway_core::project::HealthProbe;

use crate::emulator::Fixture;

/// A fixture whose project runs behind a load balancer checked at GET /health.
pub async fn balanced(region: &str) -> Option<Fixture> {
    let mut fx = Fixture::new(region).await?;
    fx.config.aws.load_balancer = true;
    fx.config.health.probe = HealthProbe::Http {
        path: "/health".into(),
    };
    Some(fx)
}

/// Makes a public hosted zone `<app>.example` and returns its id and the domain
/// `www.<app>.example` in it.
pub async fn hosted_zone(fx: &Fixture) -> (String, String) {
    let zone = format!("{}.example", fx.config.name);
    let out = aws_sdk_route53::Client::new(&fx.direct().await)
        .create_hosted_zone()
        .name(&zone)
        .caller_reference(&fx.config.name)
        .send()
        .await
        .expect("create the test's hosted zone");
    let id = out
        .hosted_zone
        .expect("the zone")
        .id
        .trim_start_matches("/hostedzone/")
        .to_owned();
    (id, format!("www.{zone}"))
}

pub struct Truth {
    pub load_balancer: Option<LoadBalancer>,
    pub target_group: Option<TargetGroup>,
    pub listeners: Vec<Listener>,
    /// deregistration_delay.timeout_seconds and the other attributes.
    pub attributes: Vec<(String, String)>,
}

/// The load balancer, target group and listeners the emulator holds under the app's names.
pub async fn truth(fx: &Fixture) -> Truth {
    let names = fx.names();
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&fx.direct().await);
    let load_balancer = elb
        .describe_load_balancers()
        .names(&names.load_balancer)
        .send()
        .await
        .ok()
        .and_then(|o| o.load_balancers.unwrap_or_default().into_iter().next());
    let target_group = elb
        .describe_target_groups()
        .names(&names.target_group)
        .send()
        .await
        .ok()
        .and_then(|o| o.target_groups.unwrap_or_default().into_iter().next());
    let listeners = match &load_balancer {
        Some(lb) => elb
            .describe_listeners()
            .load_balancer_arn(lb.load_balancer_arn.clone().unwrap())
            .send()
            .await
            .unwrap()
            .listeners
            .unwrap_or_default(),
        None => vec![],
    };
    let attributes = match &target_group {
        Some(tg) => elb
            .describe_target_group_attributes()
            .target_group_arn(tg.target_group_arn.clone().unwrap())
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap_or_default()
            .into_iter()
            .filter_map(|a| Some((a.key?, a.value?)))
            .collect(),
        None => vec![],
    };
    Truth {
        load_balancer,
        target_group,
        listeners,
        attributes,
    }
}

/// The records of `zone` named `name` (type and values, an alias as its DNS name).
pub async fn records(fx: &Fixture, zone: &str, name: &str) -> Vec<(String, Vec<String>)> {
    let out = aws_sdk_route53::Client::new(&fx.direct().await)
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .unwrap();
    out.resource_record_sets()
        .iter()
        .filter(|r| r.name.trim_end_matches('.').eq_ignore_ascii_case(name))
        .map(|r| {
            let values = match &r.alias_target {
                Some(a) => vec![a.dns_name.trim_end_matches('.').to_owned()],
                None => r
                    .resource_records()
                    .iter()
                    .map(|v| v.value.trim_end_matches('.').to_owned())
                    .collect(),
            };
            (r.r#type.as_str().to_owned(), values)
        })
        .collect()
}

/// The certificates for `domain` in the test's region, with their status.
pub async fn certificates(fx: &Fixture, domain: &str) -> Vec<(String, String)> {
    aws_sdk_acm::Client::new(&fx.direct().await)
        .list_certificates()
        .send()
        .await
        .unwrap()
        .certificate_summary_list()
        .iter()
        .filter(|c| c.domain_name.as_deref() == Some(domain))
        .map(|c| {
            (
                c.certificate_arn.clone().unwrap(),
                c.status.as_ref().map(|s| s.as_str().to_owned()).unwrap(),
            )
        })
        .collect()
}

/// Waits until the emulator issues the certificate for `domain` (moto issues one
/// MOTO_ACM_VALIDATION_WAIT seconds after the request, 60 by default).
pub async fn wait_until_issued(fx: &Fixture, domain: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let found = certificates(fx, domain).await;
        if found.iter().any(|(_, status)| status == "ISSUED") {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the emulator did not issue the certificate for {domain} within 120 s: {found:?}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The mutating calls that reached the emulator, Route 53's left out: the fault proxy
/// names actions from the query or JSON protocols only, and Route 53's REST calls all
/// come out as "unknown".
pub fn mutating_besides_route53(fx: &Fixture) -> Vec<String> {
    fx.proxy
        .calls()
        .into_iter()
        .filter(|c| c.service != "route53")
        .filter(|c| c.fault.is_none_or(slipway_testkit::Fault::reached_emulator) && c.is_mutating())
        .map(|c| c.action)
        .collect()
}

pub fn route53_calls(fx: &Fixture) -> usize {
    fx.proxy
        .calls()
        .iter()
        .filter(|c| c.service == "route53")
        .count()
}
