//! The deploy journal in Slipway's SQLite file: a row per deploy and a row per step that
//! made or removed something on AWS (pushed, registered, started, stopped), each written
//! the moment it happens. A deploy without `finished_at` was cut short (the app was
//! killed, or the machine slept); the next start lists it with the tasks it started, so
//! no paid task runs unknown to the user.

use std::path::{Path, PathBuf};

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::DeployMode;
use slipway_core::error::Result;
use slipway_core::store::{open_at, storage_error};

/// What a journal step records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    Pushed,
    Registered,
    StartedTask,
    StoppedTask,
    CreatedService,
    UpdatedService,
    /// The task definition revision the deploy ran (subject) with its image (detail).
    UsedRevision,
    /// A rollback: the revision rolled back to (subject).
    RolledBack,
    /// `latest` moved in ECR (subject) to an earlier digest (detail).
    Retagged,
}

impl StepKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pushed => "pushed",
            Self::Registered => "registered",
            Self::StartedTask => "started_task",
            Self::StoppedTask => "stopped_task",
            Self::CreatedService => "created_service",
            Self::UpdatedService => "updated_service",
            Self::UsedRevision => "used_revision",
            Self::RolledBack => "rolled_back",
            Self::Retagged => "retagged",
        }
    }
}

/// How a deploy ended, as the journal records it (the text is what the data file holds and
/// what the window receives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
pub enum Outcome {
    #[serde(rename = "succeeded")]
    Succeeded,
    /// The app failed: its task stopped, or its URL never answered.
    #[serde(rename = "failed")]
    Failed,
    #[serde(rename = "cancelled")]
    Cancelled,
    #[serde(rename = "timed out")]
    TimedOut,
    /// An AWS or Docker error ended it, after undo.
    #[serde(rename = "stopped by an error")]
    StoppedByError,
    /// Closed after a restart (settled by the user).
    #[serde(rename = "abandoned")]
    Abandoned,
    /// Undo could not stop everything it started: the deploy stays open (unfinished) with
    /// the tasks it left, until the user stops or keeps them.
    #[serde(rename = "needs attention")]
    NeedsAttention,
}

impl Outcome {
    const ALL: [Self; 7] = [
        Self::Succeeded,
        Self::Failed,
        Self::Cancelled,
        Self::TimedOut,
        Self::StoppedByError,
        Self::Abandoned,
        Self::NeedsAttention,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::TimedOut => "timed out",
            Self::StoppedByError => "stopped by an error",
            Self::Abandoned => "abandoned",
            Self::NeedsAttention => "needs attention",
        }
    }

    /// The outcome a stored text names; `None` for text no version of Slipway wrote.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

/// A deploy as the journal knows it.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    pub id: String,
    pub app: String,
    pub project_dir: String,
    pub account: String,
    pub region: String,
    pub cluster: String,
    pub mode: DeployMode,
    pub version: String,
    /// Seconds since the Unix epoch.
    pub started_at: f64,
    pub finished_at: Option<f64>,
    /// "succeeded", "failed", "cancelled", "timed out", "stopped by an error", "abandoned";
    /// "needs attention" (still unfinished) when its undo left tasks running; none while
    /// running. See [`Outcome`].
    pub outcome: Option<Outcome>,
    pub url: Option<String>,
    pub summary: Option<String>,
    /// Task ARNs this deploy started and has not seen stopped.
    pub started_tasks: Vec<String>,
    /// The service this deploy created or updated, if any.
    pub service: Option<String>,
    /// The task definition revision ARN it ran, and its image (repository@digest).
    pub task_definition: Option<String>,
    pub image: Option<String>,
    /// For a rollback: the revision it rolled back to, and whether it moved `latest`.
    pub rolled_back_to: Option<i32>,
    pub retagged: bool,
}

/// The open journal of one deploy.
#[derive(Debug, Clone)]
pub struct Journal {
    db: PathBuf,
    pub id: String,
}

impl Journal {
    pub fn begin(db: &Path, entry: &JournalEntry) -> Result<Self> {
        let conn = open_at(db)?;
        conn.execute(
            "INSERT INTO deploys (id, app, project_dir, account, region, cluster, mode, version, started_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, strftime('%s','now'))",
            params![
                entry.id,
                entry.app,
                entry.project_dir,
                entry.account,
                entry.region,
                entry.cluster,
                entry.mode.as_str(),
                entry.version
            ],
        )
        .map_err(|e| storage_error(db, e))?;
        Ok(Self {
            db: db.to_owned(),
            id: entry.id.clone(),
        })
    }

