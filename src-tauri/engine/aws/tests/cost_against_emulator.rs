//! Cost against the AWS emulator, the ECR-named registry and the Fargate stand-in: the
//! meter's figure for a running task from the start time the emulator reports, the idle
//! guard stopping it on a clock the test moves, and prices from the Price List API (which
//! the emulator lacks: the fault proxy gives its answers and its failures).

mod deploying;
mod emulator;

use std::sync::Mutex;
use std::time::Duration;

use slipway_aws::cost::pricelist::{price_book, Refresh};
use slipway_aws::cost::{save_settings, CostSettings, PriceSource};
use slipway_aws::deploy::guard::CostEvent;
use slipway_aws::deploy::guard::{self, Clock};
use slipway_aws::deploy::{self, DeployRequest};
use slipway_core::jobs::Cancel;
use slipway_core::progress::Recorder;
use slipway_core::store::db_path;
use slipway_testkit::Fault;
use time::OffsetDateTime;

use deploying::Deploying;
use emulator::Fixture;

/// The smallest x86 task in us-east-1 with its public IPv4, from the bundled table:
/// 0.25 × 0.04048 + 0.5 × 0.004445 + 0.005.
const SMALLEST_PER_HOUR: f64 = 0.0173425;

struct TestClock(Mutex<OffsetDateTime>);

impl TestClock {
    fn set(&self, at: OffsetDateTime) {
        *self.0.lock().unwrap() = at;
    }
}

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

