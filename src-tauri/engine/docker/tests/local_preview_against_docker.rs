//! Projects, builds, local releases and previews against the real Docker engine of the
//! test environment. Each test works on its own copy of the sample under its own app name
//! and removes its images and containers when it ends, pass or fail.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use slipway_core::host::HostEnv;
use slipway_core::jobs::Cancel;
use slipway_core::progress::Recorder;
use slipway_core::project::{self, write_sample};
use slipway_core::test_support::require;
use slipway_core::{EngineError, ErrorCode};
use slipway_docker::build::{build, BuildEvent, BuildOutcome, BuildRequest, Builder, BUILDER_VAR};
use slipway_docker::preflight::{self, FindingKind};
use slipway_docker::preview::{self, Health, PreviewEvent};
use time::OffsetDateTime;

/// A sample project under a name no other test (or earlier run) uses, and the cleanup of
/// everything Docker holds for that name.
struct Fixture {
    host: HostEnv,
    dir: PathBuf,
    app: String,
    _temp: tempfile::TempDir,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl Fixture {
    fn new(docker_host: &str) -> Self {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("project");
        write_sample(&dir).unwrap();
        let app = format!(
            "t{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            OffsetDateTime::now_utc().unix_timestamp() % 100_000
        );
        let mut config = project::load(&dir).unwrap().unwrap();
        config.name = app.clone();
        project::save(&dir, &config).unwrap();
        let host = slipway_core::test_support::docker_host_env(temp.path(), docker_host);
        Self {
            host,
            dir,
            app,
            _temp: temp,
        }
    }

    async fn build(&self) -> Result<(BuildOutcome, Vec<BuildEvent>), EngineError> {
        let events = Recorder::default();
        let outcome = build(
            &self.host,
            &self.dir,
            &BuildRequest::default(),
            &events,
            &Cancel::new(),
            OffsetDateTime::now_utc(),
        )
        .await?;
        Ok((outcome, events.events()))
    }

    fn write(&self, name: &str, contents: &str) {
        std::fs::write(self.dir.join(name), contents).unwrap();
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let docker = std::process::Command::new("docker")
            .args([
                "ps",
                "-aq",
                "--filter",
                &format!("label=dev.slipway.app={}", self.app),
            ])
            .env(
                "DOCKER_HOST",
                self.host.var("DOCKER_HOST").unwrap_or_default(),
            )
            .output();
        if let Ok(out) = docker {
            for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = std::process::Command::new("docker")
                    .args(["rm", "-f", id])
                    .output();
            }
        }
        let images = std::process::Command::new("docker")
            .args([
                "images",
                "-q",
                "--filter",
                &format!("reference={}", self.app),
            ])
            .output();
        if let Ok(out) = images {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let mut ids: Vec<&str> = text.split_whitespace().collect();
            ids.dedup();
            for id in ids {
                let _ = std::process::Command::new("docker")
                    .args(["rmi", "-f", id])
                    .output();
            }
        }
    }
}

