//! JSON Schema 2020-12 (the manifest's dialect) to the AsyncAPI Schema Object (AsyncAPI 3's
//! default schema format, a superset of JSON Schema draft-07), and the names of AsyncAPI
//! components.
//!
//! The rules, each with a unit test below:
//! - `$ref: #/$defs/Name` → `#/components/schemas/<key>` ([`component_key`]). A `$ref` with
//!   sibling keywords becomes `allOf: [{$ref}]` beside them: in 2020-12 the siblings apply
//!   too, in draft-07 they would be ignored.
//! - `prefixItems: [A, B]` (+ `items: C`) → `items: [A, B]` (+ `additionalItems: C`); a lone
//!   `items: C` stays as it is.
//! - `dependentRequired` and `dependentSchemas` → `dependencies` (both for one property:
//!   `allOf` of the two).
//! - `unevaluatedProperties: S` → `additionalProperties: S` when no in-place applicator
//!   (`allOf`, `anyOf`, `oneOf`, `if`/`then`/`else`, `dependentSchemas`, `$ref`) sits
//!   beside it, so only `properties`/`patternProperties` evaluate; dropped when
//!   `additionalProperties` is present (every property is evaluated already, it is a no-op).
//!   `unevaluatedItems` likewise becomes `additionalItems` after `prefixItems`, or `items`.
//! - `minContains: 0` makes `contains` vacuous: both are dropped.
//! - `$schema`, `$vocabulary`, `$anchor`, `$dynamicAnchor`, nested `$defs`/`definitions`
//!   are dropped: nothing in a manifest refers to them (every `$ref` points into its
//!   top-level `defs`, which [`Manifest::check`](twinwire::Manifest::check) ensures).
//! - A property named `__proto__` moves from `properties` to `patternProperties`
//!   (`^__proto__$`), and its `dependencies` entry to `allOf: [{if, then}]`: JavaScript
//!   tools, `@asyncapi/parser` among them, mangle a `__proto__` key (see
//!   [`proto_out_of_keys`]). Same validation, shown under pattern properties.
//! - Narrow integer formats get their type's bounds, as in the JSON Schema output.
//! - Everything else (`const`, `enum`, `type` lists, numeric and string keywords,
//!   `exclusiveMinimum` as a number, `examples`, `format`, `if`/`then`/`else`, …) means the
//!   same in draft-07 and is copied.
//!
//! What cannot be expressed, and so is lost (the document accepts more than the server):
//! - `unevaluatedProperties`/`unevaluatedItems` beside an in-place applicator: draft-07 has no
//!   keyword that sees the properties a subschema evaluated. Dropped.
//! - `minContains` ≥ 2 and `maxContains`: draft-07's `contains` means "at least one".
//!   Dropped, `contains` kept.
//! - `contentSchema` (an annotation): dropped.
//!
//! schemars writes none of these for serde types; they can only come from a hand-written
//! `JsonSchema` impl. Keywords that would change what a reference means (`$id`,
//! `$dynamicRef`, `$recursiveRef`, a `$ref` outside the manifest's `defs`) are refused with
//! [`Error::Schema`] rather than converted into something that validates differently.

use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::jsonschema::tightened;
use twinwire::manifest::ref_target;

/// Where converted definitions live in the document.
pub const COMPONENT_SCHEMAS: &str = "#/components/schemas/";

/// An AsyncAPI component key (they must match `^[a-zA-Z0-9\.\-_]+$`) for any name, injective:
/// ASCII letters, digits, `_` and `-` are kept, every other character (`.` included) is
/// written as `.` and two upper-case hex digits per UTF-8 byte; the empty name is `.` and
/// `__proto__` (which JavaScript tools mangle as a key) is `.5F_proto__`.
///
/// So a valid wire type like `SEND_MESSAGE` keeps its name, `chat.message` becomes
/// `chat.2Emessage` and `$ws:abort` becomes `.24ws.3Aabort`. A key never holds a `.` that
/// is not followed by two hex digits, so names like `twinwire.Meta` are free for twinwire's
/// own components (a unit test checks each of them).
pub fn component_key(name: &str) -> String {
    if name.is_empty() {
        return ".".to_owned();
    }
    if name == "__proto__" {
        // A key JavaScript tools mangle (see `proto_out_of_keys`); `_` is never escaped
        // otherwise, so this stays injective.
        return ".5F_proto__".to_owned();
    }
    let mut key = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            key.push(c);
        } else {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                key.push_str(&format!(".{byte:02X}"));
            }
        }
    }
    key
}

