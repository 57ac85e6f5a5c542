//! Building a project's image on the local Docker engine, with BuildKit as Docker Desktop
//! builds (the legacy builder only where the engine has none, said in the progress):
//! pre-flight, the context streamed as a tar with .dockerignore applied, the builder's
//! stream turned into step and layer progress, and tags only once the build succeeded
//! (`<app>:<version>` and `latest`), so a failed build leaves nothing tagged. An unchanged
//! project (same context, Dockerfile, build arguments and platform) is recognised by
//! fingerprint and not rebuilt.

mod buildkit;
pub mod image;
#[cfg(unix)]
mod session;
mod stream;
mod version;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use bollard::models::{BuildInfo, BuildInfoAux};
use bollard::query_parameters::{BuildImageOptions, BuilderVersion, TagImageOptions};
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

pub use buildkit::{parse_vertex, StatusReader, VertexStep};
pub use stream::{strip_ansi, BuildStep, StreamReader};
pub use version::release_version;

use crate::context;
use crate::docker::{self, DockerEngine};
use crate::preflight::{self, Finding};
use crate::releases::{self, labels, LocalRelease};
use slipway_core::error::{EngineError, Result};
use slipway_core::host::HostEnv;
use slipway_core::jobs::Cancel;
use slipway_core::progress::ProgressSink;
use slipway_core::project::{self, ProjectConfig};
use slipway_core::user_files;

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "type", content = "data", rename_all_fields = "camelCase")]
pub enum BuildEvent {
    PreflightChecked {
        findings: Vec<Finding>,
    },
    /// Which builder the engine builds with, and why when it is not BuildKit.
    BuilderChosen {
        builder: Builder,
        note: Option<String>,
    },
    ContextPacked {
        files: u32,
        bytes: f64,
        fingerprint: String,
        /// Pipes, sockets and devices in the context folder, which were not sent.
        skipped: Vec<String>,
    },
    /// The build's context reached the engine: `files` of `bytes` moved. With
    /// `changed_only`, a BuildKit session sent only the files the engine asked for (what it
    /// did not have from an earlier build of this folder); else the whole context went as
    /// a tar.
    ContextSent {
        files: u32,
        bytes: f64,
        changed_only: bool,
    },
    /// A release with this exact content exists: no build needed.
    UpToDate {
        version: String,
    },
    /// A Dockerfile step started: `step` of `total` in its stage (BuildKit numbers each
    /// stage's steps apart and runs independent stages side by side).
    StepStarted {
        step: u32,
        total: u32,
        instruction: String,
        /// The stage's name, when the Dockerfile names it (`FROM … AS build`).
        stage: Option<String>,
        elapsed_ms: f64,
    },
    /// A step finished: from the build cache, or in `step_ms` (BuildKit only).
    StepFinished {
        step: u32,
        total: u32,
        instruction: String,
        stage: Option<String>,
        cached: bool,
        step_ms: f64,
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

/// What a `ContextSent` says, in words (the window says the same).
pub fn sent_words(files: u32, bytes: f64, changed_only: bool) -> String {
    let size = preflight::human_bytes(bytes as u64);
    let plural = if files == 1 { "" } else { "s" };
    match (changed_only, files) {
        (true, 0) => "Sent no files: Docker had everything it needed from an earlier build.".into(),
        (true, _) => format!(
            "Sent {files} file{plural} ({size}) to Docker: only what it did not have from an earlier build."
        ),
        (false, _) => format!("Sent the whole folder to Docker: {files} file{plural} ({size})."),
    }
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
        return image::release_from_image(host, &dir, &config, image, request, sink, cancel, now)
            .await;
    }
    // The version asks git (two processes; slow in a large repository): started now, it
    // runs while the engine is asked and the context read, and is waited for only if a
    // build is needed.
    let wanted_version = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || release_version(&dir, now))
    };
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
    let context = Arc::new(context);
    let fingerprint = content_fingerprint(&context, &config, cancel).await?;
    let summary = context.summary();
    sink.emit(BuildEvent::ContextPacked {
        files: summary.files,
        bytes: summary.bytes,
        fingerprint: fingerprint.clone(),
        skipped: summary.skipped,
    });
    let (docker, endpoint, engine) = connected?;
    // The engine answers a build only once it has read the whole context: the probe's
    // short timeout would cut a large context off mid-upload. The job's cancel bounds it.
    let docker = docker.with_timeout(BUILD_TIMEOUT);
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
    let wanted_version = wanted_version
        .await
        .map_err(|e| EngineError::Internal(format!("naming the release: {e}")))?;
    let version = shelf.free_version(wanted_version).await?;
    let options = BuildImageOptions {
        dockerfile: context.dockerfile_name(),
        platform: config.platform.as_str().to_owned(),
        target: config.target.clone().unwrap_or_default(),
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
        // The build itself gives the image its version tag (one engine call fewer); a
        // failed build tags nothing.
        t: Some(format!("{}:{version}", config.name)),
        rm: true,
        forcerm: true,
        ..Default::default()
    };
    let job = BuildJob {
        host,
        docker: &docker,
        socket: session_socket(&endpoint.uri),
        context: &context,
        sink,
        cancel,
        started,
    };
    let image_id = match choose_builder(host, &engine) {
        Ok(()) => {
            sink.emit(BuildEvent::BuilderChosen {
                builder: Builder::BuildKit,
                note: None,
            });
            match job.with_buildkit(options.clone()).await? {
                Built::Image(id) => id,
                Built::BuildKitRefused(reason) => {
                    let note = format!(
                        "This Docker engine refused a BuildKit build ({reason}), so Slipway builds with the legacy builder: RUN --mount, COPY --chmod and heredocs will not work."
                    );
                    sink.emit(BuildEvent::BuilderChosen {
                        builder: Builder::Legacy,
                        note: Some(note),
                    });
                    job.with_legacy_builder(options).await?
                }
            }
        }
        Err(note) => {
            sink.emit(BuildEvent::BuilderChosen {
                builder: Builder::Legacy,
                note: Some(note),
            });
            job.with_legacy_builder(options).await?
        }
    };
    let outcome = tag_release(&docker, &config, &image_id, &version, true, started, sink).await?;
    shelf.remember(&outcome.release).await;
    Ok(outcome)
}

