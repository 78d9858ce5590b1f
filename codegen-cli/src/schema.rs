//! A typed view of the JSON Schema subset that schemars writes for serde types.
//!
//! The manifest carries payload shapes as JSON Schema 2020-12, so the TypeScript mapping
//! follows serde exactly: renames, the four enum representations, `Option`, defaults,
//! `flatten` and recursion are already resolved in the schema. This module parses a schema
//! value into [`Node`]s once, keeps the manifest's definitions as a [`Definitions`] table,
//! and answers the questions every back end asks of a schema, above all which of serde's
//! enum representations a union is ([`Definitions::union`]). The back ends only
//! pattern-match on the results.
//!
//! Keywords that do not describe a shape the back ends can use (`title`, `examples`,
//! `readOnly`, `if`/`then`/`else`, `dependentRequired`, `not` other than a list of excluded
//! strings, …) are ignored here; the emitted JSON Schema files still carry them, so a schema
//! validator enforces them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};
use twinwire::manifest::ref_target;

use crate::error::Error;

/// A parsed schema: its documentation, default value and shape.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    /// The schema's `description`, if any.
    pub(crate) doc: Option<String>,
    /// The schema's `default`, if any (documentation only: serde applies it).
    pub(crate) default: Option<Value>,
    /// What values the schema accepts.
    pub(crate) kind: Kind,
}

/// The shape of a [`Node`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Kind {
    /// Anything (`true`, `{}`).
    Any,
    /// Nothing (`false`).
    Never,
    /// A reference to a definition of the manifest, by (decoded) name.
    Ref(String),
    /// Exactly this value (`const`).
    Const(Value),
    /// One of these values (`enum`).
    Enum(Vec<Value>),
    /// `null`.
    Null,
    /// `true` or `false`.
    Boolean,
    /// An integer.
    Integer(Numeric),
    /// Any finite number.
    Number(Numeric),
    /// A string.
    String(Text),
    /// An array or tuple.
    Array(Array),
    /// An object: a struct or a map.
    Object(Object),
    /// At least one of the variants (`anyOf`, `oneOf`, or a `type` list).
    Union(Vec<Node>),
    /// Every one of the parts (`allOf`, or keywords beside a composition).
    AllOf(Vec<Node>),
}

/// Numeric keywords.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Numeric {
    /// schemars' `format`: `uint8`, `int64`, `double`, …
    pub(crate) format: Option<String>,
    /// Inclusive lower bound.
    pub(crate) minimum: Option<f64>,
    /// Inclusive upper bound.
    pub(crate) maximum: Option<f64>,
    /// Exclusive lower bound.
    pub(crate) exclusive_minimum: Option<f64>,
    /// Exclusive upper bound.
    pub(crate) exclusive_maximum: Option<f64>,
}

/// String keywords.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Text {
    /// Least number of Unicode scalar values.
    pub(crate) min_length: Option<u64>,
    /// Greatest number of Unicode scalar values.
    pub(crate) max_length: Option<u64>,
    /// An ECMA-262 regular expression that must match somewhere in the string.
    pub(crate) pattern: Option<String>,
    /// `email`, `uri`, `uuid`, `date-time`, …
    pub(crate) format: Option<String>,
    /// Strings it must not be (`not: {"enum": [...]}`): the catch-all of a `#[serde(other)]`
    /// variant, any name but the declared ones.
    pub(crate) not_in: Option<Vec<String>>,
}

/// Array keywords.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Array {
    /// Schemas of the leading positions (`prefixItems`): a tuple.
    pub(crate) prefix: Vec<Node>,
    /// Schema of every further item (`items`); `None` accepts anything.
    pub(crate) items: Option<Box<Node>>,
    /// Least number of items.
    pub(crate) min_items: Option<u64>,
    /// Greatest number of items.
    pub(crate) max_items: Option<u64>,
}

impl Array {
    /// Whether this is a fixed-length tuple: its positions are all described and nothing may
    /// follow them.
    pub(crate) fn is_closed_tuple(&self) -> bool {
        let len = self.prefix.len() as u64;
        !self.prefix.is_empty()
            && (self.max_items == Some(len)
                || self.items.as_deref().is_some_and(|n| n.kind == Kind::Never))
    }
}

/// Object keywords.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Object {
    /// Named properties: required ones in the schema's `required` order, then the optional
    /// ones by name.
    pub(crate) properties: Vec<Property>,
    /// Properties that must be present but have no schema of their own.
    pub(crate) required_only: Vec<String>,
    /// `patternProperties`: keys matching a pattern, with their value schema.
    pub(crate) patterns: Vec<(String, Node)>,
    /// What keys neither named nor matched by a pattern may hold.
    pub(crate) additional: Additional,
    /// `propertyNames`: a schema every key must match.
    pub(crate) property_names: Option<Box<Node>>,
    /// Least number of properties.
    pub(crate) min_properties: Option<u64>,
    /// Greatest number of properties.
    pub(crate) max_properties: Option<u64>,
}

