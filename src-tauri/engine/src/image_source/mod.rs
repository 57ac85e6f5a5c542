//! Projects that deploy an image someone else built (`image = "ghcr.io/org/app:1.2"` in
//! slipway.toml) instead of a Dockerfile: the reference, the registry sign-in from Docker's
//! config, the pull, and the local release made from the pulled image, labelled like a
//! build's, so preview, releases, deploy, the push to ECR and rollback treat it as any
//! other. `build` hands image projects to [`release_from_image`]; everything after the
//! release belongs to the features that use releases.

pub mod credentials;
pub mod reference;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use bollard::models::BuildInfo;
use bollard::query_parameters::{BuildImageOptions, CreateImageOptions};
use bollard::Docker;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

pub use reference::ImageRef;

use crate::build::{release_version, BuildEvent, BuildOutcome, BuildRequest, StreamReader};
use crate::docker;
use crate::error::{EngineError, Result};
use crate::host::HostEnv;
use crate::jobs::Cancel;
use crate::preflight::{Finding, FindingKind, Preflight, Severity};
use crate::progress::ProgressSink;
use crate::project::{self, FieldProblem, Project, ProjectConfig};
use crate::releases::{self, labels};

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

fn field_problem(field: &str, message: impl Into<String>) -> EngineError {
    EngineError::InvalidProjectConfig {
        problems: vec![FieldProblem {
            field: field.to_owned(),
            message: message.into(),
        }],
    }
}

