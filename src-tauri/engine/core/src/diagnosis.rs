//! Why a Fargate task stopped, in plain language: the stop code, the stopped reason, each
//! container's exit code and reason, and the task's last log lines are matched against the
//! failure catalog (fargate-facts, "Failure catalog", late 2026) to give a cause and a
//! fix. A reason the catalog does not know is shown verbatim, never hidden. Pure: the
//! deploy watcher gathers the facts, this decides what they mean.

use serde::Serialize;

/// What ECS reported about a stopped task, as gathered when it was seen stopping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoppedTask {
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub containers: Vec<StoppedContainer>,
    /// The task's last log lines, oldest first.
    pub last_log_lines: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoppedContainer {
    pub name: String,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Diagnosis {
    /// What went wrong, for a person.
    pub cause: String,
    /// What to do about it.
    pub fix: String,
    /// AWS's own words that led here (stopped reason, container reason, exit code).
    pub evidence: String,
    /// False when no catalog entry matched: `cause` then quotes AWS verbatim.
    pub known: bool,
}

struct Entry {
    /// Every needle must appear (case-insensitive) in the task's text.
    all: &'static [&'static str],
    /// At least one must appear, when not empty.
    any: &'static [&'static str],
    cause: &'static str,
    fix: &'static str,
}

/// The catalog, most specific first: the first entry that matches wins.
const CATALOG: &[Entry] = &[
    // Slipway's own StopTask reasons: another deploy, a stop, an undo or auto-stop ended
    // the task; never an app fault.
    Entry {
        all: &["Slipway"],
        any: &[
            "Replaced by Slipway deploy",
            "Stopped in Slipway",
            "Cancelled in Slipway",
            "Unfinished deploy stopped",
            "(Slipway)",
            "auto-stop",
        ],
        cause: "Slipway stopped this task on purpose (another deploy replaced it, or it was stopped, cancelled or auto-stopped from Slipway); the app itself did nothing wrong.",
        fix: "Nothing to fix in the app. If another deploy of the app was running at the same time, let it finish, then deploy again.",
    },
    Entry {
        all: &["secretsmanager"],
        any: &["AccessDenied"],
        cause: "The task execution role may not read the app's secret (AccessDenied on Secrets Manager).",
        fix: "Run setup again so the role gets secretsmanager:GetSecretValue on the secret, and check the secret's ARN (a customer-managed KMS key also needs kms:Decrypt).",
    },
    Entry {
        all: &["CannotPullContainerError"],
        any: &["i/o timeout", "context canceled", "dial tcp", "connection timed out"],
        cause: "The task could not reach the image registry: it has no network route to ECR.",
        fix: "Run it in a public subnet with a public IP (Slipway's default), or give the subnet a NAT gateway, or add ECR and S3 VPC endpoints.",
    },
    Entry {
        all: &["CannotPullContainerError"],
        // "403" alone would match inside an image digest.
        any: &["403 Forbidden", "status code 403", "not authorized", "AccessDenied", "denied"],
        cause: "ECS was refused the image: the execution role or the repository policy blocks the pull.",
        fix: "Make sure the execution role may pull from the app's repository (setup's slipway-execution policy allows exactly that; run setup again to restore it) and that the repository policy does not deny it.",
    },
    Entry {
        all: &["no matching manifest for"],
        any: &[],
        cause: "The image has no build for the task's CPU architecture.",
        fix: "Rebuild for the task's platform (linux/amd64 for X86_64 tasks, linux/arm64 for ARM64) and deploy again.",
    },
    Entry {
        all: &["CannotPullContainerError"],
        any: &["manifest unknown", "not found"],
        cause: "The image tag or digest the task asks for is not in the repository.",
        fix: "Push the image again (deploy does this) and check that the repository and region match the task definition.",
    },
    Entry {
        all: &["no space left on device"],
        any: &[],
        cause: "The image does not fit in the task's ephemeral storage.",
        fix: "Make the image smaller, or raise the task's ephemeral storage (21 to 200 GiB).",
    },
    Entry {
        all: &["ResourceInitializationError"],
        any: &["logs:CreateLogGroup", "log group does not exist", "ResourceNotFoundException"],
        cause: "The task could not write to its CloudWatch log group: it does not exist or the role may not create it.",
        fix: "Run setup again: it creates the app's log group and lets the execution role write to it.",
    },
    Entry {
        all: &["ResourceInitializationError"],
        any: &["secrets", "registry auth", "unable to pull"],
        cause: "The task could not reach AWS to fetch its secrets or registry credentials: there is no network path from its subnet.",
        fix: "Run it in a public subnet with a public IP (Slipway's default), or add a NAT gateway or VPC endpoints for ECR and Secrets Manager.",
    },
    Entry {
        all: &["executable file not found"],
        any: &[],
        cause: "The container's command does not exist in the image.",
        fix: "Fix CMD or ENTRYPOINT in the Dockerfile (the path and the program must exist in the image) and deploy again.",
    },
    Entry {
        all: &["OutOfMemory"],
        any: &[],
        cause: "The container used more memory than the task has and was killed.",
        fix: "Choose a task size with more memory in the project settings, or make the app use less.",
    },
    Entry {
        all: &["exec format error"],
        any: &[],
        cause: "The image was built for another CPU architecture than the task's (often an Apple Silicon build on an X86_64 task).",
        fix: "Build for linux/amd64 (the project's platform setting), or switch the task to ARM64, and deploy again.",
    },
    Entry {
        all: &["failed ELB health checks"],
        any: &[],
        cause: "The load balancer's health checks failed: wrong path or port, a security group blocking the load balancer, or a slow start.",
        fix: "Check the health-check path and port, allow the load balancer's security group, or raise the grace period.",
    },
    Entry {
        all: &["failed container health checks"],
        any: &[],
        cause: "The container's health check kept failing, so ECS replaced the task.",
        fix: "Check the health-check command or path against the running app (the local preview runs the same check), or raise its start period.",
    },
    Entry {
        all: &["SpotInterruption"],
        any: &[],
        cause: "AWS reclaimed the Spot capacity the task ran on.",
        fix: "This is expected on Spot; a service starts a replacement. Use on-demand Fargate for tasks that must not be interrupted.",
    },
];

