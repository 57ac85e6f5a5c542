//! The setup plan's decisions for HTTPS on the user's domain: the certificate, its
//! records in the domain's Route 53 zone or at the user's DNS provider, and the HTTPS
//! listener once the certificate is issued.
use super::balancer_tests::*;
use super::*;
use crate::setup::balancer::*;
use crate::setup::plan::stable::stable_url;

#[test]
fn a_domain_whose_zone_is_here_gets_a_certificate_and_both_records_and_waits_for_https() {
    let w = lb_wanted(Some("app.example.com"));
    let mut observed = lb_account();
    observed.hosted_zone = Some(zone(vec![]));
    let plan = decide(&w, &observed);
    let domain: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.kind().optional_for_deploy())
        .cloned()
        .collect();
    assert_eq!(
        domain,
        vec![
            Change::RequestCertificate {
                domain: "app.example.com".into()
            },
            Change::AddValidationRecord {
                zone: "Z1".into(),
                certificate: None,
                record: None
            },
            Change::PointDomainAtBalancer {
                zone: "Z1".into(),
                domain: "app.example.com".into(),
                target: Some(AliasTarget {
                    dns_name: DNS.into(),
                    hosted_zone: "Z35SXDOTRQ7X7K".into()
                })
            },
        ]
    );
    assert!(matches!(
        state(&plan, ResourceKind::HttpsListener),
        ResourceState::Waiting { .. }
    ));
    assert!(
        plan.not_ready().is_empty(),
        "HTTPS waiting never stops a deploy: {:?}",
        plan.not_ready()
    );

    observed.certificate = Some(certificate("PENDING_VALIDATION"));
    observed.hosted_zone = Some(zone(records_in_place()));
    let plan = decide(&w, &observed);
    assert!(plan.nothing_to_do(), "{:?}", plan.changes);
    assert!(matches!(
        state(&plan, ResourceKind::Certificate),
        ResourceState::Waiting { .. }
    ));
    assert_eq!(
        *state(&plan, ResourceKind::DnsRecords),
        ResourceState::Ready
    );
    assert_eq!(
        stable_url(&observed, &w),
        Some(format!("http://{DNS}")),
        "HTTP until the certificate is issued"
    );
}

#[test]
fn once_the_certificate_is_issued_port_443_serves_it_and_80_redirects() {
    let w = lb_wanted(Some("app.example.com"));
    let mut observed = lb_account();
    observed.certificate = Some(certificate("ISSUED"));
    observed.hosted_zone = Some(zone(records_in_place()));
    let plan = decide(&w, &observed);
    assert_eq!(
        plan.changes,
        vec![
            Change::CreateListener {
                load_balancer: Some(LB_ARN.into()),
                port: 443,
                certificate: Some(CERT.into()),
                target_group: Some(TG_ARN.into())
            },
            Change::RedirectToHttps {
                listener: Some("arn:l80".into())
            },
        ]
    );
    assert!(plan.not_ready().is_empty());

    observed.listeners = vec![
        ObservedListener {
            redirects: true,
            forwards_to: None,
            ..listener("arn:l80", 80, None)
        },
        listener("arn:l443", 443, Some(CERT)),
    ];
    let plan = decide(&w, &observed);
    assert!(plan.nothing_to_do(), "{:?}", plan.changes);
    assert_eq!(
        stable_url(&observed, &w),
        Some("https://app.example.com".into())
    );

    let plan = decide(&lb_wanted(None), &observed);
    assert_eq!(
        plan.changes,
        vec![
            Change::ForwardListener {
                listener: "arn:l80".into(),
                port: 80,
                target_group: Some(TG_ARN.into())
            },
            Change::DeleteListener {
                listener: "arn:l443".into(),
                port: 443
            },
        ],
        "without the domain, port 80 forwards again before 443 goes"
    );
    assert_eq!(
        plan.changes.iter().map(Change::kind).collect::<Vec<_>>(),
        [ResourceKind::Listener, ResourceKind::HttpsListener]
    );
}

#[test]
fn a_domain_without_a_zone_here_lists_the_records_to_add_at_the_dns_provider() {
    let w = lb_wanted(Some("app.example.com"));
    let mut observed = lb_account();
    observed.certificate = Some(certificate("PENDING_VALIDATION"));
    let plan = decide(&w, &observed);
    assert!(plan.nothing_to_do(), "{:?}", plan.changes);
    assert_eq!(
        plan.dns_records,
        vec![
            validation(),
            DnsRecord {
                name: "app.example.com".into(),
                kind: "CNAME".into(),
                value: DNS.into()
            },
        ]
    );
    let ResourceState::Waiting { reason, next } = state(&plan, ResourceKind::DnsRecords) else {
        panic!("{:?}", state(&plan, ResourceKind::DnsRecords));
    };
    assert!(reason.contains("No Route 53 hosted zone"), "{reason}");
    assert!(
        next.contains("CNAME _x.app.example.com → _y.acm-validations.aws")
            && next.contains(&format!("CNAME app.example.com → {DNS}")),
        "{next}"
    );
}

#[test]
fn someone_elses_record_at_the_domain_is_never_overwritten() {
    let w = lb_wanted(Some("app.example.com"));
    let mut observed = lb_account();
    observed.certificate = Some(certificate("PENDING_VALIDATION"));
    let mut records = records_in_place();
    records[0] = ObservedRecord {
        alias: None,
        values: vec!["203.0.113.7".into()],
        ttl: Some(60),
        ..records[0].clone()
    };
    observed.hosted_zone = Some(zone(records));
    let plan = decide(&w, &observed);
    let ResourceState::Blocked { reason, .. } = state(&plan, ResourceKind::DnsRecords) else {
        panic!("{:?}", state(&plan, ResourceKind::DnsRecords));
    };
    assert!(reason.contains("203.0.113.7"), "{reason}");
    assert!(!plan
        .changes
        .iter()
        .any(|c| matches!(c, Change::PointDomainAtBalancer { .. })));
    assert!(plan.not_ready().is_empty(), "HTTP still works");
}
