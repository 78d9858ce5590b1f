//! The runtime's own accept loop (for [`Server::bind`](crate::Server::bind) and
//! [`Server::bind_app`](crate::Server::bind_app)): TCP_NODELAY on every socket, a place in
//! the connection limit from the moment a connection is accepted, the handshake timeout,
//! and graceful shutdown of the HTTP connections.
//!
//! `axum::serve` does none of the first three: a connection that never sends a request head
//! would hold a file descriptor, uncounted, for ever.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tower_service::Service;

use crate::server_state::{ServerState, SlotHandoff};

/// The answer to a connection over the limit, written before its request is read: it is
/// the same for every request.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 90\r\n\
\r\n\
{\"code\":\"UNAVAILABLE\",\"message\":\"the server is at its connection limit or shutting down\"}\n";

/// Accepts connections on `listener` and serves `app` on each until `stop` fires, then
/// lets the open HTTP connections finish (idle ones close at once) and returns. Upgraded
/// connections are no longer HTTP connections: the server's own shutdown closes them.
pub(crate) async fn serve(
    listener: TcpListener,
    app: axum::Router,
    server: Arc<ServerState>,
    mut stop: oneshot::Receiver<()>,
) -> io::Result<()> {
    let (stopping, stopped) = watch::channel(false);
    // Every connection task holds a sender; `recv` returns once they all ended.
    let (alive, mut all_done) = mpsc::channel::<Infallible>(1);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_failed(&err).await;
                    continue;
                }
            },
        };
        // Small frames must not wait for the client's delayed ACK (Nagle's algorithm).
        let _ = stream.set_nodelay(true);
        let Some(slot) = server.try_reserve_slot() else {
            let linger = server.config.handshake_timeout.min(Duration::from_secs(1));
            tokio::spawn(refuse_busy(stream, linger));
            continue;
        };
        let handoff = SlotHandoff::new(slot);
        let timeout = server.config.handshake_timeout;
        let connection =
            serve_connection(stream, peer, app.clone(), handoff, timeout, stopped.clone());
        let alive = alive.clone();
        tokio::spawn(async move {
            connection.await;
            drop(alive);
        });
    }
    drop(listener);
    stopping.send_replace(true);
    drop(alive);
    let _ = all_done.recv().await;
    Ok(())
}

/// Serves one HTTP/1.1 connection: the request head must arrive within `timeout` (after
/// each response, too, so an idle keep-alive connection is closed as well), and a request
/// may upgrade the connection to a WebSocket, which takes over the connection's place.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: axum::Router,
    handoff: SlotHandoff,
    timeout: Duration,
    mut stopping: watch::Receiver<bool>,
) {
    let service = {
        let handoff = handoff.clone();
        hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request.extensions_mut().insert(handoff.clone());
            let mut app = app.clone();
            async move {
                let response: Result<Response<Body>, Infallible> =
                    app.call(request.map(Body::new)).await;
                response
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeout);
    let connection = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(connection);
    tokio::select! {
        // A failed connection (a timeout, a reset, a malformed request) has nobody to tell.
        _ = connection.as_mut() => {}
        // The guard `wait_for` returns must not live across the await below.
        () = async { let _ = stopping.wait_for(|stop| *stop).await; } => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
    // Unless a WebSocket took the place over, the connection's place is free again.
    drop(handoff);
}

/// Answers a connection over the limit with 503 and closes it without a reset: the client
/// reads the answer only if its request was read (drained) before the socket closes.
async fn refuse_busy(mut stream: TcpStream, linger: Duration) {
    let _ = tokio::time::timeout(linger, async {
        stream.write_all(BUSY).await?;
        stream.shutdown().await?;
        let mut scratch = [0_u8; 1024];
        while stream.read(&mut scratch).await? > 0 {}
        Ok::<(), io::Error>(())
    })
    .await;
}

/// What to do when `accept` fails: per-connection errors are the client's problem; others
/// (no file descriptors left) are waited out, since retrying at once would spin.
async fn accept_failed(err: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if !matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_busy_answer_declares_its_length() {
        let text = std::str::from_utf8(BUSY).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let declared: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(declared, body.len());
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["code"], "UNAVAILABLE");
    }
}
