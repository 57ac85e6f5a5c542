//! The fault suite: deploys, stops and settling through the test kit's fault proxy
//! (throttling, 5xx, resets, slow and cut-short answers, a deploy dropped mid-way as a
//! killed process drops it), each ending in a true state that is checked in the emulator
//! afterwards (which tasks are not STOPPED, the journal's entry), not only in the message.
//! One test per case of issue 14.

mod deploying;
mod emulator;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deploying::{Deploying, Timed};
use slipway_aws::deploy::{
    self, journal, settle_unfinished, DeployEvent, DeployRequest, DeployStep,
};
use slipway_core::jobs::Cancel;
use slipway_core::progress::ProgressSink;
use slipway_core::{EngineError, ErrorCode};
use slipway_testkit::Fault;

/// Records the events, and runs `on` at the first event `when` matches (once).
struct Trigger {
    events: Timed,
    when: fn(&DeployEvent) -> bool,
    on: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl Trigger {
    fn new(when: fn(&DeployEvent) -> bool, on: impl FnOnce() + Send + 'static) -> Self {
        Self {
            events: Timed::default(),
            when,
            on: Mutex::new(Some(Box::new(on))),
        }
    }
}

impl ProgressSink<DeployEvent> for Trigger {
    fn emit(&self, event: DeployEvent) {
        if (self.when)(&event) {
            if let Some(on) = self.on.lock().unwrap().take() {
                on();
            }
        }
        self.events.emit(event);
    }
}

fn task_started(e: &DeployEvent) -> bool {
    matches!(
        e,
        DeployEvent::StepDone {
            step: DeployStep::Start,
            ..
        }
    )
}

fn ids(arns: &[String]) -> Vec<String> {
    arns.iter()
        .map(|a| a.rsplit('/').next().unwrap().to_owned())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn quick() -> DeployRequest {
    DeployRequest {
        deadline_seconds: Some(120),
        ..Default::default()
    }
}

/// Waits until some deploy holds a lock in the test's data folder.
async fn until_a_deploy_holds_the_lock(t: &Deploying) {
    let locks = t.fx.temp.path().join("data").join("locks");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let held = std::fs::read_dir(&locks)
            .map(|d| {
                d.flatten()
                    .any(|f| f.file_name().to_string_lossy().ends_with(".holder.json"))
            })
            .unwrap_or(false);
        if held {
            return;
        }
        assert!(Instant::now() < deadline, "the first deploy never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn journal_of(t: &Deploying, id: &str) -> journal::JournalEntry {
    let db = slipway_core::store::db_path(&t.fx.host);
    journal::get(&db, id)
        .unwrap()
        .expect("the deploy is journaled")
}

fn deploy_id(events: &[DeployEvent]) -> String {
    events
        .iter()
        .find_map(|e| match e {
            DeployEvent::Started { deploy_id, .. } => Some(deploy_id.clone()),
            _ => None,
        })
        .expect("a Started event")
}

/// Case 1: two deploys of one app at once. The second is refused at once, naming the
/// first; the app ends with the first's task running and answering. Asked to wait, a
/// second deploy waits, then replaces the first: one task runs, both journaled as
/// succeeded, and no task was diagnosed as an app fault.
#[tokio::test(flavor = "multi_thread")]
async fn two_deploys_at_once_never_take_the_app_down() {
    let Some(t) = Deploying::new("eu-west-2").await else {
        return;
    };
    t.build().await;
    t.fx.proxy.script_task_states(&[
        ("PROVISIONING", Duration::from_secs(2)),
        ("PENDING", Duration::from_secs(1)),
    ]);
    let second = async {
        until_a_deploy_holds_the_lock(&t).await;
        let refused_at = Instant::now();
        let refused = t.deploy(&quick()).await.0;
        (refused, refused_at.elapsed())
    };
    let request = quick();
    let ((first, first_events), (refused, took)) = tokio::join!(t.deploy(&request), second);
    let first = first.expect("the first deploy answers");
    let refused = refused.expect_err("the second deploy is refused");
    assert_eq!(refused.code(), ErrorCode::DeployInProgress, "{refused}");
    assert!(
        refused.to_string().contains(&first.deploy_id),
        "the refusal names the deploy that holds the app: {refused}"
    );
    assert!(took < Duration::from_secs(5), "refused at once ({took:?})");
    assert_eq!(sorted(t.live_tasks().await), sorted(first.task_ids.clone()));
    let db = slipway_core::store::db_path(&t.fx.host);
    let history = journal::history(&db, "123456789012", &t.fx.region, &t.fx.config.name).unwrap();
    assert_eq!(
        history.len(),
        1,
        "a refused deploy starts nothing and is not journaled"
    );
    assert!(!first_events
        .iter()
        .any(|e| matches!(e, DeployEvent::Failed { .. })));

    // Asked to wait, the next deploy waits for the one running, then replaces it.
    let waiting = DeployRequest {
        wait_for_other_deploy: true,
        ..quick()
    };
    let later = async {
        until_a_deploy_holds_the_lock(&t).await;
        t.deploy(&waiting).await
    };
    let ((running, _), (waited, waited_events)) = tokio::join!(t.deploy(&request), later);
    let running = running.expect("the running deploy answers");
    let waited = waited.expect("the waiting deploy answers after it");
    assert!(!waited_events
        .iter()
        .any(|e| matches!(e, DeployEvent::Failed { .. })));
    assert_eq!(
        sorted(t.live_tasks().await),
        sorted(waited.task_ids.clone()),
        "the later deploy replaced the earlier one; exactly one task runs"
    );
    assert_eq!(waited.stopped_previous, running.task_ids);
    for id in [&running.deploy_id, &waited.deploy_id] {
        assert_eq!(
            journal_of(&t, id).outcome.map(|o| o.as_str()),
            Some("succeeded")
        );
    }
    t.shut_down().await;
}

/// Case 2: the watch cannot describe the task (500 forever) and the user cancels. The undo
/// stops the task by the ARN the journal holds, without a describe; when even StopTask is
/// refused, the deploy stays open as needing attention, status names the task as left
/// over, and settling it stops exactly that task once AWS allows.
#[tokio::test(flavor = "multi_thread")]
async fn an_undo_that_cannot_describe_still_stops_and_never_hides_a_leftover() {
    let Some(t) = Deploying::new("eu-west-3").await else {
        return;
    };
    t.build().await;
    t.fx.proxy
        .fail_always("DescribeTasks", Fault::ServerError(500));
    let cancel = Cancel::new();
    let trip = cancel.clone();
    let sink = Trigger::new(task_started, move || trip.cancel());
    let result = t.deploy_with(&quick(), &sink, &cancel).await;
    let err = result.expect_err("cancelled");
    assert_eq!(err.code(), ErrorCode::Cancelled, "{err}");
    assert!(
        t.live_tasks().await.is_empty(),
        "the started task was stopped without being described: {err}"
    );
    let id = deploy_id(&sink.events.events());
    assert_eq!(
        journal_of(&t, &id).outcome.map(|o| o.as_str()),
        Some("cancelled")
    );

    // Now StopTask is refused too: the task is left, and said to be.
    t.fx.proxy.fail_always("StopTask", Fault::AccessDenied);
    let cancel = Cancel::new();
    let trip = cancel.clone();
    let sink = Trigger::new(task_started, move || trip.cancel());
    let err = t
        .deploy_with(&quick(), &sink, &cancel)
        .await
        .expect_err("cancelled");
    let id = deploy_id(&sink.events.events());
    let left = t.live_tasks().await;
    assert_eq!(left.len(), 1, "the task could not be stopped: {err}");
    assert!(
        err.to_string().contains(&left[0]),
        "the message names the task left running: {err}"
    );
    let entry = journal_of(&t, &id);
    assert!(
        entry.finished_at.is_none(),
        "a deploy that left a task stays unfinished"
    );
    assert_eq!(entry.outcome.map(|o| o.as_str()), Some("needs attention"));
    assert_eq!(ids(&entry.started_tasks), left);

    t.fx.proxy.heal();
    let db = slipway_core::store::db_path(&t.fx.host);
    let conn = t.fx.connect().await;
    let status = deploy::status(&db, &conn, &t.fx.config, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(
        status
            .leftovers
            .iter()
            .map(|l| l.task_id.clone())
            .collect::<Vec<_>>(),
        left,
        "status names the leftover task with its deploy"
    );
    assert_eq!(status.leftovers[0].deploy_id, id);
    let settled = settle_unfinished(&db, &conn, &id, true).await.unwrap();
    assert!(settled.finished_at.is_some());
    assert!(t.live_tasks().await.is_empty(), "settling stopped it");
    t.shut_down().await;
}

/// Case 3: a cancel while an AWS call hangs (DescribeTasks answering after 30 s) is
/// honoured at once: the deploy returns long before the answer, its task is stopped, and
/// the version that ran before keeps running.
#[tokio::test(flavor = "multi_thread")]
async fn a_cancel_is_honoured_while_an_aws_call_hangs() {
    let Some(t) = Deploying::new("us-west-1").await else {
        return;
    };
    t.build().await;
    let before = t.deploy(&quick()).await.0.expect("the first version runs");
    t.edit("site/index.html", "<h1>Second</h1>");
    t.build().await;
    t.fx.proxy
        .fail_always("DescribeTasks", Fault::Slow(Duration::from_secs(30)));
    let cancel = Cancel::new();
    let trip = cancel.clone();
    let cancelled_at = Arc::new(Mutex::new(None));
    let mark = cancelled_at.clone();
    let sink = Trigger::new(task_started, move || {
        // The watch's first DescribeTasks is in flight a moment after the task started.
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            *mark.lock().unwrap() = Some(Instant::now());
            trip.cancel();
        });
    });
    let err = t
        .deploy_with(&quick(), &sink, &cancel)
        .await
        .expect_err("cancelled");
    let latency = cancelled_at.lock().unwrap().expect("cancelled").elapsed();
    assert_eq!(err.code(), ErrorCode::Cancelled, "{err}");
    assert!(
        latency < Duration::from_secs(5),
        "the cancel did not wait for the 30 s answer ({latency:?})"
    );
    t.fx.proxy.heal();
    assert_eq!(
        t.live_tasks().await,
        before.task_ids,
        "the new task is stopped; the version that ran before keeps running"
    );
    t.shut_down().await;
}

/// Case 4: a burst of errors while the task comes up (three 500s on DescribeTasks, resets
/// and a 50 % chance of 503 on DescribeNetworkInterfaces) is retried with a word on the
/// timeline, and the deploy succeeds with its task running.
#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_transient_errors_does_not_end_a_healthy_deploy() {
    let Some(t) = Deploying::new("us-east-2").await else {
        return;
    };
    t.build().await;
    let p = &t.fx.proxy;
    p.fail("DescribeTasks", Fault::ServerError(500), 3);
    p.fail("DescribeNetworkInterfaces", Fault::Drop, 3);
    p.fail_randomly("DescribeNetworkInterfaces", Fault::ServerError(503), 0.5, 7);
    let (result, events) = t.deploy(&quick()).await;
    let outcome = result.expect("the deploy rides out the burst");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, DeployEvent::Retrying { .. })),
        "the timeline says what it retries"
    );
    p.heal();
    assert_eq!(t.live_tasks().await, outcome.task_ids);
    assert_eq!(
        journal_of(&t, &outcome.deploy_id)
            .outcome
            .map(|o| o.as_str()),
        Some("succeeded")
    );
    t.shut_down().await;
}

