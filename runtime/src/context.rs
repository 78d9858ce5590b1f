//! What a handler gets besides its payload: [`Context`] and, for RPCs, [`RpcContext`].

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};
use twinwire::{ErrorPayload, Message, Meta, Rpc, ServerMessage};

use crate::auth::UpgradeRequest;
use crate::conn_state::ConnState;
use crate::connection::ConnectionId;
use crate::correlation::Correlation;
use crate::error::{PublishError, SendError, SubscribeError};
use crate::frame;
use crate::outbox::CloseRequest;

/// Options for [`Context::publish_with`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PublishOptions {
    exclude: Exclude,
}

/// Which connection a publish skips.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Exclude {
    #[default]
    Nobody,
    Publisher,
    Connection(ConnectionId),
}

impl PublishOptions {
    /// Default options: every subscriber receives the message, the sender included.
    pub fn new() -> Self {
        Self::default()
    }

    /// Do not deliver to the publishing connection, even if it is subscribed.
    #[must_use]
    pub fn exclude_self(mut self) -> Self {
        self.exclude = Exclude::Publisher;
        self
    }

    /// Do not deliver to connection `id` (e.g. the one whose HTTP request caused a
    /// [`Server::publish_with`](crate::Server::publish_with)). One connection is excluded at
    /// most: this replaces [`exclude_self`](Self::exclude_self).
    #[must_use]
    pub fn exclude(mut self, id: ConnectionId) -> Self {
        self.exclude = Exclude::Connection(id);
        self
    }

    /// The excluded connection, with `publisher` the one publishing, if any.
    pub(crate) fn excluded(self, publisher: Option<ConnectionId>) -> Option<ConnectionId> {
        match self.exclude {
            Exclude::Nobody => None,
            Exclude::Publisher => publisher,
            Exclude::Connection(id) => Some(id),
        }
    }
}

/// A handler's view of its connection and of the frame being handled.
///
/// Cheap to clone (an `Arc` and the frame's meta); a clone can be moved into a spawned task
/// to send or publish later. Per-connection data is reached through closures
/// ([`data`](Self::data), [`data_mut`](Self::data_mut)) so a lock is never held across an
/// `.await`.
pub struct Context<D = ()> {
    pub(crate) conn: Arc<ConnState<D>>,
    wire_type: Option<&'static str>,
    meta: Meta,
    /// The decoded typed meta of the frame's message (its `Message::Meta`); `None` in hooks.
    typed_meta: Option<Arc<dyn Any + Send + Sync>>,
    pub(crate) correlation: Option<Arc<Correlation>>,
}

impl<D> Clone for Context<D> {
    fn clone(&self) -> Self {
        Self {
            conn: Arc::clone(&self.conn),
            wire_type: self.wire_type,
            meta: self.meta.clone(),
            typed_meta: self.typed_meta.clone(),
            correlation: self.correlation.clone(),
        }
    }
}

impl<D> fmt::Debug for Context<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("connection", &self.conn.id())
            .field("wire_type", &self.wire_type)
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

