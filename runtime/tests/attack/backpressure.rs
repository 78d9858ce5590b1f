//! The outbound policy under bursts: a burst to many reading subscribers closes none of
//! them; a publisher whose subscriber falls behind is paused (its frames are not read)
//! instead of the subscriber being closed; a subscriber that stops reading altogether is
//! closed with 1008 once its queue is full and nothing was written for the grace period,
//! without holding the others back.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{WebSocketStream, client_async};
use twinwire_runtime::{CloseInfo, Context, RateLimit};

use crate::common::{PATIENCE, Ws, config, raw, recv, router, send_json, start, start_router};

fn say(topic: &str, text: &str) -> WsMessage {
    WsMessage::text(json!({"type": "SAY", "payload": {"topic": topic, "text": text}}).to_string())
}

async fn join(ws: &mut Ws, topic: &str) {
    send_json(ws, json!({"type": "JOIN", "payload": {"topic": topic}})).await;
    let (joined, _) = recv(ws).await;
    assert_eq!(joined["payload"]["text"], "joined", "{joined}");
}

/// Sends every frame in one write.
async fn burst(ws: &mut Ws, frames: impl IntoIterator<Item = WsMessage>) {
    for frame in frames {
        ws.feed(frame).await.unwrap();
    }
    ws.flush().await.unwrap();
}

/// Reads `count` `SAID` frames, checking their order; panics if the connection closes.
async fn read_said(ws: &mut Ws, count: usize, pause: Duration) {
    for i in 0..count {
        let (frame, _) = recv(ws).await;
        assert_eq!(frame["type"], "SAID", "{frame}");
        let text = frame["payload"]["text"].as_str().unwrap();
        assert!(text.starts_with(&format!("{i}:")), "frame {i}: {text:.20}");
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_to_200_reading_subscribers_closes_none() {
    const MEMBERS: usize = 200;
    const BURST: usize = 300;
    let server = start(config()).await;
    let mut readers = Vec::new();
    for _ in 0..MEMBERS {
        let mut ws = raw(&server).await;
        join(&mut ws, "room").await;
        readers.push(tokio::spawn(async move {
            read_said(&mut ws, BURST, Duration::ZERO).await;
            ws
        }));
    }
    let mut sender = raw(&server).await;
    burst(
        &mut sender,
        (0..BURST).map(|i| say("room", &format!("{i}: hello"))),
    )
    .await;
    let mut members = Vec::new();
    for reader in readers {
        let member = tokio::time::timeout(PATIENCE * 3, reader)
            .await
            .expect("every member receives the burst")
            .expect("no member was closed");
        members.push(member);
    }
    assert_eq!(server.server().connection_count(), MEMBERS + 1);
    server.shutdown().await.unwrap();
}

/// A WebSocket client whose socket has a tiny receive buffer, so that the server's writes
/// block soon after it stops reading (or reads slowly).
async fn narrow(addr: SocketAddr) -> WebSocketStream<TcpStream> {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    client_async(format!("ws://{addr}/"), stream)
        .await
        .unwrap()
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publisher_is_paused_for_a_slow_subscriber_instead_of_closing_it() {
    const MESSAGES: usize = 400;
    // A small queue makes the burst many times what it holds: without push back the slow
    // subscriber would be closed.
    let limits = config()
        .outbound_limit(16 * 1024)
        .rate_limit(None::<RateLimit>);
    let server = start(limits).await;
    let text = "x".repeat(1024);
    let mut slow = narrow(server.local_addr()).await;
    slow.send(WsMessage::text(
        json!({"type": "JOIN", "payload": {"topic": "feed"}}).to_string(),
    ))
    .await
    .unwrap();
    let reader = tokio::spawn(async move {
        let mut received = 0;
        while received < MESSAGES {
            match tokio::time::timeout(PATIENCE, slow.next()).await {
                Ok(Some(Ok(WsMessage::Text(frame)))) => {
                    let frame: serde_json::Value = serde_json::from_str(frame.as_str()).unwrap();
                    if frame["type"] == "SAID" {
                        let text = frame["payload"]["text"].as_str().unwrap();
                        assert!(text.starts_with(&format!("{received}:")), "{text:.20}");
                        received += 1;
                        // About a megabyte a second: far slower than the publisher.
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
                Ok(Some(Ok(_))) => {}
                other => panic!("the slow subscriber lost its connection: {other:?}"),
            }
        }
        received
    });
    // The subscription is in place once the publisher's own JOIN is answered after it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut publisher = raw(&server).await;
    burst(
        &mut publisher,
        (0..MESSAGES).map(|i| say("feed", &format!("{i}:{text}"))),
    )
    .await;
    let received = tokio::time::timeout(PATIENCE * 3, reader)
        .await
        .expect("the slow subscriber receives everything")
        .unwrap();
    assert_eq!(received, MESSAGES);
    // The publisher was only paused, never refused or closed.
    send_json(
        &mut publisher,
        json!({"type": "ECHO", "payload": {"text": "still here"}}),
    )
    .await;
    assert_eq!(
        recv(&mut publisher).await.0["payload"]["text"],
        "still here"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_stops_reading_is_closed_after_the_grace_period_alone() {
    // Eight megabytes: more than the kernel's socket buffers take on the loopback (the
    // server's send buffer grows to 4 MiB).
    const MESSAGES: usize = 2_000;
    let (closes_tx, mut closes) = mpsc::unbounded_channel::<CloseInfo>();
    let router = router().on_close(move |_: Context, info: CloseInfo| {
        let _ = closes_tx.send(info);
        std::future::ready(())
    });
    let limits = config()
        .outbound_limit(16 * 1024)
        .slow_consumer_grace(Duration::from_millis(300))
        .write_timeout(PATIENCE * 3)
        .rate_limit(None::<RateLimit>);
    let server = start_router(router, limits).await;
    let text = "x".repeat(4 * 1024);

    let mut stalled = narrow(server.local_addr()).await;
    stalled
        .send(WsMessage::text(
            json!({"type": "JOIN", "payload": {"topic": "feed"}}).to_string(),
        ))
        .await
        .unwrap();
    let mut reading = raw(&server).await;
    join(&mut reading, "feed").await;
    let reader = tokio::spawn(async move {
        read_said(&mut reading, MESSAGES, Duration::ZERO).await;
        reading
    });
    let mut publisher = raw(&server).await;
    burst(
        &mut publisher,
        (0..MESSAGES).map(|i| say("feed", &format!("{i}:{text}"))),
    )
    .await;
    // The reading subscriber gets everything: the stalled one holds nobody back for long.
    let _reading = tokio::time::timeout(PATIENCE * 3, reader)
        .await
        .expect("the reading subscriber receives everything")
        .unwrap();
    let info = tokio::time::timeout(PATIENCE, closes.recv())
        .await
        .expect("the stalled subscriber is closed")
        .unwrap();
    assert_eq!(info.code, 1008, "{info:?}");
    assert!(info.reason.contains("outbound queue full"), "{info:?}");
    // `on_close` runs just before the connection gives its place back: wait for that, then
    // the two well-behaved connections must be the ones left.
    tokio::time::timeout(PATIENCE, async {
        while server.server().connection_count() > 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the stalled subscriber's place is given back");
    assert_eq!(server.server().connection_count(), 2);
    drop(stalled);
    server.shutdown().await.unwrap();
}
