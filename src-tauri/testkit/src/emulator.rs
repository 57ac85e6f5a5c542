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

/// A Fargate service made behind Slipway's back, as a vendor's stack or the console would
/// make it.
pub struct VendorService {
    pub cluster: String,
    pub service: String,
    pub family: String,
    /// The containers' `awslogs` group.
    pub log_group: String,
}

/// Makes the cluster `{prefix}-vendor` with a service `server` running the last of
/// `images`, one task definition revision of `{prefix}-server` per image (Fargate, awsvpc,
/// port 3000, awslogs), in the default VPC's first subnet with a security group of its own.
pub async fn vendor_service(
    sdk: &aws_config::SdkConfig,
    prefix: &str,
    images: &[&str],
) -> VendorService {
    vendor_service_with_command(sdk, prefix, images, &[]).await
}

/// [`vendor_service`] whose container runs `command` (the image's own when empty).
pub async fn vendor_service_with_command(
    sdk: &aws_config::SdkConfig,
    prefix: &str,
    images: &[&str],
    command: &[&str],
) -> VendorService {
    use aws_sdk_ecs::types::{
        AssignPublicIp, AwsVpcConfiguration, Compatibility, ContainerDefinition, LaunchType,
        LogConfiguration, LogDriver, NetworkConfiguration, NetworkMode, PortMapping,
    };
    let ecs = aws_sdk_ecs::Client::new(sdk);
    let ec2 = aws_sdk_ec2::Client::new(sdk);
    let region = sdk.region().expect("a region").to_string();
    let made = VendorService {
        cluster: format!("{prefix}-vendor"),
        service: "server".into(),
        family: format!("{prefix}-server"),
        log_group: format!("/ecs/{prefix}-server"),
    };
    // The stack that made the service made its log group too (the awslogs driver does
    // not, unless told to).
    let _ = aws_sdk_cloudwatchlogs::Client::new(sdk)
        .create_log_group()
        .log_group_name(&made.log_group)
        .send()
        .await;
    ecs.create_cluster()
        .cluster_name(&made.cluster)
        .send()
        .await
        .expect("create the vendor's cluster");
    for image in images {
        ecs.register_task_definition()
            .family(&made.family)
            .requires_compatibilities(Compatibility::Fargate)
            .network_mode(NetworkMode::Awsvpc)
            .cpu("256")
            .memory("512")
            .container_definitions(
                ContainerDefinition::builder()
                    .name("server")
                    .image(*image)
                    .set_command(
                        (!command.is_empty())
                            .then(|| command.iter().map(|c| c.to_string()).collect()),
                    )
                    // moto refuses a task without a container memory.
                    .memory(512)
                    .port_mappings(PortMapping::builder().container_port(3000).build())
                    .log_configuration(
                        LogConfiguration::builder()
                            .log_driver(LogDriver::Awslogs)
                            .options("awslogs-group", &made.log_group)
                            .options("awslogs-region", &region)
                            .options("awslogs-stream-prefix", "server")
                            .build()
                            .expect("a log configuration"),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("register the vendor's task definition");
    }
    let subnet = ec2
        .describe_subnets()
        .send()
        .await
        .expect("describe subnets")
        .subnets()[0]
        .subnet_id()
        .expect("a subnet id")
        .to_owned();
    let security_group = ec2
        .create_security_group()
        .group_name(format!("{prefix}-server"))
        .description("the vendor's server")
        .vpc_id(default_vpc_id(sdk).await)
        .send()
        .await
        .expect("create the vendor's security group")
        .group_id()
        .expect("a group id")
        .to_owned();
    ecs.create_service()
        .cluster(&made.cluster)
        .service_name(&made.service)
        .task_definition(format!("{}:{}", made.family, images.len()))
        .desired_count(1)
        .launch_type(LaunchType::Fargate)
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(
                    AwsVpcConfiguration::builder()
                        .subnets(subnet)
                        // moto answers 500 without one.
                        .security_groups(security_group)
                        .assign_public_ip(AssignPublicIp::Enabled)
                        .build()
                        .expect("a network configuration"),
                )
                .build(),
        )
        .send()
        .await
        .expect("create the vendor's service");
    made
}

/// The first `n` subnets of the region's default VPC, comma-separated as a template's
/// `List<AWS::EC2::Subnet::Id>` parameter takes them.
pub async fn default_subnets(sdk: &aws_config::SdkConfig, n: usize) -> String {
    let vpc = default_vpc_id(sdk).await;
    let answer = aws_sdk_ec2::Client::new(sdk)
        .describe_subnets()
        .filters(Filter::builder().name("vpc-id").values(vpc).build())
        .send()
        .await
        .expect("describe the default VPC's subnets");
    let ids: Vec<&str> = answer
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_id())
        .take(n)
        .collect();
    ids.join(",")
}