/// Whether `key` could be [`component_key`]'s result for some name; twinwire's own
/// component names are chosen so that it is not.
#[cfg(test)]
pub fn is_component_key_of_a_name(key: &str) -> bool {
    if key == "." {
        return true;
    }
    let bytes = key.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'.' => {
                let hex = |b: &u8| b.is_ascii_digit() || (b'A'..=b'F').contains(b);
                if !bytes
                    .get(i + 1..i + 3)
                    .is_some_and(|pair| pair.iter().all(hex))
                {
                    return false;
                }
                i += 3;
            }
            b if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' => i += 1,
            _ => return false,
        }
    }
    !key.is_empty()
}

/// Converts one schema. `component` maps a definition name (decoded from a
/// `#/$defs/…` reference) to its key in `components/schemas`; `context` names the schema in
/// errors (`definition `Foo``, `the payload of `BAR``).
///
/// # Errors
/// [`Error::Schema`] for a keyword that changes how references resolve, or a reference that
/// does not point to a known definition.
pub fn convert(
    schema: &Value,
    component: &dyn Fn(&str) -> Option<String>,
    context: &str,
) -> Result<Value, Error> {
    Converter { component, context }.schema(&tightened(schema))
}

struct Converter<'a> {
    component: &'a dyn Fn(&str) -> Option<String>,
    context: &'a str,
}

/// Keywords whose subschemas evaluate properties or items of the same instance, so an
/// `unevaluated…` beside them depends on what they evaluated.
const IN_PLACE_APPLICATORS: [&str; 7] = [
    "allOf",
    "anyOf",
    "oneOf",
    "if",
    "then",
    "else",
    "dependentSchemas",
];

