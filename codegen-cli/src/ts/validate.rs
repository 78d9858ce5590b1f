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
    Additional, Array, External, Kind, Node, Numeric, Object, Representation, Text,
    integer_format_range, is_unsigned_integer, is_wide_integer,
};
use crate::ts::defs::Defs;
use crate::ts::helpers::Helper;
use crate::ts::names::{json_literal, string_literal};

/// 2^53 − 1: the bound twinwire puts on 64-bit integers.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// The code of an issue serde would raise: the value does not have the declared shape.
const INVALID: &str = "invalid";
/// The code the server gives a missing required field (on the field's own path).
const REQUIRED: &str = "required";
/// The code the server gives a field a strict type does not know.
const UNKNOWN_FIELD: &str = "unknown_field";

/// What the validators of one file share: the helpers they call and the regular
/// expressions they test, each compiled once per module.
#[derive(Debug, Default)]
pub(crate) struct Support {
    helpers: BTreeSet<Helper>,
    patterns: BTreeMap<String, usize>,
}

impl Support {
    /// Marks a helper (and the helpers it calls) as used.
    pub(crate) fn use_helper(&mut self, helper: Helper) {
        if self.helpers.insert(helper) {
            for callee in helper.calls() {
                self.use_helper(*callee);
            }
        }
    }

    /// Whether a helper is used.
    #[cfg(test)]
    pub(crate) fn uses(&self, helper: Helper) -> bool {
        self.helpers.contains(&helper)
    }

    /// The declarations of everything used: the built-in aliases, the helper functions,
    /// then the compiled patterns; empty when nothing is used.
    pub(crate) fn declarations(&self) -> String {
        let mut out = String::new();
        let (builtins, functions): (Vec<Helper>, Vec<Helper>) =
            self.helpers.iter().partition(|h| h.is_builtin());
        if !builtins.is_empty() {
            out.push_str(
                "\n// Built-ins, reached through `globalThis`: a protocol may name a message `Array` or `Object`.\n",
            );
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
        let patterns = self.patterns();
        if !patterns.is_empty() {
            out.push('\n');
            for (name, source) in patterns {
                out.push_str(&format!("const {name} = $regex({source});\n"));
            }
        }
        out
    }

    /// The regular expressions to compile, as `(constant name, source literal)`.
    fn patterns(&self) -> Vec<(String, String)> {
        let mut list: Vec<(usize, &String)> = self.patterns.iter().map(|(s, i)| (*i, s)).collect();
        list.sort();
        list.into_iter()
            .map(|(i, s)| (format!("$pattern{i}"), string_literal(s)))
            .collect()
    }

    fn pattern(&mut self, source: &str) -> String {
        self.use_helper(Helper::Regex);
        self.use_helper(Helper::Test);
        let next = self.patterns.len();
        let index = *self.patterns.entry(source.to_owned()).or_insert(next);
        format!("$pattern{index}")
    }
}

/// The name of the function checking values of the payload type `ident`.
pub(crate) fn check_function(ident: &str) -> String {
    format!("$check_{ident}")
}

/// Writes the body of one check function `(value: unknown, path: string, issues: $Issue[])`,
/// which appends to `issues` every issue of `value`, found at JSON pointer `path`.
pub(crate) struct Body<'a> {
    module: &'a mut Support,
    defs: &'a Defs,
    text: String,
    depth: usize,
    fresh: usize,
}

impl<'a> Body<'a> {
    /// A body at one level of indentation.
    pub(crate) fn new(module: &'a mut Support, defs: &'a Defs) -> Self {
        Self {
            module,
            defs,
            text: String::new(),
            depth: 1,
            fresh: 0,
        }
    }

    /// The checks of `node`, for the function's parameters `value`, `path` and `issues`.
    pub(crate) fn finish(mut self, node: &Node) -> String {
        self.node(node, "value", "path", "issues");
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
        self.module.use_helper(Helper::Issue);
        format!(
            "$issue({out}, {path}, {}, {message});",
            string_literal(code)
        )
    }

