//! The data file's note of which image each content fingerprint last became, per Docker
//! engine and app (the `release_images` table; this module is its one writer). It only
//! says where to look first: the image itself, read from Docker, decides. A note that
//! cannot be read or written costs speed (the build lists the images instead), never a
//! build.

use std::path::PathBuf;

use rusqlite::{params, Connection, OptionalExtension};
use time::OffsetDateTime;

use super::LocalRelease;
use slipway_core::error::{EngineError, Result};
use slipway_core::host::HostEnv;
use slipway_core::store::{db_path, open_at, storage_error};

/// What the record says of one fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Recorded {
    /// The image this content last became, and the version it was tagged as.
    Image { image_id: String, version: String },
    /// The record holds the app's releases on this engine, and none has this content.
    Absent,
    /// The record cannot say: it holds nothing of the app on this engine yet (the first
    /// build since it came in, or since the app's images were all removed), or the data
    /// file could not be read.
    Unknown,
}

/// The record of one app's releases on one engine.
pub(super) struct Record {
    db: PathBuf,
    engine: String,
    app: String,
}

impl Record {
    pub(super) fn new(host: &HostEnv, engine: &str, app: &str) -> Self {
        Self::at(db_path(host), engine, app)
    }

    fn at(db: PathBuf, engine: &str, app: &str) -> Self {
        Self {
            db,
            engine: engine.to_owned(),
            app: app.to_owned(),
        }
    }

    pub(super) async fn lookup(&self, fingerprint: &str) -> Recorded {
        let fingerprint = fingerprint.to_owned();
        self.with_db("read", move |conn, engine, app| {
            let found = conn
                .query_row(
                    "SELECT image_id, version FROM release_images
                     WHERE engine = ?1 AND app = ?2 AND fingerprint = ?3",
                    params![engine, app, fingerprint],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            if let Some((image_id, version)) = found {
                return Ok(Recorded::Image { image_id, version });
            }
            let any: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM release_images WHERE engine = ?1 AND app = ?2)",
                params![engine, app],
                |row| row.get(0),
            )?;
            Ok(if any {
                Recorded::Absent
            } else {
                Recorded::Unknown
            })
        })
        .await
        .unwrap_or(Recorded::Unknown)
    }

    /// Notes a release just made: the newest image of its content.
    pub(super) async fn remember(&self, release: &LocalRelease) {
        let release = release.clone();
        self.with_db("write", move |conn, engine, app| {
            insert(conn, engine, app, &release)?;
            Ok(())
        })
        .await;
    }

    /// Makes the record say what the engine's image list said: `releases` are all of the
    /// app's, one per fingerprint (the newest).
    pub(super) async fn replace_all(&self, releases: Vec<LocalRelease>) {
        self.with_db("write", move |conn, engine, app| {
            let tx = conn.transaction()?;
            tx.execute(
                "DELETE FROM release_images WHERE engine = ?1 AND app = ?2",
                params![engine, app],
            )?;
            for release in &releases {
                insert(&tx, engine, app, release)?;
            }
            tx.commit()
        })
        .await;
    }

    /// Runs `work` on the data file off the async threads; a failure is logged and `None`.
    async fn with_db<T: Send + 'static>(
        &self,
        doing: &'static str,
        work: impl FnOnce(&mut Connection, &str, &str) -> rusqlite::Result<T> + Send + 'static,
    ) -> Option<T> {
        let (db, engine, app) = (self.db.clone(), self.engine.clone(), self.app.clone());
        let done = tokio::task::spawn_blocking(move || -> Result<T> {
            let mut conn = open_at(&db)?;
            // A note of where to look first may be lost with the last moments before a
            // power cut (WAL keeps the file whole): not worth a disk flush on every build.
            conn.pragma_update(None, "synchronous", "NORMAL")
                .map_err(|e| storage_error(&db, e))?;
            work(&mut conn, &engine, &app).map_err(|e| storage_error(&db, e))
        })
        .await
        .map_err(|e| EngineError::Internal(format!("the release record stopped: {e}")))
        .and_then(|r| r);
        match done {
            Ok(value) => Some(value),
            Err(e) => {
                tracing::warn!(app = %self.app, error = %e, "could not {doing} the release record; the image list decides");
                None
            }
        }
    }
}

fn insert(
    conn: &Connection,
    engine: &str,
    app: &str,
    release: &LocalRelease,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO release_images
         (engine, app, fingerprint, image_id, version, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            engine,
            app,
            release.fingerprint,
            release.image_id,
            release.version,
            OffsetDateTime::now_utc().unix_timestamp()
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(version: &str, fingerprint: &str) -> LocalRelease {
        LocalRelease {
            app: "hello-site".into(),
            version: version.into(),
            image_id: format!("sha256:{version}"),
            tags: vec![],
            created_at: 0.0,
            size_bytes: 0.0,
            fingerprint: fingerprint.into(),
            latest: false,
        }
    }

    #[tokio::test]
    async fn a_fingerprint_is_absent_only_once_the_record_holds_the_app() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("slipway.sqlite3");
        let record = Record::at(db.clone(), "unix:///var/run/docker.sock", "hello-site");
        assert_eq!(
            record.lookup("f1").await,
            Recorded::Unknown,
            "an empty record cannot tell new content from releases built before it"
        );
        record.remember(&release("v1", "f1")).await;
        record.remember(&release("v2", "f1")).await;
        assert_eq!(
            record.lookup("f1").await,
            Recorded::Image {
                image_id: "sha256:v2".into(),
                version: "v2".into()
            },
            "the newest build of the content"
        );
        assert_eq!(record.lookup("f2").await, Recorded::Absent);
        let other_engine = Record::at(db, "unix:///run/user/1000/docker.sock", "hello-site");
        assert_eq!(
            other_engine.lookup("f1").await,
            Recorded::Unknown,
            "another engine has its own images"
        );
    }

    #[tokio::test]
    async fn replacing_the_record_drops_releases_the_image_list_no_longer_has() {
        let dir = tempfile::tempdir().unwrap();
        let record = Record::at(dir.path().join("slipway.sqlite3"), "e", "hello-site");
        record.remember(&release("v1", "f1")).await;
        record.replace_all(vec![release("v2", "f2")]).await;
        assert_eq!(record.lookup("f1").await, Recorded::Absent);
        record.replace_all(vec![]).await;
        assert_eq!(
            record.lookup("f2").await,
            Recorded::Unknown,
            "an app without images is listed again next time"
        );
    }

    #[tokio::test]
    async fn an_unreadable_data_file_cannot_say() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should be: SQLite cannot open it.
        let db = dir.path().join("slipway.sqlite3");
        std::fs::create_dir(&db).unwrap();
        let record = Record::at(db, "e", "hello-site");
        record.remember(&release("v1", "f1")).await;
        assert_eq!(record.lookup("f1").await, Recorded::Unknown);
    }
}
