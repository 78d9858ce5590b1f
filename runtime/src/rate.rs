//! The inbound rate limit of a connection: [`RateLimit`] configures it, [`Limiter`] applies
//! it to each message as it is read.

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use tokio::time::Instant;

/// How many messages one client may send: `per_second` on average, and up to `burst` at
/// once after a quiet spell (a token bucket). For [`ServerConfig::rate_limit`].
///
/// [`ServerConfig::rate_limit`]: crate::ServerConfig::rate_limit
///
/// ```
/// use twinwire_runtime::RateLimit;
///
/// // 20 messages a second, with room for a burst of 50 (e.g. after a reconnect).
/// let limit = RateLimit::per_second(20).burst(50);
/// assert_eq!((limit.rate(), limit.max_burst()), (20, 50));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    per_second: NonZeroU32,
    burst: NonZeroU32,
}

impl RateLimit {
    /// `messages` per second on average (at least 1), with bursts of one second's worth.
    pub fn per_second(messages: u32) -> Self {
        let per_second = NonZeroU32::new(messages).unwrap_or(NonZeroU32::MIN);
        Self {
            per_second,
            burst: per_second,
        }
    }

    /// How many messages may arrive at once after a quiet spell (at least 1).
    #[must_use]
    pub fn burst(mut self, messages: u32) -> Self {
        self.burst = NonZeroU32::new(messages).unwrap_or(NonZeroU32::MIN);
        self
    }

    /// The sustained rate, in messages per second.
    pub fn rate(&self) -> u32 {
        self.per_second.get()
    }

    /// The largest burst, in messages.
    pub fn max_burst(&self) -> u32 {
        self.burst.get()
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} messages per second, bursts of {}",
            self.per_second, self.burst
        )
    }
}

/// A [`RateLimit`] applied to one connection, as a generic cell rate algorithm: one
/// timestamp instead of a token count, so no floating point and no refill step.
#[derive(Debug)]
pub(crate) struct Limiter {
    /// The time one message costs.
    interval: Duration,
    /// How far ahead of now the bucket may be booked: `burst - 1` messages.
    tolerance: Duration,
    /// When the bucket would be empty again if no more messages came (the theoretical
    /// arrival time of the next message).
    booked_until: Instant,
}

impl Limiter {
    pub(crate) fn new(limit: RateLimit, now: Instant) -> Self {
        let interval = Duration::from_secs(1) / limit.per_second.get();
        let tolerance = interval
            .checked_mul(limit.burst.get() - 1)
            .unwrap_or(Duration::MAX);
        Self {
            interval,
            tolerance,
            booked_until: now,
        }
    }

    /// Counts a message arriving at `now`; `false` if it exceeds the limit (it is then not
    /// counted).
    pub(crate) fn admit(&mut self, now: Instant) -> bool {
        let booked = self.booked_until.max(now);
        if booked.saturating_duration_since(now) > self.tolerance {
            return false;
        }
        // Saturates rather than overflow `Instant` (a huge burst books far ahead).
        self.booked_until = booked.checked_add(self.interval).unwrap_or(booked);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(limiter: &mut Limiter, now: Instant, tries: u32) -> u32 {
        (0..tries).filter(|_| limiter.admit(now)).count() as u32
    }

    #[test]
    fn a_burst_passes_then_the_sustained_rate() {
        let start = Instant::now();
        let mut limiter = Limiter::new(RateLimit::per_second(10).burst(5), start);
        assert_eq!(admitted(&mut limiter, start, 20), 5);
        // One message's worth of time (100 ms) buys one message, not more.
        let later = start + Duration::from_millis(100);
        assert_eq!(admitted(&mut limiter, later, 20), 1);
        // A long quiet spell refills the bucket to the burst, not beyond.
        let much_later = start + Duration::from_secs(60);
        assert_eq!(admitted(&mut limiter, much_later, 20), 5);
    }

    #[test]
    fn a_steady_client_at_the_rate_is_never_refused() {
        let start = Instant::now();
        let mut limiter = Limiter::new(RateLimit::per_second(50), start);
        for i in 0..1_000 {
            assert!(
                limiter.admit(start + Duration::from_millis(20) * i),
                "message {i}"
            );
        }
    }

    #[test]
    fn zero_means_one_and_huge_values_do_not_overflow() {
        let limit = RateLimit::per_second(0).burst(0);
        assert_eq!((limit.rate(), limit.max_burst()), (1, 1));
        let now = Instant::now();
        let mut limiter = Limiter::new(RateLimit::per_second(u32::MAX).burst(u32::MAX), now);
        assert_eq!(admitted(&mut limiter, now, 10_000), 10_000);
        let mut limiter = Limiter::new(RateLimit::per_second(1).burst(u32::MAX), now);
        assert_eq!(admitted(&mut limiter, now, 10_000), 10_000);
    }
}
