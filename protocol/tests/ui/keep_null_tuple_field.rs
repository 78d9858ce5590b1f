// A tuple position is always written (as `null` for `None`): there is no key to leave out.
#[twinwire::data]
pub struct Pair(pub u8, #[keep_null] pub Option<u8>);

fn main() {}