/// Case 5: once the new task answered, a previous task that cannot be stopped is a
/// warning naming it, not an undo of the working deploy.
#[tokio::test(flavor = "multi_thread")]
async fn a_previous_task_that_cannot_be_stopped_is_a_warning_not_an_undo() {
    let Some(t) = Deploying::new("ca-central-1").await else {
        return;
    };
    t.build().await;
    let first = t.deploy(&quick()).await.0.expect("first");
    t.fx.proxy.fail_always("StopTask", Fault::AccessDenied);
    let (second, events) = t.deploy(&quick()).await;
    let second = second.expect("the deploy that answered has succeeded");
    t.fx.proxy.heal();
    assert!(
        second
            .warnings
            .iter()
            .any(|w| w.contains(&first.task_ids[0])),
        "the warning names the task that still runs: {:?}",
        second.warnings
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, DeployEvent::Warning { .. })));
    let mut both = first.task_ids.clone();
    both.extend(second.task_ids.clone());
    assert_eq!(sorted(t.live_tasks().await), sorted(both));
    assert_eq!(
        journal_of(&t, &second.deploy_id)
            .outcome
            .map(|o| o.as_str()),
        Some("succeeded")
    );
    t.shut_down().await;
}

/// Case 6: RunTask's answer is cut short, so the deploy sends it again and the emulator
/// (which ignores the client token AWS honours) starts a second task. The deploy
/// recognises both as its own by their startedBy mark, stops the duplicate, and never
/// calls it "the previous task".
#[tokio::test(flavor = "multi_thread")]
async fn a_repeated_run_task_leaves_one_task_and_no_false_previous() {
    let Some(t) = Deploying::new("sa-east-1").await else {
        return;
    };
    t.build().await;
    let first = t.deploy(&quick()).await.0.expect("first");
    t.edit("site/index.html", "<h1>Second</h1>");
    t.build().await;
    t.fx.proxy.fail("RunTask", Fault::Truncate, 1);
    let (second, events) = t.deploy(&quick()).await;
    let second = second.expect("the deploy answers");
    let run_tasks =
        t.fx.proxy
            .calls()
            .iter()
            .filter(|c| c.action == "RunTask")
            .count();
    assert!(run_tasks >= 2, "the cut-short RunTask was sent again");
    assert_eq!(
        second.stopped_previous, first.task_ids,
        "only the earlier deploy's task is the previous one"
    );
    assert!(events.iter().any(|e| matches!(
        e,
        DeployEvent::Warning { message } if message.contains("twice")
    )));
    assert_eq!(
        t.live_tasks().await,
        second.task_ids,
        "one task of this deploy runs; the duplicate was stopped"
    );
    let entry = journal_of(&t, &second.deploy_id);
    assert_eq!(entry.outcome.map(|o| o.as_str()), Some("succeeded"));
    t.shut_down().await;
}

