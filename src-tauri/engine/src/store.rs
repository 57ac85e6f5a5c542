//! Slipway's own data (recent projects, app settings, the AWS resources it created; deploy
//! history later) in one SQLite file in
//! the app data folder, with numbered migrations recorded in `user_version`. Each kind of
//! record has one writer module; this one only opens and migrates.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::app::data_dir;
use crate::error::{EngineError, Result};
use crate::host::HostEnv;

const MIGRATIONS: &[&str] = &[
    "CREATE TABLE recent_projects (
        dir TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        opened_at INTEGER NOT NULL
    );",
    "CREATE TABLE aws_resources (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        app TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        id TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (account, region, app, kind)
    );",
    "CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );",
    // The deploy journal: one row per deploy, one per step that made or removed something
    // on AWS, written as it happens, so a killed app still knows what it left running.
    "CREATE TABLE deploys (
        id TEXT PRIMARY KEY,
        app TEXT NOT NULL,
        project_dir TEXT NOT NULL,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        cluster TEXT NOT NULL,
        mode TEXT NOT NULL,
        version TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        outcome TEXT,
        url TEXT,
        summary TEXT
    );
    CREATE TABLE deploy_steps (
        deploy_id TEXT NOT NULL REFERENCES deploys(id),
        seq INTEGER NOT NULL,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (deploy_id, seq)
    );",
    // Prices fetched from the AWS Price List API, per region, with when they were fetched;
    // and each app's cost choices (the estimate's assumptions and the idle guard).
    "CREATE TABLE prices (
        region TEXT PRIMARY KEY,
        prices TEXT NOT NULL,
        fetched_at INTEGER NOT NULL
    );
    CREATE TABLE cost_settings (
        app TEXT PRIMARY KEY,
        settings TEXT NOT NULL
    );",
];

pub fn db_path(host: &HostEnv) -> PathBuf {
    data_dir(host).join("slipway.sqlite3")
}

/// Opens (creating and migrating as needed) the database for this host's data folder.
pub fn open(host: &HostEnv) -> Result<Connection> {
    open_at(&db_path(host))
}

pub fn storage_error(path: &Path, e: rusqlite::Error) -> EngineError {
    EngineError::Storage {
        file: path.to_owned(),
        reason: e.to_string(),
    }
}

pub fn open_at(path: &Path) -> Result<Connection> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| EngineError::io(dir, e))?;
    }
    let db_error = |e: rusqlite::Error| EngineError::Storage {
        file: path.to_owned(),
        reason: e.to_string(),
    };
    let mut conn = Connection::open(path).map_err(db_error)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(db_error)?;
    let version: usize = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(db_error)?;
    if version < MIGRATIONS.len() {
        let tx = conn.transaction().map_err(db_error)?;
        for migration in &MIGRATIONS[version..] {
            tx.execute_batch(migration).map_err(db_error)?;
        }
        tx.pragma_update(None, "user_version", MIGRATIONS.len())
            .map_err(db_error)?;
        tx.commit().map_err(db_error)?;
    }
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_twice_migrates_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/slipway.sqlite3");
        drop(open_at(&path).unwrap());
        let conn = open_at(&path).expect("a migrated database opens again");
        let version: usize = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len());
    }
}
