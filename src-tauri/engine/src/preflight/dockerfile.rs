//! Just enough of the Dockerfile grammar for pre-flight and build progress: instructions
//! with line continuations and comments, the stages (FROM ... AS ...), EXPOSE and the
//! command. ARG defaults declared before the first FROM are substituted into FROM lines.

use std::collections::HashMap;
use std::path::Path;

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
    /// The image or earlier stage this stage starts from, after ARG substitution.
    pub base: String,
    /// `--platform=` on the FROM line, when given.
    pub platform: Option<String>,
    pub alias: Option<String>,
    pub instructions: Vec<Instruction>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dockerfile {
    pub stages: Vec<Stage>,
}

impl Dockerfile {
    pub fn read(path: &Path) -> std::io::Result<Self> {
        Ok(Self::parse(&std::fs::read_to_string(path)?))
    }

    pub fn parse(text: &str) -> Self {
        let mut stages: Vec<Stage> = Vec::new();
        let mut global_args: HashMap<String, String> = HashMap::new();
        for instruction in instructions(text) {
            match instruction.keyword.as_str() {
                "ARG" if stages.is_empty() => {
                    if let Some((name, value)) = instruction.args.split_once('=') {
                        global_args
                            .insert(name.trim().to_owned(), unquote(value.trim()).to_owned());
                    }
                }
                "FROM" => stages.push(parse_from(&instruction.args, &global_args)),
                _ => {
                    if let Some(stage) = stages.last_mut() {
                        stage.instructions.push(instruction);
                    }
                }
            }
        }
        Self { stages }
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

    /// Every external base image (not `scratch`, not an earlier stage).
    pub fn external_bases(&self) -> Vec<(&str, Option<&str>)> {
        self.stages
            .iter()
            .filter(|s| {
                !s.base.eq_ignore_ascii_case("scratch") && self.stage_named(&s.base).is_none()
            })
            .map(|s| (s.base.as_str(), s.platform.as_deref()))
            .collect()
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
        .unwrap_or(s)
}

fn parse_from(args: &str, global_args: &HashMap<String, String>) -> Stage {
    let mut platform = None;
    let mut words = Vec::new();
    for word in args.split_whitespace() {
        if let Some(p) = word.strip_prefix("--platform=") {
            platform = Some(substitute(p, global_args)).filter(|p| !p.is_empty());
        } else if !word.starts_with("--") {
            words.push(word);
        }
    }
    let base = words
        .first()
        .map(|w| substitute(w, global_args))
        .unwrap_or_default();
    let alias = match words.as_slice() {
        [_, as_kw, alias, ..] if as_kw.eq_ignore_ascii_case("as") => Some((*alias).to_owned()),
        _ => None,
    };
    Stage {
        base,
        platform,
        alias,
        instructions: Vec::new(),
    }
}

/// Replaces `$NAME` and `${NAME}` (and `${NAME:-default}`) with ARG defaults.
fn substitute(text: &str, args: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let (name, default, consumed) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => {
                    let body = &inner[..end];
                    let (name, default) = match body.split_once(":-") {
                        Some((n, d)) => (n, Some(d)),
                        None => (body, None),
                    };
                    (name, default, end + 2)
                }
                None => (inner, None, after.len()),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], None, end)
        };
        if let Some(value) = args.get(name).map(String::as_str).or(default) {
            out.push_str(value);
        }
        rest = &after[consumed..];
    }
    out.push_str(rest);
    out
}

/// The instructions of a Dockerfile, continuation lines joined, comments dropped.
pub fn instructions(text: &str) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && pending.is_none()) {
            continue;
        }
        let (body, continues) = match trimmed.strip_suffix('\\') {
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
            let (keyword, args) = joined
                .split_once(char::is_whitespace)
                .unwrap_or((&joined, ""));
            if !keyword.is_empty() {
                out.push(Instruction {
                    keyword: keyword.to_ascii_uppercase(),
                    args: args.trim().to_owned(),
                    line,
                });
            }
        }
    }
    if let Some((line, joined)) = pending {
        let (keyword, args) = joined
            .split_once(char::is_whitespace)
            .unwrap_or((&joined, ""));
        out.push(Instruction {
            keyword: keyword.to_ascii_uppercase(),
            args: args.trim().to_owned(),
            line,
        });
    }
    out
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
}
