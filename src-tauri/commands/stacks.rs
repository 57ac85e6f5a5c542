//! A vendor's CloudFormation stacks from the window: the stacks of an account and region,
//! a template read into a form (its values checked as typed, its AWS-specific parameters
//! offered as choices), the review before anything changes, the create or update followed
//! event by event, outputs, and a delete that says what stays. Each is the desk's or the
//! engine's; the review's values stay on the Rust side, the window holds its id.

use std::collections::BTreeMap;
use std::path::PathBuf;

use slipway_app::PendingReview;
use slipway_aws::aws::{AwsTarget, CallerIdentity};
use slipway_aws::secrets::{create_secret, list_secrets, NewSecret, SecretSummary};
use slipway_aws::stacks::template::{check_values, Picker};
use slipway_aws::stacks::{
    self, Choice, DeleteReview, StackEventLine, StackOutcome, StackOutput, StackProgress,
    StackSummary, Template,
};
use slipway_core::error::FieldProblem;
use tauri::ipc::Channel;
use tauri::State;

use super::jobs::channel_sink;
use crate::error::IpcError;
use crate::state::{Desk, Jobs};

/// Who `target`'s credentials belong to, proven now.
#[tauri::command]
#[specta::specta]
pub async fn connect_account(
    target: AwsTarget,
    desk: State<'_, Desk>,
) -> Result<CallerIdentity, IpcError> {
    Ok(desk.0.connect(&target).await?.identity)
}

#[tauri::command]
#[specta::specta]
pub async fn list_stacks(
    target: AwsTarget,
    desk: State<'_, Desk>,
) -> Result<Vec<StackSummary>, IpcError> {
    Ok(stacks::list_stacks(&desk.0.connection(&target).await?).await?)
}

/// The template at `path`, read into what its form needs.
#[tauri::command]
#[specta::specta]
pub async fn open_template(path: String) -> Result<Template, IpcError> {
    Ok(slipway_app::Desk::open_template(&PathBuf::from(path)).await?)
}

/// The form's values checked as CloudFormation will check them; empty when all are fine.
#[tauri::command]
#[specta::specta]
pub async fn check_stack_values(
    path: String,
    values: BTreeMap<String, String>,
) -> Result<Vec<FieldProblem>, IpcError> {
    let template = slipway_app::Desk::open_template(&PathBuf::from(path)).await?;
    Ok(check_values(&template, &values))
}

/// The account's choices for an AWS-specific parameter (subnets and security groups of
/// `vpc` when given).
#[tauri::command]
#[specta::specta]
pub async fn stack_choices(
    target: AwsTarget,
    picker: Picker,
    vpc: Option<String>,
    desk: State<'_, Desk>,
) -> Result<Vec<Choice>, IpcError> {
    let conn = desk.0.connection(&target).await?;
    Ok(stacks::choices(&conn, picker, vpc.as_deref()).await?)
}

/// The values the stack was last given from this computer (never the NoEcho ones).
#[tauri::command]
#[specta::specta]
pub async fn saved_stack_values(
    target: AwsTarget,
    stack: String,
    desk: State<'_, Desk>,
) -> Result<BTreeMap<String, String>, IpcError> {
    let conn = desk.0.connection(&target).await?;
    let db = desk.0.db();
    Ok(
        tokio::task::spawn_blocking(move || stacks::saved::load(&db, &conn, &stack))
            .await
            .map_err(|e| {
                slipway_core::EngineError::Internal(format!("reading kept values: {e}"))
            })??,
    )
}

/// The values an existing stack runs with now (never its NoEcho ones), for an update's form.
#[tauri::command]
#[specta::specta]
pub async fn current_stack_values(
    target: AwsTarget,
    stack: String,
    path: String,
    desk: State<'_, Desk>,
) -> Result<BTreeMap<String, String>, IpcError> {
    let template = slipway_app::Desk::open_template(&PathBuf::from(path)).await?;
    let conn = desk.0.connection(&target).await?;
    Ok(stacks::current_values(&conn, &stack, &template).await?)
}

/// What creating (or updating) `stack` from the template will do; nothing changes yet.
#[tauri::command]
#[specta::specta]
pub async fn review_stack(
    target: AwsTarget,
    path: String,
    stack: String,
    values: BTreeMap<String, String>,
    desk: State<'_, Desk>,
) -> Result<PendingReview, IpcError> {
    Ok(desk
        .0
        .review(&target, &PathBuf::from(path), &stack, &values)
        .await?)
}

/// Creates or updates the stack as the review said, streaming its events.
#[tauri::command]
#[specta::specta]
pub async fn apply_stack(
    job_id: String,
    review: String,
    on_event: Channel<StackProgress>,
    desk: State<'_, Desk>,
    jobs: State<'_, Jobs>,
) -> Result<StackOutcome, IpcError> {
    let job = jobs.0.start(&job_id)?;
    let sink = channel_sink(on_event);
    Ok(desk.0.apply(&review, &sink, &job.cancel_token()).await?)
}

/// Drops a review the person said no to.
#[tauri::command]
#[specta::specta]
pub async fn discard_stack_review(review: String, desk: State<'_, Desk>) -> Result<(), IpcError> {
    Ok(desk.0.discard(&review).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn stack_outputs(
    target: AwsTarget,
    stack: String,
    desk: State<'_, Desk>,
) -> Result<Vec<StackOutput>, IpcError> {
    Ok(stacks::outputs(&desk.0.connection(&target).await?, &stack).await?)
}

/// The stack's newest events, newest first.
#[tauri::command]
#[specta::specta]
pub async fn stack_events(
    target: AwsTarget,
    stack: String,
    desk: State<'_, Desk>,
) -> Result<Vec<StackEventLine>, IpcError> {
    Ok(stacks::events(&desk.0.connection(&target).await?, &stack).await?)
}

/// What deleting the stack leaves behind (and still bills).
#[tauri::command]
#[specta::specta]
pub async fn review_stack_delete(
    target: AwsTarget,
    stack: String,
    desk: State<'_, Desk>,
) -> Result<DeleteReview, IpcError> {
    Ok(stacks::review_delete(&desk.0.connection(&target).await?, &stack).await?)
}

/// Deletes the stack the review was about, streaming its events.
#[tauri::command]
#[specta::specta]
pub async fn delete_stack(
    job_id: String,
    target: AwsTarget,
    review: DeleteReview,
    on_event: Channel<StackProgress>,
    desk: State<'_, Desk>,
    jobs: State<'_, Jobs>,
) -> Result<(), IpcError> {
    let job = jobs.0.start(&job_id)?;
    let conn = desk.0.connection(&target).await?;
    let sink = channel_sink(on_event);
    Ok(stacks::delete(&conn, &review, &sink, &job.cancel_token()).await?)
}

/// The secrets of the account and region, in both stores (never their values), to give a
/// template's parameter a secret's ARN.
#[tauri::command]
#[specta::specta]
pub async fn account_secrets(
    target: AwsTarget,
    desk: State<'_, Desk>,
) -> Result<Vec<SecretSummary>, IpcError> {
    Ok(list_secrets(&desk.0.connection(&target).await?).await?)
}

/// Creates a secret in the account and region; its value goes to AWS and nowhere else.
#[tauri::command]
#[specta::specta]
pub async fn create_account_secret(
    target: AwsTarget,
    request: NewSecret,
    desk: State<'_, Desk>,
) -> Result<SecretSummary, IpcError> {
    Ok(create_secret(&desk.0.connection(&target).await?, &request).await?)
}
