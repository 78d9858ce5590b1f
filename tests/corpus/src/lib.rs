//! A protocol covering every serde shape the code generator has to map, for
//! `twinwire-codegen`'s round-trip tests: values serialized by serde must validate against
//! the generated JSON Schema, type-check as the generated TypeScript, and pass the generated
//! guards; values serde rejects must be rejected by all three where they can express it.
//!
//! Each family of shapes is one client message and one server message with the same fields
//! (`…_UP` and `…_DOWN`), because client payloads are described as serde deserializes them
//! and server payloads as it serializes them, and the two can differ: a shared `#[data]`
//! type whose shapes differ gets a client-side `…Input` definition. (The types are written
//! out rather than stamped by `macro_rules!`, because the twinwire macros' generated
//! validation does not resolve inside a `macro_rules!` expansion.)
//! [`hostile`] holds a second protocol whose names and docs try to break the generator.

#![allow(missing_docs)] // The corpus is test data; each family is documented at its type.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::Value;
use twinwire::{Issue, Message, data, message, protocol, rpc};

pub mod hostile;
pub mod meta;

#[doc(hidden)]
pub use twinwire::Message as __Message;

// ---------------------------------------------------------------------------------------
// Renames: every `rename_all` style, field and variant renames.

/// Two fields under `rename_all = "lowercase"`.
#[data]
#[derive(Clone, Debug, PartialEq)]
#[serde(rename_all = "lowercase")]
pub struct RenameLower {
    /// A number.
    pub first_field: u8,
    /// A flag.
    pub second_value: bool,
}

/// Two fields under `rename_all = "UPPERCASE"`.
#[data]
#[derive(Clone, Debug, PartialEq)]
#[serde(rename_all = "UPPERCASE")]
pub struct RenameUpper {
    /// A number.
    pub first_field: u8,
    /// A flag.
    pub second_value: bool,
}

/// Two fields under `rename_all = "PascalCase"`.
#[data]
#[derive(Clone, Debug, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct RenamePascal {
    /// A number.
    pub first_field: u8,
    /// A flag.
    pub second_value: bool,
}

/// Two fields under `rename_all = "camelCase"`.
#[data]
#[derive(Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RenameCamel {
    /// A number.
    pub first_field: u8,
    /// A flag.
    pub second_value: bool,
}

/// Two fields under `rename_all = "snake_case"`.
#[data]
#[derive(Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub struct RenameSnake {
    /// A number.
    pub first_field: u8,
    /// A flag.
    pub second_value: bool,
}

/// Two fields under `rename_all = "SCREAMING_SNAKE_CASE"`.
#[data]
#[derive(Clone, Debug, PartialEq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct RenameScreamingSnake {
    /// A number.
    pub first_field: u8,
    /// A flag.
    pub second_value: bool,
}

/// Two fields under `rename_all = "kebab-case"`.
#[data]
#[derive(Clone, Debug, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub struct RenameKebab {
    /// A number.
    pub first_field: u8,
    /// A flag.
    pub second_value: bool,
}

/// Two fields under `rename_all = "SCREAMING-KEBAB-CASE"`.
#[data]
#[derive(Clone, Debug, PartialEq)]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
pub struct RenameScreamingKebab {
    /// A number.
    pub first_field: u8,
    /// A flag.
    pub second_value: bool,
}

/// Field renames, including names that are not identifiers anywhere.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct RenameFields {
    /// Renamed to a kebab name.
    #[serde(rename = "x-custom")]
    pub custom: u8,
    /// A keyword on the wire.
    #[serde(rename = "class")]
    pub klass: String,
    /// A raw identifier: `type` on the wire.
    pub r#type: String,
    /// A space in the name.
    #[serde(rename = "with space")]
    pub spaced: bool,
}

/// Variant renames under `rename_all`, with one explicit override.
#[data]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// `fast-forward` on the wire.
    FastForward,
    /// `SLOW` on the wire.
    #[serde(rename = "SLOW")]
    Slow,
}

/// Every rename family at once. Sent to the server.
#[message("RENAMES_UP")]
#[derive(Clone, Debug, PartialEq)]
pub struct RenamesUp {
    pub lower: RenameLower,
    pub upper: RenameUpper,
    pub pascal: RenamePascal,
    pub camel: RenameCamel,
    pub snake: RenameSnake,
    pub screaming_snake: RenameScreamingSnake,
    pub kebab: RenameKebab,
    pub screaming_kebab: RenameScreamingKebab,
    pub fields: RenameFields,
    pub mode: Mode,
}

