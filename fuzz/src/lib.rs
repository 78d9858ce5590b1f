//! The bodies of twinwire's fuzz targets, kept in a library so that the seed corpus can also
//! be replayed by `cargo test` on a stable toolchain (see `fuzz/README.md`).
//!
//! Every target goes through public API only, as an application would:
//!
//! - [`envelope`]: one arbitrary frame sent to an in-process server, whose answer must be
//!   exactly the one the crate docs of `twinwire-runtime` promise for it (an independent
//!   model of those rules lives in [`oracle`]).
//! - [`dispatch`]: a few arbitrary frames (text or binary), then a marker request that must
//!   still be answered, or the documented close.
//! - [`chat_payloads`]: JSON text into every chat payload type; what decodes re-encodes to
//!   an equal value with the same validation verdict.
//! - [`manifest_codegen`]: `Manifest::from_json`, then every generator output.
//! - [`websocket`]: raw bytes after the upgrade (any framing, cut into writes anywhere),
//!   then a marker request; the server must keep serving, or close as RFC 6455 and
//!   `docs/wire-protocol.md` say, and send only valid server frames (a model of the
//!   framing rules lives in [`framing`]).
//!
//! The frame decoder is reached through the server rather than a public parse function:
//! that is the only way an application (or an attacker) reaches it, and it also fuzzes
//! routing, payload decoding, validation and the answers.

pub mod framing;
pub mod harness;
pub mod oracle;
pub mod protocol;
pub mod raw;
pub mod seeds;

mod targets;

pub use targets::{chat_payloads, dispatch, envelope, manifest_codegen, websocket};

#[cfg(test)]
mod tests;
