//! An ECS blue/green deployment as decisions, with no calls: where each deployment's tasks
//! register (the first deployment in the production group, a later one in the other group
//! of each pair), and which lifecycle stage comes next given what has happened (the new
//! tasks healthy, production traffic shifted, the bake time over, the old tasks retired).
//! Carrying the stages out is [`super::bluegreen`]'s work.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The stages of a service deployment, in order (ECS's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    ReconcileService,
    PreScaleUp,
    ScaleUp,
    PostScaleUp,
    TestTrafficShift,
    PostTestTrafficShift,
    ProductionTrafficShift,
    PostProductionTrafficShift,
    BakeTime,
    CleanUp,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Self::ReconcileService => "RECONCILE_SERVICE",
            Self::PreScaleUp => "PRE_SCALE_UP",
            Self::ScaleUp => "SCALE_UP",
            Self::PostScaleUp => "POST_SCALE_UP",
            Self::TestTrafficShift => "TEST_TRAFFIC_SHIFT",
            Self::PostTestTrafficShift => "POST_TEST_TRAFFIC_SHIFT",
            Self::ProductionTrafficShift => "PRODUCTION_TRAFFIC_SHIFT",
            Self::PostProductionTrafficShift => "POST_PRODUCTION_TRAFFIC_SHIFT",
            Self::BakeTime => "BAKE_TIME",
            Self::CleanUp => "CLEAN_UP",
        }
    }
}

/// What has happened so far in a deployment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Progress {
    /// Every task the deployment wants is healthy in its target groups.
    pub healthy: bool,
    pub shifted: bool,
    pub baked: bool,
    /// The older deployments' tasks are retired.
    pub cleaned: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// Nothing to do until something changes.
    Wait,
    Enter(Stage),
    /// Point the production listener rules at the deployment's groups.
    ShiftTraffic,
    /// Retire the older deployments' tasks.
    CleanUp,
    /// The deployment is done: its rollout COMPLETED.
    Finish,
}

/// The next thing to do in `stage`. The stages with nothing of their own to do (the
/// lifecycle hooks' and the test traffic's, neither of which the stand-in has) pass at once.
pub(super) fn step(stage: Stage, progress: Progress) -> Step {
    use Stage::*;
    match stage {
        ReconcileService => Step::Enter(PreScaleUp),
        PreScaleUp => Step::Enter(ScaleUp),
        ScaleUp if progress.healthy => Step::Enter(PostScaleUp),
        ScaleUp => Step::Wait,
        PostScaleUp => Step::Enter(TestTrafficShift),
        TestTrafficShift => Step::Enter(PostTestTrafficShift),
        PostTestTrafficShift => Step::Enter(ProductionTrafficShift),
        ProductionTrafficShift if progress.shifted => Step::Enter(PostProductionTrafficShift),
        ProductionTrafficShift => Step::ShiftTraffic,
        PostProductionTrafficShift => Step::Enter(BakeTime),
        BakeTime if progress.baked => Step::Enter(CleanUp),
        BakeTime => Step::Wait,
        CleanUp if progress.cleaned => Step::Finish,
        CleanUp => Step::CleanUp,
    }
}

/// One blue/green pair of a service's load balancer: its `targetGroupArn`, its
/// `alternateTargetGroupArn`, and the production listener rule that chooses between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pair {
    pub group: String,
    pub alternate: String,
    pub rule: String,
}

/// Moving one production listener rule from the group that serves to the deployment's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Shift {
    pub rule: String,
    pub from: String,
    pub to: String,
}

/// Where a deployment's tasks go: the group each pair's `targetGroupArn` is replaced
/// with, and the shifts that put the deployment in production (none for the first).
/// `production` says which group of a pair the rule serves now (`None`: not clear, and
/// then it is the pair's `targetGroupArn`).
pub(super) fn place(
    pairs: &[Pair],
    production: impl Fn(&Pair) -> Option<String>,
    first: bool,
) -> (HashMap<String, String>, Vec<Shift>) {
    let mut groups = HashMap::new();
    let mut shifts = Vec::new();
    for pair in pairs {
        let serving = production(pair).unwrap_or_else(|| pair.group.clone());
        if first {
            groups.insert(pair.group.clone(), serving);
            continue;
        }
        let other = if serving == pair.group {
            pair.alternate.clone()
        } else {
            pair.group.clone()
        };
        groups.insert(pair.group.clone(), other.clone());
        shifts.push(Shift {
            rule: pair.rule.clone(),
            from: serving,
            to: other,
        });
    }
    (groups, shifts)
}

