//! Cancellable long jobs: a registry of cancellation tokens keyed by a caller-chosen job id.
//! A job holds a [`JobGuard`] for as long as it runs; dropping the guard removes its token,
//! so the registry never keeps a finished job. The engine checks [`Cancel`] between steps
//! and inside streams.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

pub use tokio_util::sync::CancellationToken as Cancel;

use crate::error::{EngineError, Result};

#[derive(Debug, Clone, Default)]
pub struct JobRegistry {
    tokens: Arc<Mutex<HashMap<String, Cancel>>>,
}

impl JobRegistry {
    /// Registers a job; fails when a job with the same id still runs.
    pub fn start(&self, job_id: &str) -> Result<JobGuard> {
        let mut tokens = self.tokens.lock().expect("job registry lock");
        if tokens.contains_key(job_id) {
            return Err(EngineError::JobAlreadyRunning {
                job_id: job_id.to_owned(),
            });
        }
        let cancel = Cancel::new();
        tokens.insert(job_id.to_owned(), cancel.clone());
        Ok(JobGuard {
            job_id: job_id.to_owned(),
            cancel,
            registry: self.clone(),
        })
    }

    /// Asks a running job to stop. Returns false when no such job runs (it may have ended).
    pub fn cancel(&self, job_id: &str) -> bool {
        let tokens = self.tokens.lock().expect("job registry lock");
        match tokens.get(job_id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    pub fn running(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .tokens
            .lock()
            .expect("job registry lock")
            .keys()
            .cloned()
            .collect();
        ids.sort();
        ids
    }
}

#[derive(Debug)]
pub struct JobGuard {
    job_id: String,
    cancel: Cancel,
    registry: JobRegistry,
}

impl JobGuard {
    pub fn cancel_token(&self) -> Cancel {
        self.cancel.clone()
    }
}

impl Drop for JobGuard {
    fn drop(&mut self) {
        if let Ok(mut tokens) = self.registry.tokens.lock() {
            tokens.remove(&self.job_id);
        }
    }
}

/// Runs `work` until it finishes or `cancel` fires, whichever comes first.
pub async fn until_cancelled<T>(
    cancel: &Cancel,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(EngineError::Cancelled),
        out = work => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finished_job_leaves_the_registry_so_its_id_can_be_reused() {
        let jobs = JobRegistry::default();
        let guard = jobs.start("build-1").unwrap();
        assert_eq!(jobs.running(), vec!["build-1".to_owned()]);
        drop(guard);
        assert!(
            jobs.running().is_empty(),
            "the guard must remove its token on drop"
        );
        assert!(jobs.start("build-1").is_ok());
    }

    #[test]
    fn a_second_job_with_a_running_id_is_refused() {
        let jobs = JobRegistry::default();
        let _guard = jobs.start("deploy").unwrap();
        let err = jobs.start("deploy").unwrap_err();
        assert!(matches!(err, EngineError::JobAlreadyRunning { .. }));
    }

    #[test]
    fn cancel_reaches_the_running_job_and_reports_unknown_ids() {
        let jobs = JobRegistry::default();
        let guard = jobs.start("check").unwrap();
        let token = guard.cancel_token();
        assert!(!jobs.cancel("nope"), "an unknown id is not a cancelled job");
        assert!(jobs.cancel("check"));
        assert!(token.is_cancelled());
    }

    #[tokio::test]
    async fn until_cancelled_stops_pending_work() {
        let cancel = Cancel::new();
        cancel.cancel();
        let out = until_cancelled(&cancel, std::future::pending::<Result<()>>()).await;
        assert!(matches!(out, Err(EngineError::Cancelled)));
    }
}
