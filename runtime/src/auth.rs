//! What the `authenticate` hook sees and how it refuses: [`UpgradeRequest`] (headers, query,
//! path parameters, the bearer token) and [`Rejection`].

use std::borrow::Cow;
use std::fmt;
use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Response, StatusCode, Uri};
use twinwire::{ErrorCode, ErrorPayload};

/// A request's headers in one allocation of their own, for the connection's lifetime (see
/// [`UpgradeRequest::new`]): each header is `name`, `:`, a sensitivity flag (`s` or `-`),
/// the value and `\n`. A `HeaderMap` with a handful of headers is about four times larger,
/// and every idle connection keeps its request.
#[derive(Clone)]
struct CompactHeaders(Box<[u8]>);

impl CompactHeaders {
    fn new(headers: &HeaderMap) -> Self {
        let len = headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 3)
            .sum();
        let mut block = Vec::with_capacity(len);
        for (name, value) in headers {
            block.extend_from_slice(name.as_str().as_bytes());
            block.push(b':');
            block.push(if value.is_sensitive() { b's' } else { b'-' });
            // Header values never hold a line feed (`HeaderValue` refuses control bytes).
            block.extend_from_slice(value.as_bytes());
            block.push(b'\n');
        }
        Self(block.into_boxed_slice())
    }

    /// Every header: name, value, whether it is sensitive.
    fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8], bool)> {
        self.0
            .split(|b| *b == b'\n')
            .filter(|line| !line.is_empty())
            .filter_map(|line| {
                let colon = line.iter().position(|b| *b == b':')?;
                let (name, rest) = line.split_at(colon);
                let (flag, value) = rest.get(1..)?.split_first()?;
                Some((name, value, *flag == b's'))
            })
    }

    /// The values of the headers named `name` (any case), each as `HeaderValue::to_str`
    /// gives it: `None` unless visible ASCII.
    fn get_all<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = Option<&'a str>> + use<'a, 'n> {
        self.iter()
            .filter(move |(n, _, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, value, _)| {
                let visible = value.iter().all(|b| *b == b'\t' || (32..127).contains(b));
                visible.then(|| std::str::from_utf8(value).ok()).flatten()
            })
    }

    fn to_map(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value, sensitive) in self.iter() {
            let parsed = HeaderName::from_bytes(name)
                .ok()
                .zip(HeaderValue::from_bytes(value).ok());
            if let Some((name, mut value)) = parsed {
                value.set_sensitive(sensitive);
                map.append(name, value);
            }
        }
        map
    }
}

impl fmt::Debug for CompactHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(name, value, sensitive)| {
                let value = if sensitive {
                    Cow::Borrowed("Sensitive")
                } else {
                    String::from_utf8_lossy(value)
                };
                (String::from_utf8_lossy(name), value)
            }))
            .finish()
    }
}

/// The prefix of a subprotocol that carries a bearer token (`bearer.<token>`), for browsers,
/// which cannot set headers on a WebSocket.
pub const BEARER_PROTOCOL_PREFIX: &str = "bearer.";
/// The query parameter that may carry a bearer token.
pub const ACCESS_TOKEN_PARAM: &str = "access_token";

/// The query parameter in which generated clients send the fingerprint of the protocol
/// version they were generated from (`docs/wire-protocol.md`, "Transport and upgrade").
pub const FINGERPRINT_PARAM: &str = "twinwire_fp";

/// The HTTP request asking for a WebSocket, as the `authenticate` hook sees it.
#[derive(Clone, Debug)]
pub struct UpgradeRequest {
    /// The request target as text: a parsed `Uri` is 88 bytes and an allocation of its
    /// own, kept by every idle connection; it is parsed on first use of [`uri`](Self::uri).
    target: Box<str>,
    uri: OnceLock<Box<Uri>>,
    headers: CompactHeaders,
    /// The headers as a map, built the first time [`headers`](Self::headers) is called.
    header_map: OnceLock<Box<HeaderMap>>,
    path_params: Vec<(String, String)>,
    remote_addr: Option<SocketAddr>,
}

impl UpgradeRequest {
    /// A request, as the server builds it; public for testing `authenticate` hooks.
    ///
    /// The URI and headers are copied. Hyper parses them as slices of the connection's read
    /// buffer, and the request lives as long as the connection (`Context::upgrade_request`),
    /// so sharing would keep that whole buffer (8 KiB or more) alive per idle connection.
    pub fn new(
        uri: Uri,
        headers: HeaderMap,
        path_params: Vec<(String, String)>,
        remote_addr: Option<SocketAddr>,
    ) -> Self {
        Self {
            target: uri.to_string().into_boxed_str(),
            uri: OnceLock::new(),
            headers: CompactHeaders::new(&headers),
            header_map: OnceLock::new(),
            path_params,
            remote_addr,
        }
    }

