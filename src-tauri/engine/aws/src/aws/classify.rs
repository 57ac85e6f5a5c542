//! Turning an AWS SDK failure into what went wrong for the user: missing or rejected
//! credentials, an unreachable endpoint, a denied action (named, so an administrator
//! knows what to allow), throttling that outlasted the retries, or AWS's own words.

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use super::config::AwsContext;
use slipway_core::error::EngineError;

/// Turns an SDK failure of `operation` (written as IAM spells actions, "ecr:CreateRepository")
/// into what went wrong for the user. Credential problems are found by type in the error's
/// source chain. Denials, throttling and rejected keys are not modelled error types in most
/// services (and not at all in EC2's), so their error code string is the only handle.
pub fn classify<E>(ctx: &AwsContext, operation: &str, err: SdkError<E, HttpResponse>) -> EngineError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if let Some(creds) = find_source::<CredentialsError>(&err) {
        // An SSO profile whose token is past renewing (its portal session ended): the
        // SDK's refresh or its role-credentials call failed.
        if let (true, Some(profile)) = (ctx.sso, &ctx.profile) {
            tracing::warn!(profile = %profile, "SSO credentials failed: {}", chain_text(creds));
            return EngineError::SsoSessionExpired {
                profile: profile.clone(),
                state: "has ended: AWS no longer accepts it".to_owned(),
            };
        }
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
            // An answer without an error message (an emulator lacking the API, a proxy's
            // error page) still says where it came from.
            let message = service
                .err()
                .message()
                .filter(|m| !m.is_empty())
                .map_or_else(|| format!("{endpoint} gave no reason"), str::to_owned);
            match code.as_str() {
                "InvalidClientTokenId"
                | "SignatureDoesNotMatch"
                | "ExpiredToken"
                | "UnrecognizedClientException"
                | "ExpiredTokenException"
                | "InvalidSignatureException"
                | "InvalidAccessKeyId" => EngineError::CredentialsRejected {
                    source_name: ctx.source_name.clone(),
                    aws_code: code,
                    aws_message: message,
                },
                // The request's clock is off by more than AWS allows.
                "RequestExpired" | "RequestTimeTooSkewed" => EngineError::Aws {
                    operation: operation.to_owned(),
                    aws_code: code,
                    aws_message: format!(
                        "{message} (AWS refuses requests from a clock that is more than 5 minutes off: set this computer's clock automatically)"
                    ),
                },
                "AccessDenied"
                | "AccessDeniedException"
                | "UnauthorizedOperation"
                | "UnauthorizedAccess"
                | "Forbidden" => EngineError::AccessDenied {
                    action: operation.to_owned(),
                    source_name: ctx.source_name.clone(),
                    aws_message: message,
                },
                "Throttling"
                | "ThrottlingException"
                | "ThrottledException"
                | "RequestLimitExceeded"
                | "TooManyRequestsException" => EngineError::AwsThrottled {
                    operation: operation.to_owned(),
                },
                _ if service.raw().status().is_server_error() => EngineError::AwsServerError {
                    operation: operation.to_owned(),
                    status: service.raw().status().as_u16(),
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
