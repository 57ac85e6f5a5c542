//! The IAM documents of the task execution role: who may assume it (ECS tasks acting for
//! this account), pulling the app's image and writing to its log group (scoped to the
//! app's repository and log group), and read access scoped to the app's own secrets.
//! Documents are compared as JSON values, after undoing IAM's URL encoding.

use serde_json::{json, Value};

/// The AWS managed policy earlier Slipway versions attached: ECR pull and logs on every
/// resource. Setup now replaces it on Slipway's own roles with [`execution_policy`].
pub const EXECUTION_ROLE_POLICY: &str = "service-role/AmazonECSTaskExecutionRolePolicy";

/// Where an ARN is built: the partition, region and account of the connected identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnScope {
    pub partition: String,
    pub region: String,
    pub account: String,
}

impl ArnScope {
    pub fn new(region: &str, account: &str) -> Self {
        let partition = if region.starts_with("cn-") {
            "aws-cn"
        } else if region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        };
        Self {
            partition: partition.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
        }
    }

    pub fn managed_policy_arn(&self, name: &str) -> String {
        format!("arn:{}:iam::aws:policy/{name}", self.partition)
    }
}

/// Lets ECS tasks assume the role, only on behalf of `account` (so ECS cannot be made to
/// assume it for a task of another account: the confused-deputy guard AWS recommends).
pub fn trust_policy(account: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "ecs-tasks.amazonaws.com" },
            "Action": "sts:AssumeRole",
            "Condition": { "StringEquals": { "aws:SourceAccount": account } }
        }]
    })
}

/// `existing` with a statement added that lets ECS tasks assume the role, keeping every
/// principal the role already trusts; Slipway's trust policy when there is none.
pub fn with_ecs_trust(existing: Option<&Value>, account: &str) -> Value {
    let ours = trust_policy(account)["Statement"][0].clone();
    let Some(doc) = existing.filter(|d| d.is_object()) else {
        return trust_policy(account);
    };
    let mut doc = doc.clone();
    let statements = match doc["Statement"].take() {
        Value::Array(list) => list,
        Value::Null => vec![],
        single => vec![single],
    };
    doc["Statement"] = Value::Array(statements.into_iter().chain([ours]).collect());
    doc
}

/// True when `doc` lets ECS tasks assume the role (other statements may be there too).
pub fn trusts_ecs_tasks(doc: &Value) -> bool {
    let statements = match &doc["Statement"] {
        Value::Array(list) => list.clone(),
        single @ Value::Object(_) => vec![single.clone()],
        _ => return false,
    };
    statements.iter().any(|s| {
        s["Effect"] == "Allow"
            && one_or_many(&s["Principal"]["Service"]).contains(&"ecs-tasks.amazonaws.com")
            && one_or_many(&s["Action"]).contains(&"sts:AssumeRole")
    })
}

/// True when every statement of `doc` that lets ECS tasks assume the role holds them to
/// acting for `account` (as [`trust_policy`] does).
pub fn ecs_trust_limited_to(doc: &Value, account: &str) -> bool {
    let statements = match &doc["Statement"] {
        Value::Array(list) => list.clone(),
        single @ Value::Object(_) => vec![single.clone()],
        _ => return false,
    };
    let ecs: Vec<&Value> = statements
        .iter()
        .filter(|s| one_or_many(&s["Principal"]["Service"]).contains(&"ecs-tasks.amazonaws.com"))
        .collect();
    !ecs.is_empty()
        && ecs
            .iter()
            .all(|s| s["Condition"]["StringEquals"]["aws:SourceAccount"] == account)
}

fn one_or_many(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

/// What the execution role needs to start the app's task: pull its image from its
/// repository and write to its log group, nothing else.
pub fn execution_policy(scope: &ArnScope, repository: &str, log_group: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                // GetAuthorizationToken acts on no resource: IAM accepts only "*" for it.
                // The token it returns lets the role pull only what the statement below allows.
                "Effect": "Allow",
                "Action": ["ecr:GetAuthorizationToken"],
                "Resource": "*"
            },
            {
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage"
                ],
                "Resource": format!(
                    "arn:{}:ecr:{}:{}:repository/{repository}",
                    scope.partition, scope.region, scope.account
                )
            },
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": format!(
                    "arn:{}:logs:{}:{}:log-group:{log_group}:*",
                    scope.partition, scope.region, scope.account
                )
            }
        ]
    })
}

