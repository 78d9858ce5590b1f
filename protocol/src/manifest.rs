//! The manifest: the protocol as plain data, and the only input codegen reads.
//!
//! `Protocol::manifest()` builds it at run time from the types' serde and schemars impls,
//! so renames, defaults, `flatten` and every enum representation come out exactly as serde
//! puts them on the wire. Payload schemas are JSON Schema 2020-12 with one shared `defs`
//! map; messages refer to it by `{"$ref": "#/$defs/Name"}`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::envelope::UNDECLARABLE_META_KEYS;
use crate::message::{Message, MetaFields, Rpc};
use crate::validate::MAX_SAFE_INTEGER;

/// The newest manifest format this crate reads, and the one it writes for a protocol that
/// declares typed meta (format 2 added [`MessageSpec::meta`]).
pub const FORMAT_VERSION: u32 = 2;

/// The format written for a protocol without typed meta: format 1 holds everything it needs,
/// so generators that predate typed meta keep reading its manifest.
pub const BASE_FORMAT_VERSION: u32 = 1;

/// The JSON Schema dialect of every schema in a manifest.
pub const JSON_SCHEMA_DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// A protocol as data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    /// Format version of this document ([`FORMAT_VERSION`] when a message declares typed
    /// meta, [`BASE_FORMAT_VERSION`] otherwise); readers refuse newer ones.
    pub format: u32,
    /// What produced it, e.g. `"twinwire 0.1.0"`.
    pub generator: String,
    /// The protocol's name as declared in `protocol!`, e.g. `"Chat"`.
    pub name: String,
    /// The protocol's doc comment (empty when undocumented).
    pub doc: String,
    /// Absolute Rust path of the protocol type, e.g. `"chat_protocol::Chat"`.
    pub rust_path: String,
    /// Every message, in declaration order: client messages, server messages, then RPC
    /// requests and responses not listed before.
    pub messages: Vec<MessageSpec>,
    /// RPCs: which request is answered by which response.
    pub rpcs: Vec<RpcSpec>,
    /// Shared JSON Schema definitions the payload schemas refer to, sorted by name.
    pub defs: BTreeMap<String, Value>,
}

/// One message of the protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageSpec {
    /// The wire `type`, e.g. `"SEND_MESSAGE"`.
    #[serde(rename = "type")]
    pub wire_type: String,
    /// The Rust type name, e.g. `"SendMessage"`.
    pub rust_name: String,
    /// The absolute Rust path, e.g. `"chat_protocol::SendMessage"`.
    pub rust_path: String,
    /// Who sends it.
    pub direction: Direction,
    /// The type's doc comment (empty when undocumented).
    pub doc: String,
    /// The payload's JSON Schema (usually a `$ref` into [`Manifest::defs`]), or `None` for a
    /// message without payload.
    pub payload: Option<Value>,
    /// The JSON Schema of the message's typed meta (a `$ref` into [`Manifest::defs`] to an
    /// object schema whose properties are the declared meta keys), or `None` when the message
    /// declares none. The keys sit in the envelope's `meta` object beside `timestamp` and
    /// `correlationId`; keys the schema does not declare are allowed there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
}

/// An RPC: a client request answered by exactly one response or error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RpcSpec {
    /// Wire type of the request (a client message in [`Manifest::messages`]).
    pub request: String,
    /// Wire type of the response (a server message in [`Manifest::messages`]).
    pub response: String,
}

/// Who sends a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Client → server.
    Client,
    /// Server → client.
    Server,
}

impl Direction {
    /// `"client"` or `"server"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Server => "server",
        }
    }
}

impl Manifest {
    /// The message with wire type `wire_type`.
    pub fn message(&self, wire_type: &str) -> Option<&MessageSpec> {
        self.messages.iter().find(|m| m.wire_type == wire_type)
    }

    /// The RPC whose request is `wire_type`.
    pub fn rpc_for_request(&self, wire_type: &str) -> Option<&RpcSpec> {
        self.rpcs.iter().find(|r| r.request == wire_type)
    }

    /// Pretty JSON with a trailing newline; byte-identical for the same protocol.
    pub fn to_pretty_json(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        let mut json = serde_json::to_string_pretty(self).unwrap_or_default();
        json.push('\n');
        json
    }

