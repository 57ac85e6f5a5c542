//! Which container of a service's task definition an action is about (the one named, else
//! the first essential one), and where its `awslogs` driver writes: the group, its region,
//! and each task's stream `prefix/container/task-id`. Other log drivers (FireLens,
//! Splunk…) write where Slipway cannot read, and are said to.

use aws_sdk_ecs::types::{ContainerDefinition, TaskDefinition};

use slipway_core::error::{EngineError, Result};

/// Where one container's output goes, as its task definition's `awslogs` options say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsLogs {
    pub group: String,
    /// `awslogs-region`; the service's own region when absent.
    pub region: Option<String>,
    /// Every task's stream of this container begins with it: `prefix/container/`.
    pub stream_prefix: String,
}

impl AwsLogs {
    /// The stream one task of this container writes to.
    pub fn stream(&self, task_id: &str) -> String {
        format!("{}{task_id}", self.stream_prefix)
    }
}

/// The container `wanted`, else the first essential one (ECS counts a container essential
/// unless it says otherwise).
pub fn pick<'a>(
    definition: &'a TaskDefinition,
    wanted: Option<&str>,
) -> Result<&'a ContainerDefinition> {
    let containers = definition.container_definitions();
    let found = match wanted {
        Some(name) => containers.iter().find(|c| c.name() == Some(name)),
        None => containers
            .iter()
            .find(|c| c.essential().unwrap_or(true))
            .or_else(|| containers.first()),
    };
    found.ok_or_else(|| {
        let names: Vec<&str> = containers.iter().filter_map(|c| c.name()).collect();
        EngineError::InvalidInput {
            what: "The container".into(),
            reason: match wanted {
                Some(name) => format!(
                    "the task definition {} has no container {name} (it has {})",
                    definition.family().unwrap_or_default(),
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                ),
                None => format!(
                    "the task definition {} has no container",
                    definition.family().unwrap_or_default()
                ),
            },
        }
    })
}

/// The container's `awslogs` settings, or what is missing, as a sentence that says what
/// to change.
pub fn of(container: &ContainerDefinition) -> std::result::Result<AwsLogs, String> {
    let name = container.name().unwrap_or_default();
    let add = "Give the container the awslogs log driver with a log group and a stream \
               prefix in a new revision of its task definition, and point the service at it.";
    let Some(config) = container.log_configuration() else {
        return Err(format!(
            "its container {name} has no log configuration, so its output is kept nowhere \
             Slipway can read. {add}"
        ));
    };
    let driver = config.log_driver().as_str();
    if driver != "awslogs" {
        return Err(format!(
            "its container {name} writes its output with the {driver} log driver; Slipway \
             reads only the awslogs driver's CloudWatch Logs. {add}"
        ));
    }
    let option = |key: &str| {
        config
            .options()
            .and_then(|o| o.get(key))
            .filter(|v| !v.is_empty())
            .cloned()
    };
    let Some(group) = option("awslogs-group") else {
        return Err(format!(
            "the awslogs settings of its container {name} name no log group (awslogs-group). {add}"
        ));
    };
    // Without a prefix a task's stream is named after the Docker container's id, which ECS
    // does not report (and Fargate refuses such a task definition).
    let Some(prefix) = option("awslogs-stream-prefix") else {
        return Err(format!(
            "the awslogs settings of its container {name} have no stream prefix \
             (awslogs-stream-prefix), so its tasks' streams cannot be found. {add}"
        ));
    };
    Ok(AwsLogs {
        group,
        region: option("awslogs-region"),
        stream_prefix: format!("{prefix}/{name}/"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::{LogConfiguration, LogDriver};

    fn container(
        name: &str,
        essential: Option<bool>,
        logs: Option<LogConfiguration>,
    ) -> ContainerDefinition {
        ContainerDefinition::builder()
            .name(name)
            .set_essential(essential)
            .set_log_configuration(logs)
            .build()
    }

    fn awslogs(options: &[(&str, &str)]) -> LogConfiguration {
        let mut b = LogConfiguration::builder().log_driver(LogDriver::Awslogs);
        for (k, v) in options {
            b = b.options(*k, *v);
        }
        b.build().unwrap()
    }

    fn definition(containers: Vec<ContainerDefinition>) -> TaskDefinition {
        TaskDefinition::builder()
            .family("vendor-server")
            .set_container_definitions(Some(containers))
            .build()
    }

    #[test]
    fn the_first_essential_container_is_picked_unless_one_is_named() {
        let def = definition(vec![
            container("init", Some(false), None),
            container("server", None, None),
            container("sidecar", Some(true), None),
        ]);
        assert_eq!(pick(&def, None).unwrap().name(), Some("server"));
        assert_eq!(pick(&def, Some("sidecar")).unwrap().name(), Some("sidecar"));
        let err = pick(&def, Some("web")).unwrap_err().to_string();
        assert!(
            err.contains("no container web (it has init, server, sidecar)"),
            "a wrong name is refused with the names there are: {err}"
        );
    }

    #[test]
    fn a_task_stream_is_prefix_container_and_task_id() {
        let c = container(
            "server",
            None,
            Some(awslogs(&[
                ("awslogs-group", "/ecs/vendor"),
                ("awslogs-region", "eu-west-1"),
                ("awslogs-stream-prefix", "ecs"),
            ])),
        );
        let logs = of(&c).unwrap();
        assert_eq!(logs.group, "/ecs/vendor");
        assert_eq!(logs.region.as_deref(), Some("eu-west-1"));
        assert_eq!(logs.stream("abc123"), "ecs/server/abc123");
    }

    #[test]
    fn missing_awslogs_settings_are_named_with_what_to_change() {
        let none = of(&container("server", None, None)).unwrap_err();
        assert!(none.contains("no log configuration"), "{none}");
        let splunk = LogConfiguration::builder()
            .log_driver(LogDriver::Splunk)
            .build()
            .unwrap();
        let other = of(&container("server", None, Some(splunk))).unwrap_err();
        assert!(other.contains("splunk log driver"), "{other}");
        let no_prefix = of(&container(
            "server",
            None,
            Some(awslogs(&[("awslogs-group", "/ecs/vendor")])),
        ))
        .unwrap_err();
        assert!(no_prefix.contains("awslogs-stream-prefix"), "{no_prefix}");
        for reason in [none, other, no_prefix] {
            assert!(
                reason.contains("new revision of its task definition"),
                "each refusal says what to change: {reason}"
            );
        }
    }
}
