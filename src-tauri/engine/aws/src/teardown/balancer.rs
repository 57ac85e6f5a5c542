//! Teardown of what setup and deploys made for the stable address: the services' auto
//! scaling targets, the DNS records Slipway wrote (only those whose value is what it
//! wrote), the listeners, the load balancer, its target group and security group, and the
//! certificate Slipway requested (only when nothing else uses it). Deciding is pure, from
//! [`TeardownObserved`]; removing waits for what AWS releases in its own time.

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use aws_sdk_route53::types::{
    ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};

use super::{TeardownAction, TeardownItem, TeardownObserved, TeardownStep};
use crate::aws::{classify, Connection};
use crate::setup::balancer::{dns_name, ObservedCertificate, ObservedRecord};
use crate::setup::names::{Ownership, Tags};
use slipway_core::error::{EngineError, Result};

/// The load balancer as teardown sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeardownBalancer {
    pub arn: String,
    pub dns_name: String,
    pub tags: Tags,
    /// Its listeners' ARNs and ports.
    pub listeners: Vec<(String, u16)>,
}

fn item(step: TeardownStep, names: Vec<String>, action: TeardownAction) -> TeardownItem {
    TeardownItem {
        step,
        title: step.title().to_owned(),
        names,
        action,
    }
}

fn remove(details: Vec<String>) -> TeardownAction {
    TeardownAction::Remove { details }
}

/// The label a DNS record goes by in the plan ("A app.example.com").
pub fn record_label(record: &ObservedRecord) -> String {
    format!("{} {}", record.kind, record.name)
}

/// True when `used_by` (a certificate's InUseBy) names only `balancer` or its listeners.
fn used_only_by(used_by: &[String], balancer: Option<&TeardownBalancer>) -> bool {
    used_by.iter().all(|user| {
        balancer.is_some_and(|lb| {
            let listeners = lb.arn.replacen(":loadbalancer/", ":listener/", 1);
            *user == lb.arn || user.starts_with(&format!("{listeners}/"))
        })
    })
}

/// The scaling targets teardown removes: those of the app's services, and those left in
/// this project's cluster by a service that is gone.
pub(super) fn scaling_item(
    o: &TeardownObserved,
    ours: &dyn Fn(&Tags) -> bool,
    cluster_ours: bool,
) -> Option<TeardownItem> {
    let targets: Vec<String> = o
        .scaling_targets
        .iter()
        .filter(|(_, tags)| {
            if tags.is_empty() {
                cluster_ours
            } else {
                ours(tags)
            }
        })
        .map(|(id, _)| id.clone())
        .collect();
    (!targets.is_empty()).then(|| {
        item(
            TeardownStep::ScalingTarget,
            targets,
            remove(vec!["its scaling policies go with it".to_owned()]),
        )
    })
}

/// The certificates teardown removes: this project's that nothing but the load balancer
/// it removes uses.
fn removable_certificates<'a>(
    o: &'a TeardownObserved,
    whose: &dyn Fn(&Tags) -> Ownership,
) -> Vec<&'a ObservedCertificate> {
    let balancer = removed_balancer(o, whose);
    o.certificates
        .iter()
        .filter(|c| whose(&c.tags).is_ours() && used_only_by(&c.in_use_by, balancer))
        .collect()
}

fn removed_balancer<'a>(
    o: &'a TeardownObserved,
    whose: &dyn Fn(&Tags) -> Ownership,
) -> Option<&'a TeardownBalancer> {
    o.load_balancer
        .as_ref()
        .filter(|lb| whose(&lb.tags).is_ours())
}

