//! Application-layer benchmark (`make bench`): deploys and status refreshes of the sample
//! through one [`Session`], as the window makes them, against the AWS emulator with the
//! test kit's Fargate stand-in and a scripted progression (PROVISIONING 3 s, PENDING 3 s).
//! It prints, per run and as medians:
//! - AWS calls per deploy (the proxy counts them), the session's first deploy apart
//!   (it proves the identity and observes the setup) from the ones after it;
//! - AWS calls per status refresh, and whether any was an STS call;
//! - the deploy's own time on the critical path: the whole deploy minus the scripted 6 s
//!   (the script's clock starts at RunTask's answer, as Fargate's does), split into the
//!   polling lag (from the scripted RUNNING to the deploy showing it) and the rest, its
//!   own work.
//!
//! Needs the test environment (`eval "$(tests/env/up)"`).

#[path = "../../engine/aws/tests/deploying/mod.rs"]
mod deploying;
#[path = "../../engine/aws/tests/emulator/mod.rs"]
mod emulator;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use deploying::{Deploying, Timed};
use slipway_app::Session;
use slipway_aws::deploy::{DeployEvent, DeployRequest};
use slipway_core::jobs::Cancel;

const RUNS: usize = 5;
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
    let Some(t) = Deploying::new("eu-west-3").await else {
        eprintln!("the test environment is not up: run `eval \"$(tests/env/up)\"` first");
        std::process::exit(2);
    };
    t.build().await;
    t.fx.proxy.script_task_states(&SCRIPT);
    let scripted: f64 = SCRIPT.iter().map(|(_, d)| d.as_secs_f64() * 1000.0).sum();
    let session = Session::new(t.fx.host.clone(), &t.dir).with_endpoint(Some(t.fx.proxy.url()));
    let mut later_calls = Vec::new();
    let mut own = Vec::new();
    let mut lags = Vec::new();
    let mut by_action: BTreeMap<String, usize> = BTreeMap::new();
    println!("run  total (ms)  own (ms)  of it lag (ms)  AWS calls");
    for run in 1..=RUNS {
        t.fx.proxy.forget_calls();
        let scripted_before = t.fx.proxy.scripted_changes().len();
        let started = Instant::now();
        let events = Timed::default();
        slipway_app::deploy(&session, &DeployRequest::default(), &events, &Cancel::new())
            .await
            .expect("the deploy answers");
        if std::env::var_os("BENCH_EVENTS").is_some() {
            for (at, event) in events.0.lock().unwrap().iter() {
                let json = serde_json::to_string(event).unwrap_or_default();
                println!(
                    "     {:>6} ms  {}",
                    at.duration_since(started).as_millis(),
                    &json[..json.len().min(140)]
                );
            }
        }
        let total = started.elapsed().as_secs_f64() * 1000.0;
        let calls = t.fx.proxy.calls();
        // From the scripted RUNNING to the TaskStatus event that showed it.
        let changes = t.fx.proxy.scripted_changes();
        let running_at = changes[scripted_before..]
            .iter()
            .find(|c| c.status == "RUNNING")
            .map(|c| c.at)
            .expect("the script ends in RUNNING");
        let shown_at = events
            .0
            .lock()
            .unwrap()
            .iter()
            .find_map(|(at, e)| match e {
                DeployEvent::TaskStatus { status, .. } if status == "RUNNING" => Some(*at),
                _ => None,
            })
            .expect("RUNNING was shown");
        let lag = shown_at.saturating_duration_since(running_at).as_secs_f64() * 1000.0;
        println!(
            "{run:>3}  {total:>10.0}  {:>8.0}  {lag:>14.0}  {:>9}{}",
            total - scripted,
            calls.len(),
            if run == 1 {
                "  (first of the session)"
            } else {
                ""
            }
        );
        if run > 1 {
            later_calls.push(calls.len() as f64);
            own.push(total - scripted);
            lags.push(lag);
            for call in &calls {
                *by_action
                    .entry(format!("{}:{}", call.service, call.action))
                    .or_default() += 1;
            }
        }
    }
    let mut status_calls = Vec::new();
    let mut sts = 0;
    for _ in 0..RUNS {
        t.fx.proxy.forget_calls();
        slipway_app::status(&session).await.expect("status reads");
        let calls = t.fx.proxy.calls();
        sts += calls.iter().filter(|c| c.service == "sts").count();
        status_calls.push(calls.len() as f64);
    }
    println!();
    println!("figure                                               median   goal");
    println!(
        "AWS calls per deploy (after the session's first)     {:>6.0}   <= 15 (was 30-32)",
        median(later_calls)
    );
    println!(
        "AWS calls per status refresh                         {:>6.0}   <= 4, no STS (STS calls: {sts})",
        median(status_calls)
    );
    println!(
        "deploy's own time on the critical path (ms)          {:>6.0}   <= 500 (was ~1070)",
        median(own.clone())
    );
    println!(
        "  of which polling lag at RUNNING (ms)               {:>6.0}",
        median(lags.clone())
    );
    let work: Vec<f64> = own.iter().zip(&lags).map(|(o, l)| o - l).collect();
    println!(
        "  of which the deploy's own work (ms)                {:>6.0}",
        median(work)
    );
    println!();
    println!("AWS calls over the deploys after the first, by action:");
    for (action, n) in by_action {
        println!("  {action:<40} {n}");
    }
    t.shut_down().await;
}