    /// The protocol's fingerprint: 32 lowercase hex digits, the XXH3-128 hash of the
    /// manifest's compact JSON with `generator` left empty (so upgrading twinwire alone does
    /// not change it). Any change to a message, a schema, a doc comment or the protocol's
    /// name changes it. Generated clients send it when they connect (`twinwire_fp`, see
    /// `docs/wire-protocol.md`, "Transport and upgrade").
    pub fn fingerprint(&self) -> String {
        let canonical = Self {
            generator: String::new(),
            ..self.clone()
        };
        // Serializing plain data with string keys cannot fail.
        let json = serde_json::to_vec(&canonical).unwrap_or_default();
        format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&json))
    }

    /// [`to_pretty_json`](Self::to_pretty_json) with the [`fingerprint`](Self::fingerprint)
    /// as the first field: the manifest file `twinwire generate` writes. [`from_json`](Self::from_json)
    /// reads it back (the fingerprint is recomputed, never trusted).
    pub fn to_pretty_json_with_fingerprint(&self) -> String {
        #[derive(Serialize)]
        struct WithFingerprint<'a> {
            fingerprint: String,
            #[serde(flatten)]
            manifest: &'a Manifest,
        }
        let with = WithFingerprint {
            fingerprint: self.fingerprint(),
            manifest: self,
        };
        // Serializing plain data with string keys cannot fail.
        let mut json = serde_json::to_string_pretty(&with).unwrap_or_default();
        json.push('\n');
        json
    }

    /// Reads a manifest written by [`Manifest::to_pretty_json`] (or
    /// [`to_pretty_json_with_fingerprint`](Self::to_pretty_json_with_fingerprint), whose
    /// `fingerprint` field is ignored), refusing newer formats and checking that its
    /// references resolve.
    ///
    /// # Errors
    /// [`ManifestError::Malformed`], [`ManifestError::UnsupportedFormat`] or
    /// [`ManifestError::Inconsistent`].
    pub fn from_json(json: &str) -> Result<Self, ManifestError> {
        let mut value: Value =
            serde_json::from_str(json).map_err(|e| ManifestError::Malformed(e.to_string()))?;
        if let Some(object) = value.as_object_mut() {
            object.remove("fingerprint");
        }
        match value.get("format").and_then(Value::as_u64) {
            Some(format) if format > u64::from(FORMAT_VERSION) => {
                return Err(ManifestError::UnsupportedFormat { found: format });
            }
            Some(_) => {}
            None => {
                return Err(ManifestError::Malformed(
                    "missing or non-integer `format` field; is this a twinwire manifest?".into(),
                ));
            }
        }
        let manifest: Self = deserialize_manifest(value)?;
        manifest.check()?;
        Ok(manifest)
    }

    /// Checks what the type system cannot: unique and allowed wire types, RPCs that refer to
    /// messages of the right direction, and `$ref`s that resolve.
    ///
    /// # Errors
    /// [`ManifestError::DuplicateType`], [`ManifestError::ReservedType`] or
    /// [`ManifestError::Inconsistent`].
    pub fn check(&self) -> Result<(), ManifestError> {
        let mut seen = BTreeSet::new();
        for m in &self.messages {
            crate::envelope::check_type_name(&m.wire_type).map_err(|reason| {
                ManifestError::ReservedType {
                    wire_type: m.wire_type.clone(),
                    reason,
                }
            })?;
            if !seen.insert(m.wire_type.as_str()) {
                return Err(ManifestError::DuplicateType {
                    wire_type: m.wire_type.clone(),
                    first: m.rust_path.clone(),
                    second: m.rust_path.clone(),
                });
            }
            if let Some(payload) = &m.payload {
                self.check_refs(payload)?;
            }
            if let Some(meta) = &m.meta {
                self.check_refs(meta)?;
                self.check_meta_keys(m, meta)?;
            }
        }
        for def in self.defs.values() {
            self.check_refs(def)?;
        }
        for rpc in &self.rpcs {
            let dir = |wire_type: &str| self.message(wire_type).map(|m| m.direction);
            if dir(&rpc.request) != Some(Direction::Client) {
                return Err(ManifestError::Inconsistent(format!(
                    "RPC request `{}` is not a client message of this manifest",
                    rpc.request
                )));
            }
            if dir(&rpc.response) != Some(Direction::Server) {
                return Err(ManifestError::Inconsistent(format!(
                    "RPC response `{}` is not a server message of this manifest",
                    rpc.response
                )));
            }
        }
        Ok(())
    }

    /// Typed meta declares neither the standard nor the reserved meta keys: the macros refuse
    /// them at compile time, this is the check for a manifest read from a file.
    fn check_meta_keys(&self, m: &MessageSpec, meta: &Value) -> Result<(), ManifestError> {
        let resolved = match meta.get("$ref").and_then(Value::as_str) {
            Some(r) => ref_target(r).and_then(|name| self.defs.get(&name)),
            None => Some(meta),
        };
        let Some(properties) = resolved
            .and_then(|schema| schema.get("properties"))
            .and_then(Value::as_object)
        else {
            return Ok(());
        };
        match UNDECLARABLE_META_KEYS
            .iter()
            .find(|key| properties.contains_key(**key))
        {
            Some(key) => Err(ManifestError::Inconsistent(format!(
                "the typed meta of `{}` declares `{key}`, a meta key of the wire protocol itself",
                m.wire_type
            ))),
            None => Ok(()),
        }
    }

    fn check_refs(&self, schema: &Value) -> Result<(), ManifestError> {
        match schema {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref")
                    && !ref_target(r).is_some_and(|n| self.defs.contains_key(&n))
                {
                    return Err(ManifestError::Inconsistent(format!(
                        "`$ref` {r:?} does not point into the manifest's `defs`"
                    )));
                }
                map.values().try_for_each(|v| self.check_refs(v))
            }
            Value::Array(items) => items.iter().try_for_each(|v| self.check_refs(v)),
            _ => Ok(()),
        }
    }
}

