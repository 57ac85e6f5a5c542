//! A stand-in for IAM Identity Center on 127.0.0.1, since the emulator has none: the
//! SSO OIDC service's RegisterClient, StartDeviceAuthorization, CreateToken and authorize
//! page, and the access portal's ListAccounts, ListAccountRoles and GetRoleCredentials, in
//! their published wire shapes (restJson1, errors named by `x-amzn-ErrorType`). It checks
//! what AWS checks: a redirect URI the client registered, the PKCE verifier against the
//! challenge, a code used once, a device code confirmed before its token is given, the
//! bearer token on portal calls. Point the app at it with `AWS_ENDPOINT_URL_SSO_OIDC` and
//! `AWS_ENDPOINT_URL_SSO`.
//!
//! The user's part is played by the test: [`SsoStandIn::browser`] follows the authorize
//! address as a browser would (to the app's loopback address), and
//! [`SsoStandIn::confirm_code`] / [`SsoStandIn::deny_code`] act on a device code's page.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::{json, Value};
use sha2::Digest;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The accounts and roles the stand-in's user may enter.
pub const ACCOUNTS: &[(&str, &str, &[&str])] = &[
    (
        "111122223333",
        "Demo apps",
        &["PowerUserAccess", "ReadOnlyAccess"],
    ),
    ("444455556666", "Production", &["ReadOnlyAccess"]),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Confirmation {
    Pending,
    Allowed,
    Denied,
    Expired,
}

#[derive(Default)]
struct State {
    /// client id → (secret, registered redirect URIs)
    clients: HashMap<String, (String, Vec<String>)>,
    /// authorization code → (client id, challenge, redirect URI)
    codes: HashMap<String, (String, String, String)>,
    /// device code → (client id, user code, confirmation)
    devices: HashMap<String, (String, String, Confirmation)>,
    tokens: Vec<String>,
    /// Each call, as "Operation" (RegisterClient, CreateToken…).
    calls: Vec<String>,
    next: u32,
    /// CreateToken answers "authorization pending" given so far.
    pending_answers: u32,
    /// How many of the next pending polls are answered "slow down" instead.
    slow_downs: u32,
}

impl State {
    fn fresh(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}-{}-{}", self.next, std::process::id())
    }
}

pub struct SsoStandIn {
    url: String,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl Drop for SsoStandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SsoStandIn {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, &state).await;
                });
            }
        });
        Self { url, state, task }
    }

    /// The address for both `AWS_ENDPOINT_URL_SSO_OIDC` and `AWS_ENDPOINT_URL_SSO`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The portal's start URL users of this stand-in type.
    pub fn start_url(&self) -> String {
        format!("{}/start", self.url)
    }

    /// The operations called so far, in order.
    pub fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }

    /// Whether `token` is one this stand-in issued.
    pub fn issued(&self, token: &str) -> bool {
        self.state.lock().unwrap().tokens.iter().any(|t| t == token)
    }

    /// Plays the browser: opens the authorize address and follows its redirect to the
    /// app's loopback address, returning the page the app showed.
    pub async fn browser(&self, authorize_url: &str) -> String {
        let page = reqwest::get(authorize_url)
            .await
            .expect("the authorize page");
        let status = page.status();
        let text = page.text().await.unwrap_or_default();
        assert!(status.is_success(), "the browser ended on {status}: {text}");
        text
    }

    /// The user allows the device code on its page.
    pub fn confirm_code(&self, user_code: &str) {
        self.set_confirmation(user_code, Confirmation::Allowed);
    }

    pub fn deny_code(&self, user_code: &str) {
        self.set_confirmation(user_code, Confirmation::Denied);
    }

    /// The code runs out before anyone confirms it.
    pub fn expire_code(&self, user_code: &str) {
        self.set_confirmation(user_code, Confirmation::Expired);
    }

    /// The next `n` polls of an unconfirmed code are told to slow down (RFC 8628).
    pub fn slow_down_next(&self, n: u32) {
        self.state.lock().unwrap().slow_downs = n;
    }

    /// How many times a poll was told the code is not confirmed yet.
    pub fn pending_answers(&self) -> u32 {
        self.state.lock().unwrap().pending_answers
    }

    fn set_confirmation(&self, user_code: &str, to: Confirmation) {
        let mut state = self.state.lock().unwrap();
        let device = state
            .devices
            .values_mut()
            .find(|(_, code, _)| code == user_code)
            .unwrap_or_else(|| panic!("no device authorization shows the code {user_code}"));
        device.2 = to;
    }
}

