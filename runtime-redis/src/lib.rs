// Module layers, leaves first; a module uses only modules of earlier layers:
// 1. `backoff`, `config`, `error`, `events`, `wire`
// 2. `link` (config, wire), `state` (wire)
// 3. `supervisor` (backoff, config, events, link, state, wire)
// 4. `pubsub` (config, error, link, state, supervisor, wire)
// This file is the facade: docs, `mod` and `pub use` only.

//! Redis pub/sub for [`twinwire_runtime`]: several server instances (behind a load
//! balancer) share topics, so a message published on any instance reaches the subscribers
//! on every instance.
//!
//! ```no_run
//! use std::sync::Arc;
//! use twinwire_redis::{RedisConfig, RedisPubSub};
//! use twinwire_runtime::{Router, Server};
//!
//! # async fn demo(router: Router<()>) -> Result<(), Box<dyn std::error::Error>> {
//! let config = RedisConfig::new("redis://127.0.0.1:6379/").prefix("chat:");
//! let pubsub = Arc::new(RedisPubSub::connect(config).await?);
//! let server = Server::builder(router).pubsub(pubsub).build()?;
//! let running = server.bind("0.0.0.0:3000").await?;
//! # Ok(()) }
//! ```
//!
//! Handlers keep using [`Context::subscribe`](twinwire_runtime::Context::subscribe) and
//! [`Context::publish`](twinwire_runtime::Context::publish); only the backend changes.
//!
//! # How it works
//!
//! - Each instance keeps **two connections** to Redis, whatever its number of WebSocket
//!   connections and topics: one subscriber connection shared by every topic, and one
//!   (multiplexed) connection for `PUBLISH`, because a RESP2 connection in subscribe mode
//!   can do nothing else. A background task owns them.
//! - A topic's channel (`prefix + topic`, see [`RedisConfig::prefix`]) is subscribed while
//!   at least one local connection is subscribed to the topic, and unsubscribed when the
//!   last one leaves or closes. `subscribe` returns once Redis confirmed the subscription.
//! - The runtime encodes a published message once; that text goes to Redis tagged with the
//!   publishing instance's random id (`tw1:<id>:<frame>`), and each receiving instance
//!   wraps it once and queues the same frame for all its local subscribers. The publishing
//!   instance delivers to its own subscribers directly and skips the copy Redis echoes
//!   back, so nobody receives a message twice. Messages on our channels without the tag
//!   are dropped and reported ([`RedisEvent::MessageDropped`]).
//!
//! # Outages: what fails, what is lost
//!
//! Redis pub/sub delivers **at most once**: Redis keeps nothing for a subscriber that is
//! not connected. When the connection to Redis drops (Redis restarts, the network fails,
//! a health-check `PING` gets no answer within
//! [`response_timeout`](RedisConfig::response_timeout)):
//!
//! - the outage is reported to the router's `on_error` hook
//!   ([`RedisEvent::ConnectionLost`]), and the task reconnects with exponential backoff
//!   and jitter ([`RedisConfig::reconnect_backoff`]);
//! - meanwhile, [`publish`](twinwire_runtime::PubSub::publish) fails with `UNAVAILABLE`
//!   (a handler's `?` sends it to the client) and delivers to nobody, not even locally,
//!   so a client that retries does not duplicate the message; a `subscribe` fails with
//!   `UNAVAILABLE` and leaves no subscription behind; unsubscribing always works;
//! - WebSocket connections stay open and keep their subscriptions: once reconnected,
//!   every topic still wanted is subscribed again, the recovery is reported
//!   ([`RedisEvent::ConnectionRestored`]) and messages flow again.
//!
//! What is lost: every message other instances published while this instance was
//! disconnected (it was not subscribed, so Redis dropped them), and messages Redis had
//! accepted but not yet written to this instance when the connection broke. A publish
//! whose connection failed mid-command reports `UNAVAILABLE` although Redis may have
//! received it, so other instances may have delivered it. Applications that must not lose
//! messages need a log (Redis Streams, a database) and a way for clients to catch up; pub/sub
//! is for live updates.
//!
//! A command Redis answers with an error (an ACL that forbids a channel, say) is no outage:
//! that subscribe or publish fails with `INTERNAL`, and the connection stays.
//!
//! Error messages that reach clients never name the Redis host; the `on_error` events do
//! (with any password hidden).

mod backoff;
mod config;
mod error;
mod events;
mod link;
mod pubsub;
mod state;
mod supervisor;
mod wire;

pub use config::{RedisConfig, URL_ENV};
pub use error::ConnectError;
pub use events::RedisEvent;
pub use pubsub::RedisPubSub;
