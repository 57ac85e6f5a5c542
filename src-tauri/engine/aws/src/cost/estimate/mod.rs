//! The estimate before deploying: a pure function of what the user chose (task size,
//! architecture, region, number of tasks, schedule, log volume, image size) and a
//! [`PriceBook`]. Every figure a screen shows comes from here.

use serde::{Deserialize, Serialize};

use super::prices::{PriceBook, ASSUMED_LCUS, LCU_ASSUMPTION, LOAD_BALANCER_ZONES};
use slipway_core::error::{EngineError, Result};
use slipway_core::fargate::{is_valid_task_size, task_size_options, vcpu_label};
use slipway_core::project::{Platform, TaskSize};

/// AWS bills a month as 730 hours.
pub const HOURS_PER_MONTH: f64 = 730.0;
const HOURS_PER_WEEK: f64 = 168.0;
const MIB_PER_GIB: f64 = 1024.0;
/// The most tasks an estimate prices.
const MOST_TASKS: u32 = 100;

/// What an estimate is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CostInputs {
    pub region: String,
    pub platform: Platform,
    pub task: TaskSize,
    /// How many tasks run at once (with scaling, the fewest).
    pub tasks: u32,
    /// With scaling, the most tasks the service may run; None (and left out) without scaling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[specta(optional)]
    pub max_tasks: Option<u32>,
    /// Hours a week the app runs ("only while I demo"); None when always on.
    pub hours_per_week: Option<f64>,
    /// Expected log volume, GB a month.
    pub log_gb_per_month: f64,
    /// How long CloudWatch keeps logs (the project's retention).
    pub log_retention_days: u32,
    /// The image's size, MB, when it is known (a built release).
    pub image_mb: Option<f64>,
    pub load_balancer: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub enum CostComponent {
    Cpu,
    Memory,
    PublicIpv4,
    LoadBalancer,
    LogIngestion,
    LogStorage,
    ImageStorage,
}

/// One component of the bill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CostLine {
    pub component: CostComponent,
    pub label: String,
    /// How the figure was reached, e.g. "0.25 vCPU × 1 task × $0.04048 per vCPU-hour".
    pub detail: String,
    /// While the app runs; None for a monthly charge (storage, ingestion).
    pub per_hour: Option<f64>,
    /// In a month on the chosen schedule.
    pub per_month: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Estimate {
    pub task: TaskSize,
    pub lines: Vec<CostLine>,
    /// What an hour of running costs (the hourly lines).
    pub per_hour: f64,
    /// An average day of the month on the chosen schedule.
    pub per_day: f64,
    /// A 730-hour month on the chosen schedule.
    pub per_month: f64,
    /// Hours the app runs in that month.
    pub running_hours_per_month: f64,
    /// The month if it ran always.
    pub always_on_per_month: f64,
    /// The month if it ran only the chosen hours a week (None when always on).
    pub demo_per_month: Option<f64>,
    /// With scaling, the month at the fewest tasks (the figures above) and at the most.
    pub range: Option<TaskRange>,
    /// One address that never changes beside a new address each deploy, for the same tasks.
    pub address: AddressChoice,
}

/// What a month costs between the fewest and the most tasks scaling may run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TaskRange {
    pub fewest_tasks: u32,
    pub most_tasks: u32,
    pub fewest_per_month: f64,
    pub most_per_month: f64,
    /// "From $12.66 (1 task) to $37.97 (3 tasks) a month".
    pub summary: String,
}

/// The two ways to be reached, priced for the same tasks, size and schedule: a load
/// balancer whose name never changes, or each task's own public IP, new at each deploy.
/// The difference is the load balancer, billed all month whatever the schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AddressChoice {
    /// One address that never changes: the tasks behind a load balancer, a month.
    pub stable_per_month: f64,
    /// A new address each deploy: the same tasks without a load balancer, a month.
    pub new_each_deploy_per_month: f64,
    /// What the stable address adds, a month and an hour (the load balancer).
    pub stable_extra_per_month: f64,
    pub stable_extra_per_hour: f64,
    /// What the load balancer's figure assumes, in words.
    pub assumption: String,
    /// "One address that never changes: about $X a month; a new address each deploy: about
    /// $Y a month."
    pub summary: String,
}

