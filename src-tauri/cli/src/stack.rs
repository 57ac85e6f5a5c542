//! `slipway stack`: a vendor's CloudFormation template deployed without the AWS CLI. The
//! review comes first (what a create makes, in plain words, with what bills and what stays;
//! an update's change set); `--yes` carries it out and follows the stack's events. NoEcho
//! values are never printed: one not given with `--param` is read from stdin.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use slipway_aws::stacks::{
    self, apply, discard, review, review_delete, StackProgress, StackReview,
};
use slipway_core::host::HostEnv;
use slipway_core::EngineError;

use crate::aws::{connect_target, TargetArgs};
use crate::output::{cancel_on_ctrl_c, fail, heading, json, json_line, line, Mark};

#[derive(Subcommand)]
pub enum StackCommand {
    /// List the stacks of the region with their state.
    List(TargetArgs),
    /// Create a stack from a template, or update it when it exists: the review is printed
    /// first; `--yes` carries it out and follows its events to the end.
    Deploy(DeployArgs),
    /// A stack's state in plain words.
    Status(Named),
    /// A stack's outputs (addresses to open, ARNs to reuse).
    Outputs(Named),
    /// A stack's newest events, newest first.
    Events(Named),
    /// Delete a stack: what stays behind (DeletionPolicy Retain) is printed first; `--yes`
    /// deletes it.
    Delete(DeleteArgs),
}

#[derive(Args)]
pub struct Named {
    /// The stack's name.
    name: String,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Args)]
pub struct DeployArgs {
    /// The template (YAML or JSON).
    file: PathBuf,
    /// The stack's name.
    #[arg(long)]
    name: String,
    /// A parameter's value, as Key=Value (repeat for each). A NoEcho parameter left out is
    /// read from stdin, one line each, in the template's order.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    params: Vec<String>,
    /// Carry the review out.
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    named: Named,
    /// Delete it.
    #[arg(long)]
    yes: bool,
}

