//! Reading the load balancer's side of the account, read-only: ELBv2 only by the names
//! setup gives (a load balancer or target group that is not there is an answer), and, for
//! a domain, the certificate Slipway requested for it and the Route 53 zone it is in.

use aws_sdk_elasticloadbalancingv2::config::http::HttpResponse;
use aws_sdk_elasticloadbalancingv2::error::SdkError;
use aws_sdk_elasticloadbalancingv2::operation::describe_target_group_attributes::DescribeTargetGroupAttributesOutput;
use aws_sdk_elasticloadbalancingv2::operation::describe_target_groups::{
    DescribeTargetGroupsError, DescribeTargetGroupsOutput,
};
use aws_sdk_elasticloadbalancingv2::types::{ActionTypeEnum, Listener, TargetGroup};

use super::{dns_name, AliasTarget, DnsRecord, ObservedCertificate, ObservedListener};
use super::{ObservedLoadBalancer, ObservedRecord, ObservedTargetGroup, ObservedZone};
use crate::aws::{classify, Connection};
use crate::setup::names::{ownership, Ownership, ResourceNames, Tags};
use slipway_core::error::Result;

pub(crate) type Balancer = (
    Option<ObservedLoadBalancer>,
    Option<ObservedTargetGroup>,
    Vec<ObservedListener>,
);

