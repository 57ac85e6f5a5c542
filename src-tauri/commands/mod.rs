//! IPC commands, one file per feature: parse the request, call the engine, convert the error.

pub mod app;
pub mod environment;
pub mod jobs;