pub async fn run(command: StackCommand, as_json: bool) -> ExitCode {
    let host = HostEnv::from_process();
    match command {
        StackCommand::List(target) => {
            let conn = match connect_target(&host, target, "stack list", as_json).await {
                Ok(conn) => conn,
                Err(code) => return code,
            };
            match stacks::list_stacks(&conn).await {
                Ok(list) if as_json => done_json(&list),
                Ok(list) => {
                    if list.is_empty() {
                        line(Mark::Info, format!("no stacks in {}", conn.ctx.region));
                    }
                    for s in &list {
                        line(Mark::Info, format!("{}: {}", s.name, s.state));
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail("stack list", &e, as_json),
            }
        }
        StackCommand::Deploy(args) => deploy(&host, args, as_json).await,
        StackCommand::Status(named) => {
            let conn = match connect_target(&host, named.target, "stack status", as_json).await {
                Ok(conn) => conn,
                Err(code) => return code,
            };
            match stacks::status(&conn, &named.name).await {
                Ok(s) if as_json => done_json(&s),
                Ok(s) => {
                    line(
                        Mark::Info,
                        format!("{}: {} ({})", s.name, s.state, s.status),
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail("stack status", &e, as_json),
            }
        }
        StackCommand::Outputs(named) => {
            let conn = match connect_target(&host, named.target, "stack outputs", as_json).await {
                Ok(conn) => conn,
                Err(code) => return code,
            };
            match stacks::outputs(&conn, &named.name).await {
                Ok(outputs) if as_json => done_json(&outputs),
                Ok(outputs) => {
                    print_outputs(&outputs);
                    ExitCode::SUCCESS
                }
                Err(e) => fail("stack outputs", &e, as_json),
            }
        }
        StackCommand::Events(named) => {
            let conn = match connect_target(&host, named.target, "stack events", as_json).await {
                Ok(conn) => conn,
                Err(code) => return code,
            };
            match stacks::events(&conn, &named.name).await {
                Ok(events) if as_json => done_json(&events),
                Ok(events) => {
                    for e in &events {
                        print_event(e);
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail("stack events", &e, as_json),
            }
        }
        StackCommand::Delete(args) => delete(&host, args, as_json).await,
    }
}

async fn deploy(host: &HostEnv, args: DeployArgs, as_json: bool) -> ExitCode {
    let verb = "stack deploy";
    let template = match stacks::template::read(&args.file) {
        Ok(template) => template,
        Err(e) => return fail(verb, &e, as_json),
    };
    let mut values = match parse_params(&args.params) {
        Ok(values) => values,
        Err(e) => return fail(verb, &e, as_json),
    };
    for p in template
        .parameters
        .iter()
        .filter(|p| p.no_echo && values.contains_key(&p.name))
    {
        eprintln!(
            "slipway {verb}: {} is NoEcho: given with --param it shows in the process list and the shell's history; leave it out to give it on stdin",
            p.name
        );
    }
    let conn = match connect_target(host, args.target, verb, as_json).await {
        Ok(conn) => conn,
        Err(code) => return code,
    };
    let updating = match stacks::status(&conn, &args.name).await {
        Ok(_) => true,
        Err(EngineError::StackFailed { .. }) => false,
        Err(e) => return fail(verb, &e, as_json),
    };
    // NoEcho values left out: from stdin (an update keeps the stack's own instead).
    let missing: Vec<String> = template
        .parameters
        .iter()
        .filter(|p| p.no_echo && p.default.is_none() && !values.contains_key(&p.name) && !updating)
        .map(|p| p.name.clone())
        .collect();
    for name in missing {
        match read_line(&name) {
            Ok(value) => {
                values.insert(name, value);
            }
            Err(e) => return fail(verb, &e, as_json),
        }
    }
    let reviewed = match review(&conn, &args.name, &template, &values).await {
        Ok(reviewed) => reviewed,
        Err(e) => return fail(verb, &e, as_json),
    };
    if !args.yes {
        if let Some(change_set) = &reviewed.change_set {
            // Only looked: the change set is not left behind.
            discard(&conn, &args.name, change_set).await;
        }
        if as_json {
            return done_json(&reviewed);
        }
        print_review(&reviewed);
        line(
            Mark::Info,
            "nothing was changed: run again with --yes to do it",
        );
        return ExitCode::SUCCESS;
    }
    if !as_json {
        print_review(&reviewed);
    }
    let cancel = cancel_on_ctrl_c();
    let say = |event: StackProgress| say_progress(event, as_json);
    let db = slipway_core::store::db_path(host);
    match apply(&db, &conn, &reviewed, &template, &say, &cancel).await {
        Ok(outcome) if as_json => {
            json_line(&serde_json::json!({ "result": outcome }));
            ExitCode::SUCCESS
        }
        Ok(outcome) => {
            line(
                Mark::Ok,
                format!(
                    "{}: {}",
                    outcome.stack,
                    stacks::plain_status(&outcome.status)
                ),
            );
            print_outputs(&outcome.outputs);
            ExitCode::SUCCESS
        }
        Err(e) => fail(verb, &e, as_json),
    }
}

async fn delete(host: &HostEnv, args: DeleteArgs, as_json: bool) -> ExitCode {
    let verb = "stack delete";
    let name = args.named.name;
    let conn = match connect_target(host, args.named.target, verb, as_json).await {
        Ok(conn) => conn,
        Err(code) => return code,
    };
    let reviewed = match review_delete(&conn, &name).await {
        Ok(reviewed) => reviewed,
        Err(e) => return fail(verb, &e, as_json),
    };
    if !args.yes {
        if as_json {
            return done_json(&reviewed);
        }
        heading(&format!(
            "Deleting {name} removes {} resources",
            reviewed.removed
        ));
        if let Some(unknown) = &reviewed.unknown {
            line(Mark::Problem, unknown);
        } else if reviewed.retained.is_empty() {
            line(Mark::Info, "nothing stays behind");
        }
        for r in &reviewed.retained {
            let paid = r
                .paid
                .as_deref()
                .map(|p| format!("; it keeps costing {p}"))
                .unwrap_or_default();
            line(
                Mark::Info,
                format!(
                    "stays: {} {} ({}){paid}",
                    r.plain,
                    r.physical_id.as_deref().unwrap_or(&r.logical_id),
                    r.kind
                ),
            );
        }
        line(
            Mark::Info,
            "nothing was changed: run again with --yes to delete it",
        );
        return ExitCode::SUCCESS;
    }
    let cancel = cancel_on_ctrl_c();
    let say = |event: StackProgress| say_progress(event, as_json);
    match stacks::delete(&conn, &reviewed, &say, &cancel).await {
        Ok(()) if as_json => {
            json_line(&serde_json::json!({ "result": reviewed }));
            ExitCode::SUCCESS
        }
        Ok(()) => {
            line(Mark::Ok, format!("{name}: deleted"));
            for r in &reviewed.retained {
                line(
                    Mark::Info,
                    format!(
                        "kept: {} {}",
                        r.plain,
                        r.physical_id.as_deref().unwrap_or(&r.logical_id)
                    ),
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(verb, &e, as_json),
    }
}

/// `Key=Value` pairs; a pair without `=` or a key given twice is refused.
fn parse_params(params: &[String]) -> Result<BTreeMap<String, String>, EngineError> {
    let mut values = BTreeMap::new();
    for pair in params {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(EngineError::InvalidInput {
                what: format!("--param {pair}"),
                reason: "write it as Key=Value".into(),
            });
        };
        if values.insert(key.to_owned(), value.to_owned()).is_some() {
            return Err(EngineError::InvalidInput {
                what: format!("--param {key}"),
                reason: "it is given twice".into(),
            });
        }
    }
    Ok(values)
}

/// One NoEcho value from stdin: hidden when typed, a line when piped.
fn read_line(name: &str) -> Result<String, EngineError> {
    let text = crate::aws::read_hidden(name)?;
    if text.is_empty() {
        return Err(EngineError::InvalidInput {
            what: format!("The value of {name}"),
            reason: "it is NoEcho and has no default: give it on stdin".into(),
        });
    }
    Ok(text)
}

fn say_progress(event: StackProgress, as_json: bool) {
    if as_json {
        json_line(&serde_json::json!({ "event": event }));
        return;
    }
    match event {
        StackProgress::Started { stack, update } => heading(&format!(
            "{} {stack}",
            if update { "Updating" } else { "Creating" }
        )),
        StackProgress::Event(e) => print_event(&e),
        StackProgress::Status { state, .. } => line(Mark::Info, format!("the stack is {state}")),
    }
}

fn print_review(r: &StackReview) {
    heading(&format!(
        "{} stack {} in {}",
        if r.update { "Update" } else { "Create" },
        r.stack,
        r.region
    ));
    for (key, value) in &r.parameters {
        line(Mark::Info, format!("{key} = {value}"));
    }
    for change in &r.parameter_changes {
        let from = change.from.as_deref().unwrap_or("(not set)");
        line(
            Mark::Info,
            format!("{} changes: {from} → {}", change.name, change.to),
        );
    }
    if r.update && r.change_set.is_none() {
        line(Mark::Info, "nothing would change");
    } else if r.update && r.changes.is_empty() {
        line(
            Mark::Info,
            "CloudFormation lists no resource that this update changes",
        );
    }
    for c in &r.changes {
        let mark = if c.replacement.as_deref() == Some("True") || c.action == "Remove" {
            Mark::Problem
        } else {
            Mark::Info
        };
        line(mark, &c.said);
    }
    for res in &r.resources {
        let paid = res
            .paid
            .as_deref()
            .map(|p| format!(": {p}"))
            .unwrap_or_default();
        let stays = if res.retained {
            " (stays when the stack is deleted)"
        } else {
            ""
        };
        line(
            Mark::Info,
            format!("creates {} {}{paid}{stays}", res.plain, res.logical_id),
        );
    }
    for c in &r.capabilities {
        line(
            Mark::Info,
            format!("acknowledges {}: {}", c.capability.as_api(), c.why),
        );
    }
}

fn print_outputs(outputs: &[stacks::StackOutput]) {
    for o in outputs {
        let description = o
            .description
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        line(Mark::Info, format!("{} = {}{description}", o.key, o.value));
    }
}

fn print_event(e: &stacks::StackEventLine) {
    let reason = e
        .reason
        .as_deref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default();
    let mark = if e.status.ends_with("_FAILED") {
        Mark::Problem
    } else {
        Mark::Info
    };
    line(
        mark,
        format!("{} {} {}{reason}", e.logical_id, e.kind, e.status),
    );
}

fn done_json<T: serde::Serialize>(value: &T) -> ExitCode {
    json(value);
    ExitCode::SUCCESS
}
