//! The container engine seam: finding the Docker engine on this OS and talking to it.
//! Discovery is a pure function of the host (unit-tested for every OS on any OS); the
//! probe connects with bollard and reports what the daemon says about itself.

mod discovery;
mod probe;

pub use discovery::{candidates, DockerEndpoint, EndpointSource};
pub use probe::{connect, probe, DockerEngine, DockerStatus};
