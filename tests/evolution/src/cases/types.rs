//! Types as a whole: renames that only touch generated code, a type shared by both
//! directions, and a rich protocol that does not change at all.

use super::prelude::*;

pub fn cases() -> Vec<Case> {
    vec![
        unchanged::case(),
        data_type_renamed::case(),
        message_type_renamed::case(),
        shared_type_field_added::case(),
        adjacent_content_renamed::case(),
    ]
}

mod unchanged {
    use super::*;
    pub mod v1 {
        use std::collections::BTreeMap;
        use twinwire::{data, message, protocol, rpc};
        #[data]
        pub struct Node {
            pub label: String,
            pub children: Vec<Node>,
        }
        #[data]
        #[serde(tag = "t", content = "c")]
        pub enum Part {
            Text(String),
            Tree(Node),
            Nothing,
        }
        #[message("EDIT")]
        pub struct Edit {
            #[validate(length(min = 1, max = 64))]
            pub doc: String,
            pub parts: Vec<Part>,
            pub meta: BTreeMap<String, u32>,
            #[serde(default)]
            pub dry_run: bool,
            pub note: Option<String>,
        }
        #[message("EDITED")]
        pub struct Edited {
            pub doc: String,
            pub version: u64,
        }
        #[rpc("OPEN", response = Edited)]
        pub struct Open {
            pub doc: String,
        }
        protocol! { pub P { client: [Edit], server: [Edited], rpc: [Open] } }
        crate::decoder!(Edit, Edited, Open);
    }
    pub mod v2 {
        use std::collections::BTreeMap;
        use twinwire::{data, message, protocol, rpc};
        #[data]
        pub struct Node {
            pub label: String,
            pub children: Vec<Node>,
        }
        #[data]
        #[serde(tag = "t", content = "c")]
        pub enum Part {
            Text(String),
            Tree(Node),
            Nothing,
        }
        #[message("EDIT")]
        pub struct Edit {
            #[validate(length(min = 1, max = 64))]
            pub doc: String,
            pub parts: Vec<Part>,
            pub meta: BTreeMap<String, u32>,
            #[serde(default)]
            pub dry_run: bool,
            pub note: Option<String>,
        }
        #[message("EDITED")]
        pub struct Edited {
            pub doc: String,
            pub version: u64,
        }
        #[rpc("OPEN", response = Edited)]
        pub struct Open {
            pub doc: String,
        }
        protocol! { pub P { client: [Edit], server: [Edited], rpc: [Open] } }
        crate::decoder!(Edit, Edited, Open);
    }
    pub fn case() -> Case {
        Case::new(
            "types/unchanged",
            "the same protocol twice (recursion, adjacent tagging, maps, defaults, an RPC)",
            v!(v1),
            v!(v2),
        )
        .labels(OK, OK)
        .rules(&[])
        .frame(
            Old,
            "EDIT",
            json!({"doc": "d", "parts": [{"t": "Tree", "c": {"label": "a", "children": []}}], "meta": {"x": 1}, "note": null}),
        )
        .frame(
            New,
            "EDIT",
            json!({"doc": "d", "parts": [{"t": "Text", "c": "hi"}, {"t": "Nothing"}], "meta": {}, "dryRun": true}),
        )
        .call(Old, "OPEN", json!({"doc": "d"}), json!({"doc": "d", "version": 2}))
        .call(New, "OPEN", json!({"doc": "d"}), json!({"doc": "d", "version": 2}))
    }
}

mod data_type_renamed {
    use super::*;
    pub mod v1 {
        use twinwire::{data, message, protocol};
        #[data]
        pub struct Link {
            pub url: String,
        }
        #[message("SHARE")]
        pub struct Share {
            pub link: Link,
        }
        protocol! { pub P { client: [Share] } }
        crate::decoder!(Share);
    }
    pub mod v2 {
        use twinwire::{data, message, protocol};
        #[data]
        pub struct Href {
            pub url: String,
        }
        #[message("SHARE")]
        pub struct Share {
            pub link: Href,
        }
        protocol! { pub P { client: [Share] } }
        crate::decoder!(Share);
    }
    pub fn case() -> Case {
        Case::new(
            "types/data-type-renamed",
            "a `#[data]` type renamed in Rust: generated names change, frames do not",
            v!(v1),
            v!(v2),
        )
        .labels(OK, OK)
        .rules(&["type-name-changed"])
        .frame(Old, "SHARE", json!({"link": {"url": "u"}}))
        .frame(New, "SHARE", json!({"link": {"url": "u"}}))
    }
}