/// Tags the image a build made as `<app>:<version>` (unless the build did) and `latest`
/// (only once it exists, so a failed build leaves nothing tagged) and reads it back as a
/// release: the last step of a build and of an image project's release alike.
pub(crate) async fn tag_release(
    docker: &bollard::Docker,
    config: &ProjectConfig,
    image_id: &str,
    version: &str,
    version_tagged: bool,
    started: Instant,
    sink: &dyn ProgressSink<BuildEvent>,
) -> Result<BuildOutcome> {
    // The version first: `latest` moves only once the release has its own tag.
    let mut tags = Vec::new();
    for tag in [version, "latest"] {
        if !(version_tagged && tag == version) {
            docker
                .tag_image(
                    image_id,
                    Some(TagImageOptions {
                        repo: Some(config.name.clone()),
                        tag: Some(tag.to_owned()),
                    }),
                )
                .await
                .map_err(|e| docker::engine_error("tag the image", e))?;
        }
        tags.push(format!("{}:{tag}", config.name));
    }
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    sink.emit(BuildEvent::ImageTagged { tags, elapsed_ms });
    let release = releases::inspect(docker, &config.name, image_id).await?;
    Ok(BuildOutcome {
        release,
        up_to_date: false,
        elapsed_ms,
    })
}

/// The local release built from exactly what the folder holds now (its context,
/// Dockerfile, build arguments and platform): what preview and deploy act on when no
/// release is named, so what runs is what the folder holds, never an older or a newer
/// build. An error says when no release has this content yet.
pub async fn release_for_folder(
    docker: &bollard::Docker,
    dir: &Path,
    config: &ProjectConfig,
    cancel: &Cancel,
) -> Result<LocalRelease> {
    if config.image.is_some() {
        // The folder holds no image content, only the reference: its release is the one
        // the last build (the last pull) made. The window and the CLI build first, so
        // that is the reference the settings name now.
        return releases::list(docker, &config.name)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| EngineError::FolderNotBuilt {
                app: config.name.clone(),
                newest: None,
            });
    }
    let dockerfile = user_files::inside(dir, &config.dockerfile, "The Dockerfile path")?;
    let context_dir = user_files::inside(dir, &config.context, "The build context")?;
    let context =
        tokio::task::spawn_blocking(move || context::Context::scan(&context_dir, &dockerfile))
            .await
            .map_err(|e| EngineError::Internal(format!("scanning the build context: {e}")))??;
    let fingerprint = content_fingerprint(&Arc::new(context), config, cancel).await?;
    let known = releases::list(docker, &config.name).await?;
    known
        .iter()
        .find(|r| r.fingerprint == fingerprint)
        .cloned()
        .ok_or_else(|| EngineError::FolderNotBuilt {
            app: config.name.clone(),
            newest: known.first().map(|r| r.version.clone()),
        })
}

