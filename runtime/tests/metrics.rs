//! Metrics through the `metrics` facade, read back with a debugging recorder. In a test
//! binary of its own: the recorder is process-wide.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chat_protocol::{Calculate, CalculateResult, JoinRoom, Operation, UserJoined};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use twinwire_runtime::telemetry::{
    CONNECTIONS_ACCEPTED, CONNECTIONS_REFUSED, ERRORS, FRAMES_RECEIVED, FRAMES_SENT,
    HANDLER_DURATION, PUBSUB_DELIVERIES,
};
use twinwire_runtime::{Client, Rejection, Router, RpcContext, Server, UpgradeRequest};

const PATIENCE: Duration = Duration::from_secs(10);

/// A metric read back: name, labels and value.
type Sample = (String, Vec<(String, String)>, DebugValue);

/// The value of metric `name` whose labels include every `(key, value)` of `labels`.
fn value<'a>(
    snapshot: &'a [Sample],
    name: &str,
    labels: &[(&str, &str)],
) -> Option<&'a DebugValue> {
    snapshot
        .iter()
        .find(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|(_, _, v)| v)
}

#[tokio::test]
async fn connections_frames_errors_latency_and_deliveries_are_counted() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().unwrap();

    let router = Router::<()>::new()
        .authenticate(|request: UpgradeRequest| async move {
            match request.token().as_deref() {
                Some("bad") => Err(Rejection::forbidden("no entry")),
                _ => Ok(()),
            }
        })
        .on(|ctx, join: JoinRoom| async move {
            ctx.subscribe(&join.room_id).await?;
            let joined = UserJoined {
                room_id: join.room_id.clone(),
                user_id: "u1".into(),
                user_name: "Ann".into(),
            };
            ctx.publish(&join.room_id, &joined).await?;
            Ok(())
        })
        .rpc(|_: RpcContext<(), Calculate>, req: Calculate| async move {
            let result = match req.operation {
                Operation::Add => req.a + req.b,
                Operation::Multiply => req.a * req.b,
            };
            Ok(CalculateResult { result })
        });
    let handle = Server::new(router)
        .unwrap()
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let client = Client::connect(handle.url()).await.unwrap();
    let request = Calculate {
        operation: Operation::Add,
        a: 1.0,
        b: 2.0,
    };
    client.request(&request, PATIENCE).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    client.on(move |_: UserJoined, _| {
        let _ = tx.send(());
    });
    client
        .send(&JoinRoom {
            room_id: "r".into(),
        })
        .await
        .unwrap();
    tokio::time::timeout(PATIENCE, rx.recv()).await.unwrap();
    let (errors, mut errored) = tokio::sync::mpsc::unbounded_channel();
    client.on_error(move |_, _| {
        let _ = errors.send(());
    });
    client.send_text(r#"{"type":"NOPE"}"#).await.unwrap();
    tokio::time::timeout(PATIENCE, errored.recv())
        .await
        .unwrap();
    let refused = Client::builder(handle.url())
        .bearer_token("bad")
        .connect()
        .await
        .unwrap();
    refused.closed().await;
    drop(client);
    handle.shutdown().await.unwrap();

    let snapshot: Vec<Sample> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let labels = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            (key.name().to_owned(), labels, value)
        })
        .collect();
    let counter = |name: &str, labels: &[(&str, &str)]| match value(&snapshot, name, labels) {
        Some(DebugValue::Counter(n)) => *n,
        other => panic!("{name} {labels:?}: {other:?} in {snapshot:#?}"),
    };
    // The refused one was accepted only to carry its close code: counted as refused.
    assert_eq!(counter(CONNECTIONS_ACCEPTED, &[]), 1);
    assert_eq!(counter(CONNECTIONS_REFUSED, &[("reason", "forbidden")]), 1);
    assert_eq!(counter(FRAMES_RECEIVED, &[("type", "CALCULATE")]), 1);
    assert_eq!(counter(FRAMES_RECEIVED, &[("type", "JOIN_ROOM")]), 1);
    assert_eq!(counter(FRAMES_RECEIVED, &[("type", "unrouted")]), 1);
    assert!(counter(FRAMES_SENT, &[]) >= 3, "reply, publish, error");
    assert_eq!(
        counter(
            ERRORS,
            &[("kind", "unknown_type"), ("code", "UNIMPLEMENTED")]
        ),
        1
    );
    assert_eq!(counter(PUBSUB_DELIVERIES, &[]), 1);
    match value(
        &snapshot,
        HANDLER_DURATION,
        &[("type", "CALCULATE"), ("outcome", "ok")],
    ) {
        Some(DebugValue::Histogram(samples)) => assert_eq!(samples.len(), 1),
        other => panic!("{HANDLER_DURATION}: {other:?}"),
    }
}
