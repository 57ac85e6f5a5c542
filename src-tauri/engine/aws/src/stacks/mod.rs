//! Vendors' CloudFormation stacks without a terminal: a template read into a form, its
//! values checked before any call, the stack created (what it makes, in plain words) or
//! updated (a change set: add, modify, replace, remove) with its events followed, its
//! outputs, and its deletion with what stays behind.
//!
//! A NoEcho value goes to CloudFormation and nowhere else: it is masked in everything this
//! module returns, and AWS's (or the emulator's) answers are masked again before use.
//!
//! Calls that change something are safe to retry: a create carries a request tag, so a
//! create whose answer was lost and which the SDK retries into "already exists" is
//! recognised as this request's own; an execute or delete that already started is
//! followed instead of refused.

mod choices;
mod delete;
pub mod saved;
pub mod template;
mod watch;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use aws_sdk_cloudformation::types::{
    Capability as ApiCapability, ChangeSetStatus, ChangeSetType, Parameter as ApiParameter, Stack,
    Tag,
};
use aws_sdk_cloudformation::Client;
use serde::Serialize;
use time::OffsetDateTime;

use crate::aws::{classify, Connection};
use crate::cost::meter::{iso, moment};
use crate::secrets::{request_id, REQUEST_TAG};
use crate::support::redact;
pub use choices::{choices, Choice};
pub use delete::{delete, review_delete, DeleteReview, Retained};
use slipway_core::error::{EngineError, Result};
use slipway_core::jobs::Cancel;
use slipway_core::progress::ProgressSink;
pub use template::{Capability, Template, TemplateResource};
pub use watch::plain_status;
use watch::{event_line, follow};

/// How often a stack or change set is asked about while it changes.
const POLL: Duration = Duration::from_secs(2);
/// How long a stack may take before Slipway stops following it (it goes on at AWS).
const STACK_DEADLINE: Duration = Duration::from_secs(60 * 60);
/// How long CloudFormation may take to compute a change set.
const CHANGE_SET_DEADLINE: Duration = Duration::from_secs(5 * 60);
/// The most events `events` returns.
pub const EVENTS_SHOWN: usize = 50;

/// A stack of the account, to pick from.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StackSummary {
    pub name: String,
    pub status: String,
    /// The status in plain words.
    pub state: String,
    pub description: Option<String>,
    /// ISO 8601.
    pub updated_at: Option<String>,
    /// What another stack's form can take from it.
    pub outputs: Vec<StackOutput>,
}

/// One change an update makes, from its change set.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StackChange {
    /// Add, Modify, Remove, Import or Dynamic.
    pub action: String,
    pub logical_id: String,
    pub kind: String,
    /// For a Modify: True (the resource is replaced: a new one, the old deleted),
    /// Conditional, or False.
    pub replacement: Option<String>,
    /// The change in plain words.
    pub said: String,
}

/// What creating or updating a stack will do, before it does.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StackReview {
    pub stack: String,
    pub region: String,
    /// An update of an existing stack (else a create).
    pub update: bool,
    /// The values it will be given, NoEcho ones masked; a NoEcho value the stack keeps
    /// shows as "(unchanged)".
    pub parameters: BTreeMap<String, String>,
    /// The same, unmasked, for the create and for keeping them.
    #[serde(skip)]
    pub values: Values,
    /// A create: every resource of the template, with what bills and what stays.
    pub resources: Vec<TemplateResource>,
    /// An update: the change set's changes to resources (empty when none would change).
    pub changes: Vec<StackChange>,
    /// An update: the parameters given a new value, from what the stack has now.
    pub parameter_changes: Vec<ParameterChange>,
    /// What must be acknowledged, and why.
    pub capabilities: Vec<Acknowledgement>,
    /// The change set to execute (an update with changes).
    pub change_set: Option<String>,
}

/// A parameter an update gives a new value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ParameterChange {
    pub name: String,
    /// What the stack has now; None for a parameter it did not have, or a secret.
    pub from: Option<String>,
    /// The new value; a NoEcho one is said as [`template::MASK`].
    pub to: String,
    /// A NoEcho parameter: given a new secret, neither value shown.
    pub secret: bool,
}

