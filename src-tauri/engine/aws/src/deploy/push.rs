//! Pushing a local release to the app's ECR repository through the Docker engine: the
//! registry login comes from ECR's authorization token (refreshed once when the registry
//! says it expired), the image is tagged `<version>` and `latest`, and a push whose digest
//! the repository already holds is skipped.

use aws_sdk_ecr::types::ImageIdentifier;
use bollard::auth::DockerCredentials;
use bollard::query_parameters::{PushImageOptions, TagImageOptions};
use bollard::Docker;
use futures_util::StreamExt;

use super::{DeployEvent, Deployment};
use crate::aws::classify;
use slipway_core::error::{EngineError, Result};
use slipway_docker::docker::engine_error;

/// Without these, BatchGetImage reports OCI manifests and indexes as failures.
pub const MANIFEST_TYPES: [&str; 4] = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
];

/// The image as pushed: where it is, pinned by digest, and for which CPU.
#[derive(Debug, Clone)]
pub struct Pushed {
    pub image_by_digest: String,
    pub digest: String,
    /// "X86_64" or "ARM64", from the image itself.
    pub cpu_architecture: String,
    pub skipped: bool,
}

struct Login {
    credentials: DockerCredentials,
}

async fn login(d: &Deployment<'_>, registry: &str) -> Result<Login> {
    let ecr = aws_sdk_ecr::Client::new(&d.conn.ctx.sdk);
    let answer = d
        .persist("ecr:GetAuthorizationToken", false, || async {
            ecr.get_authorization_token()
                .send()
                .await
                .map_err(|e| classify(&d.conn.ctx, "ecr:GetAuthorizationToken", e))
        })
        .await?;
    let token = answer
        .authorization_data()
        .first()
        .and_then(|a| a.authorization_token())
        .ok_or_else(|| EngineError::Internal("ECR returned no authorization token".into()))?;
    let decoded = aws_smithy_types::base64::decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| EngineError::Internal("ECR's authorization token is not base64".into()))?;
    let (user, password) = decoded
        .split_once(':')
        .ok_or_else(|| EngineError::Internal("ECR's authorization token has no user".into()))?;
    Ok(Login {
        credentials: DockerCredentials {
            username: Some(user.to_owned()),
            password: Some(password.to_owned()),
            serveraddress: Some(registry.to_owned()),
            ..Default::default()
        },
    })
}

fn architecture(docker_arch: &str) -> String {
    match docker_arch {
        "arm64" | "aarch64" => "ARM64",
        _ => "X86_64",
    }
    .to_owned()
}