/// The load balancer and target group named in `names`, with their tags, and the load
/// balancer's listeners. Two reads when neither exists.
pub(crate) async fn balancer(c: &Connection, names: &ResourceNames) -> Result<Balancer> {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&c.ctx.sdk);
    let lbs = elb
        .describe_load_balancers()
        .names(&names.load_balancer)
        .send();
    let tgs = elb
        .describe_target_groups()
        .names(&names.target_group)
        .send();
    let (lbs, tgs) = tokio::join!(lbs, tgs);
    let lb = match lbs {
        Ok(out) => out.load_balancers.unwrap_or_default().into_iter().next(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_load_balancer_not_found_exception()) =>
        {
            None
        }
        Err(e) => {
            return Err(classify(
                &c.ctx,
                "elasticloadbalancing:DescribeLoadBalancers",
                e,
            ))
        }
    };
    let tg = named_group(c, tgs)?;
    let lb_arn = lb.as_ref().and_then(|l| l.load_balancer_arn.clone());
    let tg_arn = tg.as_ref().and_then(|t| t.target_group_arn.clone());
    let arns: Vec<String> = lb_arn.iter().chain(tg_arn.iter()).cloned().collect();
    if arns.is_empty() {
        return Ok((None, None, vec![]));
    }
    let tags = async {
        elb.describe_tags()
            .set_resource_arns(Some(arns.clone()))
            .send()
            .await
            .map_err(|e| classify(&c.ctx, "elasticloadbalancing:DescribeTags", e))
    };
    let listeners = async {
        let Some(arn) = &lb_arn else {
            return Ok(vec![]);
        };
        elb.describe_listeners()
            .load_balancer_arn(arn)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify(&c.ctx, "elasticloadbalancing:DescribeListeners", e))
    };
    let attributes = async {
        let Some(arn) = &tg_arn else {
            return Ok(None);
        };
        elb.describe_target_group_attributes()
            .target_group_arn(arn)
            .send()
            .await
            .map(Some)
            .map_err(|e| {
                classify(
                    &c.ctx,
                    "elasticloadbalancing:DescribeTargetGroupAttributes",
                    e,
                )
            })
    };
    let health = async {
        let Some(arn) = &tg_arn else {
            return Ok(None);
        };
        elb.describe_target_health()
            .target_group_arn(arn)
            .send()
            .await
            .map(Some)
            .map_err(|e| classify(&c.ctx, "elasticloadbalancing:DescribeTargetHealth", e))
    };
    let (tags, listeners, attributes, health) =
        tokio::try_join!(tags, listeners, attributes, health)?;
    let tags_of = |arn: &Option<String>| -> Tags {
        tags.tag_descriptions()
            .iter()
            .find(|d| d.resource_arn == *arn)
            .map(|d| {
                d.tags()
                    .iter()
                    .filter_map(|t| Some((t.key.clone()?, t.value.clone()?)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let load_balancer = lb.map(|lb| ObservedLoadBalancer {
        tags: tags_of(&lb_arn),
        arn: lb.load_balancer_arn.unwrap_or_default(),
        dns_name: lb.dns_name.unwrap_or_default(),
        canonical_zone: lb.canonical_hosted_zone_id.unwrap_or_default(),
        security_groups: lb.security_groups.unwrap_or_default(),
        subnets: lb
            .availability_zones
            .iter()
            .flatten()
            .filter_map(|z| z.subnet_id.clone())
            .collect(),
        zones: lb
            .availability_zones
            .iter()
            .flatten()
            .filter_map(|z| z.zone_name.clone())
            .collect(),
        state: lb
            .state
            .and_then(|s| s.code)
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        scheme: lb.scheme.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        kind: lb.r#type.map(|t| t.as_str().to_owned()).unwrap_or_default(),
        vpc: lb.vpc_id.unwrap_or_default(),
    });
    let target_group = tg.map(|tg| {
        let targets = health
            .as_ref()
            .map_or(0, |h| h.target_health_descriptions().len());
        observed_group(tg, tags_of(&tg_arn), attributes.as_ref(), targets)
    });
    Ok((
        load_balancer,
        target_group,
        listeners.into_iter().map(observed_listener).collect(),
    ))
}

/// The target group a DescribeTargetGroups by name answered with; `None` when there is
/// none of that name.
pub(crate) fn named_group(
    c: &Connection,
    answer: std::result::Result<
        DescribeTargetGroupsOutput,
        SdkError<DescribeTargetGroupsError, HttpResponse>,
    >,
) -> Result<Option<TargetGroup>> {
    match answer {
        Ok(out) => Ok(out.target_groups.unwrap_or_default().into_iter().next()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_target_group_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(classify(
            &c.ctx,
            "elasticloadbalancing:DescribeTargetGroups",
            e,
        )),
    }
}

/// A target group as setup sees it, from its description, tags, attributes and the
/// number of targets registered with it.
pub(crate) fn observed_group(
    tg: TargetGroup,
    tags: Tags,
    attributes: Option<&DescribeTargetGroupAttributesOutput>,
    targets: usize,
) -> ObservedTargetGroup {
    let attribute = |key: &str| {
        attributes.and_then(|a| {
            a.attributes()
                .iter()
                .find(|x| x.key.as_deref() == Some(key))
                .and_then(|x| x.value.clone())
        })
    };
    let sticky = attribute("stickiness.enabled").as_deref() == Some("true")
        && attribute("stickiness.type").as_deref() == Some("lb_cookie");
    ObservedTargetGroup {
        tags,
        arn: tg.target_group_arn.unwrap_or_default(),
        port: tg.port.and_then(|p| u16::try_from(p).ok()).unwrap_or(0),
        protocol: tg
            .protocol
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        target_type: tg
            .target_type
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        vpc: tg.vpc_id.unwrap_or_default(),
        health_path: tg.health_check_path.unwrap_or_default(),
        health_interval: tg.health_check_interval_seconds.unwrap_or(0),
        healthy_threshold: tg.healthy_threshold_count.unwrap_or(0),
        matcher: tg.matcher.and_then(|m| m.http_code).unwrap_or_default(),
        deregistration_delay: attribute("deregistration_delay.timeout_seconds")
            .and_then(|v| v.parse().ok()),
        sticky_seconds: sticky
            .then(|| attribute("stickiness.lb_cookie.duration_seconds"))
            .flatten()
            .and_then(|v| v.parse().ok()),
        targets,
    }
}

fn observed_listener(l: Listener) -> ObservedListener {
    let action = l.default_actions().first();
    let redirects = action.is_some_and(|a| {
        a.r#type == Some(ActionTypeEnum::Redirect)
            && a.redirect_config
                .as_ref()
                .and_then(|r| r.protocol.as_deref())
                == Some("HTTPS")
    });
    let forwards_to = action
        .filter(|a| a.r#type == Some(ActionTypeEnum::Forward))
        .and_then(|a| {
            a.target_group_arn.clone().or_else(|| {
                a.forward_config
                    .as_ref()
                    .and_then(|f| f.target_groups().first())
                    .and_then(|t| t.target_group_arn.clone())
            })
        });
    ObservedListener {
        arn: l.listener_arn.unwrap_or_default(),
        port: l.port.and_then(|p| u16::try_from(p).ok()).unwrap_or(0),
        protocol: l
            .protocol
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        certificate: l
            .certificates
            .unwrap_or_default()
            .into_iter()
            .find_map(|c| c.certificate_arn),
        redirects,
        forwards_to,
    }
}

/// The certificate for `domain` that setup uses, and the domain's public hosted zone with
/// the records named like the domain and like the certificate's validation record.
pub(crate) async fn domain(
    c: &Connection,
    app: &str,
    project: Option<&str>,
    domain: &str,
) -> Result<(Option<ObservedCertificate>, Option<ObservedZone>)> {
    let (certificates, zone) =
        tokio::try_join!(certificates(c, Some(domain)), hosted_zone(c, domain))?;
    let certificate = choose(certificates, app, project);
    let Some((id, name)) = zone else {
        return Ok((certificate, None));
    };
    let mut names = vec![dns_name(domain)];
    if let Some(record) = certificate.as_ref().and_then(|c| c.validation.as_ref()) {
        names.push(dns_name(&record.name));
    }
    let mut records = Vec::new();
    for name in names {
        records.extend(records_named(c, &id, &name).await?);
    }
    Ok((certificate, Some(ObservedZone { id, name, records })))
}

/// The certificate setup uses for the domain: this project's (an issued one before one
/// still pending, the newest first), else another project's of the same app name, else an
/// issued one someone else made for exactly this domain.
fn choose(
    mut found: Vec<ObservedCertificate>,
    app: &str,
    project: Option<&str>,
) -> Option<ObservedCertificate> {
    let rank = |c: &ObservedCertificate| {
        let who = match ownership(&c.tags, app, project) {
            Ownership::Ours | Ownership::OursUntagged => 0,
            Ownership::OtherProject => 1,
            Ownership::NotSlipways if c.status == "ISSUED" => 2,
            Ownership::NotSlipways => 9,
        };
        let status = match c.status.as_str() {
            "ISSUED" => 0,
            "PENDING_VALIDATION" => 1,
            _ => 2,
        };
        (who, status)
    };
    // Stable: ACM lists the newest first, and ties keep that order.
    found.sort_by_key(rank);
    found.into_iter().find(|c| rank(c).0 < 9)
}

/// The certificates for `domain` (every domain when `None`) in the region, described, with
/// their tags.
pub(crate) async fn certificates(
    c: &Connection,
    domain: Option<&str>,
) -> Result<Vec<ObservedCertificate>> {
    let acm = aws_sdk_acm::Client::new(&c.ctx.sdk);
    let summaries: Vec<_> = acm
        .list_certificates()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(&c.ctx, "acm:ListCertificates", e))?;
    let mut found = Vec::new();
    for summary in summaries {
        let (Some(arn), Some(name)) = (summary.certificate_arn, summary.domain_name) else {
            continue;
        };
        if domain.is_some_and(|d| dns_name(&name) != dns_name(d)) {
            continue;
        }
        let tags: Tags = acm
            .list_tags_for_certificate()
            .certificate_arn(&arn)
            .send()
            .await
            .map_err(|e| classify(&c.ctx, "acm:ListTagsForCertificate", e))?
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.key, t.value.unwrap_or_default()))
            .collect();
        // Described only when it could be used or removed: one of Slipway's, or issued.
        let slipways = tags.contains_key(crate::setup::names::MANAGED_BY_KEY);
        let issued = summary.status.as_ref().map(|s| s.as_str()) == Some("ISSUED");
        let usable = slipways || (issued && domain.is_some());
        if !usable {
            continue;
        }
        found.push(describe_certificate(c, &arn, tags).await?);
    }
    Ok(found)
}

pub(crate) async fn describe_certificate(
    c: &Connection,
    arn: &str,
    tags: Tags,
) -> Result<ObservedCertificate> {
    let detail = aws_sdk_acm::Client::new(&c.ctx.sdk)
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .map_err(|e| classify(&c.ctx, "acm:DescribeCertificate", e))?
        .certificate
        .unwrap_or_else(|| aws_sdk_acm::types::CertificateDetail::builder().build());
    let domain = detail.domain_name.clone().unwrap_or_default();
    let validation = detail
        .domain_validation_options()
        .iter()
        .find(|v| dns_name(&v.domain_name) == dns_name(&domain))
        .and_then(|v| v.resource_record.as_ref())
        .map(|r| DnsRecord {
            name: dns_name(&r.name),
            kind: r.r#type.as_str().to_owned(),
            value: dns_name(&r.value),
        });
    Ok(ObservedCertificate {
        arn: arn.to_owned(),
        status: detail
            .status
            .as_ref()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        in_use_by: detail.in_use_by.clone().unwrap_or_default(),
        domain,
        validation,
        tags,
    })
}

/// The public hosted zone whose name is the domain or its closest parent: its id (without
/// "/hostedzone/") and name.
pub(crate) async fn hosted_zone(c: &Connection, domain: &str) -> Result<Option<(String, String)>> {
    let zones: Vec<_> = aws_sdk_route53::Client::new(&c.ctx.sdk)
        .list_hosted_zones()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(&c.ctx, "route53:ListHostedZones", e))?;
    let domain = dns_name(domain);
    Ok(zones
        .into_iter()
        .filter(|z| !z.config.as_ref().is_some_and(|c| c.private_zone))
        .map(|z| {
            (
                z.id.trim_start_matches("/hostedzone/").to_owned(),
                dns_name(&z.name),
            )
        })
        .filter(|(_, name)| domain == *name || domain.ends_with(&format!(".{name}")))
        .max_by_key(|(_, name)| name.len()))
}

/// The records of `zone` named exactly `name` (every type).
pub(crate) async fn records_named(
    c: &Connection,
    zone: &str,
    name: &str,
) -> Result<Vec<ObservedRecord>> {
    let out = aws_sdk_route53::Client::new(&c.ctx.sdk)
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .start_record_name(name)
        .max_items(10)
        .send()
        .await
        .map_err(|e| classify(&c.ctx, "route53:ListResourceRecordSets", e))?;
    Ok(out
        .resource_record_sets
        .into_iter()
        .filter(|r| dns_name(&r.name) == name)
        .map(|r| ObservedRecord {
            name: dns_name(&r.name),
            kind: r.r#type.as_str().to_owned(),
            ttl: r.ttl,
            values: r
                .resource_records
                .unwrap_or_default()
                .into_iter()
                .map(|v| v.value)
                .collect(),
            evaluates_health: r
                .alias_target
                .as_ref()
                .is_some_and(|a| a.evaluate_target_health),
            alias: r.alias_target.map(|a| AliasTarget {
                dns_name: a.dns_name,
                hosted_zone: a.hosted_zone_id,
            }),
        })
        .collect())
}
