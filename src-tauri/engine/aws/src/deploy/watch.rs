//! Watching tasks come up without fixed sleeps: a poll interval that is short while
//! things change and backs off while they don't ([`Backoff`]), and a per-task timeline
//! that turns successive DescribeTasks answers into "PENDING after 12.3 s in
//! PROVISIONING" events ([`Timeline`]). Both are pure; the clock is passed in.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_ecs::types::Task;

use slipway_core::diagnosis::{StoppedContainer, StoppedTask};

/// The poll interval: starts at `fast`, grows by half on every unchanged answer up to
/// `slowest`, and drops back to `fast` on any change. `slowest` bounds how late a change
/// can be seen.
#[derive(Debug, Clone)]
pub struct Backoff {
    fast: Duration,
    slowest: Duration,
    current: Duration,
}

impl Backoff {
    pub fn new(fast: Duration, slowest: Duration) -> Self {
        Self {
            fast,
            slowest,
            current: fast,
        }
    }

    /// Slipway's deploy polling: 300 ms, backing off to 1.5 s (so a state change shows
    /// within 1.5 s plus one call), which is at most 40 DescribeTasks a minute.
    pub fn for_deploys() -> Self {
        Self::new(Duration::from_millis(300), Duration::from_millis(1500))
    }

    /// How long to wait before the next poll, given whether the last one saw a change.
    pub fn next(&mut self, changed: bool) -> Duration {
        self.current = if changed {
            self.fast
        } else {
            (self.current.mul_f32(1.5)).min(self.slowest)
        };
        self.current
    }
}

/// One task as a DescribeTasks answer shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskSnapshot {
    pub arn: String,
    pub last_status: String,
    pub desired_status: String,
    /// The task's health (HEALTHY, UNHEALTHY, UNKNOWN) when it has a health check.
    pub health: Option<String>,
    pub network_interface: Option<String>,
    pub private_ip: Option<String>,
    pub task_definition_arn: String,
    pub started_by: Option<String>,
    pub stopped: StoppedTask,
    /// CPU units and memory MiB, as the task runs them.
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
    /// When billing started (Unix seconds): the image pull's start, else creation.
    pub billed_from: Option<i64>,
    /// `ecs.cpu-architecture` when the task reports it (x86_64 or arm64).
    pub architecture: Option<String>,
}

impl TaskSnapshot {
    pub fn from_sdk(task: &Task) -> Self {
        let detail = |name: &str| {
            task.attachments()
                .iter()
                .filter(|a| a.r#type() == Some("ElasticNetworkInterface"))
                .flat_map(|a| a.details())
                .find(|d| d.name() == Some(name))
                .and_then(|d| d.value().map(str::to_owned))
        };
        Self {
            arn: task.task_arn().unwrap_or_default().to_owned(),
            last_status: task.last_status().unwrap_or("UNKNOWN").to_owned(),
            desired_status: task.desired_status().unwrap_or_default().to_owned(),
            // The task's health, or its one container's when the task does not say.
            health: task
                .health_status()
                .or_else(|| task.containers().iter().find_map(|c| c.health_status()))
                .map(|h| h.as_str().to_owned()),
            network_interface: detail("networkInterfaceId"),
            private_ip: detail("privateIPv4Address"),
            task_definition_arn: task.task_definition_arn().unwrap_or_default().to_owned(),
            started_by: task.started_by().map(str::to_owned),
            cpu: task.cpu().and_then(|c| c.parse().ok()),
            memory: task.memory().and_then(|m| m.parse().ok()),
            billed_from: task
                .pull_started_at()
                .or(task.created_at())
                .map(|at| at.secs()),
            architecture: task
                .attributes()
                .iter()
                .find(|a| a.name() == "ecs.cpu-architecture")
                .and_then(|a| a.value().map(str::to_owned)),
            stopped: StoppedTask {
                stop_code: task.stop_code().map(|c| c.as_str().to_owned()),
                stopped_reason: task
                    .stopped_reason()
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned),
                containers: task
                    .containers()
                    .iter()
                    .map(|c| StoppedContainer {
                        name: c.name().unwrap_or_default().to_owned(),
                        exit_code: c.exit_code(),
                        reason: c.reason().filter(|r| !r.is_empty()).map(str::to_owned),
                    })
                    .collect(),
                last_log_lines: Vec::new(),
            },
        }
    }