/// Watches the preview until `done` says so, or fails after `deadline`.
async fn watch_until(
    fixture: &Fixture,
    deadline: Duration,
    done: impl Fn(&[PreviewEvent]) -> bool,
) -> Vec<PreviewEvent> {
    let events = Recorder::default();
    let cancel = Cancel::new();
    let watcher = {
        let (host, dir, events, cancel) = (
            fixture.host.clone(),
            fixture.dir.clone(),
            events.clone(),
            cancel.clone(),
        );
        tokio::spawn(async move { preview::watch(&host, &dir, &events, &cancel).await })
    };
    let start = Instant::now();
    while !done(&events.events()) {
        assert!(
            start.elapsed() < deadline,
            "gave up waiting; events so far: {:#?}",
            events.events()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cancel.cancel();
    watcher
        .await
        .unwrap()
        .expect("the watch ends cleanly when cancelled");
    events.events()
}

fn healthy(events: &[PreviewEvent]) -> bool {
    events.iter().any(|e| {
        matches!(
            e,
            PreviewEvent::HealthChanged {
                health: Health::Healthy { .. }
            }
        )
    })
}

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("the preview URL answers");
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn the_sample_builds_runs_answers_and_stop_leaves_no_container() {
    let Some(docker_host) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let fixture = Fixture::new(&docker_host);
    let (outcome, events) = fixture.build().await.expect("the sample builds");
    assert!(!outcome.up_to_date);
    assert!(
        events.iter().any(|e| matches!(e, BuildEvent::StepStarted { step: 1, instruction, .. } if instruction.starts_with("FROM") && instruction.contains("busybox"))),
        "steps are reported: {events:#?}"
    );
    assert!(
        outcome
            .release
            .tags
            .contains(&format!("{}:latest", fixture.app)),
        "{:?}",
        outcome.release.tags
    );
    assert!(outcome
        .release
        .tags
        .contains(&format!("{}:{}", fixture.app, outcome.release.version)));

    let (again, events) = fixture.build().await.unwrap();
    assert!(again.up_to_date, "an unchanged project is not rebuilt");
    assert_eq!(again.release.image_id, outcome.release.image_id);
    assert!(!events
        .iter()
        .any(|e| matches!(e, BuildEvent::StepStarted { .. })));

    let running = preview::start(&fixture.host, &fixture.dir, None)
        .await
        .expect("the preview starts");
    assert!(
        running.url.starts_with("http://127.0.0.1:"),
        "published on loopback only: {}",
        running.url
    );
    assert_eq!(running.container_port, 8080);
    assert!(
        running.limits.starts_with("0.25 vCPU, 512 MiB"),
        "{}",
        running.limits
    );
    watch_until(&fixture, Duration::from_secs(30), healthy).await;
    // Listed among every project's running previews, with its folder, release and address.
    let listed = preview::running(&fixture.host).await.unwrap();
    let mine = listed
        .iter()
        .find(|p| p.app == fixture.app)
        .expect("listed as running");
    assert_eq!(
        (
            mine.project_dir.as_deref(),
            mine.version.as_str(),
            mine.url.as_deref()
        ),
        (
            Some(fixture.dir.to_str().unwrap()),
            outcome.release.version.as_str(),
            Some(running.url.as_str())
        )
    );

    // The health check asks for /; this request's own path shows it reached the logs.
    let (status, body) = get(&format!("{}index.html", running.url)).await;
    assert_eq!(status, 200);
    assert!(body.contains("Hello from Slipway"), "{body}");
    watch_until(&fixture, Duration::from_secs(15), |events| {
        // httpd writes its access lines to stderr: they are ordinary lines, not errors.
        events.iter().any(|e| matches!(e, PreviewEvent::LogLogged { line, error: false, .. } if line.contains("url:/index.html")))
    })
    .await;

    assert!(preview::stop(&fixture.host, &fixture.app).await.unwrap());
    assert_eq!(
        preview::containers(&fixture.host, &fixture.app)
            .await
            .unwrap(),
        Vec::<String>::new(),
        "Stop removes the container"
    );
    assert!(preview::status(&fixture.host, &fixture.app)
        .await
        .unwrap()
        .is_none());
    assert!(
        !preview::running(&fixture.host)
            .await
            .unwrap()
            .iter()
            .any(|p| p.app == fixture.app),
        "a stopped preview is no longer listed"
    );
    assert!(
        !preview::stop(&fixture.host, &fixture.app).await.unwrap(),
        "stopping twice is harmless"
    );
}

#[tokio::test]
async fn rollback_to_the_first_release_serves_its_content_again() {
    let Some(docker_host) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let fixture = Fixture::new(&docker_host);
    let (first, _) = fixture.build().await.unwrap();
    fixture.write("site/index.html", "<h1>second release</h1>");
    let (second, _) = fixture.build().await.unwrap();
    assert_ne!(
        first.release.version, second.release.version,
        "each build is its own release"
    );

    let now = preview::start(&fixture.host, &fixture.dir, None)
        .await
        .unwrap();
    assert_eq!(
        now.version, second.release.version,
        "the release with the folder's content runs by default"
    );
    watch_until(&fixture, Duration::from_secs(30), healthy).await;
    assert!(get(&now.url).await.1.contains("second release"));

    let (docker, ..) = slipway_docker::docker::connect(&fixture.host)
        .await
        .unwrap();
    let releases = slipway_docker::releases::list(&docker, &fixture.app)
        .await
        .unwrap();
    let target =
        slipway_docker::releases::rollback_target(&releases, &fixture.app, Some(&now.version))
            .unwrap();
    assert_eq!(target.version, first.release.version);
    let back = preview::start(&fixture.host, &fixture.dir, Some(&target.version))
        .await
        .unwrap();
    assert_eq!(back.version, first.release.version);
    watch_until(&fixture, Duration::from_secs(30), healthy).await;
    let (_, body) = get(&back.url).await;
    assert!(
        body.contains("Hello from Slipway") && !body.contains("second release"),
        "{body}"
    );
    assert_eq!(
        preview::containers(&fixture.host, &fixture.app)
            .await
            .unwrap()
            .len(),
        1,
        "one preview per app"
    );
    preview::stop(&fixture.host, &fixture.app).await.unwrap();
}

#[tokio::test]
async fn a_broken_dockerfile_names_the_failing_step_and_tags_nothing() {
    let Some(docker_host) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let fixture = Fixture::new(&docker_host);
    fixture.write(
        "Dockerfile",
        "FROM busybox:1.36\nCOPY site/ /www/\nRUN echo preparing && exit 3\nEXPOSE 8080\nCMD [\"httpd\", \"-f\"]\n",
    );
    let err = fixture.build().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::BuildFailed);
    let EngineError::BuildFailed { step, output, .. } = &err else {
        panic!("{err:?}")
    };
    // The engine counts its own LABEL steps in the total, so only the step and text are fixed.
    let step = step.as_deref().unwrap_or_default();
    assert!(
        step.starts_with("step 3/") && step.ends_with("(RUN echo preparing && exit 3)"),
        "{step}"
    );
    assert!(
        output.iter().any(|l| l.contains("preparing")),
        "the failing step's output comes along: {output:?}"
    );
    let (docker, ..) = slipway_docker::docker::connect(&fixture.host)
        .await
        .unwrap();
    let releases = slipway_docker::releases::list(&docker, &fixture.app)
        .await
        .unwrap();
    assert!(
        releases.is_empty(),
        "a failed build leaves no release: {releases:?}"
    );
    let tagged = std::process::Command::new("docker")
        .args(["images", "-q", &fixture.app])
        .output()
        .unwrap();
    assert!(tagged.stdout.is_empty(), "and no tag");
}

#[tokio::test]
async fn preflight_reports_a_port_mismatch_and_a_missing_dockerfile() {
    let Some(docker_host) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let fixture = Fixture::new(&docker_host);
    let mut config = project::load(&fixture.dir).unwrap().unwrap();
    config.port = 3000;
    let found = preflight::check(&fixture.host, &fixture.dir, &config)
        .await
        .unwrap();
    let kinds: Vec<FindingKind> = found.findings.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        vec![FindingKind::PortMismatch],
        "busybox:1.36 is local and amd64, so only the port is wrong"
    );

    std::fs::remove_file(fixture.dir.join("Dockerfile")).unwrap();
    let found = preflight::check(&fixture.host, &fixture.dir, &config)
        .await
        .unwrap();
    assert_eq!(found.findings[0].kind, FindingKind::DockerfileMissing);
    let err = fixture.build().await.unwrap_err();
    assert_eq!(
        err.code(),
        ErrorCode::PreflightFailed,
        "build refuses before calling Docker: {err}"
    );
}

