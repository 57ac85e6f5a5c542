//! A project for the session tests: the sample with nested folders, a link, an executable,
//! and files .dockerignore leaves out; built against the test engine, read back from the
//! image, and its images removed afterwards.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

use slipway_core::host::HostEnv;
use slipway_core::jobs::Cancel;
use slipway_core::progress::{ProgressSink, Recorder};
use slipway_core::project::{self, write_sample};
use slipway_core::EngineError;
use slipway_docker::build::{build, BuildEvent, BuildOutcome, BuildRequest};
use time::OffsetDateTime;

/// The image lists what it was given, as the build saw it.
pub const DOCKERFILE: &str = r#"FROM busybox:1.36
COPY . /ctx/
RUN cd /ctx && find . | sort > /listing && test -x tools/run.sh && test "$(readlink link)" = "site/index.html"
EXPOSE 8080
CMD ["httpd", "-f", "-p", "8080", "-h", "/ctx/site"]
"#;

pub struct Project {
    pub host: HostEnv,
    pub dir: PathBuf,
    pub app: String,
    _temp: tempfile::TempDir,
}

impl Project {
    pub fn new(docker_host: &str) -> Self {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("project");
        write_sample(&dir).unwrap();
        let app = format!(
            "session{}-{}",
            std::process::id(),
            OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000
        );
        let mut config = project::load(&dir).unwrap().unwrap();
        config.name = app.clone();
        project::save(&dir, &config).unwrap();
        let host = slipway_core::test_support::docker_host_env(temp.path(), docker_host);
        let project = Self {
            host,
            dir,
            app,
            _temp: temp,
        };
        project.write("Dockerfile", DOCKERFILE);
        project.write(".dockerignore", "secret.txt\nnode_modules\n");
        project.write("site/index.html", "one");
        project.write("a.txt", "a");
        project.write("a/b", "b");
        project.write("tools/run.sh", "#!/bin/sh\necho run\n");
        project.write("secret.txt", "never sent");
        project.write("node_modules/m.js", "never sent");
        std::os::unix::fs::symlink("site/index.html", project.dir.join("link")).unwrap();
        std::fs::create_dir(project.dir.join("uploads")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            project.dir.join("tools/run.sh"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        project
    }

    pub fn write(&self, name: &str, contents: &str) {
        let path = self.dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    pub async fn build_with(
        &self,
        sink: &dyn ProgressSink<BuildEvent>,
    ) -> Result<BuildOutcome, EngineError> {
        build(
            &self.host,
            &self.dir,
            &BuildRequest::default(),
            sink,
            &Cancel::new(),
            OffsetDateTime::now_utc(),
        )
        .await
    }

    pub async fn build(&self) -> (BuildOutcome, (u32, f64, bool)) {
        let events = Recorder::default();
        let outcome = self.build_with(&events).await.expect("the build");
        let sent = events
            .events()
            .into_iter()
            .find_map(|e| match e {
                BuildEvent::ContextSent {
                    files,
                    bytes,
                    changed_only,
                } => Some((files, bytes, changed_only)),
                _ => None,
            })
            .expect("the build says what it sent");
        (outcome, sent)
    }

    /// `cat` of `paths` inside the image.
    pub fn read_in(&self, image: &str, paths: &[&str]) -> String {
        let out = docker(&self.host)
            .args(["run", "--rm", image, "cat"])
            .args(paths)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

pub fn docker(host: &HostEnv) -> Command {
    let mut command = Command::new("docker");
    command.env("DOCKER_HOST", host.var("DOCKER_HOST").unwrap_or_default());
    command
}

impl Drop for Project {
    fn drop(&mut self) {
        if let Ok(out) = docker(&self.host)
            .args([
                "images",
                "-q",
                "--filter",
                &format!("reference={}", self.app),
            ])
            .output()
        {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let mut ids: Vec<&str> = text.split_whitespace().collect();
            ids.sort();
            ids.dedup();
            for id in ids {
                let _ = docker(&self.host).args(["rmi", "-f", id]).output();
            }
        }
    }
}
