//! Pre-flight: what can be known about a project before building it, each finding with
//! what to change. Reads the Dockerfile and the build context, and asks the Docker engine
//! about base images it already has (to catch the Apple Silicon "exec format error" trap).

pub mod dockerfile;

use std::path::Path;

use bollard::Docker;
use serde::Serialize;

use crate::build::context::{Context, ContextSummary};
use crate::error::Result;
use crate::host::HostEnv;
use crate::project::ProjectConfig;
use dockerfile::Dockerfile;

/// A context above this size gets a warning: it is sent to the engine on every build.
pub const LARGE_CONTEXT_BYTES: u64 = 100 * 1024 * 1024;

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
    ContextMissing,
    NoCommand,
    PortMismatch,
    NoExpose,
    LargeContext,
    PlatformMismatch,
    BaseImageNotLocal,
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
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Preflight {
    pub findings: Vec<Finding>,
    pub context: Option<ContextSummary>,
    /// The number of instructions after FROM lines, as the build counts steps.
    pub steps: u32,
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
    Local { arch: String, has_command: bool },
    NotLocal,
    EngineUnavailable(String),
}

/// Runs every check. `inspect` tells what the engine knows of a base image; the real one
/// asks Docker (see [`check`]).
pub fn findings(
    dir: &Path,
    config: &ProjectConfig,
    base: impl Fn(&str) -> BaseImage,
) -> Result<Preflight> {
    Ok(scan_and_find(dir, config, base)?.0)
}

/// The findings, and the build context as scanned for them (none when its folder is
/// missing), so a build that follows reuses the walk.
fn scan_and_find(
    dir: &Path,
    config: &ProjectConfig,
    base: impl Fn(&str) -> BaseImage,
) -> Result<(Preflight, Option<Context>)> {
    let mut findings = Vec::new();
    let dockerfile_path = dir.join(&config.dockerfile);
    let context_dir = dir.join(&config.context);
    let parsed = match Dockerfile::read(&dockerfile_path) {
        Ok(d) => Some(d),
        Err(_) => {
            findings.push(Finding {
                kind: FindingKind::DockerfileMissing,
                severity: Severity::Error,
                title: format!("There is no Dockerfile at {}.", config.dockerfile),
                fix: "Add a Dockerfile to the project folder, or set the Dockerfile path in the project settings to where yours is.".into(),
            });
            None
        }
    };
    let scanned = if context_dir.is_dir() {
        Some(Context::scan(&context_dir, &dockerfile_path)?)
    } else {
        findings.push(Finding {
            kind: FindingKind::ContextMissing,
            severity: Severity::Error,
            title: format!(
                "The build context folder {} does not exist.",
                config.context
            ),
            fix: "Set the build context to a folder inside the project (usually .).".into(),
        });
        None
    };
    let context = scanned.as_ref().map(Context::summary);
    let mut steps = 0;
    let mut base_image = None;
    if let Some(dockerfile) = &parsed {
        steps = dockerfile
            .stages
            .iter()
            .map(|s| 1 + s.instructions.len() as u32)
            .sum();
        dockerfile_findings(dockerfile, config, &base, &mut findings);
        base_image = dockerfile.final_base().map(|(b, _)| b.to_owned());
    }
    if let Some(summary) = &context {
        if summary.bytes as u64 > LARGE_CONTEXT_BYTES {
            let biggest: Vec<String> = summary
                .biggest
                .iter()
                .take(3)
                .map(|p| format!("{} ({})", p.path, human_bytes(p.bytes as u64)))
                .collect();
            findings.push(Finding {
                kind: FindingKind::LargeContext,
                severity: Severity::Warning,
                title: format!(
                    "The build context is {}; every build sends all of it to Docker. Biggest: {}.",
                    human_bytes(summary.bytes as u64),
                    biggest.join(", ")
                ),
                fix: if summary.has_dockerignore {
                    "Add what the image does not need (dependencies, build output, data) to .dockerignore.".into()
                } else {
                    "Create a .dockerignore next to the Dockerfile listing what the image does not need, e.g. node_modules, .git, dist.".into()
                },
            });
        }
    }
    if !config.secrets.is_empty() {
        let names: Vec<&str> = config.secrets.iter().map(|s| s.name.as_str()).collect();
        findings.push(Finding {
            kind: FindingKind::SecretsNotLocal,
            severity: Severity::Info,
            title: format!(
                "{} come from AWS at deploy time; the local preview runs without them.",
                names.join(", ")
            ),
            fix: "If the app needs them to start locally, give it a fallback for local runs."
                .into(),
        });
    }
    let preflight = Preflight {
        findings,
        context,
        steps,
        base_image,
    };
    Ok((preflight, scanned))
}

