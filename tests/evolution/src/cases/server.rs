//! Fields of server → client messages, read by tolerant clients: unknown fields are ignored,
//! a missing `Option` reads as `None` and a missing defaulted field as its default.

use super::prelude::*;

pub fn cases() -> Vec<Case> {
    vec![
        field_added_required::case(),
        field_added_option::case(),
        field_added_with_default::case(),
        field_removed_required::case(),
        field_removed_option::case(),
        field_renamed::case(),
        field_type_changed::case(),
        option_became_required::case(),
        required_became_option::case(),
        skip_serializing_if_added::case(),
        max_length_narrowed::case(),
        max_length_widened::case(),
        integer_narrowed::case(),
        integer_became_float::case(),
        allow_unknown_fields_added::case(),
        nested_option_became_required::case(),
    ]
}

mod field_added_required {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("STATUS")]
        pub struct Status {
            pub online: bool,
        }
        protocol! { pub P { server: [Status] } }
        crate::decoder!(Status);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("STATUS")]
        pub struct Status {
            pub online: bool,
            pub since: u64,
        }
        protocol! { pub P { server: [Status] } }
        crate::decoder!(Status);
    }
    pub fn case() -> Case {
        Case::new(
            "server/field-added-required",
            "a required field: old clients ignore it, new clients need it from old servers",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["field-added-required"])
        .frame(New, "STATUS", json!({"online": true, "since": 5}))
        .frame(Old, "STATUS", json!({"online": true}))
    }
}

mod field_added_option {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("STATUS")]
        pub struct Status {
            pub online: bool,
        }
        protocol! { pub P { server: [Status] } }
        crate::decoder!(Status);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("STATUS")]
        pub struct Status {
            pub online: bool,
            pub away: Option<String>,
        }
        protocol! { pub P { server: [Status] } }
        crate::decoder!(Status);
    }
    pub fn case() -> Case {
        Case::new(
            "server/field-added-option",
            "an Option field added: new clients read it as None when an old server never sends it",
            v!(v1),
            v!(v2),
        )
        .labels(OK, OK)
        .rules(&["field-added-optional"])
        .frame(New, "STATUS", json!({"online": true, "away": "lunch"}))
        .frame(New, "STATUS", json!({"online": true}))
        .frame(Old, "STATUS", json!({"online": true}))
    }
}

mod field_added_with_default {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("STATUS")]
        pub struct Status {
            pub online: bool,
        }
        protocol! { pub P { server: [Status] } }
        crate::decoder!(Status);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("STATUS")]
        pub struct Status {
            pub online: bool,
            #[serde(default)]
            pub unread: u32,
        }
        protocol! { pub P { server: [Status] } }
        crate::decoder!(Status);
    }
    pub fn case() -> Case {
        Case::new(
            "server/field-added-with-default",
            "a defaulted field: new clients fill in the default when an old server omits it",
            v!(v1),
            v!(v2),
        )
        .labels(OK, OK)
        .rules(&["field-added-with-default"])
        .frame(New, "STATUS", json!({"online": true, "unread": 4}))
        .frame(Old, "STATUS", json!({"online": false}))
    }
}

mod field_removed_required {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("STATUS")]
        pub struct Status {
            pub online: bool,
            pub mood: String,
        }
        protocol! { pub P { server: [Status] } }
        crate::decoder!(Status);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("STATUS")]
        pub struct Status {
            pub online: bool,
        }
        protocol! { pub P { server: [Status] } }
        crate::decoder!(Status);
    }
    pub fn case() -> Case {
        Case::new(
            "server/field-removed-required",
            "a required field removed: old clients still need it",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["field-removed"])
        .frame(New, "STATUS", json!({"online": true}))
        .frame(Old, "STATUS", json!({"online": true, "mood": "fine"}))
    }
}

mod field_removed_option {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("STATUS")]
        pub struct Status {
            pub online: bool,
            pub away: Option<String>,
        }
        protocol! { pub P { server: [Status] } }
        crate::decoder!(Status);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("STATUS")]
        pub struct Status {
            pub online: bool,
        }
        protocol! { pub P { server: [Status] } }
        crate::decoder!(Status);
    }
    pub fn case() -> Case {
        Case::new(
            "server/field-removed-option",
            "an Option field removed: old clients read the missing field as None",
            v!(v1),
            v!(v2),
        )
        .labels(OK, OK)
        .rules(&["field-removed"])
        .frame(New, "STATUS", json!({"online": true}))
        .frame(Old, "STATUS", json!({"online": true, "away": "lunch"}))
    }
}