    /// The journal of a deploy that already began (to add steps after a restart).
    pub fn reopen(db: &Path, id: &str) -> Self {
        Self {
            db: db.to_owned(),
            id: id.to_owned(),
        }
    }

    pub fn step(&self, kind: StepKind, subject: &str, detail: &str) -> Result<()> {
        let conn = open_at(&self.db)?;
        conn.execute(
            "INSERT INTO deploy_steps (deploy_id, seq, at, kind, subject, detail)
             VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM deploy_steps WHERE deploy_id = ?1),
                     strftime('%s','now'), ?2, ?3, ?4)",
            params![self.id, kind.as_str(), subject, detail],
        )
        .map_err(|e| storage_error(&self.db, e))?;
        Ok(())
    }

    /// The tasks this deploy recorded as started and not as stopped.
    pub fn started_tasks(&self) -> Result<Vec<String>> {
        let conn = open_at(&self.db)?;
        Ok(still_started(&steps(&conn, &self.db, &self.id)?))
    }

    /// How this deploy changed the app's service, if it did: created, or updated from
    /// the revision recorded as the step's detail.
    pub fn service_step(&self) -> Result<Option<(StepKind, String)>> {
        let conn = open_at(&self.db)?;
        conn.query_row(
            "SELECT kind, detail FROM deploy_steps WHERE deploy_id = ?1
             AND kind IN ('created_service', 'updated_service') ORDER BY seq LIMIT 1",
            params![self.id],
            |row| {
                let kind: String = row.get(0)?;
                let kind = if kind == "created_service" {
                    StepKind::CreatedService
                } else {
                    StepKind::UpdatedService
                };
                Ok((kind, row.get(1)?))
            },
        )
        .optional()
        .map_err(|e| storage_error(&self.db, e))
    }

    pub fn finish(&self, outcome: Outcome, url: Option<&str>, summary: &str) -> Result<()> {
        finish(&self.db, &self.id, outcome, url, summary)
    }

    /// Leaves the deploy open, marked as needing attention, with what it left running.
    pub fn needs_attention(&self, summary: &str) -> Result<()> {
        let conn = open_at(&self.db)?;
        conn.execute(
            "UPDATE deploys SET outcome = ?2, summary = ?3 WHERE id = ?1 AND finished_at IS NULL",
            params![self.id, Outcome::NeedsAttention.as_str(), summary],
        )
        .map_err(|e| storage_error(&self.db, e))?;
        Ok(())
    }
}

pub fn finish(
    db: &Path,
    id: &str,
    outcome: Outcome,
    url: Option<&str>,
    summary: &str,
) -> Result<()> {
    let conn = open_at(db)?;
    conn.execute(
        "UPDATE deploys SET finished_at = strftime('%s','now'), outcome = ?2, url = ?3, summary = ?4
         WHERE id = ?1 AND finished_at IS NULL",
        params![id, outcome.as_str(), url, summary],
    )
    .map_err(|e| storage_error(db, e))?;
    Ok(())
}

const SELECT: &str = "SELECT id, app, project_dir, account, region, cluster, mode, version,
    started_at, finished_at, outcome, url, summary FROM deploys";

fn read(db: &Path, filter: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<JournalEntry>> {
    let conn = open_at(db)?;
    let mut statement = conn
        .prepare(&format!("{SELECT} {filter}"))
        .map_err(|e| storage_error(db, e))?;
    let rows = statement
        .query_map(args, |row| {
            let mode: String = row.get(6)?;
            Ok(JournalEntry {
                id: row.get(0)?,
                app: row.get(1)?,
                project_dir: row.get(2)?,
                account: row.get(3)?,
                region: row.get(4)?,
                cluster: row.get(5)?,
                mode: DeployMode::parse(&mode),
                version: row.get(7)?,
                started_at: row.get::<_, i64>(8)? as f64,
                finished_at: row.get::<_, Option<i64>>(9)?.map(|t| t as f64),
                outcome: row
                    .get::<_, Option<String>>(10)?
                    .as_deref()
                    .and_then(Outcome::parse),
                url: row.get(11)?,
                summary: row.get(12)?,
                started_tasks: Vec::new(),
                service: None,
                task_definition: None,
                image: None,
                rolled_back_to: None,
                retagged: false,
            })
        })
        .map_err(|e| storage_error(db, e))?;
    let mut entries = rows
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| storage_error(db, e))?;
    for entry in &mut entries {
        let detailed = steps_with_detail(&conn, db, &entry.id)?;
        let last = |wanted: &str| detailed.iter().rev().find(|(kind, ..)| kind == wanted);
        if let Some((_, arn, image)) = last("used_revision") {
            entry.task_definition = Some(arn.clone());
            entry.image = Some(image.clone());
        }
        entry.rolled_back_to =
            last("rolled_back").and_then(|(_, revision, _)| revision.parse().ok());
        entry.retagged = last("retagged").is_some();
        let steps: Vec<(String, String)> = detailed
            .into_iter()
            .map(|(kind, subject, _)| (kind, subject))
            .collect();
        entry.started_tasks = still_started(&steps);
        entry.service = steps
            .iter()
            .find(|(kind, _)| kind == "created_service" || kind == "updated_service")
            .map(|(_, subject)| subject.clone());
    }
    Ok(entries)
}

