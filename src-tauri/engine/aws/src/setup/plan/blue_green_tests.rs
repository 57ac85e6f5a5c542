//! The setup plan's decisions for blue/green deploys: what it adds beside the load
//! balancer, nothing once it is there, and the production rule moved to port 443 (keeping
//! the group that serves) once HTTPS is on.
use super::balancer_tests::{lb_account, lb_wanted, listener, state, tags, TG_ARN};
use super::*;
use crate::setup::balancer::blue_green::{ObservedInfraRole, ObservedRule, INFRASTRUCTURE_POLICY};
use crate::setup::balancer::ObservedTargetGroup;

const ALT_ARN: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/slipway-hello-alt/fed";

fn blue_green() -> Wanted {
    let mut w = lb_wanted(None);
    w.balancer.as_mut().unwrap().bake_minutes = Some(5);
    w
}

fn alternate(targets: usize) -> ObservedTargetGroup {
    ObservedTargetGroup {
        arn: ALT_ARN.into(),
        targets,
        ..lb_account().target_group.unwrap()
    }
}

fn rule(listener: &str, port: u16, serving_alternate: bool) -> ObservedRule {
    let (main, alt) = if serving_alternate {
        (0, 100)
    } else {
        (100, 0)
    };
    ObservedRule {
        arn: format!("{listener}/rule"),
        listener: listener.into(),
        port,
        weights: vec![(TG_ARN.into(), main), (ALT_ARN.into(), alt)],
    }
}

/// The account after a successful apply of `blue_green()`.
fn set_up() -> Observed {
    let mut o = lb_account();
    o.blue_green.alternate = Some(alternate(0));
    o.blue_green.rule = Some(rule("arn:l80", 80, false));
    o.blue_green.role = Some(ObservedInfraRole {
        arn: "arn:aws:iam::123456789012:role/slipway-hello-us-east-1-lb".into(),
        tags: tags(),
        attached: vec![INFRASTRUCTURE_POLICY.into()],
    });
    o
}

fn blue_green_changes(plan: &SetupPlan) -> Vec<&Change> {
    plan.changes
        .iter()
        .filter(|c| c.kind() == ResourceKind::BlueGreen)
        .collect()
}

#[test]
fn blue_green_adds_the_second_group_ecss_role_and_the_rule_after_the_listener() {
    let plan = decide(&blue_green(), &lb_account());
    assert_eq!(plan.resources.last().unwrap().kind, ResourceKind::BlueGreen);
    let changes = blue_green_changes(&plan);
    assert!(matches!(
        changes[0],
        Change::CreateAlternateTargetGroup { port: 8080, .. }
    ));
    assert!(matches!(
        changes[1],
        Change::CreateInfrastructureRole { .. }
    ));
    assert!(matches!(
        changes[2],
        Change::AttachInfrastructurePolicy { .. }
    ));
    assert_eq!(
        changes[3],
        &Change::CreateProductionRule {
            listener: Some("arn:l80".into()),
            port: 80,
            serving: Some(TG_ARN.into()),
            standby: None,
        },
        "the main group keeps serving; the new one is the standby"
    );
    assert_eq!(changes.len(), 4);
}

#[test]
fn blue_green_set_up_has_nothing_to_do_and_rolling_keeps_it_for_teardown() {
    let plan = decide(&blue_green(), &set_up());
    assert_eq!(state(&plan, ResourceKind::BlueGreen), &ResourceState::Ready);
    assert!(plan.changes.is_empty(), "{:?}", plan.changes);
    let rolling = decide(&lb_wanted(None), &set_up());
    assert_eq!(
        state(&rolling, ResourceKind::BlueGreen),
        &ResourceState::Ready
    );
    assert!(rolling.changes.is_empty(), "{:?}", rolling.changes);
    assert!(
        decide(&lb_wanted(None), &lb_account())
            .resources
            .iter()
            .all(|r| r.kind != ResourceKind::BlueGreen),
        "no row for what was never wanted"
    );
}

#[test]
fn https_moves_the_rule_to_443_and_the_serving_group_keeps_the_traffic() {
    let mut o = set_up();
    o.blue_green.rule = Some(rule("arn:l80", 80, true));
    o.listeners
        .push(listener("arn:l443", 443, Some("arn:cert")));
    let plan = decide(&blue_green(), &o);
    let changes = blue_green_changes(&plan);
    assert_eq!(
        changes,
        [
            &Change::DeleteRule {
                rule: "arn:l80/rule".into(),
                port: 80
            },
            &Change::CreateProductionRule {
                listener: Some("arn:l443".into()),
                port: 443,
                serving: Some(ALT_ARN.into()),
                standby: Some(TG_ARN.into()),
            }
        ]
    );
}

#[test]
fn someone_elses_group_of_that_name_blocks_blue_green_with_the_fix() {
    let mut o = lb_account();
    o.blue_green.alternate = Some(ObservedTargetGroup {
        tags: Default::default(),
        ..alternate(0)
    });
    let plan = decide(&blue_green(), &o);
    let ResourceState::Blocked { fix, .. } = state(&plan, ResourceKind::BlueGreen) else {
        panic!("{plan:?}");
    };
    assert!(fix.contains("Rename or delete the target group"), "{fix}");
    assert!(blue_green_changes(&plan).is_empty());
}
