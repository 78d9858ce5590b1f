//! Redis pub/sub against a real `redis-server` that each test starts on a free port.

mod common;

use std::time::Duration;

use common::{Instance, RedisReports, RedisServer, eventually, report};
use twinwire::ErrorCode;
use twinwire_redis::{ConnectError, RedisConfig, RedisEvent, RedisPubSub};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_topics_and_each_client_gets_a_message_once() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let a = Instance::start(&redis, "share:").await;
    let b = Instance::start(&redis, "share:").await;
    assert_ne!(a.pubsub.instance_id(), b.pubsub.instance_id());
    let (a1, a2, b1) = (a.client().await, a.client().await, b.client().await);
    for client in [&a1, &a2, &b1] {
        assert_eq!(client.join("room").await.unwrap(), ["room"]);
    }

    a1.say("room", "hello").await.unwrap();
    // Markers prove no late copy is on its way: Redis sends an instance its messages in
    // publish order, so a second copy of "hello" (an echo of A's own publish, or a double
    // subscription) would reach A before B's marker and B before A's marker.
    a1.say("room", "marker from A").await.unwrap();
    b1.say("room", "marker from B").await.unwrap();
    for client in [&a1, &a2] {
        client.wait_for("marker from B").await;
    }
    b1.wait_for("marker from A").await;
    for client in [&a1, &a2, &b1] {
        client.wait_for("hello").await;
        assert_eq!(client.count("hello"), 1, "{:?}", client.received());
        assert_eq!(client.count("marker from A"), 1, "{:?}", client.received());
    }

    // A publish from outside any handler takes the same path.
    a.handle
        .server()
        .publish(
            "room",
            &common::Said {
                text: "from a job".into(),
            },
        )
        .await
        .unwrap();
    b1.wait_for("from a job").await;
    assert!(a.events.all().is_empty() && b.events.all().is_empty());
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_channels_follow_local_subscriptions() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let a = Instance::start(&redis, "books:").await;
    let b = Instance::start(&redis, "books:").await;
    let (a1, a2, b1) = (a.client().await, a.client().await, b.client().await);
    assert!(redis.channels().is_empty());

    // `subscribe` returns after Redis confirmed: no waiting needed.
    a1.join("room").await.unwrap();
    assert_eq!(redis.channels(), ["books:room"]);
    a2.join("room").await.unwrap();
    assert_eq!(
        redis.subscribers("books:room"),
        1,
        "one subscription per instance"
    );
    b1.join("room").await.unwrap();
    assert_eq!(redis.subscribers("books:room"), 2);
    // The PubSub count is this instance's WebSocket connections, not Redis' NUMSUB.
    assert_eq!(a.handle.server().subscriber_count("room"), 2);
    assert_eq!(b.handle.server().subscriber_count("room"), 1);
    assert_eq!(a1.join("news").await.unwrap(), ["room", "news"]);
    assert_eq!(redis.channels(), ["books:news", "books:room"]);
    // One subscriber connection per instance, whatever the topics and WebSockets.
    assert_eq!(redis.subscriber_connections(), 2);
    assert_eq!(a.pubsub.subscriber_count("room"), 2);

    // The channel stays while a local subscriber remains, and goes with the last.
    a1.leave("room").await.unwrap();
    assert_eq!(redis.subscribers("books:room"), 2);
    a2.leave("room").await.unwrap();
    assert_eq!(redis.subscribers("books:room"), 1);
    // Leaving twice is harmless.
    assert_eq!(a2.leave("room").await.unwrap(), Vec::<String>::new());

    // Closing a connection ends its subscriptions.
    a1.client.close(1000, "bye").await.unwrap();
    eventually("books:news to go after its subscriber closed", || {
        (redis.channels() == ["books:room"]).then_some(())
    })
    .await;
    drop(b1);
    eventually("every channel to go after the last client left", || {
        redis.channels().is_empty().then_some(())
    })
    .await;
    assert_eq!(b.pubsub.subscriber_count("room"), 0);
    // Two connections per instance: the shared subscriber and the publisher.
    assert_eq!(redis.other_connections(), 4);

    // Dropping the last handle of each backend closes its connections.
    a.stop().await;
    b.stop().await;
    eventually(
        "the stopped instances to close their Redis connections",
        || (redis.other_connections() == 0).then_some(()),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_joins_and_leaves_leave_redis_consistent() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let a = Instance::start(&redis, "race:").await;
    let mut clients = Vec::new();
    for _ in 0..12 {
        clients.push(a.client().await);
    }
    // Every client joins and leaves the same topics in rounds, all at once, so first-join
    // and last-leave overlap in every order.
    for round in 0..8 {
        let keep = round % 2 == 1;
        let tasks: Vec<_> = clients
            .iter()
            .map(|client| async move {
                client.join("hot").await.unwrap();
                client.join("cold").await.unwrap();
                client.leave("cold").await.unwrap();
                if !keep {
                    client.leave("hot").await.unwrap();
                }
            })
            .collect();
        futures_util::future::join_all(tasks).await;
        let expected: &[&str] = if keep { &["race:hot"] } else { &[] };
        assert_eq!(redis.channels(), expected, "round {round}");
        assert_eq!(a.pubsub.subscriber_count("hot"), if keep { 12 } else { 0 });
    }
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restart_is_survived_without_reconnecting_clients() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let a = Instance::start(&redis, "").await;
    let b = Instance::start(&redis, "").await;
    let (a1, b1) = (a.client().await, b.client().await);
    a1.join("room").await.unwrap();
    b1.join("room").await.unwrap();
    a1.say("room", "before").await.unwrap();
    b1.wait_for("before").await;

    redis.kill();
    let lost = a.events.wait_for(report(RedisEvent::ConnectionLost)).await;
    b.events.wait_for(report(RedisEvent::ConnectionLost)).await;
    assert_eq!(lost.error.code, ErrorCode::Unavailable);
    assert_eq!(lost.error.details.as_ref().unwrap()["topics"], 1);
    assert!(!a.pubsub.is_connected());

    // During the outage publishes and new subscriptions fail loudly.
    let refused = a1.say("room", "during").await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Unavailable);
    assert!(
        refused.message.contains("Redis is down"),
        "{}",
        refused.message
    );
    // Clients are not told where Redis runs.
    assert!(
        !refused.message.contains("127.0.0.1"),
        "{}",
        refused.message
    );
    let refused = b1.join("elsewhere").await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Unavailable);
    // Unsubscribing still works, and the old subscription is kept for later.
    assert_eq!(b1.leave("elsewhere").await.unwrap(), ["room"]);

    redis.restart();
    let back = a
        .events
        .wait_for(report(RedisEvent::ConnectionRestored))
        .await;
    b.events
        .wait_for(report(RedisEvent::ConnectionRestored))
        .await;
    assert_eq!(back.error.details.as_ref().unwrap()["topics"], 1);
    assert!(a.pubsub.is_connected() && b.pubsub.is_connected());
    // Resubscribed exactly what is still wanted: not the refused topic.
    assert_eq!(redis.channels(), ["room"]);
    assert_eq!(redis.subscribers("room"), 2);

    // Same WebSocket connections, messages flow again both ways.
    a1.say("room", "after").await.unwrap();
    b1.say("room", "after from B").await.unwrap();
    for client in [&a1, &b1] {
        client.wait_for("after").await;
        client.wait_for("after from B").await;
        assert_eq!(client.count("during"), 0);
        assert!(
            client.client.close_info().is_none(),
            "the WebSocket stayed open"
        );
    }
    // One outage, reported once each way.
    for events in [&a.events, &b.events] {
        assert_eq!(
            events.redis(),
            [RedisEvent::ConnectionLost, RedisEvent::ConnectionRestored]
        );
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_stops_answering_is_noticed_by_the_health_check() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let config = RedisConfig::new(redis.url())
        .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(200))
        .connect_timeout(Duration::from_millis(500))
        .response_timeout(Duration::from_millis(500))
        .health_check_interval(Duration::from_millis(100));
    let a = Instance::with_config(config).await;
    let a1 = a.client().await;
    a1.join("room").await.unwrap();

    // The connections stay open, so only an unanswered PING can tell.
    redis.pause(true);
    let lost = a.events.wait_for(report(RedisEvent::ConnectionLost)).await;
    assert!(
        lost.cause.as_deref().unwrap().contains("PING"),
        "{:?}",
        lost.cause
    );
    let refused = a1.say("room", "into the void").await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Unavailable);

    redis.pause(false);
    a.events
        .wait_for(report(RedisEvent::ConnectionRestored))
        .await;
    a1.say("room", "back").await.unwrap();
    a1.wait_for("back").await;
    assert_eq!(redis.channels(), ["room"]);
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_on_a_dead_connection_fails_and_triggers_a_reconnect() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    // Health checks far apart: only the failed publish can reveal the dead connection.
    let config = RedisConfig::new(redis.url())
        .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(200))
        .health_check_interval(Duration::from_secs(3600));
    let a = Instance::with_config(config).await;
    let a1 = a.client().await;
    a1.join("room").await.unwrap();

    // Kill only the publisher connection (the one not in subscribe mode).
    let _: usize = redis.query(
        redis::cmd("CLIENT")
            .arg("KILL")
            .arg("TYPE")
            .arg("normal")
            .arg("SKIPME")
            .arg("yes"),
    );
    let refused = a1.say("room", "lost").await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Unavailable);
    a.events.wait_for(report(RedisEvent::ConnectionLost)).await;
    a.events
        .wait_for(report(RedisEvent::ConnectionRestored))
        .await;
    a1.say("room", "found").await.unwrap();
    a1.wait_for("found").await;
    assert_eq!(a1.count("lost"), 0);
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_redis_refuses_fail_alone_without_dropping_the_connection() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let a = Instance::start(&redis, "").await;
    let a1 = a.client().await;
    // The default user may now use the `open:` channels only.
    let _: String = redis.query(
        redis::cmd("ACL")
            .arg("SETUSER")
            .arg("default")
            .arg("resetchannels")
            .arg("&open:*"),
    );

    let refused = a1.join("secret").await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Internal);
    assert!(refused.message.contains("refused"), "{}", refused.message);
    let refused = a1.say("secret", "psst").await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Internal);

    // The connection stayed up and serves the allowed channels.
    a1.join("open:room").await.unwrap();
    a1.say("open:room", "fine").await.unwrap();
    a1.wait_for("fine").await;
    assert_eq!(redis.channels(), ["open:room"]);
    assert!(a.events.redis().is_empty(), "{:?}", a.events.redis());
    assert!(a.pubsub.is_connected());
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefixes_keep_apps_apart_and_foreign_messages_are_dropped() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let chat = Instance::start(&redis, "chat:").await;
    let chat2 = Instance::start(&redis, "chat:").await;
    let shop = Instance::start(&redis, "shop:").await;
    let (c1, c2, s1) = (
        chat.client().await,
        chat2.client().await,
        shop.client().await,
    );
    for client in [&c1, &c2, &s1] {
        client.join("room").await.unwrap();
    }
    assert_eq!(redis.channels(), ["chat:room", "shop:room"]);
    assert_eq!(chat.pubsub.channel("room"), "chat:room");

    // Not published by a twinwire instance: dropped and reported, never delivered.
    redis.publish(
        "chat:room",
        r#"{"type":"SAID","payload":{"text":"forged"}}"#,
    );
    // Tagged like an instance's publish (the documented format): delivered.
    let frame = r#"{"type":"SAID","payload":{"text":"from a worker"}}"#;
    redis.publish("chat:room", &format!("tw1:{}:{frame}", "0".repeat(32)));
    c2.say("room", "marker").await.unwrap();
    c1.wait_for("marker").await;
    c1.wait_for("from a worker").await;
    assert_eq!(c1.count("forged"), 0, "{:?}", c1.received());
    let dropped = chat
        .events
        .wait_for(report(RedisEvent::MessageDropped))
        .await;
    assert_eq!(
        dropped.error.details.as_ref().unwrap()["channel"],
        "chat:room"
    );
    assert_eq!(chat.events.redis(), [RedisEvent::MessageDropped]);

    s1.say("room", "shop only").await.unwrap();
    s1.wait_for("shop only").await;
    c1.say("room", "chat only").await.unwrap();
    c2.wait_for("chat only").await;
    // The shop's instance is subscribed to its own channel only (checked above), so it
    // never sees chat traffic.
    assert_eq!(s1.received(), ["shop only"]);
    chat.stop().await;
    chat2.stop().await;
    shop.stop().await;
}

#[tokio::test]
async fn connect_errors_say_what_to_fix_and_hide_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    // Nothing listens there any more.
    let url = format!("redis://:hunter2@127.0.0.1:{port}/");
    let err = RedisPubSub::connect(RedisConfig::new(url))
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectError::Unreachable { .. }), "{err:?}");
    let message = err.to_string();
    assert!(!message.contains("hunter2"), "{message}");
    assert!(
        message.contains(&format!("redis://:***@127.0.0.1:{port}/")),
        "{message}"
    );
    assert!(message.contains("redis-server is running"), "{message}");

    let err = RedisPubSub::connect(RedisConfig::new("http://:hunter2@localhost/"))
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectError::InvalidUrl { .. }), "{err:?}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(err.to_string().contains("expected redis://"), "{err}");
}
