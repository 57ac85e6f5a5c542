//! Build benchmark (`make bench`): Slipway's build against `docker build` on the same
//! context, for the sample and for the sample with 200 MB of dependencies that
//! .dockerignore excludes, plus the time Slipway takes to recognise an unchanged project.
//! Each timed build follows an edit of the site (a new file content), as a developer's
//! rebuild does, so both builders redo the COPY and the steps after it with the base
//! image and earlier layers cached; each figure is the median of several runs.
//! Needs the test environment's Docker engine (`eval "$(tests/env/up)"`).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use slipway_engine::build::{build, BuildRequest};
use slipway_engine::host::{HostEnv, Os};
use slipway_engine::jobs::Cancel;
use slipway_engine::progress::Recorder;
use slipway_engine::project::{self, write_sample};
use time::OffsetDateTime;

const RUNS: usize = 5;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn docker_build(dir: &Path, tag: &str) -> Duration {
    let started = Instant::now();
    let status = Command::new("docker")
        .args(["build", "-q", "--platform", "linux/amd64", "-t", tag])
        .arg(dir)
        .env("DOCKER_BUILDKIT", "0")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("docker CLI runs");
    assert!(status.success(), "docker build failed");
    started.elapsed()
}

async fn slipway_build(host: &HostEnv, dir: &Path, force: bool) -> Duration {
    let started = Instant::now();
    build(
        host,
        dir,
        &BuildRequest { force },
        &Recorder::default(),
        &Cancel::new(),
        OffsetDateTime::now_utc(),
    )
    .await
    .expect("Slipway builds");
    started.elapsed()
}

/// A change to the site, as a developer's edit before a rebuild; content never seen
/// before, so no earlier run's layer can be reused.
fn edit(dir: &Path, content: &str) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    std::fs::write(
        dir.join("site/edit.txt"),
        format!("{content} {}", now.as_nanos()),
    )
    .unwrap();
}

/// 200 MB in 2,000 files of 100 KB under node_modules, which the sample's .dockerignore
/// is extended to exclude.
fn add_ignored_dependencies(dir: &Path) {
    let chunk = vec![b'x'; 100 * 1024];
    for package in 0..100 {
        let folder = dir.join(format!("node_modules/pkg{package}/lib"));
        std::fs::create_dir_all(&folder).unwrap();
        for file in 0..20 {
            std::fs::write(folder.join(format!("f{file}.js")), &chunk).unwrap();
        }
    }
    let ignore = dir.join(".dockerignore");
    let mut text = std::fs::read_to_string(&ignore).unwrap();
    text.push_str("node_modules\n");
    std::fs::write(ignore, text).unwrap();
}

#[tokio::main]
async fn main() {
    let Ok(docker_host) = std::env::var("SLIPWAY_TEST_DOCKER_HOST") else {
        eprintln!("SLIPWAY_TEST_DOCKER_HOST is not set: run `eval \"$(tests/env/up)\"` first (make bench does).");
        std::process::exit(2);
    };
    let temp = tempfile::tempdir().unwrap();
    let host = HostEnv::new(
        Os::current(),
        Some(temp.path().to_owned()),
        [
            ("DOCKER_HOST".to_owned(), docker_host.clone()),
            (
                "SLIPWAY_DATA_DIR".to_owned(),
                temp.path().join("data").display().to_string(),
            ),
        ],
    );
    println!("| project | docker build after an edit (ms) | Slipway build after an edit (ms) | ratio | Slipway, unchanged project recognised and skipped (ms) |");
    println!("|---|---|---|---|---|");
    for (label, large) in [
        ("sample", false),
        ("sample + 200 MB ignored node_modules", true),
    ] {
        let dir = temp.path().join(if large { "large" } else { "small" });
        write_sample(&dir).unwrap();
        let app = format!(
            "bench{}{}",
            std::process::id(),
            if large { "l" } else { "s" }
        );
        let mut config = project::load(&dir).unwrap().unwrap();
        config.name = app.clone();
        project::save(&dir, &config).unwrap();
        if large {
            add_ignored_dependencies(&dir);
        }
        // Warm both: the base image and the layer cache are in place for every timed run.
        docker_build(&dir, &format!("{app}-docker"));
        slipway_build(&host, &dir, true).await;
        let mut docker = Vec::new();
        let mut ours = Vec::new();
        for run in 0..RUNS {
            edit(&dir, &format!("docker {run}"));
            docker.push(docker_build(&dir, &format!("{app}-docker")));
            edit(&dir, &format!("slipway {run}"));
            ours.push(slipway_build(&host, &dir, false).await);
        }
        let mut skip = Vec::new();
        for _ in 0..RUNS {
            skip.push(slipway_build(&host, &dir, false).await);
        }
        assert!(
            build(
                &host,
                &dir,
                &BuildRequest::default(),
                &Recorder::default(),
                &Cancel::new(),
                OffsetDateTime::now_utc()
            )
            .await
            .unwrap()
            .up_to_date,
            "the skip runs measured recognition, not builds"
        );
        let (d, s, k) = (median(docker), median(ours), median(skip));
        println!(
            "| {label} | {:.0} | {:.0} | {:.2} | {:.1} |",
            ms(d),
            ms(s),
            ms(s) / ms(d),
            ms(k)
        );
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "docker rmi -f {app}-docker >/dev/null; docker images -q --filter reference={app} | sort -u | xargs -r docker rmi -f >/dev/null"
            ))
            .status();
    }
}
