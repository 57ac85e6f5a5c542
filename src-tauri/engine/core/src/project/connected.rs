//! Which project folders connected to AWS from this computer, in Slipway's database: a
//! project connected once is connected again when it is opened, so its page shows what runs
//! without a click. The profile and region stay in slipway.toml; this only remembers that the
//! user chose to connect. This module is the record's only writer.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{EngineError, Result};
use crate::host::HostEnv;
use crate::store;

fn storage_error(host: &HostEnv) -> impl Fn(rusqlite::Error) -> EngineError + '_ {
    move |e| EngineError::Storage {
        file: store::db_path(host),
        reason: e.to_string(),
    }
}

/// The folder as the record keys it: the same folder by another spelling is the same project.
fn key(dir: &Path) -> String {
    std::fs::canonicalize(dir)
        .unwrap_or_else(|_| dir.to_owned())
        .display()
        .to_string()
}

/// Records that the project in `dir` connected to AWS just now.
pub fn remember_connected(host: &HostEnv, dir: &Path) -> Result<()> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    store::open(host)?
        .execute(
            "INSERT INTO connected_projects (dir, connected_at) VALUES (?1, ?2)
             ON CONFLICT(dir) DO UPDATE SET connected_at = excluded.connected_at",
            rusqlite::params![key(dir), now as i64],
        )
        .map_err(storage_error(host))?;
    Ok(())
}

/// True when the project in `dir` connected to AWS from this computer before.
pub fn was_connected(host: &HostEnv, dir: &Path) -> Result<bool> {
    store::open(host)?
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM connected_projects WHERE dir = ?1)",
            [key(dir)],
            |row| row.get(0),
        )
        .map_err(storage_error(host))
}

/// Forgets that the project in `dir` connected (it is not connected again on opening).
pub fn forget_connected(host: &HostEnv, dir: &Path) -> Result<()> {
    store::open(host)?
        .execute("DELETE FROM connected_projects WHERE dir = ?1", [key(dir)])
        .map_err(storage_error(host))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_remembered_per_folder_by_any_spelling_and_can_be_forgotten() {
        let data = tempfile::tempdir().unwrap();
        let host =
            HostEnv::from_process().with_var("SLIPWAY_DATA_DIR", data.path().display().to_string());
        let project = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        assert!(!was_connected(&host, project.path()).unwrap());

        remember_connected(&host, project.path()).unwrap();
        remember_connected(&host, project.path()).unwrap();
        assert!(was_connected(&host, project.path()).unwrap());
        assert!(was_connected(&host, &project.path().join(".")).unwrap());
        assert!(!was_connected(&host, other.path()).unwrap());

        forget_connected(&host, project.path()).unwrap();
        assert!(!was_connected(&host, project.path()).unwrap());
    }
}
