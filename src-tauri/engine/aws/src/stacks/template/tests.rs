//! The template reader's tests: the three fixture templates, each rule of the form, and
//! the files it refuses to read.

use super::*;

const SERVER: &str = include_str!("../../../../../../tests/fixtures/stacks/server.yaml");
const AGENT: &str = include_str!("../../../../../../tests/fixtures/stacks/agent.yaml");
const STORAGE: &str = include_str!("../../../../../../tests/fixtures/stacks/storage.yaml");

fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn resource<'a>(t: &'a Template, id: &str) -> &'a TemplateResource {
    t.resources.iter().find(|r| r.logical_id == id).unwrap()
}

fn refusal(text: &str) -> (Option<usize>, String) {
    match parse("t.yaml", text).unwrap_err() {
        EngineError::TemplateInvalid { line, problem, .. } => (line, problem),
        other => panic!("expected TemplateInvalid, got {other:?}"),
    }
}

/// A template with the given parameters section and one resource.
fn with_parameters(parameters: &str) -> Template {
    let text =
        format!("Parameters:\n{parameters}\nResources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n");
    parse("t.yaml", &text).unwrap()
}

fn problems(t: &Template, pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    check_values(t, &values(pairs))
        .into_iter()
        .map(|p| (p.field, p.message))
        .collect()
}

#[test]
fn the_server_template_gives_its_form_in_order_with_groups_labels_and_pickers() {
    let t = parse("server.yaml", SERVER).unwrap();
    let names: Vec<&str> = t.parameters.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "VpcId",
            "SubnetIds",
            "AllowedIngressCidr",
            "ImageRepository",
            "ImageTag",
            "DesiredCount",
            "LogRetentionDays",
            "DatabasePassword"
        ],
        "the form follows the template's order, not the alphabet"
    );
    let vpc = t.parameter("VpcId").unwrap();
    assert_eq!((vpc.picker, vpc.list), (Some(Picker::Vpc), false));
    assert_eq!(vpc.label.as_deref(), Some("VPC"));
    let subnets = t.parameter("SubnetIds").unwrap();
    assert_eq!(
        (subnets.picker, subnets.list),
        (Some(Picker::Subnets), true)
    );
    let password = t.parameter("DatabasePassword").unwrap();
    assert!(password.no_echo && password.default.is_none());
    assert_eq!(password.min_length, Some(12));
    let tag = t.parameter("ImageTag").unwrap();
    assert_eq!(tag.default.as_deref(), Some("v1.4.2"));
    assert!(tag.allowed_pattern.is_some() && tag.picker.is_none());
    let count = t.parameter("DesiredCount").unwrap();
    assert_eq!((count.min_value, count.max_value), (Some(0.0), Some(10.0)));
    assert_eq!(
        t.parameter("LogRetentionDays").unwrap().allowed_values,
        ["7", "14", "30", "90"],
        "numbers in AllowedValues become the text a form offers"
    );
    let groups: Vec<(&str, usize)> = t
        .groups
        .iter()
        .map(|g| (g.label.as_str(), g.parameters.len()))
        .collect();
    assert_eq!(groups, [("Network", 3), ("Server", 4), ("Database", 1)]);
    assert!(t.description.unwrap().starts_with("Tollgate server"));
    assert_eq!(t.body, SERVER, "the body sent is the text as read");
}

#[test]
fn the_server_template_names_its_resources_what_they_cost_and_what_stays() {
    let t = parse("server.yaml", SERVER).unwrap();
    assert_eq!(
        t.resources.first().unwrap().logical_id,
        "ServerSecurityGroup"
    );
    assert_eq!(
        resource(&t, "LoadBalancer").plain,
        "an Application Load Balancer"
    );
    assert_eq!(resource(&t, "DataFileSystem").plain, "an EFS file system");
    assert_eq!(resource(&t, "Service").plain, "an ECS service");
    let retained: Vec<&str> = t.retained().map(|r| r.logical_id.as_str()).collect();
    assert_eq!(
        retained,
        ["DataFileSystem"],
        "only the EFS has DeletionPolicy Retain"
    );
    for paid in [
        "LoadBalancer",
        "DataFileSystem",
        "DatabaseSecret",
        "Service",
    ] {
        assert!(
            resource(&t, paid).paid.is_some(),
            "{paid} bills while it exists"
        );
    }
    for free in [
        "ServerSecurityGroup",
        "TaskRole",
        "LogGroup",
        "Cluster",
        "TargetGroup",
    ] {
        assert_eq!(resource(&t, free).paid, None, "{free} is free to have");
    }
    let alb = resource(&t, "LoadBalancer").paid.clone().unwrap();
    assert!(alb.contains("$16 a month") && alb.contains("IPv4"), "{alb}");
    let service = resource(&t, "Service").paid.clone().unwrap();
    assert!(
        service.contains("0.5 vCPU and 1 GB each"),
        "the service's tasks are sized by its task definition: {service}"
    );
}

