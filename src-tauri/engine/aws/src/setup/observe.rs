//! Reading what exists in the account for an app: read-only calls only, gathered into
//! plain data ([`Observed`]) that the planner and teardown decide from. Services are asked
//! at the same time; "not found" is an answer, every other failure is an error. The load
//! balancer's side is read by `balancer::observe`.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::Filter;
use aws_sdk_ecs::types::ClusterField;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::balancer::blue_green::{self, ObservedBlueGreen, ObservedInfraRole};
use super::balancer::{self, ObservedCertificate, ObservedListener, ObservedLoadBalancer};
use super::balancer::{ObservedTargetGroup, ObservedZone};
use super::names::{ResourceNames, Tags, EXECUTION_POLICY, LOGS_POLICY, SECRETS_POLICY};
use super::network::{GroupIngressRule, IngressRule, ObservedSubnet, RULE_MARK};
use super::policy::decode_document;
use super::want::Wanted;
use crate::aws::{classify, Connection};
use slipway_core::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct VpcChoice {
    pub id: String,
    pub cidr: String,
    pub is_default: bool,
    /// Its Name tag, when it has one.
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedRepository {
    pub arn: String,
    pub uri: String,
    pub scan_on_push: bool,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedCluster {
    pub arn: String,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedLogGroup {
    pub arn: String,
    pub retention_days: Option<i32>,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObservedRole {
    pub arn: String,
    pub trust: Option<Value>,
    pub tags: Tags,
    pub attached: Vec<String>,
    /// Slipway's own inline policies that exist on the role, by name.
    pub inline: BTreeMap<String, Option<Value>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedSecurityGroup {
    pub id: String,
    pub tags: Tags,
    pub ingress: Vec<IngressRule>,
    /// Rules whose source is another security group.
    pub group_ingress: Vec<GroupIngressRule>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observed {
    pub repository: Option<ObservedRepository>,
    pub cluster: Option<ObservedCluster>,
    pub log_group: Option<ObservedLogGroup>,
    pub role: Option<ObservedRole>,
    pub vpcs: Vec<VpcChoice>,
    /// The VPC setup works in: the asked-for one when it exists, else the default VPC.
    pub vpc: Option<VpcChoice>,
    pub security_group: Option<ObservedSecurityGroup>,
    pub subnets: Vec<ObservedSubnet>,
    /// The load balancer, target group and balancer group named in [`ResourceNames`],
    /// whether or not the project wants a load balancer now, and the load balancer's
    /// listeners.
    pub load_balancer: Option<ObservedLoadBalancer>,
    pub target_group: Option<ObservedTargetGroup>,
    pub listeners: Vec<ObservedListener>,
    pub balancer_security_group: Option<ObservedSecurityGroup>,
    /// The domain's certificate and hosted zone; looked up only by [`observe_for`], and
    /// only when the project has a domain.
    pub certificate: Option<ObservedCertificate>,
    pub hosted_zone: Option<ObservedZone>,
    /// What blue/green deploys use, whether or not the project wants them now.
    pub blue_green: ObservedBlueGreen,
}

/// What exists for the app's resource names, in the asked-for VPC (else the default VPC),
/// the load balancer's included; not the domain's certificate and records, which
/// [`observe_for`] adds.
pub async fn observe(
    connection: &Connection,
    names: &ResourceNames,
    vpc: Option<&str>,
) -> Result<Observed> {
    let (repository, cluster, log_group, role, network, balancer, alternate, infrastructure) = tokio::try_join!(
        repository(connection, &names.repository),
        cluster(connection, &names.cluster),
        log_group(connection, &names.log_group),
        role(connection, &names.execution_role),
        network(connection, names, vpc),
        // Boxed, as the SDK's futures are large and a deploy awaits this one deep down.
        Box::pin(balancer::observe::balancer(connection, names)),
        Box::pin(blue_green::alternate(
            connection,
            &names.alternate_target_group
        )),
        Box::pin(role(connection, &names.infrastructure_role)),
    )?;
    let (vpcs, vpc, security_group, balancer_security_group, subnets) = network;
    let (load_balancer, target_group, listeners) = balancer;
    // The production rule is looked for only where blue/green was set up.
    let rule = match (&alternate, &target_group) {
        (Some(alternate), Some(main)) => {
            blue_green::rule(
                connection,
                &listeners,
                &[alternate.arn.as_str(), main.arn.as_str()],
            )
            .await?
        }
        _ => None,
    };
    Ok(Observed {
        repository,
        cluster,
        log_group,
        role,
        vpcs,
        vpc,
        security_group,
        subnets,
        load_balancer,
        target_group,
        listeners,
        balancer_security_group,
        certificate: None,
        hosted_zone: None,
        blue_green: ObservedBlueGreen {
            alternate,
            rule,
            role: infrastructure.map(|r| ObservedInfraRole {
                arn: r.arn,
                tags: r.tags,
                attached: r.attached,
            }),
        },
    })
}

/// Everything setup decides from for `wanted`: [`observe`], and the certificate and hosted
/// zone of the domain when the project has a load balancer with one.
pub async fn observe_for(connection: &Connection, wanted: &Wanted) -> Result<Observed> {
    let domain = wanted.balancer.as_ref().and_then(|b| b.domain.as_deref());
    let (observed, domain) = tokio::try_join!(
        Box::pin(observe(connection, &wanted.names, wanted.vpc.as_deref())),
        async {
            match domain {
                Some(domain) => Box::pin(balancer::observe::domain(
                    connection,
                    &wanted.app,
                    wanted.project.as_deref(),
                    domain,
                ))
                .await
                .map(Some),
                None => Ok(None),
            }
        }
    )?;
    let (certificate, hosted_zone) = domain.unwrap_or_default();
    Ok(Observed {
        certificate,
        hosted_zone,
        ..observed
    })
}

async fn repository(c: &Connection, name: &str) -> Result<Option<ObservedRepository>> {
    let ecr = aws_sdk_ecr::Client::new(&c.ctx.sdk);
    let found = match ecr
        .describe_repositories()
        .repository_names(name)
        .send()
        .await
    {
        Ok(out) => out.repositories.unwrap_or_default().into_iter().next(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_repository_not_found_exception()) =>
        {
            None
        }
        Err(e) => return Err(classify(&c.ctx, "ecr:DescribeRepositories", e)),
    };
    let Some(repo) = found else { return Ok(None) };
    let arn = repo.repository_arn.unwrap_or_default();
    let tags = ecr
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .map_err(|e| classify(&c.ctx, "ecr:ListTagsForResource", e))?
        .tags
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect();
    Ok(Some(ObservedRepository {
        arn,
        uri: repo.repository_uri.unwrap_or_default(),
        scan_on_push: repo
            .image_scanning_configuration
            .is_some_and(|s| s.scan_on_push),
        tags,
    }))
}

async fn cluster(c: &Connection, name: &str) -> Result<Option<ObservedCluster>> {
    let ecs = aws_sdk_ecs::Client::new(&c.ctx.sdk);
    let out = ecs
        .describe_clusters()
        .clusters(name)
        .include(ClusterField::Tags)
        .send()
        .await
        .map_err(|e| classify(&c.ctx, "ecs:DescribeClusters", e))?;
    // A deleted cluster lingers as INACTIVE for a while; it is as good as absent.
    Ok(out
        .clusters
        .unwrap_or_default()
        .into_iter()
        .find(|cl| cl.status.as_deref() == Some("ACTIVE"))
        .map(|cl| ObservedCluster {
            arn: cl.cluster_arn.unwrap_or_default(),
            tags: cl
                .tags
                .unwrap_or_default()
                .into_iter()
                .filter_map(|t| Some((t.key?, t.value?)))
                .collect(),
        }))
}

async fn log_group(c: &Connection, name: &str) -> Result<Option<ObservedLogGroup>> {
    let logs = aws_sdk_cloudwatchlogs::Client::new(&c.ctx.sdk);
    let out = logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .map_err(|e| classify(&c.ctx, "logs:DescribeLogGroups", e))?;
    let Some(group) = out
        .log_groups
        .unwrap_or_default()
        .into_iter()
        .find(|g| g.log_group_name.as_deref() == Some(name))
    else {
        return Ok(None);
    };
    // Tag calls take the ARN without the trailing ":*" that DescribeLogGroups appends.
    let arn = group
        .log_group_arn
        .clone()
        .or_else(|| {
            group
                .arn
                .clone()
                .map(|a| a.trim_end_matches(":*").to_owned())
        })
        .unwrap_or_default();
    let tags = logs
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .map_err(|e| classify(&c.ctx, "logs:ListTagsForResource", e))?
        .tags
        .unwrap_or_default()
        .into_iter()
        .collect();
    Ok(Some(ObservedLogGroup {
        arn,
        retention_days: group.retention_in_days,
        tags,
    }))
}

pub(crate) async fn role(c: &Connection, name: &str) -> Result<Option<ObservedRole>> {
    let iam = aws_sdk_iam::Client::new(&c.ctx.sdk);
    let role = match iam.get_role().role_name(name).send().await {
        Ok(out) => out.role,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_no_such_entity_exception()) =>
        {
            None
        }
        Err(e) => return Err(classify(&c.ctx, "iam:GetRole", e)),
    };
    let Some(role) = role else { return Ok(None) };
    let attached = iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| classify(&c.ctx, "iam:ListAttachedRolePolicies", e))?
        .attached_policies
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| p.policy_arn)
        .collect();
    let listed = iam
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| classify(&c.ctx, "iam:ListRolePolicies", e))?
        .policy_names;
    let mut inline = BTreeMap::new();
    for policy in [EXECUTION_POLICY, SECRETS_POLICY, LOGS_POLICY] {
        if !listed.iter().any(|p| p == policy) {
            continue;
        }
        let document = iam
            .get_role_policy()
            .role_name(name)
            .policy_name(policy)
            .send()
            .await
            .map_err(|e| classify(&c.ctx, "iam:GetRolePolicy", e))?
            .policy_document;
        inline.insert(policy.to_owned(), decode_document(&document));
    }
    Ok(Some(ObservedRole {
        arn: role.arn,
        trust: role
            .assume_role_policy_document
            .as_deref()
            .and_then(decode_document),
        tags: role
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.key, t.value))
            .collect(),
        attached,
        inline,
    }))
}