/// One valid task size and what a month of it costs with the other choices unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SizeCost {
    pub cpu: u32,
    pub memory: u32,
    pub per_hour: f64,
    pub per_month: f64,
}

/// Everything a cost screen shows: the estimate, the cost of every valid task size, and
/// the prices used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CostSheet {
    pub inputs: CostInputs,
    pub estimate: Estimate,
    pub sizes: Vec<SizeCost>,
    pub prices: PriceBook,
    /// What the estimate leaves out or assumes.
    pub notes: Vec<String>,
}

pub fn check_inputs(inputs: &CostInputs) -> Result<()> {
    let invalid = |what: &str, reason: String| EngineError::InvalidInput {
        what: what.to_owned(),
        reason,
    };
    if !is_valid_task_size(inputs.task.cpu, inputs.task.memory) {
        return Err(invalid(
            "The task size",
            format!(
                "{} with {} MiB is not a size Fargate runs; pick one of the offered pairs",
                vcpu_label(inputs.task.cpu),
                inputs.task.memory
            ),
        ));
    }
    if !(1..=MOST_TASKS).contains(&inputs.tasks) {
        return Err(invalid(
            "The number of tasks",
            format!("{} is outside 1 to {MOST_TASKS}", inputs.tasks),
        ));
    }
    if let Some(most) = inputs.max_tasks {
        if most < inputs.tasks {
            return Err(invalid(
                "The most tasks",
                format!(
                    "{most} is fewer than the {} the service keeps running; raise it or lower the number of tasks",
                    inputs.tasks
                ),
            ));
        }
        if most > MOST_TASKS {
            return Err(invalid(
                "The most tasks",
                format!("{most} is over {MOST_TASKS}"),
            ));
        }
    }
    if let Some(h) = inputs.hours_per_week {
        if !(h > 0.0 && h <= HOURS_PER_WEEK) {
            return Err(invalid(
                "Hours a week",
                format!("{h} is outside 0 to 168 (choose \"always on\" for 168)"),
            ));
        }
    }
    if !(0.0..=100_000.0).contains(&inputs.log_gb_per_month) {
        return Err(invalid(
            "The log volume",
            format!(
                "{} GB a month is outside 0 to 100000",
                inputs.log_gb_per_month
            ),
        ));
    }
    if inputs.image_mb.is_some_and(|mb| mb.is_nan() || mb < 0.0) {
        return Err(invalid("The image size", "it is negative".to_owned()));
    }
    Ok(())
}

/// Dollars as a sentence says them: cents from a dollar up, four places below.
pub fn dollars(usd: f64) -> String {
    if usd < 1.0 {
        format!("${usd:.4}")
    } else {
        format!("${usd:.2}")
    }
}

fn tasks_word(n: u32) -> &'static str {
    if n == 1 {
        "task"
    } else {
        "tasks"
    }
}

