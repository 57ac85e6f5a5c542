//! `slipway aws`: the profiles on this computer, who credentials belong to, adding an
//! access-key profile (the secret read from stdin, never from an argument), and the
//! saved endpoint override for emulators.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::SystemTime;

use clap::{Args, Subcommand};
use slipway_aws::aws::sign_in::{SignInMethod, SsoAccount};
use slipway_aws::aws::{
    add_access_key_profile, read_profiles, request_for_profile, save_sso_profile, sign_in, whoami,
    AwsProfiles, AwsTarget, CredentialSource, NewAccessKeyProfile, NewSsoProfile, ProfileKind,
    Secret, SsoSignInEvent, SsoSignInRequest,
};
use slipway_core::host::HostEnv;
use slipway_core::jobs::Cancel;
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
    /// Sign in with AWS SSO (IAM Identity Center) in the browser, or with a code, and save
    /// the account and role as a profile the AWS CLI and SDKs can use too.
    SsoLogin(SsoLoginArgs),
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
pub struct SsoLoginArgs {
    /// The profile: an SSO profile to sign in again, or a new one to add (with --start-url).
    profile: String,
    /// The AWS access portal's address (https://NAME.awsapps.com/start), for a new profile.
    #[arg(long, requires = "sso_region")]
    start_url: Option<String>,
    /// The region IAM Identity Center runs in, for a new profile.
    #[arg(long, requires = "start_url")]
    sso_region: Option<String>,
    /// The account: its 12-digit ID or its name (needed when there are several).
    #[arg(long, requires = "start_url")]
    account: Option<String>,
    /// The role (permission set) to take in it (needed when there are several).
    #[arg(long, requires = "start_url")]
    role: Option<String>,
    /// The region apps run in (default: the SSO region).
    #[arg(long, requires = "start_url")]
    region: Option<String>,
    /// Sign in with a code confirmed on a page you may open on any device, instead of this
    /// computer's browser.
    #[arg(long)]
    code: bool,
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
            let secret = match read_secret("Secret access key") {
                Ok(secret) => secret,
                Err(e) => return fail("aws add-profile", &e, as_json),
            };
            let request = NewAccessKeyProfile {
                name: args.name,
                access_key_id: args.access_key_id,
                secret_access_key: secret,
                region: args.region,
            };
            let added = add_access_key_profile(&host, &request);
            report_profile("aws add-profile", "added profile", added, as_json)
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
        AwsCommand::SsoLogin(args) => {
            let signed_in = sso_login(&host, args).await;
            report_profile("aws sso-login", "signed in as profile", signed_in, as_json)
        }
    }
}

/// A profile a verb wrote or signed in: as JSON, or `done NAME in FILES`.
fn report_profile(
    verb: &str,
    done: &str,
    result: Result<slipway_aws::aws::AwsProfile, EngineError>,
    as_json: bool,
) -> ExitCode {
    match result {
        Ok(profile) if as_json => {
            json(&profile);
            ExitCode::SUCCESS
        }
        Ok(profile) => {
            let files = profile.defined_in.join(" and ");
            line(Mark::Ok, format!("{done} {} in {files}", profile.name));
            ExitCode::SUCCESS
        }
        Err(e) => fail(verb, &e, as_json),
    }
}

/// Signs in (the address or code on stderr, so stdout stays the result). A new profile is
/// then saved with the chosen account and role; an existing one only gets a fresh session.
async fn sso_login(
    host: &HostEnv,
    args: SsoLoginArgs,
) -> Result<slipway_aws::aws::AwsProfile, EngineError> {
    let method = if args.code {
        SignInMethod::Code
    } else {
        SignInMethod::Browser
    };
    let again = args.start_url.is_none();
    let request = match (args.start_url, args.sso_region) {
        (Some(start_url), Some(sso_region)) => SsoSignInRequest {
            start_url,
            sso_region,
            method,
            session: None,
        },
        _ => {
            let mut request = request_for_profile(host, &args.profile).ok_or_else(|| EngineError::InvalidInput {
                what: format!("The profile \"{}\"", args.profile),
                reason: "it is not an SSO profile on this computer; give --start-url and --sso-region to add it".into(),
            })?;
            request.method = method;
            request
        }
    };
    let say = |event: SsoSignInEvent| match event {
        SsoSignInEvent::OpenBrowser { url } => {
            eprintln!("Open this address in your browser to sign in (Slipway waits for it):\n{url}")
        }
        SsoSignInEvent::ConfirmCode { url, user_code, .. } => {
            eprintln!("Open {url} on any device and check that it shows the code {user_code}, then allow it.")
        }
        SsoSignInEvent::Finishing => eprintln!("Signed in; listing your accounts…"),
    };
    let signed_in = sign_in(host, &request, &say, &Cancel::new(), SystemTime::now()).await?;
    if again {
        return read_profiles(host)
            .get(&args.profile)
            .cloned()
            .ok_or_else(|| EngineError::Internal(format!("the profile {} is gone", args.profile)));
    }
    let account = pick_account(&signed_in.accounts, args.account.as_deref())?;
    let role = pick_one("role", &account.roles, args.role.as_deref())?;
    save_sso_profile(
        host,
        &NewSsoProfile {
            name: args.profile,
            session_name: signed_in.session_name,
            start_url: signed_in.start_url,
            sso_region: signed_in.sso_region,
            account_id: account.account_id.clone(),
            role_name: role,
            region: args.region,
        },
    )
}

