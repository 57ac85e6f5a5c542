//! The changes setup makes, each with the resource it belongs to, the words the plan shows
//! for it, and what to tell the user when AWS refuses it. An `Option` id of `None` names
//! the resource the same apply creates earlier (its id is known only then).

use serde::{Deserialize, Serialize};

use super::balancer::{AliasTarget, DnsRecord};
use super::network::{GroupIngressRule, IngressRule};
use super::ResourceKind;

/// One change apply makes, in the order it makes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum Change {
    CreateRepository {
        name: String,
    },
    EnableScanOnPush {
        name: String,
    },
    CreateCluster {
        name: String,
    },
    CreateLogGroup {
        name: String,
        retention_days: i32,
    },
    SetLogRetention {
        name: String,
        retention_days: i32,
    },
    CreateRole {
        name: String,
    },
    /// `document` keeps the statements the role already had.
    TrustEcsTasks {
        role: String,
        document: String,
    },
    /// Replaces the broad managed policy earlier versions attached; comes after the
    /// scoped policy is in place, so the role is never left unable to start a task.
    DetachPolicy {
        role: String,
        policy_arn: String,
    },
    PutInlinePolicy {
        role: String,
        policy: String,
        document: String,
    },
    DeleteInlinePolicy {
        role: String,
        policy: String,
    },
    CreateSecurityGroup {
        name: String,
        vpc: String,
    },
    /// `group` is `None` for the group this same apply creates.
    AllowIngress {
        group: Option<String>,
        port: u16,
        cidr: String,
    },
    RevokeIngress {
        group: String,
        rule: IngressRule,
    },
    /// The app's group lets the container port in from the load balancer's group only.
    /// Comes before the revocation of the open rule, so the app is never unreachable from
    /// both sides.
    AdmitBalancer {
        group: Option<String>,
        port: u16,
        balancer_group: Option<String>,
    },
    RevokeGroupIngress {
        group: String,
        rule: GroupIngressRule,
    },
    CreateBalancerGroup {
        name: String,
        vpc: String,
    },
    AllowBalancerIngress {
        group: Option<String>,
        port: u16,
        cidr: String,
    },
    RevokeBalancerIngress {
        group: String,
        rule: IngressRule,
    },
    CreateLoadBalancer {
        name: String,
        subnets: Vec<String>,
        security_group: Option<String>,
    },
    /// Puts the balancer's own group on a load balancer that lacks it.
    UseBalancerGroup {
        load_balancer: String,
        group: Option<String>,
    },
    CreateTargetGroup {
        name: String,
        port: u16,
        vpc: String,
        health_path: String,
    },
    /// AWS cannot change a target group's port: this one (and the listeners that forward to
    /// it) goes, and a [`Change::CreateTargetGroup`] follows.
    ReplaceTargetGroup {
        target_group: String,
        old_port: u16,
        listeners: Vec<String>,
    },
    SetHealthCheck {
        target_group: String,
        path: String,
    },
    SetTargetGroupAttributes {
        target_group: Option<String>,
        deregistration_delay: u32,
        sticky_seconds: Option<u32>,
    },
    /// HTTP when `certificate` is `None`, HTTPS with it otherwise; forwards to the target
    /// group.
    CreateListener {
        load_balancer: Option<String>,
        port: u16,
        certificate: Option<String>,
        target_group: Option<String>,
    },
    ForwardListener {
        listener: String,
        port: u16,
        target_group: Option<String>,
    },
    /// Port 80 answers with a permanent redirect to HTTPS on 443.
    RedirectToHttps {
        listener: Option<String>,
    },
    SetListenerCertificate {
        listener: String,
        certificate: String,
    },
    DeleteListener {
        listener: String,
        port: u16,
    },
    RequestCertificate {
        domain: String,
    },
    /// The CNAME that proves the domain to ACM. `record` is `None` when the certificate
    /// does not show it yet (just requested): apply reads it from the certificate.
    AddValidationRecord {
        zone: String,
        certificate: Option<String>,
        record: Option<DnsRecord>,
    },
    /// An alias A record for the domain; `target` is `None` for the load balancer this
    /// apply creates.
    PointDomainAtBalancer {
        zone: String,
        domain: String,
        target: Option<AliasTarget>,
    },
    /// Blue/green: the second target group, made like the first (with its attributes).
    CreateAlternateTargetGroup {
        name: String,
        port: u16,
        vpc: String,
        health_path: String,
        sticky_seconds: Option<u32>,
    },
    /// Blue/green: the role ECS takes to move the load balancer's traffic, trusted by ECS
    /// only.
    CreateInfrastructureRole {
        name: String,
    },
    /// AWS's managed policy for that role (`blue_green::INFRASTRUCTURE_POLICY`).
    AttachInfrastructurePolicy {
        role: String,
    },
    /// Blue/green: the rule on the listener of `port` (`listener` `None`: the port 80
    /// listener this apply creates) that forwards every request by weight, 100 to
    /// `serving` and 0 to `standby` (`None`: the group this apply creates).
    CreateProductionRule {
        listener: Option<String>,
        port: u16,
        serving: Option<String>,
        standby: Option<String>,
    },
    /// A production rule on a listener that no longer serves (port 80 once HTTPS is on).
    DeleteRule {
        rule: String,
        port: u16,
    },
    /// Adopts a resource an older Slipway made (tagged for the app, but with no project):
    /// `target` is what the tagging call names (an ARN, a role name, a group id).
    TagProject {
        kind: ResourceKind,
        target: String,
        project: String,
    },
}

