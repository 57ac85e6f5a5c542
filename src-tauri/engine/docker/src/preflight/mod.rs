//! Pre-flight: what can be known about a project before building it, each finding with
//! what to change and, where it comes from a Dockerfile line, that line. Reads the
//! Dockerfile (only as a regular file, under a size cap) and the build context (walked
//! without opening anything), checks that what COPY and ADD name is in the context, and
//! asks the Docker engine about base images: whether it has them (and for which
//! architecture, the Apple Silicon "exec format error" trap) and, when not, whether their
//! registry can be reached at all. Building belongs to `build`.

mod image;
pub mod sources;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bollard::Docker;
use serde::Serialize;

use crate::context::{Context, ContextSummary};
use slipway_core::dockerfile::Dockerfile;
use slipway_core::error::{EngineError, Result};
use slipway_core::host::HostEnv;
use slipway_core::project::ProjectConfig;
use slipway_core::user_files::{inside, kind_of, TEXT_FILE_LIMIT};
use sources::{source_state, SourceState};

/// A context above this size gets a warning: it is sent to the engine on every build.
pub const LARGE_CONTEXT_BYTES: u64 = 100 * 1024 * 1024;

/// How long the engine may take to say whether a missing base image can be downloaded;
/// past it, the build is left to find out.
const REGISTRY_CHECK_TIMEOUT: Duration = Duration::from_secs(8);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    /// The build or the container cannot work; building is refused.
    Error,
    /// It may work here but is likely wrong, or slow.
    Warning,
    Info,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum FindingKind {
    DockerfileMissing,
    /// The Dockerfile (or .dockerignore) is there but is not a file Slipway reads: a FIFO,
    /// a device, a folder, too large, not UTF-8.
    FileUnreadable,
    /// The Dockerfile or context setting points outside the project folder.
    PathOutsideProject,
    ContextMissing,
    /// A COPY or ADD source is not in the build context (missing, or excluded by .dockerignore).
    CopySourceMissing,
    /// The build context holds a FIFO, socket or device, which cannot be packed for Docker.
    SpecialFileInContext,
    /// The project's build stage (`target`) names no stage of the Dockerfile.
    TargetStageMissing,
    NoCommand,
    PortMismatch,
    NoExpose,
    LargeContext,
    PlatformMismatch,
    BaseImageNotLocal,
    /// A base image is not on this machine and its registry says it cannot be downloaded.
    BaseImageUnavailable,
    SecretsNotLocal,
    DockerUnavailable,
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub kind: FindingKind,
    pub severity: Severity,
    pub title: String,
    /// What to change, in one or two sentences.
    pub fix: String,
    /// The Dockerfile line it is about (1-based), when it is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[specta(optional)]
    pub line: Option<u32>,
}

/// One stage of the Dockerfile, as pre-flight counts it.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StageSummary {
    /// Its `AS` name, or its position from 0 as Docker numbers unnamed stages.
    pub name: String,
    /// The image or earlier stage it starts from.
    pub base: String,
    /// The line of its FROM.
    pub line: u32,
    /// Its instructions after FROM. Builders number steps differently (the legacy builder
    /// counts FROM and every instruction across all stages; BuildKit counts per stage and
    /// skips stages the result does not need), so this is what the file says, not a promise
    /// about the build's "step N of M".
    pub instructions: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Preflight {
    pub findings: Vec<Finding>,
    pub context: Option<ContextSummary>,
    /// The Dockerfile's stages in order (empty when it could not be read).
    pub stages: Vec<StageSummary>,
    pub base_image: Option<String>,
}

impl Preflight {
    pub fn blockers(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }
}

/// What a base image is, as far as the local engine knows.
#[derive(Debug, Clone, PartialEq)]
pub enum BaseImage {
    Local {
        arch: String,
        has_command: bool,
    },
    /// Not on this machine; a pull may work (or could not be ruled out).
    NotLocal,
    /// Not on this machine, and its registry was asked and refused or could not be reached.
    Unavailable(String),
    EngineUnavailable(String),
}

