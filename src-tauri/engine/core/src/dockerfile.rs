//! Just enough of the Dockerfile grammar for pre-flight and build progress: instructions
//! with line continuations, comments and heredoc bodies; the stages (FROM ... AS ...);
//! what COPY and ADD take from the build context; EXPOSE and the command. ARGs declared
//! before the first FROM (their defaults, or the project's build args) are substituted into
//! FROM lines, and a stage's ARG and ENV values into its COPY sources; whatever names a
//! variable nobody gave a value stays unresolved rather than guessed.

use std::collections::HashMap;
use std::path::Path;

use crate::error::Result;
use crate::user_files::{read_text, TEXT_FILE_LIMIT};

#[derive(Debug, Clone, PartialEq)]
pub struct Instruction {
    /// Upper-cased keyword, e.g. `COPY`.
    pub keyword: String,
    pub args: String,
    /// 1-based line where the instruction starts.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// The image or earlier stage this stage starts from, after ARG substitution (the text
    /// as written when it names an ARG without a value).
    pub base: String,
    /// False when `base` names an ARG that has no value here: it is then not checked.
    pub base_resolved: bool,
    /// `--platform=` on the FROM line, when given.
    pub platform: Option<String>,
    pub alias: Option<String>,
    /// 1-based line of the FROM.
    pub line: usize,
    pub instructions: Vec<Instruction>,
}

impl Stage {
    /// The stage's name as Docker and the build output call it: its alias, or its index.
    pub fn name(&self, index: usize) -> String {
        self.alias.clone().unwrap_or_else(|| index.to_string())
    }
}

/// A path a COPY or ADD takes from the build context, after variable substitution.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextSource {
    /// `COPY` or `ADD`.
    pub keyword: String,
    /// As written after substitution (may hold wildcards, may start with `/` or `./`).
    pub path: String,
    pub line: usize,
}

/// Variable values known at a point of the file: `None` for one declared without a value.
type Vars = HashMap<String, Option<String>>;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dockerfile {
    pub stages: Vec<Stage>,
    /// ARG instructions before the first FROM (the legacy builder runs each as a step).
    pub global_args: usize,
    /// The values of those ARGs (build args over defaults), for stages that declare them again.
    globals: Vars,
    build_args: HashMap<String, String>,
}

impl Dockerfile {
    /// The Dockerfile at `path` (only a regular file, at most [`TEXT_FILE_LIMIT`] bytes),
    /// or `None` when there is none.
    pub fn read(path: &Path) -> Result<Option<Self>> {
        Self::read_with(path, &HashMap::new())
    }

    /// As [`Dockerfile::read`], with the project's build args given to its ARGs.
    pub fn read_with(path: &Path, build_args: &HashMap<String, String>) -> Result<Option<Self>> {
        Ok(read_text(path, TEXT_FILE_LIMIT)?.map(|text| Self::parse_with(&text, build_args)))
    }

    pub fn parse(text: &str) -> Self {
        Self::parse_with(text, &HashMap::new())
    }

    pub fn parse_with(text: &str, build_args: &HashMap<String, String>) -> Self {
        let mut stages: Vec<Stage> = Vec::new();
        let mut globals = Vars::new();
        let mut global_args = 0;
        for instruction in instructions(text) {
            match instruction.keyword.as_str() {
                "ARG" if stages.is_empty() => {
                    global_args += 1;
                    for (name, default) in declarations(&instruction.args) {
                        let value = build_args.get(&name).cloned().or(default);
                        globals.insert(name, value);
                    }
                }
                "FROM" => stages.push(parse_from(&instruction, &globals)),
                _ => {
                    if let Some(stage) = stages.last_mut() {
                        stage.instructions.push(instruction);
                    }
                }
            }
        }
        Self {
            stages,
            global_args,
            globals,
            build_args: build_args.clone(),
        }
    }

    /// How many steps the legacy builder announces ("Step N/M"): every instruction, FROM
    /// and the ARGs before the first FROM included. BuildKit numbers steps per stage and
    /// skips stages the target does not need, so this is not what it shows.
    pub fn legacy_steps(&self) -> u32 {
        let in_stages: usize = self.stages.iter().map(|s| 1 + s.instructions.len()).sum();
        (self.global_args + in_stages) as u32
    }

