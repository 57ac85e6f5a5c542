//! Where a sign-in is kept, as the AWS CLI keeps it: the token in
//! `~/.aws/sso/cache/<sha1 of the session name>.json` (owner-only), and the session and
//! the profile in `~/.aws/config`:
//!
//! ```ini
//! [sso-session my-team]
//! sso_start_url = https://my-team.awsapps.com/start
//! sso_region = eu-west-1
//! sso_registration_scopes = sso:account:access
//!
//! [profile my-team-dev]
//! sso_session = my-team
//! sso_account_id = 111122223333
//! sso_role_name = PowerUserAccess
//! region = eu-west-1
//! ```

use serde::Deserialize;

use super::super::profiles::{file_paths, parse_ini, read_profiles, AwsProfile, Section};
use super::super::sso::cache_file;
use super::{SignInMethod, SsoSignInRequest};
use slipway_core::error::{EngineError, Result};
use slipway_core::host::HostEnv;
use slipway_core::private_file;

/// The token cache entry, with the field names the AWS CLI and SDKs read.
pub(super) struct CachedToken<'a> {
    pub start_url: &'a str,
    pub region: &'a str,
    pub access_token: &'a str,
    pub expires_at: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a str,
    pub registration_expires_at: &'a str,
    pub refresh_token: Option<&'a str>,
}

pub(super) fn write_token_cache(host: &HostEnv, session: &str, token: &CachedToken) -> Result<()> {
    let path =
        cache_file(host, Some(session), None).ok_or_else(|| EngineError::SsoSignInFailed {
            reason: "this computer's user has no home folder to keep the sign-in in".into(),
        })?;
    let mut json = serde_json::json!({
        "startUrl": token.start_url,
        "region": token.region,
        "accessToken": token.access_token,
        "expiresAt": token.expires_at,
        "clientId": token.client_id,
        "clientSecret": token.client_secret,
        "registrationExpiresAt": token.registration_expires_at,
    });
    if let Some(refresh) = token.refresh_token {
        json["refreshToken"] = refresh.into();
    }
    private_file::write(
        &path,
        &serde_json::to_string_pretty(&json).expect("JSON of strings"),
    )
}

/// The `[sso-session]` name for `start_url`: the one already in the config for that
/// address, else the portal's name (`my-team` of `https://my-team.awsapps.com/start`),
/// numbered when another address has that name.
pub(super) fn session_name_for(host: &HostEnv, start_url: &str) -> String {
    let sessions = sso_sessions(host);
    if let Some((name, _)) = sessions.iter().find(|(_, url)| same_url(url, start_url)) {
        return name.clone();
    }
    let host_name = start_url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':']).next())
        .unwrap_or_default();
    let first = host_name.split('.').next().unwrap_or_default();
    let mut base: String = first
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    if base.is_empty() || first.parse::<u8>().is_ok() {
        base = "sso".into();
    }
    let taken = |name: &str| sessions.iter().any(|(n, _)| n == name);
    if !taken(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|name| !taken(name))
        .expect("some number is free")
}

/// The same portal, however its address was pasted (a trailing `/` or the portal's `#/`).
fn same_url(a: &str, b: &str) -> bool {
    let plain = |url: &str| {
        url.trim()
            .trim_end_matches("#/")
            .trim_end_matches('#')
            .trim_end_matches('/')
            .to_owned()
    };
    plain(a) == plain(b)
}

/// The `[sso-session NAME]` sections of the config: name and start URL.
fn sso_sessions(host: &HostEnv) -> Vec<(String, String)> {
    config_sections(host)
        .into_iter()
        .filter_map(|section| {
            let name = section
                .header
                .strip_prefix("sso-session")?
                .trim()
                .to_owned();
            let url = section
                .keys
                .get("sso_start_url")
                .cloned()
                .unwrap_or_default();
            Some((name, url))
        })
        .collect()
}

fn config_sections(host: &HostEnv) -> Vec<Section> {
    let (config, _) = file_paths(host);
    parse_ini(&std::fs::read_to_string(config).unwrap_or_default()).0
}

