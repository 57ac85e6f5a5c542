//! `slipway` under the faults a terminal brings: two deploys of one app from two
//! processes, a deploy stopped with SIGTERM, one killed with SIGKILL, and a slipway.toml
//! that no longer validates. Each ends in a state checked in the emulator afterwards.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{json, slipway};
use serde_json::Value;
use slipway_core::project::write_sample;
use slipway_core::test_support::require;
use slipway_testkit::{FargateStandIn, FaultProxy};

const REGION: &str = "af-south-1";

/// A `slipway deploy --json` running in the background, its events read as they come.
struct Background {
    child: Child,
    lines: mpsc::Receiver<Value>,
}

impl Background {
    fn start(home: &Path, args: &[&str]) -> Self {
        let mut child = common::command(home, args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("slipway runs");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        Self { child, lines }
    }

    /// Waits for the first event of `kind` (and `step`, for step events).
    fn until(&self, kind: &str, step: Option<&str>) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {kind} event came"));
            let event = &line["event"];
            if event["type"] == kind && step.is_none_or(|s| event["data"]["step"] == s) {
                return line;
            }
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn wait(mut self) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "slipway did not end");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn deploys_stay_in_a_true_state_under_signals_locks_and_a_broken_file() {
    let (Some(endpoint), Some(_)) = (
        require("SLIPWAY_TEST_AWS_ENDPOINT"),
        require("SLIPWAY_TEST_ECR_CA"),
    ) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    common::emu_profile(home.path(), REGION);
    let dir: PathBuf = home.path().join("site");
    write_sample(&dir).unwrap();
    let toml = std::fs::read_to_string(dir.join("slipway.toml")).unwrap();
    let app = format!("clif{}", std::process::id());
    std::fs::write(
        dir.join("slipway.toml"),
        toml.replace("name = \"hello-site\"", &format!("name = \"{app}\""))
            + "\n[aws]\nprofile = \"emu\"\n",
    )
    .unwrap();
    let d = dir.to_str().unwrap().to_owned();
    slipway_testkit::emulator::give_region_an_internet_route(&endpoint, REGION).await;
    let proxy = Arc::new(FaultProxy::start(&endpoint).await);
    let standin = FargateStandIn::start(&endpoint, REGION, proxy.clone()).await;
    let via = proxy.url();
    let home = home.path().to_owned();
    let with = |verb: &[&str]| -> Vec<String> {
        let mut all: Vec<String> = verb.iter().map(|s| s.to_string()).collect();
        all.extend(
            ["--project", &d, "--endpoint-url", &via, "--json"]
                .iter()
                .map(|s| s.to_string()),
        );
        all
    };
    let run = |verb: &[&str]| {
        let args = with(verb);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        slipway(&home, &refs, "")
    };
    let ps = |home: &Path| -> Vec<String> {
        let args = with(&["ps"]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = slipway(home, &refs, "");
        assert_eq!(code, 0, "{err}");
        json(&out)
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["taskId"].as_str().unwrap().to_owned())
            .collect()
    };

    let (code, _, err) = run(&["setup", "--apply"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(&["deploy"]);
    assert_eq!(code, 0, "{err}\n{out}");
    let first = json(out.lines().last().unwrap())["result"]["taskIds"][0]
        .as_str()
        .unwrap()
        .to_owned();

    // Two processes deploy the app: the second is refused at once, naming the first.
    proxy.script_task_states(&[("PROVISIONING", Duration::from_secs(4))]);
    let args = with(&["deploy"]);
    let a = Background::start(&home, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let started = a.until("Started", None);
    let (code, _, err) = run(&["deploy"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("already being changed")
            && err.contains(started["event"]["data"]["deployId"].as_str().unwrap()),
        "{err}"
    );
    assert_eq!(a.wait(), 0, "the first deploy goes on and answers");
    let live = ps(&home);
    assert_eq!(live.len(), 1, "one task runs: {live:?}");
    let current = live[0].clone();
    assert_ne!(current, first);

    // SIGTERM while the new task comes up: exit 130, its task stopped, the current kept.
    proxy.script_task_states(&[("PENDING", Duration::from_secs(60))]);
    let b = Background::start(&home, &args.iter().map(String::as_str).collect::<Vec<_>>());
    b.until("StepDone", Some("start"));
    let sent = Instant::now();
    b.signal("TERM");
    assert_eq!(b.wait(), 130, "a terminated deploy says it was cancelled");
    assert!(sent.elapsed() < Duration::from_secs(20));
    assert_eq!(ps(&home), vec![current.clone()]);

    // SIGKILL: nothing can undo; status names the orphan, and stopping that deploy stops
    // it alone.
    let c = Background::start(&home, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let deploy_id = c.until("Started", None)["event"]["data"]["deployId"]
        .as_str()
        .unwrap()
        .to_owned();
    c.until("StepDone", Some("start"));
    c.signal("KILL");
    c.wait();
    let (code, out, err) = run(&["status"]);
    assert_eq!(code, 0, "{err}");
    let status = json(&out);
    let leftovers = status["leftovers"].as_array().unwrap();
    assert_eq!(leftovers.len(), 1, "{status}");
    assert_eq!(leftovers[0]["deployId"], deploy_id.as_str());
    let orphan = leftovers[0]["taskId"].as_str().unwrap().to_owned();
    assert_ne!(orphan, current);
    let (code, _, err) = run(&["stop", "--deploy", &deploy_id]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(ps(&home), vec![current.clone()], "only the orphan stopped");
    let (_, out, _) = run(&["status"]);
    assert!(json(&out)["leftovers"].as_array().unwrap().is_empty());

    // A slipway.toml that no longer validates: status and stop still work.
    let file = dir.join("slipway.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("[task]", "[task]\ncpu = \"lots\"")).unwrap();
    let (code, _, err) = slipway(&home, &["check", &d], "");
    assert_eq!(code, 1, "the file is broken: {err}");
    let (code, out, err) = run(&["status"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["tasks"][0]["taskId"], current.as_str());
    let (code, _, err) = run(&["stop"]);
    assert_eq!(code, 0, "{err}");
    assert!(ps(&home).is_empty());
    std::fs::write(&file, text).unwrap();

    let (code, _, err) = run(&["teardown", "--apply"]);
    assert_eq!(code, 0, "{err}");
    standin.shut_down().await;
    slipway_testkit::remove_app_images(&app);
}
