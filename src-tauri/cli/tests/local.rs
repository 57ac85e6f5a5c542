//! The local verbs as a user runs them: `init`, `check`, `build`, `preview`, `releases`,
//! `rollback`, each a fresh process with its own HOME and data folder, against the test
//! environment's Docker engine.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use slipway_core::project::write_sample;
use slipway_core::test_support::require;

fn slipway(home: &Path, docker_host: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DOCKER_HOST", docker_host)
        .env("SLIPWAY_DATA_DIR", home.join("data"))
        .output()
        .expect("slipway runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The line of `preview --json` that names the preview (a build line comes first).
fn preview_line(stdout: &str) -> Value {
    stdout
        .lines()
        .map(json)
        .find(|v| v.get("preview").is_some())
        .unwrap_or_else(|| panic!("no preview line: {stdout}"))
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// A home folder holding `shop-api`, a project folder with a Dockerfile and no slipway.toml.
fn shop_api() -> (tempfile::TempDir, std::path::PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("shop-api");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("Dockerfile"),
        "FROM busybox:1.36\nEXPOSE 3000\nCMD [\"httpd\", \"-f\"]\n",
    )
    .unwrap();
    (home, dir)
}

#[test]
fn init_writes_a_valid_file_and_refuses_an_invalid_size_without_touching_it() {
    let (home, dir) = shop_api();
    let d = dir.to_str().unwrap();
    let (code, out, err) = slipway(
        home.path(),
        "unix:///nonexistent",
        &["init", d, "--yes", "--json", "--env", "MODE=demo"],
    );
    assert_eq!(code, 0, "{err}");
    let written = json(&out);
    assert_eq!(
        written["config"]["name"], "shop-api",
        "the folder name is the proposal"
    );
    assert_eq!(
        written["config"]["port"], 3000,
        "the port comes from EXPOSE"
    );
    let before = std::fs::read_to_string(dir.join("slipway.toml")).unwrap();
    assert!(before.contains("MODE = \"demo\""), "{before}");

    let (code, out, err) = slipway(
        home.path(),
        "unix:///nonexistent",
        &[
            "init", d, "--yes", "--json", "--cpu", "1024", "--memory", "512",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(json(&out)["error"]["code"], "InvalidProjectConfig");
    assert!(
        err.contains("task.memory"),
        "the message names the field: {err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("slipway.toml")).unwrap(),
        before,
        "a refused init leaves the file as it was"
    );
}

#[test]
fn init_with_the_stable_address_writes_its_options_and_refuses_them_without_it() {
    let (home, dir) = shop_api();
    let d = dir.to_str().unwrap();
    // Without the load balancer, its options are refused and nothing is written.
    let (code, out, _) = slipway(
        home.path(),
        "unix:///nonexistent",
        &["init", d, "--yes", "--json", "--sticky-seconds", "3600"],
    );
    assert_eq!(code, 1);
    assert_eq!(json(&out)["error"]["code"], "InvalidProjectConfig");
    assert!(!dir.join("slipway.toml").exists());
    let (code, out, err) = slipway(
        home.path(),
        "unix:///nonexistent",
        &[
            "init",
            d,
            "--yes",
            "--json",
            "--load-balancer",
            "--domain",
            "shop.example.com",
            "--tasks",
            "2",
            "--sticky-seconds",
            "3600",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let aws = &json(&out)["config"]["aws"];
    assert_eq!(aws["loadBalancer"], true);
    assert_eq!(aws["domain"], "shop.example.com");
    assert_eq!(aws["tasks"], 2);
    assert_eq!(aws["stickySeconds"], 3600);
    let text = std::fs::read_to_string(dir.join("slipway.toml")).unwrap();
    assert!(
        text.contains("load_balancer = true") && text.contains("sticky_seconds = 3600"),
        "{text}"
    );
}

#[test]
fn init_with_an_image_makes_its_folder_names_the_app_and_a_new_tag_upgrades_it() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("vendors").join("dbward");
    let d = dir.to_str().unwrap();
    let (code, out, err) = slipway(
        home.path(),
        "unix:///nonexistent",
        &[
            "init",
            d,
            "--image",
            "ghcr.io/dbward-dev/dbward-server:v0.1.2",
            "--port",
            "3000",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let written = json(&out);
    assert_eq!(
        written["config"]["image"],
        "ghcr.io/dbward-dev/dbward-server:v0.1.2"
    );
    assert_eq!(
        written["config"]["name"], "dbward-server",
        "a new image project is named after the image"
    );
    let text = std::fs::read_to_string(dir.join("slipway.toml")).unwrap();
    assert!(
        text.contains("image = \"ghcr.io/dbward-dev/dbward-server:v0.1.2\"")
            && !text.contains("dockerfile"),
        "the file names the image and no Dockerfile: {text}"
    );

    let (code, out, err) = slipway(
        home.path(),
        "unix:///nonexistent",
        &[
            "init",
            d,
            "--image",
            "ghcr.io/dbward-dev/dbward-server:v0.1.3",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let upgraded = json(&out);
    assert_eq!(
        upgraded["config"]["image"],
        "ghcr.io/dbward-dev/dbward-server:v0.1.3"
    );
    assert_eq!(
        upgraded["config"]["port"], 3000,
        "an upgrade keeps the other settings"
    );

    let elsewhere = home.path().join("bad");
    let (code, out, err) = slipway(
        home.path(),
        "unix:///nonexistent",
        &[
            "init",
            elsewhere.to_str().unwrap(),
            "--image",
            "ghcr.io/Dbward/server:",
            "--json",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(json(&out)["error"]["code"], "InvalidProjectConfig");
    assert!(err.contains("image"), "the message names the field: {err}");
    assert!(
        err.contains("Nothing follows the ':'"),
        "and what is wrong with it: {err}"
    );
    assert!(!elsewhere.exists(), "a refused image makes no folder");
}

#[test]
fn build_preview_releases_and_rollback_from_the_command_line() {
    let Some(docker_host) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("site");
    write_sample(&dir).unwrap();
    let app = format!("cli{}", std::process::id());
    let d = dir.to_str().unwrap();
    let run = |args: &[&str]| slipway(home.path(), &docker_host, args);
    let (code, _, err) = run(&["init", d, "--yes", "--name", &app]);
    assert_eq!(code, 0, "{err}");

    let (code, out, _) = run(&["check", d, "--json"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(json(&out)["ok"], true);

    let (code, out, err) = run(&["build", d]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Step 1/"), "steps are printed: {out}");
    let first_page = std::fs::read_to_string(dir.join("site/index.html")).unwrap();
    std::fs::write(dir.join("site/index.html"), "<h1>two</h1>").unwrap();
    let (code, _, err) = run(&["build", d]);
    assert_eq!(code, 0, "{err}");

    let (code, out, _) = run(&["releases", "--local", d, "--json"]);
    assert_eq!(code, 0);
    let releases = json(&out);
    let versions: Vec<String> = releases["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(versions.len(), 2, "{out}");

    let (code, out, err) = run(&["preview", d, "--detach", "--json"]);
    assert_eq!(code, 0, "{err}");
    let started = preview_line(&out);
    assert_eq!(
        started["preview"]["version"],
        versions[0].as_str(),
        "the release with the folder's content runs"
    );

    let (code, out, err) = run(&["rollback", "--local", d, "--json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        json(&out)["version"],
        versions[1].as_str(),
        "rollback runs the release before the running one"
    );

    let (code, out, _) = run(&["preview", d, "--stop", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(json(&out)["stopped"], true);
    let (_, out, _) = run(&["releases", "--local", d, "--json"]);
    assert_eq!(
        json(&out)["running"],
        Value::Null,
        "nothing runs after --stop"
    );

    // The edit is undone: the folder holds the first release's content again, and the
    // preview runs that release, not the newest build.
    std::fs::write(dir.join("site/index.html"), &first_page).unwrap();
    let (code, out, err) = run(&["preview", d, "--detach"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("build: {} is up to date", versions[1])),
        "says which release has the folder's content: {out}"
    );
    assert!(
        out.contains(&format!("{app} {} is running at", versions[1])),
        "{out}"
    );
    let (code, _, _) = run(&["preview", d, "--stop"]);
    assert_eq!(code, 0);

    let _ = Command::new("docker")
        .args([
            "rmi",
            "-f",
            &format!("{app}:{}", versions[0]),
            &format!("{app}:{}", versions[1]),
            &format!("{app}:latest"),
        ])
        .env("DOCKER_HOST", &docker_host)
        .output();
}
