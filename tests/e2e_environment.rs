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

/// Signing in with AWS SSO in the window, against the test kit's IAM Identity Center
/// stand-in: the test plays the browser (it follows the sign-in page the app opens back to
/// the app), then picks an account and role and sees the profile chosen.
#[tokio::test(flavor = "multi_thread")]
async fn sso_sign_in_in_the_window_adds_a_profile_for_the_chosen_account_and_role() {
    let standin = slipway_testkit::sso::SsoStandIn::start().await;
    let pages = tempfile::tempdir().unwrap();
    let opened = pages.path().join("opened.txt");
    let Some(session) = e2e::Session::start_env(
        "sso",
        &[
            ("AWS_ENDPOINT_URL_SSO_OIDC", standin.url().to_owned()),
            ("AWS_ENDPOINT_URL_SSO", standin.url().to_owned()),
            ("SLIPWAY_TEST_BROWSER_LOG", opened.display().to_string()),
        ],
    )
    .await
    else {
        return;
    };
    session.click("[data-testid=nav-project]").await;
    session.click("[data-testid=open-sample]").await;
    session.tab("aws").await;
    session.click("[data-testid=sso-open]").await;
    session
        .fill("[data-testid=sso-start-url]", &standin.start_url())
        .await;
    session.fill("[data-testid=sso-region]", "eu-west-1").await;
    session.click("[data-testid=sso-sign-in]").await;
    session
        .text_containing(
            "[data-testid=sso-waiting]",
            "Finish signing in in your browser",
            Duration::from_secs(20),
        )
        .await;
    session.screenshot("sso-waiting-for-browser").await;

    // The browser: the page the app asked to open, followed back to the app.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let page = loop {
        if let Some(url) = std::fs::read_to_string(&opened)
            .ok()
            .and_then(|t| t.lines().next().map(str::to_owned))
        {
            break url;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the app never opened the sign-in page"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        page.starts_with(&format!("{}/authorize?", standin.url())),
        "{page}"
    );
    assert!(standin
        .browser(&page)
        .await
        .contains("Slipway has your sign-in"));

    let accounts = session
        .text("[data-testid=sso-account]", Duration::from_secs(20))
        .await;
    assert!(
        accounts.contains("Demo apps (111122223333)")
            && accounts.contains("Production (444455556666)"),
        "{accounts}"
    );
    session
        .fill("[data-testid=sso-profile-name]", "demo-sso")
        .await;
    session.screenshot("sso-choose-account").await;
    session.click("[data-testid=sso-save]").await;
    session
        .text_containing(
            "[data-testid=access-key-added]",
            "demo-sso",
            Duration::from_secs(10),
        )
        .await;
    let choices = session
        .text("[data-testid=aws-profile-select]", Duration::from_secs(10))
        .await;
    assert!(choices.contains("demo-sso — SSO"), "{choices}");

    let config = std::fs::read_to_string(session.home().join(".aws/config")).unwrap();
    assert!(config.contains("[profile demo-sso]\nsso_session = sso\nsso_account_id = 111122223333\nsso_role_name = PowerUserAccess\n"), "{config}");
    let cache = session.home().join(".aws/sso/cache");
    let token_files: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
    assert_eq!(token_files.len(), 1, "one cached sign-in");
    session.finish().await;
}
