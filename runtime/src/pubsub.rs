//! Topic pub/sub behind the [`PubSub`] trait, with the in-memory [`MemoryPubSub`].
//!
//! The runtime does the per-connection bookkeeping: it validates topic names, remembers
//! which topics each connection joined (so it can leave them all when the connection
//! closes), makes `subscribe` idempotent, and encodes a published message once into a
//! [`Frame`] that every recipient shares. A backend only maps topics to subscribers and
//! moves frames.
//!
//! # Writing a backend (e.g. Redis)
//!
//! A multi-instance backend keeps a local map like [`MemoryPubSub`] (it can embed one) and
//! one shared connection to the broker per instance:
//!
//! - [`PubSub::subscribe`] adds the local subscriber and, when it is the topic's first on
//!   this instance, subscribes the broker channel; [`PubSub::unsubscribe`] removes it and
//!   unsubscribes the channel after the last one leaves. Both are async so the broker
//!   round trip is awaited before the handler continues.
//! - [`PubSub::publish`] delivers to local subscribers at once (honouring `exclude`, which
//!   only ever names a local connection) and sends the frame's text to the broker tagged
//!   with an instance id; the instance's single subscriber task hands incoming frames to
//!   the local map ([`MemoryPubSub::deliver`]) and skips its own tag. A broker that cannot be
//!   reached makes `publish` fail with [`PubSubError::unavailable`], which a handler can
//!   return with `?` (the client gets `UNAVAILABLE`).
//! - Failures noticed in the background (a dropped broker connection) go to the
//!   [`ErrorSink`] handed over in [`PubSub::attach`], which forwards them to the router's
//!   `on_error` hook.
//!
//! Delivery never waits on a subscriber: [`Subscriber::deliver`] queues the frame or, when
//! that connection's outbound queue is past its hard bound, closes it as a slow consumer.
//! A delivery made while a connection's handler publishes (with [`MemoryPubSub`], or any
//! backend that delivers locally before it returns) also pushes back on that connection
//! when the subscriber's queue is congested: its reading pauses until the queue drains
//! (see the crate docs, "Slow readers").

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context, Poll};

use twinwire::{ErrorCode, ErrorPayload};

use crate::connection::ConnectionId;
use crate::event::ErrorSink;
use crate::frame::Frame;
use crate::outbox::{Outbox, Pressure};

/// The longest topic name accepted, in bytes.
pub const MAX_TOPIC_LEN: usize = 256;

/// Why a topic name was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicError {
    reason: &'static str,
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid topic name: {}", self.reason)
    }
}

impl std::error::Error for TopicError {}

impl From<TopicError> for ErrorPayload {
    fn from(err: TopicError) -> Self {
        ErrorPayload::new(ErrorCode::InvalidArgument, err.to_string())
    }
}

/// Checks a topic name: 1 to [`MAX_TOPIC_LEN`] bytes, no whitespace or control characters
/// (so names survive logs and a broker's command line), and not starting with `__`, which
/// is kept for the runtime.
///
/// # Errors
/// A [`TopicError`] saying which rule the name breaks.
pub fn validate_topic(name: &str) -> Result<(), TopicError> {
    let reason = if name.is_empty() {
        "a topic must not be empty"
    } else if name.len() > MAX_TOPIC_LEN {
        "a topic must be at most 256 bytes long"
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "a topic must not contain whitespace or control characters"
    } else if name.starts_with("__") {
        "topics starting with `__` are reserved"
    } else {
        return Ok(());
    };
    Err(TopicError { reason })
}

/// A pub/sub backend failure.
#[derive(Clone, Debug, PartialEq)]
pub struct PubSubError {
    payload: ErrorPayload,
}

impl PubSubError {
    /// The backend cannot serve now (e.g. the broker is unreachable); retrying may work.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self {
            payload: ErrorPayload::new(ErrorCode::Unavailable, message),
        }
    }

    /// Any other failure, as the error payload a client would see.
    pub fn new(payload: ErrorPayload) -> Self {
        Self { payload }
    }

    /// The error as a client would see it.
    pub fn payload(&self) -> &ErrorPayload {
        &self.payload
    }
}

impl fmt::Display for PubSubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pub/sub: {}: {}",
            self.payload.code, self.payload.message
        )
    }
}

impl std::error::Error for PubSubError {}

impl From<PubSubError> for ErrorPayload {
    fn from(err: PubSubError) -> Self {
        err.payload
    }
}

