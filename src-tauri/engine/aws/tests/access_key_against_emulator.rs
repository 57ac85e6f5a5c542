//! An access-key profile written by Slipway: owner-only, usable against the emulator, and
//! its secret in no log and no other file.

mod emulator;

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use emulator::Fixture;
use slipway_aws::aws::{
    add_access_key_profile, connect, AwsTarget, CredentialSource, NewAccessKeyProfile, Secret,
};
use slipway_aws::setup::plan_setup;

/// Collects every log line of every level while the test runs on this thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn an_access_key_profile_is_owner_only_works_and_its_secret_is_never_logged() {
    let Some(fx) = Fixture::new("eu-west-3").await else {
        return;
    };
    const SECRET: &str = "sEcReT/abcdefghijklmnopqrstuvwxyz0123456";
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

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

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
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
