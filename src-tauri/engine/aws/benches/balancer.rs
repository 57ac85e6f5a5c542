//! Stable-address benchmark (`make bench`, issue 18): deploys of the sample behind the
//! load balancer against the AWS emulator, with the test kit's stand-in running the
//! service's tasks, registering them as targets, checking their health and serving the
//! load balancer's address; then blue/green deploys (a bake of 0 minutes, so the figure is
//! the switch itself); beside the same number of standalone-task deploys. It prints, per
//! run and as medians:
//! - the time from the deploy's start to "the address answers with the new revision"
//!   (the page each release writes is fetched at the deploy's URL);
//! - AWS calls per deploy, by action (the proxy counts them).
//!
//! The stand-in checks target health every second with a threshold of 2, where AWS's
//! defaults are 30 s and 5 (Slipway sets 10 s and 2): on AWS, add about 20 s per deploy
//! for the health checks, and the task start the stand-in skips.
//!
//! Needs the test environment (`eval "$(tests/env/up)"`).

#[path = "../tests/deploying/mod.rs"]
mod deploying;
#[path = "../tests/emulator/mod.rs"]
mod emulator;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use deploying::{Deploying, Timed};
use slipway_aws::deploy::DeployRequest;
use slipway_core::jobs::Cancel;
use slipway_core::project::HealthProbe;

const RUNS: usize = 3;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

struct Figures {
    times: Vec<f64>,
    calls: Vec<f64>,
    by_action: BTreeMap<String, usize>,
}

async fn answers_with(url: &str, marker: &str) -> bool {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    match client.get(url).send().await {
        Ok(answer) => answer.text().await.unwrap_or_default().contains(marker),
        Err(_) => false,
    }
}

async fn measure(t: &Deploying, label: &str) -> Figures {
    let mut figures = Figures {
        times: vec![],
        calls: vec![],
        by_action: BTreeMap::new(),
    };
    for run in 1..=RUNS {
        let marker = format!("{label} release {run}");
        t.edit("site/index.html", &format!("<h1>{marker}</h1>"));
        t.build().await;
        t.fx.proxy.forget_calls();
        let started = Instant::now();
        let outcome = t
            .deploy_with(&DeployRequest::default(), &Timed::default(), &Cancel::new())
            .await
            .expect("the deploy answers");
        while !answers_with(&outcome.url, &marker).await {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "{} never served {marker}",
                outcome.url
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let total = started.elapsed().as_secs_f64() * 1000.0;
        let calls = t.fx.proxy.calls();
        for call in &calls {
            *figures.by_action.entry(call.action.clone()).or_default() += 1;
        }
        figures.calls.push(calls.len() as f64);
        figures.times.push(total);
        println!(
            "{label:<16} run {run}: answers with the new release after {total:>6.0} ms, {} AWS calls, {}",
            calls.len(),
            outcome.url
        );
    }
    figures
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let Some(balanced) = Deploying::with("ca-central-1", |config| {
        config.aws.load_balancer = true;
        config.health.probe = HealthProbe::None;
    })
    .await
    else {
        eprintln!("the test environment is not up: run `eval \"$(tests/env/up)\"` first");
        return;
    };
    let behind = measure(&balanced, "load balancer").await;
    balanced.shut_down().await;
    let Some(switched) = Deploying::with("us-west-2", |config| {
        config.aws.load_balancer = true;
        config.aws.bake_minutes = Some(0);
        config.health.probe = HealthProbe::None;
    })
    .await
    else {
        return;
    };
    let blue_green = measure(&switched, "blue/green").await;
    switched.shut_down().await;
    let Some(standalone) = Deploying::with("sa-east-1", |config| {
        config.health.probe = HealthProbe::None;
    })
    .await
    else {
        return;
    };
    let tasks = measure(&standalone, "standalone task").await;
    standalone.shut_down().await;

    println!();
    println!("figure (median of {RUNS})                         behind the load balancer   blue/green   standalone task");
    println!(
        "deploy start to the new release answering (ms)   {:>24.0}   {:>10.0}   {:>15.0}",
        median(behind.times),
        median(blue_green.times),
        median(tasks.times)
    );
    println!(
        "AWS calls per deploy                             {:>24.0}   {:>10.0}   {:>15.0}",
        median(behind.calls),
        median(blue_green.calls),
        median(tasks.calls)
    );
    for (label, by_action) in [
        ("behind the load balancer", behind.by_action),
        ("blue/green", blue_green.by_action),
        ("standalone task", tasks.by_action),
    ] {
        println!();
        println!("AWS calls over {RUNS} deploys {label}, by action:");
        for (action, n) in by_action {
            println!("  {action:<40} {n}");
        }
    }
}
