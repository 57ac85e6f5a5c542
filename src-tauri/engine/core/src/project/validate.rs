//! Field-by-field validation of project settings, each problem naming the field and the
//! rule. Runs before anything is written or started; AWS's own rules (names, task sizes,
//! health-check ranges, secret ARNs) are checked here so the user never meets them as an
//! AWS error later.

use std::collections::HashSet;
use std::path::{Component, Path};
use std::sync::LazyLock;

use regex::Regex;

use super::{HealthProbe, KeyValue, ProjectConfig};
use crate::error::FieldProblem;
use crate::fargate::{cpu_settings, is_valid_task_size, memories_for};

fn problem(field: impl Into<String>, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        message: message.into(),
    }
}

/// The app name becomes the image and ECR repository name, and the cluster, service, task
/// family and log group names: it must satisfy all of those rules at once.
static APP_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$").expect("app name pattern"));
/// True for a name that satisfies every rule an app name has.
pub(crate) fn is_app_name(name: &str) -> bool {
    (2..=APP_NAME_MAX).contains(&name.len()) && APP_NAME.is_match(name)
}

static ENV_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z_][A-Za-z0-9_]*$").expect("env name pattern"));
/// `arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX[:json-key:version-stage:version-id]`
static SECRETS_MANAGER_ARN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^arn:aws(?:-[a-z]+)*:secretsmanager:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:secret:[A-Za-z0-9/_+=.@-]+(?::[^:]*:[^:]*:[^:]*)?$",
    )
    .expect("secrets manager ARN pattern")
});
static SSM_ARN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^arn:aws(?:-[a-z]+)*:ssm:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:parameter/[A-Za-z0-9_.\-/]+$",
    )
    .expect("SSM ARN pattern")
});
static SSM_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^/?[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)*$").expect("SSM name pattern")
});
static STAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z][A-Za-z0-9_.\-]{0,127}$").expect("stage pattern"));
static REGION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z]{2}(?:-[a-z]+)+-\d$").expect("region pattern"));

pub const APP_NAME_MAX: usize = 64;

/// Every problem in `config`, in the order the fields appear in the form.
pub fn validate(config: &ProjectConfig) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    check_name(&config.name, &mut problems);
    if let Some(image) = &config.image {
        if let Err(message) = super::ImageRef::parse(image) {
            problems.push(problem("image", message));
        }
    }
    check_relative_path("dockerfile", &config.dockerfile, &mut problems);
    check_relative_path("context", &config.context, &mut problems);
    if let Some(target) = &config.target {
        if !STAGE.is_match(target) {
            problems.push(problem(
                "target",
                format!("\"{target}\" is not a stage name: use the name after AS in the Dockerfile's FROM line (letters, digits, -, _ and ., starting with a letter), or leave it empty to build the last stage"),
            ));
        }
    }
    if !(1..=65535).contains(&config.port) {
        problems.push(problem(
            "port",
            format!(
                "The container port must be between 1 and 65535; {} is not.",
                config.port
            ),
        ));
    }
    check_health(config, &mut problems);
    check_task_size(config, &mut problems);
    check_names("build_args", &config.build_args, &mut problems);
    check_names("env", &config.env, &mut problems);
    check_names("secrets", &config.secrets, &mut problems);
    check_secrets(&config.secrets, &mut problems);
    let env_names: HashSet<&str> = config.env.iter().map(|kv| kv.name.as_str()).collect();
    for secret in &config.secrets {
        if env_names.contains(secret.name.as_str()) {
            problems.push(problem(
                format!("secrets.{}", secret.name),
                format!(
                    "{} is both a plain variable and a secret; ECS refuses a name in both. Keep one.",
                    secret.name
                ),
            ));
        }
    }
    if let Some(region) = &config.aws.region {
        if !REGION.is_match(region) {
            problems.push(problem(
                "aws.region",
                format!("\"{region}\" is not an AWS region code such as us-east-1 or eu-west-2."),
            ));
        }
    }
    if let Some(profile) = &config.aws.profile {
        if profile.is_empty()
            || profile.contains(|c: char| c.is_whitespace() || c == '[' || c == ']')
        {
            problems.push(problem(
                "aws.profile",
                "A profile name cannot be empty or contain spaces or brackets.",
            ));
        }
    }
    check_aws_network(&config.aws, &mut problems);
    problems
}

