//! What tests of the layers above need from the AWS side: a deploy left unfinished as a
//! killed process leaves one. The rules for finding the test environment are in
//! `slipway_core::test_support`.

/// Starts a deploy of the project in `dir` (its folder's release, built already) and
/// drops it once its task was started, as a killed process leaves a deploy: unfinished in
/// the journal, its task running and billed. Answers the deploy's id.
pub async fn leave_a_deploy_unfinished(
    host: &slipway_core::host::HostEnv,
    dir: &std::path::Path,
    endpoint: &str,
) -> String {
    use crate::deploy::{DeployEvent, DeployRequest, DeployStep};
    use std::sync::Mutex;

    struct Watch {
        id: Mutex<Option<String>>,
        started: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    }
    impl slipway_core::progress::ProgressSink<DeployEvent> for Watch {
        fn emit(&self, event: DeployEvent) {
            match event {
                DeployEvent::Started { deploy_id, .. } => {
                    *self.id.lock().unwrap() = Some(deploy_id);
                }
                DeployEvent::StepDone {
                    step: DeployStep::Start,
                    ..
                } => {
                    if let Some(tx) = self.started.lock().unwrap().take() {
                        let _ = tx.send(());
                    }
                }
                _ => {}
            }
        }
    }
    let (config, connection) = crate::setup::connect_project(
        host,
        dir,
        Some(endpoint.to_owned()),
        std::time::SystemTime::now(),
    )
    .await
    .expect("the project connects");
    let (tx, started) = tokio::sync::oneshot::channel();
    let watch = Watch {
        id: Mutex::new(None),
        started: Mutex::new(Some(tx)),
    };
    let request = DeployRequest {
        deadline_seconds: Some(120),
        ..DeployRequest::default()
    };
    let cancel = slipway_core::jobs::Cancel::new();
    tokio::select! {
        ended = crate::deploy::deploy(host, dir, &connection, &config, &request, &watch, &cancel) => {
            panic!("the deploy was to be cut off once its task started, but it ended: {ended:?}")
        }
        _ = started => {}
    }
    let id = watch.id.lock().unwrap().clone();
    id.expect("a started deploy has an id")
}
