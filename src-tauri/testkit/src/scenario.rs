//! One scenario, run through each front end of Slipway (the CLI's verbs and the window's
//! IPC commands): deploy, deploy a change, roll back, then stop while a deploy that was
//! killed mid-way left its task running. Both front ends call the same application
//! layer, so the scenario holds the same outcome for each; a front end that decided
//! anything on its own (the rollback target, the mode, what Stop closes) would fail here.
//!
//! The front ends answer with the JSON both already speak: the CLI's `--json` output and
//! the IPC commands' answers are the same serialized engine types.

use std::future::Future;
use std::time::Duration;

use serde_json::Value;

use crate::FaultProxy;

/// What the scenario asks of a front end. Each answer is the JSON the front end gives.
#[allow(async_fn_in_trait)]
pub trait FrontEnd {
    /// Builds what the folder holds, then deploys it: the deploy's outcome.
    async fn deploy(&self) -> Value;
    /// Rolls back, naming no target: the deploy's outcome.
    async fn rollback(&self) -> Value;
    /// The app's releases on AWS.
    async fn releases(&self) -> Value;
    /// Stops everything of the app: the stop's report.
    async fn stop(&self) -> Value;
    /// What runs for the app.
    async fn status(&self) -> Value;
    /// Replaces the sample's page with `html`.
    fn edit_page(&self, html: &str);
}

async fn body(url: &str) -> String {
    reqwest::get(url)
        .await
        .expect("the app's URL answers")
        .text()
        .await
        .expect("the app's page reads")
}

/// Runs the scenario through `front`. `leave_unfinished` starts a deploy and drops it
/// once its task started (a killed process), answering that deploy's id; the proxy
/// holds that task in PENDING meanwhile.
pub async fn deploy_roll_back_and_stop_with_an_unfinished_deploy(
    front: &impl FrontEnd,
    proxy: &FaultProxy,
    leave_unfinished: impl Future<Output = String>,
) {
    let first = front.deploy().await;
    assert_eq!(first["httpStatus"], 200, "{first}");
    let first_revision = first["revision"].as_i64().expect("a revision");
    assert!(body(first["url"].as_str().unwrap())
        .await
        .contains("Hello from Slipway"));

    front.edit_page("<h1>Second, the same from either side</h1>");
    let second = front.deploy().await;
    let second_revision = second["revision"].as_i64().expect("a revision");
    assert!(second_revision > first_revision, "{second}");
    assert!(body(second["url"].as_str().unwrap())
        .await
        .contains("Second"));

    // ECR's API lists a push once the stand-in's mirror copied it (twice a second); a
    // rollback needs its image there.
    let mut releases = Value::Null;
    for _ in 0..50 {
        releases = front.releases().await;
        let listed = releases["releases"].as_array().cloned().unwrap_or_default();
        if listed.len() == 2 && listed.iter().all(|r| r["imageInRepository"] == true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        releases["rollbackTarget"].as_i64(),
        Some(first_revision),
        "{releases}"
    );
    let back = front.rollback().await;
    assert_eq!(
        back["revision"].as_i64(),
        Some(first_revision),
        "a rollback naming no target goes to the release before: {back}"
    );
    assert!(body(back["url"].as_str().unwrap())
        .await
        .contains("Hello from Slipway"));
    let current = back["taskIds"].clone();

    proxy.script_task_states(&[("PENDING", Duration::from_secs(60))]);
    let orphan_deploy = leave_unfinished.await;
    let status = front.status().await;
    let leftovers = status["leftovers"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        leftovers.len(),
        1,
        "status names the killed deploy's task: {status}"
    );
    assert_eq!(leftovers[0]["deployId"], orphan_deploy.as_str());

    let report = front.stop().await;
    let stopped = report["stopped"]["stoppedTasks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        stopped.len(),
        2,
        "the rolled-back task and the killed deploy's: {report}"
    );
    assert!(
        stopped.contains(&current[0]),
        "the running task stopped: {report}"
    );
    assert!(report["stopped"]["failed"].as_array().unwrap().is_empty());
    assert_eq!(
        report["settled"],
        serde_json::json!([orphan_deploy]),
        "Stop closed the unfinished deploy: {report}"
    );
    assert!(
        report["unsettled"].as_array().unwrap().is_empty(),
        "{report}"
    );

    let after = front.status().await;
    assert!(after["tasks"].as_array().unwrap().is_empty(), "{after}");
    assert!(after["leftovers"].as_array().unwrap().is_empty(), "{after}");
    assert!(
        after["unfinished"].as_array().unwrap().is_empty(),
        "nothing is left unfinished: {after}"
    );
}
