//! The IPC contract: commands driven through Tauri's mock runtime exactly as the window
//! calls them (JSON in, JSON or `{ code, message }` out, events over a Channel), and the
//! generated TypeScript bindings kept in step with the Rust types.

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};
use slipway_core::host::{HostEnv, Os};
use slipway_core::jobs::JobRegistry;
use slipway_core::test_support::write_aws_files;
use slipway_core::EngineError;
use tauri::ipc::{CallbackFn, InvokeBody, InvokeResponseBody};
use tauri::test::{mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

use crate::state::{Host, Jobs};
use crate::IpcError;

fn mock_app(
    host: HostEnv,
    events: mpsc::Sender<Value>,
) -> (App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let builder = specta_builder!(MockRuntime);
    let app = mock_builder()
        .manage(crate::state::Desk(slipway_app::Desk::new(host.clone())))
        .manage(Host(host))
        .manage(Jobs(JobRegistry::default()))
        .manage(crate::state::Projects::default())
        .invoke_handler(builder.invoke_handler())
        .channel_interceptor(move |_webview, _callback, _index, body| {
            if let InvokeResponseBody::Json(text) = body {
                let _ = events.send(serde_json::from_str(text).expect("channel events are JSON"));
            }
            true
        })
        .build(mock_context(noop_assets()))
        .expect("mock app builds");
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("mock window");
    (app, window)
}

fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str, body: Value) -> Result<Value, Value> {
    tauri::test::get_ipc_response(
        window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(body),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}

/// A host of the test's own: AWS files in a temp home, Docker at a socket that does not exist.
fn offline_host(home: &Path) -> HostEnv {
    write_aws_files(
        home,
        "[profile emu]\nregion = eu-west-1\n",
        "[emu]\naws_access_key_id = AKIAEMU\naws_secret_access_key = x\n",
    );
    HostEnv::new(
        Os::Linux,
        Some(home.to_owned()),
        [
            (
                "DOCKER_HOST".to_owned(),
                format!("unix://{}/no-docker.sock", home.display()),
            ),
            (
                "SLIPWAY_DATA_DIR".to_owned(),
                home.join("data").display().to_string(),
            ),
        ],
    )
}

#[test]
fn error_json_is_code_and_message() {
    let err = IpcError::from(EngineError::ProfileNotFound {
        profile: "dev".into(),
        searched: "~/.aws/config".into(),
    });
    let value = serde_json::to_value(&err).unwrap();
    assert_eq!(
        value["code"], "ProfileNotFound",
        "the UI branches on this exact string"
    );
    assert_eq!(
        value.as_object().unwrap().len(),
        2,
        "only code and message cross IPC: {value}"
    );
    assert!(value["message"].as_str().unwrap().contains("\"dev\""));
    assert_eq!(
        serde_json::to_value(IpcError::from(EngineError::Cancelled)).unwrap(),
        json!({ "code": "Cancelled", "message": "Cancelled." })
    );
    let denied = IpcError::from(EngineError::AwsStepFailed {
        step: "create the IAM role slipway-x-us-east-1".into(),
        cause: Box::new(EngineError::AccessDenied {
            action: "iam:CreateRole".into(),
            source_name: "profile \"dev\"".into(),
            aws_message: "not authorized".into(),
        }),
        fix: None,
        again: "run setup again to continue from here".into(),
    });
    let value = serde_json::to_value(&denied).unwrap();
    assert_eq!(
        value["code"], "AccessDenied",
        "a failed step keeps its cause's code, so the UI can tell a denial apart"
    );
    assert!(value["message"]
        .as_str()
        .unwrap()
        .contains("iam:CreateRole"));
    assert_eq!(
        serde_json::to_value(IpcError::from(EngineError::AwsThrottled {
            operation: "ecs:CreateCluster".into()
        }))
        .unwrap()["code"],
        "AwsThrottled"
    );
}

#[test]
fn app_info_reports_version_and_the_data_dir_of_this_host() {
    let home = tempfile::tempdir().unwrap();
    let (tx, _rx) = mpsc::channel();
    let (_app, window) = mock_app(offline_host(home.path()), tx);
    let info = invoke(&window, "app_info", json!({})).unwrap();
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        info["dataDir"],
        home.path().join("data").display().to_string()
    );
}

