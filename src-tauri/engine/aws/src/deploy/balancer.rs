//! The stable address (issue 18): a service behind the app's Application Load Balancer.
//! The deploy registers the service with the target group, follows each new task's
//! target (registration, then initial health checks, then healthy or unhealthy with the
//! load balancer's reason), and answers with the load balancer's URL, which no deploy or
//! rollback changes. Status reads the targets the same way.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::watch::TaskSnapshot;
use super::{DeployEvent, Deployment};
use crate::aws::{classify, Connection};
use crate::setup::Observed;
use slipway_core::diagnosis::Diagnosis;
use slipway_core::error::{EngineError, Result};
use slipway_core::project::ProjectConfig;

/// How long ECS ignores failed load balancer health checks of a new task: room for a
/// slow start before the first checks count.
pub const GRACE_SECONDS: i32 = 30;

/// Where the service is registered and what its address is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balancer {
    /// The target group that gets the traffic now.
    pub target_group: String,
    /// The load balancer's own DNS name.
    pub dns_name: String,
    /// `http://<load balancer DNS name>`, or `https://<domain>` once HTTPS is on.
    pub url: String,
    pub blue_green: Option<BlueGreen>,
}

/// What a blue/green deploy hands ECS: the group the new release starts in, the rule ECS
/// switches, the role it takes to do it, and how long the previous release stays ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlueGreen {
    pub standby: String,
    pub rule: String,
    pub role: String,
    pub bake_minutes: u32,
}

impl BlueGreen {
    /// When the project wants blue/green deploys and setup made what they need; `serving`
    /// is [`serving_group`]'s answer.
    pub fn of(
        observed: &Observed,
        config: &ProjectConfig,
        main: &str,
        serving: &str,
    ) -> Option<Self> {
        let seen = &observed.blue_green;
        let bake_minutes = config
            .aws
            .bake_minutes
            .filter(|_| config.aws.blue_green())?;
        let (alternate, rule, role) = (
            seen.alternate.as_ref()?,
            seen.rule.as_ref()?,
            seen.role.as_ref()?,
        );
        Some(Self {
            standby: if serving == alternate.arn {
                main.to_owned()
            } else {
                alternate.arn.clone()
            },
            rule: rule.arn.clone(),
            role: role.arn.clone(),
            bake_minutes,
        })
    }
}

/// The target group the production rule sends the traffic to (blue/green swaps it at each
/// deploy), else `main`.
pub fn serving_group(observed: &Observed, main: &str) -> String {
    observed
        .blue_green
        .rule
        .as_ref()
        .and_then(|r| r.serving())
        .unwrap_or(main)
        .to_owned()
}

/// The address visitors use, one rule for the deploy and for status: the user's domain
/// once an HTTPS listener with its certificate is on (port 80 then redirects there, with
/// the domain's certificate, so the load balancer's own name would fail in a browser),
/// else the load balancer's own name.
pub fn address(dns_name: &str, domain: Option<&str>, https: bool) -> String {
    match domain {
        Some(domain) if https => format!("https://{domain}"),
        _ => url_of(dns_name),
    }
}

/// How the deploy reaches `url` to check it: the user's domain is resolved to the load
/// balancer itself, so the check proves the load balancer serves the new revision with
/// the domain's certificate, whatever the user's DNS says yet.
pub async fn check_client(balancer: Option<&Balancer>, url: &str) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder();
    let Some(balancer) = balancer else {
        return builder;
    };
    let Some(host) = url
        .strip_prefix("https://")
        .map(|rest| rest.split(['/', ':']).next().unwrap_or(rest))
    else {
        return builder;
    };
    match tokio::net::lookup_host((balancer.dns_name.as_str(), 443)).await {
        Ok(addrs) => builder.resolve_to_addrs(host, &addrs.collect::<Vec<_>>()),
        Err(e) => {
            tracing::warn!(lb = %balancer.dns_name, "resolving the load balancer: {e}");
            builder
        }
    }
}

/// One registered task, as the load balancer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// The task's private IP and the container port.
    pub ip: String,
    pub port: i32,
    /// The task, when it is one of the app's (matched by private IP).
    pub task_id: Option<String>,
    /// initial, healthy, unhealthy, unused, draining or unavailable.
    pub state: String,
    /// Elb.InitialHealthChecking, Target.ResponseCodeMismatch, ...
    pub reason: Option<String>,
    /// The load balancer's own sentence ("Health checks failed with these codes: [404]").
    pub description: Option<String>,
    /// The same, for a person.
    pub said: String,
}

