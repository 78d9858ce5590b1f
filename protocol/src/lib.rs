// Module layers, leaves first; a module uses only modules of earlier layers:
// 1. `validate`, `envelope`
// 2. `error`, `constraints`, `message` (each uses `validate`)
// 3. `manifest` (`message`, `envelope`, `validate`)
// 4. `__private` (`macro_support.rs`: `constraints`, `manifest`)
// This file is the facade: docs, `mod` and `pub use` only.

//! Declare a real-time protocol once, in Rust.
//!
//! An app's protocol crate marks its payload structs with [`message`] or [`rpc`], lists them
//! with their direction in [`protocol!`], and depends on this crate alone: the macros reach
//! serde and schemars through [`__private`], so the app never adds them to satisfy a macro.
//!
//! ```
//! /// Ask to join a room.
//! #[twinwire::message("JOIN_ROOM")]
//! pub struct JoinRoom {
//!     #[validate(length(min = 1, max = 64))]
//!     pub room_id: String,
//! }
//!
//! /// Someone joined a room.
//! #[twinwire::message("USER_JOINED")]
//! pub struct UserJoined {
//!     pub room_id: String,
//!     pub user_name: String,
//! }
//!
//! twinwire::protocol! {
//!     /// A tiny chat.
//!     pub Chat {
//!         client: [JoinRoom],
//!         server: [UserJoined],
//!     }
//! }
//!
//! use twinwire::{Message, Protocol, Validate};
//! assert_eq!(JoinRoom::WIRE_TYPE, "JOIN_ROOM");
//! let bad = JoinRoom { room_id: String::new() };
//! assert_eq!(bad.validate().unwrap_err().issues()[0].path, "/roomId");
//! let manifest = Chat::manifest().unwrap();
//! assert_eq!(manifest.messages.len(), 2);
//! ```

pub mod constraints;
pub mod envelope;
pub mod error;
pub mod manifest;
mod message;
pub mod validate;

pub use envelope::Meta;
pub use error::{ErrorCode, ErrorPayload};
pub use manifest::{Direction, Manifest, ManifestError, Protocol};
pub use message::{Message, MetaFields, Rpc, ServerMessage};
pub use validate::{Issue, Validate, ValidationError, Validator};

/// Marks a struct (or an internally tagged enum) as a protocol message with its wire `type`.
///
/// `#[twinwire::message("SEND_MESSAGE")]` derives `Serialize`, `Deserialize`, `JsonSchema`,
/// `Debug`, [`Validate`] and [`Message`]. Fields are camelCase on the wire unless the item
/// carries its own `#[serde(rename_all = ...)]`; unknown fields are rejected unless a field is
/// `#[serde(flatten)]` or the attribute says `allow_unknown_fields`. Without a name, the wire
/// `type` is the struct name in SCREAMING_SNAKE_CASE (`SendMessage` → `SEND_MESSAGE`), held to
/// the same reservations as a given one (`struct Error` is refused); generic types must name it.
///
/// `Debug` is derived unless the item derives it itself (in a `#[derive]` below this
/// attribute) or the attribute says `no_debug`, for a hand-written `impl Debug`.
///
/// Field constraints, checked by the generated `validate()` and emitted as JSON Schema
/// keywords: `#[validate(length(min = 1, max = 1000))]` (strings count Unicode scalar
/// values, arrays their items), `range(min = 0, max = 10)`, `pattern = "^[a-z]+$"`, `email`,
/// `url`, `uuid`, `non_empty`, and `skip` for a field whose type does not implement
/// [`Validate`].
///
/// `meta = T` declares typed meta: the fields of `T`, a `#[twinwire::data(meta)]` struct,
/// travel in the envelope's `meta` object beside `timestamp` and `correlationId`
/// (`#[twinwire::message("SEND_MESSAGE", meta = TraceMeta)]`). The server decodes and
/// validates them like the payload; a handler reads them with
/// `Context::typed_meta::<SendMessage>()` (or `RpcContext::request_meta()`).
pub use twinwire_macros::message;

/// Marks a struct as an RPC request bound to its response:
/// `#[twinwire::rpc("GET_MESSAGES", response = Messages)]`. The response must be a
/// [`message`]. Everything [`message`] accepts applies here too.
pub use twinwire_macros::rpc;

/// Marks a type used inside payloads (not a message itself): derives serde, schemars, `Debug`
/// and [`Validate`] with the same defaults, constraint attributes and `no_debug` as
/// [`message`]. A type from another crate cannot take it: see the README's "Types from other
/// crates".
///
/// `#[twinwire::data(meta)]` makes a struct with named fields usable as a message's typed
/// meta ([`MetaFields`]): its wire names may not be a standard or reserved meta key
/// (`timestamp`, `correlationId`, `clientId`, `receivedAt`), and since the envelope's `meta`
/// object is shared with those keys and with untyped extras, it ignores keys it does not
/// declare instead of rejecting them.
pub use twinwire_macros::data;

/// Declares a protocol: its messages by direction and its RPCs.
///
/// ```ignore
/// twinwire::protocol! {
///     /// The chat protocol.
///     pub Chat {
///         client: [JoinRoom, SendMessage],
///         server: [UserJoined, ChatMessage],
///         rpc: [GetMessages],
///     }
/// }
/// ```
///
/// Defines a unit struct `Chat` implementing [`Protocol`], and implements [`ServerMessage`]
/// for every `server:` entry, which is what lets the runtime send them. Two messages with the
/// same wire `type`, or one message listed twice, are compile errors. A type can be a
/// `server:` entry of only one protocol per crate (the marker is implemented once), and must
/// be defined in the crate that declares the protocol.
pub use twinwire_macros::protocol;

/// Items the macros' generated code refers to. Not a public API: it may change in any
/// release.
#[doc(hidden)]
#[path = "macro_support.rs"]
pub mod __private;
