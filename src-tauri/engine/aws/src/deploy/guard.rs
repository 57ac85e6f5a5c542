//! The idle guard: stops demo (standalone) tasks after the hours the user chose, warns
//! before it does, and reminds when any task has run longer than the user's limit. The
//! decision is a pure plan over the running tasks and the time; `check` applies it once
//! and `watch` repeats it on a clock (the seam tests control) while a screen is open.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;

use super::ecs::stop_task;
use super::status::status_and_billing;
use crate::aws::Connection;
use crate::cost::meter::{iso, BilledTask, RunningCost};
use crate::cost::{load_settings, CostSettings};
use slipway_core::error::Result;
use slipway_core::jobs::Cancel;
use slipway_core::progress::ProgressSink;
use slipway_core::project::ProjectConfig;

/// The warning comes this long before an auto-stop.
pub const WARN_BEFORE: time::Duration = time::Duration::minutes(10);

/// The time, for the guard's loop; tests hand it a clock they move.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// What the guard decided for one task.
#[derive(Debug, Clone, PartialEq)]
pub enum GuardAction {
    Warn {
        task_id: String,
        stops_at: OffsetDateTime,
    },
    Stop {
        task_id: String,
        task_arn: String,
        ran_hours: f64,
    },
    Remind {
        task_id: String,
        ran_hours: f64,
        limit_hours: f64,
    },
}

/// What the cost watch reports.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "type", content = "data", rename_all_fields = "camelCase")]
pub enum CostEvent {
    /// The running cost, every check.
    Metered(RunningCost),
    /// A demo task will be stopped soon.
    AutoStopWarned {
        task_id: String,
        stops_at: String,
        minutes_left: u32,
    },
    AutoStopped {
        task_id: String,
        ran_hours: f64,
    },
    /// A task has run longer than the user's reminder limit.
    RanLong {
        task_id: String,
        ran_hours: f64,
        limit_hours: f64,
    },
    /// A check, or one task's stop, could not be made (AWS unreachable, credentials
    /// expired); the watch goes on.
    CheckFailed {
        code: slipway_core::ErrorCode,
        message: String,
    },
}

/// When the guard warned about each task's auto-stop (a stop always follows a warning by
/// at least [`WARN_BEFORE`], even when the limit is lowered below a task's age).
pub type Warned = HashMap<String, OffsetDateTime>;

/// Auto-stop applies to standalone tasks only: a service exists to keep its tasks up, and
/// ECS would replace a stopped one at once. A task is stopped only when it is due and was
/// warned at least [`WARN_BEFORE`] earlier; a task found overdue (the limit was lowered)
/// is warned first. Reminders apply to every task.
pub fn plan(
    settings: &CostSettings,
    tasks: &[BilledTask],
    now: OffsetDateTime,
    warned: &Warned,
) -> Vec<GuardAction> {
    let mut actions = Vec::new();
    for task in tasks {
        let ran_hours = task.hours_at(now);
        if let Some(limit) = settings.auto_stop_hours.filter(|_| !task.from_service) {
            let due_at = task.billed_from + time::Duration::seconds_f64(limit * 3600.0);
            match warned.get(&task.task_id) {
                Some(at) if now >= due_at && now >= *at + WARN_BEFORE => {
                    actions.push(GuardAction::Stop {
                        task_id: task.task_id.clone(),
                        task_arn: task.task_arn.clone(),
                        ran_hours,
                    });
                    continue;
                }
                Some(_) => {}
                None if now >= due_at - WARN_BEFORE => actions.push(GuardAction::Warn {
                    task_id: task.task_id.clone(),
                    stops_at: due_at.max(now + WARN_BEFORE),
                }),
                None => {}
            }
        }
        if let Some(limit) = settings.remind_after_hours {
            if ran_hours >= limit {
                actions.push(GuardAction::Remind {
                    task_id: task.task_id.clone(),
                    ran_hours,
                    limit_hours: limit,
                });
            }
        }
    }
    actions
}

/// One look: the running cost, and the guard's plan applied (due tasks stopped; a stop
/// that fails is reported and the others go on). `warned` is updated with new warnings.
pub async fn check(
    db: &Path,
    conn: &Connection,
    config: &ProjectConfig,
    now: OffsetDateTime,
    warned: &mut Warned,
) -> Result<Vec<CostEvent>> {
    let settings = load_settings(db, &config.name)?;
    let (status, billed) = status_and_billing(db, conn, config, now).await?;
    warned.retain(|task, _| billed.iter().any(|t| &t.task_id == task));
    let mut events = vec![CostEvent::Metered(status.cost)];
    for action in plan(&settings, &billed, now, warned) {
        events.push(match action {
            GuardAction::Warn { task_id, stops_at } => {
                warned.insert(task_id.clone(), now);
                CostEvent::AutoStopWarned {
                    task_id,
                    minutes_left: u32::try_from((stops_at - now).whole_minutes().max(0))
                        .unwrap_or(0),
                    stops_at: iso(stops_at),
                }
            }
            GuardAction::Stop {
                task_id,
                task_arn,
                ran_hours,
            } => {
                let reason = format!("Stopped by Slipway's auto-stop after {ran_hours:.1} h");
                match stop_task(conn, &status.cluster, &task_arn, &reason).await {
                    Ok(()) => CostEvent::AutoStopped { task_id, ran_hours },
                    Err(e) => CostEvent::CheckFailed {
                        code: e.code(),
                        message: format!("Auto-stop could not stop task {task_id}: {e}"),
                    },
                }
            }
            GuardAction::Remind {
                task_id,
                ran_hours,
                limit_hours,
            } => CostEvent::RanLong {
                task_id,
                ran_hours,
                limit_hours,
            },
        });
    }
    Ok(events)
}

