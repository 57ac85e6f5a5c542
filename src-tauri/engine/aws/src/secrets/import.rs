//! Importing a `.env` file: one secret per variable, named after the app and the variable.
//! Everything that can be checked is checked before the first call (the file's lines, the
//! names, the values, the project file as it will be). The CLI then names the secrets in
//! `slipway.toml` itself; the window adds them to the settings it is editing. A refusal
//! midway keeps what was created named, so no secret is left on AWS unaccounted for.

use std::path::Path;

use serde::Serialize;

use super::{check_name, create_secret, parameter_arn, NewSecret, SecretStore, SecretSummary};
use crate::aws::{Connection, Secret};
use slipway_core::error::{EngineError, Result};
use slipway_core::project::{self, KeyValue, ProjectConfig};

/// A variable of the file, and the secret it now comes from.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Imported {
    pub variable: String,
    pub secret: SecretSummary,
}

/// What an import made, and where it stopped when AWS refused one.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ImportOutcome {
    pub imported: Vec<Imported>,
    /// Why the import stopped before the end (the variable and AWS's refusal), if it did.
    pub stopped: Option<String>,
}

/// The name a variable's secret gets on AWS: `APP/VARIABLE` in lower case (`/APP/…`, a
/// path, in Parameter Store). The window proposes the same.
pub fn secret_name_for(app: &str, variable: &str, store: SecretStore) -> String {
    let slug: String = variable
        .to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let name = format!("{app}/{}", if slug.is_empty() { "secret" } else { &slug });
    match store {
        SecretStore::SecretsManager => name,
        SecretStore::ParameterStore => format!("/{name}"),
    }
}

/// The variables of a `.env` file, or every line that is not one (and nothing else).
pub fn read_env_file(path: &Path) -> Result<Vec<(String, Secret)>> {
    let text = slipway_core::user_files::read_text(path, 1024 * 1024)?.ok_or_else(|| {
        EngineError::InvalidInput {
            what: path.display().to_string(),
            reason: "there is no such file".into(),
        }
    })?;
    match slipway_core::dotenv::parse(&text) {
        Ok(entries) => Ok(entries
            .into_iter()
            .map(|(k, v)| (k, Secret::new(v)))
            .collect()),
        Err(problems) => {
            let lines: Vec<String> = problems
                .iter()
                .map(|(n, p)| format!("line {n}: {p}"))
                .collect();
            Err(EngineError::InvalidInput {
                what: path.display().to_string(),
                reason: format!("{}; nothing was created", lines.join("; ")),
            })
        }
    }
}

/// Creates the secrets for `entries` as the project `config` will name them, stopping at
/// the first refusal.
pub async fn create_for(
    conn: &Connection,
    config: &ProjectConfig,
    entries: Vec<(String, Secret)>,
    store: SecretStore,
) -> Result<ImportOutcome> {
    let plan = plan(conn, config, entries, store)?;
    let mut imported = Vec::new();
    for (variable, new) in &plan {
        match create_secret(conn, new).await {
            Ok(secret) => imported.push(Imported {
                variable: variable.clone(),
                secret,
            }),
            Err(e) => {
                return Ok(ImportOutcome {
                    imported,
                    stopped: Some(format!("{variable}: {e}")),
                })
            }
        }
    }
    tracing::info!(count = imported.len(), "imported secrets");
    Ok(ImportOutcome {
        imported,
        stopped: None,
    })
}

/// The CLI's import: creates the secrets and names them in the saved `slipway.toml` in
/// `dir` (once, even after a refusal midway, which is then the error).
pub async fn import_secrets(
    conn: &Connection,
    dir: &Path,
    entries: Vec<(String, Secret)>,
    store: SecretStore,
) -> Result<Vec<Imported>> {
    let (dir, mut config) = project::open_saved(dir)?;
    let outcome = create_for(conn, &config, entries, store).await?;
    for item in &outcome.imported {
        name_in(&mut config.secrets, &item.variable, item.secret.arn.clone());
    }
    if !outcome.imported.is_empty() {
        project::save(&dir, &config)?;
    }
    let Some(stopped) = outcome.stopped else {
        return Ok(outcome.imported);
    };
    let made: Vec<&str> = outcome
        .imported
        .iter()
        .map(|i| i.variable.as_str())
        .collect();
    Err(EngineError::InvalidInput {
        what: "The import".into(),
        reason: if made.is_empty() {
            format!("it stopped at {stopped} Nothing was created.")
        } else {
            format!(
                "it stopped at {stopped} Created before it, and named in slipway.toml: {}.",
                made.join(", ")
            )
        },
    })
}

/// The secrets to create, after every check that needs no call.
fn plan(
    conn: &Connection,
    config: &ProjectConfig,
    entries: Vec<(String, Secret)>,
    store: SecretStore,
) -> Result<Vec<(String, NewSecret)>> {
    if entries.is_empty() {
        return Err(EngineError::InvalidInput {
            what: "The file".into(),
            reason: "it has no variables".into(),
        });
    }
    let mut prospective = config.clone();
    let mut plan = Vec::new();
    for (variable, value) in entries {
        let name = secret_name_for(&config.name, &variable, store);
        check_name(store, &name)?;
        if value.expose().is_empty() {
            return Err(EngineError::InvalidInput {
                what: format!("The value of {variable}"),
                reason: "it is empty; nothing was created".into(),
            });
        }
        // The project file as it will be, with ARNs of the real shapes.
        let arn = match store {
            SecretStore::SecretsManager => format!(
                "arn:aws:secretsmanager:{}:{}:secret:{name}-AbCdEf",
                conn.ctx.region, conn.identity.account
            ),
            SecretStore::ParameterStore => parameter_arn(conn, &name),
        };
        name_in(&mut prospective.secrets, &variable, arn);
        let description = Some(format!("{variable} of {}", config.name));
        plan.push((
            variable,
            NewSecret {
                name,
                store,
                value,
                description,
            },
        ));
    }
    let problems = project::validate(&prospective);
    if !problems.is_empty() {
        return Err(EngineError::InvalidProjectConfig { problems });
    }
    Ok(plan)
}

/// Sets `variable`'s row of `secrets` to `arn`, adding it when missing.
fn name_in(secrets: &mut Vec<KeyValue>, variable: &str, arn: String) {
    match secrets.iter_mut().find(|row| row.name == variable) {
        Some(row) => row.value = arn,
        None => secrets.push(KeyValue {
            name: variable.to_owned(),
            value: arn,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variable_names_its_secret_after_the_app() {
        let name = |v, s| secret_name_for("hello-site", v, s);
        assert_eq!(
            name("DATABASE_URL", SecretStore::SecretsManager),
            "hello-site/database-url"
        );
        assert_eq!(
            name("API__TOKEN", SecretStore::ParameterStore),
            "/hello-site/api-token"
        );
        assert_eq!(name("_", SecretStore::SecretsManager), "hello-site/secret");
    }
}
