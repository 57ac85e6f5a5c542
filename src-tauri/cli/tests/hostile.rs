//! `slipway check` on hostile folders, as a user would run it: a Dockerfile or slipway.toml
//! that is a link to /dev/zero is a clear message and exit 1 in seconds, never a process
//! that reads without end (measured before: 14-19 GB and "nothing to report").

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::{command, json};

/// Long enough for a slow machine, far shorter than "never".
const QUICKLY: Duration = Duration::from_secs(20);

/// Runs `slipway` with `args` in `home` (no Docker engine: the files are under test) and
/// returns exit code, stdout and stderr; a run that outlives [`QUICKLY`] is killed (by its
/// own process id) and fails the test.
fn check_quickly(home: &Path, args: &[&str]) -> (i32, String, String) {
    let child = command(home, args)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("slipway runs");
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match finished.recv_timeout(QUICKLY) {
        Ok(out) => {
            let out = out.unwrap();
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
            panic!("slipway {args:?} was still running after {QUICKLY:?}");
        }
    }
}

fn project(home: &Path) -> std::path::PathBuf {
    let dir = home.join("odd");
    std::fs::create_dir_all(dir.join("site")).unwrap();
    std::fs::write(dir.join("site/index.html"), "hi").unwrap();
    dir
}

#[test]
fn check_names_a_dockerfile_linked_to_dev_zero_as_a_blocker() {
    let home = tempfile::tempdir().unwrap();
    let dir = project(home.path());
    std::fs::write(
        dir.join("slipway.toml"),
        "name = \"odd-folder\"\nport = 8080\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("Dockerfile")).unwrap();
    let d = dir.to_str().unwrap();

    let (code, out, err) = check_quickly(home.path(), &["check", d]);
    assert_eq!(code, 1, "a blocker fails the check: {out}{err}");
    assert!(
        out.contains("The Dockerfile cannot be used") && out.contains("is a device"),
        "the message says what the Dockerfile is: {out}"
    );
    assert!(!out.contains("nothing to report"), "{out}");

    let (code, out, _) = check_quickly(home.path(), &["--json", "check", d]);
    assert_eq!(code, 1);
    let report = json(&out);
    assert_eq!(report["ok"], false);
    assert_eq!(report["preflight"]["findings"][0]["kind"], "fileUnreadable");
    assert_eq!(report["preflight"]["findings"][0]["severity"], "error");
}

#[test]
fn check_refuses_a_settings_file_linked_to_dev_zero_with_its_code() {
    let home = tempfile::tempdir().unwrap();
    let dir = project(home.path());
    std::fs::write(dir.join("Dockerfile"), "FROM scratch\nCOPY site/ /www/\n").unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("slipway.toml")).unwrap();
    let (code, out, err) = check_quickly(home.path(), &["--json", "check", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let report = json(&out);
    assert_eq!(report["error"]["code"], "FileSystem");
    assert!(
        err.contains("slipway.toml is a device"),
        "the message names the file and what it is: {err}"
    );
}