#[tokio::test]
async fn a_dead_docker_host_gives_the_docker_unavailable_code() {
    let Some(_) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let temp = tempfile::tempdir().unwrap();
    let fixture = Fixture::new(&format!(
        "unix://{}",
        temp.path().join("dead.sock").display()
    ));
    let err = fixture.build().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DockerUnavailable, "{err}");
    assert!(err.to_string().contains("Docker is not running"), "{err}");
    let err = preview::start(&fixture.host, &fixture.dir, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::DockerUnavailable);
}

#[tokio::test]
async fn a_container_that_exits_is_reported_with_its_code_and_last_words() {
    let Some(docker_host) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let fixture = Fixture::new(&docker_host);
    fixture.write(
        "Dockerfile",
        "FROM busybox:1.36\nEXPOSE 8080\nCMD [\"sh\", \"-c\", \"sleep 1; echo Error: cannot open the database; exit 3\"]\n",
    );
    fixture.build().await.unwrap();
    preview::start(&fixture.host, &fixture.dir, None)
        .await
        .unwrap();
    let events = watch_until(&fixture, Duration::from_secs(20), |events| {
        events
            .iter()
            .any(|e| matches!(e, PreviewEvent::Exited { .. }))
    })
    .await;
    let exited = events.iter().find_map(|e| match e {
        PreviewEvent::Exited {
            exit_code, message, ..
        } => Some((*exit_code, message.clone())),
        _ => None,
    });
    let (code, message) = exited.unwrap();
    assert_eq!(code, 3);
    assert!(message.contains("exit code 3"), "{message}");
    assert!(
        events.iter().any(|e| matches!(e, PreviewEvent::LogLogged { line, error: true, .. } if line.contains("cannot open the database"))),
        "the last words before the exit are streamed, read as an error: {events:#?}"
    );
    preview::stop(&fixture.host, &fixture.app).await.unwrap();
}

