#[twinwire::rpc("ASK")]
pub struct Ask {}

fn main() {}
