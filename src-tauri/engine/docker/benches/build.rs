//! Build benchmark (`make bench`): Slipway's build against `docker build` with BuildKit
//! (as Docker Desktop builds) on the same daemon and context, for the sample, the sample
//! with 200 MB of dependencies that .dockerignore excludes, and a multi-stage project with
//! a package-install stage; plus the time Slipway takes to recognise an unchanged project,
//! a cold build of each, and the peak memory of a build whose context holds 1 GB.
//! Each timed build follows an edit of one file (new content), as a developer's rebuild
//! does, so both builders redo the steps after it with earlier layers cached; each figure
//! is the median of several runs. Needs the test environment's Docker engine
//! (`eval "$(tests/env/up)"`).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use slipway_core::host::HostEnv;
use slipway_core::jobs::Cancel;
use slipway_core::progress::Recorder;
use slipway_core::project::{self, write_sample};
use slipway_docker::build::{build, BuildRequest};
use time::OffsetDateTime;

const RUNS: usize = 5;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The docker CLI that builds with BuildKit without buildx: Debian's, where the newer one
/// in /usr/local/bin needs the buildx plugin.
fn docker_cli() -> &'static str {
    if Path::new("/usr/bin/docker").exists() {
        "/usr/bin/docker"
    } else {
        "docker"
    }
}

fn docker_build(dir: &Path, tag: &str) -> Duration {
    let started = Instant::now();
    let status = Command::new(docker_cli())
        .args(["build", "-q", "--platform", "linux/amd64", "-t", tag])
        .arg(dir)
        .env("DOCKER_BUILDKIT", "1")
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

/// Empties BuildKit's cache, so the next build is cold for either builder (the base image
/// stays: it is in the image store, as it would be on a developer's machine).
fn prune_build_cache() {
    let status = Command::new(docker_cli())
        .args(["builder", "prune", "-af"])
        .env("DOCKER_BUILDKIT", "1")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("docker CLI runs");
    assert!(status.success(), "docker builder prune failed");
}

/// A multi-stage project shaped like a Python service: a stage that installs packages (a
/// 3 s step writing 30 MB, standing in for apt and pip, which cannot reach their mirrors
/// from every bench machine), a stage that compiles the sources, and a slim final stage.
fn write_multistage(dir: &Path) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Dockerfile"),
        r#"FROM busybox:1.36 AS deps
WORKDIR /deps
COPY requirements.txt .
RUN --mount=type=cache,target=/cache sleep 3 && for p in $(cat requirements.txt); do dd if=/dev/zero of=/deps/$p bs=1M count=3 2>/dev/null; done

FROM busybox:1.36 AS build
WORKDIR /app
COPY --from=deps /deps /app/deps
COPY src/ /app/src/
RUN cat /app/src/*.py > /app/bundle.txt

FROM busybox:1.36
COPY --from=build /app/bundle.txt /www/index.html
COPY --chmod=755 site/ /www/
EXPOSE 8080
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("requirements.txt"),
        "flask gunicorn jinja2 werkzeug click itsdangerous markupsafe blinker requests urllib3\n",
    )
    .unwrap();
    for module in 0..30 {
        std::fs::write(
            dir.join(format!("src/module{module}.py")),
            format!("def handler_{module}():\n    return {module}\n"),
        )
        .unwrap();
    }
}

/// The process's resident memory now and at its highest so far, in MiB (Linux only).
fn memory_mib() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// A change to the site, as a developer's edit before a rebuild; content never seen
/// before, so no earlier run's layer can be reused.
fn edit(dir: &Path, content: &str) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    // The multi-stage project's change is to a source file, so its build stage reruns.
    let file = if dir.join("src").is_dir() {
        "src/module0.py"
    } else {
        "site/edit.txt"
    };
    std::fs::write(dir.join(file), format!("# {content} {}\n", now.as_nanos())).unwrap();
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sample,
    Large,
    MultiStage,
}

#[tokio::main]
async fn main() {
    let Ok(docker_host) = std::env::var("SLIPWAY_TEST_DOCKER_HOST") else {
        eprintln!("SLIPWAY_TEST_DOCKER_HOST is not set: run `eval \"$(tests/env/up)\"` first (make bench does).");
        std::process::exit(2);
    };
    let temp = tempfile::tempdir().unwrap();
    let host = slipway_core::test_support::docker_host_env(temp.path(), &docker_host);
    // First, while the process is fresh: the peak memory of a build whose context is 1 GB.
    {
        let dir = temp.path().join("huge");
        write_sample(&dir).unwrap();
        let mut config = project::load(&dir).unwrap().unwrap();
        config.name = format!("bench{}h", std::process::id());
        project::save(&dir, &config).unwrap();
        let blob = std::fs::File::create(dir.join("data.bin")).unwrap();
        blob.set_len(1024 * 1024 * 1024).unwrap();
        let (idle, _) = memory_mib().unwrap_or((0.0, 0.0));
        let took = slipway_build(&host, &dir, true).await;
        let (_, peak) = memory_mib().unwrap_or((0.0, 0.0));
        println!(
            "Build with a 1 GB context: {:.1} s; memory {:.0} MiB idle, {:.0} MiB at the peak ({:.0} MiB above idle)\n",
            took.as_secs_f64(),
            idle,
            peak,
            peak - idle
        );
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "docker images -q --filter reference={} | sort -u | xargs -r docker rmi -f >/dev/null",
                config.name
            ))
            .status();
    }
    println!("| project | docker build (BuildKit) after an edit (ms) | Slipway build after an edit (ms) | ratio | cold: docker (ms) | cold: Slipway (ms) | cold ratio | Slipway, unchanged project recognised and skipped (ms) |");
    println!("|---|---|---|---|---|---|---|---|");
    for (label, kind) in [
        ("sample", Kind::Sample),
        ("sample + 200 MB ignored node_modules", Kind::Large),
        ("multi-stage with a package-install stage", Kind::MultiStage),
    ] {
        let large = kind == Kind::Large;
        let dir = temp.path().join(format!("{kind:?}").to_lowercase());
        write_sample(&dir).unwrap();
        if kind == Kind::MultiStage {
            write_multistage(&dir);
        }
        let app = format!(
            "bench{}{}",
            std::process::id(),
            format!("{kind:?}").to_lowercase()
        );
        let mut config = project::load(&dir).unwrap().unwrap();
        config.name = app.clone();
        project::save(&dir, &config).unwrap();
        if large {
            add_ignored_dependencies(&dir);
        }
        // Cold: no build cache for either (the base image stays in the image store).
        let mut cold_docker = Vec::new();
        let mut cold_ours = Vec::new();
        for run in 0..3 {
            edit(&dir, &format!("cold {run}"));
            prune_build_cache();
            cold_docker.push(docker_build(&dir, &format!("{app}-docker")));
            prune_build_cache();
            cold_ours.push(slipway_build(&host, &dir, true).await);
        }
        // Warm both: the layer cache is in place for every timed run.
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
        let (cd, cs) = (median(cold_docker), median(cold_ours));
        println!(
            "| {label} | {:.0} | {:.0} | {:.2} | {:.0} | {:.0} | {:.2} | {:.1} |",
            ms(d),
            ms(s),
            ms(s) / ms(d),
            ms(cd),
            ms(cs),
            ms(cs) / ms(cd),
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
