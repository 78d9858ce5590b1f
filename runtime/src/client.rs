//! A Rust client for a twinwire server: typed `send`, `request` with a timeout, and `on`
//! handlers for server messages.
//!
//! It is a tolerant reader by default, so it keeps working against a newer server: fields
//! a message type does not declare are ignored (even on types that deny unknown fields,
//! which the server keeps strict about), and frames of a wire type nobody handles go to
//! [`Client::on_unhandled`]. [`ClientBuilder::strict`] turns the first off for tests. An
//! enum variant the client does not know is still a decoding error.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use chat_protocol::{Calculate, ChatMessage, JoinRoom, Operation};
//! use twinwire_runtime::Client;
//!
//! let client = Client::builder("ws://127.0.0.1:3000/").bearer_token("secret").connect().await?;
//! client.on(|msg: ChatMessage, _meta| println!("{}: {}", msg.user_name, msg.text));
//! client.send(&JoinRoom { room_id: "general".into() }).await?;
//! let sum = client
//!     .request(&Calculate { operation: Operation::Add, a: 1.0, b: 2.0 }, Duration::from_secs(5))
//!     .await?;
//! assert_eq!(sum.result, 3.0);
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::{self, HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Bytes, Error as WsError, Message as WsMessage};
use twinwire::envelope::{ERROR_TYPE, RPC_ABORT_TYPE, RPC_ERROR_TYPE, RPC_PROGRESS_TYPE};
use twinwire::{ErrorPayload, Issue, Message, Meta, MetaFields, Rpc, Validate};

use crate::connection::CloseInfo;
use crate::frame;

/// Why connecting or sending failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientError {
    /// The server answered the upgrade with an HTTP error (e.g. 401, 403, 503).
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The response body, if any.
        body: Option<String>,
    },
    /// The connection could not be made.
    Connect(Box<dyn std::error::Error + Send + Sync>),
    /// A header given to the builder is invalid.
    InvalidHeader(String),
    /// The message could not be encoded.
    Encode(serde_json::Error),
    /// The message fails the checks the server applies; nothing was sent.
    Invalid(InvalidMessage),
    /// The connection is closed.
    Closed,
}

/// A message the client refused to send because the server would refuse it: its payload
/// fails `Validate`, or its typed meta is missing a required key or fails `Validate`. The
/// paths and codes are those the server would answer with (`docs/wire-protocol.md`,
/// "Errors"), like the TypeScript client's `ValidationError`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidMessage {
    /// The message's wire type.
    pub wire_type: &'static str,
    /// What the issue paths point into, as the server's `details.target`: `"payload"`
    /// (`/roomId`), or `"frame"` for typed meta (`/meta/traceId`).
    pub target: &'static str,
    /// Every failed check.
    pub issues: Vec<Issue>,
}

