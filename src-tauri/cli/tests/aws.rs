//! The AWS verbs as a user runs them, each a fresh process with its own HOME and data
//! folder: `aws add-profile` (secret on stdin), `aws profiles`, `aws endpoint`,
//! `aws whoami`, `setup [--apply]` and `teardown [--apply]` against the emulator.

mod common;

use common::{json, slipway};
use serde_json::Value;
use slipway_core::project::write_sample;
use slipway_core::test_support::require;

const SECRET: &str = "cliSecret/0123456789abcdefghijklmnopqrstu";

#[test]
fn add_profile_reads_the_secret_from_stdin_writes_it_owner_only_and_never_prints_it() {
    let home = tempfile::tempdir().unwrap();
    let (code, out, err) = slipway(
        home.path(),
        &[
            "aws",
            "add-profile",
            "demo",
            "--access-key-id",
            "AKIACLITEST000000001",
            "--region",
            "eu-west-2",
            "--json",
        ],
        &format!("{SECRET}\n"),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["name"], "demo");
    assert!(
        !out.contains(SECRET) && !err.contains(SECRET),
        "the secret is never printed"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.path().join(".aws/credentials"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (code, out, _) = slipway(home.path(), &["aws", "profiles"], "");
    assert_eq!(code, 0);
    assert!(out.contains("demo") && out.contains("eu-west-2"), "{out}");
    assert!(!out.contains(SECRET));

    let (code, out, err) = slipway(
        home.path(),
        &[
            "aws",
            "add-profile",
            "demo",
            "--access-key-id",
            "AKIACLITEST000000001",
            "--json",
        ],
        &format!("{SECRET}\n"),
    );
    assert_eq!(code, 1);
    assert_eq!(json(&out)["error"]["code"], "ProfileExists", "{err}");

    let log = std::fs::read_to_string(home.path().join("data/logs/slipway.log"))
        .expect("the CLI writes its log file");
    assert!(log.contains("added an access key profile"), "{log}");
    assert!(
        !log.contains(SECRET),
        "the secret never reaches the log file"
    );
}

#[tokio::test]
async fn setup_plans_applies_and_tears_down_the_sample_against_the_emulator() {
    let Some(endpoint) = require("SLIPWAY_TEST_AWS_ENDPOINT") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    common::emu_profile(home.path(), "us-east-2");
    let dir = home.path().join("site");
    write_sample(&dir).unwrap();
    let toml = std::fs::read_to_string(dir.join("slipway.toml")).unwrap();
    let app = format!("cli{}", std::process::id());
    std::fs::write(
        dir.join("slipway.toml"),
        toml.replace("name = \"hello-site\"", &format!("name = \"{app}\""))
            + "\n[aws]\nprofile = \"emu\"\n",
    )
    .unwrap();
    let d = dir.to_str().unwrap();
    // As a real default VPC has (moto's has no internet gateway route).
    slipway_testkit::emulator::give_region_an_internet_route(&endpoint, "us-east-2").await;

    let (code, out, err) = slipway(home.path(), &["aws", "endpoint", &endpoint, "--json"], "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["awsEndpointUrl"], endpoint.as_str());
    let (code, out, err) = slipway(
        home.path(),
        &["aws", "whoami", "--profile", "emu", "--json"],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        json(&out)["account"],
        "123456789012",
        "the saved endpoint is used"
    );

    let (code, out, err) = slipway(home.path(), &["setup", "--project", d], "");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("AWS account 123456789012 in us-east-2"),
        "the account banner comes first: {out}"
    );
    assert!(out.contains("will be created"), "{out}");
    assert!(
        out.contains("open to the whole internet"),
        "0.0.0.0/0 is warned about: {out}"
    );

    let (code, out, err) = slipway(
        home.path(),
        &["setup", "--project", d, "--apply", "--json"],
        "",
    );
    assert_eq!(
        code, 0,
        "every resource is ready, so the exit code says success: {err}"
    );
    let lines: Vec<Value> = out.lines().map(json).collect();
    assert!(
        lines
            .iter()
            .any(|l| l["event"]["type"] == "ResourceStarted"),
        "{err}"
    );
    let resources = lines.last().unwrap()["result"]["resources"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(resources.len(), 6);
    for resource in &resources {
        assert_eq!(resource["state"]["state"], "ready", "{resource}");
    }
    let (code, out, _) = slipway(home.path(), &["setup", "--project", d], "");
    assert_eq!(code, 0);
    assert!(
        out.contains("nothing to do"),
        "a second plan finds nothing to do: {out}"
    );

    let (code, out, _) = slipway(home.path(), &["teardown", "--project", d, "--json"], "");
    assert_eq!(code, 0);
    assert!(!json(&out)["items"].as_array().unwrap().is_empty());
    let (code, out, err) = slipway(home.path(), &["teardown", "--project", d, "--apply"], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("nothing of {app}")), "{out}");
}

/// Reads the child's stderr line by line until `find` picks something out of a line.
fn watch_stderr(
    child: &mut std::process::Child,
    find: impl Fn(&str) -> Option<String> + Send + 'static,
) -> (String, std::thread::JoinHandle<String>) {
    use std::io::BufRead;
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufReader::new(stderr).lines() {
            let line = line.unwrap_or_default();
            if let Some(found) = find(&line) {
                let _ = tx.send(found);
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let found = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the CLI said what to open");
    (found, reader)
}

/// How the user answers `slipway aws sso-login` in the test: confirming the code it prints,
/// or following the address it prints in the browser.
enum User {
    ConfirmsCode,
    FollowsBrowser,
}

/// Runs `slipway ARGS` against the SSO stand-in, answers as `user` does, and returns the
/// exit status, stdout and stderr.
async fn sso_login(
    home: &std::path::Path,
    standin: &slipway_testkit::sso::SsoStandIn,
    args: &[&str],
    user: User,
) -> (bool, String, String) {
    use std::process::Stdio;
    let mut child = common::command(home, args)
        .env("AWS_ENDPOINT_URL_SSO_OIDC", standin.url())
        .env("AWS_ENDPOINT_URL_SSO", standin.url())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    match user {
        User::ConfirmsCode => {
            let (code, reader) = watch_stderr(&mut child, |line| {
                let rest = line.split("shows the code ").nth(1)?;
                Some(rest.split(',').next().unwrap().to_owned())
            });
            standin.confirm_code(&code);
            finish(child, reader).await
        }
        User::FollowsBrowser => {
            let (page, reader) = watch_stderr(&mut child, |line| {
                line.starts_with("http://").then(|| line.to_owned())
            });
            assert!(standin
                .browser(&page)
                .await
                .contains("Slipway has your sign-in"));
            finish(child, reader).await
        }
    }
}

async fn finish(
    child: std::process::Child,
    reader: std::thread::JoinHandle<String>,
) -> (bool, String, String) {
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let err = reader.join().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        err,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_login_adds_a_profile_by_code_and_signs_it_in_again_by_browser() {
    let standin = slipway_testkit::sso::SsoStandIn::start().await;
    let home = tempfile::tempdir().unwrap();
    let start_url = standin.start_url();
    let new_profile = [
        "aws",
        "sso-login",
        "demo",
        "--start-url",
        &start_url,
        "--sso-region",
        "eu-west-1",
        "--code",
    ];

    // Several accounts and no --account: refused with the choices, nothing saved.
    let (ok, out, err) = sso_login(home.path(), &standin, &new_profile, User::ConfirmsCode).await;
    assert!(!ok, "{out}");
    assert!(
        err.contains("Demo apps (111122223333)") && err.contains("Production (444455556666)"),
        "{err}"
    );
    assert!(!home.path().join(".aws/config").exists());

    let mut args = new_profile.to_vec();
    args.extend([
        "--account",
        "Demo apps",
        "--role",
        "ReadOnlyAccess",
        "--region",
        "eu-west-3",
        "--json",
    ]);
    let (ok, out, err) = sso_login(home.path(), &standin, &args, User::ConfirmsCode).await;
    assert!(ok, "{err}");
    let profile = json(&out);
    assert_eq!(profile["name"], "demo");
    assert_eq!(profile["kind"], "Sso");
    assert_eq!(profile["region"], "eu-west-3");
    let config = std::fs::read_to_string(home.path().join(".aws/config")).unwrap();
    assert!(
        config.contains("sso_account_id = 111122223333\nsso_role_name = ReadOnlyAccess\n"),
        "{config}"
    );
    let cache = home.path().join(".aws/sso/cache");
    let first_file = std::fs::read_dir(&cache)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let first = json(&std::fs::read_to_string(first_file).unwrap());

    // Signing the same profile in again: the browser this time, and nothing new written.
    let (ok, out, err) = sso_login(
        home.path(),
        &standin,
        &["aws", "sso-login", "demo"],
        User::FollowsBrowser,
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(
        std::fs::read_to_string(home.path().join(".aws/config")).unwrap(),
        config
    );
    let tokens: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
    assert_eq!(tokens.len(), 1, "the session's one cache file, renewed");
    let cached = std::fs::read_to_string(tokens[0].as_ref().unwrap().path()).unwrap();
    assert_ne!(
        json(&cached)["accessToken"],
        first["accessToken"],
        "a new token"
    );
    let token = json(&cached)["accessToken"].as_str().unwrap().to_owned();
    assert!(
        !out.contains(&token) && !err.contains(&token),
        "the token is never printed"
    );
}

#[test]
fn secret_create_reads_the_value_from_stdin_prints_the_arn_and_never_the_value() {
    let Some(endpoint) = require("SLIPWAY_TEST_AWS_ENDPOINT") else {
        return;
    };
    const VALUE: &str = "sk_live_0123456789abcdef";
    let home = tempfile::tempdir().unwrap();
    common::emu_profile(home.path(), "ap-south-1");
    let dir = home.path().join("site");
    write_sample(&dir).unwrap();
    let toml = std::fs::read_to_string(dir.join("slipway.toml")).unwrap();
    std::fs::write(
        dir.join("slipway.toml"),
        toml + "\n[aws]\nprofile = \"emu\"\n",
    )
    .unwrap();
    let d = dir.to_str().unwrap();
    let name = format!("cli{}/stripe-key", std::process::id());
    let place = ["--project", d, "--endpoint-url", endpoint.as_str()];

    let mut args = vec!["secret", "create", name.as_str(), "--json"];
    args.extend(place);
    let (code, out, err) = slipway(home.path(), &args, &format!("{VALUE}\n"));
    assert_eq!(code, 0, "{err}");
    let arn = json(&out)["arn"].as_str().unwrap().to_owned();
    assert!(
        arn.starts_with("arn:aws:secretsmanager:ap-south-1:123456789012:secret:"),
        "{arn}"
    );
    assert!(!out.contains(VALUE) && !err.contains(VALUE));

    let (code, out, err) = slipway(home.path(), &args, &format!("{VALUE}\n"));
    assert_ne!(code, 0, "a second create is refused: {out}");
    assert!(err.contains("already has one by that name"), "{err}");

    let mut list = vec!["secret", "list"];
    list.extend(place);
    let (code, out, err) = slipway(home.path(), &list, "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&name) && out.contains(&arn), "{out}");
    assert!(!out.contains(VALUE));
    let log =
        std::fs::read_to_string(home.path().join("data/logs/slipway.log")).unwrap_or_default();
    assert!(!log.contains(VALUE), "the value is in no log");
}

#[test]
fn secret_import_creates_one_secret_per_variable_and_names_them_in_slipway_toml() {
    let Some(endpoint) = require("SLIPWAY_TEST_AWS_ENDPOINT") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    common::emu_profile(home.path(), "sa-east-1");
    let dir = home.path().join("site");
    write_sample(&dir).unwrap();
    let app = format!("imp{}", std::process::id());
    let toml = std::fs::read_to_string(dir.join("slipway.toml")).unwrap();
    std::fs::write(
        dir.join("slipway.toml"),
        toml.replace("name = \"hello-site\"", &format!("name = \"{app}\""))
            + "\n[aws]\nprofile = \"emu\"\n",
    )
    .unwrap();
    let d = dir.to_str().unwrap();
    let env = home.path().join(".env");
    let place = ["--project", d, "--endpoint-url", endpoint.as_str()];

    // A line that is no variable: named by number, nothing created.
    std::fs::write(&env, "GOOD=1\nnot a line\n").unwrap();
    let mut args = vec![
        "secret",
        "import",
        env.to_str().unwrap(),
        "--parameter-store",
    ];
    args.extend(place);
    let (code, _, err) = slipway(home.path(), &args, "");
    assert_ne!(code, 0);
    assert!(
        err.contains("line 2") && err.contains("nothing was created"),
        "{err}"
    );

    std::fs::write(
        &env,
        "# production\nDATABASE_URL=postgres://u:imp0rt-pw@db/app\nexport API_TOKEN='tok en'\nTLS_KEY=\"-----BEGIN-----\nsecret-line\n-----END-----\"\n",
    )
    .unwrap();
    args.push("--json");
    let (code, out, err) = slipway(home.path(), &args, "");
    assert_eq!(code, 0, "{err}");
    let imported = json(&out);
    let variables: Vec<&str> = imported
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["variable"].as_str().unwrap())
        .collect();
    assert_eq!(variables, ["DATABASE_URL", "API_TOKEN", "TLS_KEY"]);
    for secret in ["imp0rt-pw", "tok en", "secret-line"] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "a value was printed"
        );
    }
    let config = slipway_core::project::load(&dir).unwrap().unwrap();
    let arn = |variable: &str| {
        config
            .secrets
            .iter()
            .find(|r| r.name == variable)
            .map(|r| r.value.clone())
    };
    assert_eq!(
        arn("TLS_KEY").as_deref(),
        Some(format!("arn:aws:ssm:sa-east-1:123456789012:parameter/{app}/tls-key").as_str())
    );
    assert!(arn("DATABASE_URL").is_some() && arn("API_TOKEN").is_some());

    // The same file again: the first name is taken, so nothing is created or changed.
    let before = std::fs::read_to_string(dir.join("slipway.toml")).unwrap();
    let (code, _, err) = slipway(home.path(), &args, "");
    assert_ne!(code, 0);
    assert!(err.contains("Nothing was created"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("slipway.toml")).unwrap(),
        before
    );
}