/// A named property of an [`Object`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Property {
    /// The wire name.
    pub(crate) name: String,
    /// Its schema.
    pub(crate) node: Node,
    /// Whether it must be present.
    pub(crate) required: bool,
}

/// `additionalProperties`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum Additional {
    /// Absent or `true`: any further key is allowed.
    #[default]
    Any,
    /// `false`: no further key (serde's `deny_unknown_fields`).
    Forbidden,
    /// Every further key holds a value of this schema (a map, or a flattened map).
    Schema(Box<Node>),
}

/// A schema this module cannot read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SchemaError {
    /// JSON pointer of the offending schema inside the one being parsed.
    pub(crate) at: String,
    /// What is wrong.
    pub(crate) message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.at.is_empty() { "/" } else { &self.at };
        write!(f, "at {at}: {}", self.message)
    }
}

impl std::error::Error for SchemaError {}

impl Node {
    /// A node of this kind without documentation.
    pub(crate) fn of(kind: Kind) -> Self {
        Self {
            doc: None,
            default: None,
            kind,
        }
    }

    /// Parses a schema value.
    ///
    /// # Errors
    /// A [`SchemaError`] for a value that is not a schema, a `$ref` outside the manifest's
    /// definitions, or a keyword with a value of the wrong type.
    pub(crate) fn parse(schema: &Value) -> Result<Self, SchemaError> {
        Parser { at: String::new() }.node(schema)
    }

    /// The schemas directly inside this one.
    fn children(&self) -> Box<dyn Iterator<Item = &Node> + '_> {
        match &self.kind {
            Kind::Array(a) => Box::new(a.prefix.iter().chain(a.items.as_deref())),
            Kind::Object(o) => Box::new(
                o.properties
                    .iter()
                    .map(|p| &p.node)
                    .chain(o.patterns.iter().map(|(_, n)| n))
                    .chain(match &o.additional {
                        Additional::Schema(n) => Some(n.as_ref()),
                        Additional::Any | Additional::Forbidden => None,
                    })
                    .chain(o.property_names.as_deref()),
            ),
            Kind::Union(list) | Kind::AllOf(list) => Box::new(list.iter()),
            _ => Box::new(std::iter::empty()),
        }
    }

    /// Whether the node accepts `null` and nothing else.
    pub(crate) fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Null) || matches!(&self.kind, Kind::Const(Value::Null))
    }
}

/// The manifest's definitions, parsed, by name.
#[derive(Clone, Debug, Default)]
pub(crate) struct Definitions {
    nodes: BTreeMap<String, Node>,
}

impl Definitions {
    /// Parses every definition and checks that every `$ref` in them names one.
    ///
    /// # Errors
    /// [`Error::Schema`] for a definition that is not a readable schema or refers to a
    /// definition that does not exist.
    pub(crate) fn parse(defs: &BTreeMap<String, Value>) -> Result<Self, Error> {
        let mut nodes = BTreeMap::new();
        for (name, schema) in defs {
            nodes.insert(
                name.clone(),
                parse_schema(schema, || format!("definition `{name}`"))?,
            );
        }
        let definitions = Self { nodes };
        for (name, node) in &definitions.nodes {
            definitions.check_refs(node, &format!("definition `{name}`"))?;
        }
        Ok(definitions)
    }