/// Every rename family at once. Sent to the client.
#[message("RENAMES_DOWN")]
#[derive(Clone, Debug, PartialEq)]
pub struct RenamesDown {
    pub lower: RenameLower,
    pub upper: RenameUpper,
    pub pascal: RenamePascal,
    pub camel: RenameCamel,
    pub snake: RenameSnake,
    pub screaming_snake: RenameScreamingSnake,
    pub kebab: RenameKebab,
    pub screaming_kebab: RenameScreamingKebab,
    pub fields: RenameFields,
    pub mode: Mode,
}

// ---------------------------------------------------------------------------------------
// The four enum representations, with unit, newtype, tuple and struct variants.

/// Externally tagged (serde's default).
#[data]
#[derive(Clone, Debug, PartialEq)]
pub enum External {
    /// `"Unit"`
    Unit,
    /// `{"Newtype": 1}`
    Newtype(u32),
    /// `{"Tuple": [1, "a"]}`
    Tuple(u8, String),
    /// `{"Struct": {"widthPx": 1, "label": null}}`
    Struct {
        width_px: u32,
        label: Option<String>,
    },
}

/// A struct carried by a newtype variant.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct Inner {
    /// Free text.
    #[validate(length(min = 1, max = 20))]
    pub note: String,
}

/// Internally tagged by `kind`.
#[data]
#[derive(Clone, Debug, PartialEq)]
#[serde(tag = "kind")]
pub enum Internal {
    /// Has a field.
    Started { at_ms: u64 },
    /// Only the tag.
    Stopped,
    /// The tag beside the inner struct's fields.
    Wrapped(Inner),
}

/// Adjacently tagged by `t` with content `c`.
#[data]
#[derive(Clone, Debug, PartialEq)]
#[serde(tag = "t", content = "c")]
pub enum Adjacent {
    Ping,
    Echo(String),
    Move { dx: i32, dy: i32 },
    Pair(u8, u8),
}

/// Untagged: the first variant that fits wins.
#[data]
#[derive(Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum Untagged {
    Flag(bool),
    Num(f64),
    Text(String),
    Point { x: i32, y: i32 },
    Empty,
}

/// A unit-only enum: a string union.
#[data]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Level {
    Low,
    MediumHigh,
}

/// Every enum representation at once. Sent to the server.
#[message("ENUMS_UP")]
#[derive(Clone, Debug, PartialEq)]
pub struct EnumsUp {
    pub external: Vec<External>,
    pub internal: Internal,
    pub adjacent: Vec<Adjacent>,
    pub untagged: Vec<Untagged>,
    pub level: Level,
}

/// Every enum representation at once. Sent to the client.
#[message("ENUMS_DOWN")]
#[derive(Clone, Debug, PartialEq)]
pub struct EnumsDown {
    pub external: Vec<External>,
    pub internal: Internal,
    pub adjacent: Vec<Adjacent>,
    pub untagged: Vec<Untagged>,
    pub level: Level,
}

/// A message that is itself an internally tagged enum.
#[message("COMMAND")]
#[derive(Clone, Debug, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Command {
    /// Start at a speed.
    Start {
        #[validate(range(min = 1, max = 10))]
        speed: u8,
    },
    /// Stop.
    Stop,
}

/// A message that is itself an adjacently tagged enum.
#[message("NOTICE")]
#[derive(Clone, Debug, PartialEq)]
#[serde(tag = "kind", content = "data")]
pub enum Notice {
    /// Plain text.
    Text(String),
    /// A counter.
    Count { total: u32 },
}

// ---------------------------------------------------------------------------------------
// Options and defaults: the shapes that differ between directions.

fn default_name() -> String {
    "anonymous".to_owned()
}

/// `Option` with and without `skip_serializing_if` and `default`.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct Optionals {
    /// Left out when absent (Option on the wire); a client may send `null` or omit it.
    pub plain: Option<String>,
    /// Omitted when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<u32>,
    /// Defaulted on input, left out when absent.
    #[serde(default)]
    pub defaulted: Option<bool>,
    /// Defaulted on input, omitted when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub both: Option<String>,
    /// A defaulted non-option.
    #[serde(default)]
    pub count: u32,
    /// A default from a function.
    #[serde(default = "default_name")]
    pub name: String,
    /// An optional list.
    pub tags: Option<Vec<String>>,
}

