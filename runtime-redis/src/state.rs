//! [`InstanceState`]: what the publish path and the supervisor task of one instance share:
//! the local subscribers, the instance id and channel names, the current publisher
//! connection, and where to report background failures.

use std::sync::{Mutex, PoisonError, RwLock};

use redis::aio::MultiplexedConnection;
use twinwire_runtime::{ErrorEvent, ErrorSink, MemoryPubSub, PubSubError};

use crate::wire::{Channels, InstanceId};

/// The publisher connection of the current link, with the link's number so that a failure
/// seen on an old link does not condemn a newer one.
#[derive(Clone)]
pub(crate) struct Publisher {
    pub(crate) generation: u64,
    pub(crate) connection: MultiplexedConnection,
}

pub(crate) struct InstanceState {
    /// The local subscribers of every topic.
    pub(crate) local: MemoryPubSub,
    pub(crate) instance: InstanceId,
    pub(crate) channels: Channels,
    /// The Redis URL with its password hidden, for messages.
    pub(crate) url: String,
    /// `None` while the link is down: publishes then fail at once.
    publisher: RwLock<Option<Publisher>>,
    /// Where to report what happens in the background: one sink per server using us.
    sinks: Mutex<Vec<ErrorSink>>,
}

impl InstanceState {
    pub(crate) fn new(instance: InstanceId, channels: Channels, url: String) -> Self {
        Self {
            local: MemoryPubSub::new(),
            instance,
            channels,
            url,
            publisher: RwLock::new(None),
            sinks: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn publisher(&self) -> Option<Publisher> {
        self.publisher
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_publisher(&self, publisher: Option<Publisher>) {
        *self
            .publisher
            .write()
            .unwrap_or_else(PoisonError::into_inner) = publisher;
    }

    pub(crate) fn add_sink(&self, sink: ErrorSink) {
        self.sinks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(sink);
    }

    pub(crate) fn report(&self, event: ErrorEvent) {
        // Hooks run outside the lock: one may well attach another server.
        let sinks = self
            .sinks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for sink in sinks {
            sink.report(event.clone());
        }
    }

    /// The error for an operation that needs Redis while the link is down; `consequence`
    /// says what the caller lost. Clients see it, so it names no host: the `on_error` hook
    /// got the details when the link was lost.
    pub(crate) fn outage(&self, consequence: &str) -> PubSubError {
        PubSubError::unavailable(format!(
            "the connection to Redis is down (reconnecting): {consequence}; retry later"
        ))
    }
}
