//! The server API reached from outside handlers and the additions to `Context`: connection
//! handles, listing connections, server-level publish with `exclude`, subscriber counts,
//! the upgrade request and path parameters in handlers, and correlated event replies.

use std::time::Duration;

use serde_json::json;
use twinwire::message;
use twinwire_runtime::{Context, PublishOptions, Router, Server};

use crate::common::{Echoed, Ended, PATIENCE, Raw, start, test_config, test_router};

#[message("JOIN")]
#[derive(Clone, Debug, PartialEq)]
pub struct Join {
    pub topic: String,
}

#[message("JOINED")]
#[derive(Clone, Debug, PartialEq)]
pub struct Joined {
    pub subscribers: usize,
}

#[message("WHERE")]
#[derive(Clone, Debug, PartialEq)]
pub struct Where;

twinwire::protocol! {
    /// The messages of the server API tests (besides those of `common`).
    pub ServerApiTests {
        client: [Join, Where],
        server: [Joined],
    }
}

fn api_router() -> Router<()> {
    test_router()
        .on(|ctx: Context, join: Join| async move {
            ctx.subscribe(&join.topic).await?;
            ctx.send(&Joined {
                subscribers: ctx.subscriber_count(&join.topic),
            })?;
            Ok(())
        })
        .on(|ctx: Context, _: Where| async move {
            let request = ctx.upgrade_request();
            let text = format!(
                "room={} q={} peer={}",
                ctx.path_param("room").unwrap_or("-"),
                request.query("q").as_deref().unwrap_or("-"),
                request.remote_addr().is_some(),
            );
            // Answers with the frame's correlation id, twice: the second must be refused.
            ctx.reply_correlated(&Echoed { text })?;
            let again = ctx.reply_correlated(&Echoed {
                text: "again".into(),
            });
            if ctx.correlation_id().is_some() {
                assert!(again.is_err(), "a second correlated answer is refused");
            }
            Ok(())
        })
}

/// Waits until `server` lists `n` connections.
async fn until_listed(server: &Server, n: usize) -> Vec<twinwire_runtime::ConnectionId> {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let ids = server.connections();
            if ids.len() == n {
                return ids;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the connections to be listed")
}

#[tokio::test]
async fn connections_are_listed_and_reachable_by_id_from_outside_handlers() {
    let handle = start(api_router(), test_config()).await;
    let server = handle.server().clone();
    assert!(server.connections().is_empty());

    let mut first = Raw::connect(&handle.url()).await;
    let ids = until_listed(&server, 1).await;
    let mut second = Raw::connect(&handle.url()).await;
    let both = until_listed(&server, 2).await;
    assert_eq!(both[0], ids[0], "oldest first");
    assert_eq!(server.connection_count(), 2);

    let to_second = server.connection(both[1]).expect("open connection");
    assert_eq!(to_second.id(), both[1]);
    to_second
        .send(&Echoed {
            text: "from outside".into(),
        })
        .unwrap();
    let got = second.recv().await;
    assert_eq!(
        (got["type"].as_str(), got["payload"]["text"].as_str()),
        (Some("ECHOED"), Some("from outside"))
    );

    server
        .connection(both[0])
        .expect("open connection")
        .close(4000, "kicked");
    match first.ended().await {
        Ended::Closed(code, reason) => assert_eq!((code, reason.as_str()), (4000, "kicked")),
        Ended::Dropped => panic!("expected a close frame"),
    }
    until_listed(&server, 1).await;
    assert!(server.connection(both[0]).is_none(), "gone once closed");
    assert!(
        to_second.send(&Echoed { text: "x".into() }).is_ok(),
        "the other connection is untouched"
    );
    drop(second);
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn server_publish_can_exclude_a_connection_and_subscribers_are_counted() {
    let handle = start(api_router(), test_config()).await;
    let server = handle.server().clone();
    let mut a = Raw::connect(&handle.url()).await;
    let mut b = Raw::connect(&handle.url()).await;
    a.json(json!({"type": "JOIN", "payload": {"topic": "news"}}))
        .await;
    assert_eq!(a.recv().await["payload"]["subscribers"], 1);
    b.json(json!({"type": "JOIN", "payload": {"topic": "news"}}))
        .await;
    assert_eq!(b.recv().await["payload"]["subscribers"], 2);
    assert_eq!(server.subscriber_count("news"), 2);
    assert_eq!(server.subscriber_count("other"), 0);

    let ids = until_listed(&server, 2).await;
    let news = Echoed {
        text: "headline".into(),
    };
    server
        .publish_with("news", &news, PublishOptions::new().exclude(ids[0]))
        .await
        .unwrap();
    assert_eq!(b.recv().await["payload"]["text"], "headline");
    // `a` was skipped: the next frame it gets is the one after.
    server
        .publish("news", &Echoed { text: "all".into() })
        .await
        .unwrap();
    assert_eq!(a.recv().await["payload"]["text"], "all");
    assert_eq!(b.recv().await["payload"]["text"], "all");

    drop(a);
    tokio::time::timeout(PATIENCE, async {
        while server.subscriber_count("news") != 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("a closed connection leaves its topics");
    drop(b);
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn handlers_see_the_upgrade_request_and_answer_events_with_the_correlation_id() {
    let server = Server::new(api_router()).unwrap();
    let app = axum::Router::new().route("/rooms/{room}/ws", server.route());
    let handle = server.bind_app("127.0.0.1:0", app).await.unwrap();
    let url = format!("ws://{}/rooms/blue/ws?q=hi", handle.local_addr());
    let mut raw = Raw::connect(&url).await;

    raw.json(json!({"type": "WHERE", "meta": {"correlationId": "w1"}}))
        .await;
    let answer = raw.recv().await;
    assert_eq!(answer["type"], "ECHOED");
    assert_eq!(answer["meta"]["correlationId"], "w1");
    assert_eq!(answer["payload"]["text"], "room=blue q=hi peer=true");

    // Without a correlation id the answer is a plain message.
    raw.json(json!({"type": "WHERE"})).await;
    let plain = raw.recv().await;
    assert!(plain["meta"].get("correlationId").is_none(), "{plain}");
    let again = raw.recv().await;
    assert_eq!(again["payload"]["text"], "again");
    drop(raw);
    handle.shutdown().await.unwrap();
}