/// Checks every `every` until cancelled, reporting the running cost each time and each
/// warning and reminder once per task.
pub async fn watch(
    db: &Path,
    conn: &Connection,
    config: &ProjectConfig,
    clock: &dyn Clock,
    every: Duration,
    sink: &dyn ProgressSink<CostEvent>,
    cancel: &Cancel,
) -> Result<()> {
    let mut told: HashSet<(String, &'static str)> = HashSet::new();
    let mut warned = Warned::new();
    loop {
        match check(db, conn, config, clock.now(), &mut warned).await {
            Ok(events) => {
                for event in events {
                    let once = match &event {
                        CostEvent::AutoStopWarned { task_id, .. } => {
                            Some((task_id.clone(), "warn"))
                        }
                        CostEvent::RanLong { task_id, .. } => Some((task_id.clone(), "remind")),
                        _ => None,
                    };
                    if once.is_none_or(|key| told.insert(key)) {
                        sink.emit(event);
                    }
                }
            }
            Err(e) => sink.emit(CostEvent::CheckFailed {
                code: e.code(),
                message: e.to_string(),
            }),
        }
        tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            () = tokio::time::sleep(every) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipway_core::project::Platform;
    use time::macros::datetime;

    fn task(id: &str, from_service: bool) -> BilledTask {
        BilledTask {
            task_id: id.into(),
            task_arn: format!("arn:aws:ecs:us-east-1:123456789012:task/c/{id}"),
            cpu: 256,
            memory: 512,
            platform: Platform::LinuxAmd64,
            billed_from: datetime!(2026-11-22 10:00 UTC),
            public_ip: true,
            from_service,
        }
    }

    fn settings(auto_stop: Option<f64>, remind: Option<f64>) -> CostSettings {
        CostSettings {
            auto_stop_hours: auto_stop,
            remind_after_hours: remind,
            ..CostSettings::default()
        }
    }

    #[test]
    fn nothing_is_planned_without_a_choice() {
        let now = datetime!(2026-11-25 10:00 UTC);
        assert!(plan(
            &CostSettings::default(),
            &[task("a", false)],
            now,
            &Warned::new()
        )
        .is_empty());
    }

    #[test]
    fn a_demo_task_is_warned_near_its_hour_and_stopped_ten_minutes_after_the_warning() {
        let s = settings(Some(2.0), None);
        let tasks = [task("a", false)];
        let mut warned = Warned::new();
        assert!(plan(&s, &tasks, datetime!(2026-11-22 11:49 UTC), &warned).is_empty());
        assert_eq!(
            plan(&s, &tasks, datetime!(2026-11-22 11:51 UTC), &warned),
            vec![GuardAction::Warn {
                task_id: "a".into(),
                stops_at: datetime!(2026-11-22 12:01 UTC)
            }]
        );
        warned.insert("a".into(), datetime!(2026-11-22 11:51 UTC));
        assert!(
            plan(&s, &tasks, datetime!(2026-11-22 11:55 UTC), &warned).is_empty(),
            "warned once"
        );
        assert!(
            plan(&s, &tasks, datetime!(2026-11-22 12:00 UTC), &warned).is_empty(),
            "due, but warned only nine minutes ago"
        );
        assert!(matches!(
            plan(&s, &tasks, datetime!(2026-11-22 12:01 UTC), &warned)[..],
            [GuardAction::Stop { ref task_id, .. }] if task_id == "a"
        ));
    }

    #[test]
    fn a_task_found_overdue_is_warned_before_it_is_stopped() {
        let s = settings(Some(1.0), None);
        let now = datetime!(2026-11-22 15:00 UTC);
        assert_eq!(
            plan(&s, &[task("a", false)], now, &Warned::new()),
            vec![GuardAction::Warn {
                task_id: "a".into(),
                stops_at: now + WARN_BEFORE
            }]
        );
    }

    #[test]
    fn a_service_task_is_reminded_about_but_never_auto_stopped() {
        let s = settings(Some(1.0), Some(3.0));
        let now = datetime!(2026-11-22 14:00 UTC);
        let actions = plan(&s, &[task("svc", true)], now, &Warned::new());
        assert_eq!(
            actions,
            vec![GuardAction::Remind {
                task_id: "svc".into(),
                ran_hours: 4.0,
                limit_hours: 3.0
            }]
        );
    }
}
