//! Making the load balancer's changes of a setup plan: one AWS call (or a few) per change,
//! each safe to repeat when a retried call had taken effect (a same-named load balancer,
//! target group or listener found instead of a second one, a certificate request with an
//! idempotency token, DNS records UPSERTed). What a change creates is kept in [`Made`] for
//! the changes after it that name it by `None`.

mod blue_green;
mod https;

use std::time::Duration;

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, LoadBalancerSchemeEnum, LoadBalancerTypeEnum, Matcher,
    ProtocolEnum, RedirectActionConfig, RedirectActionStatusCodeEnum, TargetGroupAttribute,
    TargetTypeEnum,
};
use https::{add_validation_record, point_domain, request_certificate};

use super::{
    HEALTHY_CODES, HEALTHY_THRESHOLD, HEALTH_INTERVAL, HEALTH_TIMEOUT, UNHEALTHY_THRESHOLD,
};
use crate::aws::{classify, Connection};
use crate::setup::names::Tags;
use crate::setup::Change;
use slipway_core::error::{EngineError, Result};

/// What this apply created, for the changes after it.
#[derive(Debug, Default)]
pub(crate) struct Made {
    pub balancer_group: Option<String>,
    /// ARN, DNS name and hosted zone.
    pub load_balancer: Option<(String, String, String)>,
    pub target_group: Option<String>,
    pub http_listener: Option<String>,
    pub certificate: Option<String>,
    pub alternate_target_group: Option<String>,
}

fn planned_but_not_made(what: &str) -> EngineError {
    EngineError::Internal(format!(
        "a change was planned for {what}, which this apply did not create"
    ))
}

fn pick(given: &Option<String>, made: &Option<String>, what: &str) -> Result<String> {
    given
        .clone()
        .or_else(|| made.clone())
        .ok_or_else(|| planned_but_not_made(what))
}

pub(super) fn elb_tags(tags: &Tags) -> Vec<aws_sdk_elasticloadbalancingv2::types::Tag> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
        })
        .collect()
}

fn forward(target_group: &str) -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(target_group)
        .build()
}

/// The name and id of what a change created, for Slipway's record.
pub(crate) type Created = Option<(String, Option<String>)>;

