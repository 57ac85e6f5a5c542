//! `slipway stack` as a user runs it with a vendor's three templates (tests/fixtures/stacks)
//! against the emulator: a value the form refuses stops it before any call, the review
//! names what is made, what stays and the capabilities, `--yes` creates and prints the
//! outputs, the next stack takes them, an update shows its change set, a delete says what
//! stays; the NoEcho password (read from stdin) in no output, log or data file.

mod common;

use common::{json, slipway_traced};
use slipway_core::test_support::require;
use slipway_testkit::emulator::{default_subnets, default_vpc_id, direct_sdk};

/// With the characters that XML, JSON and form encoding each write differently.
const PASSWORD: &str = "cli horse & <battery> +42";

/// The password as it could appear: as typed, XML-escaped, form-encoded, JSON-escaped.
fn leaked(text: &str) -> bool {
    [
        PASSWORD.to_owned(),
        PASSWORD
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;"),
        PASSWORD
            .replace('%', "%25")
            .replace('+', "%2B")
            .replace(' ', "+")
            .replace('&', "%26")
            .replace('<', "%3C")
            .replace('>', "%3E"),
        PASSWORD.replace('<', "\\u003c").replace('>', "\\u003e"),
    ]
    .iter()
    .any(|form| text.contains(form.as_str()))
}
const REGION: &str = "eu-south-1";

fn fixture(name: &str) -> String {
    format!(
        "{}/../../tests/fixtures/stacks/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[tokio::test]
async fn three_vendor_stacks_deploy_chain_update_and_delete_through_the_cli() {
    let Some(endpoint) = require("SLIPWAY_TEST_AWS_ENDPOINT") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    common::emu_profile(home.path(), REGION);
    let sdk = direct_sdk(&endpoint, REGION).await;
    slipway_testkit::emulator::give_default_vpc_an_internet_route(&sdk).await;
    let vpc = default_vpc_id(&sdk).await;
    let subnets = default_subnets(&sdk, 2).await;
    let prefix = format!("cli{}", std::process::id());
    let (server, agent, storage) = (
        format!("{prefix}-server"),
        format!("{prefix}-agent"),
        format!("{prefix}-storage"),
    );
    let target = ["--profile", "emu", "--endpoint-url", endpoint.as_str()];
    let stack = |verb: &[&str], stdin: &str| {
        let mut args = vec!["stack"];
        args.extend(verb);
        args.extend(target);
        slipway_traced(home.path(), &args, stdin)
    };
    let (server_file, agent_file, storage_file) = (
        fixture("server.yaml"),
        fixture("agent.yaml"),
        fixture("storage.yaml"),
    );
    let vpc_param = format!("VpcId={vpc}");
    let subnets_param = format!("SubnetIds={subnets}");
    let deploy_server = |tag: &str, extra: &[&str]| {
        let tag = format!("ImageTag={tag}");
        let mut args = vec![
            "deploy",
            server_file.as_str(),
            "--name",
            server.as_str(),
            "--param",
            vpc_param.as_str(),
            "--param",
            subnets_param.as_str(),
            "--param",
        ];
        args.push(&tag);
        args.extend(extra);
        stack(&args, &format!("{PASSWORD}\n"))
    };

    // A refused value stops it before any call: nothing is made.
    let (code, out, err) = deploy_server("1.4", &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        err.contains("ImageTag") && err.contains("latest or a version"),
        "{err}"
    );
    let (code, _, err) = stack(&["status", server.as_str()], "");
    assert_eq!(code, 1);
    assert!(err.contains("is not in"), "{err}");

    // The review: what it makes, what stays, what must be acknowledged; nothing made.
    let (code, out, err) = deploy_server("v1.4.2", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Create stack"), "{out}");
    assert!(out.contains("DatabasePassword = ****"), "{out}");
    assert!(out.contains("acknowledges CAPABILITY_NAMED_IAM"), "{out}");
    assert!(out.contains("(stays when the stack is deleted)"), "{out}");
    assert!(out.contains("run again with --yes"), "{out}");
    assert_eq!(stack(&["status", server.as_str()], "").0, 1, "nothing made");

    // Created, with its events and outputs as JSON lines.
    let (code, out, err) = deploy_server("v1.4.2", &["--yes", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !leaked(&out) && !leaked(&err),
        "the password is in the output"
    );
    let result = json(out.lines().last().unwrap());
    assert_eq!(result["result"]["status"], "CREATE_COMPLETE", "{out}");
    let (code, out, err) = stack(&["outputs", server.as_str(), "--json"], "");
    assert_eq!(code, 0, "{err}");
    let outputs = json(&out);
    let output = |key: &str| -> String {
        outputs
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["key"] == key)
            .unwrap_or_else(|| panic!("{key} in {outputs}"))["value"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let url = output("ServerUrl");
    assert!(url.starts_with("http"), "{url}");

    // The agent takes the server's outputs.
    let (server_url, cluster, group) = (
        format!("ServerUrl={url}"),
        format!("ClusterName={}", output("ClusterName")),
        format!("ServerSecurityGroupId={}", output("ServerSecurityGroupId")),
    );
    let (code, out, err) = stack(
        &[
            "deploy",
            &agent_file,
            "--name",
            &agent,
            "--param",
            &server_url,
            "--param",
            &cluster,
            "--param",
            &group,
            "--param",
            &vpc_param,
            "--param",
            &subnets_param,
            "--yes",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("{agent}: created")), "{out}");
    let (code, out, err) = stack(&["deploy", &storage_file, "--name", &storage, "--yes"], "");
    assert_eq!(code, 0, "{err}\n{out}");

    // An upgrade: the change set is shown first, the password kept by CloudFormation.
    let upgrade = |extra: &[&str]| {
        let mut args = vec![
            "deploy",
            server_file.as_str(),
            "--name",
            server.as_str(),
            "--param",
            "ImageTag=v1.5.0",
        ];
        args.extend(extra);
        stack(&args, "")
    };
    let (code, out, err) = upgrade(&[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Update stack"), "{out}");
    assert!(out.contains("DatabasePassword = (unchanged)"), "{out}");
    let (code, out, err) = upgrade(&["--yes"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("{server}: updated")), "{out}");

    // Deleting says what stays first.
    let (code, out, err) = stack(&["delete", storage.as_str()], "");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("stays:") && out.contains("AWS::S3::Bucket"),
        "{out}"
    );
    for name in [&storage, &agent, &server] {
        let (code, out, err) = stack(&["delete", name.as_str(), "--yes"], "");
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(&format!("{name}: deleted")), "{out}");
    }

    // The password: in no log (everything at TRACE was logged) and nowhere in the data
    // folder.
    let mut stack_dirs = vec![home.path().join("data")];
    while let Some(dir) = stack_dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack_dirs.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !leaked(&String::from_utf8_lossy(&bytes)),
                    "the password is in {}",
                    path.display()
                );
            }
        }
    }
}