impl fmt::Display for InvalidMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` was not sent:", self.wire_type)?;
        for (i, issue) in self.issues.iter().enumerate() {
            let path = if issue.path.is_empty() {
                "/"
            } else {
                &issue.path
            };
            let sep = if i == 0 { " " } else { "; " };
            write!(f, "{sep}{path}: {} ({})", issue.message, issue.code)?;
        }
        Ok(())
    }
}

impl std::error::Error for InvalidMessage {}

/// Checks what the client is about to send, in the server's order: the typed meta (`meta`,
/// or none given, which a typed meta with a required key refuses), then the payload.
/// Returns the typed meta's keys for the frame.
fn check_outbound<M: Message>(
    msg: &M,
    meta: Option<&M::Meta>,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>, Refused> {
    let invalid = |target, issues| {
        Refused::Invalid(InvalidMessage {
            wire_type: M::WIRE_TYPE,
            target,
            issues,
        })
    };
    match meta {
        Some(meta) => {
            if let Err(err) = meta.validate() {
                return Err(invalid("frame", frame::under_meta(err.into_issues())));
            }
        }
        None if <M::Meta as MetaFields>::DECLARED => {
            // No meta given: what the server makes of a frame without typed keys.
            let empty = serde_json::Map::new();
            if let Err(err) = serde_path_to_error::deserialize::<_, M::Meta>(&empty) {
                return Err(invalid("frame", vec![frame::path_issue(err, "/meta")]));
            }
        }
        None => {}
    }
    if let Err(err) = msg.validate() {
        return Err(invalid("payload", err.into_issues()));
    }
    meta.map(frame::typed_meta_keys)
        .transpose()
        .map(Option::flatten)
        .map_err(Refused::Encode)
}

/// Why [`check_outbound`] refused a message, for either caller's error type.
enum Refused {
    Invalid(InvalidMessage),
    Encode(serde_json::Error),
}

impl From<Refused> for ClientError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Invalid(invalid) => Self::Invalid(invalid),
            Refused::Encode(err) => Self::Encode(err),
        }
    }
}

impl From<Refused> for RequestError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Invalid(invalid) => Self::Invalid(invalid),
            Refused::Encode(err) => Self::Encode(err),
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rejected { status, body } => {
                write!(f, "the server refused the upgrade with HTTP {status}")?;
                match body {
                    Some(body) => write!(f, ": {body}"),
                    None => Ok(()),
                }
            }
            Self::Connect(err) => write!(f, "could not connect: {err}"),
            Self::InvalidHeader(name) => write!(f, "invalid header `{name}`"),
            Self::Encode(err) => write!(f, "the message could not be encoded: {err}"),
            Self::Invalid(invalid) => invalid.fmt(f),
            Self::Closed => f.write_str("the connection is closed"),
        }
    }
}

impl std::error::Error for ClientError {}

/// Why a request got no response.
#[derive(Debug)]
#[non_exhaustive]
pub enum RequestError {
    /// The server answered with an `RPC_ERROR`.
    Rpc(ErrorPayload),
    /// No answer within the timeout.
    Timeout,
    /// The connection closed first.
    Closed,
    /// The request could not be encoded.
    Encode(serde_json::Error),
    /// The request fails the checks the server applies; nothing was sent.
    Invalid(InvalidMessage),
    /// The answer was not the RPC's response message.
    UnexpectedResponse {
        /// The response type expected.
        expected: &'static str,
        /// The type received.
        received: String,
    },
    /// The response's payload could not be decoded.
    Decode(serde_json::Error),
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rpc(err) => write!(f, "{}: {}", err.code, err.message),
            Self::Timeout => f.write_str("the request timed out"),
            Self::Closed => f.write_str("the connection closed before the response"),
            Self::Encode(err) => write!(f, "the request could not be encoded: {err}"),
            Self::Invalid(invalid) => invalid.fmt(f),
            Self::UnexpectedResponse { expected, received } => {
                write!(f, "expected a `{expected}` response, got `{received}`")
            }
            Self::Decode(err) => write!(f, "the response could not be decoded: {err}"),
        }
    }
}

impl std::error::Error for RequestError {}

impl From<ClientError> for RequestError {
    fn from(err: ClientError) -> Self {
        match err {
            ClientError::Encode(err) => Self::Encode(err),
            _ => Self::Closed,
        }
    }
}

/// Configures and opens a [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    url: String,
    headers: Vec<(String, String)>,
    subprotocols: Vec<String>,
    config: WebSocketConfig,
    strict: bool,
    fingerprint: Option<String>,
}

impl ClientBuilder {
    /// Adds an HTTP header to the upgrade request.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sends `Authorization: Bearer <token>`.
    #[must_use]
    pub fn bearer_token(self, token: impl fmt::Display) -> Self {
        self.header(header::AUTHORIZATION.as_str(), format!("Bearer {token}"))
    }

    /// Sends an `Origin` header, as a browser would.
    #[must_use]
    pub fn origin(self, origin: impl Into<String>) -> Self {
        self.header(header::ORIGIN.as_str(), origin)
    }

    /// Offers a subprotocol (repeat for several, in order of preference).
    #[must_use]
    pub fn subprotocol(mut self, protocol: impl Into<String>) -> Self {
        self.subprotocols.push(protocol.into());
        self
    }

    /// Decode server payloads strictly: a field the message type does not declare makes a
    /// type that denies unknown fields fail to decode (the frame is skipped, a response
    /// is a [`RequestError::Decode`]). Default `false`: such fields are ignored.
    #[must_use]
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Sends the protocol's fingerprint (`Manifest::fingerprint`) as the query parameter
    /// `twinwire_fp`, as generated TypeScript clients do (`docs/wire-protocol.md`,
    /// "Transport and upgrade").
    #[must_use]
    pub fn fingerprint(mut self, fingerprint: impl Into<String>) -> Self {
        self.fingerprint = Some(fingerprint.into());
        self
    }

    /// The largest message accepted from the server (default 16 MiB).
    #[must_use]
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.config = self
            .config
            .max_message_size(Some(bytes))
            .max_frame_size(Some(bytes));
        self
    }

    /// Connects and performs the upgrade.
    ///
    /// # Errors
    /// [`ClientError::Rejected`] when the server refuses the upgrade, or another
    /// [`ClientError`] when the connection fails.
    pub async fn connect(self) -> Result<Client, ClientError> {
        let url = match &self.fingerprint {
            Some(fp) => {
                let mut url = url::Url::parse(&self.url)
                    .map_err(|err| ClientError::Connect(Box::new(err)))?;
                url.query_pairs_mut()
                    .append_pair(crate::auth::FINGERPRINT_PARAM, fp);
                url.to_string()
            }
            None => self.url.clone(),
        };
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|err| ClientError::Connect(Box::new(err)))?;
        for (name, value) in &self.headers {
            let invalid = || ClientError::InvalidHeader(name.clone());
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
            let value = HeaderValue::from_str(value).map_err(|_| invalid())?;
            request.headers_mut().append(name, value);
        }
        if !self.subprotocols.is_empty() {
            let value = HeaderValue::from_str(&self.subprotocols.join(", "))
                .map_err(|_| ClientError::InvalidHeader("Sec-WebSocket-Protocol".into()))?;
            request
                .headers_mut()
                .insert(header::SEC_WEBSOCKET_PROTOCOL, value);
        }
        // `true`: TCP_NODELAY, so a frame sent right after another does not wait for the
        // server's delayed ACK (the server sets it on its side too).
        let (socket, response) =
            tokio_tungstenite::connect_async_with_config(request, Some(self.config), true)
                .await
                .map_err(|err| match err {
                    WsError::Http(response) => ClientError::Rejected {
                        status: response.status().as_u16(),
                        body: response
                            .body()
                            .as_ref()
                            .map(|b| String::from_utf8_lossy(b).into_owned()),
                    },
                    err => ClientError::Connect(Box::new(err)),
                })?;
        let protocol = response
            .headers()
            .get(header::SEC_WEBSOCKET_PROTOCOL)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Client::start(socket, protocol, self.strict))
    }
}

type Handler = Arc<dyn Fn(&Meta, Option<&RawValue>) + Send + Sync>;
type Unhandled = Arc<dyn Fn(&str, &Meta, Option<&RawValue>) + Send + Sync>;
type Progress = Arc<dyn Fn(&RawValue) + Send + Sync>;
type Answer = Result<(String, Option<String>), ErrorPayload>;

struct PendingRequest {
    answer: oneshot::Sender<Answer>,
    progress: Option<Progress>,
}

/// What a client's handles and its connection task share: the requests awaiting an answer,
/// the handlers of server messages, and how the connection ended.
struct ClientState {
    pending: Mutex<HashMap<String, PendingRequest>>,
    /// Per wire type; a slice shared with each frame's dispatch, which calls the handlers
    /// without holding the lock (a handler may register another).
    handlers: RwLock<HashMap<String, Arc<[Handler]>>>,
    /// Called for uncorrelated frames of a wire type with no handler.
    unhandled: RwLock<Arc<[Unhandled]>>,
    strict: bool,
    closed: watch::Sender<Option<CloseInfo>>,
    next_id: AtomicU64,
    protocol: Option<String>,
}

impl ClientState {
    fn pending(&self) -> MutexGuard<'_, HashMap<String, PendingRequest>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn handle(&self, text: &str) {
        let Ok(inbound) = frame::parse(text) else {
            return;
        };
        if let Some(id) = inbound.meta.correlation_id.as_deref() {
            if inbound.wire_type == RPC_PROGRESS_TYPE {
                // Called outside the lock, which `request` and the connection task need.
                let progress = self.pending().get(id).and_then(|r| r.progress.clone());
                if let (Some(progress), Some(value)) = (progress, inbound.payload) {
                    progress(value);
                }
                return;
            }
            let request = self.pending().remove(id);
            if let Some(request) = request {
                let answer = if inbound.wire_type == RPC_ERROR_TYPE {
                    Err(decode_error(inbound.payload))
                } else {
                    Ok((
                        inbound.wire_type.into_owned(),
                        inbound.payload.map(|p| p.get().to_owned()),
                    ))
                };
                let _ = request.answer.send(answer);
                return;
            }
        }
        let handlers = self
            .handlers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&*inbound.wire_type)
            .map(Arc::clone);
        match handlers {
            Some(handlers) if !handlers.is_empty() => {
                for handler in handlers.iter() {
                    handler(&inbound.meta, inbound.payload);
                }
            }
            _ => {
                let unhandled = Arc::clone(
                    &self
                        .unhandled
                        .read()
                        .unwrap_or_else(PoisonError::into_inner),
                );
                for handler in unhandled.iter() {
                    handler(&inbound.wire_type, &inbound.meta, inbound.payload);
                }
            }
        }
    }

    fn finish(&self, info: CloseInfo) {
        self.closed.send_if_modified(|closed| {
            if closed.is_none() {
                *closed = Some(info);
                true
            } else {
                false
            }
        });
        // Dropping the senders settles every waiting request with `Closed`.
        self.pending().clear();
    }
}

fn decode_error(payload: Option<&RawValue>) -> ErrorPayload {
    payload
        .and_then(|p| serde_json::from_str(p.get()).ok())
        .unwrap_or_else(|| {
            ErrorPayload::new(
                twinwire::ErrorCode::Internal,
                "the server sent an error without a readable payload",
            )
        })
}

fn decode<M: Message>(payload: Option<&str>, strict: bool) -> Result<M, serde_json::Error> {
    let text = if M::HAS_PAYLOAD {
        payload.unwrap_or("null")
    } else {
        "null"
    };
    let strict_error = match serde_json::from_str(text) {
        Ok(message) => return Ok(message),
        Err(error) if strict => return Err(error),
        Err(error) => error,
    };
    // Tolerant: drop each field serde reports as unknown and read again. Only payloads that
    // failed take this path, so well-formed traffic pays nothing.
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(text) else {
        return Err(strict_error);
    };
    // Each round removes one field, so a payload cannot keep the loop going for long.
    for _ in 0..MAX_UNKNOWN_FIELDS {
        let error = match serde_path_to_error::deserialize::<_, M>(&value) {
            Ok(message) => return Ok(message),
            Err(error) => error,
        };
        let unknown = error.inner().to_string().starts_with("unknown field");
        if !unknown || !remove_field(&mut value, error.path()) {
            return Err(strict_error);
        }
    }
    Err(strict_error)
}

/// How many unknown fields a tolerant read drops from one payload before giving up.
const MAX_UNKNOWN_FIELDS: usize = 64;

/// Removes the field a serde path ends at; `false` when the path does not lead to one.
fn remove_field(value: &mut serde_json::Value, path: &serde_path_to_error::Path) -> bool {
    use serde_path_to_error::Segment;
    let segments: Vec<&Segment> = path.iter().collect();
    let Some((Segment::Map { key }, parents)) = segments.split_last() else {
        return false;
    };
    let mut here = value;
    for segment in parents {
        let next = match segment {
            Segment::Seq { index } => here.get_mut(*index),
            Segment::Map { key } => here.get_mut(key.as_str()),
            // An externally tagged variant nests its content under its name; internal and
            // adjacent tags add no level.
            Segment::Enum { variant } => {
                if here.get(variant.as_str()).is_some() {
                    here.get_mut(variant.as_str())
                } else {
                    Some(here)
                }
            }
            Segment::Unknown => None,
        };
        match next {
            Some(next) => here = next,
            None => return false,
        }
    }
    here.as_object_mut()
        .is_some_and(|object| object.remove(key.as_str()).is_some())
}

/// A connection to a twinwire server. Cheap to clone; the connection closes when the last
/// clone is dropped (or on [`close`](Self::close)).
#[derive(Clone)]
pub struct Client {
    state: Arc<ClientState>,
    commands: mpsc::Sender<WsMessage>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("protocol", &self.state.protocol)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts configuring a connection to `url` (`ws://host:port/path`).
    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            url: url.into(),
            headers: Vec::new(),
            subprotocols: Vec::new(),
            config: WebSocketConfig::default()
                .read_buffer_size(16 * 1024)
                .write_buffer_size(16 * 1024),
            strict: false,
            fingerprint: None,
        }
    }

    /// Connects to `url` with default settings.
    ///
    /// # Errors
    /// As [`ClientBuilder::connect`].
    pub async fn connect(url: impl Into<String>) -> Result<Self, ClientError> {
        Self::builder(url).connect().await
    }

    fn start<S>(socket: WebSocketStream<S>, protocol: Option<String>, strict: bool) -> Self
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let state = Arc::new(ClientState {
            pending: Mutex::new(HashMap::new()),
            handlers: RwLock::new(HashMap::new()),
            unhandled: RwLock::new(Arc::from([])),
            strict,
            closed: watch::Sender::new(None),
            next_id: AtomicU64::new(1),
            protocol,
        });
        let (commands, receiver) = mpsc::channel(256);
        tokio::spawn(drive(socket, receiver, Arc::clone(&state)));
        Self { state, commands }
    }

    /// The subprotocol the server echoed, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.state.protocol.as_deref()
    }

    /// Calls `handler` for every `M` the server sends that does not answer a request.
    /// Frames whose payload does not decode as `M` are skipped; fields `M` does not declare
    /// are ignored unless the client is [`strict`](ClientBuilder::strict).
    pub fn on<M, F>(&self, handler: F)
    where
        M: Message,
        F: Fn(M, &Meta) + Send + Sync + 'static,
    {
        let strict = self.state.strict;
        self.on_type(M::WIRE_TYPE, move |meta, payload| {
            if let Ok(message) = decode::<M>(payload.map(RawValue::get), strict) {
                handler(message, meta);
            }
        });
    }

    /// Calls `handler` with the wire type, meta and raw payload of every frame that does
    /// not answer a request and has no handler registered for its wire type (with
    /// [`on`](Self::on), [`on_error`](Self::on_error) or [`on_type`](Self::on_type)): for
    /// example a message a newer server added.
    pub fn on_unhandled<F>(&self, handler: F)
    where
        F: Fn(&str, &Meta, Option<&RawValue>) + Send + Sync + 'static,
    {
        let handler: Unhandled = Arc::new(handler);
        let mut unhandled = self
            .state
            .unhandled
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        *unhandled = unhandled.iter().cloned().chain([handler]).collect();
    }

    /// Calls `handler` for every uncorrelated `ERROR` frame.
    pub fn on_error<F>(&self, handler: F)
    where
        F: Fn(ErrorPayload, &Meta) + Send + Sync + 'static,
    {
        self.on_type(ERROR_TYPE, move |meta, payload| {
            handler(decode_error(payload), meta);
        });
    }

    /// Calls `handler` with the raw meta and payload of every frame of wire type `wire_type`.
    pub fn on_type<F>(&self, wire_type: &str, handler: F)
    where
        F: Fn(&Meta, Option<&RawValue>) + Send + Sync + 'static,
    {
        let handler: Handler = Arc::new(handler);
        let mut handlers = self
            .state
            .handlers
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let list = handlers
            .entry(wire_type.to_owned())
            .or_insert_with(|| Arc::from([]));
        // Rebuilt on registration, which is rare, so dispatch only clones an `Arc`.
        *list = list.iter().cloned().chain([handler]).collect();
    }

    /// Sends a client message. It is checked first, as the server will check it: a payload
    /// that fails `Validate` (or a message whose typed meta has a required key; see
    /// [`send_with_typed_meta`](Self::send_with_typed_meta)) is not sent.
    ///
    /// # Errors
    /// [`ClientError::Invalid`] naming each failed check's path and code,
    /// [`ClientError::Encode`] or [`ClientError::Closed`].
    pub async fn send<M: Message>(&self, msg: &M) -> Result<(), ClientError> {
        self.send_checked(msg, None).await
    }

    /// Sends a client message with its typed meta (declared with
    /// `#[message("TYPE", meta = T)]`), both checked first as the server will check them.
    ///
    /// # Errors
    /// As [`send`](Self::send); typed meta issues have paths under `/meta`.
    pub async fn send_with_typed_meta<M: Message>(
        &self,
        msg: &M,
        meta: &M::Meta,
    ) -> Result<(), ClientError> {
        self.send_checked(msg, Some(meta)).await
    }

    async fn send_checked<M: Message>(
        &self,
        msg: &M,
        meta: Option<&M::Meta>,
    ) -> Result<(), ClientError> {
        let keys = check_outbound(msg, meta)?;
        let frame = frame::encode_message(msg, None, keys.as_ref()).map_err(ClientError::Encode)?;
        self.send_raw(WsMessage::Text(frame.into_inner())).await
    }

    /// Sends text as is, e.g. a hand-written or deliberately malformed frame.
    ///
    /// # Errors
    /// [`ClientError::Closed`].
    pub async fn send_text(&self, text: impl Into<String>) -> Result<(), ClientError> {
        self.send_raw(WsMessage::text(text.into())).await
    }

    /// Sends a binary frame as is.
    ///
    /// # Errors
    /// [`ClientError::Closed`].
    pub async fn send_binary(&self, bytes: impl Into<Bytes>) -> Result<(), ClientError> {
        self.send_raw(WsMessage::Binary(bytes.into())).await
    }

    async fn send_raw(&self, message: WsMessage) -> Result<(), ClientError> {
        self.commands
            .send(message)
            .await
            .map_err(|_| ClientError::Closed)
    }

    /// Calls RPC `R` and waits at most `timeout` for its response. A request that times out,
    /// or whose future is dropped before its answer, is cancelled on the server
    /// (`$ws:abort`): its handler stops, and a late answer is ignored.
    ///
    /// # Errors
    /// [`RequestError::Rpc`] with the server's error, or another [`RequestError`].
    pub async fn request<R: Rpc>(
        &self,
        request: &R,
        timeout: Duration,
    ) -> Result<R::Response, RequestError> {
        self.call(request, None, timeout, None).await
    }

    /// As [`request`](Self::request), with the request's typed meta (declared with
    /// `#[rpc("TYPE", response = …, meta = T)]`).
    ///
    /// # Errors
    /// As [`request`](Self::request).
    pub async fn request_with_typed_meta<R: Rpc>(
        &self,
        request: &R,
        meta: &R::Meta,
        timeout: Duration,
    ) -> Result<R::Response, RequestError> {
        self.call(request, Some(meta), timeout, None).await
    }

    /// As [`request`](Self::request), calling `on_progress` with each progress value.
    ///
    /// # Errors
    /// As [`request`](Self::request).
    pub async fn request_with_progress<R, P, F>(
        &self,
        request: &R,
        timeout: Duration,
        on_progress: F,
    ) -> Result<R::Response, RequestError>
    where
        R: Rpc,
        P: DeserializeOwned,
        F: Fn(P) + Send + Sync + 'static,
    {
        let progress: Progress = Arc::new(move |raw: &RawValue| {
            if let Ok(value) = serde_json::from_str(raw.get()) {
                on_progress(value);
            }
        });
        self.call(request, None, timeout, Some(progress)).await
    }

    async fn call<R: Rpc>(
        &self,
        request: &R,
        meta: Option<&R::Meta>,
        timeout: Duration,
        progress: Option<Progress>,
    ) -> Result<R::Response, RequestError> {
        let keys = check_outbound(request, meta)?;
        let id = format!("rpc-{}", self.state.next_id.fetch_add(1, Ordering::Relaxed));
        let frame = frame::encode_message(request, Some(&id), keys.as_ref())
            .map_err(RequestError::Encode)?;
        let (answer, answered) = oneshot::channel();
        self.state
            .pending()
            .insert(id.clone(), PendingRequest { answer, progress });
        let mut waiting = Waiting {
            client: self,
            id,
            sent: false,
        };
        self.send_raw(WsMessage::Text(frame.into_inner())).await?;
        waiting.sent = true;
        let answer = match tokio::time::timeout(timeout, answered).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => return Err(RequestError::Closed),
            Err(_) => return Err(RequestError::Timeout),
        };
        drop(waiting);
        let (wire_type, payload) = answer.map_err(RequestError::Rpc)?;
        if wire_type != <R::Response as Message>::WIRE_TYPE {
            return Err(RequestError::UnexpectedResponse {
                expected: <R::Response as Message>::WIRE_TYPE,
                received: wire_type,
            });
        }
        decode::<R::Response>(payload.as_deref(), self.state.strict).map_err(RequestError::Decode)
    }

    /// Starts a close handshake with `code` and `reason`.
    ///
    /// # Errors
    /// [`ClientError::Closed`] if the connection is already gone.
    pub async fn close(&self, code: u16, reason: &str) -> Result<(), ClientError> {
        self.send_raw(WsMessage::Close(Some(CloseFrame {
            code: code.into(),
            reason: reason.into(),
        })))
        .await
    }

    /// Waits until the connection has closed and returns how: the server's close code and
    /// reason, or 1006 when it dropped without a close frame.
    pub async fn closed(&self) -> CloseInfo {
        let mut closed = self.state.closed.subscribe();
        match closed.wait_for(Option::is_some).await {
            Ok(info) => info.clone().unwrap_or_else(dropped),
            Err(_) => dropped(),
        }
    }

    /// How the connection ended, if it has.
    pub fn close_info(&self) -> Option<CloseInfo> {
        self.state.closed.borrow().clone()
    }
}

