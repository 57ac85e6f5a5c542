//! `slipway cost`: the estimate for the project, with the prices it used and from when, the
//! stable address beside a new address each deploy, and what runs for the app now (its
//! tasks and its load balancer) by the hour.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;
use slipway_aws::cost::estimate::dollars as money;
use slipway_aws::cost::{self, CostSheet, PriceRefresh, PriceSource, RunningCost};
use slipway_core::fargate::vcpu_label;
use slipway_core::host::HostEnv;
use time::OffsetDateTime;

use crate::output::{fail, heading, json, line, Mark};

#[derive(Args)]
pub struct CostArgs {
    /// The project folder (default: the current folder).
    #[arg(long)]
    project: Option<PathBuf>,
    /// Price it as running only this many hours a week (a demo), instead of always on.
    #[arg(long, value_name = "N")]
    hours_per_week: Option<f64>,
    /// How many tasks run at once (default: the app's saved choice, else 1).
    #[arg(long, value_name = "N")]
    tasks: Option<u32>,
    /// Expected log volume in GB a month (default: the app's saved choice, else 1).
    #[arg(long, value_name = "GB")]
    log_gb: Option<f64>,
    /// Ask the AWS Price List API now (needs credentials allowed pricing:GetProducts);
    /// without it, prices older than 30 days are refreshed when credentials allow.
    #[arg(long)]
    refresh: bool,
    /// Use cached or bundled prices only, and do not read what runs now; make no AWS call.
    #[arg(long, conflicts_with = "refresh")]
    offline: bool,
    /// Send AWS calls here instead of the saved override or AWS (an emulator).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
}

/// The estimate (its fields at the top level, as before) and what runs now.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    #[serde(flatten)]
    sheet: &'a CostSheet,
    /// What runs for the app now by the hour; None with `--offline`, for a folder without
    /// slipway.toml, or when it could not be read.
    running_now: Option<RunningCost>,
    /// Why what runs now could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    running_now_problem: Option<String>,
}

/// The app's running tasks and its load balancers, metered now.
async fn running_now(
    host: &HostEnv,
    dir: &Path,
    endpoint_url: Option<String>,
    now: OffsetDateTime,
) -> Result<RunningCost, slipway_core::EngineError> {
    let (config, conn) = slipway_aws::setup::connect_project(
        host,
        dir,
        endpoint_url,
        std::time::SystemTime::from(now),
    )
    .await?;
    let db = slipway_core::store::db_path(host);
    let status = slipway_aws::deploy::status(&db, &conn, &config, now).await?;
    let balancers = cost::load_balancers::of_app(&conn, &config.name, config.id.as_deref()).await?;
    Ok(status.cost.with_load_balancers(&balancers, now))
}

pub async fn run(args: CostArgs, as_json: bool) -> ExitCode {
    let host = HostEnv::from_process();
    let dir = args.project.unwrap_or_else(|| PathBuf::from("."));
    let refresh = if args.refresh {
        PriceRefresh::Now
    } else if args.offline {
        PriceRefresh::Never
    } else {
        PriceRefresh::IfStale
    };
    let now = OffsetDateTime::now_utc();
    let sheet =
        match cost::project_sheet(&host, &dir, refresh, args.endpoint_url.clone(), now).await {
            Ok(sheet) => sheet,
            Err(e) => return fail("cost", &e, as_json),
        };
    let overridden = args.hours_per_week.is_some() || args.tasks.is_some() || args.log_gb.is_some();
    let sheet = if overridden {
        let mut inputs = sheet.inputs.clone();
        inputs.hours_per_week = args.hours_per_week.or(inputs.hours_per_week);
        inputs.tasks = args.tasks.unwrap_or(inputs.tasks);
        inputs.log_gb_per_month = args.log_gb.unwrap_or(inputs.log_gb_per_month);
        match cost::cost_sheet(&inputs, sheet.prices) {
            Ok(sheet) => sheet,
            Err(e) => return fail("cost", &e, as_json),
        }
    } else {
        sheet
    };
    // Nothing can run for a folder without slipway.toml; --offline asks for no AWS call.
    let saved = matches!(slipway_core::project::load(&dir), Ok(Some(_)));
    let (running, problem) = if args.offline || !saved {
        (None, None)
    } else {
        match running_now(&host, &dir, args.endpoint_url, now).await {
            Ok(running) => (Some(running), None),
            Err(e) => (None, Some(e.to_string())),
        }
    };
    if as_json {
        json(&Report {
            sheet: &sheet,
            running_now: running,
            running_now_problem: problem,
        });
    } else {
        print_sheet(&sheet);
        print_running(running.as_ref(), problem.as_deref());
    }
    ExitCode::SUCCESS
}

