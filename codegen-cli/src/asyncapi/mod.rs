//! AsyncAPI 3.0 output: one JSON document describing the protocol for AsyncAPI's viewers and
//! tools (AsyncAPI Studio, the AsyncAPI CLI, code generators).
//!
//! # What the document says
//! - `info`: the protocol's name as title, its doc comment as description, and the version
//!   from the configuration (`"0.0.0"` when none is given: the manifest has none).
//! - `servers.ws`: the WebSocket endpoint from the configured URL (`ws://` or `wss://`,
//!   host with port, and path); absent when no URL is configured.
//! - One channel, `socket`: the WebSocket connection, which carries every frame in both
//!   directions. It has no address of its own (`null`): the server's URL is the socket.
//! - One message per wire type, including the wire protocol's own frames (`ERROR`,
//!   `RPC_ERROR`, `$ws:rpc-progress`, `$ws:abort`, `__heartbeat`, `__heartbeat_ack`; see
//!   docs/wire-protocol.md, "Reserved types"). A message's `name` is its wire type, its
//!   `title` the Rust type's name, its `description` the doc comment.
//! - A message's `payload` is the whole envelope `{type, meta?, payload?}`, not just the
//!   envelope's `payload`: AsyncAPI's message payload is the message body as it travels, and
//!   on a WebSocket that is the envelope's JSON text. Only then can the document say that
//!   `type` tells the messages apart, which `meta` keys exist, and where the correlation id
//!   sits (`$message.payload#/meta/correlationId`, the messages' `correlationId`).
//! - Operations describe the twinwire **server**, the application at `servers.ws`: it
//!   `receive`s what clients send and `send`s what it sends. (AsyncAPI 3 operations say what
//!   the described application does; a client's view is the mirror image.) One operation per
//!   message: `receive_<key>` for each client message, `send_<key>` for each server message
//!   that is not an RPC response. An RPC's request operation has a `reply` whose messages are
//!   the response and `RPC_ERROR`, on the same channel; the response appears only there
//!   (the manifest does not say whether a server also sends it unrequested). `__heartbeat`
//!   is answered the same way by `__heartbeat_ack`.
//! - `components.schemas`: the manifest's definitions, converted to AsyncAPI Schema (JSON
//!   Schema draft-07 and more; the rules and what is lost are in the `schema` module), under
//!   keys made valid by [`schema::component_key`]; and twinwire's own schemas under names no
//!   key of a definition can take (`twinwire.Meta`, `twinwire.ErrorPayload`, …).
//!
//! Keys that AsyncAPI restricts to `^[a-zA-Z0-9\.\-_]+$` (components, operations, channel
//! messages) use [`schema::component_key`], which keeps common names and escapes the rest
//! injectively (`weird/type` → `weird.2Ftype`).
//!
//! JSON has no comments, so the generated-file header goes in the top-level `x-generator`
//! extension. Object keys are sorted, so the output is byte-identical for the same manifest.

mod schema;

use serde::Serialize;
use serde_json::{Map, Value, json};
use twinwire::envelope::{
    ERROR_TYPE, HEARTBEAT_ACK_TYPE, HEARTBEAT_TYPE, RPC_ERROR_TYPE, RPC_PROGRESS_TYPE,
};
use twinwire::manifest::MessageSpec;
use twinwire::validate::MAX_SAFE_INTEGER;
use twinwire::{Direction, ErrorPayload, Manifest};

use crate::error::Error;
use crate::jsonschema::{canonical, meta_required, meta_schema};
use crate::schema::{is_unsigned_integer, is_wide_integer};
use schema::{component_key, convert};

/// The AsyncAPI version the document follows.
pub const ASYNCAPI_VERSION: &str = "3.0.0";

/// `type` of the frame by which a client cancels its request (docs/wire-protocol.md,
/// "Abort"). The runtime keeps its own copy of this name.
const ABORT_TYPE: &str = "$ws:abort";

/// The one channel: the WebSocket connection.
const CHANNEL: &str = "socket";
/// The one server.
const SERVER: &str = "ws";

