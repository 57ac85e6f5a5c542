//! End to end: in the real window, a user points Slipway at the AWS emulator (the endpoint
//! override in Settings), connects the sample project, reviews the setup plan, applies it
//! and reads every resource as ready, with the account banner in view.

mod e2e;

use std::time::Duration;

/// This test's own region, so its default VPC is not shared with a parallel test.
const REGION: &str = "us-west-2";

#[tokio::test]
async fn setup_is_planned_applied_and_every_resource_reads_ready_in_the_window() {
    let Some(session) = e2e::Session::start("setup").await else {
        return;
    };
    let app = format!("e2es{}", std::process::id());
    session.prepare_sample(&app, |config| config.aws.region = Some(REGION.to_owned()));

    let arranged = session.arrange_emulator(REGION).await;

    session.click("[data-testid=nav-environment]").await;
    session
        .fill("[data-testid=endpoint-input]", &session.endpoint)
        .await;
    session.click("[data-testid=save-endpoint]").await;
    session
        .text_containing(
            "[data-testid=endpoint-status]",
            "emulator",
            Duration::from_secs(10),
        )
        .await;

    session.click("[data-testid=nav-project]").await;
    session.click("[data-testid=open-sample]").await;
    session
        .text_containing("[data-testid=project-name]", &app, Duration::from_secs(10))
        .await;
    session.tab("aws").await;
    session.click("[data-testid=aws-connect]").await;
    let banner = session
        .text_containing(
            "[data-testid=account-banner]",
            "123456789012",
            Duration::from_secs(30),
        )
        .await;
    assert!(
        banner.contains(REGION),
        "the banner names the region: {banner}"
    );
    session.screenshot("setup-connected").await;

    session.click("[data-testid=plan-setup]").await;
    session
        .text_containing(
            "[data-testid=setup-resource][data-kind=repository] [data-testid=resource-state]",
            "created",
            Duration::from_secs(30),
        )
        .await;
    session.click("[data-testid=apply-setup]").await;
    for kind in [
        "repository",
        "cluster",
        "logGroup",
        "executionRole",
        "securityGroup",
        "subnets",
    ] {
        session
            .text_containing(
                &format!(
                    "[data-testid=setup-resource][data-kind={kind}] [data-testid=resource-state]"
                ),
                "Ready",
                Duration::from_secs(60),
            )
            .await;
    }
    session.screenshot("setup").await;

    session.clean_up(arranged, &app, None).await;
}
