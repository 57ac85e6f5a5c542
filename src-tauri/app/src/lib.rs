//! The application layer: what a person does with an open project (deploy, roll back,
//! stop, see what runs), written once for the window and the CLI, which only adapt it
//! (a Tauri command or a CLI verb of a few lines). A [`Session`] holds what those use
//! cases share for one project folder: its settings as last read and the AWS connection,
//! proven once and reused until it is old or its target changes. The engine below knows
//! Docker, AWS and the domain; it knows nothing of sessions. The [`Desk`] is the same for
//! work in an account that no project owns: a vendor's stacks, any ECS service.

mod desk;
mod operate;
mod session;

pub use desk::{Desk, PendingReview};
pub use operate::{deploy, rollback, scale, settle, status, stop, ScaleRequest, StopReport};
pub use session::{Session, Sessions};
