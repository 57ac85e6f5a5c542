//! Signing in with IAM Identity Center (AWS SSO) without the AWS CLI. Slipway runs the
//! OIDC flow itself: it registers as a client, sends the user to their sign-in page in the
//! browser (authorization code with PKCE, the answer coming back to a loopback address),
//! or shows a code to confirm there when no answer can come back (device authorization),
//! and writes the token where the AWS CLI and every SDK read it (`~/.aws/sso/cache`). The
//! account and role the user picks then become an ordinary SSO profile in `~/.aws/config`
//! (see [`files`]), so the CLI and the SDKs share the session.
//!
//! The endpoints are AWS's own for the region, or the standard per-service overrides
//! `AWS_ENDPOINT_URL_SSO_OIDC` and `AWS_ENDPOINT_URL_SSO` (the test kit's stand-in).

mod callback;
pub mod files;

use std::time::{Duration, SystemTime};

use aws_config::{BehaviorVersion, Region};
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::Digest;

use slipway_core::error::{EngineError, Result};
use slipway_core::host::HostEnv;
use slipway_core::jobs::{until_cancelled, Cancel};
use slipway_core::progress::ProgressSink;

pub use files::{request_for_profile, save_sso_profile, NewSsoProfile};

/// What AWS grants the token: listing the accounts and roles, and their credentials.
const SCOPE: &str = "sso:account:access";
/// How long a browser sign-in may take before Slipway stops waiting.
const BROWSER_WAIT: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum SignInMethod {
    /// In this computer's browser; the answer comes back to Slipway by itself.
    #[default]
    Browser,
    /// With a code confirmed on a page that may be opened anywhere (another computer).
    Code,
}

#[derive(Debug, Clone, Deserialize, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SsoSignInRequest {
    /// The AWS access portal's address, `https://<name>.awsapps.com/start`.
    pub start_url: String,
    /// The region IAM Identity Center runs in (not always the one apps run in).
    pub sso_region: String,
    #[serde(default)]
    pub method: SignInMethod,
    /// The session to renew: an existing profile's `sso_session`, or, for a profile of the
    /// older layout, its start URL as written (the AWS CLI keys its token by either). A new
    /// sign-in leaves it unset and gets a session named after the portal.
    #[serde(default)]
    pub session: Option<String>,
}

/// What the user has to do while the sign-in waits.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum SsoSignInEvent {
    /// Open `url` in the browser and sign in there; Slipway hears back by itself.
    OpenBrowser { url: String },
    /// Open `url` (on any device), check that the page shows `user_code`, and allow it.
    ConfirmCode {
        url: String,
        #[serde(rename = "userCode")]
        user_code: String,
        #[serde(rename = "expiresInSeconds")]
        expires_in_seconds: u32,
    },
    /// The browser answered; the token is being fetched and the accounts listed.
    Finishing,
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SsoAccount {
    pub account_id: String,
    pub name: String,
    pub email: Option<String>,
    /// The roles (permission sets) the user may take in this account.
    pub roles: Vec<String>,
}

/// A finished sign-in: the session it is saved under and where it may go next.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SsoSignedIn {
    /// The `[sso-session NAME]` this sign-in is cached under.
    pub session_name: String,
    pub start_url: String,
    pub sso_region: String,
    /// When the sign-in ends (RFC 3339); the AWS CLI and SDKs renew it until the
    /// portal's own session ends.
    pub expires_at: String,
    pub accounts: Vec<SsoAccount>,
}

/// The token as the OIDC service gave it, with the client that asked.
struct Token {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: i32,
}

struct Registration {
    client_id: String,
    client_secret: String,
    expires_at: i64,
}

