//! The context as a BuildKit session sends it (fsutil's walk): every file and link the
//! context holds and the folders above them, depth first with names in byte order, each
//! with the mode, size and modification time BuildKit compares to decide which files it
//! must ask for again. Only what the session may name: a context whose paths are not all
//! UTF-8 (a session's paths are text) has no listing and goes to the engine as a tar.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::{anchored, is_excluded, slash_path, Context};

/// One entry of the session's walk.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// Relative, `/`-separated.
    pub path: String,
    pub absolute: PathBuf,
    pub is_dir: bool,
    /// Sent as what a link points to rather than as the link (the Dockerfile).
    pub follow: bool,
}

/// What the engine asked of one synced folder, in Docker's pattern syntax: BuildKit's
/// include patterns, the paths to follow (what COPY and ADD name, and .dockerignore), and
/// the exclude patterns (.dockerignore's, as the frontend read them).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub include: Vec<String>,
    pub follow: Vec<String>,
    pub exclude: Vec<String>,
}

impl Context {
    /// The context folder's walk, filtered as the engine asks, as fsutil walks it: the
    /// paths to follow (with the links along them resolved) join the include patterns,
    /// and `.` among them adds nothing. `None` when a name is not UTF-8 or a pattern does
    /// not parse (the tar then carries the build).
    pub fn listing(&self, filter: &Filter) -> Option<Vec<Listed>> {
        let mut include = filter.include.clone();
        if !filter
            .follow
            .iter()
            .any(|p| matches!(p.trim_matches('/'), "" | "."))
        {
            include.extend(self.followed(&filter.follow).iter().map(|p| literal(p)));
        }
        let only = match include.is_empty() {
            true => None,
            false => Some(matcher(&self.root, &include)?),
        };
        let exclude = matcher(&self.root, &filter.exclude)?;
        let sent = |relative: &Path| {
            only.as_ref().is_none_or(|m| is_excluded(m, relative))
                && !is_excluded(&exclude, relative)
        };
        let mut files = Vec::new();
        for entry in &self.entries {
            entry.name.to_str()?;
            if sent(Path::new(&entry.relative)) {
                files.push((entry.relative.clone(), entry.absolute.clone()));
            }
        }
        let mut folders = Vec::new();
        for folder in &self.folders {
            let path = slash_path(Path::new(folder.to_str()?));
            if sent(Path::new(&path)) {
                folders.push(path);
            }
        }
        Some(walk_order(&self.root, files, folders))
    }

    /// Whether every name in the context is text, as a session's paths must be.
    pub fn names_are_text(&self) -> bool {
        self.entries.iter().all(|e| e.name.to_str().is_some())
            && self.folders.iter().all(|f| f.to_str().is_some())
    }

