//! JSON Schema output: one envelope schema per message and the protocol bundle.
//!
//! The bundle's `$defs` holds every payload definition of the manifest under its own name
//! (so the manifest's `#/$defs/…` references resolve unchanged), plus twinwire's own
//! definitions under names no Rust type can have (`twinwire.Meta`, `twinwire.ClientEnvelope`,
//! `twinwire.ServerEnvelope`). The root is a `oneOf` of the two directions' envelope unions,
//! each a `oneOf` discriminated by the `type` constant.
//!
//! Integer schemas get the bounds of their Rust type where schemars leaves them out
//! (`uint32` has no `maximum`), so a number serde would refuse is refused by the schema too.
//! JSON is data, so it is built with serde_json rather than a template.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};
use twinwire::manifest::{JSON_SCHEMA_DIALECT, MessageSpec, ref_target, ref_to};
use twinwire::validate::MAX_SAFE_INTEGER;
use twinwire::{Direction, Manifest};

use crate::error::Error;
use crate::schema::integer_format_range;

/// Name of the envelope `meta` definition.
pub(crate) const META_DEF: &str = "twinwire.Meta";
/// Name of the client envelope union.
pub(crate) const CLIENT_DEF: &str = "twinwire.ClientEnvelope";
/// Name of the server envelope union.
pub(crate) const SERVER_DEF: &str = "twinwire.ServerEnvelope";

/// The bundle `protocol.schema.json`.
///
/// # Errors
/// [`Error::Names`] when a payload definition uses one of twinwire's reserved names.
pub(crate) fn bundle(manifest: &Manifest, comment: &str) -> Result<Value, Error> {
    check_reserved(manifest)?;
    let mut defs: Map<String, Value> = manifest
        .defs
        .iter()
        .map(|(name, schema)| (name.clone(), tightened(schema)))
        .collect();
    defs.insert(META_DEF.into(), meta_schema());
    defs.insert(
        CLIENT_DEF.into(),
        direction_union(manifest, Direction::Client),
    );
    defs.insert(
        SERVER_DEF.into(),
        direction_union(manifest, Direction::Server),
    );
    let mut root = Map::new();
    root.insert("$schema".into(), JSON_SCHEMA_DIALECT.into());
    root.insert("$comment".into(), comment.into());
    root.insert("title".into(), manifest.name.clone().into());
    if !manifest.doc.is_empty() {
        root.insert("description".into(), manifest.doc.clone().into());
    }
    root.insert(
        "oneOf".into(),
        json!([{"$ref": ref_to(CLIENT_DEF)}, {"$ref": ref_to(SERVER_DEF)}]),
    );
    root.insert("$defs".into(), Value::Object(defs));
    Ok(canonical(Value::Object(root)))
}

/// The schema of one message's envelope, with the definitions it needs.
///
/// # Errors
/// [`Error::Names`] when a payload definition uses one of twinwire's reserved names.
pub(crate) fn message(manifest: &Manifest, m: &MessageSpec, comment: &str) -> Result<Value, Error> {
    check_reserved(manifest)?;
    let mut root = Map::new();
    root.insert("$schema".into(), JSON_SCHEMA_DIALECT.into());
    root.insert("$comment".into(), comment.into());
    if let Value::Object(envelope) = envelope(manifest, m) {
        root.extend(envelope);
    }
    let mut defs = Map::new();
    for schema in [&m.payload, &m.meta].into_iter().flatten() {
        for name in reachable(manifest, schema) {
            if let Some(schema) = manifest.defs.get(&name) {
                defs.insert(name, tightened(schema));
            }
        }
    }
    defs.insert(META_DEF.into(), meta_schema());
    root.insert("$defs".into(), Value::Object(defs));
    Ok(canonical(Value::Object(root)))
}

fn check_reserved(manifest: &Manifest) -> Result<(), Error> {
    match manifest
        .defs
        .keys()
        .find(|name| name.starts_with("twinwire."))
    {
        Some(name) => Err(Error::Names(format!(
            "the schema definition `{name}` uses the `twinwire.` prefix reserved for the envelope \
             schemas; rename the type with `#[serde(rename = \"...\")]`"
        ))),
        None => Ok(()),
    }
}

pub(crate) fn meta_schema() -> Value {
    json!({
        "description": "Envelope meta: the standard keys, plus any per-message extras.",
        "type": "object",
        "properties": {
            "timestamp": {
                "description": "Milliseconds since the Unix epoch, set by the sender.",
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_SAFE_INTEGER as i64
            },
            "correlationId": {
                "description": "Marks an RPC request and its terminal reply.",
                "type": "string"
            }
        }
    })
}

/// Whether a message's typed meta declares a required key, so that its frames need `meta`.
pub(crate) fn meta_required(manifest: &Manifest, meta: &Value) -> bool {
    let resolved = match meta.get("$ref").and_then(Value::as_str) {
        Some(r) => ref_target(r).and_then(|name| manifest.defs.get(&name)),
        None => Some(meta),
    };
    resolved
        .and_then(|schema| schema.get("required"))
        .and_then(Value::as_array)
        .is_some_and(|required| !required.is_empty())
}

/// The envelope's `meta` property: the standard keys, and the typed meta's keys when the
/// message declares any. Both schemas apply to the same object, whose other keys stay
/// allowed (untyped extras).
pub(crate) fn meta_property(m: &MessageSpec) -> Value {
    match &m.meta {
        None => json!({"$ref": ref_to(META_DEF)}),
        Some(meta) => json!({"allOf": [{"$ref": ref_to(META_DEF)}, meta]}),
    }
}

