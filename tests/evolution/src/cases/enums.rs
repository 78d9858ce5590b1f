//! Enums: variants added and removed in both directions, representations changed, untagged
//! unions, fields inside tagged variants. Clients reject variants they do not know.

use super::prelude::*;

pub fn cases() -> Vec<Case> {
    vec![
        client_variant_added::case(),
        client_variant_removed::case(),
        server_variant_added::case(),
        server_variant_removed::case(),
        server_data_variant_added::case(),
        client_representation_changed::case(),
        server_tag_renamed::case(),
        client_untagged_member_added::case(),
        server_variant_field_added::case(),
        client_variant_renamed::case(),
        client_strict_variant_field_added::case(),
        server_newtype_content_changed::case(),
        server_unit_variant_got_fields::case(),
        client_unit_enum_got_data_variant::case(),
    ]
}

mod client_variant_added {
    use super::*;
    pub mod v1 {
        use twinwire::{data, message, protocol};
        #[data]
        pub enum Level {
            Low,
            High,
        }
        #[message("ALERT")]
        pub struct Alert {
            pub level: Level,
        }
        protocol! { pub P { client: [Alert] } }
        crate::decoder!(Alert);
    }
    pub mod v2 {
        use twinwire::{data, message, protocol};
        #[data]
        pub enum Level {
            Low,
            High,
            Critical,
        }
        #[message("ALERT")]
        pub struct Alert {
            pub level: Level,
        }
        protocol! { pub P { client: [Alert] } }
        crate::decoder!(Alert);
    }
    pub fn case() -> Case {
        Case::new(
            "enum/client-variant-added",
            "a unit variant added to a client enum: old servers reject it",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["enum-variant-added"])
        .frame(Old, "ALERT", json!({"level": "High"}))
        .frame(New, "ALERT", json!({"level": "Critical"}))
    }
}

mod client_variant_removed {
    use super::*;
    pub mod v1 {
        use twinwire::{data, message, protocol};
        #[data]
        pub enum Level {
            Low,
            High,
            Critical,
        }
        #[message("ALERT")]
        pub struct Alert {
            pub level: Level,
        }
        protocol! { pub P { client: [Alert] } }
        crate::decoder!(Alert);
    }
    pub mod v2 {
        use twinwire::{data, message, protocol};
        #[data]
        pub enum Level {
            Low,
            High,
        }
        #[message("ALERT")]
        pub struct Alert {
            pub level: Level,
        }
        protocol! { pub P { client: [Alert] } }
        crate::decoder!(Alert);
    }
    pub fn case() -> Case {
        Case::new(
            "enum/client-variant-removed",
            "a unit variant removed from a client enum: the new server rejects old clients using it",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["enum-variant-removed"])
        .frame(Old, "ALERT", json!({"level": "Critical"}))
        .frame(New, "ALERT", json!({"level": "Low"}))
    }
}

mod server_variant_added {
    use super::*;
    pub mod v1 {
        use twinwire::{data, message, protocol};
        #[data]
        #[serde(rename_all = "snake_case")]
        pub enum Presence {
            Online,
            Offline,
        }
        #[message("PRESENCE")]
        pub struct PresenceChanged {
            pub user: String,
            pub presence: Presence,
        }
        protocol! { pub P { server: [PresenceChanged] } }
        crate::decoder!(PresenceChanged);
    }
    pub mod v2 {
        use twinwire::{data, message, protocol};
        #[data]
        #[serde(rename_all = "snake_case")]
        pub enum Presence {
            Online,
            Offline,
            Away,
        }
        #[message("PRESENCE")]
        pub struct PresenceChanged {
            pub user: String,
            pub presence: Presence,
        }
        protocol! { pub P { server: [PresenceChanged] } }
        crate::decoder!(PresenceChanged);
    }
    pub fn case() -> Case {
        Case::new(
            "enum/server-variant-added",
            "a variant added to a server enum: old clients reject the unknown variant",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["enum-variant-added"])
        .frame(New, "PRESENCE", json!({"user": "ann", "presence": "away"}))
        .frame(
            Old,
            "PRESENCE",
            json!({"user": "ann", "presence": "online"}),
        )
    }
}

