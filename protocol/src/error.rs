//! The standard error codes and the payload of `ERROR` / `RPC_ERROR` frames.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Error codes, named as gRPC names them; the same strings on the wire in both directions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// No valid credentials.
    Unauthenticated,
    /// Authenticated, but not allowed to do this.
    PermissionDenied,
    /// The frame or its payload is malformed or fails validation.
    InvalidArgument,
    /// The system is not in the state this operation needs.
    FailedPrecondition,
    /// A referenced entity does not exist.
    NotFound,
    /// The entity to create exists already.
    AlreadyExists,
    /// No handler for this wire type.
    Unimplemented,
    /// The operation was cancelled, typically by the caller.
    Cancelled,
    /// The operation did not finish before its deadline.
    DeadlineExceeded,
    /// A limit or quota was hit; retrying later may succeed.
    ResourceExhausted,
    /// The service is temporarily unable to serve; retrying may succeed.
    Unavailable,
    /// The operation was aborted, e.g. by a concurrency conflict.
    Aborted,
    /// A bug or unexpected failure on the server.
    Internal,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 13] = [
        Self::Unauthenticated,
        Self::PermissionDenied,
        Self::InvalidArgument,
        Self::FailedPrecondition,
        Self::NotFound,
        Self::AlreadyExists,
        Self::Unimplemented,
        Self::Cancelled,
        Self::DeadlineExceeded,
        Self::ResourceExhausted,
        Self::Unavailable,
        Self::Aborted,
        Self::Internal,
    ];

    /// The wire spelling, e.g. `"INVALID_ARGUMENT"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::PermissionDenied => "PERMISSION_DENIED",
            Self::InvalidArgument => "INVALID_ARGUMENT",
            Self::FailedPrecondition => "FAILED_PRECONDITION",
            Self::NotFound => "NOT_FOUND",
            Self::AlreadyExists => "ALREADY_EXISTS",
            Self::Unimplemented => "UNIMPLEMENTED",
            Self::Cancelled => "CANCELLED",
            Self::DeadlineExceeded => "DEADLINE_EXCEEDED",
            Self::ResourceExhausted => "RESOURCE_EXHAUSTED",
            Self::Unavailable => "UNAVAILABLE",
            Self::Aborted => "ABORTED",
            Self::Internal => "INTERNAL",
        }
    }

    /// Whether a client may retry the same request unchanged by default.
    pub const fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::DeadlineExceeded | Self::ResourceExhausted | Self::Unavailable | Self::Aborted
        )
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The payload of an `ERROR` or `RPC_ERROR` frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorPayload {
    /// What went wrong, as a standard code.
    pub code: ErrorCode,
    /// A human-readable explanation.
    pub message: String,
    /// Structured detail, e.g. `{"issues": [...]}` for validation failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    /// Whether retrying may succeed; omitted when the code's default applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retryable: Option<bool>,
    /// How long to wait before retrying, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl ErrorPayload {
    /// An error with a code and message, no details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: None,
            retryable: None,
            retry_after_ms: None,
        }
    }

    /// Attaches structured details.
    #[must_use]
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// Marks the error retryable after a delay.
    #[must_use]
    pub fn with_retry_after_ms(mut self, ms: u64) -> Self {
        self.retryable = Some(true);
        self.retry_after_ms = Some(ms);
        self
    }
}

impl From<crate::validate::ValidationError> for ErrorPayload {
    fn from(err: crate::validate::ValidationError) -> Self {
        let message = err.to_string();
        ErrorPayload::new(ErrorCode::InvalidArgument, message).with_details(err.to_details())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_wire_names() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, Value::String(code.as_str().to_owned()));
            let back: ErrorCode = serde_json::from_value(json).unwrap();
            assert_eq!(back, code);
        }
    }

    #[test]
    fn error_payload_omits_absent_fields() {
        let p = ErrorPayload::new(ErrorCode::NotFound, "no such room");
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"code":"NOT_FOUND","message":"no such room"}"#
        );
        let p = p.with_retry_after_ms(250);
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"code":"NOT_FOUND","message":"no such room","retryable":true,"retryAfterMs":250}"#
        );
    }
}
