//! Every crate of the workspace has an acyclic module graph (ARCHITECTURE.md, "Module
//! layering"), and the check itself finds the cycles it is meant to find.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use twinwire_test_support::ModuleGraph;

/// The root file of every library, proc-macro and binary target in the workspace, by name.
fn workspace_targets() -> Vec<(String, PathBuf)> {
    let metadata = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        metadata.status.success(),
        "{}",
        String::from_utf8_lossy(&metadata.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&metadata.stdout).unwrap();
    let mut targets = Vec::new();
    for package in metadata["packages"].as_array().unwrap() {
        for target in package["targets"].as_array().unwrap() {
            let designed =
                target["kind"].as_array().unwrap().iter().any(|kind| {
                    ["lib", "proc-macro", "bin"].contains(&kind.as_str().unwrap_or(""))
                });
            if designed {
                let name = format!(
                    "{} ({})",
                    package["name"].as_str().unwrap(),
                    target["name"].as_str().unwrap()
                );
                targets.push((name, PathBuf::from(target["src_path"].as_str().unwrap())));
            }
        }
    }
    targets
}

#[test]
fn every_crate_of_the_workspace_has_acyclic_modules() {
    let mut cycles = Vec::new();
    let targets = workspace_targets();
    assert!(
        targets.len() >= 10,
        "cargo metadata listed too few targets: {targets:?}"
    );
    for (name, root) in targets {
        let graph = ModuleGraph::read(&root).unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Some(cycle) = graph.cycle() {
            let shown: Vec<&str> = cycle
                .iter()
                .map(|m| {
                    if m.is_empty() {
                        "<crate root>"
                    } else {
                        m.as_str()
                    }
                })
                .collect();
            cycles.push(format!("{name}: {}", shown.join(" → ")));
        }
    }
    assert!(
        cycles.is_empty(),
        "module cycles (move the shared item into a module below both, and keep lib.rs a \
         facade of `mod` and `pub use`):\n  {}",
        cycles.join("\n  ")
    );
}

/// Writes a small crate's files under a fresh temporary folder and returns its `lib.rs`.
fn crate_with(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "twinwire-module-graph-{name}-{}",
        std::process::id()
    ));
    for (path, text) in files {
        let file = dir.join(path);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(file, text).unwrap();
    }
    dir.join("lib.rs")
}

#[test]
fn a_facade_root_over_layered_modules_is_acyclic() {
    let root = crate_with(
        "layered",
        &[
            ("lib.rs", "mod a; mod b; pub use a::A; pub use b::B;"),
            ("a.rs", "pub struct A;"),
            // `crate::A` is a re-export of `a`, and unit tests are not part of the design.
            (
                "b.rs",
                "use crate::A; pub struct B(A); #[cfg(test)] mod tests { use crate::b::B; }",
            ),
        ],
    );
    let graph = ModuleGraph::read(&root).unwrap();
    assert_eq!(graph.cycle(), None);
    let layers = graph.layers().unwrap();
    assert_eq!(
        layers,
        [
            vec!["a".to_owned()],
            vec!["b".to_owned()],
            vec![String::new()]
        ]
    );
}

#[test]
fn cycles_between_siblings_and_through_a_parent_are_found() {
    let root = crate_with(
        "cyclic",
        &[
            ("lib.rs", "mod a; mod b; mod ts; pub fn helper() {}"),
            ("a.rs", "pub fn f() { crate::b::g() }"),
            ("b.rs", "use super::a; pub fn g() { a::f() }"),
            ("ts/mod.rs", "mod types; use types::T; pub struct Defs;"),
            ("ts/types.rs", "pub struct T(pub crate::ts::Defs);"),
        ],
    );
    let graph = ModuleGraph::read(&root).unwrap();
    let cycle = graph.cycle().unwrap();
    assert!(
        cycle.contains(&"a".to_owned()) && cycle.contains(&"b".to_owned()),
        "{cycle:?}"
    );
    assert!(graph.edges["ts::types"].contains("ts"));
    assert!(graph.edges["ts"].contains("ts::types"));
    assert!(graph.layers().is_none());
}

#[test]
fn an_item_defined_in_the_crate_root_and_used_below_it_is_a_cycle() {
    let root = crate_with(
        "root-item",
        &[
            (
                "lib.rs",
                "mod config; pub use config::Config; pub fn resolve() {}",
            ),
            (
                "config.rs",
                "pub struct Config; fn f() { crate::resolve() }",
            ),
        ],
    );
    let graph = ModuleGraph::read(&root).unwrap();
    assert!(graph.cycle().is_some(), "{:?}", graph.edges);
}
