//! [`ServerState`]: what every connection of a server shares, whatever its data type: the
//! configuration, the pub/sub backend, where failures are reported, the places in the
//! connection limit and the shutdown flag.
//!
//! It does not hold the routes: they name the connection's data type, and the connection
//! state (`conn_state`) that handlers reach holds this state, so it stays below them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
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
    /// Places taken in the connection limit: WebSocket connections, and connections of the
    /// server's own listener that have not upgraded (yet).
    places: AtomicUsize,
    /// WebSocket connections, which shutdown waits for.
    connections: watch::Sender<usize>,
    shutdown: watch::Sender<bool>,
    /// The open connections' outbound queues, for sending and closing from outside handlers.
    registry: Mutex<HashMap<ConnectionId, Arc<Outbox>>>,
}

/// A place in the server's connection limit, held for a connection's lifetime: from the
/// accept by the server's own listener, or from the upgrade when mounted in an app.
pub(crate) struct ConnectionSlot {
    server: Arc<ServerState>,
    websocket: bool,
}

impl ConnectionSlot {
    /// The connection is now a WebSocket connection: it counts as one until it ends.
    pub(crate) fn open_websocket(&mut self) {
        if !self.websocket {
            self.websocket = true;
            self.server.connections.send_modify(|n| *n += 1);
        }
    }

    /// The upgrade was refused after all: the connection is an HTTP connection again.
    fn close_websocket(&mut self) {
        if self.websocket {
            self.websocket = false;
            self.server
                .connections
                .send_modify(|n| *n = n.saturating_sub(1));
        }
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.server.places.fetch_sub(1, Ordering::SeqCst);
        if self.websocket {
            self.server
                .connections
                .send_modify(|n| *n = n.saturating_sub(1));
        }
    }
}

/// The place of a connection accepted by the server's own listener, handed to its requests
/// (as a request extension) so that an upgrade takes it over instead of taking a second
/// one. Whatever is left in it when the last clone is dropped (the connection ended without
/// upgrading) frees the place.
#[derive(Clone)]
pub(crate) struct SlotHandoff(Arc<Mutex<Option<ConnectionSlot>>>);

impl SlotHandoff {
    pub(crate) fn new(slot: ConnectionSlot) -> Self {
        Self(Arc::new(Mutex::new(Some(slot))))
    }

    /// The connection's place, unless a request already took it.
    pub(crate) fn take(&self) -> Option<ConnectionSlot> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    /// Returns a place taken by an upgrade that was refused.
    pub(crate) fn give_back(&self, mut slot: ConnectionSlot) {
        slot.close_websocket();
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(slot);
    }
}

impl ServerState {
    pub(crate) fn new(config: ServerConfig, pubsub: Arc<dyn PubSub>, errors: ErrorSink) -> Self {
        Self {
            config,
            pubsub,
            errors,
            places: AtomicUsize::new(0),
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

    /// How many WebSocket connections are open.
    pub(crate) fn connection_count(&self) -> usize {
        *self.connections.borrow()
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Refuses new connections and tells the open ones to close gracefully. A connection
    /// registered after the flag is set finds it set (the driver checks after registering).
    pub(crate) fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
        for outbox in self.lock_registry().values() {
            outbox.request_shutdown();
        }
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
        if self.is_shutting_down() {
            return None;
        }
        let max = self.config.max_connections;
        self.places
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| ConnectionSlot {
                server: Arc::clone(self),
                websocket: false,
            })
    }

    /// Publishes `msg` (with its typed meta, if given) to `topic`, encoded once for every
    /// subscriber except `exclude`.
    pub(crate) async fn publish<M: Message>(
        &self,
        topic: &str,
        msg: &M,
        meta: Option<&M::Meta>,
        exclude: Option<ConnectionId>,
    ) -> Result<(), PublishError> {
        validate_topic(topic)?;
        let keys = meta
            .map(frame::typed_meta_keys)
            .transpose()
            .map_err(PublishError::Encode)?
            .flatten();
        let frame =
            frame::encode_message(msg, None, keys.as_ref()).map_err(PublishError::Encode)?;
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
