//! Deleting a stack: first what it removes and what stays behind and keeps costing
//! (DeletionPolicy Retain, final snapshots), then the deletion of exactly the stack reviewed.

use std::collections::BTreeMap;

use aws_sdk_cloudformation::Client;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{existing, follow, template, StackProgress};
use crate::aws::{classify, Connection};
use slipway_core::error::{EngineError, Result};
use slipway_core::jobs::Cancel;
use slipway_core::progress::ProgressSink;

/// What deleting a stack removes and what stays (and keeps billing).
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DeleteReview {
    pub stack: String,
    /// The very stack reviewed: a delete refuses another one made since under its name.
    pub stack_id: String,
    pub removed: u32,
    /// What stays behind (DeletionPolicy Retain) or is kept as a final snapshot.
    pub retained: Vec<Retained>,
    /// Why what stays is not known (the template could not be read), when it is not.
    pub unknown: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Retained {
    /// A final snapshot is kept (the resource itself is deleted).
    pub snapshot: bool,
    pub logical_id: String,
    pub kind: String,
    pub physical_id: Option<String>,
    pub plain: String,
    pub paid: Option<String>,
}

/// What deleting the stack removes, and what stays behind (DeletionPolicy Retain) with what
/// it keeps costing.
pub async fn review_delete(conn: &Connection, name: &str) -> Result<DeleteReview> {
    let stack = existing(conn, name).await?;
    let cf = Client::new(&conn.ctx.sdk);
    let mut physical = BTreeMap::new();
    let mut pages = cf
        .list_stack_resources()
        .stack_name(name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify(&conn.ctx, "cloudformation:ListStackResources", e))?;
        for r in page.stack_resource_summaries() {
            physical.insert(
                r.logical_resource_id().unwrap_or_default().to_owned(),
                r.physical_resource_id().map(str::to_owned),
            );
        }
    }
    let body = cf
        .get_template()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "cloudformation:GetTemplate", e))?
        .template_body()
        .unwrap_or_default()
        .to_owned();
    // A template the form could not read (too large to send inline, a section Slipway
    // does not know) can still be deleted: what stays is then said to be unknown.
    let (template, unknown) = match template::parse(name, &body) {
        Ok(template) => (Some(template), None),
        Err(e) => (
            None,
            Some(format!(
                "Slipway could not read the stack's template ({e}), so what stays behind is not known"
            )),
        ),
    };
    // Only what the stack made (a resource whose condition was false is not there).
    let retained: Vec<Retained> = template
        .iter()
        .flat_map(|t| &t.resources)
        .filter(|r| (r.retained || r.snapshot_on_delete) && physical.contains_key(&r.logical_id))
        .map(|r| Retained {
            logical_id: r.logical_id.clone(),
            kind: r.kind.clone(),
            physical_id: physical.get(&r.logical_id).cloned().flatten(),
            snapshot: !r.retained,
            plain: if r.retained {
                r.plain.clone()
            } else {
                format!("a final snapshot of {}", r.plain)
            },
            paid: if r.retained {
                r.paid.clone()
            } else {
                Some("snapshot storage by the GB-month".into())
            },
        })
        .collect();
    Ok(DeleteReview {
        stack: name.to_owned(),
        stack_id: stack.stack_id().unwrap_or(name).to_owned(),
        removed: u32::try_from(
            physical
                .len()
                .saturating_sub(retained.iter().filter(|r| !r.snapshot).count()),
        )
        .unwrap_or(u32::MAX),
        retained,
        unknown,
    })
}

/// Deletes the stack `review` was made for and follows it until it is gone; refused when a
/// stack of that name was made again since (it is not the one reviewed).
pub async fn delete(
    conn: &Connection,
    review: &DeleteReview,
    sink: &dyn ProgressSink<StackProgress>,
    cancel: &Cancel,
) -> Result<()> {
    let name = review.stack.as_str();
    let stack = existing(conn, name).await?;
    if stack.stack_id().is_some_and(|id| id != review.stack_id) {
        return Err(EngineError::StackFailed {
            stack: name.to_owned(),
            problem: "was made again since its deletion was reviewed; review it again".into(),
        });
    }
    // Followed by its id: once deleted, a name no longer finds it.
    let id = review.stack_id.as_str();
    let since = OffsetDateTime::now_utc() - time::Duration::seconds(5);
    Client::new(&conn.ctx.sdk)
        .delete_stack()
        .stack_name(id)
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "cloudformation:DeleteStack", e))?;
    follow(conn, id, "DELETE_COMPLETE", since, sink, cancel).await
}
