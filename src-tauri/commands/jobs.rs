//! Cancelling a long job by the id its caller gave it.

use tauri::State;

use crate::state::Jobs;

/// Asks the job to stop; false when no job with that id runs (it may have just finished).
#[tauri::command]
#[specta::specta]
pub fn cancel_job(job_id: String, jobs: State<'_, Jobs>) -> bool {
    jobs.0.cancel(&job_id)
}
