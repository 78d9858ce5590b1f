#[twinwire::message("B")]
pub struct B {
    #[validate(pattern = "([a-z]")]
    pub a: String,
    #[validate(length(min = 5, max = 2))]
    pub b: String,
    #[validate(between(1, 2))]
    pub c: String,
    #[validate(range(min = "one"))]
    pub d: u8,
}

fn main() {}
