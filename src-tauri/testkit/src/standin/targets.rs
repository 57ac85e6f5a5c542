//! The targets of each target group and their health, as Elastic Load Balancing keeps
//! them: registered targets are checked with the group's health check (path, port,
//! matcher) against the loopback address their task's container listens on, every second
//! with 2 healthy / 2 unhealthy thresholds (AWS's 30 s would make tests crawl); a
//! deregistered target drains a short while. Which targets are registered is moto's to say
//! (the scheduler registers its tasks there); this module says how they are, and picks
//! one for a request. Polling moto and publishing the states is [`super::elb`]'s work.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::TargetHealth;

/// How often each target is checked.
pub(super) const INTERVAL: Duration = Duration::from_secs(1);
const HEALTHY_THRESHOLD: u32 = 2;
const UNHEALTHY_THRESHOLD: u32 = 2;
/// The longest a deregistered target is shown draining (the group's delay, capped).
const DRAIN_CAP: Duration = Duration::from_secs(3);
/// The longest a check waits for an answer (the group's timeout, capped).
const TIMEOUT_CAP: Duration = Duration::from_secs(2);

/// A target group's health check and the attributes that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct GroupSettings {
    pub path: String,
    /// `None`: the traffic port.
    pub port: Option<i32>,
    pub https: bool,
    /// The matcher's HttpCode: `200`, `200,202`, `200-399`.
    pub matcher: String,
    pub timeout: Duration,
    pub drain: Duration,
    /// lb_cookie stickiness and its duration.
    pub sticky: Option<Duration>,
}

impl Default for GroupSettings {
    fn default() -> Self {
        Self {
            path: "/".into(),
            port: None,
            https: false,
            matcher: "200".into(),
            timeout: TIMEOUT_CAP,
            drain: DRAIN_CAP,
            sticky: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    Initial,
    Healthy,
    Unhealthy,
    Draining,
}

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    Matched,
    Code(u16),
    Timeout,
    Refused,
}

#[derive(Debug, Clone)]
struct Target {
    state: State,
    reason: Option<&'static str>,
    description: Option<String>,
    passes: u32,
    failures: u32,
    registered_at: Instant,
    draining_since: Option<Instant>,
    /// Checks made: none yet means registration is still in progress.
    checks: u32,
}

impl Target {
    fn registering() -> Self {
        Self {
            state: State::Initial,
            reason: Some("Elb.RegistrationInProgress"),
            description: Some("Target registration is in progress".into()),
            passes: 0,
            failures: 0,
            registered_at: Instant::now(),
            draining_since: None,
            checks: 0,
        }
    }

    fn drain(&mut self) {
        self.state = State::Draining;
        self.reason = Some("Target.DeregistrationInProgress");
        self.description = Some("Target deregistration is in progress".into());
        self.draining_since = Some(Instant::now());
    }

    fn record(&mut self, outcome: &Outcome) {
        self.checks += 1;
        if *outcome == Outcome::Matched {
            self.passes += 1;
            self.failures = 0;
        } else {
            self.failures += 1;
            self.passes = 0;
        }
        match outcome {
            Outcome::Matched if self.passes >= HEALTHY_THRESHOLD => {
                self.state = State::Healthy;
                self.reason = None;
                self.description = None;
            }
            Outcome::Matched if self.state == State::Initial => {
                self.reason = Some("Elb.InitialHealthChecking");
                self.description = Some("Initial health checks in progress".into());
            }
            Outcome::Matched => {}
            failed if self.failures >= UNHEALTHY_THRESHOLD => {
                self.state = State::Unhealthy;
                let (reason, description) = match failed {
                    Outcome::Code(code) => (
                        "Target.ResponseCodeMismatch",
                        format!("Health checks failed with these codes: [{code}]"),
                    ),
                    Outcome::Timeout => ("Target.Timeout", "Request timed out".to_owned()),
                    _ => (
                        "Target.FailedHealthChecks",
                        "Health checks failed".to_owned(),
                    ),
                };
                self.reason = Some(reason);
                self.description = Some(description);
            }
            _ if self.state == State::Initial => {
                self.reason = Some("Elb.InitialHealthChecking");
                self.description = Some("Initial health checks in progress".into());
            }
            _ => {}
        }
    }
}

#[derive(Default)]
struct Group {
    settings: GroupSettings,
    targets: BTreeMap<(String, i32), Target>,
    next: usize,
}

/// A check to make: the group, the target, and the URL it answers on (`None`: no known
/// address, which times out as an unreachable IP would).
pub(super) struct Check {
    pub group: String,
    pub target: (String, i32),
    pub url: Option<String>,
    pub matcher: String,
    pub timeout: Duration,
}

/// Where one request goes: the target's address, and the stickiness cookie to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pick {
    pub address: SocketAddr,
    pub cookie: Option<(String, Duration)>,
}

#[derive(Default)]
pub(super) struct TargetGroups {
    groups: HashMap<String, Group>,
    /// A task's private IP → the loopback IP its container's ports are published on.
    addresses: HashMap<String, String>,
}

