//! JSON Schema → TypeScript validator code.
//!
//! A generated validator reports what the server would: the same JSON-pointer paths (with
//! wire names) and the same issue codes as Rust's `Validate` (`too_short`, `too_long`,
//! `too_small`, `too_large`, `pattern`, `email`, `url`, `uuid`, `unsafe_integer`), and the
//! codes the server gives what serde refuses: `required` (a missing field, at the field's
//! path), `unknown_field`, and `invalid` for anything else (wrong type, unknown variant, an
//! integer outside its Rust type). Unions follow serde: a tagged
//! enum is dispatched on its tag so issues point inside the chosen variant, and an untagged
//! one takes the first variant whose shape fits, as serde does.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::schema::{
    Additional, Array, Kind, Node, Numeric, Object, Text, integer_format_range,
    is_unsigned_integer, is_wide_integer,
};
use crate::ts::Defs;
use crate::ts::names::{json_literal, string_literal};

/// 2^53 − 1: the bound twinwire puts on 64-bit integers.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// The code of an issue serde would raise: the value does not have the declared shape.
const INVALID: &str = "invalid";
/// The code the server gives a missing required field (on the field's own path).
const REQUIRED: &str = "required";
/// The code the server gives a field a strict type does not know.
const UNKNOWN_FIELD: &str = "unknown_field";

/// Module-level state shared by every validator of a file: which helper functions and
/// regular expressions the generated code needs.
#[derive(Debug, Default)]
pub struct Module {
    helpers: BTreeSet<&'static str>,
    patterns: BTreeMap<String, usize>,
}

/// Every helper the template knows, with the helpers it calls.
pub const HELPERS: &[(&str, &[&str])] = &[
    ("N", &[]),
    ("A", &[]),
    ("O", &[]),
    ("D", &[]),
    ("issue", &[]),
    ("at", &[]),
    ("isObject", &["A"]),
    ("get", &["O"]),
    ("keys", &["O"]),
    ("len", &["A"]),
    ("equal", &["A", "O"]),
    ("fits", &[]),
    ("regex", &[]),
    ("test", &[]),
    ("isEmail", &[]),
    ("isUuid", &[]),
    ("isUrl", &[]),
    ("isDate", &["N", "D"]),
    ("isDateTime", &["isDate", "N"]),
    ("noPayload", &[]),
];

impl Module {
    /// Marks a helper (and the helpers it calls) as used.
    pub fn use_helper(&mut self, name: &'static str) {
        if !self.helpers.insert(name) {
            return;
        }
        if let Some((_, deps)) = HELPERS.iter().find(|(n, _)| *n == name) {
            for dep in *deps {
                self.use_helper(dep);
            }
        }
    }

    /// Whether a helper is used.
    pub fn uses(&self, name: &str) -> bool {
        self.helpers.contains(name)
    }

    /// The regular expressions to compile, as `(constant name, source)`.
    pub fn patterns(&self) -> Vec<(String, String)> {
        let mut list: Vec<(usize, &String)> = self.patterns.iter().map(|(s, i)| (*i, s)).collect();
        list.sort();
        list.into_iter()
            .map(|(i, s)| (format!("$re{i}"), string_literal(s)))
            .collect()
    }

    fn pattern(&mut self, source: &str) -> String {
        self.use_helper("regex");
        self.use_helper("test");
        let next = self.patterns.len();
        let index = *self.patterns.entry(source.to_owned()).or_insert(next);
        format!("$re{index}")
    }
}

/// Writes the body of one validator function `(v: unknown, p: string, out: $Issue[])`.
pub struct Body<'a> {
    module: &'a mut Module,
    defs: &'a Defs,
    text: String,
    depth: usize,
    fresh: usize,
}

impl<'a> Body<'a> {
    /// A body at one level of indentation.
    pub fn new(module: &'a mut Module, defs: &'a Defs) -> Self {
        Self {
            module,
            defs,
            text: String::new(),
            depth: 1,
            fresh: 0,
        }
    }

    /// Emits the checks of `node` for the value `v` at path `p` into `out`, and returns the
    /// code.
    pub fn finish(mut self, node: &Node) -> String {
        self.node(node, "v", "p", "out");
        self.text
    }

    fn line(&mut self, code: &str) {
        for _ in 0..self.depth {
            self.text.push_str("  ");
        }
        self.text.push_str(code);
        self.text.push('\n');
    }

