pub struct Plain {}

twinwire::protocol! {
    pub P { client: [Plain] }
}

fn main() {}
