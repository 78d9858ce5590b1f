//! The instance's one background task: owns the link to Redis, keeps the subscribed
//! channels equal to the topics that have local subscribers, hands incoming messages to the
//! local subscribers, and replaces the link when it fails.
//!
//! Subscription changes are serialized through this task. After every change to a topic's
//! local subscribers the caller sends [`Command::Sync`], and the task compares the topic's
//! local subscriber count *at that moment* with what Redis has. Whatever order concurrent
//! subscribes and unsubscribes arrive in, the last sync of a topic sees its final state, so
//! a channel is never left subscribed without local subscribers, nor the reverse.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::Msg;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{self, Instant, MissedTickBehavior};
use twinwire::{ErrorCode, ErrorPayload};
use twinwire_runtime::{Frame, PubSubError};

use crate::backoff::Backoff;
use crate::config::RedisConfig;
use crate::events;
use crate::link::{Link, LinkError};
use crate::state::{InstanceState, Publisher};
use crate::wire::{self, Incoming};

/// A request to the task.
pub(crate) enum Command {
    /// Make `topic`'s channel subscribed exactly when the topic has local subscribers.
    /// The reply is `Ok` when that holds now, or the topic has no local subscribers;
    /// `UNAVAILABLE` when it has some but Redis cannot be told.
    Sync {
        topic: Arc<str>,
        reply: Option<oneshot::Sender<Result<(), PubSubError>>>,
    },
    /// A publish on link `generation` failed: check that link now.
    Check { generation: u64 },
}

pub(crate) struct Supervisor {
    state: Arc<InstanceState>,
    client: redis::Client,
    config: RedisConfig,
    commands: mpsc::UnboundedReceiver<Command>,
    /// Topics with local subscribers, as of the last sync of each.
    wanted: HashSet<Arc<str>>,
    /// Numbers the links, so a late failure report about an old one is ignored.
    generation: u64,
}

/// Why serving a link ended.
enum Exit {
    /// Every handle is gone: the task ends.
    Stopped,
    /// The link failed and must be replaced.
    Lost(LinkError),
}

impl From<LinkError> for Exit {
    fn from(err: LinkError) -> Self {
        Self::Lost(err)
    }
}

impl Supervisor {
    pub(crate) fn new(
        state: Arc<InstanceState>,
        client: redis::Client,
        config: RedisConfig,
        commands: mpsc::UnboundedReceiver<Command>,
    ) -> Self {
        Self {
            state,
            client,
            config,
            commands,
            wanted: HashSet::new(),
            generation: 0,
        }
    }

    /// Serves `link`, and each link after it, until the handles are dropped.
    pub(crate) async fn run(mut self, mut link: Link) {
        self.install(&link);
        loop {
            let exit = self.serve(&mut link).await;
            self.state.set_publisher(None);
            drop(link);
            let Exit::Lost(cause) = exit else { return };

            let lost_at = Instant::now();
            self.state.report(events::connection_lost(
                &self.state.url,
                &cause.to_string(),
                self.wanted.len(),
            ));
            let Ok((next, attempts)) = self.reconnect().await else {
                return;
            };
            link = next;
            // Installed before the report, so a hook reacting to it can publish.
            self.install(&link);
            self.state.report(events::connection_restored(
                &self.state.url,
                attempts,
                lost_at.elapsed(),
                link.subscribed_count(),
            ));
        }
    }

    /// Makes `link` the one publishes go through.
    fn install(&mut self, link: &Link) {
        self.generation += 1;
        self.state.set_publisher(Some(Publisher {
            generation: self.generation,
            connection: link.publisher.clone(),
        }));
    }

