//! JSON Schema → TypeScript type expressions.
//!
//! The mapping follows what `JSON.parse` yields for the values serde writes: integers of
//! every width are `number` (64-bit ones are bounded by the validators, see the README's
//! "Integers"), `Option` is `T | null`, a property serde may omit is optional, a flattened
//! map is an index signature beside the named properties, a tuple is a tuple type, and an
//! integer-keyed map has `` `${number}` `` keys.

use crate::schema::{Additional, Kind, Node, Object};
use crate::ts::defs::Defs;
use crate::ts::names::{doc_comment, json_literal, property_key};

/// How tightly a type expression binds, to know where it needs parentheses.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Prec {
    Union,
    Intersection,
    Atom,
}

/// Prints type expressions; `defs` resolves `$ref`s to the generated type names.
pub(crate) struct TypePrinter<'a> {
    defs: &'a Defs,
}

const INDENT: &str = "  ";

impl<'a> TypePrinter<'a> {
    /// A printer resolving references through `defs`.
    pub(crate) fn new(defs: &'a Defs) -> Self {
        Self { defs }
    }

    /// The TypeScript type of `node`, laid out for a position nested `depth` levels deep.
    pub(crate) fn type_of(&self, node: &Node, depth: usize) -> String {
        self.expr(node, depth).0
    }

    /// A definition's right-hand side: unions put one variant per line, each with its doc.
    pub(crate) fn definition(&self, node: &Node) -> String {
        match &node.kind {
            Kind::Union(variants) if variants.len() > 1 => {
                let mut out = String::new();
                for variant in variants {
                    out.push('\n');
                    let doc = variant.doc.as_deref().unwrap_or_default();
                    out.push_str(&doc_comment(doc, INDENT));
                    out.push_str(INDENT);
                    out.push_str("| ");
                    out.push_str(&self.type_of(variant, 1));
                }
                out
            }
            _ => format!(" {}", self.type_of(node, 0)),
        }
    }

    /// The body of an `interface` for `object`, or `None` when the object is better written
    /// as a type alias (no named properties).
    pub(crate) fn interface_body(&self, object: &Object) -> Option<String> {
        (!object.properties.is_empty()).then(|| self.object(object, 0))
    }

    fn expr(&self, node: &Node, depth: usize) -> (String, Prec) {
        match &node.kind {
            Kind::Any => ("unknown".into(), Prec::Atom),
            Kind::Never => ("never".into(), Prec::Atom),
            Kind::Ref(name) => (
                self.defs
                    .ident(name)
                    .map_or_else(|| "unknown".to_owned(), str::to_owned),
                Prec::Atom,
            ),
            Kind::Const(value) => (json_literal(value), Prec::Atom),
            Kind::Enum(values) => match values.as_slice() {
                [] => ("never".into(), Prec::Atom),
                [one] => (json_literal(one), Prec::Atom),
                many => (
                    many.iter()
                        .map(json_literal)
                        .collect::<Vec<_>>()
                        .join(" | "),
                    Prec::Union,
                ),
            },
            Kind::Null => ("null".into(), Prec::Atom),
            Kind::Boolean => ("boolean".into(), Prec::Atom),
            Kind::Integer(_) | Kind::Number(_) => ("number".into(), Prec::Atom),
            // Any string but some names (a `#[serde(other)]` catch-all): `string & {}` keeps
            // the declared names' literal types from collapsing into `string` in a union.
            Kind::String(t) if t.not_in.is_some() => ("(string & {})".into(), Prec::Atom),
            Kind::String(_) => ("string".into(), Prec::Atom),
            Kind::Array(array) => {
                if !array.prefix.is_empty() {
                    let mut items: Vec<String> = array
                        .prefix
                        .iter()
                        .map(|n| self.type_of(n, depth))
                        .collect();
                    if !array.is_closed_tuple() {
                        let rest = array.items.as_deref().map_or_else(
                            || ("unknown".into(), Prec::Atom),
                            |n| self.expr(n, depth),
                        );
                        items.push(format!("...{}[]", paren(rest, Prec::Atom)));
                    }
                    (format!("[{}]", items.join(", ")), Prec::Atom)
                } else {
                    let item = array
                        .items
                        .as_deref()
                        .map_or_else(|| ("unknown".into(), Prec::Atom), |n| self.expr(n, depth));
                    (format!("{}[]", paren(item, Prec::Atom)), Prec::Atom)
                }
            }
            Kind::Object(object) => (self.object(object, depth), Prec::Atom),
            Kind::Union(variants) => {
                let mut members: Vec<String> = Vec::new();
                for v in variants {
                    let text = self.expr(v, depth).0;
                    if !members.contains(&text) {
                        members.push(text);
                    }
                }
                match members.len() {
                    0 => ("never".into(), Prec::Atom),
                    1 => {
                        let only = variants.first().map(|v| self.expr(v, depth));
                        only.unwrap_or_else(|| ("never".into(), Prec::Atom))
                    }
                    _ => (members.join(" | "), Prec::Union),
                }
            }
            Kind::AllOf(parts) => match parts.as_slice() {
                [] => ("unknown".into(), Prec::Atom),
                [one] => self.expr(one, depth),
                many => (
                    many.iter()
                        .map(|p| paren(self.expr(p, depth), Prec::Intersection))
                        .collect::<Vec<_>>()
                        .join(" & "),
                    Prec::Intersection,
                ),
            },
        }
    }

