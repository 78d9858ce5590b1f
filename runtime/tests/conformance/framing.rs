//! Framing (RFC 6455, section 5.2; Autobahn's cases 1, 3 and 4): payload lengths across
//! the three length forms, binary frames, many frames in one segment, a frame split into
//! single bytes, reserved bits and opcodes, unmasked frames and impossible lengths.

use crate::common::{config, connect, echo, echo_of_len, on_fresh_connections, start};
use crate::wire::{Client, Frame, Message, RSV1, RSV2, RSV3, TEXT};

/// Echoes a text frame of exactly `len` bytes on one connection.
async fn echo_text_of_len(len: usize) {
    let server = start(config()).await;
    let mut client = connect(&server).await;
    let (json, text) = echo_of_len(len);
    client.send(Frame::text(json)).await;
    client.expect_echo(&text).await;
    client.close_normally().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_empty_text_frame_is_answered_invalid_argument() {
    // Not JSON, so not a message: the server answers it and keeps the connection.
    let server = start(config()).await;
    let mut client = connect(&server).await;
    client.send(Frame::text(Vec::new())).await;
    match client.recv().await {
        Message::Text(json) => {
            let value: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(value["type"], "ERROR", "{json}");
            assert_eq!(value["payload"]["code"], "INVALID_ARGUMENT", "{json}");
        }
        other => panic!("expected an error frame, got {other:?}"),
    }
    client.send(Frame::text(echo("still here"))).await;
    client.expect_echo("still here").await;
    client.close_normally().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_125_byte_text_frame_is_echoed() {
    // The longest 7-bit length.
    echo_text_of_len(125).await;
}

#[tokio::test]
async fn a_126_byte_text_frame_is_echoed() {
    // The shortest 16-bit length.
    echo_text_of_len(126).await;
}

#[tokio::test]
async fn a_127_byte_text_frame_is_echoed() {
    echo_text_of_len(127).await;
}

#[tokio::test]
async fn a_65535_byte_text_frame_is_echoed() {
    // The longest 16-bit length.
    echo_text_of_len(65_535).await;
}

#[tokio::test]
async fn a_65536_byte_text_frame_is_echoed() {
    // The shortest 64-bit length.
    echo_text_of_len(65_536).await;
}

#[tokio::test]
async fn a_200000_byte_text_frame_is_echoed() {
    echo_text_of_len(200_000).await;
}

#[tokio::test]
async fn a_binary_frame_of_utf8_json_is_handled_like_text() {
    let server = start(config()).await;
    let mut client = connect(&server).await;
    client.send(Frame::binary(echo("in binary"))).await;
    client.expect_echo("in binary").await;
    client.close_normally().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_hundred_frames_in_one_write_are_all_answered_in_order() {
    let server = start(config()).await;
    let mut client = connect(&server).await;
    let frames: Vec<Frame> = (0..100)
        .map(|i| Frame::text(echo(&format!("frame {i}"))))
        .collect();
    client.send_all(&frames).await;
    for i in 0..100 {
        client.expect_echo(&format!("frame {i}")).await;
    }
    client.close_normally().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_frame_written_one_byte_at_a_time_is_answered() {
    let server = start(config()).await;
    let mut client = connect(&server).await;
    let bytes = client.encode(&Frame::text(echo("slowly")));
    client.trickle(&bytes).await;
    client.expect_echo("slowly").await;
    client.close_normally().await;
    server.shutdown().await.unwrap();
}

/// A frame with reserved bits set, after a valid one and before a ping: the valid one is
/// answered, then the connection fails with 1002 and the ping is never answered.
async fn reserved_bits_close_1002(bits: u8) {
    let server = start(config()).await;
    let cases = [
        Frame::text(echo("bad bits")).rsv(bits),
        Frame::binary(echo("bad bits")).rsv(bits),
        Frame::ping(*b"bad bits").rsv(bits),
    ];
    on_fresh_connections(&server, &cases, |mut client: Client, frame| async move {
        client
            .send_all(&[Frame::text(echo("before")), frame, Frame::ping(*b"after")])
            .await;
        client.expect_echo("before").await;
        client.expect_close(1002).await;
    })
    .await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn rsv1_without_an_extension_closes_1002() {
    reserved_bits_close_1002(RSV1).await;
}

#[tokio::test]
async fn rsv2_closes_1002() {
    reserved_bits_close_1002(RSV2).await;
}

#[tokio::test]
async fn rsv3_closes_1002() {
    reserved_bits_close_1002(RSV3).await;
}

#[tokio::test]
async fn all_rsv_bits_together_close_1002() {
    reserved_bits_close_1002(RSV1 | RSV2 | RSV3).await;
}

#[tokio::test]
async fn reserved_data_opcodes_3_to_7_close_1002() {
    let server = start(config()).await;
    on_fresh_connections(
        &server,
        &[3, 4, 5, 6, 7],
        |mut client: Client, opcode| async move {
            client
                .send_all(&[Frame::new(opcode, *b"reserved"), Frame::text(echo("after"))])
                .await;
            client.expect_close(1002).await;
        },
    )
    .await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn reserved_control_opcodes_b_to_f_close_1002() {
    let server = start(config()).await;
    let opcodes = [0xB, 0xC, 0xD, 0xE, 0xF];
    on_fresh_connections(&server, &opcodes, |mut client: Client, opcode| async move {
        client
            .send_all(&[Frame::new(opcode, Vec::new()), Frame::text(echo("after"))])
            .await;
        client.expect_close(1002).await;
    })
    .await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unmasked_client_frame_closes_1002() {
    // Section 5.1: a server MUST close a connection on which it receives an unmasked frame.
    let server = start(config()).await;
    let cases = [
        Frame::text(echo("bare")).unmasked(),
        Frame::ping(*b"bare").unmasked(),
    ];
    on_fresh_connections(&server, &cases, |mut client: Client, frame| async move {
        client.send(frame).await;
        client.expect_close(1002).await;
    })
    .await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_64_bit_length_with_the_top_bit_set_closes_1002_or_1009() {
    // Section 5.2: the most significant bit of a 64-bit length MUST be 0. Such a length is
    // also far beyond any limit, so 1009 is an acceptable answer too; the test prints which.
    let server = start(config()).await;
    let mut client = connect(&server).await;
    let header = Frame::new(TEXT, Vec::new()).declare_len((1 << 63) | 5);
    client.send(header).await;
    let (code, reason) = client.closing().await;
    eprintln!("a 64-bit length with the top bit set: close {code:?} {reason:?}");
    assert!(
        matches!(code, Some(1002 | 1009)),
        "close {code:?} {reason:?}"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn frames_sent_with_the_upgrade_request_are_answered() {
    // A client may pipeline its first frames behind the request; the HTTP server reads them
    // together with the request head and must hand them to the WebSocket.
    let server = start(config()).await;
    let early = [
        Frame::text(echo("first")),
        Frame::ping(b"p".to_vec()),
        Frame::text(echo("second")),
    ];
    let mut client = Client::connect_with(server.local_addr(), &early).await;
    client.expect_echo("first").await;
    client.expect_pong(b"p").await;
    client.expect_echo("second").await;
    client.close_normally().await;
    server.shutdown().await.unwrap();
}