#[test]
fn the_server_template_needs_named_iam_for_its_named_task_role() {
    let t = parse("server.yaml", SERVER).unwrap();
    assert_eq!(t.capabilities, [Capability::NamedIam]);
    let why = Capability::NamedIam.why(&t);
    assert_eq!(
        why,
        "creates IAM role TaskRole (named ${AWS::StackName}-server-task)"
    );
    assert_eq!(
            Capability::Iam.why(&t),
            "creates IAM role TaskExecutionRole and IAM role TaskRole (named ${AWS::StackName}-server-task)"
        );
    let execution = t
        .iam
        .iter()
        .find(|r| r.logical_id == "TaskExecutionRole")
        .unwrap();
    assert_eq!(
        execution.grants,
        [
            "AmazonECSTaskExecutionRolePolicy",
            "secretsmanager:GetSecretValue"
        ]
    );
    let json = serde_json::to_value(&t.capabilities).unwrap();
    assert_eq!(json, serde_json::json!(["CAPABILITY_NAMED_IAM"]));
    assert_eq!(Capability::NamedIam.as_api(), "CAPABILITY_NAMED_IAM");
}

#[test]
fn the_server_template_outputs_say_which_are_exported() {
    let t = parse("server.yaml", SERVER).unwrap();
    let outputs: Vec<(&str, bool)> = t
        .outputs
        .iter()
        .map(|o| (o.logical_id.as_str(), o.exported))
        .collect();
    assert_eq!(
        outputs,
        [
            ("ServerUrl", false),
            ("ClusterName", false),
            ("ServiceName", false),
            ("ServerSecurityGroupId", false),
            ("DatabaseSecretArn", true)
        ]
    );
    assert_eq!(
        t.outputs[4].export_name.as_deref(),
        Some("${AWS::StackName}-DatabaseSecretArn")
    );
}

#[test]
fn the_agent_template_takes_the_servers_outputs_and_needs_plain_iam() {
    let t = parse("agent.yaml", AGENT).unwrap();
    for name in ["ServerUrl", "ClusterName", "ServerSecurityGroupId"] {
        assert!(t.parameter(name).is_some(), "{name}");
    }
    assert_eq!(
        t.parameter("ServerSecurityGroupId").unwrap().picker,
        Some(Picker::SecurityGroup)
    );
    assert_eq!(
        t.capabilities,
        [Capability::Iam],
        "its role has no name of its own"
    );
    assert_eq!(t.retained().count(), 0);
    assert_eq!(t.outputs.len(), 2);
    let ok = values(&[
        ("ServerUrl", "http://tg-alb.us-east-2.elb.amazonaws.com"),
        ("ClusterName", "tg-server"),
        ("ServerSecurityGroupId", "sg-0123abcd"),
        ("VpcId", "vpc-0123abcd"),
        ("SubnetIds", "subnet-01,subnet-02"),
    ]);
    assert_eq!(check_values(&t, &ok), []);
}

#[test]
fn the_storage_template_keeps_its_bucket_and_needs_no_capability() {
    let t = parse("storage.yaml", STORAGE).unwrap();
    let bucket = resource(&t, "ResultBucket");
    assert!(bucket.retained);
    assert_eq!(bucket.plain, "an S3 bucket");
    assert!(bucket.paid.as_deref().unwrap().contains("per GB"));
    assert_eq!(resource(&t, "AccessLogGroup").paid, None);
    assert!(t.capabilities.is_empty());
    assert_eq!(t.outputs[0].logical_id, "BucketName");
    assert_eq!(
        check_values(&t, &BTreeMap::new()),
        [],
        "every parameter has a default"
    );
}

