//! The app's load balancers in the account, for the meter: found by the tags setup puts on
//! everything it makes (not by name, so the meter needs nothing from setup's naming), and
//! read as billing sees them. What they cost is `meter`'s.

use aws_sdk_elasticloadbalancingv2::types::{
    IpAddressType, LoadBalancer, LoadBalancerSchemeEnum, LoadBalancerStateEnum,
    LoadBalancerTypeEnum,
};
use time::OffsetDateTime;

use super::meter::BilledLoadBalancer;
use crate::aws::{classify, Connection};
use crate::setup::names::{ownership, Tags};
use slipway_core::error::Result;

/// DescribeLoadBalancers answers at most 400 a page; DescribeTags takes at most 20 ARNs.
const PAGE: i32 = 400;
const TAGS_AT_ONCE: usize = 20;
/// An account has at most a few hundred load balancers a region (its quota).
const MAX_PAGES: usize = 10;

/// The addresses a load balancer pays public IPv4 for: one per zone when it faces the
/// internet over IPv4; none for an internal one or one without public IPv4.
pub fn public_addresses(lb: &LoadBalancer) -> u32 {
    let internet_facing = lb.scheme() == Some(&LoadBalancerSchemeEnum::InternetFacing);
    let ipv4 = lb.ip_address_type() != Some(&IpAddressType::DualstackWithoutPublicIpv4);
    if internet_facing && ipv4 {
        u32::try_from(lb.availability_zones().len()).unwrap_or(u32::MAX)
    } else {
        0
    }
}

fn billed(lb: &LoadBalancer) -> BilledLoadBalancer {
    BilledLoadBalancer {
        name: lb.load_balancer_name().unwrap_or_default().to_owned(),
        arn: lb.load_balancer_arn().unwrap_or_default().to_owned(),
        dns_name: lb.dns_name().map(str::to_owned),
        public_addresses: public_addresses(lb),
        created_at: lb
            .created_time()
            .and_then(|at| OffsetDateTime::from_unix_timestamp(at.secs()).ok()),
    }
}

/// The Application Load Balancers in the connection's region that Slipway made for `app`
/// in the project `project` (one made before projects had ids counts too), oldest first.
/// A load balancer that failed to provision bills nothing and is left out.
pub async fn of_app(
    conn: &Connection,
    app: &str,
    project: Option<&str>,
) -> Result<Vec<BilledLoadBalancer>> {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&conn.ctx.sdk);
    let mut all = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = elb
            .describe_load_balancers()
            .page_size(PAGE)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| classify(&conn.ctx, "elasticloadbalancing:DescribeLoadBalancers", e))?;
        all.extend(
            page.load_balancers()
                .iter()
                .filter(|lb| lb.r#type() == Some(&LoadBalancerTypeEnum::Application))
                .filter(|lb| {
                    lb.state().and_then(|s| s.code()) != Some(&LoadBalancerStateEnum::Failed)
                })
                .cloned(),
        );
        marker = page
            .next_marker()
            .filter(|m| !m.is_empty())
            .map(str::to_owned);
        if marker.is_none() {
            break;
        }
    }
    let mut ours = Vec::new();
    for chunk in all.chunks(TAGS_AT_ONCE) {
        let arns: Vec<String> = chunk
            .iter()
            .filter_map(|lb| lb.load_balancer_arn().map(str::to_owned))
            .collect();
        if arns.is_empty() {
            continue;
        }
        let described = elb
            .describe_tags()
            .set_resource_arns(Some(arns))
            .send()
            .await
            .map_err(|e| classify(&conn.ctx, "elasticloadbalancing:DescribeTags", e))?;
        for description in described.tag_descriptions() {
            let tags: Tags = description
                .tags()
                .iter()
                .filter_map(|t| {
                    Some((
                        t.key()?.to_owned(),
                        t.value().unwrap_or_default().to_owned(),
                    ))
                })
                .collect();
            if !ownership(&tags, app, project).is_ours() {
                continue;
            }
            if let Some(lb) = chunk
                .iter()
                .find(|lb| lb.load_balancer_arn() == description.resource_arn())
            {
                ours.push(billed(lb));
            }
        }
    }
    ours.sort_by_key(|lb| lb.created_at);
    Ok(ours)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticloadbalancingv2::types::AvailabilityZone;

    fn balancer(scheme: LoadBalancerSchemeEnum, zones: usize, ip: IpAddressType) -> LoadBalancer {
        LoadBalancer::builder()
            .load_balancer_name("slipway-demo")
            .scheme(scheme)
            .ip_address_type(ip)
            .set_availability_zones(Some(
                (0..zones)
                    .map(|i| {
                        AvailabilityZone::builder()
                            .zone_name(format!("us-east-1{i}"))
                            .build()
                    })
                    .collect(),
            ))
            .build()
    }

    #[test]
    fn an_internet_facing_balancer_pays_an_address_per_zone_and_an_internal_one_none() {
        use IpAddressType::{DualstackWithoutPublicIpv4, Ipv4};
        use LoadBalancerSchemeEnum::{Internal, InternetFacing};
        assert_eq!(public_addresses(&balancer(InternetFacing, 2, Ipv4)), 2);
        assert_eq!(public_addresses(&balancer(InternetFacing, 3, Ipv4)), 3);
        assert_eq!(public_addresses(&balancer(Internal, 2, Ipv4)), 0);
        assert_eq!(
            public_addresses(&balancer(InternetFacing, 2, DualstackWithoutPublicIpv4)),
            0,
            "reached over IPv6 only: no public IPv4 to pay for"
        );
    }
}
