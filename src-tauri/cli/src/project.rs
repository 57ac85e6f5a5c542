//! `slipway init` (write slipway.toml from flags or answers) and `slipway check`
//! (validation and pre-flight).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use slipway_core::host::HostEnv;
use slipway_core::project::ImageRef;
use slipway_core::project::{self, FieldProblem, HealthProbe, KeyValue, Platform, ProjectConfig};
use slipway_core::EngineError;
use slipway_docker::preflight::{self, Severity};

use crate::output::{fail, heading, json, line, Mark};

#[derive(Args)]
pub struct InitArgs {
    /// The project folder (default: the current folder).
    dir: Option<PathBuf>,
    /// App name: names the image, the ECR repository, the cluster and the service.
    #[arg(long)]
    name: Option<String>,
    /// Deploy this image (e.g. ghcr.io/org/app:1.2) instead of building a Dockerfile; the
    /// folder is made when missing and keeps only slipway.toml. Another tag upgrades.
    #[arg(long, value_name = "REF")]
    image: Option<String>,
    /// The port the container listens on.
    #[arg(long)]
    port: Option<u32>,
    /// linux/amd64 (default) or linux/arm64.
    #[arg(long, value_parser = parse_platform)]
    platform: Option<Platform>,
    /// CPU units (256 = 0.25 vCPU).
    #[arg(long)]
    cpu: Option<u32>,
    /// Memory in MiB; must pair with --cpu as Fargate allows.
    #[arg(long)]
    memory: Option<u32>,
    /// HTTP path for the health check (e.g. /health).
    #[arg(long, conflicts_with = "health_cmd")]
    health_path: Option<String>,
    /// A CMD-SHELL health-check command instead of an HTTP path.
    #[arg(long)]
    health_cmd: Option<String>,
    /// An environment variable, NAME=VALUE (repeatable).
    #[arg(long = "env", value_name = "NAME=VALUE")]
    env: Vec<String>,
    /// A secret reference, NAME=ARN (repeatable).
    #[arg(long = "secret", value_name = "NAME=ARN")]
    secrets: Vec<String>,
    /// The AWS profile to deploy with.
    #[arg(long)]
    profile: Option<String>,
    /// The AWS region to deploy to.
    #[arg(long)]
    region: Option<String>,
    /// One address that never changes: run as a service behind a load balancer (its
    /// name is the URL), instead of a new public IP at each deploy.
    #[arg(long)]
    load_balancer: bool,
    /// Serve HTTPS on this domain (e.g. app.example.com); needs --load-balancer.
    #[arg(long, value_name = "NAME")]
    domain: Option<String>,
    /// How many tasks the service keeps running; needs --load-balancer above 1.
    #[arg(long, value_name = "N")]
    tasks: Option<u32>,
    /// Sticky sessions: the load balancer keeps each visitor on one task this many
    /// seconds (1 to 604800); needs --load-balancer.
    #[arg(long, value_name = "SECONDS")]
    sticky_seconds: Option<u32>,
    /// Blue/green deploys: all traffic moves to the new release once it is healthy, and
    /// the previous one stays ready this many minutes (0 to 1440) for an instant
    /// rollback; needs --load-balancer. Rolling (tasks replaced gradually) without it.
    #[arg(long, value_name = "MINUTES")]
    bake_minutes: Option<u32>,
    /// Do not ask; use flags and Slipway's proposal.
    #[arg(long, short)]
    yes: bool,
}

fn parse_platform(s: &str) -> Result<Platform, String> {
    Platform::parse(s).ok_or_else(|| format!("\"{s}\" is not linux/amd64 or linux/arm64"))
}

fn pairs(items: &[String], what: &str) -> Result<Vec<KeyValue>, String> {
    items
        .iter()
        .map(|item| {
            item.split_once('=')
                .map(|(n, v)| KeyValue {
                    name: n.to_owned(),
                    value: v.to_owned(),
                })
                .ok_or_else(|| format!("--{what} {item}: write it as NAME=VALUE"))
        })
        .collect()
}

pub fn init(args: InitArgs, as_json: bool) -> ExitCode {
    let host = HostEnv::from_process();
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    if let Some(image) = &args.image {
        // A malformed reference is refused before a folder is made for it.
        if let Err(message) = ImageRef::parse(image) {
            let problems = vec![FieldProblem {
                field: "image".into(),
                message,
            }];
            return fail(
                "init",
                &EngineError::InvalidProjectConfig { problems },
                as_json,
            );
        }
        if !dir.exists() {
            if let Err(e) = std::fs::create_dir_all(&dir) {
                return fail("init", &EngineError::io(&dir, e), as_json);
            }
        }
    }
    let opened = match project::open(&host, &dir) {
        Ok(p) => p,
        Err(e) => return fail("init", &e, as_json),
    };
    let mut config = opened.config.clone();
    if let Some(image) = &args.image {
        config.image = Some(image.clone());
        // A new image project is named after the image, not the folder that keeps it.
        if !opened.saved && args.name.is_none() {
            if let Ok(reference) = ImageRef::parse(image) {
                config.name = reference.app_name();
            }
        }
    }
    if let Err(message) = apply_flags(&args, &mut config) {
        eprintln!("slipway init: {message}");
        return ExitCode::from(2);
    }
    if !args.yes && !as_json && std::io::stdin().is_terminal() {
        config = ask(config);
    }
    if let Err(e) = project::save(&opened.dir(), &config) {
        return fail("init", &e, as_json);
    }
    let path = opened.dir().join(project::PROJECT_FILE);
    if as_json {
        json(&serde_json::json!({ "file": path, "config": config }));
    } else {
        println!("Wrote {}.", path.display());
        match &config.image {
            Some(image) => println!(
                "Next: `slipway build` pulls {image} as a release; then `slipway preview` or `slipway deploy`."
            ),
            None => println!("Next: `slipway check`, then `slipway build` and `slipway preview`."),
        }
    }
    ExitCode::SUCCESS
}

