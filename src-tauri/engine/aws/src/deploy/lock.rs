//! One deploy per app (account, region, app) at a time, across processes and windows: an
//! advisory lock on a file in the data folder, which the operating system releases when
//! its holder ends, however it ends (a crash or a kill included), so no lock outlives its
//! process. Who holds it, and since when, is written beside it for the refusal message.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use slipway_core::error::{EngineError, Result};
use slipway_core::jobs::Cancel;

/// Who holds an app's deploy lock, as written beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The deploy's id; empty when the lock is held for a change of the task count.
    pub deploy_id: String,
    /// What it is held for; a holder written before scales took the lock is a deploy.
    #[serde(default)]
    pub held_for: HeldFor,
    pub pid: u32,
    /// "the Slipway window", "the slipway CLI".
    pub by: String,
    /// Seconds since the Unix epoch.
    pub since: i64,
}

/// What changes the app's service while the lock is held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeldFor {
    #[default]
    Deploy,
    /// A change of how many tasks run (`slipway scale`): a deploy started meanwhile
    /// would read the old count, and a scale during a rollout would fight the rollout.
    Scale,
}

impl Holder {
    /// The deploy running now, if the lock is held for one.
    pub fn deploy(&self) -> Option<&str> {
        (self.held_for == HeldFor::Deploy).then_some(self.deploy_id.as_str())
    }

    /// What to do about it, in the refusal's words.
    fn then(&self) -> &'static str {
        match self.held_for {
            HeldFor::Deploy => "wait for it to finish, or cancel it there",
            HeldFor::Scale => "try again in a moment, when it has finished",
        }
    }

    fn describe(&self) -> (String, String) {
        let since = time::OffsetDateTime::from_unix_timestamp(self.since)
            .ok()
            .and_then(|t| {
                t.format(time::macros::format_description!(
                    "[hour]:[minute]:[second] UTC"
                ))
                .ok()
            })
            .unwrap_or_else(|| "a moment ago".to_owned());
        let what = match self.held_for {
            HeldFor::Deploy => format!("deploy {}", self.deploy_id),
            HeldFor::Scale => "a scale".to_owned(),
        };
        (
            format!("{what} in {} (process {})", self.by, self.pid),
            since,
        )
    }
}

/// Held for as long as the deploy runs; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct DeployLock {
    _file: File,
    holder_file: PathBuf,
}

impl Drop for DeployLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.holder_file);
    }
}

/// The key of an app's lock: account, region and app, in a file name.
fn lock_name(account: &str, region: &str, app: &str) -> String {
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!("{}-{}-{}", safe(account), safe(region), safe(app))
}

/// What to do when another deploy of the same app holds the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenHeld {
    /// Refuse at once, naming the holder.
    Refuse,
    /// Wait for it (until `until`, or a cancel).
    Wait { until: Instant },
}

/// Takes the deploy lock of (account, region, app) in `locks_dir`.
pub async fn acquire(
    locks_dir: &Path,
    account: &str,
    region: &str,
    app: &str,
    holder: &Holder,
    when_held: WhenHeld,
    cancel: &Cancel,
) -> Result<DeployLock> {
    std::fs::create_dir_all(locks_dir).map_err(|e| EngineError::io(locks_dir, e))?;
    let name = lock_name(account, region, app);
    let path = locks_dir.join(format!("{name}.lock"));
    let holder_file = locks_dir.join(format!("{name}.holder.json"));
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| EngineError::io(&path, e))?;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => return Err(EngineError::io(&path, e)),
        }
        match when_held {
            WhenHeld::Wait { until } if Instant::now() < until => {
                tokio::select! {
                    _ = cancel.cancelled() => return Err(EngineError::Cancelled),
                    _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                }
            }
            _ => {
                let (holder, since, then) = read_holder(&holder_file)
                    .map(|h| {
                        let (holder, since) = h.describe();
                        (holder, since, h.then())
                    })
                    .unwrap_or_else(|| {
                        (
                            "another Slipway window or CLI".to_owned(),
                            "just now".to_owned(),
                            "wait for it to finish, or cancel it there",
                        )
                    });
                return Err(EngineError::DeployInProgress {
                    app: app.to_owned(),
                    region: region.to_owned(),
                    holder,
                    since,
                    then: then.to_owned(),
                });
            }
        }
    }
    let text = serde_json::to_string(holder).map_err(|e| EngineError::Internal(e.to_string()))?;
    std::fs::write(&holder_file, text).map_err(|e| EngineError::io(&holder_file, e))?;
    Ok(DeployLock {
        _file: file,
        holder_file,
    })
}

