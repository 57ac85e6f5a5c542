//! End to end: in the real window, a newcomer opens the sample project, builds it, starts
//! the preview and gets the page from the URL the window shows; Stop removes the container.

mod e2e;

use std::time::Duration;

use slipway_core::host::HostEnv;
use slipway_docker::preview;

#[tokio::test]
async fn the_sample_builds_previews_and_answers_at_the_url_the_window_shows() {
    let Some(session) = e2e::Session::start("project").await else {
        return;
    };
    let app = format!("e2e{}", std::process::id());
    session.prepare_sample(&app, |_| {});
    let host = HostEnv::from_process().with_var("DOCKER_HOST", session.docker_host.clone());

    session.click("[data-testid=nav-project]").await;
    session.click("[data-testid=open-sample]").await;
    let shown = session
        .text("[data-testid=project-name]", Duration::from_secs(10))
        .await;
    assert!(
        shown.contains(&app),
        "the window shows the sample's app name: {shown}"
    );

    session.tab("local").await;
    session.click("[data-testid=build]").await;
    session
        .text_containing(
            "[data-testid=build-result]",
            "Release",
            Duration::from_secs(120),
        )
        .await;
    // The context went through a BuildKit session: the card says what reached Docker.
    session
        .text_containing(
            "[data-testid=build-sent]",
            "to Docker: only what it did not have",
            Duration::from_secs(5),
        )
        .await;
    session.screenshot("project-built").await;
    session.click("[data-testid=start-preview]").await;
    let url = session
        .text("[data-testid=preview-url]", Duration::from_secs(30))
        .await;
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    session
        .text_containing(
            "[data-testid=preview-health]",
            "Healthy",
            Duration::from_secs(30),
        )
        .await;

    let response = reqwest::get(&url)
        .await
        .expect("the URL the window shows answers");
    assert_eq!(response.status().as_u16(), 200);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Hello from Slipway"));
    session
        .text_containing(
            "[data-testid=preview-logs]",
            "url:/",
            Duration::from_secs(15),
        )
        .await;
    session.screenshot("project").await;

    session.click("[data-testid=stop-preview]").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !preview::containers(&host, &app).await.unwrap().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "Stop removes the preview container"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    session.finish().await;
    let _ = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "docker images -q --filter reference={app} | sort -u | xargs -r docker rmi -f"
        ))
        .env("DOCKER_HOST", host.var("DOCKER_HOST").unwrap_or_default())
        .output();
}
