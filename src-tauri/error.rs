//! The one error type that crosses IPC: `{ code, message }`. `code` is the engine's
//! [`ErrorCode`] (a string union in TypeScript, for the UI to branch on); `message` is the
//! sentence a person reads.

use serde::Serialize;
use slipway_core::{EngineError, ErrorCode};

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
}

impl From<EngineError> for IpcError {
    fn from(err: EngineError) -> Self {
        let code = err.code();
        Self {
            message: match next_step(code) {
                Some(step) => format!("{err} {step}"),
                None => err.to_string(),
            },
            code,
        }
    }
}

/// The window's next action for an error the UI does not place a hint beside itself (it
/// does for SetupNeeded, beside the Set up card); the engine's message says what is wrong
/// in domain words, and the CLI adds its own verbs.
fn next_step(code: ErrorCode) -> Option<&'static str> {
    match code {
        ErrorCode::ProjectNotInitialised => Some("Save the project's settings first."),
        _ => None,
    }
}