    fn object(&self, object: &Object, depth: usize) -> String {
        let inner = INDENT.repeat(depth + 1);
        let mut lines = String::new();
        let mut member_types: Vec<String> = Vec::new();
        let mut any_optional = false;
        for prop in &object.properties {
            let doc = describe(&prop.node);
            lines.push_str(&doc_comment(&doc, &inner));
            let ty = self.type_of(&prop.node, depth + 1);
            let mark = if prop.required { "" } else { "?" };
            any_optional |= !prop.required;
            lines.push_str(&format!(
                "{inner}{}{mark}: {ty};\n",
                property_key(&prop.name)
            ));
            if !member_types.contains(&ty) {
                member_types.push(ty);
            }
        }
        for name in &object.required_only {
            lines.push_str(&format!("{inner}{}: unknown;\n", property_key(name)));
            member_types.push("unknown".into());
        }
        if let Some((key, value)) = self.index_signature(object, depth) {
            // An index signature must admit every named property's type too.
            let mut types = vec![value];
            for t in member_types {
                if !types.contains(&t) {
                    types.push(t);
                }
            }
            if any_optional {
                types.push("undefined".into());
            }
            let value = if types.iter().any(|t| t == "unknown") {
                "unknown".to_owned()
            } else {
                types.join(" | ")
            };
            lines.push_str(&format!("{inner}[key: {key}]: {value};\n"));
        }
        if lines.is_empty() {
            // No named property and no further key: an empty object.
            return "Record<string, never>".into();
        }
        format!("{{\n{lines}{}}}", INDENT.repeat(depth))
    }

    /// The key and value type of the object's index signature, if keys beyond the named
    /// ones are allowed and described.
    fn index_signature(&self, object: &Object, depth: usize) -> Option<(String, String)> {
        let mut values: Vec<String> = Vec::new();
        for (_, node) in &object.patterns {
            let t = self.type_of(node, depth + 1);
            if !values.contains(&t) {
                values.push(t);
            }
        }
        match &object.additional {
            Additional::Schema(node) => {
                let t = self.type_of(node, depth + 1);
                if !values.contains(&t) {
                    values.push(t);
                }
            }
            Additional::Any if !object.patterns.is_empty() || object.properties.is_empty() => {
                values.push("unknown".into());
            }
            Additional::Any | Additional::Forbidden => {}
        }
        if values.is_empty() {
            return None;
        }
        let numeric_keys = matches!(object.additional, Additional::Forbidden)
            && !object.patterns.is_empty()
            && object
                .patterns
                .iter()
                .all(|(p, _)| p == r"^\d+$" || p == r"^-?\d+$");
        let key = if numeric_keys {
            "`${number}`"
        } else {
            "string"
        };
        let value = if values.iter().any(|v| v == "unknown") {
            "unknown".to_owned()
        } else {
            values.join(" | ")
        };
        Some((key.to_owned(), value))
    }
}

/// A node's documentation with its default value noted.
pub(crate) fn describe(node: &Node) -> String {
    let mut doc = node.doc.clone().unwrap_or_default();
    if let Some(default) = &node.default {
        if !doc.is_empty() {
            doc.push_str("\n\n");
        }
        doc.push_str(&format!("@defaultValue `{}`", json_literal(default)));
    }
    doc
}

