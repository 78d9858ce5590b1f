//! The inbound rate limit of a connection: [`RateLimit`] configures it, [`Limiter`] applies
//! it to each message as it is read.

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use tokio::time::Instant;

/// How many messages one client may send: `per_second` on average, and up to `burst` at
/// once after a quiet spell (a token bucket). For [`ServerConfig::rate_limit`].
///
/// A message past the budget is not handled: it is answered `RESOURCE_EXHAUSTED` with
/// `retryAfterMs`, and the connection keeps serving. Only a client that keeps on sending
/// past it, with `close_after` refusals within its window (by default as many refusals
/// as the burst, within 10 seconds), is closed with 1008.
///
/// [`ServerConfig::rate_limit`]: crate::ServerConfig::rate_limit
///
/// ```
/// use std::time::Duration;
/// use twinwire_runtime::RateLimit;
///
/// // 20 messages a second, with room for a burst of 50 (e.g. after a reconnect); closed
/// // after 100 refused messages within a minute.
/// let limit = RateLimit::per_second(20)
///     .burst(50)
///     .close_after(100, Duration::from_secs(60));
/// assert_eq!((limit.rate(), limit.max_burst()), (20, 50));
/// // The default: generous for any interactive client.
/// let default = RateLimit::default();
/// assert_eq!((default.rate(), default.max_burst()), (100, 2_000));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    per_second: NonZeroU32,
    burst: NonZeroU32,
    /// Refusals that close the connection, and the window they are counted in; `None`: as
    /// many as the burst, within [`DEFAULT_REFUSAL_WINDOW`].
    close_after: Option<(NonZeroU32, Duration)>,
}

/// The window refusals are counted in unless [`RateLimit::close_after`] sets another.
const DEFAULT_REFUSAL_WINDOW: Duration = Duration::from_secs(10);

impl Default for RateLimit {
    /// 100 messages a second, bursts of 2,000: far above what a person's client sends (a
    /// chat client sends a few a second; the TypeScript client replays at most 1,000
    /// queued frames after a reconnect), far below what one connection can make a server
    /// do.
    fn default() -> Self {
        Self::per_second(100).burst(2_000)
    }
}

impl RateLimit {
    /// `messages` per second on average (at least 1), with bursts of one second's worth.
    pub fn per_second(messages: u32) -> Self {
        let per_second = NonZeroU32::new(messages).unwrap_or(NonZeroU32::MIN);
        Self {
            per_second,
            burst: per_second,
            close_after: None,
        }
    }

    /// How many messages may arrive at once after a quiet spell (at least 1).
    #[must_use]
    pub fn burst(mut self, messages: u32) -> Self {
        self.burst = NonZeroU32::new(messages).unwrap_or(NonZeroU32::MIN);
        self
    }

