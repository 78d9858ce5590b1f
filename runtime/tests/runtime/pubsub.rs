//! Pub/sub: subscribe, publish (one encoding, shared), exclude-sender, unsubscribe, the
//! automatic unsubscribe on close and no subscribing after it, topic validation, backend
//! failures.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use twinwire::message;
use twinwire_runtime::pubsub::PubSubFuture;
use twinwire_runtime::{
    CloseInfo, ConnectionId, Context, ErrorKind, Frame, MemoryPubSub, PubSub, PubSubError,
    PublishOptions, Router, Server, ServerHandle, SubscribeError, pubsub::Subscriber,
};

use crate::common::{Echoed, Events, PATIENCE, Raw, test_config, test_router};

/// Subscribe to a topic.
#[message("JOIN")]
pub struct Join {
    pub topic: String,
}

/// Unsubscribe from a topic.
#[message("LEAVE")]
pub struct Leave {
    pub topic: String,
}

/// Publish to a topic.
#[message("SAY")]
pub struct Say {
    pub topic: String,
    pub text: String,
    #[serde(default)]
    pub exclude_self: bool,
}

/// What subscribers receive.
#[message("SAID")]
#[derive(Debug)]
pub struct Said {
    pub text: String,
}

twinwire::protocol! {
    /// The messages of the pub/sub tests.
    pub PubSubTests {
        client: [Join, Leave, Say],
        server: [Said],
    }
}

fn chat_router() -> Router<()> {
    test_router()
        .on(|ctx: Context, join: Join| async move {
            ctx.subscribe(&join.topic).await?;
            ctx.send(&Echoed {
                text: ctx.topics().join(","),
            })?;
            Ok(())
        })
        .on(|ctx: Context, leave: Leave| async move {
            ctx.unsubscribe(&leave.topic).await?;
            ctx.send(&Echoed {
                text: ctx.topics().join(","),
            })?;
            Ok(())
        })
        .on(|ctx: Context, say: Say| async move {
            let options = if say.exclude_self {
                PublishOptions::new().exclude_self()
            } else {
                PublishOptions::new()
            };
            ctx.publish_with(&say.topic, &Said { text: say.text }, options)
                .await?;
            Ok(())
        })
}

/// Counts publishes reaching the backend.
#[derive(Default)]
struct Counting {
    inner: MemoryPubSub,
    publishes: AtomicUsize,
}

impl PubSub for Counting {
    fn subscribe<'a>(&'a self, topic: &'a str, subscriber: Subscriber) -> PubSubFuture<'a> {
        self.inner.subscribe(topic, subscriber)
    }

    fn unsubscribe<'a>(&'a self, topic: &'a str, id: ConnectionId) -> PubSubFuture<'a> {
        self.inner.unsubscribe(topic, id)
    }

    fn publish<'a>(
        &'a self,
        topic: &'a str,
        frame: Frame,
        exclude: Option<ConnectionId>,
    ) -> PubSubFuture<'a> {
        self.publishes.fetch_add(1, Ordering::SeqCst);
        self.inner.publish(topic, frame, exclude)
    }

    fn subscriber_count(&self, topic: &str) -> usize {
        self.inner.subscriber_count(topic)
    }
}

async fn start_with(pubsub: Arc<dyn PubSub>) -> ServerHandle {
    Server::builder(chat_router())
        .config(test_config())
        .pubsub(pubsub)
        .build()
        .unwrap()
        .bind("127.0.0.1:0")
        .await
        .unwrap()
}

async fn join(raw: &mut Raw, topic: &str) -> String {
    raw.json(json!({"type": "JOIN", "payload": {"topic": topic}}))
        .await;
    let answer = raw.recv().await;
    assert_eq!(answer["type"], "ECHOED", "{answer}");
    answer["payload"]["text"].as_str().unwrap().to_owned()
}

