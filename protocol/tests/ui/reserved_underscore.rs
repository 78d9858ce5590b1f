#[twinwire::message("__private")]
pub struct Mine {}

fn main() {}