/// twinwire's own schemas. A `.` followed by something other than two hex digits: no
/// [`component_key`] of a user's definition looks like this.
const META: &str = "twinwire.Meta";
const CORRELATED_META: &str = "twinwire.CorrelatedMeta";
const ERROR_PAYLOAD: &str = "twinwire.ErrorPayload";
const ERROR_CODE: &str = "twinwire.ErrorCode";
const CORRELATION_ID: &str = "twinwire.correlationId";

/// Settings of the AsyncAPI output that the manifest does not carry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AsyncApiOptions {
    /// The WebSocket endpoint's URL, e.g. `wss://chat.example.com/ws`: the document's `ws`
    /// server. Without it the document has no `servers`.
    pub server_url: Option<String>,
    /// The API's version for `info.version` (default `"0.0.0"`).
    pub version: Option<String>,
}

impl AsyncApiOptions {
    /// Sets the server URL (`ws://` or `wss://`).
    #[must_use]
    pub fn server_url(mut self, url: impl Into<String>) -> Self {
        self.server_url = Some(url.into());
        self
    }

    /// Sets `info.version`.
    #[must_use]
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }
}

/// A server URL split as AsyncAPI's Server Object wants it.
#[derive(Debug, PartialEq, Eq)]
struct ServerUrl {
    protocol: &'static str,
    host: String,
    pathname: Option<String>,
}

/// Splits a `ws://` or `wss://` URL; the message says what is wrong with it.
///
/// AsyncAPI would read `{name}` as a server variable, and a query, fragment or credentials
/// have no place in a Server Object, so those are refused.
#[cfg(feature = "cli")]
pub(crate) fn check_server_url(url: &str) -> Result<(), String> {
    parse_server_url(url).map(drop)
}

fn parse_server_url(url: &str) -> Result<ServerUrl, String> {
    let problem = |what: &str| format!("`server_url` {url:?} {what}");
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| problem("must start with `ws://` or `wss://`"))?;
    let protocol = match scheme.to_ascii_lowercase().as_str() {
        "ws" => "ws",
        "wss" => "wss",
        _ => return Err(problem("must start with `ws://` or `wss://`")),
    };
    if let Some(c) = rest
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '{' | '}'))
    {
        return Err(problem(&format!(
            "contains {c:?}; give the scheme, host (with port) and path only"
        )));
    }
    let (host, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, ""),
    };
    if host.is_empty() {
        return Err(problem("has no host"));
    }
    if host.contains('@') {
        return Err(problem(
            "contains credentials; leave them out of the document",
        ));
    }
    Ok(ServerUrl {
        protocol,
        host: host.to_owned(),
        pathname: (!path.is_empty()).then(|| path.to_owned()),
    })
}

/// The top level, in the order a reader expects (the values inside have sorted keys).
#[derive(Serialize)]
struct Document {
    asyncapi: &'static str,
    #[serde(rename = "x-generator")]
    generator: String,
    info: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    servers: Option<Value>,
    #[serde(rename = "defaultContentType")]
    default_content_type: &'static str,
    channels: Value,
    operations: Value,
    components: Value,
}

/// The document's text: pretty JSON with a trailing newline.
///
/// # Errors
/// [`Error::Usage`] for an unusable server URL; [`Error::Schema`] for a payload schema that
/// cannot be converted (see the `schema` module).
pub(crate) fn document(
    manifest: &Manifest,
    options: &AsyncApiOptions,
    header: &str,
) -> Result<String, Error> {
    let servers = options
        .server_url
        .as_deref()
        .map(|url| parse_server_url(url).map_err(Error::Usage))
        .transpose()?
        .map(|url| server(manifest, &url));

    let mut info = Map::new();
    info.insert("title".into(), manifest.name.clone().into());
    info.insert(
        "version".into(),
        options.version.as_deref().unwrap_or("0.0.0").into(),
    );
    if !manifest.doc.is_empty() {
        info.insert("description".into(), manifest.doc.clone().into());
    }

    let messages = Messages::new(manifest)?;
    let document = Document {
        asyncapi: ASYNCAPI_VERSION,
        generator: header.to_owned(),
        info: canonical(Value::Object(info)),
        servers,
        default_content_type: "application/json",
        channels: canonical(json!({ CHANNEL: channel(manifest, &messages) })),
        operations: canonical(Value::Object(operations(manifest, &messages))),
        components: canonical(json!({
            "schemas": schemas(manifest)?,
            "messages": messages.components,
            "correlationIds": {
                CORRELATION_ID: {
                    "description": "An RPC request and every frame answering it carry the same \
                                    `meta.correlationId`, chosen by the client.",
                    "location": "$message.payload#/meta/correlationId",
                }
            },
        })),
    };
    // Strings and JSON values always serialize; there is no error to report.
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    Ok(text)
}

