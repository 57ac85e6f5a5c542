//! One-off tasks and logs of an ECS service Slipway did not make (a vendor's server, its
//! image in the registry that answers as ECR, run by the Fargate stand-in): a command's
//! output and exit code read back from the container's awslogs stream, a non-zero exit
//! reported, a service without a network configuration refused before any call; the
//! service's own lines read as its logs. Then RunTask through throttling, 5xx, dropped
//! connections and lost answers: every run starts one task that runs the command, any
//! extra task a repeat started is stopped, a run that fails for good leaves none running,
//! and a cancel or a passed deadline stops the task. Each is checked in the emulator
//! behind the app's back.

mod emulator;

use std::time::{Duration, Instant};

use emulator::Fixture;
use slipway_aws::logs::LogQuery;
use slipway_aws::service::{
    logs, run_once, OneOffEvent, OneOffRequest, ServiceRef, STARTED_BY_PREFIX,
};
use slipway_core::jobs::Cancel;
use slipway_core::progress::Recorder;
use slipway_core::test_support::require;
use slipway_core::EngineError;
use slipway_testkit::emulator::{
    publish_busybox, remove_published, vendor_service_with_command, VendorService,
};
use slipway_testkit::{FargateStandIn, Fault};
use time::OffsetDateTime;

/// A vendor's server (busybox saying it is ready, then waiting) and the stand-in that runs
/// its tasks.
struct Vendor {
    fx: Fixture,
    made: VendorService,
    image: String,
    server: ServiceRef,
    standin: Option<FargateStandIn>,
}

impl Vendor {
    async fn new(region: &str) -> Option<Self> {
        require("SLIPWAY_TEST_ECR_CA")?;
        require("SLIPWAY_TEST_DOCKER_HOST")?;
        let fx = Fixture::new(region).await?;
        let prefix = fx.config.name.clone();
        let image = publish_busybox(region, &format!("{prefix}/server"), "1.0");
        let made = vendor_service_with_command(
            &fx.direct().await,
            &prefix,
            &[&image],
            &["sh", "-c", "echo server-ready; exec sleep 600"],
        )
        .await;
        let standin = FargateStandIn::start(&fx.emulator, &fx.region, fx.proxy.clone()).await;
        let server = ServiceRef {
            cluster: made.cluster.clone(),
            service: made.service.clone(),
        };
        Some(Self {
            fx,
            made,
            image,
            server,
            standin: Some(standin),
        })
    }

    async fn run(
        &self,
        command: &[&str],
    ) -> (
        Result<slipway_aws::service::OneOffOutcome, EngineError>,
        Vec<OneOffEvent>,
    ) {
        let events = Recorder::default();
        let request = OneOffRequest {
            command: command.iter().map(|c| c.to_string()).collect(),
            ..Default::default()
        };
        let outcome = run_once(
            &self.fx.connect().await,
            &self.server,
            &request,
            &events,
            &Cancel::new(),
        )
        .await;
        (outcome, events.events())
    }

    /// Every one-off task of the cluster, as the emulator has it: (startedBy, last status,
    /// stopped reason, the command it was given), grouped by nothing.
    async fn one_offs(&self) -> Vec<(String, String, String, Vec<String>)> {
        let ecs = aws_sdk_ecs::Client::new(&self.fx.direct().await);
        let arns = ecs
            .list_tasks()
            .cluster(&self.made.cluster)
            .send()
            .await
            .unwrap()
            .task_arns()
            .to_vec();
        if arns.is_empty() {
            return vec![];
        }
        ecs.describe_tasks()
            .cluster(&self.made.cluster)
            .set_tasks(Some(arns))
            .send()
            .await
            .unwrap()
            .tasks()
            .iter()
            .filter(|t| {
                t.started_by()
                    .is_some_and(|s| s.starts_with(STARTED_BY_PREFIX))
            })
            .map(|t| {
                (
                    t.started_by().unwrap_or_default().to_owned(),
                    t.last_status().unwrap_or_default().to_owned(),
                    t.stopped_reason().unwrap_or_default().to_owned(),
                    t.overrides()
                        .map(|o| o.container_overrides())
                        .unwrap_or_default()
                        .iter()
                        .flat_map(|c| c.command().to_vec())
                        .collect(),
                )
            })
            .collect()
    }

    /// The one-off tasks the emulator does not report stopped.
    async fn running_one_offs(&self) -> Vec<String> {
        self.one_offs()
            .await
            .into_iter()
            .filter(|(_, status, _, _)| status != "STOPPED")
            .map(|(by, status, _, _)| format!("{by} {status}"))
            .collect()
    }

    async fn shut_down(mut self) {
        if let Some(standin) = self.standin.take() {
            standin.shut_down().await;
        }
        remove_published(&self.image);
    }
}

