//! `protocol.ts`: the view model (every TypeScript name, type expression and literal,
//! computed from the manifest) and the writer that lays it out.
//!
//! Unlike `router.rs`, this file is written by Rust code rather than a template: most of
//! it is validator code whose shape follows the schemas recursively (see ARCHITECTURE.md,
//! "Code generation"). [`write`](mod@write) holds the whole layout, [`validate`] the validator bodies
//! and [`helpers`] the functions they call.

mod helpers;
mod names;
mod types;
mod validate;
mod write;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use twinwire::{Direction, Manifest};

use crate::error::Error;
use crate::schema::{Definitions, Kind, Node};
use names::{doc_comment, identifier, line_comment, property_key, string_literal};
use types::TypePrinter;

/// The manifest's definitions, parsed, with their TypeScript names.
#[derive(Debug)]
pub(crate) struct Defs {
    schema: Definitions,
    idents: BTreeMap<String, String>,
}

impl Defs {
    /// Parses every definition and names it.
    ///
    /// # Errors
    /// [`Error::Schema`] for a definition that is not a readable schema, [`Error::Names`]
    /// when two definitions get the same TypeScript name.
    pub(crate) fn new(defs: &BTreeMap<String, Value>) -> Result<Self, Error> {
        let schema = Definitions::parse(defs)?;
        let mut idents = BTreeMap::new();
        let mut taken: BTreeMap<String, &String> = BTreeMap::new();
        for (name, _) in schema.iter() {
            let ident = identifier(name);
            if let Some(first) = taken.insert(ident.clone(), name) {
                return Err(Error::Names(format!(
                    "the schema definitions `{first}` and `{name}` both become the TypeScript name `{ident}`; \
                     rename one with `#[serde(rename = \"...\")]`"
                )));
            }
            idents.insert(name.clone(), ident);
        }
        Ok(Self { schema, idents })
    }

    /// The TypeScript name of definition `name`.
    pub(crate) fn ident(&self, name: &str) -> Option<&str> {
        self.idents.get(name).map(String::as_str)
    }

    /// The parsed definitions.
    pub(crate) fn schema(&self) -> &Definitions {
        &self.schema
    }
}

/// The generated `protocol.ts` for `manifest`; `header` is its first comment line.
///
/// # Errors
/// [`Error::Schema`] for a schema it cannot read, [`Error::Names`] when generated names
/// collide.
pub(crate) fn protocol_ts(manifest: &Manifest, header: &str) -> Result<String, Error> {
    let defs = Defs::new(&manifest.defs)?;
    let file = ProtocolFile::new(manifest, header, &defs)?;
    Ok(file.write())
}

/// The view model of `protocol.ts`: every name, type expression, doc comment and literal,
/// in the order the file declares them.
#[derive(Debug)]
struct ProtocolFile<'d> {
    defs: &'d Defs,
    /// The header, as line comments.
    header: String,
    /// The protocol's TSDoc block, or empty.
    protocol_doc: String,
    protocol_ident: String,
    /// The protocol's name as a string literal.
    protocol_name: String,
    /// The manifest's fingerprint as a string literal.
    fingerprint: String,
    /// The client factory's name.
    factory: String,
    types: Vec<TypeView>,
    /// The message descriptors, server messages first.
    messages: Vec<MessageView>,
    /// The descriptors in declaration order, for the protocol's `messages`.
    protocol_messages: Vec<String>,
    client_envelopes: Vec<EnvelopeView>,
    server_envelopes: Vec<EnvelopeView>,
    rpcs: Vec<RpcView>,
}

/// A named payload type.
#[derive(Debug)]
struct TypeView {
    ident: String,
    /// Its TSDoc block, or empty.
    doc: String,
    declaration: Declaration,
    /// Its schema, which its validator checks.
    node: Node,
}

/// How a payload type is declared.
#[derive(Debug)]
enum Declaration {
    /// `export interface Name { … }`, with this body (braces included).
    Interface(String),
    /// `export type Name =…;`, with this right-hand side (leading space or newline
    /// included).
    Alias(String),
}

