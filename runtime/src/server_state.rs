//! [`ServerState`]: what every connection of a server shares, whatever its data type: the
//! configuration, the pub/sub backend, where failures are reported, the connection count
//! and the shutdown flag.
//!
//! It does not hold the routes: they name the connection's data type, and the connection
//! state (`conn_state`) that handlers reach holds this state, so it stays below them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;
use twinwire::Message;

use crate::config::ServerConfig;
use crate::connection::ConnectionId;
use crate::error::PublishError;
use crate::event::{ErrorEvent, ErrorKind, ErrorSink};
use crate::frame;
use crate::outbox::Outbox;
use crate::pubsub::{PubSub, validate_topic};

/// What every connection of a server shares.
pub(crate) struct ServerState {
    pub(crate) config: ServerConfig,
    pub(crate) pubsub: Arc<dyn PubSub>,
    pub(crate) errors: ErrorSink,
    connections: watch::Sender<usize>,
    shutdown: watch::Sender<bool>,
    /// The open connections' outbound queues, for sending and closing from outside handlers.
    registry: Mutex<HashMap<ConnectionId, Arc<Outbox>>>,
}

/// A place in the server's connection limit, held for a connection's lifetime.
pub(crate) struct ConnectionSlot {
    server: Arc<ServerState>,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.server
            .connections
            .send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl ServerState {
    pub(crate) fn new(config: ServerConfig, pubsub: Arc<dyn PubSub>, errors: ErrorSink) -> Self {
        Self {
            config,
            pubsub,
            errors,
            connections: watch::Sender::new(0),
            shutdown: watch::Sender::new(false),
            registry: Mutex::new(HashMap::new()),
        }
    }

    fn lock_registry(&self) -> MutexGuard<'_, HashMap<ConnectionId, Arc<Outbox>>> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes a connection reachable by id while it is open.
    pub(crate) fn register(&self, id: ConnectionId, outbox: Arc<Outbox>) {
        self.lock_registry().insert(id, outbox);
    }

    pub(crate) fn unregister(&self, id: ConnectionId) {
        self.lock_registry().remove(&id);
    }

    /// The ids of the open connections, oldest first.
    pub(crate) fn connection_ids(&self) -> Vec<ConnectionId> {
        let mut ids: Vec<ConnectionId> = self.lock_registry().keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// The outbound queue of open connection `id`.
    pub(crate) fn outbox(&self, id: ConnectionId) -> Option<Arc<Outbox>> {
        self.lock_registry().get(&id).cloned()
    }

    /// How many connections are open.
    pub(crate) fn connection_count(&self) -> usize {
        *self.connections.borrow()
    }

    pub(crate) fn subscribe_shutdown(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Refuses new connections and tells the open ones to close gracefully.
    pub(crate) fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// [`begin_shutdown`](Self::begin_shutdown), then waits until every connection is gone.
    pub(crate) async fn shut_down(&self) {
        self.begin_shutdown();
        let mut connections = self.connections.subscribe();
        // Only fails if the sender is gone, which `self` prevents.
        let _ = connections.wait_for(|n| *n == 0).await;
    }

    /// Takes a place for a new connection, unless the server is full or shutting down.
    pub(crate) fn try_reserve_slot(self: &Arc<Self>) -> Option<ConnectionSlot> {
        if *self.shutdown.borrow() {
            return None;
        }
        let max = self.config.max_connections;
        let reserved = self.connections.send_if_modified(|n| {
            if *n >= max {
                false
            } else {
                *n += 1;
                true
            }
        });
        reserved.then(|| ConnectionSlot {
            server: Arc::clone(self),
        })
    }

    /// Publishes `msg` to `topic`, encoded once for every subscriber except `exclude`.
    pub(crate) async fn publish<M: Message>(
        &self,
        topic: &str,
        msg: &M,
        exclude: Option<ConnectionId>,
    ) -> Result<(), PublishError> {
        validate_topic(topic)?;
        let frame = frame::encode_message(msg, None, None).map_err(PublishError::Encode)?;
        self.pubsub
            .publish(topic, frame, exclude)
            .await
            .map_err(|err| {
                self.errors
                    .report(ErrorEvent::new(ErrorKind::PubSub, err.payload().clone()));
                err.into()
            })
    }
}