#[test]
fn export_support_bundle_writes_the_archive_and_answers_with_its_files() {
    let home = tempfile::tempdir().unwrap();
    let (tx, _rx) = mpsc::channel();
    let (_app, window) = mock_app(offline_host(home.path()), tx);
    let path = home.path().join("support.tar.gz");
    let bundle = invoke(
        &window,
        "export_support_bundle",
        json!({ "path": path.display().to_string() }),
    )
    .unwrap();
    assert_eq!(bundle["path"], path.display().to_string());
    assert!(path.is_file(), "the archive is where the window asked");
    let files: Vec<&str> = bundle["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        files.contains(&"about.json") && files.contains(&"journal.json"),
        "{files:?}"
    );

    let missing = home.path().join("no/such/folder/support.tar.gz");
    let err = invoke(
        &window,
        "export_support_bundle",
        json!({ "path": missing.display().to_string() }),
    )
    .unwrap_err();
    assert_eq!(
        err["code"], "FileSystem",
        "a folder that does not exist is a file system error: {err}"
    );
}

#[test]
fn check_environment_streams_each_probe_and_reports_a_dead_docker_as_a_finding() {
    let home = tempfile::tempdir().unwrap();
    let (tx, rx) = mpsc::channel();
    let (_app, window) = mock_app(offline_host(home.path()), tx);
    let report = invoke(
        &window,
        "check_environment",
        json!({ "jobId": "env-1", "request": { "identity": null }, "onEvent": "__CHANNEL__:7" }),
    )
    .expect("a missing Docker engine is shown, not thrown");
    assert_eq!(report["docker"]["state"], "unavailable");
    assert!(report["docker"]["advice"]
        .as_str()
        .unwrap()
        .contains("DOCKER_HOST"));
    assert_eq!(report["aws"]["profiles"][0]["name"], "emu");
    assert_eq!(report["identity"]["state"], "notChecked");

    let types: Vec<String> = rx
        .try_iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted = types.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        vec!["DockerProbed", "IdentityChecked", "ProfilesRead"],
        "one event per probe: {types:?}"
    );
}

#[test]
fn an_unknown_profile_is_a_failed_identity_with_its_code() {
    let home = tempfile::tempdir().unwrap();
    let (tx, _rx) = mpsc::channel();
    let (_app, window) = mock_app(offline_host(home.path()), tx);
    let report = invoke(
        &window,
        "check_environment",
        json!({
            "jobId": "env-2",
            "request": { "identity": { "source": { "kind": "profile", "name": "nope" }, "region": null, "endpointUrl": null } },
            "onEvent": "__CHANNEL__:8"
        }),
    )
    .unwrap();
    assert_eq!(report["identity"]["state"], "failed");
    assert_eq!(report["identity"]["code"], "ProfileNotFound");
}

#[test]
fn cancel_job_stops_a_check_that_waits_on_a_silent_endpoint() {
    // An endpoint that accepts connections and never answers: the STS call would hang.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut conn in silent.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = [0u8; 1024];
                while conn.read(&mut buf).map(|n| n > 0).unwrap_or(false) {}
            });
        }
    });
    let home = tempfile::tempdir().unwrap();
    let (tx, rx) = mpsc::channel();
    let (_app, window) = mock_app(offline_host(home.path()), tx);
    let canceller = window.clone();
    std::thread::spawn(move || {
        // Wait until the job runs (its first probe reported), then cancel it.
        rx.recv_timeout(Duration::from_secs(10))
            .expect("a first event");
        let cancelled = invoke(&canceller, "cancel_job", json!({ "jobId": "env-slow" })).unwrap();
        assert_eq!(cancelled, json!(true), "the running job is found by its id");
    });
    let outcome = invoke(
        &window,
        "check_environment",
        json!({
            "jobId": "env-slow",
            "request": { "identity": { "source": { "kind": "profile", "name": "emu" }, "region": null, "endpointUrl": endpoint } },
            "onEvent": "__CHANNEL__:9"
        }),
    );
    assert_eq!(
        outcome,
        Err(json!({ "code": "Cancelled", "message": "Cancelled." }))
    );
    let again = invoke(&window, "cancel_job", json!({ "jobId": "env-slow" })).unwrap();
    assert_eq!(again, json!(false), "a finished job leaves the registry");
}

