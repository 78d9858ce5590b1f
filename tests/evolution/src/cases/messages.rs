//! Whole messages and RPCs: added, removed, renamed, turned around, payload gained or lost.

use super::prelude::*;

pub fn cases() -> Vec<Case> {
    vec![
        client_message_added::case(),
        server_message_added::case(),
        client_message_removed::case(),
        server_message_removed::case(),
        client_wire_type_renamed::case(),
        server_wire_type_renamed::case(),
        direction_changed::case(),
        payload_added::case(),
        payload_removed::case(),
        rpc_removed::case(),
        rpc_became_message::case(),
        message_became_rpc::case(),
        rpc_response_changed::case(),
        rpc_response_field_added::case(),
    ]
}

mod client_message_added {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("HELLO")]
        pub struct Hello {
            pub name: String,
        }
        protocol! { pub P { client: [Hello] } }
        crate::decoder!(Hello);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("HELLO")]
        pub struct Hello {
            pub name: String,
        }
        #[message("BYE")]
        pub struct Bye {
            pub reason: String,
        }
        protocol! { pub P { client: [Hello, Bye] } }
        crate::decoder!(Hello, Bye);
    }
    pub fn case() -> Case {
        Case::new(
            "message/client-added",
            "a new client message: an old server answers it UNIMPLEMENTED",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["message-added"])
        .frame(Old, "HELLO", json!({"name": "ann"}))
        .frame(New, "BYE", json!({"reason": "done"}))
    }
}

mod server_message_added {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("WELCOME")]
        pub struct Welcome {
            pub text: String,
        }
        protocol! { pub P { server: [Welcome] } }
        crate::decoder!(Welcome);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("WELCOME")]
        pub struct Welcome {
            pub text: String,
        }
        #[message("NEWS")]
        pub struct News {
            pub headline: String,
        }
        protocol! { pub P { server: [Welcome, News] } }
        crate::decoder!(Welcome, News);
    }
    pub fn case() -> Case {
        Case::new(
            "message/server-added",
            "a new server message: old clients ignore the unknown type",
            v!(v1),
            v!(v2),
        )
        .labels(OK, OK)
        .rules(&["message-added"])
        .frame(New, "NEWS", json!({"headline": "hi"}))
        .frame(New, "WELCOME", json!({"text": "hi"}))
        .frame(Old, "WELCOME", json!({"text": "hi"}))
    }
}

mod client_message_removed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("HELLO")]
        pub struct Hello {
            pub name: String,
        }
        #[message("BYE")]
        pub struct Bye {
            pub reason: String,
        }
        protocol! { pub P { client: [Hello, Bye] } }
        crate::decoder!(Hello, Bye);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("HELLO")]
        pub struct Hello {
            pub name: String,
        }
        protocol! { pub P { client: [Hello] } }
        crate::decoder!(Hello);
    }
    pub fn case() -> Case {
        Case::new(
            "message/client-removed",
            "a client message removed: the new server answers old clients UNIMPLEMENTED",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["message-removed"])
        .frame(Old, "BYE", json!({"reason": "done"}))
        .frame(New, "HELLO", json!({"name": "ann"}))
    }
}

mod server_message_removed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("WELCOME")]
        pub struct Welcome {
            pub text: String,
        }
        #[message("NEWS")]
        pub struct News {
            pub headline: String,
        }
        protocol! { pub P { server: [Welcome, News] } }
        crate::decoder!(Welcome, News);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("WELCOME")]
        pub struct Welcome {
            pub text: String,
        }
        protocol! { pub P { server: [Welcome] } }
        crate::decoder!(Welcome);
    }
    pub fn case() -> Case {
        Case::new(
            "message/server-removed",
            "a server message removed: nothing rejects anything, old clients just stop getting it",
            v!(v1),
            v!(v2),
        )
        .labels(OK, OK)
        .rules(&["message-removed"])
        .frame(Old, "NEWS", json!({"headline": "hi"}))
        .frame(New, "WELCOME", json!({"text": "hi"}))
    }
}

mod client_wire_type_renamed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("SAY")]
        pub struct Say {
            pub text: String,
        }
        protocol! { pub P { client: [Say] } }
        crate::decoder!(Say);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("POST")]
        pub struct Say {
            pub text: String,
        }
        protocol! { pub P { client: [Say] } }
        crate::decoder!(Say);
    }
    pub fn case() -> Case {
        Case::new(
            "message/client-wire-type-renamed",
            "a client message's wire type renamed: each server knows only its own name",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, BREAKS)
        .rules(&["wire-type-renamed"])
        .frame(Old, "SAY", json!({"text": "hi"}))
        .frame(New, "POST", json!({"text": "hi"}))
    }
}

