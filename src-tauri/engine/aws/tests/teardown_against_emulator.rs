//! Teardown against the emulator: the app's task stopped, what Slipway tagged removed,
//! an untagged twin kept, every call seen by the fault proxy.

mod emulator;

use aws_sdk_ec2::types::Filter;
use emulator::Fixture;
use slipway_aws::setup::plan_setup;
use slipway_aws::teardown::{apply_teardown, plan_teardown, TeardownAction, TeardownStep};
use slipway_core::jobs::Cancel;
use slipway_core::progress::Recorder;

#[tokio::test]
async fn teardown_stops_the_apps_task_removes_what_slipway_tagged_and_keeps_an_untagged_twin() {
    let Some(fx) = Fixture::new("eu-central-1").await else {
        return;
    };
    let names = fx.names();
    let sdk = fx.direct().await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    logs.create_log_group()
        .log_group_name(&names.log_group)
        .send()
        .await
        .unwrap();
    fx.apply().await.unwrap();

    // A task of the app, as a deploy would start it (tagged, in the app's cluster).
    let ecs = aws_sdk_ecs::Client::new(&sdk);
    let tags = [
        ("slipway:managed-by", "slipway"),
        ("slipway:app", fx.config.name.as_str()),
    ]
    .map(|(k, v)| aws_sdk_ecs::types::Tag::builder().key(k).value(v).build());
    let family = ecs
        .register_task_definition()
        .family(&fx.config.name)
        .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
        .network_mode(aws_sdk_ecs::types::NetworkMode::Awsvpc)
        .cpu("256")
        .memory("512")
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
    let connection = fx.connect().await;
    let plan = plan_setup(&connection, &fx.config).await.unwrap();
    let task = ecs
        .run_task()
        .cluster(&names.cluster)
        .task_definition(&family)
        .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
        .network_configuration(
            aws_sdk_ecs::types::NetworkConfiguration::builder()
                .awsvpc_configuration(
                    aws_sdk_ecs::types::AwsVpcConfiguration::builder()
                        .subnets(plan.subnets[0].id.clone())
                        .security_groups(plan.resources[4].id.clone().unwrap())
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .set_tags(Some(tags.to_vec()))
        .send()
        .await
        .unwrap()
        .tasks()[0]
        .task_arn
        .clone()
        .unwrap();

    let teardown = plan_teardown(&connection, &fx.config).await.unwrap();
    let removes = |step| {
        teardown
            .items
            .iter()
            .find(|i| i.step == step)
            .map(|i| matches!(i.action, TeardownAction::Remove { .. }))
    };
    assert_eq!(removes(TeardownStep::Tasks), Some(true), "{teardown:?}");
    assert_eq!(removes(TeardownStep::TaskDefinitions), Some(true));
    assert_eq!(
        removes(TeardownStep::LogGroup),
        Some(false),
        "the hand-made log group is kept"
    );
    assert_eq!(removes(TeardownStep::Repository), Some(true));

    fx.proxy.forget_calls();
    let events = Recorder::default();
    let after = apply_teardown(
        &fx.host,
        &connection,
        &fx.config,
        &teardown,
        &events,
        &Cancel::new(),
    )
    .await
    .unwrap();
    let mutating = fx.proxy.mutating_calls();
    for expected in [
        "StopTask",
        "DeregisterTaskDefinition",
        "DeleteCluster",
        "DeleteSecurityGroup",
        "DeleteRole",
        "DeleteRepository",
    ] {
        assert!(
            mutating.iter().any(|m| m == expected),
            "{expected} was called: {mutating:?}"
        );
    }
    assert!(
        !mutating.iter().any(|m| m == "DeleteLogGroup"),
        "the untagged twin log group is never deleted: {mutating:?}"
    );
    assert!(
        after.nothing_to_do(),
        "nothing of Slipway's is left: {:?}",
        after.items
    );
    assert_eq!(
        after.items.len(),
        1,
        "only the kept twin is still listed: {:?}",
        after.items
    );

    let stopped = ecs
        .describe_tasks()
        .cluster(&names.cluster)
        .tasks(&task)
        .send()
        .await
        .unwrap();
    assert!(stopped
        .tasks()
        .iter()
        .all(|t| t.last_status.as_deref() == Some("STOPPED")));
    let role = aws_sdk_iam::Client::new(&sdk)
        .get_role()
        .role_name(&names.execution_role)
        .send()
        .await;
    assert!(role.is_err(), "the execution role is gone");
    let groups = aws_sdk_ec2::Client::new(&sdk)
        .describe_security_groups()
        .filters(
            Filter::builder()
                .name("tag:slipway:app")
                .values(&fx.config.name)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(
        groups.security_groups().is_empty(),
        "the tagged security group is gone"
    );
    let kept = logs
        .describe_log_groups()
        .log_group_name_prefix(&names.log_group)
        .send()
        .await
        .unwrap();
    assert_eq!(
        kept.log_groups().len(),
        1,
        "the untagged twin log group is untouched"
    );
    assert!(fx.recorded().is_empty());
}

#[tokio::test]
async fn teardown_removes_only_what_the_confirmed_plan_listed_when_the_account_changed_since() {
    let Some(fx) = Fixture::new("eu-north-1").await else {
        return;
    };
    fx.apply().await.unwrap();
    let connection = fx.connect().await;
    let names = fx.names();
    let confirmed = plan_teardown(&connection, &fx.config).await.unwrap();
    assert!(
        !confirmed
            .items
            .iter()
            .any(|i| i.step == TeardownStep::TaskDefinitions),
        "nothing was deployed when the plan was reviewed: {confirmed:?}"
    );

    // Behind the app's back: a deploy registers a revision, and someone deletes the log group.
    let sdk = fx.direct().await;
    let ecs = aws_sdk_ecs::Client::new(&sdk);
    let tags = [
        ("slipway:managed-by", "slipway"),
        ("slipway:app", fx.config.name.as_str()),
        ("slipway:project", fx.config.id.as_deref().unwrap()),
    ]
    .map(|(k, v)| aws_sdk_ecs::types::Tag::builder().key(k).value(v).build());
    let revision = ecs
        .register_task_definition()
        .family(&fx.config.name)
        .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
        .network_mode(aws_sdk_ecs::types::NetworkMode::Awsvpc)
        .cpu("256")
        .memory("512")
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
    aws_sdk_cloudwatchlogs::Client::new(&sdk)
        .delete_log_group()
        .log_group_name(&names.log_group)
        .send()
        .await
        .unwrap();

    fx.proxy.forget_calls();
    let events = Recorder::default();
    apply_teardown(
        &fx.host,
        &connection,
        &fx.config,
        &confirmed,
        &events,
        &Cancel::new(),
    )
    .await
    .unwrap();
    let mutating = fx.proxy.mutating_calls();
    assert!(
        !mutating
            .iter()
            .any(|m| m == "DeregisterTaskDefinition" || m == "DeleteLogGroup"),
        "the new revision was not in the confirmed plan, the log group is already gone: {mutating:?}"
    );
    for expected in ["DeleteCluster", "DeleteRole", "DeleteRepository"] {
        assert!(
            mutating.iter().any(|m| m == expected),
            "{expected}: {mutating:?}"
        );
    }
    let skipped: Vec<_> = events
        .events()
        .into_iter()
        .filter_map(|e| match e {
            slipway_aws::teardown::TeardownEvent::Skipped { step, reason } => Some((step, reason)),
            _ => None,
        })
        .collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].0, TeardownStep::TaskDefinitions);
    assert!(skipped[0].1.contains("review the plan again"));
    let still = ecs
        .describe_task_definition()
        .task_definition(&revision)
        .send()
        .await
        .unwrap()
        .task_definition
        .unwrap();
    assert_eq!(
        still.status.map(|s| s.as_str().to_owned()).as_deref(),
        Some("ACTIVE"),
        "the emulator still has the revision the user never saw listed"
    );
}

#[tokio::test]
async fn a_second_project_with_the_same_app_name_neither_changes_nor_removes_the_firsts_resources()
{
    let Some(fx) = Fixture::new("ap-southeast-1").await else {
        return;
    };
    fx.apply().await.unwrap();
    // Project B: its own folder and id, the same app name, the same account and region.
    let folder_b = tempfile::tempdir().unwrap();
    let b = slipway_core::project::ProjectConfig {
        id: Some(slipway_core::project::new_project_id(folder_b.path())),
        ..fx.config.clone()
    };
    assert_ne!(b.id, fx.config.id);
    let connection = fx.connect().await;

    let setup_b = plan_setup(&connection, &b).await.unwrap();
    for resource in &setup_b.resources[..5] {
        assert_eq!(
            resource.owner,
            slipway_aws::setup::Owner::OtherProject,
            "{:?} is project A's",
            resource.kind
        );
    }
    assert!(setup_b.nothing_to_do(), "{:?}", setup_b.changes);
    assert!(
        setup_b
            .warnings
            .iter()
            .any(|w| w.contains("Another Slipway project with the same app name")),
        "{:?}",
        setup_b.warnings
    );

    let teardown_b = plan_teardown(&connection, &b).await.unwrap();
    assert!(
        teardown_b.nothing_to_do(),
        "B's teardown lists none of A's resources for removal: {:?}",
        teardown_b.items
    );
    for item in &teardown_b.items {
        assert!(
            matches!(&item.action, TeardownAction::Keep { reason }
                if reason.contains("made by another Slipway project with the same app name")),
            "{item:?}"
        );
    }
    fx.proxy.forget_calls();
    apply_teardown(
        &fx.host,
        &connection,
        &b,
        &teardown_b,
        &Recorder::default(),
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        fx.proxy.mutating_calls(),
        Vec::<String>::new(),
        "B's teardown removes nothing of A's"
    );
    let a = plan_setup(&fx.connect().await, &fx.config).await.unwrap();
    assert!(
        a.ready() && a.nothing_to_do(),
        "A's resources are all still there, as A made them: {:?}",
        a.resources
    );
}
