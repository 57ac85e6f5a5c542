//! `slipway.toml`: reading it into [`ProjectConfig`] and writing a config back into the
//! user's document in place, so comments, key order and formatting they chose survive.
//! A config is validated before a byte is written, and the file is replaced atomically.

use std::path::Path;

use toml_edit::{DocumentMut, Item, Table, Value};

use super::validate::validate;
use super::{AwsSettings, HealthCheck, HealthProbe, KeyValue, Platform, ProjectConfig, TaskSize};
use crate::dockerfile::Dockerfile;
use crate::error::{EngineError, Result};
use crate::user_files::{read_text, TEXT_FILE_LIMIT};

pub const PROJECT_FILE: &str = "slipway.toml";

const HEADER: &str = "# Slipway project settings: how to build and run this app, locally and on AWS Fargate.\n# Commit this file. Secrets are referenced by ARN and never stored here.\n";

/// The settings in `dir/slipway.toml`, or `None` when the folder has none yet. A file that
/// is not TOML, or holds a value of the wrong type, is an error naming the line.
pub fn load(dir: &Path) -> Result<Option<ProjectConfig>> {
    let path = dir.join(PROJECT_FILE);
    let Some(text) = read_text(&path, TEXT_FILE_LIMIT)? else {
        return Ok(None);
    };
    // The read-only document keeps each value's position, so an error can name its line.
    let doc = toml_edit::Document::parse(text.as_str()).map_err(|e| {
        let line = e
            .span()
            .map(|span| text[..span.start].lines().count().max(1))
            .unwrap_or(1);
        EngineError::ProjectFileMalformed {
            file: path.clone(),
            line,
            problem: e.message().to_owned(),
        }
    })?;
    let reader = Reader {
        doc: &doc,
        text: &text,
        file: &path,
    };
    reader.config(dir).map(Some)
}

/// What Slipway suggests for a folder without slipway.toml: the folder's name as the app
/// name, the Dockerfile's EXPOSE as the port, and Fargate's smallest task size.
pub fn propose(dir: &Path) -> ProjectConfig {
    let name = dir
        .file_name()
        .map(|n| slug(&n.to_string_lossy()))
        .filter(|n| n.len() >= 2)
        .unwrap_or_else(|| "my-app".into());
    let port = Dockerfile::read(&dir.join("Dockerfile"))
        .ok()
        .flatten()
        .and_then(|d| d.exposed_ports().first().copied())
        .unwrap_or(8080);
    ProjectConfig {
        id: None,
        name,
        image: None,
        target: None,
        dockerfile: "Dockerfile".into(),
        context: ".".into(),
        platform: Platform::default(),
        port: u32::from(port),
        health: HealthCheck::default(),
        build_args: vec![],
        env: vec![],
        secrets: vec![],
        task: TaskSize::default(),
        aws: AwsSettings::default(),
    }
}

fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-')
        .chars()
        .take(super::validate::APP_NAME_MAX)
        .collect()
}

/// Writes `config` into `dir/slipway.toml`, keeping everything else in the file. Refuses,
/// writing nothing, when validation finds a problem. The project's id, once in the file,
/// stays as it is; a file without one gets `config.id`, or a new one.
pub fn save(dir: &Path, config: &ProjectConfig) -> Result<()> {
    let problems = validate(config);
    if !problems.is_empty() {
        return Err(EngineError::InvalidProjectConfig { problems });
    }
    let path = dir.join(PROJECT_FILE);
    let mut doc = read_document(&path)?.unwrap_or_else(|| {
        let mut doc = DocumentMut::new();
        doc.decor_mut().set_prefix(HEADER);
        doc
    });
    write_config(&mut doc, config);
    if project_id_of(&doc).is_none() {
        let id = config
            .id
            .clone()
            .filter(|id| is_project_id(id))
            .unwrap_or_else(|| new_project_id(dir));
        set(
            table(doc.as_table_mut(), "project"),
            "id",
            id.as_str().into(),
        );
    }
    write_document(dir, &path, &doc)
}

/// The id of the saved project in `dir`, written into its slipway.toml first when it has
/// none yet (a project saved before Slipway gave projects ids), keeping the rest of the file.
pub fn ensure_id(dir: &Path) -> Result<String> {
    let path = dir.join(PROJECT_FILE);
    let Some(mut doc) = read_document(&path)? else {
        return Err(EngineError::ProjectNotInitialised {
            dir: dir.to_owned(),
        });
    };
    if let Some(id) = project_id_of(&doc) {
        return Ok(id);
    }
    let id = new_project_id(dir);
    set(
        table(doc.as_table_mut(), "project"),
        "id",
        id.as_str().into(),
    );
    write_document(dir, &path, &doc)?;
    Ok(id)
}

