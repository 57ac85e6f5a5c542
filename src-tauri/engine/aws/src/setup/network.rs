//! The network side of setup, as pure decisions: which subnets are public (and why the
//! others are not), what a CIDR means, and what an ingress rule covers. Finding the
//! user's own public IP is the one call out, made only when they ask for it.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

pub use slipway_core::project::cidr::{is_everyone, parse_cidr};

/// A subnet as observed, with what decides whether a task there can get a public IP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ObservedSubnet {
    pub id: String,
    pub availability_zone: String,
    pub cidr: String,
    pub maps_public_ip: bool,
    /// The route table in effect (its explicit association, else the VPC's main table).
    pub route_table: Option<String>,
    /// The internet gateway that table sends 0.0.0.0/0 to, if any.
    pub internet_gateway: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SubnetVerdict {
    pub id: String,
    pub availability_zone: String,
    pub public: bool,
    /// Why it is not public, in words; empty when it is.
    pub reason: String,
}

/// A subnet is public when its route table sends 0.0.0.0/0 to an internet gateway and it
/// gives instances public IPs.
pub fn judge_subnet(subnet: &ObservedSubnet) -> SubnetVerdict {
    let reason = match (&subnet.internet_gateway, subnet.maps_public_ip) {
        (Some(_), true) => String::new(),
        (None, _) => format!(
            "its route table {} has no 0.0.0.0/0 route to an internet gateway",
            subnet.route_table.as_deref().unwrap_or("(none)")
        ),
        (Some(_), false) => {
            "it does not give new network interfaces a public IP (MapPublicIpOnLaunch is off)"
                .to_owned()
        }
    };
    SubnetVerdict {
        id: subnet.id.clone(),
        availability_zone: subnet.availability_zone.clone(),
        public: reason.is_empty(),
        reason,
    }
}

/// One TCP (or all-traffic) ingress permission as EC2 reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct IngressRule {
    /// "tcp", "udp", "icmp" or "-1" (all traffic).
    pub protocol: String,
    pub from_port: i32,
    pub to_port: i32,
    pub cidr: String,
    /// True when Slipway added it (its description ends in [`RULE_MARK`]); only such
    /// rules are ever revoked.
    pub added_by_slipway: bool,
}

/// The end of the description Slipway gives the rules it adds.
pub const RULE_MARK: &str = "(Slipway)";

impl IngressRule {
    /// The rule Slipway adds for `port` from `cidr`.
    pub fn tcp(port: u16, cidr: &str) -> Self {
        Self {
            protocol: "tcp".to_owned(),
            from_port: i32::from(port),
            to_port: i32::from(port),
            cidr: cidr.to_owned(),
            added_by_slipway: true,
        }
    }

    /// True when this rule lets TCP `port` in from exactly `cidr`.
    pub fn covers(&self, port: u16, cidr: &str) -> bool {
        let port = i32::from(port);
        self.cidr == cidr
            && (self.protocol == "-1"
                || (self.protocol == "tcp" && self.from_port <= port && port <= self.to_port))
    }

    pub fn describe(&self) -> String {
        match (self.protocol.as_str(), self.from_port == self.to_port) {
            ("-1", _) => format!("all traffic from {}", self.cidr),
            (p, true) => format!("{} {} from {}", p.to_uppercase(), self.from_port, self.cidr),
            (p, false) => format!(
                "{} {}-{} from {}",
                p.to_uppercase(),
                self.from_port,
                self.to_port,
                self.cidr
            ),
        }
    }
}

/// One TCP ingress permission from another security group (the load balancer's), as EC2
/// reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct GroupIngressRule {
    /// "tcp" or "-1" (all traffic).
    pub protocol: String,
    pub from_port: i32,
    pub to_port: i32,
    /// The source security group's id.
    pub group: String,
    /// True when Slipway added it (its description ends in [`RULE_MARK`]).
    pub added_by_slipway: bool,
    /// Its description, which a revocation repeats (the emulator matches on it).
    pub description: Option<String>,
}

impl GroupIngressRule {
    /// The rule Slipway adds for `port` from the group `group`.
    pub fn tcp(port: u16, group: &str) -> Self {
        Self {
            protocol: "tcp".to_owned(),
            from_port: i32::from(port),
            to_port: i32::from(port),
            group: group.to_owned(),
            added_by_slipway: true,
            description: None,
        }
    }

