//! The checks behind `#[validate(...)]` field attributes.
//!
//! Each check is generic over a small trait, so applying a constraint to a field type it
//! cannot mean anything for (`length` on a `u32`, `range` on a `String`) is a compile error
//! at the field, with a message naming the constraint. `Option<T>` is accepted wherever `T`
//! is, and checks only a present value.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::LazyLock;

use regex::Regex;

use crate::validate::Validator;

/// Values with a length: strings (in Unicode scalar values, as JSON Schema's `minLength`
/// counts them) and collections (in items).
#[diagnostic::on_unimplemented(
    message = "`length` cannot apply to `{Self}`",
    label = "`length`/`non_empty` need a string or a collection",
    note = "`length` applies to strings, arrays, sets and maps, or an `Option` of one"
)]
pub trait HasLength {
    /// The length, or `None` when there is no value to check (`Option::None`).
    fn constraint_length(&self) -> Option<usize>;
    /// Whether the length counts characters (for the error message).
    const IS_TEXT: bool;
}

impl HasLength for String {
    fn constraint_length(&self) -> Option<usize> {
        Some(self.chars().count())
    }
    const IS_TEXT: bool = true;
}

impl HasLength for str {
    fn constraint_length(&self) -> Option<usize> {
        Some(self.chars().count())
    }
    const IS_TEXT: bool = true;
}

impl HasLength for std::borrow::Cow<'_, str> {
    fn constraint_length(&self) -> Option<usize> {
        Some(self.chars().count())
    }
    const IS_TEXT: bool = true;
}

macro_rules! collection_length {
    ($([$($g:tt)*] $t:ty),* $(,)?) => {$(
        impl<$($g)*> HasLength for $t {
            fn constraint_length(&self) -> Option<usize> {
                Some(self.len())
            }
            const IS_TEXT: bool = false;
        }
    )*};
}

collection_length!(
    [T] Vec<T>,
    [T] VecDeque<T>,
    [T] [T],
    [T, const N: usize] [T; N],
    [T, S] HashSet<T, S>,
    [T] BTreeSet<T>,
    [K, V, S] HashMap<K, V, S>,
    [K, V] BTreeMap<K, V>,
);

impl<T: HasLength> HasLength for Option<T> {
    fn constraint_length(&self) -> Option<usize> {
        self.as_ref().and_then(HasLength::constraint_length)
    }
    const IS_TEXT: bool = T::IS_TEXT;
}

impl<T: HasLength + ?Sized> HasLength for Box<T> {
    fn constraint_length(&self) -> Option<usize> {
        (**self).constraint_length()
    }
    const IS_TEXT: bool = T::IS_TEXT;
}

/// Numbers a `range` can bound.
#[diagnostic::on_unimplemented(
    message = "`range` cannot apply to `{Self}`",
    label = "`range` needs a number",
    note = "`range` applies to integer and float types, or an `Option` of one"
)]
pub trait Numeric {
    /// The value as `f64` for comparison, or `None` when absent.
    fn constraint_number(&self) -> Option<f64>;
}

macro_rules! numeric {
    ($($t:ty),* $(,)?) => {$(
        impl Numeric for $t {
            #[allow(clippy::cast_precision_loss, clippy::cast_lossless)]
            fn constraint_number(&self) -> Option<f64> {
                // Precision loss only past 2^53, which the safe-integer check reports anyway.
                Some(*self as f64)
            }
        }
    )*};
}

numeric!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64
);

impl<T: Numeric> Numeric for Option<T> {
    fn constraint_number(&self) -> Option<f64> {
        self.as_ref().and_then(Numeric::constraint_number)
    }
}

/// Text a `pattern`, `email`, `url` or `uuid` constraint can inspect.
#[diagnostic::on_unimplemented(
    message = "this constraint cannot apply to `{Self}`",
    label = "`pattern`, `email`, `url` and `uuid` need a string",
    note = "these constraints apply to `String`, `str`, `Cow<str>`, or an `Option` of one"
)]
pub trait Text {
    /// The text, or `None` when absent.
    fn constraint_text(&self) -> Option<&str>;
}