impl Target {
    pub fn is_healthy(&self) -> bool {
        self.state == "healthy"
    }
}

/// The target group's targets, each matched to the task with its private IP.
pub async fn targets(
    conn: &Connection,
    target_group: &str,
    tasks: &[TaskSnapshot],
) -> Result<Vec<Target>> {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&conn.ctx.sdk);
    let answer = elb
        .describe_target_health()
        .target_group_arn(target_group)
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "elasticloadbalancing:DescribeTargetHealth", e))?;
    let by_ip: HashMap<&str, &str> = tasks
        .iter()
        .filter_map(|t| Some((t.private_ip.as_deref()?, t.id())))
        .collect();
    Ok(answer
        .target_health_descriptions()
        .iter()
        .filter_map(|d| {
            let target = d.target()?;
            let ip = target.id()?.to_owned();
            let health = d.target_health();
            let state = health
                .and_then(|h| h.state())
                .map_or("unavailable", |s| s.as_str())
                .to_owned();
            let reason = health
                .and_then(|h| h.reason())
                .map(|r| r.as_str().to_owned());
            let description = health.and_then(|h| h.description()).map(str::to_owned);
            Some(Target {
                task_id: by_ip.get(ip.as_str()).map(|id| (*id).to_owned()),
                port: target.port().unwrap_or_default(),
                said: say(&state, reason.as_deref(), description.as_deref()),
                ip,
                state,
                reason,
                description,
            })
        })
        .collect())
}

/// A target's state in words.
pub fn say(state: &str, reason: Option<&str>, description: Option<&str>) -> String {
    let why = description.map(|d| format!(" ({d})")).unwrap_or_default();
    match (state, reason) {
        (_, Some("Elb.RegistrationInProgress")) => {
            "being registered with the load balancer".to_owned()
        }
        (_, Some("Elb.InitialHealthChecking")) | ("initial", _) => {
            "registered; the load balancer is checking its health".to_owned()
        }
        ("healthy", _) => "healthy: the load balancer sends it visitors".to_owned(),
        ("unhealthy", Some("Target.ResponseCodeMismatch")) => {
            format!("failing the health check: the app answered with the wrong status{why}")
        }
        ("unhealthy", Some("Target.Timeout")) => {
            format!("failing the health check: no answer in time{why}")
        }
        ("unhealthy", _) => format!("failing the health check{why}"),
        ("draining", _) => "leaving the load balancer (finishing open requests)".to_owned(),
        ("unused", _) => "not in use by the load balancer".to_owned(),
        (other, _) => format!("{other}{why}"),
    }
}

/// Follows the new tasks' targets during a rollout: emits a `Target` event for each
/// change, and answers with the latest state of each target seen.
#[derive(Default)]
pub struct TargetWatch {
    seen: HashMap<String, (String, Option<String>)>,
    pub latest: HashMap<String, Target>,
    /// Healthy targets that are not this deploy's tasks (the previous revision's, until
    /// they are drained): while there are any, visitors may still get the old revision.
    pub others_healthy: usize,
}

impl TargetWatch {
    /// Reads the targets of the deploy's tasks and emits what changed; a failed read is
    /// left for the next pass (target health is shown, not relied upon: the rollout's state
    /// decides the deploy).
    pub async fn look(
        &mut self,
        d: &Deployment<'_>,
        balancer: &Balancer,
        snapshots: &[TaskSnapshot],
    ) -> bool {
        let Ok(mut found) = d
            .race(
                "the load balancer's targets",
                targets(d.conn, &balancer.target_group, snapshots),
            )
            .await
        else {
            return false;
        };
        // Blue/green: the new release registers in the other group.
        if let Some(bg) = &balancer.blue_green {
            let Ok(standby) = d
                .race(
                    "the load balancer's targets",
                    Box::pin(targets(d.conn, &bg.standby, snapshots)),
                )
                .await
            else {
                return false;
            };
            found.extend(standby);
        }
        let mut changed = false;
        let (ours, others): (Vec<Target>, Vec<Target>) =
            found.into_iter().partition(|t| t.task_id.is_some());
        self.others_healthy = others.iter().filter(|t| t.is_healthy()).count();
        for target in ours {
            let key = format!("{}:{}", target.ip, target.port);
            let now = (target.state.clone(), target.reason.clone());
            if self.seen.get(&key) != Some(&now) {
                changed = true;
                self.seen.insert(key.clone(), now);
                d.emit(DeployEvent::Target {
                    task_id: target.task_id.clone().unwrap_or_default(),
                    target: key.clone(),
                    state: target.state.clone(),
                    reason: target.reason.clone(),
                    said: target.said.clone(),
                    at_ms: d.at_ms(),
                });
            }
            self.latest.insert(key, target);
        }
        changed
    }

