//! End to end: a newcomer's first deploy of the sample in the real window, from a fresh data
//! folder, using only what the screen offers: each next action is a button already in view
//! (no scrolling, no tab to find), at most 8 clicks from the welcome screen to a public URL in
//! the page's header. The only setup outside the window is what a user already has: an AWS
//! profile (here pointing at the emulator through the fault proxy, in a region of its own).
//! Each step's screenshot is saved for the README (target/e2e-screenshots/first-deploy-*.png),
//! and the test prints the clicks and the wall time it measured. A second test walks the same
//! path with a project shaped as people write them today (multi-stage, BuildKit syntax, no
//! slipway.toml yet), opened from Recent projects (the folder dialog is the OS's).

mod e2e;

use std::sync::Arc;
use std::time::{Duration, Instant};

use slipway_testkit::{FargateStandIn, FaultProxy};

/// This test's own region, so its default VPC is not shared with a parallel test.
const REGION: &str = "eu-west-1";
/// The multi-stage project's region.
const PROJECT_REGION: &str = "eu-central-1";
/// The sample's app name, as a newcomer gets it.
const APP: &str = "hello-site";
/// The Must show of the guided flow: at most 8 clicks. Each walk asserts its own exact
/// count, so a step that starts to need one more click is seen.
const MOST_CLICKS: u32 = 8;

/// The one thing a newcomer does: press the button the screen offers, where it is.
struct NewUser<'a> {
    session: &'a e2e::Session,
    clicks: u32,
}

impl NewUser<'_> {
    /// Presses `css` once it is enabled, asserting it was in the window's view with the page
    /// not scrolled: a newcomer sees it without looking for it.
    async fn press(&mut self, css: &str, within: Duration) {
        let element = self.session.enabled_element(css, within).await;
        let arg = serde_json::to_value(&element).unwrap();
        let placement = self
            .session
            .client_execute(
                "const r = arguments[0].getBoundingClientRect();
                 const main = document.querySelector('main.content');
                 return { top: r.top, bottom: r.bottom, height: window.innerHeight,
                          scrolled: (main ? main.scrollTop : 0) + window.scrollY };",
                vec![arg],
            )
            .await;
        let top = placement["top"].as_f64().unwrap();
        let bottom = placement["bottom"].as_f64().unwrap();
        let height = placement["height"].as_f64().unwrap();
        let scrolled = placement["scrolled"].as_f64().unwrap();
        if !(top >= 0.0 && bottom <= height && scrolled == 0.0) {
            self.session.screenshot("first-deploy-out-of-view").await;
        }
        assert!(
            top >= 0.0 && bottom <= height,
            "{css} is in view without scrolling: it spans {top}..{bottom} of a {height} px window"
        );
        assert_eq!(scrolled, 0.0, "the page was never scrolled before {css}");
        element.click().await.expect("the click lands");
        self.clicks += 1;
    }
}

