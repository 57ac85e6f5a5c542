//! Work in an AWS account that no project folder owns: a vendor's CloudFormation stacks and
//! any ECS service. The [`Desk`] keeps, per account and region the window chose, the
//! connection proven with STS (reused for [`IDENTITY_TTL`] like a project's), and the stack
//! reviews waiting for the person's yes: a review holds the values a NoEcho parameter was
//! given, so they stay here, in memory, and the window only ever holds the review's id.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use slipway_aws::aws::{self, AwsTarget, Connection};
use slipway_aws::stacks::{self, StackOutcome, StackProgress, StackReview, Template};
use slipway_core::error::{EngineError, Result};
use slipway_core::host::HostEnv;
use slipway_core::jobs::Cancel;
use slipway_core::progress::ProgressSink;

use crate::session::IDENTITY_TTL;

/// A review waiting for the person's yes, as the window holds it: the id to apply or
/// discard it by, and what it will do (NoEcho values masked).
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PendingReview {
    pub id: String,
    pub review: StackReview,
}

struct Linked {
    target: AwsTarget,
    connection: Connection,
    proven: Instant,
}

/// How long a review waits for its yes: one left behind (the window reloaded) does not keep
/// the values it holds in memory for long, and an old one is not applied (the stack may
/// have changed since). Expired reviews are dropped whenever reviews are touched; an
/// update's change set stays at AWS, unexecuted, until the stack's next update.
const REVIEW_TTL: Duration = Duration::from_secs(30 * 60);

struct Pending {
    made: Instant,
    target: AwsTarget,
    review: StackReview,
    template: Template,
}

pub struct Desk {
    host: HostEnv,
    linked: tokio::sync::Mutex<Vec<Linked>>,
    reviews: Mutex<HashMap<String, Pending>>,
    next: AtomicU64,
}

impl Desk {
    pub fn new(host: HostEnv) -> Self {
        Self {
            host,
            linked: tokio::sync::Mutex::default(),
            reviews: Mutex::default(),
            next: AtomicU64::new(1),
        }
    }

    /// Slipway's data file (kept stack values).
    pub fn db(&self) -> PathBuf {
        slipway_core::store::db_path(&self.host)
    }

    /// `target` as chosen in the window, with Slipway's saved endpoint override when it
    /// names none.
    fn resolve(&self, target: &AwsTarget) -> Result<AwsTarget> {
        let mut target = target.clone();
        if target.endpoint_url.is_none() {
            target.endpoint_url = slipway_core::settings::load(&self.host)?.aws_endpoint_url;
        }
        Ok(target)
    }

    /// A connection to `target`, proven anew (the person asked to connect).
    pub async fn connect(&self, target: &AwsTarget) -> Result<Connection> {
        let target = self.resolve(target)?;
        let connection = aws::connect(&self.host, &target, SystemTime::now()).await?;
        let mut linked = self.linked.lock().await;
        linked.retain(|l| l.target != target);
        linked.push(Linked {
            target,
            connection: connection.clone(),
            proven: Instant::now(),
        });
        Ok(connection)
    }

    /// The connection to `target`: the one proven recently, else a new one.
    pub async fn connection(&self, target: &AwsTarget) -> Result<Connection> {
        let resolved = self.resolve(target)?;
        {
            let linked = self.linked.lock().await;
            let known = linked
                .iter()
                .find(|l| l.target == resolved && l.proven.elapsed() < IDENTITY_TTL);
            if let Some(known) = known {
                return Ok(known.connection.clone());
            }
        }
        self.connect(target).await
    }

    /// Reads the template at `path` (off the async workers: a slow disk or an odd file
    /// never holds them up).
    pub async fn open_template(path: &Path) -> Result<Template> {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || stacks::template::read(&path))
            .await
            .map_err(|e| EngineError::Internal(format!("reading the template stopped: {e}")))?
    }

    /// What creating or updating `name` from the template at `path` with `values` will
    /// do; kept until [`Desk::apply`] or [`Desk::discard`].
    pub async fn review(
        &self,
        target: &AwsTarget,
        path: &Path,
        name: &str,
        values: &std::collections::BTreeMap<String, String>,
    ) -> Result<PendingReview> {
        let template = Self::open_template(path).await?;
        // Kept as resolved: a changed endpoint override never sends the apply elsewhere.
        let target = &self.resolve(target)?;
        let conn = self.connection(target).await?;
        let review = stacks::review(&conn, name, &template, values).await?;
        let id = format!("review-{}", self.next.fetch_add(1, Ordering::Relaxed));
        let mut reviews = self.reviews.lock().expect("reviews lock");
        reviews.retain(|_, p| p.made.elapsed() < REVIEW_TTL);
        reviews.insert(
            id.clone(),
            Pending {
                made: Instant::now(),
                target: target.clone(),
                review: review.clone(),
                template,
            },
        );
        Ok(PendingReview { id, review })
    }

    /// Creates or updates the stack as the review `id` said, following it to its end.
    pub async fn apply(
        &self,
        id: &str,
        sink: &dyn ProgressSink<StackProgress>,
        cancel: &Cancel,
    ) -> Result<StackOutcome> {
        let pending = self.take(id)?;
        let conn = self.connection(&pending.target).await?;
        stacks::apply(
            &self.db(),
            &conn,
            &pending.review,
            &pending.template,
            sink,
            cancel,
        )
        .await
    }

    /// Drops the review `id` without acting on it (its change set deleted at AWS).
    pub async fn discard(&self, id: &str) -> Result<()> {
        let pending = self.take(id)?;
        if let Some(change_set) = &pending.review.change_set {
            let conn = self.connection(&pending.target).await?;
            stacks::discard(&conn, &pending.review.stack, change_set).await;
        }
        Ok(())
    }

    fn take(&self, id: &str) -> Result<Pending> {
        let mut reviews = self.reviews.lock().expect("reviews lock");
        reviews.retain(|_, p| p.made.elapsed() < REVIEW_TTL);
        reviews.remove(id).ok_or_else(|| {
            EngineError::Internal(format!(
                "the review {id} is no longer open; review the stack again"
            ))
        })
    }
}
