//! Building a project's image on the local Docker engine: pre-flight, the context tarred
//! with .dockerignore applied, the engine's build stream turned into step and layer
//! progress, and tags only once the build succeeded (`<app>:<version>` and `latest`), so
//! a failed build leaves nothing tagged. An unchanged project (same context, Dockerfile,
//! build arguments and platform) is recognised by fingerprint and not rebuilt.

pub mod context;
mod stream;
mod version;

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use bollard::query_parameters::{BuildImageOptions, ListImagesOptions, TagImageOptions};
use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

pub use stream::{BuildStep, StreamReader};
pub use version::release_version;

use crate::docker;
use crate::error::{EngineError, Result};
use crate::host::HostEnv;
use crate::jobs::Cancel;
use crate::preflight::{self, Finding};
use crate::progress::ProgressSink;
use crate::project::{self, ProjectConfig};
use crate::releases::{self, labels, LocalRelease};

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "type", content = "data", rename_all_fields = "camelCase")]
pub enum BuildEvent {
    PreflightChecked {
        findings: Vec<Finding>,
    },
    ContextPacked {
        files: u32,
        bytes: f64,
        fingerprint: String,
    },
    /// A release with this exact content exists: no build needed.
    UpToDate {
        version: String,
    },
    StepStarted {
        step: u32,
        total: u32,
        instruction: String,
        elapsed_ms: f64,
    },
    /// One line of the builder's output (the running step's, or a message of its own).
    OutputLogged {
        line: String,
    },
    /// A base layer downloading or extracting; `current`/`total` in bytes when known.
    LayerProgressed {
        id: String,
        status: String,
        current: f64,
        total: f64,
    },
    ImageTagged {
        tags: Vec<String>,
        elapsed_ms: f64,
    },
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct BuildOutcome {
    pub release: LocalRelease,
    /// True when an identical release already existed and no build ran.
    pub up_to_date: bool,
    pub elapsed_ms: f64,
}

#[derive(Debug, Clone, Default, serde::Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct BuildRequest {
    /// Build even when an identical release exists.
    #[serde(default)]
    pub force: bool,
}

/// Builds the project in `dir` as a new local release.
pub async fn build(
    host: &HostEnv,
    dir: &Path,
    request: &BuildRequest,
    sink: &dyn ProgressSink<BuildEvent>,
    cancel: &Cancel,
    now: OffsetDateTime,
) -> Result<BuildOutcome> {
    let started = Instant::now();
    let (dir, config) = project::open_saved(dir)?;
    if let Some(image) = &config.image {
        return crate::image_source::release_from_image(
            host, &dir, &config, image, request, sink, cancel, now,
        )
        .await;
    }
    // One connection and one walk of the context serve pre-flight and the build; a dead
    // engine is a pre-flight warning first, so a broken project reports its blockers.
    let connected = docker::connect(host).await;
    let (checked, scanned) = preflight::check_with(
        connected
            .as_ref()
            .map(|(d, ..)| d)
            .map_err(ToString::to_string),
        &dir,
        &config,
    )
    .await?;
    sink.emit(BuildEvent::PreflightChecked {
        findings: checked.findings.clone(),
    });
    let blockers: Vec<String> = checked.blockers().map(|f| f.title.clone()).collect();
    if !blockers.is_empty() {
        return Err(EngineError::PreflightFailed { problems: blockers });
    }
    let context = scanned.ok_or_else(|| EngineError::ContextMissing {
        dir: dir.join(&config.context),
    })?;
    let (tar, context_fingerprint) = context.pack()?;
    let fingerprint = fingerprint(&context_fingerprint, &context.dockerfile_name(), &config);
    sink.emit(BuildEvent::ContextPacked {
        files: context.summary().files,
        bytes: tar.len() as f64,
        fingerprint: fingerprint.clone(),
    });
    let (docker, ..) = connected?;
    if !request.force {
        if let Some(existing) =
            releases::find_by_fingerprint(&docker, &config.name, &fingerprint).await?
        {
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
    let version = unique_version(&docker, &config.name, release_version(&dir, now)).await?;
    let options = BuildImageOptions {
        dockerfile: context.dockerfile_name(),
        platform: config.platform.as_str().to_owned(),
        buildargs: Some(
            config
                .build_args
                .iter()
                .map(|kv| (kv.name.clone(), kv.value.clone()))
                .collect(),
        ),
        labels: Some(HashMap::from([(
            labels::RELEASE.to_owned(),
            labels::release(&config.name, &version, &fingerprint),
        )])),
        rm: true,
        forcerm: true,
        ..Default::default()
    };
    let mut reader = StreamReader::new(started);
    {
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
                Some(Err(e)) => return Err(docker::engine_error("build the image", e)),
            }
        }
    }
    let image_id = reader.image_id().ok_or_else(|| {
        reader.failure("the builder finished without naming the image it built".into())
    })?;
    let mut tags = Vec::new();
    for tag in [version.as_str(), "latest"] {
        docker
            .tag_image(
                &image_id,
                Some(TagImageOptions {
                    repo: Some(config.name.clone()),
                    tag: Some(tag.to_owned()),
                }),
            )
            .await
            .map_err(|e| docker::engine_error("tag the image", e))?;
        tags.push(format!("{}:{tag}", config.name));
    }
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    sink.emit(BuildEvent::ImageTagged { tags, elapsed_ms });
    let release = releases::find_by_fingerprint(&docker, &config.name, &fingerprint)
        .await?
        .ok_or_else(|| {
            EngineError::Internal("the image just built has no release labels".into())
        })?;
    Ok(BuildOutcome {
        release,
        up_to_date: false,
        elapsed_ms,
    })
}