    /// The request's headers.
    pub fn headers(&self) -> &HeaderMap {
        self.header_map
            .get_or_init(|| Box::new(self.headers.to_map()))
    }

    /// A header's value (the first, if it is repeated), if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get_all(name).next().flatten()
    }

    /// The request URI (path and query).
    pub fn uri(&self) -> &Uri {
        self.uri.get_or_init(|| {
            // It was a `Uri` before it was text.
            Box::new(self.target.parse().unwrap_or_default())
        })
    }

    /// The first value of query parameter `name`, percent-decoded.
    pub fn query(&self, name: &str) -> Option<Cow<'_, str>> {
        let (_, query) = self.target.split_once('?')?;
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

    /// The protocol fingerprint the client sent (query parameter `twinwire_fp`): the
    /// `Manifest::fingerprint()` of the version its code was generated from. `None` for
    /// clients that send none (older generated clients, other clients). An `authenticate`
    /// hook can log it, or refuse versions it can no longer serve.
    pub fn fingerprint(&self) -> Option<Cow<'_, str>> {
        self.query(FINGERPRINT_PARAM).filter(|fp| !fp.is_empty())
    }

    /// The `Origin` header.
    pub fn origin(&self) -> Option<&str> {
        self.header(header::ORIGIN.as_str())
    }

    /// The subprotocols the client offered, in its order.
    pub fn offered_subprotocols(&self) -> impl Iterator<Item = &str> {
        self.headers
            .get_all(header::SEC_WEBSOCKET_PROTOCOL.as_str())
            .flatten()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|p| !p.is_empty())
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

