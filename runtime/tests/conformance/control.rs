//! Pings and pongs (RFC 6455, sections 5.5.2 and 5.5.3; Autobahn's case 2): a ping is
//! answered with a pong carrying its payload, a pong nobody asked for is ignored, and a
//! control frame is never longer than 125 bytes nor fragmented.

use crate::common::{config, connect, echo, start};
use crate::wire::{Frame, PING};

#[tokio::test]
async fn a_ping_without_payload_is_answered_by_an_empty_pong() {
    let server = start(config()).await;
    let mut client = connect(&server).await;
    client.send(Frame::ping(Vec::new())).await;
    client.expect_pong(b"").await;
    client.close_normally().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_ping_of_125_bytes_is_answered_by_a_pong_with_the_same_payload() {
    let server = start(config()).await;
    let mut client = connect(&server).await;
    // Every byte value shows up, not only text.
    let payload: Vec<u8> = (0..125_u8).map(|i| i.wrapping_mul(97)).collect();
    client.send(Frame::ping(payload.clone())).await;
    client.expect_pong(&payload).await;
    client.close_normally().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_ping_of_126_bytes_closes_1002() {
    let server = start(config()).await;
    let mut client = connect(&server).await;
    client.send(Frame::ping(vec![b'p'; 126])).await;
    client.expect_close(1002).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unsolicited_pong_is_ignored() {
    let server = start(config()).await;
    let mut client = connect(&server).await;
    client
        .send_all(&[
            Frame::pong(*b"nobody asked"),
            Frame::pong(Vec::new()),
            Frame::text(echo("after the pongs")),
        ])
        .await;
    // Nothing answers the pongs: the echo is the next frame.
    client.expect_echo("after the pongs").await;
    client.close_normally().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn ten_pings_in_one_write_are_answered_by_ten_pongs_in_order() {
    // Section 5.5.3 lets a server answer only the latest of pings it has not answered yet;
    // like Autobahn (case 2.10), this expects every one answered.
    let server = start(config()).await;
    let mut client = connect(&server).await;
    let pings: Vec<Frame> = (0..10)
        .map(|i| Frame::ping(format!("ping {i}").into_bytes()))
        .collect();
    client.send_all(&pings).await;
    for i in 0..10 {
        client.expect_pong(format!("ping {i}").as_bytes()).await;
    }
    client.close_normally().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_fragmented_ping_closes_1002() {
    let server = start(config()).await;
    let mut client = connect(&server).await;
    client
        .send_all(&[
            Frame::new(PING, *b"frag").more(),
            Frame::continuation(*b"ment"),
        ])
        .await;
    client.expect_close(1002).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_ping_past_the_rate_limit_still_has_its_pong_written() {
    // Pings count against the rate limit, and one past it is not handled: but its pong is
    // queued by the socket all the same, so it must go out now, not whenever some later
    // frame happens to be written. Nothing else is sent here: a pong held back waits for
    // ever, and the client's own liveness check (it pinged) gives up on the server.
    let config = config().rate_limit(
        twinwire_runtime::RateLimit::per_second(1)
            .burst(1)
            .close_after(100, std::time::Duration::from_secs(10)),
    );
    let server = start(config).await;
    let mut client = connect(&server).await;
    client.send(Frame::ping(*b"within")).await;
    client.expect_pong(b"within").await;
    // At once: a second ping in the same second is past the burst of one.
    client.send(Frame::ping(*b"past")).await;
    let pong = tokio::time::timeout(std::time::Duration::from_secs(2), client.next()).await;
    match pong {
        Ok(Ok(crate::wire::Message::Pong(payload))) => assert_eq!(payload, b"past"),
        Ok(other) => panic!("expected the pong of the refused ping, got {other:?}"),
        Err(_) => panic!("the pong of a ping past the rate limit was never written"),
    }
    client.close_normally().await;
    server.shutdown().await.unwrap();
}
