//! Operating the app on AWS, the same from a button and from a verb: deploy, roll back
//! (which release and in which mode are decided here, once), stop (and close the deploys
//! a killed app left unfinished), status, and settling one unfinished deploy.

use serde::Serialize;
use slipway_aws::deploy::history::{self, Rollback};
use slipway_aws::deploy::{
    self, AppStatus, ClusterKnown, DeployEvent, DeployOutcome, DeployRequest, JournalEntry,
    StopOutcome,
};
use slipway_aws::setup;
use slipway_core::error::{EngineError, Result};
use slipway_core::jobs::Cancel;
use slipway_core::progress::ProgressSink;
use slipway_core::project::ProjectConfig;
use time::OffsetDateTime;

use crate::session::{Session, Sessions};

/// Deploys the project: the release `request.version`, or the one built from what the
/// folder holds now (a request with `rollback` set is a [`rollback`], its mode decided
/// there). The setup a deploy of this session found ready in the last minutes
/// is trusted; otherwise it is observed first.
pub async fn deploy(
    session: &Session,
    request: &DeployRequest,
    sink: &dyn ProgressSink<DeployEvent>,
    cancel: &Cancel,
) -> Result<DeployOutcome> {
    if let Some(Rollback { revision, retag }) = request.rollback {
        return rollback(
            session,
            Some(revision),
            retag,
            request.deadline_seconds,
            sink,
            cancel,
        )
        .await;
    }
    let config = session.config()?;
    run_deploy(session, &config, request, sink, cancel).await
}

/// Rolls the app back to revision `to`, or to the newest earlier release that can still
/// run, in the mode the app runs in now: a deploy of that revision.
pub async fn rollback(
    session: &Session,
    to: Option<i32>,
    retag: bool,
    deadline_seconds: Option<u32>,
    sink: &dyn ProgressSink<DeployEvent>,
    cancel: &Cancel,
) -> Result<DeployOutcome> {
    let config = session.config()?;
    let connection = session.connection(&config).await?;
    let list = history::list(
        &session.db(),
        &connection,
        &config,
        OffsetDateTime::now_utc(),
    )
    .await?;
    let revision = match to.or(list.rollback_target) {
        Some(revision) => revision,
        None => {
            return Err(EngineError::NoEarlierRelease {
                app: config.name.clone(),
                current: list
                    .releases
                    .iter()
                    .find(|r| r.running)
                    .map_or("what runs now".to_owned(), |r| {
                        format!("revision {}", r.revision)
                    }),
            })
        }
    };
    let request = DeployRequest {
        mode: list.mode,
        deadline_seconds,
        rollback: Some(Rollback { revision, retag }),
        ..DeployRequest::default()
    };
    run_deploy(session, &config, &request, sink, cancel).await
}

async fn run_deploy(
    session: &Session,
    config: &ProjectConfig,
    request: &DeployRequest,
    sink: &dyn ProgressSink<DeployEvent>,
    cancel: &Cancel,
) -> Result<DeployOutcome> {
    let connection = session.connection(config).await?;
    let names = setup::wanted(config, &connection)?.names;
    let known = session.known_setup(&connection, &names);
    // Boxed: a deploy's future is large.
    let ran = Box::pin(deploy::deploy_with_setup(
        session.host(),
        session.dir(),
        &connection,
        config,
        known,
        request,
        sink,
        cancel,
    ))
    .await;
    match ran {
        Ok((outcome, observed)) => {
            session.remember_setup(&connection, &names, observed);
            Ok(outcome)
        }
        // Nothing learnt about the account: what is known stays.
        Err(e @ (EngineError::Cancelled | EngineError::DeployInProgress { .. })) => Err(e),
        Err(e) => {
            session.forget().await;
            Err(e)
        }
    }
}

/// What Stop did: the app's tasks and service, and the unfinished deploys it closed.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StopReport {
    pub stopped: StopOutcome,
    /// The unfinished deploys of the app that are closed now (their tasks were among the
    /// stopped ones).
    pub settled: Vec<String>,
    /// Unfinished deploys that could not be closed, each with why.
    pub unsettled: Vec<String>,
}