impl Change {
    pub fn kind(&self) -> ResourceKind {
        match self {
            Self::CreateRepository { .. } | Self::EnableScanOnPush { .. } => {
                ResourceKind::Repository
            }
            Self::CreateCluster { .. } => ResourceKind::Cluster,
            Self::CreateLogGroup { .. } | Self::SetLogRetention { .. } => ResourceKind::LogGroup,
            Self::CreateRole { .. }
            | Self::TrustEcsTasks { .. }
            | Self::DetachPolicy { .. }
            | Self::PutInlinePolicy { .. }
            | Self::DeleteInlinePolicy { .. } => ResourceKind::ExecutionRole,
            Self::CreateSecurityGroup { .. }
            | Self::AllowIngress { .. }
            | Self::RevokeIngress { .. }
            | Self::AdmitBalancer { .. }
            | Self::RevokeGroupIngress { .. } => ResourceKind::SecurityGroup,
            Self::CreateBalancerGroup { .. }
            | Self::AllowBalancerIngress { .. }
            | Self::RevokeBalancerIngress { .. } => ResourceKind::BalancerSecurityGroup,
            Self::CreateLoadBalancer { .. } | Self::UseBalancerGroup { .. } => {
                ResourceKind::LoadBalancer
            }
            Self::CreateTargetGroup { .. }
            | Self::ReplaceTargetGroup { .. }
            | Self::SetHealthCheck { .. }
            | Self::SetTargetGroupAttributes { .. } => ResourceKind::TargetGroup,
            Self::CreateListener {
                certificate: None, ..
            }
            | Self::ForwardListener { port: 80, .. } => ResourceKind::Listener,
            Self::CreateListener { .. }
            | Self::ForwardListener { .. }
            | Self::RedirectToHttps { .. }
            | Self::SetListenerCertificate { .. }
            | Self::DeleteListener { .. } => ResourceKind::HttpsListener,
            Self::RequestCertificate { .. } => ResourceKind::Certificate,
            Self::AddValidationRecord { .. } | Self::PointDomainAtBalancer { .. } => {
                ResourceKind::DnsRecords
            }
            Self::CreateAlternateTargetGroup { .. }
            | Self::CreateInfrastructureRole { .. }
            | Self::AttachInfrastructurePolicy { .. }
            | Self::CreateProductionRule { .. }
            | Self::DeleteRule { .. } => ResourceKind::BlueGreen,
            Self::TagProject { kind, .. } => *kind,
        }
    }