/// The cause and fix for a stopped task.
pub fn diagnose(task: &StoppedTask) -> Diagnosis {
    let evidence = evidence(task);
    let haystack = format!("{evidence}\n{}", task.last_log_lines.join("\n")).to_lowercase();
    let has = |needle: &str| haystack.contains(&needle.to_lowercase());
    if let Some(entry) = CATALOG.iter().find(|e| {
        e.all.iter().all(|n| has(n)) && (e.any.is_empty() || e.any.iter().any(|n| has(n)))
    }) {
        return known(entry.cause, entry.fix, evidence);
    }
    let essential = task
        .containers
        .iter()
        .find_map(|c| c.exit_code.map(|code| (c, code)));
    match essential {
        Some((_, 137)) => known(
            "The container was killed (exit 137) without running out of memory: it did not stop within the stop timeout after SIGTERM.",
            "Make the app exit when it receives SIGTERM (or run it under an init such as tini).",
            evidence,
        ),
        Some((_, 127)) => known(
            "The container's command was not found (exit 127).",
            "Fix CMD or ENTRYPOINT in the Dockerfile and deploy again.",
            evidence,
        ),
        Some((_, 126)) => known(
            "The container's command could not be run (exit 126): it is not executable.",
            "Make the file executable in the image (chmod +x in the Dockerfile) and deploy again.",
            evidence,
        ),
        Some((_, 0)) => known(
            "The app finished and exited normally (exit 0); a web app must keep running.",
            "Make the container's command a long-running server (run it in the foreground) and deploy again.",
            evidence,
        ),
        Some((c, code)) => known(
            &format!("The container {} exited with code {code}.", c.name),
            "The app's last log lines, shown with this message, say why; fix that and deploy again. The local preview runs the same image.",
            evidence,
        ),
        None => Diagnosis {
            cause: if evidence.is_empty() {
                "ECS stopped the task without giving a reason.".to_owned()
            } else {
                format!("ECS stopped the task: {evidence}")
            },
            fix: "Slipway does not know this reason yet. The words above are AWS's own; the task's logs may say more.".to_owned(),
            evidence,
            known: false,
        },
    }
}

fn known(cause: &str, fix: &str, evidence: String) -> Diagnosis {
    Diagnosis {
        cause: cause.to_owned(),
        fix: fix.to_owned(),
        evidence,
        known: true,
    }
}

