//! A release's version: the short git commit when the project is in a git repository
//! (with `-dirty-` and a timestamp when files differ from it), else a UTC timestamp.

use std::path::Path;

use time::macros::format_description;
use time::OffsetDateTime;

pub fn release_version(dir: &Path, now: OffsetDateTime) -> String {
    let stamp = timestamp(now);
    let git = |args: &[&str]| {
        slipway_core::host::command("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(sha) if !sha.is_empty() => match git(&["status", "--porcelain", "--", "."]) {
            Some(changes) if changes.is_empty() => sha,
            _ => format!("{sha}-dirty-{stamp}"),
        },
        _ => stamp,
    }
}

fn timestamp(now: OffsetDateTime) -> String {
    now.to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year][month][day]-[hour][minute][second]"
        ))
        .expect("a fixed format always formats")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-21 14:30:05 UTC);

    #[test]
    fn a_folder_outside_git_gets_a_timestamp() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(release_version(dir.path(), NOW), "20261121-143005");
    }

    #[test]
    fn a_git_folder_gets_the_short_sha_and_dirty_changes_are_marked() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let ok = Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(args)
                .status()
                .unwrap()
                .success();
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q"]);
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        git(&["add", "."]);
        git(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-qm",
            "one",
        ]);
        let clean = release_version(dir.path(), NOW);
        assert!(
            clean.len() >= 7 && clean.chars().all(|c| c.is_ascii_hexdigit()),
            "{clean}"
        );
        std::fs::write(dir.path().join("Dockerfile"), "FROM busybox\n").unwrap();
        assert_eq!(
            release_version(dir.path(), NOW),
            format!("{clean}-dirty-20261121-143005")
        );
    }
}
