//! `slipway doctor`: the Environment screen in a terminal.

use std::process::ExitCode;
use std::time::SystemTime;

use clap::Args;
use slipway_aws::environment::{
    check, CheckRequest, EnvironmentEvent, EnvironmentReport, IdentityStatus,
};
use slipway_core::host::HostEnv;
use slipway_docker::docker::DockerStatus;

use crate::aws::{print_profiles, TargetArgs};
use crate::output::{cancel_on_ctrl_c, heading, json, line, Mark};

#[derive(Args)]
pub struct DoctorArgs {
    /// Whose identity to check.
    #[command(flatten)]
    target: TargetArgs,
    /// Do not call AWS; only list the profiles.
    #[arg(long)]
    no_identity: bool,
}

pub async fn run(args: DoctorArgs, as_json: bool) -> ExitCode {
    let host = HostEnv::from_process();
    let request = CheckRequest {
        identity: (!args.no_identity).then(|| args.target.target()),
    };
    let cancel = cancel_on_ctrl_c();
    let quiet = |_: EnvironmentEvent| {};
    match check(&host, &request, &quiet, &cancel, SystemTime::now()).await {
        Ok(report) => {
            if as_json {
                json(&report);
            } else {
                print_report(&report);
                print_unreadable_vars(&host);
            }
            if is_ready(&report) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("slipway doctor: {e}");
            ExitCode::from(130)
        }
    }
}

fn is_ready(report: &EnvironmentReport) -> bool {
    matches!(report.docker, DockerStatus::Running { .. })
        && !matches!(report.identity, IdentityStatus::Failed { .. })
        && report.aws.problems.is_empty()
}

fn print_report(report: &EnvironmentReport) {
    heading("Docker");
    match &report.docker {
        DockerStatus::Running { endpoint, engine } => {
            line(
                Mark::Ok,
                format!(
                    "Docker {} ({}/{}), API {}",
                    engine.version, engine.os, engine.arch, engine.api_version
                ),
            );
            line(
                Mark::Info,
                format!("at {} ({})", endpoint.uri, endpoint.source.label()),
            );
        }
        DockerStatus::Unavailable {
            endpoint,
            reason,
            advice,
        } => {
            line(
                Mark::Problem,
                format!(
                    "not running at {} ({}): {reason}",
                    endpoint.uri,
                    endpoint.source.label()
                ),
            );
            line(Mark::Info, advice);
        }
    }

    heading("AWS");
    print_profiles(&report.aws);
    match &report.identity {
        IdentityStatus::NotChecked => line(Mark::Info, "identity not checked (--no-identity)"),
        IdentityStatus::Verified { identity } => {
            line(
                Mark::Ok,
                format!("account {} as {}", identity.account, identity.arn),
            );
            let via = identity
                .endpoint_url
                .as_deref()
                .map(|e| format!(" via {e}"))
                .unwrap_or_default();
            line(
                Mark::Info,
                format!("from {}, region {}{via}", identity.source, identity.region),
            );
        }
        IdentityStatus::Failed { message, .. } => line(Mark::Problem, message),
    }

    heading("Slipway");
    line(Mark::Info, format!("version {}", report.app.version));
    line(Mark::Info, format!("data in {}", report.app.data_dir));
}

/// Variables Slipway could not read (not UTF-8) and so ignored; named so that a missing
/// AWS_PROFILE or DOCKER_HOST is explained.
fn print_unreadable_vars(host: &HostEnv) {
    if !host.unreadable_vars().is_empty() {
        line(
            Mark::Problem,
            format!(
                "environment variables ignored because they are not valid UTF-8: {}",
                host.unreadable_vars().join(", ")
            ),
        );
    }
}
