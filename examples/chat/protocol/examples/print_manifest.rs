//! Prints the chat protocol's manifest as pretty JSON.
use twinwire::Protocol;
fn main() {
    match chat_protocol::Chat::manifest() {
        Ok(m) => print!("{}", m.to_pretty_json()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