type Network = (
    Vec<VpcChoice>,
    Option<VpcChoice>,
    Option<ObservedSecurityGroup>,
    Option<ObservedSecurityGroup>,
    Vec<ObservedSubnet>,
);

async fn network(
    c: &Connection,
    names: &ResourceNames,
    wanted_vpc: Option<&str>,
) -> Result<Network> {
    let ec2 = aws_sdk_ec2::Client::new(&c.ctx.sdk);
    let vpcs: Vec<VpcChoice> = ec2
        .describe_vpcs()
        .send()
        .await
        .map_err(|e| classify(&c.ctx, "ec2:DescribeVpcs", e))?
        .vpcs
        .unwrap_or_default()
        .into_iter()
        .map(|v| VpcChoice {
            name: name_tag(v.tags()),
            id: v.vpc_id.unwrap_or_default(),
            cidr: v.cidr_block.unwrap_or_default(),
            is_default: v.is_default.unwrap_or(false),
        })
        .collect();
    let vpc = match wanted_vpc {
        Some(id) => vpcs.iter().find(|v| v.id == id).cloned(),
        None => vpcs.iter().find(|v| v.is_default).cloned(),
    };
    let Some(chosen) = &vpc else {
        return Ok((vpcs, None, None, None, vec![]));
    };
    let in_vpc = || Filter::builder().name("vpc-id").values(&chosen.id).build();
    let groups = ec2
        .describe_security_groups()
        .filters(in_vpc())
        .filters(
            Filter::builder()
                .name("group-name")
                .values(&names.security_group)
                .values(&names.balancer_security_group)
                .build(),
        )
        .send();
    let subnets = ec2.describe_subnets().filters(in_vpc()).send();
    let tables = ec2.describe_route_tables().filters(in_vpc()).send();
    let (groups, subnets, tables) = tokio::join!(groups, subnets, tables);
    let groups = groups
        .map_err(|e| classify(&c.ctx, "ec2:DescribeSecurityGroups", e))?
        .security_groups
        .unwrap_or_default();
    let group_named = |name: &str| {
        groups
            .iter()
            .find(|g| g.group_name.as_deref() == Some(name))
            .map(|g| ObservedSecurityGroup {
                ingress: ingress_rules(g.ip_permissions()),
                group_ingress: group_ingress_rules(g.ip_permissions()),
                tags: ec2_tags(g.tags()),
                id: g.group_id.clone().unwrap_or_default(),
            })
    };
    let security_group = group_named(&names.security_group);
    let balancer_security_group = group_named(&names.balancer_security_group);
    let tables = tables
        .map_err(|e| classify(&c.ctx, "ec2:DescribeRouteTables", e))?
        .route_tables
        .unwrap_or_default();
    let subnets = subnets
        .map_err(|e| classify(&c.ctx, "ec2:DescribeSubnets", e))?
        .subnets
        .unwrap_or_default();
    let subnets = observed_subnets(subnets, &tables);
    Ok((vpcs, vpc, security_group, balancer_security_group, subnets))
}