/// A scaling target set without the range it scales in.
fn needs_scaling(field: &str, what: &str) -> FieldProblem {
    problem(
        field,
        format!(
            "{what} only counts with auto scaling: set max_tasks too, or remove {}.",
            field.trim_start_matches("aws.")
        ),
    )
}

fn check_aws_network(aws: &crate::project::AwsSettings, problems: &mut Vec<FieldProblem>) {
    if let Some(vpc) = &aws.vpc {
        let hex = vpc.strip_prefix("vpc-").unwrap_or_default();
        if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            problems.push(problem(
                "aws.vpc",
                format!("\"{vpc}\" is not a VPC id such as vpc-0a1b2c3d; leave it empty to use the default VPC."),
            ));
        }
    }
    if let Some(cidr) = &aws.allow_from {
        if let Err(why) = super::cidr::parse_cidr(cidr) {
            problems.push(problem("aws.allow_from", why));
        }
    }
    check_address(aws, problems);
    if let Some(days) = aws.log_retention_days {
        if !crate::project::AwsSettings::LOG_RETENTION_CHOICES.contains(&days) {
            let choices = crate::project::AwsSettings::LOG_RETENTION_CHOICES
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            problems.push(problem(
                "aws.log_retention_days",
                format!("CloudWatch Logs keeps logs for one of {choices} days; {days} is not one of them."),
            ));
        }
    }
}

fn check_address(aws: &crate::project::AwsSettings, problems: &mut Vec<FieldProblem>) {
    let most = crate::project::AwsSettings::MAX_TASKS;
    if let Some(tasks) = aws.tasks {
        if tasks == 0 || tasks > most {
            problems.push(problem(
                "aws.tasks",
                format!("A service runs 1 to {most} tasks; {tasks} is not in that range (stop the app to run none)."),
            ));
        }
    }
    if let Some(max) = aws.max_tasks {
        if max < aws.tasks() || max > most {
            problems.push(problem(
                "aws.max_tasks",
                format!("Scaling goes up to {} to {most} tasks (at least the {} it keeps running); {max} is not in that range.", aws.tasks(), aws.tasks()),
            ));
        }
    }
    if let Some(target) = aws.cpu_target {
        if !(10..=90).contains(&target) {
            problems.push(problem(
                "aws.cpu_target",
                format!("The CPU target is a percentage from 10 to 90; {target} is not."),
            ));
        } else if aws.max_tasks.is_none() {
            problems.push(needs_scaling("aws.cpu_target", "A CPU target"));
        }
    }
    if let Some(per_task) = aws.requests_target {
        let most = crate::project::AwsSettings::MAX_REQUESTS_TARGET;
        if per_task == 0 || per_task > most {
            problems.push(problem(
                "aws.requests_target",
                format!("The requests target is requests a minute per task, from 1 to {most}; {per_task} is not in that range."),
            ));
        } else if aws.cpu_target.is_some() {
            problems.push(problem(
                "aws.requests_target",
                "Scaling follows either CPU or requests: remove cpu_target or requests_target."
                    .to_owned(),
            ));
        } else if aws.max_tasks.is_none() {
            problems.push(needs_scaling("aws.requests_target", "A requests target"));
        }
    }
    if let Some(seconds) = aws.sticky_seconds {
        if seconds == 0 || seconds > 604_800 {
            problems.push(problem(
                "aws.sticky_seconds",
                format!("Sticky sessions last 1 to 604800 seconds (7 days); {seconds} is not in that range."),
            ));
        }
    }
    if let Some(minutes) = aws.bake_minutes {
        let most = crate::project::AwsSettings::MAX_BAKE_MINUTES;
        if minutes > most {
            problems.push(problem(
                "aws.bake_minutes",
                format!(
                    "The bake time is 0 to {most} minutes (a day); {minutes} is not in that range."
                ),
            ));
        }
    }
    if let Some(domain) = &aws.domain {
        let labels: Vec<&str> = domain.split('.').collect();
        let fine = domain.len() <= 253
            && labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !fine {
            problems.push(problem(
                "aws.domain",
                format!("\"{domain}\" is not a domain name such as app.example.com (letters, digits and -, with a dot between parts)."),
            ));
        }
    }
    let needs_balancer = aws.domain.is_some()
        || aws.tasks.is_some_and(|t| t > 1)
        || aws.max_tasks.is_some()
        || aws.requests_target.is_some()
        || aws.sticky_seconds.is_some()
        || aws.bake_minutes.is_some();
    if needs_balancer && !aws.load_balancer {
        problems.push(problem(
            "aws.load_balancer",
            "A domain, more than one task, scaling, sticky sessions and blue/green deploys need the stable address (load_balancer = true).".to_owned(),
        ));
    }
}

