//! Writes the `websocket` target's seeds (`twinwire_fuzz::seeds`) to `seeds/websocket/`.
//! Run from `fuzz/`: `cargo run --example write_seeds`.

use std::fs;
use std::path::Path;

fn main() -> std::io::Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join("websocket");
    fs::create_dir_all(&dir)?;
    for seed in twinwire_fuzz::seeds::websocket() {
        fs::write(dir.join(format!("{}.bin", seed.name)), &seed.bytes)?;
    }
    println!("wrote {}", dir.display());
    Ok(())
}
