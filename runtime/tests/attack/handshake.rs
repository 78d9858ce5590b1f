//! Connections that never finish their upgrade: idle TCP connections, half a request head,
//! HTTP/1.0 upgrades. They are closed at the handshake timeout and count toward the
//! connection limit, so they cannot starve the server of file descriptors.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use twinwire_runtime::{Client, ClientError};

use crate::common::{PATIENCE, body, config, http_exchange, start, status};

const TIMEOUT: Duration = Duration::from_millis(300);

/// Reads until the server ends the connection; returns how long that took. A reset counts
/// as an end too: what matters is that the server let go of the socket.
async fn time_until_closed(stream: &mut TcpStream, since: Instant) -> Duration {
    let mut scratch = [0_u8; 1024];
    tokio::time::timeout(PATIENCE, async {
        loop {
            match stream.read(&mut scratch).await {
                Ok(0) | Err(_) => return since.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .expect("the server closes a connection that does not complete its upgrade")
}

#[tokio::test]
async fn an_idle_connection_is_closed_at_the_handshake_timeout() {
    let server = start(config().handshake_timeout(TIMEOUT)).await;
    let opened = Instant::now();
    let mut idle = TcpStream::connect(server.local_addr()).await.unwrap();
    let held = time_until_closed(&mut idle, opened).await;
    assert!(held >= TIMEOUT - Duration::from_millis(50), "{held:?}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn half_a_request_head_is_closed_at_the_handshake_timeout() {
    let server = start(config().handshake_timeout(TIMEOUT)).await;
    let opened = Instant::now();
    let mut half = TcpStream::connect(server.local_addr()).await.unwrap();
    half.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")
        .await
        .unwrap();
    let held = time_until_closed(&mut half, opened).await;
    assert!(held >= TIMEOUT - Duration::from_millis(50), "{held:?}");
    // A slow trickle of header bytes does not extend the deadline either: the whole head
    // would take 1.7 s at this pace.
    let head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    let pace = Duration::from_millis(50);
    let opened = Instant::now();
    let trickle = TcpStream::connect(server.local_addr()).await.unwrap();
    let (mut read_half, mut write_half) = trickle.into_split();
    let writer = tokio::spawn(async move {
        for byte in head {
            if write_half.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(pace).await;
        }
    });
    let mut scratch = [0_u8; 64];
    let held = tokio::time::timeout(PATIENCE, async {
        loop {
            match read_half.read(&mut scratch).await {
                Ok(0) | Err(_) => return opened.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .expect("the trickling connection is closed");
    assert!(held >= TIMEOUT - Duration::from_millis(50), "{held:?}");
    assert!(held < pace * head.len() as u32, "{held:?}");
    writer.abort();
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn unfinished_handshakes_count_toward_the_connection_limit() {
    let server = start(
        config()
            .max_connections(2)
            .handshake_timeout(Duration::from_secs(60)),
    )
    .await;
    let addr = server.local_addr();
    let idle = [
        TcpStream::connect(addr).await.unwrap(),
        TcpStream::connect(addr).await.unwrap(),
    ];
    // Let the server accept both.
    tokio::time::sleep(Duration::from_millis(200)).await;
    match Client::connect(server.url()).await {
        Err(ClientError::Rejected { status: 503, body }) => {
            let body: serde_json::Value = serde_json::from_str(&body.unwrap()).unwrap();
            assert_eq!(body["code"], "UNAVAILABLE", "{body}");
        }
        other => panic!("expected 503 while two handshakes hold the places, got {other:?}"),
    }
    drop(idle);
    // Their places free up once the server sees them gone.
    let client = tokio::time::timeout(PATIENCE, async {
        loop {
            if let Ok(client) = Client::connect(server.url()).await {
                return client;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a place frees up");
    assert_eq!(server.server().connection_count(), 1);
    drop(client);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_http_1_0_upgrade_is_a_4xx_with_a_json_body() {
    let server = start(config()).await;
    let response = http_exchange(
        server.local_addr(),
        "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .await;
    let code = status(&response);
    assert!((400..500).contains(&code), "{response}");
    let body: serde_json::Value = serde_json::from_str(body(&response)).expect("a JSON body");
    assert_eq!(body["code"], "INVALID_ARGUMENT", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("HTTP/1.1"),
        "{body}"
    );
    // The server still upgrades HTTP/1.1 clients.
    drop(Client::connect(server.url()).await.unwrap());
    server.shutdown().await.unwrap();
}