/// The fingerprint of the image `context` and `config` would build, read off the async
/// threads (it reads every file).
async fn content_fingerprint(
    context: &Arc<context::Context>,
    config: &ProjectConfig,
    cancel: &Cancel,
) -> Result<String> {
    let files = {
        let (context, cancel) = (Arc::clone(context), cancel.clone());
        tokio::task::spawn_blocking(move || context.fingerprint(&cancel))
            .await
            .map_err(|e| EngineError::Internal(format!("fingerprinting the context: {e}")))??
    };
    Ok(fingerprint(&files, &context.dockerfile_name(), config))
}

/// How long the engine may take to start answering a build (it reads the whole context
/// first); a cancel ends it sooner.
const BUILD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);

/// The builder a build ran with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
pub enum Builder {
    BuildKit,
    Legacy,
}

/// Setting this host variable to `legacy` builds with the legacy builder even where the
/// engine has BuildKit (for an engine whose BuildKit is broken; and how the tests reach
/// the legacy path on an engine that has both).
pub const BUILDER_VAR: &str = "SLIPWAY_DOCKER_BUILDER";

/// BuildKit, unless the engine cannot run it: `Err` says why, for the progress.
fn choose_builder(host: &HostEnv, engine: &DockerEngine) -> std::result::Result<(), String> {
    if host.var(BUILDER_VAR) == Some("legacy") {
        return Err(format!(
            "Building with the legacy builder, as {BUILDER_VAR}=legacy asks."
        ));
    }
    if engine.os != "linux" {
        return Err(format!(
            "This Docker engine builds {} images, which BuildKit does not; building with the legacy builder.",
            engine.os
        ));
    }
    let (major, minor) = engine
        .api_version
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
        .unwrap_or((0, 0));
    if (major, minor) < (1, 39) {
        return Err(format!(
            "Docker {} has no BuildKit (it came with Docker 18.09); building with the legacy builder, so RUN --mount, COPY --chmod and heredocs will not work. Update Docker to build as Docker Desktop does.",
            engine.version
        ));
    }
    Ok(())
}

enum Built {
    Image(String),
    /// The engine said no to BuildKit before building anything.
    BuildKitRefused(String),
}

/// One build's parts, shared by the two builders.
struct BuildJob<'a> {
    #[cfg_attr(not(unix), allow(dead_code))]
    host: &'a HostEnv,
    docker: &'a bollard::Docker,
    /// The engine's local Unix socket, where a BuildKit session can carry the context.
    #[cfg_attr(not(unix), allow(dead_code))]
    socket: Option<PathBuf>,
    context: &'a Arc<context::Context>,
    sink: &'a dyn ProgressSink<BuildEvent>,
    cancel: &'a Cancel,
    started: Instant,
}