/// Parameter values that print only their names: a NoEcho value never reaches a log by way
/// of `{:?}`.
#[derive(Clone, Default)]
pub struct Values(pub BTreeMap<String, String>);

impl std::fmt::Debug for Values {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// A capability CloudFormation wants acknowledged, with the resources that need it.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Acknowledgement {
    pub capability: Capability,
    pub why: String,
}

/// A line of a stack's event log.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StackEventLine {
    pub id: String,
    /// ISO 8601.
    pub at: Option<String>,
    pub logical_id: String,
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
}

/// An output of a stack, with how a person uses it.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StackOutput {
    pub key: String,
    pub value: String,
    pub description: Option<String>,
    pub export_name: Option<String>,
    pub kind: OutputKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
pub enum OutputKind {
    /// An address to open.
    Url,
    /// An ARN to reuse (in another stack's parameters, say).
    Arn,
    Text,
}

/// A stack as it ended a create or update.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StackOutcome {
    pub stack: String,
    pub status: String,
    pub outputs: Vec<StackOutput>,
}

/// What a running create, update or delete reports.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(tag = "type", content = "data")]
pub enum StackProgress {
    Started { stack: String, update: bool },
    Event(StackEventLine),
    Status { status: String, state: String },
}

/// The stacks of the connection's region (deleted ones left out).
pub async fn list_stacks(conn: &Connection) -> Result<Vec<StackSummary>> {
    let cf = Client::new(&conn.ctx.sdk);
    let mut pages = cf.describe_stacks().into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify(&conn.ctx, "cloudformation:DescribeStacks", e))?;
        out.extend(page.stacks().iter().map(summary));
    }
    out.retain(|s| s.status != "DELETE_COMPLETE");
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// What creating `name` from `template` (or updating it, when it exists) will do. Every
/// value is checked first: a refused one makes no call that changes anything. An update
/// leaves a change set to execute (or delete with [`discard`]).
pub async fn review(
    conn: &Connection,
    name: &str,
    template: &Template,
    values: &BTreeMap<String, String>,
) -> Result<StackReview> {
    check_stack_name(name)?;
    // Before any call: a NoEcho value is masked in every log line from now on, even where
    // an answer carries it back (the emulator does not mask them as AWS does).
    for p in template.parameters.iter().filter(|p| p.no_echo) {
        if let Some(value) = values.get(&p.name) {
            redact::hide(value);
        }
    }
    let existing = find(conn, name).await?;
    if let Some(stack) = &existing {
        busy_or_broken(name, stack)?;
    }
    // An update keeps what it is not given: the stack's own value, sent again as it is
    // (a NoEcho one, or one AWS answers masked, as "use the previous value", so that a
    // secret is never overwritten with the mask). Literal values rather than "use the
    // previous value" for the rest: the emulator fails that for a list parameter.
    let previous: BTreeMap<String, String> = existing
        .iter()
        .flat_map(|s| s.parameters())
        .filter_map(|p| {
            Some((
                p.parameter_key()?.to_owned(),
                p.parameter_value().unwrap_or_default().to_owned(),
            ))
        })
        .collect();
    let problems: Vec<_> = template::check_values(template, values)
        .into_iter()
        .filter(|p| values.contains_key(&p.field) || !previous.contains_key(&p.field))
        .collect();
    if !problems.is_empty() {
        let said: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect();
        return Err(EngineError::InvalidInput {
            what: format!("The values for {name}"),
            reason: said.join("; "),
        });
    }
    let mut sent = values.clone();
    let mut kept_secret = HashSet::new();
    for p in template
        .parameters
        .iter()
        .filter(|p| !values.contains_key(&p.name))
    {
        match previous.get(&p.name) {
            // NoEcho now, or then (AWS answered it masked): never sent back as text.
            Some(value) if p.no_echo || value == template::MASK => {
                kept_secret.insert(p.name.clone());
            }
            Some(value) => {
                sent.insert(p.name.clone(), value.clone());
            }
            None => {}
        }
    }
    let parameter_changes = if existing.is_some() {
        parameter_changes(template, &previous, values)
    } else {
        Vec::new()
    };
    let mut parameters = template::masked(template, &sent);
    for name in &kept_secret {
        parameters.insert(name.clone(), "(unchanged)".into());
    }
    let mut review = StackReview {
        stack: name.to_owned(),
        region: conn.ctx.region.clone(),
        update: existing.is_some(),
        parameters,
        values: Values(sent),
        resources: Vec::new(),
        changes: Vec::new(),
        parameter_changes,
        capabilities: template
            .capabilities
            .iter()
            .map(|c| Acknowledgement {
                capability: *c,
                why: c.why(template),
            })
            .collect(),
        change_set: None,
    };
    if existing.is_none() {
        review.resources = template.resources.clone();
        return Ok(review);
    }
    let change_set = format!("slipway-{}", request_id());
    let cf = Client::new(&conn.ctx.sdk);
    cf.create_change_set()
        .stack_name(name)
        .change_set_name(&change_set)
        .change_set_type(ChangeSetType::Update)
        .template_body(&template.body)
        .set_parameters(Some(api_parameters(
            template,
            &review.values.0,
            &kept_secret,
        )))
        .set_capabilities(Some(api_capabilities(template)))
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "cloudformation:CreateChangeSet", e))?;
    let deadline = tokio::time::Instant::now() + CHANGE_SET_DEADLINE;
    loop {
        let described = cf
            .describe_change_set()
            .stack_name(name)
            .change_set_name(&change_set)
            .send()
            .await
            .map_err(|e| classify(&conn.ctx, "cloudformation:DescribeChangeSet", e))?;
        match described.status() {
            Some(ChangeSetStatus::CreateComplete) => {
                review.changes = described.changes().iter().filter_map(change).collect();
                review.change_set = Some(change_set);
                return Ok(review);
            }
            Some(ChangeSetStatus::Failed) => {
                let reason = redact::mask_hidden(described.status_reason().unwrap_or_default());
                discard(conn, name, &change_set).await;
                // "The submitted information didn't contain changes": nothing to do.
                if reason.contains("didn't contain changes") || reason.contains("No updates") {
                    return Ok(review);
                }
                return Err(EngineError::StackFailed {
                    stack: name.to_owned(),
                    problem: format!("cannot be updated so: {reason}"),
                });
            }
            _ if tokio::time::Instant::now() > deadline => {
                discard(conn, name, &change_set).await;
                return Err(EngineError::StackFailed {
                    stack: name.to_owned(),
                    problem: "did not get its change set computed in 5 minutes; try again".into(),
                });
            }
            _ => tokio::time::sleep(POLL).await,
        }
    }
}