/// The Dockerfile as pre-flight found it.
enum DockerfileRead {
    Parsed(Dockerfile),
    Missing,
    Unreadable(EngineError),
    Outside(EngineError),
}

/// Reads the project's Dockerfile, never outside the project, never more than the cap,
/// with the project's build args given to its ARGs.
fn read_dockerfile(dir: &Path, config: &ProjectConfig) -> DockerfileRead {
    let path = match inside(dir, &config.dockerfile, "The Dockerfile path") {
        Ok(path) => path,
        Err(e) => return DockerfileRead::Outside(e),
    };
    let build_args: HashMap<String, String> = config
        .build_args
        .iter()
        .map(|kv| (kv.name.clone(), kv.value.clone()))
        .collect();
    match Dockerfile::read_with(&path, &build_args) {
        Ok(Some(d)) => DockerfileRead::Parsed(d),
        Ok(None) => DockerfileRead::Missing,
        Err(e) => DockerfileRead::Unreadable(e),
    }
}

/// Runs every check. `base` tells what the engine knows of a base image; the real one
/// asks Docker (see [`check`]).
pub fn findings(
    dir: &Path,
    config: &ProjectConfig,
    base: impl Fn(&str) -> BaseImage,
) -> Result<Preflight> {
    Ok(scan_and_find(dir, config, read_dockerfile(dir, config), base)?.0)
}

/// The findings, and the build context as scanned for them (none when its folder is
/// missing or cannot be walked safely), so a build that follows reuses the walk.
fn scan_and_find(
    dir: &Path,
    config: &ProjectConfig,
    read: DockerfileRead,
    base: impl Fn(&str) -> BaseImage,
) -> Result<(Preflight, Option<Context>)> {
    let mut findings = Vec::new();
    let parsed = match read {
        DockerfileRead::Parsed(d) => Some(d),
        DockerfileRead::Missing => {
            findings.push(finding(
                FindingKind::DockerfileMissing,
                Severity::Error,
                format!("There is no Dockerfile at {}.", config.dockerfile),
                "Add a Dockerfile to the project folder, or set the Dockerfile path in the project settings to where yours is.",
            ));
            None
        }
        DockerfileRead::Unreadable(e) => {
            findings.push(finding(
                FindingKind::FileUnreadable,
                Severity::Error,
                format!("The Dockerfile cannot be used: {e}"),
                "Make the Dockerfile an ordinary text file of the project (not a link to a device, a pipe or a folder).",
            ));
            None
        }
        DockerfileRead::Outside(e) => {
            findings.push(finding(
                FindingKind::PathOutsideProject,
                Severity::Error,
                e.to_string(),
                "Set the Dockerfile path in the project settings to a file inside the project folder.",
            ));
            None
        }
    };
    let scanned = scan_context(dir, config, &mut findings)?;
    let context_dir = inside(dir, &config.context, "The build context").ok();
    let context = scanned.as_ref().map(Context::summary);
    let mut base_image = None;
    let mut stages = Vec::new();
    if let Some(dockerfile) = &parsed {
        stages = dockerfile
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| StageSummary {
                name: s.name(i),
                base: s.base.clone(),
                line: s.line as u32,
                instructions: s.instructions.len() as u32,
            })
            .collect();
        dockerfile_findings(dockerfile, config, &base, &mut findings);
        if let (Some(scanned), Some(context_dir)) = (&scanned, &context_dir) {
            copy_findings(dockerfile, scanned, context_dir, &mut findings);
        }
        base_image = dockerfile.final_base().map(|(b, _)| b.to_owned());
    }
    if let Some(scanned) = &scanned {
        special_file_findings(scanned, &mut findings);
    }
    if let Some(summary) = &context {
        if summary.bytes as u64 > LARGE_CONTEXT_BYTES {
            let biggest: Vec<String> = summary
                .biggest
                .iter()
                .take(3)
                .map(|p| format!("{} ({})", p.path, human_bytes(p.bytes as u64)))
                .collect();
            findings.push(finding(
                FindingKind::LargeContext,
                Severity::Warning,
                format!(
                    "The build context is {}; every build sends all of it to Docker. Biggest: {}.",
                    human_bytes(summary.bytes as u64),
                    biggest.join(", ")
                ),
                if summary.has_dockerignore {
                    "Add what the image does not need (dependencies, build output, data) to .dockerignore."
                } else {
                    "Create a .dockerignore next to the Dockerfile listing what the image does not need, e.g. node_modules, .git, dist."
                },
            ));
        }
    }
    if !config.secrets.is_empty() {
        let names: Vec<&str> = config.secrets.iter().map(|s| s.name.as_str()).collect();
        findings.push(finding(
            FindingKind::SecretsNotLocal,
            Severity::Info,
            format!(
                "{} come from AWS at deploy time; the local preview runs without them.",
                names.join(", ")
            ),
            "If the app needs them to start locally, give it a fallback for local runs.",
        ));
    }
    let preflight = Preflight {
        findings,
        context,
        stages,
        base_image,
    };
    Ok((preflight, scanned))
}

