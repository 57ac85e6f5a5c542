//! Stopping what a deploy started, whatever state AWS is in: by the task ARNs the journal
//! already holds and by the deploy's `startedBy` mark, with no DescribeTasks first (a
//! describe that fails must not keep a paid task alive), each StopTask repeated through
//! transient failures until the undo's own deadline; and putting back a service the deploy
//! created or updated. What could not be stopped is returned with why, so the journal can
//! keep the deploy open as needing attention. Used by a deploy's cancel, deadline or error,
//! and by settling a deploy a killed app left unfinished.

use std::time::{Duration, Instant};

use super::ecs::{list_tasks, stop_task, TaskFilter};
use super::journal::{Journal, StepKind};
use super::watch::{task_id, Backoff};
use crate::aws::{classify, Connection};
use slipway_core::error::{EngineError, Result};

/// How long an undo keeps trying after the deploy itself ended.
pub const UNDO_BUDGET: Duration = Duration::from_secs(45);

/// A task the undo could not stop, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Left {
    pub task_arn: String,
    pub reason: String,
}

/// What an undo did.
#[derive(Debug, Clone, Default)]
pub struct Undone {
    pub stopped: Vec<String>,
    pub left: Vec<Left>,
    /// What became of the service, in words, when the deploy had changed one.
    pub service: Option<String>,
    /// The service could not be put back (why).
    pub service_left: Option<String>,
}

impl Undone {
    pub fn complete(&self) -> bool {
        self.left.is_empty() && self.service_left.is_none()
    }

    /// What is left, in words, for the deploy's message and the journal's summary.
    pub fn said(&self) -> String {
        let mut parts = Vec::new();
        if let Some(service) = &self.service {
            parts.push(service.clone());
        }
        if !self.stopped.is_empty() {
            let ids: Vec<&str> = self.stopped.iter().map(|a| task_id(a)).collect();
            parts.push(format!(
                "Stopped task {} that it had started.",
                ids.join(", ")
            ));
        }
        if let Some(why) = &self.service_left {
            parts.push(format!("The service could not be put back: {why}."));
        }
        if self.left.is_empty() {
            if self.stopped.is_empty() && self.service.is_none() {
                parts.push("Nothing it started was running.".to_owned());
            }
            parts.push("The app's earlier tasks were not touched.".to_owned());
        } else {
            let ids: Vec<String> = self
                .left
                .iter()
                .map(|l| format!("{} ({})", task_id(&l.task_arn), l.reason))
                .collect();
            parts.push(format!(
                "Still running and billed: task {}. It is listed under Needs attention with a stop for exactly that task.",
                ids.join(", ")
            ));
        }
        parts.join(" ")
    }
}

/// Stops the tasks of one deploy: `known` (the journal's ARNs) and any other task marked
/// `started_by`, recording each stop in `journal`.
pub async fn stop_deploy_tasks(
    conn: &Connection,
    cluster: &str,
    journal: &Journal,
    started_by: &str,
    reason: &str,
    until: Instant,
) -> Undone {
    let mut arns = journal.started_tasks().unwrap_or_default();
    // A task whose RunTask answer never arrived is found by its mark (best effort: the
    // journal's ARNs are stopped whatever this listing does).
    let listed = repeat_until(until.min(Instant::now() + Duration::from_secs(10)), || {
        list_tasks(conn, cluster, TaskFilter::StartedBy(started_by))
    })
    .await;
    for arn in listed.unwrap_or_default() {
        if !arns.contains(&arn) {
            let _ = journal.step(StepKind::StartedTask, &arn, "found by its startedBy mark");
            arns.push(arn);
        }
    }
    let mut undone = Undone::default();
    for arn in arns {
        match repeat_until(until, || stop_task(conn, cluster, &arn, reason)).await {
            Ok(()) => {
                let _ = journal.step(StepKind::StoppedTask, &arn, reason);
                undone.stopped.push(arn);
            }
            Err(e) => undone.left.push(Left {
                task_arn: arn,
                reason: e.to_string(),
            }),
        }
    }
    undone
}