    /// Closes the connection (1008) at the refusal after `refusals` refused messages
    /// (at least 1) counted since the first refusal of a window of length `within`.
    /// Default: as many refusals as the burst, within 10 seconds.
    #[must_use]
    pub fn close_after(mut self, refusals: u32, within: Duration) -> Self {
        let refusals = NonZeroU32::new(refusals).unwrap_or(NonZeroU32::MIN);
        self.close_after = Some((refusals, within));
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

    /// How many refusals within which window close the connection.
    pub fn refusals_before_close(&self) -> (u32, Duration) {
        self.close_after
            .map_or((self.burst.get(), DEFAULT_REFUSAL_WINDOW), |(n, window)| {
                (n.get(), window)
            })
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

/// What to do with a message, for [`Limiter::check`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Within the budget: handle it.
    Admit,
    /// Past the budget: answer it with when the next message would be admitted. `first`
    /// for the first refusal of a window.
    Refuse { retry_after: Duration, first: bool },
    /// Past the budget once too often: close the connection.
    Close,
}

/// A [`RateLimit`] applied to one connection, as a generic cell rate algorithm: one
/// timestamp instead of a token count, so no floating point and no refill step.
#[derive(Debug)]
pub(crate) struct Limiter {
    /// When the bucket would be empty again if no more messages came (the theoretical
    /// arrival time of the next message).
    booked_until: Instant,
    /// When the current window of refusals began, and how many it holds.
    refusals_since: Option<Instant>,
    refusals: u32,
}

/// A [`RateLimit`] as the limiter applies it, worked out on each check rather than kept per
/// connection: an idle connection pays for its state only.
struct Budget {
    /// The time one message costs.
    interval: Duration,
    /// How far ahead of now the bucket may be booked: `burst - 1` messages.
    tolerance: Duration,
    /// Refusals that close the connection, and the window they are counted in.
    max_refusals: u32,
    refusal_window: Duration,
}

impl Budget {
    fn of(limit: &RateLimit) -> Self {
        let interval = Duration::from_secs(1) / limit.per_second.get();
        let tolerance = interval
            .checked_mul(limit.burst.get() - 1)
            .unwrap_or(Duration::MAX);
        let (max_refusals, refusal_window) = limit.refusals_before_close();
        Self {
            interval,
            tolerance,
            max_refusals,
            refusal_window,
        }
    }
}

impl Limiter {
    pub(crate) fn new(now: Instant) -> Self {
        Self {
            booked_until: now,
            refusals_since: None,
            refusals: 0,
        }
    }

    /// Counts a message arriving at `now` against `limit`. A refused message is not counted
    /// against the budget, only as a refusal.
    pub(crate) fn check(&mut self, limit: &RateLimit, now: Instant) -> Verdict {
        let budget = Budget::of(limit);
        let booked = self.booked_until.max(now);
        let ahead = booked.saturating_duration_since(now);
        if ahead <= budget.tolerance {
            // Saturates rather than overflow `Instant` (a huge burst books far ahead).
            self.booked_until = booked.checked_add(budget.interval).unwrap_or(booked);
            return Verdict::Admit;
        }
        let window_over = self
            .refusals_since
            .is_none_or(|since| now.saturating_duration_since(since) >= budget.refusal_window);
        if window_over {
            self.refusals_since = Some(now);
            self.refusals = 0;
        }
        self.refusals = self.refusals.saturating_add(1);
        if self.refusals > budget.max_refusals {
            return Verdict::Close;
        }
        Verdict::Refuse {
            retry_after: ahead - budget.tolerance,
            first: self.refusals == 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A limiter with its limit, as the driver holds them (the limit in the config).
    struct Bucket {
        limit: RateLimit,
        state: Limiter,
    }

    impl Bucket {
        fn check(&mut self, now: Instant) -> Verdict {
            self.state.check(&self.limit, now)
        }
    }

    fn bucket(limit: RateLimit, now: Instant) -> Bucket {
        Bucket {
            limit,
            state: Limiter::new(now),
        }
    }

    fn admitted(limiter: &mut Bucket, now: Instant, tries: u32) -> u32 {
        (0..tries)
            .filter(|_| limiter.check(now) == Verdict::Admit)
            .count() as u32
    }

    fn never_closing(limit: RateLimit) -> RateLimit {
        limit.close_after(u32::MAX, Duration::from_secs(1))
    }

    #[test]
    fn a_burst_passes_then_the_sustained_rate() {
        let start = Instant::now();
        let mut limiter = bucket(never_closing(RateLimit::per_second(10).burst(5)), start);
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
        let mut limiter = bucket(RateLimit::per_second(50), start);
        for i in 0..1_000 {
            assert_eq!(
                limiter.check(start + Duration::from_millis(20) * i),
                Verdict::Admit,
                "message {i}"
            );
        }
    }

    #[test]
    fn a_refusal_says_when_the_next_message_is_admitted() {
        let start = Instant::now();
        let mut limiter = bucket(RateLimit::per_second(10).burst(2), start);
        assert_eq!(admitted(&mut limiter, start, 2), 2);
        let at = start + Duration::from_millis(30);
        let Verdict::Refuse { retry_after, first } = limiter.check(at) else {
            panic!("the third message is refused");
        };
        assert!(first);
        assert_eq!(retry_after, Duration::from_millis(70));
        // Right then, it is admitted; a moment before, it is not.
        assert!(matches!(
            limiter.check(at + retry_after - Duration::from_millis(1)),
            Verdict::Refuse { first: false, .. }
        ));
        assert_eq!(limiter.check(at + retry_after), Verdict::Admit);
    }

    #[test]
    fn too_many_refusals_within_the_window_close() {
        let start = Instant::now();
        let limit = RateLimit::per_second(1)
            .burst(1)
            .close_after(3, Duration::from_secs(10));
        let mut limiter = bucket(limit, start);
        assert_eq!(limiter.check(start), Verdict::Admit);
        for _ in 0..3 {
            assert!(matches!(limiter.check(start), Verdict::Refuse { .. }));
        }
        assert_eq!(limiter.check(start), Verdict::Close);

        // A window later the count starts afresh.
        let mut limiter = bucket(limit, start);
        assert_eq!(limiter.check(start), Verdict::Admit);
        for _ in 0..3 {
            assert!(matches!(limiter.check(start), Verdict::Refuse { .. }));
        }
        let later = start + Duration::from_secs(11);
        assert_eq!(limiter.check(later), Verdict::Admit);
        for i in 0..3 {
            assert!(
                matches!(limiter.check(later), Verdict::Refuse { first, .. } if first == (i == 0))
            );
        }
        assert_eq!(limiter.check(later), Verdict::Close);
    }

    #[test]
    fn the_default_closes_after_as_many_refusals_as_the_burst() {
        let limit = RateLimit::per_second(5).burst(7);
        assert_eq!(limit.refusals_before_close(), (7, Duration::from_secs(10)));
        assert_eq!(
            RateLimit::default().refusals_before_close(),
            (2_000, Duration::from_secs(10))
        );
    }

    #[test]
    fn zero_means_one_and_huge_values_do_not_overflow() {
        let limit = RateLimit::per_second(0).burst(0);
        assert_eq!((limit.rate(), limit.max_burst()), (1, 1));
        let now = Instant::now();
        let mut limiter = bucket(RateLimit::per_second(u32::MAX).burst(u32::MAX), now);
        assert_eq!(admitted(&mut limiter, now, 10_000), 10_000);
        let mut limiter = bucket(RateLimit::per_second(1).burst(u32::MAX), now);
        assert_eq!(admitted(&mut limiter, now, 10_000), 10_000);
    }
}
