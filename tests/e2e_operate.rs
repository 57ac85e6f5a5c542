//! End to end, the day after the first deploy: in the real window a user deploys the
//! sample twice, rolls back to the first release from Releases on AWS (with the
//! confirmation), reads the first release's content at the URL the rollback checked, sees
//! the Deploy card mark the second release's address as gone, and finds the task's log
//! line on the Logs view. The emulator (through the project's proxy)
//! and the test kit's Fargate stand-in play AWS.

mod e2e;

use std::sync::Arc;
use std::time::Duration;

use slipway_testkit::{FargateStandIn, FaultProxy};

const REGION: &str = "us-west-2";

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_from_the_window_serves_the_first_release_and_its_log_line_shows() {
    let Some(session) = e2e::Session::start("operate").await else {
        return;
    };
    if slipway_core::test_support::require("SLIPWAY_TEST_ECR_CA").is_none() {
        return;
    }
    let app = format!("e2eo{}", std::process::id());
    let sample = session.prepare_sample(&app, |config| config.aws.region = Some(REGION.to_owned()));
    let arranged = session.arrange_emulator(REGION).await;
    let proxy = Arc::new(FaultProxy::start(&session.endpoint).await);
    let standin = FargateStandIn::start(&session.endpoint, REGION, proxy.clone()).await;

    session.set_up_aws(&proxy.url(), &app).await;
    session.build_and_deploy("Hello from Slipway").await;
    std::fs::write(
        sample.join("site/index.html"),
        "<h1>Second release, from the window</h1>",
    )
    .unwrap();
    let second = session.build_and_deploy("Second release").await;
    assert!(reqwest::get(&second)
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .contains("Second release"));

    // Releases on AWS lists both; revision 1 is the way back once ECR's API shows its
    // image (the stand-in copies pushes into it twice a second).
    let first_row = "[data-testid=aws-release][data-revision='1']";
    session.tab("deploys").await;
    for _ in 0..20 {
        session.click("[data-testid=aws-releases-refresh]").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        if session
            .enabled(&format!("{first_row} [data-testid=aws-rollback]"))
            .await
        {
            break;
        }
    }
    session
        .click(&format!("{first_row} [data-testid=aws-rollback]"))
        .await;
    session
        .text_containing(
            "[data-testid=aws-rollback-question]",
            "revision 1",
            Duration::from_secs(10),
        )
        .await;
    session.click("[data-testid=aws-rollback-retag]").await;
    session.click("[data-testid=aws-rollback-confirm]").await;
    session
        .text_containing(
            "[data-testid=aws-releases-card] [data-testid=deploy-answer]",
            "Hello from Slipway",
            Duration::from_secs(120),
        )
        .await;
    let url = session
        .text_containing(
            "[data-testid=aws-releases-card] [data-testid=deploy-url]",
            "http://127.",
            Duration::from_secs(10),
        )
        .await;
    let body = reqwest::get(url.trim())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("Hello from Slipway"),
        "the first release again: {body}"
    );
    assert!(!body.contains("Second release"));
    // The Deploy card no longer claims the second release answers: its task was replaced.
    session.tab("overview").await;
    session
        .text_containing(
            "[data-testid=deploy-card] [data-testid=deploy-gone]",
            "no longer runs there. The app now runs revision 1",
            Duration::from_secs(30),
        )
        .await;
    session.tab("deploys").await;
    session
        .text(
            &format!("{first_row} [data-testid=aws-release-rollback-badge]"),
            Duration::from_secs(30),
        )
        .await;
    session.scroll_to(first_row).await;
    session.screenshot("operate-rollback").await;

    // The Logs view: the rolled-back task's line for the check's request (httpd -vv). A
    // task's Logs button opens the Logs tab.
    session.tab("overview").await;
    session.click("[data-testid=status-task-logs]").await;
    session.fill("[data-testid=logs-search]", "url:/").await;
    for _ in 0..20 {
        if session.find_text("[data-testid=log-row]", "url:/").await {
            break;
        }
        session.click("[data-testid=logs-refresh]").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    session
        .text_containing("[data-testid=log-row]", "url:/", Duration::from_secs(10))
        .await;
    session.scroll_to("[data-testid=logs-card]").await;
    session.screenshot("operate-logs").await;
    session.tab("cost").await;
    session.scroll_to("[data-testid=cost-card]").await;
    session.screenshot("operate-cost").await;

    session.clean_up(arranged, &app, Some(standin)).await;
}
