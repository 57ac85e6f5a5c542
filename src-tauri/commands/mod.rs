//! IPC commands, one file per feature: parse the request, call the engine, convert the error.

pub mod app;
pub mod aws;
pub mod build;
pub mod cost;
pub mod deploy;
pub mod environment;
pub mod image;
pub mod jobs;
pub mod logs;
pub mod preview;
pub mod project;
pub mod releases;
pub mod setup;
