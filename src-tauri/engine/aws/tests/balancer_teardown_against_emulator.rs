//! Teardown of the stable address against the emulator (moto): what setup and a deploy
//! made for the load balancer goes (records only when they hold what Slipway wrote), and a
//! project without a load balancer makes no change on that side.

mod balancing;
mod emulator;

use balancing::{balanced, hosted_zone, records, truth};
use slipway_aws::teardown::{apply_teardown, plan_teardown, TeardownAction, TeardownStep};
use slipway_core::jobs::Cancel;
use slipway_core::progress::Recorder;

/// A service of the app in its cluster, as a deploy in service mode makes it, with a
/// scalable target and a CPU target-tracking policy.
async fn scaled_service(fx: &emulator::Fixture) -> String {
    let names = fx.names();
    let sdk = fx.direct().await;
    let ecs = aws_sdk_ecs::Client::new(&sdk);
    let tags = [
        ("slipway:managed-by", "slipway"),
        ("slipway:app", fx.config.name.as_str()),
        ("slipway:project", fx.config.id.as_deref().unwrap()),
    ]
    .map(|(k, v)| aws_sdk_ecs::types::Tag::builder().key(k).value(v).build());
    let definition = ecs
        .register_task_definition()
        .family(&fx.config.name)
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("app")
                .image("busybox:1.36")
                .memory(512)
                .build(),
        )
        .set_tags(Some(tags.to_vec()))
        .send()
        .await
        .unwrap()
        .task_definition
        .unwrap()
        .task_definition_arn
        .unwrap();
    let service = format!("{}-web", fx.config.name);
    ecs.create_service()
        .cluster(&names.cluster)
        .service_name(&service)
        .task_definition(definition)
        .desired_count(1)
        .set_tags(Some(tags.to_vec()))
        .send()
        .await
        .unwrap();
    let scaling = aws_sdk_applicationautoscaling::Client::new(&sdk);
    let id = format!("service/{}/{service}", names.cluster);
    let dimension =
        aws_sdk_applicationautoscaling::types::ScalableDimension::EcsServiceDesiredCount;
    let namespace = aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs;
    scaling
        .register_scalable_target()
        .service_namespace(namespace.clone())
        .resource_id(&id)
        .scalable_dimension(dimension.clone())
        .min_capacity(1)
        .max_capacity(3)
        .send()
        .await
        .unwrap();
    scaling
        .put_scaling_policy()
        .policy_name("cpu")
        .service_namespace(namespace)
        .resource_id(&id)
        .scalable_dimension(dimension)
        .policy_type(aws_sdk_applicationautoscaling::types::PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(
            aws_sdk_applicationautoscaling::types::TargetTrackingScalingPolicyConfiguration::builder()
                .target_value(60.0)
                .predefined_metric_specification(
                    aws_sdk_applicationautoscaling::types::PredefinedMetricSpecification::builder()
                        .predefined_metric_type(
                            aws_sdk_applicationautoscaling::types::MetricType::EcsServiceAverageCpuUtilization,
                        )
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn teardown_leaves_nothing_slipway_made_for_the_balancer_and_keeps_the_users_records() {
    let Some(mut fx) = balanced("il-central-1").await else {
        return;
    };
    let (zone, domain) = hosted_zone(&fx).await;
    fx.config.aws.domain = Some(domain.clone());
    fx.apply().await.unwrap();
    balancing::wait_until_issued(&fx, &domain).await;
    fx.apply().await.unwrap();
    assert_eq!(truth(&fx).await.listeners.len(), 2, "HTTP and HTTPS");
    let scaling_target = scaled_service(&fx).await;

    // The user's own record in the same zone, at another name: never Slipway's to delete.
    let route53 = aws_sdk_route53::Client::new(&fx.direct().await);
    let mail = format!("mail.{}", domain.trim_start_matches("www."));
    route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(
            aws_sdk_route53::types::ChangeBatch::builder()
                .changes(
                    aws_sdk_route53::types::Change::builder()
                        .action(aws_sdk_route53::types::ChangeAction::Create)
                        .resource_record_set(
                            aws_sdk_route53::types::ResourceRecordSet::builder()
                                .name(&mail)
                                .r#type(aws_sdk_route53::types::RrType::A)
                                .ttl(60)
                                .resource_records(
                                    aws_sdk_route53::types::ResourceRecord::builder()
                                        .value("203.0.113.7")
                                        .build()
                                        .unwrap(),
                                )
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let connection = fx.connect().await;
    let teardown = plan_teardown(&connection, &fx.config).await.unwrap();
    let removes = |step| {
        teardown.items.iter().find(|i| i.step == step).map(|i| {
            (
                matches!(i.action, TeardownAction::Remove { .. }),
                i.names.len(),
            )
        })
    };
    assert_eq!(
        removes(TeardownStep::ScalingTarget),
        Some((true, 1)),
        "{teardown:?}"
    );
    assert_eq!(
        removes(TeardownStep::DnsRecords),
        Some((true, 2)),
        "alias and validation"
    );
    assert_eq!(removes(TeardownStep::Listeners), Some((true, 2)));
    assert_eq!(removes(TeardownStep::LoadBalancer), Some((true, 1)));
    assert_eq!(removes(TeardownStep::TargetGroup), Some((true, 1)));
    assert_eq!(
        removes(TeardownStep::BalancerSecurityGroup),
        Some((true, 1))
    );
    assert_eq!(
        removes(TeardownStep::Certificate),
        Some((true, 1)),
        "used only by the load balancer that goes"
    );
    let steps: Vec<_> = teardown.items.iter().map(|i| i.step).collect();
    let at = |step| steps.iter().position(|s| *s == step).unwrap();
    assert!(at(TeardownStep::Services) < at(TeardownStep::ScalingTarget));
    assert!(at(TeardownStep::Listeners) < at(TeardownStep::LoadBalancer));
    assert!(at(TeardownStep::LoadBalancer) < at(TeardownStep::BalancerSecurityGroup));
    assert!(at(TeardownStep::SecurityGroup) < at(TeardownStep::BalancerSecurityGroup));
    assert!(at(TeardownStep::LoadBalancer) < at(TeardownStep::Certificate));

    let after = apply_teardown(
        &fx.host,
        &connection,
        &fx.config,
        &teardown,
        &Recorder::default(),
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert!(after.nothing_to_do(), "{:?}", after.items);

    let t = truth(&fx).await;
    assert!(t.load_balancer.is_none(), "no load balancer");
    assert!(t.target_group.is_none(), "no target group");
    assert!(
        balancing::certificates(&fx, &domain).await.is_empty(),
        "no certificate"
    );
    assert!(records(&fx, &zone, &domain).await.is_empty(), "no alias");
    let all = route53
        .list_resource_record_sets()
        .hosted_zone_id(&zone)
        .send()
        .await
        .unwrap();
    let left: Vec<_> = all
        .resource_record_sets()
        .iter()
        .map(|r| format!("{} {}", r.r#type.as_str(), r.name))
        .collect();
    assert!(
        !left.iter().any(|r| r.starts_with("CNAME")),
        "no validation record: {left:?}"
    );
    assert!(
        left.iter().any(|r| r.starts_with("A mail.")),
        "the user's own record stays: {left:?}"
    );
    let scaling = aws_sdk_applicationautoscaling::Client::new(&fx.direct().await);
    let targets = scaling
        .describe_scalable_targets()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .resource_ids(&scaling_target)
        .send()
        .await
        .unwrap();
    assert!(targets.scalable_targets().is_empty(), "no scalable target");
    let policies = scaling
        .describe_scaling_policies()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .resource_id(&scaling_target)
        .send()
        .await
        .unwrap();
    assert!(policies.scaling_policies().is_empty(), "no scaling policy");
    let groups = aws_sdk_ec2::Client::new(&fx.direct().await)
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("tag:slipway:app")
                .values(&fx.config.name)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(groups.security_groups().is_empty(), "neither group is left");
}

#[tokio::test]
async fn teardown_of_a_project_without_a_balancer_changes_nothing_on_that_side() {
    let Some(mut fx) = balanced("me-central-1").await else {
        return;
    };
    fx.config.aws.load_balancer = false;
    fx.apply().await.unwrap();
    let connection = fx.connect().await;
    let teardown = plan_teardown(&connection, &fx.config).await.unwrap();
    fx.proxy.forget_calls();
    apply_teardown(
        &fx.host,
        &connection,
        &fx.config,
        &teardown,
        &Recorder::default(),
        &Cancel::new(),
    )
    .await
    .unwrap();
    let balancer_side: Vec<_> = fx
        .proxy
        .calls()
        .into_iter()
        .filter(|c| {
            matches!(
                c.service.as_str(),
                "elasticloadbalancing" | "acm" | "route53" | "application-autoscaling"
            )
        })
        .collect();
    assert!(
        balancer_side.iter().all(|c| !c.is_mutating()),
        "reads only: {balancer_side:?}"
    );
    assert!(
        balancer_side
            .iter()
            .any(|c| c.action == "DescribeLoadBalancers"),
        "it did look for a load balancer: {balancer_side:?}"
    );
}