#[test]
fn short_form_tags_anywhere_are_read_structurally() {
    let text = r#"
Conditions:
  Keep: !Equals [!Ref Environment, production]
  NotKeep: !Not [!Condition Keep]
  Both: !And [!Condition Keep, !Or [!Condition Keep, !Condition NotKeep]]
Parameters:
  Environment:
    Type: String
    AllowedValues: [production, test]
    Default: test
  BucketPolicy:
    Type: String
    AllowedValues: [Delete, Retain]
    Default: Delete
Resources:
  Data:
    Type: AWS::EFS::FileSystem
    DeletionPolicy: !If [Keep, Retain, Delete]
  Kept:
    Type: AWS::S3::Bucket
    DeletionPolicy: !Ref BucketPolicy
  Dropped:
    Type: AWS::S3::Bucket
    DeletionPolicy: !Ref Environment
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !If [Keep, !Sub "${AWS::StackName}-role", !Ref AWS::NoValue]
      AssumeRolePolicyDocument: !Base64 {"Fn::Join": ["", ["a", "b"]]}
  Instance:
    Type: AWS::EC2::Instance
    Properties:
      InstanceType: !FindInMap [Sizes, !Ref Environment, type]
      AvailabilityZone: !Select [0, !GetAZs '']
      UserData: !Base64
        Fn::Sub: |
          #!/bin/sh
          echo ${Environment}
      Tags:
        - Key: cidr
          Value: !Select [0, !Cidr [10.0.0.0/16, 4, 8]]
        - Key: parts
          Value: !Join [",", !Split ["|", !ImportValue shared-parts]]
      SubnetId: !GetAtt Network.Outputs.Subnet
Outputs:
  Url:
    Value: !Sub
      - "http://${Host}"
      - Host: !GetAtt Instance.PublicDnsName
"#;
    let t = parse("tags.yaml", text).unwrap();
    assert!(
        resource(&t, "Data").retained,
        "a policy the template works out that may be Retain may keep it"
    );
    assert!(
        resource(&t, "Kept").retained,
        "its policy parameter allows Retain"
    );
    assert!(
        !resource(&t, "Dropped").retained,
        "its policy parameter cannot be Retain"
    );
    assert_eq!(
        t.iam[0].naming.as_deref(),
        Some("with a name the template works out")
    );
    assert_eq!(t.capabilities, [Capability::NamedIam]);
    assert_eq!(
        resource(&t, "Instance").paid.as_deref(),
        Some("its instance type by the hour"),
        "an instance type from a mapping is not shown as if it were literal"
    );
    assert!(!t.outputs[0].exported);
}

#[test]
fn a_json_template_keeps_its_order_and_reads_long_form_functions() {
    let text = "{\n\t\"AWSTemplateFormatVersion\": \"2010-09-09\",\n\t\"Parameters\": {\n\t\t\"Zeta\": {\"Type\": \"String\", \"Default\": \"z\"},\n\t\t\"Alpha\": {\"Type\": \"Number\", \"Default\": 3, \"MaxValue\": \"5\"},\n\t\t\"RoleNameParam\": {\"Type\": \"String\", \"Default\": \"r\"}\n\t},\n\t\"Resources\": {\n\t\t\"Role\": {\"Type\": \"AWS::IAM::Role\", \"Properties\": {\"RoleName\": {\"Ref\": \"RoleNameParam\"}, \"ManagedPolicyArns\": [{\"Fn::Sub\": \"arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess\"}]}},\n\t\t\"Bucket\": {\"Type\": \"AWS::S3::Bucket\", \"DeletionPolicy\": \"RetainExceptOnCreate\"}\n\t},\n\t\"Outputs\": {\"Name\": {\"Value\": {\"Ref\": \"Bucket\"}, \"Export\": {\"Name\": \"shared-bucket\"}}}\n}\n";
    let t = parse("t.json", text).unwrap();
    let names: Vec<&str> = t.parameters.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Zeta", "Alpha", "RoleNameParam"]);
    assert_eq!(t.parameter("Alpha").unwrap().max_value, Some(5.0));
    assert_eq!(t.parameter("Alpha").unwrap().default.as_deref(), Some("3"));
    assert_eq!(
        t.iam[0].naming.as_deref(),
        Some("named by parameter RoleNameParam")
    );
    assert_eq!(t.iam[0].grants, ["ReadOnlyAccess"]);
    assert!(resource(&t, "Bucket").retained);
    assert_eq!(t.outputs[0].export_name.as_deref(), Some("shared-bucket"));
}

