//! The progress seam: long jobs report typed events to a sink, which the desktop backs with
//! a Tauri Channel, the CLI with its printer and tests with a recorder.

use std::sync::{Arc, Mutex};

pub trait ProgressSink<E>: Send + Sync {
    fn emit(&self, event: E);
}

impl<E, F> ProgressSink<E> for F
where
    F: Fn(E) + Send + Sync,
{
    fn emit(&self, event: E) {
        self(event)
    }
}

/// A sink that keeps every event, for tests and for callers that only want the list.
#[derive(Debug)]
pub struct Recorder<E>(Arc<Mutex<Vec<E>>>);

impl<E> Default for Recorder<E> {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(Vec::new())))
    }
}

impl<E> Clone for Recorder<E> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<E: Clone> Recorder<E> {
    pub fn events(&self) -> Vec<E> {
        self.0.lock().expect("recorder lock").clone()
    }
}

impl<E: Send> ProgressSink<E> for Recorder<E> {
    fn emit(&self, event: E) {
        self.0.lock().expect("recorder lock").push(event);
    }
}
