//! Which action of a listener answers a request, as an ALB decides: its rules by
//! priority, the first whose conditions all match (`path-pattern` and `host-header`, with
//! `*` and `?` wildcards; a condition of another kind never matches), else the listener's
//! default actions; and the weights of a forward action: which group one request goes to
//! (weight 0 never), and the same action with its weights changed (a blue/green traffic
//! shift). Sending the request is [`super::forwarding`]'s work.

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, Listener, Rule, RuleCondition, TargetGroupTuple,
};

/// A listener with its rules, as moto describes them.
#[derive(Debug, Clone)]
pub(super) struct Routes {
    pub listener: Listener,
    pub rules: Vec<Rule>,
}

impl Routes {
    /// The action that answers a request for `path` (without its query) on `host`.
    pub fn route(&self, path: &str, host: &str) -> Option<&Action> {
        let mut rules: Vec<(i64, &Rule)> = self
            .rules
            .iter()
            .filter(|r| r.is_default() != Some(true))
            .filter_map(|r| Some((r.priority()?.parse().ok()?, r)))
            .collect();
        rules.sort_by_key(|(priority, _)| *priority);
        rules
            .into_iter()
            .find(|(_, r)| r.conditions().iter().all(|c| matches(c, path, host)))
            .map_or_else(
                || answering(self.listener.default_actions()),
                |(_, r)| answering(r.actions()),
            )
    }
}

/// The first action that answers (authentication actions come before it, by order).
fn answering(actions: &[Action]) -> Option<&Action> {
    let mut actions: Vec<&Action> = actions.iter().collect();
    actions.sort_by_key(|a| a.order().unwrap_or(i32::MAX));
    actions.into_iter().find(|a| {
        matches!(
            a.r#type(),
            Some(
                ActionTypeEnum::Forward | ActionTypeEnum::Redirect | ActionTypeEnum::FixedResponse
            )
        )
    })
}