#[test]
fn a_yaml_error_names_its_line() {
    let text = "Resources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      LogGroupName: a: b\n";
    let (line, problem) = refusal(text);
    assert_eq!(line, Some(5), "{problem}");
    assert!(problem.contains("YAML cannot be read"), "{problem}");
    assert!(
        !problem.contains(" at line "),
        "the line is said once: {problem}"
    );
}

#[test]
fn a_json_error_names_its_line() {
    let text = "{\n  \"Resources\": {\n    \"Logs\": {\"Type\": \"AWS::Logs::LogGroup\"}\n    \"Bucket\": {\"Type\": \"AWS::S3::Bucket\"}\n  }\n}\n";
    let (line, problem) = refusal(text);
    assert_eq!(line, Some(4), "{problem}");
    assert!(problem.contains("JSON cannot be read"), "{problem}");
}

#[test]
fn what_is_not_a_usable_template_is_refused_in_plain_words() {
    let (_, problem) = refusal("services:\n  web:\n    image: nginx\n");
    assert!(problem.contains("has no Resources: this is not a CloudFormation template"));
    let (_, problem) = refusal("resources:\n  A:\n    Type: AWS::S3::Bucket\n");
    assert!(problem.contains("rename it Resources"), "{problem}");
    let (_, problem) = refusal("");
    assert!(problem.contains("empty"), "{problem}");
    let (line, problem) =
        refusal("Resources:\n  A:\n    Type: AWS::S3::Bucket\nOutput:\n  X:\n    Value: 1\n");
    assert_eq!(line, Some(4));
    assert!(problem.contains("section Output"), "{problem}");
    let (line, problem) = refusal("Resources:\n  A:\n    Properties: {}\n");
    assert_eq!(line, Some(2));
    assert!(problem.contains("resource A has no Type"), "{problem}");
}

#[test]
fn a_parameter_of_an_unknown_type_is_refused_naming_it_and_its_line() {
    let (line, problem) = refusal(
            "Metadata:\n  AWS::CloudFormation::Interface:\n    ParameterLabels:\n      Size:\n        default: Size\nParameters:\n  Size:\n    Type: Integer\nResources:\n  A:\n    Type: AWS::S3::Bucket\n",
        );
    assert_eq!(
        line,
        Some(7),
        "the parameter's line, not its label's: {problem}"
    );
    assert!(
        problem.contains("parameter Size has the type Integer"),
        "{problem}"
    );
    for known in [
        "AWS::SSM::Parameter::Value<String>",
        "AWS::SSM::Parameter::Value<List<AWS::EC2::Subnet::Id>>",
        "List<AWS::EC2::SecurityGroup::Id>",
        "AWS::EC2::KeyPair::KeyName",
        "List<Number>",
    ] {
        let t = with_parameters(&format!("  P:\n    Type: {known}"));
        assert!(t.parameter("P").unwrap().kind == known);
    }
    let t = with_parameters("  P:\n    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>");
    assert_eq!(t.parameter("P").unwrap().picker, Some(Picker::SsmParameter));
    let (_, problem) = refusal(
            "Parameters:\n  Keys:\n    Type: List<AWS::EC2::KeyPair::KeyName>\nResources:\n  A:\n    Type: AWS::S3::Bucket\n",
        );
    assert!(problem.contains("Keys"), "{problem}");
}

#[test]
fn an_allowed_pattern_that_is_not_a_regex_is_refused_naming_the_parameter() {
    let (line, problem) = refusal(
            "Parameters:\n  Tag:\n    Type: String\n    AllowedPattern: 'v[0-9'\nResources:\n  A:\n    Type: AWS::S3::Bucket\n",
        );
    assert_eq!(line, Some(2));
    assert_eq!(
            problem,
            "parameter Tag has an AllowedPattern that is not a regular expression (unclosed character class): v[0-9; correct the pattern"
        );
    let t = with_parameters("  Tag:\n    Type: String\n    AllowedPattern: '(?!admin).*'");
    assert_eq!(
        problems(&t, &[("Tag", "admin")]),
        [],
        "a look-ahead CloudFormation runs but Rust cannot is left to CloudFormation"
    );
}