#[tokio::test]
async fn a_cancelled_build_stops_promptly_and_tags_nothing() {
    let Some(docker_host) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let fixture = Fixture::new(&docker_host);
    fixture.write(
        "Dockerfile",
        "FROM busybox:1.36\nRUN sleep 60\nEXPOSE 8080\nCMD [\"httpd\", \"-f\"]\n",
    );
    let events = Recorder::default();
    let cancel = Cancel::new();
    let started = Instant::now();
    let job = {
        let (host, dir, events, cancel) = (
            fixture.host.clone(),
            fixture.dir.clone(),
            events.clone(),
            cancel.clone(),
        );
        tokio::spawn(async move {
            build(
                &host,
                &dir,
                &BuildRequest::default(),
                &events,
                &cancel,
                OffsetDateTime::now_utc(),
            )
            .await
        })
    };
    while !events
        .events()
        .iter()
        .any(|e| matches!(e, BuildEvent::StepStarted { step: 2, .. }))
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the build never reached RUN sleep"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cancel.cancel();
    let err = job.await.unwrap().unwrap_err();
    assert_eq!(err.code(), ErrorCode::Cancelled);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "cancel does not wait for the 60 s step"
    );
    let (docker, ..) = slipway_docker::docker::connect(&fixture.host)
        .await
        .unwrap();
    assert!(slipway_docker::releases::list(&docker, &fixture.app)
        .await
        .unwrap()
        .is_empty());
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