    pub fn final_stage(&self) -> Option<&Stage> {
        self.stages.last()
    }

    /// The stage a stage named `base` refers to, if `base` is an earlier stage's alias or index.
    pub fn stage_named(&self, base: &str) -> Option<&Stage> {
        self.stages
            .iter()
            .find(|s| {
                s.alias
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(base))
            })
            .or_else(|| base.parse::<usize>().ok().and_then(|i| self.stages.get(i)))
    }

    /// The external image the final stage ultimately starts from (following stage
    /// references), with its FROM platform, or `None` for an empty file.
    pub fn final_base(&self) -> Option<(&str, Option<&str>)> {
        let mut stage = self.final_stage()?;
        for _ in 0..self.stages.len() {
            match self.stage_named(&stage.base) {
                Some(earlier) if !std::ptr::eq(earlier, stage) => stage = earlier,
                _ => break,
            }
        }
        Some((stage.base.as_str(), stage.platform.as_deref()))
    }

    /// The stages that start from an external image: not `scratch`, not an earlier stage,
    /// not a FROM whose ARG has no value.
    pub fn external_stages(&self) -> Vec<&Stage> {
        self.stages
            .iter()
            .filter(|s| {
                s.base_resolved
                    && !s.base.is_empty()
                    && !s.base.eq_ignore_ascii_case("scratch")
                    && self.stage_named(&s.base).is_none()
            })
            .collect()
    }

    /// Every external base image with its FROM platform, in order (see [`Self::external_stages`]).
    pub fn external_bases(&self) -> Vec<(&str, Option<&str>)> {
        self.external_stages()
            .into_iter()
            .map(|s| (s.base.as_str(), s.platform.as_deref()))
            .collect()
    }

    /// What COPY and ADD take from the build context, in order. Not listed: `--from` copies
    /// (from a stage or an image), heredocs, URLs and git sources, and any source that
    /// names a variable with no value here.
    pub fn context_sources(&self) -> Vec<ContextSource> {
        let mut out = Vec::new();
        for stage in &self.stages {
            let mut vars = Vars::new();
            for instruction in &stage.instructions {
                match instruction.keyword.as_str() {
                    "ARG" => {
                        for (name, default) in declarations(&instruction.args) {
                            let value = self
                                .build_args
                                .get(&name)
                                .cloned()
                                .or(default)
                                .or_else(|| self.globals.get(&name).cloned().flatten());
                            vars.insert(name, value);
                        }
                    }
                    "ENV" => {
                        for (name, value) in env_pairs(&instruction.args) {
                            let value = substitute(&value, &vars);
                            vars.insert(name, value);
                        }
                    }
                    "COPY" | "ADD" => {
                        for path in copy_sources(&instruction.keyword, &instruction.args, &vars) {
                            out.push(ContextSource {
                                keyword: instruction.keyword.clone(),
                                path,
                                line: instruction.line,
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }

    /// Ports the final stage (and the stages it builds on) EXPOSE, in order.
    pub fn exposed_ports(&self) -> Vec<u16> {
        self.final_chain()
            .iter()
            .flat_map(|s| s.instructions.iter())
            .filter(|i| i.keyword == "EXPOSE")
            .flat_map(|i| i.args.split_whitespace())
            .filter_map(|p| p.split('/').next()?.parse().ok())
            .collect()
    }

    /// Whether the final stage (or a stage it builds on) sets CMD or ENTRYPOINT.
    pub fn has_command(&self) -> bool {
        self.final_chain()
            .iter()
            .flat_map(|s| s.instructions.iter())
            .any(|i| i.keyword == "CMD" || i.keyword == "ENTRYPOINT")
    }

    /// The final stage and the earlier stages it starts from, earliest first.
    fn final_chain(&self) -> Vec<&Stage> {
        let mut chain = Vec::new();
        let mut current = self.final_stage();
        while let Some(stage) = current {
            if chain.iter().any(|s: &&Stage| std::ptr::eq(*s, stage)) {
                break;
            }
            chain.push(stage);
            current = self
                .stage_named(&stage.base)
                .filter(|s| !std::ptr::eq(*s, stage));
        }
        chain.reverse();
        chain
    }
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| s.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        .unwrap_or(s)
}

/// `ARG a=1 b` as `[(a, Some(1)), (b, None)]`.
fn declarations(args: &str) -> Vec<(String, Option<String>)> {
    words(args)
        .into_iter()
        .map(|word| match word.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (word, None),
        })
        .collect()
}

/// `ENV a=1 b="x y"` (or the old `ENV a 1 2`) as name and value pairs, values unsubstituted.
fn env_pairs(args: &str) -> Vec<(String, String)> {
    let args = args.trim();
    let first = args.split_whitespace().next().unwrap_or_default();
    if !first.contains('=') {
        return match args.split_once(char::is_whitespace) {
            Some((name, value)) => vec![(name.to_owned(), value.trim().to_owned())],
            None => vec![],
        };
    }
    words(args)
        .into_iter()
        .filter_map(|w| w.split_once('=').map(|(n, v)| (n.to_owned(), v.to_owned())))
        .collect()
}

/// Whitespace-separated words, with quoted parts kept whole and their quotes removed.
/// Variables inside single quotes are protected by turning `$` into `\$`.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                in_word = true;
                match chars.next() {
                    // Kept escaped, so substitution leaves it a literal dollar.
                    Some('$') => word.push_str("\\$"),
                    Some(next) => word.push(next),
                    None => word.push('\\'),
                }
            }
            (Some(q), c) if c == q => quote = None,
            (Some('\''), '$') => word.push_str("\\$"),
            (_, c) => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

fn parse_from(instruction: &Instruction, globals: &Vars) -> Stage {
    let mut platform = None;
    let mut words = Vec::new();
    for word in instruction.args.split_whitespace() {
        if let Some(p) = word.strip_prefix("--platform=") {
            platform = substitute(p, globals).filter(|p| !p.is_empty());
        } else if !word.starts_with("--") {
            words.push(word);
        }
    }
    let written = words.first().copied().unwrap_or_default();
    let resolved = substitute(written, globals);
    let alias = match words.as_slice() {
        [_, as_kw, alias, ..] if as_kw.eq_ignore_ascii_case("as") => Some((*alias).to_owned()),
        _ => None,
    };
    Stage {
        base_resolved: resolved.is_some(),
        base: resolved.unwrap_or_else(|| written.to_owned()),
        platform,
        alias,
        line: instruction.line,
        instructions: Vec::new(),
    }
}

/// The paths a COPY or ADD (`keyword`, with `args` after the keyword) takes from the build
/// context, with `vars` substituted. See [`Dockerfile::context_sources`].
fn copy_sources(keyword: &str, args: &str, vars: &Vars) -> Vec<String> {
    let mut rest = args.trim_start();
    while rest.starts_with("--") {
        let (flag, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        if flag.starts_with("--from=") {
            return vec![];
        }
        rest = after.trim_start();
    }
    let json = rest
        .starts_with('[')
        .then(|| serde_json::from_str::<Vec<String>>(rest).ok())
        .flatten();
    let words = match json {
        Some(list) => list,
        None => words(rest),
    };
    let Some((_destination, sources)) = words.split_last() else {
        return vec![];
    };
    sources
        .iter()
        .filter(|s| !s.starts_with("<<"))
        .filter(|s| !(s.contains("://") || (keyword == "ADD" && s.starts_with("git@"))))
        .filter_map(|s| substitute(s, vars))
        .filter(|s| !s.is_empty())
        .collect()
}

/// `text` with `$NAME`, `${NAME}`, `${NAME:-default}` and `${NAME:+alternative}` replaced
/// from `vars`; `None` when it names a variable that has no value (and no default), so
/// nothing is guessed. `\$` is a literal dollar.
fn substitute(text: &str, vars: &Vars) -> Option<String> {
    let mut out = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if text[i + 1..].starts_with('$') => {
                out.push('$');
                chars.next();
            }
            '$' => {
                let after = &text[i + 1..];
                let (name, modifier, consumed) = if let Some(inner) = after.strip_prefix('{') {
                    let end = inner.find('}')?;
                    let body = &inner[..end];
                    let split = body
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(body.len());
                    (&body[..split], &body[split..], end + 2)
                } else {
                    let end = after
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(after.len());
                    (&after[..end], "", end)
                };
                if name.is_empty() {
                    out.push('$');
                    continue;
                }
                let value = vars.get(name).cloned().flatten();
                let replaced = match modifier {
                    "" => value?,
                    m if m.starts_with(":-") => value
                        .filter(|v| !v.is_empty())
                        .unwrap_or_else(|| m[2..].to_owned()),
                    m if m.starts_with('-') => value.unwrap_or_else(|| m[1..].to_owned()),
                    m if m.starts_with(":+") => match value {
                        Some(v) if !v.is_empty() => m[2..].to_owned(),
                        Some(_) => String::new(),
                        None => return None,
                    },
                    _ => return None,
                };
                out.push_str(&replaced);
                let skip_to = i + 1 + consumed;
                while chars.peek().is_some_and(|(j, _)| *j < skip_to) {
                    chars.next();
                }
            }
            c => out.push(c),
        }
    }
    Some(out)
}

/// The heredoc terminators a RUN, COPY or ADD line opens (`<<EOF`, `<<-EOF`, `<<"EOF"`),
/// in order, each with whether its body's lines may be indented with tabs.
fn heredocs(keyword: &str, args: &str) -> Vec<(String, bool)> {
    if !matches!(keyword, "RUN" | "COPY" | "ADD") {
        return vec![];
    }
    args.split_whitespace()
        .filter_map(|word| {
            let word = word.trim_start_matches(|c: char| c.is_ascii_digit());
            let marker = word.strip_prefix("<<")?;
            let (strip_tabs, marker) = match marker.strip_prefix('-') {
                Some(m) => (true, m),
                None => (false, marker),
            };
            let name = unquote(marker);
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            valid.then(|| (name.to_owned(), strip_tabs))
        })
        .collect()
}

/// The escape character a `# escape=` parser directive at the top of the file chooses.
fn escape_character(text: &str) -> char {
    for line in text.lines() {
        let Some(directive) = line.trim().strip_prefix('#') else {
            break;
        };
        let Some((key, value)) = directive.split_once('=') else {
            break;
        };
        if key.trim().eq_ignore_ascii_case("escape") && value.trim() == "`" {
            return '`';
        }
    }
    '\\'
}

/// The instructions of a Dockerfile: continuation lines joined, comments and blank lines
/// inside continuations dropped, heredoc bodies skipped (they are content, not instructions).
pub fn instructions(text: &str) -> Vec<Instruction> {
    let escape = escape_character(text);
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    let mut open_heredocs: std::collections::VecDeque<(String, bool)> = Default::default();
    for (index, raw) in text.lines().enumerate() {
        if let Some((terminator, strip_tabs)) = open_heredocs.front() {
            let line = if *strip_tabs {
                raw.trim_start_matches('\t')
            } else {
                raw
            };
            if line == terminator {
                open_heredocs.pop_front();
            }
            continue;
        }
        let trimmed = raw.trim();
        if trimmed.starts_with('#') || trimmed.is_empty() {
            continue;
        }
        let (body, continues) = match trimmed.strip_suffix(escape) {
            Some(body) => (body, true),
            None => (trimmed, false),
        };
        let entry = pending.get_or_insert_with(|| (index + 1, String::new()));
        if !entry.1.is_empty() {
            entry.1.push(' ');
        }
        entry.1.push_str(body.trim());
        if !continues {
            let (line, joined) = pending.take().expect("just inserted");
            if let Some(instruction) = instruction(line, &joined) {
                open_heredocs.extend(heredocs(&instruction.keyword, &instruction.args));
                out.push(instruction);
            }
        }
    }
    if let Some((line, joined)) = pending {
        out.extend(instruction(line, &joined));
    }
    out
}

fn instruction(line: usize, joined: &str) -> Option<Instruction> {
    let (keyword, args) = joined
        .split_once(char::is_whitespace)
        .unwrap_or((joined, ""));
    (!keyword.is_empty()).then(|| Instruction {
        keyword: keyword.to_ascii_uppercase(),
        args: args.trim().to_owned(),
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MULTI_STAGE: &str = r#"# syntax=docker/dockerfile:1
ARG NODE=node:20-alpine
FROM --platform=$BUILDPLATFORM ${NODE} AS build
WORKDIR /src
RUN npm ci && \
    npm run build
EXPOSE 3000

FROM build AS test
RUN npm test

FROM nginx:1.27
COPY --from=build /src/dist /usr/share/nginx/html
expose 80/tcp 443
"#;

    #[test]
    fn stages_bases_ports_and_continuations_are_read() {
        let d = Dockerfile::parse(MULTI_STAGE);
        assert_eq!(d.stages.len(), 3);
        assert_eq!(
            d.stages[0].base, "node:20-alpine",
            "ARG defaults reach FROM"
        );
        assert_eq!(d.stages[0].alias.as_deref(), Some("build"));
        assert_eq!(d.stages[0].instructions[1].args, "npm ci && npm run build");
        assert_eq!(d.stages[0].instructions[1].line, 5);
        assert_eq!(
            d.exposed_ports(),
            vec![80, 443],
            "only the final stage's EXPOSE counts"
        );
        assert!(!d.has_command(), "nginx's own CMD is not in this file");
        assert_eq!(
            d.external_bases(),
            vec![("node:20-alpine", None), ("nginx:1.27", None)]
        );
        assert_eq!(d.final_base(), Some(("nginx:1.27", None)));
    }

    #[test]
    fn a_final_stage_built_on_an_earlier_one_inherits_its_command_and_ports() {
        let d = Dockerfile::parse(
            "FROM busybox:1.36 AS base\nEXPOSE 8080\nCMD [\"httpd\"]\nFROM base\nCOPY . /www\n",
        );
        assert_eq!(d.exposed_ports(), vec![8080]);
        assert!(d.has_command());
        assert_eq!(d.final_base(), Some(("busybox:1.36", None)));
    }

    fn sources(text: &str) -> Vec<(String, usize)> {
        Dockerfile::parse(text)
            .context_sources()
            .into_iter()
            .map(|s| (s.path, s.line))
            .collect()
    }

    fn owned(list: &[(&str, usize)]) -> Vec<(String, usize)> {
        list.iter().map(|(p, l)| ((*p).to_owned(), *l)).collect()
    }

    #[test]
    fn copy_and_add_sources_come_with_their_lines_and_without_their_flags() {
        let text = "FROM busybox:1.36\n\
                    COPY --chown=app:app --chmod=644 --link requirements.txt ./\n\
                    COPY *.json package-lock.json /app/\n\
                    ADD --link=true site.tar.gz /srv/\n\
                    ADD https://example.com/a.tgz /tmp/\n\
                    COPY [\"a b.txt\", \"c\", \"/x/\"]\n\
                    COPY ./src/ /app/src\n";
        assert_eq!(
            sources(text),
            owned(&[
                ("requirements.txt", 2),
                ("*.json", 3),
                ("package-lock.json", 3),
                ("site.tar.gz", 4),
                ("a b.txt", 6),
                ("c", 6),
                ("./src/", 7),
            ]),
            "flags are not sources, the last word is the destination, a URL is not the context's"
        );
    }

    #[test]
    fn copies_from_a_stage_or_an_image_are_not_from_the_context() {
        let text = "FROM node:20 AS build\nCOPY package.json .\n\
                    FROM nginx:1.27\nCOPY --from=build /src/dist /usr/share/nginx/html\n\
                    COPY --chown=1:1 --from=busybox:1.36 /bin/busybox /bin/\n";
        assert_eq!(sources(text), owned(&[("package.json", 2)]));
    }

    #[test]
    fn heredocs_are_content_not_sources_and_their_bodies_are_not_instructions() {
        let text = "FROM busybox:1.36\n\
                    COPY <<EOF /etc/app.conf\n\
                    COPY nothing-here /x\n\
                    EOF\n\
                    RUN <<-'SCRIPT'\n\
                    \tFROM pretend\n\
                    \tSCRIPT\n\
                    COPY <<A <<B real.txt /both/\n\
                    a\nA\nb\nB\n\
                    CMD [\"sh\"]\n";
        let d = Dockerfile::parse(text);
        assert_eq!(d.stages.len(), 1, "a FROM inside a heredoc is not a stage");
        let keywords: Vec<&str> = d.stages[0]
            .instructions
            .iter()
            .map(|i| i.keyword.as_str())
            .collect();
        assert_eq!(keywords, vec!["COPY", "RUN", "COPY", "CMD"]);
        assert_eq!(sources(text), owned(&[("real.txt", 8)]));
    }

    #[test]
    fn continuations_join_sources_and_keep_the_first_line() {
        let text = "FROM busybox:1.36\n\
                    COPY a.txt \\\n\
                    \n\
                    # a comment inside\n\
                    \x20    b.txt \\\n\
                    \x20    /dest/\n\
                    RUN true\n";
        assert_eq!(sources(text), owned(&[("a.txt", 2), ("b.txt", 2)]));
        assert_eq!(Dockerfile::parse(text).stages[0].instructions[1].line, 7);
    }

    #[test]
    fn arg_and_env_sources_resolve_when_known_and_are_skipped_when_not() {
        let text = "ARG APP=web\nFROM busybox:1.36\n\
                    ARG APP\nARG CONFIG=prod.conf\nARG UNSET\nENV DIR=conf\n\
                    COPY $APP/ ${DIR}/${CONFIG} /srv/\n\
                    COPY ${UNSET}/x ${UNSET:-fallback.txt} /y/\n\
                    COPY '$NOT_A_VAR' /z/\n";
        assert_eq!(
            sources(text),
            owned(&[
                ("web/", 7),
                ("conf/prod.conf", 7),
                ("fallback.txt", 8),
                ("$NOT_A_VAR", 9)
            ]),
            "a variable without a value is not guessed (no false alarm)"
        );
        let mut args = HashMap::new();
        args.insert("UNSET".to_owned(), "given".to_owned());
        let given: Vec<String> = Dockerfile::parse_with(text, &args)
            .context_sources()
            .into_iter()
            .map(|s| s.path)
            .collect();
        assert!(given.contains(&"given/x".to_owned()), "{given:?}");
    }

    #[test]
    fn from_arguments_come_from_defaults_and_build_args_and_unknown_ones_are_not_checked() {
        let text = "ARG BASE=busybox\nARG TAG\nFROM ${BASE}:${TAG:-1.36} AS one\n\
                    FROM alpine:$TAG\nFROM $UNDECLARED\nFROM one\nFROM scratch\n";
        let d = Dockerfile::parse(text);
        assert_eq!(d.external_bases(), vec![("busybox:1.36", None)]);
        assert_eq!(d.stages[0].line, 3);
        assert!(!d.stages[1].base_resolved);
        let mut args = HashMap::new();
        args.insert("TAG".to_owned(), "3.19".to_owned());
        args.insert("BASE".to_owned(), "registry.local/busybox".to_owned());
        let d = Dockerfile::parse_with(text, &args);
        assert_eq!(
            d.external_bases(),
            vec![("registry.local/busybox:3.19", None), ("alpine:3.19", None)],
            "the project's build args win over defaults; stage names and scratch are not images"
        );
    }

    #[test]
    fn step_counts_per_stage_and_as_the_legacy_builder_numbers_them() {
        let d = Dockerfile::parse(MULTI_STAGE);
        let counts: Vec<(String, usize)> = d
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name(i), s.instructions.len()))
            .collect();
        assert_eq!(
            counts,
            vec![
                ("build".to_owned(), 3),
                ("test".to_owned(), 1),
                ("2".to_owned(), 2)
            ]
        );
        assert_eq!(
            d.legacy_steps(),
            10,
            "Step N/10: the ARG before FROM, three FROMs and six instructions"
        );
    }

    #[test]
    fn an_escape_directive_changes_the_continuation_character() {
        let d = Dockerfile::parse("# escape=`\nFROM busybox:1.36\nCOPY a `\n  b /x/\n");
        assert_eq!(d.stages[0].instructions[0].args, "a b /x/");
    }
}
