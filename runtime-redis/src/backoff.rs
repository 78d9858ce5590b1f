//! Delays between reconnection attempts: exponential, capped, with jitter so instances that
//! lost Redis together do not all knock at the same instant.

use std::time::Duration;

/// The delays of one outage's reconnection attempts.
#[derive(Debug)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// Delays from about `min` up to `max` (`min` is raised to `max` if larger).
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        Self {
            min: min.min(max),
            max,
            attempt: 0,
        }
    }

    /// The wait before the next attempt.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = delay(self.min, self.max, self.attempt, jitter());
        self.attempt = self.attempt.saturating_add(1);
        delay
    }
}

/// The delay before attempt `attempt` (from 0): `min * 2^attempt` capped at `max`, of which
/// the upper half is scaled by `jitter` (0 to 1), so it lies between half and all of that.
fn delay(min: Duration, max: Duration, attempt: u32, jitter: f64) -> Duration {
    let base = min
        .checked_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX))
        .unwrap_or(max)
        .min(max);
    let half = base / 2;
    half + half.mul_f64(jitter.clamp(0.0, 1.0))
}

/// A uniform value in `[0, 1)`; 0.5 when the system has no randomness to give.
fn jitter() -> f64 {
    match getrandom::u64() {
        // 53 random bits fill an f64's mantissa exactly.
        Ok(bits) => (bits >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn delays_double_up_to_the_cap() {
        let (min, max) = (100 * MS, 1000 * MS);
        let full: Vec<_> = (0..6).map(|n| delay(min, max, n, 1.0)).collect();
        assert_eq!(full, [100, 200, 400, 800, 1000, 1000].map(|ms| ms * MS));
        let low: Vec<_> = (0..6).map(|n| delay(min, max, n, 0.0)).collect();
        assert_eq!(low, [50, 100, 200, 400, 500, 500].map(|ms| ms * MS));
        // Far attempts neither overflow nor exceed the cap.
        assert_eq!(delay(min, max, u32::MAX, 1.0), max);
        assert_eq!(delay(Duration::MAX, max, 3, 1.0), max);
    }

    #[test]
    fn jittered_delays_stay_in_bounds() {
        let mut backoff = Backoff::new(10 * MS, 80 * MS);
        for attempt in 0..20u32 {
            let cap = (10 * MS * 2u32.pow(attempt.min(3))).min(80 * MS);
            let d = backoff.next_delay();
            assert!(
                d >= cap / 2 && d <= cap,
                "attempt {attempt}: {d:?} vs {cap:?}"
            );
        }
        let j = jitter();
        assert!((0.0..1.0).contains(&j));
    }

    #[test]
    fn a_minimum_above_the_maximum_is_capped() {
        let mut backoff = Backoff::new(500 * MS, 100 * MS);
        assert!(backoff.next_delay() <= 100 * MS);
    }
}