async fn serve(mut stream: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    let Some(request) = crate::read_request(&mut stream).await? else {
        return Ok(());
    };
    let line = request.head.lines().next().unwrap_or_default().to_owned();
    let mut parts = line.split(' ');
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query: HashMap<String, String> = query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect();
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let bearer = request.header("x-amz-sso_bearer_token").map(str::to_owned);
    let answer = {
        let mut state = state.lock().unwrap();
        route(&mut state, method, path, &query, &body, bearer.as_deref())
    };
    let response = match answer {
        Answer::Json(status, value) => {
            let body = value.to_string();
            format!("HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
        }
        Answer::Error(status, kind, message) => {
            let body = json!({"error": message, "error_description": message, "message": message}).to_string();
            format!("HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nx-amzn-ErrorType: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
        }
        Answer::Redirect(location) => format!(
            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
    };
    stream.write_all(response.as_bytes()).await
}

enum Answer {
    Json(u16, Value),
    Error(u16, &'static str, &'static str),
    Redirect(String),
}

fn route(
    state: &mut State,
    method: &str,
    path: &str,
    query: &HashMap<String, String>,
    body: &Value,
    bearer: Option<&str>,
) -> Answer {
    let text = |key: &str| {
        body.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let operation = match (method, path) {
        ("POST", "/client/register") => "RegisterClient",
        ("POST", "/device_authorization") => "StartDeviceAuthorization",
        ("POST", "/token") => "CreateToken",
        ("GET", "/authorize") => "Authorize",
        ("GET", "/assignment/accounts") => "ListAccounts",
        ("GET", "/assignment/roles") => "ListAccountRoles",
        ("GET", "/federation/credentials") => "GetRoleCredentials",
        _ => return Answer::Error(404, "ResourceNotFoundException", "no such operation"),
    };
    state.calls.push(operation.to_owned());
    let authorized = bearer.is_some_and(|b| state.tokens.iter().any(|t| t == b));
    match operation {
        "RegisterClient" => {
            if text("clientName").is_empty() || text("clientType") != "public" {
                return Answer::Error(
                    400,
                    "InvalidClientMetadataException",
                    "clientName and a public clientType are required",
                );
            }
            let list = |key: &str| -> Vec<String> {
                body.get(key)
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            if !list("scopes").iter().any(|s| s == "sso:account:access") {
                return Answer::Error(
                    400,
                    "InvalidScopeException",
                    "sso:account:access is required",
                );
            }
            let redirects = list("redirectUris");
            // A client for the browser flow says so, and names the portal it signs in to.
            if !redirects.is_empty()
                && (!list("grantTypes").iter().any(|g| g == "authorization_code")
                    || text("issuerUrl").is_empty())
            {
                return Answer::Error(
                    400,
                    "InvalidClientMetadataException",
                    "a redirect needs the authorization_code grant",
                );
            }
            let (id, secret) = (state.fresh("client"), state.fresh("secret"));
            state
                .clients
                .insert(id.clone(), (secret.clone(), redirects));
            let now = now_seconds();
            Answer::Json(
                200,
                json!({
                    "clientId": id, "clientSecret": secret,
                    "clientIdIssuedAt": now, "clientSecretExpiresAt": now + 90 * 24 * 3600,
                }),
            )
        }
        "StartDeviceAuthorization" => {
            if !client_ok(state, &text("clientId"), &text("clientSecret")) {
                return Answer::Error(401, "InvalidClientException", "unknown client");
            }
            let device = state.fresh("device");
            let user_code = format!("ABCD-{:04}", state.next);
            state.devices.insert(
                device.clone(),
                (text("clientId"), user_code.clone(), Confirmation::Pending),
            );
            Answer::Json(
                200,
                json!({
                    "deviceCode": device, "userCode": user_code,
                    "verificationUri": "https://device.sso.example/",
                    "verificationUriComplete": format!("https://device.sso.example/?user_code={user_code}"),
                    "expiresIn": 600, "interval": 1,
                }),
            )
        }
        "CreateToken" => {
            let client = text("clientId");
            if !client_ok(state, &client, &text("clientSecret")) {
                return Answer::Error(401, "InvalidClientException", "unknown client");
            }
            match text("grantType").as_str() {
                "authorization_code" => {
                    let Some((owner, challenge, redirect)) = state.codes.remove(&text("code"))
                    else {
                        return Answer::Error(400, "InvalidGrantException", "unknown or used code");
                    };
                    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .encode(sha2::Sha256::digest(text("codeVerifier").as_bytes()));
                    if owner != client || computed != challenge || redirect != text("redirectUri") {
                        return Answer::Error(
                            400,
                            "InvalidGrantException",
                            "the code, verifier or redirect does not match",
                        );
                    }
                }
                "urn:ietf:params:oauth:grant-type:device_code" => {
                    let Some((owner, _, confirmation)) =
                        state.devices.get(&text("deviceCode")).cloned()
                    else {
                        return Answer::Error(400, "InvalidGrantException", "unknown device code");
                    };
                    if owner != client {
                        return Answer::Error(
                            400,
                            "InvalidGrantException",
                            "another client's code",
                        );
                    }
                    match confirmation {
                        Confirmation::Pending if state.slow_downs > 0 => {
                            state.slow_downs -= 1;
                            return Answer::Error(400, "SlowDownException", "slow_down");
                        }
                        Confirmation::Pending => {
                            state.pending_answers += 1;
                            return Answer::Error(
                                400,
                                "AuthorizationPendingException",
                                "authorization_pending",
                            );
                        }
                        Confirmation::Expired => {
                            return Answer::Error(400, "ExpiredTokenException", "expired_token")
                        }
                        Confirmation::Denied => {
                            return Answer::Error(400, "AccessDeniedException", "access_denied")
                        }
                        Confirmation::Allowed => {
                            state.devices.remove(&text("deviceCode"));
                        }
                    }
                }
                _ => {
                    return Answer::Error(
                        400,
                        "UnsupportedGrantTypeException",
                        "unsupported_grant_type",
                    )
                }
            }
            let (token, refresh) = (state.fresh("access-token"), state.fresh("refresh-token"));
            state.tokens.push(token.clone());
            Answer::Json(
                200,
                json!({
                    "accessToken": token, "tokenType": "Bearer", "expiresIn": 28800, "refreshToken": refresh,
                }),
            )
        }
        "Authorize" => {
            let get = |k: &str| query.get(k).cloned().unwrap_or_default();
            let registered = state.clients.get(&get("client_id")).map(|(_, r)| r.clone());
            let redirect = get("redirect_uri");
            let allowed = registered.is_some_and(|uris| {
                // AWS matches loopback redirects without their port, as RFC 8252 asks.
                uris.iter()
                    .any(|u| without_port(u) == without_port(&redirect))
            });
            if !allowed
                || get("response_type") != "code"
                || get("code_challenge_method") != "S256"
                || get("code_challenge").is_empty()
            {
                return Answer::Error(400, "InvalidRequestException", "bad authorize request");
            }
            let code = state.fresh("code");
            state.codes.insert(
                code.clone(),
                (get("client_id"), get("code_challenge"), redirect.clone()),
            );
            Answer::Redirect(format!("{redirect}?code={code}&state={}", get("state")))
        }
        _ if !authorized => Answer::Error(
            401,
            "UnauthorizedException",
            "Session token not found or invalid",
        ),
        "ListAccounts" => Answer::Json(
            200,
            json!({
                "accountList": ACCOUNTS.iter().map(|(id, name, _)| json!({
                    "accountId": id, "accountName": name, "emailAddress": format!("aws+{id}@example.com"),
                })).collect::<Vec<_>>(),
            }),
        ),
        "ListAccountRoles" => {
            let id = query.get("account_id").cloned().unwrap_or_default();
            let roles = ACCOUNTS
                .iter()
                .find(|(a, _, _)| *a == id)
                .map(|(_, _, r)| *r)
                .unwrap_or_default();
            Answer::Json(
                200,
                json!({
                    "roleList": roles.iter().map(|r| json!({"roleName": r, "accountId": id})).collect::<Vec<_>>(),
                }),
            )
        }
        "GetRoleCredentials" => Answer::Json(
            200,
            json!({
                "roleCredentials": {
                    "accessKeyId": "ASIASTANDIN000000001", "secretAccessKey": "stand-in-secret",
                    "sessionToken": "stand-in-session", "expiration": (now_seconds() + 3600) * 1000,
                },
            }),
        ),
        _ => unreachable!("every operation is matched above"),
    }
}

fn client_ok(state: &State, id: &str, secret: &str) -> bool {
    state.clients.get(id).is_some_and(|(s, _)| s == secret)
}

fn without_port(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_owned();
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    format!("{scheme}://{host}/{path}")
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(
                std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                16,
            ) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
