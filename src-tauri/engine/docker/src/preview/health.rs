//! Judging a preview's health the way ECS judges a task's: failures during the start
//! period do not count, `retries` failures in a row make it unhealthy, one success makes
//! it healthy. Locally the first checks come every second so the preview turns healthy
//! as soon as it answers; after that they follow the configured interval.

use std::time::{Duration, Instant};

use serde::Serialize;

use slipway_core::project::HealthCheck;

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum Health {
    /// The project has no health check.
    NotChecked,
    Starting {
        detail: String,
    },
    Healthy {
        detail: String,
    },
    Unhealthy {
        detail: String,
    },
}

pub struct HealthTracker {
    interval: Duration,
    start_period: Duration,
    retries: u32,
    started: Instant,
    failures: u32,
    current: Health,
}

impl HealthTracker {
    pub fn new(check: &HealthCheck, started: Instant) -> Self {
        Self {
            interval: Duration::from_secs(u64::from(check.interval)),
            start_period: Duration::from_secs(u64::from(check.start_period)),
            retries: check.retries,
            started,
            failures: 0,
            current: Health::Starting {
                detail: "waiting for the first check".into(),
            },
        }
    }

    pub fn current(&self) -> &Health {
        &self.current
    }

    /// Records one check's result; returns the new health when it changed.
    pub fn record(&mut self, ok: bool, detail: String, at: Instant) -> Option<Health> {
        let next = if ok {
            self.failures = 0;
            Health::Healthy { detail }
        } else {
            let in_grace = at.duration_since(self.started) < self.start_period
                && matches!(self.current, Health::Starting { .. });
            if !in_grace {
                self.failures += 1;
            }
            if self.failures >= self.retries {
                Health::Unhealthy {
                    detail: format!("{detail} ({} checks in a row failed)", self.failures),
                }
            } else if matches!(self.current, Health::Starting { .. }) {
                Health::Starting { detail }
            } else {
                self.current.clone()
            }
        };
        let changed = std::mem::discriminant(&next) != std::mem::discriminant(&self.current)
            || matches!(next, Health::Starting { .. } if next != self.current);
        self.current = next;
        changed.then(|| self.current.clone())
    }

    /// How long to wait before the next check.
    pub fn next_delay(&self) -> Duration {
        match self.current {
            Health::Starting { .. } => Duration::from_secs(1).min(self.interval),
            _ => self.interval,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(retries: u32, start_period: u32) -> HealthCheck {
        HealthCheck {
            retries,
            start_period,
            ..HealthCheck::default()
        }
    }

    #[test]
    fn failures_in_the_start_period_do_not_count() {
        let t0 = Instant::now();
        let mut tracker = HealthTracker::new(&check(2, 10), t0);
        for s in 1..5 {
            tracker.record(
                false,
                "connection refused".into(),
                t0 + Duration::from_secs(s),
            );
        }
        assert!(
            matches!(tracker.current(), Health::Starting { .. }),
            "still inside the 10 s grace"
        );
        assert_eq!(
            tracker.next_delay(),
            Duration::from_secs(1),
            "starting previews are checked every second"
        );
        let became = tracker.record(true, "HTTP 200".into(), t0 + Duration::from_secs(6));
        assert!(matches!(became, Some(Health::Healthy { .. })));
        assert_eq!(tracker.next_delay(), Duration::from_secs(30));
    }

    #[test]
    fn retries_failures_in_a_row_make_it_unhealthy_and_a_success_resets() {
        let t0 = Instant::now();
        let mut tracker = HealthTracker::new(&check(3, 0), t0);
        tracker.record(true, "HTTP 200".into(), t0);
        assert_eq!(
            tracker.record(false, "HTTP 500".into(), t0),
            None,
            "one failure changes nothing yet"
        );
        assert_eq!(tracker.record(false, "HTTP 500".into(), t0), None);
        assert!(matches!(
            tracker.record(false, "HTTP 500".into(), t0),
            Some(Health::Unhealthy { .. })
        ));
        assert!(matches!(
            tracker.record(true, "HTTP 200".into(), t0),
            Some(Health::Healthy { .. })
        ));
    }
}