#[test]
fn a_template_over_cloudformations_inline_limit_is_refused_saying_so() {
    let text = format!(
        "Resources:\n  A:\n    Type: AWS::S3::Bucket\n#{}\n",
        "x".repeat(BODY_LIMIT)
    );
    let (_, problem) = refusal(&text);
    assert!(problem.contains("51200 bytes"), "{problem}");
}

#[test]
fn capabilities_follow_iam_names_and_macros() {
    let caps = |resources: &str| {
        parse("t.yaml", &format!("Resources:\n{resources}"))
            .unwrap()
            .capabilities
    };
    assert_eq!(
        caps("  P:\n    Type: AWS::IAM::Policy\n    Properties:\n      PolicyName: inline\n"),
        [Capability::Iam],
        "an inline policy's PolicyName is not a name that needs NAMED_IAM"
    );
    assert_eq!(
            caps("  P:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n      ManagedPolicyName: shared\n"),
            [Capability::NamedIam]
        );
    assert_eq!(
            caps("  P:\n    Type: AWS::IAM::InstanceProfile\n    Properties:\n      InstanceProfileName: !Ref AWS::StackName\n      Roles: []\n"),
            [Capability::NamedIam]
        );
    assert_eq!(
        caps(
            "  R:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: !Ref AWS::NoValue\n"
        ),
        [Capability::Iam]
    );
    assert_eq!(caps("  B:\n    Type: AWS::S3::Bucket\n"), []);
    assert_eq!(
        caps("  F:\n    Type: AWS::Serverless::Function\n"),
        [Capability::Iam, Capability::AutoExpand]
    );
    assert_eq!(
            caps("  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      Fn::Transform:\n        Name: AWS::Include\n"),
            [Capability::AutoExpand]
        );
    let t = parse(
            "t.yaml",
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  U:\n    Type: AWS::IAM::User\n    Properties:\n      UserName: deployer\n",
        )
        .unwrap();
    assert_eq!(
        t.capabilities,
        [Capability::NamedIam, Capability::AutoExpand]
    );
    assert_eq!(
        Capability::NamedIam.why(&t),
        "creates IAM user U (named deployer)"
    );
    assert!(Capability::AutoExpand
        .why(&t)
        .contains("AWS::Serverless-2016-10-31"));
}

#[test]
fn rds_without_a_policy_leaves_a_snapshot_and_bills_its_class() {
    let t = parse(
            "t.yaml",
            "Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      DBInstanceClass: db.t4g.micro\n      AllocatedStorage: 20\n  Gone:\n    Type: AWS::RDS::DBInstance\n    DeletionPolicy: Delete\n",
        )
        .unwrap();
    let db = resource(&t, "Db");
    assert!(db.snapshot_on_delete && !db.retained);
    assert_eq!(
        db.paid.as_deref(),
        Some("db.t4g.micro by the hour, plus 20 GB of storage each month")
    );
    assert!(!resource(&t, "Gone").snapshot_on_delete);
}

#[test]
fn a_missing_value_without_a_default_is_a_problem() {
    let t = parse("server.yaml", SERVER).unwrap();
    let found = problems(&t, &[]);
    let fields: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(fields, ["VpcId", "SubnetIds", "DatabasePassword"]);
    assert_eq!(found[0].1, "choose a VPC; the template has no default");
    assert_eq!(found[2].1, "needs a value; the template has no default");
    let ok = problems(
        &t,
        &[
            ("VpcId", "vpc-0abc"),
            ("SubnetIds", "subnet-1,subnet-2"),
            ("DatabasePassword", "correct-horse-battery"),
        ],
    );
    assert_eq!(ok, [], "the defaults fill the rest");
}

#[test]
fn allowed_values_are_checked_per_item_and_numbers_by_value() {
    let t = with_parameters(
            "  Days:\n    Type: Number\n    AllowedValues: [7, 30]\n    Default: 7\n  Envs:\n    Type: CommaDelimitedList\n    AllowedValues: [dev, prod]\n    Default: dev",
        );
    assert_eq!(problems(&t, &[("Days", "30.0"), ("Envs", "dev,prod")]), []);
    assert_eq!(
        problems(&t, &[("Days", "8"), ("Envs", "dev,test")]),
        [
            (
                "Days".into(),
                "\"8\" is not one of the allowed values: 7, 30".into()
            ),
            (
                "Envs".into(),
                "\"test\" is not one of the allowed values: dev, prod".into()
            )
        ]
    );
}

