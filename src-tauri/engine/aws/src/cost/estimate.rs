//! The estimate before deploying: a pure function of what the user chose (task size,
//! architecture, region, number of tasks, schedule, log volume, image size) and a
//! [`PriceBook`]. Every figure a screen shows comes from here.

use serde::{Deserialize, Serialize};

use super::prices::PriceBook;
use slipway_core::error::{EngineError, Result};
use slipway_core::fargate::{is_valid_task_size, task_size_options, vcpu_label};
use slipway_core::project::{Platform, TaskSize};

/// AWS bills a month as 730 hours.
pub const HOURS_PER_MONTH: f64 = 730.0;
const HOURS_PER_WEEK: f64 = 168.0;
/// Load balancer capacity units assumed for a demo-sized app.
const LCUS: f64 = 1.0;
/// An internet-facing ALB has a public IPv4 address in each of at least two zones.
const LOAD_BALANCER_ADDRESSES: f64 = 2.0;
const MIB_PER_GIB: f64 = 1024.0;

/// What an estimate is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CostInputs {
    pub region: String,
    pub platform: Platform,
    pub task: TaskSize,
    /// How many tasks run at once.
    pub tasks: u32,
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
    if !(1..=100).contains(&inputs.tasks) {
        return Err(invalid(
            "The number of tasks",
            format!("{} is outside 1 to 100", inputs.tasks),
        ));
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

/// The estimate for `inputs` at `book`'s prices. Inputs are assumed checked.
pub fn estimate(inputs: &CostInputs, book: &PriceBook) -> Estimate {
    let p = &book.prices;
    let tasks = f64::from(inputs.tasks);
    let running_hours = inputs
        .hours_per_week
        .map_or(HOURS_PER_MONTH, |h| h * HOURS_PER_MONTH / HOURS_PER_WEEK);
    let (vcpu_hour, gb_hour, _) = p.compute(inputs.platform);
    let vcpu = f64::from(inputs.task.cpu) / 1024.0;
    let gb = f64::from(inputs.task.memory) / MIB_PER_GIB;
    let task_word = if inputs.tasks == 1 { "task" } else { "tasks" };
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
        let per_hour = p.load_balancer_hour
            + LCUS * p.load_balancer_lcu_hour
            + LOAD_BALANCER_ADDRESSES * p.public_ipv4_hour;
        lines.push(CostLine {
            component: CostComponent::LoadBalancer,
            label: "Load balancer".to_owned(),
            detail: format!(
                "${} per hour + {LCUS} LCU × ${} + {LOAD_BALANCER_ADDRESSES} public IPv4; billed while it exists, so always on",
                p.load_balancer_hour, p.load_balancer_lcu_hour
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
    let per_month: f64 = lines.iter().map(|l| l.per_month).sum();
    let always_on_per_month = per_hour * HOURS_PER_MONTH + fixed;
    Estimate {
        task: inputs.task,
        per_hour: always_on_hourly,
        per_day: per_month * 24.0 / HOURS_PER_MONTH,
        per_month,
        running_hours_per_month: running_hours,
        always_on_per_month,
        demo_per_month: inputs.hours_per_week.map(|_| per_month),
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
            let e = estimate(
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
mod tests {
    use super::*;
    use crate::cost::prices::bundled;

    fn smallest(region: &str) -> CostInputs {
        CostInputs {
            region: region.to_owned(),
            platform: Platform::LinuxAmd64,
            task: TaskSize {
                cpu: 256,
                memory: 512,
            },
            tasks: 1,
            hours_per_week: None,
            log_gb_per_month: 0.0,
            log_retention_days: 30,
            image_mb: None,
            load_balancer: false,
        }
    }

    fn line(e: &Estimate, component: CostComponent) -> &CostLine {
        e.lines.iter().find(|l| l.component == component).unwrap()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn the_smallest_x86_task_in_us_east_1_matches_the_facts_table() {
        // 0.25 × 0.04048 + 0.5 × 0.004445 = 0.0123425 per hour, "0.01234/h, about 9.01 a
        // month"; plus 0.005 per hour for its public IPv4 address.
        let e = estimate(&smallest("us-east-1"), &bundled("us-east-1"));
        let compute = line(&e, CostComponent::Cpu).per_hour.unwrap()
            + line(&e, CostComponent::Memory).per_hour.unwrap();
        assert!(close(compute, 0.0123425), "{compute}");
        assert!(close(
            line(&e, CostComponent::PublicIpv4).per_hour.unwrap(),
            0.005
        ));
        assert!(close(e.per_hour, 0.0173425));
        assert!(close(compute * 730.0, 9.010025), "about 9.01 a month");
        assert!(close(e.per_month, 0.0173425 * 730.0));
        assert!(close(e.per_day, 0.0173425 * 24.0));
        assert_eq!(e.demo_per_month, None);
    }

    #[test]
    fn arm_and_other_regions_use_their_own_rates() {
        let mut inputs = smallest("us-east-1");
        inputs.platform = Platform::LinuxArm64;
        let e = estimate(&inputs, &bundled("us-east-1"));
        assert!(close(
            line(&e, CostComponent::Cpu).per_hour.unwrap(),
            0.25 * 0.03238
        ));
        assert!(close(
            line(&e, CostComponent::Memory).per_hour.unwrap(),
            0.5 * 0.00356
        ));

        // 1 vCPU / 2 GB x86 in ap-southeast-1, 2 tasks: 2 × (0.05056 + 2 × 0.00553).
        let mut inputs = smallest("ap-southeast-1");
        inputs.task = TaskSize {
            cpu: 1024,
            memory: 2048,
        };
        inputs.tasks = 2;
        let e = estimate(&inputs, &bundled("ap-southeast-1"));
        let compute = line(&e, CostComponent::Cpu).per_hour.unwrap()
            + line(&e, CostComponent::Memory).per_hour.unwrap();
        assert!(close(compute, 2.0 * (0.05056 + 2.0 * 0.00553)), "{compute}");
        assert!(close(
            line(&e, CostComponent::PublicIpv4).per_hour.unwrap(),
            0.01
        ));
    }

    #[test]
    fn demo_hours_scale_the_hourly_lines_and_not_storage() {
        let mut inputs = smallest("us-east-1");
        inputs.hours_per_week = Some(10.0);
        inputs.log_gb_per_month = 2.0;
        inputs.image_mb = Some(150.0);
        let e = estimate(&inputs, &bundled("us-east-1"));
        let hours = 10.0 * 730.0 / 168.0;
        assert!(close(e.running_hours_per_month, hours));
        let storage = 2.0 * 0.5 + 2.0 * 30.0 * 24.0 / 730.0 * 0.03 + 0.15 * 0.10;
        assert!(close(e.per_month, 0.0173425 * hours + storage), "{e:?}");
        assert!(close(e.always_on_per_month, 0.0173425 * 730.0 + storage));
        assert_eq!(e.demo_per_month, Some(e.per_month));
    }

    #[test]
    fn a_load_balancer_is_billed_all_month_with_its_two_addresses() {
        let mut inputs = smallest("us-east-1");
        inputs.load_balancer = true;
        inputs.hours_per_week = Some(1.0);
        let e = estimate(&inputs, &bundled("us-east-1"));
        let lb = line(&e, CostComponent::LoadBalancer);
        assert!(close(lb.per_hour.unwrap(), 0.0225 + 0.008 + 0.01));
        assert!(close(lb.per_month, (0.0225 + 0.008 + 0.01) * 730.0));
    }

    #[test]
    fn every_valid_pair_is_offered_with_its_cost_and_no_invalid_one() {
        let sheet = cost_sheet(&smallest("us-east-1"), bundled("us-east-1")).unwrap();
        let expected: usize = task_size_options().iter().map(|o| o.memories.len()).sum();
        assert_eq!(sheet.sizes.len(), expected);
        assert_eq!(expected, 3 + 4 + 7 + 13 + 23 + 12 + 12);
        assert!(sheet
            .sizes
            .iter()
            .all(|s| is_valid_task_size(s.cpu, s.memory)));
        let largest = sheet.sizes.last().unwrap();
        assert_eq!((largest.cpu, largest.memory), (16384, 122880));
        assert!(close(
            largest.per_hour,
            16.0 * 0.04048 + 120.0 * 0.004445 + 0.005
        ));
        assert!(sheet.sizes.windows(2).all(|w| w[0].cpu <= w[1].cpu));
    }

    #[test]
    fn invalid_choices_are_refused_with_what_to_do() {
        let mut inputs = smallest("us-east-1");
        inputs.task.memory = 1536;
        let err = cost_sheet(&inputs, bundled("us-east-1")).unwrap_err();
        assert!(
            err.to_string().contains("pick one of the offered pairs"),
            "{err}"
        );
        let mut inputs = smallest("us-east-1");
        inputs.hours_per_week = Some(200.0);
        assert!(cost_sheet(&inputs, bundled("us-east-1")).is_err());
        let mut inputs = smallest("us-east-1");
        inputs.tasks = 0;
        assert!(cost_sheet(&inputs, bundled("us-east-1")).is_err());
    }
}
