//! The task definition a project deploys with, as plain data: rendered from slipway.toml,
//! the pushed image's digest and the resources setup made, and compared field by field
//! with the current revision, so a deploy can show what changes and skip registering a
//! revision when nothing does. Pure; the SDK calls that register and read revisions
//! belong to the deploy.

use serde::Serialize;

use crate::project::{HealthProbe, Platform, ProjectConfig};

/// The one container of a Slipway task.
pub const CONTAINER: &str = "app";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ContainerHealthCheck {
    /// `["CMD-SHELL", "..."]` or `["CMD", ...]`, as ECS takes it.
    pub command: Vec<String>,
    pub interval: u32,
    pub timeout: u32,
    pub retries: u32,
    pub start_period: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TaskDefinitionSpec {
    pub family: String,
    /// CPU units and MiB, as strings the way RegisterTaskDefinition takes them.
    pub cpu: String,
    pub memory: String,
    /// "X86_64" or "ARM64".
    pub cpu_architecture: String,
    pub execution_role_arn: String,
    /// The image pinned by digest (`repo@sha256:...`).
    pub image: String,
    pub port: u16,
    /// Sorted by name, so order in slipway.toml is not a change.
    pub environment: Vec<(String, String)>,
    pub secrets: Vec<(String, String)>,
    pub health_check: Option<ContainerHealthCheck>,
    pub log_group: String,
    pub log_region: String,
}

/// What the resources made by setup and the pushed image contribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployables {
    pub image_by_digest: String,
    pub execution_role_arn: String,
    pub log_group: String,
    pub region: String,
}

pub fn spec_for(config: &ProjectConfig, port: u16, made: &Deployables) -> TaskDefinitionSpec {
    let mut environment: Vec<_> = config
        .env
        .iter()
        .map(|kv| (kv.name.clone(), kv.value.clone()))
        .collect();
    environment.sort();
    let mut secrets: Vec<_> = config
        .secrets
        .iter()
        .map(|kv| (kv.name.clone(), kv.value.clone()))
        .collect();
    secrets.sort();
    let h = &config.health;
    let command = match &h.probe {
        // Fargate checks run inside the container, so an HTTP check becomes a command;
        // curl or busybox wget, whichever the image has.
        HealthProbe::Http { path } => Some(vec![
            "CMD-SHELL".to_owned(),
            format!(
                "curl -fsS -o /dev/null http://localhost:{port}{path} || wget -q -O /dev/null http://localhost:{port}{path} || exit 1"
            ),
        ]),
        HealthProbe::Command { command } => Some(command.clone()),
        HealthProbe::None => None,
    };
    TaskDefinitionSpec {
        family: config.name.clone(),
        cpu: config.task.cpu.to_string(),
        memory: config.task.memory.to_string(),
        cpu_architecture: match config.platform {
            Platform::LinuxAmd64 => "X86_64",
            Platform::LinuxArm64 => "ARM64",
        }
        .to_owned(),
        execution_role_arn: made.execution_role_arn.clone(),
        image: made.image_by_digest.clone(),
        port,
        environment,
        secrets,
        health_check: command.map(|command| ContainerHealthCheck {
            command,
            interval: h.interval,
            timeout: h.timeout,
            retries: h.retries,
            start_period: h.start_period,
        }),
        log_group: made.log_group.clone(),
        log_region: made.region.clone(),
    }
}

/// What registering `wanted` would change from `current`, one line per difference
/// (secret values are references, shown; plain values are not, as they may be private).
/// Empty means: register nothing, reuse the current revision.
pub fn differences(current: &TaskDefinitionSpec, wanted: &TaskDefinitionSpec) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = |name: &str, a: &str, b: &str| {
        if a != b {
            out.push(format!("{name}: {a} → {b}"));
        }
    };
    field("image", &current.image, &wanted.image);
    field("CPU units", &current.cpu, &wanted.cpu);
    field("memory (MiB)", &current.memory, &wanted.memory);
    field(
        "architecture",
        &current.cpu_architecture,
        &wanted.cpu_architecture,
    );
    field(
        "execution role",
        &current.execution_role_arn,
        &wanted.execution_role_arn,
    );
    field("port", &current.port.to_string(), &wanted.port.to_string());
    field("log group", &current.log_group, &wanted.log_group);
    pairs(
        "variable",
        &current.environment,
        &wanted.environment,
        false,
        &mut out,
    );
    pairs("secret", &current.secrets, &wanted.secrets, true, &mut out);
    if current.health_check != wanted.health_check {
        let describe = |h: &Option<ContainerHealthCheck>| match h {
            None => "none".to_owned(),
            Some(h) => format!(
                "{} every {} s, timeout {} s, {} retries, start period {} s",
                h.command.join(" "),
                h.interval,
                h.timeout,
                h.retries,
                h.start_period
            ),
        };
        out.push(format!(
            "health check: {} → {}",
            describe(&current.health_check),
            describe(&wanted.health_check)
        ));
    }
    out
}