/// Case 6b: the listing of the app's tasks that goes out beside RunTask fails (throttled
/// past the SDK's own retries): the deploy still answers, looks for the previous task
/// again once the new one answers, and stops it. Only the new task runs afterwards.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_listing_beside_run_task_still_retires_the_previous_task() {
    let Some(t) = Deploying::new("us-west-1").await else {
        return;
    };
    t.build().await;
    let first = t.deploy(&quick()).await.0.expect("first");
    t.edit("site/index.html", "<h1>Second</h1>");
    t.build().await;
    t.fx.proxy.forget_calls();
    t.fx.proxy.fail("ListTasks", Fault::Throttle, 3);
    let (second, _) = t.deploy(&quick()).await;
    let second = second.expect("the deploy answers");
    t.fx.proxy.heal();
    let listings =
        t.fx.proxy
            .calls()
            .iter()
            .filter(|c| c.action == "ListTasks")
            .count();
    assert_eq!(
        listings, 4,
        "three throttled tries, then the listing after the answer"
    );
    assert_eq!(
        second.stopped_previous, first.task_ids,
        "the previous task was found again and stopped"
    );
    assert!(second.warnings.is_empty(), "{:?}", second.warnings);
    assert_eq!(
        t.live_tasks().await,
        second.task_ids,
        "only the new task runs: nobody pays twice"
    );
    t.shut_down().await;
}

