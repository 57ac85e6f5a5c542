//! The build context: the files under the context folder that `.dockerignore` does not
//! exclude, walked once to size them, fingerprinted so an unchanged project is recognised
//! without a build, and streamed to the engine as a tar without ever being held in memory.
//! Special files (pipes, sockets, devices) are never opened: they are skipped and listed.
//! Names that are not UTF-8 go into the tar and the fingerprint as their own bytes.
//!
//! `.dockerignore` rules are matched with the `ignore` crate's gitignore matcher after
//! anchoring each pattern at the context root, which is how Docker reads them (a bare
//! `node_modules` means the top-level one only). Excluded folders are not descended into
//! unless an exception (`!pattern`) could re-include something inside them.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::{Match, WalkBuilder};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use slipway_core::error::{EngineError, Result};
use slipway_core::jobs::Cancel;
use slipway_core::user_files::{self, TEXT_FILE_LIMIT};

mod listing;
pub use listing::{Filter, Listed};

/// The tar goes to the engine in chunks of this size, a few chunks ahead at most, so a
/// context of any size costs a few megabytes of memory.
const CHUNK: usize = 256 * 1024;
const CHUNKS_AHEAD: usize = 8;

/// Docker always sends .dockerignore (and the Dockerfile), even when .dockerignore names them.
const ALWAYS_SENT: [&str; 1] = [".dockerignore"];

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PathSize {
    pub path: String,
    pub bytes: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ContextSummary {
    pub files: u32,
    pub bytes: f64,
    /// The largest top-level entries (and the largest folders one level down), biggest first.
    pub biggest: Vec<PathSize>,
    pub has_dockerignore: bool,
    /// Pipes, sockets and devices in the folder: never read, never sent, listed here.
    pub skipped: Vec<String>,
}

/// One file or link that goes into the context.
#[derive(Debug, Clone)]
struct Entry {
    /// The relative path with `/` separators, for people and for matching (lossy when the
    /// name is not UTF-8).
    relative: String,
    /// The relative path as the file system spells it: what goes into the tar.
    name: PathBuf,
    absolute: PathBuf,
    size: u64,
    is_symlink: bool,
}

pub struct Context {
    root: PathBuf,
    entries: Vec<Entry>,
    /// The folders that are not excluded, relative as the file system names them.
    folders: Vec<PathBuf>,
    skipped: Vec<String>,
    dockerfile_in_context: Option<String>,
    dockerfile: PathBuf,
    has_dockerignore: bool,
}

impl Context {
    /// Walks `root` with its .dockerignore applied. `dockerfile` is sent even when excluded
    /// or outside the context, as the Docker CLI does.
    pub fn scan(root: &Path, dockerfile: &Path) -> Result<Self> {
        if !root.is_dir() {
            return Err(EngineError::ContextMissing {
                dir: root.to_owned(),
            });
        }
        let (matcher, has_exceptions, has_dockerignore) = dockerignore(root)?;
        let dockerfile_in_context = dockerfile.strip_prefix(root).ok().map(slash_path);
        let mut walk = WalkBuilder::new(root);
        walk.standard_filters(false)
            .follow_links(false)
            .sort_by_file_name(|a, b| a.cmp(b));
        let prune_root = root.to_owned();
        let prune_matcher = matcher.clone();
        walk.filter_entry(move |entry| {
            // Folders are pruned only when no exception could bring a file back from inside.
            if has_exceptions || !entry.file_type().is_some_and(|t| t.is_dir()) {
                return true;
            }
            let relative = entry
                .path()
                .strip_prefix(&prune_root)
                .unwrap_or(entry.path());
            relative.as_os_str().is_empty() || !prune_matcher.matched(relative, true).is_ignore()
        });
        let mut entries = Vec::new();
        let mut folders = Vec::new();
        let mut skipped = Vec::new();
        for result in walk.build() {
            let entry = result
                .map_err(|e| EngineError::Internal(format!("reading the build context: {e}")))?;
            let Some(file_type) = entry.file_type() else {
                continue;
            };
            let relative_path = entry.path().strip_prefix(root).unwrap_or(entry.path());
            if file_type.is_dir() {
                if !relative_path.as_os_str().is_empty() && !is_excluded(&matcher, relative_path) {
                    folders.push(relative_path.to_owned());
                }
                continue;
            }
            let relative = slash_path(relative_path);
            let always = ALWAYS_SENT.contains(&relative.as_str())
                || dockerfile_in_context.as_deref() == Some(relative.as_str());
            if !always && is_excluded(&matcher, relative_path) {
                continue;
            }
            let metadata = entry
                .path()
                .symlink_metadata()
                .map_err(|e| EngineError::io(entry.path(), e))?;
            if !file_type.is_file() && !file_type.is_symlink() {
                skipped.push(format!("{relative} ({})", user_files::kind_of(&metadata)));
                continue;
            }
            entries.push(Entry {
                relative,
                name: relative_path.to_owned(),
                absolute: entry.path().to_owned(),
                size: if file_type.is_symlink() {
                    0
                } else {
                    metadata.len()
                },
                is_symlink: file_type.is_symlink(),
            });
        }
        Ok(Self {
            root: root.to_owned(),
            entries,
            folders,
            skipped,
            dockerfile_in_context,
            dockerfile: dockerfile.to_owned(),
            has_dockerignore,
        })
    }

    /// Each file and link the context holds, relative to its root as the file system names
    /// it (so names that are not UTF-8 stay distinct), and whether it is a link. Read-only:
    /// pre-flight checks COPY sources against it.
    pub fn paths(&self) -> impl Iterator<Item = (&Path, bool)> + '_ {
        self.entries.iter().map(|e| {
            (
                e.absolute.strip_prefix(&self.root).unwrap_or(&e.absolute),
                e.is_symlink,
            )
        })
    }

    /// The Dockerfile's name inside the tar, as the engine's `dockerfile` option wants it.
    pub fn dockerfile_name(&self) -> String {
        self.dockerfile_in_context
            .clone()
            .unwrap_or_else(|| ".slipway.Dockerfile".to_owned())
    }

    /// How many files and links the context holds, and their bytes.
    pub fn size(&self) -> (u32, f64) {
        (
            self.entries.len() as u32,
            self.entries.iter().map(|e| e.size as f64).sum(),
        )
    }

    pub fn summary(&self) -> ContextSummary {
        let (files, bytes) = self.size();
        let mut sizes: HashMap<String, u64> = HashMap::new();
        for entry in &self.entries {
            let mut parts = entry.relative.split('/');
            let top = parts.next().unwrap_or_default();
            *sizes.entry(top.to_owned()).or_default() += entry.size;
            if let (Some(second), Some(_)) = (parts.next(), parts.next()) {
                *sizes.entry(format!("{top}/{second}")).or_default() += entry.size;
            }
        }
        let mut biggest: Vec<PathSize> = sizes
            .into_iter()
            .map(|(path, bytes)| PathSize {
                path,
                bytes: bytes as f64,
            })
            .collect();
        biggest.sort_by(|a, b| b.bytes.total_cmp(&a.bytes).then(a.path.cmp(&b.path)));
        biggest.truncate(6);
        ContextSummary {
            files,
            bytes,
            biggest,
            has_dockerignore: self.has_dockerignore,
            skipped: self.skipped.clone(),
        }
    }

    /// Whether `relative` (with `/` separators, from the context root) is sent to the
    /// engine: what pre-flight asks of a `COPY` source.
    pub fn contains(&self, relative: &str) -> bool {
        self.entries.iter().any(|e| e.relative == relative)
    }

    /// A fingerprint of what matters to the image: paths, modes, link targets and
    /// contents, read file by file in small blocks. Modification times go into the tar (as
    /// the Docker CLI sends them) but not into the fingerprint, so a `git checkout` that
    /// only touches files is still "unchanged". Blocking: run it off the async threads.
    pub fn fingerprint(&self, cancel: &Cancel) -> Result<String> {
        let mut hasher = Sha256::new();
        let mut block = vec![0u8; 64 * 1024];
        for entry in &self.entries {
            if cancel.is_cancelled() {
                return Err(EngineError::Cancelled);
            }
            hasher.update(entry.name.as_os_str().as_encoded_bytes());
            hasher.update([0]);
            if entry.is_symlink {
                let target = std::fs::read_link(&entry.absolute)
                    .map_err(|e| EngineError::io(&entry.absolute, e))?;
                hasher.update(target.as_os_str().as_encoded_bytes());
                continue;
            }
            let mut file = open_regular(&entry.absolute)?;
            let mut length = 0u64;
            loop {
                let read = file
                    .read(&mut block)
                    .map_err(|e| EngineError::io(&entry.absolute, e))?;
                if read == 0 {
                    break;
                }
                length += read as u64;
                hasher.update(&block[..read]);
                if cancel.is_cancelled() {
                    return Err(EngineError::Cancelled);
                }
            }
            hasher.update(length.to_le_bytes());
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                // Every permission bit: the tar carries them all, and COPY keeps them.
                let mode = file.metadata().map(|m| m.permissions().mode()).unwrap_or(0);
                hasher.update((mode & 0o7777).to_le_bytes());
            }
        }
        // Empty folders are content too (COPY makes them); a project without any hashes
        // as it always did.
        for folder in self.empty_folders() {
            hasher.update(b"folder:");
            hasher.update(folder.as_os_str().as_encoded_bytes());
            hasher.update([0]);
        }
        if self.dockerfile_in_context.is_none() {
            hasher.update(b".slipway.Dockerfile\0");
            hasher.update(self.outside_dockerfile()?.as_bytes());
        }
        Ok(hex(&hasher.finalize()))
    }

    /// The context as an uncompressed tar (what the engine's /build takes), written by a
    /// blocking thread a few chunks ahead of the engine. The handle ends with the tar's
    /// size, or with the error that cut the stream short (an unreadable file, a cancel).
    pub fn stream(
        self: &Arc<Self>,
        cancel: &Cancel,
    ) -> (
        impl Stream<Item = std::io::Result<Bytes>> + Send + 'static,
        tokio::task::JoinHandle<Result<u64>>,
    ) {
        let (tx, rx) = mpsc::channel(CHUNKS_AHEAD);
        let context = Arc::clone(self);
        let cancel = cancel.clone();
        let packer = tokio::task::spawn_blocking(move || {
            let sender = ChunkSender {
                tx: tx.clone(),
                buffer: Vec::with_capacity(CHUNK),
                cancel: cancel.clone(),
                engine_gone: Arc::new(AtomicBool::new(false)),
                sent: 0,
            };
            let result = context.write_tar(sender);
            if let Err(e) = &result {
                let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
            }
            result
        });
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|chunk| (chunk, rx))
        });
        (stream, packer)
    }

    /// Writes the tar into `sender`. When the engine stopped reading (its side failed, or
    /// the build ended), the result is `Cancelled`: the engine's own error is the one to tell.
    fn write_tar(&self, sender: ChunkSender) -> Result<u64> {
        let (cancel, engine_gone) = (sender.cancel.clone(), Arc::clone(&sender.engine_gone));
        self.write_entries(sender, &cancel).map_err(|e| {
            if engine_gone.load(Ordering::SeqCst) {
                EngineError::Cancelled
            } else {
                e
            }
        })
    }

    fn write_entries(&self, sender: ChunkSender, cancel: &Cancel) -> Result<u64> {
        let cancel = cancel.clone();
        let mut tar = tar::Builder::new(sender);
        tar.follow_symlinks(false);
        // Docker's tar reader refuses GNU sparse entries (type 'S'), which the tar crate
        // writes for files with holes (disk images, databases, `truncate`d files).
        tar.sparse(false);
        tar.mode(tar::HeaderMode::Complete);
        for entry in &self.entries {
            if cancel.is_cancelled() {
                return Err(EngineError::Cancelled);
            }
            let appended = if entry.is_symlink {
                tar.append_path_with_name(&entry.absolute, &entry.name)
            } else {
                // Opened here, checked regular, then copied: a file swapped for a pipe after
                // the scan is refused instead of blocking the build.
                let mut file = open_regular(&entry.absolute)?;
                let metadata = file
                    .metadata()
                    .map_err(|e| EngineError::io(&entry.absolute, e))?;
                let mut header = tar::Header::new_gnu();
                header.set_metadata_in_mode(&metadata, tar::HeaderMode::Complete);
                // Permission bits only, as the Docker CLI writes them (the entry type says
                // the rest); from Windows, which has none, the ones that CLI gives.
                let mode = if cfg!(windows) {
                    docker_mode_from_windows(metadata.permissions().readonly())
                } else {
                    header.mode().unwrap_or(0o644) & 0o7777
                };
                header.set_mode(mode);
                tar.append_data(&mut header, &entry.name, &mut file)
            };
            appended.map_err(|e| tar_error(&cancel, &entry.absolute, e))?;
        }
        for folder in self.empty_folders() {
            tar.append_dir(folder, self.root.join(folder))
                .map_err(|e| tar_error(&cancel, &self.root.join(folder), e))?;
        }
        if self.dockerfile_in_context.is_none() {
            let contents = self.outside_dockerfile()?;
            let mut header = tar::Header::new_gnu();
            header.set_size(contents.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, self.dockerfile_name(), contents.as_bytes())
                .map_err(|e| tar_error(&cancel, &self.dockerfile, e))?;
        }
        let mut sender = tar
            .into_inner()
            .map_err(|e| tar_error(&cancel, &self.root, e))?;
        sender
            .flush()
            .map_err(|e| tar_error(&cancel, &self.root, e))?;
        Ok(sender.sent)
    }

    /// The folders that hold nothing that is sent: the files' own folders go into the tar
    /// and the session's walk with them.
    fn empty_folders(&self) -> impl Iterator<Item = &PathBuf> + '_ {
        let holding: std::collections::HashSet<&Path> = self
            .entries
            .iter()
            .flat_map(|e| e.name.ancestors().skip(1))
            .collect();
        self.folders
            .iter()
            .filter(move |f| !holding.contains(f.as_path()))
    }

    fn outside_dockerfile(&self) -> Result<String> {
        user_files::read_text(&self.dockerfile, TEXT_FILE_LIMIT)?.ok_or_else(|| {
            EngineError::FileSystem {
                path: self.dockerfile.clone(),
                reason: "the Dockerfile is gone".into(),
            }
        })
    }
}