/// AWS's words about the stop, on one line: stop code, stopped reason, each container's
/// reason and exit code.
fn evidence(task: &StoppedTask) -> String {
    let mut parts = Vec::new();
    if let Some(code) = &task.stop_code {
        parts.push(code.clone());
    }
    if let Some(reason) = &task.stopped_reason {
        parts.push(reason.clone());
    }
    for c in &task.containers {
        match (&c.reason, c.exit_code) {
            (Some(reason), Some(code)) => parts.push(format!("{}: {reason} (exit {code})", c.name)),
            (Some(reason), None) => parts.push(format!("{}: {reason}", c.name)),
            (None, Some(code)) => parts.push(format!("{}: exit {code}", c.name)),
            (None, None) => {}
        }
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stopped(reason: &str) -> StoppedTask {
        StoppedTask {
            stop_code: Some("TaskFailedToStart".into()),
            stopped_reason: Some(reason.into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_task_slipway_stopped_is_never_an_app_fault() {
        // What another deploy's retire, a cancel and a stop write as StopTask's reason; the
        // container then exits 137 as any stopped container does.
        for reason in [
            "Replaced by Slipway deploy 20261202-201500-3fa1",
            "Cancelled in Slipway",
            "Stopped in Slipway",
        ] {
            let task = StoppedTask {
                stop_code: Some("UserInitiated".into()),
                stopped_reason: Some(reason.into()),
                containers: vec![StoppedContainer {
                    name: "app".into(),
                    exit_code: Some(137),
                    reason: None,
                }],
                last_log_lines: vec![],
            };
            let d = diagnose(&task);
            assert!(d.known, "{reason}");
            assert!(
                d.cause.starts_with("Slipway stopped this task on purpose")
                    && !d.fix.contains("long-running server"),
                "{reason}: {d:?}"
            );
        }
    }

    fn exited(code: i32, reason: Option<&str>, logs: &[&str]) -> StoppedTask {
        StoppedTask {
            stop_code: Some("EssentialContainerExited".into()),
            stopped_reason: Some("Essential container in task exited".into()),
            containers: vec![StoppedContainer {
                name: "app".into(),
                exit_code: Some(code),
                reason: reason.map(str::to_owned),
            }],
            last_log_lines: logs.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn each_cannot_pull_variant_gets_its_own_cause() {
        let timeout = diagnose(&stopped("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123.dkr.ecr.us-east-1.amazonaws.com/app:1: failed to do request: Head \"https://...\": dial tcp 52.0.0.1:443: i/o timeout"));
        assert!(timeout.cause.contains("no network route"), "{timeout:?}");
        let denied = diagnose(&stopped("CannotPullContainerError: pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed: 403 Forbidden"));
        assert!(denied.cause.contains("refused the image"), "{denied:?}");
        let missing = diagnose(&stopped("CannotPullContainerError: ref pull has been retried 1 time(s): failed to resolve reference \"123.dkr.ecr.us-east-1.amazonaws.com/app:2\": 123.dkr.ecr.us-east-1.amazonaws.com/app:2: not found"));
        assert!(
            missing.cause.contains("not in the repository"),
            "{missing:?}"
        );
        // A digest that happens to contain "403" is not a refusal.
        let gone = diagnose(&stopped("CannotPullContainerError: Docker responded with status code 404: manifest for 123.dkr.ecr.us-east-1.amazonaws.com/app@sha256:48735403081f not found: manifest unknown"));
        assert!(gone.cause.contains("not in the repository"), "{gone:?}");
        let arch = diagnose(&stopped("CannotPullContainerError: image Manifest does not contain descriptor matching platform 'linux/arm64'; no matching manifest for linux/arm64 in the manifest list entries"));
        assert!(arch.cause.contains("architecture"), "{arch:?}");
    }

    #[test]
    fn out_of_memory_and_exec_format_error_are_explained() {
        let oom = diagnose(&exited(
            137,
            Some("OutOfMemoryError: Container killed due to memory usage"),
            &[],
        ));
        assert!(
            oom.cause.contains("more memory") && oom.fix.contains("task size"),
            "{oom:?}"
        );
        let exec = diagnose(&exited(1, None, &["exec /bin/server: exec format error"]));
        assert!(exec.cause.contains("another CPU architecture"), "{exec:?}");
        assert!(exec.fix.contains("linux/amd64"));
    }

    #[test]
    fn secrets_and_log_group_initialisation_failures_are_told_apart() {
        let secret = diagnose(&stopped("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret arn:aws:secretsmanager:us-east-1:1:secret:x from secrets manager: AccessDeniedException: User is not authorized to perform: secretsmanager:GetSecretValue"));
        assert!(
            secret.cause.contains("may not read the app's secret"),
            "{secret:?}"
        );
        let network = diagnose(&stopped("ResourceInitializationError: unable to pull secrets or registry auth: pull command failed: : signal: killed"));
        assert!(network.cause.contains("network path"), "{network:?}");
        let logs = diagnose(&stopped("ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist."));
        assert!(logs.cause.contains("log group"), "{logs:?}");
    }

    #[test]
    fn exit_codes_without_a_catalog_reason_still_explain_themselves() {
        assert!(diagnose(&exited(137, None, &[])).cause.contains("SIGTERM"));
        assert!(diagnose(&exited(127, None, &[]))
            .cause
            .contains("not found"));
        assert!(diagnose(&exited(0, None, &[]))
            .cause
            .contains("keep running"));
        let other = diagnose(&exited(3, None, &["panic: no DATABASE_URL"]));
        assert!(other.cause.contains("exited with code 3"), "{other:?}");
    }

    #[test]
    fn an_unknown_reason_is_quoted_verbatim_not_hidden() {
        let odd = diagnose(&StoppedTask {
            stop_code: Some("TaskFailedToStart".into()),
            stopped_reason: Some(
                "Timeout waiting for network interface provisioning to complete.".into(),
            ),
            ..Default::default()
        });
        assert!(!odd.known);
        assert!(odd
            .cause
            .contains("Timeout waiting for network interface provisioning to complete."));
        assert!(odd.evidence.starts_with("TaskFailedToStart; "));
    }
}
