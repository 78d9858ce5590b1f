//! A client flooding frames: past its budget each frame is answered `RESOURCE_EXHAUSTED`
//! with `retryAfterMs` (as `RPC_ERROR` when correlated) and the connection keeps serving;
//! only a client that keeps on past many refusals is closed (1008). The limit is on by
//! default.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use twinwire_runtime::RateLimit;

use crate::common::{Ended, PATIENCE, Ws, config, ended, raw, recv, send_json, start};

fn echo(i: usize) -> WsMessage {
    WsMessage::text(json!({"type": "ECHO", "payload": {"text": format!("m{i}")}}).to_string())
}

/// Writes `frames` in one go while reading every answer concurrently; returns the answers
/// (until `expected` arrived) and the stream.
async fn flood(ws: Ws, frames: Vec<WsMessage>, expected: usize) -> (Vec<Value>, Ws) {
    let (mut sink, mut stream) = ws.split();
    let writer = tokio::spawn(async move {
        for frame in frames {
            sink.feed(frame).await.unwrap();
        }
        sink.flush().await.unwrap();
        sink
    });
    let mut answers = Vec::new();
    tokio::time::timeout(PATIENCE, async {
        while answers.len() < expected {
            match stream.next().await {
                Some(Ok(WsMessage::Text(text))) => {
                    answers.push(serde_json::from_str(text.as_str()).unwrap());
                }
                Some(Ok(_)) => {}
                other => panic!("the connection ended: {other:?}"),
            }
        }
    })
    .await
    .expect("every frame is answered");
    let sink = writer.await.unwrap();
    (answers, sink.reunite(stream).unwrap())
}

fn refused(answer: &Value) -> bool {
    answer["payload"]["code"] == "RESOURCE_EXHAUSTED"
}

#[tokio::test]
async fn a_flood_is_refused_by_default_and_the_connection_keeps_serving() {
    const FLOOD: usize = 2_500;
    let server = start(config()).await;
    let ws = raw(&server).await;
    let (answers, mut ws) = flood(ws, (0..FLOOD).map(echo).collect(), FLOOD).await;
    let refusals: Vec<&Value> = answers.iter().filter(|a| refused(a)).collect();
    // The default budget is generous (bursts of 2,000) but not unlimited.
    assert!(
        !refusals.is_empty(),
        "{} answers, none refused",
        answers.len()
    );
    assert!(refusals.len() < FLOOD - 1_000, "{} refused", refusals.len());
    let retry_after = refusals[0]["payload"]["retryAfterMs"].as_u64().unwrap();
    assert!(retry_after >= 1, "{}", refusals[0]);
    assert_eq!(refusals[0]["type"], "ERROR");
    // The client waits as told, and is served again.
    tokio::time::sleep(Duration::from_millis(retry_after)).await;
    send_json(
        &mut ws,
        json!({"type": "ECHO", "payload": {"text": "later"}}),
    )
    .await;
    let (answer, _) = recv(&mut ws).await;
    assert_eq!(answer["payload"]["text"], "later", "{answer}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_refusal_names_the_request_and_when_to_retry() {
    let server = start(config().rate_limit(RateLimit::per_second(10).burst(2))).await;
    let mut ws = raw(&server).await;
    for i in 0..3 {
        send_json(
            &mut ws,
            json!({"type": "ADD", "meta": {"correlationId": format!("r{i}")}, "payload": {"a": i, "b": 1}}),
        )
        .await;
    }
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(recv(&mut ws).await.0);
    }
    assert_eq!(answers[0]["type"], "SUM");
    assert_eq!(answers[1]["type"], "SUM");
    let refusal = &answers[2];
    assert_eq!(refusal["type"], "RPC_ERROR", "{refusal}");
    assert_eq!(refusal["meta"]["correlationId"], "r2");
    assert_eq!(refusal["payload"]["code"], "RESOURCE_EXHAUSTED");
    let retry_after = refusal["payload"]["retryAfterMs"].as_u64().unwrap();
    assert!((1..=100).contains(&retry_after), "{refusal}");
    tokio::time::sleep(Duration::from_millis(retry_after)).await;
    send_json(
        &mut ws,
        json!({"type": "ADD", "meta": {"correlationId": "r2"}, "payload": {"a": 2, "b": 1}}),
    )
    .await;
    let (answer, _) = recv(&mut ws).await;
    assert_eq!(answer["type"], "SUM", "{answer}");
    assert_eq!(answer["payload"]["value"], 3);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn only_sustained_abuse_closes_the_connection() {
    // One frame a second, so the budget barely refills while the test runs.
    let limit = RateLimit::per_second(1)
        .burst(5)
        .close_after(20, Duration::from_secs(60));
    let server = start(config().rate_limit(limit)).await;
    let ws = raw(&server).await;
    // Five served and twenty refused: still open.
    let (answers, mut ws) = flood(ws, (0..25).map(echo).collect(), 25).await;
    assert!(
        answers[..5].iter().all(|a| a["type"] == "ECHOED"),
        "{answers:?}"
    );
    assert!(answers[5..].iter().all(refused), "{answers:?}");
    // The twenty-first refusal is one too many. (A few more frames, as the budget may have
    // refilled by one in the meantime.)
    for i in 0..3 {
        let _ = ws.send(echo(100 + i)).await;
    }
    assert_eq!(ended(&mut ws).await, Ended::Closed(1008));
    // Other connections are not affected.
    let mut other = raw(&server).await;
    send_json(
        &mut other,
        json!({"type": "ECHO", "payload": {"text": "fine"}}),
    )
    .await;
    assert_eq!(recv(&mut other).await.0["payload"]["text"], "fine");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn without_a_limit_a_bulk_client_is_served_in_full() {
    const FLOOD: usize = 5_000;
    let server = start(config().rate_limit(None)).await;
    let ws = raw(&server).await;
    let (answers, _ws) = flood(ws, (0..FLOOD).map(echo).collect(), FLOOD).await;
    assert!(answers.iter().all(|a| a["type"] == "ECHOED"));
    server.shutdown().await.unwrap();
}
