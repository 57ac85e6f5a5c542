//! Ending the app while a job runs (a deploy, a rollback, a build): closing the window or
//! a SIGTERM cancels every job first and waits for them to undo what they started, so
//! nothing paid is left running unknown; then the app ends. A job that outlasts the
//! grace period is left to the journal, which the next start reports.

use std::time::{Duration, Instant};

use tauri::{Manager, Runtime, Window, WindowEvent};

use crate::state::Jobs;

/// How long ending the app waits for cancelled jobs to finish their undo.
const GRACE: Duration = Duration::from_secs(90);

pub fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    let WindowEvent::CloseRequested { api, .. } = event else {
        return;
    };
    let jobs = window.state::<Jobs>().0.clone();
    if jobs.running().is_empty() {
        return;
    }
    api.prevent_close();
    tracing::info!(jobs = ?jobs.running(), "window closing: cancelling the running jobs first");
    let window = window.clone();
    tauri::async_runtime::spawn(async move {
        cancel_and_wait(&jobs).await;
        let _ = window.destroy();
    });
}

/// On Unix, a SIGTERM ends the app the same way.
pub fn on_terminate<R: Runtime>(app: tauri::AppHandle<R>) {
    #[cfg(unix)]
    tauri::async_runtime::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            return;
        };
        if term.recv().await.is_some() {
            tracing::info!("SIGTERM: cancelling the running jobs before ending");
            cancel_and_wait(&app.state::<Jobs>().0).await;
            app.exit(0);
        }
    });
    #[cfg(not(unix))]
    let _ = app;
}

pub async fn cancel_and_wait(jobs: &slipway_core::jobs::JobRegistry) {
    for id in jobs.running() {
        jobs.cancel(&id);
    }
    let give_up = Instant::now() + GRACE;
    while !jobs.running().is_empty() && Instant::now() < give_up {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
