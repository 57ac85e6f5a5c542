//! The app's logs in CloudWatch Logs: each task's awslogs stream (`slipway/app/<task>`)
//! or all of them interleaved by time, searched by text and time range, error lines
//! marked, and followed by polling FilterLogEvents from the newest time seen (each event
//! shown once, by its id). Text search is done here, case-insensitively, rather than with
//! a CloudWatch filter pattern, whose matching is case-sensitive and term-based. Any
//! other container's awslogs streams (a service Slipway did not make) are read through
//! the same [`Source`].

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::aws::{classify, Connection};
use crate::deploy::watch::task_id;
use crate::setup::ResourceNames;
use slipway_core::error::{EngineError, ErrorCode, Result};
use slipway_core::jobs::Cancel;
use slipway_core::progress::ProgressSink;
use slipway_core::project::ProjectConfig;
use slipway_core::taskdef::CONTAINER;

/// How often follow mode asks CloudWatch for new events (the 2 s budget from a write to
/// the screen is this plus CloudWatch's own ingestion delay).
pub const FOLLOW_EVERY: Duration = Duration::from_millis(700);
/// Lines a fetch returns at most.
pub const MAX_LINES: u32 = 100_000;
const DEFAULT_LINES: u32 = 10_000;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct LogQuery {
    /// One task's stream; every task's when absent.
    #[serde(default)]
    pub task_id: Option<String>,
    /// Lines containing this text (any case).
    #[serde(default)]
    pub text: Option<String>,
    /// From this many seconds ago (default: the last hour).
    #[serde(default)]
    pub since_seconds: Option<u32>,
    /// Up to this time, ms since the epoch (default: now).
    #[serde(default)]
    pub until_ms: Option<f64>,
    /// At most this many lines, the newest (default 10 000, at most 100 000).
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct LogLine {
    /// CloudWatch's event id (unique per event).
    pub id: String,
    /// When the app wrote it, ms since the epoch.
    pub at_ms: f64,
    pub task_id: String,
    pub message: String,
    /// Looks like an error (error, exception, fatal, panic, traceback, a 5xx status).
    pub error: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct LogPage {
    pub group: String,
    /// Oldest first.
    pub lines: Vec<LogLine>,
    /// More lines matched than the limit (the oldest were left out), or the search read
    /// its maximum of events.
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "type", content = "data", rename_all_fields = "camelCase")]
pub enum LogEvent {
    /// New lines, oldest first.
    Appended { lines: Vec<LogLine> },
    /// A poll failed; following goes on.
    PollFailed { code: ErrorCode, message: String },
}

fn matches(line: &str, text: Option<&str>) -> bool {
    text.is_none_or(|t| line.to_lowercase().contains(&t.to_lowercase()))
}

fn stream_task(stream: &str) -> String {
    stream.rsplit('/').next().unwrap_or(stream).to_owned()
}

/// Where a container's awslogs driver writes: one stream per task,
/// `{stream_prefix}{task id}`, in `group` of `region` (the connection's when `None`).
pub(crate) struct Source {
    pub(crate) group: String,
    pub(crate) region: Option<String>,
    /// Every task's stream starts with this (`prefix/container/`).
    pub(crate) stream_prefix: String,
    /// One task's stream only.
    pub(crate) stream: Option<String>,
}

impl Source {
    /// The streams of `group` under `stream_prefix`, or only `task`'s (an id or ARN).
    pub(crate) fn new(
        group: String,
        region: Option<String>,
        stream_prefix: String,
        task: Option<&str>,
    ) -> Self {
        let stream = task.map(|t| format!("{stream_prefix}{}", task_id(t)));
        Self {
            group,
            region,
            stream_prefix,
            stream,
        }
    }
}

fn source(conn: &Connection, config: &ProjectConfig, query: &LogQuery) -> Result<Source> {
    let names = ResourceNames::for_app(&config.name, &conn.ctx.region)
        .map_err(|problems| EngineError::InvalidResourceNames { problems })?;
    Ok(Source::new(
        names.log_group,
        None,
        format!("slipway/{CONTAINER}/"),
        query.task_id.as_deref(),
    ))
}

/// A CloudWatch Logs client for `region` (the connection's when `None` or the same).
pub(crate) fn client(conn: &Connection, region: Option<&str>) -> aws_sdk_cloudwatchlogs::Client {
    match region.filter(|r| *r != conn.ctx.region) {
        Some(region) => aws_sdk_cloudwatchlogs::Client::from_conf(
            aws_sdk_cloudwatchlogs::config::Builder::from(&conn.ctx.sdk)
                .region(aws_sdk_cloudwatchlogs::config::Region::new(
                    region.to_owned(),
                ))
                .build(),
        ),
        None => aws_sdk_cloudwatchlogs::Client::new(&conn.ctx.sdk),
    }
}

/// One FilterLogEvents sweep from `start_ms`, all pages, oldest first, each event handed
/// to `each`; stops after `cap` events and says whether it did.
async fn sweep(
    conn: &Connection,
    source: &Source,
    start_ms: i64,
    end_ms: Option<i64>,
    cap: usize,
    mut each: impl FnMut(LogLine),
) -> Result<bool> {
    let logs = client(conn, source.region.as_deref());
    let mut seen = 0usize;
    let mut token: Option<String> = None;
    loop {
        let mut request = logs
            .filter_log_events()
            .log_group_name(&source.group)
            .start_time(start_ms)
            .set_end_time(end_ms)
            .set_next_token(token.take());
        request = match &source.stream {
            Some(stream) => request.log_stream_names(stream),
            None => request.log_stream_name_prefix(&source.stream_prefix),
        };
        let answer = match request.send().await {
            Ok(answer) => answer,
            // No log group yet (nothing deployed) or no such stream: no lines.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Ok(false)
            }
            Err(e) => return Err(classify(&conn.ctx, "logs:FilterLogEvents", e)),
        };
        for event in answer.events() {
            let message = event.message().unwrap_or_default().trim_end().to_owned();
            each(LogLine {
                id: event.event_id().unwrap_or_default().to_owned(),
                at_ms: event.timestamp().unwrap_or_default() as f64,
                task_id: stream_task(event.log_stream_name().unwrap_or_default()),
                error: slipway_core::log_line::is_error(&message),
                message,
            });
            seen += 1;
        }
        token = answer.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(false);
        }
        if seen >= cap {
            return Ok(true);
        }
    }
}