#[test]
fn the_sample_opens_saves_and_refuses_an_invalid_size_with_its_field_named() {
    let home = tempfile::tempdir().unwrap();
    let (_app, window) = mock_app(offline_host(home.path()), mpsc::channel().0);
    let project = invoke(&window, "open_sample", json!({})).expect("the sample opens");
    assert_eq!(project["config"]["name"], "hello-site");
    assert_eq!(project["saved"], true);
    assert_eq!(project["problems"], json!([]));
    let dir = project["dir"].as_str().unwrap().to_owned();
    assert!(
        dir.starts_with(home.path().join("data").to_str().unwrap()),
        "the sample lives in the app data folder: {dir}"
    );

    let mut config = project["config"].clone();
    config["task"]["memory"] = json!(3000);
    let problems = invoke(&window, "validate_project", json!({ "config": config })).unwrap();
    assert_eq!(
        problems[0]["field"], "task.memory",
        "live validation names the field: {problems}"
    );
    let before = std::fs::read_to_string(Path::new(&dir).join("slipway.toml")).unwrap();
    let refused = invoke(
        &window,
        "save_project",
        json!({ "dir": dir, "config": config }),
    )
    .unwrap_err();
    assert_eq!(refused["code"], "InvalidProjectConfig");
    assert!(
        refused["message"].as_str().unwrap().contains("task.memory"),
        "{refused}"
    );
    assert_eq!(
        std::fs::read_to_string(Path::new(&dir).join("slipway.toml")).unwrap(),
        before
    );

    config["task"]["memory"] = json!(1024);
    let saved = invoke(
        &window,
        "save_project",
        json!({ "dir": dir, "config": config }),
    )
    .unwrap();
    assert_eq!(saved["config"]["task"]["memory"], 1024);
    let recent = invoke(&window, "recent_projects", json!({})).unwrap();
    assert_eq!(
        recent.as_array().unwrap().len(),
        1,
        "reopening is not a second entry: {recent}"
    );
}

#[test]
fn an_image_project_is_proposed_created_and_opened_and_a_bad_reference_is_its_field() {
    let home = tempfile::tempdir().unwrap();
    let (_app, window) = mock_app(offline_host(home.path()), mpsc::channel().0);
    let proposed = invoke(
        &window,
        "image_project_defaults",
        json!({ "image": "ghcr.io/org/shop:1.2" }),
    )
    .unwrap();
    assert_eq!(proposed["name"], "shop");
    assert_eq!(proposed["problem"], Value::Null);
    let dir = proposed["dir"].as_str().unwrap().to_owned();
    assert_eq!(Path::new(&dir), home.path().join("Slipway").join("shop"));

    let project = invoke(
        &window,
        "create_image_project",
        json!({ "request": { "image": "ghcr.io/org/shop:1.2", "name": "shop", "dir": dir } }),
    )
    .expect("the project is made and opened");
    assert_eq!(project["saved"], true);
    assert_eq!(project["config"]["image"], "ghcr.io/org/shop:1.2");
    let recent = invoke(&window, "recent_projects", json!({})).unwrap();
    assert_eq!(recent[0]["name"], "shop", "it opens like any other project");

    let refused = invoke(
        &window,
        "create_image_project",
        json!({ "request": { "image": "https://ghcr.io/org/shop", "name": "shop2", "dir": home.path().join("x") } }),
    )
    .unwrap_err();
    assert_eq!(refused["code"], "InvalidProjectConfig");
    assert!(
        refused["message"].as_str().unwrap().contains("Leave out"),
        "{refused}"
    );
}

