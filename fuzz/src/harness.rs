//! One in-process server and WebSocket clients connected to it through in-memory pipes,
//! shared by every iteration of a wire target: no socket, no port, and one single-threaded
//! tokio runtime that runs both ends, so an iteration costs a fraction of a millisecond.
//!
//! The server is the runtime's own [`Server`], mounted as an axum app and served by
//! `axum::serve` from a listener whose connections are `tokio::io::duplex` pipes. The message
//! targets talk to it through a tungstenite client, which only writes well-formed frames; the
//! `websocket` target through [`RawClient`], which writes any bytes.

use std::io;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::DuplexStream;
use tokio::runtime::Runtime;
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use twinwire::envelope::{ERROR_TYPE, META_CORRELATION_ID, RPC_ERROR_TYPE};
use twinwire::{ErrorPayload, Message};
use twinwire_runtime::{Server, ServerConfig};

use chat_protocol::{Calculate, CalculateResult};

use crate::framing;
use crate::protocol::router;
use crate::raw::{RawClient, Read, ServerFrame};

/// The largest message the fuzz server reads; a larger one closes the connection with 1009.
/// Below libFuzzer's default input size (4096), so that the targets reach that close.
pub const MAX_FRAME: usize = 2048;

/// Correlation ids of marker requests start with this; inputs naming such an id are skipped,
/// as they could take the marker's id.
pub const MARKER_PREFIX: &str = "fuzz-marker-";

/// How long an answer may take before the iteration fails as a hang. Only a bound against
/// hangs: answers take well under a millisecond.
const PATIENCE: Duration = Duration::from_secs(20);

/// Bytes the in-memory pipe buffers in each direction; more than one iteration ever sends.
const PIPE_BUFFER: usize = 256 * 1024;

type Socket = WebSocketStream<DuplexStream>;

/// What [`Harness::raw_exchange`] read.
#[derive(Debug)]
pub struct Exchange {
    /// The text frames, parsed, other than the marker's answer.
    pub answers: Vec<Value>,
    /// The payloads of the pongs.
    pub pongs: Vec<Vec<u8>>,
    /// How the exchange ended.
    pub end: End,
}

/// How a [`Harness::raw_exchange`] ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The marker was answered.
    Answered,
    /// The server sent its close frame, with this code if it had one, then ended the stream.
    Closed(Option<u16>),
    /// The stream ended without a close frame.
    Dropped,
}

/// What the client read.
#[derive(Debug)]
pub enum Incoming {
    /// A frame, parsed.
    Frame(Value),
    /// The server closed the connection, with this close code if it sent one.
    Closed(Option<u16>),
}

/// A request whose answer proves the connection still serves.
#[derive(Debug)]
pub struct Marker {
    id: String,
    request: Calculate,
}

impl Marker {
    /// The request as a WebSocket message.
    pub fn message(&self) -> WsMessage {
        WsMessage::text(self.text())
    }

    /// The request's JSON text.
    pub fn text(&self) -> String {
        json!({
            "type": Calculate::WIRE_TYPE,
            "meta": { META_CORRELATION_ID: self.id },
            "payload": self.request,
        })
        .to_string()
    }

    /// Whether `frame` answers this marker; panics if it answers it wrongly.
    pub fn is_answered_by(&self, frame: &Value) -> bool {
        if frame["meta"][META_CORRELATION_ID] != *self.id {
            return false;
        }
        let expected = CalculateResult {
            result: crate::protocol::calculate(&self.request),
        };
        assert_eq!(
            frame["type"],
            CalculateResult::WIRE_TYPE,
            "the marker request was refused: {frame}"
        );
        assert_eq!(
            CalculateResult::deserialize(&frame["payload"]).ok(),
            Some(expected),
            "wrong answer to the marker: {frame}"
        );
        true
    }
}

/// The listener `axum::serve` accepts the pipes' server ends from.
struct Pipes(mpsc::UnboundedReceiver<DuplexStream>);

impl axum::serve::Listener for Pipes {
    type Io = DuplexStream;
    type Addr = ();

