//! The service deployments ECS keeps of each service (what ListServiceDeployments and
//! DescribeServiceDeployments answer through the proxy): one per deployment the scheduler
//! starts, with its target and source service revisions, its status and lifecycle stage,
//! and the rollback that ended it, if any. The scheduler changes a record where it acts (a
//! rollback, a stage); [`settle`] brings the rest in line with the deployments after each
//! pass.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};

use super::epoch_seconds;

/// The statuses a service deployment can end in.
const FINAL: [&str; 4] = [
    "SUCCESSFUL",
    "STOPPED",
    "ROLLBACK_SUCCESSFUL",
    "ROLLBACK_FAILED",
];

const REPLACED: &str = "A newer service deployment replaced this one.";

#[derive(Debug, Clone)]
pub(super) struct Rollback {
    pub reason: String,
    pub started_at: f64,
    /// The deployment rolled back to, and its service revision.
    pub deployment: String,
    pub revision: String,
}

#[derive(Debug, Clone)]
pub(super) struct Record {
    pub arn: String,
    pub service_arn: String,
    pub cluster_arn: String,
    /// The scheduler's deployment it rolls out.
    pub deployment: String,
    pub target: String,
    pub sources: Vec<String>,
    pub status: &'static str,
    pub reason: Option<String>,
    pub stage: &'static str,
    pub strategy: String,
    pub bake_minutes: Option<u32>,
    pub created_at: f64,
    pub updated_at: f64,
    pub finished_at: Option<f64>,
    pub rollback: Option<Rollback>,
}

/// A service revision's tasks: (requested, running, pending).
pub(super) type Counts = (usize, usize, usize);

/// What [`settle`] needs to know of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Standing {
    pub primary: bool,
    /// Its rollout is COMPLETED now.
    pub completed: bool,
    /// Its rollout completed once (it may have been replaced since).
    pub ever_completed: bool,
    pub failed: bool,
}

/// A new ARN of `kind` (`service-deployment`, `service-revision`) for `service_arn`:
/// `arn:aws:ecs:REGION:ACCOUNT:KIND/CLUSTER/SERVICE/ID`.
pub(super) fn new_arn(kind: &str, service_arn: &str, cluster_arn: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let parts: Vec<&str> = service_arn.splitn(6, ':').collect();
    let (region, account) = (
        parts.get(3).copied().unwrap_or("us-east-1"),
        parts.get(4).copied().unwrap_or("123456789012"),
    );
    let name = service_arn.rsplit('/').next().unwrap_or(service_arn);
    let cluster = cluster_arn.rsplit('/').next().unwrap_or(cluster_arn);
    let id = match kind {
        "service-revision" => format!("{}{n:010}", std::process::id()),
        _ => format!("sd{:x}x{n:08}", std::process::id()),
    };
    format!("arn:aws:ecs:{region}:{account}:{kind}/{cluster}/{name}/{id}")
}

impl Record {
    pub fn new(
        service_arn: &str,
        cluster_arn: &str,
        deployment: &str,
        target: &str,
        sources: Vec<String>,
        (strategy, bake_minutes): (String, Option<u32>),
    ) -> Self {
        let now = epoch_seconds();
        Self {
            arn: new_arn("service-deployment", service_arn, cluster_arn),
            service_arn: service_arn.to_owned(),
            cluster_arn: cluster_arn.to_owned(),
            deployment: deployment.to_owned(),
            target: target.to_owned(),
            sources,
            status: "IN_PROGRESS",
            reason: None,
            stage: "SCALE_UP",
            strategy,
            bake_minutes,
            created_at: now,
            updated_at: now,
            finished_at: None,
            rollback: None,
        }
    }

    pub fn in_progress(&self) -> bool {
        !FINAL.contains(&self.status)
    }

    pub fn set(&mut self, status: &'static str, reason: Option<String>) {
        self.status = status;
        self.reason = reason;
        self.updated_at = epoch_seconds();
        if FINAL.contains(&status) {
            self.finished_at = Some(self.updated_at);
        }
    }

    pub fn enter(&mut self, stage: &'static str) {
        self.stage = stage;
        self.updated_at = epoch_seconds();
    }

    pub fn roll_back(&mut self, reason: &str, to_deployment: &str, to_revision: &str) {
        self.set("ROLLBACK_IN_PROGRESS", Some(reason.to_owned()));
        self.rollback = Some(Rollback {
            reason: reason.to_owned(),
            started_at: self.updated_at,
            deployment: to_deployment.to_owned(),
            revision: to_revision.to_owned(),
        });
    }