/// A new project id: 16 hex digits from the standard library's randomly keyed hasher (the
/// engine needs no more randomness than this), mixed with the time, process and folder.
pub fn new_project_id(dir: &Path) -> String {
    use std::hash::BuildHasher;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let random = std::collections::hash_map::RandomState::new();
    let id = random.hash_one((now, std::process::id(), dir));
    format!("{id:016x}")
}

fn is_project_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn project_id_of(doc: &DocumentMut) -> Option<String> {
    doc.get("project")
        .and_then(|p| p.get("id"))
        .and_then(Item::as_str)
        .filter(|id| is_project_id(id))
        .map(str::to_owned)
}

/// The editable document in `path`, or `None` when there is no file.
fn read_document(path: &Path) -> Result<Option<DocumentMut>> {
    let Some(text) = read_text(path, TEXT_FILE_LIMIT)? else {
        return Ok(None);
    };
    text.parse::<DocumentMut>()
        .map(Some)
        .map_err(|e| EngineError::ProjectFileMalformed {
            file: path.to_owned(),
            line: e
                .span()
                .map(|s| text[..s.start].lines().count().max(1))
                .unwrap_or(1),
            problem: e.message().to_owned(),
        })
}

/// Replaces `path` with `doc` atomically.
fn write_document(dir: &Path, path: &Path, doc: &DocumentMut) -> Result<()> {
    let tmp = dir.join(format!(".{PROJECT_FILE}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, doc.to_string()).map_err(|e| EngineError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        EngineError::io(path, e)
    })
}

fn write_config(doc: &mut DocumentMut, config: &ProjectConfig) {
    let root = doc.as_table_mut();
    set(root, "name", config.name.as_str().into());
    set_optional(root, "image", config.image.as_deref());
    // An image project builds nothing: its file does not list a Dockerfile it lacks.
    if config.image.is_none() || root.contains_key("dockerfile") {
        set(root, "dockerfile", config.dockerfile.as_str().into());
    }
    if config.image.is_none() || root.contains_key("context") {
        set(root, "context", config.context.as_str().into());
    }
    set_optional(root, "target", config.target.as_deref());
    set(root, "platform", config.platform.as_str().into());
    set(root, "port", i64::from(config.port).into());

    let health = table(root, "health");
    match &config.health.probe {
        HealthProbe::Http { path } => {
            health.remove("command");
            set(health, "path", path.as_str().into());
        }
        HealthProbe::Command { command } => {
            health.remove("path");
            let array: toml_edit::Array = command.iter().map(String::as_str).collect();
            set(health, "command", array.into());
        }
        HealthProbe::None => {
            health.remove("path");
            health.remove("command");
        }
    }
    set(health, "interval", i64::from(config.health.interval).into());
    set(health, "timeout", i64::from(config.health.timeout).into());
    set(health, "retries", i64::from(config.health.retries).into());
    set(
        health,
        "start_period",
        i64::from(config.health.start_period).into(),
    );

    let task = table(root, "task");
    set(task, "cpu", i64::from(config.task.cpu).into());
    set(task, "memory", i64::from(config.task.memory).into());

    set_pairs(root, "build_args", &config.build_args);
    set_pairs(root, "env", &config.env);
    set_pairs(root, "secrets", &config.secrets);

    let a = &config.aws;
    let has_aws = a.profile.is_some()
        || a.region.is_some()
        || a.vpc.is_some()
        || a.allow_from.is_some()
        || a.log_retention_days.is_some()
        || a.load_balancer
        || a.domain.is_some()
        || a.tasks.is_some()
        || a.max_tasks.is_some()
        || a.cpu_target.is_some()
        || a.requests_target.is_some()
        || a.sticky_seconds.is_some()
        || a.bake_minutes.is_some()
        || root.contains_key("aws");
    if has_aws {
        let aws = table(root, "aws");
        set_optional(aws, "profile", a.profile.as_deref());
        set_optional(aws, "region", a.region.as_deref());
        set_optional(aws, "vpc", a.vpc.as_deref());
        set_optional(aws, "allow_from", a.allow_from.as_deref());
        set_number(aws, "log_retention_days", a.log_retention_days);
        if a.load_balancer {
            set(aws, "load_balancer", true.into());
        } else {
            aws.remove("load_balancer");
        }
        set_optional(aws, "domain", a.domain.as_deref());
        set_number(aws, "tasks", a.tasks);
        set_number(aws, "max_tasks", a.max_tasks);
        set_number(aws, "cpu_target", a.cpu_target);
        set_number(aws, "requests_target", a.requests_target);
        set_number(aws, "sticky_seconds", a.sticky_seconds);
        set_number(aws, "bake_minutes", a.bake_minutes);
    }
}