    async fn accept(&mut self) -> (DuplexStream, ()) {
        match self.0.recv().await {
            Some(pipe) => (pipe, ()),
            // The harness lives as long as the process: no more connections will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<()> {
        Ok(())
    }
}

/// The fuzz server's configuration: small frames, and nothing time-driven (no pings, no
/// rate limit) so that an iteration's outcome depends on its input alone.
pub fn config() -> ServerConfig {
    ServerConfig::default()
        .max_frame_size(MAX_FRAME)
        .ping(None, Duration::from_secs(10))
        .rate_limit(None)
}

/// The server, the client connection and the runtime both run on.
pub struct Harness {
    runtime: Runtime,
    connect: mpsc::UnboundedSender<DuplexStream>,
    socket: Option<Socket>,
    /// The `websocket` target's connection, apart from the one of the message targets.
    raw: Option<RawClient>,
    markers: u64,
}

impl Harness {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap_or_else(|e| panic!("cannot start a tokio runtime: {e}"));
        let server = Server::builder(router())
            .config(config())
            .build()
            .unwrap_or_else(|e| panic!("the fuzz router is invalid: {e}"));
        let (connect, pipes) = mpsc::unbounded_channel();
        runtime.spawn(async move {
            let served = axum::serve(Pipes(pipes), server.into_axum_router()).await;
            panic!("the in-process server stopped: {served:?}");
        });
        Self {
            runtime,
            connect,
            socket: None,
            raw: None,
            markers: 0,
        }
    }

    /// Runs `f` with the process's harness, created on first use.
    pub fn with<R>(f: impl FnOnce(&mut Harness) -> R) -> R {
        static HARNESS: Mutex<Option<Harness>> = Mutex::new(None);
        // A failed iteration aborts the fuzzer; under `cargo test` the next test may go on
        // with the harness as it is.
        let mut harness = HARNESS.lock().unwrap_or_else(PoisonError::into_inner);
        f(harness.get_or_insert_with(Harness::new))
    }

    /// A new marker request, with an id no earlier one had.
    pub fn marker(&mut self) -> Marker {
        self.markers += 1;
        Marker {
            id: format!("{MARKER_PREFIX}{}", self.markers),
            request: Calculate {
                operation: chat_protocol::Operation::Add,
                a: self.markers as f64,
                b: 0.5,
            },
        }
    }

    /// The runtime and the connection (opened first if there is none), borrowed apart so
    /// that the connection can be used inside `Runtime::block_on`: only that one drives a
    /// current-thread runtime's timers and spawned tasks (the server).
    fn parts(&mut self) -> (&Runtime, &mut Socket) {
        let Self {
            runtime,
            connect,
            socket,
            ..
        } = self;
        let socket = socket.get_or_insert_with(|| {
            let client = Self::pipe(connect);
            let (socket, _) = runtime
                .block_on(tokio_tungstenite::client_async(
                    "ws://fuzz.invalid/",
                    client,
                ))
                .unwrap_or_else(|e| panic!("the WebSocket upgrade failed: {e}"));
            socket
        });
        (runtime, socket)
    }

    /// Forgets the connection (after a close); the next call connects anew.
    pub fn disconnect(&mut self) {
        self.socket = None;
    }

    /// A new in-memory connection to the server: the client's end.
    fn pipe(connect: &mpsc::UnboundedSender<DuplexStream>) -> DuplexStream {
        let (client, server) = tokio::io::duplex(PIPE_BUFFER);
        if connect.send(server).is_err() {
            panic!("the in-process server is gone");
        }
        client
    }