/// Case 7: a deploy dropped mid-way (as a killed process drops it: no undo runs) leaves
/// its task and an unfinished journal entry; status names exactly that task, and settling
/// stops it alone, leaving the version that ran before.
#[tokio::test(flavor = "multi_thread")]
async fn a_killed_deploy_is_found_and_only_its_task_is_stopped() {
    let Some(t) = Deploying::new("eu-north-1").await else {
        return;
    };
    t.build().await;
    let before = t.deploy(&quick()).await.0.expect("first");
    t.edit("site/index.html", "<h1>Second</h1>");
    t.build().await;
    t.fx.proxy
        .script_task_states(&[("PENDING", Duration::from_secs(30))]);
    let (killed_tx, killed_rx) = tokio::sync::oneshot::channel::<()>();
    let sink = Trigger::new(task_started, move || {
        let _ = killed_tx.send(());
    });
    let cancel = Cancel::new();
    let request = quick();
    tokio::select! {
        _ = t.deploy_with(&request, &sink, &cancel) => panic!("the deploy should be cut off"),
        _ = killed_rx => {}
    }
    let id = deploy_id(&sink.events.events());
    let mut live = t.live_tasks().await;
    live.retain(|task| !before.task_ids.contains(task));
    assert_eq!(live.len(), 1, "the killed deploy's task runs on");
    let orphan = live[0].clone();

    let db = slipway_core::store::db_path(&t.fx.host);
    let conn = t.fx.connect().await;
    let status = deploy::status(&db, &conn, &t.fx.config, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(status.unfinished.len(), 1);
    assert_eq!(
        status
            .leftovers
            .iter()
            .map(|l| (l.deploy_id.clone(), l.task_id.clone()))
            .collect::<Vec<_>>(),
        vec![(id.clone(), orphan.clone())]
    );
    settle_unfinished(&db, &conn, &id, true).await.unwrap();
    assert_eq!(
        t.live_tasks().await,
        before.task_ids,
        "only the orphan stopped; the running version was not touched"
    );
    assert_eq!(
        journal_of(&t, &id).outcome.map(|o| o.as_str()),
        Some("abandoned")
    );
    t.shut_down().await;
}

/// Case 8: a slipway.toml that no longer validates does not block status or stop: they
/// work from the app name and the connection, and the file is left as the user wrote it.
#[tokio::test(flavor = "multi_thread")]
async fn a_broken_project_file_does_not_block_status_or_stop() {
    let Some(t) = Deploying::new("ap-northeast-1").await else {
        return;
    };
    t.build().await;
    let live = t.deploy(&quick()).await.0.expect("deployed");
    let file = t.dir.join("slipway.toml");
    let broken = std::fs::read_to_string(&file)
        .unwrap()
        .replace("[task]", "[task]\ncpu = 3\nmemory = [ oops");
    std::fs::write(&file, &broken).unwrap();
    assert!(slipway_core::project::open_saved(&t.dir).is_err());

    let (config, conn) = deploy::connect_for_operations(
        &t.fx.host,
        &t.dir,
        Some(t.fx.proxy.url()),
        std::time::SystemTime::now(),
    )
    .await
    .expect("connects from the app name and [aws] alone");
    assert_eq!(config.name, t.fx.config.name);
    let db = slipway_core::store::db_path(&t.fx.host);
    let status = deploy::status(&db, &conn, &config, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(
        status
            .tasks
            .iter()
            .map(|t| t.task_id.clone())
            .collect::<Vec<_>>(),
        live.task_ids
    );
    let stopped = deploy::stop_app(&conn, &config).await.unwrap();
    assert_eq!(stopped.stopped_tasks, live.task_ids);
    assert!(t.live_tasks().await.is_empty());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), broken);
    t.shut_down().await;
}