/// A later deployment of a blue/green service, as it goes.
#[derive(Debug, Clone)]
pub(super) struct BlueGreen {
    pub stage: Stage,
    pub shifts: Vec<Shift>,
    pub shifted: bool,
    pub bake_minutes: u32,
    pub baking_since: Option<Instant>,
    pub cleaned: bool,
}

impl BlueGreen {
    pub fn new(shifts: Vec<Shift>, bake_minutes: u32) -> Self {
        Self {
            stage: Stage::ReconcileService,
            shifts,
            shifted: false,
            bake_minutes,
            baking_since: None,
            cleaned: false,
        }
    }

    /// Where it stands, a minute lasting `minute`.
    pub fn progress(&self, healthy: bool, minute: Duration) -> Progress {
        Progress {
            healthy,
            shifted: self.shifted,
            baked: self
                .baking_since
                .is_some_and(|since| since.elapsed() >= minute * self.bake_minutes),
            cleaned: self.cleaned,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stages a deployment passes through when `progress` holds from the start.
    fn walk(progress: Progress) -> (Vec<&'static str>, Step) {
        let mut stage = Stage::ReconcileService;
        let mut seen = vec![stage.name()];
        loop {
            match step(stage, progress) {
                Step::Enter(next) => {
                    stage = next;
                    seen.push(stage.name());
                }
                other => return (seen, other),
            }
        }
    }

    #[test]
    fn a_deployment_waits_in_scale_up_until_its_tasks_are_healthy() {
        let (stages, step) = walk(Progress::default());
        assert_eq!(stages.last(), Some(&"SCALE_UP"));
        assert_eq!(step, Step::Wait);
    }

    #[test]
    fn healthy_tasks_lead_to_the_production_shift_and_then_to_the_bake() {
        let healthy = Progress {
            healthy: true,
            ..Default::default()
        };
        let (stages, step) = walk(healthy);
        assert_eq!(
            stages,
            [
                "RECONCILE_SERVICE",
                "PRE_SCALE_UP",
                "SCALE_UP",
                "POST_SCALE_UP",
                "TEST_TRAFFIC_SHIFT",
                "POST_TEST_TRAFFIC_SHIFT",
                "PRODUCTION_TRAFFIC_SHIFT"
            ]
        );
        assert_eq!(step, Step::ShiftTraffic);
        let shifted = Progress {
            shifted: true,
            ..healthy
        };
        let (stages, step) = walk(shifted);
        assert_eq!(stages.last(), Some(&"BAKE_TIME"));
        assert_eq!(step, Step::Wait, "the bake time is not over");
    }

    #[test]
    fn after_the_bake_the_old_tasks_go_and_then_the_deployment_finishes() {
        let baked = Progress {
            healthy: true,
            shifted: true,
            baked: true,
            cleaned: false,
        };
        let (stages, step) = walk(baked);
        assert_eq!(stages.last(), Some(&"CLEAN_UP"));
        assert_eq!(step, Step::CleanUp);
        let cleaned = Progress {
            cleaned: true,
            ..baked
        };
        assert_eq!(walk(cleaned).1, Step::Finish);
    }

    #[test]
    fn a_first_deployment_serves_production_and_a_later_one_the_other_group() {
        let pair = Pair {
            group: "blue".into(),
            alternate: "green".into(),
            rule: "rule".into(),
        };
        let (groups, shifts) = place(std::slice::from_ref(&pair), |_| Some("blue".into()), true);
        assert_eq!(groups["blue"], "blue");
        assert!(shifts.is_empty(), "nothing to shift on a first deployment");
        let (groups, shifts) = place(std::slice::from_ref(&pair), |_| Some("blue".into()), false);
        assert_eq!(groups["blue"], "green");
        assert_eq!(
            shifts,
            [Shift {
                rule: "rule".into(),
                from: "blue".into(),
                to: "green".into()
            }]
        );
        let (groups, shifts) = place(&[pair], |_| Some("green".into()), false);
        assert_eq!(groups["blue"], "blue", "after a shift, back to blue");
        assert_eq!(shifts[0].from, "green");
    }

    #[test]
    fn the_bake_lasts_its_minutes_of_the_configured_length() {
        let mut deployment = BlueGreen::new(Vec::new(), 2);
        deployment.baking_since = Some(Instant::now() - Duration::from_millis(300));
        assert!(deployment.progress(true, Duration::from_millis(100)).baked);
        assert!(!deployment.progress(true, Duration::from_secs(60)).baked);
    }
}
