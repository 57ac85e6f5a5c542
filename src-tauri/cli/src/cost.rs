//! `slipway cost`: the estimate for the project, with the prices it used and from when.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use slipway_aws::cost::{self, CostSheet, PriceRefresh, PriceSource};
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
    /// Use cached or bundled prices only; make no AWS call.
    #[arg(long, conflicts_with = "refresh")]
    offline: bool,
    /// Send AWS calls here instead of the saved override or AWS (an emulator).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
}

fn money(usd: f64) -> String {
    if usd < 1.0 {
        format!("${usd:.4}")
    } else {
        format!("${usd:.2}")
    }
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
    let sheet = match cost::project_sheet(&host, &dir, refresh, args.endpoint_url, now).await {
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
    if as_json {
        json(&sheet);
    } else {
        print_sheet(&sheet);
    }
    ExitCode::SUCCESS
}

fn print_sheet(sheet: &CostSheet) {
    let i = &sheet.inputs;
    let e = &sheet.estimate;
    heading(&format!(
        "{} / {} MiB, {}, {} task{} in {}, {}",
        vcpu_label(i.task.cpu),
        i.task.memory,
        i.platform.as_str(),
        i.tasks,
        if i.tasks == 1 { "" } else { "s" },
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
