//! Slipway's app-wide settings (not a project's): today the AWS endpoint override for
//! emulators such as moto or LocalStack. Stored in the app database; this module is their
//! one writer.

use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::host::HostEnv;
use crate::store::{db_path, open_at, storage_error};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AppSettings {
    /// Send every AWS call here instead of AWS (an emulator); AWS itself when unset.
    pub aws_endpoint_url: Option<String>,
}

const ENDPOINT_KEY: &str = "aws.endpoint_url";

pub fn load(host: &HostEnv) -> Result<AppSettings> {
    let path = db_path(host);
    let conn = open_at(&path)?;
    let value = conn
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [ENDPOINT_KEY],
            |row| row.get::<_, String>(0),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            other => Err(storage_error(&path, other)),
        })?;
    Ok(AppSettings {
        aws_endpoint_url: value,
    })
}

/// Validates and saves `settings`; nothing is written when a value is invalid.
pub fn save(host: &HostEnv, settings: &AppSettings) -> Result<AppSettings> {
    let endpoint = settings
        .aws_endpoint_url
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(url) = endpoint {
        check_endpoint(url)?;
    }
    let path = db_path(host);
    let conn = open_at(&path)?;
    match endpoint {
        Some(url) => conn.execute(
            "INSERT OR REPLACE INTO settings (key, value) VALUES (?1, ?2)",
            [ENDPOINT_KEY, url],
        ),
        None => conn.execute("DELETE FROM settings WHERE key = ?1", [ENDPOINT_KEY]),
    }
    .map_err(|e| storage_error(&path, e))?;
    load(host)
}

fn check_endpoint(url: &str) -> Result<()> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(()),
        _ => Err(EngineError::InvalidInput {
            what: "The AWS endpoint override".to_owned(),
            reason: format!(
                "\"{url}\" is not an http:// or https:// address such as http://127.0.0.1:5000"
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::Os;

    #[test]
    fn the_endpoint_override_round_trips_and_a_bad_one_changes_nothing() {
        let home = tempfile::tempdir().unwrap();
        let host = HostEnv::new(Os::Linux, Some(home.path().to_owned()), []);
        assert_eq!(load(&host).unwrap(), AppSettings::default());
        let set = AppSettings {
            aws_endpoint_url: Some(" http://127.0.0.1:5055 ".into()),
        };
        assert_eq!(
            save(&host, &set).unwrap().aws_endpoint_url.as_deref(),
            Some("http://127.0.0.1:5055")
        );
        let bad = AppSettings {
            aws_endpoint_url: Some("127.0.0.1:5055".into()),
        };
        assert!(matches!(
            save(&host, &bad),
            Err(EngineError::InvalidInput { .. })
        ));
        assert_eq!(
            load(&host).unwrap().aws_endpoint_url.as_deref(),
            Some("http://127.0.0.1:5055"),
            "a refused value must leave the saved one alone"
        );
        save(&host, &AppSettings::default()).unwrap();
        assert_eq!(load(&host).unwrap(), AppSettings::default());
    }
}
