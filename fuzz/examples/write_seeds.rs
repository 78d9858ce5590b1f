//! Writes the seeds built in `twinwire_fuzz::seeds`: the `websocket` target's streams to
//! `seeds/websocket/`, and the test corpus's manifest (`seeds/manifest_codegen/corpus.min.json`,
//! over `manifest_codegen`'s size limit) in parts to `seeds/manifest_codegen/corpus.part*.json`.
//! Run from `fuzz/`: `cargo run --example write_seeds`.

use std::fs;
use std::path::Path;

use twinwire_fuzz::seeds::{self, MAX_MANIFEST};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let dir = root.join("websocket");
    fs::create_dir_all(&dir)?;
    for seed in seeds::websocket() {
        fs::write(dir.join(format!("{}.bin", seed.name)), &seed.bytes)?;
    }
    println!("wrote {}", dir.display());

    let dir = root.join("manifest_codegen");
    for old in fs::read_dir(&dir)? {
        let path = old?.path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("corpus.part"))
        {
            fs::remove_file(path)?;
        }
    }
    let whole = fs::read_to_string(dir.join("corpus.min.json"))?;
    let parts = seeds::manifest_parts(&whole, MAX_MANIFEST)?;
    for (i, part) in parts.iter().enumerate() {
        fs::write(dir.join(format!("corpus.part{}.json", i + 1)), part)?;
    }
    println!("wrote {} parts of corpus.min.json", parts.len());
    Ok(())
}
