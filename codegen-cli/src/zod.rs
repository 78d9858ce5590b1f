//! `protocol.zod.ts`: a zod 4 schema for every payload type and `message()`/`rpc()`
//! definitions for `@ws-kit/zod` 0.10, so a WS-Kit app imports the Rust-declared protocol.
//!
//! Written by Rust code, like `protocol.ts` (ARCHITECTURE.md, "Code generation"): every
//! schema is an expression that follows the payload's JSON Schema recursively. Where zod's
//! own checks count or test differently from the server, the expression refines with the
//! same helper functions `protocol.ts` uses (lengths in Unicode scalar values, the server's
//! email, URL, UUID and date-time rules, patterns compiled with the `u` flag), so a payload
//! passes its zod schema exactly when it passes the generated validator.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use twinwire::{Direction, Manifest};

use crate::error::Error;
use crate::schema::{
    Additional, Array, Kind, Node, Numeric, Object, Representation, Text, integer_format_range,
};
use crate::ts::defs::Defs;
use crate::ts::helpers::Helper;
use crate::ts::names::{doc_comment, identifier, json_literal, line_comment, string_literal};

/// The generated `protocol.zod.ts` for `manifest`; `header` is its first comment line.
///
/// # Errors
/// [`Error::Schema`] for a schema it cannot read, [`Error::Names`] when generated names
/// collide.
pub(crate) fn protocol_zod(manifest: &Manifest, header: &str) -> Result<String, Error> {
    let defs = Defs::new(&manifest.defs)?;
    let mut writer = Writer {
        defs: &defs,
        helpers: BTreeSet::new(),
        patterns: BTreeMap::new(),
        declared: BTreeSet::new(),
    };

    // Definitions in dependency order, so a schema names the ones it uses directly; a
    // reference back into a cycle is `z.lazy` with an explicit type, which TypeScript needs
    // to type a recursive constant.
    let mut order = Vec::new();
    let mut state: BTreeMap<&str, bool> = BTreeMap::new();
    for (name, _) in defs.schema().iter() {
        visit(&defs, name, &mut state, &mut order);
    }
    let mut body = String::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut claim = |name: &str, what: String| -> Result<(), Error> {
        match names.insert(name.to_owned(), what.clone()) {
            Some(first) => Err(Error::Names(format!(
                "the generated zod module would declare `{name}` twice: for {first} and for \
                 {what}; rename the Rust type (or its schema with `#[serde(rename = \"...\")]`)"
            ))),
            None => Ok(()),
        }
    };
    for name in &order {
        let Some(node) = defs
            .schema()
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, n)| n)
        else {
            continue;
        };
        let ident = schema_ident(defs.ident(name).unwrap_or_default());
        claim(&ident, format!("the schema of `{name}`"))?;
        let expr = writer.expr(node);
        body.push('\n');
        body.push_str(&doc_comment(node.doc.as_deref().unwrap_or_default(), ""));
        body.push_str(&format!("export const {ident} = {expr};\n"));
        writer.declared.insert(name.clone());
    }

    // Each message's payload schema (a definition's, or one of its own) and whether it is
    // an object, which WS-Kit's `message()` requires.
    let mut payloads: Vec<Option<(String, bool)>> = Vec::new();
    for m in &manifest.messages {
        let Some(schema) = &m.payload else {
            payloads.push(None);
            continue;
        };
        let node = defs.schema().payload(schema, &m.wire_type)?;
        let is_object = matches!(&defs.schema().resolve(&node).kind, Kind::Object(_));
        let name = match &node.kind {
            Kind::Ref(def) => schema_ident(defs.ident(def).unwrap_or_default()),
            _ => {
                let ident = schema_ident(&format!("{}Payload", identifier(&m.rust_name)));
                claim(
                    &ident,
                    format!("the payload of {}", string_literal(&m.wire_type)),
                )?;
                let expr = writer.expr(&node);
                body.push('\n');
                body.push_str(&doc_comment(&m.doc, ""));
                body.push_str(&format!("export const {ident} = {expr};\n"));
                ident
            }
        };
        payloads.push(Some((name, is_object)));
    }

    // Each message's typed meta schema, which WS-Kit's `message()` takes as a raw shape.
    let mut metas: Vec<Option<String>> = Vec::new();
    for m in &manifest.messages {
        let Some(schema) = &m.meta else {
            metas.push(None);
            continue;
        };
        let node = defs.schema().payload(schema, &m.wire_type)?;
        let name = match &node.kind {
            Kind::Ref(def) => schema_ident(defs.ident(def).unwrap_or_default()),
            _ => {
                let ident = schema_ident(&format!("{}Meta", identifier(&m.rust_name)));
                claim(
                    &ident,
                    format!("the meta of {}", string_literal(&m.wire_type)),
                )?;
                let expr = writer.expr(&node);
                body.push_str(&format!("\nexport const {ident} = {expr};\n"));
                ident
            }
        };
        metas.push(Some(name));
    }

    // WS-Kit definitions: server messages first, so an RPC's response exists before it.
    let mut definitions = String::new();
    let mut uses_rpc = false;
    let payload_of = |kind: &str| {
        manifest
            .messages
            .iter()
            .zip(&payloads)
            .zip(&metas)
            .find(|((m, _), _)| m.wire_type == kind)
            .map(|((_, p), meta)| (p.clone(), meta.clone()))
    };
    for direction in [Direction::Server, Direction::Client] {
        for ((m, payload), meta) in manifest.messages.iter().zip(&payloads).zip(&metas) {
            if m.direction != direction {
                continue;
            }
            let ident = identifier(&m.rust_name);
            claim(
                &ident,
                format!("the definition of {}", string_literal(&m.wire_type)),
            )?;
            let doc = doc_comment(&m.doc, "");
            let response = manifest
                .rpc_for_request(&m.wire_type)
                .and_then(|r| payload_of(&r.response).map(|p| (r.response.clone(), p)));
            let objects = payload.as_ref().is_none_or(|(_, o)| *o)
                && response
                    .as_ref()
                    .is_none_or(|(_, (p, _))| p.as_ref().is_none_or(|(_, o)| *o));
            definitions.push('\n');
            if !objects {
                definitions.push_str(&format!(
                    "// {} has no WS-Kit definition: WS-Kit 0.10 carries only object payloads \
                     (validate with the payload schema instead).\n",
                    string_literal(&m.wire_type)
                ));
                continue;
            }
            definitions.push_str(&doc);
            let spec = |kind: &str, payload: &Option<(String, bool)>, meta: &Option<String>| {
                // WS-Kit takes meta as a raw shape, beside its own standard keys.
                let meta = meta
                    .as_ref()
                    .map(|m| format!(", meta: {m}.shape"))
                    .unwrap_or_default();
                match payload {
                    Some((schema, _)) => format!(
                        "{{ type: {}, payload: {schema}{meta}, options: {{ strict: false }} }}",
                        string_literal(kind)
                    ),
                    None => format!("{{ type: {}{meta} }}", string_literal(kind)),
                }
            };
            let value = match &response {
                Some((kind, (res, res_meta))) => {
                    uses_rpc = true;
                    format!(
                        "rpc({{\n  req: {},\n  res: {},\n}})",
                        spec(&m.wire_type, payload, meta),
                        spec(kind, res, res_meta)
                    )
                }
                None => format!("message({})", spec(&m.wire_type, payload, meta)),
            };
            definitions.push_str(&format!("export const {ident} = {value};\n"));
        }
    }

    // Every payload by wire type (`z.undefined()` for a message without one), for code that
    // validates payloads outside WS-Kit.
    let mut table = String::from(
        "\n/** Every message's payload schema by wire type (`z.undefined()` when it has none). */\nexport const payloadSchemas = {\n",
    );
    for (m, payload) in manifest.messages.iter().zip(&payloads) {
        let schema = payload
            .as_ref()
            .map_or("z.undefined()".to_owned(), |(s, _)| s.clone());
        table.push_str(&format!("  {}: {schema},\n", string_literal(&m.wire_type)));
    }
    table.push_str("} as const;\n");
    claim("payloadSchemas", "the payload table".into())?;

    let mut out = line_comment(header);
    out.push_str(
        "// zod schemas and @ws-kit/zod 0.10 definitions of the protocol, for WS-Kit apps.\n\
         // Peer dependencies of this file only: zod 4 and @ws-kit/zod 0.10 (the other generated\n\
         // files need no package).\n",
    );
    out.push_str(&doc_comment(&manifest.doc, ""));
    out.push_str("\nimport { z } from \"zod\";\n");
    if uses_rpc {
        out.push_str("import { message, rpc } from \"@ws-kit/zod\";\n");
    } else {
        out.push_str("import { message } from \"@ws-kit/zod\";\n");
    }
    out.push_str(&writer.declarations());
    out.push_str(&body);
    out.push_str(&definitions);
    out.push_str(&table);
    Ok(out)
}

