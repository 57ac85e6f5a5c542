//! Signing in with AWS SSO against the test kit's IAM Identity Center stand-in (the
//! emulator has no SSO OIDC service): the browser flow with PKCE, the code flow, a denied
//! code, a cancel and bad input; the token cache read back by the AWS SDK's own SSO token
//! provider, and the profile saved as the AWS CLI writes it.
//!
//! One test function: the SDK reads the token cache under the process's HOME, which is
//! set once, first, to this test's own folder, before anything else runs.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::token::ProvideToken;
use slipway_aws::aws::sign_in::SignInMethod;
use slipway_aws::aws::{
    read_profiles, save_sso_profile, sign_in, NewSsoProfile, ProfileKind, SsoSignInEvent,
    SsoSignInRequest,
};
use slipway_core::error::EngineError;
use slipway_core::host::{HostEnv, Os};
use slipway_core::jobs::Cancel;
use slipway_testkit::sso::SsoStandIn;

fn host(home: &std::path::Path, standin: &SsoStandIn) -> HostEnv {
    HostEnv::new(
        Os::current(),
        Some(home.to_owned()),
        [
            (
                "AWS_ENDPOINT_URL_SSO_OIDC".to_owned(),
                standin.url().to_owned(),
            ),
            ("AWS_ENDPOINT_URL_SSO".to_owned(), standin.url().to_owned()),
        ],
    )
}

