//! Slipway's engine: Docker, AWS and the deployment domain, shared by the desktop app and
//! the `slipway` CLI. It knows nothing of windows or terminals; callers hand it a
//! [`host::HostEnv`], a [`progress::ProgressSink`] and a [`jobs::Cancel`] token.

pub mod app;
pub mod aws;
pub mod build;
pub mod context;
pub mod cost;
pub mod deploy;
pub mod diagnosis;
pub mod docker;
pub mod dockerfile;
pub mod environment;
pub mod error;
pub mod fargate;
pub mod host;
pub mod jobs;
pub mod logs;
pub mod preflight;
pub mod preview;
pub mod progress;
pub mod project;
pub mod releases;
pub mod settings;
pub mod setup;
pub mod store;
pub mod support;
pub mod taskdef;
pub mod teardown;
pub mod test_support;
pub mod user_files;

pub use error::{EngineError, ErrorCode};
