//! `slipway service run` and `slipway service logs` as a user runs them against a service
//! Slipway did not make (a vendor's, its image in the registry that answers as ECR, its
//! tasks run by the test kit's Fargate stand-in): the command's output on stdout and its
//! exit code as the CLI's, streamed as JSON lines with `--json`; the service's log lines
//! read back; a command missing after `--` refused by the argument parser.

mod common;

use std::sync::Arc;

use common::{json, slipway};
use serde_json::Value;
use slipway_core::test_support::require;
use slipway_testkit::emulator::{
    direct_sdk, publish_busybox, remove_published, vendor_service_with_command,
};
use slipway_testkit::{FargateStandIn, FaultProxy};

const REGION: &str = "eu-west-2";

#[tokio::test(flavor = "multi_thread")]
async fn service_run_prints_the_output_and_exits_with_the_commands_code_and_logs_reads_it() {
    let (Some(endpoint), Some(_), Some(_)) = (
        require("SLIPWAY_TEST_AWS_ENDPOINT"),
        require("SLIPWAY_TEST_ECR_CA"),
        require("SLIPWAY_TEST_DOCKER_HOST"),
    ) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    common::emu_profile(home.path(), REGION);
    let prefix = format!("clirun{}", std::process::id());
    let image = publish_busybox(REGION, &format!("{prefix}/server"), "1.0");
    let made = vendor_service_with_command(
        &direct_sdk(&endpoint, REGION).await,
        &prefix,
        &[&image],
        &["sh", "-c", "echo server-ready; exec sleep 600"],
    )
    .await;
    // The stand-in reports exit codes through the proxy (moto cannot store them).
    let proxy = Arc::new(FaultProxy::start(&endpoint).await);
    let standin = FargateStandIn::start(&endpoint, REGION, proxy.clone()).await;
    let via = proxy.url();
    let home = home.path().to_owned();
    let named = [
        "--cluster".to_owned(),
        made.cluster.clone(),
        "--service".to_owned(),
        made.service.clone(),
        "--profile".to_owned(),
        "emu".to_owned(),
        "--endpoint-url".to_owned(),
        via.clone(),
    ];
    let cli = |verb: &str, json_out: bool, command: &[&str]| {
        let mut all: Vec<String> = vec!["service".into(), verb.into()];
        all.extend(named.iter().cloned());
        if json_out {
            all.push("--json".into());
        }
        if !command.is_empty() {
            all.push("--".into());
            all.extend(command.iter().map(|c| c.to_string()));
        }
        let home = home.clone();
        tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            slipway(&home, &refs, "")
        })
    };

    let (code, out, err) = cli("run", false, &["sh", "-c", "echo token-123"])
        .await
        .unwrap();
    assert_eq!(code, 0, "{err}\n{out}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["token-123"],
        "stdout is the command's output only, so it can be piped: {out}"
    );
    assert!(err.contains("finished (exit code 0)"), "{err}");

    let (code, out, err) = cli("run", false, &["sh", "-c", "echo about-to-fail; exit 3"])
        .await
        .unwrap();
    assert_eq!(code, 3, "the command's exit code is the CLI's: {err}");
    assert!(out.contains("about-to-fail"), "{out}");
    assert!(
        err.contains("failed") && err.contains("exit code 3"),
        "a failure is said, not only coded: {err}"
    );

    let (code, out, err) = cli("run", true, &["echo", "as-json"]).await.unwrap();
    assert_eq!(code, 0, "{err}");
    let lines: Vec<Value> = out.lines().map(json).collect();
    assert_eq!(lines[0]["event"]["type"], "TaskStarted", "{out}");
    assert!(
        lines
            .iter()
            .any(|l| l["event"]["type"] == "Output" && l["event"]["data"]["lines"][0] == "as-json"),
        "{out}"
    );
    let result = &lines.last().unwrap()["result"];
    assert_eq!(result["exitCode"], 0, "{out}");
    assert_eq!(result["output"], serde_json::json!(["as-json"]));
    assert_eq!(result["logGroup"], made.log_group.as_str());

    let (code, out, err) = cli("logs", false, &[]).await.unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("token-123") && out.contains("about-to-fail"),
        "the one-off tasks' lines are the service container's logs: {out}"
    );
    let (code, out, err) = cli("logs", true, &[]).await.unwrap();
    assert_eq!(code, 0, "{err}");
    let messages: Vec<String> = out
        .lines()
        .map(|l| json(l)["message"].as_str().unwrap().to_owned())
        .collect();
    assert!(messages.contains(&"as-json".to_owned()), "{out}");

    let (code, _, err) = cli("run", false, &[]).await.unwrap();
    assert_eq!(code, 2, "no command after --: {err}");
    standin.shut_down().await;
    remove_published(&image);
}
