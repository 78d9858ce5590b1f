//! Snapshots of every generated file of the chat protocol, in the repository's top-level
//! `snapshots/` folder. A changed output fails its snapshot; a snapshot no output produces
//! any more fails `snapshots_folder_holds_exactly_the_chat_outputs`.
//!
//! To accept intended changes: `INSTA_UPDATE=always cargo test -p twinwire-codegen --test
//! snapshots`, then review the diff in git. (`twinwire-client.ts` is copied verbatim from
//! `codegen-cli/ts/`, so it is compared with its source instead of snapshotted.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use twinwire::Protocol;
use twinwire_codegen::{TS_CLIENT, TS_CLIENT_FILE};

fn snapshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../snapshots")
}

/// Every chat output but the verbatim client, by snapshot name.
fn chat_outputs() -> Vec<(String, String)> {
    let manifest = chat_protocol::Chat::manifest().unwrap();
    let out = twinwire_codegen::Generator::new(manifest)
        .rust("router.rs")
        .typescript("ts")
        .schemas("schema")
        .output()
        .unwrap();
    out.files
        .into_iter()
        .filter(|f| !f.path.ends_with(TS_CLIENT_FILE))
        .map(|f| {
            let name = format!("chat__{}", f.path.display()).replace('/', "__");
            (name, f.contents)
        })
        .collect()
}

#[test]
fn chat_outputs_match_their_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(snapshot_dir());
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for (name, contents) in chat_outputs() {
            insta::assert_snapshot!(name, contents);
        }
    });
}

#[test]
fn snapshots_folder_holds_exactly_the_chat_outputs() {
    let mut expected: Vec<String> = chat_outputs()
        .into_iter()
        .map(|(name, _)| format!("{name}.snap"))
        .collect();
    // Written by tests/asyncapi.rs.
    expected
        .extend(["corpus__asyncapi.json.snap", "hostile__asyncapi.json.snap"].map(String::from));
    expected.sort();
    let mut found: Vec<String> = std::fs::read_dir(snapshot_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let unreferenced: Vec<&String> = found.iter().filter(|f| !expected.contains(f)).collect();
    let missing: Vec<&String> = expected.iter().filter(|e| !found.contains(e)).collect();
    assert!(
        unreferenced.is_empty() && missing.is_empty(),
        "snapshots/ is out of date.\n  not produced by any output (delete them, or review \
         pending `.snap.new` files): {unreferenced:?}\n  missing: {missing:?}"
    );
}

#[test]
fn the_typescript_client_is_emitted_verbatim() {
    let source = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("ts")
            .join(TS_CLIENT_FILE),
    )
    .unwrap();
    assert!(
        source == TS_CLIENT,
        "the embedded client differs from codegen-cli/ts/"
    );
    let out = twinwire_codegen::Generator::new(chat_protocol::Chat::manifest().unwrap())
        .typescript("ts")
        .output()
        .unwrap();
    let client = out
        .files
        .iter()
        .find(|f| f.path.ends_with(TS_CLIENT_FILE))
        .unwrap();
    assert!(client.contents == source);
}
