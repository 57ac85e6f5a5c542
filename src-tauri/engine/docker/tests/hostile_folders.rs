//! Hostile or odd project folders: a Dockerfile or slipway.toml that is a link to
//! /dev/zero, a FIFO, a 5 MB file, a setting that points outside the folder, a FIFO
//! somewhere in the build context. Each must give a clear message in seconds, with memory
//! bounded by the read cap: none may hang (a FIFO's open waits for a writer forever) or read
//! without end (/dev/zero once drove `check` to 14 GB). No service is needed.

use std::path::Path;
use std::time::Duration;

use slipway_core::project::{self, ProjectConfig, PROJECT_FILE};
use slipway_core::{EngineError, ErrorCode};
use slipway_docker::preflight::{self, FindingKind, Preflight, Severity};

/// Long enough for a slow machine, far shorter than "never".
const QUICKLY: Duration = Duration::from_secs(15);

const SETTINGS: &str = "name = \"odd-folder\"\nport = 8080\n";
const DOCKERFILE: &str = "FROM scratch\nCOPY site/ /www/\nEXPOSE 8080\nCMD [\"/httpd\"]\n";

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, contents) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    dir
}

fn fifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

/// The process's peak resident memory in MB, from /proc (the whole test binary, so a
/// generous bound: what it guards against is gigabytes).
fn peak_memory_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status");
    kb / 1024
}

fn assert_memory_bounded() {
    let peak = peak_memory_mb();
    assert!(
        peak < 1024,
        "peak memory {peak} MB: something read past its cap"
    );
}

/// `work` on a thread of its own, answered within [`QUICKLY`] or failing the test. The
/// thread is left behind on failure, so a hang fails the test instead of hanging the run.
async fn quickly<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let (answer, answered) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = answer.send(work());
    });
    let answer = tokio::time::timeout(QUICKLY, answered)
        .await
        .expect("answers in seconds, whatever the folder holds")
        .expect("the work finished without panicking");
    assert_memory_bounded();
    answer
}

/// Pre-flight with no Docker engine (its file work is what is under test), on a runtime
/// of its own (see [`quickly`]).
async fn preflight_quickly(dir: &Path, config: &ProjectConfig) -> Preflight {
    let (dir, config) = (dir.to_owned(), config.clone());
    quickly(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(preflight::check_with(
            Err("no engine in this test".into()),
            &dir,
            &config,
        ))
    })
    .await
    .expect("pre-flight reports odd files as findings, not as a failure")
    .0
}

fn blocker(p: &Preflight, kind: FindingKind) -> &preflight::Finding {
    p.findings
        .iter()
        .find(|f| f.kind == kind && f.severity == Severity::Error)
        .unwrap_or_else(|| panic!("expected a {kind:?} blocker in {:#?}", p.findings))
}

#[tokio::test]
async fn a_dockerfile_linked_to_dev_zero_is_a_blocker_named_as_a_device() {
    let dir = tree(&[(PROJECT_FILE, SETTINGS), ("site/index.html", "hi")]);
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("Dockerfile")).unwrap();
    let path = dir.path().to_owned();
    let config = quickly(move || project::load(&path))
        .await
        .unwrap()
        .unwrap();
    let found = preflight_quickly(dir.path(), &config).await;
    let finding = blocker(&found, FindingKind::FileUnreadable);
    assert!(finding.title.contains("a device"), "{}", finding.title);
    assert!(found.stages.is_empty());
}

#[tokio::test]
async fn a_dockerfile_that_is_a_fifo_is_a_blocker_and_is_never_opened() {
    let dir = tree(&[(PROJECT_FILE, SETTINGS), ("site/index.html", "hi")]);
    fifo(&dir.path().join("Dockerfile"));
    let path = dir.path().to_owned();
    let opened = quickly(move || project::propose(&path)).await;
    assert_eq!(opened.port, 8080, "proposing reads no port from a FIFO");
    let found = preflight_quickly(dir.path(), &opened).await;
    let finding = blocker(&found, FindingKind::FileUnreadable);
    assert!(finding.title.contains("named pipe"), "{}", finding.title);
}