mod server_variant_removed {
    use super::*;
    pub mod v1 {
        use twinwire::{data, message, protocol};
        #[data]
        #[serde(rename_all = "snake_case")]
        pub enum Presence {
            Online,
            Offline,
            Away,
        }
        #[message("PRESENCE")]
        pub struct PresenceChanged {
            pub presence: Presence,
        }
        protocol! { pub P { server: [PresenceChanged] } }
        crate::decoder!(PresenceChanged);
    }
    pub mod v2 {
        use twinwire::{data, message, protocol};
        #[data]
        #[serde(rename_all = "snake_case")]
        pub enum Presence {
            Online,
            Offline,
        }
        #[message("PRESENCE")]
        pub struct PresenceChanged {
            pub presence: Presence,
        }
        protocol! { pub P { server: [PresenceChanged] } }
        crate::decoder!(PresenceChanged);
    }
    pub fn case() -> Case {
        Case::new(
            "enum/server-variant-removed",
            "a variant removed from a server enum: new clients reject it from old servers",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["enum-variant-removed"])
        .frame(New, "PRESENCE", json!({"presence": "offline"}))
        .frame(Old, "PRESENCE", json!({"presence": "away"}))
    }
}

mod server_data_variant_added {
    use super::*;
    pub mod v1 {
        use twinwire::{data, message, protocol};
        #[data]
        pub enum Shape {
            Circle(f64),
            Nothing,
        }
        #[message("DRAW")]
        pub struct Draw {
            pub shape: Shape,
        }
        protocol! { pub P { server: [Draw] } }
        crate::decoder!(Draw);
    }
    pub mod v2 {
        use twinwire::{data, message, protocol};
        #[data]
        pub enum Shape {
            Circle(f64),
            Rect { w: f64, h: f64 },
            Nothing,
        }
        #[message("DRAW")]
        pub struct Draw {
            pub shape: Shape,
        }
        protocol! { pub P { server: [Draw] } }
        crate::decoder!(Draw);
    }
    pub fn case() -> Case {
        Case::new(
            "enum/server-data-variant-added",
            "a struct variant added to an externally tagged server enum",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["enum-variant-added"])
        .frame(
            New,
            "DRAW",
            json!({"shape": {"Rect": {"w": 1.5, "h": 2.5}}}),
        )
        .frame(New, "DRAW", json!({"shape": {"Circle": 1.5}}))
        .frame(Old, "DRAW", json!({"shape": "Nothing"}))
    }
}

mod client_representation_changed {
    use super::*;
    pub mod v1 {
        use twinwire::{data, message, protocol};
        #[data]
        pub enum Action {
            Move { dx: i32 },
            Stop,
        }
        #[message("ACT")]
        pub struct Act {
            pub action: Action,
        }
        protocol! { pub P { client: [Act] } }
        crate::decoder!(Act);
    }
    pub mod v2 {
        use twinwire::{data, message, protocol};
        #[data]
        #[serde(tag = "kind")]
        pub enum Action {
            Move { dx: i32 },
            Stop,
        }
        #[message("ACT")]
        pub struct Act {
            pub action: Action,
        }
        protocol! { pub P { client: [Act] } }
        crate::decoder!(Act);
    }
    pub fn case() -> Case {
        Case::new(
            "enum/client-representation-changed",
            "an externally tagged enum became internally tagged",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, BREAKS)
        .rules(&["enum-representation-changed"])
        .frame(Old, "ACT", json!({"action": {"Move": {"dx": 1}}}))
        .frame(New, "ACT", json!({"action": {"kind": "Move", "dx": 1}}))
    }
}

