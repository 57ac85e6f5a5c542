//! ECS's service-deployment API, which moto does not implement, answered by the proxy
//! from what the Fargate stand-in reports: ListServiceDeployments and
//! DescribeServiceDeployments from its records, and StopServiceDeployment, which marks the
//! deployment ROLLBACK_REQUESTED and leaves the rollback to the stand-in's next pass. Errors
//! come in the JSON protocol's shape (`__type` and `x-amzn-ErrorType`).

use std::collections::HashMap;

use serde_json::{json, Value};

/// The actions answered here instead of by moto.
const ACTIONS: [&str; 3] = [
    "ListServiceDeployments",
    "DescribeServiceDeployments",
    "StopServiceDeployment",
];

#[derive(Default)]
pub(crate) struct ServiceDeployments {
    /// Service ARN → its service deployments, as DescribeServiceDeployments shows them.
    by_service: HashMap<String, Vec<Value>>,
    /// Service deployments whose rollback was asked for and not yet taken by the stand-in.
    requested: Vec<String>,
}

impl ServiceDeployments {
    /// Replaces what the proxy shows of `service_arn`'s service deployments; one whose
    /// rollback is asked for and not yet taken stays ROLLBACK_REQUESTED.
    pub(crate) fn report(&mut self, service_arn: &str, mut deployments: Vec<Value>) {
        for d in &mut deployments {
            let asked = d["serviceDeploymentArn"]
                .as_str()
                .is_some_and(|arn| self.requested.iter().any(|r| r == arn));
            if asked && matches!(d["status"].as_str(), Some("IN_PROGRESS" | "PENDING")) {
                d["status"] = json!("ROLLBACK_REQUESTED");
            }
        }
        self.by_service.insert(service_arn.to_owned(), deployments);
    }

    /// The rollbacks asked for `service_arn`'s service deployments since the last call.
    pub(crate) fn take_requests(&mut self, service_arn: &str) -> Vec<String> {
        let prefix = service_deployment_prefix(service_arn);
        let (taken, kept) = self
            .requested
            .drain(..)
            .partition(|arn| arn.starts_with(&prefix));
        self.requested = kept;
        taken
    }

    /// The whole HTTP answer to `action`, or `None` when it is not an action answered here.
    pub(crate) fn answer(
        &mut self,
        service: &str,
        action: &str,
        region: &str,
        body: &[u8],
    ) -> Option<Vec<u8>> {
        if service != "ecs" || !ACTIONS.contains(&action) {
            return None;
        }
        let asked: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let (status, answer) = match action {
            "ListServiceDeployments" => (200, self.list(&asked, region)),
            "DescribeServiceDeployments" => (200, self.describe(&asked)),
            _ => self.stop(&asked),
        };
        Some(http(status, &answer))
    }

    fn all(&self) -> impl Iterator<Item = &Value> {
        self.by_service.values().flatten()
    }