/// Reads a manifest from its already parsed JSON; a wrong shape is [`ManifestError::Malformed`].
fn deserialize_manifest(value: Value) -> Result<Manifest, ManifestError> {
    serde_json::from_value(value).map_err(|e| ManifestError::Malformed(e.to_string()))
}

/// The prefix of every `$ref` into a manifest's definitions.
pub const DEFS_PREFIX: &str = "#/$defs/";

/// Characters a `$ref`'s URI fragment may hold as they are (RFC 3986 `pchar` without `/`,
/// which the JSON pointer escapes as `~1`); every other byte is percent-encoded.
const FRAGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// The definition a `$ref` points to: `Some("Größe")` for `"#/$defs/Gr%C3%B6%C3%9Fe"`.
///
/// A `$ref` is a URI fragment holding a JSON pointer, so a name is escaped twice: JSON
/// pointer (`~0` for `~`, `~1` for `/`) inside URI percent-encoding, which is how schemars
/// writes a non-ASCII name. `None` for a reference outside the definitions, one deeper than a
/// definition (`#/$defs/A/properties/b`), a malformed `%` escape, or bytes that are not
/// UTF-8. Every reader of manifest references (this crate, twinwire-codegen) decodes with
/// this one function, so they agree on what a reference names.
pub fn ref_target(reference: &str) -> Option<String> {
    let segment = reference.strip_prefix(DEFS_PREFIX)?;
    if segment.contains('/') {
        return None;
    }
    // `percent_decode_str` keeps a malformed escape as written; a reference holding one is
    // not what any schema generator writes, so it names nothing.
    let well_formed = segment.split('%').skip(1).all(|after| {
        after
            .as_bytes()
            .get(..2)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    let decoded = percent_decode_str(segment).decode_utf8().ok()?;
    Some(decoded.replace("~1", "/").replace("~0", "~"))
}

/// The `$ref` pointing at definition `name`, escaped as [`ref_target`] decodes it.
pub fn ref_to(name: &str) -> String {
    let pointer = name.replace('~', "~0").replace('/', "~1");
    format!("{DEFS_PREFIX}{}", utf8_percent_encode(&pointer, FRAGMENT))
}

/// Why a manifest could not be built or read.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ManifestError {
    /// Two messages share a wire `type`.
    DuplicateType {
        /// The shared wire type.
        wire_type: String,
        /// Rust path of the first message.
        first: String,
        /// Rust path of the second message.
        second: String,
    },
    /// A wire `type` is reserved or otherwise unusable.
    ReservedType {
        /// The refused wire type.
        wire_type: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// Two different Rust types would get the same JSON Schema name.
    SchemaNameCollision {
        /// The name both want.
        name: String,
        /// The name schemars fell back to for the second one.
        numbered: String,
    },
    /// A message is used in a way that contradicts its direction.
    Inconsistent(String),
    /// The JSON is not a manifest.
    Malformed(String),
    /// The manifest was written by a newer twinwire.
    UnsupportedFormat {
        /// The format version found.
        found: u64,
    },
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateType {
                wire_type,
                first,
                second,
            } => write!(
                f,
                "wire type `{wire_type}` is declared by both `{first}` and `{second}`; each message needs its own type"
            ),
            Self::ReservedType { wire_type, reason } => {
                write!(f, "wire type `{wire_type}`: {reason}")
            }
            Self::SchemaNameCollision { name, numbered } => write!(
                f,
                "two different Rust types are both named `{name}` in the JSON Schema (schemars would call the second `{numbered}`); \
                 give one a distinct name with `#[schemars(rename = \"...\")]` or rename the type"
            ),
            Self::Inconsistent(msg) => f.write_str(msg),
            Self::Malformed(msg) => write!(f, "malformed manifest: {msg}"),
            Self::UnsupportedFormat { found } => write!(
                f,
                "manifest format {found} is newer than this twinwire understands (format {FORMAT_VERSION}); upgrade twinwire"
            ),
        }
    }
}

