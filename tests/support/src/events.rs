//! A recorder for a router's `on_error` hook.

use std::sync::{Arc, Mutex, PoisonError};

use twinwire_runtime::ErrorEvent;

use crate::wait::eventually;

/// Collects the events a router's `on_error` hook reports, in order. Clones share the list.
#[derive(Clone, Debug, Default)]
pub struct Events(Arc<Mutex<Vec<ErrorEvent>>>);

impl Events {
    /// The hook to pass to `Router::on_error`: appends every event to this recorder.
    pub fn hook(&self) -> impl Fn(&ErrorEvent) + Send + Sync + 'static {
        let events = Arc::clone(&self.0);
        // A test that panicked while holding the lock has failed already; recording on
        // keeps the remaining assertions meaningful instead of cascading panics.
        move |event| {
            events
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(event.clone());
        }
    }

    /// Every event so far, in order.
    pub fn all(&self) -> Vec<ErrorEvent> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until an event satisfies `matches` and returns the first one that does; panics
    /// after [`PATIENCE`](crate::wait::PATIENCE).
    pub async fn wait_for(&self, matches: impl Fn(&ErrorEvent) -> bool) -> ErrorEvent {
        eventually("the expected error event", || {
            self.all().into_iter().find(|event| matches(event))
        })
        .await
    }
}
