//! Prints the corpus (or, with `hostile`, the hostile) protocol's manifest.
use twinwire::Protocol;
fn main() {
    let manifest = match std::env::args().nth(1).as_deref() {
        Some("hostile") => twinwire_corpus::hostile::Hostile::manifest(),
        _ => twinwire_corpus::Corpus::manifest(),
    };
    match manifest {
        Ok(m) => print!("{}", m.to_pretty_json()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
