//! [`ConnectionHandle`]: reaching one connection from outside its handlers (an HTTP
//! endpoint, a background job), by its id.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};
use twinwire::ServerMessage;

use crate::connection::ConnectionId;
use crate::error::SendError;
use crate::frame;
use crate::outbox::{CloseRequest, Outbox, Pressure};

/// One open connection, from [`Server::connection`](crate::Server::connection). Sending
/// never waits, as from a handler: the frame is queued, and a connection whose queue is full
/// is closed as a slow consumer. Once the connection has closed, sending fails with
/// [`SendError::Closed`].
#[derive(Clone)]
pub struct ConnectionHandle {
    id: ConnectionId,
    outbox: Arc<Outbox>,
}

impl fmt::Debug for ConnectionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionHandle")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl ConnectionHandle {
    pub(crate) fn new(id: ConnectionId, outbox: Arc<Outbox>) -> Self {
        Self { id, outbox }
    }

    /// The connection's id.
    pub fn id(&self) -> ConnectionId {
        self.id
    }

    /// Sends `msg` to the connection.
    ///
    /// # Errors
    /// [`SendError`] when the message cannot be encoded, the queue is full or the connection
    /// is closing.
    pub fn send<M: ServerMessage>(&self, msg: &M) -> Result<(), SendError> {
        self.send_with_meta(msg, &Map::new())
    }

    /// Sends `msg` with extra meta keys (reserved keys are dropped).
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn send_with_meta<M: ServerMessage>(
        &self,
        msg: &M,
        meta: &Map<String, Value>,
    ) -> Result<(), SendError> {
        let extra = (!meta.is_empty()).then_some(meta);
        let frame = frame::encode_message(msg, None, extra).map_err(SendError::Encode)?;
        // Sent from another connection's handler, a congested queue slows that sender as a
        // publish would.
        if self.outbox.push(frame).map_err(SendError::from)? == Pressure::High {
            self.outbox.push_back_on_publisher();
        }
        Ok(())
    }

    /// Sends `msg` with its typed meta (declared with `#[message("TYPE", meta = T)]`).
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn send_with_typed_meta<M: ServerMessage>(
        &self,
        msg: &M,
        meta: &M::Meta,
    ) -> Result<(), SendError> {
        let keys = frame::typed_meta_keys(meta).map_err(SendError::Encode)?;
        self.send_with_meta(msg, &keys.unwrap_or_default())
    }

    /// Closes the connection with `code` and `reason` after the frames queued so far, as
    /// [`Context::close`](crate::Context::close) does.
    pub fn close(&self, code: u16, reason: impl Into<String>) {
        self.outbox.request_close(CloseRequest {
            code,
            reason: reason.into().into(),
            overflow: false,
        });
    }
}