/// What decides the image's content: the context, which Dockerfile, the build arguments and
/// the platform.
fn fingerprint(context: &str, dockerfile: &str, config: &ProjectConfig) -> String {
    let mut hasher = Sha256::new();
    for part in [context, dockerfile, config.platform.as_str()] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let mut args: Vec<_> = config
        .build_args
        .iter()
        .map(|kv| (&kv.name, &kv.value))
        .collect();
    args.sort();
    for (name, value) in args {
        hasher.update(format!("{name}={value}\0").as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `version`, or `version-2`, `version-3`... when an image of this app already has that tag.
pub(crate) async fn unique_version(
    docker: &bollard::Docker,
    app: &str,
    version: String,
) -> Result<String> {
    let images = docker
        .list_images(Some(ListImagesOptions {
            filters: Some(HashMap::from([(
                "reference".to_owned(),
                vec![app.to_owned()],
            )])),
            ..Default::default()
        }))
        .await
        .map_err(|e| docker::engine_error("list images", e))?;
    let taken: Vec<String> = images.into_iter().flat_map(|i| i.repo_tags).collect();
    let is_taken = |v: &str| taken.iter().any(|t| t == &format!("{app}:{v}"));
    if !is_taken(&version) {
        return Ok(version);
    }
    let mut n = 2;
    while is_taken(&format!("{version}-{n}")) {
        n += 1;
    }
    Ok(format!("{version}-{n}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::KeyValue;

    #[test]
    fn build_arguments_and_platform_change_the_fingerprint_but_their_order_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = project::propose(dir.path());
        let base = fingerprint("ctx", "Dockerfile", &config);
        config.build_args = vec![
            KeyValue {
                name: "A".into(),
                value: "1".into(),
            },
            KeyValue {
                name: "B".into(),
                value: "2".into(),
            },
        ];
        let with_args = fingerprint("ctx", "Dockerfile", &config);
        assert_ne!(base, with_args);
        config.build_args.reverse();
        assert_eq!(with_args, fingerprint("ctx", "Dockerfile", &config));
        config.platform = project::Platform::LinuxArm64;
        assert_ne!(with_args, fingerprint("ctx", "Dockerfile", &config));
    }
}