/// Creates or updates the stack as `review` said, and follows it to its end; the values
/// (not the NoEcho ones) are kept in `db` for the next time.
pub async fn apply(
    db: &std::path::Path,
    conn: &Connection,
    review: &StackReview,
    template: &Template,
    sink: &dyn ProgressSink<StackProgress>,
    cancel: &Cancel,
) -> Result<StackOutcome> {
    let name = review.stack.as_str();
    let values = &review.values.0;
    let cf = Client::new(&conn.ctx.sdk);
    let since = OffsetDateTime::now_utc() - time::Duration::seconds(5);
    sink.emit(StackProgress::Started {
        stack: name.to_owned(),
        update: review.update,
    });
    if review.update {
        let Some(change_set) = &review.change_set else {
            // Nothing would change: the stack as it is is the outcome.
            return outcome(conn, name).await;
        };
        let executed = cf
            .execute_change_set()
            .stack_name(name)
            .change_set_name(change_set)
            .send()
            .await;
        if let Err(e) = executed {
            // A retried execute whose first answer was lost: this change set runs already.
            // Anything else (the change set went stale, a denial) is the error: the stack's
            // own status could be an earlier update's.
            let execution = cf
                .describe_change_set()
                .stack_name(name)
                .change_set_name(change_set)
                .send()
                .await
                .ok()
                .and_then(|d| d.execution_status().map(|x| x.as_str().to_owned()));
            let started = matches!(
                execution.as_deref(),
                Some("EXECUTE_IN_PROGRESS" | "EXECUTE_COMPLETE")
            );
            if !started {
                return Err(classify(&conn.ctx, "cloudformation:ExecuteChangeSet", e));
            }
        }
    } else {
        let request = request_id();
        let created = cf
            .create_stack()
            .stack_name(name)
            .template_body(&template.body)
            .set_parameters(Some(api_parameters(template, values, &HashSet::new())))
            .set_capabilities(Some(api_capabilities(template)))
            .tags(Tag::builder().key(REQUEST_TAG).value(&request).build())
            .client_request_token(&request)
            // A create that fails removes even what the template retains: nothing is left
            // billing from a stack that never came up.
            .retain_except_on_create(true)
            .send()
            .await;
        if let Err(e) = created {
            let exists = e
                .as_service_error()
                .is_some_and(|e| e.is_already_exists_exception());
            let ours = exists
                && find(conn, name).await?.is_some_and(|s| {
                    s.tags()
                        .iter()
                        .any(|t| t.key() == Some(REQUEST_TAG) && t.value() == Some(&request))
                });
            if exists && !ours {
                return Err(EngineError::StackFailed {
                    stack: name.to_owned(),
                    problem:
                        "exists already (made elsewhere just now): review it again to update it"
                            .into(),
                });
            }
            if !ours {
                return Err(classify(&conn.ctx, "cloudformation:CreateStack", e));
            }
            tracing::info!(stack = %name, "the create's answer was lost; the stack is this request's own");
        }
    }
    let done = if review.update {
        "UPDATE_COMPLETE"
    } else {
        "CREATE_COMPLETE"
    };
    follow(conn, name, done, since, sink, cancel).await?;
    if let Err(e) = saved::save(db, conn, name, template, values) {
        tracing::warn!(stack = %name, error = %e, "could not keep the stack's values");
    }
    outcome(conn, name).await
}

