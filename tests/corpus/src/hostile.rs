//! A protocol whose names and docs try to break the generator: TypeScript and Rust keywords
//! as type and field names, names the generated code also uses, field names that need
//! quoting, docs that would close a comment or open a template tag, non-ASCII and very long
//! names, wire types that are not file names.
#![allow(non_camel_case_types)]

use twinwire::{data, message, protocol, rpc};

/// Ends a comment early */ /* and opens another; has `backticks`, {{ braces }}, {% raw %},
/// {# a comment #}, ${interpolation}, "quotes", 'apostrophes', a back\slash and <b>tags</b>.
///
/// Non-ASCII: Größe, naïve, 日本語, emoji 🦀.
#[message("weird/type with space")]
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    /// A field named like a TypeScript keyword.
    pub r#type: String,
    /// `*/` in a field doc.
    #[serde(rename = "with-dash")]
    pub with_dash: u8,
    /// Starts with a digit.
    #[serde(rename = "123start")]
    pub digits: bool,
    /// Would set the prototype if written carelessly.
    #[serde(rename = "__proto__")]
    pub proto: Option<String>,
    /// Inherited by every JavaScript object.
    #[serde(rename = "constructor")]
    pub constructor: u32,
    /// Inherited too.
    #[serde(rename = "toString")]
    pub to_string: String,
    /// A quote and a backslash in the name.
    #[serde(rename = "a\"b\\c")]
    pub quoted: bool,
    /// Empty name.
    #[serde(rename = "")]
    pub empty: u8,
    /// A slash and a tilde, escaped in JSON pointers.
    #[serde(rename = "a/b~c")]
    #[validate(length(min = 1))]
    pub pointer: String,
}

/// A TypeScript reserved word as a type name.
#[message("DELETE")]
#[derive(Clone, Debug, PartialEq)]
pub struct delete {
    /// A Rust keyword as a field.
    pub r#match: Vec<r#await>,
}

/// A Rust keyword as a type name (a raw identifier).
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct r#await {
    /// Named like a global.
    pub r#async: String,
}

/// Named like the generated code's imports.
#[message("ISSUE")]
#[derive(Clone, Debug, PartialEq)]
pub struct Issue {
    /// Named like a global.
    pub promise: u8,
}

/// Named like the client's meta type; no payload.
#[message("META")]
#[derive(Clone, Debug, PartialEq)]
pub struct Meta;

/// Its method name is a Rust keyword (`type`).
#[message("TYPE")]
#[derive(Clone, Debug, PartialEq)]
pub struct Type {
    /// Größe in Zentimetern.
    pub größe_cm: u32,
}

/// Its method name would clash with the `on_open` hook.
#[message("ON_OPEN")]
#[derive(Clone, Debug, PartialEq)]
pub struct OnOpen;

/// A non-ASCII type name. Its schema is renamed to ASCII because the manifest does not yet
/// resolve the percent-encoded `$ref` schemars writes for a non-ASCII name.
#[message("GRÖSSE")]
#[derive(Clone, Debug, PartialEq)]
#[serde(rename = "Groesse")]
pub struct Größe {
    /// Its value.
    pub wert: f64,
}

/// A very long name.
#[rpc(
    "A_VERY_LONG_MESSAGE_TYPE_NAME_THAT_GOES_ON_AND_ON_AND_ON_AND_ON_AND_ON_AND_ON_AND_ON_AND_ON_AND_ON_AND_ON_AND_ON_AND_ON_AND_ON_AND_ON_AND_ON_AND_ON_AND_ON_AND_ON_AND_ON_AND_ON_AND_ON_AND_ON_AND_ON_AND_ON_AND_ON_AND_ENDS",
    response = Array
)]
#[derive(Clone, Debug, PartialEq)]
pub struct AVeryLongMessageTypeNameThatGoesOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndEnds
{
    /// A field with a long name too.
    pub a_field_with_a_rather_long_name_that_also_goes_on_and_on_and_on_and_on_and_ends: bool,
}

/// Named like a global the generated validators must not shadow.
#[message("ARRAY")]
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// Named like a global.
    pub object: Vec<u8>,
}

protocol! {
    /// The hostile protocol: */ {{ }} `ticks`.
    pub Hostile {
        client: [Object, delete, Meta, Type, OnOpen],
        server: [Issue, Größe],
        rpc: [AVeryLongMessageTypeNameThatGoesOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndEnds],
    }
}

/// Decodes and validates `payload` as the hostile message of wire type `kind`.
pub fn verdict(kind: &str, payload: Option<&serde_json::Value>) -> Option<crate::Verdict> {
    crate::dispatch!(kind, payload;
        Object, delete, Meta, Type, OnOpen, Issue, Größe,
        AVeryLongMessageTypeNameThatGoesOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndOnAndEnds,
        Array,
    );
    None
}
