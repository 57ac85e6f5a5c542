//! Connecting to the Docker engine found by discovery and asking it who it is.

use std::path::Path;
use std::time::Duration;

use bollard::{ClientVersion, Docker};
use serde::Serialize;

use super::discovery::{advice, candidates, refusal, DockerEndpoint};
use slipway_core::error::{EngineError, Result};
use slipway_core::host::HostEnv;

/// How long a probe waits for an engine before calling it not running.
const PROBE_TIMEOUT: Duration = Duration::from_secs(4);

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DockerEngine {
    pub version: String,
    pub api_version: String,
    pub os: String,
    pub arch: String,
    pub kernel_version: Option<String>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum DockerStatus {
    #[serde(rename_all = "camelCase")]
    Running {
        endpoint: DockerEndpoint,
        engine: DockerEngine,
    },
    #[serde(rename_all = "camelCase")]
    Unavailable {
        endpoint: DockerEndpoint,
        reason: String,
        advice: String,
    },
}

/// Why no engine answered: the first candidate tried, what happened there, and what to do.
struct Unreachable {
    endpoint: DockerEndpoint,
    reason: String,
    advice: String,
    /// Not tried: Slipway will not talk to it (see `refusal`).
    refused: bool,
}

async fn locate(
    host: &HostEnv,
) -> std::result::Result<(Docker, DockerEndpoint, DockerEngine), Unreachable> {
    let mut first_failure = None;
    for endpoint in candidates(host, Path::exists) {
        if let Some((reason, advice)) = refusal(&endpoint, host) {
            return Err(Unreachable {
                endpoint,
                reason,
                advice,
                refused: true,
            });
        }
        match try_endpoint(&endpoint).await {
            Ok((docker, engine)) => return Ok((docker, endpoint, engine)),
            Err(reason) => {
                tracing::debug!(uri = %endpoint.uri, %reason, "no Docker engine here");
                first_failure.get_or_insert((endpoint, reason));
            }
        }
    }
    let (endpoint, reason) = first_failure.expect("discovery always yields one candidate");
    Err(Unreachable {
        advice: advice(host.os, endpoint.source),
        endpoint,
        reason,
        refused: false,
    })
}

/// Connects to the first candidate endpoint whose engine answers, with the API version
/// negotiated down to what that engine speaks.
pub async fn connect(host: &HostEnv) -> Result<(Docker, DockerEndpoint, DockerEngine)> {
    locate(host).await.map_err(|u| {
        let (endpoint, reason, advice) = (u.endpoint.uri, u.reason, u.advice);
        if u.refused {
            EngineError::DockerRefused {
                endpoint,
                reason,
                advice,
            }
        } else {
            EngineError::DockerUnavailable {
                endpoint,
                reason,
                advice,
            }
        }
    })
}

async fn try_endpoint(
    endpoint: &DockerEndpoint,
) -> std::result::Result<(Docker, DockerEngine), String> {
    let docker = Docker::connect_with_host(&endpoint.uri)
        .map_err(|e| e.to_string())?
        .with_timeout(PROBE_TIMEOUT);
    // One `/version` both describes the engine and settles the API version to speak: it is
    // slow for its size (the engine asks containerd and runs runc for their versions), and
    // bollard's `negotiate_version` would ask it a second time.
    let version = docker.version().await.map_err(describe)?;
    let docker = match version.api_version.as_deref().and_then(api_version) {
        Some(spoken) if spoken < docker.client_version() => {
            match client_speaking(&endpoint.uri, &spoken) {
                Some(client) => client.map_err(|e| e.to_string())?,
                None => docker.negotiate_version().await.map_err(describe)?,
            }
        }
        _ => docker,
    };
    let engine = DockerEngine {
        version: version.version.unwrap_or_else(|| "unknown".into()),
        api_version: version.api_version.unwrap_or_else(|| "unknown".into()),
        os: version.os.unwrap_or_else(|| "unknown".into()),
        arch: version.arch.unwrap_or_else(|| "unknown".into()),
        kernel_version: version.kernel_version,
    };
    Ok((docker, engine))
}

/// `major.minor` as bollard counts API versions.
fn api_version(text: &str) -> Option<ClientVersion> {
    let (major, minor) = text.split_once('.')?;
    Some(ClientVersion {
        major_version: major.parse().ok()?,
        minor_version: minor.parse().ok()?,
    })
}

/// A client for the local socket or pipe `uri` that speaks API `api` (bollard's
/// `connect_with_host` always starts at its newest version); `None` for any other scheme.
fn client_speaking(
    uri: &str,
    api: &ClientVersion,
) -> Option<std::result::Result<Docker, bollard::errors::Error>> {
    let timeout = PROBE_TIMEOUT.as_secs();
    match uri.split_once("://")?.0 {
        #[cfg(unix)]
        "unix" => Some(Docker::connect_with_unix(uri, timeout, api)),
        #[cfg(windows)]
        "npipe" => Some(Docker::connect_with_named_pipe(uri, timeout, api)),
        // A TCP engine may speak TLS, which connect_with_host sets up: negotiated as before.
        _ => None,
    }
}

/// bollard's errors name the transport; say what happened in a person's words, from the
/// I/O error underneath where there is one.
fn describe(err: bollard::errors::Error) -> String {
    use std::io::ErrorKind;
    if let bollard::errors::Error::RequestTimeoutError = err {
        return format!("no answer within {} s", PROBE_TIMEOUT.as_secs());
    }
    if let bollard::errors::Error::SocketNotFoundError(path) = &err {
        return format!("no engine listens there ({path} does not exist)");
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                ErrorKind::NotFound => {
                    "no engine listens there (the socket does not exist)".to_owned()
                }
                ErrorKind::ConnectionRefused => "the connection was refused".to_owned(),
                ErrorKind::PermissionDenied => "permission denied on the socket".to_owned(),
                ErrorKind::TimedOut => format!("no answer within {} s", PROBE_TIMEOUT.as_secs()),
                _ => io.to_string(),
            };
        }
        source = e.source();
    }
    err.to_string()
}

