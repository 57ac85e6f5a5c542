//! What Slipway calls an app's AWS resources, how it marks them as its own, and the
//! check that every name fits AWS's rules before any call is made.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The tag that says Slipway created a resource, the one naming the app it belongs to, and
/// the one naming the project (slipway.toml's `[project] id`), which tells apart two
/// projects that use the same app name in one account. Teardown deletes only what carries
/// the first two with this app's name and, when there is one, this project's id.
pub const MANAGED_BY_KEY: &str = "slipway:managed-by";
pub const MANAGED_BY_VALUE: &str = "slipway";
pub const APP_KEY: &str = "slipway:app";
pub const PROJECT_KEY: &str = "slipway:project";

pub type Tags = BTreeMap<String, String>;

/// The tags Slipway puts on everything it creates for `app` in the project `project`.
pub fn tags_for(app: &str, project: Option<&str>) -> Tags {
    let mut tags = Tags::from([
        (MANAGED_BY_KEY.to_owned(), MANAGED_BY_VALUE.to_owned()),
        (APP_KEY.to_owned(), app.to_owned()),
    ]);
    if let Some(id) = project {
        tags.insert(PROJECT_KEY.to_owned(), id.to_owned());
    }
    tags
}

/// True when `tags` mark a resource Slipway created for `app` (in any project).
pub fn is_managed(tags: &Tags, app: &str) -> bool {
    tags.get(MANAGED_BY_KEY).map(String::as_str) == Some(MANAGED_BY_VALUE)
        && tags.get(APP_KEY).map(String::as_str) == Some(app)
}

/// Whose a resource is, from its tags, as seen by the project `project` of `app`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// Slipway's, for this app and this project.
    Ours,
    /// Slipway's, for this app, made by a Slipway that did not tag projects yet: this
    /// project adopts it (tags it with its id).
    OursUntagged,
    /// Slipway's, for an app of the same name in another project: used, never changed.
    OtherProject,
    /// Not Slipway's for this app.
    NotSlipways,
}

impl Ownership {
    /// True for what this project may change and remove.
    pub fn is_ours(self) -> bool {
        matches!(self, Self::Ours | Self::OursUntagged)
    }
}