fn print_running(running: Option<&RunningCost>, problem: Option<&str>) {
    if let Some(problem) = problem {
        heading("Running now");
        line(Mark::Problem, format!("not read: {problem}"));
        return;
    }
    let Some(c) = running else {
        return;
    };
    heading("Running now");
    if c.tasks.is_empty() && c.load_balancers.is_empty() {
        line(
            Mark::Info,
            "nothing runs on AWS for the app (nothing is billed by the hour)",
        );
    }
    if !c.tasks.is_empty() {
        let n = c.tasks.len();
        line(
            Mark::Info,
            format!(
                "{n} task{}: {} an hour, {} so far",
                if n == 1 { "" } else { "s" },
                money(c.tasks.iter().map(|t| t.per_hour).sum()),
                money(c.so_far)
            ),
        );
    }
    for lb in &c.load_balancers {
        line(
            Mark::Info,
            format!(
                "load balancer {}: {} an hour{}   {}",
                lb.name,
                money(lb.per_hour),
                lb.so_far
                    .map(|s| format!(", about {} since it was made", money(s)))
                    .unwrap_or_default(),
                lb.detail
            ),
        );
    }
    if !c.load_balancers.is_empty() && !c.tasks.is_empty() {
        line(Mark::Ok, format!("{} an hour in all", money(c.per_hour)));
    }
    for note in &c.notes {
        line(Mark::Problem, note);
    }
}

fn print_sheet(sheet: &CostSheet) {
    let i = &sheet.inputs;
    let e = &sheet.estimate;
    let tasks = match i.max_tasks.filter(|most| *most > i.tasks) {
        Some(most) => format!("{} to {most} tasks", i.tasks),
        None => format!("{} task{}", i.tasks, if i.tasks == 1 { "" } else { "s" }),
    };
    heading(&format!(
        "{} / {} MiB, {}, {tasks}{} in {}, {}",
        vcpu_label(i.task.cpu),
        i.task.memory,
        i.platform.as_str(),
        if i.load_balancer {
            " behind a load balancer"
        } else {
            ""
        },
        i.region,
        match i.hours_per_week {
            Some(h) => format!("{h} hours a week"),
            None => "always on".to_owned(),
        }
    ));
    for l in &e.lines {
        line(
            Mark::Info,
            format!(
                "{:<22} {:>10} a month   {}",
                l.label,
                money(l.per_month),
                l.detail
            ),
        );
    }
    line(
        Mark::Ok,
        format!(
            "{} an hour while running, {} a day, {} a month ({:.0} running hours)",
            money(e.per_hour),
            money(e.per_day),
            money(e.per_month),
            e.running_hours_per_month
        ),
    );
    if i.hours_per_week.is_some() {
        line(
            Mark::Info,
            format!(
                "always on it would be {} a month",
                money(e.always_on_per_month)
            ),
        );
    }
    if let Some(range) = &e.range {
        line(Mark::Ok, format!("with scaling: {}", range.summary));
    }
    let a = &e.address;
    line(Mark::Info, &a.summary);
    line(
        Mark::Info,
        format!(
            "the stable address costs about {} a month more: the load balancer, billed all month ({}); {}",
            money(a.stable_extra_per_month),
            a.assumption,
            if i.load_balancer {
                "this app has it (slipway.toml [aws] load_balancer = true)"
            } else {
                "this app has a new address each deploy (load_balancer = true in slipway.toml [aws] gives it one that never changes)"
            }
        ),
    );
    let p = &sheet.prices;
    line(
        Mark::Info,
        format!(
            "prices: {} ({} {}), {}",
            p.source_text,
            match p.source {
                PriceSource::Bundled => "dated",
                PriceSource::PriceList => "fetched",
            },
            p.as_of,
            p.region
        ),
    );
    for note in p.notes.iter().chain(&sheet.notes) {
        line(Mark::Info, note);
    }
}
