//! The HTTP upgrade: handshake checks, origin allow-list, connection limit, the
//! `authenticate` hook, subprotocol selection, then the connection's task. Every refusal
//! is an HTTP error with a JSON error payload as its body, like the hook's rejections.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::body::Body;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, Request, Response, StatusCode, Version};
use futures_util::FutureExt;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use std::io;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use axum::body::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tracing::Instrument;
use twinwire::{ErrorCode, ErrorPayload};

use crate::auth::{BEARER_PROTOCOL_PREFIX, Rejection, UpgradeRequest, offered_protocols};
use crate::config::RefusalMode;
use crate::connection::ConnectionId;
use crate::driver::{self, truncate_reason};
use crate::event::{ErrorEvent, ErrorKind};
use crate::route::panic_message;
use crate::router::{InitialData, Routes, unit};
use crate::server_state::{ConnectionSlot, ServerState, SlotHandoff};
use crate::telemetry;
use crate::websocket::Socket;

/// Refuses the upgrade with `status` and `{"code", "message"}`.
fn refuse(status: StatusCode, code: ErrorCode, message: &'static str) -> Response<Body> {
    Rejection::with_status(status, ErrorPayload::new(code, message)).into_response()
}

fn header_has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Picks the subprotocol to echo (see `ServerConfig::subprotocols`).
fn choose_protocol<'a>(offered: &[&'a str], supported: &[String]) -> Option<&'a str> {
    if supported.is_empty() {
        offered
            .iter()
            .find(|p| !p.starts_with(BEARER_PROTOCOL_PREFIX))
            .or(offered.first())
            .copied()
    } else {
        offered
            .iter()
            .find(|p| supported.iter().any(|s| s == *p))
            .copied()
    }
}

