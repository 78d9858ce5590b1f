// `#[keep_null]` is a bare marker; the type-level opt-out is `keep_nulls` in the attribute.
#[twinwire::message("PROFILE")]
pub struct Profile {
    #[keep_null(true)]
    pub nickname: Option<String>,
}

fn main() {}
