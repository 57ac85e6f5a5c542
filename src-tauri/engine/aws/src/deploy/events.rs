//! What a deploy is asked and what it says: the request (mode, version or rollback,
//! deadline), the steps and events it streams to the window and the CLI, and the outcome
//! of one that answered.

use serde::{Deserialize, Serialize};

use super::history;
use slipway_core::diagnosis::Diagnosis;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum DeployMode {
    /// A standalone task (run-task), replaced by the next deploy.
    #[default]
    Task,
    /// An ECS service that keeps the task running and rolls deployments.
    Service,
}

impl DeployMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Task => "task",
            Self::Service => "service",
        }
    }

    pub fn parse(s: &str) -> Self {
        if s == "service" {
            Self::Service
        } else {
            Self::Task
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DeployRequest {
    #[serde(default)]
    pub mode: DeployMode,
    /// A local release; when absent, the release built from exactly what the folder holds
    /// now (an error when the folder changed since its last build).
    #[serde(default)]
    pub version: Option<String>,
    /// Task mode: leave the app's previous tasks running instead of stopping them once the
    /// new one answers.
    #[serde(default)]
    pub keep_previous: bool,
    /// How long the whole deploy may take, in seconds; 600 when absent.
    #[serde(default)]
    pub deadline_seconds: Option<u32>,
    /// Run an earlier revision instead of a local release (a rollback): nothing is built,
    /// pushed or registered; the revision and its image are checked first.
    #[serde(default)]
    pub rollback: Option<history::Rollback>,
    /// When another deploy of the app runs: wait for it (within the deadline) instead of
    /// being refused at once.
    #[serde(default)]
    pub wait_for_other_deploy: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum DeployStep {
    Push,
    Register,
    Start,
    Wait,
    Verify,
    Retire,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(tag = "type", content = "data", rename_all_fields = "camelCase")]
pub enum DeployEvent {
    Started {
        deploy_id: String,
        app: String,
        version: String,
        mode: DeployMode,
        account: String,
        region: String,
        deadline_seconds: u32,
    },
    StepStarted {
        step: DeployStep,
        detail: String,
        at_ms: f64,
    },
    StepDone {
        step: DeployStep,
        detail: String,
        at_ms: f64,
    },
    PushProgress {
        tag: String,
        status: String,
        layers_done: u32,
        layers: u32,
        current_bytes: f64,
        total_bytes: f64,
    },
    TaskDefinition {
        family: String,
        /// The revision in use after this step.
        revision: i32,
        /// The one it replaces, if any.
        previous_revision: Option<i32>,
        changes: Vec<String>,
        registered: bool,
    },
    TaskStatus {
        task_id: String,
        status: String,
        health: Option<String>,
        /// The state before this one and the milliseconds spent in it.
        previous: Option<String>,
        previous_ms: Option<f64>,
        at_ms: f64,
    },
    ServiceEvent {
        at: String,
        message: String,
    },
    /// A blue/green deployment's stage as ECS reports it (SCALE_UP, BAKE_TIME, ...), and
    /// what it means for the user's visitors.
    Rollout {
        stage: String,
        said: String,
    },
    /// A new task's target in the load balancer changed state (stable address).
    Target {
        task_id: String,
        /// `ip:port`.
        target: String,
        state: String,
        reason: Option<String>,
        said: String,
        at_ms: f64,
    },
    Address {
        task_id: String,
        public_ip: String,
        url: String,
    },
    Check {
        attempt: u32,
        outcome: String,
    },
    /// AWS failed in a way that passes (throttling, a 5xx, a reset, a timeout): the call is
    /// repeated until the deadline.
    Retrying {
        what: String,
        reason: String,
        attempt: u32,
    },
    /// Something after the new task answered did not work (the deploy still succeeded).
    Warning {
        message: String,
    },
    PreviousTasks {
        task_ids: Vec<String>,
        stopped: bool,
    },
    Failed {
        task_id: Option<String>,
        diagnosis: Diagnosis,
        last_log_lines: Vec<String>,
    },
}

/// A deploy that answered.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DeployOutcome {
    pub deploy_id: String,
    pub app: String,
    pub version: String,
    pub mode: DeployMode,
    pub url: String,
    pub public_ip: String,
    pub task_ids: Vec<String>,
    pub task_definition: String,
    pub revision: i32,
    pub image: String,
    pub pushed: bool,
    /// The HTTP status and the first bytes of the answer at the URL.
    pub http_status: u16,
    pub answer: String,
    pub stopped_previous: Vec<String>,
    pub kept_previous: Vec<String>,
    /// What did not work after the new task answered (a previous task that could not be
    /// stopped, a journal write), in words; the deploy succeeded all the same.
    pub warnings: Vec<String>,
    pub elapsed_ms: f64,
}
