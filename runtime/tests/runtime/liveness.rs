//! Liveness and limits: pings and the ping timeout, the slow-reader policy, graceful
//! shutdown.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::net::TcpSocket;
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{WebSocketStream, client_async};
use twinwire_runtime::{Client, CloseInfo, Context, ErrorKind, RpcContext, ServerConfig};

use crate::common::{
    Add, Done, Echo, Echoed, Ended, Events, PATIENCE, Raw, Slow, Sum, client, start, test_config,
    test_router,
};
use crate::pubsub::{Join, Said};

/// Never answers, and has no deadline.
#[twinwire::rpc("HANG", response = Done)]
pub struct Hang;

/// A WebSocket client on a socket with a tiny receive buffer, so that a client that stops
/// reading is noticed after little data.
async fn stubborn(addr: std::net::SocketAddr) -> WebSocketStream<tokio::net::TcpStream> {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let (ws, _) = client_async(format!("ws://{addr}/"), stream).await.unwrap();
    ws
}

pub fn close_recorder() -> (
    impl Fn(Context, CloseInfo) -> std::future::Ready<()> + Send + Sync + 'static,
    mpsc::UnboundedReceiver<CloseInfo>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let hook = move |_: Context, info: CloseInfo| {
        let _ = tx.send(info);
        std::future::ready(())
    };
    (hook, rx)
}