impl BuildJob<'_> {
    /// The next message of the engine's stream, or the cancel.
    async fn next<S>(
        &self,
        stream: &mut S,
    ) -> Result<Option<Result<BuildInfo, bollard::errors::Error>>>
    where
        S: Stream<Item = Result<BuildInfo, bollard::errors::Error>> + Unpin,
    {
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => Err(EngineError::Cancelled),
            next = stream.next() => Ok(next),
        }
    }

    async fn with_buildkit(&self, mut options: BuildImageOptions) -> Result<Built> {
        options.version = BuilderVersion::BuilderBuildKit;
        options.session = Some(format!("slipway-{}", random_id()));
        let mut reader = StatusReader::new(self.started);
        let mut image_id = None;
        let mut heard = false;
        let (mut stream, sending) = tokio::select! {
            biased;
            _ = self.cancel.cancelled() => return Err(EngineError::Cancelled),
            started = self.buildkit_messages(options) => started,
        };
        loop {
            match self.next(&mut stream).await? {
                None => break,
                Some(Ok(info)) => {
                    heard = true;
                    match info.aux {
                        Some(BuildInfoAux::BuildKit(status)) => {
                            for event in reader.read(status) {
                                self.sink.emit(event);
                            }
                        }
                        Some(BuildInfoAux::Default(image)) => image_id = image.id.or(image_id),
                        None => {}
                    }
                }
                Some(Err(bollard::errors::Error::DockerStreamError { error })) => {
                    drop(stream);
                    return Err(sending.error_or(reader.failure(error)).await);
                }
                Some(Err(bollard::errors::Error::DockerResponseServerError {
                    status_code,
                    message,
                })) if !heard
                    && (400..500).contains(&status_code)
                    && refuses_buildkit(&message) =>
                {
                    drop(stream);
                    let _ = sending.error_or(EngineError::Cancelled).await;
                    return Ok(Built::BuildKitRefused(message));
                }
                Some(Err(e)) => {
                    drop(stream);
                    return Err(sending
                        .error_or(docker::engine_error("build the image", e))
                        .await);
                }
            }
        }
        drop(stream);
        self.sink.emit(sending.finished(self.context.size()).await?);
        image_id.map(Built::Image).ok_or_else(|| {
            reader.failure("the builder finished without naming the image it built".into())
        })
    }

    /// The engine's answer to a BuildKit build, with the context sent through a session
    /// where the engine takes one (only what changed since the last build moves), else as
    /// a tar.
    async fn buildkit_messages(&self, options: BuildImageOptions) -> (Messages<'_>, Sending) {
        #[cfg(unix)]
        if let (Some(socket), Some(dockerfile)) =
            (self.socket.as_deref(), self.context.dockerfile_base_name())
        {
            let id = options.session.clone().unwrap_or_default();
            if let Some(open) = session::Session::open(socket, self.context, self.host, id).await {
                let open = Arc::new(open);
                let options = BuildImageOptions {
                    dockerfile,
                    ..options
                };
                let messages = match session::build(socket, &open, options).await {
                    Ok(messages) => messages,
                    Err(e) => futures_util::stream::once(async move { Err(e) }).boxed(),
                };
                return (messages, Sending::Session(open));
            }
        }
        let (body, packer) = self.context.stream(self.cancel);
        let messages = self
            .docker
            .build_image(options, None, Some(bollard::body_try_stream(body)))
            .boxed();
        (messages, Sending::Tar(packer))
    }

    async fn with_legacy_builder(&self, options: BuildImageOptions) -> Result<String> {
        let (body, packer) = self.context.stream(self.cancel);
        let sending = Sending::Tar(packer);
        let mut reader = StreamReader::new(self.started);
        let mut stream =
            self.docker
                .build_image(options, None, Some(bollard::body_try_stream(body)));
        loop {
            match self.next(&mut stream).await? {
                None => break,
                Some(Ok(info)) => {
                    for event in reader.read(info) {
                        self.sink.emit(event);
                    }
                }
                Some(Err(bollard::errors::Error::DockerStreamError { error })) => {
                    drop(stream);
                    return Err(sending.error_or(reader.failure(error)).await);
                }
                Some(Err(e)) => {
                    drop(stream);
                    return Err(sending
                        .error_or(docker::engine_error("build the image", e))
                        .await);
                }
            }
        }
        drop(stream);
        self.sink.emit(sending.finished(self.context.size()).await?);
        reader.image_id().ok_or_else(|| {
            reader.failure("the builder finished without naming the image it built".into())
        })
    }
}

/// The engine's local Unix socket, where a session can carry the context.
#[cfg(unix)]
fn session_socket(uri: &str) -> Option<PathBuf> {
    session::socket_of(uri)
}

