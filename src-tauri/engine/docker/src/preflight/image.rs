//! Pre-flight of an image project: what the local engine knows of the image.

use crate::docker;
use slipway_core::host::HostEnv;
use slipway_core::project::{ImageRef, ProjectConfig};

use super::{Finding, FindingKind, Preflight, Severity};

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
