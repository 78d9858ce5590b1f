//! Structural comparison of two payload schemas, following `$ref`s on both sides.
//!
//! A comparison walks the old and the new schema side by side and reports each difference
//! as a [`Finding`] with two facts about the values involved:
//! - `loses`: some value valid under the old schema is rejected by a receiver of the new
//!   version (the new version accepts less);
//! - `gains`: some value valid under the new schema is rejected by a receiver of the old
//!   version (the new version accepts more).
//!
//! The caller turns those into roles by direction (see the [`rules`](super::rules) module
//! docs). Whether a receiver is tolerant (a client: unknown fields ignored, a missing
//! `Option` or defaulted field filled in) or strict (a server) is fixed per direction.
//!
//! Recursion is bounded: a pair of named definitions is reported once per direction (at the
//! first path that reaches it), summaries of definition pairs are memoised with cycle
//! detection, nesting deeper than [`MAX_DEPTH`] and walks longer than [`BUDGET`] steps stop
//! with a [`Rule::NotCompared`] finding where the schemas differ.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::Value;
use twinwire::manifest::ref_target;
use twinwire::{Direction, Manifest};

use super::rules::Rule;
use crate::schema::{
    Additional, Array, Kind, Node, Numeric, Object, Property, Text, integer_format_range,
    is_wide_integer,
};

/// Deepest nesting of schemas (objects, items, variants, references) the walk follows.
const MAX_DEPTH: usize = 64;
/// Most schema pairs one comparison of two manifests visits before giving up.
const BUDGET: usize = 250_000;
/// Longest chain of definitions that are only a `$ref` to the next one.
const MAX_REF_CHAIN: usize = 16;
/// JavaScript's largest safe integer: the bound twinwire gives 64-bit integers.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

static ANY: Node = Node {
    doc: None,
    default: None,
    kind: Kind::Any,
};

/// One difference between the old and the new schema of a payload.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Finding {
    pub rule: Rule,
    /// Segments below the payload root: field names, `<Variant>`, `[]` (any item), `[2]` (a
    /// tuple position), `{}` (any map value), `{keys}` (map keys).
    pub path: Vec<String>,
    pub loses: bool,
    pub gains: bool,
    pub message: String,
}

/// How a message's payload changed.
pub(super) enum PayloadDiff {
    /// Both have one (or neither); these are its differences.
    Findings(Vec<Finding>),
    /// The old message had no payload.
    Added,
    /// The new message has no payload.
    Removed,
    /// A payload schema could not be read and the two differ.
    Unreadable,
}

/// A manifest's definitions and payloads, parsed once.
pub(super) struct Schemas<'m> {
    defs: BTreeMap<&'m str, Parsed<'m>>,
    payloads: HashMap<&'m str, Parsed<'m>>,
    /// Each message's typed meta; an open object for a message that declares none.
    metas: HashMap<&'m str, Parsed<'m>>,
}

/// The meta of a message without typed meta: an object whose keys nobody checks, which is
/// what both readers do with untyped extras. Comparing typed meta against it gives adding
/// and removing typed meta the same rules as adding and removing its fields.
static UNTYPED_META: std::sync::LazyLock<Value> =
    std::sync::LazyLock::new(|| serde_json::json!({"type": "object"}));

/// A schema as written and, when it could be read, parsed.
struct Parsed<'m> {
    raw: &'m Value,
    node: Option<Node>,
}

impl<'m> Parsed<'m> {
    fn new(raw: &'m Value) -> Self {
        // The schema parser recurses; a schema nested deeper than JSON text can be (a
        // manifest built in code) is left unparsed, and differences in it are reported
        // as not compared.
        let node = nests_within(raw, MAX_JSON_DEPTH)
            .then(|| Node::parse(raw).ok())
            .flatten();
        Self { raw, node }
    }
}

/// serde_json's own nesting limit when reading JSON text: every manifest read from a file
/// fits.
const MAX_JSON_DEPTH: usize = 128;

/// Whether `value` nests at most `limit` arrays and objects deep, measured without
/// recursion.
fn nests_within(value: &Value, limit: usize) -> bool {
    let mut stack = vec![(value, 0usize)];
    while let Some((value, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        if depth >= limit {
            return false;
        }
        stack.extend(children.map(|child| (child, depth + 1)));
    }
    true
}

impl<'m> Schemas<'m> {
    pub fn new(manifest: &'m Manifest) -> Self {
        Self {
            defs: manifest
                .defs
                .iter()
                .map(|(name, raw)| (name.as_str(), Parsed::new(raw)))
                .collect(),
            payloads: manifest
                .messages
                .iter()
                .filter_map(|m| Some((m.wire_type.as_str(), Parsed::new(m.payload.as_ref()?))))
                .collect(),
            metas: manifest
                .messages
                .iter()
                .map(|m| {
                    let meta = m.meta.as_ref().unwrap_or(&*UNTYPED_META);
                    (m.wire_type.as_str(), Parsed::new(meta))
                })
                .collect(),
        }
    }

    /// The parsed typed meta of message `wire_type` (see [`UNTYPED_META`]), or its raw JSON
    /// when it could not be read.
    pub fn meta(&self, wire_type: &str) -> Option<Result<&Node, &'m Value>> {
        self.metas
            .get(wire_type)
            .map(|p| p.node.as_ref().ok_or(p.raw))
    }

    /// The parsed payload of message `wire_type`, or its raw JSON when it could not be read.
    pub fn payload(&self, wire_type: &str) -> Option<Result<&Node, &'m Value>> {
        self.payloads
            .get(wire_type)
            .map(|p| p.node.as_ref().ok_or(p.raw))
    }

    fn def(&self, name: &str) -> Option<&Parsed<'m>> {
        self.defs.get(name)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Old,
    New,
}

/// Where findings go: recorded, or only summed up into the two flags.
enum Sink {
    Record(Vec<Finding>),
    Summary { loses: bool, gains: bool },
}

impl Sink {
    fn summary() -> Self {
        Self::Summary {
            loses: false,
            gains: false,
        }
    }

    fn flags(&self) -> (bool, bool) {
        match self {
            Self::Record(findings) => findings
                .iter()
                .filter(|f| f.rule.category() == super::Category::Wire)
                .fold((false, false), |(l, g), f| (l || f.loses, g || f.gains)),
            Self::Summary { loses, gains } => (*loses, *gains),
        }
    }

    /// A summary that already knows both flags cannot learn more.
    fn saturated(&self) -> bool {
        matches!(
            self,
            Self::Summary {
                loses: true,
                gains: true
            }
        )
    }

    fn add(&mut self, l: bool, g: bool) {
        if let Self::Summary { loses, gains } = self {
            *loses |= l;
            *gains |= g;
        }
    }

    fn recording(&self) -> bool {
        matches!(self, Self::Record(_))
    }
}

type PairKey = (bool, String, String);

/// Compares schemas of two manifests; one per [`compare`](super::compare) call.
pub(super) struct Differ<'d, 'm> {
    old: &'d Schemas<'m>,
    new: &'d Schemas<'m>,
    direction: Direction,
    /// Clients read server → client frames tolerantly; servers read strictly.
    tolerant: bool,
    /// Definition pairs already reported, per direction.
    reported: HashSet<(Direction, String, String)>,
    /// Definition renames already reported.
    renamed: HashSet<(String, String)>,
    /// Memoised `(loses, gains)` of definition pairs, per reader kind.
    summaries: HashMap<PairKey, (bool, bool)>,
    /// Definition pairs being summarised, innermost last (cycle detection).
    stack: Vec<PairKey>,
    on_stack: HashMap<PairKey, usize>,
    /// Lowest stack index a summary in progress met again (its result depends on it).
    low: usize,
    budget: usize,
    /// Definitions whose JSON differs between the manifests, directly or through one they
    /// refer to: what the walk cannot take as equal where it stops descending.
    changed: HashSet<String>,
}

impl<'d, 'm> Differ<'d, 'm> {
    pub fn new(old: &'d Schemas<'m>, new: &'d Schemas<'m>) -> Self {
        Self {
            old,
            new,
            direction: Direction::Client,
            tolerant: false,
            reported: HashSet::new(),
            renamed: HashSet::new(),
            summaries: HashMap::new(),
            stack: Vec::new(),
            on_stack: HashMap::new(),
            low: usize::MAX,
            budget: BUDGET,
            changed: changed_defs(old, new),
        }
    }