    /// The change as the step of a sentence ("create the ECR repository hello").
    pub fn describe(&self) -> String {
        match self {
            Self::CreateRepository { name } => format!("create the ECR repository {name}"),
            Self::EnableScanOnPush { name } => format!("turn on scan on push for {name}"),
            Self::CreateCluster { name } => format!("create the ECS cluster {name}"),
            Self::CreateLogGroup {
                name,
                retention_days,
            } => format!("create the log group {name} (keeps logs {retention_days} days)"),
            Self::SetLogRetention {
                name,
                retention_days,
            } => format!("set {name} to keep logs {retention_days} days"),
            Self::CreateRole { name } => format!("create the IAM role {name}"),
            Self::TrustEcsTasks { role, .. } => format!("let ECS tasks assume {role}"),
            Self::DetachPolicy { role, policy_arn } => {
                let short = policy_arn.rsplit('/').next().unwrap_or(policy_arn);
                format!("replace broad ECR/logs access ({short}) on {role} with access to this app's repository and log group only")
            }
            Self::PutInlinePolicy { role, policy, .. } => {
                format!("write the policy {policy} of {role}")
            }
            Self::DeleteInlinePolicy { role, policy } => {
                format!("remove the policy {policy} from {role} (no longer needed)")
            }
            Self::CreateSecurityGroup { name, vpc } => {
                format!("create the security group {name} in {vpc}")
            }
            Self::AllowIngress { port, cidr, .. } => format!("allow TCP {port} from {cidr}"),
            Self::RevokeIngress { rule, .. } => {
                format!("remove the rule {} (no longer wanted)", rule.describe())
            }
            Self::AdmitBalancer { port, .. } => {
                format!("allow TCP {port} from the load balancer's security group")
            }
            Self::RevokeGroupIngress { rule, .. } => {
                format!("remove the rule {} (no longer wanted)", rule.describe())
            }
            Self::CreateBalancerGroup { name, vpc } => {
                format!("create the security group {name} in {vpc}")
            }
            Self::AllowBalancerIngress { port, cidr, .. } => {
                format!("allow TCP {port} from {cidr}")
            }
            Self::RevokeBalancerIngress { rule, .. } => {
                format!("remove the rule {} (no longer wanted)", rule.describe())
            }
            Self::CreateLoadBalancer { name, subnets, .. } => format!(
                "create the internet-facing Application Load Balancer {name} in {}",
                subnets.join(", ")
            ),
            Self::UseBalancerGroup { .. } => {
                "put the load balancer in its own security group".to_owned()
            }
            Self::CreateTargetGroup {
                name,
                port,
                health_path,
                ..
            } => format!(
                "create the target group {name} (tasks by IP on port {port}, health check GET {health_path})"
            ),
            Self::ReplaceTargetGroup {
                old_port,
                listeners,
                ..
            } => {
                let also = if listeners.is_empty() {
                    String::new()
                } else {
                    format!(" and the {} listener(s) that use it", listeners.len())
                };
                format!(
                    "remove the target group for port {old_port}{also} (AWS cannot change a target group's port)"
                )
            }
            Self::SetHealthCheck { path, .. } => format!(
                "check health with GET {path} every {} s, healthy after {} answers",
                super::balancer::HEALTH_INTERVAL,
                super::balancer::HEALTHY_THRESHOLD
            ),
            Self::SetTargetGroupAttributes {
                deregistration_delay,
                sticky_seconds,
                ..
            } => {
                let sticky = match sticky_seconds {
                    Some(s) => format!("keep each visitor on one task for {s} s"),
                    None => "no sticky sessions".to_owned(),
                };
                format!(
                    "give a stopping task's requests {deregistration_delay} s to finish; {sticky}"
                )
            }
            Self::CreateListener {
                port,
                certificate: None,
                ..
            } => format!("listen for HTTP on port {port} and forward to the target group"),
            Self::CreateListener { port, .. } => format!(
                "listen for HTTPS on port {port} with the certificate and forward to the target group"
            ),
            Self::ForwardListener { port, .. } => {
                format!("make port {port} forward to the target group")
            }
            Self::RedirectToHttps { .. } => {
                "make port 80 redirect to HTTPS on 443 (301)".to_owned()
            }
            Self::SetListenerCertificate { .. } => {
                "use the domain's certificate on port 443".to_owned()
            }
            Self::DeleteListener { port, .. } => {
                format!("stop listening on port {port} (no domain any more)")
            }
            Self::RequestCertificate { domain } => {
                format!("request a certificate for {domain} from AWS Certificate Manager, validated by DNS")
            }
            Self::AddValidationRecord { record, .. } => match record {
                Some(r) => format!(
                    "add the validation record {} {} → {}",
                    r.kind, r.name, r.value
                ),
                None => "add the certificate's validation record (a CNAME)".to_owned(),
            },
            Self::PointDomainAtBalancer { domain, .. } => {
                format!("point {domain} at the load balancer (alias A record)")
            }
            Self::CreateAlternateTargetGroup { name, port, .. } => format!(
                "create the second target group {name} (tasks by IP on port {port}), where each new release starts"
            ),
            Self::CreateInfrastructureRole { name } => {
                format!("create the IAM role {name}, which ECS takes to move the load balancer's traffic")
            }
            Self::AttachInfrastructurePolicy { role } => format!(
                "attach AWS's AmazonECSInfrastructureRolePolicyForLoadBalancers to {role}"
            ),
            Self::CreateProductionRule { port, .. } => format!(
                "add the rule on port {port} that sends every request to the serving target group, which ECS switches at each deploy"
            ),
            Self::DeleteRule { port, .. } => {
                format!("remove the rule on port {port} (traffic is served on the other port now)")
            }
            Self::TagProject { project, .. } => format!(
                "tag it with this project's id ({project}): an older Slipway made it for this app"
            ),
        }
    }

