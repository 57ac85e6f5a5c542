//! The refusals the browser flows' mock (tests/ui/tauri-mock.js) answers with, written by
//! the engine itself: the mock never copies a check or its words. For each value a flow
//! types into the endpoint override, the access-key form or the cost settings, and for a rollback to each
//! release that cannot be rolled back to, what the engine says
//! (tests/fixtures/refusals.json); and the rollback refusals of tests/fixtures/operate.json,
//! checked against the engine's own sentence. A flow that needs a value not listed fails,
//! naming it: add it to the lists below.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};
use slipway_aws::aws::{add_access_key_profile, NewAccessKeyProfile, Secret};
use slipway_aws::deploy::history::{image_gone, NEW_BUILD_INSTEAD};
use slipway_aws::deploy::undo::Undone;
use slipway_aws::setup::SetupPlan;
use slipway_core::host::{HostEnv, Os};
use slipway_core::settings::{self, AppSettings};
use slipway_core::EngineError;

use crate::error::IpcError;

/// What the flows type as the AWS endpoint override.
const ENDPOINTS: &[&str] = &["127.0.0.1:5055", "http://127.0.0.1:5055"];

/// The secret the flows type into the access-key form.
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// Hours, or none ("always on", "never").
type Hours = Option<f64>;

/// The cost settings the flows save: tasks, hours a week, auto-stop and reminder hours.
const COST_SETTINGS: &[(u32, Hours, Hours, Hours)] =
    &[(1, Some(10.0), None, None), (1, None, None, Some(12.0))];

