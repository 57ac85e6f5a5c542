//! Secrets without a terminal: creating, updating and listing the values an app reads at
//! start (a database URL, an API token) in AWS Secrets Manager or as SSM Parameter Store
//! `SecureString` parameters, so that `slipway.toml` names them by ARN and never holds
//! them. A value goes from the caller straight to AWS: Slipway never stores, logs or
//! returns it ([`Secret`] prints as `***`).
//!
//! A create is safe to retry: each carries a request tag, so when AWS made the secret but
//! its answer was lost (the SDK retries and hears "already exists"), the secret is
//! recognised as this request's own instead of being reported as someone else's.

use aws_sdk_secretsmanager::types::Tag as SecretTag;
use aws_sdk_ssm::types::{ParameterStringFilter, ParameterType, Tag as ParameterTag};
use serde::{Deserialize, Serialize};

use crate::aws::{classify, Connection, Secret};
use slipway_core::error::{EngineError, Result};

mod import;
pub use import::{
    create_for, import_secrets, read_env_file, secret_name_for, ImportOutcome, Imported,
};

/// The tag every secret Slipway creates carries, with the request that created it.
pub(crate) const REQUEST_TAG: &str = "slipway:request";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum SecretStore {
    /// AWS Secrets Manager: $0.40 a month per secret.
    SecretsManager,
    /// SSM Parameter Store, a standard `SecureString` parameter: no monthly charge.
    ParameterStore,
}

impl SecretStore {
    pub fn label(self) -> &'static str {
        match self {
            Self::SecretsManager => "Secrets Manager",
            Self::ParameterStore => "Parameter Store",
        }
    }

    /// What keeping one secret there costs a month, in US dollars (AWS's list price).
    pub fn monthly_usd(self) -> f64 {
        match self {
            Self::SecretsManager => 0.40,
            Self::ParameterStore => 0.0,
        }
    }
}

/// A secret as lists show it: never its value.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SecretSummary {
    pub name: String,
    /// What `slipway.toml` (and a task definition) names it by.
    pub arn: String,
    pub store: SecretStore,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct NewSecret {
    pub name: String,
    pub store: SecretStore,
    pub value: Secret,
    pub description: Option<String>,
}

/// Every secret of the connection's region in both stores, sorted by name.
pub async fn list_secrets(conn: &Connection) -> Result<Vec<SecretSummary>> {
    let manager = aws_sdk_secretsmanager::Client::new(&conn.ctx.sdk);
    let mut found = Vec::new();
    let mut pages = manager.list_secrets().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify(&conn.ctx, "secretsmanager:ListSecrets", e))?;
        found.extend(page.secret_list().iter().filter_map(|s| {
            Some(SecretSummary {
                name: s.name()?.to_owned(),
                arn: s.arn()?.to_owned(),
                store: SecretStore::SecretsManager,
                description: s.description().map(str::to_owned),
            })
        }));
    }
    let ssm = aws_sdk_ssm::Client::new(&conn.ctx.sdk);
    let secure = ParameterStringFilter::builder()
        .key("Type")
        .option("Equals")
        .values("SecureString")
        .build()
        .map_err(|e| EngineError::Internal(format!("a parameter filter: {e}")))?;
    let mut pages = ssm
        .describe_parameters()
        .parameter_filters(secure)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify(&conn.ctx, "ssm:DescribeParameters", e))?;
        found.extend(page.parameters().iter().filter_map(|p| {
            let name = p.name()?.to_owned();
            Some(SecretSummary {
                arn: p
                    .arn()
                    .map(str::to_owned)
                    .unwrap_or_else(|| parameter_arn(conn, &name)),
                name,
                store: SecretStore::ParameterStore,
                description: p.description().map(str::to_owned),
            })
        }));
    }
    found.sort_by(|a, b| a.name.cmp(&b.name).then(a.arn.cmp(&b.arn)));
    Ok(found)
}

