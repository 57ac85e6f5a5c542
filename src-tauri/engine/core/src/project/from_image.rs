//! A project that deploys an image someone else built (`image = "ghcr.io/org/app:1.2"`
//! in slipway.toml) instead of a Dockerfile: what the form proposes for an image and the
//! project made from it. The pull and the release are `build::image`'s.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::image_ref::ImageRef;
use crate::error::{EngineError, Result};
use crate::host::HostEnv;
use crate::project::{self, Project};

/// What the window asks for to start an image project.
#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct NewImageProject {
    pub image: String,
    pub name: String,
    /// The folder that keeps the project's slipway.toml; made when missing.
    pub dir: String,
}

/// What the form proposes for an image: an app name from it, and a folder for its settings;
/// and what is wrong with the reference, while it is not valid.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ImageProjectDefaults {
    pub name: String,
    pub dir: String,
    pub problem: Option<String>,
}

/// The folder an image project's settings go in unless the user picks one: `~/Slipway/<name>`.
pub fn default_dir(host: &HostEnv, name: &str) -> PathBuf {
    host.home
        .clone()
        .unwrap_or_else(std::env::temp_dir)
        .join("Slipway")
        .join(name)
}

/// The proposal for `image`, also for one not valid yet.
pub fn defaults(host: &HostEnv, image: &str) -> ImageProjectDefaults {
    let parsed = ImageRef::parse(image);
    let name = parsed
        .as_ref()
        .map(ImageRef::app_name)
        .unwrap_or_else(|_| "my-app".into());
    ImageProjectDefaults {
        dir: default_dir(host, &name).display().to_string(),
        name,
        problem: parsed.err(),
    }
}

/// Makes a new project deploying `request.image`: its folder (when missing) and a
/// slipway.toml naming the image; then opens it like any other. A folder that already holds
/// a project is left alone.
pub fn create_project(host: &HostEnv, request: &NewImageProject) -> Result<Project> {
    ImageRef::parse(&request.image)
        .map_err(|message| EngineError::invalid_field("image", message))?;
    if request.dir.trim().is_empty() {
        return Err(EngineError::invalid_field(
            "dir",
            "Choose a folder to keep the project's settings in.",
        ));
    }
    let dir = PathBuf::from(request.dir.trim());
    if dir.join(project::PROJECT_FILE).exists() {
        return Err(EngineError::invalid_field(
            "dir",
            format!(
                "{} already holds a project; open it, or choose another folder.",
                dir.display()
            ),
        ));
    }
    let mut config = project::propose(&dir);
    config.name = request.name.trim().to_owned();
    config.image = Some(request.image.trim().to_owned());
    let problems = project::validate(&config);
    if !problems.is_empty() {
        return Err(EngineError::InvalidProjectConfig { problems });
    }
    std::fs::create_dir_all(&dir).map_err(|e| EngineError::io(&dir, e))?;
    project::save(&dir, &config)?;
    project::open(host, &dir)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::host::Os;

    fn host(home: &Path) -> HostEnv {
        HostEnv::new(
            Os::Linux,
            Some(home.to_owned()),
            Vec::<(String, String)>::new(),
        )
    }

    #[test]
    fn a_new_image_project_writes_only_settings_and_refuses_a_bad_reference_by_field() {
        let home = tempfile::tempdir().unwrap();
        let host = host(home.path()).with_var(
            "SLIPWAY_DATA_DIR",
            home.path().join("data").display().to_string(),
        );
        let proposed = defaults(&host, "ghcr.io/dbward-dev/dbward-server:v0.1.3");
        assert_eq!(proposed.name, "dbward-server");
        assert_eq!(proposed.problem, None);
        assert!(
            defaults(&host, "ghcr.io/org/app:")
                .problem
                .is_some_and(|p| p.contains("Nothing follows")),
            "the form learns what is wrong while the user types"
        );
        assert_eq!(
            PathBuf::from(&proposed.dir),
            home.path().join("Slipway/dbward-server"),
            "settings go under the user's home by default"
        );
        let request = NewImageProject {
            image: "ghcr.io/dbward-dev/dbward-server:v0.1.3".into(),
            name: proposed.name.clone(),
            dir: proposed.dir.clone(),
        };
        let project = create_project(&host, &request).unwrap();
        assert!(project.saved);
        assert_eq!(
            project.config.image.as_deref(),
            Some("ghcr.io/dbward-dev/dbward-server:v0.1.3")
        );
        let text =
            std::fs::read_to_string(PathBuf::from(&proposed.dir).join("slipway.toml")).unwrap();
        assert!(
            text.contains("image = \"ghcr.io/dbward-dev/dbward-server:v0.1.3\""),
            "{text}"
        );
        let again = create_project(&host, &request).unwrap_err();
        assert!(
            again.to_string().contains("already holds a project"),
            "an existing project is never overwritten: {again}"
        );

        let bad = create_project(
            &host,
            &NewImageProject {
                image: "ghcr.io/Org/app:1.2".into(),
                name: "app".into(),
                dir: home.path().join("elsewhere").display().to_string(),
            },
        )
        .unwrap_err();
        let EngineError::InvalidProjectConfig { problems } = &bad else {
            panic!("expected the image field's problem, got {bad:?}");
        };
        assert_eq!(problems[0].field, "image");
        assert!(problems[0].message.contains("lowercase"), "{bad}");
        assert!(
            !home.path().join("elsewhere").exists(),
            "a refused project leaves no folder behind"
        );
    }
}