impl<D: Send + Sync + 'static> Context<D> {
    pub(crate) fn new(
        conn: Arc<ConnState<D>>,
        wire_type: Option<&'static str>,
        meta: Meta,
        correlation: Option<Arc<Correlation>>,
    ) -> Self {
        Self {
            conn,
            wire_type,
            meta,
            typed_meta: None,
            correlation,
        }
    }

    /// Keeps the frame's decoded typed meta for [`typed_meta`](Self::typed_meta).
    pub(crate) fn set_typed_meta(&mut self, meta: Arc<dyn Any + Send + Sync>) {
        self.typed_meta = Some(meta);
    }

    /// The connection's id, unique within this process.
    pub fn id(&self) -> ConnectionId {
        self.conn.id()
    }

    /// The wire type of the frame being handled; `None` in `on_open` / `on_close`.
    pub fn wire_type(&self) -> Option<&'static str> {
        self.wire_type
    }

    /// The frame's meta, without the reserved keys (`clientId`, `receivedAt`).
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// The typed meta of the frame being handled, when it is a frame of message `M`
    /// (declared with `#[message("TYPE", meta = T)]`): decoded and validated before any
    /// middleware ran. `None` for a frame of another message, and in hooks.
    ///
    /// ```ignore
    /// async fn send_message(&self, ctx: Context<()>, msg: SendMessage) -> Result<(), ErrorPayload> {
    ///     let trace = ctx.typed_meta::<SendMessage>().map(|m| m.trace_id.as_str());
    ///     // …
    /// }
    /// ```
    pub fn typed_meta<M: Message>(&self) -> Option<&M::Meta> {
        if self.wire_type != Some(M::WIRE_TYPE) {
            return None;
        }
        self.typed_meta.as_deref()?.downcast_ref::<M::Meta>()
    }

    /// The frame's meta, for middleware that annotates it for the handler.
    pub fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    /// The frame's correlation id, if it had one (every RPC request has).
    pub fn correlation_id(&self) -> Option<&str> {
        self.correlation.as_deref().map(Correlation::id)
    }

    /// Whether the client has cancelled the request this frame made (WS-Kit's `$ws:abort`,
    /// sent when a request times out or is aborted on the client). Always `false` for a
    /// frame without a correlation id, and in hooks.
    ///
    /// The handler itself needs no check: its future is dropped at the cancellation. This is
    /// for work it handed elsewhere, e.g. a task spawned with a clone of this context.
    pub fn is_cancelled(&self) -> bool {
        self.correlation
            .as_deref()
            .is_some_and(Correlation::is_cancelled)
    }

    /// Resolves once the client cancels the request this frame made (see
    /// [`is_cancelled`](Self::is_cancelled)); never for a frame without a correlation id.
    /// A spawned task can `select!` on it to stop work nobody waits for any more.
    pub async fn cancelled(&self) {
        match self.correlation.as_deref() {
            Some(correlation) => correlation.cancelled().await,
            None => std::future::pending().await,
        }
    }

    /// Reads the per-connection data.
    pub fn data<R>(&self, read: impl FnOnce(&D) -> R) -> R {
        self.conn.read_data(read)
    }

    /// Changes the per-connection data.
    pub fn data_mut<R>(&self, write: impl FnOnce(&mut D) -> R) -> R {
        self.conn.write_data(write)
    }

    /// Sends `msg` to this connection. Never waits: the frame is queued, and a connection
    /// whose queue is full is closed as a slow consumer ([`SendError::QueueFull`]).
    ///
    /// Only server → client messages can be sent ([`ServerMessage`]: listed under `server:`
    /// in the `protocol!`); sending a client → server message does not compile. The same
    /// holds for every method that sends or publishes, here, on `Server` and on
    /// `ConnectionHandle`. An RPC's response is sent by returning it from the handler.
    ///
    /// # Errors
    /// [`SendError`] when the message cannot be encoded or the connection is closing.
    pub fn send<M: ServerMessage>(&self, msg: &M) -> Result<(), SendError> {
        self.send_with_meta(msg, &Map::new())
    }

    /// Sends `msg` with extra meta keys (reserved keys are dropped; `timestamp` is set by
    /// the runtime).
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
        self.conn.push(frame)
    }

    /// Sends `msg` with its typed meta (a message declared with `#[message("TYPE", meta = T)]`),
    /// whose keys go into the frame's `meta` beside `timestamp`.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn send_with_typed_meta<M: ServerMessage>(
        &self,
        msg: &M,
        meta: &M::Meta,
    ) -> Result<(), SendError> {
        let keys = frame::typed_meta_keys(meta).map_err(SendError::Encode)?;
        let frame = frame::encode_message(msg, None, keys.as_ref()).map_err(SendError::Encode)?;
        self.conn.push(frame)
    }

    /// Publishes `msg` to every subscriber of `topic`, this connection included if it is
    /// subscribed. The message is encoded once for all recipients.
    ///
    /// # Errors
    /// [`PublishError`] for an invalid topic, an encoding failure or a backend failure
    /// (`UNAVAILABLE` when a broker is unreachable).
    pub async fn publish<M: ServerMessage>(
        &self,
        topic: &str,
        msg: &M,
    ) -> Result<(), PublishError> {
        self.publish_with(topic, msg, PublishOptions::default())
            .await
    }

    /// [`publish`](Self::publish) with options, e.g. [`PublishOptions::exclude_self`].
    ///
    /// # Errors
    /// As [`publish`](Self::publish).
    pub async fn publish_with<M: ServerMessage>(
        &self,
        topic: &str,
        msg: &M,
        options: PublishOptions,
    ) -> Result<(), PublishError> {
        let exclude = options.excluded(Some(self.id()));
        self.conn.server.publish(topic, msg, None, exclude).await
    }

    /// [`publish_with`](Self::publish_with) for a message with typed meta (declared with
    /// `#[message("TYPE", meta = T)]`): every subscriber gets `meta`'s keys in the frame's
    /// `meta`.
    ///
    /// # Errors
    /// As [`publish`](Self::publish).
    pub async fn publish_with_typed_meta<M: ServerMessage>(
        &self,
        topic: &str,
        msg: &M,
        meta: &M::Meta,
        options: PublishOptions,
    ) -> Result<(), PublishError> {
        let exclude = options.excluded(Some(self.id()));
        self.conn
            .server
            .publish(topic, msg, Some(meta), exclude)
            .await
    }

    /// Subscribes this connection to `topic`; a no-op if it already is. Subscriptions end
    /// when the connection closes.
    ///
    /// # Errors
    /// [`SubscribeError`] for an invalid topic, a backend failure, or a connection that has
    /// closed.
    pub async fn subscribe(&self, topic: &str) -> Result<(), SubscribeError> {
        self.conn.subscribe(topic).await
    }

    /// Unsubscribes this connection from `topic`; a no-op if it is not subscribed.
    ///
    /// # Errors
    /// [`SubscribeError`] for an invalid topic or a backend failure.
    pub async fn unsubscribe(&self, topic: &str) -> Result<(), SubscribeError> {
        self.conn.unsubscribe(topic).await
    }

    /// How many connections of this server instance are subscribed to `topic` (see
    /// [`PubSub::subscriber_count`](crate::PubSub::subscriber_count)).
    pub fn subscriber_count(&self, topic: &str) -> usize {
        self.conn.server.pubsub.subscriber_count(topic)
    }

    /// The HTTP request that opened this connection: headers, query, peer address.
    pub fn upgrade_request(&self) -> &UpgradeRequest {
        self.conn.request()
    }

    /// A path parameter of the route the endpoint is mounted at (e.g. `room` for
    /// `/rooms/{room}/ws`), percent-decoded.
    pub fn path_param(&self, name: &str) -> Option<&str> {
        self.conn.request().path_param(name)
    }

    /// Sends `msg` as the answer to this frame: it carries the frame's correlation id, as
    /// WS-Kit's `inheritCorrelationId` does, so a client that sent an event with a
    /// correlation id and waits for a reply event (e.g. `AUTHENTICATE` answered by
    /// `AUTH_SUCCESS`) gets it. The first answer is the frame's terminal one: a later answer
    /// or error for it fails with [`SendError::AlreadyAnswered`]. A frame without a
    /// correlation id is answered like [`send`](Self::send).
    ///
    /// # Errors
    /// [`SendError::AlreadyAnswered`], or as [`send`](Self::send).
    pub fn reply_correlated<M: ServerMessage>(&self, msg: &M) -> Result<(), SendError> {
        match self.correlation.as_deref() {
            Some(correlation) => self.conn.reply(correlation, msg, None),
            None => self.send(msg),
        }
    }

    /// The topics this connection is subscribed to.
    pub fn topics(&self) -> Vec<String> {
        self.conn.topics()
    }

    /// Closes the connection with `code` and `reason` after the frames queued so far.
    pub fn close(&self, code: u16, reason: impl Into<String>) {
        self.conn.outbox.request_close(CloseRequest {
            code,
            reason: reason.into().into(),
            overflow: false,
        });
    }
}

