//! The stable address (issue 18) against the emulator and the test kit, which makes the
//! load balancer real: a listener on its own loopback address, reached by the load
//! balancer's DNS name, forwarding to the healthy targets the stand-in's service
//! scheduler registers. Two deploys and a rollback keep one URL that serves each
//! revision; a revision failing the load balancer's health check is diagnosed and the
//! previous one keeps serving; scaling to 2 and back shows in status and in the cost.

mod deploying;
mod emulator;

use std::time::{Duration, Instant};

use deploying::Deploying;
use slipway_aws::deploy::history::Rollback;
use slipway_aws::deploy::{self, DeployEvent, DeployMode, DeployRequest};
use slipway_core::project::{self, HealthProbe};
use slipway_core::EngineError;

async fn get(url: &str) -> (u16, String) {
    let answer = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .expect("the address answers");
    (answer.status().as_u16(), answer.text().await.unwrap())
}

/// The app's status once `ready` holds of it, or the last one after a minute.
async fn status_until(
    t: &Deploying,
    ready: impl Fn(&deploy::AppStatus) -> bool,
) -> deploy::AppStatus {
    let db = slipway_core::store::db_path(&t.fx.host);
    let conn = t.fx.connect().await;
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let status = deploy::status(&db, &conn, &t.fx.config, time::OffsetDateTime::now_utc())
            .await
            .expect("status reads");
        if ready(&status) || Instant::now() > until {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Scales the app to the test's settings, saving them in its slipway.toml first.
async fn scale(
    t: &Deploying,
    conn: &slipway_aws::aws::Connection,
) -> slipway_core::error::Result<deploy::ScaleOutcome> {
    deploy::scale(&t.fx.host, conn, &t.fx.config.name, || {
        project::save(&t.dir, &t.fx.config)?;
        Ok(t.fx.config.clone())
    })
    .await
}

/// The deploy failed on the load balancer's health check of "/", diagnosed with the path,
/// the port and the security-group cause.
fn fails_the_health_check(deployed: &Result<deploy::DeployOutcome, EngineError>) {
    let Err(EngineError::DeployFailed { diagnosis, .. }) = deployed else {
        panic!("expected the failed health check, got {deployed:?}");
    };
    assert!(
        diagnosis.cause.contains("GET / on port 8080"),
        "{}",
        diagnosis.cause
    );
    assert!(
        diagnosis.fix.contains("security group"),
        "{}",
        diagnosis.fix
    );
}

fn healthy(status: &deploy::AppStatus) -> usize {
    status
        .balancer
        .as_ref()
        .map_or(0, |b| b.targets.iter().filter(|t| t.is_healthy()).count())
}

#[tokio::test(flavor = "multi_thread")]
async fn one_address_serves_each_deploy_and_rollback_and_scaling_shows_in_status_and_cost() {
    let Some(mut t) = Deploying::with("eu-west-3", |config| {
        config.aws.load_balancer = true;
        // The load balancer checks "/"; no check inside the container, so a revision
        // without a page fails only the load balancer's check.
        config.health.probe = HealthProbe::None;
    })
    .await
    else {
        return;
    };
    t.build().await;
    // Asked as a standalone task: the stable address is always a service.
    let (first, events) = t.deploy(&DeployRequest::default()).await;
    let first = first.expect("the first deploy answers behind the load balancer");
    assert_eq!(first.mode, DeployMode::Service);
    assert!(
        first.url.starts_with("http://") && first.url.ends_with(".elb.amazonaws.com"),
        "the URL is the load balancer's name: {}",
        first.url
    );
    assert!(get(&first.url).await.1.contains("Hello from Slipway"));
    let target_states: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            DeployEvent::Target { state, .. } => Some(state.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        target_states.last(),
        Some(&"healthy"),
        "the timeline follows the new task's target to healthy: {target_states:?}"
    );

    t.edit("site/index.html", "<h1>Second release</h1>");
    let second_release = t.build().await;
    let (second, _) = t.deploy(&DeployRequest::default()).await;
    let second = second.expect("the second deploy answers");
    assert_eq!(second.url, first.url, "the address does not change");
    assert!(second.revision > first.revision);
    let (code, body) = get(&second.url).await;
    assert_eq!(code, 200);
    assert!(body.contains("Second release"), "{body}");

    // A release that fails the load balancer's health check (no page at "/"): diagnosed,
    // and the second release keeps serving at the same address.
    std::fs::remove_file(t.dir.join("site/index.html")).unwrap();
    t.edit("site/other.html", "<h1>No index</h1>");
    t.build().await;
    let (failed, _) = t.deploy(&DeployRequest::default()).await;
    fails_the_health_check(&failed);
    let status = status_until(&t, |s| healthy(s) == 1).await;
    assert_eq!(healthy(&status), 1, "{:?}", status.balancer);
    assert!(get(&first.url).await.1.contains("Second release"));

    // Roll back to the first release: same address, the first release's page.
    let (back, _) = t
        .deploy(&DeployRequest {
            mode: DeployMode::Service,
            rollback: Some(Rollback {
                revision: first.revision,
                retag: false,
            }),
            ..DeployRequest::default()
        })
        .await;
    let back = back.expect("the rollback answers");
    assert_eq!(back.url, first.url);
    assert!(get(&back.url).await.1.contains("Hello from Slipway"));
    drop(second_release);

    // Scale to 2 and back to 1: seen in status (targets, tasks) and in the cost.
    let one = status_until(&t, |s| healthy(s) == 1 && s.tasks.len() == 1).await;
    let conn = t.fx.connect().await;
    t.fx.config.aws.tasks = Some(2);
    // While a deploy holds the app, a scale is refused and saves nothing.
    {
        let _deploying = deploy::lock::acquire(
            &slipway_core::app::data_dir(&t.fx.host).join("locks"),
            &conn.identity.account,
            &conn.ctx.region,
            &t.fx.config.name,
            &deploy::lock::Holder {
                deploy_id: "d-elsewhere".into(),
                held_for: deploy::lock::HeldFor::Deploy,
                pid: 1,
                by: "another window".into(),
                since: 0,
            },
            deploy::lock::WhenHeld::Refuse,
            &slipway_core::jobs::Cancel::new(),
        )
        .await
        .unwrap();
        let before = std::fs::read(t.dir.join("slipway.toml")).unwrap();
        let refused = scale(&t, &conn).await.unwrap_err();
        assert!(
            matches!(refused, EngineError::DeployInProgress { .. }),
            "{refused:?}"
        );
        assert!(refused.to_string().contains("d-elsewhere"), "{refused}");
        assert_eq!(std::fs::read(t.dir.join("slipway.toml")).unwrap(), before);
    }
    let scaled = scale(&t, &conn).await.unwrap();
    assert_eq!(scaled.desired, 2);
    let two = status_until(&t, |s| healthy(s) == 2 && s.tasks.len() == 2).await;
    assert_eq!(healthy(&two), 2, "{:?}", two.balancer);
    assert_eq!(two.service.as_ref().map(|s| s.desired), Some(2));
    assert_eq!(two.cost.tasks.len(), 2, "both tasks are billed");
    let task_hour = one.cost.tasks[0].per_hour;
    assert!(
        (two.cost.per_hour - one.cost.per_hour - task_hour).abs() < 1e-9,
        "the second task adds one task's price: {} vs {} + {task_hour}",
        two.cost.per_hour,
        one.cost.per_hour
    );
    assert!(two
        .tasks
        .iter()
        .all(|task| task.url.as_deref() == Some(first.url.as_str())));
    // The same count again changes nothing on AWS.
    t.fx.proxy.forget_calls();
    assert!(scale(&t, &conn).await.unwrap().changes.is_empty());
    assert!(
        t.fx.proxy.mutating_calls().is_empty(),
        "{:?}",
        t.fx.proxy.mutating_calls()
    );
    t.fx.config.aws.tasks = None;
    assert_eq!(scale(&t, &conn).await.unwrap().desired, 1);
    let back_to_one = status_until(&t, |s| healthy(s) == 1 && s.tasks.len() == 1).await;
    assert_eq!(back_to_one.tasks.len(), 1);
    assert!((back_to_one.cost.per_hour - one.cost.per_hour).abs() < 1e-9);

    // Auto scaling between 1 and 3 on CPU: set in Application Auto Scaling, once.
    t.fx.config.aws.max_tasks = Some(3);
    t.fx.config.aws.cpu_target = Some(70);
    let scaled = scale(&t, &conn).await.unwrap();
    assert_eq!(
        scaled.scaling,
        Some(deploy::Scaling {
            min: 1,
            max: 3,
            cpu_target: Some(70),
            requests_target: None,
        })
    );
    t.fx.proxy.forget_calls();
    assert!(scale(&t, &conn).await.unwrap().changes.is_empty());
    assert!(t.fx.proxy.mutating_calls().is_empty());
    // On requests instead: the load balancer's count for the app's target group, and the
    // CPU policy gone; once.
    t.fx.config.aws.cpu_target = None;
    t.fx.config.aws.requests_target = Some(500);
    let scaled = scale(&t, &conn).await.unwrap();
    assert_eq!(
        scaled.scaling,
        Some(deploy::Scaling {
            min: 1,
            max: 3,
            cpu_target: None,
            requests_target: Some(500),
        })
    );
    let aas = aws_sdk_applicationautoscaling::Client::new(&t.fx.direct().await);
    let policies = aas
        .describe_scaling_policies()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .resource_id(format!(
            "service/{}/{}",
            t.fx.names().cluster,
            t.fx.config.name
        ))
        .send()
        .await
        .unwrap();
    let [policy] = policies.scaling_policies() else {
        panic!("one policy: {:?}", policies.scaling_policies());
    };
    let metric = policy
        .target_tracking_scaling_policy_configuration()
        .and_then(|c| c.predefined_metric_specification())
        .expect("a predefined metric");
    assert_eq!(
        metric.predefined_metric_type(),
        &aws_sdk_applicationautoscaling::types::MetricType::AlbRequestCountPerTarget
    );
    let label = metric.resource_label().unwrap_or_default();
    assert!(
        label.starts_with("app/") && label.contains("/targetgroup/"),
        "{label}"
    );
    t.fx.proxy.forget_calls();
    assert!(scale(&t, &conn).await.unwrap().changes.is_empty());
    assert!(t.fx.proxy.mutating_calls().is_empty());
    // Stop turns Slipway's scaling off before scaling the service to zero.
    let stopped = deploy::stop_app(&conn, &t.fx.config).await.unwrap();
    assert!(stopped.failed.is_empty(), "{:?}", stopped.failed);
    let targets = aas
        .describe_scalable_targets()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .send()
        .await
        .unwrap();
    assert!(
        targets
            .scalable_targets()
            .iter()
            .all(|s| !s.resource_id().contains(&t.fx.config.name)),
        "{:?}",
        targets.scalable_targets()
    );
    t.shut_down().await;
}

/// A first deploy behind the load balancer whose release fails the health check: the
/// circuit breaker has no earlier revision to go back to, so ECS would go on starting
/// (and billing) failing tasks. The service the deploy created is scaled to zero, said in
/// the timeline, and nothing of it runs afterwards.
#[tokio::test(flavor = "multi_thread")]
async fn a_first_deploy_that_fails_its_health_check_leaves_nothing_running() {
    let Some(t) = Deploying::with("me-south-1", |config| {
        config.aws.load_balancer = true;
        config.health.probe = HealthProbe::None;
    })
    .await
    else {
        return;
    };
    std::fs::remove_file(t.dir.join("site/index.html")).unwrap();
    t.edit("site/other.html", "<h1>No index</h1>");
    t.build().await;
    let (failed, events) = t.deploy(&DeployRequest::default()).await;
    fails_the_health_check(&failed);
    assert!(
        events.iter().any(|e| matches!(
            e,
            DeployEvent::ServiceEvent { message, .. } if message.contains("to 0 tasks")
        )),
        "the timeline says the service was scaled to zero: {events:?}"
    );
    assert_eq!(t.service().await.desired_count(), 0);
    let status = status_until(&t, |s| s.tasks.is_empty()).await;
    assert!(status.tasks.is_empty(), "{:?}", status.tasks);
    let db = slipway_core::store::db_path(&t.fx.host);
    let entry = deploy::journal::history(
        &db,
        &t.fx.connect().await.identity.account,
        &t.fx.region,
        &t.fx.config.name,
    )
    .unwrap()
    .remove(0);
    assert_eq!(entry.outcome.map(|o| o.as_str()), Some("failed"));
    assert!(
        entry
            .summary
            .as_deref()
            .unwrap_or_default()
            .contains("to 0 tasks"),
        "{:?}",
        entry.summary
    );

    // Failing again: the service had no tasks before this deploy either, so it goes back
    // to zero again rather than retrying for ever.
    t.edit("site/other.html", "<h1>Still no index</h1>");
    t.build().await;
    let (again, _) = t.deploy(&DeployRequest::default()).await;
    fails_the_health_check(&again);
    assert_eq!(t.service().await.desired_count(), 0);
    let status = status_until(&t, |s| s.tasks.is_empty()).await;
    assert!(status.tasks.is_empty(), "{:?}", status.tasks);
    t.shut_down().await;
}
