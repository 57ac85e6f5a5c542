//! Fault benchmark (`make bench`): deploys of the sample against the AWS emulator through
//! the test kit's fault proxy, with the Fargate stand-in running the tasks. It prints:
//! - deploys under a 20 % chance of HTTP 503 on every ECS and EC2 call: how many of 20
//!   succeed, how many transient failures each rode out, and the time added against the
//!   same deploys without faults (median);
//! - cancel latency at 20 points of a deploy (spread evenly over a clean deploy's
//!   duration, so push, register, start, wait and verify are each hit): the time from the
//!   cancel to the deploy returning, undo included, and whether anything it started was
//!   left running.
//!
//! Needs the test environment (`eval "$(tests/env/up)"`).

#[path = "../tests/deploying/mod.rs"]
mod deploying;
#[path = "../tests/emulator/mod.rs"]
mod emulator;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deploying::{Deploying, Timed};
use slipway_aws::deploy::{DeployEvent, DeployRequest};
use slipway_core::jobs::Cancel;
use slipway_testkit::Fault;

const FAULTY_RUNS: usize = 20;
const CLEAN_RUNS: usize = 3;
const CANCEL_POINTS: usize = 20;

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn request() -> DeployRequest {
    DeployRequest {
        deadline_seconds: Some(300),
        ..Default::default()
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let Some(t) = Deploying::new("eu-west-1").await else {
        eprintln!("the test environment is not up: run `eval \"$(tests/env/up)\"` first");
        return;
    };
    t.build().await;

    let mut clean = Vec::new();
    for _ in 0..CLEAN_RUNS {
        let started = Instant::now();
        t.deploy(&request())
            .await
            .0
            .expect("a clean deploy answers");
        clean.push(started.elapsed().as_secs_f64() * 1000.0);
    }

    t.fx.proxy
        .fail_randomly("ecs:*", Fault::ServerError(503), 0.2, 2026);
    t.fx.proxy
        .fail_randomly("ec2:*", Fault::ServerError(503), 0.2, 1202);
    let mut faulty = Vec::new();
    let mut succeeded = 0;
    let mut injected = Vec::new();
    let mut retried = Vec::new();
    println!("run  outcome   time (ms)  503s injected  retried by Slipway");
    for run in 1..=FAULTY_RUNS {
        t.fx.proxy.forget_calls();
        let started = Instant::now();
        let (result, events) = t.deploy(&request()).await;
        let took = started.elapsed().as_secs_f64() * 1000.0;
        let faults =
            t.fx.proxy
                .calls()
                .iter()
                .filter(|c| c.fault.is_some())
                .count();
        let retries = events
            .iter()
            .filter(|e| matches!(e, DeployEvent::Retrying { .. }))
            .count();
        let outcome = match &result {
            Ok(_) => {
                succeeded += 1;
                faulty.push(took);
                "ok"
            }
            Err(_) => "FAILED",
        };
        println!("{run:>3}  {outcome:<8} {took:>10.0}  {faults:>13}  {retries:>18}");
        if let Err(e) = result {
            println!("     {e}");
        }
        injected.push(faults as f64);
        retried.push(retries as f64);
    }
    t.fx.proxy.heal();
    println!();
    println!(
        "under a 20 % chance of 503 on every ECS and EC2 call: {succeeded} of {FAULTY_RUNS} deploys succeeded ({:.0} %)",
        100.0 * succeeded as f64 / FAULTY_RUNS as f64
    );
    println!(
        "median deploy: {:.0} ms clean, {:.0} ms under faults (added {:.0} ms); median 503s per deploy {:.0}, Slipway's own retries {:.0}",
        median(clean.clone()),
        median(faulty.clone()),
        median(faulty) - median(clean.clone()),
        median(injected),
        median(retried)
    );

    // Cancel latency at moments spread over a clean deploy's duration.
    println!();
    println!("point  cancelled at (ms)  last event before it         latency (ms)  left running");
    let span = median(clean.clone());
    let mut latencies = Vec::new();
    let mut leaks = 0;
    for point in 1..=CANCEL_POINTS {
        let at = Duration::from_secs_f64(span * point as f64 / (CANCEL_POINTS + 1) as f64 / 1000.0);
        let cancelled_at = Arc::new(Mutex::new(None));
        let cancel = Cancel::new();
        let (mark, trip) = (cancelled_at.clone(), cancel.clone());
        let timer = tokio::spawn(async move {
            tokio::time::sleep(at).await;
            *mark.lock().unwrap() = Some(Instant::now());
            trip.cancel();
        });
        let events = Timed::default();
        let result = t.deploy_with(&request(), &events, &cancel).await;
        let returned = Instant::now();
        timer.abort();
        let Some(cancelled) = *cancelled_at.lock().unwrap() else {
            println!(
                "{point:>5}  {:>17.0}  (the deploy ended first)",
                at.as_secs_f64() * 1000.0
            );
            continue;
        };
        let latency = returned.saturating_duration_since(cancelled).as_secs_f64() * 1000.0;
        let last = events
            .0
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|(when, _)| *when <= cancelled)
            .map(|(_, e)| format!("{e:?}").chars().take(28).collect::<String>())
            .unwrap_or_default();
        // Only the version running before may run after a cancel.
        let live = t.live_tasks().await;
        let left = if result.is_ok() {
            0
        } else {
            live.len().saturating_sub(1)
        };
        leaks += left;
        println!(
            "{point:>5}  {:>17.0}  {last:<28} {latency:>12.0}  {left:>12}",
            at.as_secs_f64() * 1000.0
        );
        if result.is_ok() {
            // It answered before the cancel reached it: not a cancel point.
            continue;
        }
        latencies.push(latency);
        if live.is_empty() {
            t.deploy(&request())
                .await
                .0
                .expect("a clean deploy answers");
        }
    }
    let max = latencies.iter().cloned().fold(0.0, f64::max);
    println!();
    println!(
        "cancel latency over {} points: median {:.0} ms, max {:.0} ms (goal < 1000 ms); tasks left running by a cancel: {leaks}",
        latencies.len(),
        median(latencies),
        max
    );
    t.shut_down().await;
}