/// The account the emulator reports, whose ECR registry the test environment serves.
const ACCOUNT: &str = "123456789012";

/// Removes the local tag of `image` that the stand-in's pull left (the layers are
/// busybox's, kept).
pub fn remove_published(image: &str) {
    let _ = std::process::Command::new("docker")
        .args(["rmi", "-f", image])
        .output();
}

/// As [`publish_busybox`], the image's own command being `command` (a vendor's server that
/// keeps running, as a template's task definition runs it without a command of its own).
pub fn publish_busybox_running(
    region: &str,
    repository: &str,
    tag: &str,
    command: &[&str],
) -> String {
    let local = format!("slipway-testkit/{repository}:{tag}");
    let container = format!(
        "slipway-testkit-{}-{}",
        std::process::id(),
        repository.replace('/', "-")
    );
    let run = |args: &[&str]| {
        let out = std::process::Command::new("docker")
            .args(args)
            .output()
            .expect("the docker CLI runs");
        assert!(
            out.status.success(),
            "docker {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let cmd = serde_json::to_string(command).expect("a command serialises");
    run(&["create", "--name", &container, "busybox:1.36"]);
    run(&[
        "commit",
        "--change",
        &format!("CMD {cmd}"),
        &container,
        &local,
    ]);
    run(&["rm", &container]);
    let image = publish_local(region, &local, repository, tag);
    run(&["rmi", &local]);
    image
}

/// Pushes the test environment's offline base image (busybox:1.36) to the registry that
/// answers as ECR of `region`, as `repository:tag`, and returns that image URI: the
/// Fargate stand-in pulls it from there with ECR's token, as Fargate pulls a vendor's
/// image. Uses the docker CLI with a sign-in of its own (never the user's Docker config);
/// the local tag is removed again (and the pulled one by [`remove_published`]).
pub fn publish_busybox(region: &str, repository: &str, tag: &str) -> String {
    publish_local(region, "busybox:1.36", repository, tag)
}

/// Pushes the local image `local` as `repository:tag` to the registry that answers as ECR
/// of `region`; the image URI.
fn publish_local(region: &str, local: &str, repository: &str, tag: &str) -> String {
    let host = format!("{ACCOUNT}.dkr.ecr.{region}.amazonaws.com");
    let image = format!("{host}/{repository}:{tag}");
    let config = tempfile::tempdir().expect("a temporary Docker config");
    let auth = aws_smithy_types::base64::encode(format!("AWS:{ACCOUNT}-auth-token"));
    std::fs::write(
        config.path().join("config.json"),
        format!(r#"{{"auths": {{"{host}": {{"auth": "{auth}"}}}}}}"#),
    )
    .expect("write the Docker config");
    let docker = |args: &[&str]| {
        let out = std::process::Command::new("docker")
            .arg("--config")
            .arg(config.path())
            .args(args)
            .output()
            .expect("the docker CLI runs");
        assert!(
            out.status.success(),
            "docker {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    docker(&["tag", local, &image]);
    docker(&["push", &image]);
    docker(&["rmi", &image]);
    image
}

/// Completes an ECS service a CloudFormation stack made the way AWS would have made it: moto
/// drops the template's launch type (it reports EC2), the service's network configuration
/// and the task definition's network mode, compatibilities and size, so no Fargate task
/// could run from it. A revision with what the template said (awsvpc, FARGATE, `cpu` and
/// `memory`) is registered and the service pointed at it with its network; the launch type
/// is set through `proxy`'s answers, and each container is given the task's memory (moto
/// cannot place a task whose containers name none). The Fargate stand-in then runs the
/// service's task.
/// Returns the revision the service runs.
#[allow(clippy::too_many_arguments)]
pub async fn complete_stack_service(
    sdk: &aws_config::SdkConfig,
    proxy: &crate::FaultProxy,
    cluster: &str,
    service: &str,
    subnets: &[String],
    security_group: &str,
    cpu: &str,
    memory: &str,
) -> i32 {
    use aws_sdk_ecs::types::{
        AssignPublicIp, AwsVpcConfiguration, Compatibility, NetworkConfiguration, NetworkMode,
    };
    let ecs = aws_sdk_ecs::Client::new(sdk);
    let definition = current_definition(&ecs, cluster, service).await;
    let registered = ecs
        .register_task_definition()
        .family(definition.family().unwrap_or_default())
        // moto sums its containers' memory to place a task (Fargate needs none of them).
        .set_container_definitions(Some(
            definition
                .container_definitions()
                .iter()
                .cloned()
                .map(|mut c| {
                    if c.memory.is_none() && c.memory_reservation.is_none() {
                        c.memory = memory.parse().ok();
                    }
                    c
                })
                .collect(),
        ))
        .cpu(cpu)
        .memory(memory)
        .network_mode(NetworkMode::Awsvpc)
        .requires_compatibilities(Compatibility::Fargate)
        .set_execution_role_arn(definition.execution_role_arn().map(str::to_owned))
        .set_task_role_arn(definition.task_role_arn().map(str::to_owned))
        .send()
        .await
        .expect("register the template's task definition")
        .task_definition
        .expect("a task definition");
    let updated = ecs
        .update_service()
        .cluster(cluster)
        .service(service)
        .task_definition(registered.task_definition_arn().unwrap_or_default())
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(
                    AwsVpcConfiguration::builder()
                        .set_subnets(Some(subnets.to_vec()))
                        .security_groups(security_group)
                        .assign_public_ip(AssignPublicIp::Enabled)
                        .build()
                        .expect("a network configuration"),
                )
                .build(),
        )
        .send()
        .await
        .expect("the stack's service takes its network");
    let arn = updated
        .service()
        .and_then(|s| s.service_arn())
        .expect("the service's ARN")
        .to_owned();
    proxy.patch_service(&arn, serde_json::json!({ "launchType": "FARGATE" }));
    registered.revision()
}

async fn current_definition(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
) -> aws_sdk_ecs::types::TaskDefinition {
    let current = ecs
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .expect("describe the service")
        .services()[0]
        .task_definition()
        .expect("its task definition")
        .to_owned();
    ecs.describe_task_definition()
        .task_definition(&current)
        .send()
        .await
        .expect("describe the task definition")
        .task_definition
        .expect("a task definition")
}

/// What AWS does for a stack update that gives a service's container a new image and moto
/// does not: a new revision of the task definition with `image`, and the service pointed
/// at it. Returns the new revision.
pub async fn complete_stack_image_update(
    sdk: &aws_config::SdkConfig,
    cluster: &str,
    service: &str,
    image: &str,
) -> i32 {
    let ecs = aws_sdk_ecs::Client::new(sdk);
    let definition = current_definition(&ecs, cluster, service).await;
    let containers = definition
        .container_definitions()
        .iter()
        .cloned()
        .map(|mut c| {
            c.image = Some(image.to_owned());
            c
        })
        .collect();
    let registered = ecs
        .register_task_definition()
        .family(definition.family().unwrap_or_default())
        .set_container_definitions(Some(containers))
        .set_cpu(definition.cpu().map(str::to_owned))
        .set_memory(definition.memory().map(str::to_owned))
        .set_network_mode(definition.network_mode().cloned())
        .set_requires_compatibilities(Some(definition.requires_compatibilities().to_vec()))
        .set_execution_role_arn(definition.execution_role_arn().map(str::to_owned))
        .set_task_role_arn(definition.task_role_arn().map(str::to_owned))
        .send()
        .await
        .expect("register the new revision")
        .task_definition
        .expect("a task definition");
    ecs.update_service()
        .cluster(cluster)
        .service(service)
        .task_definition(registered.task_definition_arn().unwrap_or_default())
        .send()
        .await
        .expect("point the service at it");
    registered.revision()
}