fn steps(conn: &rusqlite::Connection, db: &Path, id: &str) -> Result<Vec<(String, String)>> {
    Ok(steps_with_detail(conn, db, id)?
        .into_iter()
        .map(|(kind, subject, _)| (kind, subject))
        .collect())
}

fn steps_with_detail(
    conn: &rusqlite::Connection,
    db: &Path,
    id: &str,
) -> Result<Vec<(String, String, String)>> {
    let mut statement = conn
        .prepare("SELECT kind, subject, detail FROM deploy_steps WHERE deploy_id = ?1 ORDER BY seq")
        .map_err(|e| storage_error(db, e))?;
    let rows = statement
        .query_map(params![id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .map_err(|e| storage_error(db, e))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| storage_error(db, e))
}

/// Tasks started and not recorded as stopped, in start order.
fn still_started(steps: &[(String, String)]) -> Vec<String> {
    let stopped: Vec<&str> = steps
        .iter()
        .filter(|(kind, _)| kind == "stopped_task")
        .map(|(_, s)| s.as_str())
        .collect();
    steps
        .iter()
        .filter(|(kind, subject)| kind == "started_task" && !stopped.contains(&subject.as_str()))
        .map(|(_, s)| s.clone())
        .collect()
}

/// Deploys that never finished, newest first.
pub fn unfinished(db: &Path) -> Result<Vec<JournalEntry>> {
    read(
        db,
        "WHERE finished_at IS NULL ORDER BY started_at DESC, id DESC",
        &[],
    )
}

/// The app's deploys in one account and region, newest first.
pub fn history(db: &Path, account: &str, region: &str, app: &str) -> Result<Vec<JournalEntry>> {
    read(
        db,
        "WHERE account = ?1 AND region = ?2 AND app = ?3 ORDER BY started_at DESC, id DESC",
        &[&account, &region, &app],
    )
}

pub fn get(db: &Path, id: &str) -> Result<Option<JournalEntry>> {
    let conn = open_at(db)?;
    let exists: Option<String> = conn
        .query_row("SELECT id FROM deploys WHERE id = ?1", params![id], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| storage_error(db, e))?;
    match exists {
        Some(_) => Ok(read(db, "WHERE id = ?1", &[&id])?.into_iter().next()),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str) -> JournalEntry {
        JournalEntry {
            id: id.into(),
            app: "hello".into(),
            project_dir: "/p".into(),
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            cluster: "hello".into(),
            mode: DeployMode::Task,
            version: "v1".into(),
            started_at: 0.0,
            finished_at: None,
            outcome: None,
            url: None,
            summary: None,
            started_tasks: vec![],
            service: None,
            task_definition: None,
            image: None,
            rolled_back_to: None,
            retagged: false,
        }
    }

    #[test]
    fn an_unfinished_deploy_lists_the_tasks_it_started_and_did_not_stop() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("slipway.db");
        let one = Journal::begin(&db, &entry("d1")).unwrap();
        one.step(StepKind::Pushed, "repo@sha256:1", "").unwrap();
        one.step(StepKind::StartedTask, "arn:task/a", "").unwrap();
        one.step(StepKind::StartedTask, "arn:task/b", "").unwrap();
        one.step(StepKind::StoppedTask, "arn:task/a", "replaced")
            .unwrap();
        let two = Journal::begin(&db, &entry("d2")).unwrap();
        two.finish(Outcome::Succeeded, Some("http://1.2.3.4:8080"), "ok")
            .unwrap();

        let open = unfinished(&db).unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].id, "d1");
        assert_eq!(open[0].started_tasks, vec!["arn:task/b".to_owned()]);

        let all = history(&db, "123456789012", "eu-west-1", "hello").unwrap();
        assert_eq!(all.len(), 2);
        let done = get(&db, "d2").unwrap().unwrap();
        assert_eq!(done.outcome, Some(Outcome::Succeeded));
        assert!(get(&db, "nope").unwrap().is_none());
    }
}