/// Events a search reads at most (the matches kept are bounded by the limit).
const MAX_SCANNED: usize = 2_000_000;

/// The newest `limit` lines that match `query`, oldest first.
pub async fn fetch(
    conn: &Connection,
    config: &ProjectConfig,
    query: &LogQuery,
    now: OffsetDateTime,
) -> Result<LogPage> {
    fetch_from(conn, source(conn, config, query)?, query, now).await
}

/// The newest `limit` lines of `source` that match `query`, oldest first.
pub(crate) async fn fetch_from(
    conn: &Connection,
    source: Source,
    query: &LogQuery,
    now: OffsetDateTime,
) -> Result<LogPage> {
    let limit = query.limit.unwrap_or(DEFAULT_LINES).clamp(1, MAX_LINES) as usize;
    let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
    let start = now_ms - i64::from(query.since_seconds.unwrap_or(3600)) * 1000;
    let end = query.until_ms.map(|ms| ms as i64);
    let mut kept: VecDeque<LogLine> = VecDeque::new();
    let mut dropped = false;
    let cut = sweep(conn, &source, start, end, MAX_SCANNED, |line| {
        if matches(&line.message, query.text.as_deref()) {
            kept.push_back(line);
            if kept.len() > limit {
                kept.pop_front();
                dropped = true;
            }
        }
    })
    .await?;
    let mut lines: Vec<LogLine> = kept.into();
    // Streams are merged by CloudWatch; equal times keep their order.
    lines.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
    Ok(LogPage {
        group: source.group,
        lines,
        truncated: dropped || cut,
    })
}

/// Late events from another task's stream can carry an earlier time than the newest seen:
/// each poll looks back this far and skips the ids it already showed.
const LOOK_BACK_MS: i64 = 10_000;

/// Follows the logs from now (or `query.since_seconds` ago) until cancelled: every
/// [`FOLLOW_EVERY`], the events of the last [`LOOK_BACK_MS`] before the newest seen,
/// each shown once.
pub async fn follow(
    conn: &Connection,
    config: &ProjectConfig,
    query: &LogQuery,
    now: OffsetDateTime,
    sink: &dyn ProgressSink<LogEvent>,
    cancel: &Cancel,
) -> Result<()> {
    let source = source(conn, config, query)?;
    let start = (now.unix_timestamp_nanos() / 1_000_000) as i64
        - i64::from(query.since_seconds.unwrap_or(0)) * 1000;
    let mut newest = start;
    // Ids shown, with their times, for the look-back window only (memory stays bounded).
    let mut shown: HashMap<String, i64> = HashMap::new();
    loop {
        let from = start.max(newest - LOOK_BACK_MS);
        let mut fresh = Vec::new();
        let swept = sweep(conn, &source, from, None, MAX_LINES as usize, |line| {
            let at = line.at_ms as i64;
            if shown.insert(line.id.clone(), at).is_none() {
                newest = newest.max(at);
                if matches(&line.message, query.text.as_deref()) {
                    fresh.push(line);
                }
            }
        })
        .await;
        match swept {
            Ok(_) => {
                shown.retain(|_, at| *at >= newest - LOOK_BACK_MS);
                fresh.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
                if !fresh.is_empty() {
                    sink.emit(LogEvent::Appended { lines: fresh });
                }
            }
            Err(e) => sink.emit(LogEvent::PollFailed {
                code: e.code(),
                message: e.to_string(),
            }),
        }
        tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            () = tokio::time::sleep(FOLLOW_EVERY) => {}
        }
    }
}

/// The lines as a text file: one line each, "time  task  message".
pub fn as_text(lines: &[LogLine]) -> String {
    let mut out = String::new();
    for l in lines {
        let at = OffsetDateTime::from_unix_timestamp_nanos((l.at_ms as i128) * 1_000_000)
            .map(crate::cost::meter::iso)
            .unwrap_or_default();
        out.push_str(&format!("{at}  {}  {}\n", l.task_id, l.message));
    }
    out
}

/// Writes `lines` to `path` as text (replacing it atomically).
pub fn save(path: &std::path::Path, lines: &[LogLine]) -> Result<()> {
    let tmp = path.with_extension("slipway-tmp");
    std::fs::write(&tmp, as_text(lines)).map_err(|e| EngineError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        EngineError::io(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_is_case_insensitive() {
        assert!(matches("GET /Health 200", Some("health")));
        assert!(!matches("GET / 200", Some("health")));
        assert!(matches("anything", None));
    }

    #[test]
    fn the_text_file_has_one_line_per_event() {
        let text = as_text(&[LogLine {
            id: "1".into(),
            at_ms: 1_795_000_000_000.0,
            task_id: "abc".into(),
            message: "hello".into(),
            error: false,
        }]);
        assert_eq!(text, "2026-11-18T11:06:40Z  abc  hello\n");
    }
}