mod field_renamed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("STATUS")]
        pub struct Status {
            pub online: bool,
            pub mood: String,
        }
        protocol! { pub P { server: [Status] } }
        crate::decoder!(Status);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("STATUS")]
        pub struct Status {
            pub online: bool,
            pub feeling: String,
        }
        protocol! { pub P { server: [Status] } }
        crate::decoder!(Status);
    }
    pub fn case() -> Case {
        Case::new(
            "server/field-renamed",
            "a required field renamed: each client misses the name it needs",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, BREAKS)
        .rules(&["field-renamed"])
        .frame(New, "STATUS", json!({"online": true, "feeling": "fine"}))
        .frame(Old, "STATUS", json!({"online": true, "mood": "fine"}))
    }
}

mod field_type_changed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("COUNT")]
        pub struct Count {
            pub total: u32,
        }
        protocol! { pub P { server: [Count] } }
        crate::decoder!(Count);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("COUNT")]
        pub struct Count {
            pub total: String,
        }
        protocol! { pub P { server: [Count] } }
        crate::decoder!(Count);
    }
    pub fn case() -> Case {
        Case::new(
            "server/field-type-changed",
            "an integer field became a string",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, BREAKS)
        .rules(&["field-type-changed"])
        .frame(New, "COUNT", json!({"total": "3"}))
        .frame(Old, "COUNT", json!({"total": 3}))
    }
}

mod option_became_required {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("STATUS")]
        pub struct Status {
            pub away: Option<String>,
        }
        protocol! { pub P { server: [Status] } }
        crate::decoder!(Status);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("STATUS")]
        pub struct Status {
            pub away: String,
        }
        protocol! { pub P { server: [Status] } }
        crate::decoder!(Status);
    }
    pub fn case() -> Case {
        Case::new(
            "server/option-became-required",
            "Option<String> became String: new clients reject the absent field old servers send for None",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["field-optionality-changed"])
        .frame(New, "STATUS", json!({"away": "lunch"}))
        .frame(Old, "STATUS", json!({}))
    }
}

mod required_became_option {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("STATUS")]
        pub struct Status {
            pub away: String,
        }
        protocol! { pub P { server: [Status] } }
        crate::decoder!(Status);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("STATUS")]
        pub struct Status {
            pub away: Option<String>,
        }
        protocol! { pub P { server: [Status] } }
        crate::decoder!(Status);
    }
    pub fn case() -> Case {
        Case::new(
            "server/required-became-option",
            "String became Option<String>: old clients require the field new servers leave out for None",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["field-optionality-changed"])
        .frame(New, "STATUS", json!({}))
        .frame(Old, "STATUS", json!({"away": "lunch"}))
    }
}

mod skip_serializing_if_added {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("PROFILE")]
        pub struct Profile {
            pub nickname: String,
        }
        protocol! { pub P { server: [Profile] } }
        crate::decoder!(Profile);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("PROFILE")]
        pub struct Profile {
            #[serde(default, skip_serializing_if = "String::is_empty")]
            pub nickname: String,
        }
        protocol! { pub P { server: [Profile] } }
        crate::decoder!(Profile);
    }
    pub fn case() -> Case {
        Case::new(
            "server/skip-serializing-if-added",
            "an empty nickname is no longer sent: old clients require the field",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["field-optionality-changed"])
        .frame(New, "PROFILE", json!({}))
        .frame(Old, "PROFILE", json!({"nickname": ""}))
    }
}

mod max_length_narrowed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("MOTD")]
        pub struct Motd {
            #[validate(length(max = 100))]
            pub text: String,
        }
        protocol! { pub P { server: [Motd] } }
        crate::decoder!(Motd);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("MOTD")]
        pub struct Motd {
            #[validate(length(max = 10))]
            pub text: String,
        }
        protocol! { pub P { server: [Motd] } }
        crate::decoder!(Motd);
    }
    pub fn case() -> Case {
        Case::new(
            "server/max-length-narrowed",
            "maxLength 100 → 10: new clients reject what old servers still send",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["constraint-narrowed"])
        .frame(New, "MOTD", json!({"text": "short"}))
        .frame(
            Old,
            "MOTD",
            json!({"text": "a text of more than ten characters"}),
        )
    }
}