/// The family Sent to the server.
#[message("OPTIONALS_UP")]
#[derive(Clone, Debug, PartialEq)]
pub struct OptionalsUp {
    /// Shared by both directions, so the client side is `OptionalsInput`.
    pub value: Optionals,
}

/// The family Sent to the client.
#[message("OPTIONALS_DOWN")]
#[derive(Clone, Debug, PartialEq)]
pub struct OptionalsDown {
    /// Shared by both directions, so the client side is `OptionalsInput`.
    pub value: Optionals,
}

// ---------------------------------------------------------------------------------------
// Flatten: a struct, a map and a tagged enum folded into their parent.

/// Fields shared by flattening.
#[data(allow_unknown_fields)]
#[derive(Clone, Debug, PartialEq)]
pub struct Base {
    pub created_by: String,
    pub version: u16,
}

/// A struct and a map flattened into one object.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct Flattened {
    pub id: String,
    #[serde(flatten)]
    pub base: Base,
    #[serde(flatten)]
    pub extra: BTreeMap<String, u32>,
}

/// An internally tagged enum flattened beside a field.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct FlattenedEnum {
    pub id: String,
    #[serde(flatten)]
    pub event: Internal,
}

/// Both flatten shapes. Sent to the server.
#[message("FLATTEN_UP")]
#[derive(Clone, Debug, PartialEq)]
pub struct FlattenUp {
    pub map_and_struct: Flattened,
    pub tagged: FlattenedEnum,
}

/// Both flatten shapes. Sent to the client.
#[message("FLATTEN_DOWN")]
#[derive(Clone, Debug, PartialEq)]
pub struct FlattenDown {
    pub map_and_struct: Flattened,
    pub tagged: FlattenedEnum,
}

// ---------------------------------------------------------------------------------------
// Maps, sequences, tuples.

/// Maps keyed by strings and by integers. Sent to the server.
#[message("MAPS_UP")]
#[derive(Clone, Debug, PartialEq)]
pub struct MapsUp {
    pub by_name: HashMap<String, u32>,
    pub by_id: BTreeMap<u32, String>,
    pub signed: BTreeMap<i64, bool>,
    pub nested: BTreeMap<String, Vec<u8>>,
}

/// Maps keyed by strings and by integers. Sent to the client.
#[message("MAPS_DOWN")]
#[derive(Clone, Debug, PartialEq)]
pub struct MapsDown {
    pub by_name: HashMap<String, u32>,
    pub by_id: BTreeMap<u32, String>,
    pub signed: BTreeMap<i64, bool>,
    pub nested: BTreeMap<String, Vec<u8>>,
}

/// Vectors, nested vectors, tuples, arrays and sets. Sent to the server.
#[message("SEQUENCES_UP")]
#[derive(Clone, Debug, PartialEq)]
pub struct SequencesUp {
    pub list: Vec<String>,
    pub grid: Vec<Vec<u8>>,
    pub pair: (u8, String),
    pub triple: (bool, i32, Option<String>),
    pub fixed: [u8; 3],
    pub set: BTreeSet<u16>,
}

/// Vectors, nested vectors, tuples, arrays and sets. Sent to the client.
#[message("SEQUENCES_DOWN")]
#[derive(Clone, Debug, PartialEq)]
pub struct SequencesDown {
    pub list: Vec<String>,
    pub grid: Vec<Vec<u8>>,
    pub pair: (u8, String),
    pub triple: (bool, i32, Option<String>),
    pub fixed: [u8; 3],
    pub set: BTreeSet<u16>,
}

// ---------------------------------------------------------------------------------------
// Recursion and boxes.

/// A tree: recursion through a `Vec`.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct Tree {
    pub label: String,
    pub children: Vec<Tree>,
}

/// A list: recursion through `Option<Box<_>>`.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct List {
    pub value: i32,
    pub next: Option<Box<List>>,
}