    /// The last state seen of a task's target.
    pub fn of_task(&self, task_id: &str) -> Option<&Target> {
        self.latest
            .values()
            .find(|t| t.task_id.as_deref() == Some(task_id))
    }
}

/// A diagnosis of failed load balancer health checks, made specific: the path and port
/// the load balancer asked, what it got, and the security group cause.
pub fn explain_health(
    mut diagnosis: Diagnosis,
    path: &str,
    port: u16,
    target: Option<&Target>,
) -> Diagnosis {
    if !diagnosis
        .evidence
        .to_lowercase()
        .contains("elb health checks")
    {
        return diagnosis;
    }
    let got = match target.map(|t| (t.reason.as_deref(), t.description.as_deref())) {
        Some((Some("Target.ResponseCodeMismatch"), description)) => format!(
            " The app answered, but not with a success status{}.",
            description.map(|d| format!(" ({d})")).unwrap_or_default()
        ),
        Some((Some("Target.Timeout"), _)) => {
            " Nothing answered in time: the app may not listen on that port, may start slowly, or the app's security group may not let the load balancer in.".to_owned()
        }
        _ => String::new(),
    };
    diagnosis.cause = format!(
        "The load balancer checks GET {path} on port {port} of each new task, and this task kept failing it, so ECS replaced it.{got}"
    );
    diagnosis.fix = format!(
        "Make the app answer GET {path} with a 200 (or set the health check path in the project to one it answers) on port {port}; if it starts slowly, give it more time to start. Run setup again if the app's security group no longer admits the load balancer."
    );
    diagnosis
}

/// The load balancer's URL, from its DNS name.
pub fn url_of(dns_name: &str) -> String {
    format!("http://{dns_name}")
}

/// The app's load balancer as status reads it (by name, without observing the whole
/// setup).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub dns_name: String,
    pub target_group: String,
    /// An HTTPS listener is on (the user's domain has its certificate).
    pub https: bool,
}

impl Found {
    /// The address visitors use: the user's domain once HTTPS is on, else the load
    /// balancer's own name.
    pub fn url(&self, domain: Option<&str>) -> String {
        address(&self.dns_name, domain, self.https)
    }
}

/// The app's load balancer and target group, read by name: `None` when the app has none.
/// With blue/green's second group (`alternate`) in use, the group is the one the
/// production rule sends the traffic to.
pub async fn find(
    conn: &Connection,
    load_balancer: &str,
    target_group: &str,
    alternate: &str,
) -> Result<Option<Found>> {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&conn.ctx.sdk);
    let lbs = match elb
        .describe_load_balancers()
        .names(load_balancer)
        .send()
        .await
    {
        Ok(answer) => answer,
        Err(e) if not_found(&e) => return Ok(None),
        Err(e) => {
            return Err(classify(
                &conn.ctx,
                "elasticloadbalancing:DescribeLoadBalancers",
                e,
            ))
        }
    };
    let Some((arn, dns_name)) = lbs.load_balancers().first().and_then(|lb| {
        Some((
            lb.load_balancer_arn()?.to_owned(),
            lb.dns_name()?.to_owned(),
        ))
    }) else {
        return Ok(None);
    };
    let tgs = match elb
        .describe_target_groups()
        .names(target_group)
        .send()
        .await
    {
        Ok(answer) => answer,
        Err(e) if not_found(&e) => return Ok(None),
        Err(e) => {
            return Err(classify(
                &conn.ctx,
                "elasticloadbalancing:DescribeTargetGroups",
                e,
            ))
        }
    };
    let Some(target_group) = tgs
        .target_groups()
        .first()
        .and_then(|tg| tg.target_group_arn())
        .map(str::to_owned)
    else {
        return Ok(None);
    };
    let listeners = elb
        .describe_listeners()
        .load_balancer_arn(&arn)
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "elasticloadbalancing:DescribeListeners", e))?;
    let https = listeners
        .listeners()
        .iter()
        .any(|l| l.port() == Some(443) && !l.certificates().is_empty());
    let attached = elb
        .describe_target_groups()
        .load_balancer_arn(&arn)
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "elasticloadbalancing:DescribeTargetGroups", e))?;
    let alternate = attached
        .target_groups()
        .iter()
        .find(|g| g.target_group_name() == Some(alternate))
        .and_then(|g| g.target_group_arn());
    let target_group = match alternate {
        Some(alternate) => Box::pin(serving_of(
            conn,
            listeners.listeners(),
            &[&target_group, alternate],
        ))
        .await?
        .unwrap_or(target_group),
        None => target_group,
    };
    Ok(Some(Found {
        dns_name,
        target_group,
        https,
    }))
}

