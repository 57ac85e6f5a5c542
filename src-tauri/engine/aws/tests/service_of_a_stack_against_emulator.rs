//! Operating the ECS service a vendor's stack made (tests/fixtures/stacks/server.yaml, its
//! image in the registry that answers as ECR, run by the Fargate stand-in): its task with
//! a private IP, scaled 1 → 2 → 1, a forced redeploy, the stack's upgrade rolled back to the
//! previous revision, and a one-off command's output, each checked in the emulator behind
//! the app's back. moto drops the service's Fargate launch type and network and its task
//! definition's network mode and size, and registers no new revision on a stack update;
//! the test kit completes each as AWS would (the completed task definition is the
//! revision after the one moto made).

mod emulator;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use emulator::Fixture;
use slipway_aws::service::{
    describe, redeploy, rollback, run_once, scale, Changed, OneOffRequest, ServiceRef,
};
use slipway_aws::stacks::{self, apply, review, template, StackProgress};
use slipway_core::jobs::Cancel;
use slipway_core::progress::Recorder;
use slipway_core::test_support::require;
use slipway_testkit::emulator::{
    complete_stack_image_update, complete_stack_service, default_subnets, publish_busybox_running,
    remove_published,
};
use slipway_testkit::FargateStandIn;
use time::OffsetDateTime;

const REGION: &str = "ca-central-1";