    /// Writes `chunks` on the raw connection (opened first if there is none), one write
    /// each, then reads until `marker` is answered, the server's close frame, or the end of
    /// the stream. Every frame is checked as [`RawClient`] and [`check_well_formed`] check
    /// them. After a close frame the client answers it as RFC 6455 asks (echoes its code and
    /// ends its side), and the server must then end the stream without sending anything
    /// more; a closed connection is forgotten, so the next call connects anew.
    pub fn raw_exchange(&mut self, chunks: &[&[u8]], marker: Option<&Marker>) -> Exchange {
        let Self {
            runtime,
            connect,
            raw,
            ..
        } = self;
        let client = raw.get_or_insert_with(|| {
            let pipe = Self::pipe(connect);
            runtime.block_on(RawClient::upgrade(pipe, PATIENCE))
        });
        let mut answers = Vec::new();
        let mut pongs = Vec::new();
        let mut end = None;
        runtime.block_on(async {
            let exchange = client.exchange(chunks, |frame| match frame {
                ServerFrame::Text(text) => {
                    let frame: Value = serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("the server sent invalid JSON ({e}): {text}"));
                    check_well_formed(&frame);
                    if marker.is_some_and(|m| m.is_answered_by(&frame)) {
                        end = Some(End::Answered);
                        return true;
                    }
                    answers.push(frame);
                    false
                }
                ServerFrame::Pong(payload) => {
                    pongs.push(payload);
                    false
                }
                // Not with pings off, but a server may ping.
                ServerFrame::Ping(_) => false,
                ServerFrame::Close(close) => {
                    end = Some(End::Closed(close.map(|(code, _)| code)));
                    true
                }
            });
            tokio::time::timeout(PATIENCE, exchange)
                .await
                .unwrap_or_else(|_| panic!("the exchange took over {PATIENCE:?}: a hang"));
            if let Some(End::Closed(code)) = end {
                // The echo (the same code, or none) and the end of the client's side.
                let echo = code
                    .map(|c| framing::close_payload(c, b""))
                    .unwrap_or_default();
                client
                    .write(&framing::client_frame(
                        true,
                        framing::opcode::CLOSE,
                        [0x5A, 0xC3, 0x0F, 0x96],
                        &echo,
                    ))
                    .await;
                client.shutdown().await;
                match client.next(PATIENCE).await {
                    Read::End => {}
                    Read::Frame(frame) => panic!("a frame after the close frame: {frame:?}"),
                }
            }
        });
        let end = end.unwrap_or(End::Dropped);
        if end != End::Answered {
            *raw = None;
        }
        Exchange {
            answers,
            pongs,
            end,
        }
    }

    /// Sends `messages` in one write. Sending to a connection the server is closing may
    /// fail; the close is then what the next [`recv`](Self::recv) reads.
    pub fn send(&mut self, messages: Vec<WsMessage>) {
        let (runtime, socket) = self.parts();
        runtime.block_on(async {
            for message in messages {
                if socket.feed(message).await.is_err() {
                    return;
                }
            }
            let _ = socket.flush().await;
        });
    }

    /// Reads the next frame or the close, checking that the frame is well formed.
    pub fn recv(&mut self) -> Incoming {
        let (runtime, socket) = self.parts();
        runtime.block_on(async {
            loop {
                let next = tokio::time::timeout(PATIENCE, socket.next())
                    .await
                    .unwrap_or_else(|_| panic!("no answer within {PATIENCE:?}: a hang"));
                let text = match next {
                    Some(Ok(WsMessage::Text(text))) => text,
                    Some(Ok(WsMessage::Close(frame))) => {
                        return Incoming::Closed(frame.map(|f| f.code.into()));
                    }
                    Some(Ok(WsMessage::Binary(_))) => panic!("the server sent a binary frame"),
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => return Incoming::Closed(None),
                };
                let frame: Value = serde_json::from_str(text.as_str())
                    .unwrap_or_else(|e| panic!("the server sent invalid JSON ({e}): {text}"));
                check_well_formed(&frame);
                return Incoming::Frame(frame);
            }
        })
    }

    /// Reads frames until `marker` is answered and at least `min` others arrived; panics
    /// past `max` others or at a close.
    pub fn answers_until(&mut self, marker: &Marker, min: usize, max: usize) -> Vec<Value> {
        let mut answers = Vec::new();
        let mut answered = false;
        while !answered || answers.len() < min {
            match self.recv() {
                Incoming::Frame(frame) if marker.is_answered_by(&frame) => answered = true,
                Incoming::Frame(frame) => {
                    answers.push(frame);
                    assert!(
                        answers.len() <= max,
                        "more answers than frames sent: {answers:?}"
                    );
                }
                Incoming::Closed(code) => {
                    panic!("the server closed the connection ({code:?}) after {answers:?}")
                }
            }
        }
        answers
    }
}

/// What every frame the server sends must be: a JSON object with a string `type`; `meta`,
/// when present, an object; an error frame carries an error payload, correlated exactly
/// when it is an `RPC_ERROR`.
pub fn check_well_formed(frame: &Value) {
    let kind = frame["type"]
        .as_str()
        .unwrap_or_else(|| panic!("a frame without a string type: {frame}"));
    if let Some(meta) = frame.get("meta") {
        assert!(meta.is_object(), "meta is not an object: {frame}");
    }
    if kind == ERROR_TYPE || kind == RPC_ERROR_TYPE {
        let error = ErrorPayload::deserialize(&frame["payload"])
            .unwrap_or_else(|e| panic!("an error frame without an error payload ({e}): {frame}"));
        assert!(
            !error.message.is_empty(),
            "an error without message: {frame}"
        );
        let correlated = frame["meta"][META_CORRELATION_ID].is_string();
        assert_eq!(
            correlated,
            kind == RPC_ERROR_TYPE,
            "only an RPC_ERROR is correlated: {frame}"
        );
    }
}
