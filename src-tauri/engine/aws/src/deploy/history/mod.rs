//! Releases on AWS: what was deployed, joined from ECS's task definition revisions, ECR's
//! images and Slipway's deploy journal; whether each can be rolled back to (its revision
//! ACTIVE, its image still in the repository, no lifecycle rule about to expire it); and
//! deregistering old revisions without touching one that runs or a rollback needs. The
//! rollback itself is a deploy of an earlier revision (`deploy::DeployRequest::rollback`),
//! checked first by `rollback`; the lifecycle policy is read by `lifecycle`.

use std::collections::HashMap;
use std::path::Path;

use aws_sdk_ecr::types::ImageIdentifier;
use serde::Serialize;
use time::OffsetDateTime;

use crate::aws::{classify, Connection};
use crate::deploy::ecs::family_of;
use crate::deploy::journal::{self, JournalEntry};
use crate::deploy::DeployMode;
use crate::setup::ResourceNames;
use slipway_core::error::{EngineError, Result};
use slipway_core::project::ProjectConfig;

mod lifecycle;
mod rollback;

pub use rollback::{rollback_target, Rollback, RollbackTarget, NEW_BUILD_INSTEAD};

/// Revisions listed, newest first.
const LISTED: usize = 25;

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseDeploy {
    pub deploy_id: String,
    /// Seconds since the Unix epoch.
    pub started_at: f64,
    pub mode: DeployMode,
    pub outcome: Option<journal::Outcome>,
    pub rolled_back: bool,
    pub retagged: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RollbackCheck {
    pub possible: bool,
    /// Why it is not possible, in plain words.
    pub problems: Vec<String>,
    /// What may stop it working later (a lifecycle rule about to expire its image).
    pub warning: Option<String>,
}

/// One task definition revision of the app and everything known about it.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AwsRelease {
    pub revision: i32,
    pub task_definition: String,
    pub active: bool,
    /// As the task definition names it (repository@digest).
    pub image: String,
    pub digest: Option<String>,
    /// The image's tags in ECR (the release version, `latest`).
    pub tags: Vec<String>,
    /// ISO 8601.
    pub pushed_at: Option<String>,
    pub image_in_repository: bool,
    /// The task size, as "cpu/memory".
    pub size: String,
    /// Slipway's deploys of this revision, newest first.
    pub deploys: Vec<ReleaseDeploy>,
    /// A task of the app or its service runs it now.
    pub running: bool,
    pub rollback: RollbackCheck,
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AwsReleases {
    pub app: String,
    pub repository: String,
    /// Newest revision first.
    pub releases: Vec<AwsRelease>,
    /// The revision a one-click rollback goes to: the newest deployed one that is not
    /// running and can be rolled back to.
    pub rollback_target: Option<i32>,
    /// The repository's lifecycle policy, described, when it has one.
    pub lifecycle: Option<String>,
    /// How the app runs now (its newest successful deploy's mode): a rollback uses it.
    pub mode: DeployMode,
}

fn digest_of(image: &str) -> Option<String> {
    image.split_once('@').map(|(_, d)| d.to_owned())
}

pub(crate) struct Image {
    pub(crate) tags: Vec<String>,
    pushed_at: Option<i64>,
}

/// The repository's images by digest (only `only`'s when given; none when the repository
/// or that image is not there).
pub(crate) async fn images(
    conn: &Connection,
    repository: &str,
    only: Option<&str>,
) -> Result<HashMap<String, Image>> {
    let ecr = aws_sdk_ecr::Client::new(&conn.ctx.sdk);
    let mut out = HashMap::new();
    let mut pages = ecr
        .describe_images()
        .repository_name(repository)
        .set_image_ids(
            only.map(|digest| vec![ImageIdentifier::builder().image_digest(digest).build()]),
        )
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(page) => page,
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_repository_not_found_exception() || s.is_image_not_found_exception()
                }) =>
            {
                return Ok(out)
            }
            Err(e) => return Err(classify(&conn.ctx, "ecr:DescribeImages", e)),
        };
        for detail in page.image_details() {
            if let Some(digest) = detail.image_digest() {
                out.insert(
                    digest.to_owned(),
                    Image {
                        tags: detail.image_tags().to_vec(),
                        pushed_at: detail.image_pushed_at().map(|t| t.secs()),
                    },
                );
            }
        }
    }
    Ok(out)
}

