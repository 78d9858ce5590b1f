//! `protocol.ts`: the view model (every TypeScript name, type expression and literal,
//! computed from the manifest) and the writer that lays it out.
//!
//! Unlike `router.rs`, this file is written by Rust code rather than a template: most of
//! it is validator code whose shape follows the schemas recursively (see ARCHITECTURE.md,
//! "Code generation"). [`write`](mod@write) holds the whole layout, [`validate`] the validator bodies
//! and [`helpers`] the functions they call.

pub(crate) mod defs;
pub(crate) mod helpers;
pub(crate) mod names;
mod types;
mod validate;
mod view;
mod write;

use std::collections::{BTreeMap, BTreeSet};

use twinwire::{Direction, Manifest};

use crate::error::Error;
use crate::schema::{Kind, Node};
use defs::Defs;
use names::{
    doc_comment, guard, identifier, line_comment, property_key, string_literal, validator,
};
use types::TypePrinter;
use view::{Declaration, EnvelopeView, MessageView, ProtocolFile, RpcView, TypeView};

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

/// A message's TypeScript names: its descriptor, and the named types of its payload and of
/// its typed meta.
struct MessageNames {
    ident: String,
    payload_type: Option<String>,
    meta: Option<MetaType>,
}

/// A message's typed meta in TypeScript.
#[derive(Clone)]
struct MetaType {
    ident: String,
    /// Whether it declares a required key, so frames must carry `meta`.
    required: bool,
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
                    meta: n.meta.as_ref().map(|t| (t.ident.clone(), t.required)),
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
        let meta = match &m.meta {
            None => None,
            Some(schema) => Some(meta_type(
                &ident,
                m,
                schema,
                defs,
                printer,
                type_names,
                &mut synthetic,
            )?),
        };
        let Some(schema) = &m.payload else {
            names.push(MessageNames {
                ident,
                payload_type: None,
                meta,
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
            meta,
        });
    }
    Ok((names, synthetic))
}

/// The TypeScript type of a message's typed meta: its definition's (the usual case, a
/// `$ref`), or a type `<Message>Meta` declared for an inline schema.
fn meta_type(
    ident: &str,
    m: &twinwire::manifest::MessageSpec,
    schema: &serde_json::Value,
    defs: &Defs,
    printer: &TypePrinter<'_>,
    type_names: &mut BTreeSet<String>,
    synthetic: &mut Vec<TypeView>,
) -> Result<MetaType, Error> {
    let node = defs.schema().payload(schema, &m.wire_type)?;
    let required = match &defs.schema().resolve(&node).kind {
        Kind::Object(object) => {
            object.properties.iter().any(|p| p.required) || !object.required_only.is_empty()
        }
        _ => false,
    };
    let ident = match &node.kind {
        Kind::Ref(def) => defs.ident(def).unwrap_or_default().to_owned(),
        _ => {
            let mut name = format!("{ident}Meta");
            let mut n = 2;
            while type_names.contains(&name) {
                name = format!("{ident}Meta{n}");
                n += 1;
            }
            synthetic.push(type_view(&name, node, printer));
            type_names.insert(name.clone());
            name
        }
    };
    Ok(MetaType { ident, required })
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
                meta_type: n.meta.as_ref().map(|t| t.ident.clone()),
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
