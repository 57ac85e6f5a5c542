//! AWS setup against the emulator (moto) of the test environment, through the project's
//! own fault-injecting proxy, which also counts the calls. Each test uses its own app
//! name, its own region (so VPC work never races) and its own home and data folder.

mod emulator;

use emulator::{state_of, Fixture};
use slipway_aws::setup::{plan_setup, Owner, ResourceKind, ResourceState, SetupEvent};
use slipway_core::project::KeyValue;
use slipway_core::EngineError;
use slipway_testkit::Fault;

#[tokio::test]
async fn setup_on_an_empty_account_creates_everything_and_a_second_apply_makes_no_mutating_call() {
    let Some(fx) = Fixture::new("eu-west-1").await else {
        return;
    };
    let connection = fx.connect().await;
    let plan = plan_setup(&connection, &fx.config).await.unwrap();
    for resource in &plan.resources[..5] {
        assert_eq!(
            resource.state,
            ResourceState::WillCreate,
            "{:?} on an empty account",
            resource.kind
        );
    }
    assert_eq!(
        *state_of(&plan, ResourceKind::Subnets),
        ResourceState::Ready
    );
    assert!(
        fx.proxy.mutating_calls().is_empty(),
        "planning only reads: {:?}",
        fx.proxy.mutating_calls()
    );

    let (after, events) = fx.apply().await.unwrap();
    assert!(
        after.ready(),
        "every resource is ready after apply: {:?}",
        after.resources
    );
    let started: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            SetupEvent::ResourceStarted { kind } => Some(*kind),
            _ => None,
        })
        .collect();
    assert_eq!(
        started,
        [
            ResourceKind::Repository,
            ResourceKind::Cluster,
            ResourceKind::LogGroup,
            ResourceKind::ExecutionRole,
            ResourceKind::SecurityGroup
        ],
        "progress is reported per resource, in dependency order"
    );
    for resource in &after.resources[..5] {
        assert_eq!(
            resource.owner,
            Owner::Slipway,
            "{:?} is tagged as Slipway's",
            resource.kind
        );
    }

    let again = plan_setup(&fx.connect().await, &fx.config).await.unwrap();
    assert!(
        again.nothing_to_do(),
        "a second plan finds nothing to do: {:?}",
        again.changes
    );
    fx.proxy.forget_calls();
    fx.apply().await.unwrap();
    assert!(
        !fx.proxy.calls().is_empty(),
        "the second apply did observe the account"
    );
    assert_eq!(
        fx.proxy.mutating_calls(),
        Vec::<String>::new(),
        "a second apply must not change anything"
    );
    let recorded = fx.recorded();
    assert_eq!(
        recorded.len(),
        5,
        "each created resource is recorded once: {recorded:?}"
    );
}

