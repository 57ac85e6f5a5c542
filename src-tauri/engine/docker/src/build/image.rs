//! Projects that deploy an image someone else built (`image = "ghcr.io/org/app:1.2"` in
//! slipway.toml) instead of a Dockerfile: the reference, the registry sign-in from Docker's
//! config, the pull, and the local release made from the pulled image, labelled like a
//! build's, so preview, releases, deploy, the push to ECR and rollback treat it as any
//! other. `build` hands image projects to [`release_from_image`]; everything after the
//! release belongs to the features that use releases.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use bollard::models::BuildInfo;
use bollard::query_parameters::{BuildImageOptions, CreateImageOptions};
use bollard::Docker;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{release_version, BuildEvent, BuildOutcome, BuildRequest, StreamReader};
use crate::docker::{self, credentials};
use crate::releases::{self, labels};
use slipway_core::error::{EngineError, Result};
use slipway_core::host::HostEnv;
use slipway_core::jobs::Cancel;
use slipway_core::progress::ProgressSink;
use slipway_core::project::{ImageRef, ProjectConfig};

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
    let reference =
        ImageRef::parse(image).map_err(|message| EngineError::invalid_field("image", message))?;
    let (docker, endpoint, _) = docker::connect(host).await?;
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
    let mut shelf = releases::Shelf::new(&docker, host, &endpoint.uri, &config.name);
    if !request.force {
        if let Some(existing) = shelf.with_fingerprint(&fingerprint).await? {
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
    let version = shelf.free_version(wanted).await?;
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
    let outcome =
        crate::build::tag_release(&docker, config, &released, &version, false, started, sink)
            .await?;
    shelf.remember(&outcome.release).await;
    Ok(outcome)
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
    use slipway_core::project;

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