fn check_name(name: &str, problems: &mut Vec<FieldProblem>) {
    if name.len() < 2 || name.len() > APP_NAME_MAX || !APP_NAME.is_match(name) {
        problems.push(problem(
            "name",
            format!(
                "The app name names the image, the ECR repository, the cluster, the service and the log group, so it must be 2 to {APP_NAME_MAX} lowercase letters and digits, with single - or _ between them (e.g. hello-site); \"{name}\" is not."
            ),
        ));
    }
}

fn check_relative_path(field: &str, value: &str, problems: &mut Vec<FieldProblem>) {
    let path = Path::new(value);
    let escapes = path.components().any(|c| {
        matches!(
            c,
            Component::ParentDir | Component::RootDir | Component::Prefix(_)
        )
    });
    if value.is_empty() || escapes {
        problems.push(problem(
            field,
            format!("Give a path inside the project folder, relative to it (e.g. . or docker/Dockerfile); \"{value}\" is not."),
        ));
    }
}

fn check_health(config: &ProjectConfig, problems: &mut Vec<FieldProblem>) {
    let health = &config.health;
    match &health.probe {
        HealthProbe::Http { path } => {
            if !path.starts_with('/') || path.contains(char::is_whitespace) {
                problems.push(problem(
                    "health.path",
                    format!("The health-check path must start with / and contain no spaces (e.g. /health); \"{path}\" does not."),
                ));
            }
        }
        HealthProbe::Command { command } => {
            let first = command.first().map(String::as_str);
            if !matches!(first, Some("CMD" | "CMD-SHELL"))
                || command.len() < 2
                || command[1].trim().is_empty()
            {
                problems.push(problem(
                    "health.command",
                    "A health-check command starts with CMD (then the program and its arguments) or CMD-SHELL (then one shell line), e.g. [\"CMD-SHELL\", \"wget -q -O- http://localhost:8080/ || exit 1\"].",
                ));
            }
        }
        HealthProbe::None => {}
    }
    let ranges = [
        (
            "health.interval",
            health.interval,
            5,
            300,
            "seconds between checks",
        ),
        (
            "health.timeout",
            health.timeout,
            2,
            60,
            "seconds a check may take",
        ),
        ("health.retries", health.retries, 1, 10, "failures in a row"),
        (
            "health.start_period",
            health.start_period,
            0,
            300,
            "seconds of grace after start",
        ),
    ];
    for (field, value, min, max, what) in ranges {
        if !(min..=max).contains(&value) {
            problems.push(problem(
                field,
                format!("ECS accepts {min} to {max} {what}; {value} is outside that."),
            ));
        }
    }
    if health.timeout >= health.interval && (5..=300).contains(&health.interval) {
        problems.push(problem(
            "health.timeout",
            format!(
                "The timeout ({} s) must be shorter than the interval ({} s), or checks overlap.",
                health.timeout, health.interval
            ),
        ));
    }
}

fn check_task_size(config: &ProjectConfig, problems: &mut Vec<FieldProblem>) {
    let task = config.task;
    let memories = memories_for(task.cpu);
    if memories.is_empty() {
        let cpus: Vec<String> = cpu_settings().map(|c| c.to_string()).collect();
        problems.push(problem(
            "task.cpu",
            format!(
                "Fargate's CPU settings are {} units (1024 = 1 vCPU); {} is not one of them.",
                cpus.join(", "),
                task.cpu
            ),
        ));
    } else if !is_valid_task_size(task.cpu, task.memory) {
        problems.push(problem(
            "task.memory",
            format!(
                "With {} CPU units Fargate accepts {} MiB of memory; {} MiB is not a valid pair.",
                task.cpu,
                describe_memories(&memories),
                task.memory
            ),
        ));
    }
}