/// A request waiting for its answer. Dropped unanswered (a timeout, or the caller dropping
/// the request's future), it forgets the request and, if it was sent, tells the server with
/// `$ws:abort`, so the server cancels its handler instead of working for nobody.
struct Waiting<'a> {
    client: &'a Client,
    id: String,
    sent: bool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        // Absent once answered, or once the connection closed.
        let unanswered = self.client.state.pending().remove(&self.id).is_some();
        if unanswered && self.sent {
            let abort = serde_json::json!({
                "type": RPC_ABORT_TYPE,
                "meta": { "correlationId": self.id },
            });
            // Best effort, without waiting: a full or closed queue means the connection
            // is congested or gone, and the server's answer will be ignored either way.
            let _ = self
                .client
                .commands
                .try_send(WsMessage::text(abort.to_string()));
        }
    }
}

fn dropped() -> CloseInfo {
    CloseInfo::abnormal("the connection dropped")
}

async fn drive<S>(
    mut socket: WebSocketStream<S>,
    mut commands: mpsc::Receiver<WsMessage>,
    state: Arc<ClientState>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut accepting = true;
    let mut server_close = None;
    loop {
        tokio::select! {
            command = commands.recv(), if accepting => match command {
                Some(message) => {
                    if socket.send(message).await.is_err() {
                        break;
                    }
                }
                // Every `Client` clone is gone: close, then read until the echo.
                None => {
                    accepting = false;
                    if socket.close(None).await.is_err() {
                        break;
                    }
                }
            },
            inbound = socket.next() => match inbound {
                Some(Ok(WsMessage::Text(text))) => state.handle(text.as_str()),
                Some(Ok(WsMessage::Binary(bytes))) => {
                    if let Ok(text) = std::str::from_utf8(&bytes) {
                        state.handle(text);
                    }
                }
                Some(Ok(WsMessage::Close(frame))) => {
                    server_close = Some(CloseInfo::from_frame(
                        frame.map(|f| (f.code.into(), f.reason.to_string())),
                    ));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            },
        }
    }
    state.finish(server_close.unwrap_or_else(dropped));
}

#[cfg(test)]
mod tests {
    use chat_protocol::{ChatMessage, UserLeft};

    use super::decode;

    #[test]
    fn a_tolerant_read_ignores_unknown_fields_and_a_strict_one_refuses_them() {
        let newer = r#"{"roomId":"r","userId":"u","reason":"kicked","since":{"at":1}}"#;
        let read = decode::<UserLeft>(Some(newer), false).unwrap();
        assert_eq!((read.room_id.as_str(), read.user_id.as_str()), ("r", "u"));
        let err = decode::<UserLeft>(Some(newer), true).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn a_tolerant_read_still_refuses_what_it_declares_wrongly() {
        // A missing declared field, and a declared field of the wrong type, are errors in
        // either mode: only undeclared fields are ignored.
        assert!(decode::<UserLeft>(Some(r#"{"roomId":"r","extra":1}"#), false).is_err());
        assert!(decode::<UserLeft>(Some(r#"{"roomId":1,"userId":"u","x":1}"#), false).is_err());
        let nested = r#"{"id":"1","roomId":"r","userId":"u","userName":"n","text":"t",
            "timestamp":1,"attachment":{"url":"https://x/y","name":"n","size":1},"edited":true}"#;
        let read = decode::<ChatMessage>(Some(nested), false).unwrap();
        assert_eq!(read.text, "t");
    }
}
