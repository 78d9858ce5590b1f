//! The chat server over real sockets on 127.0.0.1: the chat's rules through the runtime's
//! Rust client (`chat.rs`), the page over HTTP (`http.rs`).

// `allow-unwrap-in-tests` covers `#[test]` functions only, not the helpers they share.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chat;
mod common;
mod http;