impl Converter<'_> {
    fn error(&self, message: String) -> Error {
        Error::Schema {
            context: self.context.to_owned(),
            message,
        }
    }

    fn schema(&self, schema: &Value) -> Result<Value, Error> {
        let Value::Object(map) = schema else {
            // `true`, `false`: the same in draft-07.
            return Ok(schema.clone());
        };
        for refused in ["$id", "$dynamicRef", "$recursiveRef", "$recursiveAnchor"] {
            if map.contains_key(refused) {
                return Err(self.error(format!(
                    "`{refused}` cannot be expressed in an AsyncAPI schema (JSON Schema draft-07)"
                )));
            }
        }
        let has_applicator =
            map.contains_key("$ref") || IN_PLACE_APPLICATORS.iter().any(|k| map.contains_key(*k));

        let mut out = Map::new();
        for (key, value) in map {
            match key.as_str() {
                "$schema"
                | "$vocabulary"
                | "$anchor"
                | "$dynamicAnchor"
                | "$defs"
                | "definitions"
                | "contentSchema"
                | "minContains"
                | "maxContains"
                | "prefixItems"
                | "items"
                | "unevaluatedProperties"
                | "unevaluatedItems"
                | "dependentRequired"
                | "dependentSchemas"
                | "dependencies" => {}
                "$ref" => {
                    out.insert(key.clone(), self.reference(value)?);
                }
                "properties" | "patternProperties" => {
                    out.insert(key.clone(), self.named(value)?);
                }
                "allOf" | "anyOf" | "oneOf" => {
                    out.insert(key.clone(), self.list(value)?);
                }
                "additionalProperties"
                | "propertyNames"
                | "contains"
                | "not"
                | "if"
                | "then"
                | "else"
                | "additionalItems" => {
                    out.insert(key.clone(), self.schema(value)?);
                }
                // Data and annotations (`const`, `enum`, `default`, `examples`, `required`,
                // numeric and string keywords, `format`, `description`, …).
                _ => {
                    out.insert(key.clone(), value.clone());
                }
            }
        }

        self.items(map, has_applicator, &mut out)?;
        self.contains(map, &mut out);
        self.unevaluated_properties(map, has_applicator, &mut out)?;
        self.dependencies(map, &mut out)?;
        proto_out_of_keys(&mut out);

        // In draft-07 a `$ref` makes its siblings be ignored; 2020-12 applies them too.
        if out.len() > 1
            && let Some(reference) = out.remove("$ref")
        {
            let mut all = vec![json!({ "$ref": reference })];
            if let Some(Value::Array(existing)) = out.remove("allOf") {
                all.extend(existing);
            }
            out.insert("allOf".into(), Value::Array(all));
        }
        Ok(Value::Object(out))
    }

    fn reference(&self, value: &Value) -> Result<Value, Error> {
        let target = value.as_str().and_then(ref_target);
        let key = target.as_deref().and_then(|name| (self.component)(name));
        match key {
            Some(key) => Ok(Value::String(format!("{COMPONENT_SCHEMAS}{key}"))),
            None => Err(self.error(format!(
                "the reference {value} does not point to a definition of the manifest"
            ))),
        }
    }

    fn named(&self, value: &Value) -> Result<Value, Error> {
        match value {
            Value::Object(named) => named
                .iter()
                .map(|(k, v)| Ok((k.clone(), self.schema(v)?)))
                .collect::<Result<Map<_, _>, Error>>()
                .map(Value::Object),
            other => Ok(other.clone()),
        }
    }

    fn list(&self, value: &Value) -> Result<Value, Error> {
        match value {
            Value::Array(list) => list
                .iter()
                .map(|v| self.schema(v))
                .collect::<Result<Vec<_>, Error>>()
                .map(Value::Array),
            other => Ok(other.clone()),
        }
    }

    /// `prefixItems`/`items`/`unevaluatedItems` (2020-12) → `items`/`additionalItems`.
    fn items(
        &self,
        map: &Map<String, Value>,
        has_applicator: bool,
        out: &mut Map<String, Value>,
    ) -> Result<(), Error> {
        let rest = match map.get("items") {
            // A list is the draft-2019 spelling of `prefixItems`; keep it as draft-07 reads it.
            Some(items @ Value::Array(_)) => {
                out.insert("items".into(), self.list(items)?);
                return Ok(());
            }
            Some(items) => Some(self.schema(items)?),
            // With nothing evaluating items in place, the unevaluated ones are the rest.
            None if !has_applicator => map
                .get("unevaluatedItems")
                .map(|s| self.schema(s))
                .transpose()?,
            None => None,
        };
        match map.get("prefixItems") {
            Some(prefix) => {
                out.insert("items".into(), self.list(prefix)?);
                if let Some(rest) = rest {
                    out.insert("additionalItems".into(), rest);
                }
            }
            None => {
                if let Some(rest) = rest {
                    out.insert("items".into(), rest);
                }
            }
        }
        Ok(())
    }

    /// `minContains: 0` switches `contains` off; other counts are lost (see module docs).
    fn contains(&self, map: &Map<String, Value>, out: &mut Map<String, Value>) {
        if map.get("minContains").and_then(Value::as_f64) == Some(0.0) {
            out.remove("contains");
        }
    }

    fn unevaluated_properties(
        &self,
        map: &Map<String, Value>,
        has_applicator: bool,
        out: &mut Map<String, Value>,
    ) -> Result<(), Error> {
        if let Some(unevaluated) = map.get("unevaluatedProperties")
            && !has_applicator
            && !map.contains_key("additionalProperties")
        {
            out.insert("additionalProperties".into(), self.schema(unevaluated)?);
        }
        Ok(())
    }

    /// `dependentRequired` + `dependentSchemas` (+ a draft-07 `dependencies` already there)
    /// → `dependencies`.
    fn dependencies(
        &self,
        map: &Map<String, Value>,
        out: &mut Map<String, Value>,
    ) -> Result<(), Error> {
        let mut merged: Map<String, Value> = Map::new();
        let mut add = |property: &String, dependency: Value| {
            let combined = match merged.remove(property) {
                None => dependency,
                Some(earlier) => json!({ "allOf": [as_schema(earlier), as_schema(dependency)] }),
            };
            merged.insert(property.clone(), combined);
        };
        if let Some(Value::Object(required)) = map.get("dependentRequired") {
            for (property, names) in required {
                add(property, names.clone());
            }
        }
        for key in ["dependentSchemas", "dependencies"] {
            if let Some(Value::Object(schemas)) = map.get(key) {
                for (property, dependency) in schemas {
                    let converted = match dependency {
                        // A draft-07 `dependencies` entry may be a list of names.
                        Value::Array(_) => dependency.clone(),
                        _ => self.schema(dependency)?,
                    };
                    add(property, converted);
                }
            }
        }
        if !merged.is_empty() {
            out.insert("dependencies".into(), Value::Object(merged));
        }
        Ok(())
    }
}

