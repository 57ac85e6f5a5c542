//! Builds whose context goes through Slipway's BuildKit session (as the Docker CLI sends
//! it) against the test environment's real Docker engine: the first build sends the
//! folder, a rebuild after an edit sends only the edited file, and the image holds exactly
//! the folder's content each time (ignored files left out, links, modes, nested folders,
//! deleted files gone). Needs `SLIPWAY_TEST_DOCKER_HOST`; `make test` sets it.
#![cfg(unix)]

mod session_project;

use std::path::PathBuf;

use session_project::{docker, Project, DOCKERFILE};
use slipway_core::progress::ProgressSink;
use slipway_core::project;
use slipway_core::test_support::require;
use slipway_core::ErrorCode;
use slipway_docker::build::BuildEvent;

/// The folder as `find` lists it in the image: the sample's files and the project's own,
/// without what .dockerignore names, with the empty folder.
const LISTING: &str = ".\n./.dockerignore\n./Dockerfile\n./README.md\n./a\n./a.txt\n./a/b\n./link\n./site\n./site/index.html\n./site/style.css\n./slipway.toml\n./tools\n./tools/run.sh\n./uploads\n";

#[tokio::test]
async fn a_rebuild_sends_only_the_edited_file_and_the_image_holds_the_folder_as_it_is() {
    let Some(docker_host) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let project = Project::new(&docker_host);
    let (first, (_, _, changed_only)) = project.build().await;
    assert!(
        changed_only,
        "a local engine takes the context through a session"
    );
    assert_eq!(
        project.read_in(
            &first.release.image_id,
            &["/listing", "/ctx/site/index.html"]
        ),
        format!("{LISTING}one")
    );

    project.write("site/index.html", "two!");
    let (second, sent) = project.build().await;
    assert_eq!(sent, (1, 4.0, true), "only the edited file moves");
    assert_eq!(
        project.read_in(
            &second.release.image_id,
            &["/listing", "/ctx/site/index.html"]
        ),
        format!("{LISTING}two!")
    );

    // A deleted file is gone from the next image, though nothing was sent for it.
    std::fs::remove_file(project.dir.join("a.txt")).unwrap();
    let (third, sent) = project.build().await;
    assert_eq!(sent, (0, 0.0, true));
    assert_eq!(
        project.read_in(&third.release.image_id, &["/listing"]),
        LISTING.replace("./a.txt\n", "")
    );
}

#[tokio::test]
async fn a_dockerfile_in_a_subfolder_with_its_own_name_builds_through_the_session() {
    let Some(docker_host) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let project = Project::new(&docker_host);
    std::fs::remove_file(project.dir.join("Dockerfile")).unwrap();
    project.write("docker/Dockerfile.web", DOCKERFILE);
    let mut config = project::load(&project.dir).unwrap().unwrap();
    config.dockerfile = "docker/Dockerfile.web".into();
    project::save(&project.dir, &config).unwrap();
    let (built, (_, _, changed_only)) = project.build().await;
    assert!(changed_only);
    let listing = project.read_in(&built.release.image_id, &["/listing"]);
    assert!(listing.contains("./docker/Dockerfile.web\n"), "{listing}");
    assert!(!listing.contains("./Dockerfile\n"), "{listing}");
}

/// Removes a file once the context was read, before the engine asks for it.
struct RemoveAfterScan(PathBuf);

impl ProgressSink<BuildEvent> for RemoveAfterScan {
    fn emit(&self, event: BuildEvent) {
        if matches!(event, BuildEvent::ContextPacked { .. }) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

#[tokio::test]
async fn a_file_gone_before_the_engine_reads_it_is_named_and_nothing_is_tagged() {
    let Some(docker_host) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let project = Project::new(&docker_host);
    let gone = project.dir.join("tools/run.sh");
    let err = project
        .build_with(&RemoveAfterScan(gone))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::FileSystem, "{err:?}");
    assert!(err.to_string().contains("run.sh"), "{err}");
    let tagged = docker(&project.host)
        .args(["images", "-q", &project.app])
        .output()
        .unwrap();
    assert!(tagged.stdout.is_empty(), "nothing tagged");
}

/// A TCP port on 127.0.0.1 that forwards to the engine's Unix socket, as a remote engine
/// or one published over TCP is reached.
async fn tcp_to(socket: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let socket = socket.to_owned();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let socket = socket.clone();
            tokio::spawn(async move {
                if let Ok(mut engine) = tokio::net::UnixStream::connect(&socket).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut engine).await;
                }
            });
        }
    });
    format!("tcp://{address}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_reached_over_tcp_gets_the_whole_context_as_a_tar() {
    let Some(docker_host) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let socket = docker_host
        .strip_prefix("unix://")
        .expect("the test engine listens on a Unix socket");
    let mut project = Project::new(&docker_host);
    project.host = project
        .host
        .clone()
        .with_var("DOCKER_HOST", &tcp_to(socket).await);
    let (built, (files, _, changed_only)) = project.build().await;
    assert!(!changed_only, "no session over TCP");
    assert_eq!(files, 10, "every file the context holds");
    assert_eq!(
        project.read_in(&built.release.image_id, &["/listing"]),
        LISTING
    );
}

/// Docker's sign-in for `registry` in `home/.docker/config.json`, as `docker login` leaves
/// it without a credential store.
fn sign_in(home: &std::path::Path, registry: &str, user: &str, password: &str) {
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    std::fs::create_dir_all(home.join(".docker")).unwrap();
    std::fs::write(
        home.join(".docker/config.json"),
        format!(r#"{{"auths": {{"{registry}": {{"auth": "{auth}"}}}}}}"#),
    )
    .unwrap();
}

#[tokio::test]
async fn a_base_image_from_a_private_registry_is_pulled_with_docker_s_sign_in() {
    let (Some(docker_host), Some(registry), Some(user), Some(password)) = (
        require("SLIPWAY_TEST_DOCKER_HOST"),
        require("SLIPWAY_TEST_REGISTRY"),
        require("SLIPWAY_TEST_REGISTRY_USER"),
        require("SLIPWAY_TEST_REGISTRY_PASSWORD"),
    ) else {
        return;
    };
    let project = Project::new(&docker_host);
    let home = project.dir.parent().unwrap().to_owned();
    sign_in(&home, &registry, &user, &password);
    // The base image is on the private registry only.
    let base = format!("{registry}/private/base{}:1", std::process::id());
    let cli = |args: &[&str]| {
        let out = docker(&project.host)
            .arg("--config")
            .arg(home.join(".docker"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "docker {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    cli(&["tag", "busybox:1.36", &base]);
    cli(&["push", &base]);
    cli(&["rmi", &base]);
    project.write("Dockerfile", &DOCKERFILE.replace("busybox:1.36", &base));

    let (built, (_, _, changed_only)) = project.build().await;
    assert!(changed_only);
    assert!(project
        .read_in(&built.release.image_id, &["/listing"])
        .contains("./site/index.html"));

    // Without the sign-in the registry refuses the same pull (BuildKit asks the registry
    // again for a base image the engine's own store does not hold).
    std::fs::remove_file(home.join(".docker/config.json")).unwrap();
    project.write("site/index.html", "signed out");
    let refused = project
        .build_with(&slipway_core::progress::Recorder::default())
        .await;
    assert!(
        refused.is_err(),
        "an anonymous pull of a private image fails"
    );
}