/// An expression: recursion through a tagged enum.
#[data]
#[derive(Clone, Debug, PartialEq)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Expr {
    Lit { value: f64 },
    Add { left: Box<Expr>, right: Box<Expr> },
    Neg { inner: Box<Expr> },
}

/// Every recursive shape. Sent to the server.
#[message("RECURSIVE_UP")]
#[derive(Clone, Debug, PartialEq)]
pub struct RecursiveUp {
    pub tree: Tree,
    pub list: List,
    pub expr: Expr,
    pub boxed: Box<Inner>,
}

/// Every recursive shape. Sent to the client.
#[message("RECURSIVE_DOWN")]
#[derive(Clone, Debug, PartialEq)]
pub struct RecursiveDown {
    pub tree: Tree,
    pub list: List,
    pub expr: Expr,
    pub boxed: Box<Inner>,
}

// ---------------------------------------------------------------------------------------
// Unit structs, newtypes and other small shapes.

/// A message without payload (client → server).
#[message("PING")]
#[derive(Clone, Debug, PartialEq)]
pub struct Ping;

/// A message without payload (server → client).
#[message("PONG")]
#[derive(Clone, Debug, PartialEq)]
pub struct Pong;

/// A unit struct used as a value: `null` on the wire.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct Marker;

/// A newtype: its inner value on the wire.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct UserId(pub String);

/// A transparent struct.
#[data]
#[derive(Clone, Debug, PartialEq)]
#[serde(transparent)]
pub struct Score {
    pub points: i32,
}

/// Small shapes. Sent to the server.
#[message("SMALLS_UP")]
#[derive(Clone, Debug, PartialEq)]
pub struct SmallsUp {
    pub marker: Marker,
    pub user: UserId,
    pub score: Score,
    pub initial: char,
    pub anything: Value,
    pub flag: bool,
}

/// Small shapes. Sent to the client.
#[message("SMALLS_DOWN")]
#[derive(Clone, Debug, PartialEq)]
pub struct SmallsDown {
    pub marker: Marker,
    pub user: UserId,
    pub score: Score,
    pub initial: char,
    pub anything: Value,
    pub flag: bool,
}

// ---------------------------------------------------------------------------------------
// Formats and integers.

/// chrono, uuid and url types. Sent to the server.
#[message("FORMATS_UP")]
#[derive(Clone, Debug, PartialEq)]
pub struct FormatsUp {
    pub at: chrono::DateTime<chrono::Utc>,
    pub day: chrono::NaiveDate,
    pub id: uuid::Uuid,
    pub link: url::Url,
}

/// chrono, uuid and url types. Sent to the client.
#[message("FORMATS_DOWN")]
#[derive(Clone, Debug, PartialEq)]
pub struct FormatsDown {
    pub at: chrono::DateTime<chrono::Utc>,
    pub day: chrono::NaiveDate,
    pub id: uuid::Uuid,
    pub link: url::Url,
}

/// Every integer width and both floats. Sent to the server.
#[message("INTEGERS_UP")]
#[derive(Clone, Debug, PartialEq)]
pub struct IntegersUp {
    pub u8: u8,
    pub i8: i8,
    pub u16: u16,
    pub i16: i16,
    pub u32: u32,
    pub i32: i32,
    pub u64: u64,
    pub i64: i64,
    pub usize: usize,
    pub isize: isize,
    pub f32: f32,
    pub f64: f64,
}

/// Every integer width and both floats. Sent to the client.
#[message("INTEGERS_DOWN")]
#[derive(Clone, Debug, PartialEq)]
pub struct IntegersDown {
    pub u8: u8,
    pub i8: i8,
    pub u16: u16,
    pub i16: i16,
    pub u32: u32,
    pub i32: i32,
    pub u64: u64,
    pub i64: i64,
    pub usize: usize,
    pub isize: isize,
    pub f32: f32,
    pub f64: f64,
}

// ---------------------------------------------------------------------------------------
// Constraints: every `#[validate]` check, at nested paths.

/// An entry with its own constraint, checked inside a list.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    #[validate(length(min = 1))]
    pub note: String,
}