impl std::error::Error for ManifestError {}

/// A declared protocol: what `twinwire::protocol!` defines.
pub trait Protocol {
    /// The protocol's name, e.g. `"Chat"`.
    const NAME: &'static str;

    /// Builds the protocol's manifest: messages, RPCs and their JSON Schemas.
    ///
    /// # Errors
    /// A [`ManifestError`] when two different Rust types would share one schema name, or
    /// when the declaration is inconsistent in a way the compiler could not see.
    fn manifest() -> Result<Manifest, ManifestError>;
}

/// Builds a [`Manifest`]; what `protocol!` expands to. Not meant to be called by hand.
pub struct ManifestBuilder {
    name: &'static str,
    doc: &'static str,
    rust_path: &'static str,
    // Client payloads are what the server deserializes, server payloads what it serializes:
    // `#[serde(default)]`, `skip_serializing_if` and `Option` differ between the two, so
    // each direction gets a generator with the matching schemars contract.
    client_schemas: SchemaGenerator,
    server_schemas: SchemaGenerator,
    messages: Vec<MessageSpec>,
    rpcs: Vec<RpcSpec>,
    error: Option<ManifestError>,
}

fn settings(contract: fn(SchemaSettings) -> SchemaSettings) -> SchemaGenerator {
    contract(SchemaSettings::draft2020_12())
        .with_transform(RecursiveTransform(clamp_wide_integers))
        .into_generator()
}

/// Wide integers get JavaScript's safe bounds, matching what `Validate` enforces.
fn clamp_wide_integers(schema: &mut Schema) {
    let wide = matches!(
        schema.get("format").and_then(Value::as_str),
        Some("int64" | "uint64" | "int128" | "uint128" | "int" | "uint")
    );
    if !wide {
        return;
    }
    let safe = MAX_SAFE_INTEGER as f64;
    let (min, max) = (
        schema.get("minimum").and_then(Value::as_f64),
        schema.get("maximum").and_then(Value::as_f64),
    );
    if min.is_none_or(|m| m < -safe) {
        schema.insert("minimum".into(), Value::from(-MAX_SAFE_INTEGER as i64));
    }
    if max.is_none_or(|m| m > safe) {
        schema.insert("maximum".into(), Value::from(MAX_SAFE_INTEGER as i64));
    }
}

impl ManifestBuilder {
    /// Starts a protocol.
    pub fn new(name: &'static str, doc: &'static str, rust_path: &'static str) -> Self {
        Self {
            name,
            doc,
            rust_path,
            client_schemas: settings(SchemaSettings::for_deserialize),
            server_schemas: settings(SchemaSettings::for_serialize),
            messages: Vec::new(),
            rpcs: Vec::new(),
            error: None,
        }
    }

    /// Adds a client → server message.
    pub fn client<M: Message>(&mut self) -> &mut Self {
        self.add::<M>(Direction::Client);
        self
    }

    /// Adds a server → client message.
    pub fn server<M: Message>(&mut self) -> &mut Self {
        self.add::<M>(Direction::Server);
        self
    }

    /// Adds an RPC: its request as a client message and its response as a server message.
    pub fn rpc<R: Rpc>(&mut self) -> &mut Self {
        self.add::<R>(Direction::Client);
        self.add::<R::Response>(Direction::Server);
        self.rpcs.push(RpcSpec {
            request: R::WIRE_TYPE.to_owned(),
            response: <R::Response as Message>::WIRE_TYPE.to_owned(),
        });
        self
    }

    fn fail(&mut self, error: ManifestError) {
        self.error.get_or_insert(error);
    }