/// The sign-in a profile's SSO session needs (its portal and region), to sign in again when
/// it expired; `None` when the profile is not an SSO profile.
pub fn request_for_profile(host: &HostEnv, profile: &str) -> Option<SsoSignInRequest> {
    let sections = config_sections(host);
    let header = if profile == "default" {
        "default".to_owned()
    } else {
        format!("profile {profile}")
    };
    let keys = &sections.iter().find(|s| s.header == header)?.keys;
    let (settings, session) = match keys.get("sso_session") {
        Some(session) => {
            let named = |s: &&Section| {
                s.header.strip_prefix("sso-session").map(str::trim) == Some(session.as_str())
            };
            (&sections.iter().find(named)?.keys, session.clone())
        }
        // The older layout: the AWS CLI keys the token by the start URL as written.
        None => (keys, keys.get("sso_start_url")?.clone()),
    };
    Some(SsoSignInRequest {
        start_url: settings.get("sso_start_url")?.clone(),
        sso_region: settings.get("sso_region")?.clone(),
        method: SignInMethod::Browser,
        session: Some(session),
    })
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct NewSsoProfile {
    /// The profile's name, as projects and the AWS CLI (`--profile`) will use it.
    pub name: String,
    pub session_name: String,
    pub start_url: String,
    pub sso_region: String,
    pub account_id: String,
    pub role_name: String,
    /// The region apps run in; the sign-in's region when unset.
    pub region: Option<String>,
}

/// Adds the profile (and its session, when the config has none by that name) to
/// `~/.aws/config` and returns it as the profile list now shows it.
pub fn save_sso_profile(host: &HostEnv, request: &NewSsoProfile) -> Result<AwsProfile> {
    check_name(&request.name)?;
    let (config_path, credentials_path) = file_paths(host);
    if read_profiles(host).get(&request.name).is_some() {
        return Err(EngineError::ProfileExists {
            profile: request.name.clone(),
            file: format!(
                "{} or {}",
                credentials_path.display(),
                config_path.display()
            ),
        });
    }
    super::checked_region(&request.sso_region)?;
    if let Some(region) = &request.region {
        super::checked_region(region)?;
    }
    super::checked_start_url(&request.start_url)?;
    for (what, value) in [
        ("The role", request.role_name.as_str()),
        ("The session name", request.session_name.as_str()),
    ] {
        let unwritable = |c: char| c.is_control() || matches!(c, '[' | ']' | '=' | '#' | ';');
        if value.trim().is_empty() || value.chars().any(unwritable) {
            return Err(EngineError::InvalidInput {
                what: what.into(),
                reason: format!("\"{value}\" cannot be written to the AWS config file"),
            });
        }
    }
    let digits = request.account_id.trim();
    if digits.len() != 12 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(EngineError::InvalidInput {
            what: "The account".into(),
            reason: format!("\"{digits}\" is not a 12-digit AWS account ID"),
        });
    }
    let mut text = String::new();
    match sso_sessions(host).iter().find(|(n, _)| *n == request.session_name) {
        Some((_, url)) if !same_url(url, &request.start_url) => {
            return Err(EngineError::InvalidInput {
                what: "The sign-in".into(),
                reason: format!(
                    "the session \"{}\" in {} belongs to {url}; sign in again to get a session of its own",
                    request.session_name,
                    config_path.display()
                ),
            })
        }
        Some(_) => {}
        None => text.push_str(&format!(
            "[sso-session {}]\nsso_start_url = {}\nsso_region = {}\nsso_registration_scopes = {}\n\n",
            request.session_name, request.start_url, request.sso_region, super::SCOPE
        )),
    }
    let header = if request.name == "default" {
        "[default]".to_owned()
    } else {
        format!("[profile {}]", request.name)
    };
    text.push_str(&format!(
        "{header}\nsso_session = {}\nsso_account_id = {digits}\nsso_role_name = {}\nregion = {}\n",
        request.session_name,
        request.role_name.trim(),
        request
            .region
            .as_deref()
            .unwrap_or(&request.sso_region)
            .trim(),
    ));
    let mut content = match std::fs::read_to_string(&config_path) {
        Ok(old) => old,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(EngineError::io(&config_path, e)),
    };
    if !content.is_empty() {
        if !content.ends_with('\n') {
            content.push('\n');
        }
        content.push('\n');
    }
    content.push_str(&text);
    private_file::write(&config_path, &content)?;
    tracing::info!(profile = %request.name, session = %request.session_name, "added an SSO profile");
    read_profiles(host)
        .get(&request.name)
        .cloned()
        .ok_or_else(|| {
            EngineError::Internal(format!(
                "the profile {} was written but does not read back",
                request.name
            ))
        })
}

