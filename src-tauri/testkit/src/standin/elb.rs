//! The stand-in's Elastic Load Balancing, a loop of its own beside the task watch (so an
//! image pull never delays a health check): once a second it reads moto's target groups
//! and their registered targets, checks each target, tells the proxy the states for
//! DescribeTargetHealth, and keeps the load balancers' listeners (and their rules) in line
//! with moto's.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_elasticloadbalancingv2::types::TargetGroup;
use aws_sdk_elasticloadbalancingv2::Client;

use super::balancer::{Balancers, Seen};
use super::rules::Routes;
use super::targets::{self, GroupSettings, TargetGroups, INTERVAL};
use crate::FaultProxy;

pub(super) struct Elb {
    pub client: Client,
    pub groups: Arc<Mutex<TargetGroups>>,
    pub balancers: Arc<Mutex<Balancers>>,
    pub proxy: Arc<FaultProxy>,
    pub http: reqwest::Client,
    /// The groups whose health the proxy was told.
    pub reported: HashSet<String>,
    pub route53: aws_sdk_route53::Client,
    /// When Route 53's aliases were last read.
    pub aliases_read: Option<Instant>,
}

/// How often Route 53's alias records are read (they change with a setup, not a deploy).
const ALIASES_EVERY: Duration = Duration::from_secs(3);

impl Elb {
    pub async fn run(mut self) {
        loop {
            let started = Instant::now();
            self.pass().await;
            tokio::time::sleep(INTERVAL.saturating_sub(started.elapsed())).await;
        }
    }

    async fn pass(&mut self) {
        let read_at = Instant::now();
        if let Some(groups) = self.read_groups().await {
            self.groups
                .lock()
                .expect("target groups")
                .sync(groups, read_at);
        }
        let checks = self.groups.lock().expect("target groups").checks();
        let outcomes =
            futures_util::future::join_all(checks.iter().map(|c| targets::check(&self.http, c)))
                .await;
        let reports = {
            let mut groups = self.groups.lock().expect("target groups");
            for (check, outcome) in checks.iter().zip(&outcomes) {
                groups.record(&check.group, &check.target, outcome);
            }
            groups
                .group_arns()
                .into_iter()
                .map(|arn| {
                    let report = groups.report(&arn);
                    (arn, report)
                })
                .collect::<Vec<_>>()
        };
        let now: HashSet<String> = reports.iter().map(|(arn, _)| arn.clone()).collect();
        for gone in self.reported.difference(&now) {
            self.proxy.forget_target_health(gone);
        }
        for (arn, report) in reports {
            self.proxy.report_target_health(&arn, report);
        }
        self.reported = now;
        let read_at = Instant::now();
        if let Some(seen) = self.read_balancers().await {
            self.balancers
                .lock()
                .expect("balancers")
                .reconcile(seen, &self.groups, read_at);
        }
        let balancing = !self.balancers.lock().expect("balancers").is_empty();
        if balancing
            && self
                .aliases_read
                .is_none_or(|at| at.elapsed() >= ALIASES_EVERY)
        {
            self.aliases_read = Some(Instant::now());
            if let Some(aliases) = self.read_aliases().await {
                self.balancers
                    .lock()
                    .expect("balancers")
                    .follow_aliases(&aliases);
            }
        }
    }

    /// Every alias record of every hosted zone: (name, alias target's DNS name).
    async fn read_aliases(&self) -> Option<Vec<(String, String)>> {
        let zones = self.route53.list_hosted_zones().send().await.ok()?;
        let mut aliases = Vec::new();
        for zone in zones.hosted_zones() {
            let records = self
                .route53
                .list_resource_record_sets()
                .hosted_zone_id(zone.id())
                .send()
                .await
                .ok()?;
            aliases.extend(records.resource_record_sets().iter().filter_map(|r| {
                let target = r.alias_target()?.dns_name();
                Some((r.name().to_owned(), target.to_owned()))
            }));
        }
        Some(aliases)
    }