/// Every constraint. Sent to the server.
#[message("CONSTRAINED_UP")]
#[derive(Clone, Debug, PartialEq)]
pub struct ConstrainedUp {
    #[validate(length(min = 2, max = 5))]
    pub name: String,
    #[validate(range(min = -10, max = 10))]
    pub delta: i32,
    #[validate(range(min = 0.5, max = 2.5))]
    pub ratio: f64,
    #[validate(pattern = "^[a-z]+$")]
    pub slug: String,
    #[validate(email)]
    pub email: String,
    #[validate(url)]
    pub site: String,
    #[validate(uuid)]
    pub token: String,
    #[validate(non_empty)]
    pub tags: Vec<String>,
    // No `length` here: on a map it is checked in Rust but missing from the schema
    // (schemars writes no `maxProperties`), so no other side could agree.
    pub scores: BTreeMap<String, u8>,
    #[validate(range(max = 1000))]
    pub big: u64,
    pub entries: Vec<Entry>,
    #[validate(length(equal = 3))]
    pub code: Option<String>,
}

/// Every constraint. Sent to the client.
#[message("CONSTRAINED_DOWN")]
#[derive(Clone, Debug, PartialEq)]
pub struct ConstrainedDown {
    #[validate(length(min = 2, max = 5))]
    pub name: String,
    #[validate(range(min = -10, max = 10))]
    pub delta: i32,
    #[validate(range(min = 0.5, max = 2.5))]
    pub ratio: f64,
    #[validate(pattern = "^[a-z]+$")]
    pub slug: String,
    #[validate(email)]
    pub email: String,
    #[validate(url)]
    pub site: String,
    #[validate(uuid)]
    pub token: String,
    #[validate(non_empty)]
    pub tags: Vec<String>,
    // No `length` here: on a map it is checked in Rust but missing from the schema
    // (schemars writes no `maxProperties`), so no other side could agree.
    pub scores: BTreeMap<String, u8>,
    #[validate(range(max = 1000))]
    pub big: u64,
    pub entries: Vec<Entry>,
    #[validate(length(equal = 3))]
    pub code: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Option on the wire: left out by default, kept as `null` by the opt-outs.

/// Every `None` written as `null` (the type's opt-out).
#[data(keep_nulls)]
#[derive(Clone, Debug, PartialEq)]
pub struct NullsKept {
    pub note: Option<String>,
    pub count: Option<u32>,
}

/// The field-level opt-out beside the default.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct NullMixed {
    /// Written as `null` when absent.
    #[keep_null]
    pub kept: Option<u8>,
    /// Left out when absent.
    pub left_out: Option<u8>,
    /// An optional enum, left out when absent.
    pub level: Option<Level>,
}

/// Both opt-outs. Sent to the server.
#[message("NULLS_UP")]
#[derive(Clone, Debug, PartialEq)]
pub struct NullsUp {
    pub kept: NullsKept,
    pub mixed: NullMixed,
}

/// Both opt-outs. Sent to the client.
#[message("NULLS_DOWN")]
#[derive(Clone, Debug, PartialEq)]
pub struct NullsDown {
    pub kept: NullsKept,
    pub mixed: NullMixed,
}

// ---------------------------------------------------------------------------------------
// Two instantiations of one generic type, and a flattened map of any values.

/// A page of items, instantiated twice in one protocol (`Page_for_Entry`, `Page_for_Level`).
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub cursor: Option<String>,
}

/// Named fields beside a flattened map of any JSON values.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct Open {
    pub id: String,
    #[serde(flatten)]
    pub rest: BTreeMap<String, Value>,
}

/// Generic instantiations and an open object. Sent to the server.
#[message("GENERICS_UP")]
#[derive(Clone, Debug, PartialEq)]
pub struct GenericsUp {
    pub entries: Page<Entry>,
    pub levels: Page<Level>,
    pub open: Open,
}

/// Generic instantiations and an open object. Sent to the client.
#[message("GENERICS_DOWN")]
#[derive(Clone, Debug, PartialEq)]
pub struct GenericsDown {
    pub entries: Page<Entry>,
    pub levels: Page<Level>,
    pub open: Open,
}

// ---------------------------------------------------------------------------------------
// Combinations: each enum representation with flatten, Option, default and rename; generics
// with two parameters, nested and in an enum; sets and integer-keyed maps of enums and
// options; formats inside options and collections; recursion through a map and through an
// adjacently tagged enum.

/// A point, strict: the newtype variant of [`Event`] holds it.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct Point3 {
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