mod server_wire_type_renamed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("SAID")]
        pub struct Said {
            pub text: String,
        }
        protocol! { pub P { server: [Said] } }
        crate::decoder!(Said);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("POSTED")]
        pub struct Said {
            pub text: String,
        }
        protocol! { pub P { server: [Said] } }
        crate::decoder!(Said);
    }
    pub fn case() -> Case {
        Case::new(
            "message/server-wire-type-renamed",
            "a server message's wire type renamed: tolerant clients ignore the other name",
            v!(v1),
            v!(v2),
        )
        .labels(OK, OK)
        .rules(&["wire-type-renamed"])
        .frame(New, "POSTED", json!({"text": "hi"}))
        .frame(Old, "SAID", json!({"text": "hi"}))
    }
}

mod direction_changed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("HELLO")]
        pub struct Hello {
            pub name: String,
        }
        #[message("NOTE")]
        pub struct Note {
            pub text: String,
        }
        protocol! { pub P { client: [Hello, Note] } }
        crate::decoder!(Hello, Note);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("HELLO")]
        pub struct Hello {
            pub name: String,
        }
        #[message("NOTE")]
        pub struct Note {
            pub text: String,
        }
        protocol! { pub P { client: [Hello], server: [Note] } }
        crate::decoder!(Hello, Note);
    }
    pub fn case() -> Case {
        Case::new(
            "message/direction-changed",
            "a client message became a server message: the new server rejects it from old clients",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["direction-changed"])
        .frame(Old, "NOTE", json!({"text": "hi"}))
        .frame(New, "NOTE", json!({"text": "hi"}))
        .frame(New, "HELLO", json!({"name": "ann"}))
    }
}

mod payload_added {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("PING")]
        pub struct Ping;
        protocol! { pub P { client: [Ping] } }
        crate::decoder!(Ping);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("PING")]
        pub struct Ping {
            pub seq: u32,
        }
        protocol! { pub P { client: [Ping] } }
        crate::decoder!(Ping);
    }
    pub fn case() -> Case {
        Case::new(
            "message/payload-added",
            "a client message without payload got one: servers require exactly what they declare",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, BREAKS)
        .rules(&["payload-added"])
        .bare(Old, "PING")
        .frame(New, "PING", json!({"seq": 1}))
    }
}

mod payload_removed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("TICK")]
        pub struct Tick {
            pub n: u32,
        }
        protocol! { pub P { server: [Tick] } }
        crate::decoder!(Tick);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("TICK")]
        pub struct Tick;
        protocol! { pub P { server: [Tick] } }
        crate::decoder!(Tick);
    }
    pub fn case() -> Case {
        Case::new(
            "message/payload-removed",
            "a server message lost its payload: old clients need it, new clients ignore one",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["payload-removed"])
        .bare(New, "TICK")
        .frame(Old, "TICK", json!({"n": 1}))
    }
}

mod rpc_removed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol, rpc};
        #[message("HELLO")]
        pub struct Hello {
            pub name: String,
        }
        #[message("TIME")]
        pub struct Time {
            pub ms: u64,
        }
        #[rpc("GET_TIME", response = Time)]
        pub struct GetTime {
            pub zone: String,
        }
        protocol! { pub P { client: [Hello], rpc: [GetTime] } }
        crate::decoder!(Hello, Time, GetTime);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("HELLO")]
        pub struct Hello {
            pub name: String,
        }
        protocol! { pub P { client: [Hello] } }
        crate::decoder!(Hello);
    }
    pub fn case() -> Case {
        Case::new(
            "rpc/removed",
            "an RPC removed with its response: old clients' calls fail",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["rpc-removed", "message-removed"])
        .call(Old, "GET_TIME", json!({"zone": "utc"}), json!({"ms": 1}))
        .frame(New, "HELLO", json!({"name": "ann"}))
    }
}