fn output(events: &[OneOffEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            OneOffEvent::Output { lines } => Some(lines.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_one_off_task_on_a_vendors_service_prints_its_output_and_exit_code() {
    let Some(v) = Vendor::new("ap-northeast-3").await else {
        return;
    };

    let started = Instant::now();
    let (outcome, events) = v
        .run(&["sh", "-c", "echo token-123; echo to-stderr >&2"])
        .await;
    let outcome = outcome.expect("the one-off task runs");
    eprintln!("one-off task took {:?}", started.elapsed());
    assert_eq!(outcome.exit_code, 0);
    assert_eq!(outcome.container, "server");
    assert!(
        outcome.output.contains(&"token-123".to_owned())
            && outcome.output.contains(&"to-stderr".to_owned()),
        "stdout and stderr come back from the awslogs stream: {:?}",
        outcome.output
    );
    assert_eq!(outcome.log_group, v.made.log_group);
    assert_eq!(
        outcome.log_stream,
        format!("server/server/{}", outcome.task_id),
        "the stream is prefix/container/task-id"
    );
    assert!(
        output(&events).contains(&"token-123".to_owned()),
        "the output is streamed as it arrives, not only returned: {events:?}"
    );
    assert!(matches!(
        events.first(),
        Some(OneOffEvent::TaskStarted { .. })
    ));
    let in_emulator = v.one_offs().await;
    assert_eq!(in_emulator.len(), 1, "one run, one task: {in_emulator:?}");
    assert_eq!(
        in_emulator[0].3,
        ["sh", "-c", "echo token-123; echo to-stderr >&2"],
        "the command is an override of the service's task definition"
    );

    let (outcome, _) = v.run(&["sh", "-c", "echo about-to-fail; exit 3"]).await;
    let outcome = outcome.expect("a non-zero exit is an outcome, not an error");
    assert_eq!(outcome.exit_code, 3);
    assert_eq!(outcome.output, ["about-to-fail"]);
    assert!(v.running_one_offs().await.is_empty());

    // The service's own task (the stand-in plays its scheduler) says it is ready: its
    // logs show that line, and the one-off tasks', which write to the same streams' prefix.
    let conn = v.fx.connect().await;
    let until = Instant::now() + Duration::from_secs(30);
    let page = loop {
        let page = logs(
            &conn,
            &v.server,
            None,
            &LogQuery::default(),
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
        if page.lines.iter().any(|l| l.message == "server-ready") || Instant::now() > until {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(page.group, v.made.log_group);
    let messages: Vec<&str> = page.lines.iter().map(|l| l.message.as_str()).collect();
    assert!(messages.contains(&"server-ready"), "{messages:?}");
    assert!(messages.contains(&"token-123"), "{messages:?}");
    let one_task = logs(
        &conn,
        &v.server,
        None,
        &LogQuery {
            task_id: Some(outcome.task_id.clone()),
            ..Default::default()
        },
        OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    assert_eq!(
        one_task
            .lines
            .iter()
            .map(|l| l.message.as_str())
            .collect::<Vec<_>>(),
        ["about-to-fail"],
        "one task's stream only"
    );

    // A service a stack made with launch type EC2 and no network configuration: refused
    // with what is missing, before any call that starts something.
    let direct = aws_sdk_ecs::Client::new(&v.fx.direct().await);
    direct
        .create_service()
        .cluster(&v.made.cluster)
        .service_name("stackmade")
        .task_definition(format!("{}:1", v.made.family))
        .desired_count(0)
        .launch_type(aws_sdk_ecs::types::LaunchType::Ec2)
        .send()
        .await
        .unwrap();
    v.fx.proxy.forget_calls();
    let stack_made = ServiceRef {
        cluster: v.made.cluster.clone(),
        service: "stackmade".into(),
    };
    let err = run_once(
        &conn,
        &stack_made,
        &OneOffRequest {
            command: vec!["true".into()],
            ..Default::default()
        },
        &Recorder::default(),
        &Cancel::new(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, EngineError::ServiceUnfit { .. }), "{err:?}");
    let said = err.to_string();
    assert!(
        said.contains("stackmade") && said.contains("no network configuration"),
        "{said}"
    );
    assert!(
        v.fx.proxy.mutating_calls().is_empty(),
        "refused before RunTask: {:?}",
        v.fx.proxy.mutating_calls()
    );
    // A container that is not there is named with those that are.
    let err = run_once(
        &conn,
        &v.server,
        &OneOffRequest {
            command: vec!["true".into()],
            container: Some("web".into()),
            ..Default::default()
        },
        &Recorder::default(),
        &Cancel::new(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("(it has server)"), "{err}");
    v.shut_down().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn run_task_through_faults_starts_one_task_and_leaves_none_running_unknown() {
    let Some(v) = Vendor::new("me-south-1").await else {
        return;
    };

    // Throttled, a 503 and a dropped connection: none reached the emulator, the fourth
    // RunTask starts the one task.
    v.fx.proxy.fail("RunTask", Fault::Throttle, 1);
    v.fx.proxy.fail("RunTask", Fault::ServerError(503), 1);
    v.fx.proxy.fail("RunTask", Fault::Drop, 1);
    let (outcome, events) = v.run(&["echo", "through-faults"]).await;
    let outcome = outcome.expect("the SDK's and Slipway's retries get through");
    assert_eq!(
        (outcome.exit_code, outcome.output.clone()),
        (0, vec!["through-faults".to_owned()])
    );
    let retries = events
        .iter()
        .filter(|e| matches!(e, OneOffEvent::Retrying { .. }))
        .count();
    assert_eq!(retries, 3, "each fault is said: {events:?}");
    let tasks = v.one_offs().await;
    assert_eq!(
        tasks.len(),
        1,
        "faults that never reached AWS start nothing: {tasks:?}"
    );

    // An answer lost after the task started: the repeat starts a second one in the
    // emulator (it ignores the client token; AWS would not), which is found by the run's
    // mark and stopped; the command's output is read once, from the task returned.
    v.fx.proxy.fail("RunTask", Fault::Truncate, 1);
    let (outcome, events) = v.run(&["echo", "answer-lost"]).await;
    let outcome = outcome.expect("the run goes on with the task the repeat returned");
    assert_eq!(outcome.output, ["answer-lost"]);
    let stopping: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            OneOffEvent::TaskStopping { task_id, reason } => {
                Some((task_id.clone(), reason.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        stopping.len(),
        1,
        "the duplicate is stopped and said: {events:?}"
    );
    assert_ne!(stopping[0].0, outcome.task_id);
    let marks: Vec<_> = v.one_offs().await;
    let this_run: Vec<_> = marks
        .iter()
        .filter(|(_, _, _, command)| command == &["echo", "answer-lost"])
        .collect();
    assert_eq!(this_run.len(), 2, "{marks:?}");
    assert_eq!(
        this_run[0].0, this_run[1].0,
        "both carry the run's one mark"
    );
    assert!(
        this_run.iter().any(|t| t.2.contains("started it twice")),
        "the duplicate was stopped by Slipway, with why: {this_run:?}"
    );
    assert!(
        v.running_one_offs().await.is_empty(),
        "{:?}",
        v.running_one_offs().await
    );

    // Two lost answers, then a refusal: the failure is said, and both tasks AWS started
    // for it are stopped. (A command that keeps running: one that exits at once may end
    // on its own before the stop, which is no proof of it.)
    v.fx.proxy.fail("RunTask", Fault::Truncate, 2);
    v.fx.proxy.fail("RunTask", Fault::AccessDenied, 1);
    let (err, _) = v.run(&["tail", "-f", "/dev/null"]).await;
    let err = err.unwrap_err();
    assert!(matches!(err, EngineError::AccessDenied { .. }), "{err:?}");
    let failed: Vec<_> = v
        .one_offs()
        .await
        .into_iter()
        .filter(|(_, _, _, command)| command == &["tail", "-f", "/dev/null"])
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(
        failed
            .iter()
            .all(|t| t.1 == "STOPPED" && t.2.contains("RunTask failed")),
        "a failed start leaves nothing running: {failed:?}"
    );

    // A cancel once the task runs stops it; so does a passed deadline.
    let cancel = Cancel::new();
    let on_start = cancel.clone();
    let sink = move |e: OneOffEvent| {
        if matches!(e, OneOffEvent::StatusChanged { .. }) {
            on_start.cancel();
        }
    };
    let err = run_once(
        &v.fx.connect().await,
        &v.server,
        &OneOffRequest {
            command: vec!["sleep".into(), "600".into()],
            ..Default::default()
        },
        &sink,
        &cancel,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, EngineError::Cancelled), "{err:?}");
    let err = run_once(
        &v.fx.connect().await,
        &v.server,
        &OneOffRequest {
            command: vec!["sleep".into(), "599".into()],
            deadline_seconds: Some(2),
            ..Default::default()
        },
        &Recorder::default(),
        &Cancel::new(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, EngineError::OneOffFailed { .. }) && err.to_string().contains("after 2 s"),
        "{err}"
    );
    let sleepers: Vec<_> = v
        .one_offs()
        .await
        .into_iter()
        .filter(|(_, _, _, command)| command.first().map(String::as_str) == Some("sleep"))
        .collect();
    assert_eq!(sleepers.len(), 2, "{sleepers:?}");
    assert!(
        sleepers.iter().all(|t| t.1 == "STOPPED"),
        "cancelled and overdue tasks are stopped, not left to bill: {sleepers:?}"
    );
    assert!(v.running_one_offs().await.is_empty());
    v.shut_down().await;
}
