//! End to end: launching Slipway again while its window is open hands over to that window
//! (which comes to the front) and exits, so two windows never share one data folder.

mod e2e;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_second_launch_brings_the_open_window_forward_and_exits() {
    let Some(session) = e2e::Session::start("instance").await else {
        return;
    };
    session
        .text("[data-testid=open-sample]", Duration::from_secs(20))
        .await;
    let data_dir = session.data_dir();
    let home = data_dir.parent().unwrap().to_owned();

    let started = Instant::now();
    let mut second = Command::new(env!("CARGO_BIN_EXE_slipway-desktop"))
        .env("HOME", &home)
        .env("XDG_DATA_HOME", home.join("share"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("SLIPWAY_DATA_DIR", &data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the second launch starts");
    let output = tokio::task::spawn_blocking(move || {
        // A second launch that opened a window of its own would never exit: killed at the
        // deadline, and the test fails below.
        let deadline = Instant::now() + Duration::from_secs(20);
        while second.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = second.kill();
        second.wait_with_output()
    })
    .await
    .unwrap()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("Slipway is already open"), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the second launch exits at once, without a window"
    );

    // The first one heard it (and brought its window forward), and still works.
    let log = data_dir.join("logs").join("slipway.log");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("a second launch: bringing the window to the front") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the open window was not told:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    session.click("[data-testid=nav-environment]").await;
    session
        .text("[data-testid=docker-version]", Duration::from_secs(20))
        .await;
    session.finish().await;
}
