//! The view model of `protocol.ts`: what the builder in [`super`] computes and
//! [`write`](super::write) lays out.

use crate::schema::Node;
use crate::ts::defs::Defs;

/// The view model of `protocol.ts`: every name, type expression, doc comment and literal,
/// in the order the file declares them.
#[derive(Debug)]
pub(super) struct ProtocolFile<'d> {
    pub(super) defs: &'d Defs,
    /// The header, as line comments.
    pub(super) header: String,
    /// The protocol's TSDoc block, or empty.
    pub(super) protocol_doc: String,
    pub(super) protocol_ident: String,
    /// The protocol's name as a string literal.
    pub(super) protocol_name: String,
    /// The manifest's fingerprint as a string literal.
    pub(super) fingerprint: String,
    /// The client factory's name.
    pub(super) factory: String,
    pub(super) types: Vec<TypeView>,
    /// The message descriptors, server messages first.
    pub(super) messages: Vec<MessageView>,
    /// The descriptors in declaration order, for the protocol's `messages`.
    pub(super) protocol_messages: Vec<String>,
    pub(super) client_envelopes: Vec<EnvelopeView>,
    pub(super) server_envelopes: Vec<EnvelopeView>,
    pub(super) rpcs: Vec<RpcView>,
}

/// A named payload type.
#[derive(Debug)]
pub(super) struct TypeView {
    pub(super) ident: String,
    /// Its TSDoc block, or empty.
    pub(super) doc: String,
    pub(super) declaration: Declaration,
    /// Its schema, which its validator checks.
    pub(super) node: Node,
}

/// How a payload type is declared.
#[derive(Debug)]
pub(super) enum Declaration {
    /// `export interface Name { … }`, with this body (braces included).
    Interface(String),
    /// `export type Name =…;`, with this right-hand side (leading space or newline
    /// included).
    Alias(String),
}

/// A message descriptor.
#[derive(Debug)]
pub(super) struct MessageView {
    pub(super) ident: String,
    pub(super) doc: String,
    /// The wire type as a string literal.
    pub(super) type_literal: String,
    pub(super) direction: &'static str,
    /// The payload's type name; `None` for a message without payload.
    pub(super) payload_type: Option<String>,
    /// The typed meta's type name; `None` when the message declares none.
    pub(super) meta_type: Option<String>,
    /// For an RPC request, its response's descriptor.
    pub(super) response: Option<String>,
}

/// One variant of an envelope union.
#[derive(Debug)]
pub(super) struct EnvelopeView {
    pub(super) type_literal: String,
    pub(super) payload: Option<String>,
    /// The typed meta's type name, and whether it has a required key.
    pub(super) meta: Option<(String, bool)>,
}

/// One entry of the RPC map.
#[derive(Debug)]
pub(super) struct RpcView {
    pub(super) key: String,
    pub(super) request: String,
    pub(super) response: String,
}
