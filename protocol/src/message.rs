//! The traits the macros implement: [`Message`], [`Rpc`] and [`MetaFields`] (the attributes),
//! and [`ServerMessage`] (`protocol!`, for its `server:` entries).

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::validate::Validate;

/// A protocol message: a payload type with its wire `type`.
///
/// Implemented by `#[twinwire::message]` and `#[twinwire::rpc]`; implementing it by hand is
/// possible but the macros also check the name and derive the schema consistently.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a twinwire message",
    label = "not a message",
    note = "mark the type with `#[twinwire::message(\"TYPE\")]`"
)]
pub trait Message:
    Serialize + DeserializeOwned + schemars::JsonSchema + Validate + Send + Sync + 'static
{
    /// The wire `type`, e.g. `"SEND_MESSAGE"`.
    const WIRE_TYPE: &'static str;
    /// Whether frames of this message carry a `payload` key (a unit struct carries none).
    const HAS_PAYLOAD: bool;
    /// The doc comment of the type, verbatim (empty when undocumented).
    const DOC: &'static str;
    /// The Rust name of the type, as declared.
    const RUST_NAME: &'static str;
    /// The absolute path of the type (`crate_name::module::Type`), for generated Rust code.
    const RUST_PATH: &'static str;
    /// The typed meta its frames carry beside `timestamp` and `correlationId`: the type named
    /// by `#[message("TYPE", meta = T)]`, or `()` for a message that declares none.
    type Meta: MetaFields;
}

/// A type that can be a message's typed meta: the keys it declares sit in the envelope's
/// `meta` object beside the standard ones, and are checked like a payload.
///
/// Implemented by `#[twinwire::data(meta)]` structs, which the macro checks for names the
/// wire protocol reserves (see [`crate::envelope::UNDECLARABLE_META_KEYS`]), and by `()`,
/// which declares nothing.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a message's meta",
    label = "not a meta type",
    note = "declare it with `#[twinwire::data(meta)]`: a struct with named fields, none of them a standard or reserved meta key"
)]
pub trait MetaFields:
    Serialize + DeserializeOwned + schemars::JsonSchema + Validate + Send + Sync + 'static
{
    /// Whether the type declares meta fields; `false` only for `()`.
    const DECLARED: bool;
}

impl MetaFields for () {
    const DECLARED: bool = false;
}

/// An RPC request bound to the message its handler answers with.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a twinwire RPC request",
    label = "not an RPC",
    note = "mark the type with `#[twinwire::rpc(\"TYPE\", response = Response)]`"
)]
pub trait Rpc: Message {
    /// The message a successful call answers with.
    type Response: Message;
}

/// A message the server sends: listed under `server:` in a `protocol!`, which implements this
/// marker for it.
///
/// The runtime's `send`, `publish` and their variants accept only these, so a server that
/// tries to send a client → server message does not compile. An RPC's response is sent by
/// returning it from the RPC's handler and needs no marker; list it under `server:` as well to
/// send it on its own. A program that declares no protocol (a test, say) may implement the
/// marker by hand: `impl twinwire::ServerMessage for Pong {}`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a server→client message; the server can only send messages declared server→client",
    label = "not declared server→client",
    note = "list `{Self}` under `server:` in the `protocol!` (a client→server message is for the client to send and the server to handle)",
    note = "an RPC's response is sent by returning it from the RPC's handler; to send it on its own as well, list it under `server:` too"
)]
pub trait ServerMessage: Message {}
