//! ECS-native blue/green deployments, carried out: a later deployment of a service whose
//! strategy is BLUE_GREEN starts its tasks in the other group of each blue/green pair (the
//! one its production listener rule does not send traffic to), waits in SCALE_UP until
//! they are healthy there, shifts production traffic with ModifyRule (as ECS does with the
//! service's role), bakes for `bakeTimeInMinutes` of the stand-in's minutes, then retires
//! the older tasks. A deployment replaced midway is stopped (or, past its shift, finished);
//! StopServiceDeployment's rollbacks (through the proxy) are carried out here for rolling
//! and blue/green deployments alike. The decisions are [`super::lifecycle`]'s.

use std::collections::HashMap;
use std::time::Instant;

use aws_sdk_ecs::types::Service;

use super::lifecycle::{self, BlueGreen, Pair, Shift, Stage, Step};
use super::rules;
use super::services::ServiceState;
use super::World;

impl World {
    /// The service's deployment strategy and bake time: moto's, else what CreateService
    /// asked.
    pub(super) fn strategy(&self, service: &Service) -> (String, Option<u32>) {
        if let Some(configuration) = service.deployment_configuration() {
            return (
                configuration
                    .strategy()
                    .map_or("ROLLING", |s| s.as_str())
                    .to_owned(),
                configuration
                    .bake_time_in_minutes()
                    .map(|m| m.max(0) as u32),
            );
        }
        let asked = self
            .proxy
            .created_service_field(
                service.service_arn().unwrap_or_default(),
                "deploymentConfiguration",
            )
            .unwrap_or_default();
        (
            asked["strategy"].as_str().unwrap_or("ROLLING").to_owned(),
            asked["bakeTimeInMinutes"].as_u64().map(|m| m as u32),
        )
    }

    /// Where a new deployment's tasks go and, for a later deployment of a blue/green
    /// service, its lifecycle. Nothing changes for any other.
    pub(super) async fn place(
        &self,
        service: &Service,
        first: bool,
    ) -> (HashMap<String, String>, Option<BlueGreen>) {
        let (strategy, bake_minutes) = self.strategy(service);
        let pairs: Vec<Pair> = service
            .load_balancers()
            .iter()
            .filter_map(|lb| {
                let advanced = lb.advanced_configuration()?;
                Some(Pair {
                    group: lb.target_group_arn()?.to_owned(),
                    alternate: advanced.alternate_target_group_arn()?.to_owned(),
                    rule: advanced.production_listener_rule()?.to_owned(),
                })
            })
            .collect();
        if strategy != "BLUE_GREEN" || pairs.is_empty() {
            return (HashMap::new(), None);
        }
        let mut serving = HashMap::new();
        for pair in &pairs {
            if let Some(group) = self.production_group(pair).await {
                serving.insert(pair.rule.clone(), group);
            }
        }
        let (groups, shifts) = lifecycle::place(&pairs, |p| serving.get(&p.rule).cloned(), first);
        let blue_green = (!first).then(|| BlueGreen::new(shifts, bake_minutes.unwrap_or(0)));
        (groups, blue_green)
    }

