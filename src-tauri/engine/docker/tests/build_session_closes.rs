//! Each build closes its BuildKit session: after several builds this process holds no
//! more connections than after the first (a session left open would keep one socket per
//! build, and the engine would keep each session alive). Alone in its test binary, so no
//! other test's sockets are counted. Needs `SLIPWAY_TEST_DOCKER_HOST`; `make test` sets it.
#![cfg(target_os = "linux")]

mod session_project;

use session_project::Project;
use slipway_core::test_support::require;

/// The sockets this process holds open.
fn open_sockets() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count()
}

#[tokio::test]
async fn each_build_closes_its_session() {
    let Some(docker_host) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let project = Project::new(&docker_host);
    project.build().await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let after_one = open_sockets();
    for n in 0..3 {
        project.write("site/index.html", &format!("edit {n}"));
        project.build().await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        open_sockets(),
        after_one,
        "no connection to the engine outlives its build"
    );
}