/// Runs the sign-in to the end: the token cached, the accounts and their roles listed.
pub async fn sign_in(
    host: &HostEnv,
    request: &SsoSignInRequest,
    sink: &dyn ProgressSink<SsoSignInEvent>,
    cancel: &Cancel,
    now: SystemTime,
) -> Result<SsoSignedIn> {
    let started = std::time::Instant::now();
    let start_url = checked_start_url(&request.start_url)?;
    let region = checked_region(&request.sso_region)?;
    let session_name = match &request.session {
        Some(session) => session.clone(),
        None => files::session_name_for(host, &start_url),
    };
    let (oidc, oidc_base) = oidc_client(host, &region);
    until_cancelled(cancel, async {
        let (registration, token) = match request.method {
            SignInMethod::Browser => browser_flow(&oidc, &oidc_base, &start_url, sink).await?,
            SignInMethod::Code => code_flow(&oidc, &start_url, sink).await?,
        };
        // Counted from when the token came, not from when the user started signing in.
        let expires_at =
            now + started.elapsed() + Duration::from_secs(token.expires_in.max(0) as u64);
        let expires_at = rfc3339(expires_at);
        files::write_token_cache(
            host,
            &session_name,
            &files::CachedToken {
                start_url: &start_url,
                region: &region,
                access_token: &token.access_token,
                expires_at: &expires_at,
                client_id: &registration.client_id,
                client_secret: &registration.client_secret,
                registration_expires_at: &rfc3339(
                    SystemTime::UNIX_EPOCH
                        + Duration::from_secs(registration.expires_at.max(0) as u64),
                ),
                refresh_token: token.refresh_token.as_deref(),
            },
        )?;
        tracing::info!(session = %session_name, "signed in to AWS SSO");
        let accounts = list_accounts(host, &region, &token.access_token).await?;
        Ok(SsoSignedIn {
            session_name,
            start_url,
            sso_region: region,
            expires_at,
            accounts,
        })
    })
    .await
}

/// Authorization code with PKCE: the browser comes back to a one-time loopback address.
async fn browser_flow(
    oidc: &aws_sdk_ssooidc::Client,
    oidc_base: &str,
    start_url: &str,
    sink: &dyn ProgressSink<SsoSignInEvent>,
) -> Result<(Registration, Token)> {
    let listener = callback::Listener::bind().await?;
    let redirect_uri = listener.redirect_uri();
    // Registered without the port, as the AWS CLI does: a loopback redirect matches on any
    // port (RFC 8252).
    let registered_uri = callback::REGISTERED_URI;
    let registered = oidc
        .register_client()
        .client_name("Slipway")
        .client_type("public")
        .scopes(SCOPE)
        .grant_types("authorization_code")
        .grant_types("refresh_token")
        .redirect_uris(registered_uri)
        .issuer_url(start_url)
        .send()
        .await
        .map_err(|e| failed("while registering Slipway", e))?;
    let registration = registration(&registered)?;
    let verifier = random_text(48);
    let state = random_text(24);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    // Where the AWS CLI sends the browser too: the OIDC service's own authorize page.
    let url = format!(
        "{oidc_base}/authorize?response_type=code&client_id={}&redirect_uri={}&state={}&code_challenge_method=S256&scopes={}&code_challenge={}",
        encode(&registration.client_id),
        encode(&redirect_uri),
        encode(&state),
        encode(SCOPE),
        encode(&challenge),
    );
    sink.emit(SsoSignInEvent::OpenBrowser { url });
    let code = tokio::time::timeout(BROWSER_WAIT, listener.code(&state))
        .await
        .map_err(|_| EngineError::SsoSignInFailed {
            reason: "the browser did not come back within 10 minutes".into(),
        })??;
    sink.emit(SsoSignInEvent::Finishing);
    let token = oidc
        .create_token()
        .client_id(&registration.client_id)
        .client_secret(&registration.client_secret)
        .grant_type("authorization_code")
        .code(code)
        .code_verifier(verifier)
        .redirect_uri(redirect_uri)
        .send()
        .await
        .map_err(|e| failed("while fetching the sign-in", e))?;
    Ok((registration, token_of(&token)?))
}

