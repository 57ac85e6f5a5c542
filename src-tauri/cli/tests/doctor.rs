//! `slipway doctor` as a user runs it: a fresh process with its own HOME and AWS files.

use std::process::Command;

use serde_json::Value;
use slipway_core::test_support::{require, write_aws_files};

fn doctor(home: &std::path::Path, extra_env: &[(&str, &str)], args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .arg("doctor")
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(extra_env.iter().copied())
        .output()
        .expect("slipway runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn json_report_names_the_account_the_emulator_reports_and_the_docker_version() {
    let (Some(endpoint), Some(docker_host)) = (
        require("SLIPWAY_TEST_AWS_ENDPOINT"),
        require("SLIPWAY_TEST_DOCKER_HOST"),
    ) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    write_aws_files(
        home.path(),
        "[default]
region = us-west-2
",
        "[default]
aws_access_key_id = AKIATEST
aws_secret_access_key = x
",
    );
    let (code, stdout) = doctor(
        home.path(),
        &[("DOCKER_HOST", &docker_host)],
        &["--json", "--endpoint-url", &endpoint],
    );
    let report: Value = serde_json::from_str(&stdout).expect("--json prints one JSON document");
    assert_eq!(report["identity"]["state"], "verified", "{report}");
    assert_eq!(report["identity"]["identity"]["account"], "123456789012");
    assert_eq!(report["identity"]["identity"]["region"], "us-west-2");
    assert_eq!(report["docker"]["state"], "running");
    assert_eq!(code, 0, "everything is ready");
}

#[test]
fn a_dead_docker_host_and_a_malformed_file_exit_1_with_the_fix_in_words() {
    let home = tempfile::tempdir().unwrap();
    write_aws_files(
        home.path(),
        "[default]
region us-east-1
",
        "",
    );
    let dead = format!("unix://{}/dead.sock", home.path().display());
    let (code, stdout) = doctor(home.path(), &[("DOCKER_HOST", &dead)], &["--no-identity"]);
    assert_eq!(code, 1, "not ready: {stdout}");
    assert!(stdout.contains("not running at"), "{stdout}");
    assert!(
        stdout.contains("config line 2"),
        "names the file and line: {stdout}"
    );
}