/// A profile name the AWS CLI accepts in a section header.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(EngineError::InvalidInput {
            what: "The profile name".into(),
            reason: format!(
                "\"{name}\" may only use letters, digits, '-', '_' and '.' (64 at most)"
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipway_core::host::Os;

    fn home(config: &str) -> (tempfile::TempDir, HostEnv) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".aws")).unwrap();
        std::fs::write(dir.path().join(".aws/config"), config).unwrap();
        let host = HostEnv::new(Os::Linux, Some(dir.path().to_owned()), []);
        (dir, host)
    }

    fn profile(name: &str, session: &str) -> NewSsoProfile {
        NewSsoProfile {
            name: name.into(),
            session_name: session.into(),
            start_url: "https://my-team.awsapps.com/start".into(),
            sso_region: "eu-west-1".into(),
            account_id: "111122223333".into(),
            role_name: "PowerUserAccess".into(),
            region: Some("eu-central-1".into()),
        }
    }

    #[test]
    fn a_session_is_named_after_the_portal_and_reused_for_the_same_address() {
        let (_d, host) = home("[sso-session my-team]\nsso_start_url = https://other.example/start\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start/\n");
        assert_eq!(
            session_name_for(&host, "https://corp.awsapps.com/start"),
            "corp"
        );
        assert_eq!(
            session_name_for(&host, "https://corp.awsapps.com/start/#/"),
            "corp"
        );
        assert_eq!(
            session_name_for(&host, "https://my-team.awsapps.com/start"),
            "my-team-2"
        );
        assert_eq!(
            session_name_for(&host, "https://d-90670ca891.awsapps.com/start"),
            "d-90670ca891"
        );
        assert_eq!(
            session_name_for(&host, "http://127.0.0.1:4000/start"),
            "sso"
        );
    }

    #[test]
    fn an_expired_profile_signs_in_again_with_its_sessions_portal_and_region() {
        let (_d, host) = home("[profile dev]\nsso_session = corp\nsso_account_id = 1\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n\n[profile old]\nsso_start_url = https://old.awsapps.com/start\nsso_region = us-east-2\n\n[profile keys]\nregion = us-east-1\n");
        let again = request_for_profile(&host, "dev").unwrap();
        assert_eq!(
            (again.start_url.as_str(), again.sso_region.as_str()),
            ("https://corp.awsapps.com/start", "eu-west-1")
        );
        assert_eq!(again.session.as_deref(), Some("corp"));
        let old = request_for_profile(&host, "old").unwrap();
        assert_eq!(old.sso_region, "us-east-2");
        // The older layout's token is keyed by its start URL as written.
        assert_eq!(
            old.session.as_deref(),
            Some("https://old.awsapps.com/start")
        );
        assert!(request_for_profile(&host, "keys").is_none());
    }

    #[test]
    fn the_profile_and_its_session_are_added_after_what_the_config_had() {
        let (dir, host) = home("[default]\nregion = us-east-1");
        let saved = save_sso_profile(&host, &profile("team-dev", "my-team")).unwrap();
        assert_eq!(saved.kind, super::super::super::profiles::ProfileKind::Sso);
        assert_eq!(saved.region.as_deref(), Some("eu-central-1"));
        assert_eq!(saved.sso_session.as_deref(), Some("my-team"));
        // A second profile of the same session adds only the profile.
        save_sso_profile(&host, &profile("team-admin", "my-team")).unwrap();
        let text = std::fs::read_to_string(dir.path().join(".aws/config")).unwrap();
        assert!(
            text.starts_with("[default]\nregion = us-east-1\n\n[sso-session my-team]\n"),
            "{text}"
        );
        assert_eq!(text.matches("[sso-session my-team]").count(), 1);
        assert!(text.contains("[profile team-admin]\nsso_session = my-team\nsso_account_id = 111122223333\nsso_role_name = PowerUserAccess\nregion = eu-central-1\n"));
    }

    #[test]
    fn bad_input_is_refused_and_the_config_is_untouched() {
        let original = "[profile taken]\nregion = us-east-1\n";
        let (dir, host) = home(original);
        let refused =
            |request: NewSsoProfile| save_sso_profile(&host, &request).unwrap_err().to_string();
        assert!(refused(profile("taken", "my-team")).contains("already exists"));
        assert!(refused(profile("has space", "my-team")).contains("may only use"));
        let mut short = profile("ok", "my-team");
        short.account_id = "1234".into();
        assert!(refused(short).contains("12-digit"));
        let mut region = profile("ok", "my-team");
        region.region = Some("Europe".into());
        assert!(refused(region).contains("region name"));
        let mut role = profile("ok", "my-team");
        role.role_name = "Admin\n[profile evil]".into();
        assert!(refused(role).contains("cannot be written"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join(".aws/config")).unwrap(),
            original
        );
    }
}