/// Puts back the service a deploy changed, as its journal recorded: one it created is
/// scaled to zero (a deleted service drains for minutes and blocks creating it again; the
/// next deploy updates this one), one it updated goes back to its revision and count.
/// With `native` (a blue/green deploy) ECS is first asked to stop its deployment with a
/// rollback, which moves the traffic back at once; UpdateService is what is left when
/// there is no deployment in progress to stop.
pub async fn restore_service(
    conn: &Connection,
    cluster: &str,
    service: &str,
    journal: &Journal,
    until: Instant,
    native: bool,
) -> Undone {
    let mut undone = Undone::default();
    let step = match journal.service_step() {
        Ok(Some(step)) => step,
        Ok(None) => return undone,
        Err(e) => {
            undone.service_left = Some(e.to_string());
            return undone;
        }
    };
    // One UpdateService, repeated through transient failures: to `revision` (None keeps
    // the service's own) with `count` tasks.
    let update = |revision: Option<&str>, count: i32| {
        let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
        let revision = revision.map(str::to_owned);
        repeat_until(until, move || {
            let request = ecs
                .update_service()
                .cluster(cluster)
                .service(service)
                .set_task_definition(revision.clone())
                .desired_count(count);
            async move {
                request
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| classify(&conn.ctx, "ecs:UpdateService", e))
            }
        })
    };
    let result = match &step {
        (StepKind::CreatedService, _) => update(None, 0).await.map(|()| {
            format!("Scaled service {service} that it had created to 0 tasks; nothing of it runs (the next deploy reuses it).")
        }),
        (_, detail) if native && !detail.is_empty() => {
            match repeat_until(until, || {
                Box::pin(super::blue_green::roll_back(conn, cluster, service))
            })
            .await
            {
                Ok(Some(arn)) => match native_rollback(conn, service, &arn, until).await {
                    Ok(said) => Ok(said),
                    Err(why) => {
                        undone.service_left = Some(why);
                        return undone;
                    }
                },
                stopped => {
                    if let Err(e) = stopped {
                        tracing::warn!(%service, "stopping the service deployment: {e}");
                    }
                    let (previous, count) =
                        detail.split_once(' ').unwrap_or((detail.as_str(), "1"));
                    let count: i32 = count.parse().unwrap_or(1);
                    update(Some(previous), count).await.map(|()| {
                        format!("Pointed service {service} back at {previous} with {count} task(s), as before the deploy.")
                    })
                }
            }
        }
        (_, detail) if !detail.is_empty() => {
            let (previous, count) = detail.split_once(' ').unwrap_or((detail.as_str(), "1"));
            let count: i32 = count.parse().unwrap_or(1);
            update(Some(previous), count).await.map(|()| {
                format!("Pointed service {service} back at {previous} with {count} task(s), as before the deploy.")
            })
        }
        _ => Ok("The service was not changed yet; nothing to undo.".to_owned()),
    };
    match result {
        Ok(said) => undone.service = Some(said),
        // Recorded before it was sent, the create never happened.
        Err(EngineError::Aws { aws_code, .. }) if aws_code == "ServiceNotFoundException" => {
            undone.service = Some("The service was never created; nothing to undo.".to_owned())
        }
        Err(e) => undone.service_left = Some(e.to_string()),
    }
    undone
}

/// Follows the rollback ECS was asked for until it is over or `until` passes, and says
/// where it ended; a rollback ECS reports failed is an error (the deploy then needs
/// attention).
async fn native_rollback(
    conn: &Connection,
    service: &str,
    arn: &str,
    until: Instant,
) -> std::result::Result<String, String> {
    let mut backoff = Backoff::new(Duration::from_millis(300), Duration::from_secs(2));
    loop {
        let status = repeat_until(until, || Box::pin(super::blue_green::status(conn, arn)))
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        match status.as_str() {
            "ROLLBACK_SUCCESSFUL" | "STOPPED" => {
                return Ok(format!("Rolled service {service} back: ECS stopped the blue/green deployment and sends visitors to the previous release again."))
            }
            "ROLLBACK_FAILED" => {
                return Err(format!(
                    "ECS stopped the blue/green deployment of service {service}, but its rollback failed (see the service's events)"
                ))
            }
            _ if Instant::now() >= until => {
                return Ok(format!("ECS stopped the blue/green deployment of service {service} and is still moving visitors back to the previous release."))
            }
            _ => tokio::time::sleep(
                backoff
                    .next(false)
                    .min(until.saturating_duration_since(Instant::now())),
            )
            .await,
        }
    }
}

/// Runs `call` until it succeeds, fails for good, or `until` passes (transient failures
/// are repeated with a backoff; the last one is returned).
pub async fn repeat_until<T, F, Fut>(until: Instant, mut call: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(3));
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let outcome = match tokio::time::timeout(left, call()).await {
            Ok(outcome) => outcome,
            Err(_) => Err(EngineError::AwsUnreachable {
                endpoint: "AWS".into(),
                reason: "no answer before the undo's deadline".into(),
            }),
        };
        match outcome {
            Err(e) if e.is_transient() && Instant::now() < until => {
                let wait = backoff
                    .next(false)
                    .min(until.saturating_duration_since(Instant::now()));
                tokio::time::sleep(wait).await;
            }
            other => return other,
        }
    }
}