/// Case 9: Stop everything tries every task: one StopTask refused does not keep the
/// others running, and the one left is named with why.
#[tokio::test(flavor = "multi_thread")]
async fn stop_everything_tries_every_task_and_names_what_still_runs() {
    let Some(t) = Deploying::new("ap-northeast-2").await else {
        return;
    };
    t.build().await;
    t.deploy(&quick()).await.0.expect("first");
    let keep = DeployRequest {
        keep_previous: true,
        ..quick()
    };
    t.deploy(&keep).await.0.expect("second, keeping the first");
    assert_eq!(t.live_tasks().await.len(), 2);
    t.fx.proxy.fail("StopTask", Fault::AccessDenied, 1);
    let conn = t.fx.connect().await;
    let outcome = deploy::stop_app(&conn, &t.fx.config).await.unwrap();
    assert_eq!(outcome.stopped_tasks.len(), 1, "{outcome:?}");
    assert_eq!(outcome.failed.len(), 1, "{outcome:?}");
    let still = t.live_tasks().await;
    assert_eq!(still.len(), 1);
    assert_eq!(
        outcome.failed[0].what, still[0],
        "the failure names what still runs"
    );
    assert!(outcome.failed[0].reason.contains("StopTask"));
    let again = deploy::stop_app(&conn, &t.fx.config).await.unwrap();
    assert!(again.failed.is_empty());
    assert!(t.live_tasks().await.is_empty());
    t.shut_down().await;
}

/// The refusal and the error type a waiting deploy gets when it is cancelled.
#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_waiting_for_another_can_be_cancelled() {
    let Some(t) = Deploying::new("ap-south-1").await else {
        return;
    };
    t.build().await;
    t.fx.proxy
        .script_task_states(&[("PROVISIONING", Duration::from_secs(3))]);
    let cancel = Cancel::new();
    let waiting = DeployRequest {
        wait_for_other_deploy: true,
        ..quick()
    };
    let later = async {
        until_a_deploy_holds_the_lock(&t).await;
        let trip = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            trip.cancel();
        });
        t.deploy_with(&waiting, &Timed::default(), &cancel).await
    };
    let request = quick();
    let ((first, _), waited) = tokio::join!(t.deploy(&request), later);
    let first = first.expect("the first deploy answers");
    assert!(matches!(waited, Err(EngineError::Cancelled)));
    assert_eq!(t.live_tasks().await, first.task_ids);
    t.shut_down().await;
}
