//! Helpers shared by twinwire's tests; a dev-dependency only, never published.
//!
//! - [`Events`] records what a router's `on_error` hook reports.
//! - [`RedisServer`] (feature `redis`) runs a real `redis-server` per test.
//! - [`require_tool`], [`require_npm_tooling`] and [`skip`] let a test that needs a tool
//!   besides Rust (Node and the npm packages, `redis-server`, ...) skip with a printed reason
//!   on a machine without it, so `cargo test --workspace` passes with only Rust installed.
//!   With `TWINWIRE_REQUIRE_ALL=1` (set by `scripts/test.sh`) every such skip fails the test
//!   instead, so the full test command never skips silently.

mod events;
#[cfg(feature = "redis")]
mod redis_server;
mod tools;

use std::time::Duration;

pub use events::Events;
#[cfg(feature = "redis")]
pub use redis_server::RedisServer;
pub use tools::{NpmTooling, REQUIRE_ALL, require_npm_tooling, require_tool, skip};

/// How long a test waits for something that should happen promptly: a bound against hangs,
/// never an assertion about speed.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// The pause between two checks of a condition being waited for.
const POLL: Duration = Duration::from_millis(20);

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
