//! A service's recent log lines, from where its task definition's `awslogs` settings
//! send a container's output (every task's stream, or one task's), read as the app's own
//! logs are ([`crate::logs`]).

use time::OffsetDateTime;

use super::{awslogs, find, task_definition, ServiceRef};
use crate::aws::Connection;
use crate::logs::{fetch_from, LogPage, LogQuery, Source};
use slipway_core::error::{EngineError, Result};

/// The newest lines of `container` (default: the first essential one) in the service's
/// tasks that match `query`, oldest first. A task of an earlier revision wrote to the
/// same streams when its container kept its name and settings.
pub async fn logs(
    conn: &Connection,
    r: &ServiceRef,
    container: Option<&str>,
    query: &LogQuery,
    now: OffsetDateTime,
) -> Result<LogPage> {
    let service = find(conn, r).await?;
    let definition = task_definition(conn, service.task_definition().unwrap_or_default()).await?;
    let container = awslogs::pick(&definition, container)?;
    let settings = awslogs::of(container).map_err(|reason| EngineError::ServiceUnfit {
        service: r.service.clone(),
        action: "read the logs".into(),
        reason,
    })?;
    let source = Source::new(
        settings.group,
        settings.region,
        settings.stream_prefix,
        query.task_id.as_deref(),
    );
    fetch_from(conn, source, query, now).await
}
