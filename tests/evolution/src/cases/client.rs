//! Fields of client → server messages, read by a strict server: unknown fields are rejected
//! unless the type allows them, every constraint is checked.

use super::prelude::*;

pub fn cases() -> Vec<Case> {
    vec![
        field_added_required::case(),
        field_added_optional::case(),
        field_added_with_default::case(),
        field_added_allow_unknown::case(),
        field_removed_required::case(),
        field_removed_optional::case(),
        field_removed_allow_unknown::case(),
        field_renamed::case(),
        rust_field_renamed_wire_kept::case(),
        field_type_changed::case(),
        integer_became_float::case(),
        integer_widened::case(),
        option_became_required::case(),
        required_became_option::case(),
        default_added::case(),
        default_removed::case(),
        default_value_changed::case(),
        max_length_narrowed::case(),
        max_length_widened::case(),
        range_narrowed::case(),
        pattern_added::case(),
        pattern_changed::case(),
        format_added::case(),
        non_empty_added::case(),
        unknown_fields_rejected::case(),
        unknown_fields_allowed::case(),
        flattened_map_added::case(),
        nested_field_added_required::case(),
        tagged_variant_field_added::case(),
        map_value_type_changed::case(),
        tuple_grew::case(),
        list_became_set::case(),
        recursive_field_added::case(),
    ]
}

mod field_added_required {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub text: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub text: String,
            pub priority: u8,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub fn case() -> Case {
        Case::new(
            "client/field-added-required",
            "a required field: old clients do not send it, old servers reject it as unknown",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, BREAKS)
        .rules(&["field-added-required"])
        .frame(Old, "POST", json!({"text": "hi"}))
        .frame(New, "POST", json!({"text": "hi", "priority": 1}))
    }
}

mod field_added_optional {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub text: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub text: String,
            pub note: Option<String>,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub fn case() -> Case {
        Case::new(
            "client/field-added-optional",
            "an Option field: old clients may omit it, but a strict old server rejects it",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["field-added-optional"])
        .frame(Old, "POST", json!({"text": "hi"}))
        .frame(New, "POST", json!({"text": "hi"}))
        .frame(New, "POST", json!({"text": "hi", "note": "n"}))
    }
}

mod field_added_with_default {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub text: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub text: String,
            #[serde(default)]
            pub pinned: bool,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub fn case() -> Case {
        Case::new(
            "client/field-added-with-default",
            "a defaulted field: the new server fills it in, a strict old server rejects it",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["field-added-with-default"])
        .frame(Old, "POST", json!({"text": "hi"}))
        .frame(New, "POST", json!({"text": "hi", "pinned": true}))
    }
}

mod field_added_allow_unknown {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("POST", allow_unknown_fields)]
        pub struct Post {
            pub text: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("POST", allow_unknown_fields)]
        pub struct Post {
            pub text: String,
            pub note: Option<String>,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub fn case() -> Case {
        Case::new(
            "client/field-added-allow-unknown",
            "an Option field on a message that allows unknown fields: fully compatible",
            v!(v1),
            v!(v2),
        )
        .labels(OK, OK)
        .rules(&["field-added-optional"])
        .frame(Old, "POST", json!({"text": "hi"}))
        .frame(New, "POST", json!({"text": "hi", "note": "n"}))
    }
}

mod field_removed_required {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub text: String,
            pub channel: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub text: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub fn case() -> Case {
        Case::new(
            "client/field-removed-required",
            "a required field removed: the new server rejects it, old servers still need it",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, BREAKS)
        .rules(&["field-removed"])
        .frame(Old, "POST", json!({"text": "hi", "channel": "a"}))
        .frame(New, "POST", json!({"text": "hi"}))
    }
}

mod field_removed_optional {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub text: String,
            pub note: Option<String>,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub text: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub fn case() -> Case {
        Case::new(
            "client/field-removed-optional",
            "an Option field removed: old clients that still send it are rejected",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["field-removed"])
        .frame(Old, "POST", json!({"text": "hi", "note": "n"}))
        .frame(New, "POST", json!({"text": "hi"}))
    }
}

mod field_removed_allow_unknown {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("POST", allow_unknown_fields)]
        pub struct Post {
            pub text: String,
            pub channel: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("POST", allow_unknown_fields)]
        pub struct Post {
            pub text: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub fn case() -> Case {
        Case::new(
            "client/field-removed-allow-unknown",
            "a required field removed where unknown fields are allowed: only old servers break",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["field-removed"])
        .frame(Old, "POST", json!({"text": "hi", "channel": "a"}))
        .frame(New, "POST", json!({"text": "hi"}))
    }
}

