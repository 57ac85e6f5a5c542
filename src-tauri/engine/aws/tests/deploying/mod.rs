//! The fixture of the deploy tests: the emulator fixture (own region, proxy, app name)
//! plus the sample project saved under that app name, AWS set up for it, and the Fargate
//! stand-in of the test kit running the emulator's tasks as local containers. Everything
//! Docker holds for the app (stand-in containers, release images, ECR tags) is removed
//! when the test ends, pass or fail.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use slipway_aws::deploy::{deploy, DeployEvent, DeployOutcome, DeployRequest};
use slipway_core::jobs::Cancel;
use slipway_core::progress::{ProgressSink, Recorder};
use slipway_core::project::{self, write_sample};
use slipway_core::test_support::require;
use slipway_core::EngineError;
use slipway_docker::build::{build, BuildRequest};
use slipway_docker::releases::LocalRelease;
use slipway_testkit::FargateStandIn;

use crate::emulator::Fixture;

pub struct Deploying {
    pub fx: Fixture,
    pub dir: PathBuf,
    pub standin: Option<FargateStandIn>,
}

/// Every event with the moment it arrived, so a test can time the display of a change.
#[derive(Clone, Default)]
pub struct Timed(pub Arc<Mutex<Vec<(Instant, DeployEvent)>>>);

impl ProgressSink<DeployEvent> for Timed {
    fn emit(&self, event: DeployEvent) {
        self.0.lock().unwrap().push((Instant::now(), event));
    }
}

impl Timed {
    pub fn events(&self) -> Vec<DeployEvent> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(_, e)| e.clone())
            .collect()
    }
}

impl Deploying {
    /// `None` (after saying why) when the test environment is not up.
    pub async fn new(region: &str) -> Option<Self> {
        Self::with(region, |_| {}).await
    }

    /// [`Deploying::new`] with the sample's settings changed by `edit` before setup.
    pub async fn with(
        region: &str,
        edit: impl FnOnce(&mut project::ProjectConfig),
    ) -> Option<Self> {
        require("SLIPWAY_TEST_ECR_CA")?;
        let mut fx = Fixture::new(region).await?;
        let dir = fx.temp.path().join("project");
        write_sample(&dir).unwrap();
        let mut config = project::load(&dir).unwrap().unwrap();
        config.name = fx.config.name.clone();
        config.aws.profile = Some("emu".into());
        config.aws.region = Some(region.to_owned());
        edit(&mut config);
        project::save(&dir, &config).unwrap();
        // Read back: the first save gave the project its id.
        fx.config = project::load(&dir).unwrap().unwrap();
        fx.apply().await.expect("setup applies");
        let standin = FargateStandIn::start(&fx.emulator, &fx.region, fx.proxy.clone()).await;
        Some(Self {
            fx,
            dir,
            standin: Some(standin),
        })
    }

    pub fn edit(&self, file: &str, text: &str) {
        std::fs::write(self.dir.join(file), text).unwrap();
    }

    pub async fn build(&self) -> LocalRelease {
        build(
            &self.fx.host,
            &self.dir,
            &BuildRequest::default(),
            &Recorder::default(),
            &Cancel::new(),
            time::OffsetDateTime::now_utc(),
        )
        .await
        .expect("the sample builds")
        .release
    }

    pub async fn deploy_with(
        &self,
        request: &DeployRequest,
        sink: &dyn ProgressSink<DeployEvent>,
        cancel: &Cancel,
    ) -> Result<DeployOutcome, EngineError> {
        let connection = self.fx.connect().await;
        deploy(
            &self.fx.host,
            &self.dir,
            &connection,
            &self.fx.config,
            request,
            sink,
            cancel,
        )
        .await
    }

    pub async fn deploy(
        &self,
        request: &DeployRequest,
    ) -> (Result<DeployOutcome, EngineError>, Vec<DeployEvent>) {
        let events = Timed::default();
        let result = self.deploy_with(request, &events, &Cancel::new()).await;
        (result, events.events())
    }

    /// The app's service as the emulator has it.
    pub async fn service(&self) -> aws_sdk_ecs::types::Service {
        aws_sdk_ecs::Client::new(&self.fx.direct().await)
            .describe_services()
            .cluster(&self.fx.names().cluster)
            .services(&self.fx.config.name)
            .send()
            .await
            .unwrap()
            .services()
            .first()
            .cloned()
            .expect("the app's service")
    }

    /// The app's tasks the emulator says are not stopped.
    pub async fn live_tasks(&self) -> Vec<String> {
        let ecs = aws_sdk_ecs::Client::new(&self.fx.direct().await);
        let cluster = &self.fx.names().cluster;
        let arns = ecs
            .list_tasks()
            .cluster(cluster)
            .send()
            .await
            .unwrap()
            .task_arns()
            .to_vec();
        if arns.is_empty() {
            return vec![];
        }
        ecs.describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(arns))
            .send()
            .await
            .unwrap()
            .tasks()
            .iter()
            .filter(|t| t.last_status() != Some("STOPPED"))
            .map(|t| t.task_arn().unwrap().rsplit('/').next().unwrap().to_owned())
            .collect()
    }

    pub async fn shut_down(mut self) {
        if let Some(standin) = self.standin.take() {
            standin.shut_down().await;
        }
    }
}

impl Drop for Deploying {
    fn drop(&mut self) {
        let app = &self.fx.config.name;
        let list = |args: &[&str]| -> Vec<String> {
            std::process::Command::new("docker")
                .args(args)
                .output()
                .map(|o| {
                    String::from_utf8_lossy(&o.stdout)
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let containers = list(&[
            "ps",
            "-aq",
            "--filter",
            "name=slipway-standin-",
            "--filter",
            "status=exited",
        ]);
        for id in containers {
            let _ = std::process::Command::new("docker")
                .args(["rm", "-f", &id])
                .output();
        }
        for image in list(&["images", "-q", "--filter", "label=dev.slipway.release"]) {
            let tags = list(&[
                "image",
                "inspect",
                "--format",
                "{{join .RepoTags \" \"}}",
                &image,
            ]);
            if tags
                .iter()
                .any(|t| t.contains(&format!("/{app}:")) || t.starts_with(&format!("{app}:")))
            {
                let _ = std::process::Command::new("docker")
                    .args(["rmi", "-f", &image])
                    .output();
            }
        }
    }
}
