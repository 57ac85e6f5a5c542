//! End to end: the real Slipway window (WebKitWebDriver through tauri-driver, under Xvfb)
//! shows the Docker version the daemon reports and, after "Check identity", the account
//! the AWS emulator reports.

mod e2e;

use std::time::Duration;

use slipway_core::host::HostEnv;
use slipway_docker::docker::connect;

#[tokio::test]
async fn environment_screen_shows_docker_version_and_emulator_account() {
    let Some(session) = e2e::Session::start("environment").await else {
        return;
    };
    let daemon =
        connect(&HostEnv::from_process().with_var("DOCKER_HOST", session.docker_host.clone()))
            .await
            .expect("the test environment's Docker engine answers");
    let daemon_version = daemon.0.version().await.unwrap().version.unwrap();

    session.click("[data-testid=nav-environment]").await;
    let shown = session
        .text("[data-testid=docker-version]", Duration::from_secs(20))
        .await;
    assert_eq!(
        shown, daemon_version,
        "the window shows what the daemon reports"
    );

    session.click("[data-testid=aws-check]").await;
    let account = session
        .text("[data-testid=aws-account]", Duration::from_secs(30))
        .await;
    assert_eq!(
        account, "123456789012",
        "moto's account, resolved through the profile's endpoint"
    );

    session.screenshot("environment").await;
    session.finish().await;
}
