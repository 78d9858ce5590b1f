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