/// The subnets with the route table in effect for each (its own association, else the VPC's
/// main table) and the internet gateway that table sends 0.0.0.0/0 to.
pub(crate) fn observed_subnets(
    subnets: Vec<aws_sdk_ec2::types::Subnet>,
    tables: &[aws_sdk_ec2::types::RouteTable],
) -> Vec<ObservedSubnet> {
    let main_table = tables
        .iter()
        .find(|t| t.associations().iter().any(|a| a.main == Some(true)));
    subnets
        .into_iter()
        .map(|s| {
            let id = s.subnet_id.unwrap_or_default();
            let table = tables
                .iter()
                .find(|t| {
                    t.associations()
                        .iter()
                        .any(|a| a.subnet_id.as_deref() == Some(id.as_str()))
                })
                .or(main_table);
            let internet_gateway = table.and_then(|t| {
                t.routes()
                    .iter()
                    .filter(|r| r.destination_cidr_block.as_deref() == Some("0.0.0.0/0"))
                    .filter(|r| r.state.as_ref().map(|s| s.as_str()) != Some("blackhole"))
                    .find_map(|r| r.gateway_id.clone().filter(|g| g.starts_with("igw-")))
            });
            ObservedSubnet {
                id,
                availability_zone: s.availability_zone.unwrap_or_default(),
                cidr: s.cidr_block.unwrap_or_default(),
                maps_public_ip: s.map_public_ip_on_launch.unwrap_or(false),
                route_table: table.and_then(|t| t.route_table_id.clone()),
                internet_gateway,
            }
        })
        .collect()
}