impl TargetGroups {
    pub fn add_address(&mut self, private_ip: &str, loopback_ip: &str) {
        self.addresses
            .insert(private_ip.to_owned(), loopback_ip.to_owned());
    }

    pub fn address(&self, private_ip: &str) -> Option<&String> {
        self.addresses.get(private_ip)
    }

    /// A target the scheduler just registered in moto.
    pub fn register(&mut self, group: &str, id: &str, port: i32) {
        let targets = &mut self.groups.entry(group.to_owned()).or_default().targets;
        let key = (id.to_owned(), port);
        if targets.get(&key).is_none_or(|t| t.state == State::Draining) {
            targets.insert(key, Target::registering());
        }
    }

    /// A target the scheduler just deregistered in moto.
    pub fn deregister(&mut self, group: &str, id: &str, port: i32) {
        if let Some(target) = self
            .groups
            .get_mut(group)
            .and_then(|g| g.targets.get_mut(&(id.to_owned(), port)))
        {
            if target.state != State::Draining {
                target.drain();
            }
        }
    }

    /// Brings the groups in line with moto's, as read at `read_at`: `groups` maps each
    /// target group to its settings and registered targets. What changed since the read
    /// (the scheduler's own calls) is left as it is.
    pub fn sync(
        &mut self,
        groups: HashMap<String, (GroupSettings, Vec<(String, i32)>)>,
        read_at: Instant,
    ) {
        self.groups.retain(|arn, _| groups.contains_key(arn));
        for (arn, (settings, registered)) in groups {
            let group = self.groups.entry(arn).or_default();
            group.settings = settings;
            for key in &registered {
                match group.targets.get(key) {
                    None => {
                        group.targets.insert(key.clone(), Target::registering());
                    }
                    Some(t) if t.draining_since.is_some_and(|at| at < read_at) => {
                        group.targets.insert(key.clone(), Target::registering());
                    }
                    Some(_) => {}
                }
            }
            let drain = group.settings.drain.min(DRAIN_CAP);
            group.targets.retain(|key, target| {
                if target.state != State::Draining
                    && !registered.contains(key)
                    && target.registered_at < read_at
                {
                    target.drain();
                }
                target
                    .draining_since
                    .is_none_or(|since| since.elapsed() < drain)
            });
        }
    }

    /// The checks due now: every target not draining.
    pub fn checks(&self) -> Vec<Check> {
        let mut checks = Vec::new();
        for (arn, group) in &self.groups {
            let s = &group.settings;
            for ((id, port), target) in &group.targets {
                if target.state == State::Draining {
                    continue;
                }
                let url = self.addresses.get(id).map(|ip| {
                    format!(
                        "{}://{ip}:{}{}",
                        if s.https { "https" } else { "http" },
                        s.port.unwrap_or(*port),
                        s.path
                    )
                });
                checks.push(Check {
                    group: arn.clone(),
                    target: (id.clone(), *port),
                    url,
                    matcher: s.matcher.clone(),
                    timeout: s.timeout.min(TIMEOUT_CAP),
                });
            }
        }
        checks
    }

    pub fn record(&mut self, group: &str, target: &(String, i32), outcome: &Outcome) {
        if let Some(t) = self
            .groups
            .get_mut(group)
            .and_then(|g| g.targets.get_mut(target))
            .filter(|t| t.state != State::Draining)
        {
            t.record(outcome);
        }
    }

    pub fn state(&self, group: &str, id: &str, port: i32) -> Option<State> {
        Some(
            self.groups
                .get(group)?
                .targets
                .get(&(id.to_owned(), port))?
                .state,
        )
    }

    pub fn group_arns(&self) -> Vec<String> {
        self.groups.keys().cloned().collect()
    }

    /// DescribeTargetHealth's view of `group`.
    pub fn report(&self, group: &str) -> Vec<TargetHealth> {
        let Some(group) = self.groups.get(group) else {
            return Vec::new();
        };
        group
            .targets
            .iter()
            .map(|((id, port), t)| TargetHealth {
                id: id.clone(),
                port: *port,
                state: match t.state {
                    State::Initial => "initial",
                    State::Healthy => "healthy",
                    State::Unhealthy => "unhealthy",
                    State::Draining => "draining",
                }
                .into(),
                reason: t.reason.map(str::to_owned),
                description: t.description.clone(),
            })
            .collect()
    }

    /// The target for one request to `group`: the sticky one named by `cookie` while it is
    /// healthy, else the next healthy one in turn; when none is healthy but some are
    /// unhealthy, those (an ALB fails open); `None` when no target can take it (503).
    pub fn pick(&mut self, group: &str, cookie: Option<&str>) -> Option<Pick> {
        let addresses = &self.addresses;
        let group = self.groups.get_mut(group)?;
        let address = |(id, port): &(String, i32)| -> Option<SocketAddr> {
            format!("{}:{port}", addresses.get(id)?).parse().ok()
        };
        let in_state = |state: State| -> Vec<(String, i32)> {
            group
                .targets
                .iter()
                .filter(|(_, t)| t.state == state)
                .map(|(k, _)| k.clone())
                .collect()
        };
        let mut candidates = in_state(State::Healthy);
        if candidates.is_empty() {
            candidates = in_state(State::Unhealthy);
        }
        candidates.retain(|k| address(k).is_some());
        if candidates.is_empty() {
            return None;
        }
        let sticky = group.settings.sticky;
        let chosen = cookie
            .and_then(|c| candidates.iter().find(|k| sticky_value(k) == c))
            .filter(|_| sticky.is_some())
            .cloned()
            .unwrap_or_else(|| {
                group.next = group.next.wrapping_add(1);
                candidates[group.next % candidates.len()].clone()
            });
        Some(Pick {
            address: address(&chosen)?,
            cookie: sticky.map(|d| (sticky_value(&chosen), d)),
        })
    }
}