fn server(manifest: &Manifest, url: &ServerUrl) -> Value {
    let mut server = Map::new();
    server.insert("host".into(), url.host.clone().into());
    server.insert("protocol".into(), url.protocol.into());
    if let Some(path) = &url.pathname {
        server.insert("pathname".into(), path.clone().into());
    }
    server.insert(
        "description".into(),
        format!(
            "The {} server's WebSocket endpoint. A client connects with an HTTP upgrade and \
             then exchanges JSON text frames.",
            manifest.name
        )
        .into(),
    );
    canonical(json!({ SERVER: server }))
}

fn channel(manifest: &Manifest, messages: &Messages) -> Value {
    let refs: Map<String, Value> = messages
        .keys
        .iter()
        .map(|key| {
            let target = format!("#/components/messages/{key}");
            (key.clone(), json!({ "$ref": target }))
        })
        .collect();
    json!({
        "address": null,
        "title": format!("{} WebSocket", manifest.name),
        "description": "One WebSocket connection carries every frame in both directions, each a \
                        JSON object `{\"type\", \"meta\"?, \"payload\"?}` in a text frame; `type` \
                        says which message it is.",
        "messages": refs,
        "bindings": { "ws": { "method": "GET", "bindingVersion": "0.1.0" } },
    })
}

/// A reference to a message of the channel.
fn message_ref(key: &str) -> Value {
    json!({ "$ref": format!("#/channels/{CHANNEL}/messages/{key}") })
}

fn channel_ref() -> Value {
    json!({ "$ref": format!("#/channels/{CHANNEL}") })
}

fn operations(manifest: &Manifest, messages: &Messages) -> Map<String, Value> {
    let mut ops = Map::new();
    let responses: Vec<&str> = manifest.rpcs.iter().map(|r| r.response.as_str()).collect();
    for m in &manifest.messages {
        let key = component_key(&m.wire_type);
        match m.direction {
            Direction::Client => {
                let mut op = operation(
                    "receive",
                    &key,
                    &format!("A client sends `{}`.", m.wire_type),
                    &m.doc,
                );
                if let Some(rpc) = manifest.rpc_for_request(&m.wire_type) {
                    op.insert(
                        "summary".into(),
                        format!(
                            "RPC: a client sends `{}`; the server answers with one `{}` or `{}`.",
                            m.wire_type, rpc.response, RPC_ERROR_TYPE
                        )
                        .into(),
                    );
                    op.insert(
                        "reply".into(),
                        json!({
                            "channel": channel_ref(),
                            "messages": [
                                message_ref(&component_key(&rpc.response)),
                                message_ref(&component_key(RPC_ERROR_TYPE)),
                            ],
                        }),
                    );
                }
                ops.insert(format!("receive_{key}"), Value::Object(op));
            }
            Direction::Server if responses.contains(&m.wire_type.as_str()) => {}
            Direction::Server => {
                let op = operation(
                    "send",
                    &key,
                    &format!("The server sends `{}`.", m.wire_type),
                    &m.doc,
                );
                ops.insert(format!("send_{key}"), Value::Object(op));
            }
        }
    }
    for frame in &messages.reserved {
        let key = component_key(frame.wire_type);
        let (action, summary) = match frame.direction {
            Direction::Client => ("receive", format!("A client sends `{}`.", frame.wire_type)),
            Direction::Server => ("send", format!("The server sends `{}`.", frame.wire_type)),
        };
        let mut op = operation(action, &key, &summary, frame.doc);
        match frame.wire_type {
            HEARTBEAT_TYPE => {
                op.insert(
                    "reply".into(),
                    json!({
                        "channel": channel_ref(),
                        "messages": [message_ref(&component_key(HEARTBEAT_ACK_TYPE))],
                    }),
                );
            }
            // Only ever a reply, described in the operations they answer.
            RPC_ERROR_TYPE | HEARTBEAT_ACK_TYPE => continue,
            _ => {}
        }
        ops.insert(format!("{action}_{key}"), Value::Object(op));
    }
    ops
}