fn finding(
    kind: FindingKind,
    severity: Severity,
    title: impl Into<String>,
    fix: impl Into<String>,
) -> Finding {
    Finding {
        kind,
        severity,
        title: title.into(),
        fix: fix.into(),
        line: None,
    }
}

/// Walks the build context, or says why it cannot: outside the project, missing, or with a
/// `.dockerignore` that is not a small regular file (reading a FIFO would never return).
/// The walk itself only lists and stats, so a FIFO or device elsewhere is never opened.
fn scan_context(
    dir: &Path,
    config: &ProjectConfig,
    findings: &mut Vec<Finding>,
) -> Result<Option<Context>> {
    let context_dir = match inside(dir, &config.context, "The build context") {
        Ok(path) => path,
        Err(e) => {
            findings.push(finding(
                FindingKind::PathOutsideProject,
                Severity::Error,
                e.to_string(),
                "Set the build context to a folder inside the project (usually .).",
            ));
            return Ok(None);
        }
    };
    if !context_dir.is_dir() {
        findings.push(finding(
            FindingKind::ContextMissing,
            Severity::Error,
            format!(
                "The build context folder {} does not exist.",
                config.context
            ),
            "Set the build context to a folder inside the project (usually .).",
        ));
        return Ok(None);
    }
    let ignore_file = context_dir.join(".dockerignore");
    if let Ok(metadata) = std::fs::metadata(&ignore_file) {
        let problem = if !metadata.is_file() {
            Some(EngineError::NotARegularFile {
                file: ignore_file.clone(),
                kind: kind_of(&metadata).to_owned(),
            })
        } else if metadata.len() > TEXT_FILE_LIMIT {
            Some(EngineError::FileTooLarge {
                file: ignore_file.clone(),
                bytes: metadata.len(),
                limit: TEXT_FILE_LIMIT,
            })
        } else {
            None
        };
        if let Some(e) = problem {
            findings.push(finding(
                FindingKind::FileUnreadable,
                Severity::Error,
                format!("The .dockerignore cannot be used: {e}"),
                "Make .dockerignore an ordinary text file listing what the build leaves out.",
            ));
            return Ok(None);
        }
    }
    let dockerfile = inside(dir, &config.dockerfile, "The Dockerfile path")
        .unwrap_or_else(|_| context_dir.join("Dockerfile"));
    Context::scan(&context_dir, &dockerfile).map(Some)
}