fn set_number(table: &mut Table, key: &str, value: Option<u32>) {
    match value {
        Some(n) => set(table, key, i64::from(n).into()),
        None => {
            table.remove(key);
        }
    }
}

/// The table under `key`, created (as a `[key]` section) when missing.
fn table<'a>(parent: &'a mut Table, key: &str) -> &'a mut Table {
    let item = parent
        .entry(key)
        .or_insert_with(|| Item::Table(Table::new()));
    if !item.is_table() {
        *item = Item::Table(Table::new());
    }
    item.as_table_mut().expect("just made a table")
}

/// Sets `key` to `value` unless it already holds that value, keeping the comment and
/// spacing around the old value.
fn set(table: &mut Table, key: &str, mut value: Value) {
    if let Some(Item::Value(old)) = table.get_mut(key) {
        if same(old, &value) {
            return;
        }
        *value.decor_mut() = old.decor().clone();
        *old = value;
        return;
    }
    table.insert(key, Item::Value(value));
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(a), Value::String(b)) => a.value() == b.value(),
        (Value::Integer(a), Value::Integer(b)) => a.value() == b.value(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| same(x, y))
        }
        _ => false,
    }
}

fn set_optional(table: &mut Table, key: &str, value: Option<&str>) {
    match value {
        Some(v) => set(table, key, v.into()),
        None => {
            table.remove(key);
        }
    }
}

/// Makes `[key]` hold exactly `pairs`, in their order, keeping the comments on the entries
/// that stay. An empty list removes a table that has nothing but its header.
fn set_pairs(root: &mut Table, key: &str, pairs: &[KeyValue]) {
    if pairs.is_empty() {
        if let Some(t) = root.get(key).and_then(Item::as_table) {
            if t.decor()
                .prefix()
                .and_then(|p| p.as_str())
                .is_none_or(|p| p.trim().is_empty())
            {
                root.remove(key);
                return;
            }
        } else {
            return;
        }
    }
    let table = table(root, key);
    let wanted: Vec<&str> = pairs.iter().map(|kv| kv.name.as_str()).collect();
    let stale: Vec<String> = table
        .iter()
        .map(|(k, _)| k.to_owned())
        .filter(|k| !wanted.contains(&k.as_str()))
        .collect();
    for k in stale {
        table.remove(&k);
    }
    for kv in pairs {
        set(table, &kv.name, kv.value.as_str().into());
    }
}

/// Reads values out of a parsed document, naming the line of any value of the wrong type.
struct Reader<'a> {
    doc: &'a toml_edit::Document<&'a str>,
    text: &'a str,
    file: &'a Path,
}

