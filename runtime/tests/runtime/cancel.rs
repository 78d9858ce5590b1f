//! `$ws:abort`: a client cancels its request, the handler is dropped, the request is
//! answered `CANCELLED`, and aborts that come too late are ignored.

use std::time::Duration;

use serde_json::json;
use tokio::sync::mpsc;
use twinwire::{ErrorCode, rpc};
use twinwire_runtime::{ErrorKind, RequestError, Router, RpcContext};

use crate::common::{Add, Done, Events, PATIENCE, Raw, client, start, test_config, test_router};

/// Sends the progress `"started"`, then waits forever.
#[rpc("STALL", response = Done)]
#[derive(Clone, Debug, PartialEq)]
pub struct Stall;

/// Hands the wait for the cancellation to a spawned task, then waits forever.
#[rpc("STALL_SPAWNED", response = Done)]
#[derive(Clone, Debug, PartialEq)]
pub struct StallSpawned;

/// Replies at once, then keeps working forever.
#[rpc("REPLY_THEN_STALL", response = Done)]
#[derive(Clone, Debug, PartialEq)]
pub struct ReplyThenStall;

/// Reports on a channel when it is dropped: the handler's future has been dropped.
struct DropSignal(mpsc::UnboundedSender<&'static str>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        let _ = self.0.send("handler dropped");
    }
}

/// The test router plus the stalling RPCs, which report what happens to them on `signals`.
fn router(signals: &mpsc::UnboundedSender<&'static str>) -> Router<()> {
    let (stall, spawned, reply) = (signals.clone(), signals.clone(), signals.clone());
    let extra = Router::new()
        .rpc(move |ctx: RpcContext<(), Stall>, _: Stall| {
            let signals = stall.clone();
            async move {
                let _drop = DropSignal(signals.clone());
                ctx.progress(&"started")?;
                std::future::pending::<()>().await;
                let _ = signals.send("handler finished");
                Ok(Done { note: "-".into() })
            }
        })
        .rpc(move |ctx: RpcContext<(), StallSpawned>, _: StallSpawned| {
            let signals = spawned.clone();
            async move {
                let _drop = DropSignal(signals.clone());
                let watcher = ctx.context().clone();
                let task_signals = signals.clone();
                tokio::spawn(async move {
                    watcher.cancelled().await;
                    assert!(watcher.is_cancelled());
                    let _ = task_signals.send("task saw the cancellation");
                });
                // The client aborts only after this progress frame.
                assert!(!ctx.is_cancelled());
                ctx.progress(&"started")?;
                std::future::pending::<()>().await;
                Ok(Done { note: "-".into() })
            }
        })
        .rpc(
            move |ctx: RpcContext<(), ReplyThenStall>, _: ReplyThenStall| {
                let signals = reply.clone();
                async move {
                    let _drop = DropSignal(signals);
                    ctx.reply(&Done {
                        note: "early".into(),
                    })?;
                    std::future::pending::<()>().await;
                    Ok(Done { note: "-".into() })
                }
            },
        );
    test_router().merge(extra).expect("no overlapping routes")
}