/// The one of `groups` that a listener rule sends the traffic to (the highest weight).
async fn serving_of(
    conn: &Connection,
    listeners: &[aws_sdk_elasticloadbalancingv2::types::Listener],
    groups: &[&str],
) -> Result<Option<String>> {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&conn.ctx.sdk);
    for listener in listeners.iter().filter_map(|l| l.listener_arn()) {
        let rules = elb
            .describe_rules()
            .listener_arn(listener)
            .send()
            .await
            .map_err(|e| classify(&conn.ctx, "elasticloadbalancing:DescribeRules", e))?;
        let serving = rules
            .rules()
            .iter()
            .filter(|r| r.is_default() != Some(true))
            .flat_map(|r| r.actions())
            .filter_map(|a| a.forward_config())
            .flat_map(|f| f.target_groups())
            .filter(|t| {
                t.weight().unwrap_or(1) > 0
                    && t.target_group_arn()
                        .is_some_and(|arn| groups.contains(&arn))
            })
            .max_by_key(|t| t.weight().unwrap_or(1))
            .and_then(|t| t.target_group_arn());
        if let Some(serving) = serving {
            return Ok(Some(serving.to_owned()));
        }
    }
    Ok(None)
}

fn not_found<E: aws_smithy_types::error::metadata::ProvideErrorMetadata>(
    e: &aws_sdk_elasticloadbalancingv2::error::SdkError<E>,
) -> bool {
    matches!(
        e.as_service_error().and_then(|s| s.code()),
        Some("LoadBalancerNotFound" | "TargetGroupNotFound")
    )
}

/// The internal error for a load balancer the deploy expected and did not find.
pub fn missing(app: &str) -> EngineError {
    EngineError::Internal(format!(
        "the load balancer of {app} was not found after setup reported it ready"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_health_check_names_the_path_port_and_what_came_back() {
        let generic = Diagnosis {
            cause: "generic".into(),
            fix: "generic".into(),
            evidence: "Task failed ELB health checks in (target-group arn:aws:...)".into(),
            known: true,
        };
        let target = Target {
            ip: "10.0.1.5".into(),
            port: 8080,
            task_id: Some("abc".into()),
            state: "unhealthy".into(),
            reason: Some("Target.ResponseCodeMismatch".into()),
            description: Some("Health checks failed with these codes: [404]".into()),
            said: String::new(),
        };
        let d = explain_health(generic.clone(), "/health", 8080, Some(&target));
        assert!(d.cause.contains("GET /health on port 8080"), "{}", d.cause);
        assert!(d.cause.contains("[404]"), "{}", d.cause);
        assert!(d.fix.contains("security group"), "{}", d.fix);
        let other = Diagnosis {
            evidence: "Essential container in task exited".into(),
            ..generic
        };
        assert_eq!(explain_health(other.clone(), "/", 80, None), other);
    }

    #[test]
    fn target_states_read_as_words() {
        assert_eq!(
            say("initial", Some("Elb.InitialHealthChecking"), None),
            "registered; the load balancer is checking its health"
        );
        assert!(say("unhealthy", Some("Target.Timeout"), None).contains("no answer in time"));
        assert!(say("healthy", None, None).starts_with("healthy"));
    }
}
