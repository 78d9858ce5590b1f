//! Summaries over runs (median, min, max) and latency percentiles.

use std::fmt;

/// The median, minimum and maximum of a figure over several runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// The middle value (the mean of the two middle ones for an even count).
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
    /// How many runs it summarises.
    pub runs: usize,
}

impl Summary {
    /// Summarises `values`; `None` when there are none (or any is NaN).
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() || values.iter().any(|v| v.is_nan()) {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Some(Self {
            median,
            min: sorted[0],
            max: sorted[n - 1],
            runs: n,
        })
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}–{})",
            number(self.median),
            number(self.min),
            number(self.max)
        )
    }
}

/// A figure with about three significant digits and thousands separators: `48,200`,
/// `312`, `41.7`, `3.05`, `0.412`.
pub fn number(value: f64) -> String {
    let abs = value.abs();
    if abs >= 1000.0 {
        let rounded = if abs >= 100_000.0 {
            (value / 1000.0).round() * 1000.0
        } else {
            (value / 100.0).round() * 100.0
        };
        group_thousands(rounded as i64)
    } else if abs >= 100.0 {
        format!("{value:.0}")
    } else if abs >= 10.0 {
        format!("{value:.1}")
    } else if abs >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// A count with thousands separators: `10,000`.
pub fn count(value: usize) -> String {
    group_thousands(i64::try_from(value).unwrap_or(i64::MAX))
}

fn group_thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if value < 0 {
        out.insert(0, '-');
    }
    out
}

/// The `q`-quantile (0 ≤ q ≤ 1) of `sorted` by the nearest-rank method; `None` when empty.
pub fn percentile(sorted: &[u64], q: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_odd_and_even_counts() {
        let s = Summary::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.runs), (2.0, 1.0, 3.0, 3));
        let s = Summary::of(&[4.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!(s.median, 2.5);
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<u64> = (1..=1000).collect();
        assert_eq!(percentile(&v, 0.5), Some(500));
        assert_eq!(percentile(&v, 0.99), Some(990));
        assert_eq!(percentile(&v, 0.999), Some(999));
        assert_eq!(percentile(&v, 1.0), Some(1000));
        assert_eq!(percentile(&v, 0.0), Some(1));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn numbers_keep_about_three_digits() {
        assert_eq!(number(48_213.0), "48,200");
        assert_eq!(number(1_234_567.0), "1,235,000");
        assert_eq!(number(312.4), "312");
        assert_eq!(number(41.74), "41.7");
        assert_eq!(number(3.046), "3.05");
        assert_eq!(number(0.4123), "0.412");
        assert_eq!(number(-2500.0), "-2,500");
        assert_eq!(count(8), "8");
        assert_eq!(count(10_000), "10,000");
    }
}