#[tokio::test]
async fn a_dockerfile_written_for_buildkit_builds_caches_and_previews() {
    let Some(docker_host) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let fixture = Fixture::new(&docker_host);
    fixture.write("Dockerfile", BUILDKIT_DOCKERFILE);
    let (built, events) = fixture.build().await.expect("BuildKit builds it");
    assert!(
        events.contains(&BuildEvent::BuilderChosen {
            builder: Builder::BuildKit,
            note: None
        }),
        "{events:#?}"
    );
    assert!(
        events.iter().any(|e| matches!(e, BuildEvent::StepStarted { stage: Some(stage), instruction, .. } if stage == "assets" && instruction.starts_with("RUN --mount=type=cache"))),
        "steps name their stage: {events:#?}"
    );
    assert!(
        !events.iter().any(|e| matches!(e, BuildEvent::StepStarted { stage: Some(stage), .. } if stage == "never-needed")),
        "a stage nothing uses is skipped"
    );

    // One file changes: the steps before it come from the cache.
    fixture.write("site/index.html", "<h1>changed</h1>");
    let (again, events) = fixture.build().await.expect("the rebuild");
    assert_ne!(again.release.version, built.release.version);
    // (BuildKit may resolve the base image again after its cache was emptied, so only the
    // stage's own step is pinned.)
    assert!(
        events.iter().any(|e| matches!(e, BuildEvent::StepFinished { cached: true, instruction, .. } if instruction.starts_with("RUN --mount=type=cache"))),
        "the assets stage comes from the cache: {events:#?}"
    );

    let running = preview::start(&fixture.host, &fixture.dir, None)
        .await
        .expect("the preview starts");
    assert_eq!(running.version, again.release.version);
    watch_until(&fixture, Duration::from_secs(30), healthy).await;
    let (status, body) = get(&format!("{}note.txt", running.url)).await;
    assert_eq!((status, body.trim()), (200, "built in a stage"));
    preview::stop(&fixture.host, &fixture.app).await.unwrap();
}

#[tokio::test]
async fn the_legacy_builder_is_said_on_screen_and_cannot_build_buildkit_syntax() {
    let Some(docker_host) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let mut fixture = Fixture::new(&docker_host);
    fixture.host = fixture.host.clone().with_var(BUILDER_VAR, "legacy");
    let (_, events) = fixture
        .build()
        .await
        .expect("the sample builds the old way");
    assert!(
        events.iter().any(|e| matches!(e, BuildEvent::BuilderChosen { builder: Builder::Legacy, note: Some(note) } if note.contains("legacy builder"))),
        "{events:#?}"
    );
    fixture.write("Dockerfile", BUILDKIT_DOCKERFILE);
    let err = fixture.build().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::BuildFailed, "{err}");
}

#[tokio::test]
async fn preview_runs_what_the_folder_holds_after_an_edit_is_undone() {
    let Some(docker_host) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let fixture = Fixture::new(&docker_host);
    fixture.write("site/index.html", "<h1>Version A</h1>");
    let (a, _) = fixture.build().await.unwrap();
    fixture.write("site/index.html", "<h1>Version B</h1>");
    let (b, _) = fixture.build().await.unwrap();
    fixture.write("site/index.html", "<h1>Version A</h1>");
    let (again, events) = fixture.build().await.unwrap();
    assert!(again.up_to_date);
    assert_eq!(again.release.version, a.release.version);
    assert!(events.contains(&BuildEvent::UpToDate {
        version: a.release.version.clone()
    }));

    let running = preview::start(&fixture.host, &fixture.dir, None)
        .await
        .unwrap();
    assert_eq!(
        running.version, a.release.version,
        "not {}, the newest build, whose content the folder no longer holds",
        b.release.version
    );
    watch_until(&fixture, Duration::from_secs(30), healthy).await;
    assert!(get(&running.url).await.1.contains("Version A"));

    fixture.write("site/index.html", "<h1>Version C</h1>");
    let err = preview::start(&fixture.host, &fixture.dir, None)
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::FolderNotBuilt { .. }), "{err:?}");
    preview::stop(&fixture.host, &fixture.app).await.unwrap();
}