#[test]
fn a_missing_folder_and_a_dead_docker_come_back_as_their_codes() {
    let home = tempfile::tempdir().unwrap();
    let (_app, window) = mock_app(offline_host(home.path()), mpsc::channel().0);
    let missing = invoke(
        &window,
        "open_project",
        json!({ "dir": home.path().join("nope") }),
    )
    .unwrap_err();
    assert_eq!(missing["code"], "ProjectNotFound");
    let sample = invoke(&window, "open_sample", json!({})).unwrap();
    let dir = sample["dir"].clone();
    let err = invoke(&window, "local_releases", json!({ "dir": dir })).unwrap_err();
    assert_eq!(err["code"], "DockerUnavailable", "{err}");
    let sizes = invoke(&window, "task_sizes", json!({})).unwrap();
    assert_eq!(
        sizes[0],
        json!({ "cpu": 256, "memories": [512, 1024, 2048] })
    );
}

/// Hostile folders over IPC: each answer comes back in seconds with what is wrong, from
/// commands that do their file work off the window's thread.
#[test]
fn a_folder_of_links_to_dev_zero_and_fifos_is_answered_quickly_over_ipc() {
    let home = tempfile::tempdir().unwrap();
    let (_app, window) = mock_app(offline_host(home.path()), mpsc::channel().0);
    let dir = home.path().join("odd");
    std::fs::create_dir(&dir).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("slipway.toml")).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(dir.join("Dockerfile"))
        .status()
        .unwrap();
    assert!(made.success());
    let (answer, answered) = mpsc::channel();
    std::thread::spawn(move || {
        let opened = invoke(&window, "open_project", json!({ "dir": dir })).unwrap_err();
        std::fs::remove_file(dir.join("slipway.toml")).unwrap();
        let project = invoke(&window, "open_project", json!({ "dir": dir })).unwrap();
        let checked = invoke(
            &window,
            "check_project",
            json!({ "dir": project["dir"], "config": project["config"] }),
        )
        .unwrap();
        let _ = answer.send((opened, checked));
    });
    let (opened, checked) = answered
        .recv_timeout(Duration::from_secs(20))
        .expect("odd files are answered in seconds, not read forever");
    assert_eq!(opened["code"], "FileSystem", "{opened}");
    assert!(
        opened["message"]
            .as_str()
            .unwrap()
            .contains("slipway.toml is a device"),
        "{opened}"
    );
    assert_eq!(
        checked["findings"][0]["kind"], "fileUnreadable",
        "{checked}"
    );
    assert!(
        checked["findings"][0]["title"]
            .as_str()
            .unwrap()
            .contains("named pipe"),
        "{checked}"
    );
}

