//! Following a stack while it changes: its new events as they come, its status until it
//! ends, and the first failure in plain words.

use std::collections::HashSet;

use aws_sdk_cloudformation::Client;
use time::OffsetDateTime;

use super::{find, is_missing, status_of, StackEventLine, StackProgress, POLL, STACK_DEADLINE};
use crate::aws::{classify, Connection};
use crate::cost::meter::{iso, moment};
use crate::support::redact;
use slipway_core::error::{EngineError, Result};
use slipway_core::jobs::Cancel;
use slipway_core::progress::ProgressSink;

/// Follows the stack's events and status until it ends changing: Ok for a create, update
/// or delete that completed, StackFailed with the first failure in plain words otherwise.
pub(super) async fn follow(
    conn: &Connection,
    name: &str,
    done: &str,
    since: OffsetDateTime,
    sink: &dyn ProgressSink<StackProgress>,
    cancel: &Cancel,
) -> Result<()> {
    let cf = Client::new(&conn.ctx.sdk);
    let deadline = tokio::time::Instant::now() + STACK_DEADLINE;
    let mut seen = HashSet::new();
    let mut first_failure: Option<StackEventLine> = None;
    let mut last_status = String::new();
    loop {
        if cancel.is_cancelled() {
            return Err(EngineError::StackFailed {
                stack: name.to_owned(),
                problem: "goes on changing at AWS: Slipway stopped following it, not the change"
                    .into(),
            });
        }
        let events = cf.describe_stack_events().stack_name(name).send().await;
        let gone = match events {
            Ok(answer) => {
                let mut new: Vec<StackEventLine> = answer
                    .stack_events()
                    .iter()
                    .filter(|e| e.timestamp().and_then(moment).is_none_or(|t| t >= since))
                    .map(event_line)
                    .filter(|e| seen.insert(e.id.clone()))
                    .collect();
                new.reverse();
                for line in new {
                    if line.status.ends_with("_FAILED") && first_failure.is_none() {
                        first_failure = Some(line.clone());
                    }
                    sink.emit(StackProgress::Event(line));
                }
                false
            }
            Err(e) if is_missing(&e) => true,
            Err(e) => return Err(classify(&conn.ctx, "cloudformation:DescribeStackEvents", e)),
        };
        let status = if gone {
            "DELETE_COMPLETE".to_owned()
        } else {
            match find(conn, name).await? {
                Some(stack) => status_of(&stack),
                None => "DELETE_COMPLETE".to_owned(),
            }
        };
        if status != last_status {
            sink.emit(StackProgress::Status {
                status: status.clone(),
                state: plain_status(&status),
            });
            last_status = status.clone();
        }
        if !status.ends_with("_IN_PROGRESS") {
            if status == done {
                return Ok(());
            }
            let why = first_failure
                .map(|f| {
                    format!(
                        " The first failure: {} ({}) {}.",
                        f.logical_id,
                        f.kind,
                        f.reason.as_deref().unwrap_or("failed without a reason")
                    )
                })
                .unwrap_or_default();
            return Err(EngineError::StackFailed {
                stack: name.to_owned(),
                problem: format!("{}.{why}", plain_status(&status)),
            });
        }
        if tokio::time::Instant::now() > deadline {
            return Err(EngineError::StackFailed {
                stack: name.to_owned(),
                problem: "is still changing after an hour; Slipway stopped following it (it goes on at AWS)".into(),
            });
        }
        tokio::select! {
            _ = cancel.cancelled() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

pub(super) fn event_line(e: &aws_sdk_cloudformation::types::StackEvent) -> StackEventLine {
    StackEventLine {
        id: e.event_id().unwrap_or_default().to_owned(),
        at: e.timestamp().and_then(moment).map(iso),
        logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
        kind: e.resource_type().unwrap_or_default().to_owned(),
        status: e
            .resource_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        // AWS may quote a parameter's value in a reason.
        reason: e.resource_status_reason().map(redact::mask_hidden),
    }
}

/// A stack status in plain words.
pub fn plain_status(status: &str) -> String {
    match status {
        "CREATE_IN_PROGRESS" => "being created",
        "CREATE_COMPLETE" => "created",
        "CREATE_FAILED" => "could not be created",
        "ROLLBACK_IN_PROGRESS" => "could not be created and is being rolled back",
        "ROLLBACK_COMPLETE" => "could not be created and was rolled back",
        "ROLLBACK_FAILED" => "could not be created, and rolling it back failed too",
        "UPDATE_IN_PROGRESS" | "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS" => "being updated",
        "UPDATE_COMPLETE" => "updated",
        "UPDATE_FAILED" => "could not be updated",
        "UPDATE_ROLLBACK_IN_PROGRESS" | "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS" => {
            "could not be updated and is going back to how it was"
        }
        "UPDATE_ROLLBACK_COMPLETE" => "could not be updated and is back to how it was",
        "UPDATE_ROLLBACK_FAILED" => "could not be updated, and going back failed too",
        "DELETE_IN_PROGRESS" => "being deleted",
        "DELETE_COMPLETE" => "deleted",
        "DELETE_FAILED" => "could not be deleted",
        "REVIEW_IN_PROGRESS" => "waiting for a change set to be run",
        other => return other.to_lowercase().replace('_', " "),
    }
    .to_owned()
}
