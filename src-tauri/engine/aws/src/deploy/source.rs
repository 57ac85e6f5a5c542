//! What a deploy runs, made ready: a local release pushed to ECR and registered as a
//! task definition revision, or (a rollback) an earlier revision whose image is still in
//! the repository, with nothing pushed or registered.

use super::{journal, push, register, DeployEvent, DeployStep, Deployment};
use slipway_core::error::Result;
use slipway_core::taskdef::{self, Deployables};
use slipway_docker::releases;

/// What a release or a rollback leaves to run: the image, the revision ARN and number,
/// and whether anything was pushed.
pub(super) type Shipped = (String, String, i32, bool);

/// Push and register: a local release made ready to run.
pub(super) async fn ship_release(
    d: &Deployment<'_>,
    docker: &bollard::Docker,
    release: &releases::LocalRelease,
    repository_uri: &str,
    role_arn: &str,
) -> Result<Shipped> {
    d.step_started(
        DeployStep::Push,
        format!("{} to {repository_uri}", release.version),
    );
    let pushed = push::push(
        d,
        docker,
        &release.image_id,
        repository_uri,
        &release.version,
    )
    .await?;
    d.journal.step(
        journal::StepKind::Pushed,
        &pushed.image_by_digest,
        &release.version,
    )?;
    d.step_done(
        DeployStep::Push,
        if pushed.skipped {
            format!(
                "{} already in the repository; nothing to push",
                pushed.digest
            )
        } else {
            format!("pushed {}", pushed.digest)
        },
    );

    d.step_started(
        DeployStep::Register,
        format!("task definition {}", d.config.name),
    );
    let mut spec = taskdef::spec_for(
        d.config,
        d.port,
        &Deployables {
            image_by_digest: pushed.image_by_digest.clone(),
            execution_role_arn: role_arn.to_owned(),
            log_group: d.names.log_group.clone(),
            region: d.conn.ctx.region.clone(),
        },
    );
    spec.cpu_architecture = pushed.cpu_architecture.clone();
    let registered = register::ensure(d, &spec).await?;
    d.step_done(
        DeployStep::Register,
        if registered.registered {
            format!("registered revision {}", registered.revision)
        } else {
            format!(
                "revision {} already matches; nothing registered",
                registered.revision
            )
        },
    );
    Ok((
        pushed.image_by_digest,
        registered.arn,
        registered.revision,
        !pushed.skipped,
    ))
}

/// A rollback's Push and Register steps: nothing to push or register (with `retag`,
/// `latest` moves back to the earlier image after Verify, so a rollback that fails leaves
/// it where it was).
pub(super) async fn roll_back(
    d: &Deployment<'_>,
    target: &super::history::RollbackTarget,
    retag: bool,
) -> Result<Shipped> {
    d.step_started(
        DeployStep::Push,
        format!(
            "{} ({}) is in the repository",
            target.version, target.digest
        ),
    );
    d.step_done(
        DeployStep::Push,
        format!(
            "{} is still in the repository; nothing to push{}",
            target.digest,
            if retag {
                "; latest moves back to it once it answers"
            } else {
                ""
            }
        ),
    );
    d.step_started(
        DeployStep::Register,
        format!("task definition {}:{}", d.config.name, target.revision),
    );
    let latest = register::describe(d.conn, &d.config.name)
        .await?
        .map(|t| t.revision());
    d.emit(DeployEvent::TaskDefinition {
        family: d.config.name.clone(),
        revision: target.revision,
        previous_revision: latest,
        changes: vec![format!("roll back to revision {}", target.revision)],
        registered: false,
    });
    d.journal.step(
        journal::StepKind::RolledBack,
        &target.revision.to_string(),
        &target.version,
    )?;
    d.step_done(
        DeployStep::Register,
        format!(
            "revision {} reused (rollback); nothing registered",
            target.revision
        ),
    );
    Ok((
        target.image.clone(),
        target.task_definition.clone(),
        target.revision,
        false,
    ))
}

/// What a deploy runs: a local release (pushed and registered), or an earlier revision.
pub(super) enum Source {
    Release(bollard::Docker, releases::LocalRelease),
    Rollback(super::history::RollbackTarget, bool),
}

impl Source {
    pub(super) fn version(&self) -> &str {
        match self {
            Self::Release(_, release) => &release.version,
            Self::Rollback(target, _) => &target.version,
        }
    }
}
