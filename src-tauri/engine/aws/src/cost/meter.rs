//! The running-cost meter: what the app's running tasks have cost since AWS started
//! billing them, what they and its load balancer cost per hour now, and a load balancer
//! left billing with no task in words. A pure function of the tasks, the load balancers,
//! the prices and the time, which the caller passes (the clock seam); finding the load
//! balancers is `load_balancers`'.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::estimate::dollars;
use super::prices::{PriceBook, ASSUMED_LCUS, LCU_ASSUMPTION};
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

/// A load balancer of the app's as billing sees it: it bills from its creation until it is
/// deleted, whether or not a task runs behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct BilledLoadBalancer {
    pub name: String,
    pub arn: String,
    pub dns_name: Option<String>,
    /// Public IPv4 addresses it pays for: one per zone when internet-facing, none inside
    /// the VPC only.
    pub public_addresses: u32,
    pub created_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerCost {
    pub name: String,
    pub dns_name: Option<String>,
    pub public_addresses: u32,
    pub per_hour: f64,
    /// How the hourly figure is reached, with what it assumes, in words.
    pub detail: String,
    /// When it was created (ISO 8601) and what it has cost since; None when AWS did not say.
    pub since: Option<String>,
    pub so_far: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RunningCost {
    pub tasks: Vec<TaskCost>,
    /// What everything running costs per hour now: the tasks and the load balancers.
    pub per_hour: f64,
    /// What the running tasks have cost since each started.
    pub so_far: f64,
    /// Boxed, so the cost watch's events (one of which is a meter) stay small; the same
    /// to serde and TypeScript.
    pub prices: Box<PriceBook>,
    /// The app's load balancers, billed while they exist.
    #[serde(default)]
    #[specta(optional)]
    pub load_balancers: Vec<LoadBalancerCost>,
    /// What the figures mean for the user, in words (a load balancer that bills with no
    /// task running).
    #[serde(default)]
    #[specta(optional)]
    pub notes: Vec<String>,
}

impl RunningCost {
    /// This meter with `load_balancers` as the app's, in place of any it had: their hour
    /// joins `per_hour`, and one that bills with no task running is said in words.
    pub fn with_load_balancers(
        mut self,
        load_balancers: &[BilledLoadBalancer],
        now: OffsetDateTime,
    ) -> Self {
        let p = &self.prices.prices;
        self.load_balancers = load_balancers
            .iter()
            .map(|lb| {
                let per_hour = p.load_balancer_per_hour(lb.public_addresses);
                LoadBalancerCost {
                    name: lb.name.clone(),
                    dns_name: lb.dns_name.clone(),
                    public_addresses: lb.public_addresses,
                    per_hour,
                    detail: format!(
                        "${} per hour + {ASSUMED_LCUS} LCU × ${} per LCU-hour ({LCU_ASSUMPTION}) + {} public IPv4 {} × ${}",
                        p.load_balancer_hour,
                        p.load_balancer_lcu_hour,
                        lb.public_addresses,
                        if lb.public_addresses == 1 { "address" } else { "addresses" },
                        p.public_ipv4_hour
                    ),
                    since: lb.created_at.map(iso),
                    so_far: lb.created_at.map(|at| {
                        per_hour * ((now - at).as_seconds_f64().max(0.0) / 3600.0)
                    }),
                }
            })
            .collect();
        self.per_hour = total(self.tasks.iter().map(|t| t.per_hour))
            + total(self.load_balancers.iter().map(|l| l.per_hour));
        self.notes = if self.tasks.is_empty() {
            self.load_balancers
                .iter()
                .map(|lb| {
                    format!(
                        "The load balancer {} bills {} an hour (about {} a month) even with no task running; tear the app down to stop it.",
                        lb.name,
                        dollars(lb.per_hour),
                        dollars(lb.per_hour * super::estimate::HOURS_PER_MONTH)
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        self
    }
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
    book.prices
        .task_hour(task.platform, task.cpu, task.memory, task.public_ip)
}

/// The sum of `figures`; nothing adds up to 0 (`Sum` for f64 gives -0, which JSON shows).
fn total(figures: impl Iterator<Item = f64>) -> f64 {
    figures.fold(0.0, |sum, f| sum + f)
}

/// The tasks' meter and the load balancers'.
pub fn meter_with(
    tasks: &[BilledTask],
    load_balancers: &[BilledLoadBalancer],
    book: &PriceBook,
    now: OffsetDateTime,
) -> RunningCost {
    meter(tasks, book, now).with_load_balancers(load_balancers, now)
}

/// The tasks' meter (no load balancer).
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
        per_hour: total(tasks.iter().map(|t| t.per_hour)),
        so_far: total(tasks.iter().map(|t| t.so_far)),
        tasks,
        prices: Box::new(book.clone()),
        load_balancers: Vec::new(),
        notes: Vec::new(),
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

    fn balancer(created_at: OffsetDateTime) -> BilledLoadBalancer {
        BilledLoadBalancer {
            name: "slipway-demo".into(),
            arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/slipway-demo/1".into(),
            dns_name: Some("slipway-demo-1.us-east-1.elb.amazonaws.com".into()),
            public_addresses: 2,
            created_at: Some(created_at),
        }
    }

    /// The ALB's hour, one LCU-hour and its two public IPv4 addresses.
    const LB_HOUR: f64 = 0.0225 + 0.008 + 0.01;

    #[test]
    fn a_load_balancer_with_no_task_running_still_bills_and_says_so() {
        let start = datetime!(2026-11-22 10:00 UTC);
        let now = start + time::Duration::hours(3);
        let cost = meter_with(&[], &[balancer(start)], &bundled("us-east-1"), now);
        assert!((cost.per_hour - LB_HOUR).abs() < 1e-12);
        assert_eq!(cost.so_far, 0.0, "so far is the tasks'");
        assert!(cost.so_far.is_sign_positive(), "0, not -0, in JSON");
        let lb = &cost.load_balancers[0];
        assert!((lb.so_far.unwrap() - 3.0 * LB_HOUR).abs() < 1e-12);
        assert_eq!(lb.since.as_deref(), Some("2026-11-22T10:00:00Z"));
        assert!(
            lb.detail.contains("assumes light traffic: 1 LCU"),
            "{}",
            lb.detail
        );
        assert_eq!(
            cost.notes,
            vec!["The load balancer slipway-demo bills $0.0405 an hour (about $29.57 a month) even with no task running; tear the app down to stop it."]
        );
    }

    #[test]
    fn tasks_and_their_load_balancer_add_up_once() {
        let start = datetime!(2026-11-22 10:00 UTC);
        let now = start + time::Duration::hours(1);
        let book = bundled("us-east-1");
        let cost = meter_with(&[task(start)], &[balancer(start)], &book, now);
        assert!((cost.per_hour - (0.0173425 + LB_HOUR)).abs() < 1e-12);
        assert!(cost.notes.is_empty(), "a task runs: nothing to warn about");
        let again = cost.clone().with_load_balancers(&[balancer(start)], now);
        assert_eq!(
            again, cost,
            "a meter given its load balancers again counts them once"
        );
        let gone = cost.with_load_balancers(&[], now);
        assert!((gone.per_hour - 0.0173425).abs() < 1e-12);
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
