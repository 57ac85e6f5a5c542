//! Who the chosen credentials belong to (STS GetCallerIdentity), and why not when they
//! don't work: no credentials, an expired SSO session, rejected keys, an unreachable AWS.

use std::time::SystemTime;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use serde::Serialize;

use super::config::{sdk_config, AwsContext, AwsTarget, CredentialSource};
use super::sso;
use crate::error::{EngineError, Result};
use crate::host::HostEnv;

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
    /// Where the credentials came from, in words ("profile \"dev\"").
    pub source: String,
    pub region: String,
    pub endpoint_url: Option<String>,
}

pub async fn whoami(host: &HostEnv, target: &AwsTarget, now: SystemTime) -> Result<CallerIdentity> {
    if let CredentialSource::Profile(name) = &target.source {
        sso::check_session(host, name, now)?;
    }
    let ctx = sdk_config(host, target).await?;
    if let (CredentialSource::Default, Some(name)) = (&target.source, &ctx.profile) {
        sso::check_session(host, name, now)?;
    }
    let sts = aws_sdk_sts::Client::new(&ctx.sdk);
    let out = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| classify(&ctx, "sts:GetCallerIdentity", e))?;
    Ok(CallerIdentity {
        account: out.account.unwrap_or_default(),
        arn: out.arn.unwrap_or_default(),
        user_id: out.user_id.unwrap_or_default(),
        source: ctx.source_name,
        region: ctx.region,
        endpoint_url: ctx.endpoint_url,
    })
}

/// Turns an SDK failure into what went wrong for the user. Credential problems are found
/// by type in the error's source chain; GetCallerIdentity models no service errors, so its
/// error code string is the only handle on rejected keys.
pub(crate) fn classify<E, R>(ctx: &AwsContext, operation: &str, err: SdkError<E, R>) -> EngineError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    if let Some(creds) = find_source::<CredentialsError>(&err) {
        return match creds {
            CredentialsError::CredentialsNotLoaded(_) => EngineError::NoCredentials {
                detail: Some(format!(
                    "{} gave none: {}",
                    ctx.source_name,
                    chain_text(creds)
                )),
            },
            other => EngineError::NoCredentials {
                detail: Some(format!("{} failed: {}", ctx.source_name, chain_text(other))),
            },
        };
    }
    let endpoint = ctx
        .endpoint_url
        .clone()
        .unwrap_or_else(|| format!("AWS in {}", ctx.region));
    match &err {
        SdkError::DispatchFailure(failure) => EngineError::AwsUnreachable {
            endpoint,
            reason: if failure.is_timeout() {
                "the connection timed out".to_owned()
            } else {
                failure
                    .as_connector_error()
                    .map(|c| chain_text(c))
                    .unwrap_or_else(|| "the request could not be sent".to_owned())
            },
        },
        SdkError::TimeoutError(_) => EngineError::AwsUnreachable {
            endpoint,
            reason: "no answer in time".to_owned(),
        },
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("Unknown").to_owned();
            let message = service.err().message().unwrap_or_default().to_owned();
            match code.as_str() {
                "InvalidClientTokenId"
                | "SignatureDoesNotMatch"
                | "ExpiredToken"
                | "UnrecognizedClientException"
                | "InvalidAccessKeyId" => EngineError::CredentialsRejected {
                    source_name: ctx.source_name.clone(),
                    aws_code: code,
                    aws_message: message,
                },
                _ => EngineError::Aws {
                    operation: operation.to_owned(),
                    aws_code: code,
                    aws_message: message,
                },
            }
        }
        SdkError::ResponseError(_) => EngineError::Aws {
            operation: operation.to_owned(),
            aws_code: "UnreadableResponse".to_owned(),
            aws_message: format!("{endpoint} answered something that is not an AWS response"),
        },
        _ => EngineError::Aws {
            operation: operation.to_owned(),
            aws_code: "RequestFailed".to_owned(),
            aws_message: chain_text(&err),
        },
    }
}

fn find_source<'a, T: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// An error and its causes on one line, without repeats.
fn chain_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}
