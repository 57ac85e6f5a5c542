//! Where a Docker engine may listen on each OS, in the order Slipway tries them:
//! DOCKER_HOST first, then the per-product sockets (Docker Desktop, Colima, OrbStack,
//! Rancher Desktop, Podman) and the system socket, or the named pipes on Windows.

use std::path::{Path, PathBuf};

use serde::Serialize;

use slipway_core::host::{HostEnv, Os};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
pub enum EndpointSource {
    DockerHostVariable,
    System,
    DockerDesktop,
    Colima,
    OrbStack,
    RancherDesktop,
    Podman,
    Rootless,
}

impl EndpointSource {
    pub fn label(self) -> &'static str {
        match self {
            Self::DockerHostVariable => "DOCKER_HOST",
            Self::System => "system socket",
            Self::DockerDesktop => "Docker Desktop",
            Self::Colima => "Colima",
            Self::OrbStack => "OrbStack",
            Self::RancherDesktop => "Rancher Desktop",
            Self::Podman => "Podman",
            Self::Rootless => "rootless Docker",
        }
    }
}

/// One place a Docker engine may answer: `unix:///path`, `npipe:////./pipe/name` or
/// `tcp://host:port`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DockerEndpoint {
    pub uri: String,
    pub source: EndpointSource,
}

impl DockerEndpoint {
    fn unix(path: &Path, source: EndpointSource) -> Self {
        Self {
            uri: format!("unix://{}", path.display()),
            source,
        }
    }

    fn pipe(name: &str, source: EndpointSource) -> Self {
        Self {
            uri: format!("npipe:////./pipe/{name}"),
            source,
        }
    }

    /// The socket path of a `unix://` endpoint.
    pub fn socket_path(&self) -> Option<PathBuf> {
        self.uri.strip_prefix("unix://").map(PathBuf::from)
    }
}

/// The endpoints to try, best first. With DOCKER_HOST set it is the only candidate, as
/// the docker CLI does: a user who set it means it, and a dead DOCKER_HOST must be
/// reported, not silently replaced by another engine. `exists` says whether a socket
/// file is present; endpoints whose socket is absent are left out, except the first
/// default (so that there is always something to report).
pub fn candidates(host: &HostEnv, exists: impl Fn(&Path) -> bool) -> Vec<DockerEndpoint> {
    if let Some(uri) = host.var("DOCKER_HOST") {
        return vec![DockerEndpoint {
            uri: uri.to_owned(),
            source: EndpointSource::DockerHostVariable,
        }];
    }
    let home = host.home.clone().unwrap_or_default();
    let all: Vec<DockerEndpoint> = match host.os {
        Os::Windows => {
            return vec![
                DockerEndpoint::pipe("docker_engine", EndpointSource::DockerDesktop),
                DockerEndpoint::pipe("dockerDesktopLinuxEngine", EndpointSource::DockerDesktop),
                DockerEndpoint::pipe("podman-machine-default", EndpointSource::Podman),
            ];
        }
        Os::Macos => vec![
            DockerEndpoint::unix(Path::new("/var/run/docker.sock"), EndpointSource::System),
            DockerEndpoint::unix(
                &home.join(".docker/run/docker.sock"),
                EndpointSource::DockerDesktop,
            ),
            DockerEndpoint::unix(
                &home.join(".orbstack/run/docker.sock"),
                EndpointSource::OrbStack,
            ),
            DockerEndpoint::unix(
                &home.join(".colima/default/docker.sock"),
                EndpointSource::Colima,
            ),
            DockerEndpoint::unix(&home.join(".colima/docker.sock"), EndpointSource::Colima),
            DockerEndpoint::unix(
                &home.join(".rd/docker.sock"),
                EndpointSource::RancherDesktop,
            ),
        ],
        Os::Linux => {
            let mut list = vec![DockerEndpoint::unix(
                Path::new("/var/run/docker.sock"),
                EndpointSource::System,
            )];
            if let Some(runtime) = host.var("XDG_RUNTIME_DIR") {
                list.push(DockerEndpoint::unix(
                    &Path::new(runtime).join("docker.sock"),
                    EndpointSource::Rootless,
                ));
            }
            list.push(DockerEndpoint::unix(
                &home.join(".docker/desktop/docker.sock"),
                EndpointSource::DockerDesktop,
            ));
            list.push(DockerEndpoint::unix(
                &home.join(".colima/default/docker.sock"),
                EndpointSource::Colima,
            ));
            list.push(DockerEndpoint::unix(
                &home.join(".rd/docker.sock"),
                EndpointSource::RancherDesktop,
            ));
            if let Some(runtime) = host.var("XDG_RUNTIME_DIR") {
                list.push(DockerEndpoint::unix(
                    &Path::new(runtime).join("podman/podman.sock"),
                    EndpointSource::Podman,
                ));
            }
            list
        }
    };
    let first = all[0].clone();
    let present: Vec<DockerEndpoint> = all
        .into_iter()
        .filter(|e| e.socket_path().is_some_and(|p| exists(&p)))
        .collect();
    if present.is_empty() {
        vec![first]
    } else {
        present
    }
}

