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

/// In the real window, connected to the emulator: a secret created under Settings goes to
/// AWS (the picker, which lists what the account has, shows it) and the Secrets table names
/// it by ARN; the value is not on the page afterwards.
#[tokio::test(flavor = "multi_thread")]
async fn a_secret_created_in_the_settings_reaches_aws_and_is_named_by_arn() {
    const VALUE: &str = "postgres://app:e2e-pa55@db/app";
    let Some(session) = e2e::Session::start("secrets").await else {
        return;
    };
    let app = format!("e2ek{}", std::process::id());
    session.prepare_sample(&app, |config| {
        config.aws.region = Some("ca-central-1".to_owned())
    });
    session.connect_aws(&session.endpoint, &app).await;

    session.tab("settings").await;
    session.click("[data-testid=secret-create-open]").await;
    session
        .fill("[data-testid=secret-variable]", "DATABASE_URL")
        .await;
    session.fill("[data-testid=secret-value]", VALUE).await;
    session.screenshot("secret-create").await;
    session.click("[data-testid=secret-create]").await;
    session
        .text_containing(
            "[data-testid=secret-added]",
            "DATABASE_URL",
            Duration::from_secs(20),
        )
        .await;
    let arn = format!("arn:aws:ssm:ca-central-1:123456789012:parameter/{app}/database-url");
    let rows = session
        .client_execute(
            "return [...document.querySelectorAll('[data-testid=kv-secrets] input')].map(i => i.value)",
            vec![],
        )
        .await;
    let rows: Vec<String> = serde_json::from_value(rows).unwrap();
    assert!(
        rows.contains(&"DATABASE_URL".to_owned()) && rows.contains(&arn),
        "{rows:?}"
    );
    let page = session
        .client_execute("return document.body.innerHTML", vec![])
        .await;
    assert!(
        !page.as_str().unwrap().contains(VALUE),
        "the value is not kept on the page"
    );

    session.click("[data-testid=secret-pick-open]").await;
    let listed = session
        .text("[data-testid=secret-pick]", Duration::from_secs(20))
        .await;
    assert!(
        listed.contains(&format!("/{app}/database-url (Parameter Store)")),
        "{listed}"
    );
    session.screenshot("secret-pick").await;
    session.finish().await;
}
