//! End to end: a newcomer's first deploy of the sample in the real window, from a fresh data
//! folder, using only what the screen offers: each next action is a button already in view
//! (no scrolling, no tab to find), at most 8 clicks from the welcome screen to a public URL in
//! the page's header. The only setup outside the window is what a user already has: an AWS
//! profile (here pointing at the emulator through the fault proxy, in a region of its own).
//! Each step's screenshot is saved for the README (target/e2e-screenshots/first-deploy-*.png),
//! and the test prints the clicks and the wall time it measured.

mod e2e;

use std::sync::Arc;
use std::time::{Duration, Instant};

use slipway_testkit::{FargateStandIn, FaultProxy};

/// This test's own region, so its default VPC is not shared with a parallel test.
const REGION: &str = "eu-west-1";
/// The sample's app name, as a newcomer gets it.
const APP: &str = "hello-site";
/// The Must show of the guided flow.
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

    // 6. Live: the public address is in the header (until then it shows the preview's), and
    // it answers.
    session
        .text_containing(
            "[data-testid=app-header]",
            "Live on AWS",
            Duration::from_secs(240),
        )
        .await;
    let url = session
        .text_containing(
            "[data-testid=app-header-url]",
            "http://127.",
            Duration::from_secs(10),
        )
        .await;
    let url = url.trim().to_owned();
    assert!(
        !url.starts_with("http://127.0.0.1:"),
        "the header shows the AWS address, not the preview's: {url}"
    );
    let elapsed = launched.elapsed();
    let answer = reqwest::get(&url).await.expect("the public URL answers");
    assert_eq!(answer.status().as_u16(), 200);
    assert!(answer.text().await.unwrap().contains("Hello from Slipway"));
    session.screenshot("first-deploy-6-live").await;
    eprintln!(
        "first deploy of the sample: {} clicks, 0 screens scrolled, {:.1} s from launch to the public URL",
        user.clicks,
        elapsed.as_secs_f64()
    );
    assert!(
        user.clicks <= MOST_CLICKS,
        "{} clicks from the welcome screen to the URL (at most {MOST_CLICKS})",
        user.clicks
    );

    // The preview is stopped from the window, as a user would, before cleaning up.
    session.tab("local").await;
    session.click("[data-testid=stop-preview]").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !slipway_docker::preview::containers(&host, APP)
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

    session.clean_up(arranged, APP, Some(standin)).await;
}