/// The records Slipway wrote that go: the alias of the load balancer teardown removes, and
/// the validation record of a certificate it removes.
fn removable_records<'a>(
    o: &'a TeardownObserved,
    whose: &dyn Fn(&Tags) -> Ownership,
) -> Vec<&'a (String, ObservedRecord)> {
    let balancer = removed_balancer(o, whose);
    let certificates = removable_certificates(o, whose);
    o.dns_records
        .iter()
        .filter(|(_, r)| match r.kind.as_str() {
            "A" => balancer.is_some_and(|lb| {
                r.alias.as_ref().is_some_and(|a| {
                    dns_name(&a.dns_name).trim_start_matches("dualstack.") == dns_name(&lb.dns_name)
                })
            }),
            "CNAME" => certificates.iter().any(|c| {
                c.validation.as_ref().is_some_and(|v| {
                    v.name == r.name && r.values.iter().any(|x| dns_name(x) == v.value)
                })
            }),
            _ => false,
        })
        .collect()
}

/// The DNS records, listeners, load balancer and target group, in that order.
pub(super) fn balancer_items(
    o: &TeardownObserved,
    names: &crate::setup::ResourceNames,
    whose: &dyn Fn(&Tags) -> Ownership,
    keep: &dyn Fn(Ownership) -> TeardownAction,
) -> Vec<TeardownItem> {
    let mut items = Vec::new();
    let records: Vec<String> = removable_records(o, whose)
        .into_iter()
        .map(|(_, r)| record_label(r))
        .collect();
    if !records.is_empty() {
        items.push(item(
            TeardownStep::DnsRecords,
            records,
            remove(vec![
                "only what Slipway wrote: the domain's alias of the load balancer and the certificate's validation record".to_owned(),
            ]),
        ));
    }
    if let Some(lb) = &o.load_balancer {
        let who = whose(&lb.tags);
        if who.is_ours() && !lb.listeners.is_empty() {
            items.push(item(
                TeardownStep::Listeners,
                lb.listeners.iter().map(|(arn, _)| arn.clone()).collect(),
                remove(
                    lb.listeners
                        .iter()
                        .map(|(_, port)| match port {
                            443 => "HTTPS on port 443".to_owned(),
                            port => format!("HTTP on port {port}"),
                        })
                        .collect(),
                ),
            ));
        }
        items.push(item(
            TeardownStep::LoadBalancer,
            vec![names.load_balancer.clone()],
            if who.is_ours() {
                remove(vec![format!(
                    "its address ({}) stops answering",
                    lb.dns_name
                )])
            } else {
                keep(who)
            },
        ));
    }
    let groups = [
        (
            TeardownStep::TargetGroup,
            &names.target_group,
            &o.target_group,
        ),
        (
            TeardownStep::AlternateTargetGroup,
            &names.alternate_target_group,
            &o.alternate_target_group,
        ),
    ];
    for (step, name, found) in groups {
        if let Some((_, tags)) = found {
            let who = whose(tags);
            items.push(item(
                step,
                vec![name.clone()],
                if who.is_ours() {
                    remove(vec![])
                } else {
                    keep(who)
                },
            ));
        }
    }
    items
}

/// The load balancer's security group and the certificates, after the app's group.
pub(super) fn after_group_items(
    o: &TeardownObserved,
    whose: &dyn Fn(&Tags) -> Ownership,
    keep: &dyn Fn(Ownership) -> TeardownAction,
) -> Vec<TeardownItem> {
    let mut items = Vec::new();
    let (groups, others): (Vec<_>, Vec<_>) = o
        .balancer_security_groups
        .iter()
        .partition(|(_, tags)| whose(tags).is_ours());
    if !groups.is_empty() {
        items.push(item(
            TeardownStep::BalancerSecurityGroup,
            groups.into_iter().map(|(id, _)| id.clone()).collect(),
            remove(vec![]),
        ));
    }
    if !others.is_empty() {
        items.push(item(
            TeardownStep::BalancerSecurityGroup,
            others.into_iter().map(|(id, _)| id.clone()).collect(),
            keep(Ownership::OtherProject),
        ));
    }
    let removable = removable_certificates(o, whose);
    if !removable.is_empty() {
        items.push(item(
            TeardownStep::Certificate,
            removable.iter().map(|c| c.arn.clone()).collect(),
            remove(
                removable
                    .iter()
                    .map(|c| format!("for {}", c.domain))
                    .collect(),
            ),
        ));
    }
    for c in o
        .certificates
        .iter()
        .filter(|c| !removable.iter().any(|r| r.arn == c.arn))
    {
        let who = whose(&c.tags);
        let action = if who.is_ours() {
            TeardownAction::Keep {
                reason: format!(
                    "the certificate for {} is also used by {}, so it stays",
                    c.domain,
                    c.in_use_by.join(", ")
                ),
            }
        } else {
            keep(who)
        };
        items.push(item(TeardownStep::Certificate, vec![c.arn.clone()], action));
    }
    items
}