#[tokio::test]
async fn a_client_that_answers_pings_stays_connected() {
    let config = test_config().ping(Some(Duration::from_millis(20)), PATIENCE);
    let server = start(test_router(), config).await;
    let mut raw = Raw::connect(&server.url()).await;
    // Reading lets the client library answer each ping; the connection outlives them.
    let pings = tokio::time::timeout(PATIENCE, async {
        let mut pings = 0;
        while pings < 3 {
            if let Some(Ok(WsMessage::Ping(_))) = raw.ws.next().await {
                pings += 1;
            }
        }
    })
    .await;
    assert!(pings.is_ok(), "the server pings an idle connection");
    raw.still_serves().await;
    drop(raw);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_client_that_never_answers_a_ping_is_dropped() {
    let (on_close, mut closes) = close_recorder();
    let config = test_config().ping(Some(Duration::from_millis(20)), Duration::from_millis(100));
    let server = start(test_router().on_close(on_close), config).await;
    let silent = stubborn(server.local_addr()).await;
    let info = tokio::time::timeout(PATIENCE, closes.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        info,
        CloseInfo {
            code: 1006,
            reason: "ping timeout".into()
        }
    );
    assert_eq!(server.server().connection_count(), 0);
    drop(silent);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_slow_reader_is_cut_off_without_stalling_publishers_or_other_readers() {
    const MESSAGES: usize = 1_000;
    let events = Events::default();
    let (on_close, mut closes) = close_recorder();
    let router = test_router()
        .on(|ctx: Context, join: Join| async move {
            ctx.subscribe(&join.topic).await?;
            ctx.send(&Echoed {
                text: "joined".into(),
            })?;
            Ok(())
        })
        .on_error(events.hook())
        .on_close(on_close);
    // Room for the sixteen 8 KiB frames published between two yields below, as before.
    let config = test_config()
        .outbound_limit(128 * 1024)
        .write_timeout(Duration::from_millis(500));
    let server = start(router, config).await;

    let join = serde_json::json!({"type": "JOIN", "payload": {"topic": "firehose"}}).to_string();
    let mut slow = stubborn(server.local_addr()).await;
    futures_util::SinkExt::send(&mut slow, WsMessage::text(join.clone()))
        .await
        .unwrap();
    let joined = slow.next().await.unwrap().unwrap();
    assert!(joined.to_text().unwrap().contains("joined"));
    let mut fast = Raw::connect(&server.url()).await;
    fast.text(join).await;
    assert_eq!(fast.recv().await["payload"]["text"], "joined");

    // The fast reader reads concurrently; the slow one never reads again.
    let reader = tokio::spawn(async move {
        for i in 0..MESSAGES {
            let frame = fast.recv().await;
            assert_eq!(frame["type"], "SAID");
            assert!(
                frame["payload"]["text"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{i}:"))
            );
        }
        fast
    });
    let text = "x".repeat(8 * 1024);
    tokio::time::timeout(PATIENCE, async {
        for i in 0..MESSAGES {
            // Never waits on a subscriber, however slow.
            server
                .server()
                .publish(
                    "firehose",
                    &Said {
                        text: format!("{i}:{text}"),
                    },
                )
                .await
                .unwrap();
            // Give the fast reader's connection a chance to drain, as real traffic would.
            if i % 16 == 15 {
                tokio::task::yield_now().await;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    })
    .await
    .expect("publishing never stalls");

    let mut fast = tokio::time::timeout(PATIENCE, reader)
        .await
        .unwrap()
        .unwrap();
    let info = tokio::time::timeout(PATIENCE, closes.recv())
        .await
        .unwrap()
        .unwrap();
    // Cut off by its queue (1008: past its hard bound, or full with nothing written for
    // the grace period) or by the write timeout (1006, no close frame fits).
    assert!(
        info.code == 1008 || (info.code == 1006 && info.reason.contains("slow consumer")),
        "{info:?}"
    );
    events.wait_for(|e| e.kind == ErrorKind::SlowConsumer).await;
    fast.still_serves().await;
    assert_eq!(server.server().connection_count(), 1);
    drop((slow, fast));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_lets_in_flight_handlers_finish_then_closes_with_1001() {
    let started = Arc::new(Notify::new());
    let (echo_started, hang_started) = (started.clone(), started.clone());
    let router = twinwire_runtime::Router::<()>::new()
        .on(move |ctx: Context, _: Echo| {
            let started = echo_started.clone();
            async move {
                started.notify_one();
                tokio::time::sleep(Duration::from_millis(200)).await;
                ctx.send(&Echoed {
                    text: "finished".into(),
                })?;
                Ok(())
            }
        })
        .rpc(move |_: RpcContext<(), Hang>, _: Hang| {
            let started = hang_started.clone();
            async move {
                started.notify_one();
                std::future::pending::<()>().await;
                Ok(Done {
                    note: String::new(),
                })
            }
        });
    let server = start(
        router,
        test_config().shutdown_grace(Duration::from_millis(300)),
    )
    .await;
    let url = server.url();

    let stuck = client(&server).await;
    let hang = {
        let stuck = stuck.clone();
        tokio::spawn(async move { stuck.request(&Hang, PATIENCE).await })
    };
    started.notified().await;
    let mut working = Raw::connect(&url).await;
    working
        .json(serde_json::json!({"type": "ECHO", "payload": {"text": "x"}}))
        .await;
    started.notified().await;
    let shutdown = tokio::spawn(server.shutdown());

    // The handler that was running finishes and its frame goes out before the close.
    assert_eq!(working.recv().await["payload"]["text"], "finished");
    assert!(matches!(working.ended().await, Ended::Closed(1001, _)));
    // One that would never finish is cancelled after the grace period; its caller learns
    // it from the close.
    assert_eq!(stuck.closed().await.code, 1001);
    assert!(matches!(
        hang.await.unwrap(),
        Err(twinwire_runtime::RequestError::Closed)
    ));
    tokio::time::timeout(PATIENCE, shutdown)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    // Nobody is listening any more.
    assert!(twinwire_runtime::Client::connect(url).await.is_err());
}

#[tokio::test]
async fn requests_keep_working_after_a_flood_of_small_frames_with_a_small_queue() {
    let config = ServerConfig::default()
        .outbound_limit(1024)
        .max_in_flight(2)
        .close_timeout(Duration::from_millis(200));
    let server = start(test_router(), config).await;
    let client = client(&server).await;
    // Many concurrent slow requests: reading pauses at two in flight, nothing is refused.
    let calls: Vec<_> = (0..20)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { client.request(&Slow { ms: 5 + i }, PATIENCE).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    drop(client);
    server.shutdown().await.unwrap();
}

/// Sends `count` frames at once.
#[twinwire::message("FLOOD")]
pub struct Flood {
    pub count: u32,
}

#[tokio::test]
async fn overflowing_the_outbound_queue_closes_with_1008() {
    let events = Events::default();
    let router = test_router()
        .on(|ctx: Context, flood: Flood| async move {
            let mut refused = None;
            for i in 0..flood.count {
                if let Err(err) = ctx.send(&Echoed {
                    text: i.to_string(),
                }) {
                    refused = Some((i, err));
                    break;
                }
            }
            // Frames are 75 or 76 bytes: sixteen (1,206 bytes) fit under the hard bound
            // (twice the limit, 1,240 bytes), the seventeenth does not; the error says why.
            let (at, err) = refused.expect("the queue overflows");
            assert_eq!(at, 16);
            assert!(
                matches!(err, twinwire_runtime::SendError::QueueFull),
                "{err}"
            );
            Ok(())
        })
        .on_error(events.hook());
    let server = start(router, test_config().outbound_limit(620)).await;
    let mut raw = Raw::connect(&server.url()).await;
    raw.json(serde_json::json!({"type": "FLOOD", "payload": {"count": 100}}))
        .await;
    // The backlog is dropped and the close goes out at once.
    match raw.ended().await {
        Ended::Closed(1008, reason) => assert!(reason.contains("outbound queue full"), "{reason}"),
        other => panic!("expected 1008, got {other:?}"),
    }
    events.wait_for(|e| e.kind == ErrorKind::SlowConsumer).await;
    Raw::connect(&server.url()).await.still_serves().await;
    server.shutdown().await.unwrap();
    // The handler's own checks held (a failed assert would be a reported panic).
    assert!(events.all().iter().all(|e| e.kind != ErrorKind::Panic));
}

#[tokio::test]
async fn a_connection_paused_by_its_own_handlers_is_not_taken_for_dead() {
    let (on_close, mut closes) = close_recorder();
    let release = Arc::new(Notify::new());
    let gate = release.clone();
    let router = test_router()
        .rpc(move |_: RpcContext<(), Hang>, _: Hang| {
            let gate = gate.clone();
            async move {
                gate.notified().await;
                Ok(Done {
                    note: "released".into(),
                })
            }
        })
        .on_close(on_close);
    // One handler at a time: while HANG runs, the server reads nothing from this client,
    // pongs included.
    let config = test_config()
        .max_in_flight(1)
        .ping(Some(Duration::from_millis(10)), Duration::from_millis(50));
    let server = start(router, config).await;
    let client = client(&server).await;
    let hung = {
        let client = client.clone();
        tokio::spawn(async move { client.request(&Hang, PATIENCE).await })
    };
    // Many ping intervals and timeouts pass while reading is paused.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(closes.try_recv().is_err(), "closed while paused");
    release.notify_one();
    assert_eq!(hung.await.unwrap().unwrap().note, "released");
    assert_eq!(
        client
            .request(&crate::common::Add { a: 1, b: 1 }, PATIENCE)
            .await
            .unwrap()
            .value,
        2
    );
    drop(client);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn serve_until_serves_then_shuts_down_with_1001() {
    // A free port: `serve_until` binds the address itself, as `serve` does.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(twinwire_runtime::serve_until(test_router(), addr, async {
        let _ = stopped.await;
    }));

    let url = format!("ws://{addr}/");
    let client = tokio::time::timeout(PATIENCE, async {
        loop {
            match Client::connect(url.clone()).await {
                Ok(client) => break client,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    })
    .await
    .expect("the server accepts connections");
    let sum = client.request(&Add { a: 2, b: 3 }, PATIENCE).await.unwrap();
    assert_eq!(sum, Sum { value: 5 });

    stop.send(()).unwrap();
    assert_eq!(client.closed().await.code, 1001);
    tokio::time::timeout(PATIENCE, serving)
        .await
        .expect("serve_until returns after shutdown")
        .unwrap()
        .unwrap();
}
