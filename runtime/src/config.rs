//! [`ServerConfig`]: limits, timeouts, buffers and upgrade policy.

use std::time::Duration;

use crate::rate::RateLimit;

/// How the server refuses an upgrade that the `authenticate` hook rejected (see
/// [`ServerConfig::refusal`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefusalMode {
    /// Accept the WebSocket, then close it at once with an application close code (4401
    /// unauthenticated, 4403 forbidden, 4000 + the HTTP status otherwise) and the error's
    /// message as the reason. The default: a browser sees this code, while a refused HTTP
    /// upgrade only shows it close 1006, which it cannot tell from an outage.
    #[default]
    CloseFrame,
    /// Answer with the HTTP status and a JSON error body, before any WebSocket exists. Cheaper
    /// for non-browser clients, which see the status.
    Http,
}

/// How a server treats connections. Every setting has a default suited to many small,
/// mostly idle connections; change them with the builder methods.
///
/// ```
/// use std::time::Duration;
/// use twinwire_runtime::ServerConfig;
///
/// let config = ServerConfig::default()
///     .max_frame_size(16 * 1024)
///     .max_connections(50_000)
///     .ping(Some(Duration::from_secs(20)), Duration::from_secs(10))
///     .allowed_origins(["https://chat.example.com"]);
/// ```
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub(crate) max_frame_size: usize,
    pub(crate) outbound_limit: usize,
    pub(crate) slow_consumer_grace: Duration,
    pub(crate) max_in_flight: usize,
    pub(crate) max_connections: usize,
    pub(crate) handshake_timeout: Duration,
    pub(crate) ping_interval: Option<Duration>,
    pub(crate) ping_timeout: Duration,
    pub(crate) write_timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) shutdown_grace: Duration,
    pub(crate) allowed_origins: Option<Vec<String>>,
    pub(crate) subprotocols: Vec<String>,
    pub(crate) progress_data_field: bool,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) refusal: RefusalMode,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_frame_size: 64 * 1024,
            outbound_limit: 1024 * 1024,
            slow_consumer_grace: Duration::from_secs(5),
            max_in_flight: 64,
            max_connections: 10_000,
            handshake_timeout: Duration::from_secs(10),
            ping_interval: Some(Duration::from_secs(30)),
            ping_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(2),
            shutdown_grace: Duration::from_secs(10),
            allowed_origins: None,
            subprotocols: Vec::new(),
            progress_data_field: true,
            rate_limit: Some(RateLimit::default()),
            refusal: RefusalMode::CloseFrame,
        }
    }
}

impl ServerConfig {
    /// The largest inbound message, in bytes (default 64 KiB). A larger one closes the
    /// connection with 1009 before it is buffered.
    #[must_use]
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// How many bytes of frames may wait to be written to one connection before its queue
    /// is full (default 1 MiB). The outbound policy ("Slow readers" in the crate docs)
    /// derives its marks from it: past half of it, a handler that publishes into the
    /// queue has its own connection's reading paused until the queue is below a quarter;
    /// a full queue whose connection writes nothing for
    /// [`slow_consumer_grace`](Self::slow_consumer_grace) is closed with 1008; past twice
    /// this limit the connection is closed at once, which bounds its memory.
    #[must_use]
    pub fn outbound_limit(mut self, bytes: usize) -> Self {
        self.outbound_limit = bytes.max(1);
        self
    }

    /// How long a connection whose outbound queue is full may go without writing anything
    /// before it is closed with 1008 (default 5 s), and how long one congested queue may
    /// pause its publishers. See [`outbound_limit`](Self::outbound_limit).
    #[must_use]
    pub fn slow_consumer_grace(mut self, grace: Duration) -> Self {
        self.slow_consumer_grace = grace;
        self
    }

    /// How many handlers of one connection may run at once (default 64); past it, the
    /// connection's frames are not read until one finishes.
    #[must_use]
    pub fn max_in_flight(mut self, handlers: usize) -> Self {
        self.max_in_flight = handlers.max(1);
        self
    }

