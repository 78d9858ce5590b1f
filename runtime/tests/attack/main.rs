//! The attack suite: what an abusive client on the loopback did to the runtime (issue 15),
//! replayed against it. Every test is bounded in connections, frames and time, and talks
//! to 127.0.0.1 only. The chat-specific attacks (a burst into a room, room flipping) are in
//! `examples/chat/server/tests/attack.rs`.

// Test helpers outside `#[test]` functions fail loudly by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backpressure;
mod common;
mod echo_bound;
mod handshake;
mod nodelay;
mod oversize;
mod rate;
