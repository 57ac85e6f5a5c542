//! A vendor's three stacks (server, agent, storage: tests/fixtures/stacks) through the
//! engine against the emulator, behind the fault proxy: values checked before any call, the
//! capabilities named, a create whose answer is cut off made once, one stack's outputs
//! given to the next, an update through a change set, a delete that says what stays; the
//! NoEcho password in no log and no saved value.

mod emulator;

use std::collections::BTreeMap;
use std::path::PathBuf;

use emulator::Fixture;
use slipway_aws::stacks::{
    self, apply, review, review_delete, saved, template, Capability, OutputKind, StackProgress,
};
use slipway_core::jobs::Cancel;
use slipway_core::EngineError;
use slipway_testkit::emulator::default_subnets;
use slipway_testkit::Fault;

const PASSWORD: &str = "correct-horse-battery-staple-42";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../../tests/fixtures/stacks/{name}"))
}

fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn three_vendor_stacks_are_reviewed_created_chained_updated_and_deleted() {
    let Some(fx) = Fixture::new("us-west-1").await else {
        return;
    };
    let captured = slipway_testkit::logs::CapturedLogs::start();
    let conn = fx.connect().await;
    let direct = fx.direct().await;
    let cf = aws_sdk_cloudformation::Client::new(&direct);
    let db = fx.temp.path().join("data/slipway.sqlite3");
    let quiet = |_: StackProgress| {};
    let cancel = Cancel::new();
    let app = &fx.config.name;
    let (server_name, agent_name, storage_name) = (
        format!("{app}-server"),
        format!("{app}-agent"),
        format!("{app}-storage"),
    );
    let vpc = fx.default_vpc().await;
    let subnets = default_subnets(&direct, 2).await;

    // The server: its form's values checked before any call.
    let server = template::read(&fixture("server.yaml")).unwrap();
    let mut server_values = values(&[
        ("VpcId", &vpc),
        ("SubnetIds", &subnets),
        ("ImageTag", "1.4"),
        ("DatabasePassword", "short"),
    ]);
    fx.proxy.forget_calls();
    let err = review(&conn, &server_name, &server, &server_values)
        .await
        .unwrap_err();
    let said = err.to_string();
    assert!(matches!(err, EngineError::InvalidInput { .. }), "{said}");
    assert!(
        said.contains("ImageTag") && said.contains("DatabasePassword"),
        "{said}"
    );
    assert!(
        !said.contains("short"),
        "a NoEcho value is never said: {said}"
    );
    assert!(
        fx.proxy.mutating_calls().is_empty(),
        "{:?}",
        fx.proxy.mutating_calls()
    );

    server_values.insert("ImageTag".into(), "v1.4.2".into());
    server_values.insert("DatabasePassword".into(), PASSWORD.into());
    let reviewed = review(&conn, &server_name, &server, &server_values)
        .await
        .unwrap();
    assert!(!reviewed.update);
    assert_eq!(reviewed.parameters["DatabasePassword"], "****");
    assert!(
        reviewed
            .capabilities
            .iter()
            .any(|c| matches!(c.capability, Capability::NamedIam)),
        "the named task role needs CAPABILITY_NAMED_IAM: {:?}",
        reviewed.capabilities
    );
    assert!(
        reviewed
            .resources
            .iter()
            .any(|r| r.retained && r.kind == "AWS::EFS::FileSystem"),
        "the retained file system is in the review"
    );
    assert!(
        fx.proxy.mutating_calls().is_empty(),
        "a create's review changes nothing"
    );

    // Created, the answer of CreateStack cut off after it took effect: the SDK's retry hears
    // "already exists", and the request tag says the stack is this request's own.
    fx.proxy.fail("CreateStack", Fault::Truncate, 1);
    let created = apply(&db, &conn, &reviewed, &server, &quiet, &cancel)
        .await
        .unwrap();
    assert_eq!(created.status, "CREATE_COMPLETE");
    let in_emulator = cf
        .describe_stacks()
        .stack_name(&server_name)
        .send()
        .await
        .unwrap();
    assert_eq!(in_emulator.stacks().len(), 1, "one stack");
    let output = |outcome: &stacks::StackOutcome, key: &str| {
        outcome
            .outputs
            .iter()
            .find(|o| o.key == key)
            .unwrap_or_else(|| panic!("{key} in {:?}", outcome.outputs))
            .clone()
    };
    let url = output(&created, "ServerUrl");
    assert_eq!(url.kind, OutputKind::Url, "{url:?}");

    // The agent takes the server's outputs.
    let agent = template::read(&fixture("agent.yaml")).unwrap();
    let agent_values = values(&[
        ("ServerUrl", &url.value),
        ("ClusterName", &output(&created, "ClusterName").value),
        (
            "ServerSecurityGroupId",
            &output(&created, "ServerSecurityGroupId").value,
        ),
        ("VpcId", &vpc),
        ("SubnetIds", &subnets),
    ]);
    let reviewed = review(&conn, &agent_name, &agent, &agent_values)
        .await
        .unwrap();
    let agent_made = apply(&db, &conn, &reviewed, &agent, &quiet, &cancel)
        .await
        .unwrap();
    assert_eq!(agent_made.status, "CREATE_COMPLETE");

    let storage = template::read(&fixture("storage.yaml")).unwrap();
    let reviewed = review(&conn, &storage_name, &storage, &BTreeMap::new())
        .await
        .unwrap();
    apply(&db, &conn, &reviewed, &storage, &quiet, &cancel)
        .await
        .unwrap();

    // An upgrade is a parameter change, through a change set; the password is kept by
    // CloudFormation, not given again. ExecuteChangeSet throttled once on the way.
    let upgrade = values(&[("ImageTag", "v1.5.0")]);
    let reviewed = review(&conn, &server_name, &server, &upgrade)
        .await
        .unwrap();
    assert!(reviewed.update);
    assert_eq!(reviewed.parameters["DatabasePassword"], "(unchanged)");
    assert_eq!(
        reviewed.parameters["VpcId"], vpc,
        "a kept value is shown as it is"
    );
    assert!(reviewed.change_set.is_some(), "{reviewed:?}");
    assert_eq!(
        reviewed.parameter_changes,
        vec![stacks::ParameterChange {
            name: "ImageTag".into(),
            from: Some("v1.4.2".into()),
            to: "v1.5.0".into(),
            secret: false,
        }]
    );
    fx.proxy.fail("ExecuteChangeSet", Fault::Throttle, 1);
    let events = std::sync::Mutex::new(Vec::new());
    let keep = |e: StackProgress| events.lock().unwrap().push(e);
    let updated = apply(&db, &conn, &reviewed, &server, &keep, &cancel)
        .await
        .unwrap();
    assert_eq!(updated.status, "UPDATE_COMPLETE");
    assert!(events
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, StackProgress::Status { status, .. } if status == "UPDATE_COMPLETE")));
    let parameters: BTreeMap<String, String> = cf
        .describe_stacks()
        .stack_name(&server_name)
        .send()
        .await
        .unwrap()
        .stacks()[0]
        .parameters()
        .iter()
        .map(|p| {
            (
                p.parameter_key().unwrap().to_owned(),
                p.parameter_value().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(parameters["ImageTag"], "v1.5.0");
    assert_eq!(parameters["VpcId"], vpc, "kept");

    // The values are kept for the form, never the password.
    let kept = saved::load(&db, &conn, &server_name).unwrap();
    assert_eq!(kept.get("ImageTag").map(String::as_str), Some("v1.5.0"));
    assert!(!kept.contains_key("DatabasePassword"));
    let raw = std::fs::read(&db).unwrap();
    assert!(
        !String::from_utf8_lossy(&raw).contains(PASSWORD),
        "the password is nowhere in the data file"
    );

    // An update's form is filled from the stack as it runs, never with the password (the
    // emulator answers it in plain text, as AWS would not).
    let current = stacks::current_values(&conn, &server_name, &server)
        .await
        .unwrap();
    assert_eq!(current["ImageTag"], "v1.5.0");
    assert_eq!(current["VpcId"], vpc);
    assert!(!current.contains_key("DatabasePassword"), "{current:?}");

    // Deleting says what stays, and keeps costing.
    let doomed = review_delete(&conn, &storage_name).await.unwrap();
    let bucket = doomed
        .retained
        .iter()
        .find(|r| r.kind == "AWS::S3::Bucket")
        .expect("the bucket stays");
    assert!(bucket.physical_id.is_some(), "{bucket:?}");
    let server_doomed = review_delete(&conn, &server_name).await.unwrap();
    assert!(server_doomed
        .retained
        .iter()
        .any(|r| r.kind == "AWS::EFS::FileSystem" && r.paid.is_some()));
    fx.proxy.fail("DeleteStack", Fault::Throttle, 1);
    for name in [&storage_name, &agent_name, &server_name] {
        let doomed = review_delete(&conn, name).await.unwrap();
        stacks::delete(&conn, &doomed, &quiet, &cancel)
            .await
            .unwrap();
        assert!(
            matches!(
                stacks::status(&conn, name).await,
                Err(EngineError::StackFailed { .. })
            ),
            "{name} is gone"
        );
    }

    // Every line at TRACE, as the log file writes it (redacted): the emulator answers the
    // password back unmasked, where AWS masks it.
    let logs = captured.text();
    let written = slipway_aws::support::redact::redact(&logs);
    let leaks: Vec<&str> = written.lines().filter(|l| l.contains(PASSWORD)).collect();
    assert!(
        leaks.is_empty(),
        "the NoEcho password is in no log: {leaks:#?}"
    );
}

/// The form's pickers: the region's VPCs (the default one said), the chosen VPC's subnets
/// (public or private, in which zone) and security groups, key pairs, zones and Systems
/// Manager parameters; through the fault proxy, so a throttled listing is retried.
#[tokio::test]
async fn the_form_offers_the_accounts_vpcs_subnets_groups_keys_zones_and_parameters() {
    use slipway_aws::stacks::template::Picker;
    let Some(fx) = Fixture::new("eu-south-1").await else {
        return;
    };
    let conn = fx.connect().await;
    let direct = fx.direct().await;
    let ec2 = aws_sdk_ec2::Client::new(&direct);
    let app = &fx.config.name;
    let vpc = fx.default_vpc().await;
    // A private subnet of a VPC of its own (no internet route), a key pair and a parameter.
    let other = ec2
        .create_vpc()
        .cidr_block("10.42.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc
        .unwrap()
        .vpc_id
        .unwrap();
    let private = ec2
        .create_subnet()
        .vpc_id(&other)
        .cidr_block("10.42.1.0/24")
        .availability_zone("eu-south-1a")
        .send()
        .await
        .unwrap()
        .subnet
        .unwrap()
        .subnet_id
        .unwrap();
    let key = format!("{app}-key");
    ec2.create_key_pair().key_name(&key).send().await.unwrap();
    let parameter = format!("/{app}/latest-ami");
    aws_sdk_ssm::Client::new(&direct)
        .put_parameter()
        .name(&parameter)
        .value("ami-0a1b2c3d")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();

    fx.proxy.fail("DescribeVpcs", Fault::Throttle, 1);
    let vpcs = stacks::choices(&conn, Picker::Vpc, None).await.unwrap();
    let default = vpcs.iter().find(|c| c.value == vpc).unwrap();
    assert!(
        default
            .detail
            .as_deref()
            .unwrap()
            .starts_with("the default VPC"),
        "{default:?}"
    );
    assert!(vpcs.iter().any(|c| c.value == other));

    let subnets = stacks::choices(&conn, Picker::Subnets, Some(&other))
        .await
        .unwrap();
    assert_eq!(subnets.len(), 1, "only the chosen VPC's: {subnets:?}");
    assert_eq!(subnets[0].value, private);
    assert_eq!(
        subnets[0].detail.as_deref(),
        Some("private · eu-south-1a · 10.42.1.0/24")
    );
    let groups = stacks::choices(&conn, Picker::SecurityGroups, Some(&other))
        .await
        .unwrap();
    assert!(
        groups.iter().all(|g| g.value.starts_with("sg-")) && !groups.is_empty(),
        "the new VPC's default group: {groups:?}"
    );
    let by_name = stacks::choices(&conn, Picker::SecurityGroupName, Some(&other))
        .await
        .unwrap();
    assert!(by_name.iter().any(|g| g.value == "default"), "{by_name:?}");

    let keys = stacks::choices(&conn, Picker::KeyPair, None).await.unwrap();
    assert!(keys.iter().any(|k| k.value == key), "{keys:?}");
    let zones = stacks::choices(&conn, Picker::AvailabilityZones, None)
        .await
        .unwrap();
    assert!(zones.iter().any(|z| z.value == "eu-south-1a"), "{zones:?}");
    let parameters = stacks::choices(&conn, Picker::SsmParameter, None)
        .await
        .unwrap();
    assert!(
        parameters.iter().any(|p| p.value == parameter),
        "{parameters:?}"
    );
    assert!(
        stacks::choices(&conn, Picker::HostedZone, None)
            .await
            .unwrap()
            .is_empty(),
        "typed, not listed"
    );

    ec2.delete_key_pair().key_name(&key).send().await.unwrap();
    ec2.delete_subnet()
        .subnet_id(&private)
        .send()
        .await
        .unwrap();
    ec2.delete_vpc().vpc_id(&other).send().await.unwrap();
    aws_sdk_ssm::Client::new(&direct)
        .delete_parameter()
        .name(&parameter)
        .send()
        .await
        .unwrap();
}
