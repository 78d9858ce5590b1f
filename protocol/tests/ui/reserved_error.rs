#[twinwire::message("RPC_ERROR")]
pub struct Mine {}

fn main() {}