fn dockerfile_findings(
    dockerfile: &Dockerfile,
    config: &ProjectConfig,
    base: &impl Fn(&str) -> BaseImage,
    findings: &mut Vec<Finding>,
) {
    let final_base = dockerfile.final_base();
    let mut base_has_command = false;
    for (image, from_platform) in dockerfile.external_bases() {
        match base(image) {
            BaseImage::Local { arch, has_command } => {
                if Some(image) == final_base.map(|(b, _)| b) {
                    base_has_command = has_command;
                }
                let wanted = from_platform.map(|p| p.trim_start_matches("linux/")).unwrap_or(config.platform.arch());
                if arch != wanted {
                    findings.push(Finding {
                        kind: FindingKind::PlatformMismatch,
                        severity: Severity::Error,
                        title: format!(
                            "The base image {image} on this machine is {arch}, but the app targets {}: on Fargate it would stop with \"exec format error\".",
                            config.platform.as_str()
                        ),
                        fix: format!(
                            "Get the {wanted} variant (`docker pull --platform linux/{wanted} {image}`), or switch the project's platform to linux/{arch} (Fargate runs ARM64 tasks too)."
                        ),
                    });
                }
            }
            BaseImage::NotLocal => findings.push(Finding {
                kind: FindingKind::BaseImageNotLocal,
                severity: Severity::Info,
                title: format!("The base image {image} is not on this machine yet; the first build downloads it."),
                fix: "Nothing to do, unless you are offline.".into(),
            }),
            BaseImage::EngineUnavailable(reason) => findings.push(Finding {
                kind: FindingKind::DockerUnavailable,
                severity: Severity::Warning,
                title: format!("Could not ask Docker about the base image {image}: {reason}"),
                fix: "Start Docker to build; the architecture check runs again then.".into(),
            }),
        }
    }
    let from_scratch = final_base.is_some_and(|(b, _)| b.eq_ignore_ascii_case("scratch"));
    if !dockerfile.has_command() && (from_scratch || !base_has_command) {
        findings.push(Finding {
            kind: FindingKind::NoCommand,
            severity: if from_scratch { Severity::Error } else { Severity::Warning },
            title: "The Dockerfile has no CMD or ENTRYPOINT, so the container may have nothing to run.".into(),
            fix: "End the Dockerfile with the command that starts your app, e.g. CMD [\"node\", \"server.js\"].".into(),
        });
    }
    let exposed = dockerfile.exposed_ports();
    let port = config.port;
    if exposed.is_empty() {
        findings.push(Finding {
            kind: FindingKind::NoExpose,
            severity: Severity::Info,
            title: format!("The Dockerfile does not EXPOSE a port; Slipway will use the configured port {port}."),
            fix: format!("Add `EXPOSE {port}` to the Dockerfile to document it."),
        });
    } else if !exposed.iter().any(|p| u32::from(*p) == port) {
        let list: Vec<String> = exposed.iter().map(u16::to_string).collect();
        findings.push(Finding {
            kind: FindingKind::PortMismatch,
            severity: Severity::Warning,
            title: format!(
                "The Dockerfile exposes {} but the project's port is {port}: traffic (and the health check) would go to a port nothing listens on.",
                list.join(", ")
            ),
            fix: format!(
                "Set the port to {} in the project settings, or change EXPOSE and the app to listen on {port}.",
                exposed[0]
            ),
        });
    }
}

/// Pre-flight with the real Docker engine answering for base images.
pub async fn check(host: &HostEnv, dir: &Path, config: &ProjectConfig) -> Result<Preflight> {
    if let Some(image) = &config.image {
        return Ok(crate::image_source::preflight(host, image, config).await);
    }
    let connected = crate::docker::connect(host).await;
    let docker = connected
        .as_ref()
        .map(|(d, ..)| d)
        .map_err(ToString::to_string);
    Ok(check_with(docker, dir, config).await?.0)
}

/// Pre-flight on an engine the caller already connected to (or the reason it could not),
/// returning the scanned build context too, so a build walks it once.
pub async fn check_with(
    docker: std::result::Result<&Docker, String>,
    dir: &Path,
    config: &ProjectConfig,
) -> Result<(Preflight, Option<Context>)> {
    let dockerfile = Dockerfile::read(&dir.join(&config.dockerfile)).unwrap_or_default();
    let mut known = std::collections::HashMap::new();
    for (image, _) in dockerfile.external_bases() {
        let answer = match &docker {
            Err(reason) => BaseImage::EngineUnavailable(reason.clone()),
            Ok(docker) => match docker.inspect_image(image).await {
                Ok(info) => BaseImage::Local {
                    arch: info.architecture.unwrap_or_default(),
                    has_command: info.config.is_some_and(|c| {
                        c.cmd.is_some_and(|v| !v.is_empty())
                            || c.entrypoint.is_some_and(|v| !v.is_empty())
                    }),
                },
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) => BaseImage::NotLocal,
                Err(e) => BaseImage::EngineUnavailable(e.to_string()),
            },
        };
        known.insert(image.to_owned(), answer);
    }
    scan_and_find(dir, config, |image| {
        known.get(image).cloned().unwrap_or(BaseImage::NotLocal)
    })
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
    use crate::project::propose;
    use crate::test_support::tree;

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
        assert_eq!(p.steps, 3);
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
        assert!(p.findings[0]
            .fix
            .contains("docker pull --platform linux/amd64 node:20"));
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
        let dir = tree(&[("Dockerfile", "FROM scratch\nCOPY app /app\nEXPOSE 8080\n")]);
        let p = findings(dir.path(), &propose(dir.path()), AMD64).unwrap();
        assert_eq!(kinds(&p), vec![FindingKind::NoCommand]);
        assert_eq!(
            p.findings[0].severity,
            Severity::Error,
            "scratch has no command to fall back on"
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
}
