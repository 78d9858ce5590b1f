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
