//! Whether an SSO profile has a live session, read from the AWS CLI's token cache
//! (`~/.aws/sso/cache/<sha1>.json`, keyed by the sso-session name or, for legacy profiles,
//! the start URL). Checked before any call so that an expired login is explained as such
//! instead of surfacing as an opaque credentials failure.

use std::path::PathBuf;
use std::time::SystemTime;

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;

use slipway_core::error::EngineError;
use slipway_core::host::HostEnv;

use super::profiles::sso_settings;

pub(crate) fn cache_file(
    host: &HostEnv,
    session: Option<&str>,
    start_url: Option<&str>,
) -> Option<PathBuf> {
    let key = session.or(start_url)?;
    let hash = sha1_smol::Sha1::from(key).digest().to_string();
    Some(
        host.home
            .clone()?
            .join(".aws/sso/cache")
            .join(format!("{hash}.json")),
    )
}

/// Ok when the profile is not SSO or its cached token is still valid at `now`.
pub(crate) fn check_session(
    host: &HostEnv,
    profile: &str,
    now: SystemTime,
) -> Result<(), EngineError> {
    let Some((session, start_url)) = sso_settings(host, profile) else {
        return Ok(());
    };
    let Some(path) = cache_file(host, session.as_deref(), start_url.as_deref()) else {
        return Ok(());
    };
    let expired = |state: &str| EngineError::SsoSessionExpired {
        profile: profile.to_owned(),
        state: state.to_owned(),
    };
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Err(expired("has never been signed in on this computer"));
    };
    let expires_at = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            v.get("expiresAt")
                .and_then(|e| e.as_str())
                .map(str::to_owned)
        })
        .and_then(|s| DateTime::from_str(&s, Format::DateTime).ok());
    match expires_at {
        Some(at) if SystemTime::try_from(at).is_ok_and(|at| at > now) => Ok(()),
        Some(at) => Err(expired(&format!(
            "expired at {}",
            at.fmt(Format::DateTime).unwrap_or_default()
        ))),
        None => Err(expired("has an unreadable token cache")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipway_core::host::Os;
    use std::time::Duration;

    fn sso_host(token: Option<&str>) -> (tempfile::TempDir, HostEnv) {
        let dir = tempfile::tempdir().unwrap();
        let aws = dir.path().join(".aws");
        std::fs::create_dir_all(aws.join("sso/cache")).unwrap();
        std::fs::write(
            aws.join("config"),
            "[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = Admin\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n",
        )
        .unwrap();
        let host = HostEnv::new(Os::Linux, Some(dir.path().to_owned()), []);
        if let Some(expires) = token {
            let path = cache_file(&host, Some("corp"), None).unwrap();
            std::fs::write(
                path,
                format!(r#"{{"accessToken":"t","expiresAt":"{expires}"}}"#),
            )
            .unwrap();
        }
        (dir, host)
    }

    fn at(rfc3339: &str) -> SystemTime {
        SystemTime::try_from(DateTime::from_str(rfc3339, Format::DateTime).unwrap()).unwrap()
    }

    #[test]
    fn cache_file_name_is_the_sha1_of_the_session_name_as_the_aws_cli_writes_it() {
        let host = HostEnv::new(Os::Linux, Some(PathBuf::from("/h")), []);
        let path = cache_file(&host, Some("my-sso"), None).unwrap();
        // hashlib.sha1(b"my-sso").hexdigest(), as botocore names the cache file
        assert_eq!(
            path,
            PathBuf::from("/h/.aws/sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json")
        );
    }

    #[test]
    fn an_expired_token_is_reported_with_its_expiry_and_no_command_to_type() {
        let (_dir, host) = sso_host(Some("2026-11-01T10:00:00Z"));
        let err = check_session(&host, "dev", at("2026-11-21T10:00:00Z")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("expired at 2026-11-01T10:00:00Z"), "{text}");
        assert!(text.contains("Sign in again"), "{text}");
        assert!(
            !text.contains('`'),
            "a window message names no command: {text}"
        );
    }

    #[test]
    fn a_live_token_passes_and_a_missing_one_says_never_signed_in() {
        let (_dir, host) = sso_host(Some("2026-11-21T12:00:00Z"));
        assert!(check_session(&host, "dev", at("2026-11-21T10:00:00Z")).is_ok());
        let (_dir2, host2) = sso_host(None);
        let err = check_session(
            &host2,
            "dev",
            SystemTime::UNIX_EPOCH + Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(err.to_string().contains("never been signed in"));
    }

    #[test]
    fn a_profile_that_is_not_sso_needs_no_session() {
        let (_dir, host) = sso_host(None);
        assert!(check_session(&host, "not-there", SystemTime::now()).is_ok());
    }
}
