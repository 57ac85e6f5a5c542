//! The stable address: an internet-facing Application Load Balancer in front of the app's
//! tasks, its security group, target group and listeners, and HTTPS on the user's domain
//! (an ACM certificate validated by DNS, and the Route 53 records when the domain's zone is
//! in the account). What is observed (`observe`), decided (`plan`) and applied (`apply`)
//! here plugs into setup's own three steps; the service that registers tasks with the
//! target group is the deploy's.

pub(crate) mod apply;
pub mod blue_green;
pub(crate) mod observe;

use serde::{Deserialize, Serialize};

use super::names::Tags;

/// Seconds between two health checks of a target.
pub const HEALTH_INTERVAL: i32 = 10;
/// Seconds one health check may take (less than the interval).
pub const HEALTH_TIMEOUT: i32 = 5;
/// Answers in a row that make a target healthy, and failures that make it unhealthy.
pub const HEALTHY_THRESHOLD: i32 = 2;
pub const UNHEALTHY_THRESHOLD: i32 = 2;
/// The answers that count as healthy.
pub const HEALTHY_CODES: &str = "200-399";
/// Seconds a deregistered task keeps its requests; AWS's default of 300 would make every
/// deploy wait five minutes.
pub const DEREGISTRATION_DELAY: u32 = 10;

/// What the project wants of the load balancer, when it wants one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalancerWanted {
    /// The path the load balancer's health check asks for (the project's HTTP probe, else "/").
    pub health_path: String,
    pub sticky_seconds: Option<u32>,
    /// The user's domain for HTTPS, lowercase and without a trailing dot.
    pub domain: Option<String>,
    /// Blue/green deploys with this bake time in minutes; rolling when `None`.
    pub bake_minutes: Option<u32>,
}

/// A DNS record as the user would type it at their DNS provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DnsRecord {
    pub name: String,
    /// "CNAME" or "A".
    pub kind: String,
    pub value: String,
}

/// What an alias record points at: the load balancer's DNS name and its hosted zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AliasTarget {
    pub dns_name: String,
    pub hosted_zone: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedLoadBalancer {
    pub arn: String,
    pub dns_name: String,
    pub canonical_zone: String,
    pub security_groups: Vec<String>,
    pub subnets: Vec<String>,
    /// The Availability Zones of those subnets.
    pub zones: Vec<String>,
    /// "provisioning", "active", "active_impaired" or "failed".
    pub state: String,
    /// "internet-facing" or "internal".
    pub scheme: String,
    /// "application", "network" or "gateway".
    pub kind: String,
    pub vpc: String,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedTargetGroup {
    pub arn: String,
    pub port: u16,
    pub protocol: String,
    /// "ip", "instance", "lambda" or "alb".
    pub target_type: String,
    pub vpc: String,
    pub health_path: String,
    pub health_interval: i32,
    pub healthy_threshold: i32,
    pub matcher: String,
    /// `deregistration_delay.timeout_seconds`.
    pub deregistration_delay: Option<u32>,
    /// The cookie's duration when duration-based stickiness is on.
    pub sticky_seconds: Option<u32>,
    /// Targets registered now (any state): a target group with some is in use.
    pub targets: usize,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedListener {
    pub arn: String,
    pub port: u16,
    /// "HTTP" or "HTTPS".
    pub protocol: String,
    pub certificate: Option<String>,
    /// True when its default action redirects to HTTPS.
    pub redirects: bool,
    /// The target group its default action forwards to.
    pub forwards_to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedCertificate {
    pub arn: String,
    pub domain: String,
    /// ACM's status: PENDING_VALIDATION, ISSUED, FAILED, VALIDATION_TIMED_OUT, EXPIRED,
    /// REVOKED or INACTIVE.
    pub status: String,
    /// The CNAME that validates it, once ACM shows it.
    pub validation: Option<DnsRecord>,
    /// What uses it (load balancers or their listeners).
    pub in_use_by: Vec<String>,
    pub tags: Tags,
}

/// The public Route 53 hosted zone the domain is in, with the records setup looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedZone {
    /// The zone id without its "/hostedzone/" prefix.
    pub id: String,
    /// Without the trailing dot.
    pub name: String,
    /// The records named like the domain or the certificate's validation record.
    pub records: Vec<ObservedRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedRecord {
    /// Lowercase, without the trailing dot.
    pub name: String,
    pub kind: String,
    pub ttl: Option<i64>,
    pub values: Vec<String>,
    pub alias: Option<AliasTarget>,
    /// An alias's EvaluateTargetHealth (a record is deleted only as it is).
    pub evaluates_health: bool,
}

/// A DNS name as compared: lowercase, without the trailing dot.
pub fn dns_name(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// An alias target's DNS name as compared: Route 53 may store the load balancer's name
/// with a "dualstack." prefix, a trailing dot, or in another case.
fn alias_host(name: &str) -> String {
    let name = dns_name(name);
    name.strip_prefix("dualstack.")
        .map(str::to_owned)
        .unwrap_or(name)
}

impl ObservedZone {
    /// The domain's A record when it is an alias of `balancer_dns`.
    pub fn points_at(&self, domain: &str, balancer_dns: &str) -> bool {
        self.records.iter().any(|r| {
            r.name == dns_name(domain)
                && r.kind == "A"
                && r.alias
                    .as_ref()
                    .is_some_and(|a| alias_host(&a.dns_name) == alias_host(balancer_dns))
        })
    }

    /// True when the zone holds exactly `record` (name, type and value).
    pub fn has(&self, record: &DnsRecord) -> bool {
        self.records.iter().any(|r| {
            r.name == dns_name(&record.name)
                && r.kind == record.kind
                && r.values
                    .iter()
                    .any(|v| dns_name(v) == dns_name(&record.value))
        })
    }
}

#[cfg(test)]
mod tests;
