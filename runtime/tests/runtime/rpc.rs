//! RPCs: replies, errors, progress, exactly one terminal frame, deadlines, panics,
//! duplicate correlation ids, and a burst of 10,000 requests.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use twinwire::ErrorCode;
use twinwire_runtime::{ErrorKind, RequestError};

use crate::common::{
    Add, Boom, Count, Done, Events, Fail, Never, PATIENCE, Raw, Slow, client, start, start_default,
    test_config, test_router,
};

#[tokio::test]
async fn a_request_gets_its_response() {
    let server = start_default().await;
    let client = client(&server).await;
    let sum = client
        .request(&Add { a: 2, b: 40 }, PATIENCE)
        .await
        .unwrap();
    assert_eq!(sum.value, 42);
    drop(client);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_handler_error_is_the_rpc_error() {
    let server = start_default().await;
    let client = client(&server).await;
    for code in [
        ErrorCode::NotFound,
        ErrorCode::PermissionDenied,
        ErrorCode::Unavailable,
    ] {
        match client.request(&Fail { code }, PATIENCE).await {
            Err(RequestError::Rpc(err)) => {
                assert_eq!(err.code, code);
                assert_eq!(err.message, "failed on purpose");
            }
            other => panic!("expected an RPC error, got {other:?}"),
        }
    }
    drop(client);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_panicking_handler_answers_internal_and_the_connection_survives() {
    let events = Events::default();
    let server = start(test_router().on_error(events.hook()), test_config()).await;
    let client = client(&server).await;
    for _ in 0..3 {
        match client.request(&Boom, PATIENCE).await {
            Err(RequestError::Rpc(err)) => assert_eq!(err.code, ErrorCode::Internal),
            other => panic!("expected INTERNAL, got {other:?}"),
        }
        assert_eq!(
            client
                .request(&Add { a: 1, b: 1 }, PATIENCE)
                .await
                .unwrap()
                .value,
            2
        );
    }
    let event = events.wait_for(|e| e.kind == ErrorKind::Panic).await;
    assert_eq!(event.wire_type.as_deref(), Some("BOOM"));
    assert_eq!(event.cause.as_deref(), Some("boom on purpose"));
    // The panic text stays on the server.
    assert!(!event.error.message.contains("boom on purpose"));
    drop(client);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_handler_past_its_deadline_gets_deadline_exceeded() {
    let server = start_default().await;
    let mut raw = Raw::connect(&server.url()).await;
    raw.json(json!({"type": "NEVER", "meta": {"correlationId": "n1"}}))
        .await;
    let answer = raw.recv().await;
    assert_eq!(answer["type"], "RPC_ERROR");
    assert_eq!(answer["meta"]["correlationId"], "n1");
    assert_eq!(answer["payload"]["code"], "DEADLINE_EXCEEDED");
    assert_eq!(answer["payload"]["details"]["type"], "NEVER");
    // Nothing else answers n1: the next frame is the answer to the next request.
    raw.still_serves().await;

    let client = client(&server).await;
    match client.request(&Never, PATIENCE).await {
        Err(RequestError::Rpc(err)) => assert_eq!(err.code, ErrorCode::DeadlineExceeded),
        other => panic!("expected DEADLINE_EXCEEDED, got {other:?}"),
    }
    drop((raw, client));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_early_reply_is_the_only_terminal_frame() {
    let events = Events::default();
    let server = start(test_router().on_error(events.hook()), test_config()).await;
    let mut raw = Raw::connect(&server.url()).await;
    raw.json(json!({"type": "TWICE", "meta": {"correlationId": "t1"}}))
        .await;
    let answer = raw.recv().await;
    assert_eq!(answer["type"], "DONE");
    assert_eq!(answer["meta"]["correlationId"], "t1");
    assert_eq!(answer["payload"]["note"], "first");
    // The handler's own asserts checked that a second reply, an error and progress were
    // refused; its return value is dropped, so the next frame answers the next request.
    raw.still_serves().await;
    drop(raw);
    server.shutdown().await.unwrap();
    // Those asserts held: a failed one would be a reported panic.
    assert_eq!(events.all(), []);
}

#[tokio::test]
async fn progress_frames_precede_the_reply() {
    let server = start_default().await;
    let client = client(&server).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let done: Done = client
        .request_with_progress(&Count { steps: 3 }, PATIENCE, move |step: u32| {
            sink.lock().unwrap().push(step);
        })
        .await
        .unwrap();
    assert_eq!(done.note, "counted 3");
    assert_eq!(*seen.lock().unwrap(), [1, 2, 3]);
    drop(client);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn progress_carries_payload_and_by_default_data_for_ws_kit_clients() {
    // `None`: the default, which WS-Kit's client (reading `data` only) must work with.
    for setting in [None, Some(false), Some(true)] {
        let data_field = setting.unwrap_or(true);
        let config = match setting {
            Some(enabled) => test_config().progress_data_field(enabled),
            None => test_config(),
        };
        let server = start(test_router(), config).await;
        let mut raw = Raw::connect(&server.url()).await;
        raw.json(
            json!({"type": "COUNT", "meta": {"correlationId": "p1"}, "payload": {"steps": 1}}),
        )
        .await;
        let progress = raw.recv().await;
        assert_eq!(progress["type"], "$ws:rpc-progress");
        assert_eq!(progress["meta"]["correlationId"], "p1");
        assert_eq!(progress["payload"], 1);
        if data_field {
            assert_eq!(progress["data"], 1);
        } else {
            assert!(progress.get("data").is_none(), "{progress}");
        }
        assert_eq!(raw.recv().await["type"], "DONE");
        drop(raw);
        server.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn a_duplicate_correlation_id_in_flight_is_refused_without_touching_the_first() {
    let events = Events::default();
    let server = start(test_router().on_error(events.hook()), test_config()).await;
    let mut raw = Raw::connect(&server.url()).await;

    raw.json(json!({"type": "SLOW", "meta": {"correlationId": "d1"}, "payload": {"ms": 300}}))
        .await;
    raw.json(json!({"type": "ADD", "meta": {"correlationId": "d1"}, "payload": {"a": 1, "b": 2}}))
        .await;
    let refusal = raw.recv().await;
    assert_eq!(refusal["type"], "ERROR", "{refusal}");
    assert!(refusal["meta"].get("correlationId").is_none());
    assert_eq!(refusal["payload"]["code"], "ALREADY_EXISTS");
    assert_eq!(refusal["payload"]["details"]["correlationId"], "d1");

    let first = raw.recv().await;
    assert_eq!(first["type"], "DONE");
    assert_eq!(first["meta"]["correlationId"], "d1");
    assert_eq!(first["payload"]["note"], "slept 300");

    // Once answered, the id may be used again.
    raw.json(json!({"type": "ADD", "meta": {"correlationId": "d1"}, "payload": {"a": 1, "b": 2}}))
        .await;
    let again = raw.recv().await;
    assert_eq!(again["type"], "SUM");
    assert_eq!(again["payload"]["value"], 3);
    events
        .wait_for(|e| e.kind == ErrorKind::DuplicateCorrelationId)
        .await;
    drop(raw);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_request_timeout_on_the_client_leaves_the_connection_usable() {
    let server = start_default().await;
    let client = client(&server).await;
    match client
        .request(&Slow { ms: 500 }, Duration::from_millis(20))
        .await
    {
        Err(RequestError::Timeout) => {}
        other => panic!("expected a client-side timeout, got {other:?}"),
    }
    assert_eq!(
        client
            .request(&Add { a: 3, b: 4 }, PATIENCE)
            .await
            .unwrap()
            .value,
        7
    );
    drop(client);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_burst_of_10000_requests_is_answered_in_full() {
    const N: usize = 10_000;
    // A bulk client, far past the default rate limit: it is served only without one.
    let server = start(
        crate::common::test_router(),
        crate::common::test_config().rate_limit(None),
    )
    .await;
    let raw = Raw::connect(&server.url()).await;
    let (mut sink, mut stream) = raw.ws.split();

    // Write everything without waiting for answers, while reading them concurrently (the
    // server stops reading while its answers pile up, so a client that only wrote would
    // stall itself).
    let writer = tokio::spawn(async move {
        for i in 0..N {
            let frame = json!({
                "type": "ADD",
                "meta": {"correlationId": i.to_string()},
                "payload": {"a": i, "b": 1}
            });
            sink.feed(WsMessage::text(frame.to_string())).await.unwrap();
        }
        sink.flush().await.unwrap();
        sink
    });

    let mut seen = HashSet::new();
    tokio::time::timeout(PATIENCE * 3, async {
        while seen.len() < N {
            let Some(Ok(WsMessage::Text(text))) = stream.next().await else {
                continue;
            };
            let answer: Value = serde_json::from_str(text.as_str()).unwrap();
            assert_eq!(answer["type"], "SUM", "{answer}");
            let id: usize = answer["meta"]["correlationId"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(answer["payload"]["value"], id + 1);
            assert!(seen.insert(id), "answered twice: {id}");
        }
    })
    .await
    .expect("every request answered");
    assert_eq!(seen.len(), N);

    // The same connection then serves the next good frame.
    let mut raw = Raw {
        ws: writer.await.unwrap().reunite(stream).unwrap(),
    };
    raw.still_serves().await;
    drop(raw);
    server.shutdown().await.unwrap();
}
