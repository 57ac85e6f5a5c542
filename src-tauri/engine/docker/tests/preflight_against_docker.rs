//! Pre-flight against the real Docker engine: what a build would hit twenty seconds in (a
//! COPY source the context lacks, a base image neither on the engine nor downloadable) is
//! named with its line before any build starts, in seconds. The test engine cannot reach
//! Docker Hub; the absent image is under `.invalid`, which no machine can resolve.

use std::time::{Duration, Instant};

use slipway_core::jobs::Cancel;
use slipway_core::progress::Recorder;
use slipway_core::project;
use slipway_core::test_support::require;
use slipway_core::ErrorCode;
use slipway_docker::build::{build, BuildEvent, BuildRequest};
use slipway_docker::preflight::{self, FindingKind, Severity};
use time::OffsetDateTime;

const ABSENT: &str = "registry.invalid/slipway/absent:1";

const DOCKERFILE: &str = r#"ARG DEPS=registry.invalid/slipway/absent:1
FROM busybox:1.36 AS tools
FROM ${DEPS} AS deps
COPY --from=tools /bin/busybox /bin/
FROM busybox:1.36
WORKDIR /www
COPY site/ ./
COPY requirements.txt ./
EXPOSE 8080
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
"#;

#[tokio::test]
async fn a_missing_copy_source_and_an_unpullable_base_image_are_named_before_any_build() {
    let Some(docker_host) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("ci-generated");
    std::fs::create_dir_all(dir.join("site")).unwrap();
    std::fs::write(dir.join("site/index.html"), "hello").unwrap();
    std::fs::write(dir.join("Dockerfile"), DOCKERFILE).unwrap();
    let app = format!(
        "pf{}-{}",
        std::process::id(),
        OffsetDateTime::now_utc().unix_timestamp() % 100_000
    );
    let mut config = project::propose(&dir);
    config.name = app.clone();
    project::save(&dir, &config).unwrap();
    let host = slipway_core::test_support::docker_host_env(temp.path(), &docker_host);

    let started = Instant::now();
    let found = tokio::time::timeout(
        Duration::from_secs(30),
        preflight::check(&host, &dir, &config),
    )
    .await
    .expect("pre-flight answers without waiting on a registry it cannot reach")
    .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "pre-flight took {:?}",
        started.elapsed()
    );
    let about = |kind: FindingKind| {
        found
            .findings
            .iter()
            .find(|f| f.kind == kind)
            .unwrap_or_else(|| panic!("no {kind:?} finding in {:#?}", found.findings))
    };
    let copy = about(FindingKind::CopySourceMissing);
    assert_eq!(copy.severity, Severity::Error);
    assert_eq!(copy.line, Some(8), "the COPY of requirements.txt");
    assert!(copy.title.contains("requirements.txt"), "{}", copy.title);
    let base = about(FindingKind::BaseImageUnavailable);
    assert_eq!(base.severity, Severity::Error);
    assert_eq!(base.line, Some(3), "the FROM that the ARG default names");
    assert!(base.title.contains(ABSENT), "{}", base.title);
    assert!(
        !found
            .findings
            .iter()
            .any(|f| f.title.contains("busybox:1.36")),
        "busybox:1.36 is on the test engine: {:#?}",
        found.findings
    );
    assert_eq!(
        found
            .stages
            .iter()
            .map(|s| s.instructions)
            .collect::<Vec<_>>(),
        vec![0, 1, 5]
    );

    let events = Recorder::default();
    let err = build(
        &host,
        &dir,
        &BuildRequest::default(),
        &events,
        &Cancel::new(),
        OffsetDateTime::now_utc(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::PreflightFailed, "{err}");
    let message = err.to_string();
    assert!(
        message.contains("requirements.txt") && message.contains(ABSENT),
        "the build names both before starting: {message}"
    );
    assert!(
        !events
            .events()
            .iter()
            .any(|e| matches!(e, BuildEvent::StepStarted { .. })),
        "no build step ran"
    );
}
