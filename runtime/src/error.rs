//! Errors of the runtime's API: [`RouterError`] when building, [`SendError`],
//! [`PublishError`] and [`SubscribeError`] from handlers.

use std::fmt;

use twinwire::{ErrorCode, ErrorPayload};

use crate::pubsub::{PubSubError, TopicError};

/// A router that cannot be served as built.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RouterError {
    /// Two handlers were registered for one wire type (by `on`/`rpc` or `merge`).
    DuplicateRoute {
        /// The wire type.
        wire_type: &'static str,
    },
    /// A handler was registered for a type the wire protocol reserves.
    ReservedType {
        /// The wire type.
        wire_type: &'static str,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// A deadline or route middleware names a type that has no handler.
    OptionWithoutRoute {
        /// The wire type.
        wire_type: &'static str,
    },
    /// Both merged routers set a deadline for one type.
    ConflictingDeadline {
        /// The wire type.
        wire_type: &'static str,
    },
    /// Both merged routers have an `authenticate` hook.
    DuplicateAuthenticate,
    /// Connections need initial data of a type the runtime cannot make by itself.
    NoInitialData {
        /// The per-connection data type.
        data_type: &'static str,
    },
}

impl fmt::Display for RouterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateRoute { wire_type } => write!(
                f,
                "two handlers are registered for wire type `{wire_type}`; keep one"
            ),
            Self::ReservedType { wire_type, reason } => {
                write!(f, "cannot route wire type `{wire_type}`: {reason}")
            }
            Self::OptionWithoutRoute { wire_type } => write!(
                f,
                "a deadline or middleware is set for `{wire_type}`, which has no handler; \
                 register one with `on`/`rpc` or remove the option"
            ),
            Self::ConflictingDeadline { wire_type } => write!(
                f,
                "both merged routers set a deadline for `{wire_type}`; set it in one"
            ),
            Self::DuplicateAuthenticate => f.write_str(
                "both merged routers have an `authenticate` hook; a connection's data can \
                 come from only one",
            ),
            Self::NoInitialData { data_type } => write!(
                f,
                "connections need initial data of type `{data_type}`: add \
                 `.authenticate(...)` to the router, or `.initial_data(...)` for a fixed value"
            ),
        }
    }
}

impl std::error::Error for RouterError {}

/// Why a frame could not be sent to a connection.
#[derive(Debug)]
#[non_exhaustive]
pub enum SendError {
    /// The message could not be encoded as JSON.
    Encode(serde_json::Error),
    /// The connection is closing or closed.
    Closed,
    /// The connection's outbound queue went past its hard bound (twice
    /// [`ServerConfig::outbound_limit`](crate::ServerConfig::outbound_limit)); it is being
    /// closed as a slow consumer.
    QueueFull,
    /// The RPC already got its terminal frame (reply or error).
    AlreadyAnswered,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Encode(err) => write!(f, "the message could not be encoded: {err}"),
            Self::Closed => f.write_str("the connection is closed"),
            Self::QueueFull => f.write_str(
                "the connection's outbound queue is full; it is being closed as a slow consumer",
            ),
            Self::AlreadyAnswered => f.write_str("this request has already been answered"),
        }
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Encode(err) => Some(err),
            _ => None,
        }
    }
}

impl From<SendError> for ErrorPayload {
    fn from(err: SendError) -> Self {
        let code = match err {
            SendError::Encode(_) | SendError::AlreadyAnswered => ErrorCode::Internal,
            SendError::Closed | SendError::QueueFull => ErrorCode::Unavailable,
        };
        ErrorPayload::new(code, err.to_string())
    }
}

/// Why a publish failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum PublishError {
    /// The topic name is invalid.
    Topic(TopicError),
    /// The message could not be encoded as JSON.
    Encode(serde_json::Error),
    /// The backend failed.
    Backend(PubSubError),
}

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Topic(err) => err.fmt(f),
            Self::Encode(err) => write!(f, "the message could not be encoded: {err}"),
            Self::Backend(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for PublishError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Topic(err) => Some(err),
            Self::Encode(err) => Some(err),
            Self::Backend(err) => Some(err),
        }
    }
}

impl From<TopicError> for PublishError {
    fn from(err: TopicError) -> Self {
        Self::Topic(err)
    }
}

impl From<PubSubError> for PublishError {
    fn from(err: PubSubError) -> Self {
        Self::Backend(err)
    }
}

impl From<PublishError> for ErrorPayload {
    fn from(err: PublishError) -> Self {
        match err {
            PublishError::Topic(err) => err.into(),
            PublishError::Encode(err) => ErrorPayload::new(
                ErrorCode::Internal,
                format!("the message could not be encoded: {err}"),
            ),
            PublishError::Backend(err) => err.into(),
        }
    }
}

/// Why a subscribe or unsubscribe failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum SubscribeError {
    /// The topic name is invalid.
    Topic(TopicError),
    /// The backend failed.
    Backend(PubSubError),
    /// The connection has closed (subscribing from a task that outlived it).
    Closed,
}

impl fmt::Display for SubscribeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Topic(err) => err.fmt(f),
            Self::Backend(err) => err.fmt(f),
            Self::Closed => f.write_str("the connection is closed"),
        }
    }
}

impl std::error::Error for SubscribeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Topic(err) => Some(err),
            Self::Backend(err) => Some(err),
            Self::Closed => None,
        }
    }
}

impl From<TopicError> for SubscribeError {
    fn from(err: TopicError) -> Self {
        Self::Topic(err)
    }
}

impl From<PubSubError> for SubscribeError {
    fn from(err: PubSubError) -> Self {
        Self::Backend(err)
    }
}

impl From<SubscribeError> for ErrorPayload {
    fn from(err: SubscribeError) -> Self {
        match err {
            SubscribeError::Topic(err) => err.into(),
            SubscribeError::Backend(err) => err.into(),
            SubscribeError::Closed => {
                ErrorPayload::new(ErrorCode::Unavailable, "the connection is closed")
            }
        }
    }
}
