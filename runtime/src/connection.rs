//! What identifies a connection ([`ConnectionId`]) and how it ended ([`CloseInfo`]). The
//! connection's state is in `conn_state`, the task serving it in `driver`.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::close;

/// Identifies a connection within this process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(u64);

impl ConnectionId {
    pub(crate) fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The id as a number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn-{}", self.0)
    }
}

/// How a connection ended: the close code and reason.
///
/// The code is the client's when it closed (1005 if its close frame had none), the
/// server's when the server closed (1001 shutdown, 1002 protocol error, 1007 invalid
/// UTF-8, 1008 slow consumer or rate limit, 1009 frame too big, or what a handler passed to
/// [`Context::close`](crate::Context::close)), and 1006 when the connection dropped without
/// a close handshake (network loss, ping timeout, write timeout). The [`close`]
/// module names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseInfo {
    /// The WebSocket close code.
    pub code: u16,
    /// The close reason.
    pub reason: String,
}

impl CloseInfo {
    /// A connection that dropped without a close handshake (1006).
    pub(crate) fn abnormal(reason: impl Into<String>) -> Self {
        Self {
            code: close::ABNORMAL,
            reason: reason.into(),
        }
    }

    /// The peer's close frame (code and reason), or 1005 when it had none.
    pub(crate) fn from_frame(frame: Option<(u16, String)>) -> Self {
        let (code, reason) = frame.unwrap_or((close::NO_STATUS, String::new()));
        Self { code, reason }
    }
}
