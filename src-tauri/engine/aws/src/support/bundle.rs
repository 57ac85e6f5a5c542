//! The support bundle: one `.tar.gz` a user can attach to a bug report. It holds Slipway's
//! log files, the deploy journal (tables `deploys` and `deploy_steps` as JSON), Slipway's
//! version, the OS and architecture, the Docker engine's version when it answers, and the
//! AWS profiles by name and kind. Everything is redacted on the way in: no secret keys,
//! no session tokens, no environment variable values, and the home directory written `~`.
//! The data file is opened read-only; nothing of Slipway's is changed by making a bundle.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use serde_json::{json, Value};

use super::log::log_files;
use super::redact::{redact, tilde_home};
use crate::aws::read_profiles;
use slipway_core::app::VERSION;
use slipway_core::error::{EngineError, Result};
use slipway_core::host::HostEnv;
use slipway_core::store::db_path;
use slipway_docker::docker::{probe, DockerStatus};

/// How long the bundle waits for the Docker engine to say its version.
const DOCKER_DEADLINE: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SupportBundle {
    /// Where the archive was written.
    pub path: String,
    /// The files inside it.
    pub files: Vec<String>,
}

/// Writes the bundle to `path` (a `.tar.gz`), replacing a file already there.
pub async fn export_support_bundle(host: &HostEnv, path: &Path) -> Result<SupportBundle> {
    let docker = docker_version(host).await;
    let entries = collect(host, docker);
    write_archive(path, &entries)?;
    tracing::info!(file = %path.display(), "wrote a support bundle");
    Ok(SupportBundle {
        path: path.display().to_string(),
        files: entries.into_iter().map(|(name, _)| name).collect(),
    })
}

async fn docker_version(host: &HostEnv) -> Value {
    match tokio::time::timeout(DOCKER_DEADLINE, probe(host)).await {
        Ok(DockerStatus::Running { engine, .. }) => json!({
            "version": engine.version,
            "apiVersion": engine.api_version,
            "os": engine.os,
            "arch": engine.arch,
        }),
        Ok(DockerStatus::Unavailable { reason, .. }) => json!({ "unavailable": reason }),
        Err(_) => {
            json!({ "unavailable": format!("no answer within {} s", DOCKER_DEADLINE.as_secs()) })
        }
    }
}

/// The archive's files, by name, already redacted.
fn collect(host: &HostEnv, docker: Value) -> Vec<(String, Vec<u8>)> {
    let scrub = |text: &str| -> String {
        let text = redact(text);
        tilde_home(&text, host.home.as_deref()).into_owned()
    };
    let mut entries = Vec::new();
    entries.push(("README.txt".to_owned(), README.as_bytes().to_vec()));
    let profiles = read_profiles(host);
    let about = json!({
        "slipway": VERSION,
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "docker": docker,
        "awsProfiles": profiles
            .profiles
            .iter()
            .map(|p| json!({ "name": p.name, "kind": p.kind }))
            .collect::<Vec<_>>(),
        "createdAt": unix_seconds(SystemTime::now()),
    });
    entries.push(("about.json".to_owned(), pretty(&scrub_json(about, &scrub))));
    entries.push((
        "journal.json".to_owned(),
        pretty(&scrub_json(journal(&db_path(host)), &scrub)),
    ));
    for file in log_files(host) {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let contents = match std::fs::read(&file) {
            Ok(bytes) => scrub(&String::from_utf8_lossy(&bytes)),
            Err(e) => format!("(could not be read: {e})\n"),
        };
        entries.push((format!("logs/{name}"), contents.into_bytes()));
    }
    entries
}

const README: &str = "\
A Slipway support bundle.

about.json    Slipway's version, the OS and architecture, the Docker engine's version,
              and the AWS profiles by name and kind.
journal.json  The deploy journal: every deploy and each step that made or removed
              something on AWS.
logs/         Slipway's log files, newest first (slipway.log, then slipway.log.1...).

Removed before writing: AWS secret access keys and session tokens (shown as ***),
the middle of access key ids, environment variable values, and the home directory
(shown as ~). Nothing else from the computer is included.
";

fn pretty(value: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("JSON values always serialize");
    bytes.push(b'\n');
    bytes
}

