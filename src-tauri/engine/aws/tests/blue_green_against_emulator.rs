//! Blue/green deploys (issue 18) against the emulator and the test kit, whose stand-in
//! runs ECS's native blue/green for real: the new release starts in the other target
//! group, the production rule moves all traffic to it once it is healthy, the previous
//! release stays ready for the bake time, and a rollback during the bake moves the
//! traffic straight back. The stand-in's minute is a few seconds long.

mod deploying;
mod emulator;

use std::time::Duration;

use deploying::{Deploying, Timed};
use slipway_aws::deploy::{DeployEvent, DeployRequest};
use slipway_aws::setup::{ResourceKind, ResourceState};
use slipway_aws::teardown::{apply_teardown, plan_teardown, TeardownAction, TeardownStep};
use slipway_core::jobs::Cancel;
use slipway_core::progress::{ProgressSink, Recorder};
use slipway_core::project::HealthProbe;
use slipway_core::EngineError;
use slipway_testkit::Fault;

async fn get(url: &str) -> String {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .expect("the address answers")
        .text()
        .await
        .unwrap()
}

/// The production rule's (target group, weight) pairs, as ELB has them.
async fn weights(t: &Deploying) -> Vec<(String, i32)> {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&t.fx.direct().await);
    let names = t.fx.names();
    let lb = elb
        .describe_load_balancers()
        .names(&names.load_balancer)
        .send()
        .await
        .unwrap();
    let listeners = elb
        .describe_listeners()
        .load_balancer_arn(lb.load_balancers()[0].load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap();
    let rules = elb
        .describe_rules()
        .listener_arn(listeners.listeners()[0].listener_arn().unwrap())
        .send()
        .await
        .unwrap();
    let rule = rules
        .rules()
        .iter()
        .find(|r| r.is_default() != Some(true))
        .expect("the production rule");
    rule.actions()[0]
        .forward_config()
        .unwrap()
        .target_groups()
        .iter()
        .map(|g| {
            let arn = g.target_group_arn().unwrap();
            let name = arn.rsplit('/').nth(1).unwrap().to_owned();
            (name, g.weight().unwrap_or(1))
        })
        .collect()
}

/// The target group the production rule sends visitors to.
async fn serving(t: &Deploying) -> String {
    weights(t)
        .await
        .into_iter()
        .find(|(_, w)| *w == 100)
        .map(|(name, _)| name)
        .expect("one group gets all the traffic")
}

/// Records the events and stops the deploy once one says `needle`.
struct CancelOn {
    events: Timed,
    cancel: Cancel,
    needle: &'static str,
}

impl ProgressSink<DeployEvent> for CancelOn {
    fn emit(&self, event: DeployEvent) {
        if matches!(&event, DeployEvent::Rollout { said, .. } if said.contains(self.needle)) {
            self.cancel.cancel();
        }
        self.events.emit(event);
    }
}