/// A connection as pub/sub backends see it: an id and a non-blocking inbox.
#[derive(Clone)]
pub struct Subscriber {
    id: ConnectionId,
    outbox: Arc<Outbox>,
}

impl Subscriber {
    pub(crate) fn new(id: ConnectionId, outbox: Arc<Outbox>) -> Self {
        Self { id, outbox }
    }

    /// The connection's id.
    pub fn id(&self) -> ConnectionId {
        self.id
    }

    /// Queues `frame` for this connection without waiting. Returns `false` when the
    /// connection is closing, or when its queue went past its hard bound, in which case it
    /// is now being closed as a slow consumer (close code 1008). When the queue is
    /// congested and a connection's handler is publishing, that connection's reading
    /// pauses until the queue drains.
    pub fn deliver(&self, frame: &Frame) -> bool {
        match self.outbox.push(frame.clone()) {
            Ok(Pressure::High) => {
                self.outbox.push_back_on_publisher();
                true
            }
            Ok(Pressure::Normal) => true,
            Err(_) => false,
        }
    }
}

impl fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscriber").field("id", &self.id).finish()
    }
}

/// The future a [`PubSub`] method returns: ready at once for in-process backends (no
/// allocation on the publish path), boxed for backends that do I/O.
#[must_use = "futures do nothing unless awaited"]
pub struct PubSubFuture<'a>(Inner<'a>);

enum Inner<'a> {
    Ready(Option<Result<(), PubSubError>>),
    Boxed(Pin<Box<dyn Future<Output = Result<(), PubSubError>> + Send + 'a>>),
}

impl<'a> PubSubFuture<'a> {
    /// An already finished operation.
    pub fn ready(result: Result<(), PubSubError>) -> Self {
        Self(Inner::Ready(Some(result)))
    }

    /// An operation that has to wait, e.g. on a broker.
    pub fn boxed(future: impl Future<Output = Result<(), PubSubError>> + Send + 'a) -> Self {
        Self(Inner::Boxed(Box::pin(future)))
    }
}

impl Future for PubSubFuture<'_> {
    type Output = Result<(), PubSubError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().0 {
            Inner::Ready(result) => Poll::Ready(
                result
                    .take()
                    .unwrap_or_else(|| Err(PubSubError::unavailable("polled after completion"))),
            ),
            Inner::Boxed(future) => future.as_mut().poll(cx),
        }
    }
}

/// Moves published frames to subscribed connections. See the [module docs](self) for how
/// to write a multi-instance backend.
///
/// Topic names reaching a backend have passed [`validate_topic`]. The runtime calls
/// `subscribe` at most once per (topic, connection) until the matching `unsubscribe`, and
/// unsubscribes every topic of a connection when it closes.
pub trait PubSub: Send + Sync + 'static {
    /// Adds `subscriber` to `topic`.
    fn subscribe<'a>(&'a self, topic: &'a str, subscriber: Subscriber) -> PubSubFuture<'a>;

    /// Removes connection `id` from `topic`.
    fn unsubscribe<'a>(&'a self, topic: &'a str, id: ConnectionId) -> PubSubFuture<'a>;

    /// Delivers `frame` to every subscriber of `topic` except connection `exclude`.
    fn publish<'a>(
        &'a self,
        topic: &'a str,
        frame: Frame,
        exclude: Option<ConnectionId>,
    ) -> PubSubFuture<'a>;

    /// Called when a server starts using this backend, with where to report failures the
    /// backend notices on its own. In-process backends have none and keep the default.
    fn attach(&self, errors: ErrorSink) {
        let _ = errors;
    }

    /// How many connections of this server instance are subscribed to `topic`.
    ///
    /// Local by definition: a backend shared by several instances knows its own
    /// subscribers, while brokers count their own clients (Redis' `PUBSUB NUMSUB` counts
    /// one subscribing connection per instance, not WebSocket connections).
    fn subscriber_count(&self, topic: &str) -> usize;
}

type Subscribers = HashMap<ConnectionId, Subscriber>;

/// In-process pub/sub: the default backend of a single server instance.
///
/// Publishing walks the topic's subscribers under a read lock and queues the shared frame
/// on each; no task is spawned and nothing waits on a slow subscriber.
#[derive(Default)]
pub struct MemoryPubSub {
    topics: RwLock<HashMap<Arc<str>, Subscribers>>,
}