/// The exported name of a payload type's schema.
fn schema_ident(ident: &str) -> String {
    format!("{ident}Schema")
}

/// Depth-first post-order of the definitions: a definition after the ones it refers to
/// (except along a cycle). `state`: `false` while being visited, `true` once placed.
fn visit<'d>(
    defs: &'d Defs,
    name: &'d str,
    state: &mut BTreeMap<&'d str, bool>,
    order: &mut Vec<String>,
) {
    if state.contains_key(name) {
        return;
    }
    state.insert(name, false);
    if let Some((key, node)) = defs.schema().iter().find(|(n, _)| *n == name) {
        let mut refs = Vec::new();
        collect_refs(node, &mut refs);
        for r in refs {
            if let Some((target, _)) = defs.schema().iter().find(|(n, _)| **n == r) {
                visit(defs, target, state, order);
            }
        }
        state.insert(key, true);
        order.push(key.to_owned());
    }
}

fn collect_refs(node: &Node, out: &mut Vec<String>) {
    match &node.kind {
        Kind::Ref(name) => out.push(name.clone()),
        Kind::Array(a) => {
            a.prefix.iter().for_each(|n| collect_refs(n, out));
            if let Some(items) = &a.items {
                collect_refs(items, out);
            }
        }
        Kind::Object(o) => {
            o.properties.iter().for_each(|p| collect_refs(&p.node, out));
            o.patterns.iter().for_each(|(_, n)| collect_refs(n, out));
            if let Additional::Schema(n) = &o.additional {
                collect_refs(n, out);
            }
            if let Some(n) = &o.property_names {
                collect_refs(n, out);
            }
        }
        Kind::Union(list) | Kind::AllOf(list) => list.iter().for_each(|n| collect_refs(n, out)),
        _ => {}
    }
}

