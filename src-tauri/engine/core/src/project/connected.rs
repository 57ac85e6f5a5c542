//! Which project folders the user connected to AWS from this computer, and with which
//! target (profile, region, endpoint, as the caller spells it), in Slipway's database: a
//! project opened again with the same target connects again, so its page shows what runs
//! without a click. A project deployed from this computer before (in the deploy journal)
//! counts as connected too, so a project from before this record existed is not asked
//! again. This module is the record's only writer.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::Result;
use crate::host::HostEnv;
use crate::store;

/// The folder as the record keys it: the same folder by another spelling is the same project.
fn key(dir: &Path) -> String {
    std::fs::canonicalize(dir)
        .unwrap_or_else(|_| dir.to_owned())
        .display()
        .to_string()
}

/// Records that the user connected the project in `dir` to `target` just now.
pub fn remember_connected(host: &HostEnv, dir: &Path, target: &str) -> Result<()> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    store::open(host)?
        .execute(
            "INSERT INTO connected_projects (dir, target, connected_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(dir) DO UPDATE SET target = excluded.target,
                                            connected_at = excluded.connected_at",
            rusqlite::params![key(dir), target, now as i64],
        )
        .map_err(store::host_storage_error(host))?;
    Ok(())
}

/// True when the user connected the project in `dir` to `target` from this computer before,
/// or deployed it from here (then whatever its target: it predates this record).
pub fn was_connected(host: &HostEnv, dir: &Path, target: &str) -> Result<bool> {
    let raw = dir.display().to_string();
    store::open(host)?
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM connected_projects WHERE dir = ?1 AND target = ?2)
                 OR EXISTS (SELECT 1 FROM deploys WHERE project_dir IN (?1, ?3))",
            rusqlite::params![key(dir), target, raw],
            |row| row.get(0),
        )
        .map_err(store::host_storage_error(host))
}

/// Forgets that the project in `dir` connected (it is not connected again on opening).
pub fn forget_connected(host: &HostEnv, dir: &Path) -> Result<()> {
    store::open(host)?
        .execute("DELETE FROM connected_projects WHERE dir = ?1", [key(dir)])
        .map_err(store::host_storage_error(host))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_remembered_per_folder_and_target_and_can_be_forgotten() {
        let data = tempfile::tempdir().unwrap();
        let host =
            HostEnv::from_process().with_var("SLIPWAY_DATA_DIR", data.path().display().to_string());
        let project = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        assert!(!was_connected(&host, project.path(), "default/eu-west-1").unwrap());

        remember_connected(&host, project.path(), "default/eu-west-1").unwrap();
        remember_connected(&host, project.path(), "default/eu-west-1").unwrap();
        assert!(was_connected(&host, project.path(), "default/eu-west-1").unwrap());
        assert!(was_connected(&host, &project.path().join("."), "default/eu-west-1").unwrap());
        assert!(
            !was_connected(&host, project.path(), "work/us-east-1").unwrap(),
            "another profile or region in slipway.toml is not connected without a click"
        );
        assert!(!was_connected(&host, other.path(), "default/eu-west-1").unwrap());

        forget_connected(&host, project.path()).unwrap();
        assert!(!was_connected(&host, project.path(), "default/eu-west-1").unwrap());
    }

    #[test]
    fn a_project_deployed_from_here_before_counts_as_connected() {
        let data = tempfile::tempdir().unwrap();
        let host =
            HostEnv::from_process().with_var("SLIPWAY_DATA_DIR", data.path().display().to_string());
        let project = tempfile::tempdir().unwrap();
        store::open(&host)
            .unwrap()
            .execute(
                "INSERT INTO deploys (id, app, project_dir, account, region, cluster, mode, version, started_at)
                 VALUES ('d1', 'web', ?1, '123456789012', 'eu-west-1', 'web', 'task', 'v1', 0)",
                [project.path().display().to_string()],
            )
            .unwrap();
        assert!(was_connected(&host, project.path(), "any").unwrap());
    }
}
