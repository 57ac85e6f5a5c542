//! The context as a BuildKit session sends it (fsutil's walk): every file and link the
//! context holds and the folders above them, depth first with names in byte order, each
//! with the mode, size and modification time BuildKit compares to decide which files it
//! must ask for again. Only what the session may name: a context whose paths are not all
//! UTF-8 (a session's paths are text) has no listing and goes to the engine as a tar.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::{anchored, is_excluded, Context};

/// One entry of the session's walk.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// Relative, `/`-separated.
    pub path: String,
    pub absolute: PathBuf,
    pub is_dir: bool,
}

/// What the engine asked of one synced folder: BuildKit's include and exclude patterns
/// (.dockerignore's, as the frontend read them), in Docker's syntax.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

impl Context {
    /// The context folder's walk, filtered as the engine asks; `None` when a name is not
    /// UTF-8 or a pattern does not parse (the tar then carries the build).
    pub fn listing(&self, filter: &Filter) -> Option<Vec<Listed>> {
        let include = matcher(&self.root, &self.followed(&filter.include))?;
        let exclude = matcher(&self.root, &filter.exclude)?;
        let mut files = Vec::new();
        for entry in &self.entries {
            let path = entry.name.to_str()?.replace('\\', "/");
            let relative = Path::new(&path);
            if !filter.include.is_empty() && !is_excluded(&include, relative) {
                continue;
            }
            if is_excluded(&exclude, relative) {
                continue;
            }
            files.push((path, entry.absolute.clone()));
        }
        Some(walk_order(&self.root, files))
    }

    /// `paths` with the targets of those that are links inside the context, as fsutil
    /// follows them, so a COPY of a link also sends what it points to.
    fn followed(&self, paths: &[String]) -> Vec<String> {
        let mut all = paths.to_vec();
        let mut next = 0;
        while next < all.len() && all.len() < paths.len() + FOLLOW_LIMIT {
            let link = self.root.join(all[next].trim_start_matches('/'));
            next += 1;
            let Ok(target) = std::fs::read_link(&link) else {
                continue;
            };
            let resolved = lexical(&link.parent().unwrap_or(&self.root).join(target));
            if let Some(inside) = resolved
                .strip_prefix(&self.root)
                .ok()
                .and_then(Path::to_str)
                .map(|p| p.replace('\\', "/"))
                .filter(|p| !p.is_empty() && !all.contains(p))
            {
                all.push(inside);
            }
        }
        all
    }

    /// The Dockerfile alone, under its own name: the session's "dockerfile" folder.
    pub fn dockerfile_listing(&self) -> Option<Vec<Listed>> {
        Some(vec![Listed {
            path: self.dockerfile.file_name()?.to_str()?.to_owned(),
            absolute: self.dockerfile.clone(),
            is_dir: false,
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

/// The files with their folders, in fsutil's order: a depth-first walk with each folder's
/// names in byte order, which is the order of the paths compared component by component
/// (`a`, `a/b`, `a.txt`; a plain string sort would put `a.txt` before `a/b`).
fn walk_order(root: &Path, files: Vec<(String, PathBuf)>) -> Vec<Listed> {
    let mut folders = BTreeSet::new();
    for (path, _) in &files {
        let mut end = 0;
        while let Some(slash) = path[end..].find('/') {
            end += slash;
            folders.insert(path[..end].to_owned());
            end += 1;
        }
    }
    let mut listed: Vec<Listed> = folders
        .into_iter()
        .map(|path| Listed {
            absolute: root.join(&path),
            path,
            is_dir: true,
        })
        .chain(files.into_iter().map(|(path, absolute)| Listed {
            path,
            absolute,
            is_dir: false,
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
            include: vec![".dockerignore".into()],
            exclude: vec![],
        };
        assert_eq!(
            paths(&ctx.listing(&only_ignore).unwrap()),
            vec![(".dockerignore", false)]
        );
        let excluding = Filter {
            include: vec![],
            exclude: vec!["Dockerfile".into(), "**/*.pyc".into()],
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
            include: vec!["link".into(), "loop".into()],
            exclude: vec![],
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
}