#[tokio::test]
async fn resources_made_beforehand_are_used_and_only_the_difference_is_applied() {
    let Some(fx) = Fixture::new("eu-west-2").await else {
        return;
    };
    let names = fx.names();
    let sdk = fx.direct().await;
    aws_sdk_ecr::Client::new(&sdk)
        .create_repository()
        .repository_name(&names.repository)
        .image_scanning_configuration(
            aws_sdk_ecr::types::ImageScanningConfiguration::builder()
                .scan_on_push(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let vpc = fx.default_vpc().await;
    let group = ec2
        .create_security_group()
        .group_name(&names.security_group)
        .description("made by hand")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .group_id
        .unwrap();

    let plan = plan_setup(&fx.connect().await, &fx.config).await.unwrap();
    assert_eq!(
        *state_of(&plan, ResourceKind::Repository),
        ResourceState::Ready
    );
    assert_eq!(
        plan.resources[0].owner,
        Owner::Someone,
        "a hand-made repository is not Slipway's"
    );
    assert_eq!(
        *state_of(&plan, ResourceKind::SecurityGroup),
        ResourceState::WillChange {
            changes: vec!["allow TCP 8080 from 0.0.0.0/0".into()]
        },
        "the group exists; only its port rule is missing"
    );

    fx.proxy.forget_calls();
    let (after, _) = fx.apply().await.unwrap();
    assert!(after.ready());
    let mutating = fx.proxy.mutating_calls();
    assert!(
        mutating.contains(&"AuthorizeSecurityGroupIngress".to_owned()),
        "{mutating:?}"
    );
    for untouched in [
        "CreateRepository",
        "PutImageScanningConfiguration",
        "CreateSecurityGroup",
        "CreateTags",
        "TagResource",
    ] {
        assert!(
            !mutating.iter().any(|m| m == untouched),
            "{untouched} must not be called: {mutating:?}"
        );
    }
    let rules = ec2
        .describe_security_groups()
        .group_ids(&group)
        .send()
        .await
        .unwrap()
        .security_groups()[0]
        .ip_permissions()
        .len();
    assert_eq!(rules, 1, "the hand-made group gained exactly the port rule");
}

#[tokio::test]
async fn throttling_server_errors_and_dropped_connections_are_retried_and_setup_succeeds() {
    let Some(fx) = Fixture::new("ap-south-1").await else {
        return;
    };
    fx.proxy.fail("CreateRepository", Fault::Throttle, 1);
    fx.proxy
        .fail("DescribeClusters", Fault::ServerError(500), 1);
    fx.proxy.fail("CreateRole", Fault::ServerError(503), 1);
    fx.proxy.fail("CreateSecurityGroup", Fault::Throttle, 1);
    fx.proxy.fail("PutRetentionPolicy", Fault::Drop, 1);
    let (after, _) = fx.apply().await.expect("retried faults do not fail setup");
    assert!(after.ready(), "{:?}", after.resources);
    let injected = fx
        .proxy
        .calls()
        .iter()
        .filter(|c| c.fault.is_some())
        .count();
    assert_eq!(injected, 5, "every fault was served once and then retried");
}

#[tokio::test]
async fn access_denied_stops_with_the_action_named_and_the_next_apply_continues() {
    let Some(fx) = Fixture::new("ca-central-1").await else {
        return;
    };
    fx.proxy.fail("CreateRole", Fault::AccessDenied, 1);
    let err = fx.apply().await.unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(&err, EngineError::AwsStepFailed { cause, .. } if matches!(**cause, EngineError::AccessDenied { .. })),
        "{err:?}"
    );
    assert!(
        message.contains("iam:CreateRole"),
        "the denied action is named: {message}"
    );
    assert!(
        message.contains("create the IAM role"),
        "the resource is named: {message}"
    );
    let denied = fx
        .proxy
        .calls()
        .iter()
        .filter(|c| c.action == "CreateRole")
        .count();
    assert_eq!(denied, 1, "AccessDenied is not retried");
    let recorded = fx.recorded();
    let kinds: Vec<_> = recorded.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        ["Repository", "Cluster", "LogGroup"],
        "what was made before is recorded"
    );

    fx.proxy.forget_calls();
    let (after, _) = fx.apply().await.unwrap();
    assert!(after.ready());
    let mutating = fx.proxy.mutating_calls();
    assert!(
        !mutating
            .iter()
            .any(|m| m == "CreateRepository" || m == "CreateCluster"),
        "{mutating:?}"
    );
    assert!(mutating.iter().any(|m| m == "CreateRole"), "{mutating:?}");
}

#[tokio::test]
async fn a_name_aws_would_refuse_stops_before_any_setup_call() {
    let Some(mut fx) = Fixture::new("sa-east-1").await else {
        return;
    };
    fx.config.name = "a".repeat(50);
    let connection = fx.connect().await;
    fx.proxy.forget_calls();
    let err = plan_setup(&connection, &fx.config).await.unwrap_err();
    assert!(
        matches!(err, EngineError::InvalidResourceNames { .. }),
        "{err:?}"
    );
    assert!(
        fx.proxy.calls().is_empty(),
        "no call was made: {:?}",
        fx.proxy.calls()
    );
}

