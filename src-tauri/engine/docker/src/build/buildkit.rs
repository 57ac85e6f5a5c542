//! Reading BuildKit's status stream (the `moby.buildkit.trace` messages bollard decodes
//! into `StatusResponse`s): each numbered vertex (`[build 2/5] RUN pip install …`) becomes
//! a step that starts and finishes (cached or with its time), its log lines become output,
//! transfers become layer progress, and the vertex that failed is kept with its own output
//! so a failure names the step and shows why.

use std::collections::HashMap;
use std::time::Instant;

use bollard::moby::buildkit::v1::StatusResponse;

use super::stream::{strip_ansi, FAILURE_LINES};
use super::BuildEvent;
use slipway_core::error::EngineError;

/// One vertex of the build graph, as far as it has been reported.
#[derive(Debug, Default)]
struct Vertex {
    name: String,
    started: bool,
    completed: bool,
    /// When the stream first said the vertex started, for its time.
    started_at: Option<Instant>,
    output: Vec<String>,
    partial: String,
}

/// A numbered step in a vertex name: stage (when named), step, total, instruction.
#[derive(Debug, Clone, PartialEq)]
pub struct VertexStep {
    pub stage: Option<String>,
    pub step: u32,
    pub total: u32,
    pub instruction: String,
}

pub struct StatusReader {
    started: Instant,
    vertices: HashMap<String, Vertex>,
    failed: Option<String>,
    transfers: HashMap<String, (String, u32)>,
}

impl StatusReader {
    pub fn new(started: Instant) -> Self {
        Self {
            started,
            vertices: HashMap::new(),
            failed: None,
            transfers: HashMap::new(),
        }
    }

    /// The events one status message yields.
    pub fn read(&mut self, status: StatusResponse) -> Vec<BuildEvent> {
        let mut events = Vec::new();
        for v in status.vertexes {
            let vertex = self.vertices.entry(v.digest.clone()).or_default();
            vertex.name = v.name;
            let step = parse_vertex(&vertex.name);
            if v.started.is_some() && !vertex.started {
                vertex.started = true;
                vertex.started_at = Some(Instant::now());
                if let Some(step) = &step {
                    events.push(BuildEvent::StepStarted {
                        step: step.step,
                        total: step.total,
                        instruction: step.instruction.clone(),
                        stage: step.stage.clone(),
                        elapsed_ms: ms(self.started),
                    });
                }
            }
            if !v.error.is_empty() && self.failed.is_none() && !is_cancel_echo(&v.error) {
                self.failed = Some(v.digest.clone());
            }
            if (v.completed.is_some() || v.cached) && !vertex.completed {
                vertex.completed = true;
                if let Some(step) = step.filter(|_| v.error.is_empty()) {
                    events.push(BuildEvent::StepFinished {
                        step: step.step,
                        total: step.total,
                        instruction: step.instruction,
                        stage: step.stage,
                        cached: v.cached,
                        step_ms: vertex.started_at.map(ms).unwrap_or(0.0),
                    });
                }
            }
        }
        for s in status.statuses {
            let percent = if s.total > 0 {
                (s.current.max(0) * 100 / s.total) as u32
            } else {
                0
            };
            let label = if s.completed.is_some() {
                "Done".to_owned()
            } else {
                s.name.clone()
            };
            let last = self.transfers.get(&s.id);
            if last.is_none_or(|(l, p)| *l != label || *p != percent) {
                self.transfers
                    .insert(s.id.clone(), (label.clone(), percent));
                events.push(BuildEvent::LayerProgressed {
                    id: s.id,
                    status: label,
                    current: s.current.max(0) as f64,
                    total: s.total.max(0) as f64,
                });
            }
        }
        for log in status.logs {
            let vertex = self.vertices.entry(log.vertex).or_default();
            vertex.partial.push_str(&String::from_utf8_lossy(&log.msg));
            while let Some(end) = vertex.partial.find('\n') {
                let raw: String = vertex.partial.drain(..=end).collect();
                let line = strip_ansi(raw.trim_end());
                if line.trim().is_empty() {
                    continue;
                }
                vertex.output.push(line.clone());
                if vertex.output.len() > FAILURE_LINES {
                    vertex.output.remove(0);
                }
                events.push(BuildEvent::OutputLogged { line });
            }
        }
        events
    }

    /// The error for a build that stopped with `reason`, naming the vertex that failed
    /// (its step when it has one) with its own last output lines.
    pub fn failure(&self, reason: String) -> EngineError {
        let failed = self.failed.as_ref().and_then(|d| self.vertices.get(d));
        let step = failed.map(|v| match parse_vertex(&v.name) {
            Some(s) => match &s.stage {
                Some(stage) => format!(
                    "step {}/{} of stage {stage} ({})",
                    s.step, s.total, s.instruction
                ),
                None => format!("step {}/{} ({})", s.step, s.total, s.instruction),
            },
            None => v.name.clone(),
        });
        let mut output = failed.map(|v| v.output.clone()).unwrap_or_default();
        if let Some(rest) = failed.map(|v| v.partial.trim()).filter(|p| !p.is_empty()) {
            output.push(strip_ansi(rest));
        }
        EngineError::BuildFailed {
            step,
            reason: strip_ansi(reason.trim()),
            output,
        }
    }
}

