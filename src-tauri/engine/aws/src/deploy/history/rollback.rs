//! What a rollback runs, checked before anything changes: the revision is ACTIVE and the
//! image it pins is still in the repository. The rollback itself is a deploy of it.

use aws_sdk_ecr::types::ImageIdentifier;
use serde::{Deserialize, Serialize};

use super::{digest_of, images};
use crate::aws::{classify, Connection};
use crate::deploy::MANIFEST_TYPES;
use crate::setup::ResourceNames;
use slipway_core::error::{EngineError, Result};

/// A rollback asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Rollback {
    pub revision: i32,
    /// Also point `latest` in ECR back at that release's image (seed 000's quick rollback).
    #[serde(default)]
    pub retag: bool,
}

/// What a rollback deploys, checked.
#[derive(Debug, Clone)]
pub struct RollbackTarget {
    pub revision: i32,
    pub task_definition: String,
    pub image: String,
    pub digest: String,
    pub manifest: String,
    /// The release version (its ECR tag other than `latest`), else "revision N".
    pub version: String,
}

/// What to do instead when a rollback's image is gone.
pub const NEW_BUILD_INSTEAD: &str = "Deploy a new build instead.";

/// Checks that `revision` can be run again, before anything changes: the revision is
/// ACTIVE and the image it pins is still in the repository.
pub async fn rollback_target(
    conn: &Connection,
    names: &ResourceNames,
    family: &str,
    revision: i32,
) -> Result<RollbackTarget> {
    let refused = |problem: String| EngineError::RollbackRefused {
        revision,
        problems: vec![problem],
    };
    let def = crate::deploy::describe_task_definition(conn, &format!("{family}:{revision}"))
        .await?
        .ok_or_else(|| refused(format!("{family} has no revision {revision}.")))?;
    if def.status().is_none_or(|s| s.as_str() != "ACTIVE") {
        return Err(refused(format!(
            "Revision {revision} is deregistered (INACTIVE); ECS no longer runs it."
        )));
    }
    let image = def
        .container_definitions()
        .first()
        .and_then(|c| c.image())
        .unwrap_or_default()
        .to_owned();
    let digest = digest_of(&image).ok_or_else(|| {
        refused(format!(
            "Its image {image} is not pinned by digest, so Slipway cannot tell which image it would run."
        ))
    })?;
    let ecr = aws_sdk_ecr::Client::new(&conn.ctx.sdk);
    let answer = ecr
        .batch_get_image()
        .repository_name(&names.repository)
        .image_ids(ImageIdentifier::builder().image_digest(&digest).build())
        .set_accepted_media_types(Some(MANIFEST_TYPES.iter().map(|t| t.to_string()).collect()))
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "ecr:BatchGetImage", e))?;
    let manifest = answer
        .images()
        .first()
        .and_then(|i| i.image_manifest())
        .map(str::to_owned)
        .ok_or_else(|| {
            refused(format!(
                "{} {NEW_BUILD_INSTEAD}",
                super::image_gone(&digest, &names.repository)
            ))
        })?;
    let tags = images(conn, &names.repository, Some(&digest))
        .await?
        .remove(&digest)
        .map(|i| i.tags)
        .unwrap_or_default();
    let version = tags
        .into_iter()
        .find(|t| t != "latest")
        .unwrap_or_else(|| format!("revision {revision}"));
    Ok(RollbackTarget {
        revision,
        task_definition: def.task_definition_arn().unwrap_or_default().to_owned(),
        image,
        digest,
        manifest,
        version,
    })
}
