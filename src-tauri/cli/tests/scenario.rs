//! The shared scenario (`slipway_testkit::scenario`) through the CLI's verbs: the window's
//! side runs it through the IPC commands (src-tauri/tests.rs), with the same outcome.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{json, slipway};
use serde_json::Value;
use slipway_aws::test_support::leave_a_deploy_unfinished;
use slipway_core::host::{HostEnv, Os};
use slipway_core::project::write_sample;
use slipway_core::test_support::require;
use slipway_testkit::scenario::{self, FrontEnd};
use slipway_testkit::{FargateStandIn, FaultProxy};

const REGION: &str = "sa-east-1";

struct Cli {
    home: PathBuf,
    dir: PathBuf,
    via: String,
}

impl Cli {
    /// Runs `verb` on the project through the proxy, as JSON; panics unless it succeeds.
    async fn run(&self, verb: &str) -> String {
        self.run_with(&[verb]).await
    }

    /// Runs `args` (a verb and its flags) on the project through the proxy, as JSON.
    async fn run_with(&self, args: &[&str]) -> String {
        let (home, dir, via) = (self.home.clone(), self.dir.clone(), self.via.clone());
        let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let shown = all.join(" ");
        let (code, out, err) = tokio::task::spawn_blocking(move || {
            let d = dir.to_str().unwrap().to_owned();
            all.extend([
                "--project".into(),
                d,
                "--endpoint-url".into(),
                via,
                "--json".into(),
            ]);
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            slipway(&home, &refs, "")
        })
        .await
        .unwrap();
        assert_eq!(code, 0, "slipway {shown}: {err}\n{out}");
        out
    }

    /// The result line of a deploy's JSON lines.
    async fn deploy_result(&self, verb: &str) -> Value {
        let out = self.run(verb).await;
        json(out.lines().last().expect("a result line"))["result"].clone()
    }
}

impl FrontEnd for Cli {
    async fn deploy(&self) -> Value {
        self.deploy_result("deploy").await
    }
    async fn rollback(&self) -> Value {
        self.deploy_result("rollback").await
    }
    async fn releases(&self) -> Value {
        json(&self.run("releases").await)
    }
    async fn stop(&self) -> Value {
        json(&self.run("stop").await)
    }
    async fn status(&self) -> Value {
        json(&self.run("status").await)
    }
    fn edit_page(&self, html: &str) {
        std::fs::write(self.dir.join("site/index.html"), html).unwrap();
    }
}

/// The CLI process's host, for the deploy the scenario cuts off in this process.
fn host_of(home: &Path) -> HostEnv {
    HostEnv::new(
        Os::current(),
        Some(home.to_owned()),
        [
            ("HOME".to_owned(), home.display().to_string()),
            (
                "SLIPWAY_DATA_DIR".to_owned(),
                home.join("data").display().to_string(),
            ),
            (
                "DOCKER_HOST".to_owned(),
                std::env::var("SLIPWAY_TEST_DOCKER_HOST").unwrap_or_default(),
            ),
        ],
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_rollback_and_stop_with_an_unfinished_deploy_through_the_cli() {
    let (Some(endpoint), Some(_)) = (
        require("SLIPWAY_TEST_AWS_ENDPOINT"),
        require("SLIPWAY_TEST_ECR_CA"),
    ) else {
        return;
    };
    let temp = tempfile::tempdir().unwrap();
    let home = temp.path().to_owned();
    common::emu_profile(&home, REGION);
    let dir = home.join("site");
    write_sample(&dir).unwrap();
    let app = format!("scli{}", std::process::id());
    let toml = std::fs::read_to_string(dir.join("slipway.toml")).unwrap();
    std::fs::write(
        dir.join("slipway.toml"),
        toml.replace("name = \"hello-site\"", &format!("name = \"{app}\""))
            + "\n[aws]\nprofile = \"emu\"\n",
    )
    .unwrap();
    slipway_testkit::emulator::give_region_an_internet_route(&endpoint, REGION).await;
    let proxy = Arc::new(FaultProxy::start(&endpoint).await);
    let standin = FargateStandIn::start(&endpoint, REGION, proxy.clone()).await;
    let cli = Cli {
        home: home.clone(),
        dir: dir.clone(),
        via: proxy.url(),
    };
    cli.run_with(&["setup", "--apply"]).await;

    let host = host_of(&home);
    scenario::deploy_roll_back_and_stop_with_an_unfinished_deploy(
        &cli,
        &proxy,
        leave_a_deploy_unfinished(&host, &dir, &cli.via),
    )
    .await;

    cli.run_with(&["teardown", "--apply"]).await;
    standin.shut_down().await;
    slipway_testkit::remove_app_images(&app);
}
