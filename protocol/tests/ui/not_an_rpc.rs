#[twinwire::message("PLAIN")]
pub struct Plain {}

twinwire::protocol! {
    pub P { rpc: [Plain] }
}

fn main() {}