/// Writes zod expressions, recording the helpers and patterns they use.
struct Writer<'d> {
    defs: &'d Defs,
    helpers: BTreeSet<Helper>,
    patterns: BTreeMap<String, usize>,
    /// Definitions already declared: named directly; the others through `z.lazy`.
    declared: BTreeSet<String>,
}

impl Writer<'_> {
    fn use_helper(&mut self, helper: Helper) {
        if self.helpers.insert(helper) {
            for callee in helper.calls() {
                self.use_helper(*callee);
            }
        }
    }

    fn pattern(&mut self, source: &str) -> String {
        self.use_helper(Helper::Regex);
        self.use_helper(Helper::Test);
        let next = self.patterns.len();
        let index = *self.patterns.entry(source.to_owned()).or_insert(next);
        format!("$pattern{index}")
    }

    /// The helper functions and compiled patterns used, as declarations.
    fn declarations(&self) -> String {
        let mut out = String::new();
        let (builtins, functions): (Vec<Helper>, Vec<Helper>) =
            self.helpers.iter().partition(|h| h.is_builtin());
        if !builtins.is_empty() {
            out.push('\n');
            for helper in builtins {
                out.push_str(helper.text());
                out.push('\n');
            }
        }
        for helper in functions {
            out.push('\n');
            out.push_str(helper.text());
            out.push('\n');
        }
        let mut list: Vec<(usize, &String)> = self.patterns.iter().map(|(s, i)| (*i, s)).collect();
        list.sort();
        if !list.is_empty() {
            out.push('\n');
        }
        for (i, source) in list {
            out.push_str(&format!(
                "const $pattern{i} = $regex({});\n",
                string_literal(source)
            ));
        }
        out
    }

    /// The zod expression of `node`.
    fn expr(&mut self, node: &Node) -> String {
        match &node.kind {
            Kind::Any => "z.unknown()".to_owned(),
            Kind::Never => "z.never()".to_owned(),
            Kind::Ref(name) => {
                let ident = schema_ident(self.defs.ident(name).unwrap_or("unknown"));
                if self.declared.contains(name) {
                    ident
                } else {
                    format!("z.lazy((): z.ZodType => {ident})")
                }
            }
            Kind::Const(value) => self.constant(value),
            Kind::Enum(values) => {
                if !values.is_empty() && values.iter().all(Value::is_string) {
                    let list: Vec<String> = values.iter().map(json_literal).collect();
                    format!("z.enum([{}])", list.join(", "))
                } else {
                    let list: Vec<String> = values.iter().map(|v| self.constant(v)).collect();
                    match list.as_slice() {
                        [] => "z.never()".to_owned(),
                        [one] => one.clone(),
                        _ => format!("z.union([{}])", list.join(", ")),
                    }
                }
            }
            Kind::Null => "z.null()".to_owned(),
            Kind::Boolean => "z.boolean()".to_owned(),
            Kind::Integer(n) => self.integer(n),
            Kind::Number(n) => format!("z.number(){}", bounds(n, None, None)),
            Kind::String(t) => self.string(t),
            Kind::Array(a) => self.array(a),
            Kind::Object(o) => self.object(o),
            Kind::Union(variants) => {
                let defs = self.defs;
                let union = defs.schema().union(variants);
                let inner = match &union.representation {
                    Representation::Empty => None,
                    Representation::Single(only) => Some(self.expr(only)),
                    Representation::Tagged {
                        variants,
                        catch_all,
                        ..
                    } => {
                        let list: Vec<String> = variants
                            .iter()
                            .map(|(_, v)| *v)
                            .chain(*catch_all)
                            .map(|v| self.expr(v))
                            .collect();
                        Some(format!("z.union([{}])", list.join(", ")))
                    }
                    Representation::External(variants) => {
                        let list: Vec<String> =
                            variants.iter().map(|(_, v)| self.expr(v)).collect();
                        Some(format!("z.union([{}])", list.join(", ")))
                    }
                    Representation::Untagged(variants) => {
                        let list: Vec<String> = variants.iter().map(|v| self.expr(v)).collect();
                        Some(format!("z.union([{}])", list.join(", ")))
                    }
                };
                match (inner, union.nullable) {
                    (None, true) => "z.null()".to_owned(),
                    (None, false) => "z.never()".to_owned(),
                    (Some(inner), true) => format!("{inner}.nullable()"),
                    (Some(inner), false) => inner,
                }
            }
            Kind::AllOf(parts) => {
                // zod 4 refuses a key of an intersection only when every side refuses it, so
                // a loose side would let through what a strict side beside it (a flattened
                // strict variant) refuses: each open object side is written strict, and a key
                // stays allowed while any side names it or is loose, as in JSON Schema.
                let mut list = parts.iter().map(|p| match &p.kind {
                    Kind::Object(o)
                        if o.additional == Additional::Any
                            && o.patterns.is_empty()
                            && o.property_names.is_none() =>
                    {
                        let closed = Object {
                            additional: Additional::Forbidden,
                            ..o.clone()
                        };
                        self.object(&closed)
                    }
                    _ => self.expr(p),
                });
                let first = list.next().unwrap_or_else(|| "z.unknown()".to_owned());
                list.fold(first, |acc, next| format!("z.intersection({acc}, {next})"))
            }
        }
    }

    fn constant(&mut self, value: &Value) -> String {
        match value {
            Value::Null => "z.null()".to_owned(),
            Value::Object(_) | Value::Array(_) => {
                self.use_helper(Helper::Equal);
                format!(
                    "z.custom<unknown>((value) => $equal(value, {}))",
                    json_literal(value)
                )
            }
            _ => format!("z.literal({})", json_literal(value)),
        }
    }

    fn integer(&mut self, n: &Numeric) -> String {
        let format = n.format.as_deref().unwrap_or_default();
        let (lo, hi) = match integer_format_range(format) {
            Some((lo, hi)) => (Some(lo), Some(hi)),
            None => (None, None),
        };
        // `.int()` is zod 4's safe-integer check: beyond ±(2^53 − 1) the server refuses a
        // 64-bit integer too (docs/wire-protocol.md, "Limits").
        let mut out = String::from("z.number().int()");
        if let Some(lo) = lo {
            out.push_str(&format!(".gte({})", number(lo)));
        }
        if let Some(hi) = hi {
            out.push_str(&format!(".lte({})", number(hi)));
        }
        out.push_str(&bounds(n, lo, hi));
        out
    }

    fn string(&mut self, t: &Text) -> String {
        let mut out = String::from("z.string()");
        // zod's `.min`/`.max` count UTF-16 units; the server counts Unicode scalar values.
        if t.min_length.is_some_and(|m| m > 0) || t.max_length.is_some() {
            self.use_helper(Helper::Len);
            if let Some(min) = t.min_length.filter(|m| *m > 0) {
                out.push_str(&format!(
                    ".refine((text) => $len(text) >= {min}, {{ message: \"must have at least {min} characters\" }})"
                ));
            }
            if let Some(max) = t.max_length {
                out.push_str(&format!(
                    ".refine((text) => $len(text) <= {max}, {{ message: \"must have at most {max} characters\" }})"
                ));
            }
        }
        if let Some(pattern) = &t.pattern {
            let re = self.pattern(pattern);
            out.push_str(&format!(
                ".refine((text) => $test({re}, text), {{ message: {} }})",
                string_literal(&format!("must match the pattern {pattern}"))
            ));
        }
        if let Some(excluded) = t.not_in.as_ref().filter(|list| !list.is_empty()) {
            let list: Vec<String> = excluded.iter().map(|x| string_literal(x)).collect();
            out.push_str(&format!(
                ".refine((text) => ![{}].includes(text), {{ message: {} }})",
                list.join(", "),
                string_literal(&format!("must not be one of {}", list.join(", ")))
            ));
        }
        let check = match t.format.as_deref() {
            Some("email") => Some((Helper::IsEmail, "must be an email address")),
            Some("uri") => Some((Helper::IsUrl, "must be an absolute URL")),
            Some("uuid") => Some((Helper::IsUuid, "must be a UUID")),
            Some("date-time") => Some((Helper::IsDateTime, "expected an RFC 3339 date-time")),
            Some("date") => Some((Helper::IsDate, "expected a date (YYYY-MM-DD)")),
            _ => None,
        };
        if let Some((helper, message)) = check {
            self.use_helper(helper);
            out.push_str(&format!(
                ".refine({}, {{ message: {} }})",
                helper.name(),
                string_literal(message)
            ));
        }
        out
    }

    fn array(&mut self, a: &Array) -> String {
        let items = a.items.as_deref().map(|n| self.expr(n));
        let mut out = if a.is_closed_tuple() {
            let list: Vec<String> = a.prefix.iter().map(|n| self.expr(n)).collect();
            return format!("z.tuple([{}])", list.join(", "));
        } else if a.prefix.is_empty() {
            format!("z.array({})", items.unwrap_or_else(|| "z.unknown()".into()))
        } else {
            // Open tuple: positions checked where present, further items by `items`.
            let list: Vec<String> = a
                .prefix
                .iter()
                .map(|n| format!("{}.optional()", self.expr(n)))
                .collect();
            format!(
                "z.tuple([{}], {})",
                list.join(", "),
                items.unwrap_or_else(|| "z.unknown()".into())
            )
        };
        if let Some(min) = a.min_items.filter(|m| *m > 0) {
            out.push_str(&format!(".min({min})"));
        }
        if let Some(max) = a.max_items {
            out.push_str(&format!(".max({max})"));
        }
        out
    }

    fn object(&mut self, o: &Object) -> String {
        let mut fields = Vec::new();
        for prop in &o.properties {
            let mut expr = self.expr(&prop.node);
            if prop.required {
                if matches!(prop.node.kind, Kind::Any) {
                    // zod lets an absent key through `z.unknown()`; the server requires it.
                    expr = "z.custom<unknown>((value) => value !== undefined)".to_owned();
                }
            } else {
                expr.push_str(".optional()");
            }
            fields.push(format!(
                "{}: {expr}",
                crate::ts::names::property_key(&prop.name)
            ));
        }
        for name in &o.required_only {
            fields.push(format!(
                "{}: z.custom<unknown>((value) => value !== undefined)",
                crate::ts::names::property_key(name)
            ));
        }
        let shape = if fields.is_empty() {
            "{}".to_owned()
        } else {
            format!("{{ {} }}", fields.join(", "))
        };
        let complex = !o.patterns.is_empty() || o.property_names.is_some();
        let mut out = match (&o.additional, complex) {
            (Additional::Forbidden, false) => format!("z.strictObject({shape})"),
            (Additional::Schema(node), false) if fields.is_empty() => {
                format!("z.record(z.string(), {})", self.expr(node))
            }
            (Additional::Schema(node), false) => {
                format!("z.looseObject({shape}).catchall({})", self.expr(node))
            }
            _ => format!("z.looseObject({shape})"),
        };
        if complex {
            // Keys beyond the named ones: each matching pattern's schema, else the
            // additional rule; and every key against `propertyNames`.
            self.use_helper(Helper::Object);
            let named: Vec<String> = o
                .properties
                .iter()
                .map(|p| string_literal(&p.name))
                .collect();
            let mut checks = Vec::new();
            for (pattern, node) in &o.patterns {
                let re = self.pattern(pattern);
                let schema = self.expr(node);
                checks.push(format!("[{re}, {schema}]"));
            }
            let rest = match &o.additional {
                Additional::Any => "true".to_owned(),
                Additional::Forbidden => "false".to_owned(),
                Additional::Schema(node) => {
                    format!("{}.safeParse(entry).success", self.expr(node))
                }
            };
            let names = o
                .property_names
                .as_deref()
                .map(|n| format!("{}.safeParse(key).success && ", self.expr(n)))
                .unwrap_or_default();
            out.push_str(&format!(
                ".refine((object) => $Object.entries(object).every(([key, entry]) => {names}([{}] as string[]).includes(key) || (() => {{ const rules = [{}] as [RegExp | null, z.ZodType][]; const matched = rules.filter(([re]) => $test(re, key)); return matched.length > 0 ? matched.every(([, schema]) => schema.safeParse(entry).success) : {rest}; }})()), {{ message: \"unexpected key\" }})",
                named.join(", "),
                checks.join(", ")
            ));
            self.use_helper(Helper::Test);
        }
        if let Some(min) = o.min_properties.filter(|m| *m > 0) {
            self.use_helper(Helper::Object);
            out.push_str(&format!(
                ".refine((object) => $Object.keys(object).length >= {min})"
            ));
        }
        if let Some(max) = o.max_properties {
            self.use_helper(Helper::Object);
            out.push_str(&format!(
                ".refine((object) => $Object.keys(object).length <= {max})"
            ));
        }
        out
    }
}

/// Declared bounds, skipping those the implied range already enforces.
fn bounds(n: &Numeric, implied_lo: Option<f64>, implied_hi: Option<f64>) -> String {
    let mut out = String::new();
    if let Some(min) = n.minimum.filter(|m| implied_lo.is_none_or(|lo| *m > lo)) {
        out.push_str(&format!(".gte({})", number(min)));
    }
    if let Some(min) = n.exclusive_minimum {
        out.push_str(&format!(".gt({})", number(min)));
    }
    if let Some(max) = n.maximum.filter(|m| implied_hi.is_none_or(|hi| *m < hi)) {
        out.push_str(&format!(".lte({})", number(max)));
    }
    if let Some(max) = n.exclusive_maximum {
        out.push_str(&format!(".lt({})", number(max)));
    }
    out
}

/// A number literal as JavaScript reads it.
fn number(value: f64) -> String {
    format!("{value}")
}
