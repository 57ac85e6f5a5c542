//! Rewriting the emulator's ECS answers where moto cannot say what Fargate would: a
//! scripted progression of task states (PROVISIONING, PENDING, then the real RUNNING),
//! and facts a stand-in for Fargate reports about a task or a service (stop codes, exit
//! codes, container reasons, deployments and their rollout state); what CreateService
//! asked that moto drops (the health-check grace period and the deployment
//! configuration); the target health the stand-in measured (see [`crate::elb_rewrite`]);
//! and CloudFormation's answer for a stack's list parameter, which moto gives as Python's
//! `['a', 'b']` where AWS gives `a,b`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;

/// When the proxy first showed a task in a scripted state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptedChange {
    pub task_arn: String,
    pub status: String,
    pub at: Instant,
}

#[derive(Default)]
pub(crate) struct Rewrites {
    /// States shown, each for its duration, before a task's real state.
    script: Vec<(String, Duration)>,
    first_seen: HashMap<String, Instant>,
    changes: Vec<ScriptedChange>,
    tasks: HashMap<String, Value>,
    services: HashMap<String, Value>,
    /// What CreateService asked that moto drops, by service ARN.
    created: HashMap<String, Value>,
    pub(crate) target_health: crate::elb_rewrite::TargetHealthReports,
}

/// The CreateService fields moto forgets (it keeps them from UpdateService).
const DROPPED_AT_CREATE: [&str; 2] = ["healthCheckGracePeriodSeconds", "deploymentConfiguration"];

impl Rewrites {
    pub(crate) fn script(&mut self, states: &[(&str, Duration)]) {
        self.script = states.iter().map(|(s, d)| (s.to_string(), *d)).collect();
    }

    pub(crate) fn patch_task(&mut self, arn: &str, patch: Value) {
        merge(
            self.tasks.entry(arn.to_owned()).or_insert(Value::Null),
            patch,
        );
    }

    pub(crate) fn patch_service(&mut self, arn: &str, patch: Value) {
        merge(
            self.services.entry(arn.to_owned()).or_insert(Value::Null),
            patch,
        );
    }

    /// A field of `service_arn` that CreateService asked for and moto dropped.
    pub(crate) fn created(&self, service_arn: &str, field: &str) -> Option<Value> {
        self.created.get(service_arn)?.get(field).cloned()
    }

    pub(crate) fn changes(&self) -> Vec<ScriptedChange> {
        self.changes.clone()
    }

    fn wants(&self, action: &str) -> bool {
        match action {
            // RunTask answers with the task's first state, as Fargate's does: the script's
            // clock starts there.
            "DescribeTasks" => !self.script.is_empty() || !self.tasks.is_empty(),
            "RunTask" => !self.script.is_empty(),
            "DescribeServices" => !self.services.is_empty() || !self.created.is_empty(),
            "DescribeStacks" | "CreateService" => true,
            "DescribeTargetHealth" => !self.target_health.is_empty(),
            _ => false,
        }
    }

    /// The response with its JSON body rewritten (and its Content-Length fixed).
    pub(crate) fn apply(&mut self, action: &str, request: &[u8], response: Vec<u8>) -> Vec<u8> {
        if !self.wants(action) {
            return response;
        }
        let Some(split) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
            return response;
        };
        let (head, body) = (&response[..split], &response[split + 4..]);
        let body = if action == "DescribeStacks" {
            list_parameters_as_aws(&String::from_utf8_lossy(body)).into_bytes()
        } else if action == "DescribeTargetHealth" {
            let xml = String::from_utf8_lossy(body);
            match self.target_health.answer(request, &xml) {
                Some(xml) => xml.into_bytes(),
                None => return response,
            }
        } else if action == "CreateService" {
            self.remember_created(request, body);
            return response;
        } else {
            let Ok(mut json) = serde_json::from_slice::<Value>(body) else {
                return response;
            };
            match action {
                "DescribeTasks" | "RunTask" => self.tasks_answer(&mut json),
                _ => self.services_answer(&mut json),
            }
            serde_json::to_vec(&json).expect("JSON serialises")
        };
        let head: Vec<String> = String::from_utf8_lossy(head)
            .split("\r\n")
            .filter(|l| !l.to_ascii_lowercase().starts_with("content-length:"))
            .map(str::to_owned)
            .collect();
        let mut out = format!(
            "{}\r\nContent-Length: {}\r\n\r\n",
            head.join("\r\n"),
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(&body);
        out
    }

