//! The crate's `__private` module (see its declaration in `lib.rs`): what macro expansions
//! name, so an app's protocol crate needs no direct dependency on serde or schemars.

pub use regex::Regex;
pub use schemars;
pub use serde;
pub use serde_json;

pub use crate::constraints;
pub use crate::manifest::ManifestBuilder;

/// Compares two strings in a `const` context, for the duplicate-`type` checks that
/// `protocol!` evaluates at compile time.
pub const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Index of the first entry whose wire type repeats an earlier one, or `usize::MAX`.
pub const fn first_duplicate(types: &[&str]) -> usize {
    let mut j = 0;
    while j < types.len() {
        let mut i = 0;
        while i < j {
            if str_eq(types[i], types[j]) {
                return j;
            }
            i += 1;
        }
        j += 1;
    }
    usize::MAX
}

/// A lazily compiled regex for `#[validate(pattern = ...)]`. The macro has already
/// checked the pattern's syntax, so compiling cannot fail for a pattern it accepted;
/// should it fail anyway, the constraint reports every value as invalid rather than
/// panicking in the server.
pub type LazyRegex = std::sync::LazyLock<Option<Regex>>;

/// Compiles a pattern for [`LazyRegex`].
pub fn compile_pattern(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

/// A struct's `#[serde(flatten)]` field of type `T`, as a schemars transform on the struct
/// (`#[data]` and `#[message]` add it for every flattened field).
///
/// Where `T` is an internally tagged enum with a variant that refuses unknown fields (a
/// newtype of a strict `#[data]` struct), serde refuses them in the flattened struct as well,
/// but schemars drops the variant's `additionalProperties: false` when it flattens, since the
/// struct's own fields sit beside it. This puts it back in that variant, listing the struct's
/// own properties there so they stay allowed. A struct with a flattened map as well (which
/// takes any other key) is left as it is.
pub fn close_flattened<T: schemars::JsonSchema>(schema: &mut schemars::Schema) {
    use serde_json::{Map, Value};
    /// A variant's constant properties, its tag: `{"kind": "Wrapped"}`.
    fn tag_of(variant: &Value) -> Option<Map<String, Value>> {
        let properties = variant.get("properties")?.as_object()?;
        let consts: Map<String, Value> = properties
            .iter()
            .filter_map(|(key, schema)| Some((key.clone(), schema.get("const")?.clone())))
            .collect();
        (!consts.is_empty()).then_some(consts)
    }
    let standalone = schemars::generate::SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<T>();
    let Some(variants) = standalone.get("oneOf").and_then(Value::as_array) else {
        return;
    };
    let closed: Vec<Map<String, Value>> = variants
        .iter()
        .filter(|v| v.get("additionalProperties") == Some(&Value::Bool(false)))
        .filter_map(tag_of)
        .collect();
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if closed.is_empty()
        || object.contains_key("additionalProperties")
        || object.contains_key("patternProperties")
    {
        return;
    }
    let own = object
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let Some(Value::Array(flattened)) = object.get_mut("oneOf") else {
        return;
    };
    for variant in flattened {
        if !tag_of(variant).is_some_and(|tag| closed.contains(&tag)) {
            continue;
        }
        let Some(variant) = variant.as_object_mut() else {
            continue;
        };
        if let Some(properties) = variant
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
        {
            for (key, schema) in &own {
                properties
                    .entry(key.clone())
                    .or_insert_with(|| schema.clone());
            }
        }
        variant.insert("additionalProperties".into(), Value::Bool(false));
    }
}
