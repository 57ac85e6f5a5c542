//! What the app needs from the account, resolved from slipway.toml and the connection:
//! what observing, planning and applying setup all start from.

use super::balancer::BalancerWanted;
use super::names::ResourceNames;
use super::policy::ArnScope;

/// What the app needs, resolved from slipway.toml and the connected account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub app: String,
    /// The project's id, tagged on what setup creates; `None` for a project without one
    /// (then any resource Slipway tagged for the app counts as this project's).
    pub project: Option<String>,
    pub names: ResourceNames,
    pub scope: ArnScope,
    pub port: u16,
    pub allow_from: String,
    pub retention_days: i32,
    /// The `valueFrom` of each secret the task reads.
    pub secret_refs: Vec<String>,
    /// The asked-for VPC; the default VPC when `None`.
    pub vpc: Option<String>,
    /// The load balancer, when the project wants one (`aws.load_balancer`).
    pub balancer: Option<BalancerWanted>,
}