/// The subprotocols a client offered, in its order.
pub(crate) fn offered_protocols(headers: &HeaderMap) -> impl Iterator<Item = &str> {
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

    /// The WebSocket close code that refuses the upgrade in
    /// [`RefusalMode::CloseFrame`](crate::RefusalMode::CloseFrame): 4000 + the HTTP status
    /// (4401 unauthenticated, 4403 forbidden, 4429, 4503...), or 4500 for a status outside
    /// 400–599.
    pub fn close_code(&self) -> u16 {
        let status = self.status.as_u16();
        if (400..=599).contains(&status) {
            4000 + status
        } else {
            4500
        }
    }

    /// The HTTP response that refuses the upgrade.
    pub(crate) fn into_response(self) -> Response<Body> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;

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
    fn kept_headers_read_like_the_map_they_came_from() {
        let mut map = HeaderMap::new();
        map.append(
            "sec-websocket-protocol",
            HeaderValue::from_static("a, bearer.x"),
        );
        map.append("sec-websocket-protocol", HeaderValue::from_static("b"));
        map.append("x-bin", HeaderValue::from_bytes(b"caf\xC3\xA9").unwrap());
        let mut secret = HeaderValue::from_static("Bearer s3cret");
        secret.set_sensitive(true);
        map.append(header::AUTHORIZATION, secret);
        let request = UpgradeRequest::new("/".parse().unwrap(), map.clone(), vec![], None);

        assert_eq!(
            request.header("Sec-WebSocket-Protocol"),
            Some("a, bearer.x")
        );
        assert_eq!(
            request.offered_subprotocols().collect::<Vec<_>>(),
            ["a", "bearer.x", "b"]
        );
        // Not visible ASCII: present in the map, not as text.
        assert_eq!(request.header("x-bin"), None);
        assert_eq!(request.token().as_deref(), Some("s3cret"));
        assert_eq!(request.headers(), &map);
        assert!(request.headers()[header::AUTHORIZATION].is_sensitive());
        let debug = format!("{request:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
    }

    #[test]
    fn odd_targets_and_headers_read_as_the_uri_and_map_they_came_from() {
        // What the accessors gave when the request kept a `Uri` and a `HeaderMap`, worked
        // out here from those, for targets and headers a client may send.
        let targets = [
            "/",
            "*",
            "/ws?",
            "/ws?&&=&access_token=",
            "/ws?access_token=a%2Bb+c&access_token=second",
            "/ws?twinwire_fp=%ZZ",
            "//double/slash?x=1",
            "http://example.com",
            "http://example.com?access_token=abs",
            "https://user@[::1]:8443/p/a%20th?q=%E2%9C%93",
            "/p;params/..%2f?x=y=z",
        ];
        let mut map = HeaderMap::new();
        map.append("x-dup", HeaderValue::from_static("first"));
        map.append("x-dup", HeaderValue::from_static("second"));
        map.append("x-empty", HeaderValue::from_static(""));
        map.append("x-colon", HeaderValue::from_static("a:b: c"));
        map.append("x-tab", HeaderValue::from_bytes(b"a\tb").unwrap());
        map.append("x-obs", HeaderValue::from_bytes(b"\xFF\x80ok").unwrap());
        map.append(header::AUTHORIZATION, HeaderValue::from_static("bearer"));
        map.append(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer second"),
        );
        map.append(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(" , ,a,"),
        );
        map.append(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_bytes(b"\xFFx").unwrap(),
        );
        map.append(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("bearer.t"),
        );
        for target in targets {
            let uri: Uri = target.parse().unwrap();
            let request = UpgradeRequest::new(uri.clone(), map.clone(), vec![], None);
            assert_eq!(request.uri(), &uri, "{target}");
            assert_eq!(request.uri().to_string(), uri.to_string(), "{target}");
            for name in [ACCESS_TOKEN_PARAM, FINGERPRINT_PARAM, "q", "x", ""] {
                let expected = uri.query().and_then(|query| {
                    url::form_urlencoded::parse(query.as_bytes())
                        .find(|(key, _)| key == name)
                        .map(|(_, value)| value.into_owned())
                });
                assert_eq!(
                    request.query(name).map(Cow::into_owned),
                    expected,
                    "{target} {name}"
                );
            }
            assert_eq!(request.headers(), &map, "{target}");
            for name in [
                "x-dup",
                "X-Empty",
                "x-colon",
                "x-tab",
                "x-obs",
                "authorization",
                "x-none",
                "",
                "x dup",
            ] {
                assert_eq!(
                    request.header(name),
                    map.get(name).and_then(|v| v.to_str().ok()),
                    "{name}"
                );
            }
            assert_eq!(
                request.offered_subprotocols().collect::<Vec<_>>(),
                offered_protocols(&map).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn a_request_does_not_keep_the_buffer_it_was_parsed_from() {
        // As hyper parses a request head: the URI and header values are slices of one read
        // buffer, which must not outlive the upgrade through the kept request.
        let head = "/rooms/a/ws?access_token=t|abc|Bearer tok";
        let part = |n: usize| {
            let start: usize = head.split('|').take(n).map(|p| p.len() + 1).sum();
            start..start + head.split('|').nth(n).unwrap().len()
        };
        let buffer = Bytes::from(head.as_bytes().to_vec());
        let range = buffer.as_ptr_range();
        let uri = Uri::from_maybe_shared(buffer.slice(part(0))).unwrap();
        let mut headers = HeaderMap::new();
        let trace = HeaderValue::from_maybe_shared(buffer.slice(part(1))).unwrap();
        headers.insert("x-trace", trace);
        let mut auth = HeaderValue::from_maybe_shared(buffer.slice(part(2))).unwrap();
        auth.set_sensitive(true);
        headers.insert(header::AUTHORIZATION, auth);
        assert!(range.contains(&headers["x-trace"].as_bytes().as_ptr()));

        let request = UpgradeRequest::new(uri, headers, vec![], None);
        assert_eq!(request.uri().to_string(), "/rooms/a/ws?access_token=t");
        assert_eq!(request.headers()["x-trace"], "abc");
        assert!(request.headers()[header::AUTHORIZATION].is_sensitive());
        assert_eq!(request.token().as_deref(), Some("tok"));
        for value in request.headers().values() {
            assert!(
                !range.contains(&value.as_bytes().as_ptr()),
                "{value:?} shares the buffer"
            );
        }
        let query = request.uri().query().unwrap_or_default();
        assert!(
            !range.contains(&query.as_ptr()),
            "the URI shares the buffer"
        );
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
    fn the_fingerprint_comes_from_its_query_parameter() {
        let r = request("/ws?access_token=t&twinwire_fp=0123abcd", &[]);
        assert_eq!(r.fingerprint().as_deref(), Some("0123abcd"));
        assert_eq!(request("/ws?twinwire_fp=", &[]).fingerprint(), None);
        assert_eq!(request("/ws", &[]).fingerprint(), None);
    }
}
