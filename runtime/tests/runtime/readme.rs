//! The README's "A minimal server" is the example that `cargo test` builds, verbatim.

#[test]
fn the_readme_minimal_server_is_the_compiled_example() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let example = std::fs::read_to_string(format!("{root}/runtime/examples/minimal.rs")).unwrap();
    let section = readme
        .split("## A minimal server")
        .nth(1)
        .expect("README has a section \"A minimal server\"");
    let code = section
        .split("```rust\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the section has a rust code block");
    assert_eq!(
        code, example,
        "README.md's minimal server differs from runtime/examples/minimal.rs"
    );
    assert!(
        code.lines().count() < 30,
        "the minimal server must stay under 30 lines"
    );
}

#[test]
fn the_readme_axum_recipe_is_the_compiled_example() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let example = std::fs::read_to_string(format!("{root}/runtime/examples/axum_app.rs")).unwrap();
    let section = readme
        .split("### In an axum app")
        .nth(1)
        .expect("README has a section \"In an axum app\"");
    let code = section
        .split("```rust\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the section has a rust code block");
    assert_eq!(
        code, example,
        "README.md's axum recipe differs from runtime/examples/axum_app.rs"
    );
}
