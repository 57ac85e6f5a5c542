//! The stage of the load balancer tests: a region of the emulator of the test's own (left
//! clean of an earlier unfinished run), a Fargate stand-in watching it, an ALB with its
//! target group and listener, revisions of a busybox web server, and the service behind
//! the load balancer, made through the fault proxy as the app makes it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_ecs::types::{
    AdvancedConfiguration, AssignPublicIp, AwsVpcConfiguration, Compatibility, ContainerDefinition,
    DeploymentCircuitBreaker, DeploymentConfiguration, LaunchType, LoadBalancer,
    NetworkConfiguration, NetworkMode, PortMapping, Service,
};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, LoadBalancerSchemeEnum, LoadBalancerTypeEnum, ProtocolEnum,
    TargetGroupAttribute, TargetTypeEnum,
};
use slipway_testkit::emulator::{
    default_subnets, default_vpc_id, direct_sdk, publish_busybox, remove_published,
};
use slipway_testkit::{FargateStandIn, FaultProxy};

/// The registry names images after ECR of one of the regions it has a certificate for;
/// the tests' own regions need not be among them (an image URI is only a name).
const IMAGE_REGION: &str = "me-south-1";

fn required(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: start the test environment (tests/env/up) and source its testenv.sh"
        )
    })
}

pub struct Stage {
    pub region: String,
    /// Kept alive: the app's clients talk through it.
    _proxy: Arc<FaultProxy>,
    pub direct: aws_config::SdkConfig,
    pub standin: FargateStandIn,
    pub ecs: aws_sdk_ecs::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    /// ECS through the proxy, as the app talks to it.
    pub app_ecs: aws_sdk_ecs::Client,
    pub app_elb: aws_sdk_elasticloadbalancingv2::Client,
    pub http: reqwest::Client,
    pub name: String,
    pub image: String,
}

/// A load balancer with its target group and listener.
pub struct Balancer {
    pub arn: String,
    pub dns: String,
    pub group: String,
}

