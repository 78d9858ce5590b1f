#[twinwire::message("PING")]
pub struct Ping {}

twinwire::protocol! {
    pub P { client: [Ping], server: [Ping] }
}

fn main() {}