mod field_renamed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub text: String,
            pub room: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub text: String,
            pub channel: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub fn case() -> Case {
        Case::new(
            "client/field-renamed",
            "a field renamed on the wire: each server wants its own name",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, BREAKS)
        .rules(&["field-renamed"])
        .frame(Old, "POST", json!({"text": "hi", "room": "a"}))
        .frame(New, "POST", json!({"text": "hi", "channel": "a"}))
    }
}

mod rust_field_renamed_wire_kept {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub text: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            #[serde(rename = "text")]
            pub body: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub fn case() -> Case {
        Case::new(
            "client/rust-field-renamed-wire-kept",
            "a Rust field renamed with `#[serde(rename)]` keeping the wire name: no change at all",
            v!(v1),
            v!(v2),
        )
        .labels(OK, OK)
        .rules(&[])
        .frame(Old, "POST", json!({"text": "hi"}))
        .frame(New, "POST", json!({"text": "hi"}))
    }
}

mod field_type_changed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub count: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub count: u32,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub fn case() -> Case {
        Case::new(
            "client/field-type-changed",
            "a string field became an integer",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, BREAKS)
        .rules(&["field-type-changed"])
        .frame(Old, "POST", json!({"count": "3"}))
        .frame(New, "POST", json!({"count": 3}))
    }
}

mod integer_became_float {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("RATE")]
        pub struct Rate {
            pub score: u32,
        }
        protocol! { pub P { client: [Rate] } }
        crate::decoder!(Rate);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("RATE")]
        pub struct Rate {
            pub score: f64,
        }
        protocol! { pub P { client: [Rate] } }
        crate::decoder!(Rate);
    }
    pub fn case() -> Case {
        Case::new(
            "client/integer-became-float",
            "a u32 became an f64: new clients send fractions old servers reject",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["field-type-changed"])
        .frame(Old, "RATE", json!({"score": 3}))
        .frame(New, "RATE", json!({"score": 1.5}))
    }
}

mod integer_widened {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("SET_LEVEL")]
        pub struct SetLevel {
            pub level: u8,
        }
        protocol! { pub P { client: [SetLevel] } }
        crate::decoder!(SetLevel);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("SET_LEVEL")]
        pub struct SetLevel {
            pub level: u16,
        }
        protocol! { pub P { client: [SetLevel] } }
        crate::decoder!(SetLevel);
    }
    pub fn case() -> Case {
        Case::new(
            "client/integer-widened",
            "a u8 became a u16: 300 passes the new server but not an old one",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["constraint-widened"])
        .frame(Old, "SET_LEVEL", json!({"level": 200}))
        .frame(New, "SET_LEVEL", json!({"level": 300}))
    }
}

mod option_became_required {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub note: Option<String>,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub note: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub fn case() -> Case {
        Case::new(
            "client/option-became-required",
            "Option<String> became String: old clients omit it or send null",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["field-optionality-changed"])
        .frame(Old, "POST", json!({}))
        .frame(Old, "POST", json!({"note": null}))
        .frame(New, "POST", json!({"note": "n"}))
    }
}

mod required_became_option {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub note: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub note: Option<String>,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub fn case() -> Case {
        Case::new(
            "client/required-became-option",
            "String became Option<String>: new clients send null, old servers reject it",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["field-optionality-changed"])
        .frame(Old, "POST", json!({"note": "n"}))
        .frame(New, "POST", json!({"note": null}))
    }
}

mod default_added {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("FETCH")]
        pub struct Fetch {
            pub limit: u32,
        }
        protocol! { pub P { client: [Fetch] } }
        crate::decoder!(Fetch);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("FETCH")]
        pub struct Fetch {
            #[serde(default)]
            pub limit: u32,
        }
        protocol! { pub P { client: [Fetch] } }
        crate::decoder!(Fetch);
    }
    pub fn case() -> Case {
        Case::new(
            "client/default-added",
            "a field got `#[serde(default)]`: new clients may leave it out, old servers need it",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["field-optionality-changed"])
        .frame(Old, "FETCH", json!({"limit": 5}))
        .frame(New, "FETCH", json!({}))
    }
}