/// The task as DescribeTasks shows it, and when its billing started (its image pull).
async fn billed_from(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    task_id: &str,
) -> (aws_sdk_ecs::types::Task, OffsetDateTime) {
    let described = ecs
        .describe_tasks()
        .cluster(cluster)
        .tasks(task_id)
        .send()
        .await
        .unwrap();
    let task = described.tasks()[0].clone();
    let start = OffsetDateTime::from_unix_timestamp(
        task.pull_started_at()
            .or(task.created_at())
            .expect("DescribeTasks says when the image pull started")
            .secs(),
    )
    .unwrap();
    (task, start)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_meter_prices_a_running_task_from_its_start_and_auto_stop_stops_it() {
    let Some(d) = Deploying::new("us-east-1").await else {
        return;
    };
    d.build().await;
    let (result, _) = d.deploy(&DeployRequest::default()).await;
    let outcome = result.expect("the sample deploys");
    let task_id = outcome.task_ids[0].clone();

    // The start as AWS reports it (the stand-in plays Fargate's part: moto has no times).
    let conn = d.fx.connect().await;
    let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
    let (task, start) = billed_from(&ecs, &d.fx.names().cluster, &task_id).await;

    let db = db_path(&d.fx.host);
    let two_hours_in = start + time::Duration::hours(2);
    let status = deploy::status(&db, &conn, &d.fx.config, two_hours_in)
        .await
        .unwrap();
    let running = status
        .tasks
        .iter()
        .find(|t| t.task_id == task_id)
        .expect("the deployed task is listed");
    assert!(running.public_ip.is_some(), "it pays for a public IPv4");
    assert_eq!((running.cpu, running.memory), (Some(256), Some(512)));
    let per_hour = running.cost_per_hour.unwrap();
    assert!(
        (per_hour - SMALLEST_PER_HOUR).abs() < 1e-9,
        "0.25 vCPU / 0.5 GB x86 + IPv4 in us-east-1: {per_hour}"
    );
    assert!(
        (running.cost_so_far.unwrap() - 2.0 * SMALLEST_PER_HOUR).abs() < 1e-9,
        "two hours since the emulator's start time"
    );
    assert!((status.cost.so_far - 2.0 * SMALLEST_PER_HOUR).abs() < 1e-9);
    assert_eq!(status.cost.prices.source, PriceSource::Bundled);
    assert!(status.other_tasks.is_empty());

    // Someone's one-off task of another family in the app's cluster: listed apart, not in
    // the app's cost.
    let own = ecs
        .describe_task_definition()
        .task_definition(task.task_definition_arn().unwrap())
        .send()
        .await
        .unwrap();
    let own = own.task_definition().unwrap();
    let other_family = format!("{}-oneoff", d.fx.config.name);
    ecs.register_task_definition()
        .family(&other_family)
        .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
        .network_mode(aws_sdk_ecs::types::NetworkMode::Awsvpc)
        .cpu("256")
        .memory("512")
        .set_container_definitions(Some(own.container_definitions().to_vec()))
        .send()
        .await
        .unwrap();
    let network = task
        .attachments()
        .iter()
        .flat_map(|a| a.details())
        .find(|d| d.name() == Some("subnetId"))
        .and_then(|d| d.value().map(str::to_owned))
        .unwrap();
    let group = aws_sdk_ec2::Client::new(&d.fx.direct().await)
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-name")
                .values(d.fx.names().security_group)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .security_groups()[0]
        .group_id()
        .unwrap()
        .to_owned();
    ecs.run_task()
        .cluster(&d.fx.names().cluster)
        .task_definition(&other_family)
        .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
        .network_configuration(
            aws_sdk_ecs::types::NetworkConfiguration::builder()
                .awsvpc_configuration(
                    aws_sdk_ecs::types::AwsVpcConfiguration::builder()
                        .subnets(network)
                        .security_groups(group)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let status = deploy::status(&db, &conn, &d.fx.config, two_hours_in)
        .await
        .unwrap();
    assert_eq!(status.tasks.len(), 1, "the app's own task only");
    assert_eq!(status.other_tasks.len(), 1, "the one-off, apart");
    assert!((status.cost.per_hour - SMALLEST_PER_HOUR).abs() < 1e-9);
    let unknown = deploy::stop_app_task(&conn, &d.fx.config, "not-a-task").await;
    assert!(
        matches!(unknown, Err(slipway_core::EngineError::InvalidInput { .. })),
        "{unknown:?}"
    );
    let other_id = status.other_tasks[0].task_id.clone();
    let refused = deploy::stop_app_task(&conn, &d.fx.config, &other_id).await;
    assert!(
        refused.is_err(),
        "a task that is not the app's is not stopped from its card"
    );
    let stopped = deploy::stop_app_task(&conn, &d.fx.config, &task_id)
        .await
        .unwrap();
    assert_eq!(
        stopped.stopped_tasks,
        vec![task_id.clone()],
        "the app's own task stops"
    );
    let status = deploy::status(&db, &conn, &d.fx.config, two_hours_in)
        .await
        .unwrap();
    assert_eq!(status.other_tasks.len(), 1, "the one-off still runs");
    // Put the app's task back for the auto-stop below.
    let (again, _) = d.deploy(&DeployRequest::default()).await;
    let task_id = again.expect("redeploys").task_ids[0].clone();
    let (_, start) = billed_from(&ecs, &d.fx.names().cluster, &task_id).await;

    // Auto-stop after an hour, first looked at 55 minutes in: warned then, for a stop ten
    // minutes later.
    save_settings(
        &db,
        &d.fx.config.name,
        &CostSettings {
            auto_stop_hours: Some(1.0),
            ..CostSettings::default()
        },
    )
    .unwrap();
    let clock = TestClock(Mutex::new(start + time::Duration::minutes(55)));
    let mut warned = guard::Warned::new();
    let early = guard::check(&db, &conn, &d.fx.config, clock.now(), &mut warned)
        .await
        .unwrap();
    assert!(
        early.iter().any(|e| matches!(e,
            CostEvent::AutoStopWarned { task_id: t, minutes_left: 10, .. } if *t == task_id)),
        "warned ten minutes before the stop: {early:?}"
    );
    assert!(d.live_tasks().await.contains(&task_id), "not stopped yet");

    // A watch that never warned (the app was restarted) finds the task overdue at 61
    // minutes: it warns first, and stops it ten minutes later.
    clock.set(start + time::Duration::minutes(61));
    let events = Recorder::default();
    let cancel = Cancel::new();
    let watching = guard::watch(
        &db,
        &conn,
        &d.fx.config,
        &clock,
        Duration::from_millis(200),
        &events,
        &cancel,
    );
    let has = |events: &Recorder<CostEvent>, stopped: bool| {
        events.events().iter().any(|e| match e {
            CostEvent::AutoStopped { .. } => stopped,
            CostEvent::AutoStopWarned { .. } => !stopped,
            _ => false,
        })
    };
    let stopper = async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !has(&events, false) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(!has(&events, true), "not stopped without a warning first");
        clock.set(start + time::Duration::minutes(72));
        while !has(&events, true) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        cancel.cancel();
    };
    let (watched, ()) = tokio::join!(watching, stopper);
    watched.unwrap();
    assert!(
        events.events().iter().any(|e| matches!(e,
            CostEvent::AutoStopped { task_id: t, .. } if *t == task_id)),
        "{:?}",
        events.events()
    );
    assert!(
        !d.live_tasks().await.contains(&task_id),
        "the emulator stopped it"
    );
    // Through the proxy, which keeps the stand-in's additions to the emulator's answers.
    let stopped = ecs
        .describe_tasks()
        .cluster(&d.fx.names().cluster)
        .tasks(&task_id)
        .send()
        .await
        .unwrap();
    assert!(stopped.tasks()[0]
        .stopped_reason()
        .unwrap_or_default()
        .contains("auto-stop"));
    d.shut_down().await;
}

const ECS_ANSWER: &str =
    include_str!("../../../../tests/fixtures/pricelist/amazonecs-us-east-1.json");
const VPC_ANSWER: &str =
    include_str!("../../../../tests/fixtures/pricelist/amazonvpc-us-east-1.json");

#[tokio::test(flavor = "multi_thread")]
async fn prices_come_from_the_price_list_api_and_fall_back_when_it_fails() {
    // Its own region for the fixture (tests in one file run at once); the prices asked
    // for are us-east-1's, whatever region the connection is in.
    let Some(fx) = Fixture::new("eu-west-1").await else {
        return;
    };
    let conn = fx.connect().await;
    let db = db_path(&fx.host);
    let now = OffsetDateTime::now_utc();
    let asked = || {
        fx.proxy
            .calls()
            .iter()
            .filter(|c| c.action == "GetProducts")
            .count()
    };

    // Refused: the bundled table, and the reason in the notes.
    fx.proxy.fail("GetProducts", Fault::AccessDenied, 1);
    let book = price_book(&db, "us-east-1", Refresh::Now(&conn), now)
        .await
        .unwrap();
    assert_eq!(book.source, PriceSource::Bundled);
    assert_eq!(book.prices.x86_vcpu_hour, 0.04048);
    assert!(
        book.notes[0].contains("could not be refreshed")
            && book.notes[0].contains("pricing:GetProducts"),
        "{:?}",
        book.notes
    );

    // Answered (with a vCPU price that moved, so the figure can only come from the API).
    let moved = ECS_ANSWER.replace("0.0404800000", "0.0410000000");
    fx.proxy.answer("GetProducts", 200, &moved);
    fx.proxy.answer("GetProducts", 200, VPC_ANSWER);
    let book = price_book(&db, "us-east-1", Refresh::Now(&conn), now)
        .await
        .unwrap();
    assert_eq!(book.source, PriceSource::PriceList);
    assert_eq!(book.prices.x86_vcpu_hour, 0.041);
    assert_eq!(book.prices.arm_gb_hour, Some(0.00356));
    assert_eq!(book.prices.public_ipv4_hour, 0.005);
    assert_eq!(&book.as_of[..10], &now.date().to_string());

    // Cached: fresh prices are not asked for again.
    let before = asked();
    let cached = price_book(&db, "us-east-1", Refresh::IfStale(&conn), now)
        .await
        .unwrap();
    assert_eq!(asked(), before, "a fresh cache makes no call");
    assert_eq!(cached.prices.x86_vcpu_hour, 0.041);

    // A failed refresh later keeps the cached prices and says when they were fetched.
    fx.proxy.fail("GetProducts", Fault::ServerError(503), 10);
    let later = now + time::Duration::days(31);
    let book = price_book(&db, "us-east-1", Refresh::IfStale(&conn), later)
        .await
        .unwrap();
    assert_eq!(book.source, PriceSource::PriceList);
    assert_eq!(book.prices.x86_vcpu_hour, 0.041);
    assert!(
        book.notes[0].contains(&format!("the prices fetched {}", &book.as_of)),
        "{:?}",
        book.notes
    );
}