impl NewUser<'_> {
    /// Waits for the header to say the app is live on AWS, and returns the public address it
    /// shows (until then it shows the preview's), checked to answer with `content`.
    async fn live_url(&self, content: &str) -> String {
        self.session
            .text_containing(
                "[data-testid=app-header]",
                "Live on AWS",
                Duration::from_secs(240),
            )
            .await;
        let url = self
            .session
            .text_containing(
                "[data-testid=app-header-url]",
                "http://127.",
                Duration::from_secs(10),
            )
            .await
            .trim()
            .to_owned();
        assert!(
            !url.starts_with("http://127.0.0.1:"),
            "the header shows the AWS address, not the preview's: {url}"
        );
        let answer = reqwest::get(&url).await.expect("the public URL answers");
        assert_eq!(answer.status().as_u16(), 200);
        assert!(answer.text().await.unwrap().contains(content));
        url
    }

    /// Prints what the walk measured and checks its clicks: at most the Must show's, and
    /// exactly `expected` (`steps` says which).
    fn report(&self, what: &str, elapsed: Duration, expected: u32, steps: &str) {
        eprintln!(
            "first deploy of {what}: {} clicks, 0 screens scrolled, {:.1} s from launch to the public URL",
            self.clicks,
            elapsed.as_secs_f64()
        );
        assert!(self.clicks <= MOST_CLICKS);
        assert_eq!(self.clicks, expected, "{steps}");
    }

    /// Stops the preview from the window, as a user would, and waits until its container is gone.
    async fn stop_preview(&self, app: &str) {
        self.session.tab("local").await;
        self.session.click("[data-testid=stop-preview]").await;
        let host = slipway_core::host::HostEnv::from_process()
            .with_var("DOCKER_HOST", self.session.docker_host.clone());
        let deadline = Instant::now() + Duration::from_secs(20);
        while !slipway_docker::preview::containers(&host, app)
            .await
            .unwrap()
            .is_empty()
        {
            assert!(
                Instant::now() < deadline,
                "Stop removes the preview container"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_newcomer_deploys_the_sample_in_few_clicks_without_scrolling() {
    let launched = Instant::now();
    let Some(session) = e2e::Session::start("first-deploy").await else {
        return;
    };
    if slipway_core::test_support::require("SLIPWAY_TEST_ECR_CA").is_none() {
        return;
    }
    // A newcomer's Docker holds no release of the sample yet, and their account nothing of it
    // (an earlier run may have left some).
    let host = slipway_core::host::HostEnv::from_process()
        .with_var("DOCKER_HOST", session.docker_host.clone());
    slipway_docker::preview::stop(&host, APP).await.unwrap();
    slipway_testkit::remove_app_images(APP);
    let arranged = session.arrange_emulator(REGION).await;
    session.tear_down(&arranged, APP).await;
    let proxy = Arc::new(FaultProxy::start(&session.endpoint).await);
    let standin = FargateStandIn::start(&session.endpoint, REGION, proxy.clone()).await;
    session.write_aws_config(&format!(
        "[default]\nregion = {REGION}\nendpoint_url = {}\n",
        proxy.url()
    ));
    let mut user = NewUser {
        session: &session,
        clicks: 0,
    };

    // 1. Open: the welcome screen offers the sample.
    session
        .text("[data-testid=open-sample]", Duration::from_secs(20))
        .await;
    session.screenshot("first-deploy-1-welcome").await;
    user.press("[data-testid=open-sample]", Duration::from_secs(10))
        .await;
    session
        .text(
            "[data-testid=guide][data-step=build]",
            Duration::from_secs(20),
        )
        .await;
    session.screenshot("first-deploy-2-try").await;

    // 2. Try it here: one button builds the folder and runs it on this computer.
    user.press("[data-testid=start-preview]", Duration::from_secs(20))
        .await;
    let local = session
        .text_containing(
            "[data-testid=app-header-url]",
            "http://127.0.0.1:",
            Duration::from_secs(180),
        )
        .await;
    let answer = reqwest::get(local.trim())
        .await
        .expect("the preview answers");
    assert_eq!(answer.status().as_u16(), 200);

    // 3. Connect to AWS: the guide moved on by itself; the profile is the user's default.
    session
        .text(
            "[data-testid=guide][data-step=aws]",
            Duration::from_secs(30),
        )
        .await;
    session.screenshot("first-deploy-3-connect").await;
    user.press("[data-testid=aws-connect]", Duration::from_secs(20))
        .await;

    // 4. Review: what will be created, in words, and what running it costs.
    session
        .text(
            "[data-testid=guide][data-step=setup]",
            Duration::from_secs(30),
        )
        .await;
    let words = session
        .text("[data-testid=setup-review-words]", Duration::from_secs(60))
        .await;
    assert!(
        words.contains("will be created in your AWS account"),
        "the review says what happens in plain words: {words}"
    );
    session
        .text_containing(
            "[data-testid=setup-review-cost]",
            "an hour",
            Duration::from_secs(20),
        )
        .await;
    session.screenshot("first-deploy-4-review").await;
    user.press("[data-testid=setup-create]", Duration::from_secs(20))
        .await;

    // 5. Deploy: the guide shows the one button, with what it costs an hour.
    session
        .text(
            "[data-testid=guide][data-step=deploy]",
            Duration::from_secs(90),
        )
        .await;
    session
        .text_containing(
            "[data-testid=deploy-card]",
            "an hour",
            Duration::from_secs(10),
        )
        .await;
    session.screenshot("first-deploy-5-deploy").await;
    user.press("[data-testid=deploy-button]", Duration::from_secs(20))
        .await;

    // 6. Live: the public address is in the header, and it answers.
    let url = user.live_url("Hello from Slipway").await;
    let elapsed = launched.elapsed();
    session.screenshot("first-deploy-6-live").await;
    user.report(
        "the sample",
        elapsed,
        5,
        "open the sample, try it here, connect, create, deploy",
    );

    // A returning user: the project reopened from Recent projects connects again by itself
    // (it connected before) and lands on the app's page, live, with the same address.
    session.click("[data-testid=close-project]").await;
    session.click("[data-testid=recent-project] button").await;
    session
        .text_containing(
            "[data-testid=account-banner]",
            "123456789012",
            Duration::from_secs(30),
        )
        .await;
    session
        .text_containing(
            "[data-testid=app-header-url]",
            &url,
            Duration::from_secs(30),
        )
        .await;
    assert!(
        session
            .find_text("[data-testid=app-header]", "Live on AWS")
            .await,
        "the reopened project is live in its header"
    );
    session.screenshot("first-deploy-7-reopened").await;

    // The preview is stopped from the window, as a user would, before cleaning up.
    user.stop_preview(APP).await;
    session.clean_up(arranged, APP, Some(standin)).await;
}

/// A project as people write them for today's Docker: dependencies and the page built in
/// stages, a cache mount, `COPY --chmod`, a non-root user, its own health check.
const MULTI_STAGE: [(&str, &str); 4] = [
    (
        "Dockerfile",
        r#"FROM busybox:1.36 AS deps
WORKDIR /deps
COPY requirements.txt .
RUN --mount=type=cache,target=/cache for p in $(cat requirements.txt); do echo "$p" > /deps/$p.txt; done

FROM busybox:1.36 AS build
WORKDIR /app
COPY --from=deps /deps /app/deps
COPY src/ /app/src/
RUN cat /app/src/*.html > /app/index.html && ls /app/deps > /app/deps.txt

FROM busybox:1.36
RUN echo 'web:x:10001:10001::/www:/bin/sh' >> /etc/passwd
COPY --from=build --chmod=644 /app/index.html /www/index.html
COPY --from=build /app/deps.txt /www/deps.txt
USER web
EXPOSE 8080
CMD ["httpd", "-f", "-v", "-p", "8080", "-h", "/www"]
"#,
    ),
    ("requirements.txt", "flask\ngunicorn\n"),
    ("src/index.html", "<h1>Notes, built in stages</h1>\n"),
    (".dockerignore", ".git\n"),
];

#[tokio::test(flavor = "multi_thread")]
async fn a_newcomer_deploys_a_multi_stage_project_opened_before() {
    let app = format!("notes{}", std::process::id());
    let launched = Instant::now();
    let Some(session) = e2e::Session::start_with("first-deploy-project", |home| {
        let dir = home.join("projects").join(&app);
        for (name, contents) in MULTI_STAGE {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, contents).unwrap();
        }
        // Opened once before (the OS's folder dialog is out of the window's reach), never saved.
        let host = slipway_core::host::HostEnv::from_process().with_var(
            "SLIPWAY_DATA_DIR",
            home.join("slipway-data").display().to_string(),
        );
        slipway_core::project::remember(&host, &dir, &app).unwrap();
    })
    .await
    else {
        return;
    };
    if slipway_core::test_support::require("SLIPWAY_TEST_ECR_CA").is_none() {
        return;
    }
    let arranged = session.arrange_emulator(PROJECT_REGION).await;
    let proxy = Arc::new(FaultProxy::start(&session.endpoint).await);
    let standin = FargateStandIn::start(&session.endpoint, PROJECT_REGION, proxy.clone()).await;
    session.write_aws_config(&format!(
        "[default]\nregion = {PROJECT_REGION}\nendpoint_url = {}\n",
        proxy.url()
    ));
    let mut user = NewUser {
        session: &session,
        clicks: 0,
    };

    user.press(
        "[data-testid=recent-project] button",
        Duration::from_secs(20),
    )
    .await;
    // No slipway.toml yet: the guide starts with Slipway's proposal, to check and save.
    session
        .text(
            "[data-testid=guide] [data-testid=settings-card]",
            Duration::from_secs(20),
        )
        .await;
    session.screenshot("first-deploy-project-settings").await;
    user.press("[data-testid=save]", Duration::from_secs(10))
        .await;
    user.press("[data-testid=start-preview]", Duration::from_secs(20))
        .await;
    session
        .text(
            "[data-testid=guide][data-step=aws]",
            Duration::from_secs(240),
        )
        .await;
    user.press("[data-testid=aws-connect]", Duration::from_secs(20))
        .await;
    session
        .text("[data-testid=setup-review-words]", Duration::from_secs(60))
        .await;
    user.press("[data-testid=setup-create]", Duration::from_secs(20))
        .await;
    session
        .text(
            "[data-testid=guide][data-step=deploy]",
            Duration::from_secs(90),
        )
        .await;
    user.press("[data-testid=deploy-button]", Duration::from_secs(20))
        .await;
    user.live_url("Notes, built in stages").await;
    let elapsed = launched.elapsed();
    session.screenshot("first-deploy-project-live").await;
    user.report(
        "a multi-stage project",
        elapsed,
        6,
        "open from Recent projects, save the proposal, try it here, connect, create, deploy",
    );
    user.stop_preview(&app).await;
    session.clean_up(arranged, &app, Some(standin)).await;
}