/// Device authorization: a code the user confirms on AWS's page, polled until allowed.
async fn code_flow(
    oidc: &aws_sdk_ssooidc::Client,
    start_url: &str,
    sink: &dyn ProgressSink<SsoSignInEvent>,
) -> Result<(Registration, Token)> {
    let registered = oidc
        .register_client()
        .client_name("Slipway")
        .client_type("public")
        .scopes(SCOPE)
        .send()
        .await
        .map_err(|e| failed("while registering Slipway", e))?;
    let registration = registration(&registered)?;
    let device = oidc
        .start_device_authorization()
        .client_id(&registration.client_id)
        .client_secret(&registration.client_secret)
        .start_url(start_url)
        .send()
        .await
        .map_err(|e| failed("while asking for a sign-in code", e))?;
    let (Some(device_code), Some(user_code)) = (device.device_code(), device.user_code()) else {
        return Err(EngineError::SsoSignInFailed {
            reason: "IAM Identity Center gave no sign-in code".into(),
        });
    };
    let url = device
        .verification_uri_complete()
        .or(device.verification_uri())
        .unwrap_or_default()
        .to_owned();
    sink.emit(SsoSignInEvent::ConfirmCode {
        url,
        user_code: user_code.to_owned(),
        expires_in_seconds: device.expires_in().max(0) as u32,
    });
    let mut interval = Duration::from_secs(device.interval().clamp(1, 30) as u64);
    let deadline =
        tokio::time::Instant::now() + Duration::from_secs(device.expires_in().max(60) as u64);
    loop {
        tokio::time::sleep(interval).await;
        let answer = oidc
            .create_token()
            .client_id(&registration.client_id)
            .client_secret(&registration.client_secret)
            .grant_type("urn:ietf:params:oauth:grant-type:device_code")
            .device_code(device_code)
            .send()
            .await;
        match answer {
            Ok(token) => {
                sink.emit(SsoSignInEvent::Finishing);
                return Ok((registration, token_of(&token)?));
            }
            Err(e) => {
                use aws_sdk_ssooidc::operation::create_token::CreateTokenError as E;
                match e.as_service_error() {
                    Some(E::AuthorizationPendingException(_)) => {}
                    Some(E::SlowDownException(_)) => interval += Duration::from_secs(5),
                    Some(E::AccessDeniedException(_)) => {
                        return Err(EngineError::SsoSignInFailed {
                            reason: "the code was denied on the sign-in page".into(),
                        })
                    }
                    Some(E::ExpiredTokenException(_)) => return Err(code_expired()),
                    _ => return Err(failed("while waiting for the code", e)),
                }
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(code_expired());
        }
    }
}

fn code_expired() -> EngineError {
    EngineError::SsoSignInFailed {
        reason: "the code expired before it was confirmed".into(),
    }
}

/// Every account the token may enter, with its roles, sorted by name.
async fn list_accounts(host: &HostEnv, region: &str, token: &str) -> Result<Vec<SsoAccount>> {
    let mut config = aws_sdk_sso::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()));
    if let Some(url) = host.var("AWS_ENDPOINT_URL_SSO") {
        config = config.endpoint_url(url);
    }
    let portal = aws_sdk_sso::Client::from_conf(config.build());
    let mut accounts = Vec::new();
    let mut pages = portal
        .list_accounts()
        .access_token(token)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| failed("while listing your AWS accounts", e))?;
        for account in page.account_list() {
            let Some(id) = account.account_id() else {
                continue;
            };
            let mut roles = Vec::new();
            let mut role_pages = portal
                .list_account_roles()
                .access_token(token)
                .account_id(id)
                .into_paginator()
                .send();
            while let Some(page) = role_pages.next().await {
                let page = page.map_err(|e| failed("while listing your roles", e))?;
                roles.extend(
                    page.role_list()
                        .iter()
                        .filter_map(|r| r.role_name().map(str::to_owned)),
                );
            }
            roles.sort();
            accounts.push(SsoAccount {
                account_id: id.to_owned(),
                name: account.account_name().unwrap_or(id).to_owned(),
                email: account.email_address().map(str::to_owned),
                roles,
            });
        }
    }
    accounts.sort_by_key(|a| a.name.to_lowercase());
    Ok(accounts)
}

/// The OIDC client for `region`, and the service's address (for the authorize page).
fn oidc_client(host: &HostEnv, region: &str) -> (aws_sdk_ssooidc::Client, String) {
    let mut config = aws_sdk_ssooidc::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()));
    let base = match host.var("AWS_ENDPOINT_URL_SSO_OIDC") {
        Some(url) => {
            config = config.endpoint_url(url);
            url.trim_end_matches('/').to_owned()
        }
        None => format!("https://oidc.{region}.amazonaws.com"),
    };
    (aws_sdk_ssooidc::Client::from_conf(config.build()), base)
}

fn registration(
    registered: &aws_sdk_ssooidc::operation::register_client::RegisterClientOutput,
) -> Result<Registration> {
    match (registered.client_id(), registered.client_secret()) {
        (Some(id), Some(secret)) => Ok(Registration {
            client_id: id.to_owned(),
            client_secret: secret.to_owned(),
            expires_at: registered.client_secret_expires_at(),
        }),
        _ => Err(EngineError::SsoSignInFailed {
            reason: "IAM Identity Center did not register Slipway".into(),
        }),
    }
}

fn token_of(out: &aws_sdk_ssooidc::operation::create_token::CreateTokenOutput) -> Result<Token> {
    let access_token = out
        .access_token()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| EngineError::SsoSignInFailed {
            reason: "IAM Identity Center answered without a token".into(),
        })?;
    Ok(Token {
        access_token: access_token.to_owned(),
        refresh_token: out.refresh_token().map(str::to_owned),
        expires_in: out.expires_in(),
    })
}

