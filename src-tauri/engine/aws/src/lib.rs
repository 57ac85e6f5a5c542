//! Slipway's AWS side: the connection from the user's profiles, setup and teardown of an
//! app's resources, deploys to ECS Fargate (pushing what the Docker side built), rollback,
//! logs, cost, operating any ECS service, the Environment check and the support bundle. Builds on `slipway-core` and
//! `slipway-docker`; the application layer (`slipway-app`) sits on top.

pub mod aws;
pub mod cost;
pub mod deploy;
pub mod environment;
pub mod logs;
pub mod secrets;
pub mod service;
pub mod setup;
pub mod stacks;
pub mod support;
pub mod teardown;
pub mod test_support;