impl MemoryPubSub {
    /// An empty broker.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many connections are subscribed to `topic`.
    pub fn subscriber_count(&self, topic: &str) -> usize {
        let topics = self.topics.read().unwrap_or_else(PoisonError::into_inner);
        topics.get(topic).map_or(0, HashMap::len)
    }

    /// How many topics have at least one subscriber.
    pub fn topic_count(&self) -> usize {
        self.topics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Delivers to local subscribers; returns how many accepted the frame.
    pub fn deliver(&self, topic: &str, frame: &Frame, exclude: Option<ConnectionId>) -> usize {
        let delivered = self.deliver_counted(topic, frame, exclude);
        metrics::counter!(crate::telemetry::PUBSUB_DELIVERIES).increment(delivered as u64);
        delivered
    }

    fn deliver_counted(&self, topic: &str, frame: &Frame, exclude: Option<ConnectionId>) -> usize {
        let topics = self.topics.read().unwrap_or_else(PoisonError::into_inner);
        let Some(subscribers) = topics.get(topic) else {
            return 0;
        };
        subscribers
            .values()
            .filter(|s| Some(s.id) != exclude)
            .filter(|s| s.deliver(frame))
            .count()
    }
}

impl PubSub for MemoryPubSub {
    fn subscribe<'a>(&'a self, topic: &'a str, subscriber: Subscriber) -> PubSubFuture<'a> {
        let mut topics = self.topics.write().unwrap_or_else(PoisonError::into_inner);
        match topics.get_mut(topic) {
            Some(subscribers) => {
                subscribers.insert(subscriber.id, subscriber);
            }
            None => {
                topics.insert(
                    Arc::from(topic),
                    HashMap::from([(subscriber.id, subscriber)]),
                );
            }
        }
        PubSubFuture::ready(Ok(()))
    }

    fn unsubscribe<'a>(&'a self, topic: &'a str, id: ConnectionId) -> PubSubFuture<'a> {
        let mut topics = self.topics.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(subscribers) = topics.get_mut(topic) {
            subscribers.remove(&id);
            if subscribers.is_empty() {
                topics.remove(topic);
            }
        }
        PubSubFuture::ready(Ok(()))
    }

    fn publish<'a>(
        &'a self,
        topic: &'a str,
        frame: Frame,
        exclude: Option<ConnectionId>,
    ) -> PubSubFuture<'a> {
        self.deliver(topic, &frame, exclude);
        PubSubFuture::ready(Ok(()))
    }

    fn subscriber_count(&self, topic: &str) -> usize {
        MemoryPubSub::subscriber_count(self, topic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_follow_the_rules() {
        for good in ["room:1", "a", "users/42/typing", &"x".repeat(MAX_TOPIC_LEN)] {
            assert!(validate_topic(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            "a b",
            "tab\t",
            "nl\n",
            "__sys",
            &"x".repeat(MAX_TOPIC_LEN + 1),
        ] {
            assert!(validate_topic(bad).is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn memory_pubsub_fans_out_one_shared_frame_and_excludes_the_sender() {
        let broker = MemoryPubSub::new();
        let limits = crate::outbox::Limits::new(1024, std::time::Duration::from_secs(1));
        let a = Arc::new(Outbox::new(limits));
        let b = Arc::new(Outbox::new(limits));
        let (ida, idb) = (ConnectionId::next(), ConnectionId::next());
        broker
            .subscribe("t", Subscriber::new(ida, a.clone()))
            .await
            .unwrap();
        broker
            .subscribe("t", Subscriber::new(idb, b.clone()))
            .await
            .unwrap();
        assert_eq!(broker.subscriber_count("t"), 2);

        broker
            .publish("t", Frame::from_text("{}"), Some(ida))
            .await
            .unwrap();
        assert_eq!((a.len(), b.len()), (0, 1));
        broker
            .publish("t", Frame::from_text("{}"), None)
            .await
            .unwrap();
        assert_eq!((a.len(), b.len()), (1, 2));

        broker.unsubscribe("t", ida).await.unwrap();
        broker.unsubscribe("t", idb).await.unwrap();
        assert_eq!(broker.topic_count(), 0);

        // Every recipient holds the same bytes, not a copy.
        let (mut qa, mut qb) = (Default::default(), Default::default());
        assert!(a.take_into(&mut qa) && b.take_into(&mut qb));
        let (fa, fb): (&Frame, &Frame) = (&qa[0], &qb[1]);
        assert_eq!(fa.as_str().as_ptr(), fb.as_str().as_ptr());
    }
}