/// Creates the secret; an existing one of that name is refused (updating is a separate,
/// deliberate act), unless this very request made it and only its answer was lost.
pub async fn create_secret(conn: &Connection, new: &NewSecret) -> Result<SecretSummary> {
    check_name(new.store, &new.name)?;
    if new.value.expose().is_empty() {
        return Err(EngineError::InvalidInput {
            what: "The secret's value".into(),
            reason: "it is empty".into(),
        });
    }
    let request = request_id();
    let description = new.description.clone().filter(|d| !d.trim().is_empty());
    match new.store {
        SecretStore::SecretsManager => {
            let manager = aws_sdk_secretsmanager::Client::new(&conn.ctx.sdk);
            let tag = SecretTag::builder()
                .key(REQUEST_TAG)
                .value(&request)
                .build();
            let created = manager
                .create_secret()
                .name(&new.name)
                .secret_string(new.value.expose())
                .set_description(description.clone())
                .tags(tag)
                .send()
                .await;
            match created {
                Ok(out) => Ok(SecretSummary {
                    name: new.name.clone(),
                    arn: out.arn().unwrap_or_default().to_owned(),
                    store: new.store,
                    description,
                }),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_resource_exists_exception()) =>
                {
                    let found = manager
                        .describe_secret()
                        .secret_id(&new.name)
                        .send()
                        .await
                        .map_err(|e| classify(&conn.ctx, "secretsmanager:DescribeSecret", e))?;
                    let ours = found
                        .tags()
                        .iter()
                        .any(|t| t.key() == Some(REQUEST_TAG) && t.value() == Some(&request));
                    if !ours {
                        return Err(exists(new));
                    }
                    tracing::info!(name = %new.name, "the secret was created by this request's first try");
                    Ok(SecretSummary {
                        name: new.name.clone(),
                        arn: found.arn().unwrap_or_default().to_owned(),
                        store: new.store,
                        description,
                    })
                }
                Err(e) => Err(classify(&conn.ctx, "secretsmanager:CreateSecret", e)),
            }
        }
        SecretStore::ParameterStore => {
            let ssm = aws_sdk_ssm::Client::new(&conn.ctx.sdk);
            let tag = ParameterTag::builder()
                .key(REQUEST_TAG)
                .value(&request)
                .build()
                .map_err(|e| EngineError::Internal(format!("a parameter tag: {e}")))?;
            let put = ssm
                .put_parameter()
                .name(&new.name)
                .value(new.value.expose())
                .r#type(ParameterType::SecureString)
                .set_description(description.clone())
                .overwrite(false)
                .tags(tag)
                .send()
                .await;
            match put {
                Ok(_) => {}
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_parameter_already_exists()) =>
                {
                    let tags = ssm
                        .list_tags_for_resource()
                        .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::Parameter)
                        .resource_id(&new.name)
                        .send()
                        .await
                        .map_err(|e| classify(&conn.ctx, "ssm:ListTagsForResource", e))?;
                    let ours = tags
                        .tag_list()
                        .iter()
                        .any(|t| t.key() == REQUEST_TAG && t.value() == request);
                    if !ours {
                        return Err(exists(new));
                    }
                    tracing::info!(name = %new.name, "the parameter was created by this request's first try");
                }
                Err(e) => return Err(classify(&conn.ctx, "ssm:PutParameter", e)),
            }
            Ok(SecretSummary {
                arn: parameter_arn(conn, &new.name),
                name: new.name.clone(),
                store: new.store,
                description,
            })
        }
    }
}

/// Replaces the value of an existing secret (the name or ARN as listed).
pub async fn update_secret(
    conn: &Connection,
    store: SecretStore,
    name: &str,
    value: &Secret,
) -> Result<SecretSummary> {
    if value.expose().is_empty() {
        return Err(EngineError::InvalidInput {
            what: "The secret's value".into(),
            reason: "it is empty".into(),
        });
    }
    let missing = || EngineError::InvalidInput {
        what: format!("The secret \"{name}\""),
        reason: format!(
            "there is none by that name in {} ({}); create it first",
            store.label(),
            conn.ctx.region
        ),
    };
    match store {
        SecretStore::SecretsManager => {
            let manager = aws_sdk_secretsmanager::Client::new(&conn.ctx.sdk);
            let out = manager
                .put_secret_value()
                .secret_id(name)
                .secret_string(value.expose())
                .send()
                .await
                .map_err(|e| {
                    if e.as_service_error()
                        .is_some_and(|s| s.is_resource_not_found_exception())
                    {
                        missing()
                    } else {
                        classify(&conn.ctx, "secretsmanager:PutSecretValue", e)
                    }
                })?;
            Ok(SecretSummary {
                name: out.name().unwrap_or(name).to_owned(),
                arn: out.arn().unwrap_or_default().to_owned(),
                store,
                description: None,
            })
        }
        SecretStore::ParameterStore => {
            let ssm = aws_sdk_ssm::Client::new(&conn.ctx.sdk);
            // Only an existing parameter: an update never creates one by a typo'd name.
            let existing = ssm.get_parameter().name(name).send().await.map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_parameter_not_found())
                {
                    missing()
                } else {
                    classify(&conn.ctx, "ssm:GetParameter", e)
                }
            })?;
            let found = existing.parameter();
            // Only a SecureString: a plain parameter is not made secret behind its owner's back.
            if found.and_then(|p| p.r#type()) != Some(&ParameterType::SecureString) {
                return Err(EngineError::InvalidInput {
                    what: format!("The parameter \"{name}\""),
                    reason: "it is not a SecureString; Slipway only updates secret parameters"
                        .into(),
                });
            }
            let arn = found.and_then(|p| p.arn()).map(str::to_owned);
            let name = found.and_then(|p| p.name()).unwrap_or(name).to_owned();
            ssm.put_parameter()
                .name(&name)
                .value(value.expose())
                .r#type(ParameterType::SecureString)
                .overwrite(true)
                .send()
                .await
                .map_err(|e| classify(&conn.ctx, "ssm:PutParameter", e))?;
            Ok(SecretSummary {
                arn: arn.unwrap_or_else(|| parameter_arn(conn, &name)),
                name,
                store,
                description: None,
            })
        }
    }
}

