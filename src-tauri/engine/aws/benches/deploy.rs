//! Deploy benchmark (`make bench`): deploys of the sample against the AWS emulator with a
//! scripted progression (PROVISIONING 3 s, PENDING 3 s, then RUNNING) injected by the
//! test kit's proxy, with the Fargate stand-in running the task. It prints, per run and
//! as medians:
//! - how long after each scripted state change Slipway showed it (the event reached the
//!   sink), against the AWS CLI waiter's 6 s poll (`aws ecs wait tasks-running`: 3 s on
//!   average, 6 s at worst) and seed 000's fixed 90 s sleep;
//! - Slipway's own time on the critical path: the whole deploy minus the scripted 6 s;
//! - AWS calls per deploy, by action (the proxy counts them).
//!
//! Needs the test environment (`eval "$(tests/env/up)"`).

#[path = "../tests/deploying/mod.rs"]
mod deploying;
#[path = "../tests/emulator/mod.rs"]
mod emulator;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use deploying::{Deploying, Timed};
use slipway_aws::deploy::{DeployEvent, DeployRequest};
use slipway_core::jobs::Cancel;

const RUNS: usize = 3;
const SCRIPT: [(&str, Duration); 2] = [
    ("PROVISIONING", Duration::from_secs(3)),
    ("PENDING", Duration::from_secs(3)),
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let Some(t) = Deploying::new("eu-west-2").await else {
        eprintln!("the test environment is not up: run `eval \"$(tests/env/up)\"` first");
        return;
    };
    t.build().await;
    t.fx.proxy.script_task_states(&SCRIPT);
    let scripted: f64 = SCRIPT.iter().map(|(_, d)| d.as_secs_f64() * 1000.0).sum();
    let mut delays = Vec::new();
    let mut overheads = Vec::new();
    let mut call_counts = Vec::new();
    let mut by_action: BTreeMap<String, usize> = BTreeMap::new();
    println!("run  state          shown after change (ms)");
    for run in 1..=RUNS {
        t.fx.proxy.forget_calls();
        let before = t.fx.proxy.scripted_changes().len();
        let events = Timed::default();
        let started = Instant::now();
        let outcome = t
            .deploy_with(&DeployRequest::default(), &events, &Cancel::new())
            .await
            .expect("the deploy answers");
        let total = started.elapsed().as_secs_f64() * 1000.0;
        let shown = events.0.lock().unwrap().clone();
        for change in &t.fx.proxy.scripted_changes()[before..] {
            let at = shown.iter().find_map(|(at, e)| match e {
                DeployEvent::TaskStatus {
                    task_id, status, ..
                } if change.task_arn.ends_with(task_id.as_str()) && *status == change.status => {
                    Some(*at)
                }
                _ => None,
            });
            if let Some(at) = at {
                let delay = at.saturating_duration_since(change.at).as_secs_f64() * 1000.0;
                println!("{run:>3}  {:<14} {delay:>8.0}", change.status);
                delays.push(delay);
            }
        }
        let calls = t.fx.proxy.calls();
        for call in &calls {
            *by_action.entry(call.action.clone()).or_default() += 1;
        }
        call_counts.push(calls.len() as f64);
        overheads.push(total - scripted);
        println!(
            "{run:>3}  total {total:.0} ms, Slipway's own {:.0} ms, {} AWS calls, {}",
            total - scripted,
            calls.len(),
            outcome.url
        );
    }
    println!();
    println!("figure                                   Slipway   AWS CLI waiter   seed 000 script");
    println!(
        "state change shown after (median, ms)    {:>7.0}   {:>6} avg / {} max   {:>6} (one fixed sleep)",
        median(delays.clone()),
        3000,
        6000,
        "90000"
    );
    println!(
        "state change shown after (max, ms)       {:>7.0}",
        delays.iter().cloned().fold(0.0, f64::max)
    );
    println!(
        "time on the critical path beyond AWS    {:>7.0}   up to 6000 per wait   90000 - (time to RUNNING)",
        median(overheads)
    );
    println!(
        "AWS calls per deploy (median)            {:>7.0}",
        median(call_counts)
    );
    println!();
    println!("AWS calls over {RUNS} deploys, by action:");
    for (action, n) in by_action {
        println!("  {action:<32} {n}");
    }
    t.shut_down().await;
}
