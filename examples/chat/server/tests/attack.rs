//! Attacks on the chat server (issue 15), replayed over 127.0.0.1 with bounded connections,
//! frames and time: a burst of messages into a room of 200 reading members, a room-flip
//! flood watched by 200 idle readers, and WebSocket upgrades from foreign origins. The
//! runtime-level attacks are in `runtime/tests/attack/`.

// Test helpers outside `#[test]` functions fail loudly by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chat_server::{ChatConfig, ChatServer};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use twinwire_runtime::{Client, ClientError};

/// A bound against hangs, never an assertion about speed.
const PATIENCE: Duration = Duration::from_secs(30);

/// A folder that does not exist: no page is served.
const NO_PAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/no-page");

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn start() -> ChatServer {
    let config = ChatConfig::new(([127, 0, 0, 1], 0).into(), NO_PAGE);
    chat_server::start(config).await.unwrap()
}

async fn connect(server: &ChatServer) -> Ws {
    tokio_tungstenite::connect_async_with_config(server.ws_url(), None, true)
        .await
        .unwrap()
        .0
}

fn frame(kind: &str, payload: Value) -> WsMessage {
    WsMessage::text(json!({"type": kind, "payload": payload}).to_string())
}

/// The next frame of type `kind`; others are skipped. Panics if the connection ends.
async fn next_of(ws: &mut Ws, kind: &str) -> Value {
    tokio::time::timeout(PATIENCE, async {
        loop {
            match ws.next().await {
                Some(Ok(WsMessage::Text(text))) => {
                    let value: Value = serde_json::from_str(text.as_str()).unwrap();
                    if value["type"] == kind {
                        return value;
                    }
                }
                Some(Ok(WsMessage::Close(close))) => panic!("closed: {close:?}"),
                Some(Ok(_)) => {}
                other => panic!("the connection ended: {other:?}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} in time"))
}

/// Signs in as `name` and joins `room`.
async fn member(server: &ChatServer, name: &str, room: &str) -> Ws {
    let mut ws = connect(server).await;
    ws.send(frame(
        "AUTHENTICATE",
        json!({"token": server.accounts().issue(name)}),
    ))
    .await
    .unwrap();
    next_of(&mut ws, "AUTH_SUCCESS").await;
    ws.send(frame("JOIN_ROOM", json!({"roomId": room})))
        .await
        .unwrap();
    next_of(&mut ws, "USER_JOINED").await;
    ws
}

/// Writes every frame in one go.
async fn burst(ws: &mut Ws, frames: impl IntoIterator<Item = WsMessage>) {
    for frame in frames {
        ws.feed(frame).await.unwrap();
    }
    ws.flush().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_300_messages_reaches_200_reading_members_and_closes_none() {
    const MEMBERS: usize = 200;
    const BURST: usize = 300;
    let server = start().await;
    let mut readers = Vec::new();
    for i in 0..MEMBERS {
        let mut ws = member(&server, &format!("member{i}"), "general").await;
        readers.push(tokio::spawn(async move {
            for n in 0..BURST {
                let message = next_of(&mut ws, "CHAT_MESSAGE").await;
                assert_eq!(message["payload"]["text"], format!("burst {n}"));
            }
            ws
        }));
    }
    let mut sender = member(&server, "sender", "general").await;
    burst(
        &mut sender,
        (0..BURST).map(|n| {
            frame(
                "SEND_MESSAGE",
                json!({"roomId": "general", "text": format!("burst {n}")}),
            )
        }),
    )
    .await;
    let mut members = Vec::new();
    for reader in readers {
        let member = tokio::time::timeout(PATIENCE, reader)
            .await
            .expect("every member receives the whole burst")
            .expect("no member was closed");
        members.push(member);
    }
    assert_eq!(server.server().connection_count(), MEMBERS + 1);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_flip_flood_closes_no_idle_reader_and_the_latest_room_list_wins() {
    const READERS: usize = 200;
    const FLIPS: usize = 3_000;
    let server = start().await;
    // Idle readers: connected, never signed in, reading every ROOM_LIST.
    let mut readers = Vec::new();
    for _ in 0..READERS {
        let mut ws = connect(&server).await;
        let first = next_of(&mut ws, "ROOM_LIST").await;
        let (latest, seen) = watch::channel(first["payload"].clone());
        let task = tokio::spawn(async move {
            loop {
                let list = next_of(&mut ws, "ROOM_LIST").await;
                latest.send_replace(list["payload"].clone());
            }
        });
        readers.push((task, seen));
    }

    let mut flipper = connect(&server).await;
    flipper
        .send(frame(
            "AUTHENTICATE",
            json!({"token": server.accounts().issue("flipper")}),
        ))
        .await
        .unwrap();
    next_of(&mut flipper, "AUTH_SUCCESS").await;
    let (mut sink, mut stream) = flipper.split();
    let writer = tokio::spawn(async move {
        for n in 0..FLIPS {
            let room = if n % 2 == 0 { "general" } else { "random" };
            sink.feed(frame("JOIN_ROOM", json!({"roomId": room})))
                .await
                .unwrap();
        }
        sink.flush().await.unwrap();
        sink
    });
    // Every flip is answered: joined, or refused past the rate limit.
    let mut answered = 0;
    tokio::time::timeout(PATIENCE, async {
        while answered < FLIPS {
            match stream.next().await {
                Some(Ok(WsMessage::Text(text))) => {
                    let value: Value = serde_json::from_str(text.as_str()).unwrap();
                    if value["type"] == "USER_JOINED" || value["type"] == "ERROR" {
                        answered += 1;
                    }
                }
                Some(Ok(_)) => {}
                // The flooder itself may be cut off; the readers are what matter.
                _ => break,
            }
        }
    })
    .await
    .expect("the flood is answered");
    let _ = writer.await;

    // Once the flood is over, every reader converges on the true member counts, which a
    // newcomer receives on connecting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let truth = next_of(&mut connect(&server).await, "ROOM_LIST").await["payload"].clone();
    for (task, mut seen) in readers {
        assert!(!task.is_finished(), "an idle reader lost its connection");
        tokio::time::timeout(PATIENCE, seen.wait_for(|list| *list == truth))
            .await
            .expect("the latest room list reaches every reader")
            .unwrap();
        task.abort();
    }
    server.shutdown().await.unwrap();
}

/// A `chat-server` process started with `args`, and the port it listens on.
struct Process {
    child: Child,
    port: u16,
}

impl Process {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chat-server"))
            .args(["--port", "0", "--static-dir", NO_PAGE])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let port = loop {
            let line = lines
                .next()
                .expect("chat-server prints where it listens")
                .unwrap();
            if let Some(rest) = line.strip_prefix("chat-server: listening on http://127.0.0.1:") {
                break rest.split('/').next().unwrap().parse().unwrap();
            }
        };
        Self { child, port }
    }

    fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.port)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn only_the_allowed_origins_may_open_the_socket() {
    let process = Process::start(&[
        "--allowed-origin",
        "https://chat.example.com",
        "--allowed-origin",
        "http://localhost:8080",
    ]);
    let url = process.ws_url();
    for origin in [
        "https://evil.example.com",
        "null",
        "https://chat.example.com.evil.net",
    ] {
        match Client::builder(&url).origin(origin).connect().await {
            Err(ClientError::Rejected { status: 403, .. }) => {}
            other => panic!("{origin}: expected 403, got {other:?}"),
        }
    }
    for origin in ["https://chat.example.com", "http://localhost:8080"] {
        let client = Client::builder(&url).origin(origin).connect().await;
        assert!(client.is_ok(), "{origin}: {client:?}");
    }
    // Browsers always send Origin; a client without one is not a browser page, and could
    // send any Origin it liked anyway.
    assert!(Client::connect(&url).await.is_ok());
}

#[test]
fn a_malformed_origin_is_refused_at_start() {
    let output = Command::new(env!("CARGO_BIN_EXE_chat-server"))
        .args(["--port", "0", "--allowed-origin", "chat.example.com"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--allowed-origin"), "{stderr}");
}