    /// The definitions in name order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &Node)> {
        self.nodes.iter()
    }

    /// Parses a message's payload schema and checks its references.
    ///
    /// # Errors
    /// [`Error::Schema`] for an unreadable schema or a `$ref` to a missing definition.
    pub(crate) fn payload(&self, schema: &Value, kind: &str) -> Result<Node, Error> {
        let context = || format!("the payload of `{kind}`");
        let node = parse_schema(schema, context)?;
        self.check_refs(&node, &context())?;
        Ok(node)
    }

    /// Every `$ref` must name a definition. The manifest reader checks this too, but a
    /// manifest built in memory may not have been through it.
    fn check_refs(&self, node: &Node, context: &str) -> Result<(), Error> {
        if let Kind::Ref(name) = &node.kind {
            if self.nodes.contains_key(name) {
                return Ok(());
            }
            return Err(Error::Schema {
                context: context.to_owned(),
                message: format!("`$ref` to `{name}`, which is not in the manifest's defs"),
            });
        }
        node.children()
            .try_for_each(|child| self.check_refs(child, context))
    }

    /// The node behind a reference, following a few levels of `$ref` (a definition that is
    /// only a reference to another is how schemars writes a transparent newtype).
    pub(crate) fn resolve<'n>(&'n self, node: &'n Node) -> &'n Node {
        let mut node = node;
        for _ in 0..8 {
            match &node.kind {
                Kind::Ref(name) => match self.nodes.get(name) {
                    Some(target) => node = target,
                    None => return node,
                },
                _ => return node,
            }
        }
        node
    }

    /// How serde reads a union of `variants`: whether `null` is one of them (`Option<T>`),
    /// and which enum representation the others follow.
    pub(crate) fn union<'n>(&self, variants: &'n [Node]) -> Union<'n> {
        let (nulls, others): (Vec<&Node>, Vec<&Node>) = variants.iter().partition(|n| n.is_null());
        let representation = match others.as_slice() {
            [] => Representation::Empty,
            [only] => Representation::Single(only),
            _ => {
                if let Some((tag, tags, fallback)) = self.discriminator(&others) {
                    let mut variants = Vec::new();
                    let mut catch_all = None;
                    for (node_tag, node) in tags.into_iter().zip(others) {
                        match node_tag {
                            Some(name) => variants.push((name, node)),
                            None => catch_all = Some(node),
                        }
                    }
                    debug_assert_eq!(catch_all.is_some(), fallback);
                    Representation::Tagged {
                        tag,
                        variants,
                        catch_all,
                    }
                } else if let Some(kinds) = self.external(&others) {
                    Representation::External(kinds.into_iter().zip(others).collect())
                } else {
                    Representation::Untagged(others)
                }
            }
        };
        Union {
            nullable: !nulls.is_empty(),
            representation,
        }
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
    /// distinct string in each, except at most one variant whose tag is any string but the
    /// others' (the catch-all of a `#[serde(other)]` variant). The property, each variant's
    /// tag (`None` for the catch-all) and whether there is a catch-all.
    fn discriminator(&self, variants: &[&Node]) -> Option<(String, Vec<Option<String>>, bool)> {
        let first = variants.first()?;
        self.required_names(first)
            .into_iter()
            .find_map(|candidate| {
                let tags: Option<Vec<Option<String>>> = variants
                    .iter()
                    .map(|v| match self.tag_of(v, &candidate) {
                        Some(tag) => Some(Some(tag)),
                        None => self.is_catch_all(v, &candidate).then_some(None),
                    })
                    .collect();
                let tags = tags?;
                let named: Vec<&String> = tags.iter().flatten().collect();
                let unique: BTreeSet<&&String> = named.iter().collect();
                let catch_alls = tags.len() - named.len();
                (unique.len() == named.len() && catch_alls <= 1 && !named.is_empty()).then_some((
                    candidate,
                    tags,
                    catch_alls == 1,
                ))
            })
    }

    /// Whether required property `prop` of a variant is a string excluding some names: the
    /// tag of a `#[serde(other)]` catch-all.
    fn is_catch_all(&self, node: &Node, prop: &str) -> bool {
        match &self.resolve(node).kind {
            Kind::Object(o) => o.properties.iter().any(|p| {
                p.name == prop
                    && p.required
                    && matches!(&self.resolve(&p.node).kind, Kind::String(t) if t.not_in.is_some())
            }),
            Kind::AllOf(parts) => parts.iter().any(|part| self.is_catch_all(part, prop)),
            _ => false,
        }
    }

    /// An externally tagged enum: unit variants as strings, the others as objects with one
    /// required key and nothing else, each key distinct.
    fn external(&self, variants: &[&Node]) -> Option<Vec<External>> {
        let mut out = Vec::with_capacity(variants.len());
        for v in variants {
            match &self.resolve(v).kind {
                Kind::Const(Value::String(s)) => out.push(External::Unit(vec![s.clone()])),
                Kind::Enum(values) => {
                    let names: Option<Vec<String>> = values
                        .iter()
                        .map(|x| x.as_str().map(str::to_owned))
                        .collect();
                    out.push(External::Unit(names?));
                }
                Kind::Object(o)
                    if o.properties.len() == 1
                        && o.properties.iter().all(|p| p.required)
                        && o.patterns.is_empty()
                        && o.required_only.is_empty()
                        && o.additional == Additional::Forbidden =>
                {
                    out.push(External::Keyed(o.properties[0].name.clone()));
                }
                Kind::String(t) if t.not_in.is_some() => out.push(External::Other),
                _ => return None,
            }
        }
        let keyed: Vec<&String> = out
            .iter()
            .filter_map(|v| match v {
                External::Keyed(k) => Some(k),
                External::Unit(_) | External::Other => None,
            })
            .collect();
        let unique: BTreeSet<&&String> = keyed.iter().collect();
        (!keyed.is_empty() && unique.len() == keyed.len()).then_some(out)
    }
}