    /// Sets whose reader judges the following comparisons.
    pub fn set_direction(&mut self, direction: Direction) {
        self.direction = direction;
        self.tolerant = direction == Direction::Server;
    }

    /// Every difference between two payload schemas.
    pub fn record(&mut self, old: &'d Node, new: &'d Node) -> Vec<Finding> {
        let mut sink = Sink::Record(Vec::new());
        self.cmp(old, new, &mut Vec::new(), 0, &mut sink);
        match sink {
            Sink::Record(findings) => findings,
            Sink::Summary { .. } => Vec::new(),
        }
    }

    /// How the typed meta of message `wire_type` differs between the two manifests; a
    /// message without typed meta counts as one whose meta keys are unchecked.
    pub fn metas(&mut self, wire_type: &str) -> PayloadDiff {
        match (self.old.meta(wire_type), self.new.meta(wire_type)) {
            (Some(Ok(o)), Some(Ok(n))) => PayloadDiff::Findings(self.record(o, n)),
            (Some(Err(a)), Some(Err(b))) if self.same_value(a, b) => {
                PayloadDiff::Findings(Vec::new())
            }
            (None, _) | (_, None) => PayloadDiff::Findings(Vec::new()),
            _ => PayloadDiff::Unreadable,
        }
    }

    /// Whether two payload schemas accept exactly the same frames (for this direction).
    pub fn equivalent(&mut self, old: &'d Node, new: &'d Node) -> bool {
        let mut sink = Sink::summary();
        self.cmp(old, new, &mut Vec::new(), 0, &mut sink);
        sink.flags() == (false, false)
    }

    /// How the payloads of message `wire_type` differ between the two manifests.
    pub fn payloads(&mut self, wire_type: &str) -> PayloadDiff {
        match (self.old.payload(wire_type), self.new.payload(wire_type)) {
            (None, None) => PayloadDiff::Findings(Vec::new()),
            (None, Some(_)) => PayloadDiff::Added,
            (Some(_), None) => PayloadDiff::Removed,
            (Some(Ok(o)), Some(Ok(n))) => PayloadDiff::Findings(self.record(o, n)),
            (Some(o), Some(n)) => match (o, n) {
                (Err(a), Err(b)) if self.same_value(a, b) => PayloadDiff::Findings(Vec::new()),
                _ => PayloadDiff::Unreadable,
            },
        }
    }

    /// Whether message `old_kind` of the old manifest and `new_kind` of the new one carry
    /// payloads that accept the same frames.
    pub fn same_payload(&mut self, old_kind: &str, new_kind: &str) -> bool {
        match (self.old.payload(old_kind), self.new.payload(new_kind)) {
            (None, None) => true,
            (Some(Ok(o)), Some(Ok(n))) => self.equivalent(o, n),
            (Some(Err(a)), Some(Err(b))) => self.same_value(a, b),
            _ => false,
        }
    }

    fn schemas(&self, side: Side) -> &'d Schemas<'m> {
        match side {
            Side::Old => self.old,
            Side::New => self.new,
        }
    }

    fn emit(
        &self,
        sink: &mut Sink,
        rule: Rule,
        path: &[String],
        loses: bool,
        gains: bool,
        message: impl FnOnce() -> String,
    ) {
        match sink {
            Sink::Record(findings) => findings.push(Finding {
                rule,
                path: path.to_vec(),
                loses,
                gains,
                message: message(),
            }),
            Sink::Summary { .. } => {
                if rule.category() == super::Category::Wire {
                    sink.add(loses, gains);
                }
            }
        }
    }

