//! Running the `slipway` binary as a user would: a fresh process with its own HOME and
//! data folder, the test environment's Docker engine, and the given stdin.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

/// The `slipway` binary with `args`, as a fresh shell in `home` would start it.
pub fn command(home: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_slipway"));
    command
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SLIPWAY_DATA_DIR", home.join("data"))
        .env(
            "DOCKER_HOST",
            std::env::var("SLIPWAY_TEST_DOCKER_HOST")
                .unwrap_or_else(|_| "unix:///var/run/docker.sock".into()),
        );
    command
}

pub fn slipway(home: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    run(command(home, args), stdin)
}

/// As [`slipway`], logging everything at TRACE (to the log file and stderr, redacted as
/// always): a test that no secret reaches a log sees every line there could be.
pub fn slipway_traced(home: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut traced = command(home, args);
    traced.env("SLIPWAY_LOG", "trace");
    run(traced, stdin)
}

fn run(mut command: Command, stdin: &str) -> (i32, String, String) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("slipway runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// An `emu` profile for the emulator (any keys; moto accepts them) in `region`, written to
/// the AWS files under `home`.
pub fn emu_profile(home: &Path, region: &str) {
    slipway_core::test_support::write_aws_files(
        home,
        &format!("[profile emu]\nregion = {region}\n"),
        "[emu]\naws_access_key_id = AKIAEMULATOR0000001\naws_secret_access_key = x\n",
    );
}