/// JavaScript tools that copy a document by assignment turn a `__proto__` key into the
/// copy's prototype (`@asyncapi/parser` 3.6 does, and then reports errors about schemas that
/// are fine), so a property named `__proto__` is moved out of the keys of objects: from
/// `properties` to `patternProperties` under `^__proto__$`, and from `dependencies` to an
/// `if`/`then` in `allOf`. Both validate exactly as before.
fn proto_out_of_keys(out: &mut Map<String, Value>) {
    const PROTO: &str = "__proto__";
    const PATTERN: &str = "^__proto__$";
    let property = match out.get_mut("properties") {
        Some(Value::Object(properties)) => properties.remove(PROTO),
        _ => None,
    };
    if let Some(schema) = property {
        if out
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
        {
            out.remove("properties");
        }
        let patterns = out
            .entry("patternProperties")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(patterns) = patterns {
            let combined = match patterns.remove(PATTERN) {
                None => schema,
                Some(earlier) => json!({ "allOf": [earlier, schema] }),
            };
            patterns.insert(PATTERN.into(), combined);
        }
    }
    let dependency = match out.get_mut("dependencies") {
        Some(Value::Object(dependencies)) => dependencies.remove(PROTO),
        _ => None,
    };
    if let Some(dependency) = dependency {
        if out
            .get("dependencies")
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
        {
            out.remove("dependencies");
        }
        let rule = json!({ "if": { "required": [PROTO] }, "then": as_schema(dependency) });
        match out.get_mut("allOf") {
            Some(Value::Array(all)) => all.push(rule),
            _ => {
                out.insert("allOf".into(), json!([rule]));
            }
        }
    }
}

