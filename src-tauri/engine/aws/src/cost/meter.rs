//! The running-cost meter: what the app's running tasks have cost since AWS started
//! billing them and what they cost per hour now. A pure function of the tasks, the
//! prices and the time, which the caller passes (the clock seam).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::prices::PriceBook;
use slipway_core::project::Platform;

/// Fargate bills at least a minute per task.
const MINIMUM_SECONDS: f64 = 60.0;

/// A running task as billing sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct BilledTask {
    pub task_id: String,
    pub task_arn: String,
    /// CPU units and memory MiB of the task.
    pub cpu: u32,
    pub memory: u32,
    pub platform: Platform,
    /// When billing started: the image pull's start, else the task's creation.
    pub billed_from: OffsetDateTime,
    pub public_ip: bool,
    pub from_service: bool,
}

impl BilledTask {
    pub fn hours_at(&self, now: OffsetDateTime) -> f64 {
        ((now - self.billed_from).as_seconds_f64()).max(0.0) / 3600.0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TaskCost {
    pub task_id: String,
    /// ISO 8601.
    pub billed_from: String,
    pub hours: f64,
    pub per_hour: f64,
    pub so_far: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RunningCost {
    pub tasks: Vec<TaskCost>,
    /// What everything running costs per hour now.
    pub per_hour: f64,
    /// What the running tasks have cost since each started.
    pub so_far: f64,
    pub prices: PriceBook,
}

/// An AWS answer's time as a moment (None when it is out of range).
pub fn moment(at: &aws_sdk_ecs::primitives::DateTime) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(at.secs()).ok()
}

pub fn iso(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// The hourly rate of one task: its vCPU and memory, and its public IPv4 address.
pub fn hourly_rate(task: &BilledTask, book: &PriceBook) -> f64 {
    let (vcpu_hour, gb_hour, _) = book.prices.compute(task.platform);
    let ip = if task.public_ip {
        book.prices.public_ipv4_hour
    } else {
        0.0
    };
    f64::from(task.cpu) / 1024.0 * vcpu_hour + f64::from(task.memory) / 1024.0 * gb_hour + ip
}

pub fn meter(tasks: &[BilledTask], book: &PriceBook, now: OffsetDateTime) -> RunningCost {
    let tasks: Vec<TaskCost> = tasks
        .iter()
        .map(|t| {
            let per_hour = hourly_rate(t, book);
            let hours = t.hours_at(now);
            let billed_hours = hours.max(MINIMUM_SECONDS / 3600.0);
            TaskCost {
                task_id: t.task_id.clone(),
                billed_from: iso(t.billed_from),
                hours,
                per_hour,
                so_far: per_hour * billed_hours,
            }
        })
        .collect();
    RunningCost {
        per_hour: tasks.iter().map(|t| t.per_hour).sum(),
        so_far: tasks.iter().map(|t| t.so_far).sum(),
        tasks,
        prices: book.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::prices::bundled;
    use time::macros::datetime;

    fn task(billed_from: OffsetDateTime) -> BilledTask {
        BilledTask {
            task_id: "abc".into(),
            task_arn: "arn:aws:ecs:us-east-1:123456789012:task/c/abc".into(),
            cpu: 256,
            memory: 512,
            platform: Platform::LinuxAmd64,
            billed_from,
            public_ip: true,
            from_service: false,
        }
    }

    #[test]
    fn two_hours_of_the_smallest_task_cost_twice_its_rate() {
        let start = datetime!(2026-11-22 10:00 UTC);
        let cost = meter(
            &[task(start)],
            &bundled("us-east-1"),
            start + time::Duration::hours(2),
        );
        assert!((cost.per_hour - 0.0173425).abs() < 1e-12);
        assert!((cost.so_far - 2.0 * 0.0173425).abs() < 1e-12);
        assert_eq!(cost.tasks[0].billed_from, "2026-11-22T10:00:00Z");
    }

    #[test]
    fn a_task_just_started_is_billed_a_minute() {
        let start = datetime!(2026-11-22 10:00 UTC);
        let cost = meter(
            &[task(start)],
            &bundled("us-east-1"),
            start + time::Duration::seconds(5),
        );
        assert!((cost.so_far - 0.0173425 / 60.0).abs() < 1e-12);
    }
}
