#[twinwire::message("SAME")]
pub struct First {}

#[twinwire::message("SAME")]
pub struct Second {}

twinwire::protocol! {
    pub P { client: [First], server: [Second] }
}

fn main() {}
