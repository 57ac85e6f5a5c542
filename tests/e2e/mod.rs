//! A WebDriver session on the real app: tauri-driver (which drives WebKitWebDriver) runs
//! the built `slipway-desktop` with a home, AWS files and data directory of the test's own.

// Each e2e test binary uses its own subset of these helpers.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use slipway_aws::aws::{connect, AwsTarget, Connection, CredentialSource};
use slipway_core::host::HostEnv;
use slipway_core::project::{self, ProjectConfig};
use slipway_core::test_support::{require, skip_or_fail, write_aws_files};

/// What a test set up in the emulator itself, to undo at the end.
pub struct Arranged {
    pub keys: HostEnv,
    pub connection: Connection,
}

pub struct Session {
    client: Client,
    driver: Child,
    _home: tempfile::TempDir,
    pub docker_host: String,
    /// The AWS emulator, as the session's default profile reaches it.
    pub endpoint: String,
    name: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let home_bin = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin"));
    std::env::split_paths(&path)
        .chain(home_bin)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

impl Session {
    /// Starts the app, or returns `None` after a loud skip when the environment is absent
    /// (outside CI; under CI `require` fails the test instead).
    pub async fn start(name: &str) -> Option<Self> {
        Self::start_with(name, |_| {}).await
    }

    /// As `start`, with `before_launch` given the session's home first (to put there what a
    /// user already has before opening the app: a project folder, a recent project).
    pub async fn start_with(
        name: &str,
        before_launch: impl FnOnce(&std::path::Path),
    ) -> Option<Self> {
        Self::launch(
            name,
            std::path::Path::new(env!("CARGO_BIN_EXE_slipway-desktop")),
            before_launch,
            &[],
        )
        .await
    }

    /// As `start`, running `application` (an installed copy, say) instead of the built binary.
    pub async fn start_app(name: &str, application: &std::path::Path) -> Option<Self> {
        Self::launch(name, application, |_| {}, &[]).await
    }

    /// As `start`, with these variables in the app's environment too.
    pub async fn start_env(name: &str, vars: &[(&str, String)]) -> Option<Self> {
        let app = std::path::Path::new(env!("CARGO_BIN_EXE_slipway-desktop"));
        Self::launch(name, app, |_| {}, vars).await
    }

