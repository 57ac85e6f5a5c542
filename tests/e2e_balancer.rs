//! End to end: in the real window, a user opens the sample, chooses "One address that never
//! changes" in AWS setup, reviews and applies the plan (the load balancer with its own
//! security group, target group and listener, in the emulator through the fault proxy),
//! deploys, and finds the load balancer's address in the page's header, with the target's
//! health in the deploy's timeline. The test kit's Fargate stand-in runs the task and makes
//! the load balancer real (its DNS name leads to a listener that forwards to the healthy
//! targets), so the test fetches the address and reads the sample's page.

mod e2e;

use std::sync::Arc;
use std::time::Duration;

use slipway_testkit::{FargateStandIn, FaultProxy};

/// This test's own region, so no other window test shares its default VPC or its stand-in.
const REGION: &str = "ap-northeast-1";

#[tokio::test(flavor = "multi_thread")]
async fn the_stable_address_is_chosen_deployed_and_answers_from_the_header() {
    let Some(session) = e2e::Session::start("stable-address").await else {
        return;
    };
    if slipway_core::test_support::require("SLIPWAY_TEST_ECR_CA").is_none() {
        return;
    }
    // Short: the load balancer's name is `slipway-<app>` and ELBv2 allows 32 characters.
    let app = format!("e2elb{}", std::process::id() % 100_000);
    let sample = session.prepare_sample(&app, |config| config.aws.region = Some(REGION.to_owned()));
    let arranged = session.arrange_emulator(REGION).await;
    let proxy = Arc::new(FaultProxy::start(&session.endpoint).await);
    let standin = FargateStandIn::start(&session.endpoint, REGION, proxy.clone()).await;

    // AWS setup: the choice in plain words, saved to slipway.toml by Review plan.
    session.connect_aws(&proxy.url(), &app).await;
    session.click("[data-testid=address-stable]").await;
    let cost = session
        .text("[data-testid=address-cost]", Duration::from_secs(10))
        .await;
    assert!(
        cost.contains("One address that never changes"),
        "the choice says what it costs, or where that is said: {cost}"
    );
    session.click("[data-testid=plan-setup]").await;
    session
        .text_containing(
            "[data-testid=setup-resource][data-kind=loadBalancer] [data-testid=resource-state]",
            "Will be created",
            Duration::from_secs(60),
        )
        .await;
    let saved = slipway_core::project::load(&sample).unwrap().unwrap();
    assert!(
        saved.aws.load_balancer,
        "Review plan saved the choice in slipway.toml"
    );
    for kind in ["balancerSecurityGroup", "targetGroup", "listener"] {
        session
            .text_containing(
                &format!(
                    "[data-testid=setup-resource][data-kind={kind}] [data-testid=resource-state]"
                ),
                "Will be created",
                Duration::from_secs(10),
            )
            .await;
    }
    session.scroll_to("[data-testid=address-choice]").await;
    session.screenshot("stable-address-plan").await;
    session.click("[data-testid=apply-setup]").await;
    for kind in ["loadBalancer", "targetGroup", "listener", "subnets"] {
        session
            .text_containing(
                &format!(
                    "[data-testid=setup-resource][data-kind={kind}] [data-testid=resource-state]"
                ),
                "Ready",
                Duration::from_secs(120),
            )
            .await;
    }
    session
        .text("[data-testid=setup-nothing-to-do]", Duration::from_secs(30))
        .await;

    // Deploy from the Overview: a service behind the load balancer, built first.
    session.tab("overview").await;
    session
        .text_containing(
            "[data-testid=deploy-balanced]",
            "one address that never changes",
            Duration::from_secs(20),
        )
        .await;
    session
        .click_until(
            "[data-testid=deploy-button]",
            "[data-testid=deploy-step]",
            Duration::from_secs(10),
        )
        .await;
    session
        .text_containing(
            "[data-testid=deploy-answer]",
            "Hello from Slipway",
            Duration::from_secs(300),
        )
        .await;
    let url = session
        .text_containing(
            "[data-testid=deploy-url]",
            ".elb.amazonaws.com",
            Duration::from_secs(10),
        )
        .await;
    assert!(
        url.starts_with("http://") && url.contains(&format!(".{REGION}.elb.amazonaws.com")),
        "the deploy answers at the load balancer's name: {url}"
    );
    session
        .text(
            "[data-testid=target-row][data-state=healthy]",
            Duration::from_secs(10),
        )
        .await;

    // The header: the address that never changes, and the task the load balancer finds healthy.
    let header = session
        .text_containing(
            "[data-testid=app-header-url]",
            &url,
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(header, url);
    let facts = session
        .text_containing(
            "[data-testid=app-header-facts]",
            "task healthy",
            Duration::from_secs(60),
        )
        .await;
    assert!(
        facts.starts_with("address never changes · 1 of 1 task healthy"),
        "the header says the address stays and the task is healthy: {facts}"
    );
    session
        .text_containing(
            "[data-testid=status-target-said]",
            "healthy",
            Duration::from_secs(30),
        )
        .await;

    // The address answers for real, by its DNS name, with the sample's page.
    let answer = reqwest::get(&url).await.expect("the load balancer answers");
    assert_eq!(answer.status().as_u16(), 200);
    assert!(answer.text().await.unwrap().contains("Hello from Slipway"));

    session.scroll_to("[data-testid=app-header]").await;
    session.screenshot("stable-address").await;

    // Two tasks behind the same address: saved in slipway.toml, the second one healthy too.
    session.click("[data-testid=scale-open]").await;
    session.fill("[data-testid=scale-tasks]", "2").await;
    session.click("[data-testid=scale-apply]").await;
    session
        .text_containing(
            "[data-testid=scale-result]",
            "runs 2 tasks",
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(
        slipway_core::project::load(&sample)
            .unwrap()
            .unwrap()
            .aws
            .tasks,
        Some(2),
        "the number is saved, so the next deploy keeps it"
    );
    session
        .text_containing(
            "[data-testid=app-header-facts]",
            "2 of 2 tasks healthy",
            Duration::from_secs(120),
        )
        .await;
    session
        .text_containing("[data-testid=app-header-url]", &url, Duration::from_secs(5))
        .await;
    let answer = reqwest::get(&url).await.expect("the load balancer answers");
    assert_eq!(answer.status().as_u16(), 200);
    session.scroll_to("[data-testid=status-balancer]").await;
    session.screenshot("stable-address-status").await;

    // Blue/green, chosen in plain words: setup adds its part, and the next deploy moves
    // every visitor at once to the new release, which the timeline leads with.
    standin.set_bake_minute(Duration::from_secs(20));
    session.tab("aws").await;
    session
        .client_execute(
            "const s = document.querySelector('[data-testid=rollout]');
             s.value = 'blue-green';
             s.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![],
        )
        .await;
    let hint = session
        .text_containing(
            "#rollout-hint",
            "Both releases run for 5 minutes",
            Duration::from_secs(10),
        )
        .await;
    assert!(hint.contains("a deploy)"), "the bake is priced: {hint}");
    session.click("[data-testid=plan-setup]").await;
    session
        .text_containing(
            "[data-testid=setup-resource][data-kind=blueGreen] [data-testid=resource-state]",
            "Will be created",
            Duration::from_secs(60),
        )
        .await;
    session.click("[data-testid=apply-setup]").await;
    session
        .text_containing(
            "[data-testid=setup-resource][data-kind=blueGreen] [data-testid=resource-state]",
            "Ready",
            Duration::from_secs(120),
        )
        .await;
    assert_eq!(
        slipway_core::project::load(&sample)
            .unwrap()
            .unwrap()
            .aws
            .bake_minutes,
        Some(5)
    );
    std::fs::write(
        sample.join("site/index.html"),
        "<h1>Blue green release</h1>",
    )
    .unwrap();
    // Deploy builds the folder first.
    session.tab("overview").await;
    session
        .click_until(
            "[data-testid=deploy-button]",
            "[data-testid=deploy-step]",
            Duration::from_secs(10),
        )
        .await;
    session
        .text_containing(
            "[data-testid=deploy-rollout]",
            "stays ready for 5 min",
            Duration::from_secs(300),
        )
        .await;
    session
        .text_containing(
            "[data-testid=rollout-roll-back]",
            "Roll back now",
            Duration::from_secs(5),
        )
        .await;
    session.scroll_to("[data-testid=deploy-rollout]").await;
    session.screenshot("blue-green-bake").await;
    let answer = reqwest::get(&url).await.expect("the load balancer answers");
    assert!(
        answer.text().await.unwrap().contains("Blue green release"),
        "every visitor is on the new release during the bake"
    );
    session
        .text_containing(
            "[data-testid=deploy-answer]",
            "Blue green release",
            Duration::from_secs(300),
        )
        .await;

    session.clean_up(arranged, &app, Some(standin)).await;
}
