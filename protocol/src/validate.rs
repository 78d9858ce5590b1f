//! Validation: the [`Validate`] trait the macros implement, and errors that name every
//! failing value by its JSON pointer (`/attachment/url`, `/items/3`).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The largest integer JavaScript's `JSON.parse` represents exactly (2^53 − 1).
///
/// 64-bit and wider integers are checked against it, so a value the TypeScript side would
/// silently round never passes validation (see the README's "Integers" section).
pub const MAX_SAFE_INTEGER: i128 = 9_007_199_254_740_991;

/// One failed check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// JSON pointer to the failing value, with wire (serde) names: `/attachment/url`.
    /// The empty string is the payload itself.
    pub path: String,
    /// A stable machine-readable code: `too_short`, `too_long`, `too_small`, `too_large`,
    /// `pattern`, `email`, `url`, `uuid`, `unsafe_integer` from constraints; and, for input
    /// refused while decoding (reported by the runtime and the generated TypeScript guards),
    /// `required` (a missing field), `unknown_field` (a field a strict type does not have)
    /// or `invalid` (any other malformed value).
    pub code: Cow<'static, str>,
    /// A human-readable explanation.
    pub message: String,
}

/// All the issues found in one value, never just the first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError {
    issues: Vec<Issue>,
}

impl ValidationError {
    /// Wraps issues; `None` when there are none.
    pub fn from_issues(issues: Vec<Issue>) -> Option<Self> {
        (!issues.is_empty()).then_some(Self { issues })
    }

    /// The issues, in the order the fields are declared.
    pub fn issues(&self) -> &[Issue] {
        &self.issues
    }

    /// Consumes the error into its issues.
    pub fn into_issues(self) -> Vec<Issue> {
        self.issues
    }