/// Looks up what teardown needs for the load balancer's side: the certificates Slipway
/// tagged for `app`, and the records at `domain` and at those certificates' domains and
/// validation names, in the zones that hold them.
pub(super) async fn observe_domains(
    c: &Connection,
    app: &str,
    domain: Option<&str>,
    o: &mut TeardownObserved,
) -> Result<()> {
    use crate::setup::balancer::observe::{certificates, hosted_zone, records_named};
    o.certificates = certificates(c, None)
        .await?
        .into_iter()
        .filter(|cert| crate::setup::names::is_managed(&cert.tags, app))
        .collect();
    let mut domains: Vec<String> = domain.map(dns_name).into_iter().collect();
    for cert in &o.certificates {
        let name = dns_name(&cert.domain);
        if !domains.contains(&name) {
            domains.push(name);
        }
    }
    for domain in domains {
        let Some((zone, _)) = hosted_zone(c, &domain).await? else {
            continue;
        };
        let mut wanted = vec![domain.clone()];
        for cert in o
            .certificates
            .iter()
            .filter(|cert| dns_name(&cert.domain) == domain)
        {
            if let Some(v) = &cert.validation {
                wanted.push(v.name.clone());
            }
        }
        for name in wanted {
            for record in records_named(c, &zone, &name).await? {
                let entry = (zone.clone(), record);
                if !o.dns_records.contains(&entry) {
                    o.dns_records.push(entry);
                }
            }
        }
    }
    Ok(())
}

/// The scaling targets of ECS services in `cluster`, with the tags of the service each
/// scales (empty when that service is gone); those of services not the app's are left out.
pub(super) async fn observe_scaling(
    c: &Connection,
    cluster: &str,
    app_services: &[(String, Tags)],
    other_services: &[String],
) -> Result<Vec<(String, Tags)>> {
    let targets: Vec<_> = aws_sdk_applicationautoscaling::Client::new(&c.ctx.sdk)
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(&c.ctx, "application-autoscaling:DescribeScalableTargets", e))?;
    let prefix = format!("service/{cluster}/");
    Ok(targets
        .into_iter()
        .filter(|t| t.scalable_dimension == ScalableDimension::EcsServiceDesiredCount)
        .filter_map(|t| {
            let service = t.resource_id.strip_prefix(&prefix)?.to_owned();
            if other_services.contains(&service) {
                return None;
            }
            let tags = app_services
                .iter()
                .find(|(name, _)| *name == service)
                .map(|(_, tags)| tags.clone())
                .unwrap_or_default();
            Some((t.resource_id, tags))
        })
        .collect())
}

pub(super) async fn remove_scaling_targets(c: &Connection, ids: &[String]) -> Result<()> {
    let scaling = aws_sdk_applicationautoscaling::Client::new(&c.ctx.sdk);
    for id in ids {
        let policies: Vec<_> = scaling
            .describe_scaling_policies()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify(&c.ctx, "application-autoscaling:DescribeScalingPolicies", e))?;
        // AWS drops a target's policies with it; deleting them first also leaves none
        // behind where that is not so (the emulator).
        for policy in policies {
            match scaling
                .delete_scaling_policy()
                .service_namespace(ServiceNamespace::Ecs)
                .resource_id(id)
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .policy_name(&policy.policy_name)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_object_not_found_exception()) => {}
                Err(e) => {
                    return Err(classify(
                        &c.ctx,
                        "application-autoscaling:DeleteScalingPolicy",
                        e,
                    ))
                }
            }
        }
        match scaling
            .deregister_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_object_not_found_exception()) => {}
            Err(e) => {
                return Err(classify(
                    &c.ctx,
                    "application-autoscaling:DeregisterScalableTarget",
                    e,
                ))
            }
        }
    }
    Ok(())
}

