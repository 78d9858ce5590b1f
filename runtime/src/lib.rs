// Module layers, leaves first; a module uses only modules of earlier layers:
// 1. `auth`, `close`, `correlation`, `frame`, `rate`, `telemetry`
// 2. `config` (rate), `connection` (close), `outbox` (close, frame), `websocket` (frame)
// 3. `event` (connection)
// 4. `pubsub` (connection, event, frame, outbox)
// 5. `error` (pubsub)
// 6. `server_state` (config, connection, error, event, frame, outbox, pubsub)
// 7. `conn_state` (server_state and below), `handle` (server_state and below), `listener`
//    (server_state)
// 8. `context` (conn_state and below)
// 9. `route` (context and below)
// 10. `router` (route, auth and below)
// 11. `driver` (router, server_state, rate and below)
// 12. `upgrade` (driver, router, auth and below)
// 13. `server` (upgrade, listener and below)
// `client` stands apart, above `connection` and `frame`.
// This file is the facade: docs, `mod` and `pub use` only.

//! Serves a twinwire protocol over WebSocket, speaking the wire format of
//! `docs/wire-protocol.md` (compatible with WS-Kit 0.10), and a Rust client for it.
//!
//! ```no_run
//! use chat_protocol::{Calculate, CalculateResult, Operation};
//! use twinwire_runtime::{Router, RpcContext, serve};
//!
//! # async fn demo() -> Result<(), twinwire_runtime::ServeError> {
//! let router = Router::<()>::new().rpc(|_ctx: RpcContext<(), Calculate>, req: Calculate| async move {
//!     let result = match req.operation {
//!         Operation::Add => req.a + req.b,
//!         Operation::Multiply => req.a * req.b,
//!     };
//!     Ok(CalculateResult { result })
//! });
//! serve(router, "127.0.0.1:3000").await
//! # }
//! ```
//!
//! # Dispatch
//!
//! Each frame is parsed (envelope only; the payload stays raw text), its reserved meta
//! keys (`clientId`, `receivedAt`) are stripped, its route is found by `type`, the payload
//! is deserialized straight into the handler's type and validated, then middleware and the
//! handler run. Every failure is answered, never dropped:
//!
//! | input | answer |
//! |---|---|
//! | not JSON, not an object, missing / non-string `type`, malformed `meta` | `INVALID_ARGUMENT`, `details.target = "frame"` |
//! | a reserved type (`$…`, `__…`, `ERROR`, `RPC_ERROR`) | `INVALID_ARGUMENT` at `/type` |
//! | `{"type":"__heartbeat"}` | `{"type":"__heartbeat_ack"}` |
//! | `{"type":"$ws:abort","meta":{"correlationId"}}` | see [Cancellation](#cancellation) |
//! | a type without a handler | `UNIMPLEMENTED`, `details.type` |
//! | a payload on a payload-less message, or none on one that needs it | `INVALID_ARGUMENT` at `/payload` |
//! | wrong field types, unknown fields (strict by default) | `INVALID_ARGUMENT`, `details.target = "payload"`, the failing path |
//! | constraint violations | `INVALID_ARGUMENT` listing **every** failing path |
//! | an RPC request without `meta.correlationId` | `INVALID_ARGUMENT` at `/meta/correlationId` |
//! | a correlation id still in flight on this connection | uncorrelated `ERROR` `ALREADY_EXISTS`, `details.correlationId`; the first request is untouched |
//! | a handler or middleware `Err` | that error |
//! | a panicking handler | `INTERNAL`; the connection keeps serving |
//! | a handler past its route's [deadline](Router::deadline) | `DEADLINE_EXCEEDED` (the handler is cancelled) |
//! | a frame past the client's [rate limit](ServerConfig::rate_limit) | `RESOURCE_EXHAUSTED` with `retryAfterMs` (not handled) |
//!
//! Answers are `RPC_ERROR` with the correlation id whenever the frame had one (except the
//! duplicate case), `ERROR` otherwise; `details.issues` holds `{path, code, message}`
//! entries. Serde stops at the first decoding error, so a type error reports one path;
//! constraint violations report all. An answer echoes the client's input (a type, a field
//! name, a quoted value) only up to 100 characters, cut with `…`, and names an unknown type
//! once, in `details.type`. Only WebSocket-level violations close the connection: invalid
//! UTF-8 in a text or binary frame (1007), a message over [`ServerConfig::max_frame_size`]
//! (1009, after which the rest of the message is read and dropped so that the close frame
//! reaches the client), a client that keeps sending past its
//! [rate limit](ServerConfig::rate_limit) (1008), other protocol errors (1002). Binary
//! frames holding UTF-8 JSON are handled like text frames; the server always sends text.
//!
//! # Slow readers
//!
//! Sending and publishing never wait for a client: each frame goes onto the connection's
//! outbound queue, which its task writes to the socket. The queue is bounded in bytes by
//! [`ServerConfig::outbound_limit`] (`L`, 1 MiB by default) and the policy tells a client
//! that is behind for a moment from one that stopped reading:
//!
//! | queued bytes | what happens |
//! |---|---|
//! | over `L / 2` (512 KiB) | the connection's own reading pauses; a handler of another connection that publishes into the queue has *its* connection's reading paused (push back on the source), until the queue is below `L / 4` (256 KiB), or for [`ServerConfig::slow_consumer_grace`] (5 s) at most |
//! | `L` (1 MiB) or more: full | if nothing has been written to the client for the grace period (5 s), the connection is closed with 1008 and its backlog dropped; a client that still reads keeps its queue |
//! | past `2 L` (2 MiB) | closed with 1008 at once, backlog dropped: the bound on memory |
//!
//! Independently, a write that makes no progress for [`ServerConfig::write_timeout`]
//! (10 s) drops the connection (1006). A published frame is shared by all its recipients,
//! so a burst to many subscribers costs its bytes once, while each queue counts them in
//! full. A burst of 300 chat messages into a room (about 75 KB for each member) is
//! absorbed by every reading member; only a publisher that outruns its subscribers is slowed, by TCP
//! flow control on its own socket. Push back applies to publishes made while a handler
//! runs in its connection's task; a spawned task, [`Server::publish`] and deliveries from
//! other instances are not paused, and the bounds above hold for them.
//!
//! For comparison: Bun's `backpressureLimit` (16 MiB by default) and uWebSockets'
//! `maxBackpressure` (64 KiB) *drop* messages for a socket past the limit, silently, unless
//! `closeOnBackpressureLimit` is set, in which case it closes at once however briefly the
//! client was behind. twinwire never drops a frame silently (a client either receives every
//! frame in order or is closed, and can resynchronize on reconnecting), gives a reading
//! client room for bursts, and slows the source instead of cutting off its readers.
//!
//! A client that floods requests is throttled too: its frames are not read while
//! [`ServerConfig::max_in_flight`] of its handlers run or its own queue is congested, and
//! past its [rate limit](ServerConfig::rate_limit) (on by default, 100 a second with bursts
//! of 2,000) each frame is answered `RESOURCE_EXHAUSTED` with `retryAfterMs`; a client that
//! keeps on is closed with 1008.
//!
//! # Handshakes
//!
//! The server's own listener ([`Server::bind`], [`Server::bind_app`], [`serve`]) sets
//! `TCP_NODELAY` on every accepted socket, so a frame written right after another is not
//! held back for the client's delayed ACK; counts every accepted connection toward
//! [`ServerConfig::max_connections`] (over it, `503` at once); and closes a connection that
//! has not sent a complete request head within [`ServerConfig::handshake_timeout`] (10 s).
//! An app served with its own `axum::serve` gets none of this (see [`Server`]).
//!
//! # Pub/sub
//!
//! [`Context::subscribe`] / [`Context::publish`] go through the [`PubSub`] trait; the
//! default is [`MemoryPubSub`]. A published message is encoded once and the same frame is
//! queued for every subscriber. Subscriptions end when the connection closes.
//!
//! Whatever the server sends or publishes, from a handler or from outside, must be a
//! [`twinwire::ServerMessage`]: a `server:` entry of the `protocol!`. Sending a client →
//! server message does not compile.
//! [`Server::publish_with`] publishes from outside handlers (skipping a connection with
//! [`PublishOptions::exclude`]); [`PubSub::subscriber_count`] counts this instance's
//! subscribers.
//!
//! # Telemetry
//!
//! The runtime speaks `tracing`, as axum and tower-http do: a `DEBUG` span
//! `twinwire.connection` per connection (`conn.id`, `peer`, `path`) with `DEBUG` events
//! when it opens and closes (`close.code`, `close.reason`) and per handled frame (`type`,
//! `correlation_id`, `outcome`, `duration_ms`), `DEBUG` refusals at the upgrade (`reason`),
//! `WARN` for slow-consumer, rate-limit and pub/sub failures, `ERROR` for panics; frames
//! themselves are `TRACE`. Without a subscriber each is a level check. Metrics go through
//! the `metrics` facade under the names of the [`telemetry`] module; without a recorder
//! they are no-ops.
//!
//! # Outside handlers
//!
//! [`Server::connections`] lists the open connections and [`Server::connection`] gives a
//! [`ConnectionHandle`] to send to or close one by id, e.g. from an HTTP endpoint mounted
//! beside the WebSocket. Handlers reach the request that opened their connection with
//! [`Context::upgrade_request`] and [`Context::path_param`], and answer an event that
//! carries a correlation id with [`Context::reply_correlated`].
//!
//! # Correlation ids
//!
//! A correlation id is "in flight" from the frame's arrival until its terminal frame is
//! sent. A second frame with that id meanwhile is refused with an `ERROR` (not
//! `RPC_ERROR`, which the client would match to the first request) of code
//! `ALREADY_EXISTS`; once the first is answered the id may be reused.
//!
//! # Cancellation
//!
//! A client that stops waiting for a request (a timeout, an `AbortSignal`) sends WS-Kit's
//! `{"type":"$ws:abort","meta":{"correlationId":"…"}}`. The request's handler is then
//! cancelled: its future is dropped, so it does no more work (work it spawned can watch
//! [`Context::cancelled`]), and the request is answered `RPC_ERROR` `CANCELLED`.
//!
//! That answer is a deliberate difference from WS-Kit's server, which sends nothing: it
//! keeps exactly one terminal frame per request, so the id is free for reuse exactly when
//! the client sees that frame, and a client that already settled the request ignores it
//! (twinwire's clients and WS-Kit's drop frames for ids nobody waits for).
//!
//! An abort for an id that is unknown, already answered, or finished is ignored silently:
//! it raced with the answer, and the client has stopped waiting either way. A handler that
//! replied early and keeps working is not cancelled. An abort without a correlation id is
//! refused with `INVALID_ARGUMENT`. Cancellations are not errors, so `on_error` does not
//! hear of them.
//!
//! An abort is read in order with the frames before it: while a connection runs
//! [`ServerConfig::max_in_flight`] handlers its reading pauses, and the abort waits too.
//! Give routes that may hang a [deadline](Router::deadline).