    /// The `details` object of an INVALID_ARGUMENT error frame: `{"issues": [...]}`.
    pub fn to_details(&self) -> serde_json::Value {
        serde_json::json!({ "issues": self.issues })
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.issues.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            let path = if issue.path.is_empty() {
                "/"
            } else {
                &issue.path
            };
            write!(f, "{path}: {}", issue.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationError {}

/// Collects issues while walking a value, tracking the current JSON pointer.
#[derive(Debug, Default)]
pub struct Validator {
    path: String,
    issues: Vec<Issue>,
}

impl Validator {
    /// A validator at the root of the payload.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` with `segment` appended to the path (escaped per RFC 6901).
    pub fn enter(&mut self, segment: &str, f: impl FnOnce(&mut Self)) {
        let len = self.path.len();
        self.path.push('/');
        for c in segment.chars() {
            match c {
                '~' => self.path.push_str("~0"),
                '/' => self.path.push_str("~1"),
                c => self.path.push(c),
            }
        }
        f(self);
        self.path.truncate(len);
    }

    /// Runs `f` with an array index appended to the path.
    pub fn enter_index(&mut self, index: usize, f: impl FnOnce(&mut Self)) {
        use fmt::Write as _;
        let len = self.path.len();
        // Writing to a String cannot fail.
        let _ = write!(self.path, "/{index}");
        f(self);
        self.path.truncate(len);
    }

    /// Records an issue at the current path.
    pub fn report(&mut self, code: &'static str, message: impl Into<String>) {
        self.issues.push(Issue {
            path: self.path.clone(),
            code: Cow::Borrowed(code),
            message: message.into(),
        });
    }

    /// The pointer to the value being checked.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Ends the walk: `Err` with every issue, or `Ok`.
    ///
    /// # Errors
    /// When any issue was reported.
    pub fn finish(self) -> Result<(), ValidationError> {
        match ValidationError::from_issues(self.issues) {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}

/// A value that can check its declared constraints.
///
/// Implemented by the twinwire macros for payload types, and here for the standard types
/// that payloads are made of. Wide integers check that they fit JavaScript's safe range.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a twinwire payload type",
    label = "`{Self}` is not marked `#[twinwire::data]`",
    note = "mark `{Self}` with `#[twinwire::data]` (instead of deriving serde or schemars traits): it derives serde, JSON Schema, `Debug` and `Validate` for it",
    note = "a type from another crate cannot be marked: see \"Types from other crates\" in twinwire's README for the field attributes or the wrapper that carry it"
)]
pub trait Validate {
    /// Reports every violation under the validator's current path.
    fn validate_into(&self, v: &mut Validator);

    /// Checks the whole value.
    ///
    /// # Errors
    /// A [`ValidationError`] listing every failing path.
    fn validate(&self) -> Result<(), ValidationError> {
        let mut v = Validator::new();
        self.validate_into(&mut v);
        v.finish()
    }
}

macro_rules! always_valid {
    ($($t:ty),* $(,)?) => {$(
        impl Validate for $t {
            #[inline]
            fn validate_into(&self, _: &mut Validator) {}
        }
    )*};
}

always_valid!(
    bool,
    char,
    String,
    str,
    u8,
    u16,
    u32,
    i8,
    i16,
    i32,
    f32,
    f64,
    (),
    serde_json::Value,
    serde_json::Map<String, serde_json::Value>,
    std::num::NonZeroU8,
    std::num::NonZeroU16,
    std::num::NonZeroU32,
    std::net::IpAddr,
    std::net::Ipv4Addr,
    std::net::Ipv6Addr,
    std::path::PathBuf,
    std::time::Duration,
    url::Url,
);

macro_rules! safe_integer {
    ($($t:ty),* $(,)?) => {$(
        impl Validate for $t {
            #[inline]
            fn validate_into(&self, v: &mut Validator) {
                // Lossless: every listed type fits in i128 except u128's top half, which
                // saturates and is unsafe anyway.
                let wide = i128::try_from(*self).unwrap_or(i128::MAX);
                if !(-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&wide) {
                    v.report(
                        "unsafe_integer",
                        format!("{self} is beyond ±2^53−1 and would lose precision in JavaScript"),
                    );
                }
            }
        }
    )*};
}

safe_integer!(u64, i64, u128, i128, usize, isize);

impl<T: Validate + ?Sized> Validate for &T {
    fn validate_into(&self, v: &mut Validator) {
        (**self).validate_into(v);
    }
}

impl<T: Validate + ?Sized> Validate for Box<T> {
    fn validate_into(&self, v: &mut Validator) {
        (**self).validate_into(v);
    }
}

impl<T: Validate + ?Sized> Validate for Arc<T> {
    fn validate_into(&self, v: &mut Validator) {
        (**self).validate_into(v);
    }
}

impl<T: Validate + ToOwned + ?Sized> Validate for Cow<'_, T> {
    fn validate_into(&self, v: &mut Validator) {
        self.as_ref().validate_into(v);
    }
}

impl<T: ?Sized> Validate for std::marker::PhantomData<T> {
    fn validate_into(&self, _: &mut Validator) {}
}

impl<T: Validate> Validate for Option<T> {
    fn validate_into(&self, v: &mut Validator) {
        if let Some(inner) = self {
            inner.validate_into(v);
        }
    }
}

fn validate_items<'a, T: Validate + 'a>(items: impl Iterator<Item = &'a T>, v: &mut Validator) {
    for (i, item) in items.enumerate() {
        v.enter_index(i, |v| item.validate_into(v));
    }
}

impl<T: Validate> Validate for [T] {
    fn validate_into(&self, v: &mut Validator) {
        validate_items(self.iter(), v);
    }
}

impl<T: Validate, const N: usize> Validate for [T; N] {
    fn validate_into(&self, v: &mut Validator) {
        validate_items(self.iter(), v);
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate_into(&self, v: &mut Validator) {
        validate_items(self.iter(), v);
    }
}

impl<T: Validate> Validate for VecDeque<T> {
    fn validate_into(&self, v: &mut Validator) {
        validate_items(self.iter(), v);
    }
}

// Sets are arrays on the wire; the index is the position in serialization order.
impl<T: Validate, S> Validate for HashSet<T, S> {
    fn validate_into(&self, v: &mut Validator) {
        validate_items(self.iter(), v);
    }
}

impl<T: Validate> Validate for BTreeSet<T> {
    fn validate_into(&self, v: &mut Validator) {
        validate_items(self.iter(), v);
    }
}

impl<K: fmt::Display, V: Validate, S> Validate for HashMap<K, V, S> {
    fn validate_into(&self, v: &mut Validator) {
        for (key, value) in self {
            v.enter(&key.to_string(), |v| value.validate_into(v));
        }
    }
}

impl<K: fmt::Display, V: Validate> Validate for BTreeMap<K, V> {
    fn validate_into(&self, v: &mut Validator) {
        for (key, value) in self {
            v.enter(&key.to_string(), |v| value.validate_into(v));
        }
    }
}

macro_rules! tuple_validate {
    ($(($($n:tt $t:ident),+)),* $(,)?) => {$(
        impl<$($t: Validate),+> Validate for ($($t,)+) {
            fn validate_into(&self, v: &mut Validator) {
                $( v.enter_index($n, |v| self.$n.validate_into(v)); )+
            }
        }
    )*};
}

tuple_validate!(
    (0 A),
    (0 A, 1 B),
    (0 A, 1 B, 2 C),
    (0 A, 1 B, 2 C, 3 D),
    (0 A, 1 B, 2 C, 3 D, 4 E),
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F),
);

#[cfg(feature = "uuid")]
always_valid!(uuid::Uuid);

#[cfg(feature = "chrono")]
always_valid!(chrono::NaiveDate, chrono::NaiveDateTime, chrono::NaiveTime);

#[cfg(feature = "chrono")]
impl<Tz: chrono::TimeZone> Validate for chrono::DateTime<Tz> {
    fn validate_into(&self, _: &mut Validator) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_escaped_json_pointers() {
        let mut v = Validator::new();
        v.enter("a/b", |v| {
            v.enter("c~d", |v| v.enter_index(3, |v| v.report("x", "m")))
        });
        v.enter("ok", |_| {});
        let err = v.finish().unwrap_err();
        assert_eq!(err.issues()[0].path, "/a~1b/c~0d/3");
    }

    #[test]
    fn wide_integers_must_be_safe_in_javascript() {
        assert!(9_007_199_254_740_991_u64.validate().is_ok());
        assert!((-9_007_199_254_740_991_i64).validate().is_ok());
        let err = 9_007_199_254_740_992_u64.validate().unwrap_err();
        assert_eq!(err.issues()[0].code, "unsafe_integer");
        assert!(u128::MAX.validate().is_err());
        assert!(i64::MIN.validate().is_err());
    }

    #[test]
    fn containers_report_every_failing_element_with_its_index_or_key() {
        let big = u64::MAX;
        let value: (Vec<u64>, BTreeMap<String, u64>) = (
            vec![1, big, 2, big],
            BTreeMap::from([("k".to_owned(), big)]),
        );
        let err = value.validate().unwrap_err();
        let paths: Vec<_> = err.issues().iter().map(|i| i.path.as_str()).collect();
        assert_eq!(paths, ["/0/1", "/0/3", "/1/k"]);
        assert_eq!(
            err.to_details()["issues"][0]["code"],
            serde_json::json!("unsafe_integer")
        );
    }
}