fn describe_memories(memories: &[u32]) -> String {
    if memories.len() <= 4 {
        let list: Vec<String> = memories.iter().map(u32::to_string).collect();
        return list.join(", ");
    }
    let step = memories[1] - memories[0];
    format!(
        "{} to {} in steps of {}",
        memories[0],
        memories[memories.len() - 1],
        step
    )
}

fn check_names(section: &str, pairs: &[KeyValue], problems: &mut Vec<FieldProblem>) {
    let mut seen = HashSet::new();
    for (index, pair) in pairs.iter().enumerate() {
        let field = if pair.name.is_empty() {
            format!("{section}[{}]", index + 1)
        } else {
            format!("{section}.{}", pair.name)
        };
        if !ENV_NAME.is_match(&pair.name) {
            problems.push(problem(
                field,
                format!("A variable name is letters, digits and _, not starting with a digit; \"{}\" is not.", pair.name),
            ));
        } else if !seen.insert(pair.name.as_str()) {
            problems.push(problem(
                field,
                format!("{} appears twice; keep one.", pair.name),
            ));
        }
    }
}

fn check_secrets(secrets: &[KeyValue], problems: &mut Vec<FieldProblem>) {
    for secret in secrets {
        let from = secret.value.as_str();
        let valid = if from.starts_with("arn:") {
            SECRETS_MANAGER_ARN.is_match(from) || SSM_ARN.is_match(from)
        } else {
            SSM_NAME.is_match(from)
        };
        if !valid {
            problems.push(problem(
                format!("secrets.{}", secret.name),
                format!(
                    "A secret is referenced by a Secrets Manager ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-abc123), an SSM parameter ARN (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME) or an SSM parameter name; \"{from}\" is none of these."
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::{AwsSettings, HealthCheck, Platform, TaskSize};

    fn valid() -> ProjectConfig {
        ProjectConfig {
            id: None,
            name: "hello-site".into(),
            image: None,
            target: None,
            dockerfile: "Dockerfile".into(),
            context: ".".into(),
            platform: Platform::LinuxAmd64,
            port: 8080,
            health: HealthCheck::default(),
            build_args: vec![],
            env: vec![KeyValue {
                name: "GREETING".into(),
                value: "hi".into(),
            }],
            secrets: vec![KeyValue {
                name: "API_KEY".into(),
                value: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/api-AbCdEf"
                    .into(),
            }],
            task: TaskSize::default(),
            aws: AwsSettings {
                profile: Some("default".into()),
                region: Some("eu-west-2".into()),
                ..Default::default()
            },
        }
    }

    #[test]
    fn network_settings_name_what_aws_would_refuse() {
        let mut config = valid();
        config.aws.vpc = Some("vpc-xyz".into());
        config.aws.allow_from = Some("10.0.0.1/8".into());
        config.aws.log_retention_days = Some(31);
        assert_eq!(
            fields(&config),
            ["aws.vpc", "aws.allow_from", "aws.log_retention_days"]
        );
        config.aws.vpc = Some("vpc-0a1b2c".into());
        config.aws.allow_from = Some("203.0.113.7/32".into());
        config.aws.log_retention_days = Some(14);
        assert_eq!(validate(&config), vec![]);
    }

    #[test]
    fn address_settings_name_what_aws_would_refuse() {
        let mut config = valid();
        config.aws.domain = Some("app..example".into());
        config.aws.tasks = Some(0);
        config.aws.cpu_target = Some(95);
        config.aws.sticky_seconds = Some(0);
        config.aws.bake_minutes = Some(1441);
        assert_eq!(
            fields(&config),
            [
                "aws.tasks",
                "aws.cpu_target",
                "aws.sticky_seconds",
                "aws.bake_minutes",
                "aws.domain",
                "aws.load_balancer"
            ]
        );
        config.aws.bake_minutes = Some(0);
        config.aws.load_balancer = true;
        config.aws.domain = Some("app.example.com".into());
        config.aws.tasks = Some(3);
        config.aws.max_tasks = Some(2);
        config.aws.cpu_target = Some(60);
        config.aws.sticky_seconds = Some(86_400);
        assert_eq!(fields(&config), ["aws.max_tasks"]);
        config.aws.max_tasks = Some(6);
        assert_eq!(validate(&config), vec![]);
        config.aws.requests_target = Some(500);
        assert_eq!(
            fields(&config),
            ["aws.requests_target"],
            "CPU or requests, not both"
        );
        config.aws.cpu_target = None;
        assert_eq!(validate(&config), vec![]);
        config.aws.requests_target = Some(0);
        assert_eq!(fields(&config), ["aws.requests_target"]);
        config.aws.requests_target = Some(500);
        config.aws.max_tasks = None;
        assert_eq!(
            fields(&config),
            ["aws.requests_target"],
            "a target without max_tasks scales nothing"
        );
    }

    fn fields(config: &ProjectConfig) -> Vec<String> {
        validate(config).into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn a_sensible_config_has_no_problems() {
        assert_eq!(validate(&valid()), vec![]);
    }

    #[test]
    fn an_invalid_fargate_pair_names_the_memory_and_the_valid_choices() {
        let mut config = valid();
        config.task = TaskSize {
            cpu: 1024,
            memory: 1024,
        };
        let problems = validate(&config);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "task.memory");
        assert!(
            problems[0]
                .message
                .contains("2048 to 8192 in steps of 1024"),
            "{}",
            problems[0].message
        );
        config.task = TaskSize {
            cpu: 300,
            memory: 512,
        };
        assert_eq!(fields(&config), vec!["task.cpu"]);
    }

    #[test]
    fn names_ports_and_health_ranges_follow_aws_rules() {
        let mut config = valid();
        config.name = "Hello Site".into();
        config.port = 70000;
        config.health.interval = 4;
        config.health.retries = 11;
        assert_eq!(
            fields(&config),
            vec!["name", "port", "health.interval", "health.retries"]
        );
        config = valid();
        config.health.probe = HealthProbe::Command {
            command: vec!["curl".into(), "-f".into()],
        };
        assert_eq!(fields(&config), vec!["health.command"]);
        config.health.probe = HealthProbe::Command {
            command: vec!["CMD-SHELL".into(), "true".into()],
        };
        config.health.timeout = 30;
        assert_eq!(
            fields(&config),
            vec!["health.timeout"],
            "timeout must stay below interval"
        );
    }

    #[test]
    fn duplicate_and_clashing_variables_are_refused() {
        let mut config = valid();
        config.env.push(KeyValue {
            name: "GREETING".into(),
            value: "again".into(),
        });
        config.env.push(KeyValue {
            name: "API_KEY".into(),
            value: "plain".into(),
        });
        config.env.push(KeyValue {
            name: "1BAD".into(),
            value: String::new(),
        });
        assert_eq!(
            fields(&config),
            vec!["env.GREETING", "env.1BAD", "secrets.API_KEY"]
        );
    }

    #[test]
    fn secret_references_must_be_arns_or_parameter_names() {
        let mut config = valid();
        config.secrets = vec![
            KeyValue {
                name: "A".into(),
                value: "arn:aws:ssm:us-east-1:123456789012:parameter/app/db".into(),
            },
            KeyValue {
                name: "B".into(),
                value: "/app/db-password".into(),
            },
            KeyValue {
                name: "C".into(),
                value: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:password::"
                    .into(),
            },
            KeyValue {
                name: "D".into(),
                value: "arn:aws:s3:::bucket/key".into(),
            },
            KeyValue {
                name: "E".into(),
                value: "my secret value".into(),
            },
        ];
        assert_eq!(fields(&config), vec!["secrets.D", "secrets.E"]);
    }

    #[test]
    fn paths_must_stay_inside_the_project() {
        let mut config = valid();
        config.dockerfile = "../Dockerfile".into();
        config.context = "/etc".into();
        assert_eq!(fields(&config), vec!["dockerfile", "context"]);
    }

    #[test]
    fn a_build_stage_is_a_name_from_the_dockerfile_or_nothing() {
        let mut config = valid();
        config.target = Some("build-stage.2".into());
        assert!(validate(&config).is_empty());
        for bad in ["../x", "2fast", "has space", ""] {
            config.target = Some(bad.into());
            let problems = validate(&config);
            assert!(
                problems.iter().any(|p| p.field == "target"),
                "{bad}: {problems:?}"
            );
        }
    }
}
