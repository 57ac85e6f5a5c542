//! Managed state, one newtype per concern. The host snapshot is fixed at start-up (tests
//! manage their own); the job registry maps job ids to cancellation tokens; the projects
//! hold a session per folder (its proven AWS connection and known setup).

use std::sync::Arc;

use slipway_app::{Session, Sessions};
use slipway_core::host::HostEnv;
use slipway_core::jobs::JobRegistry;

pub struct Host(pub HostEnv);

pub struct Jobs(pub JobRegistry);

/// Work in an account that no project owns: stacks and any ECS service.
pub struct Desk(pub slipway_app::Desk);

#[derive(Default)]
pub struct Projects(pub Sessions);

impl Projects {
    /// The session of the project in `dir`.
    pub fn session(&self, host: &Host, dir: &str) -> Arc<Session> {
        self.0.get(&host.0, dir)
    }
}