    /// Follows `$ref`s to a schema that is not a reference; `None` for a missing or
    /// unreadable definition or a chain that does not end.
    fn resolve(&self, side: Side, mut node: &'d Node) -> Option<&'d Node> {
        let schemas = self.schemas(side);
        for _ in 0..MAX_REF_CHAIN {
            match &node.kind {
                Kind::Ref(name) => node = schemas.def(name)?.node.as_ref()?,
                _ => return Some(node),
            }
        }
        None
    }

    /// Whether two schemas that are not compared further are literally the same.
    /// Whether two schemas are written the same and every definition they reach is too.
    fn same_raw(&self, old: &Node, new: &Node) -> bool {
        let mut refs = Vec::new();
        node_refs(old, &mut refs, 0);
        old == new && refs.iter().all(|name| !self.changed.contains(*name))
    }

    /// [`same_raw`](Self::same_raw) for schemas that could not be parsed.
    fn same_value(&self, old: &Value, new: &Value) -> bool {
        old == new && refs_in(old).iter().all(|name| !self.changed.contains(name))
    }

    fn not_compared(&self, sink: &mut Sink, path: &[String], why: &str) {
        self.emit(sink, Rule::NotCompared, path, true, true, || {
            format!("the schemas differ here but were not compared: {why}")
        });
    }

    fn cmp(
        &mut self,
        old: &'d Node,
        new: &'d Node,
        path: &mut Vec<String>,
        depth: usize,
        sink: &mut Sink,
    ) {
        self.cmp_with(old, new, path, depth, sink, true);
    }

    /// [`cmp`](Self::cmp); `with_null` is false for the members of two nullable unions,
    /// whose `null` was compared already (an `enum` list may hold `null` itself).
    fn cmp_with(
        &mut self,
        old: &'d Node,
        new: &'d Node,
        path: &mut Vec<String>,
        depth: usize,
        sink: &mut Sink,
        with_null: bool,
    ) {
        if sink.saturated() {
            return;
        }
        if depth > MAX_DEPTH || self.budget == 0 {
            if !self.same_raw(old, new) {
                let why = if self.budget == 0 {
                    "the protocol is too large to compare completely".to_owned()
                } else {
                    format!("they nest deeper than {MAX_DEPTH} levels")
                };
                self.not_compared(sink, path, &why);
            }
            return;
        }
        self.budget -= 1;
        if let (Kind::Ref(a), Kind::Ref(b)) = (&old.kind, &new.kind) {
            self.cmp_defs(a, b, path, depth, sink);
            return;
        }
        match (self.resolve(Side::Old, old), self.resolve(Side::New, new)) {
            (Some(o), Some(n)) => self.cmp_resolved(o, n, path, depth, sink, with_null),
            _ => {
                if !self.same_raw(old, new) {
                    self.not_compared(sink, path, "a `$ref` does not resolve to a readable schema");
                }
            }
        }
    }

    fn cmp_defs(
        &mut self,
        a: &'d str,
        b: &'d str,
        path: &mut Vec<String>,
        depth: usize,
        sink: &mut Sink,
    ) {
        let (old_def, new_def) = (self.old.def(a), self.new.def(b));
        let bodies = match (old_def, new_def) {
            (Some(o), Some(n)) => o.node.as_ref().zip(n.node.as_ref()),
            _ => None,
        };
        let Some((o, n)) = bodies else {
            let same = a == b && !self.changed.contains(a);
            if !same {
                self.not_compared(sink, path, "a `$ref` does not resolve to a readable schema");
            }
            return;
        };
        if a != b && sink.recording() && self.renamed.insert((a.to_owned(), b.to_owned())) {
            self.emit(sink, Rule::TypeNameChanged, path, false, false, || {
                format!("the type here was `{a}` and is now `{b}`")
            });
        }
        if sink.recording() {
            // Once per direction: the same definition reached again (from another field or
            // message, or recursively) would repeat the same findings.
            if self
                .reported
                .insert((self.direction, a.to_owned(), b.to_owned()))
            {
                self.cmp(o, n, path, depth + 1, sink);
            }
            return;
        }
        let key = (self.tolerant, a.to_owned(), b.to_owned());
        if let Some(&(l, g)) = self.summaries.get(&key) {
            sink.add(l, g);
            return;
        }
        if let Some(&index) = self.on_stack.get(&key) {
            // A cycle: assume the pair equal while it is being decided (the outer walk
            // still sees every difference), and remember that results depend on it.
            self.low = self.low.min(index);
            return;
        }
        let index = self.stack.len();
        self.stack.push(key.clone());
        self.on_stack.insert(key.clone(), index);
        let outer_low = std::mem::replace(&mut self.low, usize::MAX);
        let mut sub = Sink::summary();
        self.cmp(o, n, path, depth + 1, &mut sub);
        self.stack.pop();
        self.on_stack.remove(&key);
        let (l, g) = sub.flags();
        // A result that assumed an enclosing pair equal is only final once that pair is.
        if self.low >= index {
            self.summaries.insert(key, (l, g));
            self.low = outer_low;
        } else {
            self.low = self.low.min(outer_low);
        }
        sink.add(l, g);
    }

    /// Splits a schema into whether it accepts `null`, its other members, and whether it
    /// was a union (`anyOf`/`oneOf`/a type list).
    fn split(&self, side: Side, node: &'d Node, depth: usize) -> (bool, Vec<&'d Node>, bool) {
        match &node.kind {
            Kind::Union(variants) => {
                let mut null = false;
                let mut rest = Vec::new();
                for variant in variants {
                    let resolved = self.resolve(side, variant).unwrap_or(variant);
                    match &resolved.kind {
                        _ if resolved.is_null() => null = true,
                        Kind::Union(_) if depth < MAX_DEPTH => {
                            let (inner_null, inner, _) = self.split(side, resolved, depth + 1);
                            null |= inner_null;
                            rest.extend(inner);
                        }
                        _ => rest.push(variant),
                    }
                }
                (null, rest, true)
            }
            Kind::Any => (true, vec![node], false),
            Kind::Never => (false, Vec::new(), false),
            _ if node.is_null() => (true, Vec::new(), false),
            Kind::Enum(values) if values.contains(&Value::Null) => (true, vec![node], false),
            _ => (false, vec![node], false),
        }
    }

    fn cmp_resolved(
        &mut self,
        old: &'d Node,
        new: &'d Node,
        path: &mut Vec<String>,
        depth: usize,
        sink: &mut Sink,
        with_null: bool,
    ) {
        let (o_null, o_rest, o_union) = self.split(Side::Old, old, depth);
        let (n_null, n_rest, n_union) = self.split(Side::New, new, depth);
        let any = |rest: &[&Node]| rest.iter().any(|n| n.kind == Kind::Any);
        let (o_any, n_any) = (any(&o_rest), any(&n_rest));
        if with_null && o_null != n_null && !o_any && !n_any {
            let message = if o_null {
                "`null` is no longer accepted (an `Option` became required, or a server now \
                 leaves its `None` out instead of writing `null`: Option on the wire)"
            } else {
                "may now be `null` (became an `Option`)"
            };
            self.emit(
                sink,
                Rule::FieldOptionalityChanged,
                path,
                o_null,
                n_null,
                || message.to_owned(),
            );
        }
        match (o_rest.is_empty(), n_rest.is_empty()) {
            (true, true) => return,
            (true, false) => {
                self.emit(sink, Rule::FieldTypeChanged, path, false, true, || {
                    format!("was always `null`, now {}", describe(new))
                });
                return;
            }
            (false, true) => {
                self.emit(sink, Rule::FieldTypeChanged, path, true, false, || {
                    format!("was {}, now always `null`", describe(old))
                });
                return;
            }
            (false, false) => {}
        }
        if o_any || n_any {
            if o_any != n_any {
                let (l, g) = (o_any, n_any);
                self.emit(sink, Rule::FieldTypeChanged, path, l, g, || {
                    format!("was {}, now {}", describe(old), describe(new))
                });
            }
            return;
        }
        if o_rest.len() == 1 && n_rest.len() == 1 && (o_union || n_union) {
            // `Option<T>` against `T`, or single-variant unions: compare the members.
            self.cmp_with(o_rest[0], n_rest[0], path, depth + 1, sink, false);
            return;
        }
        let o_shape = self.shape(Side::Old, &o_rest, o_union);
        let n_shape = self.shape(Side::New, &n_rest, n_union);
        match (o_shape, n_shape) {
            (Shape::Single(o), Shape::Single(n)) => self.cmp_single(o, n, path, depth, sink),
            (Shape::Tagged(a), Shape::Tagged(b)) => self.cmp_tagged(&a, &b, path, depth, sink),
            (Shape::Untagged(a), Shape::Untagged(b)) => {
                self.cmp_untagged(&a, &b, path, depth, sink);
            }
            (a, b) => {
                let (l, g) = self.cover(a.nodes(), b.nodes(), depth);
                if l || g {
                    let enum_change = matches!(
                        (&a, &b),
                        (Shape::Tagged(_), Shape::Untagged(_))
                            | (Shape::Untagged(_), Shape::Tagged(_))
                    );
                    let rule = if enum_change {
                        Rule::EnumRepresentationChanged
                    } else {
                        Rule::FieldTypeChanged
                    };
                    self.emit(sink, rule, path, l, g, || {
                        format!("was {}, now {}", a.describe(), b.describe())
                    });
                }
            }
        }
    }

    /// `(loses, gains)` judged member by member: an old member no new member fully accepts
    /// loses values, a new member no old member fully accepts gains values.
    fn cover(&mut self, old: Vec<&'d Node>, new: Vec<&'d Node>, depth: usize) -> (bool, bool) {
        if old.len() == 1 && new.len() == 1 {
            return self.leaf(old[0], new[0]);
        }
        let mut flags = vec![vec![(false, false); new.len()]; old.len()];
        for (i, o) in old.iter().enumerate() {
            for (j, n) in new.iter().enumerate() {
                let mut sub = Sink::summary();
                self.cmp(o, n, &mut Vec::new(), depth + 1, &mut sub);
                flags[i][j] = sub.flags();
            }
        }
        let loses = flags.iter().any(|row| row.iter().all(|f| f.0));
        let gains = (0..new.len()).any(|j| flags.iter().all(|row| row[j].1));
        (loses, gains)
    }

    /// Two members of different shapes: only constants can be checked against a type.
    fn leaf(&self, old: &'d Node, new: &'d Node) -> (bool, bool) {
        match (constants(old), constants(new)) {
            (Some(a), Some(b)) => (
                a.iter().any(|v| !b.contains(v)),
                b.iter().any(|v| !a.contains(v)),
            ),
            (Some(a), None) => (a.iter().any(|v| !self.accepts(Side::New, new, v, 0)), true),
            (None, Some(b)) => (true, b.iter().any(|v| !self.accepts(Side::Old, old, v, 0))),
            (None, None) => (true, true),
        }
    }

    /// Whether a schema accepts one constant (approximately: patterns and formats are taken
    /// to reject it, which errs towards reporting a break).
    fn accepts(&self, side: Side, node: &'d Node, value: &Value, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let Some(node) = self.resolve(side, node) else {
            return false;
        };
        match (&node.kind, value) {
            (Kind::Any, _) => true,
            (Kind::Const(c), v) => c == v,
            (Kind::Enum(values), v) => values.contains(v),
            (Kind::Null, Value::Null) | (Kind::Boolean, Value::Bool(_)) => true,
            (Kind::String(text), Value::String(s)) => {
                let len = s.chars().count() as u64;
                text.pattern.is_none()
                    && text.format.is_none()
                    && text.min_length.is_none_or(|m| len >= m)
                    && text.max_length.is_none_or(|m| len <= m)
            }
            (Kind::Integer(num), Value::Number(x)) => {
                let (lo, hi) = int_bounds(num);
                (x.is_i64() || x.is_u64()) && x.as_f64().is_some_and(|x| within(x, lo, hi))
            }
            (Kind::Number(num), Value::Number(x)) => {
                let (lo, hi) = number_bounds(num);
                x.as_f64().is_some_and(|x| within(x, lo, hi))
            }
            (Kind::Union(variants), v) => variants
                .iter()
                .any(|variant| self.accepts(side, variant, v, depth + 1)),
            (Kind::AllOf(parts), v) => parts
                .iter()
                .all(|part| self.accepts(side, part, v, depth + 1)),
            _ => false,
        }
    }

