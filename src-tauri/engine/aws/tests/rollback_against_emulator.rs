//! Releases and rollback against the AWS emulator, the ECR-named registry and the Fargate
//! stand-in (which also shows each push through ECR's API, as ECR does): both rollback
//! styles serve the earlier release's content and are recorded; a rollback whose image
//! was deleted is refused before anything changes; deregistering old revisions keeps the
//! running one and the rollback target.

mod deploying;
mod emulator;

use std::time::Duration;

use aws_sdk_ecr::types::ImageIdentifier;
use deploying::Deploying;
use slipway_aws::deploy::history::{self as releases, Rollback};
use slipway_aws::deploy::{journal, DeployRequest};
use slipway_core::store::db_path;
use slipway_core::EngineError;
use time::OffsetDateTime;

async fn body(url: &str) -> String {
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

/// Builds and deploys the sample with `heading` as its page; returns the URL and revision.
async fn release(d: &Deploying, heading: &str) -> (String, i32) {
    d.edit("site/index.html", &format!("<h1>{heading}</h1>"));
    d.build().await;
    let (outcome, _) = d.deploy(&DeployRequest::default()).await;
    let outcome = outcome.expect("the release deploys");
    (outcome.url, outcome.revision)
}

fn rollback(revision: i32, retag: bool) -> DeployRequest {
    DeployRequest {
        rollback: Some(Rollback { revision, retag }),
        ..DeployRequest::default()
    }
}

/// Waits for the stand-in to show the pushes through ECR's API (it looks twice a second).
async fn images_in_ecr(d: &Deploying, count: usize) {
    let ecr = aws_sdk_ecr::Client::new(&d.fx.direct().await);
    for _ in 0..50 {
        let listed = ecr
            .describe_images()
            .repository_name(&d.fx.names().repository)
            .send()
            .await
            .unwrap();
        if listed.image_details().len() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("ECR's API never showed {count} images");
}

#[tokio::test(flavor = "multi_thread")]
async fn both_rollback_styles_serve_the_earlier_release_and_are_recorded() {
    let Some(d) = Deploying::new("us-east-2").await else {
        return;
    };
    let (_, first) = release(&d, "First release").await;
    let (url, second) = release(&d, "Second release").await;
    assert!(body(&url).await.contains("Second release"));
    images_in_ecr(&d, 2).await;

    let conn = d.fx.connect().await;
    let db = db_path(&d.fx.host);
    let now = OffsetDateTime::now_utc();
    let list = releases::list(&db, &conn, &d.fx.config, now).await.unwrap();
    assert_eq!(
        list.releases.iter().map(|r| r.revision).collect::<Vec<_>>(),
        vec![second, first],
        "newest first"
    );
    assert!(list.releases[0].running && !list.releases[0].rollback.possible);
    assert!(list.releases[1].rollback.possible, "{:?}", list.releases[1]);
    assert!(
        list.releases[1].tags.iter().any(|t| t != "latest"),
        "its version tag"
    );
    assert_eq!(list.rollback_target, Some(first));

    // Re-tag style: `latest` moves back to the first image, and the first release runs.
    let (back, _) = d.deploy(&rollback(first, true)).await;
    let back = back.expect("the rollback deploys");
    assert_eq!(back.revision, first);
    assert!(!back.pushed);
    assert!(body(&back.url).await.contains("First release"));
    assert_eq!(
        d.live_tasks().await,
        back.task_ids,
        "the second release's task stopped"
    );
    let ecr = aws_sdk_ecr::Client::new(&d.fx.direct().await);
    let latest = ecr
        .describe_images()
        .repository_name(&d.fx.names().repository)
        .image_ids(ImageIdentifier::builder().image_tag("latest").build())
        .send()
        .await
        .unwrap();
    assert_eq!(
        latest.image_details()[0].image_digest(),
        list.releases[1].digest.as_deref(),
        "latest is the first release's image again"
    );

    let after = releases::list(&db, &conn, &d.fx.config, now).await.unwrap();
    assert_eq!(
        after.rollback_target, None,
        "one click never goes back to the release a rollback just left"
    );

    // Revision style, forward again to the second release.
    let (forward, _) = d.deploy(&rollback(second, false)).await;
    let forward = forward.expect("the second rollback deploys");
    assert!(body(&forward.url).await.contains("Second release"));

    let history = journal::history(
        &db,
        &conn.identity.account,
        &conn.ctx.region,
        &d.fx.config.name,
    )
    .unwrap();
    assert_eq!(history[0].rolled_back_to, Some(second));
    assert!(!history[0].retagged);
    assert_eq!(history[1].rolled_back_to, Some(first));
    assert!(history[1].retagged);
    assert_eq!(history[1].outcome.map(|o| o.as_str()), Some("succeeded"));
    let list = releases::list(&db, &conn, &d.fx.config, now).await.unwrap();
    let first_release = list.releases.iter().find(|r| r.revision == first).unwrap();
    assert!(
        first_release
            .deploys
            .iter()
            .any(|r| r.rolled_back && r.retagged),
        "the release list records the rollback: {:?}",
        first_release.deploys
    );
    d.shut_down().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_whose_image_was_deleted_is_refused_and_old_revisions_are_deregistered_safely() {
    let Some(d) = Deploying::new("ca-central-1").await else {
        return;
    };
    let (_, first) = release(&d, "One").await;
    let (_, second) = release(&d, "Two").await;
    let (url, third) = release(&d, "Three").await;
    images_in_ecr(&d, 3).await;
    let conn = d.fx.connect().await;
    let db = db_path(&d.fx.host);
    let now = OffsetDateTime::now_utc();

    // The second release's image goes (as a lifecycle rule would delete it).
    let list = releases::list(&db, &conn, &d.fx.config, now).await.unwrap();
    let second_digest = list
        .releases
        .iter()
        .find(|r| r.revision == second)
        .and_then(|r| r.digest.clone())
        .unwrap();
    aws_sdk_ecr::Client::new(&d.fx.direct().await)
        .batch_delete_image()
        .repository_name(&d.fx.names().repository)
        .image_ids(
            ImageIdentifier::builder()
                .image_digest(&second_digest)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let list = releases::list(&db, &conn, &d.fx.config, now).await.unwrap();
    let gone = list.releases.iter().find(|r| r.revision == second).unwrap();
    assert!(!gone.rollback.possible);
    assert!(
        gone.rollback.problems[0].contains("no longer in the repository"),
        "{:?}",
        gone.rollback.problems
    );
    assert_eq!(
        list.rollback_target,
        Some(first),
        "the newest one that can work"
    );

    d.fx.proxy.forget_calls();
    let (refused, events) = d.deploy(&rollback(second, false)).await;
    match refused {
        Err(EngineError::RollbackRefused { revision, problems }) => {
            assert_eq!(revision, second);
            assert!(
                problems[0].contains("no longer in the repository"),
                "{problems:?}"
            );
        }
        other => panic!("expected RollbackRefused, got {other:?}"),
    }
    assert!(events.is_empty(), "refused before the deploy started");
    assert!(
        d.fx.proxy.mutating_calls().is_empty(),
        "nothing changed: {:?}",
        d.fx.proxy.mutating_calls()
    );
    assert!(
        body(&url).await.contains("Three"),
        "the third release still serves"
    );

    // Deregister keeping the newest one (the running third) and the rollback target.
    assert!(
        releases::deregister_old(&db, &conn, &d.fx.config, 0, &[first, second], now)
            .await
            .is_err(),
        "keeping none is refused"
    );
    // The user confirmed every revision; the plan still keeps what must stay.
    let plan = releases::deregister_old(&db, &conn, &d.fx.config, 1, &[first, second, third], now)
        .await
        .unwrap();
    assert_eq!(plan.deregister, vec![second]);
    let kept: Vec<i32> = plan.kept.iter().map(|(r, _)| *r).collect();
    assert_eq!(kept, vec![third, first]);
    let ecs = aws_sdk_ecs::Client::new(&d.fx.direct().await);
    for (revision, status) in [(first, "ACTIVE"), (second, "INACTIVE"), (third, "ACTIVE")] {
        let def = ecs
            .describe_task_definition()
            .task_definition(format!("{}:{revision}", d.fx.config.name))
            .send()
            .await
            .unwrap();
        assert_eq!(
            def.task_definition().unwrap().status().unwrap().as_str(),
            status,
            "revision {revision}"
        );
    }
    d.shut_down().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_rolls_back_by_moving_the_service_to_the_earlier_revision() {
    let Some(d) = Deploying::new("eu-central-1").await else {
        return;
    };
    let service = DeployRequest {
        mode: slipway_aws::deploy::DeployMode::Service,
        ..DeployRequest::default()
    };
    d.edit("site/index.html", "<h1>Service one</h1>");
    d.build().await;
    let (first, _) = d.deploy(&service).await;
    let first = first.expect("the service comes up");
    d.edit("site/index.html", "<h1>Service two</h1>");
    d.build().await;
    let (second, _) = d.deploy(&service).await;
    let second = second.expect("the service moves on");
    assert!(body(&second.url).await.contains("Service two"));
    images_in_ecr(&d, 2).await;

    let conn = d.fx.connect().await;
    let db = db_path(&d.fx.host);
    let list = releases::list(&db, &conn, &d.fx.config, OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(
        list.mode,
        slipway_aws::deploy::DeployMode::Service,
        "a running service means a rollback moves the service"
    );
    assert_eq!(list.rollback_target, Some(first.revision));

    let (back, _) = d
        .deploy(&DeployRequest {
            mode: list.mode,
            rollback: Some(Rollback {
                revision: first.revision,
                retag: false,
            }),
            ..DeployRequest::default()
        })
        .await;
    let back = back.expect("the service's rollout completes");
    assert_eq!(back.revision, first.revision);
    assert!(body(&back.url).await.contains("Service one"));
    let described = aws_sdk_ecs::Client::new(&d.fx.direct().await)
        .describe_services()
        .cluster(&d.fx.names().cluster)
        .services(&d.fx.config.name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.services()[0].task_definition(),
        Some(first.task_definition.as_str()),
        "the service runs the earlier revision"
    );
    d.shut_down().await;
}
