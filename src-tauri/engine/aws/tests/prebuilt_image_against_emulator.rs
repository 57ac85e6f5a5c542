//! Projects that deploy a prebuilt image: a "vendor" publishes an image to the test
//! environment's registry (which asks for a password), and a project naming it pulls it
//! with the sign-in from a Docker config in the test's own home, previews it locally, and
//! deploys it to the AWS emulator and the Fargate stand-in. Upgrading is a tag change.

mod deploying;
mod emulator;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use base64::Engine as _;
use deploying::Deploying;
use slipway_aws::deploy::DeployRequest;
use slipway_core::host::HostEnv;
use slipway_core::jobs::Cancel;
use slipway_core::progress::Recorder;
use slipway_core::project::{self, write_sample};
use slipway_core::test_support::require;
use slipway_core::EngineError;
use slipway_docker::build::{build, BuildOutcome, BuildRequest};
use slipway_docker::{preflight, preview};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The test registry, its sign-in, and the images this test published there (untagged
/// locally when the test ends, pass or fail).
struct Vendor {
    registry: String,
    user: String,
    password: String,
    repository: String,
    published: std::cell::RefCell<Vec<String>>,
}

impl Vendor {
    fn new() -> Option<Self> {
        let registry = require("SLIPWAY_TEST_REGISTRY")?;
        let user = require("SLIPWAY_TEST_REGISTRY_USER")?;
        let password = require("SLIPWAY_TEST_REGISTRY_PASSWORD")?;
        let repository = format!(
            "{registry}/vendor/app{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        Some(Self {
            registry,
            user,
            password,
            repository,
            published: Default::default(),
        })
    }

    /// Writes `home/.docker/config.json` signing in to the test registry, as `docker login`
    /// would without a credential store.
    fn sign_in(&self, home: &Path) {
        let auth = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.user, self.password));
        std::fs::create_dir_all(home.join(".docker")).unwrap();
        std::fs::write(
            home.join(".docker/config.json"),
            format!(
                r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
                self.registry
            ),
        )
        .unwrap();
    }

    /// Builds the sample serving `page`, pushes it as `<repository>:<tag>` with the sign-in
    /// in `home`, and removes the local copy, so the project really has to pull it.
    fn publish(&self, home: &Path, tag: &str, page: &str) -> String {
        let source = tempfile::tempdir().unwrap();
        write_sample(source.path()).unwrap();
        std::fs::write(source.path().join("site/index.html"), page).unwrap();
        let reference = format!("{}:{tag}", self.repository);
        let docker = |args: &[&str]| {
            let out = Command::new("docker")
                .arg("--config")
                .arg(home.join(".docker"))
                .args(args)
                .output()
                .expect("the docker CLI runs");
            assert!(
                out.status.success(),
                "docker {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        docker(&[
            "build",
            "-q",
            "-t",
            &reference,
            source.path().to_str().unwrap(),
        ]);
        docker(&["push", &reference]);
        docker(&["rmi", &reference]);
        self.published.borrow_mut().push(reference.clone());
        reference
    }
}

impl Drop for Vendor {
    fn drop(&mut self) {
        for reference in self.published.borrow().iter() {
            let _ = Command::new("docker")
                .args(["rmi", "-f", reference])
                .output();
        }
    }
}

/// Makes the project in `dir` deploy `image` instead of its Dockerfile, which is deleted so
/// nothing could build from it.
fn use_image(dir: &Path, image: &str) -> project::ProjectConfig {
    let mut config = project::load(dir).unwrap().unwrap();
    config.image = Some(image.to_owned());
    project::save(dir, &config).unwrap();
    let _ = std::fs::remove_file(dir.join("Dockerfile"));
    let _ = std::fs::remove_dir_all(dir.join("site"));
    project::load(dir).unwrap().unwrap()
}

async fn build_release(host: &HostEnv, dir: &Path) -> Result<BuildOutcome, EngineError> {
    build(
        host,
        dir,
        &BuildRequest::default(),
        &Recorder::default(),
        &Cancel::new(),
        time::OffsetDateTime::now_utc(),
    )
    .await
}