    async fn launch(
        name: &str,
        application: &std::path::Path,
        before_launch: impl FnOnce(&std::path::Path),
        vars: &[(&str, String)],
    ) -> Option<Self> {
        let endpoint = require("SLIPWAY_TEST_AWS_ENDPOINT")?;
        let docker_host = require("SLIPWAY_TEST_DOCKER_HOST")?;
        require("DISPLAY")?;
        let Some(driver_bin) = tool("tauri-driver") else {
            skip_or_fail("tauri-driver is not installed (cargo install tauri-driver --locked)");
            return None;
        };

        let home = tempfile::tempdir().unwrap();
        write_aws_files(
            home.path(),
            &format!("[default]\nregion = us-east-1\nendpoint_url = {endpoint}\n"),
            "[default]\naws_access_key_id = AKIAE2ETESTKEY000000\naws_secret_access_key = e2e-not-secret\n",
        );
        before_launch(home.path());

        // Two tries: a port taken between free_port() and tauri-driver's bind (tests start
        // side by side), or a driver slow to start on a loaded machine, gets a fresh start.
        let mut attempt = 0;
        let (client, driver) = loop {
            attempt += 1;
            let port = free_port();
            let native_port = free_port();
            let mut command = Command::new(&driver_bin);
            command
                .args([
                    "--port",
                    &port.to_string(),
                    "--native-port",
                    &native_port.to_string(),
                ])
                .env("HOME", home.path())
                .env("XDG_DATA_HOME", home.path().join("share"))
                .env("XDG_CONFIG_HOME", home.path().join("config"))
                .env("SLIPWAY_DATA_DIR", home.path().join("slipway-data"))
                .env("DOCKER_HOST", &docker_host)
                .stdout(Stdio::null())
                .stderr(Stdio::inherit());
            for var in [
                "AWS_PROFILE",
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
                "AWS_CONFIG_FILE",
                "AWS_SHARED_CREDENTIALS_FILE",
                "AWS_ENDPOINT_URL",
                "AWS_REGION",
            ] {
                command.env_remove(var);
            }
            command.envs(vars.iter().map(|(k, v)| (*k, v.as_str())));
            let mut driver = command.spawn().expect("tauri-driver starts");

            let capabilities = serde_json::json!({
                "browserName": "wry",
                "tauri:options": { "application": application }
            });
            let caps = capabilities.as_object().unwrap().clone();
            let deadline = Instant::now() + Duration::from_secs(30);
            let connected = loop {
                match ClientBuilder::rustls()
                    .expect("rustls")
                    .capabilities(caps.clone())
                    .connect(&format!("http://127.0.0.1:{port}"))
                    .await
                {
                    Ok(client) => break Ok(client),
                    // tauri-driver needs a moment before it accepts sessions.
                    Err(_) if Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(200)).await
                    }
                    Err(e) => break Err(e),
                }
            };
            match connected {
                Ok(client) => break (client, driver),
                Err(e) if attempt < 2 => {
                    eprintln!("no WebDriver session on the app ({e}); starting tauri-driver again");
                    // SIGTERM, as finish() does: tauri-driver stops what it started.
                    let _ = Command::new("kill")
                        .args(["-TERM", &driver.id().to_string()])
                        .status();
                    let _ = driver.wait();
                }
                Err(e) => panic!("no WebDriver session on the app: {e}"),
            }
        };
        Some(Self {
            client,
            driver,
            _home: home,
            docker_host,
            endpoint,
            name: name.to_owned(),
        })
    }

    /// The text of the first element matching `css`, waiting until it exists and is not empty.
    pub async fn text(&self, css: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = element.text().await {
                    if !text.trim().is_empty() {
                        return text.trim().to_owned();
                    }
                }
            }
            if Instant::now() > deadline {
                self.screenshot(&format!("{}-timeout", self.name)).await;
                panic!(
                    "{css} did not appear within {within:?}; screenshot in target/e2e-screenshots"
                );
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Waits until the first element matching `css` contains `needle`, and returns its text.
    pub async fn text_containing(&self, css: &str, needle: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        let mut last = String::new();
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = element.text().await {
                    if text.contains(needle) {
                        return text.trim().to_owned();
                    }
                    last = text;
                }
            }
            if Instant::now() > deadline {
                self.screenshot(&format!("{}-timeout", self.name)).await;
                panic!("{css} did not show {needle:?} within {within:?} (last: {last:?}); screenshot in target/e2e-screenshots");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Puts the bundled sample where "Try the sample project" opens it, under `app` (a
    /// name of this run's own, so it never meets a real hello-site) and with `edit` applied.
    pub fn prepare_sample(&self, app: &str, edit: impl FnOnce(&mut ProjectConfig)) -> PathBuf {
        let sample = self.data_dir().join("samples").join(project::SAMPLE_NAME);
        project::write_sample(&sample).unwrap();
        let mut config = project::load(&sample).unwrap().unwrap();
        config.name = app.to_owned();
        edit(&mut config);
        project::save(&sample, &config).unwrap();
        sample
    }

    /// The emulator as the test reaches it behind the app's back (keys of its own, straight
    /// to the emulator), with `region`'s default VPC given the internet route a real one has.
    pub async fn arrange_emulator(&self, region: &str) -> Arranged {
        let keys = HostEnv::from_process()
            .with_var("AWS_ACCESS_KEY_ID", "AKIAE2ETESTKEY000000")
            .with_var("AWS_SECRET_ACCESS_KEY", "e2e-not-secret");
        let target = AwsTarget {
            source: CredentialSource::Environment,
            region: Some(region.to_owned()),
            endpoint_url: Some(self.endpoint.clone()),
        };
        let connection = connect(&keys, &target, std::time::SystemTime::now())
            .await
            .unwrap();
        slipway_testkit::emulator::give_default_vpc_an_internet_route(&connection.ctx.sdk).await;
        Arranged { keys, connection }
    }

    /// Leaves the emulator and Docker as they were: what Slipway made for `app` torn down
    /// (as Remove from AWS does), the stand-in's containers and the app's images removed,
    /// and the window closed.
    pub async fn clean_up(
        self,
        arranged: Arranged,
        app: &str,
        standin: Option<slipway_testkit::FargateStandIn>,
    ) {
        self.tear_down(&arranged, app).await;
        if let Some(standin) = standin {
            standin.shut_down().await;
        }
        self.finish().await;
        slipway_testkit::remove_app_images(app);
    }

    /// Removes from the emulator what Slipway made for `app`, as Remove from AWS does.
    pub async fn tear_down(&self, arranged: &Arranged, app: &str) {
        let host = arranged
            .keys
            .clone()
            .with_var("SLIPWAY_DATA_DIR", self.data_dir().display().to_string());
        // No project id: everything tagged for the app goes, whichever window made it.
        let config = slipway_core::project::ProjectConfig {
            id: None,
            name: app.to_owned(),
            ..slipway_core::project::propose(&self.data_dir())
        };
        let plan = slipway_aws::teardown::plan_teardown(&arranged.connection, &config)
            .await
            .unwrap();
        slipway_aws::teardown::apply_teardown(
            &host,
            &arranged.connection,
            &config,
            &plan,
            &slipway_core::progress::Recorder::default(),
            &slipway_core::jobs::Cancel::new(),
        )
        .await
        .unwrap();
    }

    /// What a user does before deploying, in the window: connect as [`Session::connect_aws`]
    /// does, then plan and apply setup until every resource is ready.
    pub async fn set_up_aws(&self, endpoint: &str, app: &str) {
        self.connect_aws(endpoint, app).await;
        self.click("[data-testid=plan-setup]").await;
        self.click("[data-testid=apply-setup]").await;
        self.text_containing(
            "[data-testid=setup-resource][data-kind=subnets] [data-testid=resource-state]",
            "Ready",
            Duration::from_secs(60),
        )
        .await;
    }

    /// Points Slipway at `endpoint` (the emulator, or the proxy in front of it), opens the
    /// sample (prepared as `app`) and connects it to AWS, on its AWS tab.
    pub async fn connect_aws(&self, endpoint: &str, app: &str) {
        self.click("[data-testid=nav-environment]").await;
        self.fill("[data-testid=endpoint-input]", endpoint).await;
        self.click("[data-testid=save-endpoint]").await;
        self.text_containing(
            "[data-testid=endpoint-status]",
            "emulator",
            Duration::from_secs(10),
        )
        .await;
        self.click("[data-testid=nav-project]").await;
        self.click("[data-testid=open-sample]").await;
        self.text_containing("[data-testid=project-name]", app, Duration::from_secs(10))
            .await;
        self.tab("aws").await;
        // A click that lands while the card re-renders after the sample opened is lost.
        self.click_until(
            "[data-testid=aws-connect]",
            "[data-testid=banner-account]",
            Duration::from_secs(15),
        )
        .await;
        self.text_containing(
            "[data-testid=account-banner]",
            "123456789012",
            Duration::from_secs(30),
        )
        .await;
    }

    /// Builds in the window, deploys as a standalone task, and returns the checked URL once
    /// the deploy shows the answer containing `content`.
    pub async fn build_and_deploy(&self, content: &str) -> String {
        // A second build's result must be its own, not the first one's still on screen.
        let before = match self
            .client
            .find(Locator::Css("[data-testid=build-result]"))
            .await
        {
            Ok(element) => element.text().await.unwrap_or_default().trim().to_owned(),
            Err(_) => String::new(),
        };
        self.tab("local").await;
        self.click("[data-testid=build]").await;
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let now = self
                .text("[data-testid=build-result]", Duration::from_secs(120))
                .await;
            if now != before {
                break;
            }
            if Instant::now() > deadline {
                self.screenshot(&format!("{}-timeout", self.name)).await;
                panic!("the build never finished with a new result (still {before:?})");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.tab("overview").await;
        self.click_until(
            "[data-testid=deploy-button]",
            "[data-testid=deploy-step]",
            Duration::from_secs(10),
        )
        .await;
        self.text_containing(
            "[data-testid=deploy-answer]",
            content,
            Duration::from_secs(120),
        )
        .await;
        self.text_containing(
            "[data-testid=deploy-url]",
            "http://127.",
            Duration::from_secs(10),
        )
        .await
        .trim()
        .to_owned()
    }

    /// Shows the app page's tab `id` (overview, local, deploys, logs, cost, settings, aws).
    pub async fn tab(&self, id: &str) {
        self.click_until(
            &format!("[data-testid=tab-{id}]"),
            &format!("[data-testid=tab-panel][data-tab={id}]"),
            Duration::from_secs(10),
        )
        .await;
    }

    /// Replaces the session's AWS config file (its profiles), as a user editing
    /// `~/.aws/config` would; the app reads it again at the next Connect.
    pub fn write_aws_config(&self, config: &str) {
        std::fs::write(self._home.path().join(".aws").join("config"), config).unwrap();
    }

    /// Runs `script` in the window with `args` (elements as `arguments[i]`) and returns its answer.
    pub async fn client_execute(
        &self,
        script: &str,
        args: Vec<serde_json::Value>,
    ) -> serde_json::Value {
        self.client.execute(script, args).await.unwrap()
    }

    /// The first element matching `css` once it exists and is enabled (within `within`).
    pub async fn enabled_element(
        &self,
        css: &str,
        within: Duration,
    ) -> fantoccini::elements::Element {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if element.is_enabled().await.unwrap_or(false) {
                    return element;
                }
            }
            if Instant::now() > deadline {
                self.screenshot(&format!("{}-timeout", self.name)).await;
                panic!("{css} was not there and enabled within {within:?}; screenshot in target/e2e-screenshots");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// The session's home folder (the app's `HOME`: its `~/.aws` among others).
    pub fn home(&self) -> &std::path::Path {
        self._home.path()
    }

    /// Slipway's data folder for this session (what `SLIPWAY_DATA_DIR` points the app at).
    pub fn data_dir(&self) -> PathBuf {
        self._home.path().join("slipway-data")
    }

    /// Replaces the value of the input matching `css` with `text`, as typing would.
    pub async fn fill(&self, css: &str, text: &str) {
        let element = self
            .client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} not found: {e}"));
        if let Ok(arg) = serde_json::to_value(&element) {
            let _ = self
                .client
                .execute("arguments[0].scrollIntoView({block: 'center'})", vec![arg])
                .await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        element.clear().await.unwrap();
        element.send_keys(text).await.unwrap();
    }

    /// Clicks the first element matching `css` once it exists and is enabled (a button
    /// disabled while the window is still busy would swallow the click).
    pub async fn click(&self, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                // Centred first, so the sticky account banner does not cover it; a click
                // something else still intercepts is retried.
                if let Ok(arg) = serde_json::to_value(&element) {
                    let _ = self
                        .client
                        .execute("arguments[0].scrollIntoView({block: 'center'})", vec![arg])
                        .await;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                if element.is_enabled().await.unwrap_or(false) && element.click().await.is_ok() {
                    return;
                }
            }
            if Instant::now() > deadline {
                self.screenshot(&format!("{}-timeout", self.name)).await;
                panic!("{css} was not there, enabled and clickable within 20 s; screenshot in target/e2e-screenshots");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Clicks `css` until `shows` appears (at most 3 clicks, `within` each): a click that
    /// lands while the window re-renders the button (it was briefly disabled) is lost.
    pub async fn click_until(&self, css: &str, shows: &str, within: Duration) {
        for _ in 0..3 {
            self.click(css).await;
            let deadline = Instant::now() + within;
            while Instant::now() < deadline {
                if self.client.find(Locator::Css(shows)).await.is_ok() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        self.screenshot(&format!("{}-timeout", self.name)).await;
        panic!("clicking {css} never showed {shows}; screenshot in target/e2e-screenshots");
    }

    /// Whether the first element matching `css` exists and is enabled now (no waiting).
    pub async fn enabled(&self, css: &str) -> bool {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element.is_enabled().await.unwrap_or(false),
            Err(_) => false,
        }
    }

    /// Whether any element matching `css` contains `needle` now (no waiting).
    pub async fn find_text(&self, css: &str, needle: &str) -> bool {
        let Ok(elements) = self.client.find_all(Locator::Css(css)).await else {
            return false;
        };
        for element in elements {
            if element.text().await.is_ok_and(|t| t.contains(needle)) {
                return true;
            }
        }
        false
    }

    /// Scrolls the first element matching `css` to the middle of the window.
    pub async fn scroll_to(&self, css: &str) {
        if let Ok(element) = self.client.find(Locator::Css(css)).await {
            if let Ok(arg) = serde_json::to_value(&element) {
                let _ = self
                    .client
                    .execute("arguments[0].scrollIntoView({block: 'center'})", vec![arg])
                    .await;
            }
        }
    }

    /// Opens Templates & services and connects it to `region` (the session's default profile).
    pub async fn open_templates(&self, region: &str) {
        self.click("[data-testid=nav-stacks]").await;
        self.text_containing(
            "[data-testid=stack-account]",
            "Account",
            Duration::from_secs(30),
        )
        .await;
        self.fill("[data-testid=stack-region]", region).await;
        self.click("[data-testid=stack-place] button[type=submit]")
            .await;
        self.text_containing(
            "[data-testid=stack-account]",
            region,
            Duration::from_secs(30),
        )
        .await;
    }

    /// Opens `tests/fixtures/stacks/FILE` by its path into the form, for the stack `stack`.
    pub async fn open_template_as(&self, file: &str, stack: &str) {
        let template = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/stacks")
            .join(file);
        self.fill("[data-testid=template-path]", template.to_str().unwrap())
            .await;
        self.click("[data-testid=template-path-open]").await;
        self.fill("[data-testid=stack-name]", stack).await;
    }

    /// The value of the input matching `css` once `wanted` accepts it (within `within`);
    /// the last value read otherwise.
    pub async fn input_value(
        &self,
        css: &str,
        wanted: impl Fn(&str) -> bool,
        within: Duration,
    ) -> String {
        let deadline = Instant::now() + within;
        loop {
            let value = self
                .client_execute(
                    &format!("return document.querySelector('{css}')?.value ?? ''"),
                    vec![],
                )
                .await
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if wanted(&value) || Instant::now() > deadline {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Fails when `secret` is in any file under the session's home (Slipway's logs and data,
    /// the AWS files).
    pub fn assert_nowhere(&self, secret: &str) {
        let mut dirs = vec![self.home().to_owned()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if let Ok(bytes) = std::fs::read(&path) {
                    assert!(
                        !String::from_utf8_lossy(&bytes).contains(secret),
                        "a secret is in {}",
                        path.display()
                    );
                }
            }
        }
    }

    /// Saves the window as `target/e2e-screenshots/NAME.png` (the README's picture comes from here).
    pub async fn screenshot(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/e2e-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        // WebKitWebDriver's snapshot trails the DOM by a few frames under Xvfb: give the
        // window time to paint what the assertions already saw, or the picture is stale.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        if let Ok(png) = self.client.screenshot().await {
            std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        }
    }

    pub async fn finish(mut self) {
        let _ = self.client.clone().close().await;
        // SIGTERM, not SIGKILL: tauri-driver then stops the WebKitWebDriver it started.
        let _ = Command::new("kill")
            .args(["-TERM", &self.driver.id().to_string()])
            .status();
        let _ = self.driver.wait();
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Ok(None) = self.driver.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.driver.id().to_string()])
                .status();
            let _ = self.driver.wait();
        }
    }
}