/// Makes one change of the load balancer's part; `None` for a change that is not.
pub(crate) async fn apply(
    c: &Connection,
    app: &str,
    tags: &Tags,
    made: &mut Made,
    change: &Change,
) -> Option<Result<Created>> {
    let result = match change {
        Change::CreateLoadBalancer {
            name,
            subnets,
            security_group,
        } => create_load_balancer(c, tags, made, name, subnets, security_group).await,
        Change::UseBalancerGroup {
            load_balancer,
            group,
        } => use_balancer_group(c, made, load_balancer, group).await,
        Change::CreateTargetGroup {
            name,
            port,
            vpc,
            health_path,
        } => create_target_group(c, tags, made, name, *port, vpc, health_path).await,
        Change::ReplaceTargetGroup {
            target_group,
            listeners,
            ..
        } => remove_target_group(c, target_group, listeners).await,
        Change::SetHealthCheck { target_group, path } => {
            set_health_check(c, target_group, path).await
        }
        Change::SetTargetGroupAttributes {
            target_group,
            deregistration_delay,
            sticky_seconds,
        } => {
            let arn = match pick(target_group, &made.target_group, "the target group") {
                Ok(arn) => arn,
                Err(e) => return Some(Err(e)),
            };
            set_attributes(c, &arn, *deregistration_delay, *sticky_seconds).await
        }
        Change::CreateListener {
            load_balancer,
            port,
            certificate,
            target_group,
        } => {
            create_listener(
                c,
                tags,
                made,
                load_balancer,
                *port,
                certificate,
                target_group,
            )
            .await
        }
        Change::ForwardListener {
            listener,
            target_group,
            ..
        } => match pick(target_group, &made.target_group, "the target group") {
            Ok(tg) => modify_listener(c, listener, Some(forward(&tg)), None).await,
            Err(e) => Err(e),
        },
        Change::RedirectToHttps { listener } => {
            match pick(listener, &made.http_listener, "the port 80 listener") {
                Ok(listener) => {
                    let redirect = Action::builder()
                        .r#type(ActionTypeEnum::Redirect)
                        .redirect_config(
                            RedirectActionConfig::builder()
                                .protocol("HTTPS")
                                .port("443")
                                .status_code(RedirectActionStatusCodeEnum::Http301)
                                .build(),
                        )
                        .build();
                    modify_listener(c, &listener, Some(redirect), None).await
                }
                Err(e) => Err(e),
            }
        }
        Change::SetListenerCertificate {
            listener,
            certificate,
        } => modify_listener(c, listener, None, Some(certificate)).await,
        Change::DeleteListener { listener, .. } => delete_listener(c, listener).await,
        Change::RequestCertificate { domain } => {
            request_certificate(c, app, tags, made, domain).await
        }
        Change::AddValidationRecord {
            zone,
            certificate,
            record,
        } => add_validation_record(c, made, zone, certificate, record).await,
        Change::PointDomainAtBalancer {
            zone,
            domain,
            target,
        } => point_domain(c, made, zone, domain, target).await,
        Change::CreateAlternateTargetGroup {
            name,
            port,
            vpc,
            health_path,
            sticky_seconds,
        } => match make_target_group(c, tags, name, *port, vpc, health_path).await {
            Ok(arn) => {
                made.alternate_target_group = Some(arn.clone());
                set_attributes(c, &arn, super::DEREGISTRATION_DELAY, *sticky_seconds)
                    .await
                    .map(|_| Some((name.clone(), Some(arn))))
            }
            Err(e) => Err(e),
        },
        Change::CreateInfrastructureRole { name } => {
            blue_green::create_role(c, app, tags, name).await
        }
        Change::AttachInfrastructurePolicy { role } => blue_green::attach_policy(c, role).await,
        Change::CreateProductionRule {
            listener,
            serving,
            standby,
            ..
        } => blue_green::create_rule(c, tags, made, listener, serving, standby).await,
        Change::DeleteRule { rule, .. } => blue_green::delete_rule(c, rule).await,
        _ => return None,
    };
    Some(result)
}

async fn create_load_balancer(
    c: &Connection,
    tags: &Tags,
    made: &mut Made,
    name: &str,
    subnets: &[String],
    group: &Option<String>,
) -> Result<Created> {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&c.ctx.sdk);
    let group = pick(
        group,
        &made.balancer_group,
        "the load balancer's security group",
    )?;
    let out = elb
        .create_load_balancer()
        .name(name)
        .set_subnets(Some(subnets.to_vec()))
        .security_groups(group)
        .scheme(LoadBalancerSchemeEnum::InternetFacing)
        .r#type(LoadBalancerTypeEnum::Application)
        .set_tags(Some(elb_tags(tags)))
        .send()
        .await;
    let lb = match out {
        Ok(out) => out.load_balancers.unwrap_or_default().into_iter().next(),
        // A retried call that had taken effect: the load balancer is there.
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_duplicate_load_balancer_name_exception()) =>
        {
            elb.describe_load_balancers()
                .names(name)
                .send()
                .await
                .map_err(|e| classify(&c.ctx, "elasticloadbalancing:DescribeLoadBalancers", e))?
                .load_balancers
                .unwrap_or_default()
                .into_iter()
                .next()
        }
        Err(e) => {
            return Err(classify(
                &c.ctx,
                "elasticloadbalancing:CreateLoadBalancer",
                e,
            ))
        }
    };
    let lb = lb.ok_or_else(|| planned_but_not_made("the load balancer"))?;
    let arn = lb.load_balancer_arn.unwrap_or_default();
    made.load_balancer = Some((
        arn.clone(),
        lb.dns_name.unwrap_or_default(),
        lb.canonical_hosted_zone_id.unwrap_or_default(),
    ));
    Ok(Some((name.to_owned(), Some(arn))))
}

