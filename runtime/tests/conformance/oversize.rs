//! The size limit (`max_frame_size`, RFC 6455 section 7.4.1's 1009; Autobahn's case 9 in
//! small): a message at the limit is served, one byte more fails the connection with a
//! 1009 close frame that reaches the client instead of a TCP reset, even while the rest of
//! the frame is still on its way.

use crate::common::{SMALL_LIMIT, connect, echo, echo_of_len, small_config, start};
use crate::wire::{Frame, TEXT};

#[tokio::test]
async fn a_message_of_exactly_the_limit_is_echoed() {
    let server = start(small_config()).await;
    let mut client = connect(&server).await;
    let (json, text) = echo_of_len(SMALL_LIMIT);
    client.send(Frame::text(json)).await;
    client.expect_echo(&text).await;
    client.close_normally().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_frame_one_byte_over_the_limit_closes_1009() {
    let server = start(small_config()).await;
    let mut client = connect(&server).await;
    let (json, _) = echo_of_len(SMALL_LIMIT + 1);
    client.send(Frame::text(json)).await;
    client.expect_close(1009).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_frame_far_over_the_limit_gets_the_1009_close_frame_not_a_reset() {
    let server = start(small_config()).await;
    let mut client = connect(&server).await;
    // 64 times the limit, in one write: most of it is unread when the server closes.
    let (json, _) = echo_of_len(SMALL_LIMIT * 64);
    client.send(Frame::text(json)).await;
    client.expect_close(1009).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_header_declaring_more_than_the_limit_closes_1009_before_its_payload() {
    // The payload never comes: the server refuses at the header instead of waiting to
    // buffer it.
    let server = start(small_config()).await;
    for declared in [SMALL_LIMIT as u64 + 1, 70_000, 1 << 40] {
        let mut client = connect(&server).await;
        client
            .send(Frame::new(TEXT, echo("start").into_bytes()).declare_len(declared))
            .await;
        client.expect_close(1009).await;
    }
    server.shutdown().await.unwrap();
}