    /// The short id at the end of the ARN, as the console shows it.
    pub fn id(&self) -> &str {
        task_id(&self.arn)
    }

    /// STOPPED: exit codes and reasons are final (they are not while it is stopping).
    pub fn is_stopped(&self) -> bool {
        self.last_status == "STOPPED"
    }

    /// On its way out or gone: not counted as running.
    pub fn is_stopping(&self) -> bool {
        self.is_stopped()
            || matches!(self.last_status.as_str(), "DEPROVISIONING" | "STOPPING")
            || self.desired_status == "STOPPED"
    }

    /// RUNNING, and HEALTHY when the task definition has a health check.
    pub fn is_ready(&self, has_health_check: bool) -> bool {
        self.last_status == "RUNNING"
            && (!has_health_check || self.health.as_deref() == Some("HEALTHY"))
    }
}

pub fn task_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// A change in one task's status or health, with how long the previous state lasted.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    pub task_id: String,
    pub status: String,
    pub health: Option<String>,
    pub previous: Option<String>,
    pub previous_ms: Option<f64>,
}

/// The states each watched task has been seen in.
#[derive(Debug, Default)]
pub struct Timeline {
    seen: HashMap<String, (String, Option<String>, Instant)>,
}

impl Timeline {
    /// Records `task` as seen at `now`; returns the change, if it is one.
    pub fn observe(&mut self, task: &TaskSnapshot, now: Instant) -> Option<StatusChange> {
        let id = task.id().to_owned();
        match self.seen.get(&id) {
            Some((status, health, _)) if *status == task.last_status && *health == task.health => {
                None
            }
            previous => {
                let change = StatusChange {
                    task_id: id.clone(),
                    status: task.last_status.clone(),
                    health: task.health.clone(),
                    previous: previous.map(|(s, _, _)| s.clone()),
                    previous_ms: previous.map(|(_, _, since)| {
                        now.saturating_duration_since(*since).as_secs_f64() * 1000.0
                    }),
                };
                let since = match previous {
                    // A health change keeps the status's start time.
                    Some((status, _, since)) if *status == task.last_status => *since,
                    _ => now,
                };
                self.seen
                    .insert(id, (task.last_status.clone(), task.health.clone(), since));
                Some(change)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_while_nothing_changes_and_snaps_back_on_a_change() {
        let mut b = Backoff::for_deploys();
        let waits: Vec<u128> = (0..6).map(|_| b.next(false).as_millis()).collect();
        assert_eq!(waits, vec![450, 675, 1012, 1500, 1500, 1500]);
        assert_eq!(b.next(true).as_millis(), 300);
    }

    fn snapshot(status: &str, health: Option<&str>) -> TaskSnapshot {
        TaskSnapshot {
            arn: "arn:aws:ecs:eu-west-1:1:task/c/abc123".into(),
            last_status: status.into(),
            health: health.map(str::to_owned),
            ..Default::default()
        }
    }

    #[test]
    fn the_timeline_reports_each_state_once_with_the_time_spent_in_the_last() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut t = Timeline::default();
        let first = t.observe(&snapshot("PROVISIONING", None), at(0)).unwrap();
        assert_eq!((first.task_id.as_str(), first.previous), ("abc123", None));
        assert!(t
            .observe(&snapshot("PROVISIONING", None), at(500))
            .is_none());
        let pending = t.observe(&snapshot("PENDING", None), at(4000)).unwrap();
        assert_eq!(pending.previous.as_deref(), Some("PROVISIONING"));
        assert_eq!(pending.previous_ms, Some(4000.0));
        t.observe(&snapshot("RUNNING", Some("UNKNOWN")), at(9000))
            .unwrap();
        let healthy = t
            .observe(&snapshot("RUNNING", Some("HEALTHY")), at(12000))
            .unwrap();
        assert_eq!(healthy.health.as_deref(), Some("HEALTHY"));
        assert_eq!(healthy.previous_ms, Some(3000.0));
    }

    #[test]
    fn ready_means_running_and_healthy_when_there_is_a_check() {
        assert!(snapshot("RUNNING", Some("UNKNOWN")).is_ready(false));
        assert!(snapshot("RUNNING", Some("HEALTHY")).is_ready(true));
        assert!(!snapshot("RUNNING", Some("UNKNOWN")).is_ready(true));
        assert!(!snapshot("PENDING", None).is_ready(false));
    }
}