/// The app's releases on AWS, newest revision first.
pub async fn list(
    db: &Path,
    conn: &Connection,
    config: &ProjectConfig,
    now: OffsetDateTime,
) -> Result<AwsReleases> {
    let names = ResourceNames::for_app(&config.name, &conn.ctx.region)
        .map_err(|problems| EngineError::InvalidResourceNames { problems })?;
    let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
    let listed = ecs
        .list_task_definitions()
        .family_prefix(&config.name)
        .sort(aws_sdk_ecs::types::SortOrder::Desc)
        .send()
        .await
        .map_err(|e| classify(&conn.ctx, "ecs:ListTaskDefinitions", e))?;
    // familyPrefix also matches longer family names: keep this family's own, newest
    // first (sorted here too: emulators ignore `sort`).
    let mut arns: Vec<(i32, String)> = listed
        .task_definition_arns()
        .iter()
        .filter(|arn| family_of(arn) == config.name)
        .filter_map(|arn| Some((arn.rsplit_once(':')?.1.parse().ok()?, arn.clone())))
        .collect();
    arns.sort_by_key(|(revision, _)| std::cmp::Reverse(*revision));
    arns.truncate(LISTED);
    let images = images(conn, &names.repository, None).await?;
    let (lifecycle, expiring) = lifecycle::lifecycle(conn, &names.repository, &images, now).await?;
    let status = crate::deploy::status(db, conn, config, now).await?;
    let mut running: Vec<i32> = status.tasks.iter().filter_map(|t| t.revision).collect();
    running.extend(
        status
            .service
            .iter()
            .filter(|s| s.desired > 0)
            .filter_map(|s| s.revision),
    );
    let history = journal::history(db, &conn.identity.account, &conn.ctx.region, &config.name)?;

    let mut releases = Vec::new();
    for (_, arn) in &arns {
        let Some(def) = crate::deploy::describe_task_definition(conn, arn).await? else {
            continue;
        };
        let image = def
            .container_definitions()
            .first()
            .and_then(|c| c.image())
            .unwrap_or_default()
            .to_owned();
        let digest = digest_of(&image);
        let held = digest.as_ref().and_then(|d| images.get(d));
        let revision = def.revision();
        let active = def.status().is_some_and(|s| s.as_str() == "ACTIVE");
        let is_running = running.contains(&revision);
        let deploys: Vec<ReleaseDeploy> = history
            .iter()
            .filter(|e| e.task_definition.as_deref() == Some(arn.as_str()))
            .map(release_deploy)
            .collect();
        let mut problems = Vec::new();
        if is_running {
            problems.push("It is running now.".to_owned());
        }
        if !active {
            problems.push(format!(
                "Revision {revision} is deregistered (INACTIVE); ECS no longer runs it."
            ));
        }
        match (&digest, held) {
            (None, _) => problems.push(format!(
                "Its image {image} is not pinned by digest, so Slipway cannot tell which image it would run."
            )),
            (Some(d), None) => problems.push(image_gone(d, &names.repository)),
            _ => {}
        }
        releases.push(AwsRelease {
            revision,
            task_definition: arn.clone(),
            active,
            tags: held.map(|i| i.tags.clone()).unwrap_or_default(),
            pushed_at: held
                .and_then(|i| i.pushed_at)
                .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
                .map(crate::cost::meter::iso),
            image_in_repository: held.is_some(),
            size: format!(
                "{}/{}",
                def.cpu().unwrap_or("?"),
                def.memory().unwrap_or("?")
            ),
            deploys,
            running: is_running,
            rollback: RollbackCheck {
                possible: problems.is_empty(),
                problems,
                warning: digest.as_ref().and_then(|d| expiring.get(d).cloned()),
            },
            digest,
            image,
        });
    }
    let rollback_target = rollback_target_of(&releases, &history, &running);
    // A running service means the app runs as a service, whatever the journal says.
    let mode = if status.service.as_ref().is_some_and(|s| s.desired > 0) {
        DeployMode::Service
    } else {
        DeployMode::Task
    };
    Ok(AwsReleases {
        app: config.name.clone(),
        repository: names.repository,
        releases,
        rollback_target,
        lifecycle,
        mode,
    })
}