    /// How many connections the server holds at once (default 10 000); past it, upgrades
    /// are answered with HTTP 503. With the server's own listener ([`Server::bind`],
    /// [`Server::bind_app`]) every accepted TCP connection counts from the moment it is
    /// accepted, upgraded or not, so connections that never finish their handshake cannot
    /// exhaust the process's file descriptors.
    ///
    /// [`Server::bind`]: crate::Server::bind
    /// [`Server::bind_app`]: crate::Server::bind_app
    #[must_use]
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections;
        self
    }

    /// How long the server's own listener waits for a request head (default 10 s): a
    /// connection that has not sent a complete one by then, at the start or after its
    /// previous response, is closed. Connections served by an app's own `axum::serve`
    /// are not covered: axum has no such timeout.
    #[must_use]
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Sends a WebSocket ping after `interval` without traffic from the client (`None`:
    /// never) and drops the connection if nothing arrives within `timeout` after it.
    /// Defaults: 30 s and 10 s.
    #[must_use]
    pub fn ping(mut self, interval: Option<Duration>, timeout: Duration) -> Self {
        self.ping_interval = interval;
        self.ping_timeout = timeout;
        self
    }

    /// How long writing to a client may make no progress before the connection is dropped
    /// as a slow consumer (default 10 s), whatever its queue holds.
    #[must_use]
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// How long to wait for the client's answer to a close frame (default 2 s).
    #[must_use]
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// How long in-flight handlers may run once the server shuts down or the client has
    /// gone (default 10 s); handlers still running then are cancelled.
    #[must_use]
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Accepts browser connections only from these origins (compared case-insensitively,
    /// e.g. `https://app.example.com`); others get HTTP 403. Requests without an `Origin`
    /// header (non-browser clients) are not affected. Default: any origin.
    #[must_use]
    pub fn allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_origins = Some(origins.into_iter().map(Into::into).collect());
        self
    }

    /// The application subprotocols this server speaks, in order of preference. When a
    /// client offers some, the first offered one in this list is echoed. With an empty
    /// list (the default) the first offered protocol that is not a `bearer.<token>` is
    /// echoed, or the bearer one when that is all the client offered, because browsers
    /// fail a connection whose offer gets no echo.
    #[must_use]
    pub fn subprotocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.subprotocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Writes each RPC progress value under `data` as well as `payload` (default: on), so
    /// clients built on WS-Kit's own client, which reads `data` only, work out of the box.
    /// Turn it off to save the bytes when every client is twinwire's (they read `payload`).
    #[must_use]
    pub fn progress_data_field(mut self, enabled: bool) -> Self {
        self.progress_data_field = enabled;
        self
    }

    /// Limits how many messages (data frames and pings) each client may send. A message
    /// past the budget is not handled: it is answered `RESOURCE_EXHAUSTED` with
    /// `retryAfterMs` (as `RPC_ERROR` when it carries a correlation id), and the first
    /// refusal of a spell is reported to `on_error` as
    /// [`ErrorKind::RateLimited`](crate::ErrorKind::RateLimited). A client that keeps
    /// sending past it ([`RateLimit::close_after`]) is closed with 1008. `None` turns the
    /// limit off.
    ///
    /// Default: [`RateLimit::default`], 100 messages a second with bursts of 2,000, closed
    /// after 2,000 refusals within 10 seconds: generous for an interactive client, but a
    /// bound on what one connection can make the server do. Bulk clients (and benchmarks)
    /// need a higher limit or none.
    ///
    /// Messages are counted as they are read. While reading is paused (the connection's
    /// `max_in_flight` handlers run), the client's messages wait in TCP buffers and may then
    /// be read in a burst, so keep the burst above `max_in_flight`.
    ///
    /// ```
    /// use twinwire_runtime::{RateLimit, ServerConfig};
    ///
    /// let config = ServerConfig::default().rate_limit(RateLimit::per_second(20).burst(100));
    /// let unlimited = ServerConfig::default().rate_limit(None);
    /// ```
    #[must_use]
    pub fn rate_limit(mut self, limit: impl Into<Option<RateLimit>>) -> Self {
        self.rate_limit = limit.into();
        self
    }

    /// How upgrades rejected by the `authenticate` hook are refused (default:
    /// [`RefusalMode::CloseFrame`], which browsers can see). Refusals made before the hook
    /// (a wrong method, a disallowed origin, the connection limit) are always HTTP errors.
    #[must_use]
    pub fn refusal(mut self, mode: RefusalMode) -> Self {
        self.refusal = mode;
        self
    }
}