/// Deletes an update's change set that will not be executed (a review only looked).
pub async fn discard(conn: &Connection, name: &str, change_set: &str) {
    let deleted = Client::new(&conn.ctx.sdk)
        .delete_change_set()
        .stack_name(name)
        .change_set_name(change_set)
        .send()
        .await;
    if let Err(e) = deleted {
        tracing::warn!(stack = %name, error = %classify(&conn.ctx, "cloudformation:DeleteChangeSet", e), "could not delete an unused change set");
    }
}

/// The stack's outputs, each marked as an address, an ARN or text.
pub async fn outputs(conn: &Connection, name: &str) -> Result<Vec<StackOutput>> {
    let stack = existing(conn, name).await?;
    Ok(outputs_of(&stack))
}

/// The values the stack runs with now, to fill an update's form: every parameter the
/// template has, except a NoEcho one (a secret is kept by leaving it out, never shown).
pub async fn current_values(
    conn: &Connection,
    name: &str,
    template: &Template,
) -> Result<BTreeMap<String, String>> {
    let stack = existing(conn, name).await?;
    Ok(stack
        .parameters()
        .iter()
        .filter_map(|p| Some((p.parameter_key()?, p.parameter_value().unwrap_or_default())))
        .filter(|(key, value)| {
            *value != template::MASK && template.parameter(key).is_some_and(|p| !p.no_echo)
        })
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect())
}

/// The newest events of the stack, newest first.
pub async fn events(conn: &Connection, name: &str) -> Result<Vec<StackEventLine>> {
    let cf = Client::new(&conn.ctx.sdk);
    let answer = cf
        .describe_stack_events()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| not_found_or(conn, name, "cloudformation:DescribeStackEvents", e))?;
    let mut lines: Vec<StackEventLine> = answer.stack_events().iter().map(event_line).collect();
    lines.truncate(EVENTS_SHOWN);
    Ok(lines)
}

/// The stack's status, in plain words too.
pub async fn status(conn: &Connection, name: &str) -> Result<StackSummary> {
    Ok(summary(&existing(conn, name).await?))
}

async fn outcome(conn: &Connection, name: &str) -> Result<StackOutcome> {
    let stack = existing(conn, name).await?;
    Ok(StackOutcome {
        stack: name.to_owned(),
        status: status_of(&stack),
        outputs: outputs_of(&stack),
    })
}

/// The stack named `name` (or by its id), or None when there is none.
async fn find(conn: &Connection, name: &str) -> Result<Option<Stack>> {
    let answer = Client::new(&conn.ctx.sdk)
        .describe_stacks()
        .stack_name(name)
        .send()
        .await;
    match answer {
        Ok(answer) => Ok(answer
            .stacks()
            .iter()
            .find(|s| {
                s.stack_status()
                    .is_none_or(|st| st.as_str() != "DELETE_COMPLETE")
            })
            .cloned()),
        Err(e) if is_missing(&e) => Ok(None),
        Err(e) => Err(classify(&conn.ctx, "cloudformation:DescribeStacks", e)),
    }
}

