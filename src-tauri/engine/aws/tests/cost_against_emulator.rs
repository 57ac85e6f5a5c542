//! Cost against the AWS emulator, the ECR-named registry and the Fargate stand-in: the
//! meter's figure for a running task from the start time the emulator reports, the idle
//! guard stopping it on a clock the test moves, the app's load balancer found by its tags
//! and metered with no task running, and prices from the Price List API (which the
//! emulator lacks: the fault proxy gives its answers and its failures).

mod deploying;
mod emulator;

use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_elasticloadbalancingv2::types::{LoadBalancerSchemeEnum, Tag};
use slipway_aws::cost::load_balancers;
use slipway_aws::cost::meter::meter_with;
use slipway_aws::cost::pricelist::{price_book, Refresh};
use slipway_aws::cost::{save_settings, CostSettings, PriceSource};
use slipway_aws::deploy::guard::CostEvent;
use slipway_aws::deploy::guard::{self, Clock};
use slipway_aws::deploy::{self, DeployRequest};
use slipway_aws::setup::names::tags_for;
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

/// An Application Load Balancer made behind the app's back, in the default VPC's first two
/// subnets, with `tags`; its ARN.
async fn make_balancer(
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    subnets: &str,
    name: &str,
    scheme: LoadBalancerSchemeEnum,
    tags: &[(String, String)],
) -> String {
    let made = elb
        .create_load_balancer()
        .name(name)
        .scheme(scheme)
        .set_subnets(Some(subnets.split(',').map(str::to_owned).collect()))
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .send()
        .await
        .unwrap();
    made.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_meter_counts_the_apps_load_balancer_and_says_it_bills_with_no_task_running() {
    let Some(fx) = Fixture::new("us-west-2").await else {
        return;
    };
    let conn = fx.connect().await;
    let direct = fx.direct().await;
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&direct);
    let subnets = slipway_testkit::emulator::default_subnets(&direct, 2).await;
    let app = fx.config.name.clone();
    let project = fx.config.id.clone();
    let ours: Vec<(String, String)> = tags_for(&app, project.as_deref()).into_iter().collect();

    let none = load_balancers::of_app(&conn, &app, project.as_deref())
        .await
        .unwrap();
    assert!(none.is_empty(), "nothing made yet: {none:?}");

    let name = format!("lb-{app}");
    let mut made = vec![
        make_balancer(
            &elb,
            &subnets,
            &name,
            LoadBalancerSchemeEnum::InternetFacing,
            &ours,
        )
        .await,
    ];
    // Beside it: another app's, another project's of the same app name, and one without
    // Slipway's tags. None of them is this app's to pay for.
    let others = [
        tags_for(&format!("{app}-other"), project.as_deref()),
        tags_for(&app, Some("another-project")),
        [("team".to_owned(), "web".to_owned())].into(),
    ];
    for (i, tags) in others.iter().enumerate() {
        let tags: Vec<(String, String)> = tags.clone().into_iter().collect();
        made.push(
            make_balancer(
                &elb,
                &subnets,
                &format!("lb{i}-{app}"),
                LoadBalancerSchemeEnum::InternetFacing,
                &tags,
            )
            .await,
        );
    }

    let found = load_balancers::of_app(&conn, &app, project.as_deref())
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "only the app's own: {found:?}");
    let lb = &found[0];
    assert_eq!(lb.name, name);
    assert_eq!(
        lb.public_addresses, 2,
        "internet-facing in two zones: two public IPv4 addresses"
    );
    assert!(lb.dns_name.is_some());
    let created = lb.created_at.expect("the emulator says when it was made");

    // No task runs: the load balancer bills all the same, and the meter says so.
    let db = db_path(&fx.host);
    let book = price_book(&db, &fx.region, Refresh::Never, OffsetDateTime::now_utc())
        .await
        .unwrap();
    let later = created + time::Duration::hours(2);
    let cost = meter_with(&[], &found, &book, later);
    let lb_hour = 0.0225 + 0.008 + 2.0 * 0.005;
    assert!((cost.per_hour - lb_hour).abs() < 1e-9, "{}", cost.per_hour);
    assert!((cost.load_balancers[0].so_far.unwrap() - 2.0 * lb_hour).abs() < 1e-9);
    assert_eq!(cost.so_far, 0.0, "no task has run");
    assert!(
        cost.notes[0].contains(&format!(
            "The load balancer {name} bills $0.0405 an hour (about $29.57 a month) even with no task running; tear the app down to stop it"
        )),
        "{:?}",
        cost.notes
    );

    // The app's status meter, given the load balancer, adds it to the tasks' hour (none).
    let status = deploy::status(&db, &conn, &fx.config, later).await.unwrap();
    assert!(status.tasks.is_empty());
    let metered = status.cost.with_load_balancers(&found, later);
    assert!((metered.per_hour - lb_hour).abs() < 1e-9);

    // Refused: the reason names the call, for the user to grant.
    fx.proxy
        .fail("DescribeLoadBalancers", Fault::AccessDenied, 1);
    let refused = load_balancers::of_app(&conn, &app, project.as_deref())
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("elasticloadbalancing:DescribeLoadBalancers"),
        "{refused}"
    );

    for arn in made {
        elb.delete_load_balancer()
            .load_balancer_arn(arn)
            .send()
            .await
            .unwrap();
    }
    assert!(load_balancers::of_app(&conn, &app, project.as_deref())
        .await
        .unwrap()
        .is_empty());
}

const ECS_ANSWER: &str =
    include_str!("../../../../tests/fixtures/pricelist/amazonecs-us-east-1.json");
const VPC_ANSWER: &str =
    include_str!("../../../../tests/fixtures/pricelist/amazonvpc-us-east-1.json");
const ELB_ANSWER: &str = include_str!("../../../../tests/fixtures/pricelist/awselb-us-east-1.json");

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

    // Answered (with a vCPU price and the load balancer's hour that moved, so the figures
    // can only come from the API).
    let moved = ECS_ANSWER.replace("0.0404800000", "0.0410000000");
    let moved_elb = ELB_ANSWER.replace("0.0225000000", "0.0230000000");
    fx.proxy.answer("GetProducts", 200, &moved);
    fx.proxy.answer("GetProducts", 200, VPC_ANSWER);
    fx.proxy.answer("GetProducts", 200, &moved_elb);
    let book = price_book(&db, "us-east-1", Refresh::Now(&conn), now)
        .await
        .unwrap();
    assert_eq!(book.source, PriceSource::PriceList);
    assert_eq!(book.prices.x86_vcpu_hour, 0.041);
    assert_eq!(book.prices.arm_gb_hour, Some(0.00356));
    assert_eq!(book.prices.public_ipv4_hour, 0.005);
    assert_eq!(
        book.prices.load_balancer_hour, 0.023,
        "the Application Load Balancer's row, not the Network one's at 0.0225"
    );
    assert!(book.prices.load_balancer_listed);
    assert_eq!(
        asked(),
        4,
        "Fargate, public IPv4 and the load balancer, after the refusal"
    );
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