/// The mode the Docker CLI gives a file it sends from Windows, which has no mode bits:
/// executable for everyone (so an entrypoint script written on Windows runs instead of
/// failing with exit code 126), writable by the owner unless the file is read-only.
fn docker_mode_from_windows(readonly: bool) -> u32 {
    if readonly {
        0o555
    } else {
        0o755
    }
}

/// Opens `path` for reading only when it is a regular file: a pipe would block the read.
pub(crate) fn open_regular(path: &Path) -> Result<std::fs::File> {
    let metadata = std::fs::metadata(path).map_err(|e| EngineError::io(path, e))?;
    if !metadata.is_file() {
        return Err(EngineError::NotARegularFile {
            file: path.to_owned(),
            kind: user_files::kind_of(&metadata).to_owned(),
        });
    }
    std::fs::File::open(path).map_err(|e| EngineError::io(path, e))
}

fn tar_error(cancel: &Cancel, path: &Path, err: std::io::Error) -> EngineError {
    if cancel.is_cancelled() {
        return EngineError::Cancelled;
    }
    EngineError::io(path, err)
}

/// The tar's writer: fills a chunk, then hands it to the engine's side of the channel,
/// waiting while the engine is a few chunks behind. A cancel or a closed channel (the
/// build ended) stops the writing.
struct ChunkSender {
    tx: mpsc::Sender<std::io::Result<Bytes>>,
    buffer: Vec<u8>,
    cancel: Cancel,
    /// Set when the engine's side of the channel is gone.
    engine_gone: Arc<AtomicBool>,
    sent: u64,
}

