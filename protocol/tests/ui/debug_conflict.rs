use std::fmt;

// A `derive` above the twinwire attribute is expanded before it, so twinwire cannot see it:
// put it below the attribute (or use `no_debug`).
#[derive(Debug, Clone)]
#[twinwire::data]
pub struct DerivedAbove {
    pub x: u8,
}

// A hand-written `Debug` needs `no_debug`.
#[twinwire::message("CLASH")]
pub struct Clash {}

impl fmt::Debug for Clash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clash")
    }
}

fn main() {}