async fn recv_text(raw: &mut Raw) -> String {
    tokio::time::timeout(PATIENCE, futures_util::StreamExt::next(&mut raw.ws))
        .await
        .unwrap()
        .unwrap()
        .unwrap()
        .into_text()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_published_message_reaches_every_subscriber_in_one_encoding() {
    let backend = Arc::new(Counting::default());
    let server = start_with(backend.clone()).await;
    let mut subscribers = Vec::new();
    for _ in 0..3 {
        let mut raw = Raw::connect(&server.url()).await;
        assert_eq!(join(&mut raw, "room:1").await, "room:1");
        subscribers.push(raw);
    }
    let mut bystander = Raw::connect(&server.url()).await;
    join(&mut bystander, "room:2").await;

    subscribers[0]
        .json(json!({"type": "SAY", "payload": {"topic": "room:1", "text": "hi"}}))
        .await;
    let mut frames = Vec::new();
    for raw in &mut subscribers {
        frames.push(recv_text(raw).await);
    }
    // One encoding, one backend publish: every copy is the same text, timestamp included.
    assert_eq!(backend.publishes.load(Ordering::SeqCst), 1);
    assert!(frames.iter().all(|f| f == &frames[0]), "{frames:?}");
    let frame: serde_json::Value = serde_json::from_str(&frames[0]).unwrap();
    assert_eq!(frame["type"], "SAID");
    assert_eq!(frame["payload"]["text"], "hi");
    // The bystander got nothing: its next frame answers its own request.
    bystander.still_serves().await;
    drop((subscribers, bystander));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn exclude_self_skips_the_sender() {
    let server = start_with(Arc::new(MemoryPubSub::new())).await;
    let mut alice = Raw::connect(&server.url()).await;
    let mut bob = Raw::connect(&server.url()).await;
    join(&mut alice, "room").await;
    join(&mut bob, "room").await;
    alice
        .json(json!({"type": "SAY", "payload": {"topic": "room", "text": "quiet", "excludeSelf": true}}))
        .await;
    assert_eq!(bob.recv().await["payload"]["text"], "quiet");
    alice.still_serves().await;
    drop((alice, bob));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn unsubscribe_and_close_both_end_a_subscription() {
    let backend = Arc::new(MemoryPubSub::new());
    let server = start_with(backend.clone()).await;
    let mut raw = Raw::connect(&server.url()).await;
    assert_eq!(join(&mut raw, "a").await, "a");
    assert_eq!(join(&mut raw, "b").await, "a,b");
    // Subscribing twice is a no-op.
    assert_eq!(join(&mut raw, "b").await, "a,b");
    assert_eq!(backend.subscriber_count("b"), 1);

    raw.json(json!({"type": "LEAVE", "payload": {"topic": "a"}}))
        .await;
    assert_eq!(raw.recv().await["payload"]["text"], "b");
    assert_eq!(backend.subscriber_count("a"), 0);
    server
        .server()
        .publish(
            "a",
            &Said {
                text: "to a".into(),
            },
        )
        .await
        .unwrap();
    raw.still_serves().await;

    // From outside any handler.
    server
        .server()
        .publish(
            "b",
            &Said {
                text: "to b".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(raw.recv().await["payload"]["text"], "to b");

    drop(raw);
    tokio::time::timeout(PATIENCE, async {
        while backend.topic_count() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the closed connection left every topic");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_connection_that_has_closed_cannot_subscribe() {
    let backend = Arc::new(MemoryPubSub::new());
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = std::sync::Mutex::new(Some(tx));
    // The close hook runs after the connection left its topics: a task that outlived the
    // connection is in the same place.
    let router = chat_router().on_close(move |ctx: Context, _: CloseInfo| {
        let tx = tx.lock().unwrap().take();
        async move {
            let result = ctx.subscribe("late").await;
            if let Some(tx) = tx {
                let _ = tx.send((result, ctx.topics()));
            }
        }
    });
    let server = Server::builder(router)
        .config(test_config())
        .pubsub(backend.clone())
        .build()
        .unwrap()
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let mut raw = Raw::connect(&server.url()).await;
    assert_eq!(join(&mut raw, "a").await, "a");
    drop(raw);

    let (result, topics) = tokio::time::timeout(PATIENCE, rx).await.unwrap().unwrap();
    assert!(matches!(result, Err(SubscribeError::Closed)), "{result:?}");
    assert!(topics.is_empty(), "{topics:?}");
    assert_eq!(backend.subscriber_count("late"), 0);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn invalid_topics_are_refused() {
    let server = start_with(Arc::new(MemoryPubSub::new())).await;
    let mut raw = Raw::connect(&server.url()).await;
    let long = "x".repeat(300);
    for topic in ["", "has space", "__system", long.as_str()] {
        raw.json(json!({"type": "JOIN", "payload": {"topic": topic}}))
            .await;
        let answer = raw.recv().await;
        assert_eq!(answer["type"], "ERROR");
        assert_eq!(answer["payload"]["code"], "INVALID_ARGUMENT");
        assert!(
            answer["payload"]["message"]
                .as_str()
                .unwrap()
                .contains("topic")
        );
        raw.json(json!({"type": "SAY", "payload": {"topic": topic, "text": "x"}}))
            .await;
        assert_eq!(raw.recv().await["payload"]["code"], "INVALID_ARGUMENT");
    }
    raw.still_serves().await;
    drop(raw);
    server.shutdown().await.unwrap();
}

/// A broker that is down.
struct Down;

impl PubSub for Down {
    fn subscribe<'a>(&'a self, _: &'a str, _: Subscriber) -> PubSubFuture<'a> {
        PubSubFuture::boxed(async { Err(PubSubError::unavailable("broker unreachable")) })
    }

    fn unsubscribe<'a>(&'a self, _: &'a str, _: ConnectionId) -> PubSubFuture<'a> {
        PubSubFuture::ready(Ok(()))
    }

    fn publish<'a>(&'a self, _: &'a str, _: Frame, _: Option<ConnectionId>) -> PubSubFuture<'a> {
        PubSubFuture::boxed(async { Err(PubSubError::unavailable("broker unreachable")) })
    }

    fn subscriber_count(&self, _: &str) -> usize {
        0
    }
}

#[tokio::test]
async fn backend_failures_reach_the_client_and_the_error_hook() {
    let events = Events::default();
    let server = Server::builder(chat_router().on_error(events.hook()))
        .config(test_config())
        .pubsub(Arc::new(Down))
        .build()
        .unwrap()
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let mut raw = Raw::connect(&server.url()).await;
    for frame in [
        json!({"type": "JOIN", "payload": {"topic": "t"}}),
        json!({"type": "SAY", "payload": {"topic": "t", "text": "x"}}),
    ] {
        raw.json(frame).await;
        let answer = raw.recv().await;
        assert_eq!(answer["payload"]["code"], "UNAVAILABLE", "{answer}");
        assert_eq!(answer["payload"]["message"], "broker unreachable");
    }
    // A failed subscribe is not remembered as a subscription.
    raw.json(json!({"type": "LEAVE", "payload": {"topic": "t"}}))
        .await;
    assert_eq!(raw.recv().await["payload"]["text"], "");
    let event = events.wait_for(|e| e.kind == ErrorKind::PubSub).await;
    assert_eq!(event.error.message, "broker unreachable");
    drop(raw);
    server.shutdown().await.unwrap();
}
