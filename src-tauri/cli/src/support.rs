//! `slipway support-bundle`: the Environment screen's "Export a support bundle" in a
//! terminal.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use slipway_aws::support::export_support_bundle;
use slipway_core::host::HostEnv;
use time::OffsetDateTime;

use crate::output::{fail, json, line, Mark};

#[derive(Args)]
pub struct SupportBundleArgs {
    /// Where to write the archive (default: slipway-support-YYYYMMDD-HHMMSS.tar.gz in the
    /// current folder).
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub async fn run(args: SupportBundleArgs, as_json: bool) -> ExitCode {
    let host = HostEnv::from_process();
    let path = args
        .output
        .unwrap_or_else(|| PathBuf::from(default_name(OffsetDateTime::now_utc())));
    match export_support_bundle(&host, &path).await {
        Ok(bundle) => {
            if as_json {
                json(&bundle);
            } else {
                line(
                    Mark::Ok,
                    format!("Wrote the support bundle to {}", bundle.path),
                );
                line(Mark::Info, format!("with {}", bundle.files.join(", ")));
                line(
                    Mark::Info,
                    "secret keys, session tokens, environment values and your home folder's path are left out",
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail("support-bundle", &e, as_json),
    }
}

fn default_name(now: OffsetDateTime) -> String {
    format!(
        "slipway-support-{:04}{:02}{:02}-{:02}{:02}{:02}.tar.gz",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_name_sorts_by_when_it_was_made() {
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        assert_eq!(default_name(at), "slipway-support-20231114-221320.tar.gz");
    }
}