async fn existing(conn: &Connection, name: &str) -> Result<Stack> {
    find(conn, name)
        .await?
        .ok_or_else(|| EngineError::StackFailed {
            stack: name.to_owned(),
            problem: format!(
                "is not in {}: pick one from the list of stacks, or check the name and the region.",
                conn.ctx.region
            ),
        })
}

/// CloudFormation says a stack is not there with a ValidationError "... does not exist".
fn is_missing<E: aws_sdk_cloudformation::error::ProvideErrorMetadata, R>(
    e: &aws_sdk_cloudformation::error::SdkError<E, R>,
) -> bool {
    e.as_service_error().is_some_and(|e| {
        e.code() == Some("ValidationError")
            && e.message().is_some_and(|m| m.contains("does not exist"))
    })
}

fn not_found_or<E>(
    conn: &Connection,
    name: &str,
    operation: &str,
    e: aws_sdk_cloudformation::error::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> EngineError
where
    E: aws_sdk_cloudformation::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    if is_missing(&e) {
        return EngineError::StackFailed {
            stack: name.to_owned(),
            problem: format!("is not in {}.", conn.ctx.region),
        };
    }
    classify(&conn.ctx, operation, e)
}

/// A stack that is changing now, or a create that failed and must be deleted first.
fn busy_or_broken(name: &str, stack: &Stack) -> Result<()> {
    let status = status_of(stack);
    if status.ends_with("_IN_PROGRESS") && status != "REVIEW_IN_PROGRESS" {
        return Err(EngineError::StackFailed {
            stack: name.to_owned(),
            problem: format!(
                "is changing now ({}); wait until it ends, then try again.",
                plain_status(&status)
            ),
        });
    }
    let broken = [
        "ROLLBACK_COMPLETE",
        "ROLLBACK_FAILED",
        "DELETE_FAILED",
        // A change set made for a create elsewhere and never run: the stack holds nothing.
        "REVIEW_IN_PROGRESS",
    ];
    if status == "UPDATE_ROLLBACK_FAILED" {
        return Err(EngineError::StackFailed {
            stack: name.to_owned(),
            problem: "could not be updated, and going back failed too; continue its rollback in the AWS CloudFormation console (Stack actions, Continue update rollback), then try again.".into(),
        });
    }
    if broken.contains(&status.as_str()) {
        return Err(EngineError::StackFailed {
            stack: name.to_owned(),
            problem: format!(
                "{}; it cannot be updated. Delete it, then create it again.",
                plain_status(&status)
            ),
        });
    }
    Ok(())
}

/// CloudFormation's stack name rule: a letter, then letters, digits and hyphens, at most
/// 128 characters.
fn check_stack_name(name: &str) -> Result<()> {
    let ok = name.len() <= 128
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        return Ok(());
    }
    Err(EngineError::InvalidInput {
        what: "The stack name".into(),
        reason: format!(
            "\"{name}\" must start with a letter and hold only letters, digits and hyphens (at most 128)"
        ),
    })
}

/// The values to send: given ones (with an update's kept ones), a NoEcho one the stack
/// keeps as "use the previous value"; for any other the template's default applies.
fn api_parameters(
    template: &Template,
    values: &BTreeMap<String, String>,
    kept_secret: &HashSet<String>,
) -> Vec<ApiParameter> {
    template
        .parameters
        .iter()
        .filter_map(|p| match values.get(&p.name) {
            Some(value) => Some(
                ApiParameter::builder()
                    .parameter_key(&p.name)
                    .parameter_value(value)
                    .build(),
            ),
            None if kept_secret.contains(&p.name) => Some(
                ApiParameter::builder()
                    .parameter_key(&p.name)
                    .use_previous_value(true)
                    .build(),
            ),
            None => None,
        })
        .collect()
}

fn api_capabilities(template: &Template) -> Vec<ApiCapability> {
    template
        .capabilities
        .iter()
        .map(|c| ApiCapability::from(c.as_api()))
        .collect()
}