async fn use_balancer_group(
    c: &Connection,
    made: &Made,
    load_balancer: &str,
    group: &Option<String>,
) -> Result<Created> {
    let group = pick(
        group,
        &made.balancer_group,
        "the load balancer's security group",
    )?;
    aws_sdk_elasticloadbalancingv2::Client::new(&c.ctx.sdk)
        .set_security_groups()
        .load_balancer_arn(load_balancer)
        .security_groups(group)
        .send()
        .await
        .map_err(|e| classify(&c.ctx, "elasticloadbalancing:SetSecurityGroups", e))?;
    Ok(None)
}

async fn create_target_group(
    c: &Connection,
    tags: &Tags,
    made: &mut Made,
    name: &str,
    port: u16,
    vpc: &str,
    health_path: &str,
) -> Result<Created> {
    let arn = make_target_group(c, tags, name, port, vpc, health_path).await?;
    made.target_group = Some(arn.clone());
    Ok(Some((name.to_owned(), Some(arn))))
}

/// Creates the target group `name` (or finds it, when a retried call had made it) and
/// answers its ARN.
async fn make_target_group(
    c: &Connection,
    tags: &Tags,
    name: &str,
    port: u16,
    vpc: &str,
    health_path: &str,
) -> Result<String> {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&c.ctx.sdk);
    let out = elb
        .create_target_group()
        .name(name)
        .protocol(ProtocolEnum::Http)
        .port(i32::from(port))
        .vpc_id(vpc)
        .target_type(TargetTypeEnum::Ip)
        .health_check_protocol(ProtocolEnum::Http)
        .health_check_path(health_path)
        .health_check_interval_seconds(HEALTH_INTERVAL)
        .health_check_timeout_seconds(HEALTH_TIMEOUT)
        .healthy_threshold_count(HEALTHY_THRESHOLD)
        .unhealthy_threshold_count(UNHEALTHY_THRESHOLD)
        .matcher(Matcher::builder().http_code(HEALTHY_CODES).build())
        .set_tags(Some(elb_tags(tags)))
        .send()
        .await;
    let tg = match out {
        Ok(out) => out.target_groups.unwrap_or_default().into_iter().next(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_duplicate_target_group_name_exception()) =>
        {
            elb.describe_target_groups()
                .names(name)
                .send()
                .await
                .map_err(|e| classify(&c.ctx, "elasticloadbalancing:DescribeTargetGroups", e))?
                .target_groups
                .unwrap_or_default()
                .into_iter()
                .next()
        }
        Err(e) => {
            return Err(classify(
                &c.ctx,
                "elasticloadbalancing:CreateTargetGroup",
                e,
            ))
        }
    };
    tg.and_then(|t| t.target_group_arn)
        .ok_or_else(|| planned_but_not_made("the target group"))
}

/// Removes the listeners that forward to the target group, then the target group (AWS may
/// take a moment to let go of it after its listeners are gone).
async fn remove_target_group(
    c: &Connection,
    target_group: &str,
    listeners: &[String],
) -> Result<Created> {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&c.ctx.sdk);
    for listener in listeners {
        delete_listener(c, listener).await?;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut pause = Duration::from_millis(250);
    loop {
        match elb
            .delete_target_group()
            .target_group_arn(target_group)
            .send()
            .await
        {
            Ok(_) => return Ok(None),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception())
                    && tokio::time::Instant::now() + pause < deadline =>
            {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            Err(e) => {
                return Err(classify(
                    &c.ctx,
                    "elasticloadbalancing:DeleteTargetGroup",
                    e,
                ))
            }
        }
    }
}

async fn set_health_check(c: &Connection, target_group: &str, path: &str) -> Result<Created> {
    aws_sdk_elasticloadbalancingv2::Client::new(&c.ctx.sdk)
        .modify_target_group()
        .target_group_arn(target_group)
        .health_check_protocol(ProtocolEnum::Http)
        .health_check_path(path)
        .health_check_interval_seconds(HEALTH_INTERVAL)
        .health_check_timeout_seconds(HEALTH_TIMEOUT)
        .healthy_threshold_count(HEALTHY_THRESHOLD)
        .unhealthy_threshold_count(UNHEALTHY_THRESHOLD)
        .matcher(Matcher::builder().http_code(HEALTHY_CODES).build())
        .send()
        .await
        .map_err(|e| classify(&c.ctx, "elasticloadbalancing:ModifyTargetGroup", e))?;
    Ok(None)
}