pub fn ownership(tags: &Tags, app: &str, project: Option<&str>) -> Ownership {
    if !is_managed(tags, app) {
        return Ownership::NotSlipways;
    }
    match (tags.get(PROJECT_KEY).map(String::as_str), project) {
        (None, Some(_)) => Ownership::OursUntagged,
        (Some(theirs), Some(ours)) if theirs != ours => Ownership::OtherProject,
        // A project without an id yet (one an older Slipway saved, seen by a deploy before
        // setup gave it one) cannot tell projects apart: the app's tags decide, as before.
        _ => Ownership::Ours,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ResourceNames {
    pub repository: String,
    pub cluster: String,
    pub log_group: String,
    pub execution_role: String,
    pub security_group: String,
    /// The Application Load Balancer's name ([`balancer_name`]); always computed, so
    /// teardown finds it whether or not the project uses one now.
    pub load_balancer: String,
    pub target_group: String,
    /// The load balancer's own security group (`<security group>-lb`).
    pub balancer_security_group: String,
    /// Blue/green deploys: the second target group, where each new release starts
    /// while the other serves (the two swap roles at every deploy).
    pub alternate_target_group: String,
    /// Blue/green deploys: the role ECS takes to move the load balancer's traffic.
    pub infrastructure_role: String,
}

/// The longest name ELBv2 gives a load balancer or a target group.
const ELB_NAME_MAX: usize = 32;

/// The name of an app's Application Load Balancer and of its target group: at most 32
/// letters, digits and hyphens, no hyphen at either end, never starting with "internal-".
/// `slipway-<app>` when that fits; otherwise as much of it as fits, then a hyphen and six
/// hex digits of a hash of the app name, so two long names that start alike stay apart.
pub fn balancer_name(app: &str) -> String {
    let plain = format!("slipway-{app}");
    let fits = |s: &str| {
        s.len() <= ELB_NAME_MAX
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !s.ends_with('-')
    };
    if fits(&plain) {
        return plain;
    }
    let digest = {
        use sha2::Digest;
        let hash = sha2::Sha256::digest(app.as_bytes());
        hash.iter()
            .take(3)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let cleaned: String = plain
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(ELB_NAME_MAX - digest.len() - 1)
        .collect();
    format!("{}-{digest}", cleaned.trim_end_matches('-'))
}

/// `name` when IAM takes it (64 characters at most), else its first 57 and a hyphen with
/// six hex digits of its hash.
fn role_name(name: &str) -> String {
    if name.len() <= 64 {
        return name.to_owned();
    }
    use sha2::Digest;
    let hash = sha2::Sha256::digest(name.as_bytes());
    let digest: String = hash.iter().take(3).map(|b| format!("{b:02x}")).collect();
    format!("{}-{digest}", &name[..57])
}

/// Inline policies Slipway puts on the execution role: pulling the app's image and writing
/// its logs, and reading its secrets.
pub const EXECUTION_POLICY: &str = "slipway-execution";
pub const SECRETS_POLICY: &str = "slipway-secrets";
/// The logs-only policy of earlier versions, which [`EXECUTION_POLICY`] replaces.
pub const LOGS_POLICY: &str = "slipway-logs";

impl ResourceNames {
    /// The names for `app` in `region`, or every rule they break (from fargate-facts: ECR,
    /// ECS, Logs, IAM and EC2 name limits), so nothing is sent to AWS that it would refuse.
    ///
    /// IAM is global while everything else is regional, so the role's name carries the
    /// region: setting the app up in a second region, or tearing it down there, never
    /// rewrites or removes the role the first region's tasks use.
    pub fn for_app(app: &str, region: &str) -> Result<Self, Vec<String>> {
        let names = Self {
            repository: app.to_owned(),
            cluster: app.to_owned(),
            log_group: format!("/ecs/{app}"),
            execution_role: format!("slipway-{app}-{region}"),
            security_group: format!("slipway-{app}"),
            load_balancer: balancer_name(app),
            target_group: balancer_name(app),
            balancer_security_group: format!("slipway-{app}-lb"),
            alternate_target_group: balancer_name(&format!("{app}-alt")),
            infrastructure_role: role_name(&format!("slipway-{app}-{region}-lb")),
        };
        let mut problems = Vec::new();
        let repo_ok =
            regex::Regex::new(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
                .expect("ECR name pattern")
                .is_match(&names.repository);
        if !repo_ok || !(2..=256).contains(&names.repository.len()) {
            problems.push(format!(
                "ECR repository \"{}\": 2 to 256 lowercase letters, digits and single . _ - or / between them",
                names.repository
            ));
        }
        let ecs_ok = |s: &str| {
            (1..=255).contains(&s.len())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        if !ecs_ok(&names.cluster) {
            problems.push(format!(
                "ECS cluster \"{}\": up to 255 letters, digits, - and _",
                names.cluster
            ));
        }
        let log_ok = (1..=512).contains(&names.log_group.len())
            && names
                .log_group
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-/.#".contains(c));
        if !log_ok {
            problems.push(format!(
                "log group \"{}\": 1 to 512 of letters, digits and _ - / . #",
                names.log_group
            ));
        }
        let role_ok = (1..=64).contains(&names.execution_role.len())
            && names
                .execution_role
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
        if !role_ok {
            problems.push(format!(
                "IAM role \"{}\": at most 64 characters, so in {region} the app name can have at most {} ({} has {})",
                names.execution_role,
                64usize.saturating_sub("slipway--".len() + region.len()),
                app,
                app.len()
            ));
        }
        if names.security_group.len() > 255 || names.security_group.starts_with("sg-") {
            problems.push(format!(
                "security group \"{}\": up to 255 characters, not starting with sg-",
                names.security_group
            ));
        }
        if problems.is_empty() {
            Ok(names)
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_gets_one_name_per_resource() {
        let names = ResourceNames::for_app("hello-site", "eu-west-1").unwrap();
        assert_eq!(names.repository, "hello-site");
        assert_eq!(names.log_group, "/ecs/hello-site");
        assert_eq!(
            names.execution_role, "slipway-hello-site-eu-west-1",
            "one role per region, as IAM is global"
        );
        assert_eq!(names.security_group, "slipway-hello-site");
        assert_eq!(names.load_balancer, "slipway-hello-site");
        assert_eq!(names.target_group, "slipway-hello-site");
        assert_eq!(names.balancer_security_group, "slipway-hello-site-lb");
    }

    #[test]
    fn a_long_or_unusual_app_name_still_gives_a_valid_distinct_balancer_name() {
        let long = balancer_name("a-rather-long-application-name-1");
        let other = balancer_name("a-rather-long-application-name-2");
        for name in [&long, &other, &balancer_name("under_score.app")] {
            assert!(name.len() <= 32, "{name}");
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                "{name}"
            );
            assert!(!name.starts_with('-') && !name.ends_with('-'), "{name}");
            assert!(!name.starts_with("internal-"), "{name}");
        }
        assert_ne!(long, other, "the hash keeps two long names apart");
        assert_eq!(long, balancer_name("a-rather-long-application-name-1"));
        assert!(long.starts_with("slipway-a-rather-"), "{long}");
    }

    #[test]
    fn a_name_too_long_for_iam_is_refused_before_any_call() {
        let app = "a".repeat(50);
        let problems = ResourceNames::for_app(&app, "ap-southeast-2").unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("at most 41"), "{}", problems[0]);
    }

    #[test]
    fn only_both_tags_with_this_app_mean_slipway_owns_it() {
        assert!(is_managed(&tags_for("a1", None), "a1"));
        assert!(
            !is_managed(&tags_for("a1", None), "a2"),
            "another app's resource"
        );
        let mut only_app = tags_for("a1", None);
        only_app.remove(MANAGED_BY_KEY);
        assert!(!is_managed(&only_app, "a1"), "a user's own tag is not ours");
        assert!(!is_managed(&Tags::new(), "a1"));
    }

    #[test]
    fn the_project_tag_tells_two_projects_with_one_app_name_apart() {
        let ours = Some("0123456789abcdef");
        assert_eq!(
            ownership(&tags_for("a1", ours), "a1", ours),
            Ownership::Ours
        );
        assert_eq!(
            ownership(&tags_for("a1", Some("fedcba9876543210")), "a1", ours),
            Ownership::OtherProject,
            "the same app name made by another project is not this project's"
        );
        assert_eq!(
            ownership(&tags_for("a1", None), "a1", ours),
            Ownership::OursUntagged,
            "an older Slipway's resource is adopted"
        );
        assert!(ownership(&tags_for("a1", None), "a1", ours).is_ours());
        assert!(!ownership(&tags_for("a1", Some("other")), "a1", ours).is_ours());
        assert_eq!(
            ownership(&tags_for("a2", ours), "a1", ours),
            Ownership::NotSlipways
        );
        assert_eq!(
            ownership(&tags_for("a1", ours), "a1", None),
            Ownership::Ours,
            "a project without an id yet goes by the app's tags, as before ids"
        );
    }
}
