//! The corpus: one module per protocol change, each with the two versions `v1` (old) and
//! `v2` (new) declared as an app would, and a `case()` with labels, rules and probes.

mod client;
mod enums;
mod messages;
mod server;
mod types;

use crate::Case;

/// Things every case uses.
mod prelude {
    pub use serde_json::json;

    pub use crate::Side::{New, Old};
    pub use crate::{BREAKS, Case, OK};

    /// The [`Version`](crate::Version) declared in module `$v` (its protocol `P`, its
    /// `decode`, `routes` and `emit`).
    macro_rules! v {
        ($v:ident) => {
            $crate::Version::of::<$v::P>($v::decode, $v::routes, $v::emit)
        };
    }
    pub(crate) use v;
}

/// Every case of the corpus.
pub fn all() -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(messages::cases());
    cases.extend(client::cases());
    cases.extend(server::cases());
    cases.extend(enums::cases());
    cases.extend(types::cases());
    cases
}
