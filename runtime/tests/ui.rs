//! Direction typing: the server sends only messages declared server→client, and trying to
//! send a client→server one is a compile error that says so. Regenerate expectations with
//! `TRYBUILD=overwrite` and review the diff.

#[test]
fn the_server_cannot_send_a_client_message() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