async fn set_attributes(
    c: &Connection,
    target_group: &str,
    deregistration_delay: u32,
    sticky_seconds: Option<u32>,
) -> Result<Created> {
    let attribute = |key: &str, value: String| {
        TargetGroupAttribute::builder()
            .key(key)
            .value(value)
            .build()
    };
    let mut attributes = vec![
        attribute(
            "deregistration_delay.timeout_seconds",
            deregistration_delay.to_string(),
        ),
        attribute("stickiness.enabled", sticky_seconds.is_some().to_string()),
    ];
    if let Some(seconds) = sticky_seconds {
        attributes.push(attribute("stickiness.type", "lb_cookie".to_owned()));
        attributes.push(attribute(
            "stickiness.lb_cookie.duration_seconds",
            seconds.to_string(),
        ));
    }
    aws_sdk_elasticloadbalancingv2::Client::new(&c.ctx.sdk)
        .modify_target_group_attributes()
        .target_group_arn(target_group)
        .set_attributes(Some(attributes))
        .send()
        .await
        .map_err(|e| {
            classify(
                &c.ctx,
                "elasticloadbalancing:ModifyTargetGroupAttributes",
                e,
            )
        })?;
    Ok(None)
}

async fn create_listener(
    c: &Connection,
    tags: &Tags,
    made: &mut Made,
    load_balancer: &Option<String>,
    port: u16,
    certificate: &Option<String>,
    target_group: &Option<String>,
) -> Result<Created> {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&c.ctx.sdk);
    let lb = pick(
        load_balancer,
        &made.load_balancer.as_ref().map(|(arn, _, _)| arn.clone()),
        "the load balancer",
    )?;
    let tg = pick(target_group, &made.target_group, "the target group")?;
    let mut call = elb
        .create_listener()
        .load_balancer_arn(&lb)
        .port(i32::from(port))
        .default_actions(forward(&tg))
        .set_tags(Some(elb_tags(tags)));
    call = match certificate {
        Some(arn) => call
            .protocol(ProtocolEnum::Https)
            .certificates(Certificate::builder().certificate_arn(arn).build()),
        None => call.protocol(ProtocolEnum::Http),
    };
    let arn = match call.send().await {
        Ok(out) => out
            .listeners
            .unwrap_or_default()
            .into_iter()
            .next()
            .and_then(|l| l.listener_arn),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_duplicate_listener_exception()) =>
        {
            let listeners: Vec<_> = elb
                .describe_listeners()
                .load_balancer_arn(&lb)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| classify(&c.ctx, "elasticloadbalancing:DescribeListeners", e))?;
            listeners
                .into_iter()
                .find(|l| l.port == Some(i32::from(port)))
                .and_then(|l| l.listener_arn)
        }
        Err(e) => return Err(classify(&c.ctx, "elasticloadbalancing:CreateListener", e)),
    };
    let arn = arn.ok_or_else(|| planned_but_not_made("the listener"))?;
    if port == 80 {
        made.http_listener = Some(arn.clone());
    }
    Ok(None)
}

async fn modify_listener(
    c: &Connection,
    listener: &str,
    action: Option<Action>,
    certificate: Option<&str>,
) -> Result<Created> {
    let mut call = aws_sdk_elasticloadbalancingv2::Client::new(&c.ctx.sdk)
        .modify_listener()
        .listener_arn(listener);
    if let Some(action) = action {
        call = call.default_actions(action);
    }
    if let Some(arn) = certificate {
        call = call.certificates(Certificate::builder().certificate_arn(arn).build());
    }
    call.send()
        .await
        .map_err(|e| classify(&c.ctx, "elasticloadbalancing:ModifyListener", e))?;
    Ok(None)
}

pub(crate) async fn delete_listener(c: &Connection, listener: &str) -> Result<Created> {
    match aws_sdk_elasticloadbalancingv2::Client::new(&c.ctx.sdk)
        .delete_listener()
        .listener_arn(listener)
        .send()
        .await
    {
        Ok(_) => Ok(None),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_listener_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(classify(&c.ctx, "elasticloadbalancing:DeleteListener", e)),
    }
}