fn said(events: &[DeployEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            DeployEvent::Rollout { said, .. } => Some(said.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blue_green_deploy_moves_every_visitor_at_once_and_a_rollback_in_the_bake_moves_them_back(
) {
    // Boxed, as are the deploys and the teardown below: the SDK's futures are large and
    // this test's own future sits on the test thread's stack.
    let Some(t) = Box::pin(Deploying::with("us-west-2", |config| {
        config.aws.load_balancer = true;
        config.aws.bake_minutes = Some(1);
        config.health.probe = HealthProbe::None;
    }))
    .await
    else {
        return;
    };
    let standin = t.standin.as_ref().unwrap();
    standin.set_bake_minute(Duration::from_secs(10));
    let names = t.fx.names();

    // Setup made the second group, ECS's role and the production rule; a second setup
    // changes nothing.
    t.fx.proxy.forget_calls();
    let (plan, _) = Box::pin(t.fx.apply()).await.unwrap();
    let row = plan
        .resources
        .iter()
        .find(|r| r.kind == ResourceKind::BlueGreen)
        .expect("the blue/green row");
    assert_eq!(row.state, ResourceState::Ready, "{row:?}");
    assert_eq!(t.fx.proxy.mutating_calls(), Vec::<String>::new());
    assert_eq!(
        weights(&t).await,
        [
            (names.target_group.clone(), 100),
            (names.alternate_target_group.clone(), 0)
        ]
    );
    let iam = aws_sdk_iam::Client::new(&t.fx.direct().await);
    let attached = iam
        .list_attached_role_policies()
        .role_name(&names.infrastructure_role)
        .send()
        .await
        .unwrap();
    assert_eq!(
        attached.attached_policies()[0].policy_name(),
        Some("AmazonECSInfrastructureRolePolicyForLoadBalancers")
    );

    t.build().await;
    let (first, _) = Box::pin(t.deploy(&DeployRequest::default())).await;
    let first = first.expect("the first release answers");
    assert!(get(&first.url).await.contains("Hello from Slipway"));
    let service = t.service().await;
    let lb = &service.load_balancers()[0];
    let advanced = lb.advanced_configuration().expect("blue/green's settings");
    assert!(advanced
        .alternate_target_group_arn()
        .unwrap()
        .contains(&names.alternate_target_group));
    assert!(advanced
        .role_arn()
        .unwrap()
        .contains(&names.infrastructure_role));

    // The second release starts in the other group, gets every visitor once healthy,
    // and the first stays ready for the bake.
    t.edit("site/index.html", "<h1>Green release</h1>");
    t.build().await;
    let (second, events) = Box::pin(t.deploy(&DeployRequest::default())).await;
    let second = second.expect("the second release answers");
    assert_eq!(second.url, first.url, "one address");
    assert!(get(&second.url).await.contains("Green release"));
    let stages = said(&events);
    for stage in [
        "the new release beside the current one",
        "stays ready for 1 min",
    ] {
        assert!(
            stages.iter().any(|s| s.contains(stage)),
            "{stage:?} in {stages:?}"
        );
    }
    assert_eq!(
        serving(&t).await,
        names.alternate_target_group,
        "visitors moved to the second group"
    );
    let second_revision = t.service().await.task_definition().unwrap().to_owned();

    // A third release rolled back in its bake (a long one now): visitors are back on the
    // second release at once, and the third stops; through a throttled listing and a stop
    // whose first answer is lost (ECS took it; the SDK's retry is refused).
    standin.set_bake_minute(Duration::from_secs(120));
    t.fx.proxy
        .fail("ListServiceDeployments", Fault::ServerError(503), 1);
    t.fx.proxy.fail("StopServiceDeployment", Fault::Truncate, 1);
    t.fx.proxy.forget_calls();
    t.edit("site/index.html", "<h1>Third release</h1>");
    t.build().await;
    let sink = CancelOn {
        events: Timed::default(),
        cancel: Cancel::new(),
        needle: "stays ready",
    };
    let third = Box::pin(t.deploy_with(&DeployRequest::default(), &sink, &sink.cancel)).await;
    let Err(EngineError::DeployCancelled { left }) = third else {
        panic!("expected the rollback, got {third:?}");
    };
    assert!(
        left.contains("ECS stopped the blue/green deployment"),
        "{left}"
    );
    let stops =
        t.fx.proxy
            .calls()
            .iter()
            .filter(|c| c.action == "StopServiceDeployment")
            .count();
    assert!(stops >= 2, "the lost answer was retried ({stops} calls)");
    let updates =
        t.fx.proxy
            .mutating_calls()
            .iter()
            .filter(|a| *a == "UpdateService")
            .count();
    assert_eq!(updates, 1, "the deploy's own; the rollback is ECS's");
    assert_eq!(
        serving(&t).await,
        names.alternate_target_group,
        "traffic back on the group of the second release"
    );
    assert!(get(&second.url).await.contains("Green release"));
    assert_eq!(
        t.service().await.task_definition(),
        Some(second_revision.as_str())
    );
    let mut live = t.live_tasks().await;
    for _ in 0..40 {
        if live.len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        live = t.live_tasks().await;
    }
    assert_eq!(live.len(), 1, "only the second release runs: {live:?}");

    // Teardown removes what blue/green needed with the rest.
    let connection = t.fx.connect().await;
    let teardown = Box::pin(plan_teardown(&connection, &t.fx.config))
        .await
        .unwrap();
    for step in [
        TeardownStep::AlternateTargetGroup,
        TeardownStep::InfrastructureRole,
    ] {
        assert!(
            teardown
                .items
                .iter()
                .any(|i| i.step == step && matches!(i.action, TeardownAction::Remove { .. })),
            "{step:?} in {teardown:?}"
        );
    }
    let after = Box::pin(apply_teardown(
        &t.fx.host,
        &connection,
        &t.fx.config,
        &teardown,
        &Recorder::default(),
        &Cancel::new(),
    ))
    .await
    .unwrap();
    assert!(after.nothing_to_do(), "{:?}", after.items);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&t.fx.direct().await);
    assert!(elb
        .describe_target_groups()
        .names(&names.alternate_target_group)
        .send()
        .await
        .is_err());
    assert!(iam
        .get_role()
        .role_name(&names.infrastructure_role)
        .send()
        .await
        .is_err());
    t.shut_down().await;
}
