//! RFC 6455 conformance of the server, modelled on the Autobahn testsuite's case groups
//! (framing, ping/pong, reserved bits and opcodes, fragmentation, UTF-8, close handling,
//! limits) and run with a client written from the RFC (`wire`), which can send what a
//! WebSocket library will not. It is the reference any WebSocket layer of the server must
//! pass. Every test talks to 127.0.0.1 only and bounds every wait.

// Test helpers outside `#[test]` functions fail loudly by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod client_checks;
mod close;
mod common;
mod control;
mod fragmentation;
mod framing;
mod oversize;
mod utf8;
mod wire;