async fn get(url: &str) -> (u16, String) {
    let answer = reqwest::get(url).await.expect("the URL answers");
    (answer.status().as_u16(), answer.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_prebuilt_image_is_deployed_to_the_emulator_and_answers_and_a_new_tag_upgrades_it() {
    let Some(vendor) = Vendor::new() else {
        return;
    };
    let Some(mut t) = Deploying::new("ap-east-1").await else {
        return;
    };
    let home = t.fx.temp.path().to_owned();
    // The vendor publishes with its own sign-in; the user's home has none yet.
    let vendor_home = tempfile::tempdir().unwrap();
    vendor.sign_in(vendor_home.path());
    let v12 = vendor.publish(vendor_home.path(), "1.2", "<h1>Vendor app 1.2</h1>");
    t.fx.config = use_image(&t.dir, &v12);

    let refused = build_release(&t.fx.host, &t.dir).await.unwrap_err();
    assert!(
        matches!(refused, EngineError::ImagePullFailed { .. }),
        "without a sign-in the registry refuses the pull: {refused:?}"
    );

    vendor.sign_in(&home);
    let release = build_release(&t.fx.host, &t.dir)
        .await
        .expect("the image is pulled with the sign-in from the Docker config")
        .release;
    assert_eq!(
        release.version, "1.2",
        "a release is named by the image's tag"
    );
    let (first, _) = t.deploy(&DeployRequest::default()).await;
    let first = first.expect("the prebuilt image deploys and answers");
    assert_eq!(first.http_status, 200);
    let (status, body) = get(&first.url).await;
    assert_eq!(status, 200);
    assert!(body.contains("Vendor app 1.2"), "{body}");

    // "Upgrade to version 1.3" is a tag change, then build and deploy as usual.
    let v13 = vendor.publish(vendor_home.path(), "1.3", "<h1>Vendor app 1.3</h1>");
    t.fx.config = use_image(&t.dir, &v13);
    let upgraded = build_release(&t.fx.host, &t.dir).await.unwrap().release;
    assert_eq!(upgraded.version, "1.3");
    let (second, _) = t.deploy(&DeployRequest::default()).await;
    let second = second.expect("the upgrade deploys");
    assert!(second.revision > first.revision);
    assert!(get(&second.url).await.1.contains("Vendor app 1.3"));
    assert_eq!(
        second.stopped_previous, first.task_ids,
        "the old version stops once the new one answers"
    );
    t.shut_down().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_prebuilt_image_previews_locally_like_a_built_one() {
    let Some(vendor) = Vendor::new() else {
        return;
    };
    let Some(docker_host) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let host = slipway_core::test_support::docker_host_env(home.path(), &docker_host);
    vendor.sign_in(home.path());
    let image = vendor.publish(home.path(), "2.0", "<h1>Prebuilt preview</h1>");
    let app = format!(
        "img{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let created = slipway_core::project::from_image::create_project(
        &host,
        &slipway_core::project::from_image::NewImageProject {
            image: image.clone(),
            name: app.clone(),
            dir: home.path().join("Slipway").join(&app).display().to_string(),
        },
    )
    .expect("the image project is created");
    let dir = PathBuf::from(&created.dir);
    let _cleanup = Cleanup {
        app: app.clone(),
        docker_host,
    };
    assert!(
        !dir.join("Dockerfile").exists(),
        "the folder keeps only the settings"
    );

    let checked = preflight::check(&host, &dir, &created.config)
        .await
        .unwrap();
    assert_eq!(checked.base_image.as_deref(), Some(image.as_str()));
    assert!(
        checked.blockers().next().is_none(),
        "no Dockerfile is no problem for an image project: {:?}",
        checked.findings
    );

    let first = build_release(&host, &dir)
        .await
        .expect("the image is pulled");
    assert_eq!(first.release.version, "2.0");
    let again = build_release(&host, &dir).await.unwrap();
    assert!(again.up_to_date, "the same image is not released twice");

    let running = preview::start(&host, &dir, None)
        .await
        .expect("the preview starts");
    let mut answer = None;
    for _ in 0..50 {
        if let Ok(response) = reqwest::get(&running.url).await {
            answer = Some((response.status().as_u16(), response.text().await.unwrap()));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (status, body) = answer.expect("the preview answers within 5 s");
    assert_eq!(status, 200);
    assert!(body.contains("Prebuilt preview"), "{body}");
    assert!(preview::stop(&host, &app).await.unwrap());
}

/// Removes the preview container and release images of `app`, pass or fail.
struct Cleanup {
    app: String,
    docker_host: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let docker = |args: &[&str]| {
            Command::new("docker")
                .args(args)
                .env("DOCKER_HOST", &self.docker_host)
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default()
        };
        let containers = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=dev.slipway.app={}", self.app),
        ]);
        for id in containers.split_whitespace() {
            docker(&["rm", "-f", id]);
        }
        let images = docker(&[
            "images",
            "-q",
            "--filter",
            &format!("reference={}", self.app),
        ]);
        for id in images.split_whitespace() {
            docker(&["rmi", "-f", id]);
        }
    }
}