/// The access keys the flows add: name, key id, region.
const ACCESS_KEYS: &[(&str, &str, Option<&str>)] = &[
    ("default", "AKIAIOSFODNN7EXAMPLE", None),
    ("demo", "AKIAIOSFODNN7EXAMPLE", Some("eu-central-1")),
];

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The sample's app name, as tests/fixtures/project.json has it.
fn sample_name() -> String {
    let project: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("project.json")).unwrap()).unwrap();
    project["sample"]["config"]["name"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn refusal<T>(answer: Result<T, EngineError>) -> Value {
    match answer {
        Ok(_) => Value::Null,
        Err(e) => serde_json::to_value(IpcError::from(e)).unwrap(),
    }
}

#[test]
fn the_ui_fixture_holds_the_engines_refusals() {
    // The mock's world: the profiles of tests/fixtures/environment.json, in its home.
    let environment: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("environment.json")).unwrap())
            .unwrap();
    let credentials = environment["aws"]["credentialsFile"]["path"]
        .as_str()
        .unwrap();
    let world_home = Path::new(credentials).parent().unwrap().parent().unwrap();
    let home = tempfile::tempdir().unwrap();
    let aws = home.path().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    let names: Vec<&str> = environment["aws"]["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    let keys: String = names
        .iter()
        .map(|n| {
            format!(
                "[{n}]\naws_access_key_id = AKIAEXAMPLEEXAMPLE\naws_secret_access_key = {SECRET}\n"
            )
        })
        .collect();
    std::fs::write(aws.join("credentials"), keys).unwrap();
    let host = HostEnv::new(
        Os::Linux,
        Some(home.path().to_owned()),
        [(
            "SLIPWAY_DATA_DIR".to_owned(),
            home.path().join("data").display().to_string(),
        )],
    );
    // The temp home is written as the world's, so the paths read as the mock's files.
    let in_world = |value: Value| -> Value {
        let text = value.to_string().replace(
            &home.path().display().to_string(),
            &world_home.display().to_string(),
        );
        serde_json::from_str(&text).unwrap()
    };

    let mut endpoint = BTreeMap::new();
    for url in ENDPOINTS {
        let saved = settings::save(
            &host,
            &AppSettings {
                aws_endpoint_url: Some((*url).to_owned()),
            },
        );
        endpoint.insert(*url, refusal(saved));
    }
    let mut access_key = BTreeMap::new();
    for (name, id, region) in ACCESS_KEYS {
        let request = NewAccessKeyProfile {
            name: (*name).to_owned(),
            access_key_id: (*id).to_owned(),
            secret_access_key: Secret::new(SECRET),
            region: region.map(str::to_owned),
        };
        let added = add_access_key_profile(&host, &request);
        let key = format!("{name}|{id}|{SECRET}|{}", region.unwrap_or_default());
        access_key.insert(key, in_world(refusal(added)));
    }
    let project = tempfile::tempdir().unwrap();
    slipway_core::project::write_sample(project.path()).unwrap();
    let mut cost = BTreeMap::new();
    for (tasks, hours_per_week, auto_stop_hours, remind_after_hours) in COST_SETTINGS {
        let settings = slipway_aws::cost::CostSettings {
            tasks: *tasks,
            hours_per_week: *hours_per_week,
            auto_stop_hours: *auto_stop_hours,
            remind_after_hours: *remind_after_hours,
            ..Default::default()
        };
        let saved = slipway_aws::cost::save_project_settings(&host, project.path(), &settings);
        let shown = |h: &Option<f64>| h.map_or("null".to_owned(), |h| h.to_string());
        let key = format!(
            "{tasks}|{}|{}|{}",
            shown(hours_per_week),
            shown(auto_stop_hours),
            shown(remind_after_hours)
        );
        cost.insert(key, refusal(saved));
    }
    // A rollback to a release that cannot be rolled back to, with that release's reasons.
    let operate: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("operate.json")).unwrap()).unwrap();
    let mut rollback = BTreeMap::new();
    for release in operate["releases"]["releases"].as_array().unwrap() {
        let problems: Vec<String> = release["rollback"]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_owned())
            .collect();
        if problems.is_empty() {
            continue;
        }
        let revision = release["revision"].as_i64().unwrap() as i32;
        let refused = EngineError::RollbackRefused { revision, problems };
        rollback.insert(revision.to_string(), refusal::<()>(Err(refused)));
    }
    // The refusals the flows meet in other states, with the flows' values (placeholders in
    // braces where the mock fills in its own).
    let aws: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("aws.json")).unwrap()).unwrap();
    let plan: SetupPlan = serde_json::from_value(aws["setupPlan"].clone()).unwrap();
    let sample = sample_name();
    let missing_dir = Path::new("/nonexistent/{dir}");
    let messages = json!({
        "setupNeeded": refusal::<()>(Err(EngineError::SetupNeeded {
            missing: plan.not_ready(),
            app: plan.app,
            region: plan.region,
        })),
        "cancelled": refusal::<()>(Err(EngineError::Cancelled)),
        "deployCancelled": refusal::<()>(Err(EngineError::DeployCancelled {
            left: Undone::default().said(),
        })),
        "noReleases": refusal::<()>(Err(EngineError::NoReleases { app: sample })),
        "invalidProjectConfig": refusal::<()>(Err(EngineError::invalid_field("{field}", "{message}"))),
        "projectNotFound": refusal(slipway_core::project::open(&host, missing_dir))
            .to_string()
            .replace(&missing_dir.display().to_string(), "{dir}")
            .parse::<Value>()
            .unwrap(),
    });
    let json = serde_json::to_string_pretty(&json!({
        "messages": messages,
        "endpoint": endpoint,
        "accessKey": access_key,
        "rollback": rollback,
        "costSettings": cost,
    }))
    .unwrap()
        + "\n";
    let path = fixture("refusals.json");
    if std::fs::read_to_string(&path).unwrap_or_default() != json {
        std::fs::write(&path, &json).unwrap();
        panic!("tests/fixtures/refusals.json was out of date and has been rewritten; commit it");
    }
}

/// The rollback refusals in tests/fixtures/operate.json are the engine's sentences: the
/// refusal of revision 2 once its image is gone, and each release's "why not".
#[test]
fn the_operate_fixtures_rollback_refusals_are_the_engines() {
    let operate: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("operate.json")).unwrap()).unwrap();
    let releases = &operate["releases"];
    let repository = releases["repository"].as_str().unwrap();
    let digest_of = |revision: i64| -> String {
        let release = releases["releases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["revision"] == revision)
            .unwrap();
        let image = release["image"].as_str().unwrap();
        image.split_once('@').unwrap().1.to_owned()
    };
    let refused = IpcError::from(EngineError::RollbackRefused {
        revision: 2,
        problems: vec![format!(
            "{} {NEW_BUILD_INSTEAD}",
            image_gone(&digest_of(2), repository)
        )],
    });
    assert_eq!(
        operate["rollback"]["refused"],
        serde_json::to_value(&refused).unwrap(),
        "operate.json's rollback.refused is not the engine's refusal: put this in its place"
    );
    let gone = &releases["releases"][2];
    assert_eq!(gone["revision"], 1);
    assert_eq!(
        gone["rollback"]["problems"][0].as_str().unwrap(),
        image_gone(&digest_of(1), repository),
        "operate.json's revision 1 gives another reason than the engine's"
    );
}
