//! The one error type that crosses IPC: `{ code, message }`. `code` is the engine's
//! [`ErrorCode`] (a string union in TypeScript, for the UI to branch on); `message` is the
//! sentence a person reads.

use serde::Serialize;
use slipway_engine::{EngineError, ErrorCode};

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
}

impl From<EngineError> for IpcError {
    fn from(err: EngineError) -> Self {
        Self {
            code: err.code(),
            message: err.to_string(),
        }
    }
}