/// Who holds the deploy lock of (account, region, app) now, if anyone: the deploy that
/// is running, which is unfinished in the journal but not left behind.
pub fn holder(locks_dir: &Path, account: &str, region: &str, app: &str) -> Option<Holder> {
    let name = lock_name(account, region, app);
    let file = File::open(locks_dir.join(format!("{name}.lock"))).ok()?;
    match file.try_lock() {
        // Free: released when `file` closes.
        Ok(()) => None,
        Err(_) => read_holder(&locks_dir.join(format!("{name}.holder.json"))).or(Some(Holder {
            deploy_id: String::new(),
            held_for: HeldFor::Deploy,
            pid: 0,
            by: "another Slipway window or CLI".into(),
            since: 0,
        })),
    }
}

fn read_holder(path: &Path) -> Option<Holder> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(id: &str) -> Holder {
        Holder {
            deploy_id: id.into(),
            held_for: HeldFor::Deploy,
            pid: std::process::id(),
            by: "a test".into(),
            since: 1_790_000_000,
        }
    }

    #[tokio::test]
    async fn a_deploy_during_a_scale_is_refused_naming_the_scale_and_is_no_running_deploy() {
        let dir = tempfile::tempdir().unwrap();
        let cancel = Cancel::new();
        let scale = Holder {
            deploy_id: String::new(),
            held_for: HeldFor::Scale,
            ..holder("")
        };
        let _held = acquire(
            dir.path(),
            "1",
            "eu-west-1",
            "web",
            &scale,
            WhenHeld::Refuse,
            &cancel,
        )
        .await
        .unwrap();
        let message = acquire(
            dir.path(),
            "1",
            "eu-west-1",
            "web",
            &holder("d1"),
            WhenHeld::Refuse,
            &cancel,
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            message.contains("by a scale in a test")
                && message.contains("try again in a moment")
                && !message.contains("cancel"),
            "{message}"
        );
        let held = super::holder(dir.path(), "1", "eu-west-1", "web").expect("held");
        assert_eq!(held.held_for, HeldFor::Scale);
        assert_eq!(held.deploy(), None, "a scale is not a running deploy");
        // A holder written before scales took the lock reads as a deploy.
        let old: Holder =
            serde_json::from_str(r#"{"deploy_id":"d0","pid":1,"by":"x","since":0}"#).unwrap();
        assert_eq!(old.deploy(), Some("d0"));
    }

    #[tokio::test]
    async fn a_second_deploy_of_the_same_app_is_refused_with_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let cancel = Cancel::new();
        let first = acquire(
            dir.path(),
            "1",
            "eu-west-1",
            "web",
            &holder("d1"),
            WhenHeld::Refuse,
            &cancel,
        )
        .await
        .unwrap();
        let refused = acquire(
            dir.path(),
            "1",
            "eu-west-1",
            "web",
            &holder("d2"),
            WhenHeld::Refuse,
            &cancel,
        )
        .await
        .unwrap_err();
        let message = refused.to_string();
        assert!(
            message.contains("deploy d1") && message.contains("a test"),
            "the refusal names who deploys: {message}"
        );
        // Another app, or the same app in another region, deploys freely.
        acquire(
            dir.path(),
            "1",
            "us-east-1",
            "web",
            &holder("d3"),
            WhenHeld::Refuse,
            &cancel,
        )
        .await
        .expect("another region is another lock");
        assert_eq!(
            super::holder(dir.path(), "1", "eu-west-1", "web").map(|h| h.deploy_id),
            Some("d1".to_owned()),
            "the holder is known while the lock is held"
        );
        drop(first);
        assert!(super::holder(dir.path(), "1", "eu-west-1", "web").is_none());
        acquire(
            dir.path(),
            "1",
            "eu-west-1",
            "web",
            &holder("d4"),
            WhenHeld::Refuse,
            &cancel,
        )
        .await
        .expect("a released lock can be taken again");
    }

    #[tokio::test]
    async fn a_waiting_deploy_gets_the_lock_once_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let cancel = Cancel::new();
        let first = acquire(
            dir.path(),
            "1",
            "r",
            "web",
            &holder("d1"),
            WhenHeld::Refuse,
            &cancel,
        )
        .await
        .unwrap();
        let release = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            drop(first);
        });
        let waited = acquire(
            dir.path(),
            "1",
            "r",
            "web",
            &holder("d2"),
            WhenHeld::Wait {
                until: Instant::now() + Duration::from_secs(5),
            },
            &cancel,
        )
        .await;
        release.await.unwrap();
        assert!(waited.is_ok(), "the waiter takes the lock once it is free");
    }
}
