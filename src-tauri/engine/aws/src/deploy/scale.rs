//! Changing how many tasks the app's service runs now, from a button or `slipway scale`:
//! the count in slipway.toml and its auto scaling. It holds the app's deploy lock, so a
//! scale never runs beside a deploy: the deploy would start the old count, and the
//! rollout and the scale would each move the other's tasks.

use serde::Serialize;

use super::lock;
use super::scaling::{apply, read, Scaling};
use crate::aws::{classify, Connection};
use slipway_core::error::{EngineError, Result};
use slipway_core::host::HostEnv;
use slipway_core::jobs::Cancel;
use slipway_core::project::ProjectConfig;

/// What a scale did, for the window and the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ScaleOutcome {
    pub service: String,
    /// The tasks the service now keeps running.
    pub desired: i32,
    /// The tasks running when it was asked (the new ones start in a minute or so).
    pub running: i32,
    pub scaling: Option<Scaling>,
    /// What changed, in words; empty when the service already was as asked.
    pub changes: Vec<String>,
}

/// Makes `app`'s service run as the settings `save` writes say (`aws.tasks`, and scaling
/// when `aws.max_tasks` is set). `save` puts them in slipway.toml, so the next deploy
/// keeps them; it runs once the deploy lock is held, so while a deploy runs the scale is
/// refused and nothing is saved. Repeated through throttling and 5xx; a second run
/// changes nothing.
pub async fn scale(
    host: &HostEnv,
    conn: &Connection,
    app: &str,
    save: impl FnOnce() -> Result<ProjectConfig>,
) -> Result<ScaleOutcome> {
    let _lock = lock::acquire(
        &slipway_core::app::data_dir(host).join("locks"),
        &conn.identity.account,
        &conn.ctx.region,
        app,
        &lock::Holder {
            deploy_id: String::new(),
            held_for: lock::HeldFor::Scale,
            pid: std::process::id(),
            by: super::deployed_by(),
            since: time::OffsetDateTime::now_utc().unix_timestamp(),
        },
        lock::WhenHeld::Refuse,
        &Cancel::new(),
    )
    .await?;
    let config = save()?;
    let names = crate::setup::ResourceNames::for_app(&config.name, &conn.ctx.region)
        .map_err(|problems| EngineError::InvalidResourceNames { problems })?;
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let service = super::undo::repeat_until(until, || {
        super::status::service_status(conn, &names.cluster, &config.name)
    })
    .await?
    .ok_or_else(|| EngineError::InvalidInput {
        what: "Number of tasks".to_owned(),
        reason: format!(
            "{} has no service in {} yet. The number is saved: the next deploy starts that many tasks.",
            config.name, conn.ctx.region
        ),
    })?;
    let wanted = config.aws.scaling();
    let desired = match wanted {
        Some(range) => service
            .desired
            .max(i32::try_from(range.min).unwrap_or(1))
            .min(i32::try_from(range.max).unwrap_or(1)),
        None => i32::try_from(config.aws.tasks()).unwrap_or(1),
    };
    let mut changes = Vec::new();
    // From auto scaling to a fixed count: scaling goes first, or it would move the count.
    if wanted.is_none() {
        changes.extend(
            super::undo::repeat_until(until, || apply(conn, &names.cluster, &config.name, None))
                .await?,
        );
    }
    if service.desired != desired {
        let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
        super::undo::repeat_until(until, || async {
            ecs.update_service()
                .cluster(&names.cluster)
                .service(&config.name)
                .desired_count(desired)
                .send()
                .await
                .map_err(|e| classify(&conn.ctx, "ecs:UpdateService", e))
        })
        .await?;
        changes.push(format!(
            "runs {desired} task{} (was {})",
            if desired == 1 { "" } else { "s" },
            service.desired
        ));
    }
    if wanted.is_some() {
        changes.extend(
            super::undo::repeat_until(until, || apply(conn, &names.cluster, &config.name, wanted))
                .await?,
        );
    }
    let scaling =
        super::undo::repeat_until(until, || read(conn, &names.cluster, &config.name)).await?;
    Ok(ScaleOutcome {
        service: config.name.clone(),
        desired,
        running: service.running,
        scaling,
        changes,
    })
}