    /// What to tell the user when AWS refuses this change, beyond AWS's own words.
    /// (Only given when AWS denied the action.)
    pub fn fix(&self) -> Option<String> {
        let text = match self {
            Self::CreateRole { .. }
            | Self::TrustEcsTasks { .. }
            | Self::DetachPolicy { .. }
            | Self::PutInlinePolicy { .. }
            | Self::DeleteInlinePolicy { .. } => "Creating the execution role needs IAM permissions (iam:CreateRole, iam:TagRole, iam:PutRolePolicy, iam:DeleteRolePolicy, iam:DetachRolePolicy, iam:UpdateAssumeRolePolicy); an administrator can create it once and Slipway will use it.",
            Self::TagProject { .. } => "Tagging needs the service's tag permission (ecr:TagResource, ecs:TagResource, logs:TagResource, iam:TagRole, ec2:CreateTags, elasticloadbalancing:AddTags or acm:AddTagsToCertificate).",
            Self::CreateSecurityGroup { .. }
            | Self::AllowIngress { .. }
            | Self::RevokeIngress { .. }
            | Self::AdmitBalancer { .. }
            | Self::RevokeGroupIngress { .. }
            | Self::CreateBalancerGroup { .. }
            | Self::AllowBalancerIngress { .. }
            | Self::RevokeBalancerIngress { .. } => "Check that the VPC still exists and that these credentials may change its security groups (ec2:CreateSecurityGroup, ec2:CreateTags, ec2:AuthorizeSecurityGroupIngress, ec2:RevokeSecurityGroupIngress).",
            Self::CreateRepository { .. } | Self::EnableScanOnPush { .. } => "These credentials need ecr:CreateRepository, ecr:TagResource and ecr:PutImageScanningConfiguration.",
            Self::CreateCluster { .. } => "These credentials need ecs:CreateCluster and ecs:TagResource.",
            Self::CreateLogGroup { .. } | Self::SetLogRetention { .. } => "These credentials need logs:CreateLogGroup, logs:TagResource and logs:PutRetentionPolicy.",
            Self::CreateLoadBalancer { .. }
            | Self::UseBalancerGroup { .. }
            | Self::CreateTargetGroup { .. }
            | Self::ReplaceTargetGroup { .. }
            | Self::SetHealthCheck { .. }
            | Self::SetTargetGroupAttributes { .. }
            | Self::CreateListener { .. }
            | Self::ForwardListener { .. }
            | Self::RedirectToHttps { .. }
            | Self::SetListenerCertificate { .. }
            | Self::DeleteListener { .. } => "These credentials need Elastic Load Balancing permissions (elasticloadbalancing:CreateLoadBalancer, CreateTargetGroup, CreateListener, ModifyListener, ModifyTargetGroup, ModifyTargetGroupAttributes, SetSecurityGroups, AddTags, DeleteListener, DeleteTargetGroup) and iam:CreateServiceLinkedRole the first time an account makes a load balancer.",
            Self::CreateAlternateTargetGroup { .. }
            | Self::CreateProductionRule { .. }
            | Self::DeleteRule { .. } => "These credentials need elasticloadbalancing:CreateTargetGroup, ModifyTargetGroupAttributes, CreateRule, DeleteRule and AddTags.",
            Self::CreateInfrastructureRole { .. } | Self::AttachInfrastructurePolicy { .. } => "Blue/green deploys need a role for ECS: these credentials need iam:CreateRole, iam:TagRole and iam:AttachRolePolicy; an administrator can create it once and Slipway will use it.",
            Self::RequestCertificate { .. } => "These credentials need acm:RequestCertificate and acm:AddTagsToCertificate.",
            Self::AddValidationRecord { .. } | Self::PointDomainAtBalancer { .. } => "These credentials need route53:ChangeResourceRecordSets on the domain's hosted zone (and acm:DescribeCertificate); or add the records at your DNS provider yourself.",
        };
        Some(text.to_owned())
    }
}