    /// Handles commands and messages on a live link until it fails or the task stops.
    async fn serve(&mut self, link: &mut Link) -> Exit {
        let period = self
            .config
            .health_check_interval
            .max(Duration::from_millis(1));
        let mut health = time::interval_at(Instant::now() + period, period);
        health.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            if let Err(exit) = self.step(link, &mut health).await {
                return exit;
            }
        }
    }

    async fn step(&mut self, link: &mut Link, health: &mut time::Interval) -> Result<(), Exit> {
        tokio::select! {
            command = self.commands.recv() => match command.ok_or(Exit::Stopped)? {
                Command::Sync { topic, reply } => {
                    let wanted = self.note(&topic);
                    let result = Self::sync(&self.state, link, &topic, wanted).await;
                    let answer = match &result {
                        Err(err) if wanted && err.is_refusal() => {
                            Err(PubSubError::new(ErrorPayload::new(
                                ErrorCode::Internal,
                                format!("Redis refused to subscribe to `{topic}`: {err}"),
                            )))
                        }
                        Err(err) if wanted => Err(self.state.outage(&format!(
                            "cannot subscribe to `{topic}` ({err})"
                        ))),
                        _ => Ok(()),
                    };
                    if let Some(reply) = reply {
                        let _ = reply.send(answer);
                    }
                    match result {
                        Err(err) if !err.is_refusal() => return Err(Exit::Lost(err)),
                        _ => {}
                    }
                }
                Command::Check { generation } if generation == self.generation => {
                    link.ping().await?;
                }
                Command::Check { .. } => {}
            },
            message = link.messages.next() => match message {
                Some(message) => self.deliver(&message),
                None => return Err(Exit::Lost(LinkError::Closed)),
            },
            _ = health.tick() => link.ping().await?,
        }
        Ok(())
    }

    /// Records whether `topic` has local subscribers now; returns that.
    fn note(&mut self, topic: &Arc<str>) -> bool {
        let wanted = self.state.local.subscriber_count(topic) > 0;
        if wanted {
            self.wanted.insert(Arc::clone(topic));
        } else {
            self.wanted.remove(topic);
        }
        wanted
    }

    /// Brings `topic`'s subscription on `link` in line with `wanted`.
    async fn sync(
        state: &InstanceState,
        link: &mut Link,
        topic: &Arc<str>,
        wanted: bool,
    ) -> Result<(), LinkError> {
        match (wanted, link.is_subscribed(topic)) {
            (true, false) => {
                link.subscribe(&state.channels, std::slice::from_ref(topic))
                    .await
            }
            (false, true) => link.unsubscribe(&state.channels, topic).await,
            _ => Ok(()),
        }
    }

    /// Hands a message from another instance to the local subscribers.
    fn deliver(&self, message: &Msg) {
        let channel = message.get_channel_name();
        // Only our own channels are ever subscribed.
        let Some(topic) = self.state.channels.topic(channel) else {
            return;
        };
        match wire::decode(&self.state.instance, message.get_payload_bytes()) {
            Ok(Incoming::Frame(text)) => {
                self.state
                    .local
                    .deliver(topic, &Frame::from_text(text), None);
            }
            // Delivered locally when it was published.
            Ok(Incoming::Own) => {}
            Err(why) => self.state.report(events::message_dropped(channel, &why)),
        }
    }

    /// Answers a command while there is no link.
    fn answer_offline(&mut self, command: Command) {
        if let Command::Sync { topic, reply } = command {
            let wanted = self.note(&topic);
            let answer = if wanted {
                Err(self.state.outage(&format!("cannot subscribe to `{topic}`")))
            } else {
                Ok(())
            };
            if let Some(reply) = reply {
                let _ = reply.send(answer);
            }
        }
    }

    /// Opens a new link, with backoff between attempts, and subscribes every wanted topic.
    /// Commands are answered meanwhile. Returns the link and the number of attempts.
    async fn reconnect(&mut self) -> Result<(Link, u32), Exit> {
        let mut backoff = Backoff::new(self.config.reconnect_min, self.config.reconnect_max);
        let mut attempts = 0u32;
        loop {
            let wait = time::sleep(backoff.next_delay());
            tokio::pin!(wait);
            loop {
                tokio::select! {
                    () = &mut wait => break,
                    command = self.commands.recv() => self.answer_offline(command.ok_or(Exit::Stopped)?),
                }
            }
            attempts = attempts.saturating_add(1);
            // Owned, so commands can be answered (`&mut self`) while it runs.
            let (client, config) = (self.client.clone(), self.config.clone());
            let opening = async move { Link::open(&client, &config).await };
            tokio::pin!(opening);
            let opened = loop {
                tokio::select! {
                    opened = &mut opening => break opened,
                    command = self.commands.recv() => self.answer_offline(command.ok_or(Exit::Stopped)?),
                }
            };
            let Ok(mut link) = opened else { continue };
            let wanted: Vec<Arc<str>> = self.wanted.iter().cloned().collect();
            if link.subscribe(&self.state.channels, &wanted).await.is_ok() {
                return Ok((link, attempts));
            }
        }
    }
}
