//! The project as the operations that must always work read it: stopping, status and
//! teardown go on when slipway.toml no longer validates (a typo, a half-edited value, a
//! line that is not TOML), so a paid task can always be stopped. Only the app name and
//! the `[aws]` connection (profile, region) and the port are read, line by line, and
//! everything else takes its default.

use std::path::Path;

use super::file::propose;
use super::validate::is_app_name;
use super::{open_saved, ProjectConfig, PROJECT_FILE};
use crate::error::{EngineError, Result};
use crate::user_files::{read_text, TEXT_FILE_LIMIT};

/// The project's settings, or, when the file does not validate, what operations need of it.
pub fn open_for_operations(dir: &Path) -> Result<ProjectConfig> {
    let problem = match open_saved(dir) {
        Ok((_, config)) => return Ok(config),
        Err(
            e @ (EngineError::InvalidProjectConfig { .. }
            | EngineError::ProjectFileMalformed { .. }),
        ) => e,
        Err(other) => return Err(other),
    };
    let Some(text) = read_text(&dir.join(PROJECT_FILE), TEXT_FILE_LIMIT)? else {
        return Err(problem);
    };
    match essentials(&text) {
        Some(found) => {
            let mut config = propose(dir);
            config.name = found.name;
            if let Some(port) = found.port {
                config.port = port;
            }
            config.aws.profile = found.profile;
            config.aws.region = found.region;
            tracing::warn!(dir = %dir.display(), "slipway.toml does not validate ({problem}); operating on {} from its name and [aws] section", config.name);
            Ok(config)
        }
        None => Err(problem),
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Essentials {
    name: String,
    port: Option<u32>,
    profile: Option<String>,
    region: Option<String>,
}

/// The app name (top level), port, and `[aws]` profile and region, from lines of the form
/// `key = "value"`, ignoring every other line; `None` without a valid app name.
fn essentials(text: &str) -> Option<Essentials> {
    let mut section = String::new();
    let mut name = None;
    let mut found = Essentials::default();
    for line in text.lines() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[') {
            section = header.trim_end_matches(']').trim().to_owned();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        let value = value.split('#').next().unwrap_or_default().trim();
        let text_value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .map(str::to_owned);
        match (section.as_str(), key) {
            ("", "name") => name = text_value,
            ("", "port") => found.port = value.parse().ok().filter(|p| (1..=65535).contains(p)),
            ("aws", "profile") => found.profile = text_value.filter(|v| !v.is_empty()),
            ("aws", "region") => found.region = text_value.filter(|v| !v.is_empty()),
            _ => {}
        }
    }
    found.name = name.filter(|n| is_app_name(n))?;
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_does_not_validate_still_names_the_app_and_its_connection() {
        let text = "name = \"hello-site\"\nport = \"eighty\"\n[task]\ncpu = 3\nmemory = [\n[aws]\nprofile = \"dev\"\nregion = \"eu-west-1\" # Ireland\n";
        assert_eq!(
            essentials(text),
            Some(Essentials {
                name: "hello-site".into(),
                port: None,
                profile: Some("dev".into()),
                region: Some("eu-west-1".into()),
            })
        );
    }

    #[test]
    fn without_a_valid_app_name_there_is_nothing_to_operate_on() {
        assert_eq!(essentials("name = \"Not A Name\"\n"), None);
        assert_eq!(essentials("[aws]\nname = \"hello\"\n"), None);
    }

    #[test]
    fn operations_read_a_broken_file_and_keep_it_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let broken =
            "name = \"hello-site\"\nport = 8080\n[task]\ncpu = 3\n[aws]\nregion = \"eu-west-1\"\n";
        std::fs::write(dir.path().join(PROJECT_FILE), broken).unwrap();
        let config = open_for_operations(dir.path()).expect("operations go on");
        assert_eq!(config.name, "hello-site");
        assert_eq!(config.aws.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join(PROJECT_FILE)).unwrap(),
            broken,
            "reading for operations never rewrites the user's file"
        );
    }
}
