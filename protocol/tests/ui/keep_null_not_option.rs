// `#[keep_null]` keeps the `null` of an `Option` the server would otherwise leave out; a
// field that is not an `Option` has no `null` to keep.
#[twinwire::message("PROFILE")]
pub struct Profile {
    #[keep_null]
    pub name: String,
}

fn main() {}
