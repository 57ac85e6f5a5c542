//! Connecting to the Docker engine found by discovery and asking it who it is.

use std::path::Path;
use std::time::Duration;

use bollard::Docker;
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
    let docker = docker.negotiate_version().await.map_err(describe)?;
    let version = docker.version().await.map_err(describe)?;
    let engine = DockerEngine {
        version: version.version.unwrap_or_else(|| "unknown".into()),
        api_version: version.api_version.unwrap_or_else(|| "unknown".into()),
        os: version.os.unwrap_or_else(|| "unknown".into()),
        arch: version.arch.unwrap_or_else(|| "unknown".into()),
        kernel_version: version.kernel_version,
    };
    Ok((docker, engine))
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
