//! Every seed of every target, replayed without libFuzzer: the targets compile against the
//! current API and the seeds hold their invariants, on any toolchain.

use std::fs;
use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(target);
    let mut seeds: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    seeds.sort();
    assert!(seeds.len() >= 10, "{target}: only {} seeds", seeds.len());
    for seed in seeds {
        let data = fs::read(&seed).unwrap_or_else(|e| panic!("{}: {e}", seed.display()));
        println!("{}", seed.display());
        run(&data);
    }
}

#[test]
fn envelope_seeds() {
    replay("envelope", crate::envelope);
}

#[test]
fn dispatch_seeds() {
    replay("dispatch", crate::dispatch);
}

#[test]
fn chat_payloads_seeds() {
    replay("chat_payloads", crate::chat_payloads);
}

#[test]
fn manifest_codegen_seeds() {
    replay("manifest_codegen", crate::manifest_codegen);
}

#[test]
fn websocket_seeds() {
    replay("websocket", crate::websocket);
}

/// The committed seeds are the ones `src/seeds.rs` builds, and the framing model gives each
/// the ending it was built for.
#[test]
fn websocket_seeds_are_current_and_reach_their_ending() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/websocket");
    for seed in crate::seeds::websocket() {
        let path = dir.join(format!("{}.bin", seed.name));
        let committed = fs::read(&path).unwrap_or_else(|e| {
            panic!("{}: {e} (cargo run --example write_seeds)", path.display())
        });
        assert_eq!(
            committed,
            seed.bytes,
            "{} is stale: cargo run --example write_seeds",
            path.display()
        );
        assert_eq!(
            crate::seeds::ending_of(&seed.bytes),
            seed.ending,
            "{}",
            seed.name
        );
    }
}

/// The test corpus's manifest, cut to fit `manifest_codegen`'s limit: the committed parts are
/// current, each is a manifest every generator renders, and together they hold every message.
#[test]
fn manifest_parts_are_current_and_cover_every_message() {
    use twinwire::Manifest;

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/manifest_codegen");
    let whole_text = fs::read_to_string(dir.join("corpus.min.json")).expect("corpus.min.json");
    let whole = Manifest::from_json(&whole_text).expect("the corpus manifest reads");
    let parts = crate::seeds::manifest_parts(&whole_text, crate::seeds::MAX_MANIFEST)
        .expect("the corpus manifest splits");
    assert!(
        parts.len() > 1,
        "the corpus manifest fits whole: drop the parts"
    );
    let mut types = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let path = dir.join(format!("corpus.part{}.json", i + 1));
        let committed = fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("{}: {e} (cargo run --example write_seeds)", path.display())
        });
        assert_eq!(
            &committed,
            part,
            "{} is stale: cargo run --example write_seeds",
            path.display()
        );
        assert!(part.len() <= crate::seeds::MAX_MANIFEST);
        let manifest = Manifest::from_json(part)
            .unwrap_or_else(|e| panic!("{}: not a manifest: {e}", path.display()));
        twinwire_codegen::Generator::new(manifest.clone())
            .rust("r.rs")
            .typescript("ts")
            .schema("schema")
            .output()
            .unwrap_or_else(|e| panic!("{}: does not render: {e}", path.display()));
        types.extend(manifest.messages.iter().map(|m| m.wire_type.clone()));
    }
    types.sort();
    let mut expected: Vec<_> = whole.messages.iter().map(|m| m.wire_type.clone()).collect();
    expected.sort();
    assert_eq!(types, expected);
}