#[test]
fn an_access_key_profile_is_written_owner_only_and_its_secret_never_comes_back() {
    let home = tempfile::tempdir().unwrap();
    let (_app, window) = mock_app(offline_host(home.path()), mpsc::channel().0);
    let secret = "ipcSecret0123456789abcdefghijklmnopqrstu";
    let request = json!({ "request": {
        "name": "added",
        "accessKeyId": "AKIAIPCTEST000000001",
        "secretAccessKey": secret,
        "region": "eu-west-2"
    }});
    let profile = invoke(&window, "add_access_key_profile", request.clone()).unwrap();
    assert_eq!(profile["name"], "added");
    assert_eq!(profile["kind"], "AccessKeys");
    assert!(
        !profile.to_string().contains(secret),
        "the answer never carries the secret"
    );
    let listed = invoke(&window, "aws_profiles", json!({})).unwrap();
    assert!(!listed.to_string().contains(secret));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.path().join(".aws/credentials"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = invoke(&window, "add_access_key_profile", request).unwrap_err();
    assert_eq!(again["code"], "ProfileExists");
    assert!(!again.to_string().contains(secret));
}

#[test]
fn setup_is_planned_and_applied_over_ipc_with_the_saved_endpoint() {
    let Some(endpoint) = slipway_core::test_support::require("SLIPWAY_TEST_AWS_ENDPOINT") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let (events_tx, events) = mpsc::channel();
    let (_app, window) = mock_app(offline_host(home.path()), events_tx);
    let bad = invoke(
        &window,
        "save_app_settings",
        json!({ "settings": { "awsEndpointUrl": "localhost:1" } }),
    )
    .unwrap_err();
    assert_eq!(bad["code"], "InvalidInput");
    invoke(
        &window,
        "save_app_settings",
        json!({ "settings": { "awsEndpointUrl": endpoint } }),
    )
    .unwrap();

    let sample = invoke(&window, "open_sample", json!({})).unwrap();
    let dir = sample["dir"].clone();
    let mut config = sample["config"].clone();
    config["name"] = json!(format!("ipc{}", std::process::id()));
    config["aws"]["profile"] = json!("emu");
    config["aws"]["region"] = json!("us-west-1");
    // As a real default VPC has (moto's has no internet gateway route).
    tauri::async_runtime::block_on(slipway_testkit::emulator::give_region_an_internet_route(
        &endpoint,
        "us-west-1",
    ));
    invoke(
        &window,
        "save_project",
        json!({ "dir": dir, "config": config }),
    )
    .unwrap();

    let identity = invoke(&window, "connect_project_aws", json!({ "dir": dir })).unwrap();
    assert_eq!(identity["account"], "123456789012");
    assert_eq!(identity["region"], "us-west-1");
    assert_eq!(
        identity["endpointUrl"],
        json!(endpoint),
        "the saved override is used"
    );

    let plan = invoke(&window, "plan_setup", json!({ "dir": dir })).unwrap();
    assert_eq!(
        plan["resources"][0]["state"]["state"], "willCreate",
        "{plan}"
    );
    let after = invoke(
        &window,
        "apply_setup",
        json!({ "jobId": "setup-1", "dir": dir, "plan": plan, "onEvent": "__CHANNEL__:7" }),
    )
    .unwrap();
    for resource in after["resources"].as_array().unwrap() {
        assert_eq!(resource["state"]["state"], "ready", "{resource}");
    }
    let kinds: Vec<String> = events
        .try_iter()
        .filter_map(|e| e["type"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("Planned"),
        "{kinds:?}"
    );
    assert!(kinds.iter().any(|k| k == "ResourceReady"), "{kinds:?}");

    let teardown = invoke(&window, "plan_teardown", json!({ "dir": dir })).unwrap();
    assert!(!teardown["items"].as_array().unwrap().is_empty());
    let done = invoke(
        &window,
        "apply_teardown",
        json!({ "jobId": "teardown-1", "dir": dir, "plan": teardown, "onEvent": "__CHANNEL__:8" }),
    )
    .unwrap();
    assert_eq!(done["items"], json!([]), "the app is gone: {done}");
}

#[test]
fn the_deploy_journal_is_read_at_start_and_an_unknown_deploy_is_named_by_its_code() {
    let home = tempfile::tempdir().unwrap();
    let (_app, window) = mock_app(offline_host(home.path()), mpsc::channel().0);
    assert_eq!(
        invoke(&window, "unfinished_deploys", json!({})).unwrap(),
        json!([])
    );
    let err = invoke(
        &window,
        "settle_deploy",
        json!({ "deployId": "20261122-000000-0000", "stop": true }),
    )
    .unwrap_err();
    assert_eq!(err["code"], "DeployNotFound", "{err}");
    let sample = invoke(&window, "open_sample", json!({})).unwrap();
    // Deploying needs a saved project, AWS and Docker: the first missing one is the answer.
    let err = invoke(
        &window,
        "deploy",
        json!({ "jobId": "d1", "dir": sample["dir"], "request": {}, "onEvent": "__CHANNEL__:7" }),
    )
    .unwrap_err();
    assert!(
        err["code"].is_string() && err["message"].is_string(),
        "{err}"
    );
}

#[test]
fn cost_commands_estimate_at_bundled_prices_and_refuse_bad_choices_with_invalid_input() {
    let home = tempfile::tempdir().unwrap();
    let (tx, _rx) = mpsc::channel();
    let (_app, window) = mock_app(offline_host(home.path()), tx);
    let sample = invoke(&window, "open_sample", json!({})).unwrap();
    let dir = &sample["dir"];
    // The sample saved with profile emu in eu-west-1 (the profile's region); no network.
    let sheet = invoke(
        &window,
        "project_cost",
        json!({ "dir": dir, "refresh": "Never" }),
    )
    .unwrap();
    assert_eq!(
        sheet["inputs"]["task"],
        json!({ "cpu": 256, "memory": 512 })
    );
    assert_eq!(sheet["prices"]["source"], "Bundled");
    assert!(sheet["estimate"]["perMonth"].as_f64().unwrap() > 0.0);

    let mut inputs = sheet["inputs"].clone();
    inputs["task"] = json!({ "cpu": 1024, "memory": 2048 });
    let bigger = invoke(&window, "estimate_cost", json!({ "inputs": inputs })).unwrap();
    assert!(
        bigger["estimate"]["perMonth"].as_f64() > sheet["estimate"]["perMonth"].as_f64(),
        "a bigger task costs more"
    );
    inputs["task"] = json!({ "cpu": 1024, "memory": 512 });
    let err = invoke(&window, "estimate_cost", json!({ "inputs": inputs })).unwrap_err();
    assert_eq!(err["code"], "InvalidInput", "{err}");

    let mut settings = invoke(&window, "cost_settings", json!({ "dir": dir })).unwrap();
    assert_eq!(settings["autoStopHours"], Value::Null);
    settings["autoStopHours"] = json!(2.0);
    let saved = invoke(
        &window,
        "save_cost_settings",
        json!({ "dir": dir, "settings": settings }),
    )
    .unwrap();
    assert_eq!(saved["autoStopHours"], 2.0);
    settings["autoStopHours"] = json!(0.0);
    let err = invoke(
        &window,
        "save_cost_settings",
        json!({ "dir": dir, "settings": settings }),
    )
    .unwrap_err();
    assert_eq!(err["code"], "InvalidInput", "{err}");
    assert_eq!(
        invoke(&window, "cost_settings", json!({ "dir": dir })).unwrap()["autoStopHours"],
        2.0,
        "a refused save writes nothing"
    );
}

/// The window's side of the shared scenario: what the Deploy, Roll back, Stop and status
/// views call, over IPC.
struct Window<'a> {
    window: &'a WebviewWindow<MockRuntime>,
    dir: Value,
    jobs: std::sync::atomic::AtomicU32,
}

impl Window<'_> {
    fn job(&self) -> String {
        let n = self.jobs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("scenario-{n}")
    }

    /// As the window's deploy: what the folder holds is built first, then deployed.
    fn deploy_request(&self, request: Value) -> Value {
        if request.get("rollback").is_none() {
            invoke(
                self.window,
                "build_project",
                json!({ "jobId": self.job(), "dir": self.dir, "request": {}, "onEvent": "__CHANNEL__:20" }),
            )
            .expect("the folder builds");
        }
        invoke(
            self.window,
            "deploy",
            json!({ "jobId": self.job(), "dir": self.dir, "request": request, "onEvent": "__CHANNEL__:21" }),
        )
        .unwrap_or_else(|e| panic!("the deploy fails: {e}"))
    }
}