impl Stage {
    pub async fn new(region: &str, name: &str) -> Self {
        let endpoint = required("SLIPWAY_TEST_AWS_ENDPOINT");
        required("SLIPWAY_TEST_ECR_CA");
        required("SLIPWAY_TEST_DOCKER_HOST");
        let proxy = Arc::new(FaultProxy::start(&endpoint).await);
        let direct = direct_sdk(&endpoint, region).await;
        remove_leftovers(&direct, region).await;
        let through = direct_sdk(&proxy.url(), region).await;
        let standin = FargateStandIn::start(&endpoint, region, proxy.clone()).await;
        let name = format!("{name}{}", std::process::id() % 100_000);
        let image = publish_busybox(IMAGE_REGION, &format!("{name}/web"), "1.36");
        Self {
            region: region.to_owned(),
            _proxy: proxy,
            ecs: aws_sdk_ecs::Client::new(&direct),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&direct),
            app_ecs: aws_sdk_ecs::Client::new(&through),
            app_elb: aws_sdk_elasticloadbalancingv2::Client::new(&through),
            direct,
            standin,
            http: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap(),
            name,
            image,
        }
    }

    /// An internet-facing ALB in two subnets, a target group of type ip on port 8080
    /// checked at /health, and a listener on 80 forwarding to it.
    pub async fn balancer(&self) -> Balancer {
        let vpc = default_vpc_id(&self.direct).await;
        let subnets: Vec<String> = default_subnets(&self.direct, 2)
            .await
            .split(',')
            .map(str::to_owned)
            .collect();
        let lb = self
            .elb
            .create_load_balancer()
            .name(&self.name)
            .set_subnets(Some(subnets))
            .scheme(LoadBalancerSchemeEnum::InternetFacing)
            .r#type(LoadBalancerTypeEnum::Application)
            .send()
            .await
            .expect("create the load balancer")
            .load_balancers()[0]
            .clone();
        let group = self
            .elb
            .create_target_group()
            .name(&self.name)
            .protocol(ProtocolEnum::Http)
            .port(8080)
            .vpc_id(vpc)
            .target_type(TargetTypeEnum::Ip)
            .health_check_path("/health")
            .send()
            .await
            .expect("create the target group")
            .target_groups()[0]
            .target_group_arn()
            .unwrap()
            .to_owned();
        self.elb
            .modify_target_group_attributes()
            .target_group_arn(&group)
            .attributes(attribute("deregistration_delay.timeout_seconds", "5"))
            .send()
            .await
            .unwrap();
        self.elb
            .create_listener()
            .load_balancer_arn(lb.load_balancer_arn().unwrap())
            .protocol(ProtocolEnum::Http)
            .port(80)
            .default_actions(
                Action::builder()
                    .r#type(ActionTypeEnum::Forward)
                    .target_group_arn(&group)
                    .build(),
            )
            .send()
            .await
            .expect("create the listener");
        Balancer {
            arn: lb.load_balancer_arn().unwrap().to_owned(),
            dns: lb.dns_name().unwrap().to_owned(),
            group,
        }
    }

    /// A revision whose server says `page` (and its hostname) at / and answers /health
    /// only when `healthy`.
    pub async fn revision(&self, page: &str, healthy: bool) -> String {
        let health = if healthy {
            " && echo ok > /www/health"
        } else {
            ""
        };
        let script = format!(
            "mkdir -p /www && echo {page} > /www/index.html && hostname >> /www/index.html{health} && exec httpd -f -v -p 8080 -h /www"
        );
        self.ecs
            .register_task_definition()
            .family(&self.name)
            .requires_compatibilities(Compatibility::Fargate)
            .network_mode(NetworkMode::Awsvpc)
            .cpu("256")
            .memory("512")
            .container_definitions(
                ContainerDefinition::builder()
                    .name("web")
                    .image(&self.image)
                    .command("sh")
                    .command("-c")
                    .command(script)
                    .memory(512)
                    .port_mappings(PortMapping::builder().container_port(8080).build())
                    .build(),
            )
            .send()
            .await
            .expect("register a revision")
            .task_definition()
            .unwrap()
            .task_definition_arn()
            .unwrap()
            .to_owned()
    }

    /// The service behind `lb`, made through the proxy as the app makes it: the circuit
    /// breaker with rollback, and `grace` seconds of health-check grace.
    pub async fn service(&self, lb: &Balancer, revision: &str, count: i32, grace: i32) -> String {
        let configuration = DeploymentConfiguration::builder()
            .deployment_circuit_breaker(
                DeploymentCircuitBreaker::builder()
                    .enable(true)
                    .rollback(true)
                    .build(),
            )
            .build();
        self.service_with(lb, revision, count, grace, configuration, None)
            .await
    }

    /// [`Stage::service`] with its own deployment configuration and, for blue/green, the
    /// load balancer's advanced configuration.
    pub async fn service_with(
        &self,
        lb: &Balancer,
        revision: &str,
        count: i32,
        grace: i32,
        configuration: DeploymentConfiguration,
        advanced: Option<AdvancedConfiguration>,
    ) -> String {
        self.ecs
            .create_cluster()
            .cluster_name(&self.name)
            .send()
            .await
            .unwrap();
        let subnet = default_subnets(&self.direct, 1).await;
        let group = aws_sdk_ec2::Client::new(&self.direct)
            .create_security_group()
            .group_name(format!("{}-tasks", self.name))
            .description("tasks")
            .vpc_id(default_vpc_id(&self.direct).await)
            .send()
            .await
            .unwrap()
            .group_id()
            .unwrap()
            .to_owned();
        self.app_ecs
            .create_service()
            .cluster(&self.name)
            .service_name("web")
            .task_definition(revision)
            .desired_count(count)
            .launch_type(LaunchType::Fargate)
            .health_check_grace_period_seconds(grace)
            .deployment_configuration(configuration)
            .load_balancers(
                LoadBalancer::builder()
                    .target_group_arn(&lb.group)
                    .container_name("web")
                    .container_port(8080)
                    .set_advanced_configuration(advanced)
                    .build(),
            )
            .network_configuration(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(
                        AwsVpcConfiguration::builder()
                            .subnets(subnet)
                            .security_groups(group)
                            .assign_public_ip(AssignPublicIp::Enabled)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("create the service")
            .service()
            .unwrap()
            .service_arn()
            .unwrap()
            .to_owned()
    }

    /// The service as the app reads it, through the proxy.
    pub async fn described(&self) -> Service {
        self.app_ecs
            .describe_services()
            .cluster(&self.name)
            .services("web")
            .send()
            .await
            .unwrap()
            .services()[0]
            .clone()
    }

    pub async fn update(&self, revision: Option<&str>, count: Option<i32>) {
        self.app_ecs
            .update_service()
            .cluster(&self.name)
            .service("web")
            .set_task_definition(revision.map(str::to_owned))
            .set_desired_count(count)
            .send()
            .await
            .expect("update the service");
    }

    /// DescribeTargetHealth through the proxy: (id, state, reason, description).
    pub async fn health(&self, group: &str) -> Vec<(String, String, String, String)> {
        self.app_elb
            .describe_target_health()
            .target_group_arn(group)
            .send()
            .await
            .unwrap()
            .target_health_descriptions()
            .iter()
            .map(|d| {
                let h = d.target_health().unwrap();
                (
                    d.target().unwrap().id().unwrap().to_owned(),
                    h.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                    h.reason()
                        .map(|r| r.as_str().to_owned())
                        .unwrap_or_default(),
                    h.description().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    /// The stopped reasons of the cluster's stopped tasks, as ECS says them.
    pub async fn stopped_reasons(&self) -> Vec<String> {
        let stopped = self
            .app_ecs
            .list_tasks()
            .cluster(&self.name)
            .desired_status(aws_sdk_ecs::types::DesiredStatus::Stopped)
            .send()
            .await
            .unwrap();
        self.app_ecs
            .describe_tasks()
            .cluster(&self.name)
            .set_tasks(Some(stopped.task_arns().to_vec()))
            .send()
            .await
            .unwrap()
            .tasks()
            .iter()
            .filter_map(|t| t.stopped_reason().map(str::to_owned))
            .collect()
    }

    /// GET http://<dns>/path: status, body, and the AWSALB cookie set.
    pub async fn get(&self, url: &str, cookie: Option<&str>) -> (u16, String, Option<String>) {
        let mut request = self.http.get(url);
        if let Some(cookie) = cookie {
            request = request.header("Cookie", format!("AWSALB={cookie}"));
        }
        let Ok(answer) = request.send().await else {
            return (0, String::new(), None);
        };
        let sticky = answer
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix("AWSALB="))
            .map(|c| c.split(';').next().unwrap_or_default().to_owned());
        (
            answer.status().as_u16(),
            answer.text().await.unwrap_or_default(),
            sticky,
        )
    }

    /// Waits until `done` holds of the service as the app reads it.
    pub async fn until(
        &self,
        what: &str,
        seconds: u64,
        done: impl Fn(&Service) -> bool,
    ) -> Service {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let service = self.described().await;
            if done(&service) {
                return service;
            }
            assert!(
                Instant::now() < deadline,
                "{what} within {seconds} s: {service:#?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn tear_down(self, lb: Balancer) {
        let _ = self
            .ecs
            .delete_service()
            .cluster(&self.name)
            .service("web")
            .force(true)
            .send()
            .await;
        let _ = self
            .elb
            .delete_load_balancer()
            .load_balancer_arn(&lb.arn)
            .send()
            .await;
        let _ = self
            .elb
            .delete_target_group()
            .target_group_arn(&lb.group)
            .send()
            .await;
        let _ = self.region;
        self.standin.shut_down().await;
        remove_published(&self.image);
    }
}

/// What an earlier run of the test that did not finish left in its region: services,
/// load balancers, target groups, and the containers of its tasks.
async fn remove_leftovers(sdk: &aws_config::SdkConfig, region: &str) {
    let ecs = aws_sdk_ecs::Client::new(sdk);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(sdk);
    for cluster in ecs.list_clusters().send().await.unwrap().cluster_arns() {
        let services = ecs.list_services().cluster(cluster).send().await.unwrap();
        for service in services.service_arns() {
            let _ = ecs
                .delete_service()
                .cluster(cluster)
                .service(service)
                .force(true)
                .send()
                .await;
        }
        for task in ecs
            .list_tasks()
            .cluster(cluster)
            .send()
            .await
            .unwrap()
            .task_arns()
        {
            let _ = ecs.stop_task().cluster(cluster).task(task).send().await;
        }
    }
    let lbs = elb.describe_load_balancers().send().await.unwrap();
    for lb in lbs.load_balancers() {
        let _ = elb
            .delete_load_balancer()
            .set_load_balancer_arn(lb.load_balancer_arn().map(str::to_owned))
            .send()
            .await;
    }
    let groups = elb.describe_target_groups().send().await.unwrap();
    for group in groups.target_groups() {
        let _ = elb
            .delete_target_group()
            .set_target_group_arn(group.target_group_arn().map(str::to_owned))
            .send()
            .await;
    }
    let containers = std::process::Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            "label=dev.slipway.standin",
            "--format",
            "{{.ID}} {{.Label \"dev.slipway.standin\"}}",
        ])
        .output()
        .expect("the docker CLI runs");
    for line in String::from_utf8_lossy(&containers.stdout).lines() {
        if let Some((id, _)) = line
            .split_once(' ')
            .filter(|(_, arn)| arn.contains(&format!(":ecs:{region}:")))
        {
            let _ = std::process::Command::new("docker")
                .args(["rm", "-f", id])
                .output();
        }
    }
}

pub fn attribute(key: &str, value: &str) -> TargetGroupAttribute {
    TargetGroupAttribute::builder()
        .key(key)
        .value(value)
        .build()
}

pub fn primary(service: &Service) -> (String, String) {
    let d = service
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"))
        .expect("a primary deployment");
    (
        d.task_definition().unwrap_or_default().to_owned(),
        d.rollout_state()
            .map(|r| r.as_str().to_owned())
            .unwrap_or_default(),
    )
}
