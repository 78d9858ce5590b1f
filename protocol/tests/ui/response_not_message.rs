pub struct NotAMessage {
    pub x: u8,
}

#[twinwire::rpc("ASK", response = NotAMessage)]
pub struct Ask {}

fn main() {}