/// Deletes the records labelled `labels` exactly as they were observed.
pub(super) async fn remove_records(
    c: &Connection,
    o: &TeardownObserved,
    labels: &[String],
) -> Result<()> {
    let route53 = aws_sdk_route53::Client::new(&c.ctx.sdk);
    let internal =
        |e: aws_smithy_types::error::operation::BuildError| EngineError::Internal(e.to_string());
    for (zone, record) in o
        .dns_records
        .iter()
        .filter(|(_, r)| labels.contains(&record_label(r)))
    {
        let mut set = ResourceRecordSet::builder()
            .name(&record.name)
            .r#type(RrType::from(record.kind.as_str()))
            .set_ttl(record.ttl);
        for value in &record.values {
            set = set.resource_records(
                ResourceRecord::builder()
                    .value(value)
                    .build()
                    .map_err(internal)?,
            );
        }
        if let Some(alias) = &record.alias {
            set = set.alias_target(
                aws_sdk_route53::types::AliasTarget::builder()
                    .hosted_zone_id(&alias.hosted_zone)
                    .dns_name(&alias.dns_name)
                    .evaluate_target_health(record.evaluates_health)
                    .build()
                    .map_err(internal)?,
            );
        }
        let change = aws_sdk_route53::types::Change::builder()
            .action(ChangeAction::Delete)
            .resource_record_set(set.build().map_err(internal)?)
            .build()
            .map_err(internal)?;
        let batch = ChangeBatch::builder()
            .comment("Slipway teardown")
            .changes(change)
            .build()
            .map_err(internal)?;
        match route53
            .change_resource_record_sets()
            .hosted_zone_id(zone)
            .change_batch(batch)
            .send()
            .await
        {
            Ok(_) => {}
            // Deleted since it was observed (or changed, which Route 53 refuses alike):
            // nothing of Slipway's is left to delete.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_invalid_change_batch()) =>
            {
                tracing::info!(record = %record_label(record), "the record was already gone or changed");
            }
            Err(e) => return Err(classify(&c.ctx, "route53:ChangeResourceRecordSets", e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::balancer::{AliasTarget, DnsRecord};
    use crate::setup::names::tags_for;
    use crate::setup::ResourceNames;
    use crate::teardown::decide_teardown;

    const OURS: Option<&str> = Some("aaaaaaaaaaaaaaaa");
    const LB: &str = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/slipway-hello/abc";
    const LISTENER: &str =
        "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/slipway-hello/abc/443";
    const DNS: &str = "slipway-hello-1.us-east-1.elb.amazonaws.com";

    fn record(name: &str, kind: &str, value: &str, alias: bool) -> (String, ObservedRecord) {
        (
            "Z1".into(),
            ObservedRecord {
                name: name.into(),
                kind: kind.into(),
                ttl: (!alias).then_some(300),
                values: if alias { vec![] } else { vec![value.into()] },
                alias: alias.then(|| AliasTarget {
                    dns_name: format!("{value}."),
                    hosted_zone: "Z35".into(),
                }),
                evaluates_health: false,
            },
        )
    }

    fn certificate(used_by: &[&str]) -> ObservedCertificate {
        ObservedCertificate {
            arn: "arn:acm:c1".into(),
            domain: "app.example.com".into(),
            status: "ISSUED".into(),
            validation: Some(DnsRecord {
                name: "_x.app.example.com".into(),
                kind: "CNAME".into(),
                value: "_y.acm-validations.aws".into(),
            }),
            in_use_by: used_by.iter().map(|s| s.to_string()).collect(),
            tags: tags_for("hello", OURS),
        }
    }

    fn balanced(tags: Tags) -> TeardownObserved {
        TeardownObserved {
            cluster: Some(("arn:c".into(), tags_for("hello", OURS))),
            services: vec![("web".into(), tags_for("hello", OURS))],
            scaling_targets: vec![
                ("service/hello/web".into(), tags_for("hello", OURS)),
                ("service/hello/gone".into(), Tags::new()),
            ],
            load_balancer: Some(TeardownBalancer {
                arn: LB.into(),
                dns_name: DNS.into(),
                tags: tags.clone(),
                listeners: vec![("arn:l80".into(), 80), (LISTENER.into(), 443)],
            }),
            target_group: Some(("arn:tg".into(), tags.clone())),
            balancer_security_groups: vec![("sg-lb".into(), tags)],
            certificates: vec![certificate(&[LISTENER])],
            dns_records: vec![
                record("app.example.com", "A", DNS, true),
                record(
                    "_x.app.example.com",
                    "CNAME",
                    "_y.acm-validations.aws.",
                    false,
                ),
                record(
                    "app.example.com",
                    "AAAA",
                    "someone-else-1.us-east-1.elb.amazonaws.com",
                    true,
                ),
            ],
            ..Default::default()
        }
    }

    fn action_of(items: &[TeardownItem], step: TeardownStep) -> Option<&TeardownAction> {
        items.iter().find(|i| i.step == step).map(|i| &i.action)
    }

    #[test]
    fn everything_slipway_made_for_the_balancer_goes_after_the_services_in_order() {
        let names = ResourceNames::for_app("hello", "us-east-1").unwrap();
        let items = decide_teardown("hello", OURS, &names, &balanced(tags_for("hello", OURS)));
        let steps: Vec<_> = items.iter().map(|i| i.step).collect();
        assert_eq!(
            steps,
            [
                TeardownStep::Services,
                TeardownStep::ScalingTarget,
                TeardownStep::Cluster,
                TeardownStep::DnsRecords,
                TeardownStep::Listeners,
                TeardownStep::LoadBalancer,
                TeardownStep::TargetGroup,
                TeardownStep::BalancerSecurityGroup,
                TeardownStep::Certificate,
            ]
        );
        assert!(items
            .iter()
            .all(|i| matches!(i.action, TeardownAction::Remove { .. })));
        let scaling = &items[1];
        assert_eq!(
            scaling.names,
            ["service/hello/web", "service/hello/gone"],
            "a target left by a service that is gone goes with the cluster"
        );
        let records = &items[3];
        assert_eq!(
            records.names,
            ["A app.example.com", "CNAME _x.app.example.com"],
            "an alias of another load balancer was not Slipway's"
        );
    }

    #[test]
    fn another_projects_balancer_and_a_certificate_used_elsewhere_are_kept() {
        let names = ResourceNames::for_app("hello", "us-east-1").unwrap();
        let mut observed = balanced(tags_for("hello", Some("bbbbbbbbbbbbbbbb")));
        observed.certificates = vec![certificate(&[LISTENER, "arn:aws:cloudfront::1:x"])];
        let items = decide_teardown("hello", OURS, &names, &observed);
        for step in [
            TeardownStep::LoadBalancer,
            TeardownStep::TargetGroup,
            TeardownStep::BalancerSecurityGroup,
        ] {
            assert!(
                matches!(action_of(&items, step), Some(TeardownAction::Keep { .. })),
                "{step:?}: {items:?}"
            );
        }
        assert_eq!(action_of(&items, TeardownStep::Listeners), None);
        assert_eq!(
            action_of(&items, TeardownStep::DnsRecords),
            None,
            "neither the alias of a kept balancer nor a kept certificate's record goes"
        );
        let Some(TeardownAction::Keep { reason }) = action_of(&items, TeardownStep::Certificate)
        else {
            panic!("{items:?}");
        };
        assert!(reason.contains("cloudfront"), "{reason}");
    }
}
