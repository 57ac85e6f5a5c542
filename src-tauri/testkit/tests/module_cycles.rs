//! No module cycles inside any of the workspace's crates: between two sibling modules
//! (children of the same parent), uses may go one way only. Cargo already forbids cycles
//! between crates; this test holds the same line inside each one.
//!
//! It follows `mod x;` declarations from each crate's root file, and reads every
//! `crate::a::b` and `super::b` path in a module's files (tests excluded: a test may reach
//! anywhere). A path names the module it reaches through, so `crate::cost::meter::iso` is
//! a use of `cost::meter`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One module of a crate: its path from the root (`["deploy", "status"]`) and the source
/// text of its file, without its `#[cfg(test)]` tail.
struct Module {
    path: Vec<String>,
    source: String,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("testkit sits two levels below the workspace root")
        .to_owned()
}

/// The crates and their root files.
fn crate_roots() -> Vec<(&'static str, PathBuf)> {
    let root = workspace_root();
    vec![
        ("slipway (desktop)", root.join("src-tauri/lib.rs")),
        (
            "slipway-core",
            root.join("src-tauri/engine/core/src/lib.rs"),
        ),
        (
            "slipway-docker",
            root.join("src-tauri/engine/docker/src/lib.rs"),
        ),
        ("slipway-aws", root.join("src-tauri/engine/aws/src/lib.rs")),
        ("slipway-app", root.join("src-tauri/app/src/lib.rs")),
        ("slipway-cli", root.join("src-tauri/cli/src/main.rs")),
        ("slipway-testkit", root.join("src-tauri/testkit/src/lib.rs")),
    ]
}