/// The revision a one-click rollback goes to: walking the journal's successful deploys
/// from the newest, the first revision that is not the current one and that no rollback
/// moved away from (the release that was left because it was bad), and that can still
/// run; without such history, the newest revision below the current one that can run.
fn rollback_target_of(
    releases: &[AwsRelease],
    history: &[JournalEntry],
    running: &[i32],
) -> Option<i32> {
    let succeeded: Vec<(i32, bool)> = history
        .iter()
        .filter(|e| e.outcome == Some(journal::Outcome::Succeeded))
        .filter_map(|e| {
            let revision = e
                .task_definition
                .as_deref()?
                .rsplit(':')
                .next()?
                .parse()
                .ok()?;
            Some((revision, e.rolled_back_to.is_some()))
        })
        .collect();
    let current = running
        .first()
        .copied()
        .or_else(|| succeeded.first().map(|(r, _)| *r));
    let left_behind: Vec<i32> = succeeded
        .windows(2)
        .filter(|pair| pair[0].1)
        .map(|pair| pair[1].0)
        .collect();
    let can_run = |revision: i32| {
        releases
            .iter()
            .any(|r| r.revision == revision && r.rollback.possible)
    };
    succeeded
        .iter()
        .map(|(r, _)| *r)
        .find(|r| Some(*r) != current && !left_behind.contains(r) && can_run(*r))
        .or_else(|| {
            releases
                .iter()
                .filter(|r| r.rollback.possible && current.is_none_or(|c| r.revision < c))
                .map(|r| r.revision)
                .next()
        })
}

fn release_deploy(e: &JournalEntry) -> ReleaseDeploy {
    ReleaseDeploy {
        deploy_id: e.id.clone(),
        started_at: e.started_at,
        mode: e.mode,
        outcome: e.outcome,
        rolled_back: e.rolled_back_to.is_some(),
        retagged: e.retagged,
    }
}

/// Which revisions to deregister: all ACTIVE ones but the newest `keep`, one that runs,
/// and the one-click rollback target.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DeregisterPlan {
    pub deregister: Vec<i32>,
    /// Kept revisions and why.
    pub kept: Vec<(i32, String)>,
}

pub fn plan_deregister(releases: &AwsReleases, keep: usize) -> DeregisterPlan {
    let mut plan = DeregisterPlan {
        deregister: Vec::new(),
        kept: Vec::new(),
    };
    for (i, r) in releases.releases.iter().filter(|r| r.active).enumerate() {
        let why = if r.running {
            Some("it is running".to_owned())
        } else if releases.rollback_target == Some(r.revision) {
            Some("it is the rollback target".to_owned())
        } else if i < keep {
            Some(format!("among the newest {keep}"))
        } else {
            None
        };
        match why {
            Some(why) => plan.kept.push((r.revision, why)),
            None => plan.deregister.push(r.revision),
        }
    }
    plan
}

/// At least the newest revision stays: a deploy that just registered one may not have
/// started its task yet.
fn check_keep(keep: usize) -> Result<()> {
    if keep == 0 {
        return Err(EngineError::InvalidInput {
            what: "Revisions to keep".into(),
            reason: "keep at least 1 (the newest revision may belong to a deploy in progress)"
                .into(),
        });
    }
    Ok(())
}

/// What deregistering would do now, keeping `keep` beyond what must stay (no change).
pub async fn deregister_plan(
    db: &Path,
    conn: &Connection,
    config: &ProjectConfig,
    keep: usize,
    now: OffsetDateTime,
) -> Result<DeregisterPlan> {
    check_keep(keep)?;
    Ok(plan_deregister(&list(db, conn, config, now).await?, keep))
}

/// Deregisters the revisions the user confirmed (`confirmed`, from the plan they saw)
/// that a fresh plan still allows: what started running since is never touched. Returns
/// the plan applied.
pub async fn deregister_old(
    db: &Path,
    conn: &Connection,
    config: &ProjectConfig,
    keep: usize,
    confirmed: &[i32],
    now: OffsetDateTime,
) -> Result<DeregisterPlan> {
    check_keep(keep)?;
    let releases = list(db, conn, config, now).await?;
    let mut plan = plan_deregister(&releases, keep);
    plan.deregister.retain(|r| confirmed.contains(r));
    let ecs = aws_sdk_ecs::Client::new(&conn.ctx.sdk);
    for revision in &plan.deregister {
        ecs.deregister_task_definition()
            .task_definition(format!("{}:{revision}", config.name))
            .send()
            .await
            .map_err(|e| classify(&conn.ctx, "ecs:DeregisterTaskDefinition", e))?;
    }
    Ok(plan)
}

