//! End to end: in the real window, a user sets up AWS (the emulator, through the project's
//! proxy), builds the sample, deploys it as a standalone task and reads the URL's answer;
//! the test kit's Fargate stand-in runs the task's image behind its public IP.

mod e2e;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use slipway_engine::aws::{connect, AwsTarget};
use slipway_engine::host::HostEnv;
use slipway_engine::progress::Recorder;
use slipway_testkit::{FargateStandIn, FaultProxy};

/// This test's own region, so its default VPC is not shared with a parallel test.
const REGION: &str = "us-west-1";

#[tokio::test(flavor = "multi_thread")]
async fn the_sample_is_deployed_from_the_window_and_its_url_answers() {
    let Some(session) = e2e::Session::start("deploy").await else {
        return;
    };
    if slipway_engine::test_support::require("SLIPWAY_TEST_ECR_CA").is_none() {
        return;
    }
    let app = format!("e2ed{}", std::process::id());
    session.prepare_sample(&app, |config| config.aws.region = Some(REGION.to_owned()));
    let direct = AwsTarget {
        source: slipway_engine::aws::CredentialSource::Environment,
        region: Some(REGION.to_owned()),
        endpoint_url: Some(session.endpoint.clone()),
    };
    let keys = HostEnv::from_process()
        .with_var("AWS_ACCESS_KEY_ID", "AKIAE2ETESTKEY000000")
        .with_var("AWS_SECRET_ACCESS_KEY", "e2e-not-secret");
    let arranged = connect(&keys, &direct, SystemTime::now()).await.unwrap();
    slipway_testkit::emulator::give_default_vpc_an_internet_route(&arranged.ctx.sdk).await;
    let proxy = Arc::new(FaultProxy::start(&session.endpoint).await);
    let standin = FargateStandIn::start(&session.endpoint, REGION, proxy.clone()).await;

    session.click("[data-testid=nav-environment]").await;
    session
        .fill("[data-testid=endpoint-input]", &proxy.url())
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
    session.click("[data-testid=aws-connect]").await;
    session
        .text_containing(
            "[data-testid=account-banner]",
            "123456789012",
            Duration::from_secs(30),
        )
        .await;
    session.click("[data-testid=plan-setup]").await;
    session.click("[data-testid=apply-setup]").await;
    session
        .text_containing(
            "[data-testid=setup-resource][data-kind=subnets] [data-testid=resource-state]",
            "Ready",
            Duration::from_secs(60),
        )
        .await;
    session.click("[data-testid=build]").await;
    session
        .text("[data-testid=build-result]", Duration::from_secs(120))
        .await;

    session
        .click_until(
            "[data-testid=deploy-button]",
            "[data-testid=deploy-step]",
            Duration::from_secs(10),
        )
        .await;
    let url = session
        .text_containing(
            "[data-testid=deploy-url]",
            "http://127.",
            Duration::from_secs(120),
        )
        .await;
    let shown = session
        .text_containing(
            "[data-testid=deploy-answer]",
            "Hello from Slipway",
            Duration::from_secs(30),
        )
        .await;
    assert!(!shown.is_empty());
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
    session.scroll_to("[data-testid=deploy-result]").await;
    session.screenshot("deploy").await;

    // Leave the emulator and Docker as they were.
    let host = keys.with_var("SLIPWAY_DATA_DIR", session.data_dir().display().to_string());
    slipway_engine::teardown::apply_teardown(
        &host,
        &arranged,
        &app,
        &Recorder::default(),
        &slipway_engine::jobs::Cancel::new(),
    )
    .await
    .unwrap();
    standin.shut_down().await;
    session.finish().await;
    let _ = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "docker images --format '{{{{.Repository}}}} {{{{.ID}}}}' | awk '$1 ~ /(^|\\/){app}$/ {{print $2}}' | sort -u | xargs -r docker rmi -f"
        ))
        .output();
}