#[tokio::test]
async fn a_fifo_in_the_build_context_is_named_without_being_opened() {
    let dir = tree(&[
        (PROJECT_FILE, SETTINGS),
        ("Dockerfile", DOCKERFILE),
        ("site/index.html", "hi"),
    ]);
    fifo(&dir.path().join("site/live.pipe"));
    let config = project::load(dir.path()).unwrap().unwrap();
    let found = preflight_quickly(dir.path(), &config).await;
    let finding = found
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::SpecialFileInContext)
        .unwrap_or_else(|| panic!("the pipe is named: {:#?}", found.findings));
    assert_eq!(
        finding.severity,
        Severity::Warning,
        "the build leaves it out"
    );
    assert!(
        finding
            .title
            .contains("site/live.pipe (a named pipe (FIFO))"),
        "{}",
        finding.title
    );
    assert_eq!(
        found.blockers().count(),
        0,
        "the pipe is listed, not read: {:#?}",
        found.findings
    );
    assert_eq!(found.context.expect("the context was walked").files, 3);

    std::fs::write(dir.path().join(".dockerignore"), "site/live.pipe\n").unwrap();
    let found = preflight_quickly(dir.path(), &config).await;
    assert!(
        !found
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::SpecialFileInContext),
        "an ignored pipe is not named: {:#?}",
        found.findings
    );
}

#[tokio::test]
async fn a_dockerignore_that_is_a_fifo_is_a_blocker_not_a_hang() {
    let dir = tree(&[
        (PROJECT_FILE, SETTINGS),
        ("Dockerfile", DOCKERFILE),
        ("site/index.html", "hi"),
    ]);
    fifo(&dir.path().join(".dockerignore"));
    let config = project::load(dir.path()).unwrap().unwrap();
    let found = preflight_quickly(dir.path(), &config).await;
    let finding = blocker(&found, FindingKind::FileUnreadable);
    assert!(finding.title.contains(".dockerignore"), "{}", finding.title);
}

#[tokio::test]
async fn a_settings_file_linked_to_dev_zero_is_refused_by_every_reader() {
    let dir = tree(&[("Dockerfile", DOCKERFILE)]);
    std::os::unix::fs::symlink("/dev/zero", dir.path().join(PROJECT_FILE)).unwrap();
    let path = dir.path().to_owned();
    let err = quickly(move || project::open_saved(&path))
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::NotARegularFile { .. }),
        "{err:?}"
    );
    assert_eq!(err.code(), ErrorCode::FileSystem);
    assert!(
        err.to_string().contains("slipway.toml is a device"),
        "{err}"
    );
    let path = dir.path().to_owned();
    let err = quickly(move || project::open_for_operations(&path))
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::NotARegularFile { .. }),
        "{err:?}"
    );
    let path = dir.path().to_owned();
    let err = quickly(move || project::ensure_id(&path))
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::NotARegularFile { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_five_megabyte_settings_file_is_refused_without_reading_it_all() {
    let dir = tree(&[("Dockerfile", DOCKERFILE)]);
    let mut big = SETTINGS.to_owned();
    big.push_str(&"# padding\n".repeat(500_000));
    std::fs::write(dir.path().join(PROJECT_FILE), &big).unwrap();
    let path = dir.path().to_owned();
    let err = quickly(move || project::load(&path)).await.unwrap_err();
    assert!(
        matches!(err, EngineError::FileTooLarge { bytes, .. } if bytes == big.len() as u64),
        "{err:?}"
    );
    assert!(err.to_string().contains("slipway.toml"), "{err}");
}

#[tokio::test]
async fn a_dockerfile_setting_outside_the_folder_is_refused_on_open_and_never_read() {
    let outer = tempfile::tempdir().unwrap();
    let dir = outer.path().join("project");
    std::fs::create_dir_all(dir.join("site")).unwrap();
    std::fs::write(dir.join("site/index.html"), "hi").unwrap();
    std::fs::write(
        dir.join(PROJECT_FILE),
        format!("{SETTINGS}dockerfile = \"../x\"\n"),
    )
    .unwrap();
    // Were it read, this FIFO would hang pre-flight: the timeout would say so.
    fifo(&outer.path().join("x"));

    let path = dir.clone();
    let err = quickly(move || project::open_saved(&path))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidProjectConfig, "{err}");
    assert!(err.to_string().contains("dockerfile"), "{err}");

    let config = project::load(&dir).unwrap().unwrap();
    assert_eq!(config.dockerfile, "../x");
    let found = preflight_quickly(&dir, &config).await;
    let finding = blocker(&found, FindingKind::PathOutsideProject);
    assert!(
        finding.title.contains("outside the project folder"),
        "{}",
        finding.title
    );

    let mut config = config;
    config.dockerfile = "Dockerfile".into();
    config.context = "/etc".into();
    let found = preflight_quickly(&dir, &config).await;
    blocker(&found, FindingKind::PathOutsideProject);
    assert!(found.context.is_none(), "/etc is never walked");
}