impl Text for String {
    fn constraint_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl Text for str {
    fn constraint_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl Text for std::borrow::Cow<'_, str> {
    fn constraint_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl<T: Text> Text for Option<T> {
    fn constraint_text(&self) -> Option<&str> {
        self.as_ref().and_then(Text::constraint_text)
    }
}

impl<T: Text + ?Sized> Text for Box<T> {
    fn constraint_text(&self) -> Option<&str> {
        (**self).constraint_text()
    }
}

/// `length(min, max)`: inclusive bounds on characters or items.
pub fn length<T: HasLength + ?Sized>(
    v: &mut Validator,
    value: &T,
    min: Option<usize>,
    max: Option<usize>,
) {
    let Some(len) = value.constraint_length() else {
        return;
    };
    let unit = if T::IS_TEXT { "characters" } else { "items" };
    if let Some(min) = min.filter(|&min| len < min) {
        v.report(
            "too_short",
            format!("must have at least {min} {unit}, has {len}"),
        );
    }
    if let Some(max) = max.filter(|&max| len > max) {
        v.report(
            "too_long",
            format!("must have at most {max} {unit}, has {len}"),
        );
    }
}

/// `range(min, max)`: inclusive numeric bounds.
pub fn range<T: Numeric + ?Sized>(
    v: &mut Validator,
    value: &T,
    min: Option<f64>,
    max: Option<f64>,
) {
    let Some(n) = value.constraint_number() else {
        return;
    };
    if let Some(min) = min.filter(|&min| n < min) {
        v.report("too_small", format!("must be at least {min}, is {n}"));
    }
    if let Some(max) = max.filter(|&max| n > max) {
        v.report("too_large", format!("must be at most {max}, is {n}"));
    }
}

/// `pattern = "..."`: the whole regex must match somewhere in the text (JSON Schema
/// semantics: anchor with `^…$` to match the whole string).
pub fn pattern<T: Text + ?Sized>(
    v: &mut Validator,
    value: &T,
    regex: &LazyLock<Option<Regex>>,
    source: &str,
) {
    let Some(text) = value.constraint_text() else {
        return;
    };
    let matches = regex.as_ref().is_some_and(|re| re.is_match(text));
    if !matches {
        v.report("pattern", format!("must match the pattern {source}"));
    }
}

/// `email`: a pragmatic address check (`local@domain.tld`, no spaces), the same rule the
/// generated TypeScript applies.
pub fn email<T: Text + ?Sized>(v: &mut Validator, value: &T) {
    let Some(text) = value.constraint_text() else {
        return;
    };
    if !is_email(text) {
        v.report("email", "must be an email address");
    }
}

/// `url`: an absolute URL, parsed per the WHATWG URL standard as browsers do.
pub fn url<T: Text + ?Sized>(v: &mut Validator, value: &T) {
    let Some(text) = value.constraint_text() else {
        return;
    };
    if url::Url::parse(text).is_err() {
        v.report("url", "must be an absolute URL");
    }
}

/// `uuid`: the hyphenated 8-4-4-4-12 hex form.
pub fn uuid<T: Text + ?Sized>(v: &mut Validator, value: &T) {
    let Some(text) = value.constraint_text() else {
        return;
    };
    if !is_uuid(text) {
        v.report("uuid", "must be a UUID (8-4-4-4-12 hexadecimal digits)");
    }
}

/// The email rule: one `@`, a non-empty local part, a dotted domain of non-empty labels,
/// no whitespace.
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !text.chars().any(char::is_whitespace)
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
}

/// The UUID rule: 36 characters, hyphens at 8, 13, 18 and 23, hex digits elsewhere.
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issues(f: impl FnOnce(&mut Validator)) -> Vec<String> {
        let mut v = Validator::new();
        f(&mut v);
        v.finish()
            .err()
            .map(|e| {
                e.into_issues()
                    .into_iter()
                    .map(|i| i.code.into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(issues(|v| length(v, "héllo", Some(5), Some(5))).is_empty());
        assert_eq!(issues(|v| length(v, "", Some(1), None)), ["too_short"]);
        assert_eq!(
            issues(|v| length(v, &vec![1, 2, 3], None, Some(2))),
            ["too_long"]
        );
        assert!(issues(|v| length(v, &None::<String>, Some(1), None)).is_empty());
    }

    #[test]
    fn range_is_inclusive() {
        assert!(issues(|v| range(v, &1u32, Some(1.0), Some(100.0))).is_empty());
        assert!(issues(|v| range(v, &100u32, Some(1.0), Some(100.0))).is_empty());
        assert_eq!(issues(|v| range(v, &0u32, Some(1.0), None)), ["too_small"]);
        assert_eq!(
            issues(|v| range(v, &Some(1.5f64), None, Some(1.0))),
            ["too_large"]
        );
    }

    #[test]
    fn text_formats() {
        assert!(is_email("a.b@example.com"));
        for bad in ["", "a", "a@", "@b.c", "a@b", "a b@c.d", "a@b..c", "a@b@c.d"] {
            assert!(!is_email(bad), "{bad}");
        }
        assert!(is_uuid("67e55044-10b1-426f-9247-bb680e5fe0c8"));
        assert!(!is_uuid("67e55044-10b1-426f-9247-bb680e5fe0cg"));
        assert!(!is_uuid("67e5504410b1426f9247bb680e5fe0c8"));
        assert_eq!(issues(|v| url(v, "not a url")), ["url"]);
        assert!(issues(|v| url(v, "https://example.com/a.png")).is_empty());
        static DIGITS: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new("^[0-9]+$").ok());
        assert!(issues(|v| pattern(v, "123", &DIGITS, "^[0-9]+$")).is_empty());
        assert_eq!(
            issues(|v| pattern(v, "12a", &DIGITS, "^[0-9]+$")),
            ["pattern"]
        );
    }
}

/// Carries `length(min, max)` on a map field into its JSON Schema as `minProperties` /
/// `maxProperties`.
///
/// schemars writes `length` only for strings and arrays, so without this a map's length
/// limit would be enforced by `validate()` but invisible to every other reader of the
/// schema. It leaves any schema that is not an object untouched, so the macro can attach it
/// to every `length` constraint without knowing the field's type.
#[derive(Clone, Copy, Debug)]
pub struct MapLength {
    /// Smallest number of entries, if any.
    pub min: Option<u64>,
    /// Largest number of entries, if any.
    pub max: Option<u64>,
}

impl schemars::transform::Transform for MapLength {
    fn transform(&mut self, schema: &mut schemars::Schema) {
        let is_object = match schema.get("type") {
            Some(serde_json::Value::String(t)) => t == "object",
            Some(serde_json::Value::Array(types)) => types.iter().any(|t| t == "object"),
            _ => false,
        };
        if !is_object {
            return;
        }
        if let Some(min) = self.min {
            schema.insert("minProperties".into(), min.into());
        }
        if let Some(max) = self.max {
            schema.insert("maxProperties".into(), max.into());
        }
    }
}
