#[twinwire::message("$ws:mine")]
pub struct Mine {}

fn main() {}