fn pairs(
    what: &str,
    current: &[(String, String)],
    wanted: &[(String, String)],
    show_values: bool,
    out: &mut Vec<String>,
) {
    let value = |v: &str| {
        if show_values {
            format!(" = {v}")
        } else {
            String::new()
        }
    };
    for (name, v) in wanted {
        match current.iter().find(|(n, _)| n == name) {
            None => out.push(format!("{what} {name} added{}", value(v))),
            Some((_, old)) if old != v => out.push(format!("{what} {name} changed{}", value(v))),
            Some(_) => {}
        }
    }
    for (name, _) in current {
        if !wanted.iter().any(|(n, _)| n == name) {
            out.push(format!("{what} {name} removed"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::{propose, KeyValue};

    fn made(digest: &str) -> Deployables {
        Deployables {
            image_by_digest: format!(
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/hello@sha256:{digest}"
            ),
            execution_role_arn: "arn:aws:iam::123456789012:role/slipway-hello-exec".into(),
            log_group: "/ecs/hello".into(),
            region: "us-east-1".into(),
        }
    }

    fn config() -> ProjectConfig {
        let mut c = propose(std::path::Path::new("/nonexistent/hello"));
        c.name = "hello".into();
        c.env = vec![
            KeyValue {
                name: "B".into(),
                value: "2".into(),
            },
            KeyValue {
                name: "A".into(),
                value: "1".into(),
            },
        ];
        c
    }

    #[test]
    fn an_http_health_check_becomes_a_command_the_container_can_run() {
        let spec = spec_for(&config(), 8080, &made("aa"));
        let check = spec.health_check.unwrap();
        assert_eq!(check.command[0], "CMD-SHELL");
        assert!(
            check.command[1].contains("http://localhost:8080/"),
            "{:?}",
            check.command
        );
        assert_eq!(spec.cpu_architecture, "X86_64");
        assert_eq!(spec.environment[0].0, "A", "variables are sorted");
    }

    #[test]
    fn the_same_settings_register_nothing_and_a_new_image_is_one_difference() {
        let current = spec_for(&config(), 8080, &made("aa"));
        assert!(differences(&current, &current.clone()).is_empty());
        let mut reordered = config();
        reordered.env.reverse();
        assert!(
            differences(&current, &spec_for(&reordered, 8080, &made("aa"))).is_empty(),
            "the order of variables in slipway.toml is not a change"
        );
        let next = spec_for(&config(), 8080, &made("bb"));
        let diff = differences(&current, &next);
        assert_eq!(diff.len(), 1, "{diff:?}");
        assert!(diff[0].starts_with("image: "));
    }

    #[test]
    fn variable_values_are_not_shown_but_secret_references_are() {
        let current = spec_for(&config(), 8080, &made("aa"));
        let mut changed = config();
        changed.env[0].value = "private".into();
        changed.secrets = vec![KeyValue {
            name: "TOKEN".into(),
            value: "/app/token".into(),
        }];
        changed.task.memory = 1024;
        let diff = differences(&current, &spec_for(&changed, 8080, &made("aa")));
        assert!(diff.contains(&"variable B changed".to_owned()), "{diff:?}");
        assert!(
            diff.contains(&"secret TOKEN added = /app/token".to_owned()),
            "{diff:?}"
        );
        assert!(
            diff.contains(&"memory (MiB): 512 → 1024".to_owned()),
            "{diff:?}"
        );
        assert!(!diff.iter().any(|d| d.contains("private")));
    }
}