/// Answers an upgrade request: `101 Switching Protocols` and a connection task, or the
/// HTTP error that explains why not.
pub(crate) async fn upgrade<D: Send + Sync + 'static>(
    server: Arc<ServerState>,
    routes: Arc<Routes<D>>,
    mut request: Request<Body>,
    path_params: Vec<(String, String)>,
    remote_addr: Option<SocketAddr>,
) -> Response<Body> {
    // Taken out first: a refused request must leave the connection's place where it is.
    let handoff = request.extensions_mut().remove::<SlotHandoff>();
    let headers = request.headers();
    if request.method() != Method::GET {
        refused("handshake");
        return refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::InvalidArgument,
            "WebSocket upgrades use GET",
        );
    }
    if !header_has_token(headers, header::CONNECTION, "upgrade")
        || !header_has_token(headers, header::UPGRADE, "websocket")
    {
        refused("handshake");
        let mut response = refuse(
            StatusCode::UPGRADE_REQUIRED,
            ErrorCode::InvalidArgument,
            "this endpoint speaks WebSocket only",
        );
        response
            .headers_mut()
            .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        return response;
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_none_or(|v| v.as_bytes() != b"13")
    {
        refused("handshake");
        let mut response = refuse(
            StatusCode::UPGRADE_REQUIRED,
            ErrorCode::InvalidArgument,
            "unsupported WebSocket version",
        );
        response.headers_mut().insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
        return response;
    }
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
        refused("handshake");
        return refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidArgument,
            "missing Sec-WebSocket-Key",
        );
    };
    // RFC 6455 upgrades HTTP/1.1 (or later) requests only, and an HTTP/1.0 connection
    // cannot be upgraded.
    if request.version() < Version::HTTP_11 {
        refused("handshake");
        return refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidArgument,
            "a WebSocket upgrade needs HTTP/1.1",
        );
    }
    let accept = derive_accept_key(key.as_bytes());

    if let (Some(allowed), Some(origin)) =
        (&server.config.allowed_origins, headers.get(header::ORIGIN))
    {
        let origin = origin.to_str().unwrap_or_default();
        if !allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)) {
            refused("origin");
            return refuse(
                StatusCode::FORBIDDEN,
                ErrorCode::PermissionDenied,
                "origin not allowed",
            );
        }
    }

    // The server's own listener took the connection's place when it accepted it; mounted
    // in an app's server, the upgrade takes one now.
    let taken = match &handoff {
        Some(handoff) if !server.is_shutting_down() => handoff.take(),
        _ => None,
    };
    let Some(mut slot) = taken.or_else(|| server.try_reserve_slot()) else {
        refused("limit");
        let mut response = refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            "the server is at its connection limit or shutting down",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    slot.open_websocket();
    let place = Place {
        slot: Some(slot),
        handoff,
    };

    let Some(on_upgrade) = request.extensions_mut().remove::<OnUpgrade>() else {
        return refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "this HTTP server does not support connection upgrades",
        );
    };
    let (parts, _body) = request.into_parts();
    let offered: Vec<&str> = offered_protocols(&parts.headers).collect();
    let protocol = choose_protocol(&offered, &server.config.subprotocols)
        .and_then(|p| HeaderValue::from_str(p).ok());

    let request = UpgradeRequest::new(parts.uri, parts.headers, path_params, remote_addr);
    let data = match &routes.initial {
        InitialData::Authenticate(hook) => {
            match AssertUnwindSafe(hook(request.clone())).catch_unwind().await {
                Ok(Ok(data)) => data,
                Ok(Err(rejection)) => {
                    refused_by_hook(&rejection);
                    match server.config.refusal {
                        RefusalMode::Http => return rejection.into_response(),
                        RefusalMode::CloseFrame => {
                            // The socket is upgraded and then closed: its place is held
                            // until the close handshake ends, never given back.
                            let slot = place.into_slot();
                            let max_message = server.config.max_frame_size;
                            let close_timeout = server.config.close_timeout;
                            tokio::spawn(async move {
                                let Ok(upgraded) = on_upgrade.await else {
                                    return;
                                };
                                let (stream, read_ahead) = UpgradedStream::new(upgraded);
                                let socket =
                                    Socket::new(stream, max_message).read_ahead(&read_ahead);
                                close_refused(socket, &rejection, close_timeout).await;
                                drop(slot);
                            });
                            return switching_protocols(&accept, protocol);
                        }
                    }
                }
                Err(panic) => {
                    refused("panic");
                    let error = ErrorPayload::new(ErrorCode::Internal, "authentication failed");
                    server.errors.report(
                        ErrorEvent::new(ErrorKind::Panic, error.clone())
                            .because(panic_message(panic.as_ref())),
                    );
                    return Rejection::with_status(StatusCode::INTERNAL_SERVER_ERROR, error)
                        .into_response();
                }
            }
        }
        InitialData::Factory(make) => make(),
        InitialData::Unit => match unit::<D>() {
            Some(data) => data,
            // `build` checked that D is `()`.
            None => {
                return refuse(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Internal,
                    "no connection data",
                );
            }
        },
    };

    let Some(slot) = place.into_slot() else {
        return refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "no place for the connection",
        );
    };
    metrics::counter!(telemetry::CONNECTIONS_ACCEPTED).increment(1);
    let max_message = server.config.max_frame_size;
    tokio::spawn(async move {
        // Hyper resolves the upgrade once the 101 response below has been written.
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let (stream, read_ahead) = UpgradedStream::new(upgraded);
        let socket = Socket::new(stream, max_message).read_ahead(&read_ahead);
        let id = ConnectionId::next();
        let span = driver::connection_span(id, &request);
        // A task of its own, so what a connection holds for its lifetime is the driver's
        // future alone: awaited here, it would sit inside this upgrade future, whose state
        // keeps its own places for the socket and the request (about twice the size).
        let task = driver::run(id, server, routes, socket, data, request, slot);
        // Without a subscriber that wants it, the span is not carried: a disabled span still
        // takes 40 bytes in every connection's task.
        if span.is_disabled() {
            tokio::spawn(task);
        } else {
            tokio::spawn(task.instrument(span));
        }
    });

    switching_protocols(&accept, protocol)
}

/// The upgraded connection's byte stream: the TCP socket itself when it is one (the
/// server's own listener, `axum::serve`), so reads and writes skip hyper's boxed wrapper and
/// the connection keeps no wrapper; the wrapper otherwise (TLS, other transports), boxed so
/// that the common case does not carry its room.
pub(crate) enum UpgradedStream {
    Tcp(TcpStream),
    Other(Box<TokioIo<Upgraded>>),
}