/// The context of an RPC handler: everything [`Context`] offers (through `Deref`), plus the
/// request's progress and terminal frames.
///
/// Exactly one terminal frame answers a request: the first of [`reply`](Self::reply),
/// [`error`](Self::error), the handler's return value, a deadline or a panic. Later ones are
/// refused with [`SendError::AlreadyAnswered`] (or, for a return value, dropped), so an
/// early reply followed by more work is fine.
pub struct RpcContext<D, R: Rpc> {
    ctx: Context<D>,
    correlation: Arc<Correlation>,
    meta: Arc<R::Meta>,
    _rpc: PhantomData<fn() -> R>,
}

impl<D, R: Rpc> fmt::Debug for RpcContext<D, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RpcContext")
            .field("ctx", &self.ctx)
            .field("rpc", &R::WIRE_TYPE)
            .finish()
    }
}

impl<D, R: Rpc> Deref for RpcContext<D, R> {
    type Target = Context<D>;

    fn deref(&self) -> &Context<D> {
        &self.ctx
    }
}

impl<D: Send + Sync + 'static, R: Rpc> RpcContext<D, R> {
    pub(crate) fn new(ctx: Context<D>, correlation: Arc<Correlation>, meta: Arc<R::Meta>) -> Self {
        Self {
            ctx,
            correlation,
            meta,
            _rpc: PhantomData,
        }
    }

    /// The request's typed meta (declared with `#[rpc("TYPE", response = …, meta = T)]`),
    /// decoded and validated before the handler ran; `&()` for a request without.
    pub fn request_meta(&self) -> &R::Meta {
        &self.meta
    }

    /// The request's correlation id.
    pub fn request_id(&self) -> &str {
        self.correlation.id()
    }

    /// Whether the terminal frame has been sent.
    pub fn is_answered(&self) -> bool {
        self.correlation.is_answered()
    }

    /// Sends a non-terminal progress frame (`$ws:rpc-progress`) carrying `value`.
    ///
    /// # Errors
    /// [`SendError::AlreadyAnswered`] after the terminal frame, or as [`Context::send`].
    pub fn progress<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), SendError> {
        if self.correlation.is_answered() {
            return Err(SendError::AlreadyAnswered);
        }
        let data_too = self.ctx.conn.server.config.progress_data_field;
        let frame = frame::encode_progress(self.correlation.id(), value, data_too)
            .map_err(SendError::Encode)?;
        self.ctx.conn.push(frame)
    }

    /// Sends the reply now; the handler may keep working, its return value is then dropped.
    ///
    /// # Errors
    /// [`SendError::AlreadyAnswered`] if the request was answered, or as [`Context::send`].
    pub fn reply(&self, response: &R::Response) -> Result<(), SendError> {
        self.ctx.conn.reply(&self.correlation, response, None)
    }

    /// [`reply`](Self::reply) with the response's typed meta (a response declared with
    /// `#[message("TYPE", meta = T)]`); the handler's return value is then dropped.
    ///
    /// # Errors
    /// As [`reply`](Self::reply).
    pub fn reply_with_meta(
        &self,
        response: &R::Response,
        meta: &<R::Response as Message>::Meta,
    ) -> Result<(), SendError> {
        self.ctx.conn.reply(&self.correlation, response, Some(meta))
    }

    /// Answers the request with an `RPC_ERROR` now.
    ///
    /// # Errors
    /// [`SendError::AlreadyAnswered`] if the request was answered, or as [`Context::send`].
    pub fn error(&self, error: ErrorPayload) -> Result<(), SendError> {
        if !self.correlation.claim() {
            return Err(SendError::AlreadyAnswered);
        }
        self.ctx
            .conn
            .push(frame::encode_error(Some(self.correlation.id()), &error))
    }

    /// The plain context, e.g. to move into a spawned task.
    pub fn context(&self) -> &Context<D> {
        &self.ctx
    }
}
