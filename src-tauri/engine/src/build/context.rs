//! The build context: the files under the context folder that `.dockerignore` does not
//! exclude, walked once to size them, tar them for the engine and fingerprint them so an
//! unchanged project is recognised without a build.
//!
//! `.dockerignore` rules are matched with the `ignore` crate's gitignore matcher after
//! anchoring each pattern at the context root, which is how Docker reads them (a bare
//! `node_modules` means the top-level one only). Excluded folders are not descended into
//! unless an exception (`!pattern`) could re-include something inside them.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::{Match, WalkBuilder};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{EngineError, Result};

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
}

/// One file or link that goes into the context, relative path with `/` separators.
#[derive(Debug, Clone)]
struct Entry {
    relative: String,
    absolute: PathBuf,
    size: u64,
    is_symlink: bool,
}

pub struct Context {
    root: PathBuf,
    entries: Vec<Entry>,
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
        for result in walk.build() {
            let entry = result
                .map_err(|e| EngineError::Internal(format!("reading the build context: {e}")))?;
            let Some(file_type) = entry.file_type() else {
                continue;
            };
            if file_type.is_dir() {
                continue;
            }
            let relative_path = entry.path().strip_prefix(root).unwrap_or(entry.path());
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
            entries.push(Entry {
                relative,
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

    pub fn summary(&self) -> ContextSummary {
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
            files: self.entries.len() as u32,
            bytes: self.entries.iter().map(|e| e.size as f64).sum(),
            biggest,
            has_dockerignore: self.has_dockerignore,
        }
    }

    /// The context as an uncompressed tar (what the engine's /build takes) and a
    /// fingerprint of what matters to the image: paths, modes, link targets and contents.
    /// Modification times go into the tar (as the Docker CLI sends them) but not into the
    /// fingerprint, so a `git checkout` that only touches files is still "unchanged".
    pub fn pack(&self) -> Result<(Vec<u8>, String)> {
        let mut hasher = Sha256::new();
        let mut tar = tar::Builder::new(Vec::new());
        tar.follow_symlinks(false);
        tar.mode(tar::HeaderMode::Complete);
        let mut buffer = Vec::new();
        for entry in &self.entries {
            hasher.update(entry.relative.as_bytes());
            hasher.update([0]);
            if entry.is_symlink {
                let target = std::fs::read_link(&entry.absolute)
                    .map_err(|e| EngineError::io(&entry.absolute, e))?;
                hasher.update(target.to_string_lossy().as_bytes());
            } else {
                buffer.clear();
                std::fs::File::open(&entry.absolute)
                    .and_then(|mut f| f.read_to_end(&mut buffer))
                    .map_err(|e| EngineError::io(&entry.absolute, e))?;
                hasher.update((buffer.len() as u64).to_le_bytes());
                hasher.update(&buffer);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = std::fs::metadata(&entry.absolute)
                        .map(|m| m.permissions().mode())
                        .unwrap_or(0);
                    hasher.update((mode & 0o111).to_le_bytes());
                }
            }
            tar.append_path_with_name(&entry.absolute, &entry.relative)
                .map_err(|e| EngineError::io(&entry.absolute, e))?;
        }
        if self.dockerfile_in_context.is_none() {
            let mut contents = Vec::new();
            std::fs::File::open(&self.dockerfile)
                .and_then(|mut f| f.read_to_end(&mut contents))
                .map_err(|e| EngineError::io(&self.dockerfile, e))?;
            hasher.update(b".slipway.Dockerfile\0");
            hasher.update(&contents);
            let mut header = tar::Header::new_gnu();
            header.set_size(contents.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, self.dockerfile_name(), contents.as_slice())
                .map_err(|e| EngineError::io(&self.dockerfile, e))?;
        }
        let bytes = tar
            .into_inner()
            .map_err(|e| EngineError::io(&self.root, e))?;
        Ok((bytes, hex(&hasher.finalize())))
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
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(EngineError::io(&path, e)),
    };
    let mut has_exceptions = false;
    for line in text.as_deref().unwrap_or_default().lines() {
        let Some(pattern) = anchored(line) else {
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
/// for blanks and comments.
fn anchored(line: &str) -> Option<String> {
    let line = line.trim();
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
    use crate::test_support::tree;

    fn names(ctx: &Context) -> Vec<&str> {
        ctx.entries.iter().map(|e| e.relative.as_str()).collect()
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

    #[test]
    fn the_fingerprint_follows_contents_not_modification_times() {
        let dir = tree(&[("Dockerfile", "FROM scratch"), ("site/index.html", "one")]);
        let dockerfile = dir.path().join("Dockerfile");
        let (_, first) = Context::scan(dir.path(), &dockerfile)
            .unwrap()
            .pack()
            .unwrap();
        std::fs::write(dir.path().join("site/index.html"), "one").unwrap();
        let (_, touched) = Context::scan(dir.path(), &dockerfile)
            .unwrap()
            .pack()
            .unwrap();
        assert_eq!(first, touched, "rewriting the same bytes is not a change");
        std::fs::write(dir.path().join("site/index.html"), "two").unwrap();
        let (tar, changed) = Context::scan(dir.path(), &dockerfile)
            .unwrap()
            .pack()
            .unwrap();
        assert_ne!(first, changed);
        let mut archive = tar::Archive::new(tar.as_slice());
        let paths: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(paths, vec!["Dockerfile", "site/index.html"]);
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
}
