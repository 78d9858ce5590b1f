//! [`ConnectError`]: why [`RedisPubSub::connect`](crate::RedisPubSub::connect) failed.

use std::fmt;

/// Why [`RedisPubSub::connect`](crate::RedisPubSub::connect) failed. Messages show the URL
/// with its password hidden.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is not one this build can use.
    InvalidUrl {
        /// The URL, password hidden.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Redis could not be reached, or it refused the connection (e.g. a wrong password).
    Unreachable {
        /// The URL, password hidden.
        url: String,
        /// The connection error.
        reason: String,
    },
    /// The operating system gave no random bytes for the instance id.
    NoRandomness(String),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl { url, reason } => write!(
                f,
                "invalid Redis URL `{url}`: {reason}; expected \
                 redis://[user:password@]host[:port][/db] or redis+unix:///path/to/socket"
            ),
            Self::Unreachable { url, reason } => write!(
                f,
                "cannot connect to Redis at {url}: {reason}; check that redis-server is \
                 running there and that the URL's host, port and password are right"
            ),
            Self::NoRandomness(reason) => write!(
                f,
                "cannot make a random instance id (the system's random source failed): {reason}"
            ),
        }
    }
}

impl std::error::Error for ConnectError {}