/// Pushes `image_id` (a local release) to `repository_uri` as `version` and `latest`.
pub async fn push(
    d: &Deployment<'_>,
    docker: &Docker,
    image_id: &str,
    repository_uri: &str,
    version: &str,
) -> Result<Pushed> {
    let image = docker
        .inspect_image(image_id)
        .await
        .map_err(|e| engine_error("read the release image", e))?;
    let cpu_architecture = architecture(image.architecture.as_deref().unwrap_or("amd64"));
    let layers = image
        .root_fs
        .as_ref()
        .and_then(|r| r.layers.as_ref())
        .map_or(0, |l| l.len() as u32);
    let known_digest = image
        .repo_digests
        .unwrap_or_default()
        .iter()
        .find_map(|rd| {
            rd.strip_prefix(&format!("{repository_uri}@"))
                .map(str::to_owned)
        });
    if let Some(digest) = known_digest {
        if let Some(tagged) = tags_of(d, &digest).await? {
            let untagged: Vec<&str> = [version, "latest"]
                .into_iter()
                .filter(|t| !tagged.iter().any(|h| h == t))
                .collect();
            let skipped = Pushed {
                image_by_digest: format!("{repository_uri}@{digest}"),
                digest: digest.clone(),
                cpu_architecture: cpu_architecture.clone(),
                skipped: true,
            };
            // The manifest is only needed to move a tag: a redeploy of what the tags already
            // name needs no further call.
            if untagged.is_empty() {
                return Ok(skipped);
            }
            // An image gone between the two calls (a lifecycle rule) is pushed again below.
            if let Some(manifest) = held_manifest(d, &digest).await? {
                tag_remotely(d, &digest, &manifest, &untagged).await?;
                return Ok(skipped);
            }
        }
    }
    let registry = repository_uri.split('/').next().unwrap_or(repository_uri);
    for tag in [version, "latest"] {
        docker
            .tag_image(
                image_id,
                Some(TagImageOptions {
                    repo: Some(repository_uri.to_owned()),
                    tag: Some(tag.to_owned()),
                }),
            )
            .await
            .map_err(|e| engine_error("tag the image for ECR", e))?;
    }
    let mut login_state = login(d, registry).await?;
    let mut digest = None;
    for tag in [version, "latest"] {
        let mut refreshed = false;
        loop {
            match push_tag(d, docker, repository_uri, tag, &login_state, layers).await {
                Ok(found) => {
                    digest = digest.or(found);
                    break;
                }
                Err(PushStop::Refused(reason)) if is_auth_failure(&reason) && !refreshed => {
                    // The token lasts 12 hours; a long session can outlive it.
                    refreshed = true;
                    login_state = login(d, registry).await?;
                }
                Err(stop) => return Err(push_stopped(d, repository_uri, stop)),
            }
        }
    }
    let digest = match digest {
        Some(digest) => digest,
        None => docker
            .inspect_image(image_id)
            .await
            .map_err(|e| engine_error("read the pushed image", e))?
            .repo_digests
            .unwrap_or_default()
            .iter()
            .find_map(|rd| {
                rd.strip_prefix(&format!("{repository_uri}@"))
                    .map(str::to_owned)
            })
            .ok_or_else(|| EngineError::Internal("the push reported no digest".into()))?,
    };
    Ok(Pushed {
        image_by_digest: format!("{repository_uri}@{digest}"),
        digest,
        cpu_architecture,
        skipped: false,
    })
}

/// Why the push of one tag ended without the registry's answer.
enum PushStop {
    Cancelled,
    /// The deploy's deadline passed while it pushed.
    Deadline,
    /// The registry (or the engine) refused it, in its own words.
    Refused(String),
}

/// How often push progress is shown at most while bytes move (a layer finishing always is).
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Pushes one tag; the digest the registry gave, if it said one.
async fn push_tag(
    d: &Deployment<'_>,
    docker: &Docker,
    repository_uri: &str,
    tag: &str,
    login: &Login,
    layers: u32,
) -> std::result::Result<Option<String>, PushStop> {
    let mut stream = docker.push_image(
        repository_uri,
        Some(PushImageOptions {
            tag: Some(tag.to_owned()),
            ..Default::default()
        }),
        Some(login.credentials.clone()),
    );
    let mut done = 0u32;
    let mut digest = None;
    let mut shown: Option<(std::time::Instant, u32)> = None;
    loop {
        let left = d
            .deadline
            .saturating_duration_since(std::time::Instant::now());
        let item = tokio::select! {
            _ = d.cancel.cancelled() => return Err(PushStop::Cancelled),
            _ = tokio::time::sleep(left) => return Err(PushStop::Deadline),
            item = stream.next() => item,
        };
        let Some(item) = item else { break };
        let info = item.map_err(|e| PushStop::Refused(e.to_string()))?;
        let status = info.status.unwrap_or_default();
        if status == "Pushed" || status == "Layer already exists" {
            done += 1;
        }
        if let Some(found) = status.split_whitespace().find(|w| w.starts_with("sha256:")) {
            digest = Some(found.to_owned());
        }
        let (current, total) = info
            .progress_detail
            .map(|p| (p.current.unwrap_or(0), p.total.unwrap_or(0)))
            .unwrap_or((0, 0));
        let due = shown
            .is_none_or(|(at, layers_then)| layers_then != done || at.elapsed() >= PROGRESS_EVERY);
        if due && (status == "Pushing" || status == "Pushed" || status == "Layer already exists") {
            shown = Some((std::time::Instant::now(), done));
            d.emit(DeployEvent::PushProgress {
                tag: tag.to_owned(),
                layers_done: done.min(layers.max(done)),
                layers: layers.max(done),
                status,
                current_bytes: current as f64,
                total_bytes: total as f64,
            });
        }
    }
    Ok(digest)
}

