//! Snapshots of the generator's text for the test protocol `twinwire_corpus::Corpus` (every
//! serde shape), in the repository's top-level `snapshots/` folder: the router, the
//! TypeScript module, the zod module, the JSON Schema bundle and one message's envelope schema. A changed
//! output fails its snapshot; a snapshot no output produces any more fails
//! `snapshots_folder_holds_exactly_the_corpus_outputs`.
//!
//! The chat example's outputs are not snapshotted: their one copy is
//! `examples/chat/generated/`, which `twinwire check` keeps fresh (`scripts/test.sh`).
//!
//! To accept intended changes: `INSTA_UPDATE=always cargo test -p twinwire-codegen --test
//! snapshots`, then review the diff in git. (`twinwire-client.ts` is copied verbatim from
//! `codegen-cli/ts/`, so it is compared with its source instead of snapshotted.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use twinwire::Protocol;
use twinwire_codegen::Generator;

/// The verbatim client's file name, in `codegen-cli/ts/` and in every TypeScript output.
const TS_CLIENT_FILE: &str = "twinwire-client.ts";

fn snapshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../snapshots")
}

/// The corpus outputs that are snapshotted, by path in the output: one of each kind of
/// file the generator writes. The other per-message schemas come from the same code as
/// `LOOKUP`'s, and the verbatim client is checked by the last test.
const SNAPSHOTTED: [&str; 5] = [
    "router.rs",
    "zod/protocol.zod.ts",
    "ts/protocol.ts",
    "schema/protocol.schema.json",
    "schema/LOOKUP.schema.json",
];

/// The snapshotted corpus outputs, by snapshot name.
fn corpus_outputs() -> Vec<(String, String)> {
    let manifest = twinwire_corpus::Corpus::manifest().unwrap();
    let out = Generator::new(manifest)
        .rust("router.rs")
        .typescript("ts")
        .schema("schema")
        .zod("zod/protocol.zod.ts")
        .output()
        .unwrap();
    let outputs: Vec<(String, String)> = out
        .files
        .into_iter()
        .filter(|f| SNAPSHOTTED.iter().any(|path| f.path.ends_with(path)))
        .map(|f| {
            let name = format!("corpus__{}", f.path.display()).replace('/', "__");
            (name, f.contents)
        })
        .collect();
    assert_eq!(
        outputs.len(),
        SNAPSHOTTED.len(),
        "the generator no longer writes all of {SNAPSHOTTED:?}"
    );
    outputs
}

#[test]
fn corpus_outputs_match_their_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(snapshot_dir());
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for (name, contents) in corpus_outputs() {
            insta::assert_snapshot!(name, contents);
        }
    });
}

#[test]
fn snapshots_folder_holds_exactly_the_corpus_outputs() {
    let mut expected: Vec<String> = corpus_outputs()
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
    let out = Generator::new(chat_protocol::Chat::manifest().unwrap())
        .typescript("ts")
        .output()
        .unwrap();
    let client = out
        .files
        .iter()
        .find(|f| f.path.ends_with(TS_CLIENT_FILE))
        .unwrap();
    assert!(
        client.contents == source,
        "the embedded client differs from codegen-cli/ts/"
    );
}