/// What to do instead of talking to a refused engine.
const TUNNEL: &str = "Use the engine on this computer (unset DOCKER_HOST), or reach the remote one through an SSH tunnel at tcp://127.0.0.1:PORT.";

/// Why Slipway will not talk to `endpoint`, with what to do instead: an engine that asks for
/// TLS (which Slipway cannot speak yet), or one reached over the network without it (the
/// registry passwords and the ECR token a build or push sends would cross it in clear
/// text). A loopback `tcp://` (an SSH tunnel, say) is fine.
pub fn refusal(endpoint: &DockerEndpoint, host: &HostEnv) -> Option<(String, String)> {
    let address = endpoint.uri.strip_prefix("tcp://")?;
    let tls = host
        .var("DOCKER_TLS_VERIFY")
        .is_some_and(|v| !v.is_empty() && v != "0");
    if tls {
        return Some((
            "it asks for TLS (DOCKER_TLS_VERIFY is set), which Slipway cannot use yet".to_owned(),
            TUNNEL.to_owned(),
        ));
    }
    let hostname = address
        .rsplit_once(':')
        .map_or(address, |(h, _)| h)
        .trim_start_matches('[')
        .trim_end_matches(']');
    let loopback = hostname == "localhost"
        || hostname
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    (!loopback).then(|| {
        (
            format!("{hostname} is reached over the network without TLS: registry passwords and the AWS registry token would cross it in clear text"),
            TUNNEL.to_owned(),
        )
    })
}

