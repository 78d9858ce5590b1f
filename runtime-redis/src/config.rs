//! [`RedisConfig`]: where Redis is, how channels are named, and the fault-handling timings.

use std::fmt;
use std::time::Duration;

/// The environment variable [`RedisConfig::from_env`] reads.
pub const URL_ENV: &str = "TWINWIRE_REDIS_URL";

/// How a [`RedisPubSub`](crate::RedisPubSub) reaches Redis and names its channels.
///
/// ```
/// use std::time::Duration;
/// use twinwire_redis::RedisConfig;
///
/// let config = RedisConfig::new("redis://127.0.0.1:6379/")
///     .prefix("chat:")
///     .reconnect_backoff(Duration::from_millis(100), Duration::from_secs(5));
/// assert_eq!(config.channel_prefix(), "chat:");
/// ```
#[derive(Clone)]
pub struct RedisConfig {
    pub(crate) url: String,
    pub(crate) prefix: String,
    pub(crate) reconnect_min: Duration,
    pub(crate) reconnect_max: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) response_timeout: Duration,
    pub(crate) health_check_interval: Duration,
}

impl RedisConfig {
    /// Redis at `url`, e.g. `redis://127.0.0.1:6379/`, `redis://:password@host:6379/0` or
    /// `redis+unix:///run/redis.sock`; the database number does not matter to pub/sub.
    /// No channel prefix; the timings below at their defaults.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: String::new(),
            reconnect_min: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            response_timeout: Duration::from_secs(2),
            health_check_interval: Duration::from_secs(10),
        }
    }

    /// The configuration for the URL in the `TWINWIRE_REDIS_URL` environment variable, if it
    /// is set and not empty.
    pub fn from_env() -> Option<Self> {
        std::env::var(URL_ENV)
            .ok()
            .filter(|url| !url.trim().is_empty())
            .map(Self::new)
    }

    /// Puts `prefix` before every topic to name its Redis channel (`chat:` makes topic
    /// `room:1` the channel `chat:room:1`), so several apps can share one Redis without
    /// hearing each other. Every instance of one app must use the same prefix.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The wait between reconnection attempts after the connection to Redis is lost: from
    /// about `min`, doubling per failed attempt up to `max`, with random jitter. Defaults:
    /// 100 ms and 5 s.
    #[must_use]
    pub fn reconnect_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.reconnect_min = min;
        self.reconnect_max = max;
        self
    }

    /// How long opening a connection to Redis may take (default 2 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long Redis may take to answer a command (default 2 s). A publish that times out
    /// fails with `UNAVAILABLE`; a subscription or health check that times out counts as a
    /// lost connection.
    #[must_use]
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// How often an idle connection is checked with `PING` (default 10 s), so a connection
    /// that died silently (no reset from the network) is noticed and replaced.
    #[must_use]
    pub fn health_check_interval(mut self, interval: Duration) -> Self {
        self.health_check_interval = interval;
        self
    }

    /// The URL, with any password replaced by `***`: safe to log.
    pub fn redacted_url(&self) -> String {
        redact(&self.url)
    }

    /// The channel prefix.
    pub fn channel_prefix(&self) -> &str {
        &self.prefix
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.redacted_url())
            .field("prefix", &self.prefix)
            .field("reconnect_min", &self.reconnect_min)
            .field("reconnect_max", &self.reconnect_max)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("health_check_interval", &self.health_check_interval)
            .finish()
    }
}

/// `url` with the password of its user info (`user:password@`) replaced by `***`. Works on
/// text that is not a valid URL too, since that is exactly what an error message shows.
pub(crate) fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    // The last `@` ends the user info: a password may itself contain `@`.
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    let user_info = &rest[..at];
    let user = match user_info.find(':') {
        Some(colon) => &user_info[..colon],
        // `redis://secret@host` is read as a password by some clients: hide it as well.
        None => "",
    };
    format!("{}{user}:***{}", &url[..scheme_end], &rest[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        for (url, shown) in [
            ("redis://127.0.0.1:6379/", "redis://127.0.0.1:6379/"),
            ("redis://:s3cret@host:6379/0", "redis://:***@host:6379/0"),
            ("redis://app:s3cret@host", "redis://app:***@host"),
            ("redis://app:p@ss@host/1", "redis://app:***@host/1"),
            ("redis://s3cret@host", "redis://:***@host"),
            ("rediss://u:pw@host:1?x=a@b", "rediss://u:***@host:1?x=a@b"),
            (
                "redis+unix:///run/redis.sock",
                "redis+unix:///run/redis.sock",
            ),
            ("not a url", "not a url"),
            ("redis://:pa ss@ho st", "redis://:***@ho st"),
        ] {
            assert_eq!(redact(url), shown, "{url}");
        }
    }

    #[test]
    fn debug_output_hides_the_password() {
        let config = RedisConfig::new("redis://:hunter2@localhost/").prefix("app:");
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("redis://:***@localhost/"), "{debug}");
        assert_eq!(config.channel_prefix(), "app:");
    }
}