/// Internally tagged by `type`, variants in kebab-case: a struct variant with an `Option`, a
/// default and a renamed field, a newtype of a strict struct, a unit variant.
#[data]
#[derive(Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Event {
    UserJoined {
        user_name: String,
        #[serde(default)]
        retries: u8,
        note: Option<String>,
        #[serde(rename = "when")]
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
    Moved(Point3),
    Cleared,
}

/// Adjacently tagged by `shape` with content `dims`, variants lower-case.
#[data]
#[derive(Clone, Debug, PartialEq)]
#[serde(tag = "shape", content = "dims", rename_all = "lowercase")]
pub enum Shape {
    Circle {
        radius: f64,
        #[serde(default)]
        filled: bool,
    },
    Poly(Vec<Point3>),
    Pair(Option<u8>, Level),
    Empty,
}

/// Fields flattened into a struct variant of [`Reply`].
#[data(allow_unknown_fields)]
#[derive(Clone, Debug, PartialEq)]
pub struct Stamp {
    pub by: Option<uuid::Uuid>,
    pub seq: u32,
}

/// Externally tagged, with a flattened struct inside a struct variant.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    Done {
        code: u16,
        #[serde(flatten)]
        stamp: Stamp,
    },
    Failed(String),
    Skipped,
}

/// Untagged: a flag, a set, a map. (Not a map with integer keys: serde buffers an untagged
/// value and cannot read an integer key back from the buffer, so it refuses what it wrote.)
#[data]
#[derive(Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum Loose {
    Flag(bool),
    Ids(BTreeSet<u32>),
    ByKey(BTreeMap<String, u8>),
}

/// A generic with two parameters (`Pair_for_string_and_Level`).
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct Pair<A, B> {
    pub left: A,
    pub right: Option<B>,
}

/// A generic internally tagged enum (`Tagged_for_uint16`).
#[data]
#[derive(Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Tagged<T> {
    One { item: T },
    Many { items: Vec<T> },
    Nothing,
}

/// Sets of strings, of enums, and an optional set.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct Sets {
    pub names: HashSet<String>,
    pub levels: BTreeSet<Level>,
    pub maybe: Option<BTreeSet<u8>>,
}

/// Maps with integer keys: signed, 64-bit, and enum and option values.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct IntKeys {
    pub small: BTreeMap<i8, Option<String>>,
    pub wide: BTreeMap<u64, Vec<u8>>,
    pub levels: HashMap<u16, Level>,
}

/// Formats inside options and collections.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct Stamps {
    pub at: Option<chrono::DateTime<chrono::Utc>>,
    pub ids: Vec<uuid::Uuid>,
    pub days: BTreeMap<u32, chrono::NaiveDate>,
    pub link: Option<url::Url>,
}

/// Recursion through a map.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct Dir {
    pub name: String,
    pub entries: BTreeMap<String, Dir>,
}

/// Recursion through an adjacently tagged enum and an `Option<Box<_>>`.
#[data]
#[derive(Clone, Debug, PartialEq)]
#[serde(tag = "t", content = "c")]
pub enum Chain {
    End,
    Link { value: u8, next: Option<Box<Chain>> },
}

/// Every field defaulted by the container's `#[serde(default)]`.
#[data]
#[derive(Clone, Debug, Default, PartialEq)]
#[serde(default)]
pub struct Settings {
    pub limit: u32,
    pub title: String,
    pub level: Option<Level>,
}

/// `SCREAMING_SNAKE_CASE` with a field rename, an `Option` and a default.
#[data]
#[derive(Clone, Debug, PartialEq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct Shouting {
    #[serde(rename = "id")]
    pub identifier: u32,
    pub max_items: Option<u8>,
    #[serde(default)]
    pub is_open: bool,
}

/// A tuple struct with an `Option` position (always written, `null` when `None`).
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct Slot(pub u8, pub Option<String>);

/// A newtype of a generic instantiation.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct Holder(pub Pair<u8, u8>);

/// Every combination. Sent to the server.
#[message("COMBOS_UP")]
#[derive(Clone, Debug, PartialEq)]
pub struct CombosUp {
    pub events: Vec<Event>,
    pub shapes: Vec<Shape>,
    pub replies: Vec<Reply>,
    pub loose: Vec<Loose>,
    pub pair: Pair<String, Level>,
    pub pages: Page<Page<Entry>>,
    pub tagged: Vec<Tagged<u16>>,
    pub sets: Sets,
    pub int_keys: IntKeys,
    pub stamps: Stamps,
    pub dir: Dir,
    pub chain: Chain,
    pub settings: Settings,
    pub shouting: Shouting,
    pub slot: Slot,
    pub holder: Holder,
}