// A registry's refusal reaches Docker's push stream as text only (no code, and it varies
// by registry), so the functions below read it by its words.

fn is_auth_failure(reason: &str) -> bool {
    let r = reason.to_lowercase();
    r.contains("unauthorized") || r.contains("authentication required") || r.contains("expired")
}

fn push_stopped(d: &Deployment<'_>, repository_uri: &str, stop: PushStop) -> EngineError {
    let reason = match stop {
        PushStop::Cancelled => return EngineError::Cancelled,
        PushStop::Deadline => {
            return EngineError::DeployTimedOut {
                seconds: d.deadline_seconds.into(),
                waiting_for: format!("the push to {repository_uri} was still running"),
                left: "Nothing was started on AWS.".into(),
            }
        }
        PushStop::Refused(reason) => reason,
    };
    let reason = reason.as_str();
    let lower = reason.to_lowercase();
    let fix = if lower.contains("denied") || is_auth_failure(reason) {
        "ECR refused these credentials: they need ecr:GetAuthorizationToken, ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload, ecr:BatchCheckLayerAvailability and ecr:PutImage on the repository."
    } else if lower.contains("name unknown") || lower.contains("does not exist") {
        "The repository is missing: setting up AWS for the app again creates it."
    } else if lower.contains("tag invalid") || lower.contains("immutable") {
        "The repository's tags are immutable and this version is taken: build again for a new version."
    } else {
        "Check the network connection to ECR and deploy again; layers already pushed are kept."
    };
    EngineError::AwsStepFailed {
        step: format!("push the image to {repository_uri}"),
        cause: Box::new(EngineError::Docker {
            operation: "push the image".into(),
            reason: reason.to_owned(),
        }),
        fix: Some(fix.to_owned()),
        again: "deploy again".into(),
    }
}

/// The tags on `digest` when the repository holds it (one DescribeImages); `None` when it
/// does not.
async fn tags_of(d: &Deployment<'_>, digest: &str) -> Result<Option<Vec<String>>> {
    let mut found = d
        .persist("ecr:DescribeImages", false, || {
            super::history::images(d.conn, &d.names.repository, Some(digest))
        })
        .await?;
    Ok(found.remove(digest).map(|image| image.tags))
}

/// The manifest of `digest` when the repository holds it.
async fn held_manifest(d: &Deployment<'_>, digest: &str) -> Result<Option<String>> {
    let ecr = aws_sdk_ecr::Client::new(&d.conn.ctx.sdk);
    let answer = d
        .persist("ecr:BatchGetImage", false, || async {
            ecr.batch_get_image()
                .repository_name(&d.names.repository)
                .image_ids(ImageIdentifier::builder().image_digest(digest).build())
                .set_accepted_media_types(Some(
                    MANIFEST_TYPES.iter().map(|t| t.to_string()).collect(),
                ))
                .send()
                .await
                .map_err(|e| classify(&d.conn.ctx, "ecr:BatchGetImage", e))
        })
        .await?;
    Ok(answer
        .images()
        .first()
        .and_then(|i| i.image_manifest())
        .map(str::to_owned))
}

/// Points `tags` at `manifest`, which the repository already holds.
pub(super) async fn tag_remotely(
    d: &Deployment<'_>,
    digest: &str,
    manifest: &str,
    tags: &[&str],
) -> Result<()> {
    let ecr = aws_sdk_ecr::Client::new(&d.conn.ctx.sdk);
    for tag in tags.iter().copied() {
        let put = ecr
            .put_image()
            .repository_name(&d.names.repository)
            .image_manifest(manifest)
            .image_tag(tag)
            .image_digest(digest)
            .send()
            .await;
        if let Err(e) = put {
            // The tag already on this digest is what we want.
            let already = e
                .as_service_error()
                .is_some_and(|s| s.is_image_already_exists_exception());
            if !already {
                return Err(classify(&d.conn.ctx, "ecr:PutImage", e));
            }
        }
    }
    Ok(())
}
