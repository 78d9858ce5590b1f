//! What the README's "Declaring a protocol" promises beyond serde's shapes: every payload
//! type implements `Debug`, types from other crates travel in payloads with the recipes of
//! "Types from other crates", and `protocol!` marks its `server:` entries as
//! `ServerMessage`s (what the runtime sends; `tests/ui/` in the runtime shows the refusal).
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(missing_docs)]
use std::fmt;
use std::net::SocketAddr;

use serde_json::json;
use twinwire::{Direction, Message, Protocol, ServerMessage, Validate};

/// Stands in for a type of another crate: serde support of its own (as a `"major.minor"`
/// string), but no JSON Schema and no `Validate`, and no way to add `#[twinwire::data]`.
mod other_crate {
    use std::fmt;

    use serde::de::Error as _;

    #[derive(Clone, Debug, PartialEq)]
    pub struct Version {
        pub major: u32,
        pub minor: u32,
    }

    impl serde::Serialize for Version {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(self)
        }
    }

    impl<'de> serde::Deserialize<'de> for Version {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let text = String::deserialize(d)?;
            let (major, minor) = text
                .split_once('.')
                .ok_or_else(|| D::Error::custom("expected major.minor"))?;
            Ok(Version {
                major: major.parse().map_err(D::Error::custom)?,
                minor: minor.parse().map_err(D::Error::custom)?,
            })
        }
    }

    impl fmt::Display for Version {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{}.{}", self.major, self.minor)
        }
    }
}

/// Recipe 1: attributes on the field. `SocketAddr` has serde and JSON Schema support and
/// lacks only `Validate`; `Version` also lacks a schema, so it borrows `String`'s.
#[twinwire::message("CONNECT")]
#[derive(PartialEq)]
pub struct Connect {
    #[validate(skip)]
    pub address: SocketAddr,
    #[schemars(with = "String")]
    #[validate(skip)]
    pub client_version: other_crate::Version,
    pub versions: Vec<VersionOnWire>,
}

/// Recipe 2: a wrapper marked `#[data]`, reusable wherever the type appears (here inside a
/// `Vec`, where field attributes cannot reach).
#[twinwire::data]
#[derive(PartialEq)]
#[serde(transparent)]
pub struct VersionOnWire(
    #[schemars(with = "String")]
    #[validate(skip)]
    pub other_crate::Version,
);

/// Derives `Debug` itself, below the attribute: twinwire sees it and does not derive it again.
#[twinwire::data]
#[derive(Debug, Clone, PartialEq)]
pub struct DerivesItsOwn {
    pub n: u8,
}

/// Implements `Debug` by hand, and says so with `no_debug`.
#[twinwire::message("SECRET", no_debug)]
pub struct Secret {
    pub token: String,
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

#[twinwire::data]
#[serde(tag = "kind")]
pub enum Shape {
    Circle { radius: u32 },
    Dot,
}

#[twinwire::rpc("MEASURE", response = Measured)]
pub struct Measure {
    pub shape: Shape,
    pub own: DerivesItsOwn,
}

#[twinwire::message]
pub struct Measured;

/// Sent by clients in one protocol and by the server in another.
#[twinwire::message("RELAY")]
pub struct Relay {
    pub text: String,
}

twinwire::protocol! {
    pub Declaring {
        client: [Connect, Secret, Relay],
        // A response listed under `server:` too, so it can be sent on its own.
        server: [Measured],
        rpc: [Measure],
    }
}

twinwire::protocol! {
    pub Mirror {
        server: [Relay],
    }
}

fn version(major: u32, minor: u32) -> other_crate::Version {
    other_crate::Version { major, minor }
}

#[test]
fn types_from_other_crates_travel_with_either_recipe() {
    let connect = Connect {
        address: "127.0.0.1:8080".parse().unwrap(),
        client_version: version(1, 2),
        versions: vec![VersionOnWire(version(3, 4))],
    };
    let wire = serde_json::to_value(&connect).unwrap();
    assert_eq!(
        wire,
        json!({"address": "127.0.0.1:8080", "clientVersion": "1.2", "versions": ["3.4"]})
    );
    let back: Connect = serde_json::from_value(wire).unwrap();
    assert_eq!(back, connect);
    assert!(connect.validate().is_ok());

    // The schema describes what serde writes: strings.
    let manifest = Declaring::manifest().unwrap();
    let connect_def = &manifest.defs["Connect"]["properties"];
    assert_eq!(connect_def["address"]["type"], "string");
    assert_eq!(connect_def["clientVersion"], json!({"type": "string"}));
    assert_eq!(manifest.defs["VersionOnWire"]["type"], "string");
}

#[test]
fn payload_types_implement_debug() {
    let measure = Measure {
        shape: Shape::Circle { radius: 3 },
        own: DerivesItsOwn { n: 7 },
    };
    assert_eq!(
        format!("{measure:?}"),
        "Measure { shape: Circle { radius: 3 }, own: DerivesItsOwn { n: 7 } }"
    );
    assert_eq!(format!("{:?}", Shape::Dot), "Dot");
    assert_eq!(format!("{Measured:?}"), "Measured");
    assert_eq!(
        format!("{:?}", VersionOnWire(version(1, 0))),
        "VersionOnWire(Version { major: 1, minor: 0 })"
    );
    let secret = Secret {
        token: "hunter2".into(),
    };
    assert_eq!(format!("{secret:?}"), "Secret(..)");
}

fn server_sends<M: ServerMessage>() -> &'static str {
    M::WIRE_TYPE
}

#[test]
fn server_entries_are_server_messages_in_their_protocol() {
    // `server_sends::<Connect>()` would not compile: it is a client → server message.
    assert_eq!(server_sends::<Measured>(), "MEASURED");
    assert_eq!(server_sends::<Relay>(), "RELAY");
    let direction = |manifest: twinwire::Manifest| manifest.message("RELAY").map(|m| m.direction);
    assert_eq!(
        direction(Declaring::manifest().unwrap()),
        Some(Direction::Client)
    );
    assert_eq!(
        direction(Mirror::manifest().unwrap()),
        Some(Direction::Server)
    );
    assert_eq!(Relay::WIRE_TYPE, "RELAY");
}