/// Every string in `value` scrubbed (strings, not the serialized text, so a Windows path
/// is matched before JSON doubles its backslashes).
fn scrub_json(value: Value, scrub: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::String(s) => Value::String(scrub(&s)),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| scrub_json(v, scrub)).collect())
        }
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k, scrub_json(v, scrub)))
                .collect(),
        ),
        other => other,
    }
}

/// The deploy journal's two tables, every column, oldest first; or why they could not be
/// read (no data file yet, one from a newer Slipway...), which is itself worth knowing.
fn journal(db: &Path) -> Value {
    if !db.exists() {
        return json!({ "deploys": [], "deploySteps": [], "note": "no data file yet" });
    }
    let read = || -> rusqlite::Result<Value> {
        let conn = Connection::open_with_flags(
            db,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Ok(json!({
            "deploys": rows(&conn, "SELECT * FROM deploys ORDER BY started_at, id")?,
            "deploySteps": rows(&conn, "SELECT * FROM deploy_steps ORDER BY deploy_id, seq")?,
        }))
    };
    read().unwrap_or_else(|e| {
        json!({ "deploys": [], "deploySteps": [], "note": format!("the journal could not be read: {e}") })
    })
}

fn rows(conn: &Connection, sql: &str) -> rusqlite::Result<Vec<Value>> {
    let mut statement = conn.prepare(sql)?;
    let columns: Vec<String> = statement
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut rows = statement.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut object = serde_json::Map::new();
        for (i, column) in columns.iter().enumerate() {
            let value = match row.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => json!(n),
                ValueRef::Real(x) => json!(x),
                ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::String(format!("({} bytes)", b.len())),
            };
            object.insert(column.clone(), value);
        }
        out.push(Value::Object(object));
    }
    Ok(out)
}