fn envelope(manifest: &Manifest, m: &MessageSpec) -> Value {
    let mut schema = Map::new();
    schema.insert("title".into(), m.wire_type.clone().into());
    if !m.doc.is_empty() {
        schema.insert("description".into(), m.doc.clone().into());
    }
    schema.insert("type".into(), "object".into());
    let payload = m.payload.clone().unwrap_or(Value::Bool(false));
    schema.insert(
        "properties".into(),
        json!({
            "type": {"const": m.wire_type},
            "meta": meta_property(m),
            "payload": payload,
        }),
    );
    let mut required = vec!["type"];
    if m.meta
        .as_ref()
        .is_some_and(|meta| meta_required(manifest, meta))
    {
        required.push("meta");
    }
    if m.payload.is_some() {
        required.push("payload");
    }
    schema.insert("required".into(), json!(required));
    Value::Object(schema)
}

fn direction_union(manifest: &Manifest, direction: Direction) -> Value {
    let envelopes: Vec<Value> = manifest
        .messages
        .iter()
        .filter(|m| m.direction == direction)
        .map(|m| envelope(manifest, m))
        .collect();
    if envelopes.is_empty() {
        // `oneOf` must not be empty; a direction without messages accepts no frame.
        return Value::Bool(false);
    }
    let who = match direction {
        Direction::Client => "Every frame a client sends",
        Direction::Server => "Every frame the server sends",
    };
    json!({
        "description": format!("{who}, discriminated by `type`."),
        "oneOf": envelopes,
    })
}

/// The definitions `schema` refers to, directly or through other definitions.
pub(crate) fn reachable(manifest: &Manifest, schema: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut queue = Vec::new();
    collect_refs(schema, &mut queue);
    while let Some(name) = queue.pop() {
        if found.insert(name.clone())
            && let Some(def) = manifest.defs.get(&name)
        {
            collect_refs(def, &mut queue);
        }
    }
    found
}

fn collect_refs(schema: &Value, out: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            if let Some(target) = map.get("$ref").and_then(Value::as_str).and_then(ref_target) {
                out.push(target);
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// Adds the bounds of narrow integer formats that schemars leaves out.
pub(crate) fn tightened(schema: &Value) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        let value = match key.as_str() {
            // Keywords holding schemas by name.
            "properties" | "patternProperties" | "$defs" | "dependentSchemas" => match value {
                Value::Object(named) => Value::Object(
                    named
                        .iter()
                        .map(|(k, v)| (k.clone(), tightened(v)))
                        .collect(),
                ),
                other => other.clone(),
            },
            // Keywords holding lists of schemas.
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => match value {
                Value::Array(list) => Value::Array(list.iter().map(tightened).collect()),
                other => other.clone(),
            },
            // Keywords holding one schema.
            "items"
            | "additionalProperties"
            | "propertyNames"
            | "contains"
            | "not"
            | "if"
            | "then"
            | "else"
            | "unevaluatedItems"
            | "unevaluatedProperties" => tightened(value),
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    let is_integer = match out.get("type") {
        Some(Value::String(t)) => t == "integer",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "integer"),
        _ => false,
    };
    let range = out
        .get("format")
        .and_then(Value::as_str)
        .and_then(integer_format_range);
    if let (true, Some((lo, hi))) = (is_integer, range) {
        let lower = out.get("minimum").and_then(Value::as_f64);
        if lower.is_none_or(|m| m < lo) {
            out.insert("minimum".into(), json!(lo as i64));
        }
        let upper = out.get("maximum").and_then(Value::as_f64);
        if upper.is_none_or(|m| m > hi) {
            out.insert("maximum".into(), json!(hi as i64));
        }
    }
    Value::Object(out)
}

/// The same value with every object's keys sorted, so the output is byte-identical whatever
/// map ordering serde_json was built with.
pub(crate) fn canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<String, Value> =
                map.into_iter().map(|(k, v)| (k, canonical(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// Pretty JSON with a trailing newline.
pub(crate) fn to_text(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_integers_get_their_type_bounds_and_data_is_untouched() {
        let schema = json!({
            "type": "object",
            "properties": {
                "a": {"type": "integer", "format": "uint32", "minimum": 0},
                "b": {"type": ["integer", "null"], "format": "int8"},
                "c": {"type": "integer", "format": "uint8", "minimum": 1, "maximum": 10},
                "d": {"type": "integer", "format": "uint64", "minimum": 0, "maximum": 9007199254740991_u64},
                "default": {"type": "integer", "format": "uint16"}
            },
            "default": {"type": "integer", "format": "uint8"}
        });
        let t = tightened(&schema);
        assert_eq!(t["properties"]["a"]["maximum"], json!(4294967295_u32));
        assert_eq!(t["properties"]["b"]["minimum"], json!(-128));
        assert_eq!(t["properties"]["b"]["maximum"], json!(127));
        assert_eq!(t["properties"]["c"]["minimum"], json!(1));
        assert_eq!(t["properties"]["c"]["maximum"], json!(10));
        assert_eq!(t["properties"]["d"], schema["properties"]["d"]);
        assert_eq!(t["properties"]["default"]["maximum"], json!(65535));
        assert_eq!(t["default"], schema["default"]);
    }

    #[test]
    fn canonical_sorts_keys_recursively() {
        let v = canonical(json!({"b": {"z": 1, "a": [{"y": 1, "x": 2}]}, "a": 1}));
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"a":1,"b":{"a":[{"x":2,"y":1}],"z":1}}"#
        );
    }
}