mod rpc_became_message {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol, rpc};
        #[message("TIME")]
        pub struct Time {
            pub ms: u64,
        }
        #[rpc("GET_TIME", response = Time)]
        pub struct GetTime {
            pub zone: String,
        }
        protocol! { pub P { rpc: [GetTime] } }
        crate::decoder!(Time, GetTime);
    }
    pub mod v2 {
        use twinwire::{message, protocol};
        #[message("TIME")]
        pub struct Time {
            pub ms: u64,
        }
        #[message("GET_TIME")]
        pub struct GetTime {
            pub zone: String,
        }
        protocol! { pub P { client: [GetTime], server: [Time] } }
        crate::decoder!(Time, GetTime);
    }
    pub fn case() -> Case {
        Case::new(
            "rpc/became-message",
            "an RPC request became fire-and-forget: old clients wait for an answer that never comes",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, OK)
        .rules(&["rpc-removed"])
        .call(Old, "GET_TIME", json!({"zone": "utc"}), json!({"ms": 1}))
        .frame(New, "GET_TIME", json!({"zone": "utc"}))
        .frame(Old, "TIME", json!({"ms": 1}))
    }
}

mod message_became_rpc {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol};
        #[message("REFRESH")]
        pub struct Refresh {
            pub scope: String,
        }
        protocol! { pub P { client: [Refresh] } }
        crate::decoder!(Refresh);
    }
    pub mod v2 {
        use twinwire::{message, protocol, rpc};
        #[message("REFRESHED")]
        pub struct Refreshed {
            pub count: u32,
        }
        #[rpc("REFRESH", response = Refreshed)]
        pub struct Refresh {
            pub scope: String,
        }
        protocol! { pub P { rpc: [Refresh] } }
        crate::decoder!(Refresh, Refreshed);
    }
    pub fn case() -> Case {
        Case::new(
            "rpc/message-became-rpc",
            "a plain client message became an RPC: an old server never answers new clients' calls",
            v!(v1),
            v!(v2),
        )
        .labels(OK, BREAKS)
        .rules(&["rpc-added", "message-added"])
        .frame(Old, "REFRESH", json!({"scope": "all"}))
        .frame(New, "REFRESHED", json!({"count": 2}))
        .call(New, "REFRESH", json!({"scope": "all"}), json!({"count": 2}))
    }
}

mod rpc_response_changed {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol, rpc};
        #[message("FOUND")]
        pub struct Found {
            pub id: String,
        }
        #[rpc("LOOKUP", response = Found)]
        pub struct Lookup {
            pub query: String,
        }
        protocol! { pub P { rpc: [Lookup] } }
        crate::decoder!(Lookup, Found);
    }
    pub mod v2 {
        use twinwire::{message, protocol, rpc};
        #[message("FOUND_V2")]
        pub struct Found {
            pub id: String,
            pub name: String,
        }
        #[rpc("LOOKUP", response = Found)]
        pub struct Lookup {
            pub query: String,
        }
        protocol! { pub P { rpc: [Lookup] } }
        crate::decoder!(Lookup, Found);
    }
    pub fn case() -> Case {
        Case::new(
            "rpc/response-changed",
            "an RPC answered by another wire type: every client waits for its own",
            v!(v1),
            v!(v2),
        )
        .labels(BREAKS, BREAKS)
        .rules(&["rpc-response-changed", "message-added", "message-removed"])
        .call(
            Old,
            "LOOKUP",
            json!({"query": "a"}),
            json!({"id": "1", "name": "a"}),
        )
        .call(New, "LOOKUP", json!({"query": "a"}), json!({"id": "1"}))
    }
}

mod rpc_response_field_added {
    use super::*;
    pub mod v1 {
        use twinwire::{message, protocol, rpc};
        #[message("FOUND")]
        pub struct Found {
            pub id: String,
        }
        #[rpc("LOOKUP", response = Found)]
        pub struct Lookup {
            pub query: String,
        }
        protocol! { pub P { rpc: [Lookup] } }
        crate::decoder!(Lookup, Found);
    }
    pub mod v2 {
        use twinwire::{message, protocol, rpc};
        #[message("FOUND")]
        pub struct Found {
            pub id: String,
            pub note: Option<String>,
        }
        #[rpc("LOOKUP", response = Found)]
        pub struct Lookup {
            pub query: String,
        }
        protocol! { pub P { rpc: [Lookup] } }
        crate::decoder!(Lookup, Found);
    }
    pub fn case() -> Case {
        Case::new(
            "rpc/response-field-added-optional",
            "an Option added to an RPC response: old clients drop it, new clients read its absence as None",
            v!(v1),
            v!(v2),
        )
        .labels(OK, OK)
        .rules(&["field-added-optional"])
        .call(
            Old,
            "LOOKUP",
            json!({"query": "a"}),
            json!({"id": "1", "note": "x"}),
        )
        .call(
            Old,
            "LOOKUP",
            json!({"query": "a"}),
            json!({"id": "1"}),
        )
        .call(New, "LOOKUP", json!({"query": "a"}), json!({"id": "1"}))
    }
}
