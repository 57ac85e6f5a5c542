//! Long jobs from the window's side: cancelling one by the id its caller gave it, and the
//! progress sink that forwards a job's events over its Channel.

use tauri::ipc::{Channel, IpcResponse};
use tauri::State;

use crate::state::Jobs;

/// Asks the job to stop; false when no job with that id runs (it may have just finished).
#[tauri::command]
#[specta::specta]
pub fn cancel_job(job_id: String, jobs: State<'_, Jobs>) -> bool {
    jobs.0.cancel(&job_id)
}

/// The engine's progress sink for a job, backed by the window's Channel. A window that
/// stopped listening (closed, reloaded) is logged, not an error: the job still finishes.
pub fn channel_sink<E: IpcResponse + Send + Sync>(
    on_event: Channel<E>,
) -> impl Fn(E) + Send + Sync {
    move |event| {
        if let Err(e) = on_event.send(event) {
            tracing::warn!("the window stopped listening to job events: {e}");
        }
    }
}