#[tokio::test(flavor = "multi_thread")]
async fn the_service_a_stack_made_is_scaled_redeployed_rolled_back_and_runs_a_command() {
    if require("SLIPWAY_TEST_ECR_CA").is_none() || require("SLIPWAY_TEST_DOCKER_HOST").is_none() {
        return;
    }
    let Some(fx) = Fixture::new(REGION).await else {
        return;
    };
    let direct = fx.direct().await;
    let conn = fx.connect().await;
    let db = fx.temp.path().join("data/slipway.sqlite3");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let name = format!("{}-server", fx.config.name);
    let repository = format!("{}/tollgate-server", fx.config.name);
    let server_command = ["sh", "-c", "echo server-ready; exec sleep 600"];
    let v1 = publish_busybox_running(REGION, &repository, "v1.4.2", &server_command);
    let v2 = publish_busybox_running(REGION, &repository, "v1.5.0", &server_command);

    // The vendor's server stack, its image repository pointed at the published one.
    let server = template::read(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../tests/fixtures/stacks/server.yaml"),
    )
    .unwrap();
    let subnets = default_subnets(&direct, 2).await;
    let values: BTreeMap<String, String> = [
        ("VpcId", fx.default_vpc().await),
        ("SubnetIds", subnets.clone()),
        ("ImageRepository", v1.rsplit_once(':').unwrap().0.to_owned()),
        ("ImageTag", "v1.4.2".to_owned()),
        (
            "DatabasePassword",
            "correct-horse-battery-staple-42".to_owned(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let reviewed = review(&conn, &name, &server, &values).await.unwrap();
    let quiet = |_: StackProgress| {};
    apply(&db, &conn, &reviewed, &server, &quiet, &Cancel::new())
        .await
        .unwrap();
    let outputs: BTreeMap<String, String> = stacks::outputs(&conn, &name)
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.key, o.value))
        .collect();
    let r = ServiceRef {
        cluster: outputs["ClusterName"].clone(),
        service: outputs["ServiceName"].clone(),
    };
    let subnets: Vec<String> = subnets.split(',').map(str::to_owned).collect();
    let base = complete_stack_service(
        &direct,
        &fx.proxy,
        &r.cluster,
        &r.service,
        &subnets,
        &outputs["ServerSecurityGroupId"],
        "512",
        "1024",
    )
    .await;
    let upgrade = base + 1;
    let standin = FargateStandIn::start(&fx.emulator, REGION, fx.proxy.clone()).await;
    let ecs = aws_sdk_ecs::Client::new(&direct);
    let in_emulator = || async {
        let s = ecs
            .describe_services()
            .cluster(&r.cluster)
            .services(&r.service)
            .send()
            .await
            .unwrap()
            .services()[0]
            .clone();
        (
            s.desired_count(),
            s.task_definition()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .to_owned(),
        )
    };
    let running = |wanted_revision: i32| {
        let (conn, db, r) = (&conn, &db, &r);
        async move {
            let deadline = Instant::now() + Duration::from_secs(90);
            loop {
                let view = describe(db, conn, r, OffsetDateTime::now_utc())
                    .await
                    .unwrap();
                let serving = view
                    .tasks
                    .iter()
                    .any(|t| t.revision == Some(wanted_revision) && t.status == "RUNNING");
                if serving || Instant::now() > deadline {
                    return view;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    };

    // Its task runs, with the private IP another stack's agents register by.
    let view = running(base).await;
    assert_eq!(view.launch_type.as_deref(), Some("FARGATE"));
    let task = view
        .tasks
        .iter()
        .find(|t| t.revision == Some(base))
        .unwrap_or_else(|| panic!("the stack's service runs its task: {view:?}"));
    assert!(
        task.private_ip
            .as_deref()
            .is_some_and(|ip| ip.parse::<std::net::Ipv4Addr>().is_ok()),
        "{task:?}"
    );
    assert_eq!(view.running, 1);

    // Scaled 1 → 2 → 1.
    assert_eq!(
        scale(&conn, &r, 2).await.unwrap(),
        Changed {
            from: 1,
            to: 2,
            changed: true
        }
    );
    assert_eq!(in_emulator().await.0, 2);
    assert_eq!(scale(&conn, &r, 1).await.unwrap().to, 1);
    assert_eq!(in_emulator().await.0, 1);

    // A forced redeploy of the revision it runs.
    assert_eq!(redeploy(&conn, &r).await.unwrap(), base);

    // The vendor's upgrade (a revision with the new image, as the stack's update makes it
    // on AWS), then rolled back to the previous revision from here.
    assert_eq!(
        complete_stack_image_update(&direct, &r.cluster, &r.service, &v2).await,
        upgrade
    );
    let upgraded = running(upgrade).await;
    assert_eq!(upgraded.revision, Some(upgrade), "{upgraded:?}");
    let before: Vec<String> = upgraded.tasks.iter().map(|t| t.task_id.clone()).collect();
    assert_eq!(
        rollback(&conn, &r, None).await.unwrap(),
        Changed {
            from: upgrade,
            to: base,
            changed: true
        }
    );
    assert_eq!(in_emulator().await.1, base.to_string());
    // A new task of the earlier revision runs (not one left from before the upgrade).
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let back = describe(&db, &conn, &r, OffsetDateTime::now_utc())
            .await
            .unwrap();
        let fresh = back.tasks.iter().any(|t| {
            t.revision == Some(base) && t.status == "RUNNING" && !before.contains(&t.task_id)
        });
        if fresh {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the rollback's task runs: {back:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // The upgrade's task, stopped once the rollback's runs, is among the stopped ones,
    // explained.
    let deadline = Instant::now() + Duration::from_secs(30);
    let replaced = loop {
        let view = describe(&db, &conn, &r, OffsetDateTime::now_utc())
            .await
            .unwrap();
        if let Some(t) = view.stopped.iter().find(|t| t.revision == Some(upgrade)) {
            break t.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the replaced task is listed: {:?}",
            view.stopped
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(
        replaced
            .diagnosis
            .evidence
            .contains("Replaced by a new deployment"),
        "{replaced:?}"
    );

    // A one-off command on the service's task definition and network, as seed 002 reads its
    // bootstrap token.
    let events = Recorder::default();
    let request = OneOffRequest {
        command: vec!["sh".into(), "-c".into(), "echo bootstrap-token-77".into()],
        ..Default::default()
    };
    let outcome = run_once(&conn, &r, &request, &events, &Cancel::new())
        .await
        .expect("the one-off task runs");
    assert_eq!(outcome.exit_code, 0);
    assert!(
        outcome.output.contains(&"bootstrap-token-77".to_owned()),
        "{:?}",
        outcome.output
    );

    standin.shut_down().await;
    let cf = aws_sdk_cloudformation::Client::new(&direct);
    cf.delete_stack().stack_name(&name).send().await.unwrap();
    remove_published(&v1);
    remove_published(&v2);
}