    fn at(&mut self, path: &str, key: &str) -> String {
        self.module.use_helper(Helper::At);
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
                self.line(&format!("{}({v}, {p}, {out});", check_function(&ident)));
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
                self.module.use_helper(Helper::Equal);
                format!("$equal({v}, {})", json_literal(value))
            }
            _ => format!("{v} === {}", json_literal(value)),
        }
    }

    fn integer(&mut self, n: &Numeric, v: &str, p: &str, out: &str) {
        self.module.use_helper(Helper::Number);
        let shape = self.issue(out, p, INVALID, &lit("expected an integer"));
        self.line(&format!(
            "if (typeof {v} !== \"number\" || !$Number.isInteger({v})) {shape}"
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
                    b.line(&format!("if (!$Number.isSafeInteger({v})) {s}"));
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
        self.module.use_helper(Helper::Number);
        let shape = self.issue(out, p, INVALID, &lit("expected a number"));
        self.line(&format!(
            "if (typeof {v} !== \"number\" || !$Number.isFinite({v})) {shape}"
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
                b.module.use_helper(Helper::Len);
                let n = b.name("count");
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
            if let Some(excluded) = t.not_in.as_ref().filter(|list| !list.is_empty()) {
                let list: Vec<String> = excluded.iter().map(|x| string_literal(x)).collect();
                let s = b.issue(
                    out,
                    p,
                    INVALID,
                    &lit(&format!("must not be one of {}", list.join(", "))),
                );
                b.line(&format!("if ([{}].includes({v})) {s}", list.join(", ")));
            }
            let check = match t.format.as_deref() {
                Some("email") => Some((Helper::IsEmail, "email", "must be an email address")),
                Some("uri") => Some((Helper::IsUrl, "url", "must be an absolute URL")),
                Some("uuid") => Some((
                    Helper::IsUuid,
                    "uuid",
                    "must be a UUID (8-4-4-4-12 hexadecimal digits)",
                )),
                Some("date-time") => Some((
                    Helper::IsDateTime,
                    INVALID,
                    "expected an RFC 3339 date-time",
                )),
                Some("date") => Some((Helper::IsDate, INVALID, "expected a date (YYYY-MM-DD)")),
                _ => None,
            };
            if let Some((helper, code, message)) = check {
                b.module.use_helper(helper);
                let s = b.issue(out, p, code, &lit(message));
                b.line(&format!("if (!{}({v})) {s}", helper.name()));
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
        self.module.use_helper(Helper::Array);
        let shape = self.issue(out, p, INVALID, &lit("expected an array"));
        self.line(&format!("if (!$Array.isArray({v})) {shape}"));
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
                let i = b.name("index");
                let e = b.name("item");
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
            let e = self.name("item");
            let path = self.at(p, &i.to_string());
            let inner = self.nested(|b| b.node(item, &e, &path, out));
            if !inner.is_empty() {
                self.line(&format!("const {e}: unknown = {v}[{i}];"));
                self.text.push_str(&dedent(&inner));
            }
        }
    }

    fn object(&mut self, o: &Object, v: &str, p: &str, out: &str) {
        self.module.use_helper(Helper::IsObject);
        let shape = self.issue(out, p, INVALID, &lit("expected an object"));
        self.line(&format!("if (!$isObject({v})) {shape}"));
        let body = self.nested(|b| {
            for prop in &o.properties {
                b.module.use_helper(Helper::Get);
                let x = b.name("field");
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
                b.module.use_helper(Helper::Get);
                let key = string_literal(name);
                let path = b.at(p, &key);
                let s = b.issue(out, &path, REQUIRED, &lit("missing required field"));
                b.line(&format!("if ($get({v}, {key}) === undefined) {s}"));
            }
            b.extra_keys(o, v, p, out);
            if o.min_properties.is_some() || o.max_properties.is_some() {
                b.module.use_helper(Helper::Keys);
                let n = b.name("count");
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
        self.module.use_helper(Helper::Keys);
        let k = self.name("key");
        let x = self.name("entry");
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
            let matched = b.name("matched");
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
        let defs = self.defs;
        let union = defs.schema().union(variants);
        if union.nullable {
            if matches!(union.representation, Representation::Empty) {
                self.node(&Node::of(Kind::Null), v, p, out);
                return;
            }
            // `Option<T>`: null is fine, anything else must be a `T`.
            let inner = self.nested(|b| b.representation(&union.representation, v, p, out));
            if !inner.is_empty() {
                self.block(&format!("if ({v} !== null)"), &inner);
            }
            return;
        }
        self.representation(&union.representation, v, p, out);
    }

    fn representation(&mut self, repr: &Representation<'_>, v: &str, p: &str, out: &str) {
        match repr {
            Representation::Empty => {}
            Representation::Single(only) => self.node(only, v, p, out),
            Representation::Tagged {
                tag,
                variants,
                catch_all,
            } => self.tagged(tag, variants, *catch_all, v, p, out),
            Representation::External(variants) => self.externally_tagged(variants, v, p, out),
            Representation::Untagged(variants) => self.first_fit(variants, v, p, out),
        }
    }

    /// An internally or adjacently tagged enum: dispatched on its tag, so issues point
    /// inside the chosen variant; any other string tag goes to the catch-all variant, if any.
    fn tagged(
        &mut self,
        tag: &str,
        variants: &[(String, &Node)],
        catch_all: Option<&Node>,
        v: &str,
        p: &str,
        out: &str,
    ) {
        self.module.use_helper(Helper::IsObject);
        self.module.use_helper(Helper::Get);
        let shape = self.issue(out, p, INVALID, &lit("expected an object"));
        self.line(&format!("if (!$isObject({v})) {shape}"));
        let key = string_literal(tag);
        let listed: Vec<String> = variants.iter().map(|(t, _)| string_literal(t)).collect();
        let tag_path = self.at(p, &key);
        let body = self.nested(|b| {
            for (name, variant) in variants {
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
            if let Some(catch_all) = catch_all {
                let checks = b.nested(|b| b.node(catch_all, v, p, out));
                b.block(
                    &format!("else if (typeof $get({v}, {key}) === \"string\")"),
                    &checks,
                );
            }
            b.line(&format!("else {unknown}"));
            b.depth -= 1;
        });
        self.block(&format!("else switch ($get({v}, {key}))"), &body);
    }

    /// An externally tagged enum: a unit variant's string, or an object whose one key names
    /// the variant.
    fn externally_tagged(&mut self, variants: &[(External, &Node)], v: &str, p: &str, out: &str) {
        let units: Vec<String> = variants
            .iter()
            .filter_map(|(k, _)| match k {
                External::Unit(names) => Some(names.clone()),
                External::Keyed(_) | External::Other => None,
            })
            .flatten()
            .collect();
        let all: Vec<String> = variants
            .iter()
            .flat_map(|(k, _)| match k {
                External::Unit(names) => names.clone(),
                External::Keyed(key) => vec![key.clone()],
                External::Other => Vec::new(),
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
            self.line(&format!("if (typeof {v} === \"string\") {{"));
            self.depth += 1;
            // Any other string is the `#[serde(other)]` variant's, if there is one (its
            // schema refuses the names of variants with data).
            let catch_all = variants
                .iter()
                .find(|(k, _)| *k == External::Other)
                .map(|(_, node)| *node);
            match catch_all {
                Some(node) => {
                    // Keys that are not also unit names (a unit variant is also written
                    // `{"Name": null}`) name the variants with data.
                    let keyed: Vec<String> = variants
                        .iter()
                        .filter_map(|(k, _)| match k {
                            External::Keyed(key) if !units.contains(key) => {
                                Some(string_literal(key))
                            }
                            External::Keyed(_) | External::Unit(_) | External::Other => None,
                        })
                        .collect();
                    // A variant with data named as a plain string: serde reports it inside
                    // that variant.
                    let inside = self.at(p, v);
                    let s = self.issue(
                        out,
                        &inside,
                        INVALID,
                        &lit(
                            "this variant has data: write it as an object with its name as the key",
                        ),
                    );
                    let checks = self.nested(|b| {
                        if keyed.is_empty() {
                            b.node(node, v, p, out);
                            return;
                        }
                        b.line(&format!("if ([{}].includes({v})) {s}", keyed.join(", ")));
                        b.line("else {");
                        b.depth += 1;
                        b.node(node, v, p, out);
                        b.depth -= 1;
                        b.line("}");
                    });
                    self.block(&format!("if (!({test}))"), &checks);
                }
                None => {
                    let s = self.issue(out, p, INVALID, &unknown);
                    self.line(&format!("if (!({test})) {s}"));
                }
            }
            self.depth -= 1;
            self.line("}");
        }
        self.module.use_helper(Helper::IsObject);
        self.module.use_helper(Helper::Keys);
        let ks = self.name("keys");
        let k = self.name("key");
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
                for (kind, variant) in variants {
                    if let External::Keyed(key) = kind {
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
        self.module.use_helper(Helper::Fits);
        let label = self.name("untagged");
        let o = self.name("attempt");
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

    fn body(schema: Value) -> (String, Support) {
        let defs = Defs::new(&BTreeMap::new()).unwrap();
        let mut module = Support::default();
        let code = Body::new(&mut module, &defs).finish(&Node::parse(&schema).unwrap());
        (code, module)
    }

    #[test]
    fn an_option_checks_only_a_present_value() {
        let (code, module) = body(json!({"type": ["string", "null"], "minLength": 2}));
        assert!(code.starts_with("  if (value !== null) {\n"), "{code}");
        assert!(code.contains("\"too_short\""), "{code}");
        assert!(
            module.uses(Helper::Len) && module.uses(Helper::Issue) && !module.uses(Helper::Equal)
        );
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
            code.contains("if (value > 1000) $issue(issues, path, \"too_large\""),
            "{code}"
        );
    }

    #[test]
    fn narrow_integers_outside_their_type_are_invalid_before_any_range() {
        let (code, _) =
            body(json!({"type": "integer", "format": "uint8", "minimum": 1, "maximum": 10}));
        let invalid = code.find("if (value < 0 || value > 255)").unwrap();
        let range = code.find("if (value < 1)").unwrap();
        assert!(invalid < range, "{code}");
        assert!(code.contains("\"too_large\""));
    }

    #[test]
    fn tagged_unions_dispatch_on_their_tag() {
        let (code, _) = body(json!({"oneOf": [
            {"type": "object", "properties": {"op": {"const": "a"}, "x": {"type": "string"}}, "required": ["op", "x"]},
            {"type": "object", "properties": {"op": {"const": "b"}}, "required": ["op"]}
        ]}));
        assert!(
            code.contains("else switch ($get(value, \"op\")) {"),
            "{code}"
        );
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
        assert!(code.contains("untagged1: {"), "{code}");
        assert!(code.contains("matches none of the accepted shapes"));
        assert!(module.uses(Helper::Fits));
    }

    #[test]
    fn patterns_are_shared_module_constants() {
        let mut module = Support::default();
        let defs = Defs::new(&BTreeMap::new()).unwrap();
        let node = Node::parse(&json!({"type": "string", "pattern": "^a$"})).unwrap();
        Body::new(&mut module, &defs).finish(&node);
        Body::new(&mut module, &defs).finish(&node);
        assert_eq!(
            module.patterns(),
            [("$pattern0".to_owned(), "\"^a$\"".to_owned())]
        );
    }
}