    fn add<M: Message>(&mut self, direction: Direction) {
        let rust_path = rust_path_of::<M>();
        if let Some(existing) = self.messages.iter().find(|m| m.wire_type == M::WIRE_TYPE) {
            // An RPC response may also be listed as a server message, or answer several RPCs.
            let same = existing.rust_path == rust_path && existing.direction == direction;
            if !same {
                let error = if existing.rust_path == rust_path {
                    ManifestError::Inconsistent(format!(
                        "`{rust_path}` is used both as a client and as a server message; a message has one direction"
                    ))
                } else {
                    ManifestError::DuplicateType {
                        wire_type: M::WIRE_TYPE.to_owned(),
                        first: existing.rust_path.clone(),
                        second: rust_path,
                    }
                };
                self.fail(error);
            }
            return;
        }
        if let Err(reason) = crate::envelope::check_type_name(M::WIRE_TYPE) {
            self.fail(ManifestError::ReservedType {
                wire_type: M::WIRE_TYPE.to_owned(),
                reason,
            });
            return;
        }
        let generator = match direction {
            Direction::Client => &mut self.client_schemas,
            Direction::Server => &mut self.server_schemas,
        };
        let payload = M::HAS_PAYLOAD.then(|| schema_of::<M>(generator));
        let meta = <M::Meta as MetaFields>::DECLARED.then(|| schema_of::<M::Meta>(generator));
        self.messages.push(MessageSpec {
            wire_type: M::WIRE_TYPE.to_owned(),
            rust_name: M::RUST_NAME.to_owned(),
            rust_path,
            direction,
            doc: M::DOC.to_owned(),
            payload,
            meta,
        });
    }

    /// Finishes the manifest.
    ///
    /// # Errors
    /// The first inconsistency met while adding messages, or a schema name collision.
    pub fn finish(self) -> Result<Manifest, ManifestError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let mut client_defs = into_defs(self.client_schemas)?;
        let mut server_defs = into_defs(self.server_schemas)?;
        let mut messages = self.messages;
        for (defs, direction) in [
            (&mut client_defs, Direction::Client),
            (&mut server_defs, Direction::Server),
        ] {
            defs.values_mut()
                .for_each(|schema| for_direction(schema, direction));
        }
        for m in &mut messages {
            let direction = m.direction;
            for schema in [&mut m.payload, &mut m.meta].into_iter().flatten() {
                for_direction(schema, direction);
            }
        }
        let (defs, renamed) = merge_defs(client_defs, server_defs)?;
        for m in messages
            .iter_mut()
            .filter(|m| m.direction == Direction::Client)
        {
            for schema in [&mut m.payload, &mut m.meta].into_iter().flatten() {
                rename_refs(schema, &renamed);
            }
        }
        let format = if messages.iter().any(|m| m.meta.is_some()) {
            FORMAT_VERSION
        } else {
            BASE_FORMAT_VERSION
        };
        let manifest = Manifest {
            format,
            generator: concat!("twinwire ", env!("CARGO_PKG_VERSION")).to_owned(),
            name: self.name.to_owned(),
            doc: self.doc.to_owned(),
            rust_path: self.rust_path.to_owned(),
            messages,
            rpcs: self.rpcs,
            defs,
        };
        manifest.check()?;
        Ok(manifest)
    }
}

/// The keyword `#[message]`/`#[data]` put on the schema of an `Option` field whose `None` is
/// left out when serializing (README, "Option on the wire"). Never in a manifest.
const OMIT_NONE_MARKER: &str = "x-twinwire-omit-none";

/// The keyword `#[message]`/`#[data]` put on the schema of an enum with a `#[serde(other)]`
/// variant: `{"variant", "tag", "declared"}`. Never in a manifest.
const OTHER_MARKER: &str = "x-twinwire-other";

/// The keyword `#[message]`/`#[data]` put on an externally tagged enum's schema, listing its
/// unit variants' wire names. Never in a manifest.
const UNIT_VARIANTS_MARKER: &str = "x-twinwire-unit-variants";

/// The keyword a `#[validate(uuid)]` constraint puts beside its `format: "uuid"`: that string
/// takes the hyphenated form only, while a `uuid::Uuid` field (the same `format`) is read by
/// serde in four forms. Never in a manifest.
const HYPHENATED_UUID_MARKER: &str = "x-twinwire-hyphenated-uuid";

/// Every form `uuid::Uuid` reads (its `FromStr`, which its serde impl calls): 32 hexadecimal
/// digits, the hyphenated 8-4-4-4-12 form, that form in braces, or after `urn:uuid:`; hex
/// digits in either case. What a client may send for a `Uuid` field.
pub const UUID_INPUT_PATTERN: &str = concat!(
    r"^(?:[0-9A-Fa-f]{32}",
    r"|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}",
    r"|\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}",
    r"|urn:uuid:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$"
);

