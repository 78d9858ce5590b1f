//! Waiting for something that should happen promptly, with a bound against hangs.

use std::time::Duration;

/// How long a test waits for something that should happen promptly: a bound against hangs,
/// never an assertion about speed.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// The pause between two checks of a condition being waited for.
pub(crate) const POLL: Duration = Duration::from_millis(20);

/// Waits until `check` returns `Some`, checking every few milliseconds; panics with `what`
/// after [`PATIENCE`]. Uses tokio's clock, so it also works in tests with paused time.
pub async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting: {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}