impl UpgradedStream {
    /// The stream, and the bytes the client sent after its request that hyper already read.
    fn new(upgraded: Upgraded) -> (Self, Bytes) {
        match upgraded.downcast::<TokioIo<TcpStream>>() {
            Ok(parts) => (Self::Tcp(parts.io.into_inner()), parts.read_buf),
            Err(upgraded) => (Self::Other(Box::new(TokioIo::new(upgraded))), Bytes::new()),
        }
    }
}

impl AsyncRead for UpgradedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Self::Other(other) => Pin::new(other.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for UpgradedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Self::Other(other) => Pin::new(other.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(tcp) => Pin::new(tcp).poll_write_vectored(cx, bufs),
            Self::Other(other) => Pin::new(other.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Tcp(tcp) => tcp.is_write_vectored(),
            Self::Other(other) => other.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(tcp) => Pin::new(tcp).poll_flush(cx),
            Self::Other(other) => Pin::new(other.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Self::Other(other) => Pin::new(other.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Counts and logs an upgrade refused for `reason`.
fn refused(reason: &'static str) {
    metrics::counter!(telemetry::CONNECTIONS_REFUSED, "reason" => reason).increment(1);
    tracing::debug!(reason, "upgrade refused");
}

/// Counts and logs an upgrade the `authenticate` hook refused.
fn refused_by_hook(rejection: &Rejection) {
    let reason = match rejection.close_code() {
        crate::close::UNAUTHENTICATED => "unauthenticated",
        crate::close::FORBIDDEN => "forbidden",
        _ => "refused",
    };
    metrics::counter!(telemetry::CONNECTIONS_REFUSED, "reason" => reason).increment(1);
    tracing::debug!(
        reason,
        status = rejection.status().as_u16(),
        message = %rejection.error().message,
        "upgrade refused"
    );
}

/// Closes a just-accepted socket with the rejection's close code and message, and waits
/// (within `close_timeout`) for the client's answer so the code is not lost to a reset.
async fn close_refused<S>(mut socket: Socket<S>, rejection: &Rejection, close_timeout: Duration)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    socket.queue_close(
        rejection.close_code(),
        truncate_reason(&rejection.error().message),
    );
    let handshake = async {
        socket
            .write_frames(&mut std::collections::VecDeque::new(), |_| {})
            .await?;
        // Read until the client's close (its echo is written too) or the end.
        while let Some(message) = std::future::poll_fn(|cx| socket.poll_next(cx)).await {
            if message.is_err() {
                break;
            }
        }
        socket
            .write_frames(&mut std::collections::VecDeque::new(), |_| {})
            .await
    };
    let _ = tokio::time::timeout(close_timeout, handshake).await;
}

/// The `101 Switching Protocols` answer.
fn switching_protocols(accept: &str, protocol: Option<HeaderValue>) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let response_headers = response.headers_mut();
    response_headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    response_headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(accept) {
        response_headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    if let Some(protocol) = protocol {
        response_headers.insert(header::SEC_WEBSOCKET_PROTOCOL, protocol);
    }
    response
}

/// The place in the connection limit a pending upgrade holds. If the upgrade is refused
/// after all (the `authenticate` hook says no), a place taken over from the server's own
/// listener goes back to its connection, which may send another request.
struct Place {
    slot: Option<ConnectionSlot>,
    handoff: Option<SlotHandoff>,
}

impl Place {
    fn into_slot(mut self) -> Option<ConnectionSlot> {
        self.slot.take()
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if let (Some(slot), Some(handoff)) = (self.slot.take(), &self.handoff) {
            handoff.give_back(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subprotocol_choice() {
        let none: &[String] = &[];
        assert_eq!(choose_protocol(&["bearer.t", "chat"], none), Some("chat"));
        assert_eq!(choose_protocol(&["bearer.t"], none), Some("bearer.t"));
        assert_eq!(choose_protocol(&[], none), None);
        let supported = ["v2".to_owned(), "v1".to_owned()];
        assert_eq!(choose_protocol(&["v1", "v2"], &supported), Some("v1"));
        assert_eq!(choose_protocol(&["v3"], &supported), None);
    }
}