mod message_type_renamed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Post {
            pub text: String,
        }
        #[message("POSTED")]
        pub struct Posted {
            pub id: u32,
        }
        protocol! { pub P { client: [Post], server: [Posted] } }
        crate::decoder!(Post, Posted);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Publish {
            pub text: String,
        }
        #[message("POSTED")]
        pub struct Published {
            pub id: u32,
        }
        protocol! { pub P { client: [Publish], server: [Published] } }
        crate::decoder!(Publish, Published);
    }
    pub fn case() -> Case {
        Case::new(
            "types/message-type-renamed",
            "message structs renamed in Rust, wire types kept",
            v!(v1),
            v!(v2),
        )
        .labels(OK, OK)
        .rules(&["type-name-changed"])
        .frame(Old, "POST", json!({"text": "hi"}))
        .frame(New, "POST", json!({"text": "hi"}))
        .frame(New, "POSTED", json!({"id": 1}))
        .frame(Old, "POSTED", json!({"id": 1}))
    }
}

mod shared_type_field_added {
    use super::*;
    pub mod v1 {
        use twinwire::{data, message, protocol};
        #[data]
        pub struct Profile {
            pub name: String,
        }
        #[message("UPDATE_PROFILE")]
        pub struct UpdateProfile {
            pub profile: Profile,
        }
        #[message("PROFILE")]
        pub struct ProfileIs {
            pub profile: Profile,
        }
        protocol! { pub P { client: [UpdateProfile], server: [ProfileIs] } }
        crate::decoder!(UpdateProfile, ProfileIs);
    }
    pub mod v2 {
        use twinwire::{data, message, protocol};
        #[data]
        pub struct Profile {
            pub name: String,
            pub bio: Option<String>,
        }
        #[message("UPDATE_PROFILE")]
        pub struct UpdateProfile {
            pub profile: Profile,
        }
        #[message("PROFILE")]
        pub struct ProfileIs {
            pub profile: Profile,
        }
        protocol! { pub P { client: [UpdateProfile], server: [ProfileIs] } }
        crate::decoder!(UpdateProfile, ProfileIs);
    }
    pub fn case() -> Case {
        Case::new(
            "types/shared-type-field-added",
            "an Option added to a type both directions use: only the strict old server objects",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["field-added-optional", "type-name-changed"])
        .frame(Old, "UPDATE_PROFILE", json!({"profile": {"name": "ann"}}))
        .frame(
            New,
            "PROFILE",
            json!({"profile": {"name": "ann", "bio": "hi"}}),
        )
        .frame(
            New,
            "UPDATE_PROFILE",
            json!({"profile": {"name": "ann", "bio": "hi"}}),
        )
        .frame(Old, "PROFILE", json!({"profile": {"name": "ann"}}))
    }
}

mod adjacent_content_renamed {
    use super::*;
    pub mod v1 {
        use twinwire::{data, message, protocol};
        #[data]
        #[serde(tag = "t", content = "c")]
        pub enum Value {
            Text(String),
            Count(u32),
        }
        #[message("SET")]
        pub struct Set {
            pub value: Value,
        }
        protocol! { pub P { server: [Set] } }
        crate::decoder!(Set);
    }
    pub mod v2 {
        use twinwire::{data, message, protocol};
        #[data]
        #[serde(tag = "t", content = "data")]
        pub enum Value {
            Text(String),
            Count(u32),
        }
        #[message("SET")]
        pub struct Set {
            pub value: Value,
        }
        protocol! { pub P { server: [Set] } }
        crate::decoder!(Set);
    }
    pub fn case() -> Case {
        Case::new(
            "types/adjacent-content-renamed",
            "an adjacently tagged enum's content key renamed from `c` to `data`",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, BREAKS)
        .rules(&["enum-representation-changed"])
        .frame(New, "SET", json!({"value": {"t": "Count", "data": 2}}))
        .frame(Old, "SET", json!({"value": {"t": "Count", "c": 2}}))
    }
}