/// Pipes, sockets and devices in the context: the build skips them (it never opens them)
/// and says so; a warning here says it before the build.
fn special_file_findings(context: &Context, findings: &mut Vec<Finding>) {
    let skipped = context.summary().skipped;
    let Some(first) = skipped.first() else {
        return;
    };
    let others = match skipped.len() {
        1 => String::new(),
        n => format!(" (and {} more such files)", n - 1),
    };
    findings.push(finding(
        FindingKind::SpecialFileInContext,
        Severity::Warning,
        format!("The build context holds {first}{others}, which is not an ordinary file: the build leaves it out."),
        "Nothing to do if the image does not need it; add it to .dockerignore to silence this.",
    ));
}

/// A finding for each COPY or ADD source the context does not hold, with its line.
fn copy_findings(
    dockerfile: &Dockerfile,
    context: &Context,
    context_dir: &Path,
    findings: &mut Vec<Finding>,
) {
    for source in dockerfile.context_sources() {
        let state = source_state(context, context_dir, &source.path);
        let (title, fix) = match state {
            SourceState::Present => continue,
            SourceState::Missing => (
                format!(
                    "{} on line {} needs {}, which is not in the build context.",
                    source.keyword, source.line, source.path
                ),
                "Add it to the project folder before building (a file your CI generates must exist here too), or change the line.".to_owned(),
            ),
            SourceState::Excluded => (
                format!(
                    "{} on line {} needs {}, but .dockerignore leaves it out of the build context.",
                    source.keyword, source.line, source.path
                ),
                format!("Remove the .dockerignore pattern that matches {}, or add an exception (!{}).", source.path, source.path.trim_start_matches("./")),
            ),
            SourceState::EmptiedFolder => (
                format!(
                    "{} on line {} copies {}, but .dockerignore leaves out everything in it.",
                    source.keyword, source.line, source.path
                ),
                format!("If the image needs those files, remove the .dockerignore pattern that matches {}.", source.path),
            ),
        };
        let severity = if state == SourceState::EmptiedFolder {
            Severity::Warning
        } else {
            Severity::Error
        };
        findings.push(Finding {
            line: Some(source.line as u32),
            ..finding(FindingKind::CopySourceMissing, severity, title, fix)
        });
    }
}

