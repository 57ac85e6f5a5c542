//! Managed state, one newtype per concern. The host snapshot is fixed at start-up (tests
//! manage their own); the job registry maps job ids to cancellation tokens.

use slipway_engine::host::HostEnv;
use slipway_engine::jobs::JobRegistry;

pub struct Host(pub HostEnv);

pub struct Jobs(pub JobRegistry);
