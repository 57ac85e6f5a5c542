//! The sample project Slipway ships: a small static site a newcomer can open with one click
//! to try build, preview and rollback. Its files are compiled in and written to the app
//! data folder on first use; after that the copy there is the user's to edit.

use std::path::{Path, PathBuf};

use crate::app::data_dir;
use crate::error::{EngineError, Result};
use crate::host::HostEnv;

pub const SAMPLE_NAME: &str = "hello-site";

const FILES: [(&str, &str); 6] = [
    (
        "Dockerfile",
        include_str!("../../sample/hello-site/Dockerfile"),
    ),
    (
        ".dockerignore",
        include_str!("../../sample/hello-site/.dockerignore"),
    ),
    (
        "slipway.toml",
        include_str!("../../sample/hello-site/slipway.toml"),
    ),
    (
        "README.md",
        include_str!("../../sample/hello-site/README.md"),
    ),
    (
        "site/index.html",
        include_str!("../../sample/hello-site/site/index.html"),
    ),
    (
        "site/style.css",
        include_str!("../../sample/hello-site/site/style.css"),
    ),
];

/// Where the sample lives for this user.
pub fn sample_dir(host: &HostEnv) -> PathBuf {
    data_dir(host).join("samples").join(SAMPLE_NAME)
}

/// Writes the sample's files into `dir`, leaving any file that already exists alone (the
/// user may have edited it).
pub fn write_sample(dir: &Path) -> Result<()> {
    for (name, contents) in FILES {
        let path = dir.join(name);
        if path.exists() {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| EngineError::io(parent, e))?;
        }
        std::fs::write(&path, contents).map_err(|e| EngineError::io(&path, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_a_valid_project_and_keeps_user_edits() {
        let dir = tempfile::tempdir().unwrap();
        write_sample(dir.path()).unwrap();
        let config = crate::project::load(dir.path())
            .unwrap()
            .expect("the sample has settings");
        assert_eq!(crate::project::validate(&config), vec![]);
        assert_eq!(config.name, SAMPLE_NAME);
        std::fs::write(dir.path().join("site/index.html"), "edited").unwrap();
        write_sample(dir.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("site/index.html")).unwrap(),
            "edited"
        );
    }
}