/// The Environment screen's view of Docker: never an error, always something to show.
pub async fn probe(host: &HostEnv) -> DockerStatus {
    match locate(host).await {
        Ok((_, endpoint, engine)) => DockerStatus::Running { endpoint, engine },
        Err(u) => DockerStatus::Unavailable {
            endpoint: u.endpoint,
            reason: u.reason,
            advice: u.advice,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipway_core::host::Os;

    #[test]
    fn api_versions_read_as_bollard_compares_them() {
        let v = |text| api_version(text).map(|v| (v.major_version, v.minor_version));
        assert_eq!(v("1.41"), Some((1, 41)));
        assert!(
            api_version("1.9").unwrap() < api_version("1.41").unwrap(),
            "minor versions compare as numbers, not as text"
        );
        assert_eq!(v("unknown"), None, "no version is no downgrade");
        assert_eq!(v("1"), None);
    }

    #[tokio::test]
    async fn the_client_speaks_the_engines_api_version_after_one_question() {
        let Some(docker_host) = slipway_core::test_support::require("SLIPWAY_TEST_DOCKER_HOST")
        else {
            return;
        };
        let host = HostEnv::new(
            Os::current(),
            None,
            [("DOCKER_HOST".to_owned(), docker_host)],
        );
        let (docker, _, engine) = connect(&host).await.unwrap();
        let spoken = docker.client_version();
        let engine_api = api_version(&engine.api_version).expect("the engine says its API version");
        assert!(
            spoken <= engine_api && spoken <= *bollard::API_DEFAULT_VERSION,
            "never newer than the engine or bollard: spoke {spoken}, engine {engine_api}"
        );
        assert!(
            spoken == engine_api || spoken == *bollard::API_DEFAULT_VERSION,
            "the newer of what both speak: spoke {spoken}, engine {engine_api}"
        );
        docker
            .ping()
            .await
            .expect("the client works at that version");
    }

    #[tokio::test]
    async fn a_remote_engine_without_tls_is_refused_before_anything_is_sent() {
        // 192.0.2.1 is TEST-NET-1: nothing answers there, and nothing is asked.
        let host = HostEnv::new(
            Os::Linux,
            None,
            [("DOCKER_HOST".to_owned(), "tcp://192.0.2.1:2375".to_owned())],
        );
        let started = std::time::Instant::now();
        let err = connect(&host).await.unwrap_err();
        assert!(
            started.elapsed() < PROBE_TIMEOUT,
            "refused before trying: a try would wait out the probe timeout"
        );
        assert_eq!(err.code(), slipway_core::ErrorCode::DockerUnavailable);
        let text = err.to_string();
        assert!(
            text.starts_with("Slipway will not use the Docker engine at tcp://192.0.2.1:2375"),
            "{text}"
        );
        assert!(matches!(
            probe(&host).await,
            DockerStatus::Unavailable { reason, .. } if reason.contains("clear text")
        ));
    }
}
