//! Deploys of the sample against the AWS emulator, the ECR-named test registry and the
//! test kit's Fargate stand-in, which runs each RUNNING emulated task's image as a local
//! container behind a public IP on 127.0.x.y.

mod deploying;
mod emulator;

use std::time::Duration;

use deploying::{Deploying, Timed};
use slipway_aws::deploy::{journal, DeployEvent, DeployMode, DeployRequest};
use slipway_core::jobs::Cancel;
use slipway_core::EngineError;

async fn get(url: &str) -> (u16, String) {
    let answer = reqwest::get(url).await.expect("the URL answers");
    (answer.status().as_u16(), answer.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_deploy_answers_at_its_public_ip_and_the_next_one_replaces_it() {
    let Some(t) = Deploying::new("eu-north-1").await else {
        return;
    };
    t.build().await;
    let (first, events) = t.deploy(&DeployRequest::default()).await;
    let first = first.expect("the first deploy answers");
    assert!(
        first.url.starts_with("http://127."),
        "the public IP comes from the ENI: {}",
        first.url
    );
    assert_eq!(first.http_status, 200);
    let (status, body) = get(&first.url).await;
    assert_eq!(status, 200);
    assert!(body.contains("Hello from Slipway"), "{body}");
    assert!(events.iter().any(|e| matches!(
        e,
        DeployEvent::TaskDefinition {
            registered: true,
            ..
        }
    )));
    assert!(events
        .iter()
        .any(|e| matches!(e, DeployEvent::Address { .. })));
    assert!(first.stopped_previous.is_empty());

    t.edit("site/index.html", "<h1>Second release</h1>");
    t.build().await;
    let (second, events) = t.deploy(&DeployRequest::default()).await;
    let second = second.expect("the second deploy answers");
    assert_ne!(second.url, first.url);
    assert!(second.revision > first.revision);
    assert_eq!(
        second.stopped_previous, first.task_ids,
        "the first task is stopped once the second answers"
    );
    let order: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            DeployEvent::StepDone { step, .. } => Some(match step {
                slipway_aws::deploy::DeployStep::Verify => "verified",
                slipway_aws::deploy::DeployStep::Retire => "retired",
                _ => "",
            }),
            _ => None,
        })
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(
        order,
        vec!["verified", "retired"],
        "stop the old only after the new answers"
    );
    assert!(get(&second.url).await.1.contains("Second release"));
    assert_eq!(t.live_tasks().await, second.task_ids);

    // Nothing changed: the revision is reused, not registered again.
    let (third, events) = t.deploy(&DeployRequest::default()).await;
    let third = third.unwrap();
    assert_eq!(third.revision, second.revision);
    assert!(events.iter().any(|e| matches!(
        e,
        DeployEvent::TaskDefinition {
            registered: false,
            ..
        }
    )));
    let db = slipway_core::store::db_path(&t.fx.host);
    let history = journal::history(&db, "123456789012", &t.fx.region, &t.fx.config.name).unwrap();
    assert_eq!(history.len(), 3);
    assert!(history
        .iter()
        .all(|h| h.outcome.map(|o| o.as_str()) == Some("succeeded")));
    t.shut_down().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_deploy_is_created_then_moves_to_the_new_revision() {
    let Some(t) = Deploying::new("eu-south-1").await else {
        return;
    };
    t.build().await;
    let service = DeployRequest {
        mode: DeployMode::Service,
        ..Default::default()
    };
    let (first, _) = t.deploy(&service).await;
    let first = first.expect("the service comes up");
    assert_eq!(get(&first.url).await.0, 200);

    t.edit("site/index.html", "<h1>Service v2</h1>");
    t.build().await;
    let (second, _) = t.deploy(&service).await;
    let second = second.expect("the update completes");
    assert!(second.revision > first.revision);
    assert!(get(&second.url).await.1.contains("Service v2"));
    assert_eq!(
        t.service().await.task_definition(),
        Some(second.task_definition.as_str())
    );
    t.shut_down().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn each_scripted_state_is_shown_within_two_seconds_of_the_change() {
    let Some(t) = Deploying::new("ap-southeast-1").await else {
        return;
    };
    t.build().await;
    t.fx.proxy.script_task_states(&[
        ("PROVISIONING", Duration::from_secs(3)),
        ("PENDING", Duration::from_secs(4)),
    ]);
    let events = Timed::default();
    let outcome = t
        .deploy_with(&DeployRequest::default(), &events, &Cancel::new())
        .await
        .expect("the deploy answers");
    let shown = events.0.lock().unwrap().clone();
    for change in t.fx.proxy.scripted_changes() {
        let seen = shown
            .iter()
            .find_map(|(at, e)| match e {
                DeployEvent::TaskStatus {
                    task_id, status, ..
                } if change.task_arn.ends_with(task_id.as_str()) && *status == change.status => {
                    Some(*at)
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("{} was never shown", change.status));
        let delay = seen.saturating_duration_since(change.at);
        assert!(
            delay <= Duration::from_secs(2),
            "{} shown {delay:?} after the change",
            change.status
        );
    }
    assert_eq!(outcome.http_status, 200);
    t.shut_down().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_mid_deploy_leaves_no_task_running() {
    let Some(t) = Deploying::new("me-south-1").await else {
        return;
    };
    t.build().await;
    t.fx.proxy
        .script_task_states(&[("PROVISIONING", Duration::from_secs(30))]);
    let cancel = Cancel::new();
    let token = cancel.clone();
    let sink = move |e: DeployEvent| {
        if matches!(e, DeployEvent::TaskStatus { .. }) {
            token.cancel();
        }
    };
    let result = t
        .deploy_with(&DeployRequest::default(), &sink, &cancel)
        .await;
    let Err(EngineError::DeployCancelled { left }) = result else {
        panic!("expected a cancelled deploy, got {result:?}");
    };
    assert!(left.contains("Stopped task"), "{left}");
    assert!(t.live_tasks().await.is_empty(), "no task is left running");
    let db = slipway_core::store::db_path(&t.fx.host);
    let entry = &journal::history(&db, "123456789012", &t.fx.region, &t.fx.config.name).unwrap()[0];
    assert_eq!(entry.outcome.map(|o| o.as_str()), Some("cancelled"));
    assert!(entry.started_tasks.is_empty());
    t.shut_down().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_cut_short_is_listed_as_unfinished_and_can_be_settled() {
    let Some(t) = Deploying::new("af-south-1").await else {
        return;
    };
    t.build().await;
    t.fx.proxy
        .script_task_states(&[("PROVISIONING", Duration::from_secs(60))]);
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let started_tx = std::sync::Mutex::new(Some(started_tx));
    let sink = move |e: DeployEvent| {
        if matches!(
            e,
            DeployEvent::StepDone {
                step: slipway_aws::deploy::DeployStep::Start,
                ..
            }
        ) {
            if let Some(tx) = started_tx.lock().unwrap().take() {
                let _ = tx.send(());
            }
        }
    };
    let request = DeployRequest::default();
    let never = Cancel::new();
    // The app is "killed": the deploy's future is dropped mid-wait, with no cleanup.
    tokio::select! {
        _ = t.deploy_with(&request, &sink, &never) => panic!("the deploy should still be waiting"),
        _ = started_rx => {}
    }
    let db = slipway_core::store::db_path(&t.fx.host);
    let open = journal::unfinished(&db).unwrap();
    assert_eq!(open.len(), 1, "the next start shows the unfinished deploy");
    assert_eq!(open[0].started_tasks.len(), 1);
    assert_eq!(t.live_tasks().await.len(), 1, "and its task still runs");

    let connection = t.fx.connect().await;
    let settled = slipway_aws::deploy::settle_unfinished(&db, &connection, &open[0].id, true)
        .await
        .unwrap();
    assert_eq!(settled.outcome.map(|o| o.as_str()), Some("abandoned"));
    assert!(journal::unfinished(&db).unwrap().is_empty());
    assert!(t.live_tasks().await.is_empty());
    t.shut_down().await;
}

/// A Dockerfile as people write them for today's Docker: a cache mount, `COPY --chmod`,
/// and a stage the image does not need (which would fail if it were built).
const BUILDKIT_DOCKERFILE: &str = r#"FROM busybox:1.36 AS never-needed
RUN echo "BuildKit skips a stage nothing uses" && exit 1

FROM busybox:1.36 AS assets
RUN --mount=type=cache,target=/cache echo "built in a stage" > /cache/note && cp /cache/note /note

FROM busybox:1.36
COPY --chmod=755 site/ /www/
COPY --from=assets /note /www/note.txt
RUN test -x /www/index.html
EXPOSE 8080
CMD ["httpd", "-f", "-vv", "-p", "8080", "-h", "/www"]
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_dockerfile_written_for_buildkit_builds_and_deploys_and_answers() {
    let Some(t) = Deploying::new("ap-south-1").await else {
        return;
    };
    t.edit("Dockerfile", BUILDKIT_DOCKERFILE);
    let release = t.build().await;
    let (outcome, _) = t.deploy(&DeployRequest::default()).await;
    let outcome = outcome.expect("the BuildKit image deploys");
    assert_eq!(outcome.version, release.version);
    let (status, body) = get(&format!("{}/note.txt", outcome.url.trim_end_matches('/'))).await;
    assert_eq!(status, 200);
    assert_eq!(
        body.trim(),
        "built in a stage",
        "the stage's output is in the image"
    );
    t.shut_down().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_sends_what_the_folder_holds_after_it_went_back_to_an_earlier_content() {
    let Some(t) = Deploying::new("ap-northeast-2").await else {
        return;
    };
    t.edit("site/index.html", "<h1>Version A</h1>");
    let a = t.build().await;
    t.edit("site/index.html", "<h1>Version B</h1>");
    let b = t.build().await;
    assert_ne!(a.version, b.version);
    // The edit is undone: the folder holds A again, and B is the newest build.
    t.edit("site/index.html", "<h1>Version A</h1>");
    let (outcome, _) = t.deploy(&DeployRequest::default()).await;
    let outcome = outcome.expect("the deploy answers");
    assert_eq!(
        outcome.version, a.version,
        "the release with the folder's content, not the newest build"
    );
    assert!(get(&outcome.url).await.1.contains("Version A"));

    // A folder that changed since its last build is never deployed as something else.
    t.edit("site/index.html", "<h1>Version C, not built</h1>");
    let (refused, _) = t.deploy(&DeployRequest::default()).await;
    let err = refused.expect_err("nothing has the folder's content");
    assert!(matches!(err, EngineError::FolderNotBuilt { .. }), "{err:?}");
    t.shut_down().await;
}
