//! The values each stack was last deployed with from this computer (the `stack_values`
//! table; this module is its one writer), so its form opens filled in. A NoEcho value is
//! never written: the user gives it again, or an update keeps the stack's own.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, OptionalExtension};

use super::template::Template;
use crate::aws::Connection;
use slipway_core::error::Result;
use slipway_core::store::{open_at, storage_error};

/// Keeps `values` for the stack, without its NoEcho ones.
pub fn save(
    db: &Path,
    conn: &Connection,
    stack: &str,
    template: &Template,
    values: &BTreeMap<String, String>,
) -> Result<()> {
    let kept: BTreeMap<&String, &String> = values
        .iter()
        .filter(|(name, _)| {
            template
                .parameters
                .iter()
                .any(|p| &p.name == *name && !p.no_echo)
        })
        .collect();
    let json = serde_json::to_string(&kept).unwrap_or_else(|_| "{}".into());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    open_at(db)?
        .execute(
            "INSERT INTO stack_values (account, region, stack, stack_values, saved_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(account, region, stack) DO UPDATE SET
                stack_values = excluded.stack_values, saved_at = excluded.saved_at",
            params![conn.identity.account, conn.ctx.region, stack, json, now],
        )
        .map_err(|e| storage_error(db, e))?;
    Ok(())
}

/// The values the stack was last deployed with from here (none when never).
pub fn load(db: &Path, conn: &Connection, stack: &str) -> Result<BTreeMap<String, String>> {
    let json: Option<String> = open_at(db)?
        .query_row(
            "SELECT stack_values FROM stack_values
             WHERE account = ?1 AND region = ?2 AND stack = ?3",
            params![conn.identity.account, conn.ctx.region, stack],
            |row| row.get(0),
        )
        .optional()
        .map_err(|e| storage_error(db, e))?;
    Ok(json
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default())
}