mod max_length_widened {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("MOTD")]
        pub struct Motd {
            #[validate(length(max = 10))]
            pub text: String,
        }
        protocol! { pub P { server: [Motd] } }
        crate::decoder!(Motd);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("MOTD")]
        pub struct Motd {
            #[validate(length(max = 100))]
            pub text: String,
        }
        protocol! { pub P { server: [Motd] } }
        crate::decoder!(Motd);
    }
    pub fn case() -> Case {
        Case::new(
            "server/max-length-widened",
            "maxLength 10 → 100: old clients reject the longer texts",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["constraint-widened"])
        .frame(
            New,
            "MOTD",
            json!({"text": "a text of more than ten characters"}),
        )
        .frame(Old, "MOTD", json!({"text": "short"}))
    }
}

mod integer_narrowed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("PROGRESS")]
        pub struct Progress {
            pub done: u32,
        }
        protocol! { pub P { server: [Progress] } }
        crate::decoder!(Progress);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("PROGRESS")]
        pub struct Progress {
            pub done: u8,
        }
        protocol! { pub P { server: [Progress] } }
        crate::decoder!(Progress);
    }
    pub fn case() -> Case {
        Case::new(
            "server/integer-narrowed",
            "a u32 became a u8: new clients reject 300 from an old server",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["constraint-narrowed"])
        .frame(New, "PROGRESS", json!({"done": 200}))
        .frame(Old, "PROGRESS", json!({"done": 300}))
    }
}

mod integer_became_float {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("SCORE")]
        pub struct Score {
            pub value: u32,
        }
        protocol! { pub P { server: [Score] } }
        crate::decoder!(Score);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("SCORE")]
        pub struct Score {
            pub value: f64,
        }
        protocol! { pub P { server: [Score] } }
        crate::decoder!(Score);
    }
    pub fn case() -> Case {
        Case::new(
            "server/integer-became-float",
            "a u32 became an f64: old clients reject 1.5",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["field-type-changed"])
        .frame(New, "SCORE", json!({"value": 1.5}))
        .frame(Old, "SCORE", json!({"value": 3}))
    }
}

mod allow_unknown_fields_added {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("STATUS")]
        pub struct Status {
            pub online: bool,
        }
        protocol! { pub P { server: [Status] } }
        crate::decoder!(Status);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("STATUS", allow_unknown_fields)]
        pub struct Status {
            pub online: bool,
        }
        protocol! { pub P { server: [Status] } }
        crate::decoder!(Status);
    }
    pub fn case() -> Case {
        Case::new(
            "server/allow-unknown-fields-added",
            "a server message allows unknown fields: clients ignore unknown fields anyway",
            v!(v1),
            v!(v2),
        )
        .labels(OK, OK)
        .rules(&["unknown-fields-policy-changed"])
        .frame(New, "STATUS", json!({"online": true}))
        .frame(Old, "STATUS", json!({"online": false}))
    }
}

mod nested_option_became_required {
    use super::*;
    pub mod v1 {
        use twinwire::{data, message, protocol};
        #[data]
        pub struct Link {
            pub url: String,
        }
        #[message("CHAT")]
        pub struct Chat {
            pub text: String,
            pub link: Option<Link>,
        }
        protocol! { pub P { server: [Chat] } }
        crate::decoder!(Chat);
    }
    pub mod v2 {
        use twinwire::{data, message, protocol};
        #[data]
        pub struct Link {
            pub url: String,
        }
        #[message("CHAT")]
        pub struct Chat {
            pub text: String,
            pub link: Link,
        }
        protocol! { pub P { server: [Chat] } }
        crate::decoder!(Chat);
    }
    pub fn case() -> Case {
        Case::new(
            "server/nested-option-became-required",
            "Option<Link> became Link: new clients reject the absent link old servers send for None",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["field-optionality-changed"])
        .frame(New, "CHAT", json!({"text": "hi", "link": {"url": "u"}}))
        .frame(Old, "CHAT", json!({"text": "hi"}))
    }
}