#[tokio::test]
async fn secret_access_is_granted_for_the_apps_secrets_only() {
    let Some(mut fx) = Fixture::new("ap-northeast-1").await else {
        return;
    };
    fx.config.secrets = vec![KeyValue {
        name: "TOKEN".into(),
        value: "/app/token".into(),
    }];
    fx.apply().await.unwrap();
    let names = fx.names();
    let iam = aws_sdk_iam::Client::new(&fx.direct().await);
    let policy = iam
        .get_role_policy()
        .role_name(&names.execution_role)
        .policy_name("slipway-secrets")
        .send()
        .await
        .unwrap();
    let document = slipway_aws::setup::policy::decode_document(&policy.policy_document).unwrap();
    assert_eq!(
        document,
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": ["ssm:GetParameters"],
                "Resource": ["arn:aws:ssm:ap-northeast-1:123456789012:parameter/app/token"]
            }]
        }),
        "read access to exactly the app's one parameter"
    );
    fx.config.secrets.clear();
    let (after, _) = fx.apply().await.unwrap();
    assert!(after.ready());
    assert!(
        iam.get_role_policy()
            .role_name(&names.execution_role)
            .policy_name("slipway-secrets")
            .send()
            .await
            .is_err(),
        "secret access goes with the last secret"
    );
}

#[tokio::test]
async fn apply_makes_only_what_the_confirmed_plan_listed_when_the_account_changed_since() {
    let Some(fx) = Fixture::new("us-east-2").await else {
        return;
    };
    let names = fx.names();
    let confirmed = plan_setup(&fx.connect().await, &fx.config).await.unwrap();

    // Behind the app's back: someone makes the log group and a group of the same name.
    let sdk = fx.direct().await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    logs.create_log_group()
        .log_group_name(&names.log_group)
        .send()
        .await
        .unwrap();
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let group = ec2
        .create_security_group()
        .group_name(&names.security_group)
        .description("made by hand after the review")
        .vpc_id(fx.default_vpc().await)
        .send()
        .await
        .unwrap()
        .group_id
        .unwrap();

    fx.proxy.forget_calls();
    let (after, events) = fx.apply_confirmed(&confirmed).await.unwrap();
    let mutating = fx.proxy.mutating_calls();
    for made in ["CreateRepository", "CreateCluster", "CreateRole"] {
        assert!(mutating.iter().any(|m| m == made), "{made}: {mutating:?}");
    }
    for untouched in [
        "CreateLogGroup",
        "PutRetentionPolicy",
        "CreateSecurityGroup",
        "AuthorizeSecurityGroupIngress",
    ] {
        assert!(
            !mutating.iter().any(|m| m == untouched),
            "{untouched}: the log group is someone's now, and a rule on the new group was never reviewed: {mutating:?}"
        );
    }
    let skipped: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            SetupEvent::Skipped { kind, reason } => Some((*kind, reason.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].0, ResourceKind::SecurityGroup);
    assert!(
        skipped[0]
            .1
            .contains("changed since you reviewed it; review the plan again"),
        "{}",
        skipped[0].1
    );
    assert!(after
        .warnings
        .iter()
        .any(|w| w.contains("changed since you reviewed it")));
    assert!(
        matches!(
            state_of(&after, ResourceKind::SecurityGroup),
            ResourceState::WillChange { .. }
        ),
        "the group still awaits a review"
    );
    let rules = ec2
        .describe_security_groups()
        .group_ids(&group)
        .send()
        .await
        .unwrap()
        .security_groups()[0]
        .ip_permissions()
        .len();
    assert_eq!(rules, 0, "the emulator's group has no rule Slipway added");
    let found = logs
        .describe_log_groups()
        .log_group_name_prefix(&names.log_group)
        .send()
        .await
        .unwrap();
    assert_eq!(found.log_groups().len(), 1);
    assert_eq!(
        found.log_groups()[0].retention_in_days,
        None,
        "the hand-made log group keeps its own setting"
    );
}

