//! End to end: a newer Slipway on the release feed is offered in the real window on start,
//! and an update whose download does not match its signature is refused, with this version
//! left running. The feed is a local server; the key pair is the test-only one in
//! tests/fixtures/updater (releases are signed with the CI secret's key).

mod e2e;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/updater")
        .join(name);
    std::fs::read_to_string(path).unwrap().trim().to_owned()
}

/// Serves `/latest.json` (version 9.9.9, signed for artifact.bin) and `/artifact.bin` with
/// other bytes than were signed; records each path asked for.
async fn feed() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let manifest = serde_json::json!({
        "version": "9.9.9",
        "notes": "Faster deploys.",
        "pub_date": "2026-12-01T00:00:00Z",
        "platforms": {
            "linux-x86_64": { "signature": fixture("artifact.bin.sig"), "url": format!("{base}/artifact.bin") }
        }
    })
    .to_string();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = asked.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut request = vec![0u8; 4096];
            let n = stream.read(&mut request).await.unwrap_or(0);
            let line = String::from_utf8_lossy(&request[..n]);
            let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
            seen.lock().unwrap().push(path.clone());
            let body = match path.as_str() {
                "/latest.json" => manifest.clone(),
                "/artifact.bin" => "Slipway 9.9.9, tampered with\n".to_owned(),
                _ => String::new(),
            };
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes()).await;
        }
    });
    (base, asked)
}

#[tokio::test]
async fn a_newer_version_is_offered_and_a_download_that_fails_its_signature_installs_nothing() {
    let (base, asked) = feed().await;
    let vars = [
        ("SLIPWAY_UPDATE_ENDPOINT", format!("{base}/latest.json")),
        ("SLIPWAY_UPDATE_PUBKEY", fixture("test.key.pub")),
    ];
    let Some(session) = e2e::Session::start_env("update", &vars).await else {
        return;
    };
    let banner = session
        .text_containing(
            "[data-testid=update-banner]",
            "9.9.9",
            Duration::from_secs(30),
        )
        .await;
    assert!(banner.contains("(you have 0.1.0)"), "{banner}");
    session.screenshot("update-offered").await;

    session.click("[data-testid=update-install]").await;
    let failure = session
        .text("[data-testid=update-failure]", Duration::from_secs(30))
        .await;
    assert!(
        failure.contains("Slipway 9.9.9 was not installed"),
        "{failure}"
    );
    assert!(
        failure.contains("This version goes on running"),
        "{failure}"
    );
    assert!(
        asked.lock().unwrap().iter().any(|p| p == "/artifact.bin"),
        "the download happened: the refusal is the signature's"
    );
    // Still this version, and still working.
    session.click("[data-testid=nav-environment]").await;
    session
        .text("[data-testid=docker-version]", Duration::from_secs(20))
        .await;
    session.finish().await;
}