fn request(standin: &SsoStandIn, method: SignInMethod) -> SsoSignInRequest {
    SsoSignInRequest {
        start_url: standin.start_url(),
        sso_region: "eu-west-1".into(),
        method,
        session: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_sign_in_by_browser_and_by_code_is_cached_where_the_sdk_reads_it() {
    let home = tempfile::tempdir().unwrap();
    // SAFETY of the process environment: this is the binary's only test and nothing has
    // started yet that reads the environment.
    std::env::set_var("HOME", home.path());
    let captured = slipway_testkit::logs::CapturedLogs::start();

    let standin = Arc::new(SsoStandIn::start().await);
    let host = host(home.path(), &standin);

    // Bad input: refused before any call.
    let mut bad = request(&standin, SignInMethod::Browser);
    bad.start_url = "my-team.awsapps.com/start".into();
    let refused = sign_in(&host, &bad, &|_| {}, &Cancel::new(), SystemTime::now())
        .await
        .unwrap_err();
    assert!(
        matches!(refused, EngineError::InvalidInput { .. }),
        "{refused}"
    );
    assert!(standin.calls().is_empty(), "{:?}", standin.calls());

    // The browser flow: the stand-in's authorize page redirects to Slipway's loopback.
    let pages = Arc::new(Mutex::new(Vec::new()));
    let (browser, seen) = (standin.clone(), pages.clone());
    let sink = move |event: SsoSignInEvent| {
        if let SsoSignInEvent::OpenBrowser { url } = event {
            let (browser, seen) = (browser.clone(), seen.clone());
            tokio::spawn(async move {
                let page = browser.browser(&url).await;
                seen.lock().unwrap().push(page);
            });
        }
    };
    let signed_in = sign_in(
        &host,
        &request(&standin, SignInMethod::Browser),
        &sink,
        &Cancel::new(),
        SystemTime::now(),
    )
    .await
    .expect("the browser sign-in");
    assert_eq!(signed_in.session_name, "sso");
    let names: Vec<_> = signed_in.accounts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Demo apps", "Production"]);
    assert_eq!(
        signed_in.accounts[0].roles,
        ["PowerUserAccess", "ReadOnlyAccess"]
    );
    // The browser's tab got its page (the answer is written before the code is taken).
    let page = until(|| pages.lock().unwrap().first().cloned()).await;
    assert!(page.contains("Slipway has your sign-in"), "{page}");

    // The cache file, owner-only, read back by the SDK's own SSO token provider.
    let cache = home
        .path()
        .join(".aws/sso/cache")
        .join(format!("{}.json", sha1_hex("sso")));
    let cached: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .no_credentials()
        .load()
        .await;
    let provider = aws_config::sso::SsoTokenProvider::builder()
        .configure(&sdk)
        .session_name("sso")
        .start_url(standin.start_url())
        .region(Region::new("eu-west-1"))
        .build()
        .await;
    let token = provider
        .provide_token()
        .await
        .expect("the SDK reads the cache");
    assert_eq!(token.token(), cached["accessToken"].as_str().unwrap());
    assert!(standin.issued(token.token()));
    let first_token = token.token().to_owned();

    // The profile, as the AWS CLI writes it.
    let profile = save_sso_profile(
        &host,
        &NewSsoProfile {
            name: "demo".into(),
            session_name: signed_in.session_name.clone(),
            start_url: signed_in.start_url.clone(),
            sso_region: signed_in.sso_region.clone(),
            account_id: signed_in.accounts[0].account_id.clone(),
            role_name: "PowerUserAccess".into(),
            region: Some("eu-west-3".into()),
        },
    )
    .unwrap();
    assert_eq!(profile.kind, ProfileKind::Sso);
    assert_eq!(
        read_profiles(&host).get("demo").unwrap().region.as_deref(),
        Some("eu-west-3")
    );

    // A cancel while the browser is out: the wait ends at once.
    let cancel = Cancel::new();
    let stopper = cancel.clone();
    let cancelled = sign_in(
        &host,
        &request(&standin, SignInMethod::Browser),
        &move |event| {
            if matches!(event, SsoSignInEvent::OpenBrowser { .. }) {
                stopper.cancel();
            }
        },
        &cancel,
        SystemTime::now(),
    )
    .await
    .unwrap_err();
    assert!(matches!(cancelled, EngineError::Cancelled), "{cancelled}");

    // A denied code: an error in plain words, and the earlier sign-in is kept.
    let denier = standin.clone();
    let denied = sign_in(
        &host,
        &request(&standin, SignInMethod::Code),
        &move |event| {
            if let SsoSignInEvent::ConfirmCode { user_code, .. } = event {
                denier.deny_code(&user_code);
            }
        },
        &Cancel::new(),
        SystemTime::now(),
    )
    .await
    .unwrap_err();
    assert!(denied.to_string().contains("denied"), "{denied}");
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    assert_eq!(kept["accessToken"], first_token.as_str());

    // A code that runs out: polls told to slow down wait 5 s more (RFC 8628), then the
    // expiry is said in plain words.
    standin.slow_down_next(1);
    let expirer = standin.clone();
    let started = std::time::Instant::now();
    let expired = sign_in(
        &host,
        &request(&standin, SignInMethod::Code),
        &move |event| {
            if let SsoSignInEvent::ConfirmCode { user_code, .. } = event {
                let expirer = expirer.clone();
                tokio::spawn(async move {
                    // After the slow-down answer, so the next poll is the one that hears it.
                    until(|| {
                        (expirer.calls().last().map(String::as_str) == Some("CreateToken"))
                            .then_some(())
                    })
                    .await;
                    expirer.expire_code(&user_code);
                });
            }
        },
        &Cancel::new(),
        SystemTime::now(),
    )
    .await
    .unwrap_err();
    assert!(expired.to_string().contains("expired"), "{expired}");
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "the slow-down was honoured"
    );

    // The code flow: pending until the user confirms the code on its page.
    let confirmer = standin.clone();
    let codes = Arc::new(Mutex::new(Vec::new()));
    let shown = codes.clone();
    let by_code = sign_in(
        &host,
        &request(&standin, SignInMethod::Code),
        &move |event| {
            if let SsoSignInEvent::ConfirmCode { user_code, url, .. } = event {
                shown.lock().unwrap().push(url);
                let confirmer = confirmer.clone();
                let before = confirmer.pending_answers();
                tokio::spawn(async move {
                    // Only once a poll has been told "not yet".
                    until(|| (confirmer.pending_answers() > before).then_some(())).await;
                    confirmer.confirm_code(&user_code);
                });
            }
        },
        &Cancel::new(),
        SystemTime::now(),
    )
    .await
    .expect("the code sign-in");
    assert_eq!(
        by_code.session_name, "sso",
        "the same portal keeps its session"
    );
    assert!(codes.lock().unwrap()[0].contains("user_code="));
    let calls = standin.calls();
    let pending_polls = calls
        .iter()
        .rev()
        .take_while(|c| *c != "StartDeviceAuthorization")
        .filter(|c| *c == "CreateToken")
        .count();
    assert!(pending_polls >= 2, "polled until confirmed: {calls:?}");

    // No token, refresh token or client secret in any line the log file would get (every
    // level, redacted as Slipway's log writer redacts each line).
    let raw = captured.text();
    let logs = slipway_aws::support::redact::redact(&raw).into_owned();
    let now_cached: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    for field in ["accessToken", "refreshToken", "clientSecret"] {
        let secret = now_cached[field].as_str().unwrap();
        let line = logs
            .lines()
            .find(|l| l.contains(secret))
            .unwrap_or_default();
        assert!(!logs.contains(secret), "{field} was logged: {line}");
    }
    assert!(!logs.contains(&first_token));
}

fn sha1_hex(text: &str) -> String {
    sha1_smol::Sha1::from(text).digest().to_string()
}

/// Waits (up to 20 s) for `probe` to give something.
async fn until<T>(probe: impl Fn() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(std::time::Instant::now() < deadline, "waited 20 s in vain");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