impl Reader<'_> {
    fn config(&self, dir: &Path) -> Result<ProjectConfig> {
        let proposal = propose(dir);
        let root = self.doc.as_table();
        let health_table = self.table(root, "health")?;
        let task_table = self.table(root, "task")?;
        let aws_table = self.table(root, "aws")?;
        let defaults = HealthCheck::default();
        let probe = match health_table {
            None => defaults.probe.clone(),
            Some(t) => match (t.get("path"), t.get("command")) {
                (Some(_), Some(item)) => {
                    return Err(self.wrong(item, "health", "give either path or command, not both"))
                }
                (Some(_), None) => HealthProbe::Http {
                    path: self.string(t, "health.path", "path")?.unwrap_or_default(),
                },
                (None, Some(item)) => HealthProbe::Command {
                    command: self.strings(item, "health.command")?,
                },
                (None, None) => HealthProbe::None,
            },
        };
        let platform = match self.string(root, "platform", "platform")? {
            None => Platform::default(),
            Some(p) => Platform::parse(&p).ok_or_else(|| {
                self.wrong(
                    root.get("platform").expect("read above"),
                    "platform",
                    "must be \"linux/amd64\" or \"linux/arm64\"",
                )
            })?,
        };
        let id = match self.table(root, "project")? {
            None => None,
            Some(t) => match (self.string(t, "project.id", "id")?, t.get("id")) {
                (Some(id), Some(item)) if !is_project_id(&id) => {
                    return Err(self.wrong(
                        item,
                        "project.id",
                        "must be 1 to 64 letters, digits, - or _ (Slipway makes it; it is safe to delete)",
                    ))
                }
                (id, _) => id,
            },
        };
        Ok(ProjectConfig {
            id,
            name: self.string(root, "name", "name")?.unwrap_or(proposal.name),
            image: self.string(root, "image", "image")?,
            target: self.string(root, "target", "target")?,
            dockerfile: self
                .string(root, "dockerfile", "dockerfile")?
                .unwrap_or(proposal.dockerfile),
            context: self
                .string(root, "context", "context")?
                .unwrap_or(proposal.context),
            platform,
            port: self
                .number(Some(root), "port", "port")?
                .unwrap_or(proposal.port),
            health: HealthCheck {
                probe,
                interval: self
                    .number(health_table, "health.interval", "interval")?
                    .unwrap_or(defaults.interval),
                timeout: self
                    .number(health_table, "health.timeout", "timeout")?
                    .unwrap_or(defaults.timeout),
                retries: self
                    .number(health_table, "health.retries", "retries")?
                    .unwrap_or(defaults.retries),
                start_period: self
                    .number(health_table, "health.start_period", "start_period")?
                    .unwrap_or(defaults.start_period),
            },
            build_args: self.pairs(root, "build_args")?,
            env: self.pairs(root, "env")?,
            secrets: self.pairs(root, "secrets")?,
            task: TaskSize {
                cpu: self
                    .number(task_table, "task.cpu", "cpu")?
                    .unwrap_or(proposal.task.cpu),
                memory: self
                    .number(task_table, "task.memory", "memory")?
                    .unwrap_or(proposal.task.memory),
            },
            aws: AwsSettings {
                profile: match aws_table {
                    Some(t) => self.string(t, "aws.profile", "profile")?,
                    None => None,
                },
                region: match aws_table {
                    Some(t) => self.string(t, "aws.region", "region")?,
                    None => None,
                },
                vpc: match aws_table {
                    Some(t) => self.string(t, "aws.vpc", "vpc")?,
                    None => None,
                },
                allow_from: match aws_table {
                    Some(t) => self.string(t, "aws.allow_from", "allow_from")?,
                    None => None,
                },
                log_retention_days: self.number(
                    aws_table,
                    "aws.log_retention_days",
                    "log_retention_days",
                )?,
                load_balancer: self
                    .boolean(aws_table, "aws.load_balancer", "load_balancer")?
                    .unwrap_or(false),
                domain: match aws_table {
                    Some(t) => self.string(t, "aws.domain", "domain")?,
                    None => None,
                },
                tasks: self.number(aws_table, "aws.tasks", "tasks")?,
                max_tasks: self.number(aws_table, "aws.max_tasks", "max_tasks")?,
                cpu_target: self.number(aws_table, "aws.cpu_target", "cpu_target")?,
                requests_target: self.number(
                    aws_table,
                    "aws.requests_target",
                    "requests_target",
                )?,
                sticky_seconds: self.number(aws_table, "aws.sticky_seconds", "sticky_seconds")?,
                bake_minutes: self.number(aws_table, "aws.bake_minutes", "bake_minutes")?,
            },
        })
    }

    fn line_of(&self, item: &Item) -> usize {
        item.span()
            .map(|s| self.text[..s.start].lines().count().max(1))
            .unwrap_or(1)
    }

    fn wrong(&self, item: &Item, field: &str, rule: &str) -> EngineError {
        EngineError::ProjectFileMalformed {
            file: self.file.to_owned(),
            line: self.line_of(item),
            problem: format!("{field} {rule}"),
        }
    }

    fn table<'t>(&self, parent: &'t Table, key: &str) -> Result<Option<&'t Table>> {
        match parent.get(key) {
            None => Ok(None),
            Some(Item::Table(t)) => Ok(Some(t)),
            Some(item) => Err(self.wrong(item, key, "must be a [section]")),
        }
    }

    fn string(&self, table: &Table, field: &str, key: &str) -> Result<Option<String>> {
        match table.get(key) {
            None => Ok(None),
            Some(item) => item
                .as_str()
                .map(|s| Some(s.to_owned()))
                .ok_or_else(|| self.wrong(item, field, "must be a string in quotes")),
        }
    }

    fn boolean(&self, table: Option<&Table>, field: &str, key: &str) -> Result<Option<bool>> {
        match table.and_then(|t| t.get(key)) {
            None => Ok(None),
            Some(item) => item
                .as_bool()
                .map(Some)
                .ok_or_else(|| self.wrong(item, field, "must be true or false")),
        }
    }

    fn number(&self, table: Option<&Table>, field: &str, key: &str) -> Result<Option<u32>> {
        match table.and_then(|t| t.get(key)) {
            None => Ok(None),
            Some(item) => item
                .as_integer()
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| self.wrong(item, field, "must be a whole number, 0 or more")),
        }
    }

    fn strings(&self, item: &Item, field: &str) -> Result<Vec<String>> {
        item.as_array()
            .and_then(|a| {
                a.iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
            })
            .ok_or_else(|| {
                self.wrong(
                    item,
                    field,
                    "must be a list of strings, e.g. [\"CMD-SHELL\", \"true\"]",
                )
            })
    }

    fn pairs(&self, root: &Table, key: &str) -> Result<Vec<KeyValue>> {
        let Some(table) = self.table(root, key)? else {
            return Ok(vec![]);
        };
        table
            .iter()
            .map(|(name, item)| {
                item.as_str()
                    .map(|value| KeyValue {
                        name: name.to_owned(),
                        value: value.to_owned(),
                    })
                    .ok_or_else(|| {
                        self.wrong(item, &format!("{key}.{name}"), "must be a string in quotes")
                    })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::{ScaleOn, ScalingRange};

    const COMMENTED: &str = r#"# My app, deployed with Slipway.
name = "hello-site" # the app name
platform = "linux/amd64"
port = 8080 # busybox httpd listens here
dockerfile = "Dockerfile"
context = "."

[task]
# smallest size: cheapest
cpu = 256
memory = 512

[env]
# shown on the page
GREETING = "hello"
STAGE = "demo"
"#;

    #[test]
    fn a_save_keeps_comments_order_and_untouched_values() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(PROJECT_FILE), COMMENTED).unwrap();
        let mut config = load(dir.path()).unwrap().expect("the file exists");
        assert_eq!(config.port, 8080);
        assert_eq!(config.env.len(), 2);
        config.port = 9090;
        config.task.memory = 1024;
        config.env.retain(|kv| kv.name != "STAGE");
        save(dir.path(), &config).unwrap();
        let text = std::fs::read_to_string(dir.path().join(PROJECT_FILE)).unwrap();
        for kept in [
            "# My app, deployed with Slipway.",
            "name = \"hello-site\" # the app name",
            "port = 9090 # busybox httpd listens here",
            "# smallest size: cheapest",
            "memory = 1024",
            "# shown on the page\nGREETING = \"hello\"",
        ] {
            assert!(text.contains(kept), "expected {kept:?} in:\n{text}");
        }
        assert!(
            !text.contains("STAGE"),
            "a removed variable leaves the file"
        );
        assert!(
            text.find("platform").unwrap() < text.find("port").unwrap(),
            "the user's key order stays"
        );
        let back = load(dir.path()).unwrap().unwrap();
        assert_eq!(
            back.id.as_ref().map(String::len),
            Some(16),
            "a first save gives the project an id"
        );
        assert_eq!(
            ProjectConfig { id: None, ..back },
            config,
            "the file reads back as saved"
        );
    }

    #[test]
    fn the_stable_address_settings_save_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(PROJECT_FILE), COMMENTED).unwrap();
        let mut config = load(dir.path()).unwrap().unwrap();
        config.aws.load_balancer = true;
        config.aws.domain = Some("app.example.com".into());
        config.aws.tasks = Some(2);
        config.aws.max_tasks = Some(4);
        config.aws.cpu_target = Some(70);
        config.aws.sticky_seconds = Some(3600);
        config.aws.bake_minutes = Some(5);
        save(dir.path(), &config).unwrap();
        let text = std::fs::read_to_string(dir.path().join(PROJECT_FILE)).unwrap();
        assert!(text.contains("load_balancer = true"), "{text}");
        let back = load(dir.path()).unwrap().unwrap();
        assert_eq!(back.aws, config.aws);
        assert_eq!(
            back.aws.scaling(),
            Some(ScalingRange {
                min: 2,
                max: 4,
                on: ScaleOn::Cpu(70)
            })
        );
        config.aws.cpu_target = None;
        config.aws.requests_target = Some(600);
        save(dir.path(), &config).unwrap();
        let back = load(dir.path()).unwrap().unwrap();
        assert_eq!(back.aws.requests_target, Some(600));
        assert_eq!(
            back.aws.scaling().map(|s| s.on),
            Some(ScaleOn::Requests(600))
        );
        config.aws.load_balancer = false;
        config.aws.domain = None;
        config.aws.tasks = None;
        config.aws.max_tasks = None;
        config.aws.requests_target = None;
        config.aws.sticky_seconds = None;
        config.aws.bake_minutes = None;
        save(dir.path(), &config).unwrap();
        let text = std::fs::read_to_string(dir.path().join(PROJECT_FILE)).unwrap();
        for gone in [
            "load_balancer",
            "domain",
            "tasks",
            "_target",
            "sticky",
            "bake",
        ] {
            assert!(!text.contains(gone), "{gone} left in:\n{text}");
        }
    }

    #[test]
    fn an_invalid_config_is_refused_and_the_file_is_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(PROJECT_FILE), COMMENTED).unwrap();
        let mut config = load(dir.path()).unwrap().unwrap();
        config.task.memory = 3000;
        config.port = 0;
        let err = save(dir.path(), &config).unwrap_err();
        let EngineError::InvalidProjectConfig { problems } = &err else {
            panic!("expected InvalidProjectConfig, got {err:?}");
        };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, vec!["port", "task.memory"]);
        assert!(
            err.to_string().contains("task.memory"),
            "the message names the field: {err}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join(PROJECT_FILE)).unwrap(),
            COMMENTED,
            "a refused save must not touch the file"
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn a_first_save_writes_a_complete_file_that_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("My Demo App");
        std::fs::create_dir(&project).unwrap();
        std::fs::write(
            project.join("Dockerfile"),
            "FROM busybox:1.36\nEXPOSE 3000\nCMD [\"sh\"]\n",
        )
        .unwrap();
        let mut config = propose(&project);
        assert_eq!(config.name, "my-demo-app");
        assert_eq!(config.port, 3000, "the port comes from EXPOSE");
        config.health.probe = HealthProbe::Command {
            command: vec!["CMD-SHELL".into(), "true".into()],
        };
        config.secrets.push(KeyValue {
            name: "TOKEN".into(),
            value: "/demo/token".into(),
        });
        save(&project, &config).unwrap();
        let text = std::fs::read_to_string(project.join(PROJECT_FILE)).unwrap();
        assert!(text.starts_with("# Slipway project settings"), "{text}");
        let back = load(&project).unwrap().unwrap();
        assert!(back.id.is_some(), "a first save gives the project an id");
        assert_eq!(ProjectConfig { id: None, ..back }, config);
    }

    #[test]
    fn a_project_id_is_made_once_and_kept_by_every_later_save_and_comment() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(PROJECT_FILE), COMMENTED).unwrap();
        let id = ensure_id(dir.path()).unwrap();
        assert_eq!(id.len(), 16, "16 hex digits: {id}");
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        let text = std::fs::read_to_string(dir.path().join(PROJECT_FILE)).unwrap();
        assert!(
            text.contains("# My app, deployed with Slipway.") && text.contains("[project]"),
            "the id is added, the comments stay:\n{text}"
        );
        assert_eq!(ensure_id(dir.path()).unwrap(), id, "made once");

        let mut config = load(dir.path()).unwrap().unwrap();
        assert_eq!(config.id.as_deref(), Some(id.as_str()));
        config.id = None;
        config.port = 9000;
        save(dir.path(), &config).unwrap();
        assert_eq!(
            load(dir.path()).unwrap().unwrap().id.as_deref(),
            Some(id.as_str()),
            "a save from a form that never saw the id keeps it"
        );
        assert_ne!(
            new_project_id(dir.path()),
            new_project_id(dir.path()),
            "two projects made at once still differ"
        );
    }

    #[test]
    fn a_wrongly_typed_value_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(PROJECT_FILE),
            "name = \"a1\"\n\nport = \"eighty\"\n",
        )
        .unwrap();
        let err = load(dir.path()).unwrap_err();
        assert!(
            matches!(err, EngineError::ProjectFileMalformed { line: 3, .. }),
            "{err:?}"
        );
        std::fs::write(
            dir.path().join(PROJECT_FILE),
            "[env]\nA = \"1\"\nA = \"2\"\n",
        )
        .unwrap();
        let err = load(dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("duplicate key"),
            "TOML itself refuses a repeated name: {err}"
        );
    }
}
