//! Who the chosen credentials belong to (STS GetCallerIdentity), and why not when they
//! don't work: no credentials, an expired SSO session, rejected keys, an unreachable AWS.

use std::time::SystemTime;

use serde::Serialize;

use super::classify::classify;
use super::config::{sdk_config, AwsContext, AwsTarget, CredentialSource};
use super::sso;
use slipway_core::error::Result;
use slipway_core::host::HostEnv;

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

/// Credentials that work, with who they belong to: what every AWS job starts from.
#[derive(Debug, Clone)]
pub struct Connection {
    pub ctx: AwsContext,
    pub identity: CallerIdentity,
}

/// Builds the SDK configuration for `target` and proves it with STS GetCallerIdentity,
/// after checking an SSO profile's cached login so an expired one is explained as such.
pub async fn connect(host: &HostEnv, target: &AwsTarget, now: SystemTime) -> Result<Connection> {
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
    let identity = CallerIdentity {
        account: out.account.unwrap_or_default(),
        arn: out.arn.unwrap_or_default(),
        user_id: out.user_id.unwrap_or_default(),
        source: ctx.source_name.clone(),
        region: ctx.region.clone(),
        endpoint_url: ctx.endpoint_url.clone(),
    };
    Ok(Connection { ctx, identity })
}

pub async fn whoami(host: &HostEnv, target: &AwsTarget, now: SystemTime) -> Result<CallerIdentity> {
    Ok(connect(host, target, now).await?.identity)
}
