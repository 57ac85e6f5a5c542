//! The Fargate stand-in makes an Application Load Balancer real in front of moto: a
//! service with `loadBalancers` gets its tasks registered and health-checked, its URL (the
//! load balancer's DNS name) answers from them for any process on the machine, rollouts
//! complete only once the new targets are healthy, a revision failing its health check is
//! stopped with AWS's reason and rolled back by the circuit breaker, and two tasks are two
//! targets, sticky by cookie. Against the test environment (moto, Docker, the registry
//! that answers as ECR); a missing environment fails the test.

mod balanced;

use std::time::{Duration, Instant};

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, ProtocolEnum, RedirectActionConfig,
    RedirectActionStatusCodeEnum,
};
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ResourceRecordSet, RrType,
};
use balanced::{attribute, primary, Stage};
use slipway_testkit::TargetHealth;

#[tokio::test(flavor = "multi_thread")]
async fn the_url_serves_each_revision_once_healthy_and_a_failing_one_is_rolled_back() {
    let stage = Stage::new("ap-southeast-3", "lbroll").await;
    let lb = stage.balancer().await;
    let v1 = stage.revision("v1", true).await;
    let service_arn = stage.service(&lb, &v1, 1, 4).await;
    let url = format!("http://{}/", lb.dns);

    // The URL, by the load balancer's DNS name, answers from the task.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !stage.get(&url, None).await.1.starts_with("v1") {
        assert!(Instant::now() < deadline, "{url} never served v1");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let curl = std::process::Command::new("curl")
        .args(["-s", "--max-time", "5", &url])
        .output()
        .expect("curl runs");
    assert!(
        String::from_utf8_lossy(&curl.stdout).starts_with("v1"),
        "another process reaches the URL by name: {curl:?}"
    );
    stage
        .until("v1's rollout completes", 30, |s| {
            primary(s).1 == "COMPLETED"
        })
        .await;
    let health = stage.health(&lb.group).await;
    assert_eq!(health.len(), 1, "{health:?}");
    assert_eq!(health[0].1, "healthy", "{health:?}");
    assert!(
        stage.standin.target_address(&health[0].0).is_some(),
        "the target is the task's private IP, which the stand-in maps to its container"
    );
    let described = stage.described().await;
    assert_eq!(described.health_check_grace_period_seconds(), Some(4));

    // v2 completes only once its target is healthy; the URL then serves v2 alone.
    let v2 = stage.revision("v2", true).await;
    stage.update(Some(&v2), None).await;
    let updated = Instant::now();
    let mut waited_for_health = false;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let service = stage.described().await;
        let new = service
            .deployments()
            .iter()
            .find(|d| d.task_definition() == Some(v2.as_str()));
        if let Some(new) = new {
            let rollout = new.rollout_state().map(|r| r.as_str()).unwrap_or_default();
            if rollout == "IN_PROGRESS" && new.running_count() == 1 {
                waited_for_health = true;
            }
            if rollout == "COMPLETED" {
                let health = stage.health(&lb.group).await;
                let healthy: Vec<_> = health.iter().filter(|h| h.1 == "healthy").collect();
                assert_eq!(healthy.len(), 1, "only the new target serves: {health:?}");
                eprintln!(
                    "v2's rollout completed {:?} after UpdateService",
                    updated.elapsed()
                );
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "v2's rollout never completed: {service:#?}"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert!(
        waited_for_health,
        "the rollout stayed in progress while v2's task ran but was not yet healthy"
    );
    for _ in 0..5 {
        let (status, body, _) = stage.get(&url, None).await;
        assert_eq!(status, 200);
        assert!(
            body.starts_with("v2"),
            "after the rollout only v2 serves: {body}"
        );
    }

    // v3 fails its health check (/health is a 404): each task is stopped with AWS's
    // reason and replaced, the circuit breaker fails the rollout and rolls back to v2,
    // and the URL serves v2 all along.
    let v3 = stage.revision("v3", false).await;
    stage.update(Some(&v3), None).await;
    let updated = Instant::now();
    let mut saw_mismatch = false;
    let mut saw_failed = false;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let service = stage.described().await;
        saw_failed |= service.deployments().iter().any(|d| {
            d.task_definition() == Some(v3.as_str())
                && d.rollout_state().is_some_and(|r| r.as_str() == "FAILED")
                && d.rollout_state_reason()
                    .unwrap_or_default()
                    .contains("circuit breaker")
        });
        saw_mismatch |= stage.health(&lb.group).await.iter().any(|h| {
            h.1 == "unhealthy"
                && h.2 == "Target.ResponseCodeMismatch"
                && h.3 == "Health checks failed with these codes: [404]"
        });
        let (_, body, _) = stage.get(&url, None).await;
        assert!(
            body.starts_with("v2"),
            "v2 serves during the failing rollout: {body}"
        );
        if primary(&service) == (v2.clone(), "COMPLETED".into()) && saw_failed {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "v3 was never rolled back: {service:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "v3 failed and was rolled back {:?} after UpdateService",
        updated.elapsed()
    );
    assert!(
        saw_mismatch,
        "DescribeTargetHealth said why v3's targets were unhealthy"
    );
    let elb_reason = format!(
        "Task failed ELB health checks in (target-group {})",
        lb.group
    );
    let reasons = stage.stopped_reasons().await;
    let failed = reasons.iter().filter(|r| **r == elb_reason).count();
    assert!(
        failed >= 3,
        "three v3 tasks were stopped for their health checks: {reasons:#?} {:#?}",
        stage.standin.service_events(&service_arn)
    );
    let moto_definition = stage
        .ecs
        .describe_services()
        .cluster(&stage.name)
        .services("web")
        .send()
        .await
        .unwrap()
        .services()[0]
        .task_definition()
        .unwrap()
        .to_owned();
    assert_eq!(
        moto_definition, v2,
        "the rollback gave the service v2 again"
    );
    let events: Vec<String> = stage
        .described()
        .await
        .events()
        .iter()
        .filter_map(|e| e.message().map(str::to_owned))
        .collect();
    assert!(
        events
            .iter()
            .any(|e| e.ends_with("deployment failed: tasks failed to start.")),
        "{events:#?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.starts_with("(service web) rolling back to deployment ecs-svc/")),
        "{events:#?}"
    );
    assert_eq!(
        stage.standin.service_events(&service_arn).len(),
        events.len()
    );
    stage.tear_down(lb).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_tasks_are_two_healthy_targets_sticky_by_cookie_and_scale_back_to_one() {
    let stage = Stage::new("ap-southeast-4", "lbscale").await;
    let lb = stage.balancer().await;
    let v1 = stage.revision("v1", true).await;
    stage.service(&lb, &v1, 2, 0).await;
    let url = format!("http://{}/", lb.dns);

    let healthy = |health: &[(String, String, String, String)]| {
        health.iter().filter(|h| h.1 == "healthy").count()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while healthy(&stage.health(&lb.group).await) < 2 {
        assert!(
            Instant::now() < deadline,
            "two healthy targets: {:?}",
            stage.health(&lb.group).await
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let service = stage
        .until("the rollout of two tasks completes", 30, |s| {
            primary(s).1 == "COMPLETED"
        })
        .await;
    assert_eq!(service.running_count(), 2);
    let measured: Vec<TargetHealth> = stage.standin.target_health(&lb.group);
    assert_eq!(measured.len(), 2, "{measured:?}");

    // Round robin over both tasks, each of which says its hostname.
    let mut seen = std::collections::HashSet::new();
    for _ in 0..6 {
        let (status, body, cookie) = stage.get(&url, None).await;
        assert_eq!((status, cookie), (200, None), "{body}");
        seen.insert(body);
    }
    assert_eq!(seen.len(), 2, "both targets answer: {seen:?}");

    // Stickiness on: the AWSALB cookie keeps a visitor on one task.
    stage
        .elb
        .modify_target_group_attributes()
        .target_group_arn(&lb.group)
        .attributes(attribute("stickiness.enabled", "true"))
        .attributes(attribute("stickiness.type", "lb_cookie"))
        .attributes(attribute("stickiness.lb_cookie.duration_seconds", "60"))
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let (first, cookie) = loop {
        let (_, body, cookie) = stage.get(&url, None).await;
        if let Some(cookie) = cookie {
            break (body, cookie);
        }
        assert!(
            Instant::now() < deadline,
            "no AWSALB cookie once stickiness is on"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    for _ in 0..5 {
        assert_eq!(
            stage.get(&url, Some(&cookie)).await.1,
            first,
            "the cookie sticks"
        );
    }

    // A listener that redirects HTTP to HTTPS answers with the Location it builds.
    stage
        .elb
        .create_listener()
        .load_balancer_arn(&lb.arn)
        .protocol(ProtocolEnum::Http)
        .port(81)
        .default_actions(
            Action::builder()
                .r#type(ActionTypeEnum::Redirect)
                .redirect_config(
                    RedirectActionConfig::builder()
                        .protocol("HTTPS")
                        .port("443")
                        .status_code(RedirectActionStatusCodeEnum::Http301)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let redirect_url = format!("http://{}:81/app?x=1", lb.dns);
    let deadline = Instant::now() + Duration::from_secs(10);
    let answer = loop {
        if let Ok(answer) = stage.http.get(&redirect_url).send().await {
            break answer;
        }
        assert!(
            Instant::now() < deadline,
            "the redirect listener never answered"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(answer.status().as_u16(), 301);
    assert_eq!(
        answer.headers()["location"].to_str().unwrap(),
        format!("https://{}/app?x=1", lb.dns)
    );

    // An HTTPS listener (with a certificate ACM issued) serves TLS on 443, with a
    // certificate of the stand-in's own for the DNS name.
    let certificate = aws_sdk_acm::Client::new(&stage.direct)
        .request_certificate()
        .domain_name("app.example.com")
        .send()
        .await
        .unwrap()
        .certificate_arn()
        .unwrap()
        .to_owned();
    stage
        .elb
        .create_listener()
        .load_balancer_arn(&lb.arn)
        .protocol(ProtocolEnum::Https)
        .port(443)
        .certificates(Certificate::builder().certificate_arn(certificate).build())
        .default_actions(
            Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(&lb.group)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let tls = reqwest::Client::builder()
        .no_proxy()
        .tls_danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let secure_url = format!("https://{}/", lb.dns);
    let deadline = Instant::now() + Duration::from_secs(10);
    let body = loop {
        if let Ok(answer) = tls.get(&secure_url).send().await {
            assert_eq!(answer.status().as_u16(), 200);
            break answer.text().await.unwrap();
        }
        assert!(Instant::now() < deadline, "{secure_url} never answered");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(body.starts_with("v1"), "{body}");

    // The user's domain, aliased to the load balancer in Route 53, leads there too.
    let route53 = aws_sdk_route53::Client::new(&stage.direct);
    let zone_name = format!("{}.example", stage.name);
    let zone = route53
        .create_hosted_zone()
        .name(&zone_name)
        .caller_reference(&stage.name)
        .send()
        .await
        .unwrap()
        .hosted_zone()
        .unwrap()
        .id()
        .to_owned();
    let alias = |action: ChangeAction| {
        ChangeBatch::builder()
            .changes(
                Change::builder()
                    .action(action)
                    .resource_record_set(
                        ResourceRecordSet::builder()
                            .name(format!("app.{zone_name}"))
                            .r#type(RrType::A)
                            .alias_target(
                                AliasTarget::builder()
                                    .hosted_zone_id("Z35SXDOTRQ7X7K")
                                    .dns_name(format!("dualstack.{}", lb.dns))
                                    .evaluate_target_health(false)
                                    .build()
                                    .unwrap(),
                            )
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    };
    route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(alias(ChangeAction::Upsert))
        .send()
        .await
        .unwrap();
    let domain_url = format!("https://app.{zone_name}/");
    let deadline = Instant::now() + Duration::from_secs(15);
    let body = loop {
        if let Ok(answer) = tls.get(&domain_url).send().await {
            break answer.text().await.unwrap();
        }
        assert!(Instant::now() < deadline, "{domain_url} never answered");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(body.starts_with("v1"), "{body}");
    route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(alias(ChangeAction::Delete))
        .send()
        .await
        .unwrap();
    route53.delete_hosted_zone().id(&zone).send().await.unwrap();

    // Back to one task: one target left, the other drained away.
    stage.update(None, Some(1)).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let health = stage.health(&lb.group).await;
        if health.len() == 1 && health[0].1 == "healthy" {
            break;
        }
        assert!(Instant::now() < deadline, "one target left: {health:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(stage.described().await.running_count(), 1);

    // No task at all: the load balancer answers 503 as an ALB does.
    stage.update(None, Some(0)).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while stage.get(&url, None).await.0 != 503 {
        assert!(Instant::now() < deadline, "503 once no target is left");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    stage.tear_down(lb).await;
}