mod server_tag_renamed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("EVENT")]
        #[serde(tag = "kind")]
        pub enum Event {
            Joined { user: String },
            Left { user: String, reason: String },
        }
        protocol! { pub P { server: [Event] } }
        crate::decoder!(Event);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("EVENT")]
        #[serde(tag = "type")]
        pub enum Event {
            Joined { user: String },
            Left { user: String, reason: String },
        }
        protocol! { pub P { server: [Event] } }
        crate::decoder!(Event);
    }
    pub fn case() -> Case {
        Case::new(
            "enum/server-tag-renamed",
            "an internally tagged message's tag renamed from `kind` to `type`",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, BREAKS)
        .rules(&["enum-representation-changed"])
        .frame(New, "EVENT", json!({"type": "Joined", "user": "ann"}))
        .frame(Old, "EVENT", json!({"kind": "Joined", "user": "ann"}))
    }
}

mod client_untagged_member_added {
    use super::*;
    pub mod v1 {
        use twinwire::{data, message, protocol};
        #[data]
        #[serde(untagged)]
        pub enum Setting {
            Number(f64),
            Text(String),
        }
        #[message("SET")]
        pub struct Set {
            pub key: String,
            pub value: Setting,
        }
        protocol! { pub P { client: [Set] } }
        crate::decoder!(Set);
    }
    pub mod v2 {
        use twinwire::{data, message, protocol};
        #[data]
        #[serde(untagged)]
        pub enum Setting {
            Number(f64),
            Text(String),
            Flag(bool),
        }
        #[message("SET")]
        pub struct Set {
            pub key: String,
            pub value: Setting,
        }
        protocol! { pub P { client: [Set] } }
        crate::decoder!(Set);
    }
    pub fn case() -> Case {
        Case::new(
            "enum/client-untagged-member-added",
            "a bool member added to an untagged union: old servers reject `true`",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["enum-variant-added"])
        .frame(Old, "SET", json!({"key": "k", "value": "v"}))
        .frame(Old, "SET", json!({"key": "k", "value": 2.5}))
        .frame(New, "SET", json!({"key": "k", "value": true}))
    }
}

mod server_variant_field_added {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("EVENT")]
        #[serde(tag = "kind")]
        pub enum Event {
            Joined { user: String },
            Left { user: String },
        }
        protocol! { pub P { server: [Event] } }
        crate::decoder!(Event);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("EVENT")]
        #[serde(tag = "kind")]
        pub enum Event {
            Joined { user: String, at_ms: Option<u64> },
            Left { user: String },
        }
        protocol! { pub P { server: [Event] } }
        crate::decoder!(Event);
    }
    pub fn case() -> Case {
        Case::new(
            "enum/server-variant-field-added",
            "an Option field added to a variant of an internally tagged server message",
            v!(v1),
            v!(v2),
        )
        .labels(OK, OK)
        .rules(&["field-added-optional"])
        .frame(
            New,
            "EVENT",
            json!({"kind": "Joined", "user": "ann", "atMs": 5}),
        )
        .frame(New, "EVENT", json!({"kind": "Left", "user": "ann"}))
        .frame(Old, "EVENT", json!({"kind": "Joined", "user": "ann"}))
    }
}

mod client_variant_renamed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("COMMAND")]
        #[serde(tag = "op", rename_all = "snake_case")]
        pub enum Command {
            Start { speed: u8 },
            Halt,
        }
        protocol! { pub P { client: [Command] } }
        crate::decoder!(Command);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("COMMAND")]
        #[serde(tag = "op", rename_all = "snake_case")]
        pub enum Command {
            Start { speed: u8 },
            Stop,
        }
        protocol! { pub P { client: [Command] } }
        crate::decoder!(Command);
    }
    pub fn case() -> Case {
        Case::new(
            "enum/client-variant-renamed",
            "a variant of a tagged client message renamed: a removal plus an addition",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, BREAKS)
        .rules(&["enum-variant-added", "enum-variant-removed"])
        .frame(Old, "COMMAND", json!({"op": "halt"}))
        .frame(New, "COMMAND", json!({"op": "stop"}))
        .frame(New, "COMMAND", json!({"op": "start", "speed": 1}))
    }
}

