//! Secrets the user hands Slipway. An access-key profile written by Slipway: owner-only,
//! usable against the emulator, and its secret in no log and no other file. An app's
//! secrets created and updated in Secrets Manager and Parameter Store: the values reach
//! AWS (read back behind the app's back), never a log, and a create whose answer is lost
//! or throttled makes exactly one secret.

mod emulator;

use std::time::SystemTime;

use emulator::Fixture;
use slipway_aws::aws::{
    add_access_key_profile, connect, AwsTarget, CredentialSource, NewAccessKeyProfile, Secret,
};
use slipway_aws::secrets::{create_secret, list_secrets, update_secret, NewSecret, SecretStore};
use slipway_aws::setup::plan_setup;
use slipway_testkit::Fault;

#[tokio::test]
async fn an_access_key_profile_is_owner_only_works_and_its_secret_is_never_logged() {
    let Some(fx) = Fixture::new("eu-west-3").await else {
        return;
    };
    const SECRET: &str = "sEcReT/abcdefghijklmnopqrstuvwxyz0123456";
    let captured = slipway_testkit::logs::CapturedLogs::start();

    let profile = add_access_key_profile(
        &fx.host,
        &NewAccessKeyProfile {
            name: "added".into(),
            access_key_id: "AKIAADDEDBYSLIPWAY01".into(),
            secret_access_key: Secret::new(SECRET),
            region: Some("eu-west-3".into()),
        },
    )
    .unwrap();
    assert_eq!(profile.name, "added");
    let target = AwsTarget {
        source: CredentialSource::Profile("added".into()),
        region: None,
        endpoint_url: Some(fx.proxy.url()),
    };
    let connection = connect(&fx.host, &target, SystemTime::now()).await.unwrap();
    assert_eq!(connection.identity.account, "123456789012");
    assert_eq!(
        connection.ctx.region, "eu-west-3",
        "the profile's region is used"
    );
    plan_setup(&connection, &fx.config).await.unwrap();

    let logs = captured.text();
    assert!(
        logs.contains("added an access key profile"),
        "the capture works"
    );
    assert!(
        !logs.contains(SECRET),
        "the secret must not appear in any log"
    );
    let credentials = fx.temp.path().join(".aws/credentials");
    let mut stack = vec![fx.temp.path().to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path != credentials {
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !String::from_utf8_lossy(&bytes).contains(SECRET),
                    "the secret is stored only in the credentials file, not in {}",
                    path.display()
                );
            }
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let credentials = fx.temp.path().join(".aws/credentials");
        let mode = std::fs::metadata(credentials).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[tokio::test]
async fn app_secrets_reach_aws_once_under_faults_and_never_a_log() {
    let Some(fx) = Fixture::new("eu-north-1").await else {
        return;
    };
    const VALUE: &str = "postgres://app:pa55-w0rd@db.internal:5432/app";
    const NEW_VALUE: &str = "-----BEGIN KEY-----\nline two\n-----END KEY-----";
    let captured = slipway_testkit::logs::CapturedLogs::start();
    let conn = fx.connect().await;
    let direct = fx.direct().await;
    let manager = aws_sdk_secretsmanager::Client::new(&direct);
    let ssm = aws_sdk_ssm::Client::new(&direct);
    let app = fx.config.name.clone();
    let new = |name: &str, store| NewSecret {
        name: name.to_owned(),
        store,
        value: Secret::new(VALUE),
        description: Some("the database".into()),
    };

    // Secrets Manager, its answer cut off once: the SDK retries with the same idempotency
    // token (or hears "exists", and the request tag says it is this request's own). One
    // secret, with the value.
    let sm_name = format!("{app}/database-url");
    fx.proxy.fail("CreateSecret", Fault::Truncate, 1);
    let created = create_secret(&conn, &new(&sm_name, SecretStore::SecretsManager))
        .await
        .unwrap();
    assert!(
        created
            .arn
            .contains(":secretsmanager:eu-north-1:123456789012:secret:"),
        "{}",
        created.arn
    );
    let stored = manager
        .get_secret_value()
        .secret_id(&sm_name)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.secret_string(), Some(VALUE));
    // Filtered by name: the emulator is shared by every run, so an unfiltered first page
    // need not hold this test's secrets.
    let by_name = aws_sdk_secretsmanager::types::Filter::builder()
        .key(aws_sdk_secretsmanager::types::FilterNameStringType::Name)
        .values(&sm_name)
        .build();
    let named: Vec<_> = manager
        .list_secrets()
        .filters(by_name)
        .send()
        .await
        .unwrap()
        .secret_list()
        .iter()
        .filter(|s| s.name() == Some(sm_name.as_str()))
        .cloned()
        .collect();
    assert_eq!(named.len(), 1, "exactly one secret");

    // Parameter Store, its answer cut off once too: one SecureString.
    let ps_name = format!("/{app}/api-token");
    fx.proxy.fail("PutParameter", Fault::Truncate, 1);
    let parameter = create_secret(&conn, &new(&ps_name, SecretStore::ParameterStore))
        .await
        .unwrap();
    assert_eq!(
        parameter.arn,
        format!(
            "arn:aws:ssm:eu-north-1:123456789012:parameter/{}",
            ps_name.trim_start_matches('/')
        )
    );
    let stored = ssm
        .get_parameter()
        .name(&ps_name)
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    let stored = stored.parameter().unwrap();
    assert_eq!(stored.value(), Some(VALUE));
    assert_eq!(
        stored.r#type(),
        Some(&aws_sdk_ssm::types::ParameterType::SecureString)
    );
    // Parameter Store has no idempotency token: its retry heard "exists", and the request
    // tag said the parameter was this request's own.
    assert!(
        captured
            .text()
            .contains("the parameter was created by this request's first try"),
        "the request tag decided"
    );

    // A throttled create: retried, one parameter.
    let throttled = format!("/{app}/webhook-key");
    fx.proxy.fail("PutParameter", Fault::Throttle, 1);
    create_secret(&conn, &new(&throttled, SecretStore::ParameterStore))
        .await
        .unwrap();
    // Filtered by name, as above; Parameter Store names are unique, so one each.
    let begins = aws_sdk_ssm::types::ParameterStringFilter::builder()
        .key("Name")
        .option("BeginsWith")
        .values(format!("/{app}/"))
        .build()
        .unwrap();
    let found = ssm
        .describe_parameters()
        .parameter_filters(begins)
        .send()
        .await
        .unwrap();
    let count = |name: &str| {
        found
            .parameters()
            .iter()
            .filter(|p| p.name() == Some(name))
            .count()
    };
    assert_eq!((count(&ps_name), count(&throttled)), (1, 1));

    // A second create of either name is refused: updating is a deliberate act.
    for (name, store) in [
        (&sm_name, SecretStore::SecretsManager),
        (&ps_name, SecretStore::ParameterStore),
    ] {
        let refused = create_secret(&conn, &new(name, store)).await.unwrap_err();
        assert!(
            refused.to_string().contains("already has one by that name"),
            "{refused}"
        );
    }

    // Listed with their ARNs; updated in place; an update of a missing name creates nothing.
    let listed = list_secrets(&conn).await.unwrap();
    assert!(listed
        .iter()
        .any(|s| s.name == sm_name && s.store == SecretStore::SecretsManager));
    assert!(listed
        .iter()
        .any(|s| s.name == ps_name && s.arn == parameter.arn));
    update_secret(
        &conn,
        SecretStore::SecretsManager,
        &sm_name,
        &Secret::new(NEW_VALUE),
    )
    .await
    .unwrap();
    update_secret(
        &conn,
        SecretStore::ParameterStore,
        &ps_name,
        &Secret::new(NEW_VALUE),
    )
    .await
    .unwrap();
    let stored = manager
        .get_secret_value()
        .secret_id(&sm_name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        stored.secret_string(),
        Some(NEW_VALUE),
        "a multi-line value arrives whole"
    );
    let stored = ssm
        .get_parameter()
        .name(&ps_name)
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.parameter().unwrap().value(), Some(NEW_VALUE));
    let typo = format!("/{app}/api-tokn");
    let missing = update_secret(
        &conn,
        SecretStore::ParameterStore,
        &typo,
        &Secret::new(VALUE),
    )
    .await
    .unwrap_err();
    assert!(missing.to_string().contains("create it first"), "{missing}");
    assert!(
        ssm.get_parameter().name(&typo).send().await.is_err(),
        "nothing was created"
    );

    // In no line a log file would get (every level, redacted as the log writer does).
    let raw = captured.text();
    let logs = slipway_aws::support::redact::redact(&raw).into_owned();
    for value in [VALUE, "pa55-w0rd", "line two"] {
        let line = logs.lines().find(|l| l.contains(value)).unwrap_or_default();
        assert!(!logs.contains(value), "a secret value was logged: {line}");
    }
}
