//! What a template's form offers for its AWS-specific parameters: the account's VPCs, the
//! subnets of the chosen VPC (public or private, and in which zone), its security groups,
//! key pairs, zones, Systems Manager parameters. CloudFormation checks such a value exists
//! in the account and region, so a list to choose from replaces a guess.

use aws_sdk_ec2::types::Filter;
use serde::Serialize;

use super::template::Picker;
use crate::aws::{classify, Connection};
use crate::setup::network::judge_subnet;
use crate::setup::observe::{name_tag, observed_subnets};
use slipway_core::error::Result;

/// The most choices one picker lists (an account with thousands of parameters or volumes
/// still gets a form that opens).
const MOST: usize = 200;

/// One thing to choose.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    /// What the parameter is given.
    pub value: String,
    /// Its name when it has one, else the value.
    pub label: String,
    /// What tells it apart: "public · us-east-1a · 172.31.0.0/20", "default VPC"...
    pub detail: Option<String>,
}

/// The account's choices for `picker` in the connection's region; subnets and security
/// groups only of `vpc` when one is given. An empty list is an answer (there are none, or
/// Slipway cannot list that kind): the form then takes a typed value.
pub async fn choices(conn: &Connection, picker: Picker, vpc: Option<&str>) -> Result<Vec<Choice>> {
    let ec2 = aws_sdk_ec2::Client::new(&conn.ctx.sdk);
    let in_vpc = || {
        vpc.filter(|v| !v.is_empty())
            .map(|v| Filter::builder().name("vpc-id").values(v).build())
    };
    let mut out = match picker {
        Picker::Vpc | Picker::Vpcs => ec2
            .describe_vpcs()
            .send()
            .await
            .map_err(|e| classify(&conn.ctx, "ec2:DescribeVpcs", e))?
            .vpcs()
            .iter()
            .map(|v| {
                let id = v.vpc_id().unwrap_or_default().to_owned();
                let mut detail = vec![v.cidr_block().unwrap_or_default().to_owned()];
                if v.is_default() == Some(true) {
                    detail.insert(0, "the default VPC".to_owned());
                }
                Choice {
                    label: name_tag(v.tags()).unwrap_or_else(|| id.clone()),
                    value: id,
                    detail: Some(detail.join(" · ")),
                }
            })
            .collect(),
        Picker::Subnet | Picker::Subnets => {
            let subnets = ec2
                .describe_subnets()
                .set_filters(in_vpc().map(|f| vec![f]))
                .send();
            let tables = ec2
                .describe_route_tables()
                .set_filters(in_vpc().map(|f| vec![f]))
                .send();
            let (subnets, tables) = tokio::join!(subnets, tables);
            let subnets = subnets
                .map_err(|e| classify(&conn.ctx, "ec2:DescribeSubnets", e))?
                .subnets
                .unwrap_or_default();
            let tables = tables
                .map_err(|e| classify(&conn.ctx, "ec2:DescribeRouteTables", e))?
                .route_tables
                .unwrap_or_default();
            let names: Vec<Option<String>> = subnets.iter().map(|s| name_tag(s.tags())).collect();
            observed_subnets(subnets, &tables)
                .into_iter()
                .zip(names)
                .map(|(subnet, name)| {
                    let verdict = judge_subnet(&subnet);
                    let reach = if verdict.public { "public" } else { "private" };
                    Choice {
                        label: name.unwrap_or_else(|| subnet.id.clone()),
                        detail: Some(format!(
                            "{reach} · {} · {}",
                            subnet.availability_zone, subnet.cidr
                        )),
                        value: subnet.id,
                    }
                })
                .collect()
        }
        Picker::SecurityGroup
        | Picker::SecurityGroups
        | Picker::SecurityGroupName
        | Picker::SecurityGroupNames => {
            let by_name = matches!(
                picker,
                Picker::SecurityGroupName | Picker::SecurityGroupNames
            );
            ec2.describe_security_groups()
                .set_filters(in_vpc().map(|f| vec![f]))
                .send()
                .await
                .map_err(|e| classify(&conn.ctx, "ec2:DescribeSecurityGroups", e))?
                .security_groups()
                .iter()
                .map(|g| {
                    let id = g.group_id().unwrap_or_default().to_owned();
                    let name = g.group_name().unwrap_or_default().to_owned();
                    let about = g.description().filter(|d| !d.is_empty() && *d != name);
                    let detail = [Some(id.as_str()), about]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" · ");
                    Choice {
                        value: if by_name { name.clone() } else { id.clone() },
                        label: name,
                        detail: Some(detail),
                    }
                })
                .collect()
        }
        Picker::KeyPair => ec2
            .describe_key_pairs()
            .send()
            .await
            .map_err(|e| classify(&conn.ctx, "ec2:DescribeKeyPairs", e))?
            .key_pairs()
            .iter()
            .filter_map(|k| {
                let name = k.key_name()?.to_owned();
                Some(Choice {
                    value: name.clone(),
                    label: name,
                    detail: k.key_type().map(|t| t.as_str().to_owned()),
                })
            })
            .collect(),
        Picker::AvailabilityZone | Picker::AvailabilityZones => ec2
            .describe_availability_zones()
            .send()
            .await
            .map_err(|e| classify(&conn.ctx, "ec2:DescribeAvailabilityZones", e))?
            .availability_zones()
            .iter()
            .filter_map(|z| {
                let name = z.zone_name()?.to_owned();
                Some(Choice {
                    value: name.clone(),
                    label: name,
                    detail: z.zone_id().map(str::to_owned),
                })
            })
            .collect(),
        Picker::SsmParameter => {
            let ssm = aws_sdk_ssm::Client::new(&conn.ctx.sdk);
            let mut pages = ssm.describe_parameters().into_paginator().send();
            let mut out = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| classify(&conn.ctx, "ssm:DescribeParameters", e))?;
                // A SecureString cannot fill an `AWS::SSM::Parameter::Value<…>`.
                let plain = page.parameters().iter().filter(|p| {
                    p.r#type() != Some(&aws_sdk_ssm::types::ParameterType::SecureString)
                });
                out.extend(plain.filter_map(|p| {
                    let name = p.name()?.to_owned();
                    Some(Choice {
                        value: name.clone(),
                        label: name,
                        detail: p
                            .description()
                            .map(str::to_owned)
                            .or_else(|| p.r#type().map(|t| t.as_str().to_owned())),
                    })
                }));
                if out.len() >= MOST {
                    break;
                }
            }
            out
        }
        // Images, instances, volumes and hosted zones are typed: their lists are long or
        // need more than EC2, and the templates these users get rarely ask for them.
        Picker::Image
        | Picker::Images
        | Picker::Instance
        | Picker::Instances
        | Picker::Volume
        | Picker::Volumes
        | Picker::HostedZone
        | Picker::HostedZones => Vec::new(),
    };
    out.sort_by(|a, b| a.label.cmp(&b.label).then_with(|| a.value.cmp(&b.value)));
    out.truncate(MOST);
    Ok(out)
}