async fn next_signal(signals: &mut mpsc::UnboundedReceiver<&'static str>) -> &'static str {
    tokio::time::timeout(PATIENCE, signals.recv())
        .await
        .expect("a signal in time")
        .expect("the router keeps a sender")
}

async fn abort(raw: &mut Raw, id: &str) {
    raw.json(json!({"type": "$ws:abort", "meta": {"correlationId": id}}))
        .await;
}

#[tokio::test]
async fn an_abort_cancels_the_handler_and_answers_cancelled() {
    let (tx, mut signals) = mpsc::unbounded_channel();
    let events = Events::default();
    let server = start(router(&tx).on_error(events.hook()), test_config()).await;
    let mut raw = Raw::connect(&server.url()).await;

    raw.json(json!({"type": "STALL", "meta": {"correlationId": "c1"}}))
        .await;
    let progress = raw.recv().await;
    assert_eq!(progress["type"], "$ws:rpc-progress", "{progress}");
    assert_eq!(progress["payload"], "started");

    abort(&mut raw, "c1").await;
    let answer = raw.recv().await;
    assert_eq!(answer["type"], "RPC_ERROR", "{answer}");
    assert_eq!(answer["meta"]["correlationId"], "c1");
    assert_eq!(answer["payload"]["code"], "CANCELLED");
    // The handler's future was dropped mid-await: it never reached its end.
    assert_eq!(next_signal(&mut signals).await, "handler dropped");

    // The connection keeps serving, and the id is free again: once for a quick request,
    // once for another cancelled one.
    raw.still_serves().await;
    raw.json(json!({"type": "ADD", "meta": {"correlationId": "c1"}, "payload": {"a": 2, "b": 3}}))
        .await;
    let sum = raw.recv().await;
    assert_eq!(sum["type"], "SUM", "{sum}");
    assert_eq!(sum["meta"]["correlationId"], "c1");
    assert_eq!(sum["payload"]["value"], 5);
    raw.json(json!({"type": "STALL", "meta": {"correlationId": "c1"}}))
        .await;
    assert_eq!(raw.recv().await["type"], "$ws:rpc-progress");
    abort(&mut raw, "c1").await;
    assert_eq!(raw.recv().await["payload"]["code"], "CANCELLED");
    assert_eq!(next_signal(&mut signals).await, "handler dropped");
    raw.still_serves().await;

    drop(raw);
    server.shutdown().await.unwrap();
    assert!(signals.try_recv().is_err(), "no handler finished");
    // A cancellation is not an error.
    assert_eq!(events.all(), []);
}

#[tokio::test]
async fn work_handed_to_a_task_sees_the_cancellation() {
    let (tx, mut signals) = mpsc::unbounded_channel();
    let server = start(router(&tx), test_config()).await;
    let mut raw = Raw::connect(&server.url()).await;

    raw.json(json!({"type": "STALL_SPAWNED", "meta": {"correlationId": "s1"}}))
        .await;
    assert_eq!(raw.recv().await["payload"], "started");
    abort(&mut raw, "s1").await;
    assert_eq!(raw.recv().await["payload"]["code"], "CANCELLED");
    let mut seen = [
        next_signal(&mut signals).await,
        next_signal(&mut signals).await,
    ];
    seen.sort_unstable();
    assert_eq!(seen, ["handler dropped", "task saw the cancellation"]);

    drop(raw);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn aborts_that_come_too_late_are_ignored_silently() {
    let (tx, _signals) = mpsc::unbounded_channel();
    let events = Events::default();
    // REPLY_THEN_STALL never ends: don't let it hold up the shutdown for long.
    let config = test_config().shutdown_grace(Duration::from_millis(100));
    let server = start(router(&tx).on_error(events.hook()), config).await;
    let mut raw = Raw::connect(&server.url()).await;

    // An id never used on this connection.
    abort(&mut raw, "unknown").await;
    // A request already answered and finished.
    raw.json(json!({"type": "ADD", "meta": {"correlationId": "a1"}, "payload": {"a": 1, "b": 1}}))
        .await;
    assert_eq!(raw.recv().await["type"], "SUM");
    abort(&mut raw, "a1").await;
    // A request answered early whose handler works on: the answer stands.
    raw.json(json!({"type": "REPLY_THEN_STALL", "meta": {"correlationId": "r1"}}))
        .await;
    let early = raw.recv().await;
    assert_eq!(early["type"], "DONE", "{early}");
    assert_eq!(early["meta"]["correlationId"], "r1");
    abort(&mut raw, "r1").await;
    // A second abort of a cancelled request.
    raw.json(json!({"type": "STALL", "meta": {"correlationId": "c2"}}))
        .await;
    assert_eq!(raw.recv().await["type"], "$ws:rpc-progress");
    abort(&mut raw, "c2").await;
    assert_eq!(raw.recv().await["payload"]["code"], "CANCELLED");
    abort(&mut raw, "c2").await;

    // None of those aborts was answered: the next frame answers the next request.
    raw.still_serves().await;
    drop(raw);
    server.shutdown().await.unwrap();
    assert_eq!(events.all(), []);
}

#[tokio::test]
async fn an_abort_without_a_correlation_id_is_refused() {
    let (tx, _signals) = mpsc::unbounded_channel();
    let events = Events::default();
    let server = start(router(&tx).on_error(events.hook()), test_config()).await;
    let mut raw = Raw::connect(&server.url()).await;

    raw.json(json!({"type": "$ws:abort"})).await;
    let answer = raw.recv().await;
    assert_eq!(answer["type"], "ERROR", "{answer}");
    assert_eq!(answer["payload"]["code"], "INVALID_ARGUMENT");
    assert_eq!(
        answer["payload"]["details"]["issues"][0]["path"],
        "/meta/correlationId"
    );
    raw.still_serves().await;
    let event = events.wait_for(|e| e.kind == ErrorKind::InvalidFrame).await;
    assert_eq!(event.error.code, ErrorCode::InvalidArgument);
    drop(raw);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_rust_client_cancels_what_it_stops_waiting_for() {
    let (tx, mut signals) = mpsc::unbounded_channel();
    let server = start(router(&tx), test_config()).await;
    let client = client(&server).await;

    // A timeout sends `$ws:abort`: the server drops the handler.
    match client.request(&Stall, Duration::from_millis(50)).await {
        Err(RequestError::Timeout) => {}
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(next_signal(&mut signals).await, "handler dropped");

    // So does dropping the request's future.
    let request = client.request(&Stall, PATIENCE);
    assert!(
        tokio::time::timeout(Duration::from_millis(50), request)
            .await
            .is_err()
    );
    assert_eq!(next_signal(&mut signals).await, "handler dropped");

    // The late CANCELLED answers settle nothing; the client keeps working.
    let sum = client.request(&Add { a: 1, b: 2 }, PATIENCE).await.unwrap();
    assert_eq!(sum.value, 3);
    drop(client);
    server.shutdown().await.unwrap();
}
