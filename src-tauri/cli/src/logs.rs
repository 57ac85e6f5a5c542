//! `slipway logs`: the app's CloudWatch logs (a task's or all tasks' interleaved), searched
//! and followed, for people (time, task, message; errors marked) and as JSON lines.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use slipway_aws::logs::{self, LogEvent, LogLine, LogQuery};
use slipway_core::host::HostEnv;
use slipway_core::EngineError;
use time::OffsetDateTime;

use crate::output::{cancel_on_ctrl_c, connected, fail, json_line};

#[derive(Args)]
pub struct LogsArgs {
    /// The project folder (default: the current folder).
    #[arg(long)]
    project: Option<PathBuf>,
    /// Only this task's stream (its id, as `slipway ps` shows it).
    #[arg(long, value_name = "ID")]
    task: Option<String>,
    /// Keep printing new lines until Ctrl-C.
    #[arg(long, short)]
    follow: bool,
    /// Only lines containing this text (any case).
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// From this long ago: 90s, 15m, 2h, 7d (default 1h; with --follow, from now).
    #[arg(long, value_name = "DURATION")]
    since: Option<String>,
    /// At most this many lines, the newest (default 10000, at most 100000).
    #[arg(long)]
    limit: Option<u32>,
    /// Send AWS calls here instead of the saved override or AWS (an emulator).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
}

/// "90s", "15m", "2h", "7d" or plain seconds.
pub(crate) fn seconds(text: &str) -> Option<u32> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u32 = number.parse().ok()?;
    let factor = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(factor)
}

pub(crate) fn print(line: &LogLine, as_json: bool) {
    if as_json {
        json_line(line);
        return;
    }
    let at = OffsetDateTime::from_unix_timestamp_nanos((line.at_ms as i128) * 1_000_000)
        .map(|t| {
            format!(
                "{:02}:{:02}:{:02}.{:03}",
                t.hour(),
                t.minute(),
                t.second(),
                t.millisecond()
            )
        })
        .unwrap_or_default();
    let task: String = line.task_id.chars().take(8).collect();
    let mark = if line.error { "!" } else { " " };
    println!("{at} {task} {mark} {}", line.message);
}

pub async fn run(args: LogsArgs, as_json: bool) -> ExitCode {
    let since_seconds = match args.since.as_deref().map(|s| (s, seconds(s))) {
        None => None,
        Some((_, Some(s))) => Some(s),
        Some((text, None)) => {
            let e = EngineError::InvalidInput {
                what: "--since".into(),
                reason: format!("\"{text}\" is not a duration such as 90s, 15m, 2h or 7d"),
            };
            return fail("logs", &e, as_json);
        }
    };
    let host = HostEnv::from_process();
    let dir = args.project.unwrap_or_else(|| PathBuf::from("."));
    let (config, connection) =
        match connected(&host, &dir, args.endpoint_url, "logs", as_json).await {
            Ok(found) => found,
            Err(code) => return code,
        };
    let query = LogQuery {
        task_id: args.task,
        text: args.filter,
        since_seconds,
        until_ms: None,
        limit: args.limit,
    };
    let now = OffsetDateTime::now_utc();
    if args.follow {
        let cancel = cancel_on_ctrl_c();
        let sink = move |event: LogEvent| match event {
            LogEvent::Appended { lines } => lines.iter().for_each(|l| print(l, as_json)),
            LogEvent::PollFailed { message, .. } => {
                eprintln!("slipway logs: {message} (still following)")
            }
        };
        return match logs::follow(&connection, &config, &query, now, &sink, &cancel).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail("logs", &e, as_json),
        };
    }
    match logs::fetch(&connection, &config, &query, now).await {
        Ok(page) => {
            for line in &page.lines {
                print(line, as_json);
            }
            if page.truncated {
                eprintln!(
                    "slipway logs: more lines matched; showing the newest {} (raise --limit, or narrow --since or --filter)",
                    page.lines.len()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail("logs", &e, as_json),
    }
}

#[cfg(test)]
mod tests {
    use super::seconds;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(seconds("90s"), Some(90));
        assert_eq!(seconds("15m"), Some(900));
        assert_eq!(seconds("2h"), Some(7200));
        assert_eq!(seconds("7d"), Some(604_800));
        assert_eq!(seconds("45"), Some(45));
        assert_eq!(seconds("1w"), None);
        assert_eq!(seconds("soon"), None);
    }
}