    fn list(&self, asked: &Value, region: &str) -> Value {
        let service = asked["service"].as_str().unwrap_or_default();
        let cluster = asked["cluster"].as_str().unwrap_or("default");
        let cluster = cluster.rsplit('/').next().unwrap_or(cluster);
        let statuses: Vec<&str> = asked["status"]
            .as_array()
            .map(|s| s.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut found: Vec<&Value> = self
            .all()
            .filter(|d| {
                let arn = d["serviceArn"].as_str().unwrap_or_default();
                let named = if service.starts_with("arn:") {
                    arn == service
                } else {
                    arn.ends_with(&format!("/{cluster}/{service}"))
                        && arn.split(':').nth(3) == Some(region)
                };
                let status = d["status"].as_str().unwrap_or_default();
                named && (statuses.is_empty() || statuses.contains(&status))
            })
            .collect();
        found.sort_by(|a, b| {
            let at = |d: &Value| d["createdAt"].as_f64().unwrap_or_default();
            at(b).total_cmp(&at(a))
        });
        let briefs: Vec<Value> = found
            .into_iter()
            .map(|d| {
                let mut brief = json!({
                    "serviceDeploymentArn": d["serviceDeploymentArn"],
                    "serviceArn": d["serviceArn"],
                    "clusterArn": d["clusterArn"],
                    "startedAt": d["startedAt"],
                    "createdAt": d["createdAt"],
                    "targetServiceRevisionArn": d["targetServiceRevision"]["arn"],
                    "status": d["status"],
                });
                for optional in ["finishedAt", "statusReason"] {
                    if let Some(value) = d.get(optional) {
                        brief[optional] = value.clone();
                    }
                }
                brief
            })
            .collect();
        json!({ "serviceDeployments": briefs })
    }

    fn describe(&self, asked: &Value) -> Value {
        let arns: Vec<&str> = asked["serviceDeploymentArns"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut found = Vec::new();
        let mut failures = Vec::new();
        for arn in arns {
            match self.all().find(|d| d["serviceDeploymentArn"] == arn) {
                Some(d) => found.push(d.clone()),
                None => failures.push(json!({"arn": arn, "reason": "MISSING"})),
            }
        }
        json!({ "serviceDeployments": found, "failures": failures })
    }

    fn stop(&mut self, asked: &Value) -> (u16, Value) {
        let arn = asked["serviceDeploymentArn"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if asked["stopType"].as_str().is_some_and(|t| t != "ROLLBACK") {
            return error(
                "UnsupportedFeatureException",
                "The stand-in stops a service deployment with a ROLLBACK only.",
            );
        }
        let Some(deployment) = self
            .by_service
            .values_mut()
            .flatten()
            .find(|d| d["serviceDeploymentArn"] == arn.as_str())
        else {
            return error(
                "ServiceDeploymentNotFoundException",
                &format!("The service deployment {arn} does not exist."),
            );
        };
        let status = deployment["status"].as_str().unwrap_or_default().to_owned();
        if !matches!(status.as_str(), "IN_PROGRESS" | "PENDING") {
            return error(
                "InvalidParameterException",
                &format!(
                    "The service deployment {arn} cannot be stopped: its status is {status}, and only a deployment in progress can be rolled back."
                ),
            );
        }
        deployment["status"] = json!("ROLLBACK_REQUESTED");
        self.requested.push(arn.clone());
        (200, json!({ "serviceDeploymentArn": arn }))
    }
}

/// `arn:aws:ecs:REGION:ACCOUNT:service-deployment/CLUSTER/SERVICE/` for a service's ARN.
fn service_deployment_prefix(service_arn: &str) -> String {
    format!(
        "{}/",
        service_arn.replacen(":service/", ":service-deployment/", 1)
    )
}

fn error(code: &str, message: &str) -> (u16, Value) {
    (400, json!({ "__type": code, "message": message }))
}

fn http(status: u16, body: &Value) -> Vec<u8> {
    let (reason, error_type) = match body["__type"].as_str() {
        Some(code) => ("Bad Request", format!("x-amzn-ErrorType: {code}\r\n")),
        None => ("OK", String::new()),
    };
    let body = body.to_string();
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/x-amz-json-1.1\r\n{error_type}x-amzn-RequestId: fault-proxy\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICE: &str = "arn:aws:ecs:eu-west-3:123456789012:service/shop/api";

    fn deployment(id: &str, status: &str, created: f64) -> Value {
        json!({
            "serviceDeploymentArn": format!("arn:aws:ecs:eu-west-3:123456789012:service-deployment/shop/api/{id}"),
            "serviceArn": SERVICE,
            "clusterArn": "arn:aws:ecs:eu-west-3:123456789012:cluster/shop",
            "createdAt": created,
            "startedAt": created,
            "status": status,
            "targetServiceRevision": {"arn": format!("rev-{id}")},
        })
    }

    fn body(answer: &[u8]) -> (String, Value) {
        let text = String::from_utf8_lossy(answer);
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        (head.to_owned(), serde_json::from_str(body).unwrap())
    }

    fn ask(api: &mut ServiceDeployments, action: &str, request: Value) -> (String, Value) {
        body(
            &api.answer("ecs", action, "eu-west-3", request.to_string().as_bytes())
                .expect("answered by the proxy"),
        )
    }

    #[test]
    fn other_actions_go_to_moto() {
        let mut api = ServiceDeployments::default();
        assert!(api
            .answer("ecs", "DescribeServices", "eu-west-3", b"{}")
            .is_none());
    }

    #[test]
    fn deployments_are_listed_newest_first_by_service_name_or_arn() {
        let mut api = ServiceDeployments::default();
        api.report(
            SERVICE,
            vec![
                deployment("a", "SUCCESSFUL", 10.0),
                deployment("b", "IN_PROGRESS", 20.0),
            ],
        );
        let (_, listed) = ask(
            &mut api,
            "ListServiceDeployments",
            json!({"cluster": "shop", "service": "api"}),
        );
        let statuses: Vec<&str> = listed["serviceDeployments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["IN_PROGRESS", "SUCCESSFUL"]);
        assert_eq!(
            listed["serviceDeployments"][0]["targetServiceRevisionArn"],
            "rev-b"
        );
        let (_, by_arn) = ask(
            &mut api,
            "ListServiceDeployments",
            json!({"service": SERVICE, "status": ["SUCCESSFUL"]}),
        );
        assert_eq!(by_arn["serviceDeployments"].as_array().unwrap().len(), 1);
        let (_, elsewhere) = ask(
            &mut api,
            "ListServiceDeployments",
            json!({"cluster": "other", "service": "api"}),
        );
        assert_eq!(elsewhere["serviceDeployments"], json!([]));
    }

    #[test]
    fn a_stop_in_progress_is_requested_and_a_finished_one_refused_as_aws_does() {
        let mut api = ServiceDeployments::default();
        api.report(
            SERVICE,
            vec![
                deployment("a", "SUCCESSFUL", 10.0),
                deployment("b", "IN_PROGRESS", 20.0),
            ],
        );
        let b = deployment("b", "", 0.0)["serviceDeploymentArn"].clone();
        let (_, stopped) = ask(
            &mut api,
            "StopServiceDeployment",
            json!({"serviceDeploymentArn": b, "stopType": "ROLLBACK"}),
        );
        assert_eq!(stopped["serviceDeploymentArn"], b);
        // A report from a pass that had not taken the request yet does not undo it.
        api.report(SERVICE, vec![deployment("b", "IN_PROGRESS", 20.0)]);
        let (_, described) = ask(
            &mut api,
            "DescribeServiceDeployments",
            json!({"serviceDeploymentArns": [b, "arn:nothing"]}),
        );
        assert_eq!(
            described["serviceDeployments"][0]["status"],
            "ROLLBACK_REQUESTED"
        );
        assert_eq!(described["failures"][0]["reason"], "MISSING");
        assert_eq!(api.take_requests(SERVICE), vec![b.as_str().unwrap()]);
        assert!(api.take_requests(SERVICE).is_empty(), "taken once");
        api.report(SERVICE, vec![deployment("a", "SUCCESSFUL", 10.0)]);
        let a = deployment("a", "", 0.0)["serviceDeploymentArn"].clone();
        let (head, refused) = ask(
            &mut api,
            "StopServiceDeployment",
            json!({"serviceDeploymentArn": a, "stopType": "ROLLBACK"}),
        );
        assert!(head.starts_with("HTTP/1.1 400"), "{head}");
        assert!(head.contains("x-amzn-ErrorType: InvalidParameterException"));
        assert_eq!(refused["__type"], "InvalidParameterException");
    }
}