    /// The group of `pair` its production listener rule sends traffic to now, if clear.
    async fn production_group(&self, pair: &Pair) -> Option<String> {
        let described = self
            .elb
            .describe_rules()
            .rule_arns(&pair.rule)
            .send()
            .await
            .ok()?;
        let rule = described.rules().first()?;
        let forward = rule
            .actions()
            .iter()
            .find(|a| a.r#type().is_some_and(|t| t.as_str() == "forward"))?;
        rules::production(&rules::weights(forward), &pair.group, &pair.alternate).map(str::to_owned)
    }

    /// Points each production listener rule of `shifts` at its new group (`back`: at its
    /// old one). False when moto refused one.
    async fn shift(&self, shifts: &[Shift], back: bool) -> bool {
        for shift in shifts {
            let (to, from) = if back {
                (&shift.from, &shift.to)
            } else {
                (&shift.to, &shift.from)
            };
            let Ok(described) = self
                .elb
                .describe_rules()
                .rule_arns(&shift.rule)
                .send()
                .await
            else {
                return false;
            };
            let Some(rule) = described.rules().first() else {
                return false;
            };
            let Ok(modified) = self
                .elb
                .modify_rule()
                .rule_arn(&shift.rule)
                .set_actions(Some(rules::shifted(rule.actions(), to, from)))
                .send()
                .await
            else {
                return false;
            };
            // The load balancer answers by the new weights at once, as the rollout goes on.
            let mut balancers = self.balancers.lock().expect("balancers");
            for rule in modified.rules() {
                balancers.follow_rule(rule);
            }
            drop(balancers);
        }
        true
    }

    /// Shifts production traffic back to the groups `deployment` took it from.
    pub(super) async fn shift_back(
        &self,
        service: &Service,
        state: &mut ServiceState,
        deployment: &BlueGreen,
    ) -> bool {
        if !self.shift(&deployment.shifts, true).await {
            return false;
        }
        let name = service.service_name().unwrap_or_default();
        for shift in &deployment.shifts {
            state.event(format!(
                "(service {name}) production traffic shifted back to (target-group {}).",
                shift.from
            ));
        }
        true
    }

    /// Before a newer deployment starts: the blue/green deployment in progress is stopped
    /// (its tasks retired) if production traffic never reached it, else finished (the
    /// older tasks retired), as it serves production now.
    pub(super) async fn supersede(
        &self,
        cluster: &str,
        service: &Service,
        state: &mut ServiceState,
    ) {
        let Some(at) = state.deployments.iter().position(|d| {
            d.status == "PRIMARY" && d.rollout == "IN_PROGRESS" && d.blue_green.is_some()
        }) else {
            return;
        };
        let id = state.deployments[at].id.clone();
        let shifted = state.deployments[at]
            .blue_green
            .as_ref()
            .is_some_and(|bg| bg.shifted);
        let reason = format!("Scaling activity initiated by (deployment {id})");
        if !shifted {
            for task in state.deployments[at].tasks.clone() {
                self.retire(cluster, service, state, &task, &reason).await;
            }
            return;
        }
        let older: Vec<String> = state
            .deployments
            .iter()
            .filter(|d| d.status == "ACTIVE")
            .flat_map(|d| d.tasks.clone())
            .collect();
        for task in older {
            self.retire(cluster, service, state, &task, &reason).await;
        }
        self.finish(service, state, at);
    }

    /// Carries the primary blue/green deployment through its stages as far as it can go
    /// in this pass.
    pub(super) async fn advance(
        &self,
        cluster: &str,
        service: &Service,
        state: &mut ServiceState,
        want: usize,
    ) {
        let Some(at) = state.deployments.iter().position(|d| {
            d.status == "PRIMARY" && d.rollout == "IN_PROGRESS" && d.blue_green.is_some()
        }) else {
            return;
        };
        let name = service.service_name().unwrap_or_default().to_owned();
        let id = state.deployments[at].id.clone();
        let minute = *self.bake_minute.lock().expect("bake minute");
        loop {
            let deployment = &state.deployments[at];
            let Some(bg) = deployment.blue_green.clone() else {
                return;
            };
            let healthy = deployment
                .tasks
                .iter()
                .filter(|t| self.healthy_everywhere(state, t))
                .count()
                >= want.max(1);
            match lifecycle::step(bg.stage, bg.progress(healthy, minute)) {
                Step::Wait => return,
                Step::Enter(stage) => {
                    if let Some(bg) = state.deployments[at].blue_green.as_mut() {
                        bg.stage = stage;
                        if stage == Stage::BakeTime {
                            bg.baking_since = Some(Instant::now());
                        }
                    }
                    if stage == Stage::BakeTime {
                        let minutes = match bg.bake_minutes {
                            1 => "1 minute".to_owned(),
                            n => format!("{n} minutes"),
                        };
                        state.event(format!(
                            "(service {name}) (deployment {id}) bake time of {minutes} started."
                        ));
                    }
                    if let Some(record) = state.record(&id) {
                        record.enter(stage.name());
                    }
                }
                Step::ShiftTraffic => {
                    if !self.shift(&bg.shifts, false).await {
                        return;
                    }
                    for shift in &bg.shifts {
                        state.event(format!(
                            "(service {name}) (deployment {id}) production traffic shifted to (target-group {}).",
                            shift.to
                        ));
                    }
                    if let Some(bg) = state.deployments[at].blue_green.as_mut() {
                        bg.shifted = true;
                    }
                }
                Step::CleanUp => {
                    let older: Vec<String> = state
                        .deployments
                        .iter()
                        .filter(|d| d.status == "ACTIVE")
                        .flat_map(|d| d.tasks.clone())
                        .collect();
                    let reason = format!("Scaling activity initiated by (deployment {id})");
                    for task in older {
                        self.retire(cluster, service, state, &task, &reason).await;
                    }
                    if let Some(bg) = state.deployments[at].blue_green.as_mut() {
                        bg.cleaned = true;
                    }
                }
                Step::Finish => {
                    self.finish(service, state, at);
                    state.event(format!("(service {name}) has reached a steady state."));
                    return;
                }
            }
        }
    }

    /// The deployment at `at` is done: its rollout COMPLETED.
    fn finish(&self, service: &Service, state: &mut ServiceState, at: usize) {
        let deployment = &mut state.deployments[at];
        deployment.rollout = "COMPLETED";
        deployment.reason = None;
        deployment.completed = true;
        deployment.updated_at = super::epoch_seconds();
        let id = deployment.id.clone();
        state.event(format!(
            "(service {}) (deployment {id}) deployment completed.",
            service.service_name().unwrap_or_default()
        ));
    }

    /// Rolls back each deployment in progress whose service deployment StopServiceDeployment
    /// asked to roll back (through the proxy); a request for one no longer in progress is
    /// dropped.
    pub(super) async fn roll_back_on_request(
        &self,
        cluster: &str,
        service: &Service,
        state: &mut ServiceState,
    ) {
        let name = service.service_name().unwrap_or_default().to_owned();
        for arn in self
            .proxy
            .take_rollback_requests(service.service_arn().unwrap_or_default())
        {
            let Some(id) = state
                .records
                .iter()
                .find(|r| r.arn == arn && r.status == "IN_PROGRESS")
                .map(|r| r.deployment.clone())
            else {
                continue;
            };
            let Some(at) = state
                .deployments
                .iter()
                .position(|d| d.id == id && d.status == "PRIMARY" && d.rollout == "IN_PROGRESS")
            else {
                continue;
            };
            state.fail(
                at,
                &format!("ECS deployment {id} stopped: a rollback was requested."),
            );
            state.event(format!(
                "(service {name}) (deployment {id}) deployment stopped: a rollback was requested."
            ));
            self.roll_back(
                cluster,
                service,
                state,
                at,
                "Service deployment rolled back because a StopServiceDeployment request asked for it.",
            )
            .await;
        }
    }
}
