//! Slipway's log file, `logs/slipway.log` in the app data folder, written by the window
//! and the CLI alike. Every line is redacted (see [`super::redact`]) before it is written;
//! the file is rotated at [`MAX_BYTES`], keeping [`KEEP`] older files (`slipway.log.1` the
//! newest of them). The adapters call [`init`] once at start; tests hand a [`LogFile`] to a
//! subscriber of their own.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use super::redact::redact;
use slipway_core::app::{data_dir, VERSION};
use slipway_core::error::{EngineError, Result};
use slipway_core::host::HostEnv;

pub const FILE_NAME: &str = "slipway.log";
pub const MAX_BYTES: u64 = 5 * 1024 * 1024;
pub const KEEP: usize = 3;
/// What is logged unless `SLIPWAY_LOG` says otherwise (an `EnvFilter` directive).
const DEFAULT_FILTER: &str = "slipway=info,warn";

pub fn log_dir(host: &HostEnv) -> PathBuf {
    data_dir(host).join("logs")
}

/// The current log file and its rotated predecessors, newest first, those that exist.
pub fn log_files(host: &HostEnv) -> Vec<PathBuf> {
    let current = log_dir(host).join(FILE_NAME);
    std::iter::once(current.clone())
        .chain((1..=KEEP).map(|n| rotated(&current, n)))
        .filter(|p| p.is_file())
        .collect()
}

fn rotated(path: &Path, n: usize) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// A shared handle on the log file; clones write to the same file. Each `write` is one
/// formatted event, which is redacted as a whole and never split across a rotation.
#[derive(Clone)]
pub struct LogFile(Arc<Mutex<Rotating>>);

struct Rotating {
    path: PathBuf,
    max_bytes: u64,
    keep: usize,
    file: File,
}

impl LogFile {
    /// Opens (creating as needed) `dir/slipway.log` for appending.
    pub fn open(dir: &Path) -> Result<Self> {
        Self::open_with(dir, MAX_BYTES, KEEP)
    }

    pub fn open_with(dir: &Path, max_bytes: u64, keep: usize) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| EngineError::io(dir, e))?;
        let path = dir.join(FILE_NAME);
        let file = append(&path).map_err(|e| EngineError::io(&path, e))?;
        Ok(Self(Arc::new(Mutex::new(Rotating {
            path,
            max_bytes,
            keep,
            file,
        }))))
    }
}

