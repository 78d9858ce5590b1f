//! The Rust client: typed handlers, errors, raw frames, and how it learns of a close.

use tokio::sync::mpsc;
use twinwire::ErrorCode;
use twinwire_runtime::{ClientError, RequestError};

use crate::common::{
    Add, Echo, Echoed, PATIENCE, Poke, client, start, start_default, test_config, test_router,
};
use crate::upgrade::Whoami;

async fn next<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(PATIENCE, rx.recv())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn typed_handlers_errors_and_raw_frames() {
    let server = start_default().await;
    let client = client(&server).await;
    let (echoes, mut echoed) = mpsc::unbounded_channel();
    client.on(move |msg: Echoed, meta| {
        assert!(meta.timestamp.is_some());
        echoes.send(msg.text).unwrap();
    });
    let (errors, mut errored) = mpsc::unbounded_channel();
    client.on_error(move |err, _| errors.send(err).unwrap());

    client
        .send(&Echo {
            text: "typed".into(),
        })
        .await
        .unwrap();
    client
        .send_binary(br#"{"type":"ECHO","payload":{"text":"binary"}}"#.to_vec())
        .await
        .unwrap();
    client.send_text("not json").await.unwrap();
    assert_eq!(next(&mut echoed).await, "typed");
    assert_eq!(next(&mut echoed).await, "binary");
    let err = next(&mut errored).await;
    assert_eq!(err.code, ErrorCode::InvalidArgument);

    // An RPC the server does not know settles at once instead of timing out.
    match client.request(&Whoami, PATIENCE).await {
        Err(RequestError::Rpc(err)) => assert_eq!(err.code, ErrorCode::Unimplemented),
        other => panic!("expected UNIMPLEMENTED, got {other:?}"),
    }
    drop(client);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_client_learns_how_the_connection_ended() {
    let server = start(test_router(), test_config().max_frame_size(256)).await;
    let client = client(&server).await;
    client.send_text("x".repeat(1_000)).await.unwrap();
    let info = tokio::time::timeout(PATIENCE, client.closed())
        .await
        .unwrap();
    assert_eq!(info.code, 1009);
    assert_eq!(client.close_info(), Some(info));
    assert!(matches!(
        client
            .send(&Echo {
                text: "late".into()
            })
            .await,
        Err(ClientError::Closed)
    ));
    assert!(matches!(
        client.request(&Add { a: 1, b: 2 }, PATIENCE).await,
        Err(RequestError::Closed)
    ));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn frames_nobody_handles_go_to_on_unhandled() {
    let server = start_default().await;
    let client = client(&server).await;
    let (echoes, mut echoed) = mpsc::unbounded_channel();
    client.on(move |msg: Echoed, _| echoes.send(msg.text).unwrap());
    let (unhandled, mut unhandled_rx) = mpsc::unbounded_channel();
    client.on_unhandled(move |wire_type, _meta, payload| {
        unhandled
            .send((wire_type.to_owned(), payload.map(|p| p.get().to_owned())))
            .unwrap();
    });
    // POKED has no handler here: as a message of a newer server would, it reaches
    // `on_unhandled`; ECHOED has one and does not.
    client.send(&Poke).await.unwrap();
    client.send(&Echo { text: "e".into() }).await.unwrap();
    assert_eq!(next(&mut unhandled_rx).await, ("POKED".to_owned(), None));
    assert_eq!(next(&mut echoed).await, "e");
    assert!(unhandled_rx.try_recv().is_err());
    drop(client);
    server.shutdown().await.unwrap();
}
