//! The one place AWS SDK configuration is built: which credentials (a named profile, the
//! environment, or the default order), which region, standard retries, timeouts and an
//! optional endpoint override for emulators. Every AWS client in Slipway comes from the
//! [`AwsContext`] this returns.

use std::time::Duration;

use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use serde::{Deserialize, Serialize};

use super::profiles::{file_paths, read_profiles, AwsProfiles};
use slipway_core::error::{EngineError, Result};
use slipway_core::host::HostEnv;

/// Where credentials come from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", content = "name", rename_all = "camelCase")]
pub enum CredentialSource {
    /// As the AWS CLI decides: environment keys if set, else AWS_PROFILE or "default".
    #[default]
    Default,
    Profile(String),
    Environment,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AwsTarget {
    pub source: CredentialSource,
    pub region: Option<String>,
    /// An emulator such as moto or LocalStack; AWS itself when unset.
    pub endpoint_url: Option<String>,
}

/// A ready SDK configuration and what it was made from, for messages.
#[derive(Debug, Clone)]
pub struct AwsContext {
    pub sdk: SdkConfig,
    /// "profile \"dev\"" or "the environment's credentials", for sentences.
    pub source_name: String,
    pub profile: Option<String>,
    pub region: String,
    pub endpoint_url: Option<String>,
    /// The profile signs in with AWS SSO: a credentials failure is then an ended session.
    pub sso: bool,
}

const DEFAULT_REGION: &str = "us-east-1";

/// Builds the SDK configuration for `target` on `host`.
///
/// Instance-metadata and container credential providers are deliberately not consulted:
/// Slipway runs on people's computers, where probing the link-local metadata address
/// only adds seconds of delay before "no credentials".
pub async fn sdk_config(host: &HostEnv, target: &AwsTarget) -> Result<AwsContext> {
    let profiles = read_profiles(host);
    let (credentials, source_name, profile) = credentials_for(host, &profiles, &target.source)?;
    let chosen = profile.as_deref().and_then(|p| profiles.get(p));

    let region = target
        .region
        .clone()
        .or_else(|| chosen.and_then(|p| p.region.clone()))
        .or_else(|| profiles.environment_region.clone())
        .unwrap_or_else(|| DEFAULT_REGION.to_owned());
    let endpoint_url = target
        .endpoint_url
        .clone()
        .or_else(|| host.var("AWS_ENDPOINT_URL").map(str::to_owned))
        .or_else(|| chosen.and_then(|p| p.endpoint_url.clone()));

    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .profile_files(profile_files(host))
        .region(Region::new(region.clone()))
        .credentials_provider(credentials)
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(20))
                .operation_timeout(Duration::from_secs(60))
                .build(),
        );
    if let Some(name) = &profile {
        loader = loader.profile_name(name);
    }
    if let Some(url) = &endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let sso = chosen.is_some_and(|p| p.kind == super::profiles::ProfileKind::Sso);
    Ok(AwsContext {
        sso,
        sdk: loader.load().await,
        source_name,
        profile,
        region,
        endpoint_url,
    })
}

/// The region `target` works in, read from the files alone (no credentials needed): its
/// own region, else its profile's, else the environment's, else the default.
pub fn region_for(host: &HostEnv, target: &AwsTarget) -> String {
    let profiles = read_profiles(host);
    let profile = match &target.source {
        CredentialSource::Profile(name) => Some(name.clone()),
        CredentialSource::Default => Some(profiles.selected_profile.clone()),
        CredentialSource::Environment => None,
    };
    target
        .region
        .clone()
        .or_else(|| profile.and_then(|p| profiles.get(&p).and_then(|p| p.region.clone())))
        .or_else(|| profiles.environment_region.clone())
        .unwrap_or_else(|| DEFAULT_REGION.to_owned())
}

fn profile_files(host: &HostEnv) -> EnvConfigFiles {
    let (config, credentials) = file_paths(host);
    EnvConfigFiles::builder()
        .with_file(EnvConfigFileKind::Config, config)
        .with_file(EnvConfigFileKind::Credentials, credentials)
        .build()
}

type Chosen = (SharedCredentialsProvider, String, Option<String>);

fn credentials_for(
    host: &HostEnv,
    profiles: &AwsProfiles,
    source: &CredentialSource,
) -> Result<Chosen> {
    match source {
        CredentialSource::Environment => {
            environment_credentials(host).ok_or(EngineError::NoCredentials {
                detail: Some(
                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set".to_owned(),
                ),
            })
        }
        CredentialSource::Profile(name) => profile_credentials(host, profiles, name),
        CredentialSource::Default => {
            if let Some(found) = environment_credentials(host) {
                return Ok(found);
            }
            let name = profiles.selected_profile.clone();
            if profiles.get(&name).is_none() {
                return Err(EngineError::NoCredentials {
                    detail: Some(format!(
                        "no environment credentials, and no profile \"{name}\" in {}",
                        profiles.credentials_file.path
                    )),
                });
            }
            profile_credentials(host, profiles, &name)
        }
    }
}