fn apply_flags(args: &InitArgs, config: &mut ProjectConfig) -> Result<(), String> {
    if let Some(v) = &args.name {
        config.name = v.clone();
    }
    if let Some(v) = args.port {
        config.port = v;
    }
    if let Some(v) = args.platform {
        config.platform = v;
    }
    if let Some(v) = args.cpu {
        config.task.cpu = v;
    }
    if let Some(v) = args.memory {
        config.task.memory = v;
    }
    if let Some(path) = &args.health_path {
        config.health.probe = HealthProbe::Http { path: path.clone() };
    }
    if let Some(cmd) = &args.health_cmd {
        config.health.probe = HealthProbe::Command {
            command: vec!["CMD-SHELL".into(), cmd.clone()],
        };
    }
    for kv in pairs(&args.env, "env")? {
        config.env.retain(|e| e.name != kv.name);
        config.env.push(kv);
    }
    for kv in pairs(&args.secrets, "secret")? {
        config.secrets.retain(|e| e.name != kv.name);
        config.secrets.push(kv);
    }
    if args.profile.is_some() {
        config.aws.profile = args.profile.clone();
    }
    if args.region.is_some() {
        config.aws.region = args.region.clone();
    }
    if args.load_balancer {
        config.aws.load_balancer = true;
    }
    if args.domain.is_some() {
        config.aws.domain = args.domain.clone();
    }
    if args.tasks.is_some() {
        config.aws.tasks = args.tasks;
    }
    if args.sticky_seconds.is_some() {
        config.aws.sticky_seconds = args.sticky_seconds;
    }
    if args.bake_minutes.is_some() {
        config.aws.bake_minutes = args.bake_minutes;
    }
    Ok(())
}

/// Asks for the main settings with the current value as the default, re-asking a field
/// until validation accepts it.
fn ask(mut config: ProjectConfig) -> ProjectConfig {
    let stdin = std::io::stdin();
    let prompt = |question: &str, current: String| -> String {
        print!("{question} [{current}]: ");
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        if stdin.lock().read_line(&mut answer).unwrap_or(0) == 0 {
            return current;
        }
        let answer = answer.trim();
        if answer.is_empty() {
            current
        } else {
            answer.to_owned()
        }
    };
    let field_ok = |config: &ProjectConfig, field: &str| match project::validate(config)
        .into_iter()
        .find(|p| p.field == field)
    {
        Some(p) => {
            println!("  {}", p.message);
            false
        }
        None => true,
    };
    loop {
        config.name = prompt("App name", config.name.clone());
        if field_ok(&config, "name") {
            break;
        }
    }
    loop {
        config.port = prompt("Container port", config.port.to_string())
            .parse()
            .unwrap_or(0);
        if field_ok(&config, "port") {
            break;
        }
    }
    loop {
        config.task.cpu = prompt("CPU units (256 = 0.25 vCPU)", config.task.cpu.to_string())
            .parse()
            .unwrap_or(0);
        config.task.memory = prompt("Memory (MiB)", config.task.memory.to_string())
            .parse()
            .unwrap_or(0);
        if field_ok(&config, "task.cpu") && field_ok(&config, "task.memory") {
            break;
        }
    }
    config
}

#[derive(Args)]
pub struct CheckArgs {
    /// The project folder (default: the current folder).
    dir: Option<PathBuf>,
}

pub async fn check(args: CheckArgs, as_json: bool) -> ExitCode {
    let host = HostEnv::from_process();
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    let opened = match project::open(&host, &dir) {
        Ok(p) => p,
        Err(e) => return fail("check", &e, as_json),
    };
    if !opened.saved {
        return fail(
            "check",
            &EngineError::ProjectNotInitialised { dir: opened.dir() },
            as_json,
        );
    }
    let found = match preflight::check(&host, &opened.dir(), &opened.config).await {
        Ok(f) => f,
        Err(e) => return fail("check", &e, as_json),
    };
    let ok = opened.problems.is_empty() && found.blockers().next().is_none();
    if as_json {
        json(&serde_json::json!({ "ok": ok, "problems": opened.problems, "preflight": found }));
    } else {
        heading(&format!("{} ({})", opened.config.name, opened.dir));
        if opened.problems.is_empty() {
            line(Mark::Ok, "settings are valid");
        }
        for p in &opened.problems {
            line(Mark::Problem, format!("{}: {}", p.field, p.message));
        }
        heading("Pre-flight");
        if found.findings.is_empty() {
            line(Mark::Ok, "nothing to report");
        }
        for f in &found.findings {
            let mark = match f.severity {
                Severity::Error => Mark::Problem,
                Severity::Warning => Mark::Problem,
                Severity::Info => Mark::Info,
            };
            line(mark, format!("{} {}", f.title, f.fix));
        }
        if let Some(ctx) = &found.context {
            line(
                Mark::Info,
                format!(
                    "build context: {} files, {}",
                    ctx.files,
                    preflight::human_bytes(ctx.bytes as u64)
                ),
            );
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
