//! A message over `max_frame_size`: the client must receive the 1009 close frame, not a TCP
//! reset. The server stops reading at the frame's header, so the rest of the message is
//! still on its way when the server closes; dropping the socket then would reset it.

use futures_util::SinkExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{WebSocketStream, client_async};

use crate::common::{Ended, config, ended, raw, start};

#[tokio::test]
async fn every_sender_of_an_oversized_message_receives_the_1009_close() {
    const SENDERS: usize = 40;
    let server = start(config()).await;
    // One megabyte against the default limit of 64 KiB.
    let message = "x".repeat(1024 * 1024);
    let mut tasks = Vec::new();
    for _ in 0..SENDERS {
        let mut ws = raw(&server).await;
        let message = message.clone();
        tasks.push(tokio::spawn(async move {
            // The send may fail once the server has closed; the close frame is what counts.
            let _ = ws.send(WsMessage::text(message)).await;
            ended(&mut ws).await
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let resets: Vec<&Ended> = outcomes
        .iter()
        .filter(|o| **o != Ended::Closed(1009))
        .collect();
    assert!(
        resets.is_empty(),
        "{} of {SENDERS} senders did not get the 1009 close: {resets:?}",
        resets.len()
    );
    server.shutdown().await.unwrap();
}

/// A client whose socket has a tiny receive buffer.
async fn narrow(addr: std::net::SocketAddr) -> WebSocketStream<TcpStream> {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    client_async(format!("ws://{addr}/"), stream)
        .await
        .unwrap()
        .0
}

#[tokio::test]
async fn the_1009_close_reaches_a_client_that_is_behind_on_reading() {
    // The close frame waits behind answers the client has not read yet; closing the socket
    // then, with the rest of the message unread, would reset the connection and throw the
    // queued frames away, the close among them.
    let server = start(config()).await;
    let mut ws = narrow(server.local_addr()).await;
    for i in 0..100 {
        ws.feed(WsMessage::text(
            serde_json::json!({"type": "ECHO", "payload": {"text": format!("{i:0>60}")}})
                .to_string(),
        ))
        .await
        .unwrap();
    }
    ws.flush().await.unwrap();
    let _ = ws.send(WsMessage::text("x".repeat(1024 * 1024))).await;
    assert_eq!(ended(&mut ws).await, Ended::Closed(1009));
    server.shutdown().await.unwrap();
}
