//! Making the emulator's account look like a real one where the difference matters.

use aws_sdk_ec2::types::Filter;

/// Real default VPCs route 0.0.0.0/0 to an internet gateway; moto's do not. Gives the
/// default VPC of `sdk`'s region that route (once; later calls find it there). Tests
/// that run at the same time should each use their own region.
pub async fn give_default_vpc_an_internet_route(sdk: &aws_config::SdkConfig) {
    let ec2 = aws_sdk_ec2::Client::new(sdk);
    let vpc = default_vpc_id(sdk).await;
    let tables = ec2
        .describe_route_tables()
        .filters(Filter::builder().name("vpc-id").values(&vpc).build())
        .send()
        .await
        .expect("describe route tables");
    let main = tables
        .route_tables()
        .iter()
        .find(|t| t.associations().iter().any(|a| a.main == Some(true)))
        .expect("the VPC's main route table");
    let routed = main.routes().iter().any(|r| {
        r.destination_cidr_block.as_deref() == Some("0.0.0.0/0")
            && r.gateway_id
                .as_deref()
                .is_some_and(|g| g.starts_with("igw-"))
    });
    if routed {
        return;
    }
    let igw = ec2
        .create_internet_gateway()
        .send()
        .await
        .expect("create an internet gateway")
        .internet_gateway
        .and_then(|g| g.internet_gateway_id)
        .expect("its id");
    ec2.attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&vpc)
        .send()
        .await
        .expect("attach it");
    ec2.create_route()
        .route_table_id(main.route_table_id.clone().expect("table id"))
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&igw)
        .send()
        .await
        .expect("route 0.0.0.0/0 to it");
}

/// The id of the default VPC of `sdk`'s region.
pub async fn default_vpc_id(sdk: &aws_config::SdkConfig) -> String {
    aws_sdk_ec2::Client::new(sdk)
        .describe_vpcs()
        .filters(Filter::builder().name("isDefault").values("true").build())
        .send()
        .await
        .expect("describe the default VPC")
        .vpcs()[0]
        .vpc_id
        .clone()
        .expect("a VPC id")
}

/// An SDK configuration straight to the emulator at `endpoint` in `region`, with throwaway
/// keys (moto accepts any), for arranging a test's account behind the app's back.
pub async fn direct_sdk(endpoint: &str, region: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_ec2::config::Credentials::new(
            "AKIAEMULATOR0000001",
            "emulator-secret",
            None,
            None,
            "slipway-testkit",
        ))
        .load()
        .await
}

/// [`give_default_vpc_an_internet_route`] for `region` of the emulator at `endpoint`.
pub async fn give_region_an_internet_route(endpoint: &str, region: &str) {
    give_default_vpc_an_internet_route(&direct_sdk(endpoint, region).await).await;
}
