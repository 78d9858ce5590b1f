//! The client's own checks of what a server sends, against a fake server that breaks the
//! RFC on purpose: the suite is only a reference if these checks can fail.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::wire::{Client, PATIENCE, accept_key};

/// A server on 127.0.0.1 that completes one opening handshake, writes `bytes`, then holds
/// the connection until the client lets go of it (or `PATIENCE` runs out).
async fn fake_server(bytes: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(tokio::time::timeout(PATIENCE, async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        while !request.ends_with(b"\r\n\r\n") {
            let mut byte = [0_u8; 1];
            if stream.read(&mut byte).await.unwrap() == 0 {
                return;
            }
            request.push(byte[0]);
        }
        let request = String::from_utf8(request).unwrap();
        let key = request
            .lines()
            .find_map(|line| line.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap();
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n\r\n",
            accept_key(key)
        );
        stream.write_all(response.as_bytes()).await.unwrap();
        stream.write_all(&bytes).await.unwrap();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest).await;
    }));
    addr
}

#[tokio::test]
async fn a_fake_server_that_keeps_the_rfc_passes() {
    // The counterpart of the failures below: the same fake, sending valid frames.
    let mut frames = vec![0x81, 0x02, b'h', b'i', 0x8A, 0x00];
    frames.extend([0x88, 0x02, 0x03, 0xE8]);
    let mut client = Client::connect(fake_server(frames).await).await;
    assert_eq!(client.recv().await, crate::wire::Message::Text("hi".into()));
    client.expect_pong(b"").await;
    assert_eq!(
        client.recv().await,
        crate::wire::Message::Close(Some(1000), String::new())
    );
}

#[tokio::test]
#[should_panic(expected = "the server masked a frame")]
async fn a_masked_server_frame_fails_the_case() {
    let frame = vec![0x81, 0x81, 1, 2, 3, 4, b'x' ^ 1];
    let mut client = Client::connect(fake_server(frame).await).await;
    client.recv().await;
}

#[tokio::test]
#[should_panic(expected = "the server set RSV bits")]
async fn rsv_bits_from_the_server_fail_the_case() {
    let mut client = Client::connect(fake_server(vec![0xC1, 0x01, b'x']).await).await;
    client.recv().await;
}

#[tokio::test]
#[should_panic(expected = "not minimal")]
async fn a_length_in_a_longer_form_than_needed_fails_the_case() {
    let mut frame = vec![0x81, 126, 0, 1];
    frame.push(b'x');
    let mut client = Client::connect(fake_server(frame).await).await;
    client.recv().await;
}

#[tokio::test]
#[should_panic(expected = "control frame of 126 bytes")]
async fn a_long_control_frame_from_the_server_fails_the_case() {
    let mut frame = vec![0x8A, 126, 0, 126];
    frame.extend([b'p'; 126]);
    let mut client = Client::connect(fake_server(frame).await).await;
    client.recv().await;
}

#[tokio::test]
#[should_panic(expected = "close code 1005, which may not be sent")]
async fn a_close_code_reserved_for_reports_fails_the_case() {
    let frame = vec![0x88, 0x02, 0x03, 0xED];
    let mut client = Client::connect(fake_server(frame).await).await;
    client.closing().await;
}

#[tokio::test]
#[should_panic(expected = "followed the server's close frame")]
async fn a_frame_after_the_servers_close_fails_the_case() {
    let frames = vec![0x88, 0x02, 0x03, 0xE8, 0x81, 0x01, b'x'];
    let mut client = Client::connect(fake_server(frames).await).await;
    client.expect_close(1000).await;
}

#[tokio::test]
#[should_panic(expected = "expected the echo")]
async fn a_close_where_an_echo_belongs_fails_the_case() {
    let frame = vec![0x88, 0x02, 0x03, 0xEA];
    let mut client = Client::connect(fake_server(frame).await).await;
    client.expect_echo("anything").await;
}

#[tokio::test]
#[should_panic(expected = "the close code")]
async fn another_close_code_than_expected_fails_the_case() {
    let frame = vec![0x88, 0x02, 0x03, 0xE8];
    let mut client = Client::connect(fake_server(frame).await).await;
    client.expect_close(1002).await;
}
