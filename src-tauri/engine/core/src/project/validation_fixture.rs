//! The fixture the UI's tests answer "validate" with, written by the engine's own rules.

use std::path::Path;

use super::{validate, FieldProblem, KeyValue, ProjectConfig, TaskSize};

/// The UI's tests answer "validate" with this engine's own words, never a copy of its
/// rules: for each value a field of the sample's settings takes in the fixtures and the
/// browser flows, what `validate` says of the sample with only that value changed
/// (tests/fixtures/validation.json, read by tests/ui/tauri-mock.js). A flow that needs a
/// value not listed fails there, naming it: add it to `VALUES` below.
#[test]
fn the_ui_fixture_holds_the_engines_answers() {
    use std::collections::BTreeMap;
    const VALUES: &[(&str, &[&str])] = &[
        (
            "name",
            &[
                "hello-site",
                "shop",
                "shop-api",
                "my-app",
                "dbward-server",
                "",
                "Hello Site",
                "a",
            ],
        ),
        ("port", &["8080", "3000", "80", "0", "70000"]),
        (
            "env",
            &["GREETING", "", "1BAD", "API_KEY", "DATABASE_URL", "PORT"],
        ),
        ("build_args", &["NODE_ENV", "", "1BAD"]),
        ("secrets", &["API_KEY", "", "1BAD"]),
        (
            "image",
            &[
                "ghcr.io/dbward-dev/dbward-server:",
                "ghcr.io/dbward-dev/dbward-server:v0.1.3",
                "nginx:1.27",
            ],
        ),
    ];
    let sample: ProjectConfig = toml_sample();
    let mut cases: BTreeMap<String, Vec<FieldProblem>> = BTreeMap::new();
    let mut ask = |key: String, config: ProjectConfig, field: &dyn Fn(&str) -> bool| {
        let problems = validate(&config)
            .into_iter()
            .filter(|p| field(&p.field))
            .collect();
        cases.insert(key, problems);
    };
    for (field, values) in VALUES {
        for value in *values {
            let mut config = sample.clone();
            let pair = KeyValue {
                name: (*value).to_owned(),
                value: "x".to_owned(),
            };
            match *field {
                "name" => config.name = (*value).to_owned(),
                "port" => config.port = value.parse().unwrap(),
                "env" => config.env = vec![pair],
                "build_args" => config.build_args = vec![pair],
                "secrets" => {
                    config.secrets = vec![KeyValue {
                        value: "arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbCdEf"
                            .to_owned(),
                        ..pair
                    }];
                    config.env.clear();
                }
                "image" => config.image = Some((*value).to_owned()),
                _ => unreachable!(),
            }
            let section = *field;
            ask(format!("{field}:{value}"), config, &|f: &str| {
                f == section
                    || f.starts_with(&format!("{section}."))
                    || f.starts_with(&format!("{section}["))
            });
        }
    }
    // Every Fargate CPU setting with every memory any of them accepts: the size selects.
    let memories: std::collections::BTreeSet<u32> = crate::fargate::cpu_settings()
        .flat_map(crate::fargate::memories_for)
        .collect();
    for cpu in crate::fargate::cpu_settings() {
        for memory in &memories {
            let mut config = sample.clone();
            config.task = TaskSize {
                cpu,
                memory: *memory,
            };
            ask(format!("task:{cpu}/{memory}"), config, &|f: &str| {
                f.starts_with("task")
            });
        }
    }
    let json = serde_json::to_string_pretty(&serde_json::json!({ "cases": cases })).unwrap() + "\n";
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/validation.json");
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current != json {
        std::fs::write(&path, &json).unwrap();
        panic!("tests/fixtures/validation.json was out of date and has been rewritten; commit it");
    }
}

fn toml_sample() -> ProjectConfig {
    let dir = tempfile::tempdir().unwrap();
    crate::project::write_sample(dir.path()).unwrap();
    crate::project::load(dir.path()).unwrap().unwrap()
}
