//! An ECR repository's lifecycle policy in words, and which of its images the policy's
//! rules are about to delete: a rollback needs its image, so the release list warns.

use std::collections::HashMap;

use time::OffsetDateTime;

use super::Image;
use crate::aws::{classify, Connection};
use slipway_core::error::Result;

/// The lifecycle policy's rules in words, and which digests its count rules would expire.
pub(super) async fn lifecycle(
    conn: &Connection,
    repository: &str,
    images: &HashMap<String, Image>,
    now: OffsetDateTime,
) -> Result<(Option<String>, HashMap<String, String>)> {
    let ecr = aws_sdk_ecr::Client::new(&conn.ctx.sdk);
    let text = match ecr
        .get_lifecycle_policy()
        .repository_name(repository)
        .send()
        .await
    {
        Ok(answer) => answer.lifecycle_policy_text().map(str::to_owned),
        Err(e)
            if e.as_service_error().is_some_and(|s| {
                s.is_lifecycle_policy_not_found_exception() || s.is_repository_not_found_exception()
            }) =>
        {
            None
        }
        Err(e) => return Err(classify(&conn.ctx, "ecr:GetLifecyclePolicy", e)),
    };
    let Some(text) = text else {
        return Ok((None, HashMap::new()));
    };
    let policy: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let mut described = Vec::new();
    let mut expiring = HashMap::new();
    let mut newest_first: Vec<(&String, &Image)> = images.iter().collect();
    newest_first.sort_by_key(|(_, i)| std::cmp::Reverse(i.pushed_at));
    for rule in policy["rules"].as_array().into_iter().flatten() {
        let selection = &rule["selection"];
        let count = selection["countNumber"].as_u64().unwrap_or(0);
        let tags = selection["tagStatus"].as_str().unwrap_or("any");
        match selection["countType"].as_str() {
            Some("imageCountMoreThan") => {
                described.push(format!("keeps only the newest {count} images ({tags})"));
                for (digest, _) in newest_first.iter().skip(count as usize) {
                    expiring.insert(
                        (*digest).clone(),
                        format!("the repository's lifecycle policy keeps only the newest {count} images; this one is due to be deleted"),
                    );
                }
            }
            Some("sinceImagePushed") => {
                described.push(format!(
                    "deletes images {count} days after they are pushed ({tags})"
                ));
                for (digest, image) in &newest_first {
                    let age_days = image
                        .pushed_at
                        .map(|at| (now.unix_timestamp() - at) / 86_400)
                        .unwrap_or(0);
                    if age_days + 3 >= count as i64 {
                        expiring.insert(
                            (*digest).clone(),
                            format!("the repository's lifecycle policy deletes images {count} days after push; this one is {age_days} days old"),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    Ok((
        Some(format!(
            "The repository's lifecycle policy {}. A rollback needs its image: releases whose image it deletes can no longer be rolled back to.",
            described.join("; ")
        )),
        expiring,
    ))
}