fn environment_credentials(host: &HostEnv) -> Option<Chosen> {
    let key = host.var("AWS_ACCESS_KEY_ID")?;
    let secret = host.var("AWS_SECRET_ACCESS_KEY")?;
    let token = host.var("AWS_SESSION_TOKEN").map(str::to_owned);
    let credentials = Credentials::new(key, secret, token, None, "Environment");
    Some((
        SharedCredentialsProvider::new(credentials),
        "the environment's credentials".to_owned(),
        None,
    ))
}

fn profile_credentials(host: &HostEnv, profiles: &AwsProfiles, name: &str) -> Result<Chosen> {
    let Some(profile) = profiles.get(name) else {
        return Err(EngineError::ProfileNotFound {
            profile: name.to_owned(),
            searched: format!(
                "{} and {}",
                profiles.config_file.path, profiles.credentials_file.path
            ),
        });
    };
    if let Some(problem) = profiles.problem_for(profile) {
        return Err(EngineError::AwsFileMalformed {
            file: problem.path.clone().into(),
            line: problem.line as usize,
            problem: problem.problem.clone(),
        });
    }
    let provider = ProfileFileCredentialsProvider::builder()
        .profile_files(profile_files(host))
        .profile_name(name)
        .build();
    Ok((
        SharedCredentialsProvider::new(provider),
        format!("profile \"{name}\""),
        Some(name.to_owned()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipway_core::host::Os;

    fn host(
        config: &str,
        credentials: &str,
        vars: &[(&str, &str)],
    ) -> (tempfile::TempDir, HostEnv) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".aws")).unwrap();
        std::fs::write(dir.path().join(".aws/config"), config).unwrap();
        std::fs::write(dir.path().join(".aws/credentials"), credentials).unwrap();
        let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        let host = HostEnv::new(Os::Linux, Some(dir.path().to_owned()), vars);
        (dir, host)
    }

    #[tokio::test]
    async fn a_profile_brings_its_region_and_endpoint() {
        let (_d, h) = host(
            "[profile emu]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:9\n",
            "[emu]\naws_access_key_id = a\naws_secret_access_key = b\n",
            &[],
        );
        let target = AwsTarget {
            source: CredentialSource::Profile("emu".into()),
            ..Default::default()
        };
        let ctx = sdk_config(&h, &target).await.unwrap();
        assert_eq!(ctx.region, "eu-west-1");
        assert_eq!(ctx.endpoint_url.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(ctx.sdk.region().map(|r| r.as_ref()), Some("eu-west-1"));
    }

    #[tokio::test]
    async fn an_explicit_region_and_endpoint_win_over_the_profile() {
        let (_d, h) = host(
            "[default]\nregion = eu-west-1\n",
            "[default]\naws_access_key_id = a\naws_secret_access_key = b\n",
            &[],
        );
        let target = AwsTarget {
            source: CredentialSource::Default,
            region: Some("ap-south-1".into()),
            endpoint_url: Some("http://127.0.0.1:1".into()),
        };
        let ctx = sdk_config(&h, &target).await.unwrap();
        assert_eq!(ctx.region, "ap-south-1");
        assert_eq!(ctx.sdk.endpoint_url(), Some("http://127.0.0.1:1"));
    }

    #[tokio::test]
    async fn an_unknown_profile_is_named_in_the_error() {
        let (_d, h) = host("", "", &[]);
        let target = AwsTarget {
            source: CredentialSource::Profile("nope".into()),
            ..Default::default()
        };
        let err = sdk_config(&h, &target).await.unwrap_err();
        assert!(
            matches!(err, EngineError::ProfileNotFound { ref profile, .. } if profile == "nope")
        );
    }

    #[tokio::test]
    async fn the_default_order_prefers_environment_keys_and_explains_when_nothing_is_there() {
        let (_d, h) = host(
            "",
            "",
            &[
                ("AWS_ACCESS_KEY_ID", "AKIA1"),
                ("AWS_SECRET_ACCESS_KEY", "s"),
            ],
        );
        let ctx = sdk_config(&h, &AwsTarget::default()).await.unwrap();
        assert_eq!(ctx.source_name, "the environment's credentials");
        let (_d2, empty) = host("", "", &[]);
        let err = sdk_config(&empty, &AwsTarget::default()).await.unwrap_err();
        assert!(matches!(err, EngineError::NoCredentials { .. }));
    }

    #[tokio::test]
    async fn a_profile_in_a_malformed_file_names_the_file_and_line() {
        let (_d, h) = host("[profile x]\nregion = us-east-1\noops\n", "", &[]);
        let target = AwsTarget {
            source: CredentialSource::Profile("x".into()),
            ..Default::default()
        };
        let err = sdk_config(&h, &target).await.unwrap_err();
        assert!(
            matches!(err, EngineError::AwsFileMalformed { line: 3, .. }),
            "{err}"
        );
    }
}
