//! The HTTP upgrade: handshake checks, origin allow-list, connection limit, the
//! `authenticate` hook, subprotocol selection, then the connection's task.

use std::borrow::Cow;
use std::fmt;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::body::Body;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, Request, Response, StatusCode, Uri};
use futures_util::FutureExt;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use twinwire::{ErrorCode, ErrorPayload};

use crate::driver;
use crate::error::{ErrorEvent, ErrorKind};
use crate::route::panic_message;
use crate::router::{InitialData, unit};
use crate::server::Shared;

/// The prefix of a subprotocol that carries a bearer token (`bearer.<token>`), for browsers,
/// which cannot set headers on a WebSocket.
pub const BEARER_PROTOCOL_PREFIX: &str = "bearer.";
/// The query parameter that may carry a bearer token.
pub const ACCESS_TOKEN_PARAM: &str = "access_token";

/// The HTTP request asking for a WebSocket, as the `authenticate` hook sees it.
#[derive(Clone, Debug)]
pub struct UpgradeRequest {
    uri: Uri,
    headers: HeaderMap,
    path_params: Vec<(String, String)>,
    remote_addr: Option<SocketAddr>,
}

impl UpgradeRequest {
    /// A request, as the server builds it; public for testing `authenticate` hooks.
    pub fn new(
        uri: Uri,
        headers: HeaderMap,
        path_params: Vec<(String, String)>,
        remote_addr: Option<SocketAddr>,
    ) -> Self {
        Self {
            uri,
            headers,
            path_params,
            remote_addr,
        }
    }

    /// The request's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A header's value, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The request URI (path and query).
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The first value of query parameter `name`, percent-decoded.
    pub fn query(&self, name: &str) -> Option<Cow<'_, str>> {
        let query = self.uri.query()?;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// A path parameter of the route the endpoint is mounted at (e.g. `room` for
    /// `/rooms/{room}/ws`), percent-decoded.
    pub fn path_param(&self, name: &str) -> Option<&str> {
        self.path_params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every path parameter, in route order.
    pub fn path_params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.path_params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The peer's address, when the server was started with connection info (the
    /// standalone server always is).
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.remote_addr
    }

    /// The `Origin` header.
    pub fn origin(&self) -> Option<&str> {
        self.header(header::ORIGIN.as_str())
    }

    /// The subprotocols the client offered, in its order.
    pub fn offered_subprotocols(&self) -> impl Iterator<Item = &str> {
        offered_protocols(&self.headers)
    }

    /// The bearer token, from the first place that has one: the `Authorization: Bearer`
    /// header, a `bearer.<token>` subprotocol, or the `access_token` query parameter.
    pub fn token(&self) -> Option<Cow<'_, str>> {
        let from_header = self
            .header(header::AUTHORIZATION.as_str())
            .and_then(|value| {
                let (scheme, token) = value.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty());
        if let Some(token) = from_header {
            return Some(Cow::Borrowed(token));
        }
        let from_protocol = self
            .offered_subprotocols()
            .find_map(|p| p.strip_prefix(BEARER_PROTOCOL_PREFIX))
            .filter(|t| !t.is_empty());
        if let Some(token) = from_protocol {
            return Some(Cow::Borrowed(token));
        }
        self.query(ACCESS_TOKEN_PARAM).filter(|t| !t.is_empty())
    }
}

fn offered_protocols(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
}

/// An upgrade the `authenticate` hook refused: answered with an HTTP status and a JSON
/// error body (`{"code", "message"}`) before any WebSocket exists.
#[derive(Clone, Debug, PartialEq)]
pub struct Rejection {
    status: StatusCode,
    error: ErrorPayload,
}

impl Rejection {
    /// HTTP 401: no valid credentials (`UNAUTHENTICATED`).
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: ErrorPayload::new(ErrorCode::Unauthenticated, message),
        }
    }

    /// HTTP 403: authenticated but not allowed (`PERMISSION_DENIED`).
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            error: ErrorPayload::new(ErrorCode::PermissionDenied, message),
        }
    }

    /// Another status, e.g. 429 or 503, with the error body to send.
    pub fn with_status(status: StatusCode, error: ErrorPayload) -> Self {
        Self { status, error }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The error sent as the body.
    pub fn error(&self) -> &ErrorPayload {
        &self.error
    }

    fn into_response(self) -> Response<Body> {
        let body = serde_json::to_vec(&self.error).unwrap_or_default();
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.error.message)
    }
}

