//! The chat example with two server instances sharing one Redis (a real `redis-server`,
//! started by the test on a free port; the test skips when it is not installed).

use std::sync::{Arc, Mutex};

use chat_protocol::{
    AuthSuccess, Authenticate, ChatMessage, JoinRoom, SendMessage, TypingStart, UserJoined,
    UserTyping,
};
use chat_server::{ChatConfig, ChatServer};
use twinwire::Message;
use twinwire_redis::{RedisConfig, RedisPubSub};
use twinwire_runtime::Client;
use twinwire_test_support::{PATIENCE, RedisServer, eventually};

async fn chat_instance(redis: &RedisServer, static_dir: &std::path::Path) -> ChatServer {
    let pubsub = RedisPubSub::connect(RedisConfig::new(redis.url()).prefix("chat:"))
        .await
        .expect("connect to Redis");
    let mut config = ChatConfig::new(([127, 0, 0, 1], 0).into(), static_dir);
    config.pubsub = Some(Arc::new(pubsub));
    chat_server::start(config)
        .await
        .expect("chat server starts")
}

/// What a peer received of one kind, in order.
type Log = Arc<Mutex<Vec<String>>>;

/// Records `field` of every `M` the client receives.
fn record<M: Message>(client: &Client, field: fn(M) -> String) -> Log {
    let log = Log::default();
    let sink = Arc::clone(&log);
    client.on(move |msg: M, _| sink.lock().expect("log lock").push(field(msg)));
    log
}

/// A chat user recording the chat messages, typing events and joins it receives.
struct Peer {
    client: Client,
    said: Log,
    typing: Log,
    joined: Log,
}

impl Peer {
    async fn signed_in(server: &ChatServer, name: &str) -> Self {
        let client = Client::connect(server.ws_url()).await.expect("connect");
        let said = record(&client, |m: ChatMessage| m.text);
        let typing = record(&client, |m: UserTyping| m.user_name);
        let joined = record(&client, |m: UserJoined| m.user_name);
        let (signed_in, mut rx) = tokio::sync::mpsc::unbounded_channel();
        client.on(move |_: AuthSuccess, _| {
            let _ = signed_in.send(());
        });
        let peer = Self {
            client,
            said,
            typing,
            joined,
        };
        peer.send(&Authenticate {
            token: server.accounts().issue(name),
        })
        .await;
        tokio::time::timeout(PATIENCE, rx.recv())
            .await
            .expect("AUTH_SUCCESS in time")
            .expect("AUTH_SUCCESS");
        peer
    }

    async fn send<M: Message>(&self, msg: &M) {
        self.client.send(msg).await.expect("send");
    }

    fn count(log: &Log, item: &str) -> usize {
        log.lock()
            .expect("log lock")
            .iter()
            .filter(|x| *x == item)
            .count()
    }

    async fn wait(log: &Log, item: &str) {
        eventually(&format!("{item:?} to arrive"), || {
            (Self::count(log, item) > 0).then_some(())
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_chat_servers_share_rooms_through_redis() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let page = tempfile::tempdir().unwrap();
    let a = chat_instance(&redis, page.path()).await;
    let b = chat_instance(&redis, page.path()).await;
    let alice = Peer::signed_in(&a, "alice").await;
    let bob = Peer::signed_in(&b, "bob").await;

    alice
        .send(&JoinRoom {
            room_id: "general".into(),
        })
        .await;
    Peer::wait(&alice.joined, "alice").await;
    bob.send(&JoinRoom {
        room_id: "general".into(),
    })
    .await;
    // Bob's join is announced to the room on the other instance.
    Peer::wait(&alice.joined, "bob").await;
    assert!(redis.channels().contains(&"chat:room:general".to_owned()));

    let post = |text: &str| SendMessage {
        room_id: "general".into(),
        text: text.into(),
        attachment: None,
    };
    alice.send(&post("hello from A")).await;
    alice.send(&post("marker from A")).await;
    bob.send(&post("marker from B")).await;
    // As in runtime-redis/tests/redis.rs: a second copy of "hello from A" would reach Alice's instance
    // before Bob's marker, and Bob's before Alice's marker.
    Peer::wait(&alice.said, "marker from B").await;
    Peer::wait(&bob.said, "marker from A").await;
    for peer in [&alice, &bob] {
        Peer::wait(&peer.said, "hello from A").await;
        assert_eq!(Peer::count(&peer.said, "hello from A"), 1);
    }

    // Typing reaches the others only, across instances.
    bob.send(&TypingStart {
        room_id: "general".into(),
    })
    .await;
    Peer::wait(&alice.typing, "bob").await;
    // Published after Alice saw the typing event, so an echo of it would reach Bob first.
    alice.send(&post("seen you typing")).await;
    Peer::wait(&bob.said, "seen you typing").await;
    assert_eq!(Peer::count(&bob.typing, "bob"), 0);

    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}
