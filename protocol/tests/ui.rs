//! Misuse of the macros is a compile error at the user's span, with a message that says
//! what to do. Regenerate expectations with `TRYBUILD=overwrite` and review the diff.

#[test]
fn misuse_is_a_compile_error() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