fn change(c: &aws_sdk_cloudformation::types::Change) -> Option<StackChange> {
    let r = c.resource_change()?;
    let action = r
        .action()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_default();
    let logical_id = r.logical_resource_id().unwrap_or_default().to_owned();
    let kind = r.resource_type().unwrap_or_default().to_owned();
    let replacement = r.replacement().map(|x| x.as_str().to_owned());
    let said = match (action.as_str(), replacement.as_deref()) {
        ("Add", _) => format!("adds {logical_id} ({kind})"),
        ("Remove", _) => format!("removes {logical_id} ({kind})"),
        ("Modify", Some("True")) => format!(
            "replaces {logical_id} ({kind}): a new one is made, and the old one is deleted with what it held unless the template keeps it (UpdateReplacePolicy)"
        ),
        ("Modify", Some("Conditional")) => {
            format!("changes {logical_id} ({kind}), which may replace it")
        }
        ("Modify", _) => format!("changes {logical_id} ({kind}) in place"),
        (other, _) => format!("{} {logical_id} ({kind})", other.to_lowercase()),
    };
    Some(StackChange {
        action,
        logical_id,
        kind,
        replacement,
        said,
    })
}

/// The stack's status as CloudFormation spells it (empty when it gives none).
fn status_of(stack: &Stack) -> String {
    stack
        .stack_status()
        .map_or_else(String::new, |s| s.as_str().to_owned())
}

/// The values given that differ from the stack's, in the template's order; a NoEcho value
/// given is always a change (what the stack has is not known), said masked.
fn parameter_changes(
    template: &Template,
    previous: &BTreeMap<String, String>,
    given: &BTreeMap<String, String>,
) -> Vec<ParameterChange> {
    template
        .parameters
        .iter()
        .filter_map(|p| {
            let to = given.get(&p.name)?;
            if p.no_echo {
                return Some(ParameterChange {
                    name: p.name.clone(),
                    from: None,
                    to: template::MASK.to_owned(),
                    secret: true,
                });
            }
            let from = previous.get(&p.name);
            (from != Some(to)).then(|| ParameterChange {
                name: p.name.clone(),
                from: from.cloned(),
                to: to.clone(),
                secret: false,
            })
        })
        .collect()
}

fn summary(s: &Stack) -> StackSummary {
    let status = status_of(s);
    StackSummary {
        name: s.stack_name().unwrap_or_default().to_owned(),
        state: plain_status(&status),
        status,
        description: s.description().map(str::to_owned),
        updated_at: s
            .last_updated_time()
            .or(s.creation_time())
            .and_then(moment)
            .map(iso),
        outputs: outputs_of(s),
    }
}

fn outputs_of(stack: &Stack) -> Vec<StackOutput> {
    stack
        .outputs()
        .iter()
        .map(|o| {
            let value = o.output_value().unwrap_or_default().to_owned();
            StackOutput {
                key: o.output_key().unwrap_or_default().to_owned(),
                kind: output_kind(&value),
                value,
                description: o.description().map(str::to_owned),
                export_name: o.export_name().map(str::to_owned),
            }
        })
        .collect()
}

fn output_kind(value: &str) -> OutputKind {
    if value.starts_with("http://") || value.starts_with("https://") {
        OutputKind::Url
    } else if value.starts_with("arn:") {
        OutputKind::Arn
    } else {
        OutputKind::Text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_names_follow_cloudformations_rule() {
        assert!(check_stack_name("dbward-server").is_ok());
        for bad in ["", "1stack", "my_stack", "a b", &"a".repeat(129)] {
            assert!(check_stack_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn outputs_are_told_apart_by_their_value() {
        assert_eq!(
            output_kind("http://lb-1.elb.amazonaws.com"),
            OutputKind::Url
        );
        assert_eq!(
            output_kind("arn:aws:secretsmanager:us-east-1:123456789012:secret:x"),
            OutputKind::Arn
        );
        assert_eq!(output_kind("dbward"), OutputKind::Text);
    }

    #[test]
    fn every_status_reads_in_plain_words() {
        assert_eq!(
            plain_status("UPDATE_ROLLBACK_COMPLETE"),
            "could not be updated and is back to how it was"
        );
        assert_eq!(plain_status("IMPORT_IN_PROGRESS"), "import in progress");
    }
}