#[test]
fn an_allowed_pattern_must_match_the_whole_value() {
    let t = parse("server.yaml", SERVER).unwrap();
    let base = [
        ("VpcId", "vpc-0abc"),
        ("SubnetIds", "subnet-1"),
        ("DatabasePassword", "correct-horse-battery"),
    ];
    let with = |tag: &'static str| {
        let mut pairs = base.to_vec();
        pairs.push(("ImageTag", tag));
        problems(&t, &pairs)
    };
    assert_eq!(with("v1.5.0"), []);
    assert_eq!(with("latest"), []);
    for partial in ["v1.5.0-beta", "xv1.5.0", "latest2"] {
        assert_eq!(
                with(partial),
                [(
                    "ImageTag".into(),
                    "must be latest or a version such as v1.4.2".into()
                )],
                "{partial}: a pattern that matches only part of the value is not enough, and the template's ConstraintDescription is the message"
            );
    }
    let plain = with_parameters("  Name:\n    Type: String\n    AllowedPattern: '[a-z]+'");
    assert_eq!(
        problems(&plain, &[("Name", "abc1")]),
        [(
            "Name".into(),
            "\"abc1\" does not match the pattern the template asks for: [a-z]+".into()
        )]
    );
}

#[test]
fn lengths_count_characters() {
    let t = with_parameters("  Code:\n    Type: String\n    MinLength: 3\n    MaxLength: \"4\"");
    assert_eq!(
        problems(&t, &[("Code", "ééé")]),
        [],
        "three characters, six bytes"
    );
    assert_eq!(
        problems(&t, &[("Code", "ab")]),
        [("Code".into(), "must be at least 3 characters long".into())]
    );
    assert_eq!(
        problems(&t, &[("Code", "abcde")]),
        [("Code".into(), "must be at most 4 characters long".into())]
    );
}

#[test]
fn numbers_are_parsed_and_kept_in_range_item_by_item() {
    let t = parse("server.yaml", SERVER).unwrap();
    let count = |n: &'static str| {
        problems(
            &t,
            &[
                ("VpcId", "vpc-0abc"),
                ("SubnetIds", "subnet-1"),
                ("DatabasePassword", "correct-horse-battery"),
                ("DesiredCount", n),
            ],
        )
    };
    assert_eq!(count("0"), []);
    assert_eq!(count("10"), []);
    assert_eq!(
        count("11"),
        [("DesiredCount".into(), "must be between 0 and 10".into())]
    );
    assert_eq!(
        count("two"),
        [("DesiredCount".into(), "\"two\" is not a number".into())]
    );
    assert_eq!(count("NaN")[0].1, "\"NaN\" is not a number");
    let ports = with_parameters("  Ports:\n    Type: List<Number>\n    MinValue: 1");
    assert_eq!(problems(&ports, &[("Ports", "80,443")]), []);
    assert_eq!(
        problems(&ports, &[("Ports", "80,x")]),
        [("Ports".into(), "\"x\" is not a number".into())]
    );
    assert_eq!(
        problems(&ports, &[("Ports", "80,0")]),
        [("Ports".into(), "must be at least 1".into())]
    );
}

#[test]
fn a_default_that_breaks_the_templates_own_rule_says_so() {
    let t = with_parameters("  Size:\n    Type: Number\n    Default: 50\n    MaxValue: 10");
    assert_eq!(
        problems(&t, &[]),
        [(
            "Size".into(),
            "must be at most 10 (this is the template's default: give a value)".into()
        )]
    );
}

#[test]
fn picker_values_must_be_chosen_and_look_like_ids() {
    let t = parse("server.yaml", SERVER).unwrap();
    let found = problems(
        &t,
        &[
            ("VpcId", ""),
            ("SubnetIds", "subnet-1,sub-2"),
            ("DatabasePassword", "correct-horse-battery"),
        ],
    );
    assert_eq!(
            found,
            [
                ("VpcId".into(), "choose a VPC".into()),
                (
                    "SubnetIds".into(),
                    "\"sub-2\" is not such an id (they look like subnet-0a1b2c3d); choose at least one subnet".into()
                )
            ]
        );
}

