//! Printing for people and for machines, shared by every verb.

use serde::Serialize;

pub fn json<T: Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("engine types always serialize")
    );
}

/// A line with a status mark: ✔ ready, ✘ a problem, · neutral information.
pub fn line(mark: Mark, text: impl AsRef<str>) {
    let sign = match mark {
        Mark::Ok => "✔",
        Mark::Problem => "✘",
        Mark::Info => "·",
    };
    println!("  {sign} {}", text.as_ref());
}

pub fn heading(text: &str) {
    println!("\n{text}");
}

#[derive(Clone, Copy)]
pub enum Mark {
    Ok,
    Problem,
    Info,
}

/// Reports an engine error: the sentence on stderr, and `{ "error": { code, message } }` on
/// stdout with `--json`. Exit code 130 for a cancellation (Ctrl-C), 1 otherwise.
pub fn fail(verb: &str, err: &slipway_core::EngineError, as_json: bool) -> std::process::ExitCode {
    let message = match next_step(err) {
        Some(step) => format!("{err} {step}"),
        None => err.to_string(),
    };
    if as_json {
        json(&serde_json::json!({ "error": { "code": err.code(), "message": message } }));
    }
    eprintln!("slipway {verb}: {message}");
    if let slipway_core::EngineError::BuildFailed { output, .. } = err {
        if !as_json && !output.is_empty() {
            eprintln!("\nOutput of the failing step:");
            for l in output {
                eprintln!("  | {l}");
            }
        }
    }
    if err.code() == slipway_core::ErrorCode::Cancelled {
        std::process::ExitCode::from(130)
    } else {
        std::process::ExitCode::from(1)
    }
}

/// One JSON object per line, for streams of events (`--json` on long verbs).
pub fn json_line<T: Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string(value).expect("engine types always serialize")
    );
}

/// A token cancelled by Ctrl-C, so a long verb stops cleanly.
/// A cancel token that Ctrl-C (SIGINT) and, on Unix, SIGTERM (a terminal closed, a CI
/// job stopped, `kill`) trip, so the work in progress stops cleanly and undoes what it
/// started instead of dying mid-way.
pub fn cancel_on_ctrl_c() -> slipway_core::jobs::Cancel {
    let cancel = slipway_core::jobs::Cancel::new();
    let on_ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });
    #[cfg(unix)]
    {
        let on_term = cancel.clone();
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::spawn(async move {
                if term.recv().await.is_some() {
                    on_term.cancel();
                }
            });
        }
    }
    cancel
}

/// The saved project in `dir` connected to AWS, or the exit code after the error is
/// reported (what every AWS verb does first).
pub async fn connected(
    host: &slipway_core::host::HostEnv,
    dir: &std::path::Path,
    endpoint_url: Option<String>,
    verb: &str,
    as_json: bool,
) -> Result<
    (
        slipway_core::project::ProjectConfig,
        slipway_aws::aws::Connection,
    ),
    std::process::ExitCode,
> {
    slipway_aws::setup::connect_project(host, dir, endpoint_url, std::time::SystemTime::now())
        .await
        .map_err(|e| fail(verb, &e, as_json))
}

/// The CLI's next action for an error, as a verb to run; the engine's message says what is
/// wrong in domain words (the window adds its own).
fn next_step(err: &slipway_core::EngineError) -> Option<String> {
    use slipway_core::EngineError;
    let step = match err {
        EngineError::SetupNeeded { .. } => {
            "Run `slipway setup --apply` first (`slipway setup` shows what it will create)."
                .to_owned()
        }
        EngineError::ProjectNotInitialised { .. } => "Run `slipway init` to make one.".to_owned(),
        EngineError::ProfileNotFound { profile, .. } => {
            format!("`aws configure --profile {profile}` adds it.")
        }
        EngineError::NoCredentials { .. } => "`aws configure` adds an access key.".to_owned(),
        EngineError::SsoSessionExpired { profile, .. } => {
            format!("Run `slipway aws sso-login {profile}` to sign in again.")
        }
        _ => return None,
    };
    Some(step)
}