/// The RFC 3339 date-time every JSON Schema validator agrees on, beside `format:
/// "date-time"`: `T` or `t` between date and time, seconds below 60, an offset `Z`/`z` or
/// `±hh:mm`, no year 0 (written without look-around, which some regex engines lack). Validators differ beyond it (ajv also takes a space, Python's
/// `jsonschema` no leap second), and chrono, which the server reads with, takes all of these
/// and more (a space, `UTC`, an offset without colon): a client is held to the form every
/// reader takes, which is also what chrono writes.
pub const DATE_TIME_PATTERN: &str = concat!(
    r"^(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-(?:0[1-9]|1[0-2])-[0-9]{2}",
    r"[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]",
    r"(?:\.[0-9]+)?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
);

/// Makes a schema say exactly what one direction accepts where schemars describes serde only
/// approximately, and removes the macros' markers from it and everything in it:
/// - a server payload field marked [`OMIT_NONE_MARKER`] loses its `null`: the server leaves
///   the field out instead (a client may still send `null`, so the client side keeps it);
/// - a client payload enum marked [`UNIT_VARIANTS_MARKER`] also accepts each unit variant
///   as `{"Name": null}`, which serde reads like `"Name"`;
/// - a client payload enum marked [`OTHER_MARKER`] also accepts any unknown name as its
///   `#[serde(other)]` variant;
/// - a client payload array loses `uniqueItems` (a set): serde reads duplicates into a set
///   without complaint, while the server only ever sends distinct items;
/// - a client payload `Uuid` (`format: "uuid"` without [`HYPHENATED_UUID_MARKER`]) takes
///   [`UUID_INPUT_PATTERN`] instead of the format, which allows the hyphenated form only;
/// - a `date-time` gets [`DATE_TIME_PATTERN`] in both directions.
fn for_direction(schema: &mut Value, direction: Direction) {
    match schema {
        Value::Object(map) => {
            let omits_none = map.remove(OMIT_NONE_MARKER).is_some();
            let units = map.remove(UNIT_VARIANTS_MARKER);
            let hyphenated = map.remove(HYPHENATED_UUID_MARKER).is_some();
            let other = map.remove(OTHER_MARKER);
            let date_time = map.get("format").and_then(Value::as_str) == Some("date-time");
            if date_time && !map.contains_key("pattern") {
                map.insert("pattern".into(), DATE_TIME_PATTERN.into());
            }
            match direction {
                Direction::Server if omits_none => drop_null(map),
                Direction::Client => {
                    if let Some(Value::Array(names)) = units {
                        add_keyed_units(map, &names);
                    }
                    if let Some(other) = other {
                        add_catch_all(map, &other);
                    }
                    map.remove("uniqueItems");
                    let uuid = map.get("format").and_then(Value::as_str) == Some("uuid");
                    if uuid && !hyphenated && !map.contains_key("pattern") {
                        map.remove("format");
                        map.insert("pattern".into(), UUID_INPUT_PATTERN.into());
                    }
                }
                Direction::Server => {}
            }
            map.values_mut().for_each(|v| for_direction(v, direction));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| for_direction(v, direction)),
        _ => {}
    }
}

/// Adds the catch-all of a `#[serde(other)]` variant to a client-side enum schema: any string
/// but the declared names, as the string itself (externally tagged) or as the tag beside a
/// copy of the variant's own schema (internally or adjacently tagged). serde also reads an
/// unknown name as a key with `null` (`{"Unknown": null}`); the views do not take that form
/// (README, type mapping).
fn add_catch_all(map: &mut serde_json::Map<String, Value>, other: &Value) {
    let catch_all = serde_json::json!({
        "type": "string",
        "not": {"enum": other.get("declared").cloned().unwrap_or_default()},
    });
    let tag = other.get("tag").and_then(Value::as_str).unwrap_or_default();
    let Some(Value::Array(variants)) = map.get_mut("oneOf") else {
        return;
    };
    if tag.is_empty() {
        variants.push(catch_all);
        return;
    }
    let name = other.get("variant").cloned().unwrap_or_default();
    let names_other = |variant: &&Value| {
        let tag_schema = &variant["properties"][tag];
        tag_schema.get("const") == Some(&name)
            || tag_schema.get("enum") == Some(&Value::Array(vec![name.clone()]))
    };
    let Some(mut copy) = variants.iter().find(names_other).cloned() else {
        return;
    };
    if let Some(properties) = copy.get_mut("properties").and_then(Value::as_object_mut) {
        properties.insert(tag.to_owned(), catch_all);
    }
    variants.push(copy);
}

