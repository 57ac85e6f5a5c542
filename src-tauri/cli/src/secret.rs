//! `slipway secret`: the values an app reads at start, kept in AWS Secrets Manager or as
//! Parameter Store SecureString parameters in the project's account and region. A value is
//! read from stdin (hidden when typed), never from an argument, and never printed.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use slipway_aws::aws::Secret;
use slipway_aws::secrets::{
    create_secret, import_secrets, list_secrets, read_env_file, update_secret, NewSecret,
    SecretStore, SecretSummary,
};
use slipway_core::host::HostEnv;
use slipway_core::EngineError;

use crate::output::{connected, fail, json, line, Mark};

#[derive(Subcommand)]
pub enum SecretCommand {
    /// List the secrets of the project's account and region (names and ARNs, never values).
    List(Where),
    /// Create a secret; its value is read from stdin. Prints the ARN to put in slipway.toml.
    Create(CreateArgs),
    /// Replace an existing secret's value, read from stdin.
    Update(UpdateArgs),
    /// Create a secret for each variable of a .env file (named APP/VARIABLE) and name them
    /// all in slipway.toml's [secrets]. Values are never printed.
    Import(ImportArgs),
}

#[derive(Args)]
pub struct ImportArgs {
    /// The .env file (KEY=value lines).
    file: PathBuf,
    /// Keep them in Parameter Store (free) instead of Secrets Manager ($0.40 a month each).
    #[arg(long)]
    parameter_store: bool,
    #[command(flatten)]
    place: Where,
}

#[derive(Args)]
pub struct Where {
    /// The project folder whose AWS settings to use (default: the current folder).
    #[arg(long)]
    project: Option<PathBuf>,
    /// Send AWS calls here instead of the saved override or AWS (an emulator).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
}

#[derive(Args)]
pub struct CreateArgs {
    name: String,
    /// Keep it in Parameter Store (a SecureString, no monthly charge) instead of Secrets
    /// Manager ($0.40 a month).
    #[arg(long)]
    parameter_store: bool,
    #[arg(long)]
    description: Option<String>,
    #[command(flatten)]
    place: Where,
}

#[derive(Args)]
pub struct UpdateArgs {
    /// The secret's name or ARN, as `slipway secret list` shows it.
    name: String,
    /// It is a Parameter Store parameter.
    #[arg(long)]
    parameter_store: bool,
    #[command(flatten)]
    place: Where,
}

pub async fn run(command: SecretCommand, as_json: bool) -> ExitCode {
    let host = HostEnv::from_process();
    match command {
        SecretCommand::List(place) => {
            let dir = place.project.unwrap_or_else(|| PathBuf::from("."));
            let (_, conn) =
                match connected(&host, &dir, place.endpoint_url, "secret list", as_json).await {
                    Ok(found) => found,
                    Err(code) => return code,
                };
            match list_secrets(&conn).await {
                Ok(secrets) if as_json => {
                    json(&secrets);
                    ExitCode::SUCCESS
                }
                Ok(secrets) => {
                    if secrets.is_empty() {
                        line(Mark::Info, format!("no secrets in {}", conn.ctx.region));
                    }
                    for secret in &secrets {
                        line(
                            Mark::Info,
                            format!("{} ({}): {}", secret.name, secret.store.label(), secret.arn),
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail("secret list", &e, as_json),
            }
        }
        SecretCommand::Create(args) => {
            let store = store(args.parameter_store);
            let dir = args.place.project.unwrap_or_else(|| PathBuf::from("."));
            let value = match read_value() {
                Ok(value) => value,
                Err(e) => return fail("secret create", &e, as_json),
            };
            let (_, conn) = match connected(
                &host,
                &dir,
                args.place.endpoint_url,
                "secret create",
                as_json,
            )
            .await
            {
                Ok(found) => found,
                Err(code) => return code,
            };
            let new = NewSecret {
                name: args.name,
                store,
                value,
                description: args.description,
            };
            match create_secret(&conn, &new).await {
                Ok(secret) => done(&secret, "created", as_json),
                Err(e) => fail("secret create", &e, as_json),
            }
        }
        SecretCommand::Import(args) => import(&host, args, as_json).await,
        SecretCommand::Update(args) => {
            let store = store(args.parameter_store);
            let dir = args.place.project.unwrap_or_else(|| PathBuf::from("."));
            let value = match read_value() {
                Ok(value) => value,
                Err(e) => return fail("secret update", &e, as_json),
            };
            let (_, conn) = match connected(
                &host,
                &dir,
                args.place.endpoint_url,
                "secret update",
                as_json,
            )
            .await
            {
                Ok(found) => found,
                Err(code) => return code,
            };
            match update_secret(&conn, store, &args.name, &value).await {
                Ok(secret) => done(&secret, "updated", as_json),
                Err(e) => fail("secret update", &e, as_json),
            }
        }
    }
}

async fn import(host: &HostEnv, args: ImportArgs, as_json: bool) -> ExitCode {
    let store = store(args.parameter_store);
    let entries = match read_env_file(&args.file) {
        Ok(entries) => entries,
        Err(e) => return fail("secret import", &e, as_json),
    };
    let dir = args.place.project.unwrap_or_else(|| PathBuf::from("."));
    let (_, conn) = match connected(
        host,
        &dir,
        args.place.endpoint_url,
        "secret import",
        as_json,
    )
    .await
    {
        Ok(found) => found,
        Err(code) => return code,
    };
    match import_secrets(&conn, &dir, entries, store).await {
        Ok(imported) if as_json => {
            json(&imported);
            ExitCode::SUCCESS
        }
        Ok(imported) => {
            for item in &imported {
                line(
                    Mark::Ok,
                    format!(
                        "{} from {} ({})",
                        item.variable, item.secret.name, item.secret.arn
                    ),
                );
            }
            let monthly = store.monthly_usd() * imported.len() as f64;
            line(
                Mark::Info,
                format!(
                    "named in slipway.toml's [secrets]; {} costs ${monthly:.2} a month",
                    store.label()
                ),
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail("secret import", &e, as_json),
    }
}

fn store(parameter_store: bool) -> SecretStore {
    if parameter_store {
        SecretStore::ParameterStore
    } else {
        SecretStore::SecretsManager
    }
}

fn done(secret: &SecretSummary, what: &str, as_json: bool) -> ExitCode {
    if as_json {
        json(secret);
    } else {
        line(
            Mark::Ok,
            format!("{what} {} in {}", secret.name, secret.store.label()),
        );
        line(
            Mark::Info,
            format!("ARN for slipway.toml's [secrets]: {}", secret.arn),
        );
        let monthly = secret.store.monthly_usd();
        if monthly > 0.0 {
            line(
                Mark::Info,
                format!("it costs ${monthly:.2} a month while it exists"),
            );
        }
    }
    ExitCode::SUCCESS
}

/// The value: hidden when typed at a terminal (one line), else all of stdin without its
/// final line break (so a PEM key or a JSON document arrives whole).
fn read_value() -> Result<Secret, EngineError> {
    if std::io::stdin().is_terminal() {
        return crate::aws::read_secret("Value");
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| EngineError::InvalidInput {
            what: "The value on stdin".into(),
            reason: e.to_string(),
        })?;
    let text = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(&text);
    Ok(Secret::new(text.to_owned()))
}
