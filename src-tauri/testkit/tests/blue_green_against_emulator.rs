//! The Fargate stand-in carries out ECS-native blue/green deployments in front of moto: a
//! later revision starts in the other target group of the pair while production keeps
//! being served, production traffic moves with the listener rule once it is healthy, the
//! old tasks go after the bake time; a failing revision is rolled back before traffic
//! moves; and StopServiceDeployment rolls back one in its bake time, traffic and all.
//! Against the test environment (moto, Docker, the registry that answers as ECR).

mod balanced;

use std::time::{Duration, Instant};

use aws_sdk_ecs::types::{
    AdvancedConfiguration, DeploymentCircuitBreaker, DeploymentConfiguration, DeploymentStrategy,
    ServiceDeployment, StopServiceDeploymentStopType,
};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, PathPatternConditionConfig, ProtocolEnum,
    RuleCondition, TargetGroupTuple, TargetTypeEnum,
};
use balanced::{attribute, primary, Balancer, Stage};
use slipway_testkit::emulator::default_vpc_id;

/// The pair's other group and the production listener rule that chooses between them.
struct Pair {
    green: String,
    rule: String,
}

async fn pair(stage: &Stage, lb: &Balancer) -> Pair {
    let green = stage
        .elb
        .create_target_group()
        .name(format!("{}-g", stage.name))
        .protocol(ProtocolEnum::Http)
        .port(8080)
        .vpc_id(default_vpc_id(&stage.direct).await)
        .target_type(TargetTypeEnum::Ip)
        .health_check_path("/health")
        .send()
        .await
        .expect("create the alternate target group")
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_owned();
    stage
        .elb
        .modify_target_group_attributes()
        .target_group_arn(&green)
        .attributes(attribute("deregistration_delay.timeout_seconds", "5"))
        .send()
        .await
        .unwrap();
    let listener = stage
        .elb
        .describe_listeners()
        .load_balancer_arn(&lb.arn)
        .send()
        .await
        .unwrap()
        .listeners()[0]
        .listener_arn()
        .unwrap()
        .to_owned();
    let weighted = |arn: &str, weight: i32| {
        TargetGroupTuple::builder()
            .target_group_arn(arn)
            .weight(weight)
            .build()
    };
    let rule = stage
        .elb
        .create_rule()
        .listener_arn(listener)
        .priority(1)
        .conditions(
            RuleCondition::builder()
                .field("path-pattern")
                .path_pattern_config(PathPatternConditionConfig::builder().values("/*").build())
                .build(),
        )
        .actions(
            Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .forward_config(
                    ForwardActionConfig::builder()
                        .target_groups(weighted(&lb.group, 100))
                        .target_groups(weighted(&green, 0))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("create the production listener rule")
        .rules()[0]
        .rule_arn()
        .unwrap()
        .to_owned();
    Pair { green, rule }
}

/// The blue/green service, made through the proxy as the app makes it.
async fn service(stage: &Stage, lb: &Balancer, pair: &Pair, revision: &str) {
    let configuration = DeploymentConfiguration::builder()
        .strategy(DeploymentStrategy::BlueGreen)
        .bake_time_in_minutes(1)
        .deployment_circuit_breaker(
            DeploymentCircuitBreaker::builder()
                .enable(true)
                .rollback(true)
                .build(),
        )
        .build();
    let advanced = AdvancedConfiguration::builder()
        .alternate_target_group_arn(&pair.green)
        .production_listener_rule(&pair.rule)
        .role_arn("arn:aws:iam::123456789012:role/ecs-infrastructure")
        .build();
    stage
        .service_with(lb, revision, 1, 2, configuration, Some(advanced))
        .await;
}

/// The production rule's weights: (blue, green).
async fn weights(stage: &Stage, lb: &Balancer, pair: &Pair) -> (i32, i32) {
    let rules = stage
        .elb
        .describe_rules()
        .rule_arns(&pair.rule)
        .send()
        .await
        .unwrap();
    let groups = rules.rules()[0].actions()[0]
        .forward_config()
        .unwrap()
        .target_groups()
        .to_vec();
    let weight = |arn: &str| {
        groups
            .iter()
            .find(|g| g.target_group_arn() == Some(arn))
            .and_then(|g| g.weight())
            .unwrap_or(0)
    };
    (weight(&lb.group), weight(&pair.green))
}

/// How many service deployments the service has, and the newest, as the app reads them
/// through the proxy.
async fn newest(stage: &Stage) -> (usize, Option<ServiceDeployment>) {
    let listed = stage
        .app_ecs
        .list_service_deployments()
        .cluster(&stage.name)
        .service("web")
        .send()
        .await
        .expect("ListServiceDeployments through the proxy");
    let Some(arn) = listed
        .service_deployments()
        .first()
        .and_then(|d| d.service_deployment_arn())
    else {
        return (0, None);
    };
    let described = stage
        .app_ecs
        .describe_service_deployments()
        .service_deployment_arns(arn)
        .send()
        .await
        .expect("DescribeServiceDeployments through the proxy");
    (
        listed.service_deployments().len(),
        described.service_deployments().first().cloned(),
    )
}

fn lifecycle_stage(deployment: &ServiceDeployment) -> String {
    deployment
        .lifecycle_stage()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default()
}

/// Waits for the `nth` service deployment to reach `status`; while it scales up, the URL
/// must answer from `serving` (production traffic has not moved). The stages it was seen in.
async fn until_status(
    stage: &Stage,
    url: &str,
    (nth, status): (usize, &str),
    seconds: u64,
    serving: &str,
) -> (ServiceDeployment, Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut stages: Vec<String> = Vec::new();
    loop {
        let (count, deployment) = newest(stage).await;
        if let Some(deployment) = deployment.filter(|_| count == nth) {
            let now = lifecycle_stage(&deployment);
            if stages.last() != Some(&now) {
                stages.push(now.clone());
            }
            if deployment.status().map(|s| s.as_str()) == Some(status) {
                return (deployment, stages);
            }
            let (_, body, _) = stage.get(url, None).await;
            let still = newest(stage).await.1.map(|d| lifecycle_stage(&d));
            if now == "SCALE_UP" && still.as_deref() == Some("SCALE_UP") {
                assert!(
                    body.starts_with(serving),
                    "{serving} serves while the new tasks scale up: {body}"
                );
            }
            assert!(
                Instant::now() < deadline,
                "service deployment {nth} never reached {status}: {deployment:#?} {stages:?}"
            );
        }
        assert!(Instant::now() < deadline, "no service deployment {nth}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn blue_green_shifts_production_after_the_new_tasks_are_healthy_and_rolls_back() {
    let stage = Stage::new("ca-west-1", "bluegreen").await;
    stage.standin.set_bake_minute(Duration::from_secs(2));
    let lb = stage.balancer().await;
    let pair = pair(&stage, &lb).await;
    let v1 = stage.revision("v1", true).await;
    service(&stage, &lb, &pair, &v1).await;
    let url = format!("http://{}/", lb.dns);

    // The first deployment serves from the production group, like a rolling one.
    stage
        .until("v1's rollout completes", 60, |s| {
            primary(s).1 == "COMPLETED"
        })
        .await;
    assert!(stage.get(&url, None).await.1.starts_with("v1"));
    assert_eq!(stage.health(&lb.group).await.len(), 1);
    let (first, _) = until_status(&stage, &url, (1, "SUCCESSFUL"), 10, "v1").await;
    assert_eq!(lifecycle_stage(&first), "CLEAN_UP");

    // v2 starts in the green group while v1 serves; the rule moves; the bake; v1 goes.
    let v2 = stage.revision("v2", true).await;
    stage.update(Some(&v2), None).await;
    let (done, stages) = until_status(&stage, &url, (2, "SUCCESSFUL"), 90, "v1").await;
    for expected in ["SCALE_UP", "BAKE_TIME", "CLEAN_UP"] {
        assert!(stages.iter().any(|s| s == expected), "{stages:?}");
    }
    assert_eq!(done.source_service_revisions().len(), 1, "v1's revision");
    assert_eq!(weights(&stage, &lb, &pair).await, (0, 100));
    assert_eq!(
        primary(&stage.described().await),
        (v2.clone(), "COMPLETED".into())
    );
    for _ in 0..4 {
        assert!(stage.get(&url, None).await.1.starts_with("v2"));
    }
    let green: Vec<_> = stage.health(&pair.green).await;
    assert!(green.iter().all(|h| h.1 == "healthy"), "{green:?}");

    // v3 fails its health checks in the blue group: rolled back, traffic never moved.
    let v3 = stage.revision("v3", false).await;
    stage.update(Some(&v3), None).await;
    let (rolled_back, _) = until_status(&stage, &url, (3, "ROLLBACK_SUCCESSFUL"), 120, "v2").await;
    assert!(rolled_back.rollback().is_some(), "{rolled_back:#?}");
    assert_eq!(weights(&stage, &lb, &pair).await, (0, 100));
    assert_eq!(
        primary(&stage.described().await),
        (v2.clone(), "COMPLETED".into())
    );

    // v4 is stopped in its bake time: traffic goes back to v2's group, v2 is primary.
    stage.standin.set_bake_minute(Duration::from_secs(60));
    let v4 = stage.revision("v4", true).await;
    stage.update(Some(&v4), None).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    let baking = loop {
        let (count, deployment) = newest(&stage).await;
        if let Some(deployment) =
            deployment.filter(|d| count == 4 && lifecycle_stage(d) == "BAKE_TIME")
        {
            break deployment;
        }
        assert!(Instant::now() < deadline, "v4 never baked");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        weights(&stage, &lb, &pair).await,
        (100, 0),
        "v4 serves from blue"
    );
    let arn = baking.service_deployment_arn().unwrap().to_owned();
    stage
        .app_ecs
        .stop_service_deployment()
        .service_deployment_arn(&arn)
        .stop_type(StopServiceDeploymentStopType::Rollback)
        .send()
        .await
        .expect("StopServiceDeployment through the proxy");
    let (stopped, _) = until_status(&stage, &url, (4, "ROLLBACK_SUCCESSFUL"), 30, "v").await;
    assert_eq!(stopped.service_deployment_arn(), Some(arn.as_str()));
    assert_eq!(weights(&stage, &lb, &pair).await, (0, 100));
    let service = stage
        .until("v2 is primary and completed again", 20, |s| {
            primary(s) == (v2.clone(), "COMPLETED".into())
        })
        .await;
    assert_eq!(service.task_definition(), Some(v2.as_str()));
    for _ in 0..4 {
        assert!(stage.get(&url, None).await.1.starts_with("v2"));
    }

    // A finished service deployment cannot be stopped; the history is newest first.
    let refused = stage
        .app_ecs
        .stop_service_deployment()
        .service_deployment_arn(&arn)
        .send()
        .await
        .expect_err("a finished deployment is not stopped");
    assert!(
        refused
            .as_service_error()
            .is_some_and(|e| e.is_invalid_parameter_exception()),
        "{refused:?}"
    );
    let listed = stage
        .app_ecs
        .list_service_deployments()
        .cluster(&stage.name)
        .service("web")
        .send()
        .await
        .unwrap();
    let statuses: Vec<&str> = listed
        .service_deployments()
        .iter()
        .filter_map(|d| d.status().map(|s| s.as_str()))
        .collect();
    assert_eq!(
        statuses,
        [
            "ROLLBACK_SUCCESSFUL",
            "ROLLBACK_SUCCESSFUL",
            "SUCCESSFUL",
            "SUCCESSFUL"
        ]
    );
    let events = stage.standin.service_events(service.service_arn().unwrap());
    for wanted in [
        "production traffic shifted to",
        "bake time",
        "shifted back to",
    ] {
        assert!(
            events.iter().any(|e| e.contains(wanted)),
            "{wanted}: {events:#?}"
        );
    }
    let _ = stage.elb.delete_rule().rule_arn(&pair.rule).send().await;
    let _ = stage
        .elb
        .delete_target_group()
        .target_group_arn(&pair.green)
        .send()
        .await;
    stage.tear_down(lb).await;
}