/// The estimate for `inputs` at `book`'s prices, with the scaling range and the address
/// choice beside it. Inputs are assumed checked.
pub fn estimate(inputs: &CostInputs, book: &PriceBook) -> Estimate {
    let e = priced(inputs, book);
    let range = inputs
        .max_tasks
        .filter(|most| *most > inputs.tasks)
        .map(|most| {
            let most_per_month = priced(
                &CostInputs {
                    tasks: most,
                    ..inputs.clone()
                },
                book,
            )
            .per_month;
            TaskRange {
                fewest_tasks: inputs.tasks,
                most_tasks: most,
                fewest_per_month: e.per_month,
                most_per_month,
                summary: format!(
                    "From {} ({} {}) to {} ({most} tasks) a month",
                    dollars(e.per_month),
                    inputs.tasks,
                    tasks_word(inputs.tasks),
                    dollars(most_per_month),
                ),
            }
        });
    // The load balancer bills every hour it exists, whatever the tasks' schedule: the
    // stable address is the same tasks plus its month.
    let new_each_deploy = priced(
        &CostInputs {
            load_balancer: false,
            ..inputs.clone()
        },
        book,
    )
    .per_month;
    let extra_per_hour = book.prices.load_balancer_per_hour(LOAD_BALANCER_ZONES);
    let stable = new_each_deploy + extra_per_hour * HOURS_PER_MONTH;
    let address = AddressChoice {
        stable_per_month: stable,
        new_each_deploy_per_month: new_each_deploy,
        stable_extra_per_month: extra_per_hour * HOURS_PER_MONTH,
        stable_extra_per_hour: extra_per_hour,
        assumption: LCU_ASSUMPTION.to_owned(),
        summary: format!(
            "One address that never changes: about {} a month; a new address each deploy: about {} a month.",
            dollars(stable),
            dollars(new_each_deploy)
        ),
    };
    Estimate {
        task: inputs.task,
        per_hour: e.per_hour,
        per_day: e.per_month * 24.0 / HOURS_PER_MONTH,
        per_month: e.per_month,
        running_hours_per_month: e.running_hours,
        always_on_per_month: e.always_on_per_month,
        demo_per_month: inputs.hours_per_week.map(|_| e.per_month),
        lines: e.lines,
        range,
        address,
    }
}

/// The lines and totals for exactly `inputs`.
struct Priced {
    lines: Vec<CostLine>,
    per_hour: f64,
    per_month: f64,
    always_on_per_month: f64,
    running_hours: f64,
}

fn priced(inputs: &CostInputs, book: &PriceBook) -> Priced {
    let p = &book.prices;
    let tasks = f64::from(inputs.tasks);
    let running_hours = inputs
        .hours_per_week
        .map_or(HOURS_PER_MONTH, |h| h * HOURS_PER_MONTH / HOURS_PER_WEEK);
    let (vcpu_hour, gb_hour, _) = p.compute(inputs.platform);
    let vcpu = f64::from(inputs.task.cpu) / 1024.0;
    let gb = f64::from(inputs.task.memory) / MIB_PER_GIB;
    let task_word = tasks_word(inputs.tasks);
    let arch = match inputs.platform {
        Platform::LinuxAmd64 => "x86",
        Platform::LinuxArm64 => "ARM",
    };

    let hourly = |component, label: &str, detail: String, per_hour: f64| CostLine {
        component,
        label: label.to_owned(),
        detail,
        per_hour: Some(per_hour),
        per_month: per_hour * running_hours,
    };
    let mut lines = vec![
        hourly(
            CostComponent::Cpu,
            "Compute (vCPU)",
            format!(
                "{} × {} {task_word} × ${vcpu_hour} per {arch} vCPU-hour",
                vcpu_label(inputs.task.cpu),
                inputs.tasks
            ),
            vcpu * tasks * vcpu_hour,
        ),
        hourly(
            CostComponent::Memory,
            "Compute (memory)",
            format!(
                "{gb} GB × {} {task_word} × ${gb_hour} per {arch} GB-hour",
                inputs.tasks
            ),
            gb * tasks * gb_hour,
        ),
        hourly(
            CostComponent::PublicIpv4,
            "Public IPv4 addresses",
            format!(
                "{} {} × ${} per hour",
                inputs.tasks,
                if inputs.tasks == 1 {
                    "address"
                } else {
                    "addresses"
                },
                p.public_ipv4_hour
            ),
            tasks * p.public_ipv4_hour,
        ),
    ];
    if inputs.load_balancer {
        let per_hour = p.load_balancer_per_hour(LOAD_BALANCER_ZONES);
        lines.push(CostLine {
            component: CostComponent::LoadBalancer,
            label: "Load balancer".to_owned(),
            detail: format!(
                "${} per hour + {ASSUMED_LCUS} LCU × ${} per LCU-hour ({LCU_ASSUMPTION}) + {LOAD_BALANCER_ZONES} public IPv4 addresses (one per zone) × ${}; billed while it exists, so always on",
                p.load_balancer_hour, p.load_balancer_lcu_hour, p.public_ipv4_hour
            ),
            per_hour: Some(per_hour),
            per_month: per_hour * HOURS_PER_MONTH,
        });
    }
    let stored_gb =
        inputs.log_gb_per_month * f64::from(inputs.log_retention_days) * 24.0 / HOURS_PER_MONTH;
    lines.push(CostLine {
        component: CostComponent::LogIngestion,
        label: "Log ingestion".to_owned(),
        detail: format!(
            "{} GB a month × ${} per GB",
            inputs.log_gb_per_month, p.log_ingestion_gb
        ),
        per_hour: None,
        per_month: inputs.log_gb_per_month * p.log_ingestion_gb,
    });
    lines.push(CostLine {
        component: CostComponent::LogStorage,
        label: "Log storage".to_owned(),
        detail: format!(
            "{stored_gb:.2} GB kept ({} days) × ${} per GB-month",
            inputs.log_retention_days, p.log_storage_gb_month
        ),
        per_hour: None,
        per_month: stored_gb * p.log_storage_gb_month,
    });
    if let Some(mb) = inputs.image_mb {
        let gb = mb / 1000.0;
        lines.push(CostLine {
            component: CostComponent::ImageStorage,
            label: "Image storage (ECR)".to_owned(),
            detail: format!("{gb:.3} GB × ${} per GB-month", p.image_storage_gb_month),
            per_hour: None,
            per_month: gb * p.image_storage_gb_month,
        });
    }

    let per_hour: f64 = lines
        .iter()
        .filter(|l| l.component != CostComponent::LoadBalancer)
        .filter_map(|l| l.per_hour)
        .sum();
    let always_on_hourly: f64 = lines.iter().filter_map(|l| l.per_hour).sum();
    let fixed: f64 = lines
        .iter()
        .filter(|l| l.per_hour.is_none() || l.component == CostComponent::LoadBalancer)
        .map(|l| l.per_month)
        .sum();
    Priced {
        per_hour: always_on_hourly,
        per_month: lines.iter().map(|l| l.per_month).sum(),
        always_on_per_month: per_hour * HOURS_PER_MONTH + fixed,
        running_hours,
        lines,
    }
}

