//! AWS setup and teardown against the emulator (moto) of the test environment, through
//! the project's own fault-injecting proxy, which also counts the calls. Each test uses
//! its own app name, its own region (so VPC work never races) and its own temporary home
//! and data folder.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use aws_sdk_ec2::types::Filter;
use slipway_engine::aws::{
    add_access_key_profile, connect, AwsTarget, Connection, CredentialSource, NewAccessKeyProfile,
    Secret,
};
use slipway_engine::host::{HostEnv, Os};
use slipway_engine::jobs::Cancel;
use slipway_engine::progress::Recorder;
use slipway_engine::project::{propose, KeyValue, ProjectConfig};
use slipway_engine::setup::{
    apply_setup, plan_setup, recorded_resources, Owner, ResourceKind, ResourceState, SetupEvent,
};
use slipway_engine::teardown::{apply_teardown, plan_teardown, TeardownAction, TeardownStep};
use slipway_engine::test_support::{require, write_aws_files};
use slipway_engine::EngineError;
use slipway_testkit::{Fault, FaultProxy};

static COUNTER: AtomicU32 = AtomicU32::new(0);

struct Fixture {
    host: HostEnv,
    proxy: FaultProxy,
    emulator: String,
    region: String,
    config: ProjectConfig,
    _temp: tempfile::TempDir,
}

impl Fixture {
    /// `region` is the test's own: moto keeps one default VPC per region.
    async fn new(region: &str) -> Option<Self> {
        let emulator = require("SLIPWAY_TEST_AWS_ENDPOINT")?;
        let temp = tempfile::tempdir().unwrap();
        write_aws_files(
            temp.path(),
            "[profile emu]\nregion = us-east-1\n",
            "[emu]\naws_access_key_id = AKIAEMULATOR0000001\naws_secret_access_key = emulator-secret\n",
        );
        let host = HostEnv::new(
            Os::current(),
            Some(temp.path().to_owned()),
            [(
                "SLIPWAY_DATA_DIR".to_owned(),
                temp.path().join("data").display().to_string(),
            )],
        );
        let app = format!(
            "su{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                % 1_000_000
        );
        let mut config = propose(temp.path());
        config.name = app;
        config.port = 8080;
        let fixture = Self {
            host,
            proxy: FaultProxy::start(&emulator).await,
            emulator,
            region: region.to_owned(),
            config,
            _temp: temp,
        };
        fixture.give_default_vpc_an_internet_route().await;
        Some(fixture)
    }

    fn target(&self, endpoint: &str) -> AwsTarget {
        AwsTarget {
            source: CredentialSource::Profile("emu".into()),
            region: Some(self.region.clone()),
            endpoint_url: Some(endpoint.to_owned()),
        }
    }

    /// Connected through the proxy.
    async fn connect(&self) -> Connection {
        connect(
            &self.host,
            &self.target(&self.proxy.url()),
            SystemTime::now(),
        )
        .await
        .expect("connect to the emulator through the proxy")
    }

    /// Connected straight to the emulator, for arranging and checking behind the app's back.
    async fn direct(&self) -> aws_config::SdkConfig {
        connect(&self.host, &self.target(&self.emulator), SystemTime::now())
            .await
            .unwrap()
            .ctx
            .sdk
    }

    async fn give_default_vpc_an_internet_route(&self) {
        slipway_testkit::emulator::give_default_vpc_an_internet_route(&self.direct().await).await;
    }

    async fn apply(
        &self,
    ) -> Result<(slipway_engine::setup::SetupPlan, Vec<SetupEvent>), EngineError> {
        let events = Recorder::default();
        let connection = self.connect().await;
        let plan = apply_setup(
            &self.host,
            &connection,
            &self.config,
            &events,
            &Cancel::new(),
        )
        .await?;
        Ok((plan, events.events()))
    }

    fn names(&self) -> slipway_engine::setup::ResourceNames {
        slipway_engine::setup::ResourceNames::for_app(&self.config.name, &self.region).unwrap()
    }
}

fn state_of(plan: &slipway_engine::setup::SetupPlan, kind: ResourceKind) -> &ResourceState {
    &plan
        .resources
        .iter()
        .find(|r| r.kind == kind)
        .unwrap()
        .state
}

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
    let recorded = recorded_resources(
        &slipway_engine::store::db_path(&fx.host),
        "123456789012",
        &fx.region,
        &fx.config.name,
    )
    .unwrap();
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
    let vpc = ec2
        .describe_vpcs()
        .filters(Filter::builder().name("isDefault").values("true").build())
        .send()
        .await
        .unwrap()
        .vpcs()[0]
        .vpc_id
        .clone()
        .unwrap();
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

    let teardown = plan_teardown(&connection, &fx.config.name).await.unwrap();
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
        &fx.config.name,
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
    assert!(recorded_resources(
        &slipway_engine::store::db_path(&fx.host),
        "123456789012",
        &fx.region,
        &fx.config.name
    )
    .unwrap()
    .is_empty());
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
    let recorded = recorded_resources(
        &slipway_engine::store::db_path(&fx.host),
        "123456789012",
        &fx.region,
        &fx.config.name,
    )
    .unwrap();
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
    let document = slipway_engine::setup::policy::decode_document(&policy.policy_document).unwrap();
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

/// Collects every log line of every level while the test runs on this thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn an_access_key_profile_is_owner_only_works_and_its_secret_is_never_logged() {
    let Some(fx) = Fixture::new("eu-west-3").await else {
        return;
    };
    const SECRET: &str = "sEcReT/abcdefghijklmnopqrstuvwxyz0123456";
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let profile = add_access_key_profile(
        &fx.host,
        &NewAccessKeyProfile {
            name: "added".into(),
            access_key_id: "AKIAADDEDBYSLIPWAY01".into(),
            secret_access_key: Secret::new(SECRET),
            region: Some("eu-west-3".into()),
        },
    )
    .unwrap();
    assert_eq!(profile.name, "added");
    let target = AwsTarget {
        source: CredentialSource::Profile("added".into()),
        region: None,
        endpoint_url: Some(fx.proxy.url()),
    };
    let connection = connect(&fx.host, &target, SystemTime::now()).await.unwrap();
    assert_eq!(connection.identity.account, "123456789012");
    assert_eq!(
        connection.ctx.region, "eu-west-3",
        "the profile's region is used"
    );
    plan_setup(&connection, &fx.config).await.unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("added an access key profile"),
        "the capture works"
    );
    assert!(
        !logs.contains(SECRET),
        "the secret must not appear in any log"
    );
    let credentials = fx._temp.path().join(".aws/credentials");
    let mut stack = vec![fx._temp.path().to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path != credentials {
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !String::from_utf8_lossy(&bytes).contains(SECRET),
                    "the secret is stored only in the credentials file, not in {}",
                    path.display()
                );
            }
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let credentials = fx._temp.path().join(".aws/credentials");
        let mode = std::fs::metadata(credentials).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
