//! twinwire server instances wired to a real `redis-server` (started per test by
//! `twinwire_test_support::RedisServer`), and clients that record what they receive.

// Helpers outside `#[test]` functions, where clippy.toml's test allowance does not reach;
// and each test binary uses only part of this module.
#![allow(clippy::unwrap_used, dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use twinwire::{ErrorPayload, message, rpc};
use twinwire_redis::{RedisConfig, RedisEvent, RedisPubSub};
use twinwire_runtime::{
    Client, ErrorEvent, RequestError, Router, RpcContext, Server, ServerHandle,
};
pub use twinwire_test_support::{Events, PATIENCE, RedisServer, eventually};

/// The Redis reports among the events a router's `on_error` hook recorded.
pub trait RedisReports {
    /// The Redis events so far, in order.
    fn redis(&self) -> Vec<RedisEvent>;
}

impl RedisReports for Events {
    fn redis(&self) -> Vec<RedisEvent> {
        self.all().iter().filter_map(RedisEvent::of).collect()
    }
}

/// Matches the `on_error` events that report `kind`.
pub fn report(kind: RedisEvent) -> impl Fn(&ErrorEvent) -> bool {
    move |event| RedisEvent::of(event) == Some(kind)
}

/// Subscribe this connection to a topic; answers with the connection's topics.
#[rpc("JOIN", response = Topics)]
pub struct Join {
    pub topic: String,
}

/// Unsubscribe this connection from a topic; answers with the connection's topics.
#[rpc("LEAVE", response = Topics)]
pub struct Leave {
    pub topic: String,
}

/// The connection's topics.
#[message("TOPICS")]
pub struct Topics {
    pub topics: Vec<String>,
}

/// Publish `text` to a topic.
#[rpc("SAY", response = Sent)]
pub struct Say {
    pub topic: String,
    pub text: String,
}

/// A publish succeeded.
#[message("SENT")]
pub struct Sent;

/// What subscribers receive.
#[message("SAID")]
pub struct Said {
    pub text: String,
}

// The server publishes only `server:` entries (`ServerMessage`), as in an app.
twinwire::protocol! {
    /// The messages of the Redis tests.
    pub RedisTests {
        server: [Said],
        rpc: [Join, Leave, Say],
    }
}

fn router(events: &Events) -> Router<()> {
    Router::new()
        .rpc(|ctx: RpcContext<(), Join>, join: Join| async move {
            ctx.subscribe(&join.topic).await?;
            Ok(Topics {
                topics: ctx.topics(),
            })
        })
        .rpc(|ctx: RpcContext<(), Leave>, leave: Leave| async move {
            ctx.unsubscribe(&leave.topic).await?;
            Ok(Topics {
                topics: ctx.topics(),
            })
        })
        .rpc(|ctx: RpcContext<(), Say>, say: Say| async move {
            ctx.publish(&say.topic, &Said { text: say.text }).await?;
            Ok(Sent)
        })
        .on_error(events.hook())
}

/// A twinwire server on 127.0.0.1 with Redis pub/sub.
pub struct Instance {
    pub handle: ServerHandle,
    pub pubsub: Arc<RedisPubSub>,
    pub events: Events,
}

impl Instance {
    /// An instance with `prefix` and quick reconnects.
    pub async fn start(redis: &RedisServer, prefix: &str) -> Self {
        let config = RedisConfig::new(redis.url())
            .prefix(prefix)
            .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(200));
        Self::with_config(config).await
    }

    pub async fn with_config(config: RedisConfig) -> Self {
        let pubsub = Arc::new(
            RedisPubSub::connect(config)
                .await
                .expect("connect to Redis"),
        );
        let events = Events::default();
        let handle = Server::builder(router(&events))
            .pubsub(pubsub.clone())
            .build()
            .expect("the test router builds")
            .bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        Self {
            handle,
            pubsub,
            events,
        }
    }

    pub async fn client(&self) -> TestClient {
        let client = Client::connect(self.handle.url()).await.expect("connect");
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let sink = inbox.clone();
        client.on(move |said: Said, _| sink.lock().unwrap().push(said.text));
        TestClient { client, inbox }
    }

    pub async fn stop(self) {
        self.handle.shutdown().await.expect("clean shutdown");
    }
}

/// A client that records the text of every `SAID` it receives.
pub struct TestClient {
    pub client: Client,
    inbox: Arc<Mutex<Vec<String>>>,
}

impl TestClient {
    pub async fn join(&self, topic: &str) -> Result<Vec<String>, ErrorPayload> {
        let join = Join {
            topic: topic.into(),
        };
        self.call(self.client.request(&join, PATIENCE).await)
            .map(|t| t.topics)
    }

    pub async fn leave(&self, topic: &str) -> Result<Vec<String>, ErrorPayload> {
        let leave = Leave {
            topic: topic.into(),
        };
        self.call(self.client.request(&leave, PATIENCE).await)
            .map(|t| t.topics)
    }

    pub async fn say(&self, topic: &str, text: &str) -> Result<(), ErrorPayload> {
        let say = Say {
            topic: topic.into(),
            text: text.into(),
        };
        self.call(self.client.request(&say, PATIENCE).await)
            .map(|Sent| ())
    }

    /// The server's error for an RPC it refused; any other failure ends the test.
    fn call<T>(&self, result: Result<T, RequestError>) -> Result<T, ErrorPayload> {
        result.map_err(|err| match err {
            RequestError::Rpc(payload) => payload,
            other => panic!("the request failed without an answer: {other}"),
        })
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<String> {
        self.inbox.lock().unwrap().clone()
    }

    /// How many times `text` was received.
    pub fn count(&self, text: &str) -> usize {
        self.received().iter().filter(|t| *t == text).count()
    }

    /// Waits until `text` has arrived.
    pub async fn wait_for(&self, text: &str) {
        eventually(&format!("{text:?} to arrive"), || {
            (self.count(text) > 0).then_some(())
        })
        .await;
    }
}
