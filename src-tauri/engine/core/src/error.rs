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
    SsoSignInFailed,
    ConsoleSignInMissing,
    CredentialsRejected,
    AwsUnreachable,
    AwsError,
    AccessDenied,
    AwsThrottled,
    ProfileExists,
    InvalidInput,
    SetupNeeded,
    DeployFailed,
    DeployTimedOut,
    DeployNotFound,
    DeployInProgress,
    Cancelled,
    JobAlreadyRunning,
    ProjectNotFound,
    ProjectNotInitialised,
    InvalidProjectConfig,
    ProjectFileMalformed,
    PreflightFailed,
    BuildFailed,
    NoReleases,
    ReleaseNotFound,
    RollbackRefused,
    /// An ECS service named by the user is not in its cluster (or not active).
    ServiceNotFound,
    /// A CloudFormation template that cannot be read or used (the line is in the message).
    TemplateInvalid,
    /// A CloudFormation stack that failed to create, update or delete, or is not there.
    StackFailed,
    PreviewFailed,
    PreviewNotRunning,
    DockerError,
    FileSystem,
    /// Checking for or installing a newer Slipway failed (the desktop app's updater).
    UpdateFailed,
    Internal,
}

/// One setting in slipway.toml that is wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, specta::Type)]
pub struct FieldProblem {
    /// The setting's path as in slipway.toml, e.g. `task.memory` or `env.API_KEY`.
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("Docker is not running at {endpoint}: {reason}. {advice}")]
    DockerUnavailable {
        endpoint: String,
        reason: String,
        advice: String,
    },

    /// An engine Slipway will not talk to (it wants TLS, or is reached without it over the network).
    #[error("Slipway will not use the Docker engine at {endpoint}: {reason}. {advice}")]
    DockerRefused {
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

    #[error("There is no AWS profile named \"{profile}\" in {searched}. Pick one of the listed profiles, or add an access key under that name.")]
    ProfileNotFound { profile: String, searched: String },

    #[error("No AWS credentials were found{}. Add an access key, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.", .detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    NoCredentials { detail: Option<String> },

    #[error("The SSO sign-in of profile \"{profile}\" {state}. Sign in again (\"Sign in again…\" on the AWS account card), then try again; or connect with an access key instead.")]
    SsoSessionExpired { profile: String, state: String },

    #[error("The AWS SSO sign-in did not finish: {reason}. Try again; if it keeps failing, check the portal address and region with your administrator.")]
    SsoSignInFailed { reason: String },

    #[error("Profile \"{profile}\" uses an AWS console sign-in that is not saved on this computer, or that has ended. Choose another profile, or connect with AWS SSO or an access key instead.")]
    ConsoleSignInMissing { profile: String },

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

    #[error("AWS denied {action} to {source_name}: {aws_message}. Ask an administrator to allow {action} for these credentials, or choose a profile that has it.")]
    AccessDenied {
        action: String,
        source_name: String,
        aws_message: String,
    },

    #[error("AWS kept throttling {operation} after several retries. Wait a minute and try again; nothing was lost.")]
    AwsThrottled { operation: String },

    #[error("AWS had a problem on its side answering {operation} (HTTP {status}, {aws_code}: {aws_message}). This usually passes within a minute; try again.")]
    AwsServerError {
        operation: String,
        status: u16,
        aws_code: String,
        aws_message: String,
    },

    #[error("{app} in {region} is already being changed by {holder}, since {since}. One change at a time keeps them from stopping each other's tasks: {then}.")]
    DeployInProgress {
        app: String,
        region: String,
        holder: String,
        since: String,
        /// What to do: wait (a deploy can also be cancelled where it runs).
        then: String,
    },

    #[error("Could not {step}: {cause} {}What was done before this step is kept and recorded; {again}.", .fix.as_deref().map(|f| format!("{f} ")).unwrap_or_default())]
    AwsStepFailed {
        step: String,
        cause: Box<EngineError>,
        fix: Option<String>,
        /// What to run to carry on ("run setup again to continue from here").
        again: String,
    },

    #[error("AWS had not finished {what} after {seconds} s. Nothing is lost; run teardown again in a minute to finish.")]
    AwsWaitTimedOut { what: String, seconds: u64 },

    #[error("Could not find your public IP address: {reason}. Type it instead, as x.x.x.x/32.")]
    PublicIpUnknown { reason: String },

    #[error("These AWS names would be refused: {}. Choose a shorter or simpler app name.", .problems.join("; "))]
    InvalidResourceNames { problems: Vec<String> },

    #[error("A profile named \"{profile}\" already exists in {file}. Choose another name, or edit that file to change it.")]
    ProfileExists { profile: String, file: String },

    #[error("{what} is not valid: {reason}")]
    InvalidInput { what: String, reason: String },

    #[error("Cancelled.")]
    Cancelled,

    #[error("AWS is not set up for {app} in {region} yet: {}.", .missing.join("; "))]
    SetupNeeded {
        app: String,
        region: String,
        missing: Vec<String>,
    },

    #[error("The deploy failed: {}. {} (AWS said: {})", .diagnosis.cause, .diagnosis.fix, .diagnosis.evidence)]
    DeployFailed {
        deploy_id: String,
        diagnosis: Box<crate::diagnosis::Diagnosis>,
    },

    #[error("The deploy did not finish within {seconds} s: {waiting_for}. {left}")]
    DeployTimedOut {
        seconds: u64,
        waiting_for: String,
        left: String,
    },

    #[error("The deploy was cancelled. {left}")]
    DeployCancelled { left: String },

    #[error("{cause} The deploy stopped there: {left}")]
    DeployStopped {
        cause: Box<EngineError>,
        left: String,
    },

    #[error("There is no active service {service} in the cluster {cluster} of {region}. Pick one from the list of services, or check the names and the region.")]
    ServiceNotFound {
        cluster: String,
        service: String,
        region: String,
    },

    /// The service lacks what the action needs (a network configuration, awslogs settings).
    #[error("Slipway cannot {action} of service {service}: {reason}")]
    ServiceUnfit {
        service: String,
        action: String,
        reason: String,
    },

    /// A one-off task that could not start, or did not stop in time; `problem` says what
    /// became of it (stopped, or still running and where to stop it).
    #[error("The one-off task {task_id} {problem}")]
    OneOffFailed { task_id: String, problem: String },

    #[error("{file}{}: {problem}", .line.map(|l| format!(" line {l}")).unwrap_or_default())]
    TemplateInvalid {
        file: String,
        line: Option<usize>,
        problem: String,
    },

    #[error("Stack {stack} {problem}")]
    StackFailed { stack: String, problem: String },

    #[error("There is no unfinished deploy {deploy_id}.")]
    DeployNotFound { deploy_id: String },

    #[error("Deploy {deploy_id} ran in account {account}, region {region}; connect to that account and region to settle it.")]
    DeployElsewhere {
        deploy_id: String,
        account: String,
        region: String,
    },

    #[error("Cannot roll back to revision {revision}: {}", .problems.join(" "))]
    RollbackRefused {
        revision: i32,
        problems: Vec<String>,
    },

    #[error("The AWS Price List API's answer could not be read: {reason}.")]
    PricesUnreadable { reason: String },

    #[error("A job with id {job_id} is already running.")]
    JobAlreadyRunning { job_id: String },

    #[error("Cannot open the project at {dir}: {reason}.", dir = .dir.display())]
    ProjectNotFound { dir: PathBuf, reason: String },

    #[error("{dir} has no slipway.toml yet.", dir = .dir.display())]
    ProjectNotInitialised { dir: PathBuf },

    #[error("The project settings were not saved: {}", describe_problems(.problems))]
    InvalidProjectConfig { problems: Vec<FieldProblem> },

    #[error("{file} line {line}: {problem}. Fix that line (or remove it to use Slipway's default).", file = .file.display())]
    ProjectFileMalformed {
        file: PathBuf,
        line: usize,
        problem: String,
    },

    #[error("Could not read or write {path}: {reason}", path = .path.display())]
    FileSystem { path: PathBuf, reason: String },

    #[error("{file} is {kind}, not a regular file, so Slipway will not read it. Replace it with an ordinary file.", file = .file.display())]
    NotARegularFile { file: PathBuf, kind: String },

    #[error("{file} is {bytes} bytes; Slipway reads files like it only up to {limit} bytes. Check that it is the file you meant.", file = .file.display())]
    FileTooLarge {
        file: PathBuf,
        bytes: u64,
        limit: u64,
    },

    #[error("Slipway's data file {file} could not be used: {reason}", file = .file.display())]
    Storage { file: PathBuf, reason: String },

    #[error("The build context folder {dir} does not exist. Set the build context to a folder inside the project.", dir = .dir.display())]
    ContextMissing { dir: PathBuf },

    #[error("{file} could not be read as .dockerignore rules: {reason}", file = .file.display())]
    DockerignoreInvalid { file: PathBuf, reason: String },

    #[error("Pre-flight found what would make this build fail: {}", .problems.join(" "))]
    PreflightFailed { problems: Vec<String> },

    #[error("The build failed{}: {reason}. The output above shows why; fix the Dockerfile or the files it uses and build again.", .step.as_deref().map(|s| format!(" at {s}")).unwrap_or_default())]
    BuildFailed {
        step: Option<String>,
        reason: String,
        output: Vec<String>,
    },

    #[error("Could not pull {image}: {reason}. Check the image's name and tag, and, for a private image, that Docker is signed in to its registry.")]
    ImagePullFailed { image: String, reason: String },

    #[error("{app} has no local release yet. Build it first.")]
    NoReleases { app: String },

    #[error("{app} has no local release {version}. Known releases: {}.", .known.join(", "))]
    ReleaseNotFound {
        app: String,
        version: String,
        known: Vec<String>,
    },

    #[error("No release of {app} has exactly what its folder holds now{}; build it first, so what runs is what the folder holds.", .newest.as_deref().map(|v| format!(" (the folder changed since {v}, the newest)")).unwrap_or_default())]
    FolderNotBuilt { app: String, newest: Option<String> },

    #[error("{app} has no release older than {current} to roll back to.")]
    NoEarlierRelease { app: String, current: String },

    #[error("The preview of {app} could not start: {reason}")]
    PreviewFailed { app: String, reason: String },

    #[error("{app} has no preview running. Start one first.")]
    PreviewNotRunning { app: String },

    #[error("Docker could not {operation}: {reason}")]
    Docker { operation: String, reason: String },

    #[error("Slipway hit an internal problem: {0}")]
    Internal(String),

    #[error("Slipway's data file {file} was written by a newer version of Slipway (data version {found}; this one knows up to {supported}), so this version will not change it. Update Slipway, or move that file away to start afresh (its recent projects and deploy history stay in it).", file = .file.display())]
    DataFromNewerVersion {
        file: PathBuf,
        found: usize,
        supported: usize,
    },
    /// The plan the user confirmed was made for another app, account or region than the
    /// one apply is connected to, so none of it may be applied.
    #[error("{reason} Review the plan again before applying.")]
    ReviewedPlanOutdated { reason: String },
}

