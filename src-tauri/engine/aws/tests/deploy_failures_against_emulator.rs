//! Deploys that fail on "Fargate" (the test kit's stand-in, which reports what the real
//! container did): each gives the failure catalog's cause and fix, with the task's last
//! log lines, and leaves nothing of the deploy running.

mod deploying;
mod emulator;

use deploying::{Deploying, Timed};
use slipway_aws::deploy::{DeployEvent, DeployRequest, DeployStep};
use slipway_core::diagnosis::Diagnosis;
use slipway_core::jobs::Cancel;
use slipway_core::{EngineError, ErrorCode};

/// Deploys and returns the diagnosis the failure event carried, and the last log lines.
async fn failing_deploy(t: &Deploying, sink: &Timed) -> (Diagnosis, Vec<String>) {
    // A failure is seen as it happens; the deadline only bounds a broken test.
    let request = DeployRequest {
        deadline_seconds: Some(120),
        ..Default::default()
    };
    let result = t.deploy_with(&request, sink, &Cancel::new()).await;
    let error = result.expect_err("the deploy fails");
    assert_eq!(error.code(), ErrorCode::DeployFailed, "{error}");
    let EngineError::DeployFailed { diagnosis, .. } = &error else {
        unreachable!()
    };
    let (shown, lines) = sink
        .events()
        .into_iter()
        .find_map(|e| match e {
            DeployEvent::Failed {
                diagnosis,
                last_log_lines,
                ..
            } => Some((diagnosis, last_log_lines)),
            _ => None,
        })
        .expect("a Failed event");
    assert_eq!(&shown, diagnosis.as_ref());
    assert!(
        t.live_tasks().await.is_empty(),
        "the failed task is not left running"
    );
    (shown, lines)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_container_over_its_memory_is_explained_as_out_of_memory() {
    let Some(t) = Deploying::new("ap-southeast-2").await else {
        return;
    };
    t.edit(
        "Dockerfile",
        "FROM busybox:1.36\nCMD [\"dd\", \"if=/dev/zero\", \"of=/dev/null\", \"bs=700M\", \"count=1\"]\n",
    );
    t.build().await;
    let (diagnosis, _) = failing_deploy(&t, &Timed::default()).await;
    assert!(diagnosis.known);
    assert!(
        diagnosis.cause.contains("more memory than the task has"),
        "{diagnosis:?}"
    );
    assert!(diagnosis.evidence.contains("137"), "{diagnosis:?}");
    t.shut_down().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_binary_for_another_cpu_is_explained_as_exec_format_error() {
    let Some(t) = Deploying::new("ap-northeast-2").await else {
        return;
    };
    t.edit(
        "Dockerfile",
        "FROM busybox:1.36\nRUN printf '\\177ELF\\002\\001\\001\\000' > /app && chmod +x /app\nCMD [\"/app\"]\n",
    );
    t.build().await;
    let (diagnosis, lines) = failing_deploy(&t, &Timed::default()).await;
    assert!(diagnosis.known);
    assert!(
        diagnosis.cause.contains("another CPU architecture"),
        "{diagnosis:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("exec format error")),
        "the task's own log line is shown: {lines:?}"
    );
    t.shut_down().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_image_missing_from_the_repository_is_explained_as_cannot_pull() {
    let Some(t) = Deploying::new("ap-northeast-3").await else {
        return;
    };
    t.build().await;
    let host = format!("123456789012.dkr.ecr.{}.amazonaws.com", t.fx.region);
    let app = t.fx.config.name.clone();
    let ca = std::env::var("SLIPWAY_TEST_ECR_CA").unwrap();
    let events = Timed::default();
    let recorder = events.clone();
    // Between the push and the task's pull, the image leaves the repository.
    let sink = move |e: DeployEvent| {
        if let DeployEvent::StepDone {
            step: DeployStep::Push,
            detail,
            ..
        } = &e
        {
            let digest = detail
                .split_whitespace()
                .find(|w| w.starts_with("sha256:"))
                .unwrap();
            let deleted = std::process::Command::new("curl")
                .args([
                    "-fsS",
                    "--cacert",
                    &ca,
                    "-u",
                    "AWS:123456789012-auth-token",
                    "-X",
                    "DELETE",
                ])
                .arg(format!("https://{host}/v2/{app}/manifests/{digest}"))
                .status()
                .unwrap();
            assert!(deleted.success());
        }
        slipway_core::progress::ProgressSink::emit(&recorder, e);
    };
    let result = t
        .deploy_with(&DeployRequest::default(), &sink, &Cancel::new())
        .await;
    assert_eq!(result.unwrap_err().code(), ErrorCode::DeployFailed);
    let diagnosis = events
        .events()
        .into_iter()
        .find_map(|e| match e {
            DeployEvent::Failed { diagnosis, .. } => Some(diagnosis),
            _ => None,
        })
        .unwrap();
    assert!(
        diagnosis.evidence.contains("CannotPullContainerError"),
        "{diagnosis:?}"
    );
    assert!(
        diagnosis.cause.contains("not in the repository"),
        "{diagnosis:?}"
    );
    assert!(t.live_tasks().await.is_empty());
    t.shut_down().await;
}