/// The estimate, every valid size's cost, and the notes that qualify them.
pub fn cost_sheet(inputs: &CostInputs, book: PriceBook) -> Result<CostSheet> {
    check_inputs(inputs)?;
    let sizes = task_size_options()
        .into_iter()
        .flat_map(|option| {
            option
                .memories
                .into_iter()
                .map(move |memory| (option.cpu, memory))
        })
        .map(|(cpu, memory)| {
            let e = priced(
                &CostInputs {
                    task: TaskSize { cpu, memory },
                    ..inputs.clone()
                },
                &book,
            );
            SizeCost {
                cpu,
                memory,
                per_hour: e.per_hour,
                per_month: e.per_month,
            }
        })
        .collect();
    let mut notes = vec![
        "Billed per second from image pull to task stop, with a one-minute minimum; Fargate has no free tier.".to_owned(),
        "CloudWatch Logs' 5 GB a month free tier is account-wide and not subtracted.".to_owned(),
        "Data out beyond AWS's 100 GB a month free is not included ($0.09 per GB).".to_owned(),
    ];
    if inputs.load_balancer {
        notes.push(format!(
            "The load balancer's figure {LCU_ASSUMPTION}-hour each hour; busier traffic adds {} an hour for each further LCU.",
            dollars(book.prices.load_balancer_lcu_hour)
        ));
    }
    if book.prices.compute(inputs.platform).2 {
        notes.push(format!(
            "There is no ARM price for {}; the x86 price is shown.",
            inputs.region
        ));
    }
    Ok(CostSheet {
        inputs: inputs.clone(),
        estimate: estimate(inputs, &book),
        sizes,
        notes,
        prices: book,
    })
}

#[cfg(test)]
mod tests;