/// Vertices of other stages stopped because one failed say "context canceled"; they are
/// not the cause.
fn is_cancel_echo(error: &str) -> bool {
    error.contains("context canceled")
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// "[build 2/5] RUN pip install" or "[3/3] COPY site/ /www/": the numbered steps of the
/// Dockerfile. "[internal] load metadata …" and "exporting to image" are BuildKit's own.
pub fn parse_vertex(name: &str) -> Option<VertexStep> {
    let rest = name.strip_prefix('[')?;
    let (label, instruction) = rest.split_once("] ")?;
    // BuildKit pads the step number ("[ 2/12]", "[build  2/12]").
    let mut words: Vec<&str> = label.split_whitespace().collect();
    let numbers = words.pop()?;
    let stage = (!words.is_empty()).then(|| words.join(" "));
    let (step, total) = numbers.split_once('/')?;
    Some(VertexStep {
        stage,
        step: step.parse().ok()?,
        total: total.parse().ok()?,
        instruction: instruction.trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::moby::buildkit::v1::{Vertex as V, VertexLog, VertexStatus};

    fn vertex(digest: &str, name: &str, started: bool, completed: bool, cached: bool) -> V {
        V {
            digest: digest.into(),
            name: name.into(),
            started: started.then(Default::default),
            completed: completed.then(Default::default),
            cached,
            ..Default::default()
        }
    }

    fn log(digest: &str, text: &str) -> VertexLog {
        VertexLog {
            vertex: digest.into(),
            msg: text.as_bytes().to_vec(),
            stream: 1,
            ..Default::default()
        }
    }

    #[test]
    fn numbered_vertices_are_steps_and_internal_ones_are_not() {
        assert_eq!(
            parse_vertex("[build 2/5] RUN pip install -r requirements.txt"),
            Some(VertexStep {
                stage: Some("build".into()),
                step: 2,
                total: 5,
                instruction: "RUN pip install -r requirements.txt".into(),
            })
        );
        assert_eq!(parse_vertex("[3/3] COPY site/ /www/").unwrap().stage, None);
        let padded = parse_vertex("[build  2/12] RUN make").unwrap();
        assert_eq!(
            (padded.stage.as_deref(), padded.step, padded.total),
            (Some("build"), 2, 12)
        );
        assert_eq!(parse_vertex("[ 2/12] RUN make").unwrap().stage, None);
        assert_eq!(
            parse_vertex("[internal] load metadata for docker.io/library/busybox:1.36"),
            None
        );
        assert_eq!(parse_vertex("exporting to image"), None);
    }

    #[test]
    fn steps_start_finish_cached_or_timed_and_the_failed_one_keeps_its_output() {
        let mut reader = StatusReader::new(Instant::now());
        let mut events = reader.read(StatusResponse {
            vertexes: vec![
                vertex(
                    "a",
                    "[1/3] FROM docker.io/library/busybox:1.36",
                    true,
                    true,
                    true,
                ),
                vertex("b", "[2/3] RUN make", true, false, false),
            ],
            ..Default::default()
        });
        events.extend(reader.read(StatusResponse {
            logs: vec![
                log(
                    "b",
                    "\u{1b}[91mcc: error: nope\u{1b}[0m\nmake: *** [all] Er",
                ),
                log("b", "ror 1\n"),
            ],
            ..Default::default()
        }));
        events.extend(
            reader.read(StatusResponse {
                vertexes: vec![V {
                    error:
                        "process \"/bin/sh -c make\" did not complete successfully: exit code: 2"
                            .into(),
                    ..vertex("b", "[2/3] RUN make", true, true, false)
                }],
                ..Default::default()
            }),
        );
        let finished: Vec<(u32, bool)> = events
            .iter()
            .filter_map(|e| match e {
                BuildEvent::StepFinished { step, cached, .. } => Some((*step, *cached)),
                _ => None,
            })
            .collect();
        assert_eq!(finished, vec![(1, true)], "a failed step does not finish");
        let lines: Vec<&str> = events
            .iter()
            .filter_map(|e| match e {
                BuildEvent::OutputLogged { line } => Some(line.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            lines,
            vec!["cc: error: nope", "make: *** [all] Error 1"],
            "colour codes are stripped and split lines joined"
        );
        let err = reader.failure("\u{1b}[31mprocess \"/bin/sh -c make\" did not complete successfully: exit code: 2\u{1b}[0m".into());
        let EngineError::BuildFailed {
            step,
            reason,
            output,
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(step.as_deref(), Some("step 2/3 (RUN make)"));
        assert!(!reason.contains('\u{1b}'), "{reason}");
        assert_eq!(output.len(), 2);
    }

    #[test]
    fn transfers_are_reported_when_they_move() {
        let mut reader = StatusReader::new(Instant::now());
        let status = |current| StatusResponse {
            statuses: vec![VertexStatus {
                id: "sha256:abc".into(),
                name: "downloading".into(),
                current,
                total: 1000,
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(reader.read(status(100)).len(), 1);
        assert_eq!(reader.read(status(104)).len(), 0);
        assert_eq!(reader.read(status(500)).len(), 1);
    }
}