    /// `paths` and where the links along them lead, as fsutil's `FollowLinks` resolves
    /// them: a link at any part of a path, a link a wildcard in the last part matches, and
    /// a link's absolute target taken from the context's root. So a COPY of a link, or of
    /// a path through a linked folder, also sends what it points to.
    fn followed(&self, paths: &[String]) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        let mut queue: Vec<String> = paths
            .iter()
            .map(|p| p.trim_start_matches('/').to_owned())
            .collect();
        while let Some(path) = queue.pop() {
            if all.contains(&path) || all.len() >= paths.len() + FOLLOW_LIMIT {
                continue;
            }
            queue.extend(self.links_along(&path));
            all.push(path);
        }
        all
    }

    /// The first link along `path` and where the path leads through it (the rest of the
    /// path joined to the link's target); for a wildcard last part, the links in its
    /// folder it matches.
    fn links_along(&self, path: &str) -> Vec<String> {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let mut current = PathBuf::new();
        for (i, part) in parts.iter().enumerate() {
            if i + 1 == parts.len() && part.contains(['*', '?', '[']) {
                let Some(pattern) = matcher(&self.root, &[path.to_owned()]) else {
                    return Vec::new();
                };
                let Ok(names) = std::fs::read_dir(self.root.join(&current)) else {
                    return Vec::new();
                };
                return names
                    .filter_map(|name| {
                        let name = name.ok()?;
                        name.file_type().ok()?.is_symlink().then_some(())?;
                        let candidate = current.join(name.file_name());
                        pattern
                            .matched(&candidate, false)
                            .is_ignore()
                            .then_some(())?;
                        Some(slash_path(&candidate))
                    })
                    .collect();
            }
            current.push(part);
            if let Ok(target) = std::fs::read_link(self.root.join(&current)) {
                let base = match target.strip_prefix("/") {
                    Ok(from_root) => from_root.to_owned(),
                    Err(_) => current.parent().unwrap_or(Path::new("")).join(&target),
                };
                let mut resolved = lexical(&base);
                resolved.extend(&parts[i + 1..]);
                // The link itself goes too, as fsutil keeps each link it passed.
                return vec![slash_path(&current), slash_path(&resolved)];
            }
        }
        Vec::new()
    }

    /// The Dockerfile alone, under its own name: the session's "dockerfile" folder.
    pub fn dockerfile_listing(&self) -> Option<Vec<Listed>> {
        Some(vec![Listed {
            path: self.dockerfile_base_name()?,
            absolute: self.dockerfile.clone(),
            is_dir: false,
            follow: true,
        }])
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The context folder's own name.
    pub fn root_name(&self) -> String {
        self.root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The Dockerfile's name in the session's "dockerfile" folder.
    pub fn dockerfile_base_name(&self) -> Option<String> {
        Some(self.dockerfile.file_name()?.to_str()?.to_owned())
    }
}

/// A path as a pattern that matches it: a leading `!` or `#` is not a negation or a comment.
fn literal(path: &str) -> String {
    if path.starts_with(['!', '#']) {
        format!("\\{path}")
    } else {
        path.to_owned()
    }
}

/// Links followed for one listing, at most (a loop of links ends there).
const FOLLOW_LIMIT: usize = 64;

/// `path` with `.` and `..` resolved by name, as Go's `filepath.Clean` does.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Patterns as an anchored matcher (`None` when one does not parse).
fn matcher(root: &Path, patterns: &[String]) -> Option<Gitignore> {
    let mut builder = GitignoreBuilder::new(root);
    for line in patterns {
        if let Some(pattern) = anchored(line, false) {
            builder.add_line(None, &pattern).ok()?;
        }
    }
    builder.build().ok()
}

/// The files with their folders (those given, and every folder above a file), in fsutil's
/// order: a depth-first walk with each folder's names in byte order, which is the order of
/// the paths compared component by component (`a`, `a/b`, `a.txt`; a plain string sort
/// would put `a.txt` before `a/b`).
fn walk_order(root: &Path, files: Vec<(String, PathBuf)>, folders: Vec<String>) -> Vec<Listed> {
    let mut all_folders: BTreeSet<String> = folders.into_iter().collect();
    for (path, _) in &files {
        let mut end = 0;
        while let Some(slash) = path[end..].find('/') {
            end += slash;
            all_folders.insert(path[..end].to_owned());
            end += 1;
        }
    }
    let mut listed: Vec<Listed> = all_folders
        .into_iter()
        .map(|path| Listed {
            absolute: root.join(&path),
            path,
            is_dir: true,
            follow: false,
        })
        .chain(files.into_iter().map(|(path, absolute)| Listed {
            path,
            absolute,
            is_dir: false,
            follow: false,
        }))
        .collect();
    listed.sort_by(|a, b| a.path.split('/').cmp(b.path.split('/')));
    listed
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipway_testkit::tree;

    fn paths(listed: &[Listed]) -> Vec<(&str, bool)> {
        listed.iter().map(|l| (l.path.as_str(), l.is_dir)).collect()
    }

    #[test]
    fn folders_come_before_what_they_hold_in_a_depth_first_walk() {
        let dir = tree(&[
            ("Dockerfile", "FROM scratch"),
            ("a.txt", "x"),
            ("a/b/c", "x"),
            ("a/a", "x"),
            ("b", "x"),
        ]);
        let ctx = Context::scan(dir.path(), &dir.path().join("Dockerfile")).unwrap();
        let listed = ctx.listing(&Filter::default()).unwrap();
        assert_eq!(
            paths(&listed),
            vec![
                ("Dockerfile", false),
                ("a", true),
                ("a/a", false),
                ("a/b", true),
                ("a/b/c", false),
                ("a.txt", false),
                ("b", false),
            ]
        );
        assert_eq!(listed[3].absolute, dir.path().join("a/b"));
    }

    #[test]
    fn the_engine_s_patterns_choose_what_is_sent() {
        let dir = tree(&[
            ("Dockerfile", "FROM scratch"),
            (".dockerignore", "Dockerfile\n"),
            ("src/app.py", "x"),
            ("src/app.pyc", "x"),
        ]);
        let ctx = Context::scan(dir.path(), &dir.path().join("Dockerfile")).unwrap();
        let only_ignore = Filter {
            follow: vec![".dockerignore".into()],
            ..Filter::default()
        };
        assert_eq!(
            paths(&ctx.listing(&only_ignore).unwrap()),
            vec![(".dockerignore", false)]
        );
        let excluding = Filter {
            exclude: vec!["Dockerfile".into(), "**/*.pyc".into()],
            ..Filter::default()
        };
        assert_eq!(
            paths(&ctx.listing(&excluding).unwrap()),
            vec![
                (".dockerignore", false),
                ("src", true),
                ("src/app.py", false)
            ]
        );
        assert_eq!(ctx.dockerfile_base_name().as_deref(), Some("Dockerfile"));
    }

    #[cfg(unix)]
    #[test]
    fn a_followed_link_brings_its_target() {
        let dir = tree(&[
            ("Dockerfile", "FROM scratch"),
            ("site/index.html", "x"),
            ("other.txt", "x"),
        ]);
        std::os::unix::fs::symlink("site/index.html", dir.path().join("link")).unwrap();
        std::os::unix::fs::symlink("loop", dir.path().join("loop")).unwrap();
        let ctx = Context::scan(dir.path(), &dir.path().join("Dockerfile")).unwrap();
        let following = Filter {
            follow: vec!["link".into(), "loop".into()],
            ..Filter::default()
        };
        assert_eq!(
            paths(&ctx.listing(&following).unwrap()),
            vec![
                ("link", false),
                ("loop", false),
                ("site", true),
                ("site/index.html", false)
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_along_a_path_wildcards_and_absolute_targets_are_followed() {
        use std::os::unix::fs::symlink;
        let dir = tree(&[
            ("Dockerfile", "FROM scratch"),
            ("conf.d/app.yml", "x"),
            ("site/index.html", "x"),
            ("libx.so.1", "x"),
            ("unrelated.txt", "x"),
        ]);
        symlink("conf.d", dir.path().join("config")).unwrap();
        symlink("/site/index.html", dir.path().join("abs")).unwrap();
        symlink("libx.so.1", dir.path().join("libx.so")).unwrap();
        let ctx = Context::scan(dir.path(), &dir.path().join("Dockerfile")).unwrap();
        let following = Filter {
            follow: vec!["config/app.yml".into(), "abs".into(), "lib*.so".into()],
            ..Filter::default()
        };
        assert_eq!(
            paths(&ctx.listing(&following).unwrap()),
            vec![
                ("abs", false),
                ("conf.d", true),
                ("conf.d/app.yml", false),
                ("config", false),
                ("libx.so", false),
                ("libx.so.1", false),
                ("site", true),
                ("site/index.html", false),
            ]
        );
    }

    #[test]
    fn empty_folders_are_walked_and_a_dot_follows_everything() {
        let dir = tree(&[("Dockerfile", "FROM scratch"), ("logs/.keep", "")]);
        std::fs::create_dir_all(dir.path().join("empty/inner")).unwrap();
        std::fs::remove_file(dir.path().join("logs/.keep")).unwrap();
        let ctx = Context::scan(dir.path(), &dir.path().join("Dockerfile")).unwrap();
        let everything = Filter {
            follow: vec![".".into()],
            ..Filter::default()
        };
        assert_eq!(
            paths(&ctx.listing(&everything).unwrap()),
            vec![
                ("Dockerfile", false),
                ("empty", true),
                ("empty/inner", true),
                ("logs", true),
            ]
        );
        let one = Filter {
            follow: vec!["empty".into()],
            ..Filter::default()
        };
        assert_eq!(
            paths(&ctx.listing(&one).unwrap()),
            vec![("empty", true), ("empty/inner", true)]
        );
    }
}
