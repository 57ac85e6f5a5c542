//! The app's logs against the AWS emulator and the Fargate stand-in (which copies each
//! container's output into its awslogs stream as it is written): follow mode shows a line
//! within 2 s of the app writing it; a search finds one line among 20 000 across pages;
//! two tasks' streams interleave by time; a task's own stream stands alone.

mod deploying;
mod emulator;

use std::time::{Duration, Instant};

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use deploying::Deploying;
use slipway_aws::deploy::DeployRequest;
use slipway_aws::logs::{self, LogEvent, LogQuery};
use slipway_core::jobs::Cancel;
use slipway_core::progress::ProgressSink;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

#[derive(Clone, Default)]
struct Arrivals(Arc<Mutex<Vec<(Instant, LogEvent)>>>);

impl ProgressSink<LogEvent> for Arrivals {
    fn emit(&self, event: LogEvent) {
        self.0.lock().unwrap().push((Instant::now(), event));
    }
}

impl Arrivals {
    fn first_with(&self, text: &str) -> Option<Instant> {
        self.0.lock().unwrap().iter().find_map(|(at, e)| match e {
            LogEvent::Appended { lines } if lines.iter().any(|l| l.message.contains(text)) => {
                Some(*at)
            }
            _ => None,
        })
    }
}

fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

#[tokio::test(flavor = "multi_thread")]
async fn followed_lines_arrive_within_two_seconds_and_search_finds_one_among_many() {
    let Some(d) = Deploying::new("eu-west-3").await else {
        return;
    };
    d.build().await;
    let (outcome, _) = d.deploy(&DeployRequest::default()).await;
    let outcome = outcome.expect("the sample deploys");
    let task = outcome.task_ids[0].clone();
    let conn = d.fx.connect().await;
    let config = &d.fx.config;

    // Follow from now; the app writes a line when it serves a request (httpd -vv).
    let arrivals = Arrivals::default();
    let cancel = Cancel::new();
    let everything = LogQuery::default();
    let following = logs::follow(
        &conn,
        config,
        &everything,
        OffsetDateTime::now_utc(),
        &arrivals,
        &cancel,
    );
    let probe = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut delays = Vec::new();
        for n in 0..3 {
            let path = format!("probe-{n}-{}", std::process::id());
            let written = Instant::now();
            let _ = reqwest::get(format!("{}/{path}", outcome.url)).await;
            let deadline = written + Duration::from_secs(10);
            let shown = loop {
                if let Some(at) = arrivals.first_with(&path) {
                    break at;
                }
                assert!(Instant::now() < deadline, "{path} never arrived");
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            delays.push(shown - written);
        }
        cancel.cancel();
        delays
    };
    let (followed, delays) = tokio::join!(following, probe);
    followed.unwrap();
    for delay in &delays {
        assert!(
            *delay < Duration::from_secs(2),
            "a request's log line reached follow mode after {delay:?}: {delays:?}"
        );
    }

    // A second task's stream with 20 000 lines, one of them the needle, written a second
    // ago, so the two streams interleave.
    let logs_client = aws_sdk_cloudwatchlogs::Client::new(&d.fx.direct().await);
    let group = d.fx.names().log_group;
    let other = "slipway/app/0123456789abcdef0123456789abcdef";
    logs_client
        .create_log_stream()
        .log_group_name(&group)
        .log_stream_name(other)
        .send()
        .await
        .unwrap();
    let base = now_ms() - 20_000;
    for batch in 0..2 {
        let events: Vec<InputLogEvent> = (0..10_000)
            .map(|i| {
                let n = batch * 10_000 + i;
                let message = if n == 12_345 {
                    "ERROR the Needle in the haystack".to_owned()
                } else {
                    format!("line {n} of the haystack")
                };
                InputLogEvent::builder()
                    .timestamp(base + i64::from(n))
                    .message(message)
                    .build()
                    .unwrap()
            })
            .collect();
        logs_client
            .put_log_events()
            .log_group_name(&group)
            .log_stream_name(other)
            .set_log_events(Some(events))
            .send()
            .await
            .unwrap();
    }

    let now = OffsetDateTime::now_utc();
    let found = logs::fetch(
        &conn,
        config,
        &LogQuery {
            text: Some("needle".into()),
            ..LogQuery::default()
        },
        now,
    )
    .await
    .unwrap();
    assert_eq!(found.lines.len(), 1, "{:?}", found.lines);
    assert!(found.lines[0].error, "an ERROR line is marked");
    assert_eq!(found.lines[0].task_id, "0123456789abcdef0123456789abcdef");

    let all = logs::fetch(
        &conn,
        config,
        &LogQuery {
            limit: Some(100_000),
            ..LogQuery::default()
        },
        now,
    )
    .await
    .unwrap();
    assert!(
        all.lines.len() > 20_000,
        "both streams: {}",
        all.lines.len()
    );
    assert!(
        all.lines.windows(2).all(|w| w[0].at_ms <= w[1].at_ms),
        "interleaved by time"
    );
    assert!(all.lines.iter().any(|l| l.task_id == task));

    let own = logs::fetch(
        &conn,
        config,
        &LogQuery {
            task_id: Some(task.clone()),
            ..LogQuery::default()
        },
        now,
    )
    .await
    .unwrap();
    assert!(!own.lines.is_empty());
    assert!(
        own.lines.iter().all(|l| l.task_id == task),
        "one task's stream"
    );
    d.shut_down().await;
}