#[tokio::test]
async fn the_execution_role_is_scoped_to_the_apps_repository_and_log_group_and_an_older_one_is_narrowed(
) {
    let Some(fx) = Fixture::new("eu-west-3").await else {
        return;
    };
    fx.apply().await.unwrap();
    let names = fx.names();
    let iam = aws_sdk_iam::Client::new(&fx.direct().await);
    let attached = iam
        .list_attached_role_policies()
        .role_name(&names.execution_role)
        .send()
        .await
        .unwrap();
    assert!(
        attached.attached_policies().is_empty(),
        "no managed policy: {:?}",
        attached.attached_policies()
    );
    let inline = iam
        .get_role_policy()
        .role_name(&names.execution_role)
        .policy_name("slipway-execution")
        .send()
        .await
        .unwrap();
    let document = slipway_aws::setup::policy::decode_document(&inline.policy_document).unwrap();
    let scope = slipway_aws::setup::policy::ArnScope::new(&fx.region, "123456789012");
    assert_eq!(
        document,
        slipway_aws::setup::policy::execution_policy(&scope, &names.repository, &names.log_group)
    );
    let role = iam
        .get_role()
        .role_name(&names.execution_role)
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    let trust =
        slipway_aws::setup::policy::decode_document(role.assume_role_policy_document().unwrap())
            .unwrap();
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"], "123456789012",
        "only ECS tasks acting for this account may assume it: {trust}"
    );
    assert!(
        role.tags().iter().any(
            |t| t.key == "slipway:project" && Some(t.value.as_str()) == fx.config.id.as_deref()
        ),
        "{:?}",
        role.tags()
    );

    // The role as an older Slipway left it: the managed policy, the logs-only policy, no
    // project tag.
    let managed = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
    iam.attach_role_policy()
        .role_name(&names.execution_role)
        .policy_arn(managed)
        .send()
        .await
        .unwrap();
    iam.delete_role_policy()
        .role_name(&names.execution_role)
        .policy_name("slipway-execution")
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name(&names.execution_role)
        .policy_name("slipway-logs")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:PutLogEvents"],"Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    iam.untag_role()
        .role_name(&names.execution_role)
        .tag_keys("slipway:project")
        .send()
        .await
        .unwrap();
    let plan = plan_setup(&fx.connect().await, &fx.config).await.unwrap();
    let ResourceState::WillChange { changes } = state_of(&plan, ResourceKind::ExecutionRole) else {
        panic!("{:?}", state_of(&plan, ResourceKind::ExecutionRole));
    };
    assert!(
        changes
            .iter()
            .any(|c| c.contains("with access to this app's repository and log group only")),
        "{changes:?}"
    );
    assert!(
        changes.iter().any(|c| c.contains("this project's id")),
        "the older role is adopted: {changes:?}"
    );
    let (after, _) = fx.apply_confirmed(&plan).await.unwrap();
    assert!(after.ready(), "{:?}", after.resources);
    let attached = iam
        .list_attached_role_policies()
        .role_name(&names.execution_role)
        .send()
        .await
        .unwrap();
    assert!(
        attached.attached_policies().is_empty(),
        "the managed policy is detached"
    );
    let inline = iam
        .list_role_policies()
        .role_name(&names.execution_role)
        .send()
        .await
        .unwrap();
    assert_eq!(inline.policy_names(), ["slipway-execution"]);
    let tags = iam
        .list_role_tags()
        .role_name(&names.execution_role)
        .send()
        .await
        .unwrap();
    assert!(tags.tags().iter().any(|t| t.key == "slipway:project"));
}
