//! Whether what a COPY or ADD names is in the build context, as Docker will see it: the
//! context's files after `.dockerignore`, a path relative to the context root, a wildcard
//! matched per path segment (`*` never crosses `/`). Only what certainly fails is a
//! blocker: an empty folder, a path through a link or a `**` pattern is given the benefit
//! of the doubt, and a folder whose files are all excluded is only a warning.

use std::ffi::OsStr;
use std::path::{Component, Path};

use crate::context::Context;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceState {
    Present,
    /// Nothing of that name in the context folder.
    Missing,
    /// On disk, but `.dockerignore` keeps it out of the context.
    Excluded,
    /// A folder with files on disk, none of which `.dockerignore` lets into the context
    /// (the folder itself may still be sent, empty).
    EmptiedFolder,
}

/// Where `source` (as written in the Dockerfile, variables substituted) stands in
/// `context`, whose folder is `context_dir`.
pub fn source_state(context: &Context, context_dir: &Path, source: &str) -> SourceState {
    let segments = segments(source);
    if segments.is_empty() || segments.contains(&"**") {
        return SourceState::Present;
    }
    let patterns: Vec<Pattern> = segments.iter().map(|s| Pattern::new(s)).collect();
    let wildcard = patterns.iter().any(Pattern::is_wildcard);
    for (path, is_link) in context.paths() {
        let names: Vec<&OsStr> = path
            .components()
            .filter_map(|c| match c {
                Component::Normal(name) => Some(name),
                _ => None,
            })
            .collect();
        let shared = names.len().min(patterns.len());
        let prefix_matches = names[..shared]
            .iter()
            .zip(&patterns)
            .all(|(name, pattern)| pattern.matches(name));
        if !prefix_matches {
            continue;
        }
        // The path itself, a file inside it, or a link on the way that Docker follows.
        if names.len() >= patterns.len() || is_link {
            return SourceState::Present;
        }
    }
    if wildcard {
        return SourceState::Missing;
    }
    let on_disk = segments
        .iter()
        .fold(context_dir.to_owned(), |path, s| path.join(s));
    match std::fs::symlink_metadata(&on_disk) {
        Err(_) => SourceState::Missing,
        Ok(m) if m.is_dir() => {
            let has_files = std::fs::read_dir(&on_disk).is_ok_and(|mut d| d.next().is_some());
            if has_files {
                SourceState::EmptiedFolder
            } else {
                SourceState::Present
            }
        }
        Ok(_) => SourceState::Excluded,
    }
}

/// The path's segments from the context root: a leading `/` or `./` and `.` segments mean
/// nothing, and `..` cannot climb above the root (Docker confines sources to the context).
fn segments(source: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for segment in source.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    out
}

/// One path segment of a source, with Go's `filepath.Match` wildcards: `*`, `?`, `[...]`
/// (`[^...]` or `[!...]` negated, ranges `a-z`) and `\` escaping the next character.
#[derive(Debug)]
struct Pattern {
    tokens: Vec<Token>,
}

#[derive(Debug)]
enum Token {
    Literal(char),
    AnyOne,
    AnyRun,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Pattern {
    fn new(text: &str) -> Self {
        let chars: Vec<char> = text.chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '*' => tokens.push(Token::AnyRun),
                '?' => tokens.push(Token::AnyOne),
                '\\' if i + 1 < chars.len() => {
                    i += 1;
                    tokens.push(Token::Literal(chars[i]));
                }
                '[' => match class(&chars[i + 1..]) {
                    Some((token, used)) => {
                        tokens.push(token);
                        i += used;
                    }
                    None => tokens.push(Token::Literal('[')),
                },
                c => tokens.push(Token::Literal(c)),
            }
            i += 1;
        }
        Self { tokens }
    }

    fn is_wildcard(&self) -> bool {
        self.tokens.iter().any(|t| !matches!(t, Token::Literal(_)))
    }

    /// Whether the whole `name` matches. A name that is not UTF-8 matches only wildcards
    /// (its undecodable bytes stand for characters no literal in a Dockerfile can be).
    fn matches(&self, name: &OsStr) -> bool {
        let name: Vec<char> = match name.to_str() {
            Some(s) => s.chars().collect(),
            None => name.to_string_lossy().chars().collect(),
        };
        let exact = name.iter().all(|c| *c != char::REPLACEMENT_CHARACTER) || self.is_wildcard();
        exact && self.matches_chars(&name)
    }

    /// Dynamic programming over (token, character) positions, so a hostile pattern such
    /// as `*a*a*a*a*b` costs time proportional to its length times the name's.
    fn matches_chars(&self, name: &[char]) -> bool {
        let n = name.len();
        // row[j]: tokens[i..] match name[j..]
        let mut next = vec![false; n + 1];
        next[n] = true;
        for token in self.tokens.iter().rev() {
            let mut row = vec![false; n + 1];
            for j in (0..=n).rev() {
                row[j] = match token {
                    Token::AnyRun => next[j] || (j < n && row[j + 1]),
                    Token::AnyOne => j < n && next[j + 1],
                    Token::Literal(c) => j < n && name[j] == *c && next[j + 1],
                    Token::Class { negated, ranges } => {
                        j < n
                            && ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&name[j]))
                                != *negated
                            && next[j + 1]
                    }
                };
            }
            next = row;
        }
        next[0]
    }
}

