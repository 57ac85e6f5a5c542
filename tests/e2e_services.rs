//! End to end, operating a vendor's ECS service in the real window: a user opens Templates
//! & services, finds the service Slipway did not make, sees its task with its private IP,
//! runs a one-off command and reads its output (then a failing one, and its exit code),
//! and reads the service's logs. The emulator (behind the project's proxy) and the test
//! kit's Fargate stand-in play AWS; the vendor's image is busybox in the ECR-named registry.

mod e2e;

use std::sync::Arc;
use std::time::Duration;

use slipway_testkit::emulator::{
    direct_sdk, publish_busybox, remove_published, vendor_service_with_command,
};
use slipway_testkit::{FargateStandIn, FaultProxy};

const REGION: &str = "ap-east-1";

#[tokio::test(flavor = "multi_thread")]
async fn a_vendors_service_runs_a_one_off_command_and_shows_its_logs_in_the_window() {
    let Some(session) = e2e::Session::start("services").await else {
        return;
    };
    if slipway_core::test_support::require("SLIPWAY_TEST_ECR_CA").is_none() {
        return;
    }
    let _arranged = session.arrange_emulator(REGION).await;
    let session_endpoint = session.endpoint.clone();
    let prefix = format!("e2ev{}", std::process::id());
    let image = publish_busybox(REGION, &format!("{prefix}/server"), "1.0");
    let made = vendor_service_with_command(
        &direct_sdk(&session.endpoint, REGION).await,
        &prefix,
        &[&image],
        &["sh", "-c", "echo server-ready; exec sleep 600"],
    )
    .await;
    let proxy = Arc::new(FaultProxy::start(&session.endpoint).await);
    let standin = FargateStandIn::start(&session.endpoint, REGION, proxy.clone()).await;
    // The window reaches AWS through the proxy (where the stand-in reports exit codes).
    session.write_aws_config(&format!(
        "[default]\nregion = {REGION}\nendpoint_url = {}\n",
        proxy.url()
    ));

    session.open_templates(REGION).await;
    session
        .text_containing(
            "[data-testid=service-list]",
            &made.cluster,
            Duration::from_secs(30),
        )
        .await;
    session
        .click(&format!(
            "[data-testid=service-row][data-service='{}/{}'] .recent-open",
            made.cluster, made.service
        ))
        .await;

    // The stand-in runs the service's task: 1 of 1, with its private IP.
    // (Under load the stand-in can start a second task for the deployment, "2 of 1": a
    // stand-in artefact; what counts is that a task runs and the screen says so.)
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let state = session
            .text("[data-testid=service-state]", Duration::from_secs(30))
            .await;
        if !state.starts_with("0 of") && state.contains(" of 1 task") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no task of the service runs: {state}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let private_ip = session
        .text(
            "[data-testid=service-task] td:nth-child(2)",
            Duration::from_secs(5),
        )
        .await;
    assert!(
        private_ip.trim().parse::<std::net::Ipv4Addr>().is_ok(),
        "a private IP: {private_ip}"
    );

    session
        .fill("[data-testid=one-off-command]", "echo token-123")
        .await;
    session.click("[data-testid=one-off-run]").await;
    session
        .text_containing(
            "[data-testid=one-off-exit]",
            "finished",
            Duration::from_secs(90),
        )
        .await;
    let output = session
        .text("[data-testid=one-off-output]", Duration::from_secs(5))
        .await;
    assert!(output.contains("token-123"), "{output}");
    session.screenshot("services-one-off").await;

    session
        .fill(
            "[data-testid=one-off-command]",
            "sh -c 'echo failing; exit 3'",
        )
        .await;
    session.click("[data-testid=one-off-run]").await;
    session
        .text_containing(
            "[data-testid=one-off-exit]",
            "failed with exit code 3",
            Duration::from_secs(90),
        )
        .await;

    session.click("[data-testid=service-logs-load]").await;
    session
        .text_containing(
            "[data-testid=service-logs]",
            "server-ready",
            Duration::from_secs(30),
        )
        .await;
    session.screenshot("services-logs").await;

    session.finish().await;
    standin.shut_down().await;
    // The vendor's service goes, so no later stand-in in this region runs its task again.
    let ecs = aws_sdk_ecs::Client::new(&direct_sdk(&session_endpoint, REGION).await);
    ecs.delete_service()
        .cluster(&made.cluster)
        .service(&made.service)
        .force(true)
        .send()
        .await
        .unwrap();
    remove_published(&image);
}