    /// Every target group with its settings and registered targets; `None` when moto
    /// could not say.
    async fn read_groups(&self) -> Option<HashMap<String, (GroupSettings, Vec<(String, i32)>)>> {
        let described = self.client.describe_target_groups().send().await.ok()?;
        let mut groups = HashMap::new();
        for group in described.target_groups() {
            let Some(arn) = group.target_group_arn() else {
                continue;
            };
            let attributes: HashMap<String, String> = self
                .client
                .describe_target_group_attributes()
                .target_group_arn(arn)
                .send()
                .await
                .ok()?
                .attributes()
                .iter()
                .filter_map(|a| Some((a.key()?.to_owned(), a.value()?.to_owned())))
                .collect();
            let registered = self
                .client
                .describe_target_health()
                .target_group_arn(arn)
                .send()
                .await
                .ok()?
                .target_health_descriptions()
                .iter()
                .filter_map(|d| {
                    let target = d.target()?;
                    Some((
                        target.id()?.to_owned(),
                        target.port().or(group.port()).unwrap_or(80),
                    ))
                })
                .collect();
            groups.insert(arn.to_owned(), (settings(group, &attributes), registered));
        }
        Some(groups)
    }

    /// Every load balancer with its listeners and their rules; `None` when moto could not
    /// say.
    async fn read_balancers(&self) -> Option<Vec<Seen>> {
        let described = self.client.describe_load_balancers().send().await.ok()?;
        let mut seen = Vec::new();
        for lb in described.load_balancers() {
            let (Some(arn), Some(dns)) = (lb.load_balancer_arn(), lb.dns_name()) else {
                continue;
            };
            if lb.r#type().is_some_and(|t| t.as_str() != "application") {
                continue;
            }
            let listeners = self
                .client
                .describe_listeners()
                .load_balancer_arn(arn)
                .send()
                .await
                .ok()?
                .listeners()
                .to_vec();
            let mut routes = Vec::new();
            for listener in listeners {
                let rules = match listener.listener_arn() {
                    Some(arn) => self
                        .client
                        .describe_rules()
                        .listener_arn(arn)
                        .send()
                        .await
                        .ok()?
                        .rules()
                        .to_vec(),
                    None => Vec::new(),
                };
                routes.push(Routes { listener, rules });
            }
            seen.push(Seen {
                arn: arn.to_owned(),
                dns: dns.to_owned(),
                listeners: routes,
            });
        }
        Some(seen)
    }
}

fn settings(group: &TargetGroup, attributes: &HashMap<String, String>) -> GroupSettings {
    let seconds = |key: &str| {
        attributes
            .get(key)
            .and_then(|v| v.parse().ok())
            .map(Duration::from_secs)
    };
    let sticky = attributes.get("stickiness.enabled").map(String::as_str) == Some("true")
        && attributes
            .get("stickiness.type")
            .is_none_or(|t| t == "lb_cookie");
    let defaults = GroupSettings::default();
    GroupSettings {
        path: group
            .health_check_path()
            .unwrap_or(&defaults.path)
            .to_owned(),
        port: group.health_check_port().and_then(|p| p.parse().ok()),
        https: group
            .health_check_protocol()
            .is_some_and(|p| p.as_str() == "HTTPS"),
        matcher: group
            .matcher()
            .and_then(|m| m.http_code())
            .unwrap_or(&defaults.matcher)
            .to_owned(),
        timeout: group
            .health_check_timeout_seconds()
            .map_or(defaults.timeout, |s| Duration::from_secs(s.max(1) as u64)),
        drain: seconds("deregistration_delay.timeout_seconds").unwrap_or(defaults.drain),
        sticky: sticky.then(|| {
            seconds("stickiness.lb_cookie.duration_seconds").unwrap_or(Duration::from_secs(86_400))
        }),
    }
}