/// A message descriptor.
#[derive(Debug)]
struct MessageView {
    ident: String,
    doc: String,
    /// The wire type as a string literal.
    type_literal: String,
    direction: &'static str,
    /// The payload's type name; `None` for a message without payload.
    payload_type: Option<String>,
    /// For an RPC request, its response's descriptor.
    response: Option<String>,
}

/// One variant of an envelope union.
#[derive(Debug)]
struct EnvelopeView {
    type_literal: String,
    payload: Option<String>,
}

/// One entry of the RPC map.
#[derive(Debug)]
struct RpcView {
    key: String,
    request: String,
    response: String,
}

/// A message's TypeScript names: its descriptor, and the named type of its payload.
struct MessageNames {
    ident: String,
    payload_type: Option<String>,
}

impl<'d> ProtocolFile<'d> {
    fn new(manifest: &Manifest, header: &str, defs: &'d Defs) -> Result<Self, Error> {
        let printer = TypePrinter::new(defs);
        let mut types = Vec::new();
        let mut type_names: BTreeSet<String> = BTreeSet::new();
        for (name, node) in defs.schema().iter() {
            let ident = defs.ident(name).unwrap_or_default().to_owned();
            types.push(type_view(&ident, node.clone(), &printer));
            type_names.insert(ident);
        }

        let (names, synthetic) = message_names(manifest, defs, &printer, &mut type_names)?;
        types.extend(synthetic);

        let messages = descriptors(manifest, &names);
        let envelopes = |direction: Direction| {
            manifest
                .messages
                .iter()
                .zip(&names)
                .filter(|(m, _)| m.direction == direction)
                .map(|(m, n)| EnvelopeView {
                    type_literal: string_literal(&m.wire_type),
                    payload: n.payload_type.clone(),
                })
                .collect::<Vec<_>>()
        };
        let payload_of = |kind: &str| {
            manifest
                .messages
                .iter()
                .zip(&names)
                .find(|(m, _)| m.wire_type == kind)
                .and_then(|(_, n)| n.payload_type.clone())
                .unwrap_or_else(|| "undefined".to_owned())
        };
        let rpcs = manifest
            .rpcs
            .iter()
            .map(|r| RpcView {
                key: property_key(&r.request),
                request: payload_of(&r.request),
                response: payload_of(&r.response),
            })
            .collect();

        let protocol_ident = identifier(&manifest.name);
        let factory = identifier(&format!("create{protocol_ident}Client"));
        let file = Self {
            defs,
            header: line_comment(header),
            protocol_doc: doc_comment(&manifest.doc, ""),
            protocol_name: string_literal(&manifest.name),
            fingerprint: string_literal(&manifest.fingerprint()),
            factory,
            types,
            protocol_messages: names.iter().map(|n| n.ident.clone()).collect(),
            messages,
            client_envelopes: envelopes(Direction::Client),
            server_envelopes: envelopes(Direction::Server),
            rpcs,
            protocol_ident,
        };
        file.check_names()?;
        Ok(file)
    }

    /// TypeScript keeps types and values apart, so a payload type and its message's
    /// descriptor share a name; within each namespace every exported name must be unique.
    fn check_names(&self) -> Result<(), Error> {
        let mut types: Vec<(String, String)> = vec![
            ("ClientEnvelope".into(), "the client envelope union".into()),
            ("ServerEnvelope".into(), "the server envelope union".into()),
            ("RpcMap".into(), "the RPC map".into()),
        ];
        let mut values: Vec<(String, String)> = vec![
            (
                self.protocol_ident.clone(),
                "the protocol descriptor".into(),
            ),
            (self.factory.clone(), "the client factory".into()),
        ];
        for t in &self.types {
            types.push((t.ident.clone(), format!("the payload type `{}`", t.ident)));
            values.push((
                validator(&t.ident),
                format!("the validator of `{}`", t.ident),
            ));
            values.push((guard(&t.ident), format!("the guard of `{}`", t.ident)));
        }
        for m in &self.messages {
            values.push((
                m.ident.clone(),
                format!("the descriptor of message {}", m.type_literal),
            ));
        }
        for list in [types, values] {
            let mut seen: BTreeMap<String, String> = BTreeMap::new();
            for (name, what) in list {
                if let Some(first) = seen.insert(name.clone(), what.clone()) {
                    return Err(collision(&name, &first, &what));
                }
            }
        }
        Ok(())
    }
}