fn dockerfile_findings(
    dockerfile: &Dockerfile,
    config: &ProjectConfig,
    base: &impl Fn(&str) -> BaseImage,
    findings: &mut Vec<Finding>,
) {
    if let Some(target) = &config.target {
        let names: Vec<String> = dockerfile
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| s.name(i))
            .collect();
        if !names.iter().any(|n| n.eq_ignore_ascii_case(target)) {
            findings.push(finding(
                FindingKind::TargetStageMissing,
                Severity::Error,
                format!(
                    "The build stage \"{target}\" is not in the Dockerfile (its stages: {}).",
                    names.join(", ")
                ),
                "Set the build stage to one of those names, or leave it empty to build the last stage.",
            ));
        }
    }
    let final_base = dockerfile.final_base();
    let mut base_has_command = false;
    let mut seen: Vec<&str> = Vec::new();
    for stage in dockerfile.external_stages() {
        let (image, from_platform) = (stage.base.as_str(), stage.platform.as_deref());
        if seen.contains(&image) {
            continue;
        }
        seen.push(image);
        let line = Some(stage.line as u32);
        let found = match base(image) {
            BaseImage::Local { arch, has_command } => {
                if Some(image) == final_base.map(|(b, _)| b) {
                    base_has_command = has_command;
                }
                let wanted = from_platform.map(|p| p.trim_start_matches("linux/")).unwrap_or(config.platform.arch());
                if arch == wanted {
                    continue;
                }
                finding(
                    FindingKind::PlatformMismatch,
                    Severity::Error,
                    format!(
                        "The base image {image} on this machine is {arch}, but the app targets {}: on Fargate it would stop with \"exec format error\".",
                        config.platform.as_str()
                    ),
                    format!(
                        "Replace this machine's copy of {image} with its linux/{wanted} variant (remove it in Docker Desktop's Images and Slipway's build downloads the right one), or set the project's platform to linux/{arch} in Settings (Fargate runs ARM64 tasks too)."
                    ),
                )
            }
            BaseImage::NotLocal => finding(
                FindingKind::BaseImageNotLocal,
                Severity::Warning,
                format!("The base image {image} (line {}) is not on this machine; the build will download it.", stage.line),
                "Nothing to do while this machine can reach its registry; to build offline, copy the image onto this machine first.",
            ),
            BaseImage::Unavailable(reason) => finding(
                FindingKind::BaseImageUnavailable,
                Severity::Error,
                format!("The base image {image} on line {} is not on this machine and cannot be downloaded: {reason}", stage.line),
                "Check the image name and tag, and that this machine can reach its registry and is signed in to it (Docker Desktop: Sign in); or copy the image onto this machine.",
            ),
            BaseImage::EngineUnavailable(reason) => finding(
                FindingKind::DockerUnavailable,
                Severity::Warning,
                format!("Could not ask Docker about the base image {image}: {reason}"),
                "Start Docker to build; the base image checks run again then.",
            ),
        };
        findings.push(Finding { line, ..found });
    }
    let from_scratch = final_base.is_some_and(|(b, _)| b.eq_ignore_ascii_case("scratch"));
    if !dockerfile.has_command() && (from_scratch || !base_has_command) {
        findings.push(finding(
            FindingKind::NoCommand,
            if from_scratch { Severity::Error } else { Severity::Warning },
            "The Dockerfile has no CMD or ENTRYPOINT, so the container may have nothing to run.",
            "End the Dockerfile with the command that starts your app, e.g. CMD [\"node\", \"server.js\"].",
        ));
    }
    let exposed = dockerfile.exposed_ports();
    let port = config.port;
    if exposed.is_empty() {
        findings.push(finding(
            FindingKind::NoExpose,
            Severity::Info,
            format!("The Dockerfile does not EXPOSE a port; Slipway will use the configured port {port}."),
            format!("Add `EXPOSE {port}` to the Dockerfile to document it."),
        ));
    } else if !exposed.iter().any(|p| u32::from(*p) == port) {
        let list: Vec<String> = exposed.iter().map(u16::to_string).collect();
        findings.push(finding(
            FindingKind::PortMismatch,
            Severity::Warning,
            format!(
                "The Dockerfile exposes {} but the project's port is {port}: traffic (and the health check) would go to a port nothing listens on.",
                list.join(", ")
            ),
            format!(
                "Set the port to {} in the project settings, or change EXPOSE and the app to listen on {port}.",
                exposed[0]
            ),
        ));
    }
}

/// Pre-flight with the real Docker engine answering for base images.
pub async fn check(host: &HostEnv, dir: &Path, config: &ProjectConfig) -> Result<Preflight> {
    if let Some(image) = &config.image {
        return Ok(image::preflight(host, image, config).await);
    }
    let connected = crate::docker::connect(host).await;
    let docker = connected
        .as_ref()
        .map(|(d, ..)| d)
        .map_err(ToString::to_string);
    Ok(check_with(docker, dir, config).await?.0)
}

/// Pre-flight on an engine the caller already connected to (or the reason it could not),
/// returning the scanned build context too, so a build walks it once. The file work runs
/// on a blocking thread, never on the caller's (a window's) own.
pub async fn check_with(
    docker: std::result::Result<&Docker, String>,
    dir: &Path,
    config: &ProjectConfig,
) -> Result<(Preflight, Option<Context>)> {
    let (owned_dir, owned_config) = (dir.to_owned(), config.clone());
    let read = blocking(move || read_dockerfile(&owned_dir, &owned_config)).await?;
    let mut images: Vec<String> = Vec::new();
    if let DockerfileRead::Parsed(dockerfile) = &read {
        for (image, _) in dockerfile.external_bases() {
            if !images.iter().any(|i| i == image) {
                images.push(image.to_owned());
            }
        }
    }
    // Asked together, so several unreachable registries cost one deadline, not one each.
    let answers = futures_util::future::join_all(images.iter().map(|image| async {
        match &docker {
            Err(reason) => BaseImage::EngineUnavailable(reason.clone()),
            Ok(docker) => ask_engine(docker, image).await,
        }
    }))
    .await;
    let known: HashMap<String, BaseImage> = images.into_iter().zip(answers).collect();
    let (dir, config): (PathBuf, ProjectConfig) = (dir.to_owned(), config.clone());
    blocking(move || {
        scan_and_find(&dir, &config, read, |image| {
            known.get(image).cloned().unwrap_or(BaseImage::NotLocal)
        })
    })
    .await?
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| EngineError::Internal(format!("pre-flight stopped: {e}")))
}

