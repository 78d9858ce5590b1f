//! What the router's `on_error` hook receives ([`ErrorEvent`], [`ErrorKind`]), and the
//! [`ErrorSink`] that delivers events to it.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use twinwire::ErrorPayload;

use crate::connection::ConnectionId;

/// What went wrong, for [`ErrorEvent`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An inbound frame was malformed or failed validation; the client got
    /// `INVALID_ARGUMENT`.
    InvalidFrame,
    /// An inbound frame named a type without a handler; the client got `UNIMPLEMENTED`.
    UnknownType,
    /// A request reused a correlation id still in flight; the client got `ALREADY_EXISTS`.
    DuplicateCorrelationId,
    /// A handler or middleware returned an error, which the client got.
    Handler,
    /// A handler, middleware or hook panicked; the client got `INTERNAL`.
    Panic,
    /// A handler ran past its route's deadline; the client got `DEADLINE_EXCEEDED`.
    DeadlineExceeded,
    /// A message could not be encoded (a `Serialize` impl failed).
    Encode,
    /// A client did not read what it was sent: closed with 1008 (its outbound queue full
    /// with nothing written for the grace period, or past its hard bound), or dropped when
    /// a write made no progress for the write timeout.
    SlowConsumer,
    /// The client broke the WebSocket protocol (invalid UTF-8, an oversized frame, ...)
    /// and the connection was closed.
    Protocol,
    /// The client sent faster than [`ServerConfig::rate_limit`](crate::ServerConfig::rate_limit)
    /// allows: reported at the first refused frame of a spell (the client got
    /// `RESOURCE_EXHAUSTED`), and when a client that kept on was closed with 1008.
    RateLimited,
    /// The pub/sub backend failed.
    PubSub,
}

impl ErrorKind {
    /// The metric label and log field value.
    pub(crate) const fn label(self) -> &'static str {
        match self {
            Self::InvalidFrame => "invalid_frame",
            Self::UnknownType => "unknown_type",
            Self::DuplicateCorrelationId => "duplicate_correlation_id",
            Self::Handler => "handler",
            Self::Panic => "panic",
            Self::DeadlineExceeded => "deadline_exceeded",
            Self::Encode => "encode",
            Self::SlowConsumer => "slow_consumer",
            Self::Protocol => "protocol",
            Self::RateLimited => "rate_limited",
            Self::PubSub => "pubsub",
        }
    }
}

/// A failure the runtime handled, reported to the router's `on_error` hook.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorEvent {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The connection concerned, if any.
    pub connection: Option<ConnectionId>,
    /// The wire type being handled, if known.
    pub wire_type: Option<String>,
    /// The error, as sent to the client (or as it would have been).
    pub error: ErrorPayload,
    /// Server-side detail not sent to the client, e.g. a panic message.
    pub cause: Option<String>,
}

impl ErrorEvent {
    /// An event of `kind` about `error`.
    pub fn new(kind: ErrorKind, error: ErrorPayload) -> Self {
        Self {
            kind,
            connection: None,
            wire_type: None,
            error,
            cause: None,
        }
    }

    pub(crate) fn on(mut self, connection: ConnectionId, wire_type: Option<&str>) -> Self {
        self.connection = Some(connection);
        self.wire_type = wire_type.map(str::to_owned);
        self
    }

    pub(crate) fn because(mut self, cause: impl Into<String>) -> Self {
        self.cause = Some(cause.into());
        self
    }
}

/// The router's `on_error` hooks, combined into one.
pub(crate) type ErrorHook = Arc<dyn Fn(&ErrorEvent) + Send + Sync>;

/// Where runtime failures are reported: the router's `on_error` hook, if any.
#[derive(Clone, Default)]
pub struct ErrorSink {
    hook: Option<ErrorHook>,
}

impl ErrorSink {
    pub(crate) fn new(hook: Option<ErrorHook>) -> Self {
        Self { hook }
    }

    /// Reports `event`. A panicking hook is contained: it cannot take a connection down.
    pub fn report(&self, event: ErrorEvent) {
        let (kind, code) = (event.kind.label(), event.error.code.as_str());
        metrics::counter!(crate::telemetry::ERRORS, "kind" => kind, "code" => code).increment(1);
        match event.kind {
            ErrorKind::Panic => tracing::error!(
                conn.id = event.connection.map(ConnectionId::get),
                r#type = event.wire_type.as_deref(),
                cause = event.cause.as_deref(),
                "handler panicked"
            ),
            ErrorKind::SlowConsumer | ErrorKind::RateLimited | ErrorKind::PubSub => {
                tracing::warn!(
                    conn.id = event.connection.map(ConnectionId::get),
                    kind,
                    code,
                    message = %event.error.message,
                    "connection policy"
                );
            }
            _ => tracing::debug!(
                conn.id = event.connection.map(ConnectionId::get),
                r#type = event.wire_type.as_deref(),
                kind,
                code,
                message = %event.error.message,
                "error answered"
            ),
        }
        if let Some(hook) = &self.hook {
            let _ = catch_unwind(AssertUnwindSafe(|| hook(&event)));
        }
    }
}

impl fmt::Debug for ErrorSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorSink")
            .field("hook", &self.hook.is_some())
            .finish()
    }
}