fn paren((text, prec): (String, Prec), needed: Prec) -> String {
    if prec < needed {
        format!("({text})")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::collections::BTreeMap;

    fn defs() -> Defs {
        let mut map = BTreeMap::new();
        map.insert("Attachment".to_owned(), json!({"type": "object"}));
        map.insert("delete".to_owned(), json!({"type": "string"}));
        Defs::new(&map).unwrap()
    }

    fn ts(schema: Value) -> String {
        let defs = defs();
        TypePrinter::new(&defs).type_of(&Node::parse(&schema).unwrap(), 0)
    }

    #[test]
    fn scalars_options_and_refs() {
        assert_eq!(ts(json!({"type": "integer", "format": "uint64"})), "number");
        assert_eq!(ts(json!({"type": ["string", "null"]})), "string | null");
        assert_eq!(
            ts(json!({"anyOf": [{"$ref": "#/$defs/Attachment"}, {"type": "null"}]})),
            "Attachment | null"
        );
        assert_eq!(ts(json!({"$ref": "#/$defs/delete"})), "delete_");
        assert_eq!(ts(json!(true)), "unknown");
        assert_eq!(ts(json!({"enum": ["a", 1, null]})), "\"a\" | 1 | null");
        assert_eq!(ts(json!({"const": {"k": [1]}})), r#"{"k":[1]}"#);
    }

    #[test]
    fn arrays_tuples_and_precedence() {
        assert_eq!(
            ts(json!({"type": "array", "items": {"type": ["string", "null"]}})),
            "(string | null)[]"
        );
        assert_eq!(
            ts(
                json!({"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "minItems": 2, "maxItems": 2})
            ),
            "[number, string]"
        );
        assert_eq!(
            ts(json!({"type": "array", "prefixItems": [{"type": "integer"}]})),
            "[number, ...unknown[]]"
        );
        assert_eq!(
            ts(
                json!({"allOf": [{"$ref": "#/$defs/Attachment"}, {"anyOf": [{"const": 1}, {"const": 2}]}]})
            ),
            "Attachment & (1 | 2)"
        );
    }

    #[test]
    fn objects_quote_keys_and_mark_optional_properties() {
        let text = ts(json!({
            "type": "object",
            "properties": {
                "roomId": {"type": "string", "description": "The room."},
                "with-dash": {"type": "integer", "default": 5},
            },
            "required": ["roomId"],
            "additionalProperties": false
        }));
        assert_eq!(
            text,
            "{\n  /** The room. */\n  roomId: string;\n  /** @defaultValue `5` */\n  \"with-dash\"?: number;\n}"
        );
    }

    #[test]
    fn maps_and_flattened_maps_get_index_signatures() {
        assert_eq!(
            ts(json!({"type": "object", "additionalProperties": {"type": "integer"}})),
            "{\n  [key: string]: number;\n}"
        );
        assert_eq!(
            ts(
                json!({"type": "object", "additionalProperties": false, "patternProperties": {"^\\d+$": {"type": "string"}}})
            ),
            "{\n  [key: `${number}`]: string;\n}"
        );
        assert_eq!(
            ts(json!({
                "type": "object",
                "properties": {"id": {"type": "string"}, "n": {"type": "boolean"}},
                "required": ["id"],
                "additionalProperties": {"type": "integer"}
            })),
            "{\n  id: string;\n  n?: boolean;\n  [key: string]: number | string | boolean | undefined;\n}"
        );
        assert_eq!(
            ts(json!({"type": "object", "additionalProperties": false})),
            "Record<string, never>"
        );
        assert_eq!(
            ts(json!({"type": "object"})),
            "{\n  [key: string]: unknown;\n}"
        );
    }

    #[test]
    fn definitions_put_documented_variants_on_their_own_lines() {
        let defs = defs();
        let node = Node::parse(&json!({"oneOf": [
            {"const": "add", "description": "`a + b`"},
            {"const": "mul"}
        ]}))
        .unwrap();
        assert_eq!(
            TypePrinter::new(&defs).definition(&node),
            "\n  /** `a + b` */\n  | \"add\"\n  | \"mul\""
        );
    }
}