/// Makes a new project deploying `request.image`: its folder (when missing) and a
/// slipway.toml naming the image; then opens it like any other. A folder that already holds
/// a project is left alone.
pub fn create_project(host: &HostEnv, request: &NewImageProject) -> Result<Project> {
    ImageRef::parse(&request.image).map_err(|message| field_problem("image", message))?;
    if request.dir.trim().is_empty() {
        return Err(field_problem(
            "dir",
            "Choose a folder to keep the project's settings in.",
        ));
    }
    let dir = PathBuf::from(request.dir.trim());
    if dir.join(project::PROJECT_FILE).exists() {
        return Err(field_problem(
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

/// Pre-flight of an image project: what the local engine knows of the image (nothing
/// until the first pull), whether it suits the platform, and whether it listens on the port.
pub async fn preflight(host: &HostEnv, image: &str, config: &ProjectConfig) -> Preflight {
    let mut findings = Vec::new();
    let pull_name = ImageRef::parse(image)
        .map(|r| r.pull_name())
        .unwrap_or_else(|_| image.to_owned());
    let inspected = match docker::connect(host).await {
        Ok((docker, ..)) => docker.inspect_image(&pull_name).await.ok(),
        Err(_) => None,
    };
    match inspected {
        None => findings.push(Finding {
            kind: FindingKind::BaseImageNotLocal,
            severity: Severity::Info,
            title: format!(
                "{image} is not on this machine yet; building the project downloads it."
            ),
            fix: "Nothing to do, unless you are offline.".into(),
            line: None,
        }),
        Some(info) => {
            let arch = info.architecture.unwrap_or_default();
            if !arch.is_empty() && arch != config.platform.arch() {
                findings.push(Finding {
                    kind: FindingKind::PlatformMismatch,
                    severity: Severity::Warning,
                    title: format!(
                        "The copy of {image} on this machine is {arch}, but the app targets {}; the next build asks the registry for the {} variant.",
                        config.platform.as_str(),
                        config.platform.arch()
                    ),
                    fix: format!("If the image has no {} variant, set the platform to linux/{arch}.", config.platform.arch()),
                    line: None,
                });
            }
            let ports: Vec<u32> = info
                .config
                .and_then(|c| c.exposed_ports)
                .map(|ports| {
                    ports
                        .iter()
                        .filter_map(|p| p.split('/').next()?.parse().ok())
                        .collect()
                })
                .unwrap_or_default();
            if !ports.is_empty() && !ports.contains(&config.port) {
                let list: Vec<String> = ports.iter().map(u32::to_string).collect();
                findings.push(Finding {
                    kind: FindingKind::PortMismatch,
                    severity: Severity::Warning,
                    title: format!(
                        "{image} exposes {} but the project's port is {}: traffic (and the health check) would go to a port nothing listens on.",
                        list.join(", "),
                        config.port
                    ),
                    fix: format!("Set the port to {} in the project settings.", ports[0]),
                    line: None,
                });
            }
        }
    }
    Preflight {
        findings,
        context: None,
        stages: Vec::new(),
        base_image: Some(image.to_owned()),
    }
}

/// Makes a local release of an image project: pulls the image (signed in as Docker's config
/// says), then labels it as a release `<app>:<version>`, the version being the image's tag.
/// The same image under the same reference is recognised and not released twice.
#[allow(clippy::too_many_arguments)]
pub async fn release_from_image(
    host: &HostEnv,
    dir: &Path,
    config: &ProjectConfig,
    image: &str,
    request: &BuildRequest,
    sink: &dyn ProgressSink<BuildEvent>,
    cancel: &Cancel,
    now: OffsetDateTime,
) -> Result<BuildOutcome> {
    let started = Instant::now();
    let reference = ImageRef::parse(image).map_err(|message| field_problem("image", message))?;
    let (docker, ..) = docker::connect(host).await?;
    // A credential helper is a program that may take a moment (a keychain prompt): it runs
    // off the async workers.
    let login = {
        let (host, reference) = (host.clone(), reference.clone());
        tokio::task::spawn_blocking(move || credentials::login_for(&host, &reference))
            .await
            .map_err(|e| {
                EngineError::Internal(format!("the registry sign-in lookup stopped: {e}"))
            })?
    }
    .map_err(|reason| EngineError::ImagePullFailed {
        image: image.to_owned(),
        reason: format!("the registry sign-in could not be read: {reason}"),
    })?;
    sink.emit(BuildEvent::OutputLogged {
        line: match &login {
            Some(login) => format!(
                "Pulling {} as {} (sign-in from {})",
                reference.pull_name(),
                login.username,
                login.source
            ),
            None => format!(
                "Pulling {} (no sign-in for {})",
                reference.pull_name(),
                reference.registry
            ),
        },
    });
    let mut reader = StreamReader::new(started);
    pull(
        &docker,
        &reference,
        config,
        login.map(|l| l.credentials),
        &mut reader,
        sink,
        cancel,
    )
    .await
    .map_err(|e| match e {
        EngineError::Docker { reason, .. } => EngineError::ImagePullFailed {
            image: image.to_owned(),
            reason,
        },
        other => other,
    })?;
    let pulled = docker
        .inspect_image(&reference.pull_name())
        .await
        .map_err(|e| docker::engine_error("inspect the pulled image", e))?;
    let image_id = pulled.id.unwrap_or_default();
    let arch = pulled.architecture.unwrap_or_default();
    if !arch.is_empty() && arch != config.platform.arch() {
        return Err(EngineError::ImagePullFailed {
            image: image.to_owned(),
            reason: format!(
                "the registry has it only for {arch}, and the app targets {}; set the project's platform to linux/{arch} if that is what you want to run",
                config.platform.as_str()
            ),
        });
    }
    sink.emit(BuildEvent::OutputLogged {
        line: format!(
            "Pulled {} ({})",
            reference.pull_name(),
            pulled
                .repo_digests
                .unwrap_or_default()
                .first()
                .cloned()
                .unwrap_or_else(|| image_id.clone())
        ),
    });
    let fingerprint = fingerprint(&reference, &image_id, config);
    let shelf = releases::Shelf::read(&docker, &config.name).await?;
    if !request.force {
        if let Some(existing) = shelf.with_fingerprint(&fingerprint) {
            sink.emit(BuildEvent::UpToDate {
                version: existing.version.clone(),
            });
            return Ok(BuildOutcome {
                release: existing,
                up_to_date: true,
                elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
            });
        }
    }
    let wanted = reference
        .version()
        .map(str::to_owned)
        .unwrap_or_else(|| release_version(dir, now));
    let version = shelf.free_version(wanted);
    let released = label(
        &docker,
        &reference,
        config,
        &version,
        &fingerprint,
        &mut reader,
        sink,
        cancel,
    )
    .await?;
    crate::build::tag_release(&docker, config, &released, &version, started, sink).await
}

/// Pulls `reference` for the project's platform, its progress shown as a build's layers.
async fn pull(
    docker: &Docker,
    reference: &ImageRef,
    config: &ProjectConfig,
    credentials: Option<bollard::auth::DockerCredentials>,
    reader: &mut StreamReader,
    sink: &dyn ProgressSink<BuildEvent>,
    cancel: &Cancel,
) -> Result<()> {
    let options = CreateImageOptions {
        from_image: Some(reference.pull_name()),
        platform: config.platform.as_str().to_owned(),
        ..Default::default()
    };
    let mut stream = docker.create_image(Some(options), None, credentials);
    loop {
        let next = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(EngineError::Cancelled),
            next = stream.next() => next,
        };
        match next {
            None => return Ok(()),
            Some(Ok(info)) => {
                let as_build = BuildInfo {
                    id: info.id,
                    status: info.status,
                    progress_detail: info.progress_detail,
                    ..Default::default()
                };
                for event in reader.read(as_build) {
                    sink.emit(event);
                }
            }
            Some(Err(e)) => return Err(docker::engine_error("pull the image", e)),
        }
    }
}

/// Builds the one-line `FROM <image>` that puts the release label on the pulled image, and
/// returns the labelled image's id.
#[allow(clippy::too_many_arguments)]
async fn label(
    docker: &Docker,
    reference: &ImageRef,
    config: &ProjectConfig,
    version: &str,
    fingerprint: &str,
    reader: &mut StreamReader,
    sink: &dyn ProgressSink<BuildEvent>,
    cancel: &Cancel,
) -> Result<String> {
    let dockerfile = format!("FROM {}\n", reference.pull_name());
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(dockerfile.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "Dockerfile", dockerfile.as_bytes())
        .map_err(|e| EngineError::Internal(format!("packing the generated Dockerfile: {e}")))?;
    let tar = tar
        .into_inner()
        .map_err(|e| EngineError::Internal(format!("packing the generated Dockerfile: {e}")))?;
    let options = BuildImageOptions {
        dockerfile: "Dockerfile".into(),
        platform: config.platform.as_str().to_owned(),
        labels: Some(HashMap::from([(
            labels::RELEASE.to_owned(),
            labels::release(&config.name, version, fingerprint),
        )])),
        rm: true,
        forcerm: true,
        ..Default::default()
    };
    let mut stream = docker.build_image(options, None, Some(bollard::body_full(tar.into())));
    loop {
        let next = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(EngineError::Cancelled),
            next = stream.next() => next,
        };
        match next {
            None => break,
            Some(Ok(info)) => {
                for event in reader.read(info) {
                    sink.emit(event);
                }
            }
            Some(Err(bollard::errors::Error::DockerStreamError { error })) => {
                return Err(reader.failure(error));
            }
            Some(Err(e)) => return Err(docker::engine_error("label the pulled image", e)),
        }
    }
    reader.image_id().ok_or_else(|| {
        reader.failure("the builder finished without naming the image it made".into())
    })
}

/// What decides an image release's content: the reference, the image pulled for it, and
/// the platform. A new tag of the same image is a new release (a version is a tag).
fn fingerprint(reference: &ImageRef, image_id: &str, config: &ProjectConfig) -> String {
    let mut hasher = Sha256::new();
    for part in [
        "image",
        &reference.pull_name(),
        image_id,
        config.platform.as_str(),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn a_new_tag_of_the_same_image_is_a_new_release_but_the_same_pull_is_not() {
        let config = project::propose(Path::new("/nonexistent/app"));
        let one = ImageRef::parse("ghcr.io/org/app:1.2").unwrap();
        let two = ImageRef::parse("ghcr.io/org/app:1.3").unwrap();
        assert_eq!(
            fingerprint(&one, "sha256:aa", &config),
            fingerprint(&one, "sha256:aa", &config)
        );
        assert_ne!(
            fingerprint(&one, "sha256:aa", &config),
            fingerprint(&two, "sha256:aa", &config)
        );
        assert_ne!(
            fingerprint(&one, "sha256:aa", &config),
            fingerprint(&one, "sha256:bb", &config),
            "a tag moved to another image is a new release"
        );
    }
}