/// The code before the first `#[cfg(test)]` (test modules sit at the end of a file),
/// without comment lines: a doc comment may name any module.
fn without_tests(source: &str) -> String {
    let code = match source.find("#[cfg(test)]") {
        Some(at) => &source[..at],
        None => source,
    };
    code.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `mod x;` declarations (any visibility), not inline `mod x { … }` blocks.
fn declared_children(source: &str) -> Vec<String> {
    let mut children = Vec::new();
    for line in source.lines() {
        let line = line.trim();
        if line.starts_with("//") || !line.ends_with(';') {
            continue;
        }
        let words: Vec<&str> = line.trim_end_matches(';').split_whitespace().collect();
        if let Some(at) = words.iter().position(|w| *w == "mod") {
            if let Some(name) = words.get(at + 1) {
                if at == 0 || words[at - 1].starts_with("pub") {
                    children.push((*name).to_owned());
                }
            }
        }
    }
    children
}

fn load(root_file: &Path) -> Vec<Module> {
    let mut modules = Vec::new();
    let mut queue = vec![(Vec::<String>::new(), root_file.to_owned())];
    while let Some((path, file)) = queue.pop() {
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        let dir = file.parent().unwrap();
        let stem = file.file_stem().unwrap().to_string_lossy();
        let child_dir = if path.is_empty() || stem == "mod" {
            dir.to_owned()
        } else {
            dir.join(&*stem)
        };
        for child in declared_children(&without_tests(&text)) {
            let flat = child_dir.join(format!("{child}.rs"));
            let nested = child_dir.join(&child).join("mod.rs");
            let file = if flat.exists() { flat } else { nested };
            assert!(file.exists(), "module {child} of {path:?} has no file");
            let mut child_path = path.clone();
            child_path.push(child);
            queue.push((child_path, file));
        }
        modules.push(Module {
            path,
            source: without_tests(&text),
        });
    }
    modules
}

/// Every `crate::…` and `super::…` path in `source`, as module paths from the root, cut
/// to the longest prefix that is a module.
fn references(module: &Module, known: &BTreeSet<Vec<String>>) -> BTreeSet<Vec<String>> {
    let mut found = BTreeSet::new();
    let source = &module.source;
    for (start, _) in source
        .match_indices("crate::")
        .chain(source.match_indices("super::"))
    {
        // `self::super::` or `other_crate::…` are not this crate's paths.
        let before = source[..start].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &source[start..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let mut segments: Vec<&str> = rest[..end].split("::").filter(|s| !s.is_empty()).collect();
        let mut absolute: Vec<String> = match segments.first() {
            Some(&"crate") => {
                segments.remove(0);
                Vec::new()
            }
            _ => {
                // Each leading `super` goes up one level from this module.
                let mut base = module.path.clone();
                while segments.first() == Some(&"super") {
                    segments.remove(0);
                    base.pop();
                }
                base
            }
        };
        for segment in segments {
            absolute.push(segment.to_owned());
            if !known.contains(&absolute) {
                absolute.pop();
                break;
            }
        }
        found.insert(absolute);
    }
    // `use crate::{a, b::c}` groups.
    for (start, _) in source.match_indices("crate::{") {
        let rest = &source[start + "crate::{".len()..];
        let Some(close) = rest.find("};") else {
            continue;
        };
        for item in rest[..close].split(',') {
            let first = item.trim().split("::").next().unwrap_or("").trim();
            let first = first.trim_start_matches('{').trim();
            let path = vec![first.to_owned()];
            if known.contains(&path) {
                found.insert(path);
            }
        }
    }
    found
}

/// For each parent, the sibling-to-sibling use edges between its children.
fn sibling_edges(modules: &[Module]) -> BTreeMap<Vec<String>, BTreeSet<(String, String)>> {
    let known: BTreeSet<Vec<String>> = modules.iter().map(|m| m.path.clone()).collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<(String, String)>> = BTreeMap::new();
    for module in modules {
        for target in references(module, &known) {
            // The first level where the two paths part: there they are siblings.
            let common = module
                .path
                .iter()
                .zip(&target)
                .take_while(|(a, b)| a == b)
                .count();
            if common >= module.path.len() || common >= target.len() {
                continue; // a use of an ancestor or a descendant, not of a sibling
            }
            edges
                .entry(module.path[..common].to_vec())
                .or_default()
                .insert((module.path[common].clone(), target[common].clone()));
        }
    }
    edges
}

/// The cycles among one parent's children, each as its members (the strongly connected sets of two or more).
fn cycles(edges: &BTreeSet<(String, String)>) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&String> = edges.iter().flat_map(|(a, b)| [a, b]).collect();
    let reaches = |from: &String| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(node) = stack.pop() {
            for (a, b) in edges {
                if *a == node && seen.insert(b.clone()) {
                    stack.push(b.clone());
                }
            }
        }
        seen
    };
    let reach: BTreeMap<&String, BTreeSet<String>> =
        nodes.iter().map(|n| (*n, reaches(n))).collect();
    let mut found: Vec<Vec<String>> = Vec::new();
    let mut placed = BTreeSet::new();
    for node in &nodes {
        if placed.contains(*node) || !reach[node].contains(*node) {
            continue;
        }
        let members: Vec<String> = nodes
            .iter()
            .filter(|other| reach[node].contains(**other) && reach[*other].contains(*node))
            .map(|n| (*n).clone())
            .collect();
        placed.extend(members.iter().cloned());
        found.push(members);
    }
    found
}

#[test]
fn no_crate_has_a_cycle_between_its_modules() {
    let mut report = Vec::new();
    for (name, root) in crate_roots() {
        let modules = load(&root);
        assert!(
            modules.len() > 1 || name == "slipway-testkit",
            "{name}: no modules found"
        );
        for (parent, edges) in sibling_edges(&modules) {
            for cycle in cycles(&edges) {
                let within = if parent.is_empty() {
                    "the crate root".to_owned()
                } else {
                    parent.join("::")
                };
                let uses: Vec<String> = edges
                    .iter()
                    .filter(|(a, b)| cycle.contains(a) && cycle.contains(b))
                    .map(|(a, b)| format!("{a} → {b}"))
                    .collect();
                report.push(format!("{name}, in {within}: {}", uses.join(", ")));
            }
        }
    }
    assert!(
        report.is_empty(),
        "modules that use each other (a use must go one way; move what both need to a \
         module of its own below them):\n{}",
        report.join("\n")
    );
}

#[test]
fn the_reader_sees_a_cycle_it_is_shown() {
    let edges: BTreeSet<(String, String)> = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    assert_eq!(
        cycles(&edges),
        vec![vec!["a".to_owned(), "b".into(), "c".into()]]
    );
    let one_way: BTreeSet<(String, String)> =
        [("a".to_owned(), "b".to_owned())].into_iter().collect();
    assert!(cycles(&one_way).is_empty(), "a one-way use is no cycle");
}