impl std::error::Error for Rejection {}

fn plain(status: StatusCode, message: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::from(message));
    *response.status_mut() = status;
    response
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
    shared: Arc<Shared<D>>,
    mut request: Request<Body>,
    path_params: Vec<(String, String)>,
    remote_addr: Option<SocketAddr>,
) -> Response<Body> {
    let headers = request.headers();
    if request.method() != Method::GET {
        return plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "WebSocket upgrades use GET\n",
        );
    }
    if !header_has_token(headers, header::CONNECTION, "upgrade")
        || !header_has_token(headers, header::UPGRADE, "websocket")
    {
        let mut response = plain(
            StatusCode::UPGRADE_REQUIRED,
            "this endpoint speaks WebSocket only\n",
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
        let mut response = plain(
            StatusCode::UPGRADE_REQUIRED,
            "unsupported WebSocket version\n",
        );
        response.headers_mut().insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
        return response;
    }
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
        return plain(StatusCode::BAD_REQUEST, "missing Sec-WebSocket-Key\n");
    };
    let accept = derive_accept_key(key.as_bytes());

    if let (Some(allowed), Some(origin)) =
        (&shared.config.allowed_origins, headers.get(header::ORIGIN))
    {
        let origin = origin.to_str().unwrap_or_default();
        if !allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)) {
            return plain(StatusCode::FORBIDDEN, "origin not allowed\n");
        }
    }

    let Some(slot) = shared.try_reserve_slot() else {
        let mut response = plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is at its connection limit or shutting down\n",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };

    let Some(on_upgrade) = request.extensions_mut().remove::<OnUpgrade>() else {
        return plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "this HTTP server does not support connection upgrades\n",
        );
    };
    let (parts, _body) = request.into_parts();
    let offered: Vec<&str> = offered_protocols(&parts.headers).collect();
    let protocol = choose_protocol(&offered, &shared.config.subprotocols)
        .and_then(|p| HeaderValue::from_str(p).ok());

    let data = match &shared.routes.initial {
        InitialData::Authenticate(hook) => {
            let request = UpgradeRequest::new(parts.uri, parts.headers, path_params, remote_addr);
            match AssertUnwindSafe(hook(request)).catch_unwind().await {
                Ok(Ok(data)) => data,
                Ok(Err(rejection)) => return rejection.into_response(),
                Err(panic) => {
                    let error = ErrorPayload::new(ErrorCode::Internal, "authentication failed");
                    shared.errors().report(
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
            None => return plain(StatusCode::INTERNAL_SERVER_ERROR, "no connection data\n"),
        },
    };

    let config = shared.config.websocket();
    tokio::spawn(async move {
        // Hyper resolves the upgrade once the 101 response below has been written.
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let socket =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config))
                .await;
        driver::run(shared, socket, data, slot).await;
    });

    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let response_headers = response.headers_mut();
    response_headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    response_headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        response_headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    if let Some(protocol) = protocol {
        response_headers.insert(header::SEC_WEBSOCKET_PROTOCOL, protocol);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, headers: &[(&str, &str)]) -> UpgradeRequest {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        UpgradeRequest::new(uri.parse().unwrap(), map, vec![], None)
    }

    #[test]
    fn token_comes_from_header_then_subprotocol_then_query() {
        let r = request(
            "/ws?access_token=q",
            &[
                ("authorization", "Bearer h"),
                ("sec-websocket-protocol", "chat, bearer.p"),
            ],
        );
        assert_eq!(r.token().as_deref(), Some("h"));
        let r = request(
            "/ws?access_token=q",
            &[("sec-websocket-protocol", "chat, bearer.p")],
        );
        assert_eq!(r.token().as_deref(), Some("p"));
        let r = request("/ws?x=1&access_token=a%20b", &[]);
        assert_eq!(r.token().as_deref(), Some("a b"));
        let r = request("/ws", &[("authorization", "Basic abc")]);
        assert_eq!(r.token(), None);
    }

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