mod default_removed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("FETCH")]
        pub struct Fetch {
            #[serde(default)]
            pub limit: u32,
        }
        protocol! { pub P { client: [Fetch] } }
        crate::decoder!(Fetch);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("FETCH")]
        pub struct Fetch {
            pub limit: u32,
        }
        protocol! { pub P { client: [Fetch] } }
        crate::decoder!(Fetch);
    }
    pub fn case() -> Case {
        Case::new(
            "client/default-removed",
            "a field lost `#[serde(default)]`: old clients that leave it out are rejected",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["field-optionality-changed"])
        .frame(Old, "FETCH", json!({}))
        .frame(New, "FETCH", json!({"limit": 5}))
    }
}

mod default_value_changed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        fn ten() -> u32 {
            10
        }
        #[message("FETCH")]
        pub struct Fetch {
            #[serde(default = "ten")]
            pub limit: u32,
        }
        protocol! { pub P { client: [Fetch] } }
        crate::decoder!(Fetch);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        fn twenty() -> u32 {
            20
        }
        #[message("FETCH")]
        pub struct Fetch {
            #[serde(default = "twenty")]
            pub limit: u32,
        }
        protocol! { pub P { client: [Fetch] } }
        crate::decoder!(Fetch);
    }
    pub fn case() -> Case {
        Case::new(
            "client/default-value-changed",
            "a default changed from 10 to 20: accepted both ways, only the filled-in value differs",
            v!(v1),
            v!(v2),
        )
        .labels(OK, OK)
        .rules(&["field-default-changed"])
        .frame(Old, "FETCH", json!({}))
        .frame(New, "FETCH", json!({}))
        .frame(New, "FETCH", json!({"limit": 3}))
    }
}

mod max_length_narrowed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            #[validate(length(max = 100))]
            pub text: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            #[validate(length(max = 10))]
            pub text: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub fn case() -> Case {
        Case::new(
            "client/max-length-narrowed",
            "maxLength 100 → 10: old clients' long texts are rejected",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["constraint-narrowed"])
        .frame(
            Old,
            "POST",
            json!({"text": "a text of more than ten characters"}),
        )
        .frame(New, "POST", json!({"text": "short"}))
    }
}

mod max_length_widened {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            #[validate(length(max = 10))]
            pub text: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            #[validate(length(max = 100))]
            pub text: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub fn case() -> Case {
        Case::new(
            "client/max-length-widened",
            "maxLength 10 → 100: old servers reject new clients' longer texts",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["constraint-widened"])
        .frame(Old, "POST", json!({"text": "short"}))
        .frame(
            New,
            "POST",
            json!({"text": "a text of more than ten characters"}),
        )
    }
}

mod range_narrowed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("FETCH")]
        pub struct Fetch {
            #[validate(range(min = 1, max = 100))]
            pub limit: u32,
        }
        protocol! { pub P { client: [Fetch] } }
        crate::decoder!(Fetch);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("FETCH")]
        pub struct Fetch {
            #[validate(range(min = 1, max = 50))]
            pub limit: u32,
        }
        protocol! { pub P { client: [Fetch] } }
        crate::decoder!(Fetch);
    }
    pub fn case() -> Case {
        Case::new("client/range-narrowed", "maximum 100 → 50", v!(v1), v!(v2))
            .labels(BREAKS, OK)
            .rules(&["constraint-narrowed"])
            .frame(Old, "FETCH", json!({"limit": 80}))
            .frame(New, "FETCH", json!({"limit": 50}))
    }
}

mod pattern_added {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("RENAME")]
        pub struct Rename {
            pub name: String,
        }
        protocol! { pub P { client: [Rename] } }
        crate::decoder!(Rename);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("RENAME")]
        pub struct Rename {
            #[validate(pattern = "^[a-z]+$")]
            pub name: String,
        }
        protocol! { pub P { client: [Rename] } }
        crate::decoder!(Rename);
    }
    pub fn case() -> Case {
        Case::new(
            "client/pattern-added",
            "a pattern added: old clients' names in capitals are rejected",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["constraint-narrowed"])
        .frame(Old, "RENAME", json!({"name": "ANN"}))
        .frame(New, "RENAME", json!({"name": "ann"}))
    }
}

mod pattern_changed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("JOIN")]
        pub struct Join {
            #[validate(pattern = "^[a-z]+$")]
            pub room: String,
        }
        protocol! { pub P { client: [Join] } }
        crate::decoder!(Join);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("JOIN")]
        pub struct Join {
            #[validate(pattern = "^[a-z0-9]{3,}$")]
            pub room: String,
        }
        protocol! { pub P { client: [Join] } }
        crate::decoder!(Join);
    }
    pub fn case() -> Case {
        Case::new(
            "client/pattern-changed",
            "a pattern replaced by one that accepts some strings the old rejects and the reverse",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, BREAKS)
        .rules(&["constraint-changed"])
        .frame(Old, "JOIN", json!({"room": "ab"}))
        .frame(New, "JOIN", json!({"room": "room2"}))
    }
}

