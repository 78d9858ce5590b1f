#[twinwire::message("TUPLE")]
pub struct Tuple(pub u8, pub u8);

#[twinwire::message("UNTAGGED")]
pub enum Untagged {
    A { x: u8 },
}

fn main() {}