/// The SDK's failure in plain words; its own text goes to the log (redacted there).
fn failed<E, R>(doing: &str, e: aws_sdk_ssooidc::error::SdkError<E, R>) -> EngineError
where
    E: std::error::Error + aws_sdk_ssooidc::error::ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_ssooidc::error::{DisplayErrorContext, SdkError};
    tracing::warn!("AWS SSO sign-in, {doing}: {}", DisplayErrorContext(&e));
    let reason = match &e {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => format!(
            "{doing}, IAM Identity Center could not be reached (check the internet connection and the region)"
        ),
        SdkError::ServiceError(service) => match service.err().code() {
            Some(
                "InvalidClientException" | "InvalidRequestException" | "InvalidGrantException"
                | "UnauthorizedClientException" | "InvalidClientMetadataException"
                | "InvalidRedirectUriException" | "UnauthorizedException",
            ) => format!(
                "{doing}, IAM Identity Center did not accept the request: the portal address or the region may not be your organisation's"
            ),
            Some(code) => format!("{doing}, IAM Identity Center answered {code}"),
            None => format!("{doing}, IAM Identity Center answered with an error"),
        },
        _ => format!("{doing}, IAM Identity Center's answer could not be read"),
    };
    EngineError::SsoSignInFailed { reason }
}

/// The portal address as typed, checked: an `https` address with a host name (an `http`
/// one only on this computer, for a stand-in), without the `#/` the portal's links carry.
fn checked_start_url(url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches("#/").trim_end_matches('#');
    let invalid = |reason: &str| {
        EngineError::InvalidInput {
        what: "The AWS access portal address".into(),
        reason: format!("{reason}. It looks like https://your-name.awsapps.com/start; your administrator's invitation email has it"),
    }
    };
    let local = url.starts_with("http://127.0.0.1:");
    let host = url
        .strip_prefix("https://")
        .map(|rest| rest.split('/').next().unwrap_or_default());
    match host {
        None if !local => Err(invalid("it must start with https://")),
        Some("") => Err(invalid("it has no host name")),
        _ if url.chars().any(char::is_whitespace) => Err(invalid("it contains spaces")),
        _ => Ok(url.to_owned()),
    }
}

fn checked_region(region: &str) -> Result<String> {
    let region = region.trim();
    let valid = !region.is_empty()
        && region.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && region.contains('-');
    if valid {
        Ok(region.to_owned())
    } else {
        Err(EngineError::InvalidInput {
            what: "The IAM Identity Center region".into(),
            reason: format!("\"{region}\" is not a region name such as us-east-1 or eu-west-1"),
        })
    }
}

fn rfc3339(at: SystemTime) -> String {
    DateTime::from(at).fmt(Format::DateTime).unwrap_or_default()
}

/// `length` characters from the PKCE alphabet, from the OS's random source.
fn random_text(length: usize) -> String {
    // 64 characters, so each random byte maps to one without bias.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bytes = vec![0u8; length];
    getrandom::fill(&mut bytes).expect("the OS has a random source");
    bytes
        .iter()
        .map(|b| ALPHABET[(*b & 63) as usize] as char)
        .collect()
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_portal_address_is_checked_and_its_fragment_dropped() {
        assert_eq!(
            checked_start_url(" https://my-team.awsapps.com/start/#/ ").unwrap(),
            "https://my-team.awsapps.com/start/"
        );
        let refused = checked_start_url("my-team.awsapps.com/start").unwrap_err();
        assert!(refused.to_string().contains("https://"), "{refused}");
        assert!(checked_start_url("https://").is_err());
        assert!(checked_start_url("http://example.com/start").is_err());
    }

    #[test]
    fn a_region_must_look_like_one() {
        assert_eq!(checked_region(" eu-west-1 ").unwrap(), "eu-west-1");
        for bad in ["", "Europe", "eu west 1", "us-east-"] {
            assert!(checked_region(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pkce_values_use_the_unreserved_alphabet_and_differ_each_time() {
        let (a, b) = (random_text(48), random_text(48));
        assert_eq!(a.len(), 48);
        assert_ne!(a, b);
        assert_eq!(encode(&a), a, "nothing to escape");
        assert_eq!(
            encode("http://127.0.0.1:1/oauth/callback"),
            "http%3A%2F%2F127.0.0.1%3A1%2Foauth%2Fcallback"
        );
    }
}
