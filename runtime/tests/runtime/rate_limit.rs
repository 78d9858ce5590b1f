//! The per-connection rate limit: a client within it is served; past it, frames are
//! refused with `RESOURCE_EXHAUSTED`, and a flood that keeps on is closed with 1008 and
//! reported.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use twinwire::ErrorCode;
use twinwire_runtime::{ErrorKind, RateLimit};

use crate::common::{Events, PATIENCE, Raw, start, test_config, test_router};
use crate::liveness::close_recorder;

fn echo(i: usize) -> WsMessage {
    WsMessage::text(json!({"type": "ECHO", "payload": {"text": format!("m{i}")}}).to_string())
}

#[tokio::test]
async fn a_client_within_its_burst_is_served_in_full() {
    // One message a second: only the burst makes room, whatever the test's speed.
    let config = test_config().rate_limit(RateLimit::per_second(1).burst(30));
    let events = Events::default();
    let server = start(test_router().on_error(events.hook()), config).await;
    let mut raw = Raw::connect(&server.url()).await;

    for i in 0..20 {
        raw.ws.feed(echo(i)).await.unwrap();
    }
    raw.ws.flush().await.unwrap();
    for i in 0..20 {
        let answer = raw.recv().await;
        assert_eq!(answer["type"], "ECHOED", "{answer}");
        assert_eq!(answer["payload"]["text"], format!("m{i}"));
    }
    raw.still_serves().await;
    drop(raw);
    server.shutdown().await.unwrap();
    assert_eq!(events.all(), []);
}

#[tokio::test]
async fn a_flood_past_the_rate_limit_is_closed_with_1008() {
    const FLOOD: usize = 50;
    let config = test_config().rate_limit(RateLimit::per_second(1).burst(10));
    let events = Events::default();
    let (on_close, mut closes) = close_recorder();
    let router = test_router().on_error(events.hook()).on_close(on_close);
    let server = start(router, config).await;
    let mut raw = Raw::connect(&server.url()).await;

    // At one message a second, sending these takes far less than the 40 s that would
    // keep them within the limit. The server may close before all are written.
    for i in 0..FLOOD {
        if raw.ws.feed(echo(i)).await.is_err() {
            break;
        }
    }
    let _ = raw.ws.flush().await;

    let mut answers = Vec::new();
    let close = tokio::time::timeout(PATIENCE, async {
        loop {
            match raw.ws.next().await {
                Some(Ok(WsMessage::Text(text))) => {
                    answers.push(serde_json::from_str::<Value>(text.as_str()).unwrap());
                }
                Some(Ok(WsMessage::Close(frame))) => return frame,
                Some(Ok(_)) => {}
                other => panic!("the connection ended without a close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("the server closes the connection");
    let close = close.expect("a close frame with a code");
    assert_eq!(u16::from(close.code), 1008);
    assert!(close.reason.contains("rate limit"), "{}", close.reason);
    // Frames within the limit were served before the close, the next ten refused (as
    // many refusals as the burst); the rest of the flood was not read.
    assert!(answers.len() < FLOOD, "{} answers", answers.len());
    let served = answers.iter().take_while(|a| a["type"] == "ECHOED").count();
    assert!(served >= 10, "{answers:?}");
    for (i, answer) in answers[..served].iter().enumerate() {
        assert_eq!(answer["payload"]["text"], format!("m{i}"));
    }
    assert_eq!(answers.len() - served, 10, "{answers:?}");
    for answer in &answers[served..] {
        assert_eq!(answer["type"], "ERROR", "{answer}");
        assert_eq!(answer["payload"]["code"], "RESOURCE_EXHAUSTED", "{answer}");
        assert!(answer["payload"]["retryAfterMs"].as_u64().unwrap() >= 1);
    }

    let event = events.wait_for(|e| e.kind == ErrorKind::RateLimited).await;
    assert_eq!(event.error.code, ErrorCode::ResourceExhausted);
    assert!(event.connection.is_some());
    let info = tokio::time::timeout(PATIENCE, closes.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(info.code, 1008);
    // Reported at the first refusal and at the close, not for every refused frame.
    assert_eq!(
        events
            .all()
            .iter()
            .filter(|e| e.kind == ErrorKind::RateLimited)
            .count(),
        2
    );

    // Other connections are not affected.
    let mut other = Raw::connect(&server.url()).await;
    other.still_serves().await;
    drop((raw, other));
    server.shutdown().await.unwrap();
}
