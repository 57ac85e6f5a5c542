//! Slipway's domain without Docker or AWS: a project and its `slipway.toml`, the task
//! definition it renders, Fargate's facts, the errors a person reads, Slipway's own data,
//! and the seams every long job runs through: a [`host::HostEnv`], a
//! [`progress::ProgressSink`] and a [`jobs::Cancel`] token. The Docker side
//! (`slipway-docker`) and the AWS side (`slipway-aws`) build on it; it knows neither.

pub mod app;
pub mod diagnosis;
pub mod dockerfile;
pub mod dotenv;
pub mod error;
pub mod fargate;
pub mod host;
pub mod jobs;
pub mod log_line;
pub mod private_file;
pub mod progress;
pub mod project;
pub mod settings;
pub mod store;
pub mod taskdef;
pub mod test_support;
pub mod user_files;

pub use error::{EngineError, ErrorCode};