/// The axum this crate is built on (0.8), for mounting [`Server::route`] and writing the
/// app around it: depending on it through this re-export keeps the versions from ever
/// differing (a second axum gives "multiple different versions of crate `axum`" errors).
pub use axum;

mod auth;
mod client;
pub mod close;
mod config;
mod conn_state;
mod connection;
mod context;
mod correlation;
mod driver;
mod error;
mod event;
mod frame;
mod handle;
mod listener;
mod outbox;
pub mod pubsub;
mod rate;
mod route;
mod router;
mod server;
mod server_state;
pub mod telemetry;
mod upgrade;
mod websocket;

pub use auth::{
    ACCESS_TOKEN_PARAM, BEARER_PROTOCOL_PREFIX, FINGERPRINT_PARAM, Rejection, UpgradeRequest,
};
pub use client::{Client, ClientBuilder, ClientError, InvalidMessage, RequestError};
pub use config::{RefusalMode, ServerConfig};
pub use connection::{CloseInfo, ConnectionId};
pub use context::{Context, PublishOptions, RpcContext};
pub use error::{PublishError, RouterError, SendError, SubscribeError};
pub use event::{ErrorEvent, ErrorKind, ErrorSink};
pub use frame::Frame;
pub use handle::ConnectionHandle;
pub use pubsub::{MemoryPubSub, PubSub, PubSubError};
pub use rate::RateLimit;
pub use route::Next;
pub use router::Router;
pub use server::{ServeError, Server, ServerBuilder, ServerHandle, serve, serve_until};
