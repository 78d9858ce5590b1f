//! The TypeScript view model: names, types, validators and descriptors of `protocol.ts`,
//! resolved in Rust so the template only lays them out.

pub mod names;
pub mod types;
pub mod validate;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;
use twinwire::{Direction, Manifest};

use crate::error::Error;
use crate::schema::{Kind, Node};
use names::{doc_comment, identifier, line_comment, property_key, string_literal};
use types::TypePrinter;
use validate::{Body, HELPERS, Module};

/// The manifest's definitions, parsed, with their TypeScript names.
#[derive(Debug)]
pub struct Defs {
    by_name: BTreeMap<String, (String, Node)>,
}

impl Defs {
    /// Parses every definition and names it.
    ///
    /// # Errors
    /// [`Error::Schema`] for a definition that is not a readable schema, [`Error::Names`]
    /// when two definitions get the same TypeScript name.
    pub fn new(defs: &BTreeMap<String, Value>) -> Result<Self, Error> {
        let mut by_name = BTreeMap::new();
        let mut taken: BTreeMap<String, String> = BTreeMap::new();
        for (name, schema) in defs {
            let node = Node::parse(schema).map_err(|e| Error::Schema {
                context: format!("definition `{name}`"),
                message: e.to_string(),
            })?;
            let ident = identifier(name);
            if let Some(first) = taken.insert(ident.clone(), name.clone()) {
                return Err(Error::Names(format!(
                    "the schema definitions `{first}` and `{name}` both become the TypeScript name `{ident}`; \
                     rename one with `#[serde(rename = \"...\")]`"
                )));
            }
            by_name.insert(name.clone(), (ident, node));
        }
        Ok(Self { by_name })
    }

    /// The TypeScript name of definition `name`.
    pub fn ident(&self, name: &str) -> Option<&str> {
        self.by_name.get(name).map(|(ident, _)| ident.as_str())
    }

    /// The parsed schema of definition `name`.
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.by_name.get(name).map(|(_, node)| node)
    }

    fn iter(&self) -> impl Iterator<Item = (&String, &String, &Node)> {
        self.by_name
            .iter()
            .map(|(name, (ident, node))| (name, ident, node))
    }
}

/// The whole `protocol.ts`.
#[derive(Debug, Serialize)]
pub struct ProtocolFile {
    header: String,
    protocol_doc: String,
    protocol_ident: String,
    protocol_name: String,
    factory: String,
    helpers: BTreeMap<&'static str, bool>,
    patterns: Vec<PatternView>,
    types: Vec<TypeView>,
    messages: Vec<MessageView>,
    protocol_messages: Vec<String>,
    client_envelopes: Vec<EnvelopeView>,
    server_envelopes: Vec<EnvelopeView>,
    rpcs: Vec<RpcView>,
}

#[derive(Debug, Serialize)]
struct PatternView {
    name: String,
    source: String,
}

/// A named payload type with its validator.
#[derive(Debug, Serialize)]
struct TypeView {
    ident: String,
    doc: String,
    interface_body: Option<String>,
    alias: Option<String>,
    body: String,
}

#[derive(Debug, Serialize)]
struct MessageView {
    ident: String,
    doc: String,
    type_literal: String,
    direction: &'static str,
    payload_type: String,
    has_payload: bool,
    validate: String,
    response: Option<String>,
}

#[derive(Debug, Serialize)]
struct EnvelopeView {
    type_literal: String,
    payload: Option<String>,
}

#[derive(Debug, Serialize)]
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

