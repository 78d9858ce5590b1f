//! One instance's connection to Redis: the shared subscriber connection, the publisher
//! connection beside it, and what the subscriber has subscribed.
//!
//! Two connections because a RESP2 connection in subscribe mode accepts nothing but
//! (un)subscribe and `PING`; both are opened, checked and replaced together, so "the link"
//! is up or down as one.

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{MultiplexedConnection, PubSubSink, PubSubStream};
use redis::{AsyncConnectionConfig, RedisError};

use crate::config::RedisConfig;
use crate::wire::Channels;

/// How many channels one `SUBSCRIBE` names when many are resubscribed at once.
const SUBSCRIBE_BATCH: usize = 256;

/// Why the link failed.
#[derive(Debug)]
pub(crate) enum LinkError {
    /// Redis or the connection reported an error.
    Redis(RedisError),
    /// Redis did not answer in time.
    TimedOut { what: &'static str, after: Duration },
    /// The subscriber connection closed.
    Closed,
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Redis(err) => err.fmt(f),
            Self::TimedOut { what, after } => {
                write!(f, "{what} got no answer within {} ms", after.as_millis())
            }
            Self::Closed => f.write_str("the connection was closed"),
        }
    }
}

impl LinkError {
    /// See [`is_refusal`].
    pub(crate) fn is_refusal(&self) -> bool {
        matches!(self, Self::Redis(err) if is_refusal(err))
    }
}

/// Whether Redis answered with an error (an ACL `NOPERM`, say): the command failed but the
/// connection is fine and must not be replaced for it.
pub(crate) fn is_refusal(err: &RedisError) -> bool {
    matches!(
        err.kind(),
        redis::ErrorKind::Server(_) | redis::ErrorKind::Extension
    )
}

impl From<RedisError> for LinkError {
    fn from(err: RedisError) -> Self {
        Self::Redis(err)
    }
}

/// Runs `future` for at most `limit`.
async fn within<T>(
    limit: Duration,
    what: &'static str,
    future: impl Future<Output = Result<T, RedisError>>,
) -> Result<T, LinkError> {
    match tokio::time::timeout(limit, future).await {
        Ok(result) => result.map_err(LinkError::Redis),
        Err(_) => Err(LinkError::TimedOut { what, after: limit }),
    }
}

/// The live connections to Redis.
pub(crate) struct Link {
    sink: PubSubSink,
    pub(crate) messages: PubSubStream,
    pub(crate) publisher: MultiplexedConnection,
    /// Topics whose channels the subscriber connection has subscribed (confirmed).
    subscribed: HashSet<Arc<str>>,
    response_timeout: Duration,
}

impl Link {
    /// Opens both connections.
    pub(crate) async fn open(
        client: &redis::Client,
        config: &RedisConfig,
    ) -> Result<Self, LinkError> {
        let pubsub = within(
            config.connect_timeout,
            "connecting",
            client.get_async_pubsub(),
        )
        .await?;
        let (sink, messages) = pubsub.split();
        let publisher_config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(Some(config.response_timeout));
        let publisher = client
            .get_multiplexed_async_connection_with_config(&publisher_config)
            .await?;
        Ok(Self {
            sink,
            messages,
            publisher,
            subscribed: HashSet::new(),
            response_timeout: config.response_timeout,
        })
    }

    pub(crate) fn is_subscribed(&self, topic: &str) -> bool {
        self.subscribed.contains(topic)
    }

    pub(crate) fn subscribed_count(&self) -> usize {
        self.subscribed.len()
    }

    /// Subscribes the channels of `topics`, in batches, each confirmed by Redis.
    pub(crate) async fn subscribe(
        &mut self,
        channels: &Channels,
        topics: &[Arc<str>],
    ) -> Result<(), LinkError> {
        for batch in topics.chunks(SUBSCRIBE_BATCH) {
            let names: Vec<String> = batch.iter().map(|t| channels.channel(t)).collect();
            within(
                self.response_timeout,
                "SUBSCRIBE",
                self.sink.subscribe(names),
            )
            .await?;
            self.subscribed.extend(batch.iter().cloned());
        }
        Ok(())
    }

    /// Unsubscribes the channel of `topic`.
    pub(crate) async fn unsubscribe(
        &mut self,
        channels: &Channels,
        topic: &str,
    ) -> Result<(), LinkError> {
        // Forgotten first: if Redis does not confirm, the link is replaced anyway, and a
        // new link only subscribes what is still wanted.
        self.subscribed.remove(topic);
        within(
            self.response_timeout,
            "UNSUBSCRIBE",
            self.sink.unsubscribe(channels.channel(topic)),
        )
        .await
    }

    /// Checks that both connections still answer.
    pub(crate) async fn ping(&mut self) -> Result<(), LinkError> {
        within(
            self.response_timeout,
            "PING on the subscriber connection",
            self.sink.ping::<redis::Value>(),
        )
        .await?;
        within(
            self.response_timeout,
            "PING on the publisher connection",
            redis::cmd("PING").query_async::<redis::Value>(&mut self.publisher),
        )
        .await?;
        Ok(())
    }
}