/// Every combination. Sent to the client.
#[message("COMBOS_DOWN")]
#[derive(Clone, Debug, PartialEq)]
pub struct CombosDown {
    pub events: Vec<Event>,
    pub shapes: Vec<Shape>,
    pub replies: Vec<Reply>,
    pub loose: Vec<Loose>,
    pub pair: Pair<String, Level>,
    pub pages: Page<Page<Entry>>,
    pub tagged: Vec<Tagged<u16>>,
    pub sets: Sets,
    pub int_keys: IntKeys,
    pub stamps: Stamps,
    pub dir: Dir,
    pub chain: Chain,
    pub settings: Settings,
    pub shouting: Shouting,
    pub slot: Slot,
    pub holder: Holder,
}

// ---------------------------------------------------------------------------------------
// `#[serde(other)]`: a catch-all unit variant in each representation serde allows it in.

/// A unit-only enum whose catch-all reads any other name.
#[data]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Color {
    Red,
    Green,
    #[serde(other)]
    Unknown,
}

/// Externally tagged with data and a catch-all.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Add(i32),
    Reset,
    #[serde(other)]
    Unsupported,
}

/// Internally tagged with a catch-all.
#[data]
#[derive(Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signal {
    Start {
        at: u32,
    },
    Stop,
    #[serde(other)]
    Unrecognized,
}

/// Adjacently tagged with a catch-all.
#[data]
#[derive(Clone, Debug, PartialEq)]
#[serde(tag = "t", content = "c")]
pub enum Packet {
    Data(String),
    Ping,
    #[serde(other)]
    Other,
}

/// Every catch-all. Sent to the server.
#[message("OTHERS_UP")]
#[derive(Clone, Debug, PartialEq)]
pub struct OthersUp {
    pub colors: Vec<Color>,
    pub ops: Vec<Op>,
    pub signals: Vec<Signal>,
    pub packets: Vec<Packet>,
}

/// Every catch-all. Sent to the client.
#[message("OTHERS_DOWN")]
#[derive(Clone, Debug, PartialEq)]
pub struct OthersDown {
    pub colors: Vec<Color>,
    pub ops: Vec<Op>,
    pub signals: Vec<Signal>,
    pub packets: Vec<Packet>,
}

// ---------------------------------------------------------------------------------------
// Generics and RPCs.

/// A generic message, instantiated in the protocol.
#[message("WRAPPED")]
#[derive(Clone, Debug, PartialEq)]
pub struct Wrapper<T> {
    pub inner: T,
}

/// An RPC request.
#[rpc("LOOKUP", response = LookupResult)]
#[derive(Clone, Debug, PartialEq)]
pub struct Lookup {
    #[validate(length(min = 1))]
    pub key: String,
}

/// The RPC's response.
#[message("LOOKUP_RESULT")]
#[derive(Clone, Debug, PartialEq)]
pub struct LookupResult {
    pub value: Option<String>,
}

protocol! {
    /// Every serde shape, in both directions.
    pub Corpus {
        client: [
            RenamesUp, EnumsUp, Command, OptionalsUp, FlattenUp, MapsUp, SequencesUp,
            RecursiveUp, Ping, SmallsUp, FormatsUp, IntegersUp, ConstrainedUp, Wrapper<Inner>,
            NullsUp, GenericsUp, CombosUp, OthersUp,
        ],
        server: [
            RenamesDown, EnumsDown, Notice, OptionalsDown, FlattenDown, MapsDown,
            SequencesDown, RecursiveDown, Pong, SmallsDown, FormatsDown, IntegersDown,
            ConstrainedDown, NullsDown, GenericsDown, CombosDown, OthersDown,
        ],
        rpc: [Lookup],
    }
}