impl ProtocolFile {
    /// Builds the view of `protocol.ts` for `manifest`; `header` is the first comment line.
    ///
    /// # Errors
    /// [`Error::Schema`] for an unreadable payload schema, [`Error::Names`] when two
    /// generated names collide.
    pub fn new(manifest: &Manifest, header: &str) -> Result<Self, Error> {
        let defs = Defs::new(&manifest.defs)?;
        check_refs(manifest, &defs)?;
        let mut module = Module::default();
        let printer = TypePrinter::new(&defs);
        let mut types = Vec::new();
        let mut type_names: BTreeSet<String> = BTreeSet::new();

        for (_, ident, node) in defs.iter() {
            types.push(type_view(ident, node, &printer, &mut module, &defs));
            type_names.insert(ident.clone());
        }

        let (names, synthetic) =
            message_names(manifest, &defs, &printer, &mut module, &mut type_names)?;
        types.extend(synthetic);

        let messages = descriptors(manifest, &names, &mut module);
        let envelopes = |direction: Direction| {
            manifest
                .messages
                .iter()
                .zip(&names)
                .filter(|(m, _)| m.direction == direction)
                .map(|(m, n)| EnvelopeView {
                    type_literal: string_literal(&m.kind),
                    payload: n.payload_type.clone(),
                })
                .collect::<Vec<_>>()
        };
        let payload_of = |kind: &str| {
            manifest
                .messages
                .iter()
                .zip(&names)
                .find(|(m, _)| m.kind == kind)
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
            header: line_comment(header),
            protocol_doc: doc_comment(&manifest.doc, ""),
            protocol_name: string_literal(&manifest.name),
            factory,
            helpers: HELPERS
                .iter()
                .map(|(name, _)| (*name, module.uses(name)))
                .collect(),
            patterns: module
                .patterns()
                .into_iter()
                .map(|(name, source)| PatternView { name, source })
                .collect(),
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
                format!("validate{}", t.ident),
                format!("the validator of `{}`", t.ident),
            ));
            values.push((
                format!("is{}", t.ident),
                format!("the guard of `{}`", t.ident),
            ));
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
    module: &mut Module,
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
        let mut node = Node::parse(schema).map_err(|e| Error::Schema {
            context: format!("the payload of `{}`", m.kind),
            message: e.to_string(),
        })?;
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
            synthetic.push(type_view(&name, &node, printer, module, defs));
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
fn descriptors(
    manifest: &Manifest,
    names: &[MessageNames],
    module: &mut Module,
) -> Vec<MessageView> {
    let ident_of = |kind: &str| {
        manifest
            .messages
            .iter()
            .zip(names)
            .find(|(m, _)| m.kind == kind)
            .map(|(_, n)| n.ident.clone())
    };
    let mut messages = Vec::new();
    for direction in [Direction::Server, Direction::Client] {
        for (m, n) in manifest.messages.iter().zip(names) {
            if m.direction != direction {
                continue;
            }
            let response = manifest
                .rpc_for_request(&m.kind)
                .and_then(|r| ident_of(&r.response));
            let (payload_type, validate) = match &n.payload_type {
                Some(t) => (t.clone(), format!("validate{t}")),
                None => {
                    module.use_helper("noPayload");
                    ("undefined".to_owned(), "$noPayload".to_owned())
                }
            };
            messages.push(MessageView {
                ident: n.ident.clone(),
                doc: doc_comment(&m.doc, ""),
                type_literal: string_literal(&m.kind),
                direction: m.direction.as_str(),
                payload_type,
                has_payload: n.payload_type.is_some(),
                validate,
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

fn type_view(
    ident: &str,
    node: &Node,
    printer: &TypePrinter<'_>,
    module: &mut Module,
    defs: &Defs,
) -> TypeView {
    let interface_body = match &node.kind {
        Kind::Object(object) => printer.interface_body(object),
        _ => None,
    };
    let alias = interface_body.is_none().then(|| printer.definition(node));
    TypeView {
        ident: ident.to_owned(),
        doc: doc_comment(&types::describe(node), ""),
        interface_body,
        alias,
        body: Body::new(module, defs).finish(node),
    }
}

/// Every `$ref` must name a definition; the manifest reader checks this too, but a
/// manifest built in memory may not have been through it.
fn check_refs(manifest: &Manifest, defs: &Defs) -> Result<(), Error> {
    fn walk(node: &Node, defs: &Defs, context: &str) -> Result<(), Error> {
        let children: Vec<&Node> = match &node.kind {
            Kind::Ref(name) => {
                return match defs.node(name) {
                    Some(_) => Ok(()),
                    None => Err(Error::Schema {
                        context: context.to_owned(),
                        message: format!("`$ref` to `{name}`, which is not in the manifest's defs"),
                    }),
                };
            }
            Kind::Array(a) => a.prefix.iter().chain(a.items.as_deref()).collect(),
            Kind::Object(o) => {
                let mut list: Vec<&Node> = o.properties.iter().map(|p| &p.node).collect();
                list.extend(o.patterns.iter().map(|(_, n)| n));
                if let crate::schema::Additional::Schema(n) = &o.additional {
                    list.push(n);
                }
                list.extend(o.property_names.as_deref());
                list
            }
            Kind::Union(list) | Kind::AllOf(list) => list.iter().collect(),
            _ => Vec::new(),
        };
        children
            .into_iter()
            .try_for_each(|n| walk(n, defs, context))
    }
    for (name, _, node) in defs.iter() {
        walk(node, defs, &format!("definition `{name}`"))?;
    }
    for m in &manifest.messages {
        if let Some(schema) = &m.payload {
            let node = Node::parse(schema).map_err(|e| Error::Schema {
                context: format!("the payload of `{}`", m.kind),
                message: e.to_string(),
            })?;
            walk(&node, defs, &format!("the payload of `{}`", m.kind))?;
        }
    }
    Ok(())
}