impl ChunkSender {
    fn send(&mut self) -> std::io::Result<()> {
        // Not ErrorKind::Interrupted: io::copy would retry it forever.
        if self.cancel.is_cancelled() {
            return Err(std::io::Error::other("cancelled"));
        }
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        self.sent += chunk.len() as u64;
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            self.engine_gone.store(true, Ordering::SeqCst);
            std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the engine stopped reading the build context",
            )
        })
    }
}

impl Write for ChunkSender {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = CHUNK - self.buffer.len();
        let taken = room.min(data.len());
        self.buffer.extend_from_slice(&data[..taken]);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn slash_path(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn is_excluded(matcher: &Gitignore, relative: &Path) -> bool {
    matches!(
        matcher.matched_path_or_any_parents(relative, false),
        Match::Ignore(_)
    )
}

/// The context's .dockerignore as an anchored matcher; whether it has exceptions; whether
/// the file exists.
fn dockerignore(root: &Path) -> Result<(Gitignore, bool, bool)> {
    let path = root.join(".dockerignore");
    let mut builder = GitignoreBuilder::new(root);
    let text = user_files::read_text(&path, TEXT_FILE_LIMIT)?;
    let mut has_exceptions = false;
    for line in text.as_deref().unwrap_or_default().lines() {
        let Some(pattern) = anchored(line, cfg!(windows)) else {
            continue;
        };
        has_exceptions |= pattern.starts_with('!');
        builder
            .add_line(Some(path.clone()), &pattern)
            .map_err(|e| EngineError::DockerignoreInvalid {
                file: path.clone(),
                reason: e.to_string(),
            })?;
    }
    let matcher = builder
        .build()
        .map_err(|e| EngineError::DockerignoreInvalid {
            file: path.clone(),
            reason: e.to_string(),
        })?;
    Ok((matcher, has_exceptions, text.is_some()))
}

/// A .dockerignore line as an equivalent gitignore line anchored at the root, or `None`
/// for blanks and comments. On Windows a backslash separates folders, as it does for the
/// Docker CLI there (which then has no escape character).
fn anchored(line: &str, windows: bool) -> Option<String> {
    let line = line.trim();
    let slashed;
    let line = if windows {
        slashed = line.replace('\\', "/");
        slashed.as_str()
    } else {
        line
    };
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (bang, pattern) = match line.strip_prefix('!') {
        Some(rest) => ("!", rest.trim()),
        None => ("", line),
    };
    let mut pattern = pattern.trim_start_matches("./").trim_start_matches('/');
    pattern = pattern.trim_end_matches('/');
    if pattern.is_empty() || pattern == "." {
        return None;
    }
    Some(format!("{bang}/{pattern}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipway_testkit::tree;

    fn names(ctx: &Context) -> Vec<&str> {
        ctx.entries.iter().map(|e| e.relative.as_str()).collect()
    }

    /// The tar as the engine receives it, and the fingerprint.
    async fn pack(dir: &Path) -> (Vec<u8>, String) {
        use futures_util::StreamExt;
        let ctx = Arc::new(Context::scan(dir, &dir.join("Dockerfile")).unwrap());
        let cancel = Cancel::new();
        let fingerprint = ctx.fingerprint(&cancel).unwrap();
        let (stream, packer) = ctx.stream(&cancel);
        let chunks: Vec<_> = stream.collect().await;
        let size = packer.await.unwrap().unwrap();
        let tar: Vec<u8> = chunks
            .into_iter()
            .flat_map(|c| c.unwrap().to_vec())
            .collect();
        assert_eq!(size, tar.len() as u64);
        (tar, fingerprint)
    }

    #[test]
    fn dockerignore_patterns_are_anchored_at_the_context_root() {
        let dir = tree(&[
            (
                ".dockerignore",
                "# deps\nnode_modules\n*.log\n!keep.log\nsecret/\n",
            ),
            ("Dockerfile", "FROM scratch"),
            ("app.js", "x"),
            ("debug.log", "x"),
            ("keep.log", "x"),
            ("node_modules/a/index.js", "x"),
            ("src/node_modules/b.js", "x"),
            ("src/trace.log", "x"),
            ("secret/key", "x"),
        ]);
        let ctx = Context::scan(dir.path(), &dir.path().join("Dockerfile")).unwrap();
        assert_eq!(
            names(&ctx),
            vec![
                ".dockerignore",
                "Dockerfile",
                "app.js",
                "keep.log",
                "src/node_modules/b.js",
                "src/trace.log"
            ],
            "Docker anchors patterns: node_modules and *.log mean the top-level ones only"
        );
    }

    #[test]
    fn the_dockerfile_is_sent_even_when_ignored() {
        let dir = tree(&[
            (".dockerignore", "Dockerfile\n"),
            ("Dockerfile", "FROM scratch"),
            ("a", "x"),
        ]);
        let ctx = Context::scan(dir.path(), &dir.path().join("Dockerfile")).unwrap();
        assert_eq!(names(&ctx), vec![".dockerignore", "Dockerfile", "a"]);
    }

    #[tokio::test]
    async fn the_fingerprint_follows_contents_not_modification_times() {
        let dir = tree(&[("Dockerfile", "FROM scratch"), ("site/index.html", "one")]);
        let (_, first) = pack(dir.path()).await;
        std::fs::write(dir.path().join("site/index.html"), "one").unwrap();
        let (_, touched) = pack(dir.path()).await;
        assert_eq!(first, touched, "rewriting the same bytes is not a change");
        std::fs::write(dir.path().join("site/index.html"), "two").unwrap();
        let (tar, changed) = pack(dir.path()).await;
        assert_ne!(first, changed);
        let mut archive = tar::Archive::new(tar.as_slice());
        let paths: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(paths, vec!["Dockerfile", "site/index.html"]);
    }

    #[tokio::test]
    async fn an_empty_folder_is_content_and_goes_into_the_tar() {
        fn entries(tar: &[u8]) -> Vec<(String, bool)> {
            tar::Archive::new(tar)
                .entries()
                .unwrap()
                .map(|e| {
                    let e = e.unwrap();
                    let dir = e.header().entry_type().is_dir();
                    (e.path().unwrap().display().to_string(), dir)
                })
                .collect()
        }
        let dir = tree(&[("Dockerfile", "FROM scratch"), ("site/index.html", "one")]);
        let (_, without) = pack(dir.path()).await;
        std::fs::create_dir(dir.path().join("uploads")).unwrap();
        let (tar, with) = pack(dir.path()).await;
        assert_ne!(without, with, "an empty folder is a change");
        assert_eq!(
            entries(&tar),
            vec![
                ("Dockerfile".into(), false),
                ("site/index.html".into(), false),
                ("uploads".into(), true)
            ]
        );
        // Once it holds a file, it goes with the file.
        std::fs::write(dir.path().join("uploads/a"), "a").unwrap();
        let (tar, _) = pack(dir.path()).await;
        assert_eq!(entries(&tar).last().unwrap(), &("uploads/a".into(), false));
    }

    #[test]
    fn the_summary_names_the_biggest_paths() {
        let big = "x".repeat(5000);
        let dir = tree(&[
            ("Dockerfile", "FROM scratch"),
            ("data/big/blob", &big),
            ("data/small", "x"),
            ("a", "xx"),
        ]);
        let summary = Context::scan(dir.path(), &dir.path().join("Dockerfile"))
            .unwrap()
            .summary();
        assert_eq!(summary.files, 4);
        assert_eq!(summary.biggest[0].path, "data");
        assert_eq!(summary.biggest[1].path, "data/big");
        assert!(!summary.has_dockerignore);
    }

    #[tokio::test]
    async fn pipes_in_the_context_are_skipped_and_listed_not_opened() {
        let dir = tree(&[("Dockerfile", "FROM scratch"), ("a", "x")]);
        let fifo = dir.path().join("queue");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let ctx = Context::scan(dir.path(), &dir.path().join("Dockerfile")).unwrap();
        assert_eq!(names(&ctx), vec!["Dockerfile", "a"]);
        assert_eq!(ctx.summary().skipped, vec!["queue (a named pipe (FIFO))"]);
        // Opening the pipe would block forever; the tar is made without it.
        let (tar, _) = tokio::time::timeout(std::time::Duration::from_secs(10), pack(dir.path()))
            .await
            .expect("packing never opens the pipe");
        assert!(!tar.is_empty());
    }

    #[test]
    fn files_sent_from_windows_get_the_modes_the_docker_cli_gives_them() {
        assert_eq!(
            docker_mode_from_windows(false),
            0o755,
            "scripts stay runnable"
        );
        assert_eq!(docker_mode_from_windows(true), 0o555);
    }

    #[test]
    fn on_windows_a_backslash_in_dockerignore_separates_folders() {
        assert_eq!(
            anchored("build\\cache\\", true).as_deref(),
            Some("/build/cache")
        );
        assert_eq!(
            anchored("!.\\keep\\me.txt", true).as_deref(),
            Some("!/keep/me.txt")
        );
        // Elsewhere it escapes, as in the Docker CLI on Linux and macOS.
        assert_eq!(anchored("a\\*b", false).as_deref(), Some("/a\\*b"));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn each_file_keeps_its_own_mode_in_the_tar() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tree(&[("Dockerfile", "FROM scratch"), ("run.sh", "#!/bin/sh\n")]);
        let script = dir.path().join("run.sh");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o750)).unwrap();
        std::fs::set_permissions(
            dir.path().join("Dockerfile"),
            std::fs::Permissions::from_mode(0o640),
        )
        .unwrap();
        let (tar, _) = pack(dir.path()).await;
        let mut archive = tar::Archive::new(tar.as_slice());
        let mut modes: Vec<(String, u32)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().display().to_string(),
                    e.header().mode().unwrap(),
                )
            })
            .collect();
        modes.sort();
        assert_eq!(
            modes,
            vec![("Dockerfile".into(), 0o640), ("run.sh".into(), 0o750)]
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn names_that_are_not_utf8_keep_their_own_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tree(&[("Dockerfile", "FROM scratch")]);
        // Two names that read the same once made UTF-8 (both become "caf\u{fffd}").
        let latin1 = std::ffi::OsStr::from_bytes(b"caf\xe9");
        let other = std::ffi::OsStr::from_bytes(b"caf\xff");
        std::fs::write(dir.path().join(latin1), "one").unwrap();
        std::fs::write(dir.path().join(other), "two").unwrap();
        let (tar, _) = pack(dir.path()).await;
        let mut archive = tar::Archive::new(tar.as_slice());
        let mut names: Vec<Vec<u8>> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path_bytes().to_vec())
            .collect();
        names.sort();
        assert_eq!(
            names,
            vec![
                b"Dockerfile".to_vec(),
                b"caf\xe9".to_vec(),
                b"caf\xff".to_vec()
            ],
            "both files arrive, under their own names"
        );
    }

    #[tokio::test]
    async fn a_cancel_stops_the_packing_and_the_stream_ends() {
        use futures_util::StreamExt;
        let big = "x".repeat(4 * 1024 * 1024);
        let dir = tree(&[("Dockerfile", "FROM scratch"), ("a", &big), ("b", &big)]);
        let ctx = Arc::new(Context::scan(dir.path(), &dir.path().join("Dockerfile")).unwrap());
        let cancel = Cancel::new();
        let (stream, packer) = ctx.stream(&cancel);
        let mut stream = Box::pin(stream);
        stream.next().await.unwrap().unwrap();
        cancel.cancel();
        while stream.next().await.is_some() {}
        assert!(matches!(packer.await.unwrap(), Err(EngineError::Cancelled)));
        assert!(matches!(
            ctx.fingerprint(&cancel),
            Err(EngineError::Cancelled)
        ));
    }
}