    fn shape(&self, side: Side, rest: &[&'d Node], was_union: bool) -> Shape<'d> {
        if !was_union {
            let node = rest[0];
            return match units(node) {
                Some(names) => Shape::Tagged(Tagged {
                    repr: Repr::External,
                    variants: names.into_iter().map(|n| (n, Variant::Unit)).collect(),
                    objects: BTreeMap::new(),
                    nodes: rest.to_vec(),
                }),
                None => Shape::Single(node),
            };
        }
        let resolved: Vec<&'d Node> = rest
            .iter()
            .map(|n| self.resolve(side, n).unwrap_or(n))
            .collect();
        match external(&resolved).or_else(|| tagged(&resolved)) {
            Some(mut tagged) => {
                tagged.nodes = rest.to_vec();
                Shape::Tagged(tagged)
            }
            None => Shape::Untagged(rest.to_vec()),
        }
    }

    fn cmp_tagged(
        &mut self,
        old: &Tagged<'d>,
        new: &Tagged<'d>,
        path: &mut Vec<String>,
        depth: usize,
        sink: &mut Sink,
    ) {
        let (old_view, new_view);
        let (old, new) = match (&old.repr, &new.repr) {
            (a, b) if a == b => (old, new),
            // Internal and adjacent tagging by the same key read alike when the content key
            // is just another field; compare both as internally tagged.
            (Repr::Internal(t), Repr::Adjacent(u, _))
            | (Repr::Adjacent(u, _), Repr::Internal(t))
                if t == u =>
            {
                old_view = old.as_internal(t);
                new_view = new.as_internal(t);
                (&old_view, &new_view)
            }
            _ => {
                let (l, g) = self.cover(old.nodes.clone(), new.nodes.clone(), depth);
                if l || g {
                    self.emit(sink, Rule::EnumRepresentationChanged, path, l, g, || {
                        Repr::describe_change(&old.repr, &new.repr)
                    });
                }
                return;
            }
        };
        let names: BTreeSet<&String> = old.variants.keys().chain(new.variants.keys()).collect();
        for name in names {
            path.push(format!("<{name}>"));
            match (old.variants.get(name), new.variants.get(name)) {
                (Some(_), None) => {
                    self.emit(sink, Rule::EnumVariantRemoved, path, true, false, || {
                        format!("variant `{name}` was removed")
                    })
                }
                (None, Some(_)) => {
                    self.emit(sink, Rule::EnumVariantAdded, path, false, true, || {
                        format!("variant `{name}` was added")
                    })
                }
                (Some(a), Some(b)) => self.cmp_variant(name, a, b, &old.repr, path, depth, sink),
                (None, None) => {}
            }
            path.pop();
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn cmp_variant(
        &mut self,
        name: &str,
        old: &Variant<'d>,
        new: &Variant<'d>,
        repr: &Repr,
        path: &mut Vec<String>,
        depth: usize,
        sink: &mut Sink,
    ) {
        match (old, new) {
            (Variant::Unit, Variant::Unit) => {}
            (Variant::Content(a), Variant::Content(b)) => self.cmp(a, b, path, depth + 1, sink),
            (Variant::Fields(a), Variant::Fields(b)) => {
                let tag = match repr {
                    Repr::Internal(tag) | Repr::Adjacent(tag, _) => Some(tag.as_str()),
                    Repr::External => None,
                };
                self.cmp_object(a, b, tag, path, depth + 1, sink);
            }
            _ => self.emit(sink, Rule::FieldTypeChanged, path, true, true, || {
                let what = |v: &Variant<'_>| match v {
                    Variant::Unit => "no content",
                    _ => "content",
                };
                format!(
                    "variant `{name}` had {} and now has {}",
                    what(old),
                    what(new)
                )
            }),
        }
    }

    fn cmp_untagged(
        &mut self,
        old: &[&'d Node],
        new: &[&'d Node],
        path: &mut Vec<String>,
        depth: usize,
        sink: &mut Sink,
    ) {
        let mut flags = vec![vec![(false, false); new.len()]; old.len()];
        for (i, o) in old.iter().enumerate() {
            for (j, n) in new.iter().enumerate() {
                let mut sub = Sink::summary();
                self.cmp(o, n, &mut Vec::new(), depth + 1, &mut sub);
                flags[i][j] = sub.flags();
            }
        }
        let old_uncovered: Vec<bool> = flags.iter().map(|row| row.iter().all(|f| f.0)).collect();
        let new_uncovered: Vec<bool> = (0..new.len())
            .map(|j| flags.iter().all(|row| row[j].1))
            .collect();
        if !sink.recording() {
            sink.add(old_uncovered.contains(&true), new_uncovered.contains(&true));
            return;
        }
        for i in 0..old.len().max(new.len()) {
            let lost = old_uncovered.get(i).copied().unwrap_or(false);
            let gained = new_uncovered.get(i).copied().unwrap_or(false);
            if !lost && !gained {
                continue;
            }
            path.push(format!("<#{i}>"));
            match (old.get(i), new.get(i)) {
                (Some(o), Some(n)) => {
                    // The same position changed: report what changed inside it, keeping
                    // only the effects no other member makes up for.
                    let mut sub = Sink::Record(Vec::new());
                    self.cmp(o, n, path, depth + 1, &mut sub);
                    if let Sink::Record(findings) = sub {
                        for mut f in findings {
                            f.loses &= lost;
                            f.gains &= gained;
                            if let Sink::Record(out) = sink {
                                out.push(f);
                            }
                        }
                    }
                }
                (Some(o), None) => {
                    self.emit(sink, Rule::EnumVariantRemoved, path, true, false, || {
                        format!("untagged member {i} ({}) was removed", describe(o))
                    })
                }
                (None, Some(n)) => {
                    self.emit(sink, Rule::EnumVariantAdded, path, false, true, || {
                        format!("untagged member {i} ({}) was added", describe(n))
                    })
                }
                (None, None) => {}
            }
            path.pop();
        }
    }

    fn cmp_single(
        &mut self,
        old: &'d Node,
        new: &'d Node,
        path: &mut Vec<String>,
        depth: usize,
        sink: &mut Sink,
    ) {
        match (&old.kind, &new.kind) {
            (Kind::Boolean, Kind::Boolean) | (Kind::Never, Kind::Never) => {}
            (Kind::Integer(a), Kind::Integer(b)) => {
                let (lo_a, hi_a) = int_bounds(a);
                let (lo_b, hi_b) = int_bounds(b);
                let formats = match (&a.format, &b.format) {
                    (Some(x), Some(y)) if x != y => format!(" ({x} → {y})"),
                    _ => String::new(),
                };
                self.bound(sink, path, "minimum", true, lo_a, lo_b, &formats);
                self.bound(sink, path, "maximum", false, hi_a, hi_b, &formats);
            }
            (Kind::Number(a), Kind::Number(b)) => {
                let (lo_a, hi_a) = number_bounds(a);
                let (lo_b, hi_b) = number_bounds(b);
                self.bound(sink, path, "minimum", true, lo_a, lo_b, "");
                self.bound(sink, path, "maximum", false, hi_a, hi_b, "");
            }
            (Kind::Integer(a), Kind::Number(b)) | (Kind::Number(a), Kind::Integer(b)) => {
                let int_to_number = matches!(old.kind, Kind::Integer(_));
                let (lo_a, hi_a) = if int_to_number {
                    int_bounds(a)
                } else {
                    number_bounds(a)
                };
                let (lo_b, hi_b) = if int_to_number {
                    number_bounds(b)
                } else {
                    int_bounds(b)
                };
                let lower = strictness(lo_a, lo_b, true);
                let upper = strictness(hi_a, hi_b, false);
                let narrower = lower == Ordering::Less || upper == Ordering::Less;
                let wider = lower == Ordering::Greater || upper == Ordering::Greater;
                // Integers are numbers: only the fractions (and the bounds) differ.
                let (l, g) = if int_to_number {
                    (narrower, true)
                } else {
                    (true, wider)
                };
                self.emit(sink, Rule::FieldTypeChanged, path, l, g, || {
                    format!("was {}, now {}", describe(old), describe(new))
                });
            }
            (Kind::String(a), Kind::String(b)) => self.cmp_text(a, b, path, sink),
            (Kind::Array(a), Kind::Array(b)) => self.cmp_array(a, b, path, depth, sink),
            (Kind::Object(a), Kind::Object(b)) => self.cmp_object(a, b, None, path, depth, sink),
            (Kind::AllOf(a), Kind::AllOf(b)) if a.len() == b.len() => {
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    if a.len() > 1 {
                        path.push(format!("<&{i}>"));
                    }
                    self.cmp(x, y, path, depth + 1, sink);
                    if a.len() > 1 {
                        path.pop();
                    }
                }
            }
            _ => {
                let (l, g) = self.leaf(old, new);
                if l || g {
                    self.emit(sink, Rule::FieldTypeChanged, path, l, g, || {
                        format!("was {}, now {}", describe(old), describe(new))
                    });
                }
            }
        }
    }

    fn cmp_text(&mut self, old: &Text, new: &Text, path: &[String], sink: &mut Sink) {
        let count = |n: Option<u64>| {
            n.map(|n| Bound {
                value: n as f64,
                exclusive: false,
            })
        };
        self.bound(
            sink,
            path,
            "minLength",
            true,
            count(old.min_length),
            count(new.min_length),
            "",
        );
        self.bound(
            sink,
            path,
            "maxLength",
            false,
            count(old.max_length),
            count(new.max_length),
            "",
        );
        self.keyword(sink, path, "pattern", &old.pattern, &new.pattern);
        self.keyword(sink, path, "format", &old.format, &new.format);
    }

    /// A keyword that restricts when present (`pattern`, `format`).
    fn keyword(
        &self,
        sink: &mut Sink,
        path: &[String],
        keyword: &str,
        old: &Option<String>,
        new: &Option<String>,
    ) {
        match (old, new) {
            (None, Some(n)) => self.emit(sink, Rule::ConstraintNarrowed, path, true, false, || {
                format!("`{keyword}` `{n}` was added")
            }),
            (Some(o), None) => self.emit(sink, Rule::ConstraintWidened, path, false, true, || {
                format!("`{keyword}` `{o}` was removed")
            }),
            (Some(o), Some(n)) if o != n => {
                self.emit(sink, Rule::ConstraintChanged, path, true, true, || {
                    format!("`{keyword}` changed from `{o}` to `{n}`")
                });
            }
            _ => {}
        }
    }

    /// Compares a lower (`is_lower`) or upper bound and reports narrowing or widening.
    #[allow(clippy::too_many_arguments)]
    fn bound(
        &self,
        sink: &mut Sink,
        path: &[String],
        keyword: &str,
        is_lower: bool,
        old: Option<Bound>,
        new: Option<Bound>,
        note: &str,
    ) {
        let (rule, loses, gains) = match strictness(old, new, is_lower) {
            Ordering::Equal => return,
            Ordering::Less => (Rule::ConstraintNarrowed, true, false),
            Ordering::Greater => (Rule::ConstraintWidened, false, true),
        };
        self.emit(sink, rule, path, loses, gains, || {
            format!(
                "`{keyword}` {} → {}{note}",
                Bound::show(old),
                Bound::show(new)
            )
        });
    }

    fn cmp_array(
        &mut self,
        old: &'d Array,
        new: &'d Array,
        path: &mut Vec<String>,
        depth: usize,
        sink: &mut Sink,
    ) {
        if old.prefix.len() != new.prefix.len() {
            self.emit(sink, Rule::FieldTypeChanged, path, true, true, || {
                format!(
                    "a tuple of {} became a tuple of {}",
                    old.prefix.len(),
                    new.prefix.len()
                )
            });
            return;
        }
        for (i, (a, b)) in old.prefix.iter().zip(&new.prefix).enumerate() {
            path.push(format!("[{i}]"));
            self.cmp(a, b, path, depth + 1, sink);
            path.pop();
        }
        let items = |a: &'d Array| a.items.as_deref().unwrap_or(&ANY);
        path.push("[]".to_owned());
        self.cmp(items(old), items(new), path, depth + 1, sink);
        path.pop();
        let count = |n: Option<u64>| {
            n.map(|n| Bound {
                value: n as f64,
                exclusive: false,
            })
        };
        self.bound(
            sink,
            path,
            "minItems",
            true,
            count(old.min_items),
            count(new.min_items),
            "",
        );
        self.bound(
            sink,
            path,
            "maxItems",
            false,
            count(old.max_items),
            count(new.max_items),
            "",
        );
    }

    /// Whether a receiver must get this property: tolerant readers fill in a missing
    /// `Option` as `None` and a missing defaulted field with its default, like serde.
    fn requires(&self, side: Side, property: &'d Property) -> bool {
        property.required
            && !(self.tolerant
                && (property.node.default.is_some() || self.nullable(side, &property.node)))
    }

    fn nullable(&self, side: Side, node: &'d Node) -> bool {
        self.resolve(side, node)
            .is_some_and(|n| self.split(side, n, 0).0)
    }

    /// Whether `receiver` (an object of version `receiver_side`) rejects a field it does not
    /// name whose values follow `value` (from the other version).
    fn rejects_unknown(
        &mut self,
        receiver: &'d Object,
        receiver_side: Side,
        value: &'d Node,
        depth: usize,
    ) -> bool {
        match &receiver.additional {
            Additional::Any => false,
            Additional::Forbidden => !self.tolerant,
            Additional::Schema(schema) => {
                let mut sub = Sink::summary();
                match receiver_side {
                    Side::New => {
                        self.cmp(value, schema, &mut Vec::new(), depth + 1, &mut sub);
                        sub.flags().0
                    }
                    Side::Old => {
                        self.cmp(schema, value, &mut Vec::new(), depth + 1, &mut sub);
                        sub.flags().1
                    }
                }
            }
        }
    }

    fn cmp_object(
        &mut self,
        old: &'d Object,
        new: &'d Object,
        skip: Option<&str>,
        path: &mut Vec<String>,
        depth: usize,
        sink: &mut Sink,
    ) {
        let props = |o: &'d Object| -> BTreeMap<&'d str, &'d Property> {
            o.properties
                .iter()
                .filter(|p| Some(p.name.as_str()) != skip)
                .map(|p| (p.name.as_str(), p))
                .collect()
        };
        let (o_props, n_props) = (props(old), props(new));
        let removed: Vec<&'d Property> = o_props
            .iter()
            .filter(|(name, _)| !n_props.contains_key(*name))
            .map(|(_, p)| *p)
            .collect();
        let added: Vec<&'d Property> = n_props
            .iter()
            .filter(|(name, _)| !o_props.contains_key(*name))
            .map(|(_, p)| *p)
            .collect();

        for (name, a) in &o_props {
            if let Some(b) = n_props.get(name) {
                path.push((*name).to_owned());
                self.cmp_property(a, b, path, depth, sink);
                path.pop();
            }
        }

        let renames = self.renamed_fields(&removed, &added, depth);
        for r in &removed {
            let gains = self.requires(Side::Old, r);
            let loses = self.rejects_unknown(new, Side::New, &r.node, depth);
            if let Some(a) = renames.get(r.name.as_str()) {
                let added_loses = self.requires(Side::New, a);
                let added_gains = self.rejects_unknown(old, Side::Old, &a.node, depth);
                path.push(r.name.clone());
                self.emit(
                    sink,
                    Rule::FieldRenamed,
                    path,
                    loses || added_loses,
                    gains || added_gains,
                    || {
                        format!(
                            "field `{}` seems renamed to `{}` (same schema)",
                            r.name, a.name
                        )
                    },
                );
                path.pop();
                continue;
            }
            path.push(r.name.clone());
            self.emit(sink, Rule::FieldRemoved, path, loses, gains, || {
                let kind = if gains || (r.required && !self.tolerant) {
                    "required"
                } else {
                    "optional"
                };
                format!("{kind} field `{}` was removed", r.name)
            });
            path.pop();
        }
        let renamed_to: HashSet<&str> = renames.values().map(|p| p.name.as_str()).collect();
        for a in added
            .iter()
            .filter(|a| !renamed_to.contains(a.name.as_str()))
        {
            let loses = self.requires(Side::New, a);
            let gains = self.rejects_unknown(old, Side::Old, &a.node, depth);
            let rule = if loses {
                Rule::FieldAddedRequired
            } else if a.node.default.is_some() {
                Rule::FieldAddedWithDefault
            } else {
                Rule::FieldAddedOptional
            };
            path.push(a.name.clone());
            self.emit(sink, rule, path, loses, gains, || {
                match (rule, &a.node.default) {
                    (Rule::FieldAddedRequired, _) => {
                        format!("required field `{}` was added", a.name)
                    }
                    (_, Some(default)) => {
                        format!("field `{}` was added with default `{default}`", a.name)
                    }
                    _ => format!("optional field `{}` was added", a.name),
                }
            });
            path.pop();
        }

        self.cmp_additional(old, new, path, depth, sink);
        self.cmp_patterns(old, new, path, depth, sink);
        match (&old.property_names, &new.property_names) {
            (Some(a), Some(b)) => {
                path.push("{keys}".to_owned());
                self.cmp(a, b, path, depth + 1, sink);
                path.pop();
            }
            (None, Some(_)) => self.emit(sink, Rule::ConstraintNarrowed, path, true, false, || {
                "map keys are now restricted (`propertyNames`)".to_owned()
            }),
            (Some(_), None) => self.emit(sink, Rule::ConstraintWidened, path, false, true, || {
                "map keys are no longer restricted (`propertyNames`)".to_owned()
            }),
            (None, None) => {}
        }
        let count = |n: Option<u64>| {
            n.map(|n| Bound {
                value: n as f64,
                exclusive: false,
            })
        };
        self.bound(
            sink,
            path,
            "minProperties",
            true,
            count(old.min_properties),
            count(new.min_properties),
            "",
        );
        self.bound(
            sink,
            path,
            "maxProperties",
            false,
            count(old.max_properties),
            count(new.max_properties),
            "",
        );
    }

    /// Removed and added fields that pair up one to one with the same schema and the same
    /// presence rules: removed name → added field.
    fn renamed_fields(
        &mut self,
        removed: &[&'d Property],
        added: &[&'d Property],
        depth: usize,
    ) -> HashMap<&'d str, &'d Property> {
        let mut candidates: Vec<(usize, usize)> = Vec::new();
        for (i, r) in removed.iter().enumerate() {
            for (j, a) in added.iter().enumerate() {
                if r.required != a.required || r.node.default != a.node.default {
                    continue;
                }
                let mut sub = Sink::summary();
                self.cmp(&r.node, &a.node, &mut Vec::new(), depth + 1, &mut sub);
                if sub.flags() == (false, false) {
                    candidates.push((i, j));
                }
            }
        }
        candidates
            .iter()
            .filter(|(i, j)| {
                candidates.iter().filter(|(x, _)| x == i).count() == 1
                    && candidates.iter().filter(|(_, y)| y == j).count() == 1
            })
            .map(|&(i, j)| (removed[i].name.as_str(), added[j]))
            .collect()
    }

    fn cmp_property(
        &mut self,
        old: &'d Property,
        new: &'d Property,
        path: &mut Vec<String>,
        depth: usize,
        sink: &mut Sink,
    ) {
        let name = &old.name;
        let (old_requires, new_requires) =
            (self.requires(Side::Old, old), self.requires(Side::New, new));
        let default_note = |p: &Property| match &p.node.default {
            Some(d) => format!(" (default `{d}`)"),
            None => String::new(),
        };
        if !old.required && new_requires {
            self.emit(
                sink,
                Rule::FieldOptionalityChanged,
                path,
                true,
                false,
                || {
                    format!(
                        "field `{name}` was optional{} and is now required",
                        default_note(old)
                    )
                },
            );
        }
        if !new.required && old_requires {
            self.emit(
                sink,
                Rule::FieldOptionalityChanged,
                path,
                false,
                true,
                || {
                    format!(
                        "field `{name}` was required and may now be left out{}",
                        default_note(new)
                    )
                },
            );
        }
        match (&old.node.default, &new.node.default) {
            (Some(a), Some(b)) if a != b && (!old.required || !new.required) => {
                self.emit(sink, Rule::FieldDefaultChanged, path, false, false, || {
                    format!("the default of `{name}` changed from `{a}` to `{b}`")
                });
            }
            _ => {}
        }
        self.cmp(&old.node, &new.node, path, depth + 1, sink);
    }

    fn cmp_additional(
        &mut self,
        old: &'d Object,
        new: &'d Object,
        path: &mut Vec<String>,
        depth: usize,
        sink: &mut Sink,
    ) {
        let strict = !self.tolerant;
        let (loses, gains, what) = match (&old.additional, &new.additional) {
            (Additional::Any, Additional::Any) | (Additional::Forbidden, Additional::Forbidden) => {
                return;
            }
            (Additional::Schema(a), Additional::Schema(b)) => {
                path.push("{}".to_owned());
                self.cmp(a, b, path, depth + 1, sink);
                path.pop();
                return;
            }
            (Additional::Forbidden, Additional::Any) => {
                (false, strict, "unknown fields are now accepted")
            }
            (Additional::Any, Additional::Forbidden) => {
                (strict, false, "unknown fields are now rejected")
            }
            (Additional::Forbidden, Additional::Schema(_)) => (
                false,
                strict,
                "extra fields are now accepted as map entries",
            ),
            (Additional::Schema(_), Additional::Forbidden) => {
                (strict, false, "extra fields (map entries) are now rejected")
            }
            // Map entries are checked whatever the reader, so a tolerant one breaks too.
            (Additional::Any, Additional::Schema(_)) => (
                true,
                false,
                "extra fields must now follow the map's value schema",
            ),
            (Additional::Schema(_), Additional::Any) => (
                false,
                true,
                "extra fields no longer follow a map value schema",
            ),
        };
        self.emit(
            sink,
            Rule::UnknownFieldsPolicyChanged,
            path,
            loses,
            gains,
            || what.to_owned(),
        );
    }

    fn cmp_patterns(
        &mut self,
        old: &'d Object,
        new: &'d Object,
        path: &mut Vec<String>,
        depth: usize,
        sink: &mut Sink,
    ) {
        let strict = !self.tolerant;
        for (pattern, a) in &old.patterns {
            match new.patterns.iter().find(|(p, _)| p == pattern) {
                Some((_, b)) => {
                    path.push("{}".to_owned());
                    self.cmp(a, b, path, depth + 1, sink);
                    path.pop();
                }
                None => self.emit(
                    sink,
                    Rule::UnknownFieldsPolicyChanged,
                    path,
                    strict,
                    false,
                    || format!("keys matching `{pattern}` are no longer accepted"),
                ),
            }
        }
        for (pattern, _) in &new.patterns {
            if !old.patterns.iter().any(|(p, _)| p == pattern) {
                self.emit(
                    sink,
                    Rule::UnknownFieldsPolicyChanged,
                    path,
                    false,
                    strict,
                    || format!("keys matching `{pattern}` are now accepted"),
                );
            }
        }
    }
}

/// Names of the definitions that differ between two manifests, directly or through a
/// definition they refer to (the changes propagated backwards along `$ref`s, without
/// recursion).
fn changed_defs(old: &Schemas<'_>, new: &Schemas<'_>) -> HashSet<String> {
    let names: BTreeSet<&str> = old.defs.keys().chain(new.defs.keys()).copied().collect();
    let mut changed = HashSet::new();
    let mut referrers: HashMap<String, Vec<&str>> = HashMap::new();
    let mut work = Vec::new();
    for name in names {
        let (o, n) = (old.def(name).map(|p| p.raw), new.def(name).map(|p| p.raw));
        if o != n && changed.insert(name.to_owned()) {
            work.push(name.to_owned());
        }
        for raw in [o, n].into_iter().flatten() {
            for target in refs_in(raw) {
                referrers.entry(target).or_default().push(name);
            }
        }
    }
    while let Some(name) = work.pop() {
        for referrer in referrers.get(&name).into_iter().flatten() {
            if changed.insert((*referrer).to_owned()) {
                work.push((*referrer).to_owned());
            }
        }
    }
    changed
}

/// The definitions a schema refers to, found without recursion.
fn refs_in(value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(target) = map.get("$ref").and_then(Value::as_str).and_then(ref_target) {
                    found.push(target);
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    found
}

/// The definitions a parsed schema refers to (parsed schemas are at most
/// [`MAX_JSON_DEPTH`] deep, so the recursion is bounded).
fn node_refs<'n>(node: &'n Node, out: &mut Vec<&'n str>, depth: usize) {
    if depth > MAX_JSON_DEPTH {
        return;
    }
    let mut visit = |n: &'n Node| node_refs(n, out, depth + 1);
    match &node.kind {
        Kind::Ref(name) => out.push(name),
        Kind::Array(a) => {
            a.prefix.iter().for_each(&mut visit);
            a.items.iter().for_each(|n| visit(n));
        }
        Kind::Object(o) => {
            o.properties.iter().for_each(|p| visit(&p.node));
            o.patterns.iter().for_each(|(_, n)| visit(n));
            if let Additional::Schema(n) = &o.additional {
                visit(n);
            }
            o.property_names.iter().for_each(|n| visit(n));
        }
        Kind::Union(nodes) | Kind::AllOf(nodes) => nodes.iter().for_each(visit),
        _ => {}
    }
}

/// A bound of a numeric range or a count.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Bound {
    value: f64,
    exclusive: bool,
}

impl Bound {
    fn inclusive(value: f64) -> Self {
        Self {
            value,
            exclusive: false,
        }
    }

    fn show(bound: Option<Self>) -> String {
        match bound {
            None => "none".to_owned(),
            Some(b) => {
                let value = if b.value.fract() == 0.0 && b.value.abs() < 1e16 {
                    format!("{}", b.value as i64)
                } else {
                    format!("{}", b.value)
                };
                if b.exclusive {
                    format!("{value} (exclusive)")
                } else {
                    value
                }
            }
        }
    }
}

/// How the new bound compares with the old: `Less` when it accepts less (narrower),
/// `Greater` when it accepts more.
fn strictness(old: Option<Bound>, new: Option<Bound>, is_lower: bool) -> Ordering {
    match (old, new) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => {
            let by_value = if is_lower {
                a.value.partial_cmp(&b.value)
            } else {
                b.value.partial_cmp(&a.value)
            };
            match by_value.unwrap_or(Ordering::Equal) {
                Ordering::Equal => b.exclusive.cmp(&a.exclusive).reverse(),
                other => other,
            }
        }
    }
}

fn within(x: f64, lo: Option<Bound>, hi: Option<Bound>) -> bool {
    let above = lo.is_none_or(|b| {
        if b.exclusive {
            x > b.value
        } else {
            x >= b.value
        }
    });
    let below = hi.is_none_or(|b| {
        if b.exclusive {
            x < b.value
        } else {
            x <= b.value
        }
    });
    above && below
}

/// The strictest of several bounds.
fn strictest(bounds: impl IntoIterator<Item = Option<Bound>>, is_lower: bool) -> Option<Bound> {
    bounds.into_iter().fold(None, |acc, b| {
        if strictness(acc, b, is_lower) == Ordering::Less {
            b
        } else {
            acc
        }
    })
}

/// An integer's effective inclusive bounds: explicit keywords, the range of its `format`
/// (serde rejects a `u8` of 300 whatever the schema says) and, for 64-bit formats,
/// JavaScript's safe integers.
fn int_bounds(n: &Numeric) -> (Option<Bound>, Option<Bound>) {
    let format = n.format.as_deref();
    let range = format.and_then(integer_format_range);
    let wide = format.is_some_and(is_wide_integer);
    let unsigned = format.is_some_and(|f| f.starts_with("uint"));
    let lo = strictest(
        [
            n.minimum.map(|m| Bound::inclusive(m.ceil())),
            n.exclusive_minimum
                .map(|m| Bound::inclusive(m.floor() + 1.0)),
            range.map(|r| Bound::inclusive(r.0)),
            unsigned.then(|| Bound::inclusive(0.0)),
            wide.then(|| Bound::inclusive(-MAX_SAFE_INTEGER)),
        ],
        true,
    );
    let hi = strictest(
        [
            n.maximum.map(|m| Bound::inclusive(m.floor())),
            n.exclusive_maximum
                .map(|m| Bound::inclusive(m.ceil() - 1.0)),
            range.map(|r| Bound::inclusive(r.1)),
            wide.then(|| Bound::inclusive(MAX_SAFE_INTEGER)),
        ],
        false,
    );
    (lo, hi)
}

fn number_bounds(n: &Numeric) -> (Option<Bound>, Option<Bound>) {
    let exclusive = |value| Bound {
        value,
        exclusive: true,
    };
    (
        strictest(
            [
                n.minimum.map(Bound::inclusive),
                n.exclusive_minimum.map(exclusive),
            ],
            true,
        ),
        strictest(
            [
                n.maximum.map(Bound::inclusive),
                n.exclusive_maximum.map(exclusive),
            ],
            false,
        ),
    )
}

/// A schema's accepted values when it is a constant or an `enum`.
fn constants(node: &Node) -> Option<Vec<&Value>> {
    match &node.kind {
        Kind::Const(v) => Some(vec![v]),
        Kind::Enum(values) => Some(values.iter().collect()),
        _ => None,
    }
}

/// The variant names of a unit-only enum (`const`/`enum`): strings as they are, other
/// values as JSON. A `null` among them is not a variant: [`Differ::split`] takes it as
/// the schema being nullable.
fn units(node: &Node) -> Option<Vec<String>> {
    constants(node).map(|values| {
        values
            .into_iter()
            .filter(|v| !v.is_null())
            .map(unit_name)
            .collect()
    })
}

fn unit_name(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// How an enum is written on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Repr {
    /// `"Unit"` or `{"Variant": content}`.
    External,
    /// `{"tag": "Variant", ...fields}`.
    Internal(String),
    /// `{"tag": "Variant", "content": content}`.
    Adjacent(String, String),
}

impl Repr {
    /// An internally tagged enum whose variants all have one field of the same name is
    /// written exactly like an adjacently tagged one, so the content key is only named when
    /// it is what changed.
    fn describe(&self) -> String {
        match self {
            Self::External => "externally tagged".to_owned(),
            Self::Internal(tag) | Self::Adjacent(tag, _) => format!("tagged by `{tag}`"),
        }
    }

    fn describe_change(old: &Self, new: &Self) -> String {
        match (old, new) {
            (Self::Adjacent(a, c), Self::Adjacent(b, d)) if a == b => {
                format!(
                    "the enum tagged by `{a}` now holds its content under `{d}` instead of `{c}`"
                )
            }
            _ => format!(
                "the enum was {} and is now {}",
                old.describe(),
                new.describe()
            ),
        }
    }
}

#[derive(Clone, Debug)]
enum Variant<'d> {
    Unit,
    Content(&'d Node),
    Fields(&'d Object),
}

#[derive(Clone, Debug)]
struct Tagged<'d> {
    repr: Repr,
    variants: BTreeMap<String, Variant<'d>>,
    /// For tag-based enums, each variant's whole object (tag included).
    objects: BTreeMap<String, &'d Object>,
    /// The union's members as written.
    nodes: Vec<&'d Node>,
}

impl<'d> Tagged<'d> {
    fn as_internal(&self, tag: &str) -> Self {
        Self {
            repr: Repr::Internal(tag.to_owned()),
            variants: self
                .objects
                .iter()
                .map(|(name, object)| (name.clone(), Variant::Fields(object)))
                .collect(),
            objects: self.objects.clone(),
            nodes: self.nodes.clone(),
        }
    }
}

enum Shape<'d> {
    Single(&'d Node),
    Tagged(Tagged<'d>),
    Untagged(Vec<&'d Node>),
}

impl<'d> Shape<'d> {
    fn nodes(&self) -> Vec<&'d Node> {
        match self {
            Self::Single(node) => vec![node],
            Self::Tagged(tagged) => tagged.nodes.clone(),
            Self::Untagged(nodes) => nodes.clone(),
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Single(node) => describe(node),
            Self::Tagged(tagged) => format!("an enum {}", tagged.repr.describe()),
            Self::Untagged(nodes) => format!("an untagged union of {}", nodes.len()),
        }
    }
}

/// An externally tagged enum: string constants and single-key objects.
fn external<'d>(members: &[&'d Node]) -> Option<Tagged<'d>> {
    let mut variants = BTreeMap::new();
    for member in members {
        if let Some(names) = units(member) {
            for name in names {
                if !matches!(
                    variants.insert(name, Variant::Unit),
                    None | Some(Variant::Unit)
                ) {
                    return None;
                }
            }
            continue;
        }
        let Kind::Object(object) = &member.kind else {
            return None;
        };
        let [only] = object.properties.as_slice() else {
            return None;
        };
        let closed = object.additional == Additional::Forbidden && object.patterns.is_empty();
        if !only.required || !closed {
            return None;
        }
        // A client-side schema also lists each unit variant as `{"Name": null}`, which serde
        // reads like `"Name"`: the same variant written another way.
        if only.node.is_null() {
            if !matches!(
                variants.insert(only.name.clone(), Variant::Unit),
                None | Some(Variant::Unit)
            ) {
                return None;
            }
            continue;
        }
        if variants
            .insert(only.name.clone(), Variant::Content(&only.node))
            .is_some()
        {
            return None;
        }
    }
    Some(Tagged {
        repr: Repr::External,
        variants,
        objects: BTreeMap::new(),
        nodes: Vec::new(),
    })
}

/// An internally or adjacently tagged enum: objects sharing a required constant field.
fn tagged<'d>(members: &[&'d Node]) -> Option<Tagged<'d>> {
    let objects: Vec<&'d Object> = members
        .iter()
        .map(|m| match &m.kind {
            Kind::Object(o) => Some(o),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let first = objects.first()?;
    let tag_value = |o: &'d Object, tag: &str| -> Option<String> {
        let p = o.properties.iter().find(|p| p.name == tag && p.required)?;
        match &p.node.kind {
            Kind::Const(Value::String(s)) => Some(s.clone()),
            Kind::Enum(values) => match values.as_slice() {
                [Value::String(s)] => Some(s.clone()),
                _ => None,
            },
            _ => None,
        }
    };
    let mut candidates: Vec<&str> = first.properties.iter().map(|p| p.name.as_str()).collect();
    candidates.sort_unstable();
    let (tag, names) = candidates.into_iter().find_map(|tag| {
        let names: Vec<String> = objects
            .iter()
            .map(|o| tag_value(o, tag))
            .collect::<Option<_>>()?;
        let distinct: BTreeSet<&String> = names.iter().collect();
        (distinct.len() == names.len()).then_some((tag, names))
    })?;
    let others: BTreeSet<&str> = objects
        .iter()
        .flat_map(|o| o.properties.iter().map(|p| p.name.as_str()))
        .filter(|n| *n != tag)
        .collect();
    let adjacent_content = match others.into_iter().collect::<Vec<_>>().as_slice() {
        [content] => objects
            .iter()
            .all(|o| {
                o.properties
                    .iter()
                    .all(|p| p.name == tag || (p.name == *content && p.required))
            })
            .then(|| (*content).to_owned()),
        _ => None,
    };
    let mut variants = BTreeMap::new();
    let mut by_name = BTreeMap::new();
    for (name, object) in names.into_iter().zip(objects) {
        let variant = match &adjacent_content {
            Some(content) => match object.properties.iter().find(|p| &p.name == content) {
                Some(p) => Variant::Content(&p.node),
                None => Variant::Unit,
            },
            None => Variant::Fields(object),
        };
        variants.insert(name.clone(), variant);
        by_name.insert(name, object);
    }
    let repr = match adjacent_content {
        Some(content) => Repr::Adjacent(tag.to_owned(), content),
        None => Repr::Internal(tag.to_owned()),
    };
    Some(Tagged {
        repr,
        variants,
        objects: by_name,
        nodes: Vec::new(),
    })
}