fn operation(action: &str, key: &str, summary: &str, doc: &str) -> Map<String, Value> {
    let mut op = Map::new();
    op.insert("action".into(), action.into());
    op.insert("channel".into(), channel_ref());
    op.insert("summary".into(), summary.into());
    if !doc.is_empty() {
        op.insert("description".into(), doc.into());
    }
    op.insert("messages".into(), json!([message_ref(key)]));
    op
}

/// What an envelope says about its `payload` key.
#[derive(Clone)]
enum Payload {
    /// Required, with this schema.
    Schema(Value),
    /// Never present: the message has none.
    Absent,
    /// Not looked at by the receiver, so not described.
    Ignored,
}

/// A frame of the wire protocol itself, described as a message.
struct Reserved {
    wire_type: &'static str,
    direction: Direction,
    doc: &'static str,
    correlated: bool,
    payload: Payload,
}

fn reserved_frames() -> Vec<Reserved> {
    let error_payload = json!({ "$ref": format!("{}{ERROR_PAYLOAD}", schema::COMPONENT_SCHEMAS) });
    vec![
        Reserved {
            wire_type: ERROR_TYPE,
            direction: Direction::Server,
            doc: "An error that answers no request: the frame that caused it had no \
                  `meta.correlationId` (a malformed frame, an unknown or refused message, a \
                  failed validation, a handler's error).",
            correlated: false,
            payload: Payload::Schema(error_payload.clone()),
        },
        Reserved {
            wire_type: RPC_ERROR_TYPE,
            direction: Direction::Server,
            doc: "The error answering a request, named by `meta.correlationId`. Like a \
                  response, it ends the request: each request gets exactly one of the two. \
                  A failed frame of any type that carried a correlation id is answered this \
                  way too.",
            correlated: true,
            payload: Payload::Schema(error_payload),
        },
        Reserved {
            wire_type: RPC_PROGRESS_TYPE,
            direction: Direction::Server,
            doc: "A progress update for a running request, named by `meta.correlationId`; \
                  any number may come before the request's answer. `payload` is whatever the \
                  handler reports. By default the server repeats it under `data`, where WS-Kit's \
                  client reads it (`progress_data_field(false)` turns that off).",
            correlated: true,
            payload: Payload::Schema(json!({
                "description": "The handler's progress value (any JSON)."
            })),
        },
        Reserved {
            wire_type: ABORT_TYPE,
            direction: Direction::Client,
            doc: "A client cancels its request named by `meta.correlationId` (on a timeout, or \
                  when the caller gives up). The server stops the handler and answers the \
                  request with `RPC_ERROR` `CANCELLED`, unless it was answered already.",
            correlated: true,
            payload: Payload::Ignored,
        },
        Reserved {
            wire_type: HEARTBEAT_TYPE,
            direction: Direction::Client,
            doc: "An application-level heartbeat; the server answers `__heartbeat_ack` at once.",
            correlated: false,
            payload: Payload::Ignored,
        },
        Reserved {
            wire_type: HEARTBEAT_ACK_TYPE,
            direction: Direction::Server,
            doc: "The server's answer to `__heartbeat`.",
            correlated: false,
            payload: Payload::Absent,
        },
    ]
}

/// Every message: its component, keyed by [`component_key`] of its wire type.
struct Messages {
    /// Keys in document order: the manifest's messages, then the reserved frames.
    keys: Vec<String>,
    components: Map<String, Value>,
    reserved: Vec<Reserved>,
}

