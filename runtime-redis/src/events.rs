//! What the adapter reports to the router's `on_error` hook, and [`RedisEvent`] to tell
//! those reports apart.

use std::time::Duration;

use serde_json::json;
use twinwire::{ErrorCode, ErrorPayload};
use twinwire_runtime::{ErrorEvent, ErrorKind};

/// The `details.backend` of every event this crate reports.
const BACKEND: &str = "redis";

/// Which Redis event an [`ErrorEvent`] reports.
///
/// Every event has kind [`ErrorKind::PubSub`] and `details` of the form
/// `{"backend": "redis", "event": "connection_lost" | "connection_restored" |
/// "message_dropped", ...}`; the message is written for a log.
///
/// ```
/// use twinwire_redis::RedisEvent;
/// use twinwire_runtime::Router;
///
/// let router = Router::<()>::new().on_error(|event| match RedisEvent::of(event) {
///     Some(RedisEvent::ConnectionLost) => eprintln!("Redis down: {}", event.error.message),
///     Some(RedisEvent::ConnectionRestored) => eprintln!("Redis back: {}", event.error.message),
///     _ => eprintln!("{}: {}", event.error.code, event.error.message),
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RedisEvent {
    /// The connection to Redis was lost. Until it is back, publishes fail with
    /// `UNAVAILABLE` and nothing published on other instances arrives. Code
    /// `UNAVAILABLE`; `details` has `url` (password hidden) and `topics` (how many are
    /// wanted locally).
    ConnectionLost,
    /// The connection is back and every topic still wanted is subscribed again. Code
    /// `UNAVAILABLE`, for the outage that just ended; `details` has `url`, `attempts`,
    /// `downtimeMs` and `topics` (how many were resubscribed).
    ConnectionRestored,
    /// A message on a subscribed channel was not published by a twinwire instance (or is
    /// not UTF-8) and was dropped. Code `INVALID_ARGUMENT`; `details` has `channel`.
    MessageDropped,
}

impl RedisEvent {
    const ALL: [Self; 3] = [
        Self::ConnectionLost,
        Self::ConnectionRestored,
        Self::MessageDropped,
    ];

    /// The event an [`ErrorEvent`] reports, if this crate reported it.
    pub fn of(event: &ErrorEvent) -> Option<Self> {
        if event.kind != ErrorKind::PubSub {
            return None;
        }
        let details = event.error.details.as_ref()?;
        if details.get("backend")?.as_str()? != BACKEND {
            return None;
        }
        let name = details.get("event")?.as_str()?;
        Self::ALL.into_iter().find(|e| e.name() == name)
    }

    /// The `details.event` value.
    pub fn name(self) -> &'static str {
        match self {
            Self::ConnectionLost => "connection_lost",
            Self::ConnectionRestored => "connection_restored",
            Self::MessageDropped => "message_dropped",
        }
    }
}

pub(crate) fn connection_lost(url: &str, cause: &str, topics: usize) -> ErrorEvent {
    let error = ErrorPayload::new(
        ErrorCode::Unavailable,
        format!(
            "lost the connection to Redis at {url}: {cause}; reconnecting. Until then, \
             publishes fail with UNAVAILABLE and messages from other instances are lost"
        ),
    )
    .with_details(json!({
        "backend": BACKEND,
        "event": RedisEvent::ConnectionLost.name(),
        "url": url,
        "topics": topics,
    }));
    with_cause(ErrorEvent::new(ErrorKind::PubSub, error), cause)
}

pub(crate) fn connection_restored(
    url: &str,
    attempts: u32,
    downtime: Duration,
    topics: usize,
) -> ErrorEvent {
    let error = ErrorPayload::new(
        ErrorCode::Unavailable,
        format!(
            "the Redis outage is over: reconnected to {url} after {:.1} s ({attempts} \
             attempt{}) and resubscribed {topics} topic{}; messages published on other \
             instances during the outage were not delivered here",
            downtime.as_secs_f64(),
            plural(attempts as usize),
            plural(topics),
        ),
    )
    .with_details(json!({
        "backend": BACKEND,
        "event": RedisEvent::ConnectionRestored.name(),
        "url": url,
        "attempts": attempts,
        "downtimeMs": u64::try_from(downtime.as_millis()).unwrap_or(u64::MAX),
        "topics": topics,
    }));
    ErrorEvent::new(ErrorKind::PubSub, error)
}

pub(crate) fn message_dropped(channel: &str, why: &dyn std::fmt::Display) -> ErrorEvent {
    let error = ErrorPayload::new(
        ErrorCode::InvalidArgument,
        format!("dropped a message on Redis channel `{channel}`: {why}"),
    )
    .with_details(json!({
        "backend": BACKEND,
        "event": RedisEvent::MessageDropped.name(),
        "channel": channel,
    }));
    ErrorEvent::new(ErrorKind::PubSub, error)
}

fn with_cause(mut event: ErrorEvent, cause: &str) -> ErrorEvent {
    event.cause = Some(cause.to_owned());
    event
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_is_recognised_and_others_are_not() {
        let lost = connection_lost("redis://h/", "connection reset", 3);
        assert_eq!(RedisEvent::of(&lost), Some(RedisEvent::ConnectionLost));
        assert_eq!(lost.error.code, ErrorCode::Unavailable);
        assert_eq!(lost.cause.as_deref(), Some("connection reset"));
        assert!(lost.error.message.contains("redis://h/: connection reset"));

        let back = connection_restored("redis://h/", 1, Duration::from_millis(1500), 2);
        assert_eq!(RedisEvent::of(&back), Some(RedisEvent::ConnectionRestored));
        assert!(back.error.message.contains("after 1.5 s (1 attempt)"));
        assert!(back.error.message.contains("resubscribed 2 topics"));
        let details = back.error.details.as_ref().unwrap();
        assert_eq!(details["downtimeMs"], 1500);

        let dropped = message_dropped("chat:room", &"why");
        assert_eq!(RedisEvent::of(&dropped), Some(RedisEvent::MessageDropped));

        let other = ErrorEvent::new(
            ErrorKind::PubSub,
            ErrorPayload::new(ErrorCode::Unavailable, "x")
                .with_details(json!({"backend": "nats", "event": "connection_lost"})),
        );
        assert_eq!(RedisEvent::of(&other), None);
        let mut wrong_kind = lost.clone();
        wrong_kind.kind = ErrorKind::Handler;
        assert_eq!(RedisEvent::of(&wrong_kind), None);
    }
}
