//! The WebSocket close codes the runtime sends and reports (RFC 6455, section 7.4.1), named
//! once: see `docs/wire-protocol.md`, "Close codes", for when each is used.
//!
//! A handler may close with any code through [`Context::close`](crate::Context::close);
//! applications usually pick one of these or one in the private range 4000–4999.

/// The connection did what it was for (the client's ordinary goodbye).
pub const NORMAL: u16 = 1000;
/// The server is shutting down.
pub const GOING_AWAY: u16 = 1001;
/// The client broke the WebSocket protocol.
pub const PROTOCOL_ERROR: u16 = 1002;
/// The peer's close frame carried no code. Never sent: it only appears in a
/// [`CloseInfo`](crate::CloseInfo).
pub const NO_STATUS: u16 = 1005;
/// The connection dropped without a close handshake (network loss, ping or write timeout).
/// Never sent: it only appears in a [`CloseInfo`](crate::CloseInfo).
pub const ABNORMAL: u16 = 1006;
/// A text (or binary) message was not valid UTF-8.
pub const INVALID_PAYLOAD: u16 = 1007;
/// The client broke the server's policy: it did not read what it was sent (its outbound
/// queue stayed full, or went past its hard bound), or it kept sending past its rate limit.
pub const POLICY_VIOLATION: u16 = 1008;
/// A message was larger than [`ServerConfig::max_frame_size`](crate::ServerConfig::max_frame_size).
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// The `authenticate` hook refused the upgrade: no valid credentials (a refusal in
/// [`RefusalMode::CloseFrame`](crate::RefusalMode::CloseFrame); HTTP 401 otherwise).
pub const UNAUTHENTICATED: u16 = 4401;
/// The `authenticate` hook refused the upgrade: not allowed (HTTP 403 otherwise).
pub const FORBIDDEN: u16 = 4403;