/// Stops the app (`task`: only that standalone task). When everything of the app was
/// stopped, the deploys a killed app left unfinished are closed as well: their tasks were
/// among those stopped.
pub async fn stop(session: &Session, task: Option<&str>) -> Result<StopReport> {
    let (config, connection) = session.connect_for_operations().await?;
    let stopped = match task {
        Some(task) => deploy::stop_app_task(&connection, &config, task).await?,
        None => deploy::stop_app(&connection, &config).await?,
    };
    let mut settled = Vec::new();
    let mut unsettled = Vec::new();
    if task.is_none() && stopped.failed.is_empty() {
        let db = session.db();
        for entry in deploy::left_unfinished(&db)?
            .iter()
            .filter(|e| e.app == config.name && e.region == connection.ctx.region)
        {
            match deploy::settle_unfinished(&db, &connection, &entry.id, true).await {
                Ok(closed) if closed.finished_at.is_some() => settled.push(closed.id),
                Ok(open) => unsettled.push(format!(
                    "Deploy {} still needs attention: {}",
                    open.id,
                    open.summary.unwrap_or_default()
                )),
                Err(e) => unsettled.push(format!("Deploy {} could not be closed: {e}", entry.id)),
            }
        }
    }
    Ok(StopReport {
        stopped,
        settled,
        unsettled,
    })
}

/// What runs for the app now, also when slipway.toml does not validate.
/// The cluster is not asked about when a deploy of this session found it ready.
pub async fn status(session: &Session) -> Result<AppStatus> {
    let (config, connection) = session.connect_for_operations().await?;
    let names = setup::ResourceNames::for_app(&config.name, &connection.ctx.region).ok();
    let cluster = match names.and_then(|n| session.known_setup(&connection, &n)) {
        Some(setup) if setup.cluster.is_some() => ClusterKnown::Active,
        _ => ClusterKnown::Unknown,
    };
    let read = deploy::status_knowing(
        &session.db(),
        &connection,
        &config,
        OffsetDateTime::now_utc(),
        cluster,
    )
    .await;
    if read.is_err() && cluster == ClusterKnown::Active {
        // Perhaps the cluster went away: the next refresh asks.
        session.forget_setup();
    }
    Ok(read?.0)
}

/// Closes the unfinished deploy `deploy_id`, stopping exactly the tasks it started when
/// `stop` is true; it stays open, needing attention, when they could not all be stopped.
pub async fn settle(
    sessions: &Sessions,
    host: &slipway_core::host::HostEnv,
    deploy_id: &str,
    stop: bool,
) -> Result<JournalEntry> {
    let db = slipway_core::store::db_path(host);
    let entry = deploy::journal::get(&db, deploy_id)?.ok_or(EngineError::DeployNotFound {
        deploy_id: deploy_id.to_owned(),
    })?;
    let (_, connection) = sessions
        .get(host, &entry.project_dir)
        .connect_for_operations()
        .await?;
    deploy::settle_unfinished(&db, &connection, deploy_id, stop).await
}

/// How many tasks the app's service should run, as asked from a button or `slipway scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ScaleRequest {
    /// The tasks it keeps running (the least, with scaling).
    pub tasks: u32,
    /// Scale up to this many (on CPU, or on requests with `requests_target`); no scaling
    /// when `None`.
    pub max_tasks: Option<u32>,
    /// The average CPU (percent) scaling aims for; 60 when `None`.
    pub cpu_target: Option<u32>,
    /// Scale on requests instead of CPU: requests a minute per task.
    #[serde(default)]
    #[specta(optional)]
    pub requests_target: Option<u32>,
}

/// Saves the count (and scaling) in slipway.toml, where the next deploy reads it, and
/// makes the service run that way now. A count slipway.toml would refuse (no stable
/// address, more than Slipway allows) changes nothing, on disk or on AWS.
pub async fn scale(session: &Session, request: ScaleRequest) -> Result<deploy::ScaleOutcome> {
    let mut config = session.config()?;
    config.aws.tasks = (request.tasks != 1 || request.max_tasks.is_some()).then_some(request.tasks);
    config.aws.max_tasks = request.max_tasks;
    config.aws.cpu_target = request.max_tasks.and(request.cpu_target);
    config.aws.requests_target = request.max_tasks.and(request.requests_target);
    // A count slipway.toml would refuse is refused before AWS is asked.
    let problems = slipway_core::project::validate(&config);
    if !problems.is_empty() {
        return Err(EngineError::InvalidProjectConfig { problems });
    }
    let connection = session.connection(&config).await?;
    let app = config.name.clone();
    deploy::scale(session.host(), &connection, &app, || {
        slipway_core::project::save(session.dir(), &config)?;
        session.config()
    })
    .await
}