/// What the engine knows of `image`; when it does not have it, whether the image's
/// registry answers for it (the same request a pull starts with), within a deadline.
async fn ask_engine(docker: &Docker, image: &str) -> BaseImage {
    match docker.inspect_image(image).await {
        Ok(info) => BaseImage::Local {
            arch: info.architecture.unwrap_or_default(),
            has_command: info.config.is_some_and(|c| {
                c.cmd.is_some_and(|v| !v.is_empty()) || c.entrypoint.is_some_and(|v| !v.is_empty())
            }),
        },
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => {
            let asked = docker.inspect_registry_image(image, None);
            match tokio::time::timeout(REGISTRY_CHECK_TIMEOUT, asked).await {
                Ok(Ok(_)) | Err(_) => BaseImage::NotLocal,
                Ok(Err(e)) => registry_refusal(e),
            }
        }
        Err(e) => BaseImage::EngineUnavailable(e.to_string()),
    }
}

/// A registry check that failed: an unreachable or unknown registry or image is certain
/// to fail the build too; a registry that wants credentials may still let the build in
/// (it sends the user's logins), and an engine that cannot ask proves nothing, so those
/// stay a "will download" warning. The engine reports all of these as a 500 with a
/// message, so only the message tells them apart.
fn registry_refusal(error: bollard::errors::Error) -> BaseImage {
    let message = match &error {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message.clone(),
        other => other.to_string(),
    };
    let lower = message.to_ascii_lowercase();
    // "page not found": an engine without the distribution endpoint, which says nothing.
    let cannot_tell = ["auth", "denied", "login", "page not found"];
    if cannot_tell.iter().any(|w| lower.contains(w)) {
        BaseImage::NotLocal
    } else {
        BaseImage::Unavailable(message)
    }
}

pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipway_core::project::propose;
    use slipway_testkit::tree;

    fn kinds(p: &Preflight) -> Vec<FindingKind> {
        p.findings.iter().map(|f| f.kind).collect()
    }

    const AMD64: fn(&str) -> BaseImage = |_| BaseImage::Local {
        arch: "amd64".into(),
        has_command: true,
    };

    #[test]
    fn a_missing_dockerfile_blocks_the_build() {
        let dir = tree(&[("index.html", "hi")]);
        let p = findings(dir.path(), &propose(dir.path()), AMD64).unwrap();
        assert_eq!(kinds(&p), vec![FindingKind::DockerfileMissing]);
        assert_eq!(p.blockers().count(), 1);
    }

    #[test]
    fn a_port_that_differs_from_expose_is_reported_with_the_fix() {
        let dir = tree(&[(
            "Dockerfile",
            "FROM busybox:1.36\nEXPOSE 8080\nCMD [\"httpd\"]\n",
        )]);
        let mut config = propose(dir.path());
        config.port = 3000;
        let p = findings(dir.path(), &config, AMD64).unwrap();
        assert_eq!(kinds(&p), vec![FindingKind::PortMismatch]);
        assert!(
            p.findings[0].fix.contains("Set the port to 8080"),
            "{}",
            p.findings[0].fix
        );
        assert_eq!(
            p.stages,
            vec![StageSummary {
                name: "0".into(),
                base: "busybox:1.36".into(),
                line: 1,
                instructions: 2,
            }]
        );
    }

    #[test]
    fn an_arm64_base_for_an_amd64_target_is_the_exec_format_error_trap() {
        let dir = tree(&[("Dockerfile", "FROM node:20\nEXPOSE 8080\nCMD [\"node\"]\n")]);
        let config = propose(dir.path());
        let p = findings(dir.path(), &config, |_| BaseImage::Local {
            arch: "arm64".into(),
            has_command: true,
        })
        .unwrap();
        assert_eq!(kinds(&p), vec![FindingKind::PlatformMismatch]);
        assert!(p.findings[0].title.contains("exec format error"));
        let fix = &p.findings[0].fix;
        assert!(
            fix.contains("linux/amd64 variant") && fix.contains("linux/arm64 in Settings"),
            "{fix}"
        );
        assert!(
            !fix.contains('`'),
            "a window message names no command: {fix}"
        );
    }

    #[test]
    fn no_command_matters_only_when_the_base_has_none() {
        let dir = tree(&[("Dockerfile", "FROM nginx:1.27\nEXPOSE 8080\n")]);
        let config = propose(dir.path());
        assert!(
            findings(dir.path(), &config, AMD64)
                .unwrap()
                .findings
                .is_empty(),
            "nginx brings its own CMD"
        );
        let p = findings(dir.path(), &config, |_| BaseImage::NotLocal).unwrap();
        assert_eq!(
            kinds(&p),
            vec![FindingKind::BaseImageNotLocal, FindingKind::NoCommand]
        );
        let dir = tree(&[
            ("Dockerfile", "FROM scratch\nCOPY app /app\nEXPOSE 8080\n"),
            ("app", "x"),
        ]);
        let p = findings(dir.path(), &propose(dir.path()), AMD64).unwrap();
        assert_eq!(kinds(&p), vec![FindingKind::NoCommand]);
        assert_eq!(
            p.findings[0].severity,
            Severity::Error,
            "scratch has no command to fall back on"
        );
    }

    #[test]
    fn a_build_stage_the_dockerfile_lacks_is_a_blocker_naming_the_stages() {
        let dir = tree(&[(
            "Dockerfile",
            "FROM scratch AS build\nCOPY app /app\nFROM scratch\nCOPY --from=build /app /app\nEXPOSE 8080\nCMD [\"/app\"]\n",
        ),
        ("app", "x")]);
        let mut config = propose(dir.path());
        config.target = Some("build".into());
        assert!(findings(dir.path(), &config, AMD64)
            .unwrap()
            .findings
            .is_empty());
        config.target = Some("release".into());
        let p = findings(dir.path(), &config, AMD64).unwrap();
        assert_eq!(kinds(&p), vec![FindingKind::TargetStageMissing]);
        assert!(
            p.findings[0].title.contains("its stages: build, 1"),
            "{}",
            p.findings[0].title
        );
    }

    #[test]
    fn a_large_context_names_its_biggest_paths() {
        let dir = tree(&[("Dockerfile", "FROM scratch\nEXPOSE 8080\nCMD [\"/app\"]\n")]);
        let big = dir.path().join("data/blob.bin");
        std::fs::create_dir_all(big.parent().unwrap()).unwrap();
        std::fs::File::create(&big)
            .unwrap()
            .set_len(LARGE_CONTEXT_BYTES + 1)
            .unwrap();
        let p = findings(dir.path(), &propose(dir.path()), AMD64).unwrap();
        assert_eq!(kinds(&p), vec![FindingKind::LargeContext]);
        assert!(
            p.findings[0].title.contains("data (100.0 MB)"),
            "{}",
            p.findings[0].title
        );
        assert!(p.findings[0].fix.contains("Create a .dockerignore"));
    }

    #[test]
    fn a_copy_source_the_context_lacks_is_a_blocker_with_its_line() {
        let dir = tree(&[
            (
                "Dockerfile",
                "FROM busybox:1.36\nWORKDIR /app\nCOPY *.json ./\nCOPY app.py requirements.txt ./\nCOPY config/ /etc/app/\nCOPY --from=busybox:1.36 /bin/sh /bin/\nEXPOSE 8080\nCMD [\"python\"]\n",
            ),
            (".dockerignore", "config/\n"),
            ("package.json", "{}"),
            ("app.py", "print()"),
            ("config/app.ini", "x"),
        ]);
        let p = findings(dir.path(), &propose(dir.path()), AMD64).unwrap();
        let copies: Vec<(Option<u32>, &str)> = p
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::CopySourceMissing)
            .map(|f| (f.line, f.title.as_str()))
            .collect();
        assert_eq!(
            copies,
            vec![
                (
                    Some(4),
                    "COPY on line 4 needs requirements.txt, which is not in the build context."
                ),
                (
                    Some(5),
                    "COPY on line 5 copies config/, but .dockerignore leaves out everything in it."
                ),
            ],
            "the CI-generated file and the ignored folder are caught before the build; the glob, \
             the present file and the copy from an image are not findings"
        );
        assert_eq!(
            p.blockers().count(),
            1,
            "a folder Docker may still send empty is a warning, not a blocker"
        );
    }

    #[test]
    fn a_base_image_that_cannot_be_downloaded_is_a_blocker_naming_it_and_its_line() {
        let dir = tree(&[
            (
                "Dockerfile",
                "ARG BASE=registry.invalid/team/base:1\nFROM busybox:1.36 AS tools\nFROM $BASE\nFROM tools\nCMD [\"sh\"]\nEXPOSE 8080\n",
            ),
        ]);
        let config = propose(dir.path());
        let asked = std::cell::RefCell::new(Vec::new());
        let p = findings(dir.path(), &config, |image| {
            asked.borrow_mut().push(image.to_owned());
            if image == "busybox:1.36" {
                BaseImage::Local {
                    arch: "amd64".into(),
                    has_command: true,
                }
            } else {
                BaseImage::Unavailable("lookup registry.invalid: no such host".into())
            }
        })
        .unwrap();
        assert_eq!(
            asked.into_inner(),
            vec!["busybox:1.36", "registry.invalid/team/base:1"],
            "a stage name (tools) is not an image; the ARG default is"
        );
        assert_eq!(kinds(&p), vec![FindingKind::BaseImageUnavailable]);
        let finding = &p.findings[0];
        assert_eq!(finding.severity, Severity::Error);
        assert_eq!(finding.line, Some(3));
        assert!(
            finding
                .title
                .contains("registry.invalid/team/base:1 on line 3")
                && finding.title.contains("no such host"),
            "{}",
            finding.title
        );

        let p = findings(dir.path(), &config, |_| BaseImage::NotLocal).unwrap();
        let warning = &p.findings[0];
        assert_eq!(
            (warning.kind, warning.severity, warning.line),
            (FindingKind::BaseImageNotLocal, Severity::Warning, Some(2))
        );
        assert!(warning.title.contains("the build will download it"));
    }

    #[test]
    fn stages_are_reported_with_their_own_instruction_counts() {
        let dir = tree(&[(
            "Dockerfile",
            "ARG V=1\nFROM busybox:1.36 AS build\nRUN true\nRUN true\nFROM build\nEXPOSE 8080\nCMD [\"sh\"]\n",
        )]);
        let p = findings(dir.path(), &propose(dir.path()), AMD64).unwrap();
        let counts: Vec<(&str, &str, u32, u32)> = p
            .stages
            .iter()
            .map(|s| (s.name.as_str(), s.base.as_str(), s.line, s.instructions))
            .collect();
        assert_eq!(
            counts,
            vec![("build", "busybox:1.36", 2, 2), ("1", "build", 5, 2)]
        );
    }
}