impl slipway_testkit::scenario::FrontEnd for Window<'_> {
    async fn deploy(&self) -> Value {
        self.deploy_request(json!({}))
    }
    /// As the releases view: the rollback it offers is to the list's target.
    async fn rollback(&self) -> Value {
        let list = self.releases().await;
        let revision = list["rollbackTarget"].clone();
        self.deploy_request(json!({ "rollback": { "revision": revision, "retag": false } }))
    }
    async fn releases(&self) -> Value {
        invoke(self.window, "aws_releases", json!({ "dir": self.dir })).unwrap()
    }
    async fn stop(&self) -> Value {
        invoke(self.window, "stop_app", json!({ "dir": self.dir })).unwrap()
    }
    async fn status(&self) -> Value {
        invoke(self.window, "app_status", json!({ "dir": self.dir })).unwrap()
    }
    fn edit_page(&self, html: &str) {
        let dir = Path::new(self.dir.as_str().unwrap());
        std::fs::write(dir.join("site/index.html"), html).unwrap();
    }
}

#[test]
fn deploy_rollback_and_stop_with_an_unfinished_deploy_through_ipc() {
    use slipway_aws::test_support::leave_a_deploy_unfinished;
    use slipway_core::test_support::require;
    let (Some(endpoint), Some(_), Some(docker)) = (
        require("SLIPWAY_TEST_AWS_ENDPOINT"),
        require("SLIPWAY_TEST_ECR_CA"),
        require("SLIPWAY_TEST_DOCKER_HOST"),
    ) else {
        return;
    };
    const REGION: &str = "ca-central-1";
    let temp = tempfile::tempdir().unwrap();
    let home = temp.path();
    write_aws_files(
        home,
        &format!("[profile emu]\nregion = {REGION}\n"),
        "[emu]\naws_access_key_id = AKIAEMULATOR0000001\naws_secret_access_key = x\n",
    );
    let host = HostEnv::new(
        Os::current(),
        Some(home.to_owned()),
        [
            ("DOCKER_HOST".to_owned(), docker),
            (
                "SLIPWAY_DATA_DIR".to_owned(),
                home.join("data").display().to_string(),
            ),
        ],
    );
    let (events_tx, _events) = mpsc::channel();
    let (_app, window) = mock_app(host.clone(), events_tx);
    // Boxed: the scenario's future (a deploy among it) outgrows a test thread's stack.
    tauri::async_runtime::block_on(Box::pin(async {
        slipway_testkit::emulator::give_region_an_internet_route(&endpoint, REGION).await;
        let proxy = std::sync::Arc::new(slipway_testkit::FaultProxy::start(&endpoint).await);
        let standin =
            slipway_testkit::FargateStandIn::start(&endpoint, REGION, proxy.clone()).await;
        invoke(
            &window,
            "save_app_settings",
            json!({ "settings": { "awsEndpointUrl": proxy.url() } }),
        )
        .unwrap();
        let sample = invoke(&window, "open_sample", json!({})).unwrap();
        let dir = sample["dir"].clone();
        let mut config = sample["config"].clone();
        let app = format!("sipc{}", std::process::id());
        config["name"] = json!(app);
        config["aws"]["profile"] = json!("emu");
        config["aws"]["region"] = json!(REGION);
        invoke(
            &window,
            "save_project",
            json!({ "dir": dir, "config": config }),
        )
        .unwrap();
        let plan = invoke(&window, "plan_setup", json!({ "dir": dir })).unwrap();
        invoke(
            &window,
            "apply_setup",
            json!({ "jobId": "setup", "dir": dir, "plan": plan, "onEvent": "__CHANNEL__:22" }),
        )
        .unwrap();

        let front = Window {
            window: &window,
            dir: dir.clone(),
            jobs: Default::default(),
        };
        let project = std::path::PathBuf::from(dir.as_str().unwrap());
        slipway_testkit::scenario::deploy_roll_back_and_stop_with_an_unfinished_deploy(
            &front,
            &proxy,
            Box::pin(leave_a_deploy_unfinished(&host, &project, &proxy.url())),
        )
        .await;

        let teardown = invoke(&window, "plan_teardown", json!({ "dir": dir })).unwrap();
        invoke(
            &window,
            "apply_teardown",
            json!({ "jobId": "teardown", "dir": dir, "plan": teardown, "onEvent": "__CHANNEL__:23" }),
        )
        .unwrap();
        standin.shut_down().await;
        slipway_testkit::remove_app_images(&app);
    }));
}

#[test]
fn typescript_bindings_are_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/lib/ipc/bindings.ts");
    let fresh = tempfile::NamedTempFile::new().unwrap();
    crate::specta_builder()
        .export(
            specta_typescript::Typescript::default().header("// Generated by src-tauri/tests.rs from the Rust types. Do not edit.\n// @ts-nocheck"),
            fresh.path(),
        )
        .expect("bindings export");
    let fresh = std::fs::read_to_string(fresh.path()).unwrap();
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if fresh != current {
        std::fs::write(&path, &fresh).unwrap();
        panic!(
            "ui/src/lib/ipc/bindings.ts was stale and has been regenerated: review and commit it.\n\
             (CI fails here so that the UI is never checked against old types.)"
        );
    }
}