/// A short description of what a schema accepts, for messages.
fn describe(node: &Node) -> String {
    match &node.kind {
        Kind::Any => "any value".to_owned(),
        Kind::Never => "no value".to_owned(),
        Kind::Ref(name) => format!("`{name}`"),
        Kind::Const(v) => format!("the constant `{v}`"),
        Kind::Enum(values) => {
            let shown: Vec<String> = values.iter().take(5).map(|v| format!("`{v}`")).collect();
            let more = if values.len() > 5 { ", …" } else { "" };
            format!("one of {}{more}", shown.join(", "))
        }
        Kind::Null => "`null`".to_owned(),
        Kind::Boolean => "a boolean".to_owned(),
        Kind::Integer(n) => match &n.format {
            Some(f) => format!("an integer ({f})"),
            None => "an integer".to_owned(),
        },
        Kind::Number(_) => "a number".to_owned(),
        Kind::String(_) => "a string".to_owned(),
        Kind::Array(a) if !a.prefix.is_empty() => format!("a tuple of {}", a.prefix.len()),
        Kind::Array(_) => "an array".to_owned(),
        Kind::Object(o) if o.properties.is_empty() && o.additional != Additional::Forbidden => {
            "a map".to_owned()
        }
        Kind::Object(_) => "an object".to_owned(),
        Kind::Union(members) => format!("a union of {}", members.len()),
        Kind::AllOf(_) => "a combination of schemas".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn numeric(value: Value) -> Numeric {
        match Node::parse(&value).map(|n| n.kind) {
            Ok(Kind::Integer(n) | Kind::Number(n)) => n,
            other => panic!("not numeric: {other:?}"),
        }
    }

    fn values(bounds: (Option<Bound>, Option<Bound>)) -> (Option<f64>, Option<f64>) {
        (bounds.0.map(|b| b.value), bounds.1.map(|b| b.value))
    }

    #[test]
    fn integer_bounds_combine_keywords_formats_and_safe_integers() {
        let uint8 = numeric(json!({"type": "integer", "format": "uint8"}));
        assert_eq!(values(int_bounds(&uint8)), (Some(0.0), Some(255.0)));
        let narrowed = numeric(
            json!({"type": "integer", "format": "uint8", "minimum": 1, "exclusiveMaximum": 100}),
        );
        assert_eq!(values(int_bounds(&narrowed)), (Some(1.0), Some(99.0)));
        let wide = numeric(json!({"type": "integer", "format": "int64"}));
        assert_eq!(
            values(int_bounds(&wide)),
            (Some(-MAX_SAFE_INTEGER), Some(MAX_SAFE_INTEGER))
        );
        let fractional = numeric(json!({"type": "integer", "exclusiveMinimum": 0.5}));
        assert_eq!(values(int_bounds(&fractional)), (Some(1.0), None));
    }

    #[test]
    fn strictness_compares_values_then_exclusiveness() {
        let at = |value, exclusive| Some(Bound { value, exclusive });
        assert_eq!(strictness(None, at(1.0, false), true), Ordering::Less);
        assert_eq!(strictness(at(1.0, false), None, true), Ordering::Greater);
        assert_eq!(
            strictness(at(1.0, false), at(2.0, false), true),
            Ordering::Less
        );
        assert_eq!(
            strictness(at(1.0, false), at(2.0, false), false),
            Ordering::Greater
        );
        assert_eq!(
            strictness(at(1.0, false), at(1.0, true), true),
            Ordering::Less
        );
        assert_eq!(
            strictness(at(1.0, true), at(1.0, true), false),
            Ordering::Equal
        );
        let number = numeric(json!({"type": "number", "minimum": 0, "exclusiveMinimum": 0}));
        assert_eq!(number_bounds(&number).0, at(0.0, true));
    }

    #[test]
    fn nesting_is_measured_without_recursion() {
        assert!(nests_within(&json!(1), 0));
        assert!(!nests_within(&json!([]), 0));
        assert!(nests_within(&json!({"a": [1, {"b": 2}]}), 3));
        assert!(!nests_within(&json!({"a": [1, {"b": {}}]}), 3));
    }

    #[test]
    fn references_are_found_and_decoded() {
        let refs = refs_in(
            &json!({"anyOf": [{"$ref": "#/$defs/A"}, {"items": {"$ref": "#/$defs/Gr%C3%B6%C3%9Fe"}}]}),
        );
        let mut refs: Vec<&str> = refs.iter().map(String::as_str).collect();
        refs.sort_unstable();
        assert_eq!(refs, ["A", "Größe"]);
    }
}