/// Why a release cannot be rolled back to once its image left the repository.
pub fn image_gone(digest: &str, repository: &str) -> String {
    format!(
        "Its image {digest} is no longer in the repository {repository} (deleted, or expired by a lifecycle rule)."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(revision: i32, running: bool, succeeded: bool) -> AwsRelease {
        AwsRelease {
            revision,
            task_definition: format!("arn:aws:ecs:us-east-1:1:task-definition/app:{revision}"),
            active: true,
            image: String::new(),
            digest: None,
            tags: vec![],
            pushed_at: None,
            image_in_repository: true,
            size: "256/512".into(),
            deploys: if succeeded {
                vec![ReleaseDeploy {
                    deploy_id: format!("d{revision}"),
                    started_at: 0.0,
                    mode: DeployMode::Task,
                    outcome: Some(journal::Outcome::Succeeded),
                    rolled_back: false,
                    retagged: false,
                }]
            } else {
                vec![]
            },
            running,
            rollback: RollbackCheck {
                possible: !running,
                problems: vec![],
                warning: None,
            },
        }
    }

    #[test]
    fn deregistering_keeps_the_newest_the_running_one_and_the_rollback_target() {
        // Newest first: 6 never deployed, 5 runs (a rollback), 4 is the rollback target.
        let releases = AwsReleases {
            app: "app".into(),
            repository: "app".into(),
            releases: vec![
                release(6, false, false),
                release(5, true, true),
                release(4, false, true),
                release(3, false, true),
                release(2, false, false),
                release(1, false, true),
            ],
            rollback_target: Some(4),
            lifecycle: None,
            mode: DeployMode::Task,
        };
        let plan = plan_deregister(&releases, 1);
        assert_eq!(plan.deregister, vec![3, 2, 1]);
        assert_eq!(
            plan.kept.iter().map(|(r, _)| *r).collect::<Vec<_>>(),
            vec![6, 5, 4]
        );
    }

    fn deployed(revision: i32, rolled_back: bool) -> JournalEntry {
        JournalEntry {
            id: format!("d{revision}"),
            app: "app".into(),
            project_dir: "/p".into(),
            account: "1".into(),
            region: "us-east-1".into(),
            cluster: "c".into(),
            mode: DeployMode::Task,
            version: "v".into(),
            started_at: 0.0,
            finished_at: Some(1.0),
            outcome: Some(journal::Outcome::Succeeded),
            url: None,
            summary: None,
            started_tasks: vec![],
            service: None,
            task_definition: Some(format!(
                "arn:aws:ecs:us-east-1:1:task-definition/app:{revision}"
            )),
            image: None,
            rolled_back_to: rolled_back.then_some(revision),
            retagged: false,
        }
    }

    #[test]
    fn the_rollback_target_is_never_the_bad_release_just_left() {
        let releases: Vec<AwsRelease> = [5, 4, 3]
            .into_iter()
            .map(|r| release(r, r == 4, true))
            .collect();
        // Newest first: 4 deployed, 5 deployed (bad), then a rollback to 4.
        let history = [deployed(4, true), deployed(5, false), deployed(4, false)];
        assert_eq!(
            rollback_target_of(&releases, &history, &[4]),
            Some(3),
            "not 5, which the rollback left"
        );
        // Before the rollback: 5 runs, and 4 is the way back.
        let releases: Vec<AwsRelease> = [5, 4, 3]
            .into_iter()
            .map(|r| release(r, r == 5, true))
            .collect();
        assert_eq!(rollback_target_of(&releases, &history[1..], &[5]), Some(4));
    }

    #[test]
    fn the_family_is_read_from_a_revision_arn() {
        assert_eq!(
            family_of("arn:aws:ecs:eu-west-1:1:task-definition/my-app:12"),
            "my-app"
        );
    }
}