/// Whether one condition holds: any of its values matches (a path case-sensitively, a
/// host without its port and in any case).
fn matches(condition: &RuleCondition, path: &str, host: &str) -> bool {
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let values = |configured: Option<&[String]>| -> Vec<String> {
        let mut all = condition.values().to_vec();
        all.extend(configured.unwrap_or_default().iter().cloned());
        all
    };
    match condition.field() {
        Some("path-pattern") => values(condition.path_pattern_config().map(|c| c.values()))
            .iter()
            .any(|pattern| glob(pattern, path)),
        Some("host-header") => values(condition.host_header_config().map(|c| c.values()))
            .iter()
            .any(|pattern| glob(&pattern.to_ascii_lowercase(), &host.to_ascii_lowercase())),
        _ => false,
    }
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters and `?`
/// for exactly one.
pub(super) fn glob(pattern: &str, text: &str) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) =
        (pattern.chars().collect(), text.chars().collect());
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was, and the text position it has taken up to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(c) if *c == '?' || *c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((at, taken)) => {
                    p = at + 1;
                    t = taken + 1;
                    star = Some((at, taken + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// A forward action's target groups and their weights (a lone `TargetGroupArn` weighs 1).
pub(super) fn weights(action: &Action) -> Vec<(String, i32)> {
    match action.forward_config() {
        Some(config) if !config.target_groups().is_empty() => config
            .target_groups()
            .iter()
            .filter_map(|t| Some((t.target_group_arn()?.to_owned(), t.weight().unwrap_or(1))))
            .collect(),
        _ => action
            .target_group_arn()
            .map(|arn| vec![(arn.to_owned(), 1)])
            .unwrap_or_default(),
    }
}

/// The group the `turn`th request goes to: each group with a weight above 0 takes its
/// share of the turns, in order (a weighted round robin).
pub(super) fn pick_weighted(weights: &[(String, i32)], turn: u64) -> Option<String> {
    let weighted: Vec<(&String, u64)> = weights
        .iter()
        .filter(|(_, w)| *w > 0)
        .map(|(arn, w)| (arn, *w as u64))
        .collect();
    let total: u64 = weighted.iter().map(|(_, w)| w).sum();
    if total == 0 {
        return None;
    }
    let mut turn = turn % total;
    for (arn, weight) in weighted {
        if turn < weight {
            return Some(arn.clone());
        }
        turn -= weight;
    }
    None
}

/// Of a blue/green pair of groups, the one `weights` sends production traffic to: the one
/// weighted above 0 while the other is not; `None` when that is not clear.
pub(super) fn production<'a>(weights: &[(String, i32)], a: &'a str, b: &'a str) -> Option<&'a str> {
    let weight = |group: &str| {
        weights
            .iter()
            .find(|(arn, _)| arn == group)
            .map_or(0, |(_, w)| *w)
    };
    match (weight(a) > 0, weight(b) > 0) {
        (true, false) => Some(a),
        (false, true) => Some(b),
        _ => None,
    }
}

/// `actions` with each forward action sending everything to `to` and nothing to `from`
/// (other groups keep their weights), as ECS modifies a production listener rule.
pub(super) fn shifted(actions: &[Action], to: &str, from: &str) -> Vec<Action> {
    actions
        .iter()
        .map(|action| {
            if action.r#type() != Some(&ActionTypeEnum::Forward) {
                return action.clone();
            }
            let mut groups = weights(action);
            for (group, weight) in [(to, 100), (from, 0)] {
                match groups.iter_mut().find(|(arn, _)| arn == group) {
                    Some(entry) => entry.1 = weight,
                    None => groups.push((group.to_owned(), weight)),
                }
            }
            let stickiness = action
                .forward_config()
                .and_then(|c| c.target_group_stickiness_config())
                .cloned();
            let mut action = action.clone();
            action.target_group_arn = None;
            action.forward_config = Some(
                ForwardActionConfig::builder()
                    .set_target_groups(Some(
                        groups
                            .into_iter()
                            .map(|(arn, weight)| {
                                TargetGroupTuple::builder()
                                    .target_group_arn(arn)
                                    .weight(weight)
                                    .build()
                            })
                            .collect(),
                    ))
                    .set_target_group_stickiness_config(stickiness)
                    .build(),
            );
            action
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticloadbalancingv2::types::{
        FixedResponseActionConfig, HostHeaderConditionConfig, PathPatternConditionConfig,
    };

    fn forward(weights: &[(&str, i32)]) -> Action {
        Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .forward_config(
                ForwardActionConfig::builder()
                    .set_target_groups(Some(
                        weights
                            .iter()
                            .map(|(arn, w)| {
                                TargetGroupTuple::builder()
                                    .target_group_arn(*arn)
                                    .weight(*w)
                                    .build()
                            })
                            .collect(),
                    ))
                    .build(),
            )
            .build()
    }

    fn fixed(body: &str) -> Action {
        Action::builder()
            .r#type(ActionTypeEnum::FixedResponse)
            .fixed_response_config(
                FixedResponseActionConfig::builder()
                    .status_code("200")
                    .message_body(body)
                    .build(),
            )
            .build()
    }

    fn rule(priority: &str, conditions: Vec<RuleCondition>, action: Action) -> Rule {
        Rule::builder()
            .priority(priority)
            .set_conditions(Some(conditions))
            .actions(action)
            .is_default(false)
            .build()
    }

    fn path(values: &[&str]) -> RuleCondition {
        RuleCondition::builder()
            .field("path-pattern")
            .path_pattern_config(
                PathPatternConditionConfig::builder()
                    .set_values(Some(values.iter().map(|v| v.to_string()).collect()))
                    .build(),
            )
            .build()
    }

    fn body(action: Option<&Action>) -> Option<&str> {
        action?.fixed_response_config()?.message_body()
    }

    #[test]
    fn globs_take_stars_and_question_marks() {
        assert!(glob("/*", "/"));
        assert!(glob("/*", "/api/orders"));
        assert!(glob("/api/*/items", "/api/7/items"));
        assert!(!glob("/api/*/items", "/api/7/item"));
        assert!(glob("/v?/*", "/v2/x"));
        assert!(!glob("/v?/*", "/v10/x"));
        assert!(glob("*.example.com", "app.example.com"));
        assert!(
            !glob("/API/*", "/api/x"),
            "a path pattern is case-sensitive"
        );
    }

    #[test]
    fn the_first_matching_rule_by_priority_answers_else_the_default_action() {
        let routes = Routes {
            listener: Listener::builder()
                .default_actions(fixed("default"))
                .build(),
            rules: vec![
                rule("20", vec![path(&["/*"])], fixed("catch-all")),
                rule("10", vec![path(&["/api/*"])], fixed("api")),
                rule(
                    "5",
                    vec![RuleCondition::builder()
                        .field("host-header")
                        .host_header_config(
                            HostHeaderConditionConfig::builder()
                                .values("admin.example.com")
                                .build(),
                        )
                        .build()],
                    fixed("admin"),
                ),
                rule(
                    "1",
                    vec![RuleCondition::builder()
                        .field("http-request-method")
                        .values("GET")
                        .build()],
                    fixed("a condition the stand-in does not know"),
                ),
            ],
        };
        assert_eq!(body(routes.route("/api/orders", "lb")), Some("api"));
        assert_eq!(body(routes.route("/", "lb")), Some("catch-all"));
        assert_eq!(
            body(routes.route("/api/x", "Admin.Example.com:443")),
            Some("admin"),
            "a host matches in any case and without its port"
        );
        let only_default = Routes {
            rules: vec![rule("1", vec![path(&["/api/*"])], fixed("api"))],
            ..routes
        };
        assert_eq!(body(only_default.route("/web", "lb")), Some("default"));
    }

    #[test]
    fn weighted_groups_take_their_share_and_weight_zero_none() {
        let weights = vec![("blue".to_owned(), 0), ("green".to_owned(), 100)];
        assert!((0..50).all(|turn| pick_weighted(&weights, turn).as_deref() == Some("green")));
        let split = vec![("blue".to_owned(), 1), ("green".to_owned(), 3)];
        let picks: Vec<String> = (0..4).filter_map(|t| pick_weighted(&split, t)).collect();
        assert_eq!(picks.iter().filter(|g| *g == "blue").count(), 1);
        assert_eq!(picks.iter().filter(|g| *g == "green").count(), 3);
        assert_eq!(pick_weighted(&[("blue".to_owned(), 0)], 0), None);
    }

    #[test]
    fn production_is_the_only_group_weighted_above_zero() {
        let weights = |w: &[(&str, i32)]| weights(&forward(w));
        assert_eq!(
            production(&weights(&[("a", 100), ("b", 0)]), "a", "b"),
            Some("a")
        );
        assert_eq!(production(&weights(&[("b", 100)]), "a", "b"), Some("b"));
        assert_eq!(
            production(&weights(&[("a", 50), ("b", 50)]), "a", "b"),
            None
        );
    }

    #[test]
    fn a_shift_weighs_the_new_group_100_and_the_old_0() {
        let moved = shifted(&[forward(&[("a", 100), ("b", 0)])], "b", "a");
        assert_eq!(
            weights(&moved[0]),
            vec![("a".to_owned(), 0), ("b".to_owned(), 100)]
        );
        let lone = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn("a")
            .build();
        let moved = shifted(&[lone], "b", "a");
        assert_eq!(moved[0].target_group_arn(), None);
        assert_eq!(
            weights(&moved[0]),
            vec![("a".to_owned(), 0), ("b".to_owned(), 100)]
        );
    }
}