/// What the server makes of a payload: serde's verdict, then `Validate`'s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Deserialized and valid.
    Valid,
    /// Deserialized, but `validate()` reported these issues.
    Invalid(Vec<Issue>),
    /// serde refused it.
    Rejected {
        /// Path of the issue the server reports (see [`decode_issue`]).
        path: String,
        /// Its code: `required`, `unknown_field` or `invalid`.
        code: &'static str,
        /// serde's message.
        message: String,
    },
}

fn rejected(path: &str, code: &'static str, message: impl Into<String>) -> Verdict {
    Verdict::Rejected {
        path: path.to_owned(),
        code,
        message: message.into(),
    }
}

/// Decodes and validates a payload as message `M`.
pub fn judge<M: Message>(payload: Option<&Value>) -> Verdict {
    let value = match (M::HAS_PAYLOAD, payload) {
        (true, Some(json)) => serde_json::from_value::<M>(json.clone()),
        (true, None) => return rejected("", "invalid", "missing payload"),
        (false, None) => serde_json::from_value::<M>(Value::Null),
        (false, Some(_)) => return rejected("", "invalid", "unexpected payload"),
    };
    match value {
        Err(e) => {
            let (path, code) = payload
                .and_then(decode_issue::<M>)
                .unwrap_or_else(|| (String::new(), "invalid"));
            rejected(&path, code, e.to_string())
        }
        Ok(m) => match m.validate() {
            Ok(()) => Verdict::Valid,
            Err(e) => Verdict::Invalid(e.into_issues()),
        },
    }
}

/// The issue the server reports for a payload serde refuses: serde stops at the first error,
/// whose path `serde_path_to_error` tracks; a missing field is reported on the field itself
/// with code `required`, an unknown one as `unknown_field`, anything else as `invalid`. (The
/// rule of `decode_issue` in `runtime/src/frame.rs`, restated so the round-trip tests can
/// hold the generated guards to it.)
pub fn decode_issue<M: Message>(payload: &Value) -> Option<(String, &'static str)> {
    decode_issue_of::<M>(payload)
}

/// [`decode_issue`] for any deserializable type, e.g. a message's typed meta.
pub fn decode_issue_of<T: serde::de::DeserializeOwned>(
    payload: &Value,
) -> Option<(String, &'static str)> {
    let err = serde_path_to_error::deserialize::<_, T>(payload.clone()).err()?;
    let mut path = String::new();
    for segment in err.path().iter() {
        use serde_path_to_error::Segment;
        match segment {
            Segment::Seq { index } => path.push_str(&format!("/{index}")),
            Segment::Map { key } => push_segment(&mut path, key),
            Segment::Enum { variant } => push_segment(&mut path, variant),
            Segment::Unknown => {}
        }
    }
    let message = err.into_inner().to_string();
    let code = if let Some(rest) = message.strip_prefix("missing field `") {
        push_segment(&mut path, rest.split('`').next().unwrap_or_default());
        "required"
    } else if message.starts_with("unknown field `") {
        "unknown_field"
    } else {
        "invalid"
    };
    Some((path, code))
}

fn push_segment(path: &mut String, segment: &str) {
    path.push('/');
    path.push_str(&segment.replace('~', "~0").replace('/', "~1"));
}

/// Dispatches on the wire type to [`judge`] the payload as that message.
#[macro_export]
macro_rules! dispatch {
    ($kind:expr, $payload:expr; $($ty:ty),* $(,)?) => {
        $( if $kind == <$ty as $crate::__Message>::WIRE_TYPE { return Some($crate::judge::<$ty>($payload)); } )*
    };
}

/// Decodes and validates `payload` as the message of wire type `kind`, as a server would;
/// `None` for a type outside the corpus.
pub fn verdict(kind: &str, payload: Option<&Value>) -> Option<Verdict> {
    dispatch!(kind, payload;
        RenamesUp, RenamesDown, EnumsUp, EnumsDown, Command, Notice, OptionalsUp,
        OptionalsDown, FlattenUp, FlattenDown, MapsUp, MapsDown, SequencesUp, SequencesDown,
        RecursiveUp, RecursiveDown, Ping, Pong, SmallsUp, SmallsDown, FormatsUp, FormatsDown,
        IntegersUp, IntegersDown, ConstrainedUp, ConstrainedDown, Wrapper<Inner>, Lookup,
        LookupResult, NullsUp, NullsDown, GenericsUp, GenericsDown, CombosUp, CombosDown,
        OthersUp, OthersDown,
    );
    None
}