fn append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl Rotating {
    fn write_event(&mut self, bytes: &[u8]) -> io::Result<()> {
        // The window and the CLI append to the same file, and either may rotate it: when
        // the file at our path is no longer the one we hold (its size differs from our
        // handle's), the other process rotated it, so we reopen the new one. Two processes
        // rotating at the same instant may drop one old file; a log can live with that.
        let ours = self.file.metadata()?.len();
        let on_disk = match std::fs::metadata(&self.path) {
            Ok(meta) => Some(meta.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if on_disk != Some(ours) {
            self.file = append(&self.path)?;
        }
        let size = on_disk.unwrap_or(0);
        if size > 0 && size + bytes.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        self.file.write_all(bytes)
    }

    fn rotate(&mut self) -> io::Result<()> {
        for n in (1..self.keep).rev() {
            match std::fs::rename(rotated(&self.path, n), rotated(&self.path, n + 1)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        if self.keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            std::fs::rename(&self.path, rotated(&self.path, 1))?;
        }
        self.file = append(&self.path)?;
        Ok(())
    }
}

impl Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let clean = redact(&text);
        let mut file = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        file.write_event(clean.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogFile {
    type Writer = LogFile;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Standard error, redacted the same way as the file.
struct RedactedStderr;

impl Write for RedactedStderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        io::stderr().write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// Installs this process's logging: the log file in the app data folder and, with
/// `stderr`, the terminal too. `SLIPWAY_LOG` (an `EnvFilter` directive) chooses what is
/// logged. `program` names the writer in the file ("desktop", "cli"). Returns the log
/// file's path; when the file cannot be opened the error is returned and logging still
/// goes to stderr when asked, because a read-only data folder must not stop the app.
pub fn init(host: &HostEnv, program: &str, stderr: bool) -> Result<PathBuf> {
    let filter = || {
        EnvFilter::try_new(host.var("SLIPWAY_LOG").unwrap_or(DEFAULT_FILTER))
            .unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER))
    };
    let dir = log_dir(host);
    let file = LogFile::open(&dir);
    let file_layer = file.as_ref().ok().map(|file| {
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(file.clone())
            .with_filter(filter())
    });
    let stderr_layer = stderr.then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(|| RedactedStderr)
            .with_filter(filter())
    });
    // Already installed (a second call in one process) is not an error worth reporting.
    let _ = tracing_subscriber::registry()
        .with(file_layer)
        .with(stderr_layer)
        .try_init();
    tracing::info!(
        program,
        version = VERSION,
        os = std::env::consts::OS,
        arch = std::env::consts::ARCH,
        "Slipway started"
    );
    if !host.unreadable_vars().is_empty() {
        tracing::warn!(
            names = ?host.unreadable_vars(),
            "ignored environment variables that are not valid UTF-8"
        );
    }
    file.map(|_| dir.join(FILE_NAME))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::{add_access_key_profile, NewAccessKeyProfile, Secret};
    use slipway_core::host::Os;

    fn logging_to(file: &LogFile) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .with_writer(file.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    #[test]
    fn a_secret_handed_to_add_profile_never_reaches_the_log_file() {
        const SECRET: &str = "sEcReT/abcdefghijklmnopqrstuvwxyz0123456";
        const TOKEN: &str = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexample";
        let home = tempfile::tempdir().unwrap();
        let logs = home.path().join("data/logs");
        let file = LogFile::open(&logs).unwrap();
        let _guard = logging_to(&file);
        let host = HostEnv::new(Os::Linux, Some(home.path().to_owned()), []);

        add_access_key_profile(
            &host,
            &NewAccessKeyProfile {
                name: "work".into(),
                access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
                secret_access_key: Secret::new(SECRET),
                region: Some("eu-west-2".into()),
            },
        )
        .unwrap();
        // What a careless line near that code could write: the credentials file's text and
        // a temporary key's session token in an environment dump.
        let written = std::fs::read_to_string(home.path().join(".aws/credentials")).unwrap();
        tracing::debug!("credentials now read {written}");
        tracing::debug!("env AWS_SESSION_TOKEN={TOKEN} AWS_SECRET_ACCESS_KEY={SECRET}");

        let log = std::fs::read_to_string(logs.join(FILE_NAME)).unwrap();
        assert!(
            log.contains("added an access key profile") && log.contains("credentials now read"),
            "the lines themselves are logged: {log}"
        );
        assert!(
            !log.contains(SECRET),
            "the secret key must not be logged: {log}"
        );
        assert!(
            !log.contains(TOKEN),
            "the session token must not be logged: {log}"
        );
        assert!(
            !log.contains("AKIAIOSFODNN7EXAMPLE") && log.contains("AKIA…MPLE"),
            "the key id is shortened to its kind and last four characters"
        );
    }

    #[test]
    fn the_file_rotates_past_its_size_and_keeps_three_older_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = LogFile::open_with(dir.path(), 1_000, 3).unwrap();
        for i in 0..100 {
            let line = format!("line {i:03} {}\n", "x".repeat(80));
            file.write_all(line.as_bytes()).unwrap();
        }
        let names = |n: usize| match n {
            0 => dir.path().join(FILE_NAME),
            n => rotated(&dir.path().join(FILE_NAME), n),
        };
        for n in 0..=3 {
            let size = std::fs::metadata(names(n)).unwrap().len();
            assert!(
                size <= 1_000,
                "file {n} stays under the limit ({size} bytes)"
            );
        }
        assert!(!names(4).exists(), "only three old files are kept");
        let current = std::fs::read_to_string(names(0)).unwrap();
        assert!(current.ends_with(&format!("line 099 {}\n", "x".repeat(80))));
        let older = std::fs::read_to_string(names(1)).unwrap();
        assert!(
            older < current,
            "slipway.log.1 holds the lines just before slipway.log's"
        );
    }

    #[test]
    fn a_file_rotated_by_another_process_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let mut window = LogFile::open_with(dir.path(), 1_000, 3).unwrap();
        let mut cli = LogFile::open_with(dir.path(), 1_000, 3).unwrap();
        window.write_all(b"from the window\n").unwrap();
        for i in 0..20 {
            let line = format!("from the cli {i:02} {}\n", "x".repeat(80));
            cli.write_all(line.as_bytes()).unwrap();
        }
        window.write_all(b"the window again\n").unwrap();
        let current = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        assert!(
            current.ends_with("the window again\n"),
            "the window writes to the new file, not the one the CLI rotated away: {current}"
        );
    }

    #[test]
    fn log_files_lists_the_current_file_then_the_rotated_ones() {
        let data = tempfile::tempdir().unwrap();
        let host = HostEnv::new(
            Os::Linux,
            None,
            [(
                "SLIPWAY_DATA_DIR".to_owned(),
                data.path().display().to_string(),
            )],
        );
        let dir = log_dir(&host);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(FILE_NAME), "now\n").unwrap();
        std::fs::write(dir.join("slipway.log.2"), "older\n").unwrap();
        assert_eq!(
            log_files(&host),
            [dir.join(FILE_NAME), dir.join("slipway.log.2")]
        );
    }
}
