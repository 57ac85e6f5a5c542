//! `slipway setup` and `slipway teardown`: the plan is printed first; `--apply` carries out
//! the plan just printed (no more, if the account changed meanwhile), one resource at a
//! time, as the desktop app does.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use clap::Args;
use slipway_aws::aws::Connection;
use slipway_aws::setup::{self, connect_to_set_up, Owner, ResourceState, SetupEvent, SetupPlan};
use slipway_aws::teardown::{self, TeardownAction, TeardownEvent, TeardownPlan};
use slipway_core::host::HostEnv;

use crate::output::{cancel_on_ctrl_c, fail, heading, json, json_line, line, Mark};

#[derive(Args)]
pub struct SetupArgs {
    /// The project folder (default: the current folder).
    #[arg(long)]
    project: Option<PathBuf>,
    /// Make the changes (without it, only the plan is printed).
    #[arg(long)]
    apply: bool,
    /// Send AWS calls here instead of the saved override or AWS (an emulator).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
}

fn banner(connection: &Connection) {
    let who = &connection.identity;
    let via = who
        .endpoint_url
        .as_deref()
        .map(|u| format!(" via {u}"))
        .unwrap_or_default();
    heading(&format!(
        "AWS account {} in {} ({}, {}){via}",
        who.account, who.region, who.arn, who.source
    ));
}

pub async fn setup(args: SetupArgs, as_json: bool) -> ExitCode {
    let host = HostEnv::from_process();
    let dir = args.project.unwrap_or_else(|| PathBuf::from("."));
    let (config, connection) =
        match connect_to_set_up(&host, &dir, args.endpoint_url, SystemTime::now()).await {
            Ok(found) => found,
            Err(e) => return fail("setup", &e, as_json),
        };
    let plan = match setup::plan_setup(&connection, &config).await {
        Ok(plan) => plan,
        Err(e) => return fail("setup", &e, as_json),
    };
    if !args.apply {
        if as_json {
            json(&plan);
        } else {
            banner(&connection);
            print_plan(&plan);
            if plan.nothing_to_do() {
                line(Mark::Ok, "nothing to do");
            } else {
                line(
                    Mark::Info,
                    format!(
                        "{} change(s); run `slipway setup --apply` to make them",
                        plan.changes.len()
                    ),
                );
            }
        }
        return ExitCode::SUCCESS;
    }
    if as_json {
        json_line(&serde_json::json!({ "plan": plan }));
    } else {
        banner(&connection);
        print_plan(&plan);
    }
    let print = move |event: SetupEvent| {
        if as_json {
            json_line(&serde_json::json!({ "event": event }));
            return;
        }
        match event {
            SetupEvent::Planned(plan) if plan.nothing_to_do() => {
                line(Mark::Ok, "nothing to do: everything is in place")
            }
            SetupEvent::Planned(_) => heading("Applying"),
            SetupEvent::Skipped { reason, .. } => line(Mark::Problem, reason),
            SetupEvent::ResourceStarted { kind } => heading(kind.title()),
            SetupEvent::ChangeApplied { change, .. } => line(Mark::Ok, change),
            SetupEvent::ResourceReady { .. } => {}
        }
    };
    let cancel = cancel_on_ctrl_c();
    match setup::apply_setup(&host, &connection, &config, &plan, &print, &cancel).await {
        Ok(after) => {
            if as_json {
                json_line(&serde_json::json!({ "result": after }));
            } else {
                heading("Now");
                print_plan(&after);
            }
            if after.ready() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => fail("setup", &e, as_json),
    }
}

fn print_plan(plan: &SetupPlan) {
    for resource in &plan.resources {
        let owner = match resource.owner {
            Owner::Someone if resource.id.is_some() => {
                " (not created by Slipway; teardown keeps it)"
            }
            Owner::OtherProject => {
                " (made by another Slipway project with the same app name; used as it is, teardown keeps it)"
            }
            _ => "",
        };
        let (mark, state) = match &resource.state {
            ResourceState::Ready => (Mark::Ok, "ready".to_owned()),
            ResourceState::WillCreate => (Mark::Info, "will be created".to_owned()),
            ResourceState::WillChange { changes } => {
                (Mark::Info, format!("will change: {}", changes.join("; ")))
            }
            ResourceState::Blocked { reason, fix } => (Mark::Problem, format!("{reason} {fix}")),
            ResourceState::Waiting { reason, next } => {
                (Mark::Info, format!("waiting: {reason} {next}"))
            }
        };
        line(
            mark,
            format!("{} {}: {state}{owner}", resource.title, resource.name),
        );
        for fact in &resource.facts {
            println!("      {fact}");
        }
    }
    if !plan.dns_records.is_empty() {
        line(Mark::Info, "add these records at your DNS provider:");
        for record in &plan.dns_records {
            println!("      {} {} {}", record.name, record.kind, record.value);
        }
    }
    for warning in &plan.warnings {
        line(Mark::Problem, format!("warning: {warning}"));
    }
}

pub async fn teardown(args: SetupArgs, as_json: bool) -> ExitCode {
    let host = HostEnv::from_process();
    let dir = args.project.unwrap_or_else(|| PathBuf::from("."));
    let (config, connection) =
        match connect_to_set_up(&host, &dir, args.endpoint_url, SystemTime::now()).await {
            Ok(found) => found,
            Err(e) => return fail("teardown", &e, as_json),
        };
    let plan = match teardown::plan_teardown(&connection, &config).await {
        Ok(plan) => plan,
        Err(e) => return fail("teardown", &e, as_json),
    };
    if !args.apply {
        if as_json {
            json(&plan);
        } else {
            banner(&connection);
            print_teardown(&plan);
            if !plan.nothing_to_do() {
                line(
                    Mark::Info,
                    "run `slipway teardown --apply` to remove what is marked for removal",
                );
            }
        }
        return ExitCode::SUCCESS;
    }
    if as_json {
        json_line(&serde_json::json!({ "plan": plan }));
    } else {
        banner(&connection);
        print_teardown(&plan);
    }
    let print = move |event: TeardownEvent| {
        if as_json {
            json_line(&serde_json::json!({ "event": event }));
            return;
        }
        match event {
            TeardownEvent::Planned(_) => {}
            TeardownEvent::Skipped { reason, .. } => line(Mark::Problem, reason),
            TeardownEvent::StepStarted { step } => heading(&format!("Removing: {}", step.title())),
            TeardownEvent::Waiting { what, .. } => line(Mark::Info, format!("waiting for {what}")),
            TeardownEvent::StepDone { .. } => line(Mark::Ok, "done"),
        }
    };
    let cancel = cancel_on_ctrl_c();
    match teardown::apply_teardown(&host, &connection, &config, &plan, &print, &cancel).await {
        Ok(after) => {
            if as_json {
                json_line(&serde_json::json!({ "result": after }));
            } else {
                heading("Left in the account");
                print_teardown(&after);
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail("teardown", &e, as_json),
    }
}

fn print_teardown(plan: &TeardownPlan) {
    if plan.items.is_empty() {
        line(
            Mark::Ok,
            format!("nothing of {} in this account and region", plan.app),
        );
    }
    for item in &plan.items {
        match &item.action {
            TeardownAction::Remove { details } => {
                let extra = if details.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", details.join("; "))
                };
                line(
                    Mark::Problem,
                    format!("remove {} {}{extra}", item.title, item.names.join(", ")),
                );
            }
            TeardownAction::Keep { reason } => {
                line(
                    Mark::Info,
                    format!("keep {} {}: {reason}", item.title, item.names.join(", ")),
                );
            }
        }
    }
}
