//! Making blue/green's changes: ECS's role (made, then given AWS's policy; both safe to
//! repeat) and the production rule (found instead of made twice when a retried call had
//! made it).

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, RuleCondition, TargetGroupTuple,
};

use super::{elb_tags, pick, Created, Made};
use crate::aws::{classify, Connection};
use crate::setup::balancer::blue_green::{INFRASTRUCTURE_POLICY, RULE_PRIORITY};
use crate::setup::names::Tags;
use slipway_core::error::{EngineError, Result};

/// Who may take the role: ECS itself (not its tasks).
fn trust() -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "ecs.amazonaws.com"},
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}

pub(super) async fn create_role(
    c: &Connection,
    app: &str,
    tags: &Tags,
    name: &str,
) -> Result<Created> {
    let tags = tags
        .iter()
        .map(|(k, v)| aws_sdk_iam::types::Tag::builder().key(k).value(v).build())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| EngineError::Internal(e.to_string()))?;
    let out = aws_sdk_iam::Client::new(&c.ctx.sdk)
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust())
        .description(format!(
            "Lets ECS move {app}'s load balancer traffic during blue/green deploys. Created by Slipway."
        ))
        .set_tags(Some(tags))
        .send()
        .await;
    match out {
        Ok(out) => Ok(Some((name.to_owned(), out.role.map(|r| r.arn)))),
        // A retried call that had taken effect.
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_entity_already_exists_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(classify(&c.ctx, "iam:CreateRole", e)),
    }
}

pub(super) async fn attach_policy(c: &Connection, role: &str) -> Result<Created> {
    aws_sdk_iam::Client::new(&c.ctx.sdk)
        .attach_role_policy()
        .role_name(role)
        .policy_arn(INFRASTRUCTURE_POLICY)
        .send()
        .await
        .map_err(|e| classify(&c.ctx, "iam:AttachRolePolicy", e))?;
    Ok(None)
}

fn weighted(group: &str, weight: i32) -> TargetGroupTuple {
    TargetGroupTuple::builder()
        .target_group_arn(group)
        .weight(weight)
        .build()
}

pub(super) async fn create_rule(
    c: &Connection,
    tags: &Tags,
    made: &Made,
    listener: &Option<String>,
    serving: &Option<String>,
    standby: &Option<String>,
) -> Result<Created> {
    let listener = pick(listener, &made.http_listener, "the port 80 listener")?;
    let serving = pick(serving, &made.target_group, "the target group")?;
    let standby = pick(
        standby,
        &made.alternate_target_group,
        "the second target group",
    )?;
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&c.ctx.sdk);
    let forward = Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .forward_config(
            ForwardActionConfig::builder()
                .target_groups(weighted(&serving, 100))
                .target_groups(weighted(&standby, 0))
                .build(),
        )
        .build();
    let out = elb
        .create_rule()
        .listener_arn(&listener)
        .priority(RULE_PRIORITY)
        .conditions(
            RuleCondition::builder()
                .field("path-pattern")
                .values("/*")
                .build(),
        )
        .actions(forward)
        .set_tags(Some(elb_tags(tags)))
        .send()
        .await;
    match out {
        Ok(out) => Ok(out
            .rules()
            .first()
            .and_then(|r| r.rule_arn.clone())
            .map(|arn| ("production rule".to_owned(), Some(arn)))),
        // A retried call that had taken effect: the priority is taken by that rule.
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_priority_in_use_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(classify(&c.ctx, "elasticloadbalancing:CreateRule", e)),
    }
}

pub(super) async fn delete_rule(c: &Connection, rule: &str) -> Result<Created> {
    match aws_sdk_elasticloadbalancingv2::Client::new(&c.ctx.sdk)
        .delete_rule()
        .rule_arn(rule)
        .send()
        .await
    {
        Ok(_) => Ok(None),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_rule_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(classify(&c.ctx, "elasticloadbalancing:DeleteRule", e)),
    }
}
