//! What helps a person help a user: Slipway's own log file (rotated, with secrets
//! redacted before they are written) and the support bundle that packs that log, the
//! deploy journal and a few facts about this computer into one archive. The adapters only
//! call [`log::init`] at start and [`bundle::export_support_bundle`] on request.

pub mod bundle;
pub mod log;
pub mod redact;

pub use bundle::{export_support_bundle, SupportBundle};
