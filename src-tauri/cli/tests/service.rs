//! `slipway service` as a user runs it against a service Slipway did not make (a vendor's,
//! two revisions): listed, scaled, rolled back, described as JSON, and a service that is
//! not there refused with its name.

mod common;

use common::{json, slipway};
use slipway_core::test_support::require;
use slipway_testkit::emulator::{direct_sdk, vendor_service};

#[tokio::test]
async fn service_lists_scales_and_rolls_back_a_service_slipway_did_not_make() {
    let Some(endpoint) = require("SLIPWAY_TEST_AWS_ENDPOINT") else {
        return;
    };
    const REGION: &str = "ap-northeast-2";
    let home = tempfile::tempdir().unwrap();
    common::emu_profile(home.path(), REGION);
    let prefix = format!("cli{}", std::process::id());
    let made = vendor_service(
        &direct_sdk(&endpoint, REGION).await,
        &prefix,
        &["vendor/server:1.0", "vendor/server:1.1"],
    )
    .await;
    let target = ["--profile", "emu", "--endpoint-url", endpoint.as_str()];
    let named = [
        "--cluster",
        made.cluster.as_str(),
        "--service",
        made.service.as_str(),
    ];
    let run = |verb: &[&str], json_out: bool| {
        let mut args = vec!["service"];
        args.extend(verb);
        args.extend(target);
        if json_out {
            args.push("--json");
        }
        slipway(home.path(), &args, "")
    };

    let (code, out, err) = run(&["list"], false);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!(
            "server in cluster {}: 0 of 1 running, revision 2",
            made.cluster
        )),
        "{out}"
    );

    let scale: Vec<&str> = ["scale", "2"].into_iter().chain(named).collect();
    let (code, out, err) = run(&scale, true);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        json(&out),
        serde_json::json!({ "from": 1, "to": 2, "changed": true })
    );
    let (code, out, err) = run(&scale, false);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("tasks is already 2; nothing changed"), "{out}");

    let rollback: Vec<&str> = ["rollback"].into_iter().chain(named).collect();
    let (code, out, err) = run(&rollback, false);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("server: revision 2 → 1"), "{out}");

    let ps: Vec<&str> = ["ps"].into_iter().chain(named).collect();
    let (code, out, err) = run(&ps, true);
    assert_eq!(code, 0, "{err}");
    let view = json(&out);
    assert_eq!(view["revision"], 1);
    assert_eq!(view["desired"], 2);
    assert_eq!(view["logGroup"], made.log_group.as_str());
    let (code, out, err) = run(&ps, false);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("logs in {}", made.log_group)),
        "{out}"
    );

    let (code, out, err) = run(
        &[
            "scale",
            "1",
            "--cluster",
            &made.cluster,
            "--service",
            "nope",
        ],
        true,
    );
    assert_eq!(code, 1, "{out}");
    assert_eq!(json(&out)["error"]["code"], "ServiceNotFound");
    assert!(err.contains("no active service nope"), "{err}");
}