/// Read access to exactly the referenced secrets, or `None` when there are none.
/// `references` are the `valueFrom`s of slipway.toml's `[secrets]`.
pub fn secrets_policy(scope: &ArnScope, references: &[String]) -> Option<Value> {
    let mut secret_arns = Vec::new();
    let mut parameter_arns = Vec::new();
    for reference in references {
        if reference.starts_with("arn:") && reference.contains(":secretsmanager:") {
            // A reference may end in :json-key:version-stage:version-id; the policy
            // names the secret itself (the first seven fields).
            let base: Vec<&str> = reference.splitn(8, ':').take(7).collect();
            secret_arns.push(base.join(":"));
        } else if reference.starts_with("arn:") {
            parameter_arns.push(reference.clone());
        } else {
            parameter_arns.push(format!(
                "arn:{}:ssm:{}:{}:parameter/{}",
                scope.partition,
                scope.region,
                scope.account,
                reference.trim_start_matches('/')
            ));
        }
    }
    secret_arns.sort();
    secret_arns.dedup();
    parameter_arns.sort();
    parameter_arns.dedup();
    let mut statements = Vec::new();
    if !secret_arns.is_empty() {
        statements.push(json!({
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": secret_arns
        }));
    }
    if !parameter_arns.is_empty() {
        statements.push(json!({
            "Effect": "Allow",
            "Action": ["ssm:GetParameters"],
            "Resource": parameter_arns
        }));
    }
    (!statements.is_empty()).then(|| json!({ "Version": "2012-10-17", "Statement": statements }))
}

/// A policy document as IAM returns it: URL-encoded JSON (or plain JSON from some tools).
pub fn decode_document(text: &str) -> Option<Value> {
    serde_json::from_str(text)
        .ok()
        .or_else(|| serde_json::from_str(&percent_decode(text)?).ok())
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> ArnScope {
        ArnScope::new("eu-west-1", "123456789012")
    }

    #[test]
    fn iam_url_encoding_is_undone_before_comparing() {
        let encoded = "%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%7B%22Effect%22%3A%20%22Allow%22%2C%20%22Principal%22%3A%20%7B%22Service%22%3A%20%22ecs-tasks.amazonaws.com%22%7D%2C%20%22Action%22%3A%20%22sts%3AAssumeRole%22%7D%5D%7D";
        let doc = decode_document(encoded).expect("decodes");
        assert!(
            trusts_ecs_tasks(&doc),
            "a trust without a condition still counts"
        );
        assert!(!trusts_ecs_tasks(
            &json!({"Statement": {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}})
        ));
    }

    #[test]
    fn trust_is_added_to_a_roles_own_statements_not_put_in_their_place() {
        let lambda = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}});
        let merged = with_ecs_trust(Some(&lambda), "123456789012");
        assert_eq!(merged["Statement"].as_array().unwrap().len(), 2);
        assert_eq!(
            merged["Statement"][0]["Principal"]["Service"],
            "lambda.amazonaws.com"
        );
        assert!(trusts_ecs_tasks(&merged));
        assert_eq!(
            with_ecs_trust(None, "123456789012"),
            trust_policy("123456789012")
        );
    }

    #[test]
    fn only_ecs_tasks_acting_for_this_account_may_assume_the_role() {
        let doc = trust_policy("123456789012");
        assert!(trusts_ecs_tasks(&doc));
        assert!(ecs_trust_limited_to(&doc, "123456789012"));
        assert!(!ecs_trust_limited_to(&doc, "210987654321"));
        let older = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        assert!(
            !ecs_trust_limited_to(&older, "123456789012"),
            "an older trust without the condition is not said to be limited"
        );
        assert_eq!(
            doc["Statement"][0]["Condition"],
            json!({"StringEquals": {"aws:SourceAccount": "123456789012"}}),
            "the confused-deputy guard names this account"
        );
    }

    #[test]
    fn the_execution_policy_pulls_only_the_apps_repository_and_writes_only_its_log_group() {
        let doc = execution_policy(&scope(), "hello", "/ecs/hello");
        let statements = doc["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 3, "{doc}");
        assert_eq!(
            statements[0],
            json!({"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"}),
            "the token action is the one AWS allows only on *"
        );
        assert_eq!(
            statements[1]["Resource"],
            "arn:aws:ecr:eu-west-1:123456789012:repository/hello"
        );
        assert_eq!(
            statements[1]["Action"],
            json!([
                "ecr:BatchCheckLayerAvailability",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchGetImage"
            ])
        );
        assert_eq!(
            statements[2]["Resource"],
            "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/hello:*"
        );
        assert_eq!(
            statements[2]["Action"],
            json!(["logs:CreateLogStream", "logs:PutLogEvents"])
        );
        let text = doc.to_string();
        for broad in ["logs:CreateLogGroup", "ecr:*", "logs:*"] {
            assert!(!text.contains(broad), "{broad} is not granted: {text}");
        }
    }

    #[test]
    fn secret_access_names_each_secret_and_parameter_and_nothing_else() {
        assert_eq!(secrets_policy(&scope(), &[]), None);
        let doc = secrets_policy(
            &scope(),
            &[
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf:password::".into(),
                "/app/token".into(),
            ],
        )
        .unwrap();
        assert_eq!(
            doc["Statement"][0]["Resource"],
            json!(["arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"])
        );
        assert_eq!(
            doc["Statement"][1]["Resource"],
            json!(["arn:aws:ssm:eu-west-1:123456789012:parameter/app/token"])
        );
    }

    #[test]
    fn china_and_govcloud_regions_get_their_partition() {
        assert_eq!(ArnScope::new("cn-north-1", "1").partition, "aws-cn");
        assert_eq!(
            ArnScope::new("us-gov-west-1", "1").managed_policy_arn(EXECUTION_ROLE_POLICY),
            "arn:aws-us-gov:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
        );
    }
}
