#[twinwire::message("C")]
pub struct C {
    #[validate(length(max = 3))]
    pub count: u32,
    #[validate(range(min = 1))]
    pub name: String,
    #[validate(email)]
    pub flags: Vec<u8>,
}

fn main() {}