fn exists(new: &NewSecret) -> EngineError {
    EngineError::InvalidInput {
        what: format!("The secret \"{}\"", new.name),
        reason: format!(
            "{} already has one by that name; use that one (pick it as an existing secret), or choose another name",
            new.store.label()
        ),
    }
}

/// A parameter's ARN, as a task definition names it.
pub(crate) fn parameter_arn(conn: &Connection, name: &str) -> String {
    let partition = conn
        .identity
        .arn
        .split(':')
        .nth(1)
        .filter(|p| !p.is_empty())
        .unwrap_or("aws");
    format!(
        "arn:{partition}:ssm:{}:{}:parameter/{}",
        conn.ctx.region,
        conn.identity.account,
        name.trim_start_matches('/')
    )
}

/// The names each store accepts, checked before any call.
pub(crate) fn check_name(store: SecretStore, name: &str) -> Result<()> {
    let (ok, rule) = match store {
        SecretStore::SecretsManager => (
            !name.is_empty()
                && name.len() <= 512
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c)),
            "letters, digits and / _ + = . @ - (512 at most)",
        ),
        SecretStore::ParameterStore => (
            !name.is_empty()
                && name.len() <= 1011
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/_.-".contains(c))
                && !name.to_ascii_lowercase().trim_start_matches('/').starts_with("aws")
                && !name.to_ascii_lowercase().trim_start_matches('/').starts_with("ssm")
                // A path names its levels from the root: "/app/key", not "app/key".
                && (!name.contains('/') || name.starts_with('/'))
                && name.matches('/').count() <= 15,
            "letters, digits and / _ . - (not starting with aws or ssm; a path starts with / and has at most 15 levels)",
        ),
    };
    if ok {
        Ok(())
    } else {
        Err(EngineError::InvalidInput {
            what: format!("The name \"{name}\""),
            reason: format!("{} names use {rule}", store.label()),
        })
    }
}

pub(crate) fn request_id() -> String {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).expect("the OS has a random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_as_each_store_checks_them() {
        assert!(check_name(SecretStore::SecretsManager, "app/database-url").is_ok());
        assert!(check_name(SecretStore::SecretsManager, "has space").is_err());
        // Common names: a hyphenated app and a path.
        assert!(check_name(SecretStore::SecretsManager, "hello-site/api-secret").is_ok());
        assert!(check_name(SecretStore::ParameterStore, "/app/db_url").is_ok());
        assert!(check_name(SecretStore::ParameterStore, "/aws/reserved").is_err());
        assert!(check_name(SecretStore::ParameterStore, "a+b").is_err());
        assert!(
            check_name(SecretStore::ParameterStore, "app/key").is_err(),
            "a path starts with /"
        );
        assert!(check_name(SecretStore::ParameterStore, "plain_name").is_ok());
    }

    #[test]
    fn the_price_of_keeping_one_is_known_for_each_store() {
        assert_eq!(SecretStore::SecretsManager.monthly_usd(), 0.40);
        assert_eq!(SecretStore::ParameterStore.monthly_usd(), 0.0);
    }
}