#[test]
fn values_for_parameters_the_template_lacks_are_problems() {
    let t = parse("storage.yaml", STORAGE).unwrap();
    assert_eq!(
        problems(&t, &[("RetentionDay", "30"), ("Colour", "blue")]),
        [
            (
                "Colour".into(),
                "the template has no parameter Colour; remove it or check its spelling".into()
            ),
            (
                "RetentionDay".into(),
                "the template has no parameter RetentionDay; did you mean RetentionDays?".into()
            )
        ]
    );
}

#[test]
fn a_no_echo_value_is_never_in_a_message() {
    let secret = "Hunter2-secret";
    let t = with_parameters(
            "  Pattern:\n    Type: String\n    NoEcho: true\n    AllowedPattern: '[0-9]+'\n  Listed:\n    Type: String\n    NoEcho: 'true'\n    AllowedValues: [a, b]\n  Long:\n    Type: String\n    NoEcho: true\n    MaxLength: 4\n  Count:\n    Type: Number\n    NoEcho: true\n  Ids:\n    Type: List<AWS::EC2::Subnet::Id>\n    NoEcho: true",
        );
    let given: Vec<(&str, &str)> = ["Pattern", "Listed", "Long", "Count", "Ids"]
        .iter()
        .map(|n| (*n, secret))
        .collect();
    let found = problems(&t, &given);
    assert_eq!(found.len(), 5, "each breaks a rule: {found:?}");
    for (field, message) in &found {
        assert!(!message.contains(secret), "{field}: {message}");
        assert!(!message.contains("Hunter2"), "{field}: {message}");
    }
    assert_eq!(found[3].1, "the value is not a number");
}

#[test]
fn masked_hides_no_echo_values_and_unknown_names() {
    let t = parse("server.yaml", SERVER).unwrap();
    let shown = masked(
        &t,
        &values(&[
            ("DatabasePassword", "correct-horse-battery"),
            ("DatabasePasswrod", "correct-horse-battery"),
            ("ImageTag", "v1.5.0"),
        ]),
    );
    assert_eq!(
        shown,
        values(&[
            ("DatabasePassword", MASK),
            ("DatabasePasswrod", MASK),
            ("ImageTag", "v1.5.0"),
        ]),
        "a misspelt secret's name must not leak its value either"
    );
}

#[test]
fn read_takes_a_regular_file_and_follows_a_link_to_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("storage.yaml");
    std::fs::write(&file, STORAGE).unwrap();
    assert_eq!(read(&file).unwrap().resources.len(), 2);
    let link = dir.path().join("link.yaml");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    assert_eq!(read(&link).unwrap().body, STORAGE);
    let err = read(&dir.path().join("nope.yaml")).unwrap_err();
    assert!(err.to_string().contains("no such file"), "{err}");
}

#[test]
fn read_refuses_a_folder_a_fifo_and_a_file_over_a_megabyte() {
    let dir = tempfile::tempdir().unwrap();
    let err = read(dir.path()).unwrap_err();
    assert!(
        matches!(err, EngineError::NotARegularFile { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("a folder"), "{err}");

    let fifo = dir.path().join("pipe.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let err = read(&fifo).unwrap_err();
    assert!(
        err.to_string().contains("FIFO"),
        "a FIFO would block the read forever: {err}"
    );

    let big = dir.path().join("big.yaml");
    std::fs::write(&big, vec![b'#'; 1024 * 1024 + 1]).unwrap();
    let err = read(&big).unwrap_err();
    assert!(matches!(err, EngineError::FileTooLarge { .. }), "{err:?}");

    let over_inline = dir.path().join("over.yaml");
    let text = format!(
        "Resources:\n  A:\n    Type: AWS::S3::Bucket\n#{}\n",
        "x".repeat(60_000)
    );
    std::fs::write(&over_inline, text).unwrap();
    let err = read(&over_inline).unwrap_err();
    assert!(
        matches!(err, EngineError::TemplateInvalid { .. }) && err.to_string().contains("51200"),
        "under 1 MB but over what CloudFormation takes inline: {err}"
    );
}