fn pick_account<'a>(
    accounts: &'a [SsoAccount],
    wanted: Option<&str>,
) -> Result<&'a SsoAccount, EngineError> {
    let names: Vec<String> = accounts
        .iter()
        .map(|a| format!("{} ({})", a.name, a.account_id))
        .collect();
    let found = match wanted {
        Some(w) => accounts
            .iter()
            .find(|a| a.account_id == w || a.name.eq_ignore_ascii_case(w)),
        None if accounts.len() == 1 => accounts.first(),
        None => None,
    };
    found.ok_or_else(|| EngineError::InvalidInput {
        what: "--account".into(),
        reason: match (wanted, names.is_empty()) {
            (_, true) => {
                "this sign-in may enter no account; ask your administrator for access".into()
            }
            (Some(w), false) => {
                format!("\"{w}\" is not one of your accounts: {}", names.join(", "))
            }
            (None, false) => format!("choose one of your accounts: {}", names.join(", ")),
        },
    })
}

fn pick_one(what: &str, choices: &[String], wanted: Option<&str>) -> Result<String, EngineError> {
    match wanted {
        Some(w) if choices.iter().any(|c| c == w) => Ok(w.to_owned()),
        None if choices.len() == 1 => Ok(choices[0].clone()),
        _ => Err(EngineError::InvalidInput {
            what: format!("--{what}"),
            reason: if choices.is_empty() {
                "this account offers you no role; ask your administrator for access".into()
            } else {
                format!("choose one of: {}", choices.join(", "))
            },
        }),
    }
}

/// A secret from stdin: hidden when typed at a terminal, one line when piped.
pub(crate) fn read_secret(prompt: &str) -> Result<Secret, EngineError> {
    read_hidden(prompt).map(Secret::new)
}

/// A line from stdin, hidden when typed at a terminal, trimmed.
pub(crate) fn read_hidden(prompt: &str) -> Result<String, EngineError> {
    let stdin = std::io::stdin();
    let text = if stdin.is_terminal() {
        eprint!("{prompt} (hidden): ");
        let _ = std::io::stderr().flush();
        rpassword::read_password().map_err(|e| EngineError::InvalidInput {
            what: prompt.into(),
            reason: e.to_string(),
        })?
    } else {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| EngineError::InvalidInput {
                what: prompt.into(),
                reason: e.to_string(),
            })?;
        line
    };
    Ok(text.trim().to_owned())
}

/// The connection `target` names; without `--endpoint-url`, Slipway's saved override.
pub(crate) async fn connect_target(
    host: &HostEnv,
    mut target: TargetArgs,
    verb: &str,
    as_json: bool,
) -> Result<slipway_aws::aws::Connection, ExitCode> {
    if target.endpoint_url.is_none() {
        match settings::load(host) {
            Ok(saved) => target.endpoint_url = saved.aws_endpoint_url,
            Err(e) => return Err(fail(verb, &e, as_json)),
        }
    }
    slipway_aws::aws::connect(host, &target.target(), SystemTime::now())
        .await
        .map_err(|e| fail(verb, &e, as_json))
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
        ProfileKind::ConsoleSignIn => "console sign-in",
        ProfileKind::AssumeRole => "assume role",
        ProfileKind::CredentialProcess => "credential process",
        ProfileKind::WebIdentity => "web identity",
        ProfileKind::NoCredentials => "no credentials",
    }
}
