//! `slipway cost`: without AWS, the estimate for the sample project at the bundled prices,
//! with their source and date, and with a load balancer and scaling, for people and as
//! JSON; against the emulator, what runs now: a load balancer left with no task.

mod common;

use std::path::Path;

use common::{json, slipway};
use slipway_core::project::{self, write_sample};
use slipway_core::test_support::require;

#[test]
fn cost_prints_the_estimate_with_its_prices_source_and_date() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("site");
    write_sample(&dir).unwrap();
    let d = dir.to_str().unwrap();

    let (code, out, err) = slipway(
        home.path(),
        &["cost", "--project", d, "--offline", "--json"],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let sheet = json(&out);
    // The sample is 0.25 vCPU / 512 MiB x86; no AWS configuration means us-east-1.
    assert_eq!(sheet["inputs"]["region"], "us-east-1");
    let per_hour = sheet["estimate"]["perHour"].as_f64().unwrap();
    assert!(
        (per_hour - 0.0173425).abs() < 1e-9,
        "compute 0.0123425 + public IPv4 0.005: {per_hour}"
    );
    assert_eq!(sheet["prices"]["source"], "Bundled");
    assert_eq!(sheet["prices"]["asOf"], "2026-11-01");
    assert_eq!(sheet["sizes"].as_array().unwrap().len(), 74);

    let (code, out, err) = slipway(
        home.path(),
        &[
            "cost",
            "--project",
            d,
            "--offline",
            "--hours-per-week",
            "10",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("10 hours a week"), "{out}");
    assert!(out.contains("always on it would be"), "{out}");
    assert!(out.contains("Public IPv4 addresses"), "{out}");
    assert!(out.contains("dated 2026-11-01"), "{out}");

    let (code, _, err) = slipway(
        home.path(),
        &[
            "cost",
            "--project",
            d,
            "--offline",
            "--hours-per-week",
            "200",
        ],
        "",
    );
    assert_eq!(code, 1);
    assert!(err.contains("outside 0 to 168"), "{err}");
}

/// The sample project in `dir`, with `change` made to its settings and saved.
fn sample_with(dir: &Path, change: impl FnOnce(&mut slipway_core::project::ProjectConfig)) {
    write_sample(dir).unwrap();
    let mut config = project::load(dir).unwrap().unwrap();
    change(&mut config);
    project::save(dir, &config).unwrap();
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// The smallest x86 task in us-east-1 with its public IPv4, and the ALB's hour with one
/// LCU and two public IPv4 addresses, from the bundled table.
const TASK_HOUR: f64 = 0.0173425;
const LB_HOUR: f64 = 0.0225 + 0.008 + 2.0 * 0.005;
/// A month of the default 1 GB of logs: ingested, and kept 30 days.
const LOGS_MONTH: f64 = 0.5 + 30.0 * 24.0 / 730.0 * 0.03;

#[test]
fn cost_prices_the_stable_address_for_the_tasks_slipway_toml_runs_and_its_scaling_range() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("site");
    sample_with(&dir, |c| {
        c.aws.load_balancer = true;
        c.aws.tasks = Some(2);
        c.aws.max_tasks = Some(4);
    });
    let d = dir.to_str().unwrap();

    let (code, out, err) = slipway(
        home.path(),
        &["cost", "--project", d, "--offline", "--json"],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let sheet = json(&out);
    assert_eq!(
        sheet["inputs"]["tasks"], 2,
        "the desired count slipway.toml sets"
    );
    assert_eq!(sheet["inputs"]["loadBalancer"], true);
    let e = &sheet["estimate"];
    let month = |tasks: f64| (tasks * TASK_HOUR + LB_HOUR) * 730.0 + LOGS_MONTH;
    assert!(close(e["perMonth"].as_f64().unwrap(), month(2.0)), "{e}");
    assert_eq!(e["range"]["fewestTasks"], 2);
    assert_eq!(e["range"]["mostTasks"], 4);
    assert!(close(
        e["range"]["mostPerMonth"].as_f64().unwrap(),
        month(4.0)
    ));
    let a = &e["address"];
    assert!(close(
        a["stablePerMonth"].as_f64().unwrap() - a["newEachDeployPerMonth"].as_f64().unwrap(),
        LB_HOUR * 730.0
    ));
    assert_eq!(a["assumption"], "assumes light traffic: 1 LCU");
    assert_eq!(
        sheet["runningNow"],
        serde_json::Value::Null,
        "--offline reads nothing from AWS"
    );

    let (code, out, err) = slipway(home.path(), &["cost", "--project", d, "--offline"], "");
    assert_eq!(code, 0, "{err}");
    for said in [
        "2 to 4 tasks behind a load balancer",
        "Load balancer",
        "assumes light traffic: 1 LCU",
        "with scaling: From $55.41 (2 tasks) to $80.73 (4 tasks) a month",
        "One address that never changes: about $55.41 a month; a new address each deploy: about $25.85 a month.",
        "the stable address costs about $29.57 a month more",
        "this app has it",
    ] {
        assert!(out.contains(said), "{said:?} in:\n{out}");
    }
    assert!(!out.contains("Running now"), "{out}");

    // Without a load balancer the choice is still said, as the other way to run.
    let plain = home.path().join("plain");
    sample_with(&plain, |_| {});
    let (code, out, err) = slipway(
        home.path(),
        &["cost", "--project", plain.to_str().unwrap(), "--offline"],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("a new address each deploy: about $13.19 a month")
            && out.contains("this app has a new address each deploy"),
        "{out}"
    );
}

/// Form-encodes a query-protocol parameter value.
fn encoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Sends one ELBv2 query-protocol request to the emulator and returns its answer. The
/// CLI's tests have no ELBv2 SDK: this is the request an SDK sends, with the credential
/// scope the emulator routes by (it checks no signature).
async fn elb_query(endpoint: &str, region: &str, form: &[(String, String)]) -> String {
    let body: Vec<String> = [("Version", "2015-12-01")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain(form.iter().cloned())
        .map(|(k, v)| format!("{k}={}", encoded(&v)))
        .collect();
    let answer = reqwest::Client::new()
        .post(endpoint)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header(
            "Authorization",
            format!("AWS4-HMAC-SHA256 Credential=AKIAEMULATOR0000001/20260101/{region}/elasticloadbalancing/aws4_request, SignedHeaders=host, Signature=0"),
        )
        .body(body.join("&"))
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let text = answer.text().await.unwrap();
    assert!(status.is_success(), "{form:?}: {status} {text}");
    text
}

/// Creates an internet-facing Application Load Balancer with `tags`; its ARN.
async fn make_balancer(
    endpoint: &str,
    region: &str,
    name: &str,
    subnets: &str,
    tags: &[(String, String)],
) -> String {
    let mut form = vec![
        ("Action".to_owned(), "CreateLoadBalancer".to_owned()),
        ("Name".to_owned(), name.to_owned()),
        ("Scheme".to_owned(), "internet-facing".to_owned()),
        ("Type".to_owned(), "application".to_owned()),
    ];
    for (i, subnet) in subnets.split(',').enumerate() {
        form.push((format!("Subnets.member.{}", i + 1), subnet.to_owned()));
    }
    for (i, (key, value)) in tags.iter().enumerate() {
        form.push((format!("Tags.member.{}.Key", i + 1), key.clone()));
        form.push((format!("Tags.member.{}.Value", i + 1), value.clone()));
    }
    let answer = elb_query(endpoint, region, &form).await;
    let arn = answer
        .split("<LoadBalancerArn>")
        .nth(1)
        .and_then(|rest| rest.split("</LoadBalancerArn>").next())
        .unwrap_or_else(|| panic!("no ARN in {answer}"));
    arn.to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn cost_says_a_load_balancer_left_with_no_task_still_bills() {
    let Some(endpoint) = require("SLIPWAY_TEST_AWS_ENDPOINT") else {
        return;
    };
    const REGION: &str = "us-west-2";
    let home = tempfile::tempdir().unwrap();
    common::emu_profile(home.path(), REGION);
    let dir = home.path().join("site");
    let app = format!("clicost{}", std::process::id());
    sample_with(&dir, |c| {
        c.name = app.clone();
        c.aws.profile = Some("emu".into());
        c.aws.load_balancer = true;
    });
    let config = project::load(&dir).unwrap().unwrap();
    let sdk = slipway_testkit::emulator::direct_sdk(&endpoint, REGION).await;
    let subnets = slipway_testkit::emulator::default_subnets(&sdk, 2).await;
    let tags: Vec<(String, String)> =
        slipway_aws::setup::names::tags_for(&app, config.id.as_deref())
            .into_iter()
            .collect();
    let name = format!("lb-{app}");
    let arn = make_balancer(&endpoint, REGION, &name, &subnets, &tags).await;
    let d = dir.to_str().unwrap().to_owned();
    let run = |json_out: bool| {
        let (home, d, endpoint) = (home.path().to_owned(), d.clone(), endpoint.clone());
        tokio::task::spawn_blocking(move || {
            let mut args = vec!["cost", "--project", &d, "--endpoint-url", &endpoint];
            if json_out {
                args.push("--json");
            }
            slipway(&home, &args, "")
        })
    };

    let (code, out, err) = run(true).await.unwrap();
    assert_eq!(code, 0, "{err}");
    let report = json(&out);
    let running = &report["runningNow"];
    assert_eq!(running["tasks"].as_array().unwrap().len(), 0, "{report}");
    assert_eq!(running["loadBalancers"][0]["name"], name.as_str());
    assert_eq!(running["loadBalancers"][0]["publicAddresses"], 2);
    assert!(
        close(running["perHour"].as_f64().unwrap(), LB_HOUR),
        "{running}"
    );
    assert!(
        report["prices"]["notes"][0]
            .as_str()
            .unwrap()
            .contains("not refreshed")
            || report["prices"]["notes"][0]
                .as_str()
                .unwrap()
                .contains("could not be refreshed"),
        "the emulator has no Price List API: {}",
        report["prices"]["notes"]
    );

    let (code, out, err) = run(false).await.unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Running now"), "{out}");
    assert!(
        out.contains(&format!("load balancer {name}: $0.0405 an hour")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "The load balancer {name} bills $0.0405 an hour (about $29.57 a month) even with no task running; tear the app down to stop it."
        )),
        "{out}"
    );

    elb_query(
        &endpoint,
        REGION,
        &[
            ("Action".to_owned(), "DeleteLoadBalancer".to_owned()),
            ("LoadBalancerArn".to_owned(), arn),
        ],
    )
    .await;
}