/// What to do when no engine answers, in the words of this OS and of the product whose
/// socket or pipe was found (an installed product that is not started leaves one behind).
/// Never a command to type: each product has a window or a menu to start it from.
pub fn advice(os: Os, source: EndpointSource) -> String {
    let advice = match (source, os) {
        (EndpointSource::DockerHostVariable, _) => "DOCKER_HOST is set, so Slipway only tries that address: start the engine it points at, or remove DOCKER_HOST from your environment to let Slipway find Docker Desktop and the others by itself.",
        (EndpointSource::DockerDesktop, Os::Windows) => "Start Docker Desktop from the Start menu and wait until it says \"Engine running\", then check again.",
        (EndpointSource::DockerDesktop, Os::Macos) => "Open Docker Desktop from Applications and wait until its menu-bar whale stops moving, then check again.",
        (EndpointSource::DockerDesktop, Os::Linux) => "Open Docker Desktop and wait until it says \"Engine running\", then check again.",
        (EndpointSource::OrbStack, _) => "Open OrbStack from Applications and wait until it says it is running, then check again.",
        (EndpointSource::Colima, _) => "Colima is installed but its virtual machine is stopped: start Colima, then check again.",
        (EndpointSource::RancherDesktop, _) => "Open Rancher Desktop, choose dockerd (moby) as its container engine in Preferences, and wait until it has started, then check again.",
        (EndpointSource::Podman, Os::Linux) => "Turn on Podman's Docker-compatible socket (in Podman Desktop's settings, or your system's podman.socket service), then check again.",
        (EndpointSource::Podman, _) => "Open Podman Desktop and start the Podman machine, then check again.",
        (EndpointSource::Rootless, _) => "Start your rootless Docker service, then check again.",
        (EndpointSource::System, Os::Windows) => "Start Docker Desktop (or Rancher Desktop, or Podman Desktop) from the Start menu and wait until its engine is running, then check again.",
        (EndpointSource::System, Os::Macos) => "Start Docker Desktop, OrbStack, Rancher Desktop or Colima, then check again.",
        (EndpointSource::System, Os::Linux) => "Start the Docker service or Docker Desktop, and make sure your user may use the socket (the docker group), then check again.",
    };
    advice.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(os: Os, vars: &[(&str, &str)]) -> HostEnv {
        HostEnv::new(
            os,
            Some(PathBuf::from("/Users/ana")),
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn a_remote_engine_without_tls_or_one_that_wants_tls_is_refused_and_loopback_is_not() {
        let endpoint = |uri: &str| DockerEndpoint {
            uri: uri.to_owned(),
            source: EndpointSource::DockerHostVariable,
        };
        let plain = host(Os::Linux, &[]);
        for fine in [
            "tcp://127.0.0.1:2375",
            "tcp://localhost:2375",
            "tcp://[::1]:2375",
            "unix:///var/run/docker.sock",
            "npipe:////./pipe/docker_engine",
        ] {
            assert_eq!(refusal(&endpoint(fine), &plain), None, "{fine}");
        }
        let (reason, advice) = refusal(&endpoint("tcp://10.0.0.5:2375"), &plain).unwrap();
        assert!(
            reason.contains("10.0.0.5") && reason.contains("clear text"),
            "{reason}"
        );
        assert!(advice.contains("SSH tunnel"), "{advice}");
        assert!(refusal(&endpoint("tcp://build-box:2376"), &plain).is_some());
        let tls = host(Os::Linux, &[("DOCKER_TLS_VERIFY", "1")]);
        let (reason, _) = refusal(&endpoint("tcp://127.0.0.1:2376"), &tls).unwrap();
        assert!(reason.contains("TLS"), "{reason}");
        let off = host(Os::Linux, &[("DOCKER_TLS_VERIFY", "0")]);
        assert_eq!(refusal(&endpoint("tcp://127.0.0.1:2375"), &off), None);
    }

    #[test]
    fn docker_host_is_the_only_candidate_when_set() {
        let h = host(Os::Macos, &[("DOCKER_HOST", "tcp://127.0.0.1:2375")]);
        let found = candidates(&h, |_| true);
        assert_eq!(
            found.len(),
            1,
            "a set DOCKER_HOST must not fall back to other engines"
        );
        assert_eq!(found[0].uri, "tcp://127.0.0.1:2375");
        assert_eq!(found[0].source, EndpointSource::DockerHostVariable);
    }

    #[test]
    fn empty_docker_host_counts_as_unset() {
        let h = host(Os::Linux, &[("DOCKER_HOST", "")]);
        assert_eq!(
            candidates(&h, |_| false)[0].uri,
            "unix:///var/run/docker.sock"
        );
    }

    #[test]
    fn macos_finds_colima_and_orbstack_sockets_in_the_home_directory() {
        let h = host(Os::Macos, &[]);
        let found = candidates(&h, |p| {
            p.ends_with(".colima/default/docker.sock") || p.ends_with(".orbstack/run/docker.sock")
        });
        let sources: Vec<_> = found.iter().map(|e| e.source).collect();
        assert_eq!(
            sources,
            vec![EndpointSource::OrbStack, EndpointSource::Colima]
        );
        assert_eq!(
            found[1].uri,
            "unix:///Users/ana/.colima/default/docker.sock"
        );
    }

    #[test]
    fn macos_docker_desktop_user_socket_is_found() {
        let h = host(Os::Macos, &[]);
        let found = candidates(&h, |p| p.ends_with(".docker/run/docker.sock"));
        assert_eq!(found[0].source, EndpointSource::DockerDesktop);
    }

    #[test]
    fn macos_rancher_desktop_socket_is_found() {
        let h = host(Os::Macos, &[]);
        let found = candidates(&h, |p| p.ends_with(".rd/docker.sock"));
        assert_eq!(found[0].source, EndpointSource::RancherDesktop);
    }

    #[test]
    fn windows_tries_docker_desktop_pipes_without_touching_the_filesystem() {
        let h = host(Os::Windows, &[]);
        let found = candidates(&h, |_| panic!("named pipes are not files"));
        assert_eq!(found[0].uri, "npipe:////./pipe/docker_engine");
        assert!(found
            .iter()
            .any(|e| e.uri.ends_with("dockerDesktopLinuxEngine")));
    }

    #[test]
    fn linux_prefers_the_system_socket_then_rootless() {
        let h = host(Os::Linux, &[("XDG_RUNTIME_DIR", "/run/user/1000")]);
        let found = candidates(&h, |_| true);
        assert_eq!(found[0].uri, "unix:///var/run/docker.sock");
        assert_eq!(found[1].uri, "unix:///run/user/1000/docker.sock");
    }

    #[test]
    fn with_no_socket_anywhere_the_system_default_is_still_reported() {
        let h = host(Os::Linux, &[]);
        let found = candidates(&h, |_| false);
        assert_eq!(
            found.len(),
            1,
            "the user needs one address in the error message"
        );
        assert_eq!(found[0].source, EndpointSource::System);
    }

    #[test]
    fn advice_names_the_tools_of_each_os() {
        assert!(advice(Os::Macos, EndpointSource::System).contains("Colima"));
        assert!(advice(Os::Macos, EndpointSource::OrbStack).starts_with("Open OrbStack"));
        assert!(advice(Os::Windows, EndpointSource::Podman).contains("Podman machine"));
        assert!(advice(Os::Windows, EndpointSource::DockerDesktop).contains("Start menu"));
        assert!(advice(Os::Macos, EndpointSource::DockerDesktop).contains("Applications"));
        assert!(advice(Os::Macos, EndpointSource::RancherDesktop).contains("dockerd (moby)"));
        assert!(advice(Os::Windows, EndpointSource::System).contains("Docker Desktop"));
        assert!(advice(Os::Linux, EndpointSource::DockerHostVariable).contains("DOCKER_HOST"));
    }
}