pub(crate) fn name_tag(tags: &[aws_sdk_ec2::types::Tag]) -> Option<String> {
    tags.iter()
        .find(|t| t.key.as_deref() == Some("Name"))
        .and_then(|t| t.value.clone())
}

fn ec2_tags(tags: &[aws_sdk_ec2::types::Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| Some((t.key.clone()?, t.value.clone()?)))
        .collect()
}

fn ingress_rules(permissions: &[aws_sdk_ec2::types::IpPermission]) -> Vec<IngressRule> {
    permissions
        .iter()
        .flat_map(|p| {
            p.ip_ranges().iter().filter_map(move |r| {
                Some(IngressRule {
                    protocol: p.ip_protocol.clone().unwrap_or_default(),
                    from_port: p.from_port.unwrap_or(-1),
                    to_port: p.to_port.unwrap_or(-1),
                    cidr: r.cidr_ip.clone()?,
                    added_by_slipway: r
                        .description
                        .as_deref()
                        .is_some_and(|d| d.ends_with(RULE_MARK)),
                })
            })
        })
        .collect()
}

fn group_ingress_rules(permissions: &[aws_sdk_ec2::types::IpPermission]) -> Vec<GroupIngressRule> {
    permissions
        .iter()
        .flat_map(|p| {
            p.user_id_group_pairs().iter().filter_map(move |pair| {
                Some(GroupIngressRule {
                    protocol: p.ip_protocol.clone().unwrap_or_default(),
                    from_port: p.from_port.unwrap_or(-1),
                    to_port: p.to_port.unwrap_or(-1),
                    group: pair.group_id.clone()?,
                    added_by_slipway: pair
                        .description
                        .as_deref()
                        .is_some_and(|d| d.ends_with(RULE_MARK)),
                    description: pair.description.clone(),
                })
            })
        })
        .collect()
}