mod client_strict_variant_field_added {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("COMMAND")]
        #[serde(tag = "op", deny_unknown_fields)]
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
        #[serde(tag = "op", deny_unknown_fields)]
        pub enum Command {
            Start { speed: u8, ramp_ms: Option<u32> },
            Stop,
        }
        protocol! { pub P { client: [Command] } }
        crate::decoder!(Command);
    }
    pub fn case() -> Case {
        Case::new(
            "enum/client-strict-variant-field-added",
            "an Option field in a variant of a tagged enum that denies unknown fields",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["field-added-optional"])
        .frame(Old, "COMMAND", json!({"op": "Start", "speed": 3}))
        .frame(
            New,
            "COMMAND",
            json!({"op": "Start", "speed": 3, "rampMs": 10}),
        )
    }
}

mod server_newtype_content_changed {
    use super::*;
    pub mod v1 {
        use twinwire::{data, message, protocol};
        #[data]
        pub enum Shape {
            Circle(f64),
            Nothing,
        }
        #[message("DRAW")]
        pub struct Draw {
            pub shape: Shape,
        }
        protocol! { pub P { server: [Draw] } }
        crate::decoder!(Draw);
    }
    pub mod v2 {
        use twinwire::{data, message, protocol};
        #[data]
        pub enum Shape {
            Circle(u32),
            Nothing,
        }
        #[message("DRAW")]
        pub struct Draw {
            pub shape: Shape,
        }
        protocol! { pub P { server: [Draw] } }
        crate::decoder!(Draw);
    }
    pub fn case() -> Case {
        Case::new(
            "enum/server-newtype-content-changed",
            "a newtype variant's f64 became a u32: old clients read integers, new ones reject 1.5",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["field-type-changed"])
        .frame(New, "DRAW", json!({"shape": {"Circle": 2}}))
        .frame(Old, "DRAW", json!({"shape": {"Circle": 1.5}}))
    }
}

mod server_unit_variant_got_fields {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("EVENT")]
        #[serde(tag = "kind")]
        pub enum Event {
            Joined { user: String },
            Ping,
        }
        protocol! { pub P { server: [Event] } }
        crate::decoder!(Event);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("EVENT")]
        #[serde(tag = "kind")]
        pub enum Event {
            Joined { user: String },
            Ping { seq: u32 },
        }
        protocol! { pub P { server: [Event] } }
        crate::decoder!(Event);
    }
    pub fn case() -> Case {
        Case::new(
            "enum/server-unit-variant-got-fields",
            "a unit variant of a tagged server message became a struct variant",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["field-added-required"])
        .frame(New, "EVENT", json!({"kind": "Ping", "seq": 1}))
        .frame(Old, "EVENT", json!({"kind": "Ping"}))
    }
}

mod client_unit_enum_got_data_variant {
    use super::*;
    pub mod v1 {
        use twinwire::{data, message, protocol};
        #[data]
        pub enum Level {
            Low,
            High,
        }
        #[message("ALERT")]
        pub struct Alert {
            pub level: Level,
        }
        protocol! { pub P { client: [Alert] } }
        crate::decoder!(Alert);
    }
    pub mod v2 {
        use twinwire::{data, message, protocol};
        #[data]
        pub enum Level {
            Low,
            High,
            Custom(u8),
        }
        #[message("ALERT")]
        pub struct Alert {
            pub level: Level,
        }
        protocol! { pub P { client: [Alert] } }
        crate::decoder!(Alert);
    }
    pub fn case() -> Case {
        Case::new(
            "enum/client-unit-enum-got-data-variant",
            "a string enum gained a newtype variant (its schema changes from `enum` to `oneOf`)",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["enum-variant-added"])
        .frame(Old, "ALERT", json!({"level": "Low"}))
        .frame(New, "ALERT", json!({"level": {"Custom": 7}}))
    }
}