    /// DescribeServiceDeployments' JSON of it, with each revision's tasks as `counts` says.
    pub fn json(&self, counts: impl Fn(&str) -> Counts) -> Value {
        let revision = |arn: &str| {
            let (requested, running, pending) = counts(arn);
            json!({
                "arn": arn,
                "requestedTaskCount": requested,
                "runningTaskCount": running,
                "pendingTaskCount": pending,
            })
        };
        let mut configuration = json!({"strategy": self.strategy});
        if let Some(minutes) = self.bake_minutes {
            configuration["bakeTimeInMinutes"] = json!(minutes);
        }
        let mut out = json!({
            "serviceDeploymentArn": self.arn,
            "serviceArn": self.service_arn,
            "clusterArn": self.cluster_arn,
            "createdAt": self.created_at,
            "startedAt": self.created_at,
            "updatedAt": self.updated_at,
            "status": self.status,
            "lifecycleStage": self.stage,
            "targetServiceRevision": revision(&self.target),
            "sourceServiceRevisions": self.sources.iter().map(|s| revision(s)).collect::<Vec<_>>(),
            "deploymentConfiguration": configuration,
        });
        if let Some(reason) = &self.reason {
            out["statusReason"] = json!(reason);
        }
        if let Some(at) = self.finished_at {
            out["finishedAt"] = json!(at);
            if self.status == "STOPPED" {
                out["stoppedAt"] = json!(at);
            }
        }
        if let Some(rollback) = &self.rollback {
            out["rollback"] = json!({
                "reason": rollback.reason,
                "startedAt": rollback.started_at,
                "serviceRevisionArn": rollback.revision,
            });
        }
        out
    }
}

/// Brings the records in line with the deployments (`standing` of each by id; `None` once
/// the scheduler has let it go): one in progress is SUCCESSFUL once its rollout completed,
/// STOPPED once a newer deployment replaced it; a rollback that started before
/// `pass_started` (so it was shown in progress) is successful once the deployment it went
/// back to is primary and completed, stopped when a newer one replaced that, failed when
/// that one failed.
pub(super) fn settle(
    records: &mut [Record],
    standing: impl Fn(&str) -> Option<Standing>,
    pass_started: f64,
) {
    for record in records.iter_mut().filter(|r| r.in_progress()) {
        if record.status == "ROLLBACK_IN_PROGRESS" {
            let Some(rollback) = record.rollback.clone() else {
                continue;
            };
            if rollback.started_at >= pass_started {
                continue;
            }
            match standing(&rollback.deployment) {
                Some(s) if s.primary && s.completed => {
                    record.set("ROLLBACK_SUCCESSFUL", record.reason.clone())
                }
                Some(s) if s.primary && !s.failed => {}
                Some(s) if !s.failed => record.set("STOPPED", Some(REPLACED.into())),
                _ => record.set(
                    "ROLLBACK_FAILED",
                    Some(format!("{} The rollback failed.", rollback.reason)),
                ),
            }
            continue;
        }
        match standing(&record.deployment) {
            Some(s) if s.ever_completed => {
                record.enter("CLEAN_UP");
                record.set("SUCCESSFUL", None);
            }
            Some(s) if s.primary => {}
            _ => record.set("STOPPED", Some(REPLACED.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICE: &str = "arn:aws:ecs:eu-west-3:123456789012:service/shop/api";
    const CLUSTER: &str = "arn:aws:ecs:eu-west-3:123456789012:cluster/shop";

    fn record(deployment: &str) -> Record {
        Record::new(
            SERVICE,
            CLUSTER,
            deployment,
            &new_arn("service-revision", SERVICE, CLUSTER),
            Vec::new(),
            ("ROLLING".into(), None),
        )
    }

    fn standing(primary: bool, completed: bool) -> Option<Standing> {
        Some(Standing {
            primary,
            completed,
            ever_completed: completed,
            failed: false,
        })
    }

    #[test]
    fn arns_name_the_region_cluster_and_service() {
        let arn = new_arn("service-deployment", SERVICE, CLUSTER);
        assert!(
            arn.starts_with("arn:aws:ecs:eu-west-3:123456789012:service-deployment/shop/api/"),
            "{arn}"
        );
        assert_ne!(arn, new_arn("service-deployment", SERVICE, CLUSTER));
    }

    #[test]
    fn a_completed_rollout_is_successful_and_a_replaced_one_stopped() {
        let mut records = vec![record("d1"), record("d2"), record("d3")];
        settle(
            &mut records,
            |id| match id {
                "d1" => standing(false, true),
                "d2" => standing(false, false),
                _ => standing(true, false),
            },
            epoch_seconds(),
        );
        assert_eq!(records[0].status, "SUCCESSFUL");
        assert_eq!(records[0].stage, "CLEAN_UP");
        assert!(records[0].finished_at.is_some());
        assert_eq!(records[1].status, "STOPPED");
        assert_eq!(
            records[2].status, "IN_PROGRESS",
            "still the primary, rolling"
        );
        let json = records[1].json(|_| (0, 0, 0));
        assert_eq!(
            json["statusReason"],
            "A newer service deployment replaced this one."
        );
        assert!(json["stoppedAt"].is_f64());
    }

    #[test]
    fn a_rollback_shows_in_progress_for_a_pass_before_it_succeeds() {
        let mut records = vec![record("d2")];
        records[0].roll_back("circuit breaker", "d1", "rev-1");
        let back = |id: &str| (id == "d1").then_some(standing(true, true)).flatten();
        let started = records[0].updated_at;
        settle(&mut records, back, started);
        assert_eq!(records[0].status, "ROLLBACK_IN_PROGRESS");
        settle(&mut records, back, epoch_seconds() + 1.0);
        assert_eq!(records[0].status, "ROLLBACK_SUCCESSFUL");
        let json = records[0].json(|_| (1, 1, 0));
        assert_eq!(json["rollback"]["serviceRevisionArn"], "rev-1");
        assert_eq!(json["targetServiceRevision"]["runningTaskCount"], 1);
    }
}