/// Adds `{"Name": null}` for each unit variant name to an externally tagged enum's schema:
/// to its `oneOf`, or, for a unit-only enum (`{"type": "string", "enum": [...]}`), beside the
/// string `enum` in a new `oneOf`.
fn add_keyed_units(map: &mut serde_json::Map<String, Value>, names: &[Value]) {
    let keyed = names.iter().filter_map(Value::as_str).map(|name| {
        serde_json::json!({
            "type": "object",
            "properties": {name: {"type": "null"}},
            "required": [name],
            "additionalProperties": false,
        })
    });
    if let Some(Value::Array(variants)) = map.get_mut("oneOf") {
        variants.extend(keyed);
        return;
    }
    let (Some(ty), Some(values)) = (map.remove("type"), map.remove("enum")) else {
        return;
    };
    let mut variants = vec![serde_json::json!({"type": ty, "enum": values})];
    variants.extend(keyed);
    map.insert("oneOf".into(), Value::Array(variants));
}

/// The schema of an `Option<T>` without its `null`: schemars writes `{"type": [T, "null"]}`
/// for a simple `T` and `{"anyOf": [T, {"type": "null"}]}` otherwise.
fn drop_null(map: &mut serde_json::Map<String, Value>) {
    if let Some(Value::Array(types)) = map.get_mut("type") {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            map.insert("type".into(), only);
        }
    }
    for keyword in ["anyOf", "oneOf"] {
        let Some(Value::Array(variants)) = map.get_mut(keyword) else {
            continue;
        };
        variants.retain(|v| v != &serde_json::json!({"type": "null"}));
        let only = match variants.as_slice() {
            [Value::Object(only)] => only.clone(),
            _ => continue,
        };
        // The one variant left is the schema itself, when its keywords do not collide with
        // the ones beside the `anyOf` (a `description`, say).
        if only.keys().all(|k| k == keyword || !map.contains_key(k)) {
            map.remove(keyword);
            map.extend(only);
        }
    }
}

/// The message's path with its generic arguments: `RUST_PATH` is written by the macro, which
/// cannot know the arguments a protocol instantiates it with; `type_name` supplies them.
fn rust_path_of<M: Message>() -> String {
    let full = std::any::type_name::<M>();
    match full.find('<') {
        Some(i) => format!("{}{}", M::RUST_PATH, &full[i..]),
        None => M::RUST_PATH.to_owned(),
    }
}

fn schema_of<M: JsonSchema>(generator: &mut SchemaGenerator) -> Value {
    generator.subschema_for::<M>().to_value()
}

fn into_defs(mut generator: SchemaGenerator) -> Result<BTreeMap<String, Value>, ManifestError> {
    let defs: BTreeMap<String, Value> = generator.take_definitions(true).into_iter().collect();
    // schemars resolves a name clash between two types by numbering the second (`Foo2`).
    // A numbered name whose base is also defined is such a clash, and a silently renamed
    // TypeScript type is worse than an error.
    for name in defs.keys() {
        let base = name.trim_end_matches(|c: char| c.is_ascii_digit());
        let suffix = &name[base.len()..];
        let numbered = suffix.parse::<u32>().is_ok_and(|n| n >= 2) && !suffix.starts_with('0');
        if numbered && !base.is_empty() && defs.contains_key(base) {
            return Err(ManifestError::SchemaNameCollision {
                name: base.to_owned(),
                numbered: name.clone(),
            });
        }
    }
    Ok(defs)
}

/// Schema definitions by name.
type Defs = BTreeMap<String, Value>;
/// Old definition name → new name.
type Renames = BTreeMap<String, String>;

/// Suffix of a client-side definition that differs from the server-side one of the same name.
const INPUT_SUFFIX: &str = "Input";

/// Merges the two directions' definitions. A type used both ways usually has one schema;
/// where the contracts make them differ (an `Option` field the server always sends but a
/// client may omit), the client's version is renamed `NameInput`.
fn merge_defs(client: Defs, mut server: Defs) -> Result<(Defs, Renames), ManifestError> {
    // A client definition is renamed when its shape differs from the server's, and so is
    // every definition that refers to a renamed one (its `$ref`s change), so the set grows
    // until no rename uncovers another difference.
    let mut renamed = Renames::new();
    loop {
        let before = renamed.len();
        for (name, schema) in &client {
            if renamed.contains_key(name) {
                continue;
            }
            let Some(server_schema) = server.get(name) else {
                continue;
            };
            let mut schema = schema.clone();
            rename_refs(&mut schema, &renamed);
            if schema != *server_schema {
                renamed.insert(name.clone(), format!("{name}{INPUT_SUFFIX}"));
            }
        }
        if renamed.len() == before {
            break;
        }
    }
    for (name, mut schema) in client {
        rename_refs(&mut schema, &renamed);
        let target = renamed.get(&name).cloned().unwrap_or(name);
        match server.get(&target) {
            Some(existing) if *existing == schema => {}
            Some(_) => {
                return Err(ManifestError::Inconsistent(format!(
                    "the schema name `{target}` is needed for two different shapes (a type whose \
                     client-side shape differs from its server-side one is named `…{INPUT_SUFFIX}`); \
                     rename one of the types"
                )));
            }
            None => {
                server.insert(target, schema);
            }
        }
    }
    Ok((server, renamed))
}

