//! One connection's state: what handlers reach through their [`Context`](crate::Context)
//! (data, outbound queue, topics) and how they answer and report. The task that serves the
//! connection is in `driver`.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use twinwire::{ErrorPayload, Message};

use crate::auth::UpgradeRequest;
use crate::connection::ConnectionId;
use crate::correlation::Correlation;
use crate::error::{SendError, SubscribeError};
use crate::event::{ErrorEvent, ErrorKind};
use crate::frame::{self, Frame};
use crate::outbox::{Limits, Outbox, PushError};
use crate::pubsub::{Subscriber, validate_topic};
use crate::server_state::ServerState;

struct Topics {
    names: Vec<Arc<str>>,
    /// Set when the connection has left all its topics: later subscribes are refused.
    closed: bool,
}

/// The state of a connection that handlers reach through their [`Context`](crate::Context).
pub(crate) struct ConnState<D> {
    id: ConnectionId,
    data: RwLock<D>,
    pub(crate) outbox: Arc<Outbox>,
    topics: Mutex<Topics>,
    pub(crate) server: Arc<ServerState>,
    request: UpgradeRequest,
}

impl<D> ConnState<D> {
    pub(crate) fn id(&self) -> ConnectionId {
        self.id
    }
}

impl<D: Send + Sync + 'static> ConnState<D> {
    pub(crate) fn new(
        id: ConnectionId,
        server: Arc<ServerState>,
        data: D,
        request: UpgradeRequest,
    ) -> Self {
        Self {
            id,
            data: RwLock::new(data),
            outbox: Arc::new(Outbox::new(Limits::new(
                server.config.outbound_limit,
                server.config.slow_consumer_grace,
            ))),
            topics: Mutex::new(Topics {
                names: Vec::new(),
                closed: false,
            }),
            server,
            request,
        }
    }

    pub(crate) fn request(&self) -> &UpgradeRequest {
        &self.request
    }

    pub(crate) fn read_data<R>(&self, read: impl FnOnce(&D) -> R) -> R {
        read(&self.data.read().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn write_data<R>(&self, write: impl FnOnce(&mut D) -> R) -> R {
        write(&mut self.data.write().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn push(&self, frame: Frame) -> Result<(), SendError> {
        self.outbox.push(frame).map(drop).map_err(SendError::from)
    }

    /// Sends `response` as the terminal reply of `correlation`.
    pub(crate) fn reply<M: Message>(
        &self,
        correlation: &Correlation,
        response: &M,
        meta: Option<&M::Meta>,
    ) -> Result<(), SendError> {
        // Encoded before the claim: a response that cannot be encoded leaves the request
        // unanswered, so the handler's guard can still answer it `INTERNAL`.
        let keys = meta
            .map(frame::typed_meta_keys)
            .transpose()
            .map_err(SendError::Encode)?
            .flatten();
        let frame = frame::encode_message(response, Some(correlation.id()), keys.as_ref())
            .map_err(SendError::Encode)?;
        if !correlation.claim() {
            return Err(SendError::AlreadyAnswered);
        }
        self.push(frame)
    }

    /// Answers a handled frame with an error: `RPC_ERROR` if it is correlated and not yet
    /// answered, `ERROR` if it is not correlated.
    pub(crate) fn answer_error(&self, correlation: Option<&Correlation>, error: &ErrorPayload) {
        let frame = match correlation {
            Some(c) if c.claim() => frame::encode_error(Some(c.id()), error),
            Some(_) => return,
            None => frame::encode_error(None, error),
        };
        // A closing connection cannot be told anything more.
        let _ = self.outbox.push(frame);
    }

    pub(crate) fn report(&self, kind: ErrorKind, wire_type: Option<&str>, error: ErrorPayload) {
        self.server
            .errors
            .report(ErrorEvent::new(kind, error).on(self.id, wire_type));
    }

    /// Answers a frame that never reached a handler.
    pub(crate) fn refuse(
        &self,
        correlation_id: Option<&str>,
        error: ErrorPayload,
        kind: ErrorKind,
    ) {
        let _ = self
            .outbox
            .push(frame::encode_error(correlation_id, &error));
        self.report(kind, None, error);
    }

    fn lock_topics(&self) -> MutexGuard<'_, Topics> {
        self.topics.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn topics(&self) -> Vec<String> {
        self.lock_topics()
            .names
            .iter()
            .map(|t| t.to_string())
            .collect()
    }

    pub(crate) async fn subscribe(&self, topic: &str) -> Result<(), SubscribeError> {
        validate_topic(topic)?;
        {
            let mut topics = self.lock_topics();
            if topics.closed {
                return Err(SubscribeError::Closed);
            }
            if topics.names.iter().any(|t| &**t == topic) {
                return Ok(());
            }
            topics.names.push(Arc::from(topic));
        }
        let subscriber = Subscriber::new(self.id, Arc::clone(&self.outbox));
        if let Err(err) = self.server.pubsub.subscribe(topic, subscriber).await {
            self.lock_topics().names.retain(|t| &**t != topic);
            self.report(ErrorKind::PubSub, None, err.payload().clone());
            return Err(err.into());
        }
        Ok(())
    }

    pub(crate) async fn unsubscribe(&self, topic: &str) -> Result<(), SubscribeError> {
        validate_topic(topic)?;
        {
            let mut topics = self.lock_topics();
            let before = topics.names.len();
            topics.names.retain(|t| &**t != topic);
            if topics.names.len() == before {
                return Ok(());
            }
        }
        self.server
            .pubsub
            .unsubscribe(topic, self.id)
            .await
            .map_err(|err| {
                self.report(ErrorKind::PubSub, None, err.payload().clone());
                err.into()
            })
    }

    pub(crate) async fn unsubscribe_all(&self) {
        let names = {
            let mut topics = self.lock_topics();
            topics.closed = true;
            std::mem::take(&mut topics.names)
        };
        for topic in names {
            if let Err(err) = self.server.pubsub.unsubscribe(&topic, self.id).await {
                self.report(ErrorKind::PubSub, None, err.payload().clone());
            }
        }
    }
}

impl From<PushError> for SendError {
    fn from(err: PushError) -> Self {
        match err {
            PushError::Full => SendError::QueueFull,
            PushError::Closed => SendError::Closed,
        }
    }
}