fn describe_problems(problems: &[FieldProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("{}: {}", p.field, p.message))
        .collect::<Vec<_>>()
        .join(" ")
}

impl EngineError {
    /// One setting that is wrong: `field` as in slipway.toml, and what to do.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        EngineError::InvalidProjectConfig {
            problems: vec![FieldProblem {
                field: field.to_owned(),
                message: message.into(),
            }],
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::DockerUnavailable { .. } | Self::DockerRefused { .. } => {
                ErrorCode::DockerUnavailable
            }
            Self::AwsFileMalformed { .. } => ErrorCode::AwsFileMalformed,
            Self::ProfileNotFound { .. } => ErrorCode::ProfileNotFound,
            Self::NoCredentials { .. } => ErrorCode::NoCredentials,
            Self::SsoSessionExpired { .. } => ErrorCode::SsoSessionExpired,
            Self::SsoSignInFailed { .. } => ErrorCode::SsoSignInFailed,
            Self::ConsoleSignInMissing { .. } => ErrorCode::ConsoleSignInMissing,
            Self::CredentialsRejected { .. } => ErrorCode::CredentialsRejected,
            Self::AwsUnreachable { .. } => ErrorCode::AwsUnreachable,
            Self::Aws { .. } => ErrorCode::AwsError,
            Self::AccessDenied { .. } => ErrorCode::AccessDenied,
            Self::AwsThrottled { .. } => ErrorCode::AwsThrottled,
            Self::AwsServerError { .. } => ErrorCode::AwsError,
            Self::DeployInProgress { .. } => ErrorCode::DeployInProgress,
            Self::AwsStepFailed { cause, .. } => cause.code(),
            Self::AwsWaitTimedOut { .. } => ErrorCode::AwsError,
            Self::PublicIpUnknown { .. } => ErrorCode::AwsUnreachable,
            Self::InvalidResourceNames { .. } => ErrorCode::InvalidProjectConfig,
            Self::InvalidInput { .. } => ErrorCode::InvalidInput,
            Self::ProfileExists { .. } => ErrorCode::ProfileExists,
            Self::Cancelled | Self::DeployCancelled { .. } => ErrorCode::Cancelled,
            Self::SetupNeeded { .. } => ErrorCode::SetupNeeded,
            Self::DeployFailed { .. } => ErrorCode::DeployFailed,
            Self::DeployTimedOut { .. } => ErrorCode::DeployTimedOut,
            Self::DeployNotFound { .. } => ErrorCode::DeployNotFound,
            Self::ServiceNotFound { .. } => ErrorCode::ServiceNotFound,
            Self::ServiceUnfit { .. } => ErrorCode::InvalidInput,
            Self::OneOffFailed { .. } => ErrorCode::AwsError,
            Self::TemplateInvalid { .. } => ErrorCode::TemplateInvalid,
            Self::StackFailed { .. } => ErrorCode::StackFailed,
            Self::DeployStopped { cause, .. } => cause.code(),
            Self::DeployElsewhere { .. } => ErrorCode::DeployNotFound,
            Self::PricesUnreadable { .. } => ErrorCode::AwsError,
            Self::RollbackRefused { .. } => ErrorCode::RollbackRefused,
            Self::JobAlreadyRunning { .. } => ErrorCode::JobAlreadyRunning,
            Self::ProjectNotFound { .. } => ErrorCode::ProjectNotFound,
            Self::ProjectNotInitialised { .. } => ErrorCode::ProjectNotInitialised,
            Self::InvalidProjectConfig { .. } => ErrorCode::InvalidProjectConfig,
            Self::ProjectFileMalformed { .. } => ErrorCode::ProjectFileMalformed,
            Self::FileSystem { .. }
            | Self::Storage { .. }
            | Self::ContextMissing { .. }
            | Self::NotARegularFile { .. }
            | Self::FileTooLarge { .. } => ErrorCode::FileSystem,
            Self::DockerignoreInvalid { .. } | Self::PreflightFailed { .. } => {
                ErrorCode::PreflightFailed
            }
            Self::BuildFailed { .. } | Self::ImagePullFailed { .. } => ErrorCode::BuildFailed,
            Self::NoReleases { .. }
            | Self::NoEarlierRelease { .. }
            | Self::FolderNotBuilt { .. } => ErrorCode::NoReleases,
            Self::ReleaseNotFound { .. } => ErrorCode::ReleaseNotFound,
            Self::PreviewFailed { .. } => ErrorCode::PreviewFailed,
            Self::PreviewNotRunning { .. } => ErrorCode::PreviewNotRunning,
            Self::Docker { .. } => ErrorCode::DockerError,
            Self::Internal(_) => ErrorCode::Internal,
            Self::DataFromNewerVersion { .. } => ErrorCode::FileSystem,
            Self::ReviewedPlanOutdated { .. } => ErrorCode::InvalidInput,
        }
    }
}

impl EngineError {
    /// An AWS failure that passes by itself (throttling, AWS's own 5xx, a reset, a timeout,
    /// an answer cut short): a watch keeps polling through it until its deadline.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::AwsThrottled { .. }
            | Self::AwsServerError { .. }
            | Self::AwsUnreachable { .. } => true,
            Self::Aws { aws_code, .. } => {
                matches!(aws_code.as_str(), "UnreadableResponse" | "RequestFailed")
            }
            Self::AwsStepFailed { cause, .. } => cause.is_transient(),
            _ => false,
        }
    }

    pub fn io(path: &std::path::Path, err: std::io::Error) -> Self {
        Self::FileSystem {
            path: path.to_owned(),
            reason: err.to_string(),
        }
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;
