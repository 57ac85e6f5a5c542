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
