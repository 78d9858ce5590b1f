//! The closing handshake (RFC 6455, sections 5.5.1, 7 and 7.4; Autobahn's case 7): a
//! client's close is answered with a close frame and the server then closes TCP; close
//! payloads of the wrong size, codes that may not be sent and reasons that are not UTF-8
//! fail the connection; nothing after the client's close is answered.

use crate::common::{config, connect, echo, on_fresh_connections, start};
use crate::wire::{Client, Frame, Message};

#[tokio::test]
async fn a_close_1000_bye_is_answered_1000_and_tcp_closed() {
    let server = start(config()).await;
    let mut client = connect(&server).await;
    client.send(Frame::text(echo("first"))).await;
    client.expect_echo("first").await;
    client.send(Frame::close(1000, b"bye")).await;
    client.expect_close(1000).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_close_without_payload_is_answered_by_a_close_frame() {
    // Section 5.5.1 only asks for a close frame back; the server may send no code (an
    // empty payload) or 1000. The test prints which.
    let server = start(config()).await;
    let mut client = connect(&server).await;
    client.send(Frame::close_empty()).await;
    let (code, reason) = client.closing().await;
    eprintln!("answer to an empty close: code {code:?}, reason {reason:?}");
    assert!(
        matches!(code, None | Some(1000)),
        "close {code:?} {reason:?}"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_close_with_a_1_byte_payload_closes_1002() {
    let server = start(config()).await;
    let mut client = connect(&server).await;
    client.send(Frame::new(crate::wire::CLOSE, [0x03])).await;
    client.expect_close(1002).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn close_codes_that_may_not_be_sent_close_1002() {
    // 0-999 are unused, 1004 is reserved, 1005, 1006 and 1015 are for reports only,
    // 1016-2999 are reserved for the RFC's extensions, 5000 and up do not exist.
    let server = start(config()).await;
    let codes = [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535];
    on_fresh_connections(&server, &codes, |mut client: Client, code| async move {
        client.send(Frame::close(code, b"")).await;
        client.expect_close(1002).await;
    })
    .await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn valid_close_codes_are_echoed() {
    close_codes_are_echoed(&[
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
    ])
    .await;
}

#[tokio::test]
async fn a_close_reason_of_invalid_utf8_closes_1007_or_1002() {
    // Section 7.1.6 makes the reason UTF-8; section 8.1 fails a connection on invalid
    // UTF-8 without naming the code. The test prints which one the server chose.
    let server = start(config()).await;
    let reasons: [&[u8]; 3] = [&[0xFF], b"ok \xED\xA0\x80", b"cut \xE2\x82"];
    on_fresh_connections(&server, &reasons, |mut client: Client, reason| async move {
        client.send(Frame::close(1000, reason)).await;
        let (code, answer) = client.closing().await;
        eprintln!("answer to a close reason of invalid UTF-8: close {code:?} {answer:?}");
        assert!(
            matches!(code, Some(1007 | 1002)),
            "close {code:?} {answer:?}"
        );
    })
    .await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_close_reason_of_123_bytes_is_accepted() {
    // The longest a control frame allows: 2 bytes of code and 123 of reason.
    let server = start(config()).await;
    let mut client = connect(&server).await;
    let reason = "é".repeat(61) + "r";
    assert_eq!(reason.len(), 123);
    client.send(Frame::close(1000, reason.as_bytes())).await;
    client.expect_close(1000).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_close_of_126_bytes_closes_1002() {
    let server = start(config()).await;
    let mut client = connect(&server).await;
    client.send(Frame::close(1000, &[b'r'; 124])).await;
    client.expect_close(1002).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn frames_after_the_clients_close_are_not_answered() {
    // Section 5.5.1: after sending a close frame, an endpoint sends no more data; what a
    // client sends anyway is not served. `expect_close` fails on any frame after the
    // server's close frame, and the echo could only come after it.
    let server = start(config()).await;
    let mut client = connect(&server).await;
    client
        .send_all(&[
            Frame::close(1000, b"bye"),
            Frame::text(echo("too late")),
            Frame::ping(*b"too late"),
        ])
        .await;
    client.expect_close(1000).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_close_between_fragments_is_answered() {
    // Control frames may come between fragments (section 5.4), the close among them; the
    // unfinished message is dropped.
    let server = start(config()).await;
    let mut client = connect(&server).await;
    let json = echo("never finished");
    client
        .send_all(&[
            Frame::text(&json.as_bytes()[..6]).more(),
            Frame::close(1000, b"changed my mind"),
        ])
        .await;
    client.expect_close(1000).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_close_with_a_code_and_no_reason_is_echoed() {
    let server = start(config()).await;
    let mut client = connect(&server).await;
    client.send(Frame::close(1000, b"")).await;
    client.expect_close(1000).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_message_then_a_close_in_one_write_are_both_answered_in_order() {
    // Autobahn 7.1.6 in small: the message is served, then the close answered.
    let server = start(config()).await;
    let mut client = connect(&server).await;
    let text = "m".repeat(100_000);
    client
        .send_all(&[Frame::text(echo(&text)), Frame::close(1000, b"after it")])
        .await;
    client.expect_echo(&text).await;
    client.expect_close(1000).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_client_that_never_answers_the_servers_close_is_dropped() {
    // Section 7.1.1 lets the server close TCP once it has sent its close frame; it must not
    // wait forever for the client's.
    let server = start(config()).await;
    let mut client = connect(&server).await;
    client
        .send(Frame::text(echo("bad bits")).rsv(crate::wire::RSV2))
        .await;
    match client.recv().await {
        Message::Close(Some(1002), _) => {}
        other => panic!("expected a close 1002, got {other:?}"),
    }
    client.expect_tcp_end().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_servers_own_close_is_its_last_frame() {
    // The server closes first (1001 at shutdown); what the client sends before its answer
    // is not served (section 5.5.1: no data frames after a close frame).
    let server = start(config().shutdown_grace(std::time::Duration::from_millis(200))).await;
    let mut client = connect(&server).await;
    client.send(Frame::text(echo("before"))).await;
    client.expect_echo("before").await;
    let shutdown = tokio::spawn(server.shutdown());
    match client.recv().await {
        Message::Close(Some(1001), _) => {}
        other => panic!("expected a close 1001, got {other:?}"),
    }
    client
        .send_all(&[
            Frame::text(echo("too late")),
            Frame::ping(*b"too late"),
            Frame::close(1001, b""),
        ])
        .await;
    client.expect_tcp_end().await;
    shutdown.await.unwrap().unwrap();
}

/// Echoes a close of each code on a fresh connection.
async fn close_codes_are_echoed(codes: &[u16]) {
    let server = start(config()).await;
    on_fresh_connections(&server, codes, |mut client: Client, code| async move {
        client.send(Frame::close(code, b"echo me")).await;
        client.expect_close(code).await;
    })
    .await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn close_codes_1012_and_1013_registered_after_the_rfc_are_echoed() {
    // 1012 (service restart) and 1013 (try again later) are in IANA's close code registry,
    // which section 11.7 of the RFC set up for codes like them.
    close_codes_are_echoed(&[1012, 1013]).await;
}

#[tokio::test]
async fn close_code_1014_registered_after_the_rfc_is_echoed() {
    close_codes_are_echoed(&[1014]).await;
}