impl Messages {
    fn new(manifest: &Manifest) -> Result<Self, Error> {
        let requests: Vec<&str> = manifest.rpcs.iter().map(|r| r.request.as_str()).collect();
        let responses: Vec<&str> = manifest.rpcs.iter().map(|r| r.response.as_str()).collect();
        let mut keys = Vec::new();
        let mut components = Map::new();
        for m in &manifest.messages {
            let key = component_key(&m.wire_type);
            let is_request = requests.contains(&m.wire_type.as_str());
            let is_response = responses.contains(&m.wire_type.as_str());
            let payload = match &m.payload {
                Some(p) => Payload::Schema(convert(p, &defs_key(manifest), &payload_context(m))?),
                None => Payload::Absent,
            };
            let meta = match &m.meta {
                Some(meta) => Some(TypedMeta {
                    schema: convert(
                        meta,
                        &defs_key(manifest),
                        &format!("the meta of `{}`", m.wire_type),
                    )?,
                    required: meta_required(manifest, meta),
                }),
                None => None,
            };
            let envelope = envelope(&m.wire_type, is_request, payload, meta);
            let mut message = message(&m.wire_type, &m.doc, envelope, is_request || is_response);
            message.insert("title".into(), m.rust_name.clone().into());
            keys.push(key.clone());
            components.insert(key, Value::Object(message));
        }
        let reserved = reserved_frames();
        for frame in &reserved {
            let key = component_key(frame.wire_type);
            let mut envelope = envelope(
                frame.wire_type,
                frame.correlated,
                frame.payload.clone(),
                None,
            );
            if frame.wire_type == RPC_PROGRESS_TYPE
                && let Some(Value::Object(properties)) = envelope.get_mut("properties")
            {
                properties.insert(
                    "data".into(),
                    json!({
                        "description": "The same value as `payload`, where WS-Kit's client \
                                        reads it; sent by default, absent from a server \
                                        configured with `progress_data_field(false)`."
                    }),
                );
            }
            let message = message(frame.wire_type, frame.doc, envelope, frame.correlated);
            keys.push(key.clone());
            components.insert(key, Value::Object(message));
        }
        if components.len() != keys.len() {
            // Wire types are unique and `component_key` is injective, so this is a bug.
            return Err(Error::Names(
                "two messages got the same AsyncAPI key (a bug in twinwire-codegen, please \
                 report it)"
                    .into(),
            ));
        }
        Ok(Self {
            keys,
            components,
            reserved,
        })
    }
}

fn payload_context(m: &MessageSpec) -> String {
    format!("the payload of `{}`", m.wire_type)
}

/// Resolves the manifest's definition names to their component keys.
fn defs_key(manifest: &Manifest) -> impl Fn(&str) -> Option<String> + '_ {
    |name: &str| {
        manifest
            .defs
            .contains_key(name)
            .then(|| component_key(name))
    }
}

/// A message's typed meta: its converted schema, and whether it has a required key.
struct TypedMeta {
    schema: Value,
    required: bool,
}

/// The envelope schema of a message of wire type `wire_type`. A correlated message requires
/// `meta.correlationId`; typed meta adds its keys to `meta`.
fn envelope(
    wire_type: &str,
    correlated: bool,
    payload: Payload,
    typed_meta: Option<TypedMeta>,
) -> Value {
    let meta = if correlated { CORRELATED_META } else { META };
    let mut required = vec!["type"];
    if correlated || typed_meta.as_ref().is_some_and(|m| m.required) {
        required.push("meta");
    }
    let standard = json!({ "$ref": format!("{}{meta}", schema::COMPONENT_SCHEMAS) });
    let mut properties = Map::new();
    properties.insert(
        "type".into(),
        json!({ "type": "string", "const": wire_type }),
    );
    properties.insert(
        "meta".into(),
        match typed_meta {
            None => standard,
            Some(typed) => json!({ "allOf": [standard, typed.schema] }),
        },
    );
    match payload {
        Payload::Schema(schema) => {
            required.push("payload");
            properties.insert("payload".into(), schema);
        }
        // As in the JSON Schema output: a message without payload must not carry one.
        Payload::Absent => {
            properties.insert("payload".into(), Value::Bool(false));
        }
        Payload::Ignored => {}
    }
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
    })
}

fn message(wire_type: &str, doc: &str, envelope: Value, correlated: bool) -> Map<String, Value> {
    let mut message = Map::new();
    message.insert("name".into(), wire_type.into());
    if !doc.is_empty() {
        message.insert("description".into(), doc.into());
    }
    message.insert("payload".into(), envelope);
    if correlated {
        message.insert(
            "correlationId".into(),
            json!({ "$ref": format!("#/components/correlationIds/{CORRELATION_ID}") }),
        );
    }
    message
}

