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

use sha2::{Digest, Sha256};

use super::profiles::{login_session, sso_settings};

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

/// Ok when the profile is neither SSO nor a console sign-in, or its sign-in is still good
/// at `now`: an SSO token that is valid, or that the SDK can renew (a refresh token and a
/// client registration that has not ended); a console sign-in (the AWS CLI's login) whose
/// session is cached on this computer (the SDK renews it until it ends).
pub(crate) fn check_session(
    host: &HostEnv,
    profile: &str,
    now: SystemTime,
) -> Result<(), EngineError> {
    if let Some(session) = login_session(host, profile) {
        return check_console_sign_in(host, profile, &session);
    }
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
    let cached = serde_json::from_str::<serde_json::Value>(&text).ok();
    let time = |field: &str| {
        cached
            .as_ref()
            .and_then(|v| v.get(field)?.as_str().map(str::to_owned))
            .and_then(|s| DateTime::from_str(&s, Format::DateTime).ok())
    };
    let after_now = |at: DateTime| SystemTime::try_from(at).is_ok_and(|at| at > now);
    let renewable = cached.as_ref().is_some_and(|v| {
        v.get("refreshToken")
            .and_then(|t| t.as_str())
            .is_some_and(|t| !t.is_empty())
    }) && time("registrationExpiresAt").is_some_and(after_now);
    match time("expiresAt") {
        Some(at) if after_now(at) || renewable => Ok(()),
        Some(at) => Err(expired(&format!(
            "expired at {}",
            at.fmt(Format::DateTime).unwrap_or_default()
        ))),
        None => Err(expired("has an unreadable token cache")),
    }
}

/// A console sign-in's session is cached by the AWS CLI under the SHA-256 of its ARN.
fn check_console_sign_in(host: &HostEnv, profile: &str, session: &str) -> Result<(), EngineError> {
    let dir = match host.var("AWS_LOGIN_CACHE_DIRECTORY") {
        Some(dir) => PathBuf::from(dir),
        None => host
            .home
            .clone()
            .unwrap_or_default()
            .join(".aws/login/cache"),
    };
    let hash: String = Sha256::digest(session.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if dir.join(format!("{hash}.json")).is_file() {
        Ok(())
    } else {
        Err(EngineError::ConsoleSignInMissing {
            profile: profile.to_owned(),
        })
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
    fn an_expired_token_the_sdk_can_renew_passes() {
        let (dir, host) = sso_host(Some("2026-11-01T10:00:00Z"));
        let cache = cache_file(&host, Some("corp"), None).unwrap();
        std::fs::write(&cache, r#"{"accessToken":"a","expiresAt":"2026-11-01T10:00:00Z","refreshToken":"r","registrationExpiresAt":"2027-01-01T00:00:00Z"}"#).unwrap();
        assert!(check_session(&host, "dev", at("2026-11-21T10:00:00Z")).is_ok());
        drop(dir);
    }

    #[test]
    fn a_console_sign_in_needs_its_cached_session_on_this_computer() {
        let dir = tempfile::tempdir().unwrap();
        let arn = "arn:aws:iam::123456789012:user/ana";
        std::fs::create_dir_all(dir.path().join(".aws/login/cache")).unwrap();
        std::fs::write(
            dir.path().join(".aws/config"),
            format!("[profile console]\nlogin_session = {arn}\nregion = eu-west-1\n"),
        )
        .unwrap();
        let host = HostEnv::new(Os::Linux, Some(dir.path().to_owned()), []);
        let err = check_session(&host, "console", SystemTime::now()).unwrap_err();
        assert!(err.to_string().contains("console sign-in"), "{err}");
        assert!(!err.to_string().contains('`'));
        // The SHA-256 of the ARN, as the AWS CLI names the file.
        let hash: String = Sha256::digest(arn.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        std::fs::write(
            dir.path().join(format!(".aws/login/cache/{hash}.json")),
            "{}",
        )
        .unwrap();
        assert!(check_session(&host, "console", SystemTime::now()).is_ok());
    }

    #[test]
    fn a_profile_that_is_not_sso_needs_no_session() {
        let (_dir, host) = sso_host(None);
        assert!(check_session(&host, "not-there", SystemTime::now()).is_ok());
    }
}