fn rename_refs(schema: &mut Value, renamed: &BTreeMap<String, String>) {
    if renamed.is_empty() {
        return;
    }
    match schema {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref") {
                let is_renamed = ref_target(r).is_some_and(|name| renamed.contains_key(&name));
                // The new name is the old one plus an ASCII suffix, so appending the suffix
                // keeps the reference escaped exactly as schemars escaped it.
                if is_renamed {
                    r.push_str(INPUT_SUFFIX);
                }
            }
            map.values_mut().for_each(|v| rename_refs(v, renamed));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename_refs(v, renamed)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Manifest {
        Manifest {
            format: BASE_FORMAT_VERSION,
            generator: "twinwire 0.1.0".into(),
            name: "Tiny".into(),
            doc: String::new(),
            rust_path: "tiny::Tiny".into(),
            messages: vec![MessageSpec {
                wire_type: "PING".into(),
                rust_name: "Ping".into(),
                rust_path: "tiny::Ping".into(),
                direction: Direction::Client,
                doc: String::new(),
                payload: None,
                meta: None,
            }],
            rpcs: Vec::new(),
            defs: BTreeMap::new(),
        }
    }

    #[test]
    fn the_fingerprint_follows_the_content_not_the_generator() {
        let manifest = tiny();
        let fp = manifest.fingerprint();
        assert_eq!(fp.len(), 32);
        assert!(
            fp.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        let upgraded = Manifest {
            generator: "twinwire 9.9.9".into(),
            ..manifest.clone()
        };
        assert_eq!(upgraded.fingerprint(), fp);
        let mut changed = manifest.clone();
        changed.messages[0].wire_type = "PONG".into();
        assert_ne!(changed.fingerprint(), fp);
    }

    #[test]
    fn a_fingerprinted_file_reads_back_as_the_same_manifest() {
        let manifest = tiny();
        let text = manifest.to_pretty_json_with_fingerprint();
        assert!(
            text.starts_with(&format!(
                "{{\n  \"fingerprint\": \"{}\",\n  \"format\"",
                manifest.fingerprint()
            )),
            "{text}"
        );
        assert_eq!(Manifest::from_json(&text).unwrap(), manifest);
    }

    #[test]
    fn refs_decode_pointer_escapes_and_percent_encoding() {
        assert_eq!(ref_target("#/$defs/Foo").as_deref(), Some("Foo"));
        assert_eq!(
            ref_target("#/$defs/Gr%C3%B6%C3%9Fe").as_deref(),
            Some("Größe")
        );
        assert_eq!(ref_target("#/$defs/a~1b~0c").as_deref(), Some("a/b~c"));
        assert_eq!(ref_target("#/definitions/Foo"), None);
        assert_eq!(ref_target("#/$defs/Foo/properties/x"), None);
        assert_eq!(ref_target("#/$defs/%ZZ"), None);
        assert_eq!(ref_target("#/$defs/a%2"), None);
        assert_eq!(ref_target("#/$defs/%FF"), None, "not UTF-8");
    }

    #[test]
    fn ref_to_is_undone_by_ref_target() {
        assert_eq!(ref_to("Größe"), "#/$defs/Gr%C3%B6%C3%9Fe");
        assert_eq!(ref_to("a/b~c"), "#/$defs/a~1b~0c");
        assert_eq!(ref_to("Wrapper<T>"), "#/$defs/Wrapper%3CT%3E");
        assert_eq!(ref_to("twinwire.Meta"), "#/$defs/twinwire.Meta");
        for name in [
            "Foo",
            "Größe",
            "a/b~c",
            "with space",
            "Wrapper<T>",
            "100%",
            "a?b#c",
        ] {
            assert_eq!(ref_target(&ref_to(name)).as_deref(), Some(name), "{name}");
        }
    }
}
