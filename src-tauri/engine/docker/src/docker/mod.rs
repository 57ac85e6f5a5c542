//! The container engine seam: finding the Docker engine on this OS and talking to it.
//! Discovery is a pure function of the host (unit-tested for every OS on any OS); the
//! probe connects with bollard and reports what the daemon says about itself.

pub mod credentials;
mod discovery;
mod probe;

pub use discovery::{candidates, DockerEndpoint, EndpointSource};
pub use probe::{connect, probe, DockerEngine, DockerStatus};

/// An engine API failure while doing `operation`, in the engine's own words.
pub fn engine_error(operation: &str, err: bollard::errors::Error) -> slipway_core::EngineError {
    let reason = match err {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message,
        bollard::errors::Error::DockerStreamError { error } => error,
        other => other.to_string(),
    };
    slipway_core::EngineError::Docker {
        operation: operation.to_owned(),
        reason,
    }
}