#[cfg(not(unix))]
fn session_socket(_uri: &str) -> Option<PathBuf> {
    None
}

type Messages<'a> = std::pin::Pin<
    Box<dyn Stream<Item = std::result::Result<BuildInfo, bollard::errors::Error>> + Send + 'a>,
>;

/// How the context goes to the engine during a build.
enum Sending {
    /// A tar, written by this packer.
    Tar(tokio::task::JoinHandle<Result<u64>>),
    /// Through a BuildKit session.
    #[cfg(unix)]
    Session(Arc<session::Session>),
}

impl Sending {
    /// When the engine's side failed because the context could not be sent (a file
    /// vanished or became unreadable mid-build), that is the error to show; else
    /// `engine_side`. The engine's stream is dropped first, so the packer cannot stay
    /// blocked on it.
    async fn error_or(self, engine_side: EngineError) -> EngineError {
        match self {
            Sending::Tar(packer) => match packer.await {
                Ok(Err(e)) if !matches!(e, EngineError::Cancelled) => e,
                _ => engine_side,
            },
            #[cfg(unix)]
            Sending::Session(session) => session.failure().unwrap_or(engine_side),
        }
    }

    /// After the engine's stream ended (and was dropped): the sending's own failure, if
    /// any, else what was sent.
    async fn finished(self, (files, bytes): (u32, f64)) -> Result<BuildEvent> {
        match self {
            Sending::Tar(packer) => match packer.await {
                Ok(Ok(bytes)) => Ok(BuildEvent::ContextSent {
                    files,
                    bytes: bytes as f64,
                    changed_only: false,
                }),
                Ok(Err(e)) if !matches!(e, EngineError::Cancelled) => Err(e),
                // The engine had what it needed before the tar's end.
                Ok(Err(_)) => Ok(BuildEvent::ContextSent {
                    files,
                    bytes,
                    changed_only: false,
                }),
                Err(e) => Err(EngineError::Internal(format!(
                    "streaming the build context: {e}"
                ))),
            },
            #[cfg(unix)]
            Sending::Session(session) => match session.failure() {
                Some(e) => Err(e),
                None => {
                    let (files, bytes) = session.sent();
                    Ok(BuildEvent::ContextSent {
                        files,
                        bytes: bytes as f64,
                        changed_only: true,
                    })
                }
            },
        }
    }
}

/// Whether a 4xx answer to a BuildKit build says the engine cannot build with BuildKit
/// (rather than that the request was wrong: a bad platform or tag). Only the message says
/// it; there is no typed error.
fn refuses_buildkit(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    ["buildkit", "builder version", "session", "version=2"]
        .iter()
        .any(|m| message.contains(m))
}

/// A session id unique enough for one build on one engine.
fn random_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{:x}{:x}", nanos, std::process::id())
}

/// What decides the image's content: the context, which Dockerfile and stage, the build
/// arguments and the platform.
fn fingerprint(context: &str, dockerfile: &str, config: &ProjectConfig) -> String {
    let mut hasher = Sha256::new();
    for part in [context, dockerfile, config.platform.as_str()] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    // A project without a target keeps the fingerprint it had before targets existed.
    if let Some(target) = &config.target {
        hasher.update(format!("target={target}\0").as_bytes());
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

#[cfg(test)]
mod tests {
    use super::*;
    use slipway_core::project::KeyValue;

    #[test]
    fn what_reached_docker_is_said_in_words() {
        assert_eq!(
            sent_words(1, 412.0, true),
            "Sent 1 file (412 B) to Docker: only what it did not have from an earlier build."
        );
        assert_eq!(
            sent_words(0, 0.0, true),
            "Sent no files: Docker had everything it needed from an earlier build."
        );
        assert_eq!(
            sent_words(230, 12.0 * 1024.0 * 1024.0, false),
            "Sent the whole folder to Docker: 230 files (12.0 MB)."
        );
    }

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
        let arm = fingerprint("ctx", "Dockerfile", &config);
        assert_ne!(with_args, arm);
        config.target = Some("assets".into());
        assert_ne!(
            arm,
            fingerprint("ctx", "Dockerfile", &config),
            "another stage is another image"
        );
    }
}