    /// True when this rule lets TCP `port` in from the group `group`.
    pub fn covers(&self, port: u16, group: &str) -> bool {
        let port = i32::from(port);
        self.group == group
            && (self.protocol == "-1"
                || (self.protocol == "tcp" && self.from_port <= port && port <= self.to_port))
    }

    pub fn describe(&self) -> String {
        match (self.protocol.as_str(), self.from_port == self.to_port) {
            ("-1", _) => format!("all traffic from the group {}", self.group),
            (p, true) => format!(
                "{} {} from the group {}",
                p.to_uppercase(),
                self.from_port,
                self.group
            ),
            (p, false) => format!(
                "{} {}-{} from the group {}",
                p.to_uppercase(),
                self.from_port,
                self.to_port,
                self.group
            ),
        }
    }
}

/// This computer's public IPv4 address as AWS sees it (checkip.amazonaws.com), for the
/// "only my IP" choice. Asked only when the user asks; any failure is said plainly.
pub async fn my_public_ip() -> slipway_core::error::Result<String> {
    let unknown = |reason: String| slipway_core::error::EngineError::PublicIpUnknown { reason };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .map_err(|e| unknown(e.to_string()))?;
    let text = client
        .get("https://checkip.amazonaws.com/")
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| unknown(format!("checkip.amazonaws.com did not answer ({e})")))?
        .text()
        .await
        .map_err(|e| unknown(e.to_string()))?;
    let ip: Ipv4Addr = text.trim().parse().map_err(|_| {
        unknown(format!(
            "checkip.amazonaws.com answered \"{}\", which is not an IPv4 address",
            text.trim()
        ))
    })?;
    Ok(format!("{ip}/32"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_must_be_canonical_ipv4_ranges() {
        assert_eq!(parse_cidr("0.0.0.0/0").unwrap().1, 0);
        assert!(parse_cidr("203.0.113.7/32").is_ok());
        let err = parse_cidr("10.1.2.3/8").unwrap_err();
        assert!(
            err.contains("10.0.0.0/8"),
            "the message offers the fix: {err}"
        );
        for bad in ["10.0.0.0", "10.0.0.0/33", "::/0", "ten/8", ""] {
            assert!(parse_cidr(bad).is_err(), "{bad}");
        }
        assert!(is_everyone("0.0.0.0/0") && !is_everyone("203.0.113.7/32"));
    }

    fn subnet(igw: Option<&str>, maps: bool) -> ObservedSubnet {
        ObservedSubnet {
            id: "subnet-1".into(),
            availability_zone: "us-east-1a".into(),
            cidr: "172.31.0.0/20".into(),
            maps_public_ip: maps,
            route_table: Some("rtb-1".into()),
            internet_gateway: igw.map(str::to_owned),
        }
    }

    #[test]
    fn a_subnet_is_public_only_with_an_internet_route_and_public_ips() {
        assert!(judge_subnet(&subnet(Some("igw-1"), true)).public);
        let no_route = judge_subnet(&subnet(None, true));
        assert!(!no_route.public && no_route.reason.contains("rtb-1"));
        let no_ips = judge_subnet(&subnet(Some("igw-1"), false));
        assert!(!no_ips.public && no_ips.reason.contains("MapPublicIpOnLaunch"));
    }

    #[test]
    fn a_rule_covers_a_port_by_range_or_all_traffic_but_only_from_the_same_cidr() {
        let range = IngressRule {
            protocol: "tcp".into(),
            from_port: 8000,
            to_port: 9000,
            cidr: "0.0.0.0/0".into(),
            added_by_slipway: false,
        };
        assert!(range.covers(8080, "0.0.0.0/0"));
        assert!(!range.covers(8080, "203.0.113.7/32"));
        assert!(!range.covers(80, "0.0.0.0/0"));
        let all = IngressRule {
            protocol: "-1".into(),
            from_port: -1,
            to_port: -1,
            cidr: "10.0.0.0/8".into(),
            added_by_slipway: false,
        };
        assert!(all.covers(22, "10.0.0.0/8"));
        assert_eq!(
            IngressRule::tcp(8080, "1.2.3.4/32").describe(),
            "TCP 8080 from 1.2.3.4/32"
        );
    }
}
