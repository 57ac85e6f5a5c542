//! Slipway's own data (recent projects, app settings, the AWS resources it created, the
//! deploy journal, which image each build's content became, a stack's last values) in one
//! SQLite file in the app data folder, with numbered migrations recorded in
//! `user_version`. Each kind of record has one writer module; this one only opens and
//! migrates. The window and the CLI may both have it open: the file is in WAL mode and a
//! writer waits for the other's lock instead of failing with "database is locked". A file
//! written by a newer Slipway (more migrations than this build knows) is refused and left
//! as it is.

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
    // The project folders the user connected to AWS from this computer, with the target
    // (profile, region, endpoint) they connected with: opened again with the same target,
    // they connect again.
    "CREATE TABLE connected_projects (
        dir TEXT PRIMARY KEY,
        target TEXT NOT NULL,
        connected_at INTEGER NOT NULL
    );",
    // Which image each content fingerprint last became, per Docker engine and app: a build
    // finds the release that already has its content with one inspect of that image
    // instead of listing every image on the engine. Docker's images stay the record of
    // releases; this only says where to look first.
    "CREATE TABLE release_images (
        engine TEXT NOT NULL,
        app TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        image_id TEXT NOT NULL,
        version TEXT NOT NULL,
        recorded_at INTEGER NOT NULL,
        PRIMARY KEY (engine, app, fingerprint)
    );",
    // The values a stack was last deployed with from here (never a NoEcho one), so its
    // form opens filled in.
    "CREATE TABLE stack_values (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        stack TEXT NOT NULL,
        stack_values TEXT NOT NULL,
        saved_at INTEGER NOT NULL,
        PRIMARY KEY (account, region, stack)
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

/// The error of a statement on this host's database, for `map_err`.
pub fn host_storage_error(host: &HostEnv) -> impl Fn(rusqlite::Error) -> EngineError + '_ {
    move |e| storage_error(&db_path(host), e)
}

/// How long a writer waits for another process's (or connection's) lock before failing.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

pub fn open_at(path: &Path) -> Result<Connection> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| EngineError::io(dir, e))?;
    }
    let db_error = |e: rusqlite::Error| storage_error(path, e);
    let mut conn = Connection::open(path).map_err(db_error)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db_error)?;
    // Checked before anything is written (WAL mode changes the file's header), so a file
    // from a newer Slipway is left exactly as it was.
    refuse_newer(path, user_version(&conn).map_err(db_error)?)?;
    // Switching to WAL needs the file to itself, and SQLite answers "database is locked"
    // at once (without its busy handler) when another connection opens it at the same
    // moment: the switch is tried again until the busy timeout.
    let started = std::time::Instant::now();
    let mode: String = loop {
        match conn.pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0)) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => break other.map_err(db_error)?,
        }
    };
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(file = %path.display(), %mode, "SQLite kept its journal mode instead of WAL");
    }
    if user_version(&conn).map_err(db_error)? < MIGRATIONS.len() {
        // IMMEDIATE takes the write lock before the version is read again, so when the
        // window and the CLI open a new file at once, one migrates and the other then
        // finds it migrated.
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db_error)?;
        let version = user_version(&tx).map_err(db_error)?;
        refuse_newer(path, version)?;
        for migration in MIGRATIONS.get(version..).unwrap_or_default() {
            tx.execute_batch(migration).map_err(db_error)?;
        }
        tx.pragma_update(None, "user_version", MIGRATIONS.len())
            .map_err(db_error)?;
        tx.commit().map_err(db_error)?;
    }
    Ok(conn)
}

fn user_version(conn: &Connection) -> rusqlite::Result<usize> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

fn refuse_newer(path: &Path, found: usize) -> Result<()> {
    if found > MIGRATIONS.len() {
        return Err(EngineError::DataFromNewerVersion {
            file: path.to_owned(),
            found,
            supported: MIGRATIONS.len(),
        });
    }
    Ok(())
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

    #[test]
    fn the_database_is_in_wal_mode_after_open() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_at(&dir.path().join("slipway.sqlite3")).unwrap();
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(
            mode, "wal",
            "WAL lets the window read while the CLI writes, and the reverse"
        );
    }

    #[test]
    fn a_database_from_a_newer_slipway_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("slipway.sqlite3");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE future (x INTEGER);")
                .unwrap();
            conn.pragma_update(None, "user_version", MIGRATIONS.len() + 1)
                .unwrap();
        }
        let before = std::fs::read(&path).unwrap();

        let err = open_at(&path).expect_err("a newer schema must not be opened");
        match &err {
            EngineError::DataFromNewerVersion {
                file,
                found,
                supported,
            } => {
                assert_eq!(file, &path);
                assert_eq!(*found, MIGRATIONS.len() + 1);
                assert_eq!(*supported, MIGRATIONS.len());
            }
            other => panic!("expected DataFromNewerVersion, got {other:?}"),
        }
        let message = err.to_string();
        assert!(
            message.contains("newer") && message.contains("Update Slipway"),
            "the message says what happened and what to do: {message}"
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "the newer Slipway's data is not migrated, converted or otherwise changed"
        );
        assert!(
            !dir.path().join("slipway.sqlite3-wal").exists(),
            "not even a WAL file is started beside it"
        );
    }

    #[test]
    fn two_connections_write_at_the_same_time_without_database_is_locked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("slipway.sqlite3");
        let writers: Vec<_> = (0..2)
            .map(|writer| {
                let path = path.clone();
                std::thread::spawn(move || {
                    // Each thread opens its own connection, as the window and the CLI do;
                    // the first opens also race on creating and migrating the file.
                    let conn = open_at(&path).unwrap();
                    for i in 0..200 {
                        conn.execute(
                            "INSERT INTO settings (key, value) VALUES (?1, ?2)",
                            [format!("writer{writer}.{i}"), "x".to_owned()],
                        )
                        .expect("a concurrent write waits for the lock instead of failing");
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().expect("the writer thread succeeded");
        }
        let conn = open_at(&path).unwrap();
        let rows: usize = conn
            .query_row("SELECT COUNT(*) FROM settings", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 400, "every write of both writers is kept");
    }
}