    fn name(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    /// Runs `f` one level deeper and returns what it wrote (possibly nothing).
    fn nested(&mut self, f: impl FnOnce(&mut Self)) -> String {
        let saved = std::mem::take(&mut self.text);
        self.depth += 1;
        f(self);
        self.depth -= 1;
        std::mem::replace(&mut self.text, saved)
    }

    /// `head {` + `body` + `}`.
    fn block(&mut self, head: &str, body: &str) {
        self.line(&format!("{head} {{"));
        self.text.push_str(body);
        self.line("}");
    }

    fn issue(&mut self, out: &str, path: &str, code: &str, message: &str) -> String {
        self.module.use_helper("issue");
        format!(
            "$issue({out}, {path}, {}, {message});",
            string_literal(code)
        )
    }

    fn at(&mut self, path: &str, key: &str) -> String {
        self.module.use_helper("at");
        format!("$at({path}, {key})")
    }

    fn node(&mut self, node: &Node, v: &str, p: &str, out: &str) {
        match &node.kind {
            Kind::Any => {}
            Kind::Never => {
                let s = self.issue(out, p, INVALID, &lit("no value is allowed here"));
                self.line(&s);
            }
            Kind::Ref(name) => {
                let ident = self.defs.ident(name).unwrap_or("unknown").to_owned();
                self.line(&format!("$v_{ident}({v}, {p}, {out});"));
            }
            Kind::Const(value) => {
                let test = self.equals(v, value);
                let s = self.issue(
                    out,
                    p,
                    INVALID,
                    &lit(&format!("expected {}", json_literal(value))),
                );
                self.line(&format!("if (!({test})) {s}"));
            }
            Kind::Enum(values) => {
                let tests: Vec<String> = values.iter().map(|x| self.equals(v, x)).collect();
                let test = if tests.is_empty() {
                    "false".to_owned()
                } else {
                    tests.join(" || ")
                };
                let listed: Vec<String> = values.iter().map(json_literal).collect();
                let s = self.issue(
                    out,
                    p,
                    INVALID,
                    &lit(&format!("expected one of {}", listed.join(", "))),
                );
                self.line(&format!("if (!({test})) {s}"));
            }
            Kind::Null => {
                let s = self.issue(out, p, INVALID, &lit("expected null"));
                self.line(&format!("if ({v} !== null) {s}"));
            }
            Kind::Boolean => {
                let s = self.issue(out, p, INVALID, &lit("expected a boolean"));
                self.line(&format!("if (typeof {v} !== \"boolean\") {s}"));
            }
            Kind::Integer(n) => self.integer(n, v, p, out),
            Kind::Number(n) => self.number(n, v, p, out),
            Kind::String(t) => self.string(t, v, p, out),
            Kind::Array(a) => self.array(a, v, p, out),
            Kind::Object(o) => self.object(o, v, p, out),
            Kind::Union(variants) => self.union(variants, v, p, out),
            Kind::AllOf(parts) => {
                for part in parts {
                    self.node(part, v, p, out);
                }
            }
        }
    }

    fn equals(&mut self, v: &str, value: &Value) -> String {
        match value {
            Value::Object(_) | Value::Array(_) => {
                self.module.use_helper("equal");
                format!("$equal({v}, {})", json_literal(value))
            }
            _ => format!("{v} === {}", json_literal(value)),
        }
    }

    fn integer(&mut self, n: &Numeric, v: &str, p: &str, out: &str) {
        self.module.use_helper("N");
        let shape = self.issue(out, p, INVALID, &lit("expected an integer"));
        self.line(&format!(
            "if (typeof {v} !== \"number\" || !$N.isInteger({v})) {shape}"
        ));
        let format = n.format.as_deref().unwrap_or_default();
        let body = self.nested(|b| {
            if let Some((lo, hi)) = integer_format_range(format) {
                // Outside its Rust type, serde refuses the number before any constraint runs.
                let s = b.issue(
                    out,
                    p,
                    INVALID,
                    &lit(&format!("expected an integer from {lo} to {hi} ({format})")),
                );
                let bounds = b.nested(|b| b.bounds(n, Some(lo), Some(hi), v, p, out));
                b.line(&format!("if ({v} < {lo} || {v} > {hi}) {s}"));
                if !bounds.is_empty() {
                    b.block("else", &bounds);
                }
            } else if is_wide_integer(format) {
                let (lo, hi) = wide_range(format);
                let s = b.issue(
                    out,
                    p,
                    INVALID,
                    &lit(&format!("expected an integer that fits {format}")),
                );
                b.line(&format!("if ({v} < {lo} || {v} > {hi}) {s}"));
                let safe_lo = if is_unsigned_integer(format) {
                    0.0
                } else {
                    -MAX_SAFE
                };
                let rest = b.nested(|b| {
                    // The ±(2^53 − 1) bounds the manifest adds are the safe-integer rule, which
                    // Rust reports as `unsafe_integer` after the declared range.
                    b.bounds(n, Some(safe_lo), Some(MAX_SAFE), v, p, out);
                    let s = b.issue(
                        out,
                        p,
                        "unsafe_integer",
                        &format!(
                            "{v} + {}",
                            lit(" is beyond ±2^53−1 and would lose precision in JavaScript")
                        ),
                    );
                    b.line(&format!("if (!$N.isSafeInteger({v})) {s}"));
                });
                b.block("else", &rest);
            } else {
                b.bounds(n, None, None, v, p, out);
            }
        });
        if !body.is_empty() {
            self.block("else", &body);
        }
    }

    fn number(&mut self, n: &Numeric, v: &str, p: &str, out: &str) {
        self.module.use_helper("N");
        let shape = self.issue(out, p, INVALID, &lit("expected a number"));
        self.line(&format!(
            "if (typeof {v} !== \"number\" || !$N.isFinite({v})) {shape}"
        ));
        let body = self.nested(|b| b.bounds(n, None, None, v, p, out));
        if !body.is_empty() {
            self.block("else", &body);
        }
    }

    /// Declared bounds, skipping those no value within `[implied_lo, implied_hi]` can fail.
    fn bounds(
        &mut self,
        n: &Numeric,
        implied_lo: Option<f64>,
        implied_hi: Option<f64>,
        v: &str,
        p: &str,
        out: &str,
    ) {
        let is = |m: &str| format!("{} + {v}", lit(&format!("{m}, is ")));
        if let Some(min) = n.minimum.filter(|m| implied_lo.is_none_or(|lo| *m > lo)) {
            let s = self.issue(out, p, "too_small", &is(&format!("must be at least {min}")));
            self.line(&format!("if ({v} < {min}) {s}"));
        }
        if let Some(min) = n.exclusive_minimum {
            let s = self.issue(
                out,
                p,
                "too_small",
                &is(&format!("must be more than {min}")),
            );
            self.line(&format!("if ({v} <= {min}) {s}"));
        }
        if let Some(max) = n.maximum.filter(|m| implied_hi.is_none_or(|hi| *m < hi)) {
            let s = self.issue(out, p, "too_large", &is(&format!("must be at most {max}")));
            self.line(&format!("if ({v} > {max}) {s}"));
        }
        if let Some(max) = n.exclusive_maximum {
            let s = self.issue(
                out,
                p,
                "too_large",
                &is(&format!("must be less than {max}")),
            );
            self.line(&format!("if ({v} >= {max}) {s}"));
        }
    }

    fn string(&mut self, t: &Text, v: &str, p: &str, out: &str) {
        let shape = self.issue(out, p, INVALID, &lit("expected a string"));
        self.line(&format!("if (typeof {v} !== \"string\") {shape}"));
        let body = self.nested(|b| {
            if t.min_length.is_some() || t.max_length.is_some() {
                b.module.use_helper("len");
                let n = b.name("n");
                b.line(&format!("const {n} = $len({v});"));
                b.lengths(t.min_length, t.max_length, "characters", &n, p, out);
            }
            if let Some(pattern) = &t.pattern {
                let re = b.module.pattern(pattern);
                let s = b.issue(
                    out,
                    p,
                    "pattern",
                    &lit(&format!("must match the pattern {pattern}")),
                );
                b.line(&format!("if (!$test({re}, {v})) {s}"));
            }
            let check = match t.format.as_deref() {
                Some("email") => Some(("isEmail", "email", "must be an email address")),
                Some("uri") => Some(("isUrl", "url", "must be an absolute URL")),
                Some("uuid") => Some((
                    "isUuid",
                    "uuid",
                    "must be a UUID (8-4-4-4-12 hexadecimal digits)",
                )),
                Some("date-time") => {
                    Some(("isDateTime", INVALID, "expected an RFC 3339 date-time"))
                }
                Some("date") => Some(("isDate", INVALID, "expected a date (YYYY-MM-DD)")),
                _ => None,
            };
            if let Some((helper, code, message)) = check {
                b.module.use_helper(helper);
                let s = b.issue(out, p, code, &lit(message));
                b.line(&format!("if (!${helper}({v})) {s}"));
            }
        });
        if !body.is_empty() {
            self.block("else", &body);
        }
    }

    fn lengths(
        &mut self,
        min: Option<u64>,
        max: Option<u64>,
        unit: &str,
        n: &str,
        p: &str,
        out: &str,
    ) {
        let has = |m: String| format!("{} + {n}", lit(&format!("{m}, has ")));
        if let Some(min) = min.filter(|m| *m > 0) {
            let s = self.issue(
                out,
                p,
                "too_short",
                &has(format!("must have at least {min} {unit}")),
            );
            self.line(&format!("if ({n} < {min}) {s}"));
        }
        if let Some(max) = max {
            let s = self.issue(
                out,
                p,
                "too_long",
                &has(format!("must have at most {max} {unit}")),
            );
            self.line(&format!("if ({n} > {max}) {s}"));
        }
    }

    fn array(&mut self, a: &Array, v: &str, p: &str, out: &str) {
        self.module.use_helper("A");
        let shape = self.issue(out, p, INVALID, &lit("expected an array"));
        self.line(&format!("if (!$A.isArray({v})) {shape}"));
        let body = self.nested(|b| {
            if a.is_closed_tuple() {
                let len = a.prefix.len();
                let s = b.issue(
                    out,
                    p,
                    INVALID,
                    &format!(
                        "{} + {v}.length",
                        lit(&format!("expected {len} items, has "))
                    ),
                );
                let items = b.nested(|b| b.positions(&a.prefix, v, p, out));
                b.line(&format!("if ({v}.length !== {len}) {s}"));
                if !items.is_empty() {
                    b.block("else", &items);
                }
                return;
            }
            b.lengths(
                a.min_items,
                a.max_items,
                "items",
                &format!("{v}.length"),
                p,
                out,
            );
            if !a.prefix.is_empty() {
                b.positions(&a.prefix, v, p, out);
            }
            if let Some(items) = a.items.as_deref() {
                let i = b.name("i");
                let e = b.name("e");
                let path = b.at(p, &i);
                let checks = b.nested(|b| b.node(items, &e, &path, out));
                if !checks.is_empty() {
                    let element =
                        indent_line(b.depth + 1, &format!("const {e}: unknown = {v}[{i}];"));
                    b.block(
                        &format!(
                            "for (let {i} = {}; {i} < {v}.length; {i}++)",
                            a.prefix.len()
                        ),
                        &format!("{element}{checks}"),
                    );
                }
            }
        });
        if !body.is_empty() {
            self.block("else", &body);
        }
    }

    fn positions(&mut self, prefix: &[Node], v: &str, p: &str, out: &str) {
        for (i, item) in prefix.iter().enumerate() {
            let e = self.name("e");
            let path = self.at(p, &i.to_string());
            let inner = self.nested(|b| b.node(item, &e, &path, out));
            if !inner.is_empty() {
                self.line(&format!("const {e}: unknown = {v}[{i}];"));
                self.text.push_str(&dedent(&inner));
            }
        }
    }

    fn object(&mut self, o: &Object, v: &str, p: &str, out: &str) {
        self.module.use_helper("isObject");
        let shape = self.issue(out, p, INVALID, &lit("expected an object"));
        self.line(&format!("if (!$isObject({v})) {shape}"));
        let body = self.nested(|b| {
            for prop in &o.properties {
                b.module.use_helper("get");
                let x = b.name("x");
                let key = string_literal(&prop.name);
                let path = b.at(p, &key);
                let checks = b.nested(|b| b.node(&prop.node, &x, &path, out));
                if !prop.required && checks.is_empty() {
                    continue;
                }
                b.line(&format!("const {x} = $get({v}, {key});"));
                if prop.required {
                    let s = b.issue(out, &path, REQUIRED, &lit("missing required field"));
                    b.line(&format!("if ({x} === undefined) {s}"));
                    if !checks.is_empty() {
                        b.block("else", &checks);
                    }
                } else {
                    b.block(&format!("if ({x} !== undefined)"), &checks);
                }
            }
            for name in &o.required_only {
                b.module.use_helper("get");
                let key = string_literal(name);
                let path = b.at(p, &key);
                let s = b.issue(out, &path, REQUIRED, &lit("missing required field"));
                b.line(&format!("if ($get({v}, {key}) === undefined) {s}"));
            }
            b.extra_keys(o, v, p, out);
            if o.min_properties.is_some() || o.max_properties.is_some() {
                b.module.use_helper("keys");
                let n = b.name("n");
                b.line(&format!("const {n} = $keys({v}).length;"));
                b.lengths(o.min_properties, o.max_properties, "items", &n, p, out);
            }
        });
        if !body.is_empty() {
            self.block("else", &body);
        }
    }

    /// Checks of the keys beyond the named properties: key schemas, pattern properties, a
    /// map's values, unknown fields.
    fn extra_keys(&mut self, o: &Object, v: &str, p: &str, out: &str) {
        let restricted = !o.patterns.is_empty() || o.additional != Additional::Any;
        if o.property_names.is_none() && !restricted {
            return;
        }
        self.module.use_helper("keys");
        let k = self.name("k");
        let x = self.name("x");
        let path = self.at(p, &k);
        // What a key beyond the named ones and the patterns may hold; `refusal` is the code
        // and message when it may not exist at all.
        let value_checks =
            |b: &mut Self, additional: &Additional, refusal: (&str, &str)| match additional {
                Additional::Any => {}
                Additional::Forbidden => {
                    let (code, message) = refusal;
                    let s = b.issue(out, &path, code, &lit(message));
                    b.line(&s);
                }
                Additional::Schema(node) => b.node(node, &x, &path, out),
            };
        let body = self.nested(|b| {
            if let Some(names) = o.property_names.as_deref() {
                b.node(names, &k, &path, out);
            }
            if !restricted {
                return;
            }
            if !o.properties.is_empty() {
                let mut cases: String = o
                    .properties
                    .iter()
                    .map(|prop| {
                        indent_line(
                            b.depth + 1,
                            &format!("case {}:", string_literal(&prop.name)),
                        )
                    })
                    .collect();
                cases.push_str(&indent_line(b.depth + 2, "continue;"));
                b.block(&format!("switch ({k})"), &cases);
            }
            if o.patterns.is_empty() {
                value_checks(b, &o.additional, (UNKNOWN_FIELD, "unknown field"));
                return;
            }
            let matched = b.name("m");
            b.line(&format!("let {matched} = false;"));
            for (pattern, node) in &o.patterns {
                let re = b.module.pattern(pattern);
                let checks = b.nested(|b| {
                    b.line(&format!("{matched} = true;"));
                    b.node(node, &x, &path, out);
                });
                b.block(&format!("if ($test({re}, {k}))"), &checks);
            }
            // A key no pattern matches is one serde cannot parse (e.g. not an integer).
            let rest = b.nested(|b| value_checks(b, &o.additional, (INVALID, "unexpected key")));
            if !rest.is_empty() {
                b.block(&format!("if (!{matched})"), &rest);
            }
        });
        let uses_value = !o.patterns.is_empty() || matches!(o.additional, Additional::Schema(_));
        let head = if uses_value {
            format!(
                "{}{}",
                indent_line(self.depth + 1, &format!("const {x} = {v}[{k}];")),
                indent_line(self.depth + 1, &format!("if ({x} === undefined) continue;")),
            )
        } else {
            indent_line(
                self.depth + 1,
                &format!("if ({v}[{k}] === undefined) continue;"),
            )
        };
        self.block(
            &format!("for (const {k} of $keys({v}))"),
            &format!("{head}{body}"),
        );
    }

    fn union(&mut self, variants: &[Node], v: &str, p: &str, out: &str) {
        let (nulls, others): (Vec<&Node>, Vec<&Node>) = variants.iter().partition(|n| n.is_null());
        if others.is_empty() {
            if !nulls.is_empty() {
                self.node(&Node::of(Kind::Null), v, p, out);
            }
            return;
        }
        if !nulls.is_empty() {
            // `Option<T>`: null is fine, anything else must be a `T`.
            let inner = self.nested(|b| b.union_of(&others, v, p, out));
            if !inner.is_empty() {
                self.block(&format!("if ({v} !== null)"), &inner);
            }
            return;
        }
        self.union_of(&others, v, p, out);
    }

    fn union_of(&mut self, variants: &[&Node], v: &str, p: &str, out: &str) {
        if let [only] = variants {
            self.node(only, v, p, out);
        } else if let Some((tag, tags)) = self.discriminator(variants) {
            self.tagged(&tag, &tags, variants, v, p, out);
        } else if let Some(keys) = self.external(variants) {
            self.externally_tagged(&keys, variants, v, p, out);
        } else {
            self.first_fit(variants, v, p, out);
        }
    }

    /// The node behind a reference (following a few levels of `$ref`).
    fn resolve<'n>(&'n self, node: &'n Node) -> &'n Node {
        let mut node = node;
        for _ in 0..8 {
            match &node.kind {
                Kind::Ref(name) => match self.defs.node(name) {
                    Some(target) => node = target,
                    None => return node,
                },
                _ => return node,
            }
        }
        node
    }

    /// The string `const` of required property `prop` in a variant.
    fn tag_of(&self, node: &Node, prop: &str) -> Option<String> {
        match &self.resolve(node).kind {
            Kind::Object(o) => o
                .properties
                .iter()
                .find(|p| p.name == prop && p.required)
                .and_then(|p| single_string(&self.resolve(&p.node).kind)),
            Kind::AllOf(parts) => parts.iter().find_map(|part| self.tag_of(part, prop)),
            _ => None,
        }
    }

    fn required_names(&self, node: &Node) -> Vec<String> {
        match &self.resolve(node).kind {
            Kind::Object(o) => o
                .properties
                .iter()
                .filter(|p| p.required)
                .map(|p| p.name.clone())
                .collect(),
            Kind::AllOf(parts) => parts.iter().flat_map(|p| self.required_names(p)).collect(),
            _ => Vec::new(),
        }
    }

    /// An internally or adjacently tagged enum: a property every variant requires, holding a
    /// distinct string in each.
    fn discriminator(&self, variants: &[&Node]) -> Option<(String, Vec<String>)> {
        let first = variants.first()?;
        self.required_names(first)
            .into_iter()
            .find_map(|candidate| {
                let tags: Option<Vec<String>> = variants
                    .iter()
                    .map(|v| self.tag_of(v, &candidate))
                    .collect();
                let tags = tags?;
                let unique: BTreeSet<&String> = tags.iter().collect();
                (unique.len() == tags.len()).then_some((candidate, tags))
            })
    }

    /// An externally tagged enum: unit variants as strings, the others as objects with one
    /// required key and nothing else. `Some(key)` per variant, `None` for a unit variant.
    fn external(&self, variants: &[&Node]) -> Option<Vec<ExternalVariant>> {
        let mut out = Vec::with_capacity(variants.len());
        for v in variants {
            match &self.resolve(v).kind {
                Kind::Const(Value::String(s)) => out.push(ExternalVariant::Unit(vec![s.clone()])),
                Kind::Enum(values) => {
                    let names: Option<Vec<String>> = values
                        .iter()
                        .map(|x| x.as_str().map(str::to_owned))
                        .collect();
                    out.push(ExternalVariant::Unit(names?));
                }
                Kind::Object(o)
                    if o.properties.len() == 1
                        && o.properties.iter().all(|p| p.required)
                        && o.patterns.is_empty()
                        && o.required_only.is_empty()
                        && o.additional == Additional::Forbidden =>
                {
                    out.push(ExternalVariant::Keyed(o.properties[0].name.clone()));
                }
                _ => return None,
            }
        }
        let keyed: Vec<&String> = out
            .iter()
            .filter_map(|v| match v {
                ExternalVariant::Keyed(k) => Some(k),
                ExternalVariant::Unit(_) => None,
            })
            .collect();
        let unique: BTreeSet<&&String> = keyed.iter().collect();
        (!keyed.is_empty() && unique.len() == keyed.len()).then_some(out)
    }

    fn tagged(
        &mut self,
        tag: &str,
        tags: &[String],
        variants: &[&Node],
        v: &str,
        p: &str,
        out: &str,
    ) {
        self.module.use_helper("isObject");
        self.module.use_helper("get");
        let shape = self.issue(out, p, INVALID, &lit("expected an object"));
        self.line(&format!("if (!$isObject({v})) {shape}"));
        let key = string_literal(tag);
        let listed: Vec<String> = tags.iter().map(|t| string_literal(t)).collect();
        let tag_path = self.at(p, &key);
        let body = self.nested(|b| {
            for (variant, name) in variants.iter().zip(tags) {
                let checks = b.nested(|b| {
                    b.node(variant, v, p, out);
                    b.line("break;");
                });
                b.line(&format!("case {}: {{", string_literal(name)));
                b.text.push_str(&checks);
                b.line("}");
            }
            let missing = b.issue(
                out,
                &tag_path,
                REQUIRED,
                &lit(&format!(
                    "missing tag; expected one of {}",
                    listed.join(", ")
                )),
            );
            let unknown = b.issue(
                out,
                &tag_path,
                INVALID,
                &lit(&format!(
                    "unknown variant; expected one of {}",
                    listed.join(", ")
                )),
            );
            b.line("default:");
            b.depth += 1;
            b.line(&format!("if ($get({v}, {key}) === undefined) {missing}"));
            b.line(&format!("else {unknown}"));
            b.depth -= 1;
        });
        self.block(&format!("else switch ($get({v}, {key}))"), &body);
    }

    fn externally_tagged(
        &mut self,
        kinds: &[ExternalVariant],
        variants: &[&Node],
        v: &str,
        p: &str,
        out: &str,
    ) {
        let units: Vec<String> = kinds
            .iter()
            .filter_map(|k| match k {
                ExternalVariant::Unit(names) => Some(names.clone()),
                ExternalVariant::Keyed(_) => None,
            })
            .flatten()
            .collect();
        let all: Vec<String> = kinds
            .iter()
            .flat_map(|k| match k {
                ExternalVariant::Unit(names) => names.clone(),
                ExternalVariant::Keyed(key) => vec![key.clone()],
            })
            .map(|n| string_literal(&n))
            .collect();
        let unknown = lit(&format!(
            "unknown variant; expected one of {}",
            all.join(", ")
        ));
        if units.is_empty() {
            let s = self.issue(
                out,
                p,
                INVALID,
                &lit("expected an object with one variant key"),
            );
            self.line(&format!("if (typeof {v} === \"string\") {s}"));
        } else {
            let test = units
                .iter()
                .map(|u| format!("{v} === {}", string_literal(u)))
                .collect::<Vec<_>>()
                .join(" || ");
            let s = self.issue(out, p, INVALID, &unknown);
            self.line(&format!("if (typeof {v} === \"string\") {{"));
            self.depth += 1;
            self.line(&format!("if (!({test})) {s}"));
            self.depth -= 1;
            self.line("}");
        }
        self.module.use_helper("isObject");
        self.module.use_helper("keys");
        let ks = self.name("ks");
        let k = self.name("k");
        let key_path = self.at(p, &k);
        let body = self.nested(|b| {
            b.line(&format!("const {ks} = $keys({v});"));
            b.line(&format!("const {k} = {ks}[0] ?? \"\";"));
            let s = b.issue(
                out,
                p,
                INVALID,
                &lit("expected an object with exactly one variant key"),
            );
            b.line(&format!("if ({ks}.length !== 1) {s}"));
            let cases = b.nested(|b| {
                for (kind, variant) in kinds.iter().zip(variants) {
                    if let ExternalVariant::Keyed(key) = kind {
                        let checks = b.nested(|b| {
                            b.node(variant, v, p, out);
                            b.line("break;");
                        });
                        b.line(&format!("case {}: {{", string_literal(key)));
                        b.text.push_str(&checks);
                        b.line("}");
                    }
                }
                let s = b.issue(out, &key_path, INVALID, &unknown);
                b.line(&format!("default: {s}"));
            });
            b.block(&format!("else switch ({k})"), &cases);
        });
        self.block(&format!("else if ($isObject({v}))"), &body);
        let s = self.issue(out, p, INVALID, &lit("expected a string or an object"));
        self.line(&format!("else {s}"));
    }

    /// serde's untagged rule: the first variant whose shape fits wins (its constraint issues
    /// are reported); if none fits, the value is invalid.
    fn first_fit(&mut self, variants: &[&Node], v: &str, p: &str, out: &str) {
        self.module.use_helper("fits");
        let label = self.name("$u");
        let o = self.name("o");
        let body = self.nested(|b| {
            b.line(&format!("const {o}: $Issue[] = [];"));
            for (i, variant) in variants.iter().enumerate() {
                if i > 0 {
                    b.line(&format!("{o}.length = 0;"));
                }
                b.node(variant, v, p, &o);
                b.line(&format!("if ($fits({o})) {{"));
                b.depth += 1;
                b.line(&format!("{out}.push(...{o});"));
                b.line(&format!("break {label};"));
                b.depth -= 1;
                b.line("}");
            }
            let s = b.issue(out, p, INVALID, &lit("matches none of the accepted shapes"));
            b.line(&s);
        });
        self.block(&format!("{label}:"), &body);
    }
}

enum ExternalVariant {
    Unit(Vec<String>),
    Keyed(String),
}

fn single_string(kind: &Kind) -> Option<String> {
    match kind {
        Kind::Const(Value::String(s)) => Some(s.clone()),
        Kind::Enum(values) => match values.as_slice() {
            [Value::String(s)] => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The bounds of a wide integer `format` as serde checks them (beyond them it refuses the
/// number; within, twinwire's safe-integer rule applies).
fn wide_range(format: &str) -> (String, String) {
    match format {
        "uint128" => ("0".into(), "340282366920938463463374607431768211455".into()),
        "int128" => (
            "-170141183460469231731687303715884105728".into(),
            "170141183460469231731687303715884105727".into(),
        ),
        f if is_unsigned_integer(f) => ("0".into(), "18446744073709551615".into()),
        _ => ("-9223372036854775808".into(), "9223372036854775807".into()),
    }
}

fn lit(text: &str) -> String {
    string_literal(text)
}

fn indent_line(depth: usize, code: &str) -> String {
    format!("{}{code}\n", "  ".repeat(depth))
}

/// Removes one level of indentation from code written one level too deep.
fn dedent(code: &str) -> String {
    code.lines()
        .map(|l| format!("{}\n", l.strip_prefix("  ").unwrap_or(l)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(schema: Value) -> (String, Module) {
        let defs = Defs::new(&BTreeMap::new()).unwrap();
        let mut module = Module::default();
        let code = Body::new(&mut module, &defs).finish(&Node::parse(&schema).unwrap());
        (code, module)
    }

    #[test]
    fn an_option_checks_only_a_present_value() {
        let (code, module) = body(json!({"type": ["string", "null"], "minLength": 2}));
        assert!(code.starts_with("  if (v !== null) {\n"), "{code}");
        assert!(code.contains("\"too_short\""), "{code}");
        assert!(module.uses("len") && module.uses("issue") && !module.uses("equal"));
    }

    #[test]
    fn the_safe_integer_bound_is_reported_as_unsafe_integer_not_too_large() {
        let (code, _) = body(json!({
            "type": "integer", "format": "uint64", "minimum": 0, "maximum": 9007199254740991_u64
        }));
        assert!(code.contains("\"unsafe_integer\""), "{code}");
        assert!(
            !code.contains("too_large") && !code.contains("too_small"),
            "{code}"
        );
        let (code, _) = body(json!({
            "type": "integer", "format": "uint64", "minimum": 0, "maximum": 1000
        }));
        assert!(
            code.contains("if (v > 1000) $issue(out, p, \"too_large\""),
            "{code}"
        );
    }

    #[test]
    fn narrow_integers_outside_their_type_are_invalid_before_any_range() {
        let (code, _) =
            body(json!({"type": "integer", "format": "uint8", "minimum": 1, "maximum": 10}));
        let invalid = code.find("if (v < 0 || v > 255)").unwrap();
        let range = code.find("if (v < 1)").unwrap();
        assert!(invalid < range, "{code}");
        assert!(code.contains("\"too_large\""));
    }

    #[test]
    fn tagged_unions_dispatch_on_their_tag() {
        let (code, _) = body(json!({"oneOf": [
            {"type": "object", "properties": {"op": {"const": "a"}, "x": {"type": "string"}}, "required": ["op", "x"]},
            {"type": "object", "properties": {"op": {"const": "b"}}, "required": ["op"]}
        ]}));
        assert!(code.contains("else switch ($get(v, \"op\")) {"), "{code}");
        assert!(
            code.contains("case \"a\": {") && code.contains("case \"b\": {"),
            "{code}"
        );
        assert!(
            code.contains("unknown variant; expected one of \\\"a\\\", \\\"b\\\""),
            "{code}"
        );
    }

    #[test]
    fn untagged_unions_take_the_first_variant_that_fits() {
        let (code, module) = body(json!({"anyOf": [{"type": "boolean"}, {"type": "string"}]}));
        assert!(code.contains("$u1: {"), "{code}");
        assert!(code.contains("matches none of the accepted shapes"));
        assert!(module.uses("fits"));
    }

    #[test]
    fn patterns_are_shared_module_constants() {
        let mut module = Module::default();
        let defs = Defs::new(&BTreeMap::new()).unwrap();
        let node = Node::parse(&json!({"type": "string", "pattern": "^a$"})).unwrap();
        Body::new(&mut module, &defs).finish(&node);
        Body::new(&mut module, &defs).finish(&node);
        assert_eq!(
            module.patterns(),
            [("$re0".to_owned(), "\"^a$\"".to_owned())]
        );
    }
}