/// `components.schemas`: the manifest's definitions and twinwire's own.
fn schemas(manifest: &Manifest) -> Result<Value, Error> {
    let mut schemas = Map::new();
    let resolve = defs_key(manifest);
    for (name, def) in &manifest.defs {
        let converted = convert(def, &resolve, &format!("definition `{name}`"))?;
        schemas.insert(component_key(name), converted);
    }
    let meta = meta_schema();
    let mut correlated = meta.clone();
    if let Value::Object(map) = &mut correlated {
        map.insert(
            "description".into(),
            "Envelope meta of a request and of the frames answering it: `correlationId` is \
             required."
                .into(),
        );
        map.insert("required".into(), json!(["correlationId"]));
    }
    schemas.insert(META.into(), meta);
    schemas.insert(CORRELATED_META.into(), correlated);
    let (payload, code) = error_payload_schemas()?;
    schemas.insert(ERROR_PAYLOAD.into(), payload);
    schemas.insert(ERROR_CODE.into(), code);
    Ok(Value::Object(schemas))
}

/// The schemas of [`ErrorPayload`] and its code, from the same schemars description the
/// runtime's types carry, as the server serializes them.
fn error_payload_schemas() -> Result<(Value, Value), Error> {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let mut root = generator.into_root_schema_for::<ErrorPayload>().to_value();
    let code = root
        .as_object_mut()
        .and_then(|map| map.remove("$defs"))
        .and_then(|mut defs| defs.as_object_mut().and_then(|d| d.remove("ErrorCode")));
    let Some(code) = code else {
        return Err(Error::Schema {
            context: "twinwire's `ErrorPayload`".into(),
            message: "schemars did not describe `ErrorCode` as a definition".into(),
        });
    };
    clamp_wide_integers(&mut root);
    let resolve = |name: &str| (name == "ErrorCode").then(|| ERROR_CODE.to_owned());
    Ok((
        convert(&root, &resolve, "twinwire's `ErrorPayload`")?,
        convert(&code, &resolve, "twinwire's `ErrorCode`")?,
    ))
}

/// Gives 64-bit integers JavaScript's safe bounds, as the manifest's schemas have them
/// (README, "Integers"); schemars leaves them out.
fn clamp_wide_integers(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            let wide = map
                .get("format")
                .and_then(Value::as_str)
                .is_some_and(is_wide_integer);
            if wide {
                let unsigned = map
                    .get("format")
                    .and_then(Value::as_str)
                    .is_some_and(is_unsigned_integer);
                let safe = MAX_SAFE_INTEGER as i64;
                let lowest = if unsigned { 0 } else { -safe };
                if map
                    .get("minimum")
                    .and_then(Value::as_i64)
                    .is_none_or(|m| m < lowest)
                {
                    map.insert("minimum".into(), lowest.into());
                }
                if map
                    .get("maximum")
                    .and_then(Value::as_i64)
                    .is_none_or(|m| m > safe)
                {
                    map.insert("maximum".into(), safe.into());
                }
            }
            map.values_mut().for_each(clamp_wide_integers);
        }
        Value::Array(items) => items.iter_mut().for_each(clamp_wide_integers),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_split_into_protocol_host_and_path() {
        assert_eq!(
            parse_server_url("ws://127.0.0.1:8080/ws").unwrap(),
            ServerUrl {
                protocol: "ws",
                host: "127.0.0.1:8080".into(),
                pathname: Some("/ws".into())
            }
        );
        assert_eq!(
            parse_server_url("WSS://[::1]:443").unwrap(),
            ServerUrl {
                protocol: "wss",
                host: "[::1]:443".into(),
                pathname: None
            }
        );
        for (bad, why) in [
            ("http://x/ws", "ws://"),
            ("x/ws", "ws://"),
            ("ws:///ws", "no host"),
            ("ws://u:p@x/ws", "credentials"),
            ("ws://x/ws?token=1", "'?'"),
            ("ws://x/{room}", "'{'"),
            ("ws://x/a b", "' '"),
        ] {
            let err = parse_server_url(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn twinwire_names_cannot_be_taken_by_a_definition() {
        for name in [
            META,
            CORRELATED_META,
            ERROR_PAYLOAD,
            ERROR_CODE,
            CORRELATION_ID,
        ] {
            assert!(!schema::is_component_key_of_a_name(name), "{name}");
        }
    }
}