mod format_added {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("INVITE")]
        pub struct Invite {
            pub address: String,
        }
        protocol! { pub P { client: [Invite] } }
        crate::decoder!(Invite);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("INVITE")]
        pub struct Invite {
            #[validate(email)]
            pub address: String,
        }
        protocol! { pub P { client: [Invite] } }
        crate::decoder!(Invite);
    }
    pub fn case() -> Case {
        Case::new(
            "client/format-added",
            "`#[validate(email)]` added: addresses that are not e-mails are rejected",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["constraint-narrowed"])
        .frame(Old, "INVITE", json!({"address": "not an address"}))
        .frame(New, "INVITE", json!({"address": "ann@example.com"}))
    }
}

mod non_empty_added {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("TAG")]
        pub struct Tag {
            pub tags: Vec<String>,
        }
        protocol! { pub P { client: [Tag] } }
        crate::decoder!(Tag);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("TAG")]
        pub struct Tag {
            #[validate(non_empty)]
            pub tags: Vec<String>,
        }
        protocol! { pub P { client: [Tag] } }
        crate::decoder!(Tag);
    }
    pub fn case() -> Case {
        Case::new(
            "client/non-empty-added",
            "a list must now have an item (minItems 1)",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["constraint-narrowed"])
        .frame(Old, "TAG", json!({"tags": []}))
        .frame(New, "TAG", json!({"tags": ["a"]}))
    }
}

mod unknown_fields_rejected {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("POST", allow_unknown_fields)]
        pub struct Post {
            pub text: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub text: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub fn case() -> Case {
        Case::new(
            "client/unknown-fields-now-rejected",
            "`allow_unknown_fields` dropped: extra fields old clients send are now errors",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["unknown-fields-policy-changed"])
        .frame(Old, "POST", json!({"text": "hi", "client": "web 1.2"}))
        .frame(New, "POST", json!({"text": "hi"}))
    }
}

mod unknown_fields_allowed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub text: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("POST", allow_unknown_fields)]
        pub struct Post {
            pub text: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub fn case() -> Case {
        Case::new(
            "client/unknown-fields-now-allowed",
            "`allow_unknown_fields` added: new clients may send fields a strict old server rejects",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["unknown-fields-policy-changed"])
        .frame(Old, "POST", json!({"text": "hi"}))
        .frame(New, "POST", json!({"text": "hi", "client": "web 1.3"}))
    }
}

mod flattened_map_added {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub text: String,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub mod v2 {
        use std::collections::BTreeMap;
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub text: String,
            #[serde(flatten)]
            pub labels: BTreeMap<String, String>,
        }
        protocol! { pub P { client: [Post] } }
        crate::decoder!(Post);
    }
    pub fn case() -> Case {
        Case::new(
            "client/flattened-map-added",
            "a flattened map takes every other key: old servers reject those keys",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["unknown-fields-policy-changed"])
        .frame(Old, "POST", json!({"text": "hi"}))
        .frame(New, "POST", json!({"text": "hi", "lang": "en"}))
    }
}

mod nested_field_added_required {
    use super::*;
    pub mod v1 {
        use twinwire::{data, message, protocol};
        #[data]
        pub struct Item {
            pub name: String,
        }
        #[message("ORDER")]
        pub struct Order {
            pub items: Vec<Item>,
        }
        protocol! { pub P { client: [Order] } }
        crate::decoder!(Order);
    }
    pub mod v2 {
        use twinwire::{data, message, protocol};
        #[data]
        pub struct Item {
            pub name: String,
            pub qty: u32,
        }
        #[message("ORDER")]
        pub struct Order {
            pub items: Vec<Item>,
        }
        protocol! { pub P { client: [Order] } }
        crate::decoder!(Order);
    }
    pub fn case() -> Case {
        Case::new(
            "client/nested-field-added-required",
            "a required field in a `#[data]` type inside a list",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, BREAKS)
        .rules(&["field-added-required"])
        .frame(Old, "ORDER", json!({"items": [{"name": "tea"}]}))
        .frame(New, "ORDER", json!({"items": [{"name": "tea", "qty": 2}]}))
    }
}

