//! The container side of a task: its image pulled with ECR's token, its network
//! interface given a public IP, and its output forwarded to its awslogs stream.

use aws_sdk_ecs::types::Task;
use bollard::auth::DockerCredentials;
use bollard::query_parameters::{CreateImageOptions, LogsOptions};
use futures_util::StreamExt;

use super::{decode_token, World};

impl World {
    pub(super) async fn pull(&self, image: &str) -> Result<(), String> {
        let token = self
            .ecr
            .get_authorization_token()
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let decoded = token
            .authorization_data()
            .first()
            .and_then(|a| a.authorization_token())
            .and_then(decode_token)
            .ok_or("no ECR token")?;
        let (user, password) = decoded.split_once(':').ok_or("bad ECR token")?;
        let registry = image.split('/').next().unwrap_or_default();
        let mut pull = self.docker.create_image(
            Some(CreateImageOptions {
                from_image: Some(image.to_owned()),
                ..Default::default()
            }),
            None,
            Some(DockerCredentials {
                username: Some(user.to_owned()),
                password: Some(password.to_owned()),
                serveraddress: Some(registry.to_owned()),
                ..Default::default()
            }),
        );
        while let Some(step) = pull.next().await {
            step.map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    pub(super) async fn give_public_ip(&self, task: &Task, ip: &str) {
        let eni = task
            .attachments()
            .iter()
            .flat_map(|a| a.details())
            .find(|d| d.name() == Some("networkInterfaceId"))
            .and_then(|d| d.value().map(str::to_owned));
        let Some(eni) = eni else { return };
        let Ok(address) = self
            .ec2
            .allocate_address()
            .domain(aws_sdk_ec2::types::DomainType::Vpc)
            .address(ip)
            .send()
            .await
        else {
            return;
        };
        let _ = self
            .ec2
            .associate_address()
            .set_allocation_id(address.allocation_id().map(str::to_owned))
            .network_interface_id(eni)
            .send()
            .await;
    }

    /// Copies the container's output into its awslogs stream, as the awslogs driver does.
    pub(super) async fn forward_logs(
        &self,
        def: &aws_sdk_ecs::types::TaskDefinition,
        container: &str,
        task_id: &str,
    ) {
        let c = &def.container_definitions()[0];
        let Some(options) = c.log_configuration().and_then(|l| l.options()) else {
            return;
        };
        let group = options.get("awslogs-group").cloned().unwrap_or_default();
        let prefix = options
            .get("awslogs-stream-prefix")
            .cloned()
            .unwrap_or_default();
        let stream = format!("{prefix}/{}/{task_id}", c.name().unwrap_or_default());
        let _ = self
            .logs
            .create_log_stream()
            .log_group_name(&group)
            .log_stream_name(&stream)
            .send()
            .await;
        let logs = self.logs.clone();
        let mut output = self.docker.logs(
            container,
            Some(LogsOptions {
                follow: true,
                stdout: true,
                stderr: true,
                ..Default::default()
            }),
        );
        tokio::spawn(async move {
            while let Some(Ok(line)) = output.next().await {
                let message = line.to_string().trim_end().to_owned();
                if message.is_empty() {
                    continue;
                }
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_millis() as i64;
                let event = aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                    .timestamp(now)
                    .message(message)
                    .build()
                    .expect("a log event");
                let _ = logs
                    .put_log_events()
                    .log_group_name(&group)
                    .log_stream_name(&stream)
                    .log_events(event)
                    .send()
                    .await;
            }
        });
    }
}
