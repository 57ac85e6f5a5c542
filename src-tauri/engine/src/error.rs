//! The engine's error type: one variant per thing that went wrong for the user, each with
//! the sentence a person reads. Adapters turn it into `{ code, message }` for IPC or into a
//! CLI message and exit code; [`ErrorCode`] is the part the UI may branch on.

use std::path::PathBuf;

use serde::Serialize;

/// What went wrong, as a stable code the UI branches on; the message carries the detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
pub enum ErrorCode {
    DockerUnavailable,
    AwsFileMalformed,
    ProfileNotFound,
    NoCredentials,
    SsoSessionExpired,
    CredentialsRejected,
    AwsUnreachable,
    AwsError,
    Cancelled,
    JobAlreadyRunning,
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("Docker is not running at {endpoint}: {reason}. {advice}")]
    DockerUnavailable {
        endpoint: String,
        reason: String,
        advice: String,
    },

    #[error("{file} line {line}: {problem}. Fix or remove that line; Slipway reads this file but never edits it by hand.", file = .file.display())]
    AwsFileMalformed {
        file: PathBuf,
        line: usize,
        problem: String,
    },

    #[error("There is no AWS profile named \"{profile}\" in {searched}. Pick one of the listed profiles or add it with `aws configure --profile {profile}`.")]
    ProfileNotFound { profile: String, searched: String },

    #[error("No AWS credentials were found{}. Add an access key profile, run `aws configure`, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.", .detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    NoCredentials { detail: Option<String> },

    #[error("The SSO session of profile \"{profile}\" {state}. Run `aws sso login --profile {profile}` and check again.")]
    SsoSessionExpired { profile: String, state: String },

    #[error("AWS rejected the credentials of {source_name} ({aws_code}: {aws_message}). Check the access key, or create a new one in the IAM console.")]
    CredentialsRejected {
        source_name: String,
        aws_code: String,
        aws_message: String,
    },

    #[error("Could not reach AWS at {endpoint}: {reason}. Check the network, or the endpoint override if you use an emulator.")]
    AwsUnreachable { endpoint: String, reason: String },

    #[error("AWS answered {aws_code} to {operation}: {aws_message}")]
    Aws {
        operation: String,
        aws_code: String,
        aws_message: String,
    },

    #[error("Cancelled.")]
    Cancelled,

    #[error("A job with id {job_id} is already running.")]
    JobAlreadyRunning { job_id: String },

    #[error("Slipway hit an internal problem: {0}")]
    Internal(String),
}

impl EngineError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::DockerUnavailable { .. } => ErrorCode::DockerUnavailable,
            Self::AwsFileMalformed { .. } => ErrorCode::AwsFileMalformed,
            Self::ProfileNotFound { .. } => ErrorCode::ProfileNotFound,
            Self::NoCredentials { .. } => ErrorCode::NoCredentials,
            Self::SsoSessionExpired { .. } => ErrorCode::SsoSessionExpired,
            Self::CredentialsRejected { .. } => ErrorCode::CredentialsRejected,
            Self::AwsUnreachable { .. } => ErrorCode::AwsUnreachable,
            Self::Aws { .. } => ErrorCode::AwsError,
            Self::Cancelled => ErrorCode::Cancelled,
            Self::JobAlreadyRunning { .. } => ErrorCode::JobAlreadyRunning,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;
