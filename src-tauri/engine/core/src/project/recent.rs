//! The recent-projects list, newest first, in Slipway's database. This module is its only
//! writer.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::error::Result;
use crate::host::HostEnv;
use crate::store;

const KEEP: usize = 12;

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RecentProject {
    pub dir: String,
    pub name: String,
    /// Milliseconds since the Unix epoch.
    pub opened_at: f64,
    /// False when the folder has since been moved or deleted.
    pub exists: bool,
}

pub fn remember(host: &HostEnv, dir: &Path, name: &str) -> Result<()> {
    let conn = store::open(host)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    // Later than every entry even within one millisecond, so "newest first" is exact.
    conn.execute(
        "INSERT INTO recent_projects (dir, name, opened_at)
           VALUES (?1, ?2, MAX(?3, (SELECT COALESCE(MAX(opened_at), 0) + 1 FROM recent_projects)))
         ON CONFLICT(dir) DO UPDATE SET name = excluded.name, opened_at = excluded.opened_at",
        rusqlite::params![dir.display().to_string(), name, now as i64],
    )
    .map_err(store::host_storage_error(host))?;
    conn.execute(
        "DELETE FROM recent_projects WHERE dir NOT IN
           (SELECT dir FROM recent_projects ORDER BY opened_at DESC LIMIT ?1)",
        [KEEP as i64],
    )
    .map_err(store::host_storage_error(host))?;
    Ok(())
}

pub fn recent_projects(host: &HostEnv) -> Result<Vec<RecentProject>> {
    let conn = store::open(host)?;
    let mut stmt = conn
        .prepare("SELECT dir, name, opened_at FROM recent_projects ORDER BY opened_at DESC")
        .map_err(store::host_storage_error(host))?;
    let rows = stmt
        .query_map([], |row| {
            let dir: String = row.get(0)?;
            Ok(RecentProject {
                exists: Path::new(&dir).is_dir(),
                dir,
                name: row.get(1)?,
                opened_at: row.get::<_, i64>(2)? as f64,
            })
        })
        .map_err(store::host_storage_error(host))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(store::host_storage_error(host))
}

pub fn forget_recent(host: &HostEnv, dir: &str) -> Result<()> {
    let conn = store::open(host)?;
    conn.execute("DELETE FROM recent_projects WHERE dir = ?1", [dir])
        .map_err(store::host_storage_error(host))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::Os;

    #[test]
    fn reopening_moves_a_project_to_the_top_without_duplicating_it() {
        let data = tempfile::tempdir().unwrap();
        let host = HostEnv::new(
            Os::Linux,
            None,
            [("SLIPWAY_DATA_DIR".into(), data.path().display().to_string())],
        );
        let a = data.path().join("a");
        std::fs::create_dir(&a).unwrap();
        remember(&host, &a, "app-a").unwrap();
        remember(&host, Path::new("/gone/b"), "app-b").unwrap();
        remember(&host, &a, "app-a2").unwrap();
        let recent = recent_projects(&host).unwrap();
        let names: Vec<&str> = recent.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, vec!["app-a2", "app-b"]);
        assert!(
            recent[0].exists && !recent[1].exists,
            "a vanished folder is flagged"
        );
        forget_recent(&host, "/gone/b").unwrap();
        assert_eq!(recent_projects(&host).unwrap().len(), 1);
    }
}
