//! `slipway aws`: the profiles on this computer, who credentials belong to, adding an
//! access-key profile (the secret read from stdin, never from an argument), and the
//! saved endpoint override for emulators.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::SystemTime;

use clap::{Args, Subcommand};
use slipway_aws::aws::{
    add_access_key_profile, read_profiles, whoami, AwsProfiles, AwsTarget, CredentialSource,
    NewAccessKeyProfile, ProfileKind, Secret,
};
use slipway_core::host::HostEnv;
use slipway_core::settings::{self, AppSettings};
use slipway_core::EngineError;

use crate::output::{fail, json, line, Mark};

#[derive(Subcommand)]
pub enum AwsCommand {
    /// List the AWS CLI profiles on this computer (SSO profiles included).
    Profiles,
    /// Show the account, ARN and region the credentials belong to.
    Whoami(TargetArgs),
    /// Add a named access-key profile to the AWS CLI's files (owner-only). The secret
    /// access key is read from stdin (hidden when typed), never from the command line.
    AddProfile(AddProfileArgs),
    /// Show or set the endpoint override used for every AWS call (an emulator).
    Endpoint(EndpointArgs),
}

/// Whose credentials to use: shared by every verb that asks AWS who you are.
#[derive(Args)]
pub struct TargetArgs {
    /// The AWS profile (default: AWS_PROFILE, else "default").
    #[arg(long, conflicts_with = "env_credentials")]
    profile: Option<String>,
    /// Use the environment's credentials (AWS_ACCESS_KEY_ID...) instead of a profile.
    #[arg(long)]
    env_credentials: bool,
    /// The region (default: the profile's region).
    #[arg(long)]
    region: Option<String>,
    /// Send AWS calls to this endpoint instead of AWS (an emulator such as moto or LocalStack).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

impl TargetArgs {
    pub fn target(self) -> AwsTarget {
        AwsTarget {
            source: match (self.profile, self.env_credentials) {
                (Some(name), _) => CredentialSource::Profile(name),
                (None, true) => CredentialSource::Environment,
                (None, false) => CredentialSource::Default,
            },
            region: self.region,
            endpoint_url: self.endpoint_url,
        }
    }
}

#[derive(Args)]
pub struct AddProfileArgs {
    /// The new profile's name.
    name: String,
    #[arg(long)]
    access_key_id: String,
    /// The region to save with the profile.
    #[arg(long)]
    region: Option<String>,
}

#[derive(Args)]
pub struct EndpointArgs {
    /// The endpoint to save, e.g. http://127.0.0.1:5000; omit to show the saved one.
    url: Option<String>,
    /// Remove the saved override (talk to AWS itself).
    #[arg(long, conflicts_with = "url")]
    clear: bool,
}

pub async fn run(command: AwsCommand, as_json: bool) -> ExitCode {
    let host = HostEnv::from_process();
    match command {
        AwsCommand::Profiles => {
            let profiles = read_profiles(&host);
            if as_json {
                json(&profiles);
            } else {
                print_profiles(&profiles);
            }
            ExitCode::SUCCESS
        }
        AwsCommand::Whoami(mut args) => {
            // Without a flag, the endpoint override saved in Slipway's settings applies.
            if args.endpoint_url.is_none() {
                match settings::load(&host) {
                    Ok(saved) => args.endpoint_url = saved.aws_endpoint_url,
                    Err(e) => return fail("aws whoami", &e, as_json),
                }
            }
            let target = args.target();
            match whoami(&host, &target, SystemTime::now()).await {
                Ok(identity) => {
                    if as_json {
                        json(&identity);
                    } else {
                        line(Mark::Ok, format!("account {}", identity.account));
                        line(Mark::Info, format!("as {}", identity.arn));
                        line(
                            Mark::Info,
                            format!("region {} (from {})", identity.region, identity.source),
                        );
                        if let Some(url) = &identity.endpoint_url {
                            line(Mark::Info, format!("endpoint {url} (not AWS itself)"));
                        }
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail("aws whoami", &e, as_json),
            }
        }
        AwsCommand::AddProfile(args) => {
            let secret = match read_secret() {
                Ok(secret) => secret,
                Err(e) => return fail("aws add-profile", &e, as_json),
            };
            let request = NewAccessKeyProfile {
                name: args.name,
                access_key_id: args.access_key_id,
                secret_access_key: secret,
                region: args.region,
            };
            match add_access_key_profile(&host, &request) {
                Ok(profile) => {
                    if as_json {
                        json(&profile);
                    } else {
                        line(
                            Mark::Ok,
                            format!(
                                "added profile {} to {}",
                                profile.name,
                                profile.defined_in.join(" and ")
                            ),
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail("aws add-profile", &e, as_json),
            }
        }
        AwsCommand::Endpoint(args) => {
            let result = if args.clear {
                settings::save(&host, &AppSettings::default())
            } else if let Some(url) = args.url {
                settings::save(
                    &host,
                    &AppSettings {
                        aws_endpoint_url: Some(url),
                    },
                )
            } else {
                settings::load(&host)
            };
            match result {
                Ok(saved) => {
                    if as_json {
                        json(&saved);
                    } else {
                        match &saved.aws_endpoint_url {
                            Some(url) => line(
                                Mark::Info,
                                format!("AWS calls go to {url} (an emulator), not AWS"),
                            ),
                            None => line(Mark::Info, "AWS calls go to AWS (no endpoint override)"),
                        }
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail("aws endpoint", &e, as_json),
            }
        }
    }
}

/// The secret access key from stdin: hidden when typed at a terminal, one line when piped.
fn read_secret() -> Result<Secret, EngineError> {
    let stdin = std::io::stdin();
    let text = if stdin.is_terminal() {
        eprint!("Secret access key (hidden): ");
        let _ = std::io::stderr().flush();
        rpassword::read_password().map_err(|e| EngineError::InvalidInput {
            what: "The secret access key".into(),
            reason: e.to_string(),
        })?
    } else {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| EngineError::InvalidInput {
                what: "The secret access key".into(),
                reason: e.to_string(),
            })?;
        line
    };
    Ok(Secret::new(text.trim().to_owned()))
}

/// The AWS CLI files, their problems, the profiles and environment credentials.
pub(crate) fn print_profiles(aws: &AwsProfiles) {
    for file in [&aws.config_file, &aws.credentials_file] {
        let state = if file.exists { "found" } else { "not found" };
        line(Mark::Info, format!("{} ({state})", file.path));
    }
    for problem in &aws.problems {
        line(
            Mark::Problem,
            format!(
                "{} line {}: {}",
                problem.path, problem.line, problem.problem
            ),
        );
    }
    if aws.profiles.is_empty() {
        line(
            Mark::Info,
            "no profiles: add one with `slipway aws add-profile NAME --access-key-id ID`",
        );
    }
    for profile in &aws.profiles {
        let selected = if profile.name == aws.selected_profile {
            " (selected)"
        } else {
            ""
        };
        line(
            Mark::Info,
            format!(
                "profile {}{selected}: {}, region {}",
                profile.name,
                kind_label(profile.kind),
                profile.region.as_deref().unwrap_or("not set")
            ),
        );
    }
    if let Some(env) = &aws.environment {
        line(
            Mark::Info,
            format!("environment credentials: {}", env.access_key_id),
        );
    }
}

fn kind_label(kind: ProfileKind) -> &'static str {
    match kind {
        ProfileKind::AccessKeys => "access keys",
        ProfileKind::Sso => "SSO",
        ProfileKind::AssumeRole => "assume role",
        ProfileKind::CredentialProcess => "credential process",
        ProfileKind::WebIdentity => "web identity",
        ProfileKind::NoCredentials => "no credentials",
    }
}
