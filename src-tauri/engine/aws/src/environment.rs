//! The Environment check: is Docker there, which AWS profiles exist, and who the chosen
//! credentials belong to. Docker and the profile files are read at the same time and each
//! result is reported the moment it is known; the identity check (a network call) runs
//! only when asked for.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::aws::{read_profiles, whoami, AwsProfiles, AwsTarget, CallerIdentity};
use slipway_core::app::{app_info, AppInfo};
use slipway_core::error::{ErrorCode, Result};
use slipway_core::host::HostEnv;
use slipway_core::jobs::{until_cancelled, Cancel};
use slipway_core::progress::ProgressSink;
use slipway_docker::docker::{probe, DockerStatus};

#[derive(Debug, Clone, Default, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CheckRequest {
    /// Whose identity to resolve; `None` skips the STS call.
    pub identity: Option<AwsTarget>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum IdentityStatus {
    NotChecked,
    Verified { identity: CallerIdentity },
    Failed { code: ErrorCode, message: String },
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(tag = "type", content = "data")]
pub enum EnvironmentEvent {
    DockerProbed(DockerStatus),
    ProfilesRead(AwsProfiles),
    IdentityChecked(IdentityStatus),
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentReport {
    pub app: AppInfo,
    pub docker: DockerStatus,
    pub aws: AwsProfiles,
    pub identity: IdentityStatus,
}

pub async fn check(
    host: &HostEnv,
    request: &CheckRequest,
    sink: &dyn ProgressSink<EnvironmentEvent>,
    cancel: &Cancel,
    now: SystemTime,
) -> Result<EnvironmentReport> {
    until_cancelled(cancel, async {
        let docker_probe = async {
            let status = probe(host).await;
            sink.emit(EnvironmentEvent::DockerProbed(status.clone()));
            status
        };
        let profiles_read = async {
            let profiles = read_profiles(host);
            sink.emit(EnvironmentEvent::ProfilesRead(profiles.clone()));
            profiles
        };
        let identity_check = async {
            let status = match &request.identity {
                None => IdentityStatus::NotChecked,
                Some(target) => match whoami(host, target, now).await {
                    Ok(identity) => IdentityStatus::Verified { identity },
                    Err(e) => IdentityStatus::Failed {
                        code: e.code(),
                        message: e.to_string(),
                    },
                },
            };
            sink.emit(EnvironmentEvent::IdentityChecked(status.clone()));
            status
        };
        let (docker, aws, identity) = tokio::join!(docker_probe, profiles_read, identity_check);
        Ok(EnvironmentReport {
            app: app_info(host),
            docker,
            aws,
            identity,
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipway_core::host::Os;
    use slipway_core::progress::Recorder;

    #[tokio::test]
    async fn a_dead_docker_host_and_no_aws_files_still_give_a_full_report() {
        let home = tempfile::tempdir().unwrap();
        let host = HostEnv::new(
            Os::Linux,
            Some(home.path().to_owned()),
            [(
                "DOCKER_HOST".into(),
                format!("unix://{}/nope.sock", home.path().display()),
            )],
        );
        let events = Recorder::default();
        let report = check(
            &host,
            &CheckRequest::default(),
            &events,
            &Cancel::new(),
            SystemTime::now(),
        )
        .await
        .expect("a missing Docker is a finding, not a failure");
        assert!(matches!(report.docker, DockerStatus::Unavailable { .. }));
        assert!(report.aws.profiles.is_empty());
        assert!(matches!(report.identity, IdentityStatus::NotChecked));
        assert_eq!(events.events().len(), 3, "each probe reports once");
    }

    #[tokio::test]
    async fn a_cancelled_check_stops_with_cancelled() {
        let cancel = Cancel::new();
        cancel.cancel();
        let host = HostEnv::new(Os::Linux, None, []);
        let err = check(
            &host,
            &CheckRequest::default(),
            &Recorder::default(),
            &cancel,
            SystemTime::now(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Cancelled);
    }
}
