//! End to end: in the real window, a user points Slipway at the AWS emulator (the endpoint
//! override in Settings), connects the sample project, reviews the setup plan, applies it
//! and reads every resource as ready, with the account banner in view.

mod e2e;

use std::time::{Duration, SystemTime};

use slipway_engine::aws::{connect, AwsTarget};
use slipway_engine::host::HostEnv;
use slipway_engine::progress::Recorder;

/// This test's own region, so its default VPC is not shared with a parallel test.
const REGION: &str = "us-west-2";

#[tokio::test]
async fn setup_is_planned_applied_and_every_resource_reads_ready_in_the_window() {
    let Some(session) = e2e::Session::start("setup").await else {
        return;
    };
    let app = format!("e2es{}", std::process::id());
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

    // Leave the emulator as it was: remove what this test created.
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
    session.finish().await;
}
