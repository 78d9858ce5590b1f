//! [`RedisPubSub`]: the runtime's [`PubSub`] over Redis.

use std::fmt;
use std::sync::Arc;

use redis::AsyncCommands;
use tokio::sync::{mpsc, oneshot};
use twinwire::{ErrorCode, ErrorPayload};
use twinwire_runtime::pubsub::{PubSubFuture, Subscriber};
use twinwire_runtime::{ConnectionId, ErrorSink, Frame, PubSub, PubSubError};

use crate::config::RedisConfig;
use crate::error::ConnectError;
use crate::link::{self, Link};
use crate::state::InstanceState;
use crate::supervisor::{Command, Supervisor};
use crate::wire::{self, Channels, InstanceId};

/// Pub/sub shared by every server instance connected to one Redis. See the
/// [crate docs](crate) for the guarantees and for what an outage loses.
///
/// Hand it to a server as an `Arc<RedisPubSub>` through
/// [`ServerBuilder::pubsub`](twinwire_runtime::ServerBuilder::pubsub); servers of one
/// process may share it. Dropping the last handle stops its task and closes its
/// connections to Redis.
pub struct RedisPubSub {
    state: Arc<InstanceState>,
    commands: mpsc::UnboundedSender<Command>,
}

impl RedisPubSub {
    /// Connects to Redis and starts the instance's background task (on the current tokio
    /// runtime), which keeps the connection and reconnects after an outage.
    ///
    /// # Errors
    /// A [`ConnectError`] when the URL is invalid or Redis cannot be reached now: a server
    /// should fail at startup rather than come up without its other instances.
    pub async fn connect(config: RedisConfig) -> Result<Self, ConnectError> {
        let url = config.redacted_url();
        let client =
            redis::Client::open(config.url.as_str()).map_err(|err| ConnectError::InvalidUrl {
                url: url.clone(),
                reason: err.to_string(),
            })?;
        let instance =
            InstanceId::random().map_err(|err| ConnectError::NoRandomness(err.to_string()))?;
        let link = Link::open(&client, &config)
            .await
            .map_err(|err| ConnectError::Unreachable {
                url: url.clone(),
                reason: err.to_string(),
            })?;
        let state = Arc::new(InstanceState::new(
            instance,
            Channels::new(config.prefix.clone()),
            url,
        ));
        let (commands, inbox) = mpsc::unbounded_channel();
        let supervisor = Supervisor::new(Arc::clone(&state), client, config, inbox);
        tokio::spawn(supervisor.run(link));
        Ok(Self { state, commands })
    }

    /// This instance's id, as it tags the messages it publishes (32 hex digits).
    pub fn instance_id(&self) -> &str {
        self.state.instance.as_str()
    }

    /// Whether the connection to Redis is up now.
    pub fn is_connected(&self) -> bool {
        self.state.publisher().is_some()
    }

    /// The Redis channel that carries `topic` (the topic behind the configured prefix).
    pub fn channel(&self, topic: &str) -> String {
        self.state.channels.channel(topic)
    }

    /// How many connections of this instance are subscribed to `topic`.
    pub fn subscriber_count(&self, topic: &str) -> usize {
        self.state.local.subscriber_count(topic)
    }

    /// Asks the task to bring `topic`'s channel in line with its local subscribers, and
    /// waits for the outcome unless `wait` is false.
    async fn sync(&self, topic: &str, wait: bool) -> Result<(), PubSubError> {
        let (reply, outcome) = oneshot::channel();
        let command = Command::Sync {
            topic: Arc::from(topic),
            reply: wait.then_some(reply),
        };
        let stopped = || PubSubError::unavailable("the Redis pub/sub task has stopped");
        self.commands.send(command).map_err(|_| stopped())?;
        if !wait {
            return Ok(());
        }
        outcome.await.unwrap_or_else(|_| Err(stopped()))
    }
}

impl PubSub for RedisPubSub {
    /// Adds the local subscriber; on the topic's first, subscribes its channel and waits for
    /// Redis to confirm. Fails with `UNAVAILABLE` (and subscribes nothing) while Redis is
    /// unreachable, so `Ok` means messages from every instance will arrive.
    fn subscribe<'a>(&'a self, topic: &'a str, subscriber: Subscriber) -> PubSubFuture<'a> {
        PubSubFuture::boxed(async move {
            let id = subscriber.id();
            self.state.local.subscribe(topic, subscriber).await?;
            let result = self.sync(topic, true).await;
            if result.is_err() {
                self.state.local.unsubscribe(topic, id).await?;
                // The rollback is a change too; nobody needs to wait for it.
                let _ = self.sync(topic, false).await;
            }
            result
        })
    }

    /// Removes the local subscriber; after the topic's last, unsubscribes its channel.
    fn unsubscribe<'a>(&'a self, topic: &'a str, id: ConnectionId) -> PubSubFuture<'a> {
        PubSubFuture::boxed(async move {
            self.state.local.unsubscribe(topic, id).await?;
            // While others remain, whoever leaves last will sync.
            if self.state.local.subscriber_count(topic) > 0 {
                return Ok(());
            }
            self.sync(topic, true).await
        })
    }

    /// Publishes to Redis, then delivers to the local subscribers; the copy Redis echoes
    /// back to this instance is skipped. While Redis is unreachable, or when `PUBLISH`
    /// fails, nobody gets the message and the caller gets `UNAVAILABLE`.
    fn publish<'a>(
        &'a self,
        topic: &'a str,
        frame: Frame,
        exclude: Option<ConnectionId>,
    ) -> PubSubFuture<'a> {
        PubSubFuture::boxed(async move {
            let Some(mut publisher) = self.state.publisher() else {
                return Err(self.state.outage("the message was not published"));
            };
            let message = wire::encode(&self.state.instance, frame.as_str());
            let channel = self.state.channels.channel(topic);
            let published: Result<usize, _> = publisher.connection.publish(channel, message).await;
            match published {
                Ok(_) => {
                    self.state.local.deliver(topic, &frame, exclude);
                    Ok(())
                }
                Err(err) if link::is_refusal(&err) => Err(PubSubError::new(ErrorPayload::new(
                    ErrorCode::Internal,
                    format!("Redis refused to publish to `{topic}`: {err}"),
                ))),
                Err(err) => {
                    let _ = self.commands.send(Command::Check {
                        generation: publisher.generation,
                    });
                    // Clients see this: the error, not the Redis host.
                    Err(PubSubError::unavailable(format!(
                        "publishing to Redis failed ({err}); the message was not delivered \
                         here, though other instances may have got it if Redis received it \
                         before the failure"
                    )))
                }
            }
        })
    }

    /// The subscribers on this instance. Not `PUBSUB NUMSUB`: Redis counts one subscribing
    /// connection per instance, whatever the number of WebSocket connections behind it.
    fn subscriber_count(&self, topic: &str) -> usize {
        self.state.local.subscriber_count(topic)
    }

    fn attach(&self, errors: ErrorSink) {
        self.state.add_sink(errors);
    }
}

impl fmt::Debug for RedisPubSub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisPubSub")
            .field("url", &self.state.url)
            .field("instance", &self.state.instance)
            .field("channels", &self.state.channels)
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}