#[tokio::test]
async fn a_wrong_or_missing_release_record_never_claims_up_to_date_wrongly() {
    let Some(docker_host) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let fixture = Fixture::new(&docker_host);
    fixture.write("site/index.html", "<h1>Version A</h1>");
    let (a, _) = fixture.build().await.unwrap();
    fixture.write("site/index.html", "<h1>Version B</h1>");
    let (b, _) = fixture.build().await.unwrap();
    let db = slipway_core::store::open(&fixture.host).unwrap();
    let recorded_for_a = || -> String {
        db.query_row(
            "SELECT image_id FROM release_images WHERE fingerprint = ?1",
            [&a.release.fingerprint],
            |row| row.get(0),
        )
        .unwrap()
    };
    assert_eq!(
        recorded_for_a(),
        a.release.image_id,
        "each build is recorded"
    );

    // The record names B's image for A's content: B's label says otherwise, so the image
    // list decides, and sets the record right.
    db.execute(
        "UPDATE release_images SET image_id = ?1, version = ?2 WHERE fingerprint = ?3",
        [
            &b.release.image_id,
            &b.release.version,
            &a.release.fingerprint,
        ],
    )
    .unwrap();
    fixture.write("site/index.html", "<h1>Version A</h1>");
    let (again, events) = fixture.build().await.unwrap();
    assert!(again.up_to_date, "the folder holds A's content again");
    assert_eq!(
        again.release.image_id, a.release.image_id,
        "A's own image, not B's, which the wrong record named"
    );
    assert!(events.contains(&BuildEvent::UpToDate {
        version: a.release.version.clone()
    }));
    assert_eq!(recorded_for_a(), a.release.image_id);

    // No record at all (a new data file, or releases built before it): still recognised.
    db.execute("DELETE FROM release_images", []).unwrap();
    let (again, _) = fixture.build().await.unwrap();
    assert!(
        again.up_to_date,
        "an unchanged folder is recognised without a record"
    );
    assert_eq!(again.release.version, a.release.version);

    // A's image removed: the record points at nothing, so A's content is built again, and
    // that build is what the next one finds.
    let removed = std::process::Command::new("docker")
        .args(["rmi", "-f", &a.release.image_id])
        .env("DOCKER_HOST", &docker_host)
        .output()
        .unwrap();
    assert!(removed.status.success(), "{removed:?}");
    let (rebuilt, events) = fixture.build().await.unwrap();
    assert!(
        !rebuilt.up_to_date,
        "no image has A's content any more, whatever the record said"
    );
    assert!(!events
        .iter()
        .any(|e| matches!(e, BuildEvent::UpToDate { .. })));
    assert_eq!(rebuilt.release.fingerprint, a.release.fingerprint);
    let (after, _) = fixture.build().await.unwrap();
    assert!(after.up_to_date);
    assert_eq!(after.release.image_id, rebuilt.release.image_id);
}

#[tokio::test]
async fn a_pipe_in_the_folder_is_skipped_and_named_and_the_build_does_not_hang() {
    let Some(docker_host) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let fixture = Fixture::new(&docker_host);
    let made = std::process::Command::new("mkfifo")
        .arg(fixture.dir.join("site/queue"))
        .status()
        .unwrap();
    assert!(made.success());
    let (built, events) = tokio::time::timeout(Duration::from_secs(60), fixture.build())
        .await
        .expect("the build never opens the pipe")
        .expect("the build succeeds without it");
    assert!(!built.up_to_date);
    assert!(
        events.iter().any(|e| matches!(e, BuildEvent::ContextPacked { skipped, .. } if skipped == &vec!["site/queue (a named pipe (FIFO))".to_owned()])),
        "{events:#?}"
    );
}

#[tokio::test]
async fn a_file_with_holes_in_the_context_builds() {
    let Some(docker_host) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let fixture = Fixture::new(&docker_host);
    // A sparse file (a disk image, a database): Docker's tar reader refuses GNU sparse
    // entries, so it must arrive as an ordinary file.
    std::fs::File::create(fixture.dir.join("site/disk.img"))
        .unwrap()
        .set_len(64 * 1024 * 1024)
        .unwrap();
    fixture
        .build()
        .await
        .expect("a context with a sparse file builds");
}