/// The AWSALB cookie's value for a target (opaque on AWS; here it names the target).
fn sticky_value((id, port): &(String, i32)) -> String {
    format!("{id}:{port}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `code` matches an ELB matcher (`200`, `200,202`, `200-399`).
pub(super) fn matches(matcher: &str, code: u16) -> bool {
    matcher
        .split(',')
        .any(|part| match part.trim().split_once('-') {
            Some((low, high)) => {
                low.trim().parse().is_ok_and(|l: u16| l <= code)
                    && high.trim().parse().is_ok_and(|h: u16| code <= h)
            }
            None => part.trim().parse() == Ok(code),
        })
}

/// One health check, as ELB makes it: GET the path, the answer's code against the
/// matcher.
pub(super) async fn check(http: &reqwest::Client, check: &Check) -> Outcome {
    let Some(url) = &check.url else {
        tokio::time::sleep(check.timeout).await;
        return Outcome::Timeout;
    };
    let answer = http
        .get(url)
        .header("User-Agent", "ELB-HealthChecker/2.0")
        .timeout(check.timeout)
        .send()
        .await;
    match answer {
        Ok(answer) if matches(&check.matcher, answer.status().as_u16()) => Outcome::Matched,
        Ok(answer) => Outcome::Code(answer.status().as_u16()),
        Err(e) if e.is_timeout() => Outcome::Timeout,
        Err(_) => Outcome::Refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_take_codes_lists_and_ranges() {
        assert!(matches("200", 200));
        assert!(!matches("200", 301));
        assert!(matches("200,202", 202));
        assert!(matches("200-399", 302));
        assert!(!matches("200-399", 404));
    }

    #[test]
    fn a_target_turns_healthy_after_two_passes_and_unhealthy_after_two_failures() {
        let mut groups = TargetGroups::default();
        groups.add_address("10.0.0.5", "127.0.0.9");
        groups.register("tg", "10.0.0.5", 8080);
        let reason = |g: &TargetGroups| g.report("tg")[0].reason.clone();
        assert_eq!(
            reason(&groups).as_deref(),
            Some("Elb.RegistrationInProgress")
        );
        let key = ("10.0.0.5".to_owned(), 8080);
        groups.record("tg", &key, &Outcome::Matched);
        assert_eq!(groups.state("tg", "10.0.0.5", 8080), Some(State::Initial));
        assert_eq!(
            reason(&groups).as_deref(),
            Some("Elb.InitialHealthChecking")
        );
        groups.record("tg", &key, &Outcome::Matched);
        assert_eq!(groups.state("tg", "10.0.0.5", 8080), Some(State::Healthy));
        groups.record("tg", &key, &Outcome::Code(404));
        assert_eq!(groups.state("tg", "10.0.0.5", 8080), Some(State::Healthy));
        groups.record("tg", &key, &Outcome::Code(404));
        let report = &groups.report("tg")[0];
        assert_eq!(report.state, "unhealthy");
        assert_eq!(
            report.reason.as_deref(),
            Some("Target.ResponseCodeMismatch")
        );
        assert_eq!(
            report.description.as_deref(),
            Some("Health checks failed with these codes: [404]")
        );
    }

    #[test]
    fn requests_go_round_robin_to_healthy_targets_and_stick_by_cookie() {
        let mut groups = TargetGroups::default();
        for (private, loopback) in [("10.0.0.5", "127.0.0.9"), ("10.0.0.6", "127.0.0.10")] {
            groups.add_address(private, loopback);
            groups.register("tg", private, 8080);
            for _ in 0..2 {
                groups.record("tg", &(private.to_owned(), 8080), &Outcome::Matched);
            }
        }
        let first = groups.pick("tg", None).unwrap();
        let second = groups.pick("tg", None).unwrap();
        assert_ne!(first.address, second.address, "round robin");
        assert_eq!(first.cookie, None, "no stickiness unless the group has it");
        groups.groups.get_mut("tg").unwrap().settings.sticky = Some(Duration::from_secs(60));
        let sticky = groups.pick("tg", None).unwrap();
        let (value, _) = sticky.cookie.clone().unwrap();
        for _ in 0..3 {
            assert_eq!(
                groups.pick("tg", Some(&value)).unwrap().address,
                sticky.address
            );
        }
        groups.deregister("tg", "10.0.0.5", 8080);
        groups.deregister("tg", "10.0.0.6", 8080);
        assert_eq!(groups.pick("tg", None), None, "no target: 503");
    }
}
