//! Runtime tests over real sockets on 127.0.0.1, in one binary to keep link time down.

// Test helpers outside `#[test]` functions fail loudly by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_input;
mod cancel;
mod chat;
mod client;
mod common;
mod liveness;
mod meta;
mod pubsub;
mod rate_limit;
mod readme;
mod router;
mod rpc;
mod server_api;
mod telemetry;
mod upgrade;
