//! The shared fixture of the tests against the AWS emulator (moto) of the test
//! environment: a temporary home with an `emu` profile, a data folder, an app name no
//! other test uses, the project's fault-injecting proxy in front of the emulator (which
//! also counts calls), and the test's own region, whose default VPC gets the internet
//! route a real default VPC has.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use slipway_aws::aws::{connect, AwsTarget, Connection, CredentialSource};
use slipway_aws::setup::{
    apply_setup, plan_setup, recorded_resources, ResourceKind, ResourceState, SetupEvent, SetupPlan,
};
use slipway_core::host::{HostEnv, Os};
use slipway_core::jobs::Cancel;
use slipway_core::progress::Recorder;
use slipway_core::project::{new_project_id, propose, ProjectConfig};
use slipway_core::test_support::{require, write_aws_files};
use slipway_core::EngineError;
use slipway_testkit::FaultProxy;

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub struct Fixture {
    pub host: HostEnv,
    pub proxy: Arc<FaultProxy>,
    pub emulator: String,
    pub region: String,
    pub config: ProjectConfig,
    pub temp: tempfile::TempDir,
}

impl Fixture {
    /// `region` is the test's own: moto keeps one default VPC per region.
    pub async fn new(region: &str) -> Option<Self> {
        let emulator = require("SLIPWAY_TEST_AWS_ENDPOINT")?;
        let temp = tempfile::tempdir().unwrap();
        write_aws_files(
            temp.path(),
            "[profile emu]\nregion = us-east-1\n",
            "[emu]\naws_access_key_id = AKIAEMULATOR0000001\naws_secret_access_key = emulator-secret\n",
        );
        let host = HostEnv::new(
            Os::current(),
            Some(temp.path().to_owned()),
            [
                (
                    "SLIPWAY_DATA_DIR".to_owned(),
                    temp.path().join("data").display().to_string(),
                ),
                (
                    "DOCKER_HOST".to_owned(),
                    std::env::var("SLIPWAY_TEST_DOCKER_HOST")
                        .unwrap_or_else(|_| "unix:///var/run/docker.sock".into()),
                ),
            ],
        );
        let app = format!(
            "su{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                % 1_000_000
        );
        let mut config = propose(temp.path());
        config.id = Some(new_project_id(temp.path()));
        config.name = app;
        config.port = 8080;
        let fixture = Self {
            host,
            proxy: Arc::new(FaultProxy::start(&emulator).await),
            emulator,
            region: region.to_owned(),
            config,
            temp,
        };
        fixture.give_default_vpc_an_internet_route().await;
        Some(fixture)
    }

    pub fn target(&self, endpoint: &str) -> AwsTarget {
        AwsTarget {
            source: CredentialSource::Profile("emu".into()),
            region: Some(self.region.clone()),
            endpoint_url: Some(endpoint.to_owned()),
        }
    }

    /// Connected through the proxy.
    pub async fn connect(&self) -> Connection {
        connect(
            &self.host,
            &self.target(&self.proxy.url()),
            SystemTime::now(),
        )
        .await
        .expect("connect to the emulator through the proxy")
    }

    /// Connected straight to the emulator, for arranging and checking behind the app's back.
    pub async fn direct(&self) -> aws_config::SdkConfig {
        connect(&self.host, &self.target(&self.emulator), SystemTime::now())
            .await
            .unwrap()
            .ctx
            .sdk
    }

    pub async fn give_default_vpc_an_internet_route(&self) {
        slipway_testkit::emulator::give_default_vpc_an_internet_route(&self.direct().await).await;
    }

    /// Plans, then applies that plan, as a user who confirms at once.
    pub async fn apply(&self) -> Result<(SetupPlan, Vec<SetupEvent>), EngineError> {
        let plan = plan_setup(&self.connect().await, &self.config).await?;
        self.apply_confirmed(&plan).await
    }

    /// Applies `confirmed`, a plan the user reviewed earlier.
    pub async fn apply_confirmed(
        &self,
        confirmed: &SetupPlan,
    ) -> Result<(SetupPlan, Vec<SetupEvent>), EngineError> {
        let events = Recorder::default();
        let connection = self.connect().await;
        let plan = apply_setup(
            &self.host,
            &connection,
            &self.config,
            confirmed,
            &events,
            &Cancel::new(),
        )
        .await?;
        Ok((plan, events.events()))
    }

    /// What Slipway has recorded as created for this test's app.
    pub fn recorded(&self) -> Vec<(String, String)> {
        recorded_resources(
            &slipway_core::store::db_path(&self.host),
            "123456789012",
            &self.region,
            &self.config.name,
        )
        .unwrap()
    }

    /// The id of this test region's default VPC.
    pub async fn default_vpc(&self) -> String {
        slipway_testkit::emulator::default_vpc_id(&self.direct().await).await
    }

    pub fn names(&self) -> slipway_aws::setup::ResourceNames {
        slipway_aws::setup::ResourceNames::for_app(&self.config.name, &self.region).unwrap()
    }
}

pub fn state_of(plan: &slipway_aws::setup::SetupPlan, kind: ResourceKind) -> &ResourceState {
    &plan
        .resources
        .iter()
        .find(|r| r.kind == kind)
        .unwrap()
        .state
}
