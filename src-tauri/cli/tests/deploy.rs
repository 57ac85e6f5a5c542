//! `slipway deploy`, `status` and `stop` end to end against the emulator, the ECR-named
//! test registry and the test kit's Fargate stand-in.

mod common;

use std::sync::Arc;

use common::{json, slipway};
use serde_json::Value;
use slipway_core::project::write_sample;
use slipway_core::test_support::require;
use slipway_testkit::{FargateStandIn, FaultProxy};

const REGION: &str = "ap-east-1";

#[tokio::test(flavor = "multi_thread")]
async fn deploy_streams_json_and_ends_with_the_verified_url_then_status_and_stop() {
    let (Some(endpoint), Some(_)) = (
        require("SLIPWAY_TEST_AWS_ENDPOINT"),
        require("SLIPWAY_TEST_ECR_CA"),
    ) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    common::emu_profile(home.path(), REGION);
    let dir = home.path().join("site");
    write_sample(&dir).unwrap();
    let toml = std::fs::read_to_string(dir.join("slipway.toml")).unwrap();
    let app = format!("clid{}", std::process::id());
    std::fs::write(
        dir.join("slipway.toml"),
        toml.replace("name = \"hello-site\"", &format!("name = \"{app}\""))
            + "\n[aws]\nprofile = \"emu\"\n",
    )
    .unwrap();
    let d = dir.to_str().unwrap();
    slipway_testkit::emulator::give_region_an_internet_route(&endpoint, REGION).await;
    let proxy = Arc::new(FaultProxy::start(&endpoint).await);
    let standin = FargateStandIn::start(&endpoint, REGION, proxy.clone()).await;
    let via = proxy.url();
    let home = home.path();

    let (code, _, err) = slipway(
        home,
        &["setup", "--project", d, "--apply", "--endpoint-url", &via],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let run = |args: Vec<&str>| {
        let mut all = args;
        all.extend(["--project", d, "--endpoint-url", &via, "--json"]);
        let all: Vec<String> = all.into_iter().map(str::to_owned).collect();
        let home = home.to_owned();
        tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            slipway(&home, &refs, "")
        })
    };
    let (code, out, err) = run(vec!["deploy"]).await.unwrap();
    assert_eq!(code, 0, "{err}\n{out}");
    let lines: Vec<Value> = out.lines().map(json).collect();
    assert!(
        lines.iter().any(|l| l["event"]["type"] == "TaskStatus"),
        "{out}"
    );
    let result = &lines.last().unwrap()["result"];
    let url = result["url"].as_str().unwrap();
    assert_eq!(result["httpStatus"], 200);
    let body = reqwest::get(url).await.unwrap().text().await.unwrap();
    assert!(body.contains("Hello from Slipway"));

    let (code, out, err) = run(vec!["status"]).await.unwrap();
    assert_eq!(code, 0, "{err}");
    let status = json(&out);
    assert_eq!(status["tasks"][0]["url"], url);
    assert_eq!(status["history"][0]["outcome"], "succeeded");
    // ap-east-1 is not in the bundled table: priced like us-east-1, and it says so.
    let per_hour = status["tasks"][0]["costPerHour"].as_f64().unwrap();
    assert!((per_hour - 0.0173425).abs() < 1e-9, "{per_hour}");
    assert_eq!(status["cost"]["perHour"].as_f64(), Some(per_hour));
    assert!(status["cost"]["soFar"].as_f64().unwrap() > 0.0);
    assert!(status["cost"]["prices"]["notes"][0]
        .as_str()
        .unwrap()
        .contains("no Fargate prices for ap-east-1"));

    // The Price List API is not in the emulator: the estimate still comes, at the bundled
    // prices, and says why they were not refreshed.
    let (code, out, err) = run(vec!["cost", "--hours-per-week", "10"]).await.unwrap();
    assert_eq!(code, 0, "{err}");
    let sheet = json(&out);
    assert_eq!(sheet["prices"]["source"], "Bundled");
    assert_eq!(sheet["inputs"]["hoursPerWeek"], 10.0);
    assert!(
        sheet["prices"]["notes"][0]
            .as_str()
            .unwrap()
            .contains("could not be refreshed"),
        "{sheet}"
    );

    // A second release, then `ps`, `releases` and a rollback to the first.
    std::fs::write(dir.join("site/index.html"), "<h1>Second from the CLI</h1>").unwrap();
    let (code, out, err) = run(vec!["deploy"]).await.unwrap();
    assert_eq!(code, 0, "{err}\n{out}");
    let second = json(out.lines().last().unwrap());
    let second_url = second["result"]["url"].as_str().unwrap().to_owned();
    assert!(reqwest::get(&second_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .contains("Second"));
    let (code, out, err) = run(vec!["ps"]).await.unwrap();
    assert_eq!(code, 0, "{err}");
    let ps = json(&out);
    assert_eq!(
        ps.as_array().unwrap().len(),
        1,
        "the first task was retired: {ps}"
    );
    assert_eq!(ps[0]["url"], second_url.as_str());
    assert!(ps[0]["privateIp"].is_string() && ps[0]["startedAt"].is_string());
    // The URL check's request is in the task's log (httpd -vv logs each request).
    let task = ps[0]["taskId"].as_str().unwrap().to_owned();
    let (code, out, err) = run(vec!["logs", "--task", &task, "--filter", "URL:/"])
        .await
        .unwrap();
    assert_eq!(code, 0, "{err}");
    let lines: Vec<Value> = out.lines().map(json).collect();
    assert!(!lines.is_empty(), "the check's request was logged: {out}");
    assert!(lines.iter().all(|l| l["taskId"] == task.as_str()));
    let (code, _, err) = run(vec!["logs", "--since", "soon"]).await.unwrap();
    assert_eq!(code, 1);
    assert!(err.contains("not a duration"), "{err}");
    // ECR's API shows a push once the stand-in's mirror has copied it (twice a second).
    let mut releases = Value::Null;
    for _ in 0..50 {
        let (code, out, err) = run(vec!["releases"]).await.unwrap();
        assert_eq!(code, 0, "{err}");
        releases = json(&out);
        let listed = releases["releases"].as_array().unwrap();
        if listed.len() == 2 && listed.iter().all(|r| r["imageInRepository"] == true) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        releases["releases"].as_array().unwrap().len(),
        2,
        "{releases}"
    );
    let first_revision = releases["rollbackTarget"].as_i64().unwrap();
    let (code, out, err) = run(vec!["rollback"]).await.unwrap();
    assert_eq!(code, 0, "{err}\n{out}");
    let back = json(out.lines().last().unwrap());
    assert_eq!(back["result"]["revision"].as_i64(), Some(first_revision));
    let body = reqwest::get(back["result"]["url"].as_str().unwrap())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("Hello from Slipway"),
        "the first release again: {body}"
    );

    let (code, out, err) = run(vec!["stop"]).await.unwrap();
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        json(&out)["stopped"]["stoppedTasks"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (_, out, _) = run(vec!["status"]).await.unwrap();
    assert!(json(&out)["tasks"].as_array().unwrap().is_empty());

    let (code, _, err) = slipway(
        home,
        &[
            "teardown",
            "--project",
            d,
            "--apply",
            "--endpoint-url",
            &via,
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    standin.shut_down().await;
    slipway_testkit::remove_app_images(&app);
}