/// The strings of `not: {"enum": [...]}` when that is all `not` says and every value is a
/// string; any other `not` is left to schema validators (see the module docs).
fn excluded_strings(map: &Map<String, Value>) -> Option<Vec<String>> {
    let not = map.get("not")?.as_object()?;
    if not.len() != 1 {
        return None;
    }
    not.get("enum")?
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// Parses a schema, naming where it comes from in the error.
fn parse_schema(schema: &Value, context: impl FnOnce() -> String) -> Result<Node, Error> {
    Node::parse(schema).map_err(|e| Error::Schema {
        context: context(),
        message: e.to_string(),
    })
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

/// A union (`anyOf`, `oneOf`, a `type` list) as serde reads it.
#[derive(Debug)]
pub(crate) struct Union<'n> {
    /// Whether `null` is a variant: the union is an `Option` of the others.
    pub(crate) nullable: bool,
    /// How the variants other than `null` are told apart.
    pub(crate) representation: Representation<'n>,
}

/// Which of serde's enum representations a union's non-null variants follow, judged from
/// their schemas (schemars writes each representation in a recognisable shape).
#[derive(Debug)]
pub(crate) enum Representation<'n> {
    /// No variant besides `null`.
    Empty,
    /// One variant: the union is that schema.
    Single(&'n Node),
    /// Internally or adjacently tagged: every variant is an object requiring property
    /// `tag`, which holds a distinct string in each. Each variant with its tag.
    Tagged {
        /// The tag property's wire name.
        tag: String,
        /// Each variant's tag and schema.
        variants: Vec<(String, &'n Node)>,
        /// The variant read for any other tag (`#[serde(other)]`), whose tag schema is a
        /// string excluding the others.
        catch_all: Option<&'n Node>,
    },
    /// Externally tagged (serde's default): unit variants are strings, the others objects
    /// with exactly one key, the variant's name.
    External(Vec<(External, &'n Node)>),
    /// Untagged: serde takes the first variant whose shape fits.
    Untagged(Vec<&'n Node>),
}

/// One variant of an externally tagged enum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum External {
    /// Unit variants, written as these strings.
    Unit(Vec<String>),
    /// A variant with data, written as an object with this one key.
    Keyed(String),
    /// Any other string: the catch-all of a `#[serde(other)]` unit variant.
    Other,
}

struct Parser {
    at: String,
}

impl Parser {
    fn error(&self, message: impl Into<String>) -> SchemaError {
        SchemaError {
            at: self.at.clone(),
            message: message.into(),
        }
    }

    fn nested<T>(&mut self, segment: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        let len = self.at.len();
        self.at.push('/');
        self.at
            .push_str(&segment.replace('~', "~0").replace('/', "~1"));
        let out = f(self);
        self.at.truncate(len);
        out
    }

    fn node(&mut self, schema: &Value) -> Result<Node, SchemaError> {
        let map = match schema {
            Value::Bool(true) => return Ok(Node::of(Kind::Any)),
            Value::Bool(false) => return Ok(Node::of(Kind::Never)),
            Value::Object(map) => map,
            _ => return Err(self.error("a schema must be an object or a boolean")),
        };
        let doc = match map.get("description") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(self.error("`description` must be a string")),
        };
        let default = map.get("default").cloned();
        let kind = self.kind(map)?;
        Ok(Node { doc, default, kind })
    }

    fn kind(&mut self, map: &Map<String, Value>) -> Result<Kind, SchemaError> {
        let mut parts = Vec::new();
        if let Some(reference) = map.get("$ref") {
            let reference = reference
                .as_str()
                .ok_or_else(|| self.error("`$ref` must be a string"))?;
            let target = ref_target(reference).ok_or_else(|| {
                self.error(format!(
                    "`$ref` {reference:?} does not point into the manifest's `$defs`"
                ))
            })?;
            parts.push(Node::of(Kind::Ref(target)));
        }
        if let Some(value) = map.get("const") {
            parts.push(Node::of(Kind::Const(value.clone())));
        } else if let Some(values) = map.get("enum") {
            let values = values
                .as_array()
                .ok_or_else(|| self.error("`enum` must be an array"))?;
            parts.push(Node::of(Kind::Enum(values.clone())));
        } else if let Some(typed) = self.typed(map)? {
            parts.push(Node::of(typed));
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(variants) = map.get(keyword) {
                let variants = self.nested(keyword, |p| p.list(variants))?;
                parts.push(Node::of(Kind::Union(variants)));
            }
        }
        if let Some(all) = map.get("allOf") {
            let all = self.nested("allOf", |p| p.list(all))?;
            parts.extend(all);
        }
        Ok(match parts.len() {
            0 => Kind::Any,
            1 => parts.pop().map_or(Kind::Any, |n| n.kind),
            _ => Kind::AllOf(parts),
        })
    }

    fn list(&mut self, value: &Value) -> Result<Vec<Node>, SchemaError> {
        let items = value
            .as_array()
            .ok_or_else(|| self.error("expected an array of schemas"))?;
        items
            .iter()
            .enumerate()
            .map(|(i, item)| self.nested(&i.to_string(), |p| p.node(item)))
            .collect()
    }

    /// The part of the schema selected by `type` (or implied by type-specific keywords).
    fn typed(&mut self, map: &Map<String, Value>) -> Result<Option<Kind>, SchemaError> {
        let types: Vec<&str> = match map.get("type") {
            None => implied_type(map).into_iter().collect(),
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts
                .iter()
                .map(|t| {
                    t.as_str()
                        .ok_or_else(|| self.error("`type` entries must be strings"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(self.error("`type` must be a string or an array")),
        };
        let mut kinds = Vec::with_capacity(types.len());
        for t in types {
            kinds.push(match t {
                "null" => Kind::Null,
                "boolean" => Kind::Boolean,
                "integer" => Kind::Integer(self.numeric(map)?),
                "number" => Kind::Number(self.numeric(map)?),
                "string" => Kind::String(self.text(map)?),
                "array" => Kind::Array(self.array(map)?),
                "object" => Kind::Object(self.object(map)?),
                other => return Err(self.error(format!("unknown type {other:?}"))),
            });
        }
        Ok(match kinds.len() {
            0 => None,
            1 => kinds.pop(),
            _ => Some(Kind::Union(kinds.into_iter().map(Node::of).collect())),
        })
    }

    fn number(&self, map: &Map<String, Value>, key: &str) -> Result<Option<f64>, SchemaError> {
        match map.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| self.error(format!("`{key}` must be a number"))),
        }
    }

    fn count(&self, map: &Map<String, Value>, key: &str) -> Result<Option<u64>, SchemaError> {
        match map.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.error(format!("`{key}` must be a non-negative integer"))),
        }
    }

    fn string(&self, map: &Map<String, Value>, key: &str) -> Result<Option<String>, SchemaError> {
        match map.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.error(format!("`{key}` must be a string"))),
        }
    }

    fn numeric(&self, map: &Map<String, Value>) -> Result<Numeric, SchemaError> {
        Ok(Numeric {
            format: self.string(map, "format")?,
            minimum: self.number(map, "minimum")?,
            maximum: self.number(map, "maximum")?,
            exclusive_minimum: self.number(map, "exclusiveMinimum")?,
            exclusive_maximum: self.number(map, "exclusiveMaximum")?,
        })
    }

    fn text(&self, map: &Map<String, Value>) -> Result<Text, SchemaError> {
        Ok(Text {
            min_length: self.count(map, "minLength")?,
            max_length: self.count(map, "maxLength")?,
            pattern: self.string(map, "pattern")?,
            format: self.string(map, "format")?,
            not_in: excluded_strings(map),
        })
    }

    fn array(&mut self, map: &Map<String, Value>) -> Result<Array, SchemaError> {
        let prefix = match map.get("prefixItems") {
            None => Vec::new(),
            Some(items) => self.nested("prefixItems", |p| p.list(items))?,
        };
        let items = match map.get("items") {
            None => None,
            Some(items) => Some(Box::new(self.nested("items", |p| p.node(items))?)),
        };
        Ok(Array {
            prefix,
            items,
            min_items: self.count(map, "minItems")?,
            max_items: self.count(map, "maxItems")?,
        })
    }

    fn object(&mut self, map: &Map<String, Value>) -> Result<Object, SchemaError> {
        let required: Vec<String> = match map.get("required") {
            None => Vec::new(),
            Some(Value::Array(names)) => names
                .iter()
                .map(|n| {
                    n.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| self.error("`required` entries must be strings"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(self.error("`required` must be an array")),
        };
        let empty = Map::new();
        let properties = match map.get("properties") {
            None => &empty,
            Some(Value::Object(p)) => p,
            Some(_) => return Err(self.error("`properties` must be an object")),
        };
        let mut named = Vec::with_capacity(properties.len());
        // Required properties in declaration order (serde's), then the rest by name, so the
        // output does not depend on how the JSON map happens to order its keys.
        for name in &required {
            if let Some(schema) = properties.get(name) {
                let node = self.nested("properties", |p| p.nested(name, |p| p.node(schema)))?;
                named.push(Property {
                    name: name.clone(),
                    node,
                    required: true,
                });
            }
        }
        let mut optional: Vec<(&String, &Value)> = properties
            .iter()
            .filter(|(name, _)| !required.contains(name))
            .collect();
        optional.sort_by(|a, b| a.0.cmp(b.0));
        for (name, schema) in optional {
            let node = self.nested("properties", |p| p.nested(name, |p| p.node(schema)))?;
            named.push(Property {
                name: name.clone(),
                node,
                required: false,
            });
        }
        let required_only = required
            .iter()
            .filter(|name| !properties.contains_key(*name))
            .cloned()
            .collect();
        let patterns = match map.get("patternProperties") {
            None => Vec::new(),
            Some(Value::Object(p)) => {
                let mut list: Vec<(&String, &Value)> = p.iter().collect();
                list.sort_by(|a, b| a.0.cmp(b.0));
                list.into_iter()
                    .map(|(pattern, schema)| {
                        let node = self.nested("patternProperties", |p| {
                            p.nested(pattern, |p| p.node(schema))
                        })?;
                        Ok((pattern.clone(), node))
                    })
                    .collect::<Result<_, SchemaError>>()?
            }
            Some(_) => return Err(self.error("`patternProperties` must be an object")),
        };
        let additional = match map.get("additionalProperties") {
            // Written out beside named properties, it is a flattened map of any values
            // (`#[serde(flatten)] BTreeMap<String, Value>`): the keys are part of the type.
            Some(Value::Bool(true)) if !named.is_empty() => {
                Additional::Schema(Box::new(Node::of(Kind::Any)))
            }
            None | Some(Value::Bool(true)) => Additional::Any,
            Some(Value::Bool(false)) => Additional::Forbidden,
            Some(schema) => {
                let node = self.nested("additionalProperties", |p| p.node(schema))?;
                match node.kind {
                    Kind::Any => Additional::Any,
                    Kind::Never => Additional::Forbidden,
                    _ => Additional::Schema(Box::new(node)),
                }
            }
        };
        let property_names = match map.get("propertyNames") {
            None => None,
            Some(schema) => Some(Box::new(self.nested("propertyNames", |p| p.node(schema))?)),
        };
        Ok(Object {
            properties: named,
            required_only,
            patterns,
            additional,
            property_names,
            min_properties: self.count(map, "minProperties")?,
            max_properties: self.count(map, "maxProperties")?,
        })
    }
}

/// The type a schema without `type` is about, judged by its type-specific keywords.
fn implied_type(map: &Map<String, Value>) -> Option<&'static str> {
    let has = |keys: &[&str]| keys.iter().any(|k| map.contains_key(*k));
    if has(&[
        "properties",
        "additionalProperties",
        "patternProperties",
        "required",
        "propertyNames",
        "minProperties",
        "maxProperties",
    ]) {
        Some("object")
    } else if has(&["items", "prefixItems", "minItems", "maxItems"]) {
        Some("array")
    } else if has(&["minLength", "maxLength", "pattern"]) {
        Some("string")
    } else if has(&["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]) {
        Some("number")
    } else {
        None
    }
}

/// The range of values of an integer `format` that serde accepts, where it is narrower
/// than what JSON numbers hold. Wide formats (64 bits and more) are bounded by
/// JavaScript's safe integers instead, see [`is_wide_integer`].
pub(crate) fn integer_format_range(format: &str) -> Option<(f64, f64)> {
    Some(match format {
        "int8" => (f64::from(i8::MIN), f64::from(i8::MAX)),
        "uint8" => (0.0, f64::from(u8::MAX)),
        "int16" => (f64::from(i16::MIN), f64::from(i16::MAX)),
        "uint16" => (0.0, f64::from(u16::MAX)),
        "int32" => (f64::from(i32::MIN), f64::from(i32::MAX)),
        "uint32" => (0.0, f64::from(u32::MAX)),
        _ => return None,
    })
}

/// Whether an integer `format` is a 64-bit or wider type, which twinwire bounds by
/// ±(2^53 − 1) (README, "Integers").
pub(crate) fn is_wide_integer(format: &str) -> bool {
    matches!(
        format,
        "int64" | "uint64" | "int128" | "uint128" | "int" | "uint"
    )
}

/// Whether an integer `format` is unsigned.
pub(crate) fn is_unsigned_integer(format: &str) -> bool {
    format.starts_with("uint")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Kind {
        Node::parse(&v).unwrap().kind
    }

    #[test]
    fn nullable_type_lists_become_unions() {
        let kind = parse(json!({"type": ["string", "null"], "maxLength": 3}));
        let Kind::Union(variants) = kind else {
            panic!("not a union")
        };
        assert_eq!(
            variants[0].kind,
            Kind::String(Text {
                max_length: Some(3),
                ..Text::default()
            })
        );
        assert!(variants[1].is_null());
    }

    #[test]
    fn required_properties_keep_their_order_and_optional_ones_are_sorted() {
        let kind = parse(json!({
            "type": "object",
            "properties": {"a": {"type": "string"}, "z": true, "m": false, "b": {}},
            "required": ["z", "a", "ghost"],
            "additionalProperties": false
        }));
        let Kind::Object(object) = kind else {
            panic!("not an object")
        };
        let names: Vec<_> = object
            .properties
            .iter()
            .map(|p| (p.name.as_str(), p.required))
            .collect();
        assert_eq!(
            names,
            [("z", true), ("a", true), ("b", false), ("m", false)]
        );
        assert_eq!(object.required_only, ["ghost"]);
        assert_eq!(object.additional, Additional::Forbidden);
    }

    #[test]
    fn keywords_beside_a_composition_become_all_of() {
        let kind = parse(json!({
            "type": "object",
            "properties": {"id": {"type": "string"}},
            "oneOf": [{"const": "a"}, {"const": "b"}]
        }));
        let Kind::AllOf(parts) = kind else {
            panic!("not allOf")
        };
        assert!(matches!(parts[0].kind, Kind::Object(_)));
        assert!(matches!(&parts[1].kind, Kind::Union(v) if v.len() == 2));
    }

    #[test]
    fn tuples_are_closed_by_max_items_or_items_false() {
        let Kind::Array(a) = parse(json!({
            "type": "array", "prefixItems": [true, true], "minItems": 2, "maxItems": 2
        })) else {
            panic!()
        };
        assert!(a.is_closed_tuple());
        let Kind::Array(b) = parse(json!({"type": "array", "prefixItems": [true], "items": false}))
        else {
            panic!()
        };
        assert!(b.is_closed_tuple());
        let Kind::Array(c) = parse(json!({"type": "array", "items": {"type": "string"}})) else {
            panic!()
        };
        assert!(!c.is_closed_tuple());
    }

    #[test]
    fn malformed_schemas_are_errors_with_a_location() {
        let err = Node::parse(&json!({"properties": {"a": 3}})).unwrap_err();
        assert_eq!(err.at, "/properties/a");
        let err = Node::parse(&json!({"$ref": "#/components/x"})).unwrap_err();
        assert!(err.message.contains("$defs"), "{err}");
        let err = Node::parse(&json!({"type": "strnig"})).unwrap_err();
        assert!(err.to_string().contains("strnig"));
    }

    #[test]
    fn implied_types_and_booleans() {
        assert!(matches!(parse(json!({"minLength": 1})), Kind::String(_)));
        assert!(matches!(parse(json!({"items": true})), Kind::Array(_)));
        assert_eq!(parse(json!(true)), Kind::Any);
        assert_eq!(parse(json!({})), Kind::Any);
        assert_eq!(parse(json!(false)), Kind::Never);
    }

    fn union_of(defs: &Definitions, schema: Value) -> (bool, String) {
        let node = Node::parse(&schema).unwrap();
        let Kind::Union(variants) = &node.kind else {
            panic!("not a union: {schema}")
        };
        let union = defs.union(variants);
        let shape = match union.representation {
            Representation::Empty => "empty".to_owned(),
            Representation::Single(_) => "single".to_owned(),
            Representation::Tagged {
                tag,
                variants,
                catch_all,
            } => {
                let mut tags: Vec<&str> = variants.iter().map(|(t, _)| t.as_str()).collect();
                if catch_all.is_some() {
                    tags.push("*");
                }
                format!("tagged by {tag}: {}", tags.join(","))
            }
            Representation::External(variants) => {
                let kinds: Vec<String> = variants
                    .iter()
                    .map(|(k, _)| match k {
                        External::Unit(names) => names.join("|"),
                        External::Keyed(key) => format!("{{{key}}}"),
                        External::Other => "*".to_owned(),
                    })
                    .collect();
                format!("external: {}", kinds.join(","))
            }
            Representation::Untagged(variants) => format!("untagged: {}", variants.len()),
        };
        (union.nullable, shape)
    }

    #[test]
    fn unions_are_read_as_serde_represents_enums() {
        let defs = Definitions::parse(&BTreeMap::from([
            ("Unit".to_owned(), json!({"type": "string", "const": "Stop"})),
            (
                "Add".to_owned(),
                json!({"type": "object", "properties": {"op": {"const": "add"}, "n": {"type": "integer"}}, "required": ["op", "n"]}),
            ),
        ]))
        .unwrap();
        let tagged = json!({"oneOf": [
            {"$ref": "#/$defs/Add"},
            {"type": "object", "properties": {"op": {"type": "string", "enum": ["neg"]}}, "required": ["op"]}
        ]});
        assert_eq!(
            union_of(&defs, tagged),
            (false, "tagged by op: add,neg".to_owned())
        );
        let external = json!({"oneOf": [
            {"$ref": "#/$defs/Unit"},
            {"type": "string", "enum": ["Pause", "Resume"]},
            {"type": "object", "properties": {"Move": {"type": "integer"}}, "required": ["Move"], "additionalProperties": false}
        ]});
        assert_eq!(
            union_of(&defs, external),
            (false, "external: Stop,Pause|Resume,{Move}".to_owned())
        );
        let untagged = json!({"anyOf": [{"type": "boolean"}, {"type": "string"}]});
        assert_eq!(union_of(&defs, untagged), (false, "untagged: 2".to_owned()));
        let option = json!({"anyOf": [{"$ref": "#/$defs/Add"}, {"type": "null"}]});
        assert_eq!(union_of(&defs, option), (true, "single".to_owned()));
        let only_null = json!({"anyOf": [{"type": "null"}, {"const": null}]});
        assert_eq!(union_of(&defs, only_null), (true, "empty".to_owned()));
        // Two variants with the same tag are not a tagged enum.
        let same_tag = json!({"oneOf": [{"$ref": "#/$defs/Add"}, {"$ref": "#/$defs/Add"}]});
        assert_eq!(union_of(&defs, same_tag).1, "untagged: 2");
    }

    #[test]
    fn a_catch_all_is_the_fallback_of_its_enum() {
        let defs = Definitions::parse(&BTreeMap::new()).unwrap();
        let catch_all = json!({"type": "string", "not": {"enum": ["a", "b"]}});
        let tagged = json!({"oneOf": [
            {"type": "object", "properties": {"k": {"const": "a"}}, "required": ["k"]},
            {"type": "object", "properties": {"k": catch_all}, "required": ["k"]},
            {"type": "object", "properties": {"k": {"const": "b"}}, "required": ["k"]}
        ]});
        assert_eq!(union_of(&defs, tagged).1, "tagged by k: a,b,*");
        let external = json!({"oneOf": [
            {"type": "string", "enum": ["a"]},
            {"type": "object", "properties": {"b": {"type": "integer"}}, "required": ["b"], "additionalProperties": false},
            catch_all
        ]});
        assert_eq!(union_of(&defs, external).1, "external: a,{b},*");
        // Two catch-alls tell nothing apart.
        let two = json!({"oneOf": [
            {"type": "object", "properties": {"k": {"const": "a"}}, "required": ["k"]},
            {"type": "object", "properties": {"k": catch_all}, "required": ["k"]},
            {"type": "object", "properties": {"k": catch_all}, "required": ["k"]}
        ]});
        assert_eq!(union_of(&defs, two).1, "untagged: 3");
        let Kind::String(text) = parse(catch_all) else {
            panic!("not a string")
        };
        assert_eq!(text.not_in, Some(vec!["a".to_owned(), "b".to_owned()]));
        let Kind::String(text) =
            parse(json!({"type": "string", "not": {"enum": ["a"], "minLength": 1}}))
        else {
            panic!("not a string")
        };
        assert_eq!(text.not_in, None, "any other `not` is left to validators");
    }

    #[test]
    fn references_must_name_a_definition() {
        let err = Definitions::parse(&BTreeMap::from([(
            "A".to_owned(),
            json!({"type": "array", "items": {"$ref": "#/$defs/B"}}),
        )]))
        .unwrap_err();
        assert!(err.to_string().contains("definition `A`"), "{err}");
        let defs = Definitions::parse(&BTreeMap::new()).unwrap();
        let err = defs
            .payload(&json!({"$ref": "#/$defs/Gone"}), "X")
            .unwrap_err();
        assert!(err.to_string().contains("the payload of `X`"), "{err}");
        assert!(err.to_string().contains("`Gone`"), "{err}");
    }

    #[test]
    fn integer_formats() {
        assert_eq!(integer_format_range("uint8"), Some((0.0, 255.0)));
        assert_eq!(integer_format_range("uint64"), None);
        assert!(is_wide_integer("uint64") && is_wide_integer("int"));
        assert!(!is_wide_integer("int32"));
        assert!(is_unsigned_integer("uint") && !is_unsigned_integer("int64"));
    }
}