/// A `dependencies` entry as a schema: a list of property names means "these are required".
fn as_schema(dependency: Value) -> Value {
    match dependency {
        Value::Array(names) => json!({ "required": names }),
        schema => schema,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defs(name: &str) -> Option<String> {
        Some(component_key(name))
    }

    fn conv(schema: Value) -> Value {
        convert(&schema, &defs, "a test").unwrap()
    }

    #[test]
    fn component_keys_keep_plain_names_and_escape_the_rest_injectively() {
        // AsyncAPI's `^[a-zA-Z0-9\.\-_]+$`.
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
        };
        let names = [
            "SEND_MESSAGE",
            "kebab-case",
            "chat.message",
            "chat.2Emessage",
            "weird/type with space",
            "GRÖSSE",
            "$ws:rpc-progress",
            "",
            ".",
            ".2E",
            "🦀",
            "__proto__",
        ];
        let keys: Vec<String> = names.iter().map(|n| component_key(n)).collect();
        assert_eq!(keys[0], "SEND_MESSAGE");
        assert_eq!(keys[1], "kebab-case");
        assert_eq!(keys[2], "chat.2Emessage");
        assert_eq!(keys[4], "weird.2Ftype.20with.20space");
        assert_eq!(keys[5], "GR.C3.96SSE");
        assert_eq!(keys[6], ".24ws.3Arpc-progress");
        assert_eq!(keys[7], ".");
        assert_eq!(keys[8], ".2E");
        assert_eq!(keys[11], ".5F_proto__");
        for key in &keys {
            assert!(valid(key), "{key:?} is not a valid component key");
            assert!(is_component_key_of_a_name(key), "{key:?}");
        }
        let distinct: std::collections::BTreeSet<&String> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len(), "{keys:?}");
        for own in [
            "twinwire.Meta",
            "twinwire.ErrorPayload",
            "twinwire.Envelope",
        ] {
            assert!(!is_component_key_of_a_name(own), "{own}");
        }
        assert!(!is_component_key_of_a_name("a.2"));
        assert!(!is_component_key_of_a_name("a.2g"));
    }

    #[test]
    fn refs_point_into_components_and_percent_encoded_names_are_decoded() {
        assert_eq!(
            conv(json!({"$ref": "#/$defs/JoinRoom"})),
            json!({"$ref": "#/components/schemas/JoinRoom"})
        );
        assert_eq!(
            conv(json!({"$ref": "#/$defs/Gr%C3%B6%C3%9Fe"})),
            json!({"$ref": "#/components/schemas/Gr.C3.B6.C3.9Fe"})
        );
        assert_eq!(
            conv(json!({"$ref": "#/$defs/a~1b"})),
            json!({"$ref": "#/components/schemas/a.2Fb"})
        );
    }

    #[test]
    fn a_ref_with_siblings_is_wrapped_in_all_of_so_the_siblings_still_apply() {
        assert_eq!(
            conv(
                json!({"$ref": "#/$defs/A", "description": "doc", "allOf": [{"minProperties": 1}]})
            ),
            json!({
                "description": "doc",
                "allOf": [{"$ref": "#/components/schemas/A"}, {"minProperties": 1}]
            })
        );
    }

    #[test]
    fn refs_elsewhere_and_reference_changing_keywords_are_refused() {
        for bad in [
            json!({"$ref": "#/$defs/Unknown"}),
            json!({"$ref": "https://example.com/s.json"}),
            json!({"$ref": "#/$defs/A/properties/x"}),
            json!({"properties": {"x": {"$dynamicRef": "#node"}}}),
            json!({"$id": "https://example.com/a"}),
        ] {
            let known = |name: &str| (name == "A").then(|| "A".to_owned());
            let err = convert(&bad, &known, "definition `T`").unwrap_err();
            assert!(err.to_string().contains("definition `T`"), "{bad}: {err}");
        }
    }

    #[test]
    fn prefix_items_become_an_items_list_and_items_become_additional_items() {
        assert_eq!(
            conv(
                json!({"type": "array", "prefixItems": [{"type": "string"}, {"$ref": "#/$defs/A"}], "items": false, "minItems": 2})
            ),
            json!({
                "type": "array",
                "items": [{"type": "string"}, {"$ref": "#/components/schemas/A"}],
                "additionalItems": false,
                "minItems": 2
            })
        );
        assert_eq!(
            conv(json!({"prefixItems": [true]})),
            json!({"items": [true]})
        );
        assert_eq!(
            conv(json!({"type": "array", "items": {"type": "integer"}})),
            json!({"type": "array", "items": {"type": "integer"}})
        );
    }

    #[test]
    fn unevaluated_items_become_the_rest_only_without_in_place_applicators() {
        assert_eq!(
            conv(json!({"prefixItems": [true], "unevaluatedItems": false})),
            json!({"items": [true], "additionalItems": false})
        );
        assert_eq!(
            conv(json!({"unevaluatedItems": {"type": "string"}})),
            json!({"items": {"type": "string"}})
        );
        // `items` evaluates every item already: a no-op.
        assert_eq!(
            conv(json!({"items": true, "unevaluatedItems": false})),
            json!({"items": true})
        );
        // Lost: the `allOf` branch may evaluate items.
        assert_eq!(
            conv(json!({"allOf": [{"prefixItems": [true]}], "unevaluatedItems": false})),
            json!({"allOf": [{"items": [true]}]})
        );
    }

    #[test]
    fn unevaluated_properties_become_additional_properties_only_where_equivalent() {
        assert_eq!(
            conv(json!({"properties": {"a": true}, "unevaluatedProperties": false})),
            json!({"properties": {"a": true}, "additionalProperties": false})
        );
        // `additionalProperties` evaluates every other property already: a no-op.
        assert_eq!(
            conv(
                json!({"additionalProperties": {"type": "string"}, "unevaluatedProperties": false})
            ),
            json!({"additionalProperties": {"type": "string"}})
        );
        // Lost: which properties a branch evaluated has no draft-07 keyword.
        for applicator in ["allOf", "anyOf", "oneOf"] {
            assert_eq!(
                conv(
                    json!({applicator: [{"properties": {"b": true}}], "unevaluatedProperties": false})
                ),
                json!({applicator: [{"properties": {"b": true}}]})
            );
        }
        assert_eq!(
            conv(json!({"$ref": "#/$defs/A", "unevaluatedProperties": false})),
            json!({"$ref": "#/components/schemas/A"})
        );
        // Nested ones are converted too.
        assert_eq!(
            conv(json!({"properties": {"x": {"unevaluatedProperties": {"type": "integer"}}}})),
            json!({"properties": {"x": {"additionalProperties": {"type": "integer"}}}})
        );
    }

    #[test]
    fn dependent_required_and_schemas_become_dependencies() {
        assert_eq!(
            conv(json!({
                "dependentRequired": {"a": ["b"], "c": ["d"]},
                "dependentSchemas": {"c": {"$ref": "#/$defs/A"}, "e": {"required": ["f"]}}
            })),
            json!({"dependencies": {
                "a": ["b"],
                "c": {"allOf": [{"required": ["d"]}, {"$ref": "#/components/schemas/A"}]},
                "e": {"required": ["f"]}
            }})
        );
    }

    #[test]
    fn min_contains_zero_drops_contains_and_other_counts_are_dropped() {
        assert_eq!(
            conv(json!({"contains": {"type": "string"}, "minContains": 0})),
            json!({})
        );
        assert_eq!(
            conv(json!({"contains": {"type": "string"}, "minContains": 2, "maxContains": 3})),
            json!({"contains": {"type": "string"}})
        );
    }

    #[test]
    fn meta_keywords_and_nested_defs_are_dropped_and_data_is_untouched() {
        assert_eq!(
            conv(json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$anchor": "x",
                "$defs": {"Inner": {"type": "string"}},
                "contentSchema": {"type": "object"},
                "$comment": "kept",
                "const": {"$ref": "#/$defs/NotARef", "prefixItems": 1},
                "default": {"unevaluatedProperties": 1},
                "examples": [{"$id": "data"}],
                "enum": [{"$dynamicRef": "data"}]
            })),
            json!({
                "$comment": "kept",
                "const": {"$ref": "#/$defs/NotARef", "prefixItems": 1},
                "default": {"unevaluatedProperties": 1},
                "examples": [{"$id": "data"}],
                "enum": [{"$dynamicRef": "data"}]
            })
        );
    }

    #[test]
    fn a_proto_property_moves_out_of_the_keys_of_objects() {
        assert_eq!(
            conv(json!({
                "properties": {"__proto__": {"type": "string"}, "a": true},
                "dependentRequired": {"__proto__": ["a"]},
                "additionalProperties": false
            })),
            json!({
                "properties": {"a": true},
                "patternProperties": {"^__proto__$": {"type": "string"}},
                "allOf": [{"if": {"required": ["__proto__"]}, "then": {"required": ["a"]}}],
                "additionalProperties": false
            })
        );
        assert_eq!(
            conv(json!({
                "properties": {"__proto__": {"minLength": 1}},
                "patternProperties": {"^__proto__$": {"maxLength": 3}}
            })),
            json!({"patternProperties": {"^__proto__$": {"allOf": [{"maxLength": 3}, {"minLength": 1}]}}})
        );
    }

    #[test]
    fn property_names_are_data_not_keywords() {
        assert_eq!(
            conv(
                json!({"properties": {"$ref": {"type": "string"}, "items": {"prefixItems": [true]}}})
            ),
            json!({"properties": {"$ref": {"type": "string"}, "items": {"items": [true]}}})
        );
    }

    #[test]
    fn narrow_integers_get_their_bounds_and_compositions_are_converted_inside() {
        assert_eq!(
            conv(json!({"anyOf": [{"type": "integer", "format": "uint8"}, {"type": "null"}]})),
            json!({"anyOf": [{"type": "integer", "format": "uint8", "minimum": 0, "maximum": 255}, {"type": "null"}]})
        );
        assert_eq!(
            conv(
                json!({"not": {"prefixItems": [true]}, "if": {"$ref": "#/$defs/A"}, "then": true, "else": false})
            ),
            json!({"not": {"items": [true]}, "if": {"$ref": "#/components/schemas/A"}, "then": true, "else": false})
        );
    }
}