fn unix_seconds(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Writes the archive beside `path` first, then renames it into place, so a failure never
/// leaves half an archive under the chosen name.
fn write_archive(path: &Path, entries: &[(String, Vec<u8>)]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(EngineError::FileSystem {
            path: dir.to_owned(),
            reason: "the folder does not exist".into(),
        });
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "slipway-support.tar.gz".into());
    let temp: PathBuf = dir.join(format!(".{name}.partial"));
    let written = (|| -> std::io::Result<()> {
        let file = std::fs::File::create(&temp)?;
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        let mtime = unix_seconds(SystemTime::now());
        for (name, contents) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(contents.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(mtime);
            header.set_cksum();
            tar.append_data(
                &mut header,
                format!("slipway-support/{name}"),
                contents.as_slice(),
            )?;
        }
        tar.into_inner()?.finish()?.sync_all()
    })();
    if let Err(e) = written.and_then(|()| std::fs::rename(&temp, path)) {
        let _ = std::fs::remove_file(&temp);
        return Err(EngineError::io(path, e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::support::log::{log_dir, FILE_NAME};
    use slipway_core::host::Os;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn read_back(path: &Path) -> std::collections::BTreeMap<String, String> {
        let gz = flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap());
        let mut archive = tar::Archive::new(gz);
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let mut entry = entry.unwrap();
                let name = entry.path().unwrap().display().to_string();
                let mut text = String::new();
                entry.read_to_string(&mut text).unwrap();
                (name, text)
            })
            .collect()
    }

    #[tokio::test]
    async fn a_bundle_holds_the_logs_journal_and_facts_but_no_secret_or_home() {
        let home = tempfile::tempdir().unwrap();
        let data = home.path().join("data");
        slipway_core::test_support::write_aws_files(
            home.path(),
            "[profile sso-work]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n",
            &format!("[work]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {SECRET}\naws_session_token = FwoGZXIvYXdzEXAMPLETOKEN\n"),
        );
        let host = HostEnv::new(
            Os::Linux,
            Some(home.path().to_owned()),
            [
                ("SLIPWAY_DATA_DIR".to_owned(), data.display().to_string()),
                (
                    "DOCKER_HOST".to_owned(),
                    format!("unix://{}/no-docker.sock", home.path().display()),
                ),
                ("AWS_SECRET_ACCESS_KEY".to_owned(), SECRET.to_owned()),
                ("MY_APP_PASSWORD".to_owned(), "hunter2-env-value".to_owned()),
            ],
        );
        {
            let conn = slipway_core::store::open(&host).unwrap();
            conn.execute_batch(&format!(
                "INSERT INTO deploys (id, app, project_dir, account, region, cluster, mode, version, started_at)
                 VALUES ('d1', 'demo', '{}/site', '123456789012', 'eu-west-2', 'slipway-demo', 'task', 'abc123', 1700000000);
                 INSERT INTO deploy_steps (deploy_id, seq, at, kind, subject, detail)
                 VALUES ('d1', 1, 1700000001, 'taskStarted', 'arn:aws:ecs:eu-west-2:123456789012:task/slipway-demo/0f1e', '');",
                home.path().display()
            ))
            .unwrap();
        }
        std::fs::create_dir_all(log_dir(&host)).unwrap();
        std::fs::write(
            log_dir(&host).join(FILE_NAME),
            format!(
                "INFO deploy started in {}/site\nDEBUG oops aws_secret_access_key={SECRET}\n",
                home.path().display()
            ),
        )
        .unwrap();
        std::fs::write(log_dir(&host).join("slipway.log.1"), "INFO an older line\n").unwrap();

        let out = home.path().join("bundle.tar.gz");
        let bundle = export_support_bundle(&host, &out).await.unwrap();
        let files = read_back(&out);

        for name in [
            "README.txt",
            "about.json",
            "journal.json",
            "logs/slipway.log",
            "logs/slipway.log.1",
        ] {
            let full = format!("slipway-support/{name}");
            assert!(
                files.contains_key(&full),
                "{full} is in the bundle: {:?}",
                files.keys()
            );
            assert!(
                bundle.files.contains(&name.to_owned()),
                "{name} is reported"
            );
        }
        let home_text = home.path().display().to_string();
        for (name, text) in &files {
            assert!(
                !text.contains(SECRET),
                "{name} holds the secret key: {text}"
            );
            assert!(
                !text.contains("FwoGZXIvYXdzEXAMPLETOKEN"),
                "{name} holds the session token"
            );
            assert!(
                !text.contains("hunter2-env-value"),
                "{name} holds an environment value"
            );
            assert!(
                !text.contains(&home_text),
                "{name} names the home directory: {text}"
            );
        }

        let journal: Value = serde_json::from_str(&files["slipway-support/journal.json"]).unwrap();
        assert_eq!(journal["deploys"][0]["id"], "d1");
        assert_eq!(
            journal["deploys"][0]["project_dir"], "~/site",
            "home written as ~"
        );
        assert_eq!(journal["deploySteps"][0]["kind"], "taskStarted");

        let about: Value = serde_json::from_str(&files["slipway-support/about.json"]).unwrap();
        assert_eq!(about["slipway"], VERSION);
        assert!(
            about["docker"]["unavailable"].is_string(),
            "a dead Docker is noted, not fatal"
        );
        let mut profiles: Vec<(String, String)> = about["awsProfiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_owned(),
                    p["kind"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        profiles.sort();
        assert_eq!(
            profiles,
            [
                ("sso-work".to_owned(), "Sso".to_owned()),
                ("work".to_owned(), "AccessKeys".to_owned())
            ],
            "profiles by name and kind only"
        );
        let log = &files["slipway-support/logs/slipway.log"];
        assert!(
            log.contains("deploy started in ~/site") && log.contains("aws_secret_access_key=***")
        );
    }

    #[tokio::test]
    async fn a_bundle_without_any_data_yet_still_says_so_and_changes_nothing() {
        let data = tempfile::tempdir().unwrap();
        let host = HostEnv::new(
            Os::Linux,
            Some(data.path().join("home")),
            [
                (
                    "SLIPWAY_DATA_DIR".to_owned(),
                    data.path().join("data").display().to_string(),
                ),
                (
                    "DOCKER_HOST".to_owned(),
                    "unix:///nonexistent/docker.sock".to_owned(),
                ),
            ],
        );
        let out = data.path().join("b.tar.gz");
        export_support_bundle(&host, &out).await.unwrap();
        let files = read_back(&out);
        let journal: Value = serde_json::from_str(&files["slipway-support/journal.json"]).unwrap();
        assert_eq!(journal["note"], "no data file yet");
        assert!(
            !data.path().join("data/slipway.sqlite3").exists(),
            "making a bundle does not create Slipway's data file"
        );
    }
}