mod tagged_variant_field_added {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("COMMAND")]
        #[serde(tag = "op")]
        pub enum Command {
            Start { speed: u8 },
            Stop,
        }
        protocol! { pub P { client: [Command] } }
        crate::decoder!(Command);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("COMMAND")]
        #[serde(tag = "op")]
        pub enum Command {
            Start { speed: u8, ramp_ms: u32 },
            Stop,
        }
        protocol! { pub P { client: [Command] } }
        crate::decoder!(Command);
    }
    pub fn case() -> Case {
        Case::new(
            "client/tagged-variant-field-added",
            "a required field in an internally tagged variant; serde ignores unknown fields there",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["field-added-required"])
        .frame(Old, "COMMAND", json!({"op": "Start", "speed": 3}))
        .frame(
            New,
            "COMMAND",
            json!({"op": "Start", "speed": 3, "rampMs": 10}),
        )
        .frame(New, "COMMAND", json!({"op": "Stop"}))
    }
}

mod map_value_type_changed {
    use super::*;
    pub mod v1 {
        use std::collections::BTreeMap;
        use twinwire::{message, protocol};
        #[message("SCORES")]
        pub struct Scores {
            pub by_user: BTreeMap<String, u32>,
        }
        protocol! { pub P { client: [Scores] } }
        crate::decoder!(Scores);
    }
    pub mod v2 {
        use std::collections::BTreeMap;
        use twinwire::{message, protocol};
        #[message("SCORES")]
        pub struct Scores {
            pub by_user: BTreeMap<String, String>,
        }
        protocol! { pub P { client: [Scores] } }
        crate::decoder!(Scores);
    }
    pub fn case() -> Case {
        Case::new(
            "client/map-value-type-changed",
            "a map's values became strings",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, BREAKS)
        .rules(&["field-type-changed"])
        .frame(Old, "SCORES", json!({"byUser": {"ann": 3}}))
        .frame(New, "SCORES", json!({"byUser": {"ann": "3"}}))
    }
}

mod tuple_grew {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("MOVE")]
        pub struct Move {
            pub to: (i32, i32),
        }
        protocol! { pub P { client: [Move] } }
        crate::decoder!(Move);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("MOVE")]
        pub struct Move {
            pub to: (i32, i32, i32),
        }
        protocol! { pub P { client: [Move] } }
        crate::decoder!(Move);
    }
    pub fn case() -> Case {
        Case::new(
            "client/tuple-grew",
            "a pair became a triple",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, BREAKS)
        .rules(&["field-type-changed"])
        .frame(Old, "MOVE", json!({"to": [1, 2]}))
        .frame(New, "MOVE", json!({"to": [1, 2, 3]}))
    }
}

mod list_became_set {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("TAG")]
        pub struct Tag {
            pub tags: Vec<String>,
        }
        protocol! { pub P { client: [Tag] } }
        crate::decoder!(Tag);
    }
    pub mod v2 {
        use std::collections::BTreeSet;
        use twinwire::{message, protocol};
        #[message("TAG")]
        pub struct Tag {
            pub tags: BTreeSet<String>,
        }
        protocol! { pub P { client: [Tag] } }
        crate::decoder!(Tag);
    }
    pub fn case() -> Case {
        Case::new(
            "client/list-became-set",
            "a Vec became a BTreeSet: serde folds duplicates instead of rejecting them",
            v!(v1),
            v!(v2),
        )
        .labels(OK, OK)
        .rules(&[])
        .frame(Old, "TAG", json!({"tags": ["a", "a"]}))
        .frame(New, "TAG", json!({"tags": ["a", "b"]}))
    }
}

mod recursive_field_added {
    use super::*;
    pub mod v1 {
        use twinwire::{data, message, protocol};
        #[data]
        pub struct Tree {
            pub name: String,
            pub children: Vec<Tree>,
        }
        #[message("PLANT")]
        pub struct Plant {
            pub root: Tree,
        }
        protocol! { pub P { client: [Plant] } }
        crate::decoder!(Plant);
    }
    pub mod v2 {
        use twinwire::{data, message, protocol};
        #[data]
        pub struct Tree {
            pub name: String,
            pub children: Vec<Tree>,
            #[serde(default)]
            pub weight: u32,
        }
        #[message("PLANT")]
        pub struct Plant {
            pub root: Tree,
        }
        protocol! { pub P { client: [Plant] } }
        crate::decoder!(Plant);
    }
    pub fn case() -> Case {
        Case::new(
            "client/recursive-field-added",
            "a defaulted field in a recursive type, sent two levels deep",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["field-added-with-default"])
        .frame(Old, "PLANT", json!({"root": {"name": "a", "children": [{"name": "b", "children": []}]}}))
        .frame(
            New,
            "PLANT",
            json!({"root": {"name": "a", "children": [{"name": "b", "children": [], "weight": 2}]}}),
        )
    }
}
