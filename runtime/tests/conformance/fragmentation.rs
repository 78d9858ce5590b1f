//! Fragmentation (RFC 6455, section 5.4; Autobahn's case 5): a message in several frames is
//! one message, control frames may come between its fragments, continuations need a start,
//! a new message cannot start inside one, and the size limit counts the whole message.

use crate::common::{SMALL_LIMIT, config, connect, echo, small_config, start};
use crate::wire::Frame;

/// `bytes` as a text message cut at `cuts` (positions, ascending).
fn fragments(bytes: &[u8], cuts: &[usize]) -> Vec<Frame> {
    let mut bounds = vec![0];
    bounds.extend_from_slice(cuts);
    bounds.push(bytes.len());
    let last = bounds.len() - 2;
    bounds
        .windows(2)
        .enumerate()
        .map(|(i, pair)| {
            let part = bytes[pair[0]..pair[1]].to_vec();
            let frame = if i == 0 {
                Frame::text(part)
            } else {
                Frame::continuation(part)
            };
            if i == last { frame } else { frame.more() }
        })
        .collect()
}

#[tokio::test]
async fn a_text_message_in_two_fragments_is_echoed_whole() {
    let server = start(config()).await;
    let mut client = connect(&server).await;
    let json = echo("two halves");
    client
        .send_all(&fragments(json.as_bytes(), &[json.len() / 2]))
        .await;
    client.expect_echo("two halves").await;
    // The fragments in separate writes, the second after a pause.
    let [first, second]: [Frame; 2] = fragments(json.as_bytes(), &[7])
        .try_into()
        .expect("two fragments");
    client.send(first).await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    client.send(second).await;
    client.expect_echo("two halves").await;
    client.close_normally().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_text_message_in_many_fragments_is_echoed_whole() {
    let server = start(config()).await;
    let mut client = connect(&server).await;
    let text = "many small pieces make one message";
    let json = echo(text);
    let cuts: Vec<usize> = (3..json.len()).step_by(3).collect();
    client.send_all(&fragments(json.as_bytes(), &cuts)).await;
    client.expect_echo(text).await;
    // One byte per frame.
    let cuts: Vec<usize> = (1..json.len()).collect();
    client.send_all(&fragments(json.as_bytes(), &cuts)).await;
    client.expect_echo(text).await;
    client.close_normally().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn empty_fragments_are_part_of_the_message() {
    // Autobahn 5.x and 6.1: zero-length fragments at the start, middle and end.
    let server = start(config()).await;
    let mut client = connect(&server).await;
    let json = echo("with empty fragments");
    let middle = json.len() / 2;
    let frames = vec![
        Frame::text(Vec::new()).more(),
        Frame::continuation(&json.as_bytes()[..middle]).more(),
        Frame::continuation(Vec::new()).more(),
        Frame::continuation(&json.as_bytes()[middle..]).more(),
        Frame::continuation(Vec::new()),
    ];
    client.send_all(&frames).await;
    client.expect_echo("with empty fragments").await;
    client.close_normally().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_binary_message_in_fragments_is_handled_like_text() {
    let server = start(config()).await;
    let mut client = connect(&server).await;
    let json = echo("binary pieces");
    let (head, tail) = json.as_bytes().split_at(10);
    client
        .send_all(&[Frame::binary(head).more(), Frame::continuation(tail)])
        .await;
    client.expect_echo("binary pieces").await;
    client.close_normally().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_ping_between_fragments_is_answered_first_then_the_message() {
    let server = start(config()).await;
    let mut client = connect(&server).await;
    let json = echo("around a ping");
    let (head, tail) = json.as_bytes().split_at(12);
    client
        .send_all(&[
            Frame::text(head).more(),
            Frame::ping(*b"in between"),
            Frame::continuation(tail),
        ])
        .await;
    client.expect_pong(b"in between").await;
    client.expect_echo("around a ping").await;
    // The same with the fragments in writes of their own: the pong cannot wait for the
    // message to be complete.
    client.send(Frame::text(head).more()).await;
    client.send(Frame::ping(*b"alone")).await;
    client.expect_pong(b"alone").await;
    client.send(Frame::continuation(tail)).await;
    client.expect_echo("around a ping").await;
    client.close_normally().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_pong_and_a_ping_between_fragments_are_allowed() {
    let server = start(config()).await;
    let mut client = connect(&server).await;
    let json = echo("control in the middle");
    let (head, tail) = json.as_bytes().split_at(5);
    let (middle, tail) = tail.split_at(10);
    client
        .send_all(&[
            Frame::text(head).more(),
            Frame::pong(*b"unsolicited"),
            Frame::continuation(middle).more(),
            Frame::ping(*b"p"),
            Frame::continuation(tail),
        ])
        .await;
    client.expect_pong(b"p").await;
    client.expect_echo("control in the middle").await;
    client.close_normally().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_continuation_without_a_start_closes_1002() {
    let server = start(config()).await;
    let mut client = connect(&server).await;
    client
        .send(Frame::continuation(echo("no start").into_bytes()))
        .await;
    client.expect_close(1002).await;
    // The same with FIN cleared, after a complete message.
    let mut client = connect(&server).await;
    client
        .send_all(&[
            Frame::text(echo("complete")),
            Frame::continuation(*b"dangling").more(),
        ])
        .await;
    client.expect_echo("complete").await;
    client.expect_close(1002).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_new_message_inside_a_fragmented_one_closes_1002() {
    let server = start(config()).await;
    let json = echo("interrupted");
    let (head, tail) = json.as_bytes().split_at(8);
    for start_again in [Frame::text(echo("again")), Frame::binary(echo("again"))] {
        let mut client = connect(&server).await;
        client
            .send_all(&[
                Frame::text(head).more(),
                start_again,
                Frame::continuation(tail),
            ])
            .await;
        client.expect_close(1002).await;
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn fragments_adding_up_past_the_limit_close_1009() {
    // Each fragment is under the limit; their sum is not.
    let server = start(small_config()).await;
    let mut client = connect(&server).await;
    let text = "y".repeat(SMALL_LIMIT * 2);
    let json = echo(&text);
    let third = json.len() / 3;
    client
        .send_all(&fragments(json.as_bytes(), &[third, 2 * third]))
        .await;
    client.expect_close(1009).await;
    server.shutdown().await.unwrap();
}
