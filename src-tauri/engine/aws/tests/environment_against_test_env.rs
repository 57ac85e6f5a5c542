//! The Environment probes against the real test environment: the Docker engine that
//! tests/env/up found or started, and the moto server as the AWS endpoint.

use std::time::SystemTime;

use slipway_aws::aws::{sdk_config, whoami, AwsTarget, CredentialSource};
use slipway_core::host::{HostEnv, Os};
use slipway_core::test_support::{require, write_aws_files};
use slipway_core::ErrorCode;
use slipway_docker::docker::{connect, probe, DockerStatus, EndpointSource};

/// A host with its own AWS files holding one access-key profile, and nothing else of ours.
fn host_with_profile(home: &std::path::Path, docker_host: &str) -> HostEnv {
    write_aws_files(
        home,
        "[profile emu]\nregion = eu-west-1\n",
        "[emu]\naws_access_key_id = AKIATESTTESTTEST\naws_secret_access_key = not-a-secret\n",
    );
    HostEnv::new(
        Os::current(),
        Some(home.to_owned()),
        [("DOCKER_HOST".to_owned(), docker_host.to_owned())],
    )
}

#[tokio::test]
async fn sts_identity_comes_through_the_same_sdk_config_builder_the_app_uses() {
    let Some(endpoint) = require("SLIPWAY_TEST_AWS_ENDPOINT") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let host = host_with_profile(home.path(), "unix:///nonexistent");
    let target = AwsTarget {
        source: CredentialSource::Profile("emu".into()),
        region: None,
        endpoint_url: Some(endpoint.clone()),
    };
    let ctx = sdk_config(&host, &target).await.unwrap();
    assert_eq!(ctx.region, "eu-west-1", "the region comes from the profile");
    let identity = whoami(&host, &target, SystemTime::now()).await.unwrap();
    assert_eq!(identity.account, "123456789012", "moto's fixed account id");
    assert!(identity.arn.starts_with("arn:aws:"), "{}", identity.arn);
    assert_eq!(identity.source, "profile \"emu\"");
    assert_eq!(identity.endpoint_url.as_deref(), Some(endpoint.as_str()));
}

#[tokio::test]
async fn an_emulator_that_is_down_is_reported_as_unreachable_not_as_a_panic() {
    let Some(_) = require("SLIPWAY_TEST_AWS_ENDPOINT") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let host = host_with_profile(home.path(), "unix:///nonexistent");
    // Port 9 (discard) on loopback: nothing listens there in the test environment.
    let target = AwsTarget {
        source: CredentialSource::Profile("emu".into()),
        region: None,
        endpoint_url: Some("http://127.0.0.1:9".into()),
    };
    let err = whoami(&host, &target, SystemTime::now()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::AwsUnreachable, "{err}");
    assert!(
        err.to_string().contains("127.0.0.1:9"),
        "the message names the endpoint: {err}"
    );
}

#[tokio::test]
async fn docker_engine_reports_its_version_and_answers_ping() {
    let Some(docker_host) = require("SLIPWAY_TEST_DOCKER_HOST") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let host = host_with_profile(home.path(), &docker_host);
    let (docker, endpoint, engine) = connect(&host)
        .await
        .expect("the test environment's engine answers");
    assert_eq!(endpoint.source, EndpointSource::DockerHostVariable);
    let daemon_says = docker.version().await.unwrap();
    assert_eq!(
        Some(engine.version.clone()),
        daemon_says.version,
        "we report what the daemon reports"
    );
    assert_eq!(docker.ping().await.unwrap(), "OK");
    assert!(!engine.arch.is_empty() && engine.os == "linux");
}

#[tokio::test]
async fn a_dead_docker_host_is_docker_unavailable_with_advice() {
    let home = tempfile::tempdir().unwrap();
    let dead = format!("unix://{}/dead.sock", home.path().display());
    let host = host_with_profile(home.path(), &dead);
    match probe(&host).await {
        DockerStatus::Unavailable {
            endpoint, advice, ..
        } => {
            assert_eq!(endpoint.uri, dead);
            assert!(advice.contains("DOCKER_HOST"), "{advice}");
        }
        other => panic!("a dead socket must not look like a running engine: {other:?}"),
    }
    let err = connect(&host).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DockerUnavailable);
}
