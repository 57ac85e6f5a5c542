//! End to end: in the real window, a user sets up AWS (the emulator, through the project's
//! proxy), builds the sample, deploys it as a standalone task and reads the URL's answer,
//! then stops everything and sees the Deploy card mark that address as gone, then removes
//! the app from AWS and sees Deploy disabled with the reason; the test kit's Fargate
//! stand-in runs the task's image behind its public IP.

mod e2e;

use std::sync::Arc;
use std::time::Duration;

use slipway_testkit::{FargateStandIn, FaultProxy};

/// This test's own region, so its default VPC is not shared with a parallel test.
const REGION: &str = "us-west-1";

#[tokio::test(flavor = "multi_thread")]
async fn the_sample_is_deployed_from_the_window_and_its_url_answers() {
    let Some(session) = e2e::Session::start("deploy").await else {
        return;
    };
    if slipway_core::test_support::require("SLIPWAY_TEST_ECR_CA").is_none() {
        return;
    }
    let app = format!("e2ed{}", std::process::id());
    session.prepare_sample(&app, |config| config.aws.region = Some(REGION.to_owned()));
    let arranged = session.arrange_emulator(REGION).await;
    let proxy = Arc::new(FaultProxy::start(&session.endpoint).await);
    let standin = FargateStandIn::start(&session.endpoint, REGION, proxy.clone()).await;

    session.set_up_aws(&proxy.url(), &app).await;
    let url = session.build_and_deploy("Hello from Slipway").await;
    for step in ["push", "register", "start", "wait", "verify"] {
        session
            .text(
                &format!("[data-testid=deploy-step][data-step={step}][data-state=done]"),
                Duration::from_secs(10),
            )
            .await;
    }
    session
        .text(
            "[data-testid=task-state][data-status=RUNNING]",
            Duration::from_secs(10),
        )
        .await;
    let answer = reqwest::get(url.trim()).await.expect("the URL answers");
    assert_eq!(answer.status().as_u16(), 200);
    assert!(answer.text().await.unwrap().contains("Hello from Slipway"));
    session
        .text_containing(
            "[data-testid=status-card]",
            url.trim(),
            Duration::from_secs(30),
        )
        .await;
    // The page's header shows the live address without any scrolling.
    session
        .text_containing(
            "[data-testid=app-header-url]",
            url.trim(),
            Duration::from_secs(30),
        )
        .await;
    session.scroll_to("[data-testid=app-header]").await;
    session.screenshot("deploy-header").await;
    session.scroll_to("[data-testid=deploy-result]").await;
    session.screenshot("deploy").await;

    // Stop everything: the Deploy card stops claiming the release answers.
    session.click("[data-testid=status-stop]").await;
    session.click("[data-testid=status-stop-confirm]").await;
    session
        .text_containing(
            "[data-testid=status-stopped]",
            "Stopped 1 task",
            Duration::from_secs(60),
        )
        .await;
    session
        .text_containing(
            "[data-testid=deploy-card] [data-testid=deploy-gone]",
            "Nothing of the app runs on AWS now",
            Duration::from_secs(10),
        )
        .await;
    assert!(
        !session
            .find_text("[data-testid=deploy-card]", "answers on AWS")
            .await,
        "a stopped release is not said to answer"
    );
    session
        .text_containing(
            "[data-testid=app-header]",
            "Not running on AWS",
            Duration::from_secs(10),
        )
        .await;
    session.scroll_to("[data-testid=app-header]").await;
    session.screenshot("deploy-stopped-header").await;

    // Remove from AWS: Deploy is then disabled, saying why and where to set up again, and
    // the header's next step is Set up.
    session.tab("aws").await;
    session.click("[data-testid=plan-teardown]").await;
    session.click("[data-testid=confirm-teardown]").await;
    session
        .fill("[data-testid=teardown-confirm-input]", &app)
        .await;
    session.click("[data-testid=apply-teardown]").await;
    session
        .text("[data-testid=teardown-result]", Duration::from_secs(90))
        .await;
    session.tab("overview").await;
    session
        .text_containing(
            "[data-testid=deploy-blocker]",
            "Set it up first",
            Duration::from_secs(10),
        )
        .await;
    assert!(
        !session.enabled("[data-testid=deploy-button]").await,
        "Deploy cannot be pressed while the account lacks the app's resources"
    );
    session
        .text_containing(
            "[data-testid=app-header-next]",
            "Review the setup",
            Duration::from_secs(10),
        )
        .await;
    session.screenshot("deploy-after-teardown").await;

    session.clean_up(arranged, &app, Some(standin)).await;
}
