//! Blue/green deploys (ECS native, no CodeDeploy): what they need beside the load
//! balancer, read-only here. A second target group where each new release starts while
//! the other group serves; the production listener rule, which forwards every request to
//! the two groups by weight (100 to the serving one, 0 to the other) and which ECS moves
//! when the new release is healthy; and the role ECS takes to move it.

use aws_sdk_elasticloadbalancingv2::types::{ActionTypeEnum, Rule};

use super::observe::{named_group, observed_group};
use super::{ObservedListener, ObservedTargetGroup};
use crate::aws::{classify, Connection};
use crate::setup::names::Tags;
use slipway_core::error::Result;

/// The AWS managed policy that lets ECS move a load balancer's traffic.
pub const INFRASTRUCTURE_POLICY: &str =
    "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers";

/// The production rule's priority on its listener (ahead of any rule a user adds).
pub const RULE_PRIORITY: i32 = 1;

/// A listener rule that forwards to the app's target groups by weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedRule {
    pub arn: String,
    pub listener: String,
    /// The port of its listener.
    pub port: u16,
    /// (target group ARN, weight), as the rule forwards.
    pub weights: Vec<(String, i32)>,
}

impl ObservedRule {
    /// The group that gets the traffic now (the highest weight).
    pub fn serving(&self) -> Option<&str> {
        self.weights
            .iter()
            .filter(|(_, w)| *w > 0)
            .max_by_key(|(_, w)| *w)
            .map(|(arn, _)| arn.as_str())
    }
}

/// The role ECS takes to move traffic, as IAM has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedInfraRole {
    pub arn: String,
    pub tags: Tags,
    /// The managed policies attached to it.
    pub attached: Vec<String>,
}

/// What exists of blue/green for the app, whether or not the project wants it now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedBlueGreen {
    pub alternate: Option<ObservedTargetGroup>,
    /// A rule on the load balancer's listeners that forwards to the app's groups.
    pub rule: Option<ObservedRule>,
    pub role: Option<ObservedInfraRole>,
}

/// The alternate target group named `name`, with its tags, attributes and targets.
pub(crate) async fn alternate(c: &Connection, name: &str) -> Result<Option<ObservedTargetGroup>> {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&c.ctx.sdk);
    let answer = elb.describe_target_groups().names(name).send().await;
    let Some(tg) = named_group(c, answer)? else {
        return Ok(None);
    };
    let arn = tg.target_group_arn.clone().unwrap_or_default();
    let tags = elb.describe_tags().resource_arns(&arn).send();
    let attributes = elb
        .describe_target_group_attributes()
        .target_group_arn(&arn)
        .send();
    let health = elb.describe_target_health().target_group_arn(&arn).send();
    let (tags, attributes, health) = tokio::join!(tags, attributes, health);
    let tags: Tags = tags
        .map_err(|e| classify(&c.ctx, "elasticloadbalancing:DescribeTags", e))?
        .tag_descriptions()
        .iter()
        .flat_map(|d| d.tags())
        .filter_map(|t| Some((t.key.clone()?, t.value.clone()?)))
        .collect();
    let attributes = attributes.map_err(|e| {
        classify(
            &c.ctx,
            "elasticloadbalancing:DescribeTargetGroupAttributes",
            e,
        )
    })?;
    let targets = health
        .map_err(|e| classify(&c.ctx, "elasticloadbalancing:DescribeTargetHealth", e))?
        .target_health_descriptions()
        .len();
    Ok(Some(observed_group(tg, tags, Some(&attributes), targets)))
}

/// The first rule of `listeners` that forwards to `groups` (the app's two target groups).
pub(crate) async fn rule(
    c: &Connection,
    listeners: &[ObservedListener],
    groups: &[&str],
) -> Result<Option<ObservedRule>> {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&c.ctx.sdk);
    for listener in listeners {
        let rules = elb
            .describe_rules()
            .listener_arn(&listener.arn)
            .send()
            .await
            .map_err(|e| classify(&c.ctx, "elasticloadbalancing:DescribeRules", e))?;
        let found = rules
            .rules()
            .iter()
            .filter(|r| r.is_default() != Some(true))
            .filter_map(|r| observed_rule(r, listener))
            .find(|r| {
                r.weights
                    .iter()
                    .any(|(arn, _)| groups.contains(&arn.as_str()))
            });
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

fn observed_rule(rule: &Rule, listener: &ObservedListener) -> Option<ObservedRule> {
    let forward = rule
        .actions()
        .iter()
        .find(|a| a.r#type == Some(ActionTypeEnum::Forward))?;
    let weights = match forward.forward_config.as_ref() {
        Some(config) if !config.target_groups().is_empty() => config
            .target_groups()
            .iter()
            .filter_map(|t| Some((t.target_group_arn.clone()?, t.weight.unwrap_or(1))))
            .collect(),
        _ => vec![(forward.target_group_arn.clone()?, 1)],
    };
    Some(ObservedRule {
        arn: rule.rule_arn.clone()?,
        listener: listener.arn.clone(),
        port: listener.port,
        weights,
    })
}