/// The exported validator of payload type `ident`.
fn validator(ident: &str) -> String {
    format!("validate{ident}")
}

/// The exported type guard of payload type `ident`.
fn guard(ident: &str) -> String {
    format!("is{ident}")
}

/// Each message's descriptor name and payload type name. A payload gets a type named after
/// its message unless it already is a definition of that name (the usual case); the new
/// types are returned too.
fn message_names(
    manifest: &Manifest,
    defs: &Defs,
    printer: &TypePrinter<'_>,
    type_names: &mut BTreeSet<String>,
) -> Result<(Vec<MessageNames>, Vec<TypeView>), Error> {
    let mut names = Vec::with_capacity(manifest.messages.len());
    let mut synthetic = Vec::new();
    for m in &manifest.messages {
        let ident = identifier(&m.rust_name);
        let Some(schema) = &m.payload else {
            names.push(MessageNames {
                ident,
                payload_type: None,
            });
            continue;
        };
        let mut node = defs.schema().payload(schema, &m.wire_type)?;
        let direct = matches!(&node.kind, Kind::Ref(def) if defs.ident(def) == Some(&ident));
        let payload_type = if direct {
            ident.clone()
        } else {
            let mut name = ident.clone();
            let mut n = 1;
            while type_names.contains(&name) {
                name = if n == 1 {
                    format!("{ident}Payload")
                } else {
                    format!("{ident}Payload{n}")
                };
                n += 1;
            }
            if node.doc.is_none() && !m.doc.is_empty() {
                node.doc = Some(m.doc.clone());
            }
            synthetic.push(type_view(&name, node, printer));
            type_names.insert(name.clone());
            name
        };
        names.push(MessageNames {
            ident,
            payload_type: Some(payload_type),
        });
    }
    Ok((names, synthetic))
}

/// The message descriptors, server messages first: an RPC descriptor refers to its
/// response's constant, which must be initialized before it.
fn descriptors(manifest: &Manifest, names: &[MessageNames]) -> Vec<MessageView> {
    let ident_of = |kind: &str| {
        manifest
            .messages
            .iter()
            .zip(names)
            .find(|(m, _)| m.wire_type == kind)
            .map(|(_, n)| n.ident.clone())
    };
    let mut messages = Vec::new();
    for direction in [Direction::Server, Direction::Client] {
        for (m, n) in manifest.messages.iter().zip(names) {
            if m.direction != direction {
                continue;
            }
            let response = manifest
                .rpc_for_request(&m.wire_type)
                .and_then(|r| ident_of(&r.response));
            messages.push(MessageView {
                ident: n.ident.clone(),
                doc: doc_comment(&m.doc, ""),
                type_literal: string_literal(&m.wire_type),
                direction: m.direction.as_str(),
                payload_type: n.payload_type.clone(),
                response,
            });
        }
    }
    messages
}

fn collision(name: &str, first: &str, second: &str) -> Error {
    Error::Names(format!(
        "the generated TypeScript would declare `{name}` twice: for {first} and for {second}; \
         rename the Rust type (or its schema with `#[serde(rename = \"...\")]`)"
    ))
}

fn type_view(ident: &str, node: Node, printer: &TypePrinter<'_>) -> TypeView {
    let declaration = match &node.kind {
        Kind::Object(object) => printer.interface_body(object).map(Declaration::Interface),
        _ => None,
    }
    .unwrap_or_else(|| Declaration::Alias(printer.definition(&node)));
    TypeView {
        ident: ident.to_owned(),
        doc: doc_comment(&types::describe(&node), ""),
        declaration,
        node,
    }
}