    fn tasks_answer(&mut self, json: &mut Value) {
        let now = Instant::now();
        let Some(tasks) = json.get_mut("tasks").and_then(Value::as_array_mut) else {
            return;
        };
        for task in tasks {
            let arn = task["taskArn"].as_str().unwrap_or_default().to_owned();
            if let Some(patch) = self.tasks.get(&arn) {
                merge(task, patch.clone());
            }
            if self.script.is_empty() || task["lastStatus"] != "RUNNING" {
                continue;
            }
            let first = *self.first_seen.entry(arn.clone()).or_insert_with(|| {
                let mut at = now;
                for (status, duration) in &self.script {
                    self.changes.push(ScriptedChange {
                        task_arn: arn.clone(),
                        status: status.clone(),
                        at,
                    });
                    at += *duration;
                }
                self.changes.push(ScriptedChange {
                    task_arn: arn.clone(),
                    status: "RUNNING".into(),
                    at,
                });
                now
            });
            let mut until = first;
            for (status, duration) in &self.script {
                until += *duration;
                if now < until {
                    task["lastStatus"] = Value::String(status.clone());
                    // Nothing is healthy before it runs: neither the task nor a container.
                    if let Some(obj) = task.as_object_mut() {
                        obj.remove("healthStatus");
                    }
                    if let Some(containers) = task["containers"].as_array_mut() {
                        for container in containers.iter_mut().filter_map(Value::as_object_mut) {
                            container.remove("healthStatus");
                        }
                    }
                    break;
                }
            }
        }
    }

    fn services_answer(&mut self, json: &mut Value) {
        let Some(services) = json.get_mut("services").and_then(Value::as_array_mut) else {
            return;
        };
        for service in services {
            let arn = service["serviceArn"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if let Some(patch) = self.services.get(&arn) {
                merge(service, patch.clone());
            }
            for field in DROPPED_AT_CREATE {
                if service.get(field).is_none_or(Value::is_null) {
                    if let Some(value) = self.created(&arn, field) {
                        service[field] = value;
                    }
                }
            }
        }
    }

    fn remember_created(&mut self, request: &[u8], response: &[u8]) {
        let (Ok(asked), Ok(answer)) = (
            serde_json::from_slice::<Value>(request),
            serde_json::from_slice::<Value>(response),
        ) else {
            return;
        };
        let Some(arn) = answer["service"]["serviceArn"].as_str() else {
            return;
        };
        let kept: serde_json::Map<String, Value> = DROPPED_AT_CREATE
            .iter()
            .filter_map(|f| Some((f.to_string(), asked.get(*f)?.clone())))
            .collect();
        if !kept.is_empty() {
            self.created.insert(arn.to_owned(), Value::Object(kept));
        }
    }
}

/// Merges `patch` into `target`: objects key by key, `containers` element by element,
/// anything else replaced.
fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (key, value) in p {
                match (t.get_mut(&key), value) {
                    (Some(Value::Array(existing)), Value::Array(new)) if key == "containers" => {
                        for (i, item) in new.into_iter().enumerate() {
                            match existing.get_mut(i) {
                                Some(slot) => merge(slot, item),
                                None => existing.push(item),
                            }
                        }
                    }
                    (Some(slot @ Value::Object(_)), value @ Value::Object(_)) => merge(slot, value),
                    (_, value) => {
                        t.insert(key, value);
                    }
                }
            }
        }
        (target, patch) => *target = patch,
    }
}

/// A DescribeStacks answer with each list parameter's value as AWS writes it: moto answers
/// `['subnet-a', 'subnet-b']` (XML-escaped) for what was given as `subnet-a,subnet-b`.
fn list_parameters_as_aws(xml: &str) -> String {
    const OPEN: &str = "<ParameterValue>";
    const CLOSE: &str = "</ParameterValue>";
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(start) = rest.find(OPEN) {
        let value_at = start + OPEN.len();
        let Some(len) = rest[value_at..].find(CLOSE) else {
            break;
        };
        let value = &rest[value_at..value_at + len];
        out.push_str(&rest[..value_at]);
        match value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
            Some(items) => {
                let items: Vec<&str> = items
                    .split(',')
                    .map(|item| {
                        let item = item.trim();
                        ["&#x27;", "&#39;", "&apos;", "'"]
                            .iter()
                            .find_map(|q| item.strip_prefix(q)?.strip_suffix(q))
                            .unwrap_or(item)
                    })
                    .filter(|item| !item.is_empty())
                    .collect();
                out.push_str(&items.join(","));
            }
            None => out.push_str(value),
        }
        rest = &rest[value_at + len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::list_parameters_as_aws;

    #[test]
    fn a_list_parameter_reads_as_aws_writes_it() {
        let moto = "<member><ParameterKey>SubnetIds</ParameterKey><ParameterValue>[&#x27;subnet-a&#x27;, &#x27;subnet-b&#x27;]</ParameterValue></member><member><ParameterValue>v1.5.0</ParameterValue></member>";
        assert_eq!(
            list_parameters_as_aws(moto),
            "<member><ParameterKey>SubnetIds</ParameterKey><ParameterValue>subnet-a,subnet-b</ParameterValue></member><member><ParameterValue>v1.5.0</ParameterValue></member>"
        );
        assert_eq!(
            list_parameters_as_aws(
                "<ParameterValue>['a']</ParameterValue><ParameterValue>[]</ParameterValue>"
            ),
            "<ParameterValue>a</ParameterValue><ParameterValue></ParameterValue>"
        );
    }
}