/// The class after a `[`: the token and how many characters it used (through the `]`), or
/// `None` when it is never closed.
fn class(chars: &[char]) -> Option<(Token, usize)> {
    let mut i = 0;
    let negated = matches!(chars.first(), Some('^' | '!'));
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    while i < chars.len() {
        let c = chars[i];
        if c == ']' && !first {
            return Some((Token::Class { negated, ranges }, i + 1));
        }
        first = false;
        let lo = if c == '\\' && i + 1 < chars.len() {
            i += 1;
            chars[i]
        } else {
            c
        };
        if i + 2 < chars.len() && chars[i + 1] == '-' && chars[i + 2] != ']' {
            ranges.push((lo, chars[i + 2]));
            i += 3;
        } else {
            ranges.push((lo, lo));
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipway_testkit::tree;

    fn state(files: &[(&str, &str)], source: &str) -> SourceState {
        let dir = tree(files);
        let context = Context::scan(dir.path(), &dir.path().join("Dockerfile")).unwrap();
        source_state(&context, dir.path(), source)
    }

    const APP: &[(&str, &str)] = &[
        ("Dockerfile", "FROM scratch"),
        (".dockerignore", "secrets.env\nbuild/\n"),
        ("package.json", "{}"),
        ("tsconfig.json", "{}"),
        ("src/index.ts", "x"),
        ("secrets.env", "x"),
        ("build/out.js", "x"),
    ];

    #[test]
    fn literal_paths_files_and_folders_are_found_from_the_context_root() {
        for present in [
            "package.json",
            "./package.json",
            "/src",
            "src/",
            "src/../src/index.ts",
            ".",
            "../package.json",
        ] {
            assert_eq!(state(APP, present), SourceState::Present, "{present}");
        }
        assert_eq!(state(APP, "requirements.txt"), SourceState::Missing);
        assert_eq!(state(APP, "src/main.ts"), SourceState::Missing);
    }

    #[test]
    fn what_dockerignore_excludes_is_told_apart_from_what_is_missing() {
        assert_eq!(state(APP, "secrets.env"), SourceState::Excluded);
        assert_eq!(state(APP, "build/out.js"), SourceState::Excluded);
        assert_eq!(state(APP, "build"), SourceState::EmptiedFolder);
    }

    #[test]
    fn wildcards_match_one_segment_at_a_time() {
        assert_eq!(state(APP, "*.json"), SourceState::Present);
        assert_eq!(state(APP, "s?c/*.ts"), SourceState::Present);
        assert_eq!(state(APP, "[pt]*.json"), SourceState::Present);
        assert_eq!(
            state(APP, "sr*"),
            SourceState::Present,
            "a folder matches too"
        );
        assert_eq!(
            state(APP, "*.ts"),
            SourceState::Missing,
            "* does not cross /"
        );
        assert_eq!(
            state(APP, "*.env"),
            SourceState::Missing,
            "excluded files do not match"
        );
        assert_eq!(state(APP, "[!a-zA-Z.]*"), SourceState::Missing);
        assert_eq!(
            state(APP, "**/*.ts"),
            SourceState::Present,
            "** is not judged"
        );
    }

    #[test]
    fn an_empty_folder_and_a_path_through_a_link_are_not_called_missing() {
        let dir = tree(&[("Dockerfile", "FROM scratch"), ("real/a.txt", "x")]);
        std::fs::create_dir(dir.path().join("empty")).unwrap();
        std::os::unix::fs::symlink("real", dir.path().join("link")).unwrap();
        let context = Context::scan(dir.path(), &dir.path().join("Dockerfile")).unwrap();
        assert_eq!(
            source_state(&context, dir.path(), "empty"),
            SourceState::Present
        );
        assert_eq!(
            source_state(&context, dir.path(), "link/a.txt"),
            SourceState::Present
        );
    }

    #[test]
    fn a_hostile_pattern_is_matched_in_bounded_time() {
        let pattern = Pattern::new(&"*a".repeat(60));
        let name = "a".repeat(59) + "b";
        let started = std::time::Instant::now();
        assert!(!pattern.matches(OsStr::new(&name)));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn files_named_in_latin1_are_matched_by_wildcards_and_never_by_a_lookalike() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tree(&[("Dockerfile", "FROM scratch")]);
        for name in [&b"caf\xe9.txt"[..], &b"caf\xe8.txt"[..]] {
            std::fs::write(dir.path().join(OsStr::from_bytes(name)), "x").unwrap();
        }
        let context = Context::scan(dir.path(), &dir.path().join("Dockerfile")).unwrap();
        assert_eq!(
            context.paths().count(),
            3,
            "two names that decode alike are two files"
        );
        assert_eq!(
            source_state(&context, dir.path(), "caf*.txt"),
            SourceState::Present
        );
        assert_eq!(
            source_state(&context, dir.path(), "caf\u{e9}.txt"),
            SourceState::Missing,
            "the UTF-8 name is another file"
        );
    }

    #[test]
    fn names_that_are_not_utf8_stay_distinct() {
        use std::os::unix::ffi::OsStrExt;
        let odd = OsStr::from_bytes(b"caf\xe9.txt");
        assert!(
            !Pattern::new("caf\u{FFFD}.txt").matches(odd),
            "no literal can name it"
        );
        assert!(Pattern::new("caf*.txt").matches(odd));
    }
}
