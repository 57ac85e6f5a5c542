//! Operating an ECS service Slipway did not make (a vendor's server, three revisions of its
//! task definition): listed among the account's services, described with its log group,
//! scaled 1 → 2 → 1, redeployed, rolled back to the previous revision and to a named one,
//! each change checked in the emulator behind the app's back, and each one's UpdateService
//! throttled, failed or cut off on the way: the service ends exactly as asked.

mod emulator;

use emulator::Fixture;
use slipway_aws::service::{
    describe, list_services, redeploy, rollback, scale, Changed, ServiceRef,
};
use slipway_core::EngineError;
use slipway_testkit::emulator::vendor_service;
use slipway_testkit::Fault;
use time::OffsetDateTime;

#[tokio::test]
async fn a_service_slipway_did_not_make_is_listed_scaled_redeployed_and_rolled_back() {
    let Some(fx) = Fixture::new("ap-southeast-2").await else {
        return;
    };
    let direct = fx.direct().await;
    let ecs = aws_sdk_ecs::Client::new(&direct);
    let made = vendor_service(
        &direct,
        &fx.config.name,
        &[
            "vendor/server:1.0",
            "vendor/server:1.1",
            "vendor/server:1.2",
        ],
    )
    .await;
    let (cluster, family, group) = (made.cluster, made.family, made.log_group);
    let server = ServiceRef {
        cluster: cluster.clone(),
        service: "server".into(),
    };
    let conn = fx.connect().await;
    let in_emulator = || async {
        let s = ecs
            .describe_services()
            .cluster(&cluster)
            .services("server")
            .send()
            .await
            .unwrap()
            .services()[0]
            .clone();
        (
            s.desired_count(),
            s.task_definition()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .parse::<i32>()
                .unwrap(),
        )
    };

    // Listed, and described with what the task definition says.
    let listed = list_services(&conn).await.unwrap();
    let found = listed
        .iter()
        .find(|s| s.cluster == cluster && s.name == "server")
        .expect("the vendor's service is listed");
    assert_eq!((found.desired, found.revision), (1, Some(3)));
    assert_eq!(found.launch_type.as_deref(), Some("FARGATE"));
    let db = fx.temp.path().join("data/slipway.sqlite3");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let view = describe(&db, &conn, &server, OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!((view.desired, view.revision), (1, Some(3)));
    assert_eq!(view.family, family);
    assert_eq!(view.log_group.as_deref(), Some(group.as_str()));

    // Scale 1 → 2, the first UpdateService throttled and the second cut off after it took
    // effect: the SDK's retries land on the same count.
    fx.proxy.fail("UpdateService", Fault::Throttle, 1);
    assert_eq!(
        scale(&conn, &server, 2).await.unwrap(),
        Changed {
            from: 1,
            to: 2,
            changed: true
        }
    );
    assert_eq!(in_emulator().await, (2, 3));
    fx.proxy.fail("UpdateService", Fault::Truncate, 1);
    assert_eq!(
        scale(&conn, &server, 1).await.unwrap(),
        Changed {
            from: 2,
            to: 1,
            changed: true
        }
    );
    assert_eq!(in_emulator().await, (1, 3));
    // The same count again asks AWS for no change.
    fx.proxy.forget_calls();
    assert!(!scale(&conn, &server, 1).await.unwrap().changed);
    assert!(
        fx.proxy.mutating_calls().is_empty(),
        "{:?}",
        fx.proxy.mutating_calls()
    );
    // Refused before any call: a count out of range, and a service that is not there.
    assert!(matches!(
        scale(&conn, &server, -1).await,
        Err(EngineError::InvalidInput { .. })
    ));
    let missing = ServiceRef {
        cluster: cluster.clone(),
        service: "nope".into(),
    };
    let err = scale(&conn, &missing, 2).await.unwrap_err();
    assert!(
        matches!(err, EngineError::ServiceNotFound { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("nope"), "{err}");
    let err = describe(
        &db,
        &conn,
        &ServiceRef {
            cluster: "no-such-cluster".into(),
            service: "server".into(),
        },
        OffsetDateTime::now_utc(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, EngineError::ServiceNotFound { .. }),
        "{err:?}"
    );
    assert!(fx.proxy.mutating_calls().is_empty());

    // Denied: said, and nothing changed.
    fx.proxy.fail("UpdateService", Fault::AccessDenied, 1);
    let err = scale(&conn, &server, 3).await.unwrap_err();
    assert!(matches!(err, EngineError::AccessDenied { .. }), "{err:?}");
    assert_eq!(in_emulator().await, (1, 3));

    // A forced redeploy of the revision it runs, through a 503.
    fx.proxy.fail("UpdateService", Fault::ServerError(503), 1);
    assert_eq!(redeploy(&conn, &server).await.unwrap(), 3);
    assert_eq!(in_emulator().await, (1, 3));

    // Roll back: to the previous revision, then to a named one; one that is not active is
    // refused with the active ones named.
    fx.proxy.fail("UpdateService", Fault::Truncate, 1);
    assert_eq!(
        rollback(&conn, &server, None).await.unwrap(),
        Changed {
            from: 3,
            to: 2,
            changed: true
        }
    );
    assert_eq!(in_emulator().await, (1, 2));
    assert_eq!(
        rollback(&conn, &server, Some(1)).await.unwrap(),
        Changed {
            from: 2,
            to: 1,
            changed: true
        }
    );
    assert_eq!(in_emulator().await, (1, 1));
    let err = rollback(&conn, &server, None).await.unwrap_err();
    assert!(
        matches!(err, EngineError::RollbackRefused { .. }) && err.to_string().contains("before 1"),
        "{err}"
    );
    let err = rollback(&conn, &server, Some(9)).await.unwrap_err();
    assert!(err.to_string().contains("active: 1, 2, 3"), "{err}");
    assert_eq!(in_emulator().await, (1, 1));
    let view = describe(&db, &conn, &server, OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(view.revision, Some(1));
}
