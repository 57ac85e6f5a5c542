//! Reading the legacy builder's stream: "Step N/M : INSTRUCTION" lines become step events,
//! pull status becomes layer progress (emitted only when it moves by a percent or changes
//! status), and the output since the current step is kept so a failure can show it.

use std::collections::HashMap;
use std::time::Instant;

use bollard::models::{BuildInfo, BuildInfoAux};

use super::BuildEvent;
use slipway_core::error::EngineError;

/// How many output lines of the failing step a failure carries.
pub(super) const FAILURE_LINES: usize = 40;

#[derive(Debug, Clone, PartialEq)]
pub struct BuildStep {
    pub step: u32,
    pub total: u32,
    pub instruction: String,
}

pub struct StreamReader {
    started: Instant,
    step: Option<BuildStep>,
    step_output: Vec<String>,
    image_id: Option<String>,
    layers: HashMap<String, (String, u32)>,
    partial: String,
}

impl StreamReader {
    pub fn new(started: Instant) -> Self {
        Self {
            started,
            step: None,
            step_output: Vec::new(),
            image_id: None,
            layers: HashMap::new(),
            partial: String::new(),
        }
    }

    pub fn image_id(&self) -> Option<String> {
        self.image_id.clone()
    }

    /// The events one message of the stream yields.
    pub fn read(&mut self, info: BuildInfo) -> Vec<BuildEvent> {
        let mut events = Vec::new();
        if let Some(BuildInfoAux::Default(image)) = info.aux {
            if let Some(id) = image.id {
                self.image_id = Some(id);
            }
        }
        if let Some(text) = info.stream {
            self.partial.push_str(&text);
            while let Some(end) = self.partial.find('\n') {
                let line: String = self.partial.drain(..=end).collect();
                self.read_line(&strip_ansi(line.trim_end()), &mut events);
            }
        }
        if let Some(status) = info.status {
            let id = info.id.unwrap_or_default();
            let (current, total) = info
                .progress_detail
                .map(|p| (p.current.unwrap_or(0), p.total.unwrap_or(0)))
                .unwrap_or((0, 0));
            let percent = if total > 0 {
                (current * 100 / total) as u32
            } else {
                0
            };
            let last = self.layers.get(&id);
            if last.is_none_or(|(s, p)| *s != status || *p != percent) {
                self.layers.insert(id.clone(), (status.clone(), percent));
                events.push(BuildEvent::LayerProgressed {
                    id,
                    status,
                    current: current as f64,
                    total: total as f64,
                });
            }
        }
        events
    }

    fn read_line(&mut self, line: &str, events: &mut Vec<BuildEvent>) {
        if let Some(step) = parse_step(line) {
            events.push(BuildEvent::StepStarted {
                step: step.step,
                total: step.total,
                instruction: step.instruction.clone(),
                stage: None,
                elapsed_ms: self.started.elapsed().as_secs_f64() * 1000.0,
            });
            self.step = Some(step);
            self.step_output.clear();
            return;
        }
        if let Some(id) = line.strip_prefix("Successfully built ") {
            self.image_id.get_or_insert_with(|| id.trim().to_owned());
        }
        if line.trim().is_empty() {
            return;
        }
        self.step_output.push(line.to_owned());
        if self.step_output.len() > FAILURE_LINES {
            self.step_output.remove(0);
        }
        events.push(BuildEvent::OutputLogged {
            line: line.to_owned(),
        });
    }

    /// The error for a build that stopped with `reason`, naming the step that failed.
    pub fn failure(&self, reason: String) -> EngineError {
        EngineError::BuildFailed {
            step: self
                .step
                .as_ref()
                .map(|s| format!("step {}/{} ({})", s.step, s.total, s.instruction)),
            reason: strip_ansi(reason.trim()),
            output: self.step_output.clone(),
        }
    }
}

/// `text` without terminal escape sequences (colours, cursor moves), which builders put
/// in their output for terminals and which would show as "[91m" in the window.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            // CSI: ESC [ parameters, ended by a letter (or @ ~).
            Some('[') => {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            // OSC: ESC ] … ended by BEL or ESC \.
            Some(']') => {
                chars.next();
                while let Some(c) = chars.next() {
                    if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                        break;
                    }
                }
            }
            _ => {
                chars.next();
            }
        }
    }
    out
}

/// "Step 3/5 : COPY site/ /www/" as the legacy builder prints it.
fn parse_step(line: &str) -> Option<BuildStep> {
    let rest = line.strip_prefix("Step ")?;
    let (numbers, instruction) = rest.split_once(" : ")?;
    let (step, total) = numbers.split_once('/')?;
    Some(BuildStep {
        step: step.trim().parse().ok()?,
        total: total.trim().parse().ok()?,
        instruction: instruction.trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::ProgressDetail;

    fn stream(text: &str) -> BuildInfo {
        BuildInfo {
            stream: Some(text.into()),
            ..Default::default()
        }
    }

    #[test]
    fn steps_output_and_the_failing_step_are_read_from_the_stream() {
        let mut reader = StreamReader::new(Instant::now());
        let mut events = reader.read(stream(
            "Step 1/3 : FROM busybox:1.36\n ---> 1a2b\nStep 2/3 : RUN ",
        ));
        events.extend(reader.read(stream("false\n")));
        events.extend(reader.read(stream(" ---> Running in 9f\nboom happened\n")));
        let steps: Vec<(u32, String)> = events
            .iter()
            .filter_map(|e| match e {
                BuildEvent::StepStarted {
                    step, instruction, ..
                } => Some((*step, instruction.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            steps,
            vec![(1, "FROM busybox:1.36".into()), (2, "RUN false".into())],
            "a line split across messages is joined"
        );
        let err =
            reader.failure("The command '/bin/sh -c false' returned a non-zero code: 1".into());
        let EngineError::BuildFailed { step, output, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(step.as_deref(), Some("step 2/3 (RUN false)"));
        assert_eq!(
            output,
            &vec![" ---> Running in 9f".to_owned(), "boom happened".to_owned()],
            "only the failing step's output"
        );
        assert!(err.to_string().contains("step 2/3 (RUN false)"), "{err}");
    }

    #[test]
    fn layer_progress_is_reported_only_when_it_moves() {
        let mut reader = StreamReader::new(Instant::now());
        let pull = |current| BuildInfo {
            id: Some("abc".into()),
            status: Some("Downloading".into()),
            progress_detail: Some(ProgressDetail {
                current: Some(current),
                total: Some(1000),
            }),
            ..Default::default()
        };
        assert_eq!(reader.read(pull(100)).len(), 1);
        assert_eq!(
            reader.read(pull(104)).len(),
            0,
            "under a percent of change is not news"
        );
        assert_eq!(reader.read(pull(200)).len(), 1);
    }

    #[test]
    fn colour_codes_never_reach_the_output() {
        assert_eq!(
            strip_ansi("\u{1b}[91mERROR: boom\u{1b}[0m and \u{1b}]0;title\u{7}done"),
            "ERROR: boom and done"
        );
        let mut reader = StreamReader::new(Instant::now());
        let events = reader.read(stream(
            "\u{1b}[91mE: Unable to locate package nope\u{1b}[0m\n",
        ));
        assert_eq!(
            events,
            vec![BuildEvent::OutputLogged {
                line: "E: Unable to locate package nope".into()
            }]
        );
    }

    #[test]
    fn the_image_id_comes_from_aux_or_the_last_line() {
        let mut reader = StreamReader::new(Instant::now());
        reader.read(stream("Successfully built 5d0c1ab2\n"));
        assert_eq!(reader.image_id().as_deref(), Some("5d0c1ab2"));
    }
}
