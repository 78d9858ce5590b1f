//! The macros across serde's shapes: validation paths use serde's wire names, and the
//! manifest reflects what serde puts on the wire.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(missing_docs)]
use serde_json::{Value, json};
use twinwire::{Manifest, ManifestError, Message, Protocol, Validate};

fn paths<T: Validate>(value: &T) -> Vec<String> {
    match value.validate() {
        Ok(()) => vec![],
        Err(e) => e.issues().iter().map(|i| i.path.clone()).collect(),
    }
}

#[twinwire::data]
#[derive(Debug, PartialEq)]
pub struct Inner {
    #[validate(email)]
    pub contact_email: String,
}

#[twinwire::data]
#[derive(Debug, PartialEq)]
pub enum External {
    Unit,
    Newtype(Inner),
    Tuple(Inner, #[validate(range(max = 3))] u8),
    Struct {
        #[validate(non_empty)]
        item_names: Vec<String>,
    },
}

#[twinwire::data]
#[derive(Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Internal {
    NewtypeVariant(Inner),
    StructVariant {
        #[validate(length(max = 2))]
        short_name: String,
    },
}

#[twinwire::data]
#[derive(Debug, PartialEq)]
#[serde(tag = "t", content = "c")]
pub enum Adjacent {
    A(Inner),
    B {
        #[validate(uuid)]
        id: String,
    },
}

#[twinwire::data]
#[derive(Debug, PartialEq)]
#[serde(untagged)]
pub enum Untagged {
    Number(#[validate(range(min = 0))] i32),
    Object(Inner),
}

#[test]
fn enum_paths_follow_each_representation() {
    let bad = || Inner {
        contact_email: "nope".into(),
    };
    assert_eq!(paths(&External::Unit), Vec::<String>::new());
    assert_eq!(paths(&External::Newtype(bad())), ["/Newtype/contactEmail"]);
    assert_eq!(
        paths(&External::Tuple(bad(), 9)),
        ["/Tuple/0/contactEmail", "/Tuple/1"]
    );
    assert_eq!(
        paths(&External::Struct { item_names: vec![] }),
        ["/Struct/itemNames"]
    );
    assert_eq!(paths(&Internal::NewtypeVariant(bad())), ["/contactEmail"]);
    assert_eq!(
        paths(&Internal::StructVariant {
            short_name: "abc".into()
        }),
        ["/shortName"]
    );
    assert_eq!(paths(&Adjacent::A(bad())), ["/c/contactEmail"]);
    assert_eq!(paths(&Adjacent::B { id: "x".into() }), ["/c/id"]);
    assert_eq!(paths(&Untagged::Number(-1)), [""]);
    assert_eq!(paths(&Untagged::Object(bad())), ["/contactEmail"]);

    assert_eq!(
        serde_json::to_value(Internal::StructVariant {
            short_name: "ab".into()
        })
        .unwrap(),
        json!({"kind": "struct_variant", "shortName": "ab"})
    );
    assert_eq!(
        serde_json::to_value(External::Struct {
            item_names: vec!["x".into()]
        })
        .unwrap(),
        json!({"Struct": {"itemNames": ["x"]}})
    );
}

#[twinwire::data]
#[derive(Debug, PartialEq)]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
pub struct Renamed {
    #[validate(length(min = 1))]
    pub first_field: String,
    #[serde(rename = "explicit")]
    #[validate(length(min = 1))]
    pub second_field: String,
    #[serde(rename(serialize = "out", deserialize = "in"))]
    #[validate(length(min = 1))]
    pub third_field: String,
    #[serde(skip)]
    pub never_on_the_wire: u64,
}

#[test]
fn field_paths_use_serde_renames() {
    let value = Renamed {
        first_field: String::new(),
        second_field: String::new(),
        third_field: String::new(),
        never_on_the_wire: u64::MAX,
    };
    assert_eq!(paths(&value), ["/FIRST-FIELD", "/explicit", "/in"]);
}

#[twinwire::data(allow_unknown_fields)]
#[derive(Debug, PartialEq)]
pub struct Paging {
    #[validate(range(min = 1, max = 50))]
    pub page_size: u16,
}

#[twinwire::message("SEARCH")]
#[derive(Debug, PartialEq)]
pub struct Search {
    #[validate(pattern = "^[a-z]+$")]
    pub query: String,
    #[serde(flatten)]
    pub paging: Paging,
    pub tags: std::collections::BTreeMap<String, Inner>,
    #[validate(skip)]
    pub opaque: Opaque,
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Opaque(u8);

#[test]
fn flatten_keeps_the_parent_path_and_maps_use_keys() {
    let value = Search {
        query: "Not Lowercase".into(),
        paging: Paging { page_size: 0 },
        tags: [(
            "a/b".to_owned(),
            Inner {
                contact_email: "x".into(),
            },
        )]
        .into(),
        opaque: Opaque(1),
    };
    assert_eq!(
        paths(&value),
        ["/query", "/pageSize", "/tags/a~1b/contactEmail"]
    );
    let wire = json!({"query": "abc", "pageSize": 5, "tags": {}, "opaque": 1});
    let back: Search = serde_json::from_value(wire.clone()).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), wire);
}

/// A generic page of results.
#[twinwire::message("PAGE")]
#[derive(Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
}

/// Keep-alive without payload.
#[twinwire::message]
#[derive(Debug, PartialEq)]
pub struct PingNow;

#[twinwire::rpc("FIND", response = Page<Inner>)]
#[derive(Debug, PartialEq)]
pub struct Find {
    pub text: Option<String>,
}

twinwire::protocol! {
    /// Shapes.
    pub Shapes {
        client: [Search, PingNow],
        server: [],
        rpc: [Find],
    }
}

#[test]
fn unit_generic_and_default_named_messages() {
    assert_eq!(PingNow::WIRE_TYPE, "PING_NOW");
    const { assert!(!PingNow::HAS_PAYLOAD) };
    assert_eq!(PingNow::DOC, "Keep-alive without payload.");
    assert_eq!(<Page<Inner>>::WIRE_TYPE, "PAGE");
    let m = Shapes::manifest().unwrap();
    let ping = m.message("PING_NOW").unwrap();
    assert_eq!(ping.payload, None);
    let page = m.message("PAGE").unwrap();
    assert_eq!(page.rust_path, "shapes::Page<shapes::Inner>");
    assert_eq!(
        m.defs["Search"].get("additionalProperties"),
        None,
        "flatten disables strictness"
    );
    assert_eq!(
        m.defs["Search"]["properties"]["query"]["pattern"],
        "^[a-z]+$"
    );
    assert_eq!(m.defs["Find"]["required"], Value::Null);
}

mod one {
    #[twinwire::data]
    pub struct Item {
        pub a: u8,
    }
}
mod two {
    #[twinwire::data]
    pub struct Item {
        pub b: u8,
    }
}

#[twinwire::message("HAS_ITEMS")]
pub struct HasItems {
    pub first: one::Item,
    pub second: two::Item,
}

twinwire::protocol! {
    pub Colliding { client: [HasItems] }
}

#[test]
fn two_types_with_one_schema_name_are_an_error() {
    let err = Colliding::manifest().unwrap_err();
    assert!(matches!(err, ManifestError::SchemaNameCollision { ref name, .. } if name == "Item"));
    assert!(err.to_string().contains("#[schemars(rename"), "{err}");
}

mod dup {
    #[twinwire::message("SAME")]
    pub struct First {}
}
#[twinwire::message("SAME_TOO")]
pub struct Second {}

#[twinwire::message("RESP")]
pub struct Resp {}
#[twinwire::rpc("ASK", response = Resp)]
pub struct Ask {}

twinwire::protocol! {
    // A response may also be listed as a server message; it appears once.
    pub Shared { client: [dup::First, Second], server: [Resp], rpc: [Ask] }
}

#[test]
fn a_response_listed_as_server_message_appears_once() {
    let m: Manifest = Shared::manifest().unwrap();
    let kinds: Vec<_> = m.messages.iter().map(|m| m.wire_type.as_str()).collect();
    assert_eq!(kinds, ["SAME", "SAME_TOO", "RESP", "ASK"]);
}

#[twinwire::message("TAGGED")]
pub struct Tagged {
    #[validate(length(min = 1, max = 3))]
    pub tags: std::collections::BTreeMap<String, u32>,
    #[validate(length(max = 2))]
    pub maybe_tags: Option<std::collections::HashMap<String, bool>>,
    #[validate(length(min = 2))]
    pub names: Vec<String>,
}

/// A child whose two directions differ: the client may omit `note`, the server always sends it.
#[twinwire::data]
pub struct Child {
    pub note: Option<String>,
}

/// A parent whose own fields are the same both ways, but whose child differs.
#[twinwire::data]
pub struct Parent {
    pub child: Child,
}

#[twinwire::message("UP")]
pub struct Up {
    pub parent: Parent,
}

#[twinwire::message("DOWN")]
pub struct Down {
    pub parent: Parent,
}

/// A type whose Rust name is not ASCII.
#[twinwire::message("GRÖSSE")]
pub struct Größe {
    pub wert: u8,
}

twinwire::protocol! {
    pub Shapes2 { client: [Tagged, Up, Größe], server: [Down] }
}

fn def_of<'a>(m: &'a Manifest, kind: &str) -> &'a Value {
    let payload = m.message(kind).unwrap().payload.as_ref().unwrap();
    let name = twinwire::manifest::ref_target(payload["$ref"].as_str().unwrap()).unwrap();
    &m.defs[&name]
}

#[test]
fn length_on_maps_reaches_the_schema() {
    let m = Shapes2::manifest().unwrap();
    let props = &def_of(&m, "TAGGED")["properties"];
    assert_eq!(props["tags"]["minProperties"], 1);
    assert_eq!(props["tags"]["maxProperties"], 3);
    assert_eq!(props["maybeTags"]["maxProperties"], 2);
    // Arrays keep schemars' own keywords and get no object keywords.
    assert_eq!(props["names"]["minItems"], 2);
    assert!(props["names"].get("minProperties").is_none());
}

#[test]
fn a_difference_deep_in_a_shared_type_renames_every_parent() {
    let m = Shapes2::manifest().expect("a nested direction difference is not an error");
    // The server-side shapes keep their names; the client-side ones become `…Input`, and
    // the renaming reaches the parent whose own fields did not change.
    assert!(m.defs.contains_key("Child") && m.defs.contains_key("ChildInput"));
    assert!(m.defs.contains_key("Parent") && m.defs.contains_key("ParentInput"));
    assert_eq!(
        def_of(&m, "UP")["properties"]["parent"]["$ref"],
        "#/$defs/ParentInput"
    );
    assert_eq!(
        def_of(&m, "DOWN")["properties"]["parent"]["$ref"],
        "#/$defs/Parent"
    );
    assert_eq!(
        m.defs["ParentInput"]["properties"]["child"]["$ref"],
        "#/$defs/ChildInput"
    );
    assert_eq!(
        m.defs["Parent"]["properties"]["child"]["$ref"],
        "#/$defs/Child"
    );
    // The manifest survives its own JSON round trip (its `$ref`s all resolve).
    Manifest::from_json(&m.to_pretty_json()).unwrap();
}

#[test]
fn non_ascii_type_names_build_a_manifest() {
    let m = Shapes2::manifest().expect("a non-ASCII type name is fine");
    assert_eq!(
        def_of(&m, "GRÖSSE")["properties"]["wert"]["type"],
        "integer"
    );
    Manifest::from_json(&m.to_pretty_json()).unwrap();
}

macro_rules! declare_message {
    ($name:ident, $kind:literal, $field:ident: $ty:ty) => {
        #[twinwire::message($kind)]
        pub struct $name {
            #[validate(length(min = 1))]
            pub text: String,
            #[validate(range(max = 9))]
            pub $field: $ty,
        }
    };
}

declare_message!(FromMacro, "FROM_MACRO", count: u8);

macro_rules! declare_enum {
    ($name:ident, $variant:ident, $field:ident) => {
        #[twinwire::data]
        #[serde(tag = "kind")]
        pub enum $name {
            $variant {
                #[validate(length(min = 1))]
                $field: String,
            },
            Other,
        }

        #[twinwire::message("WRAPPED")]
        pub struct Wrapped {
            pub inner: $name,
            pub list: Vec<$name>,
        }
    };
}

declare_enum!(Figure, Circle, label);

#[test]
fn messages_can_be_declared_inside_macro_rules() {
    assert_eq!(FromMacro::WIRE_TYPE, "FROM_MACRO");
    let bad = FromMacro {
        text: String::new(),
        count: 10,
    };
    assert_eq!(paths(&bad), ["/text", "/count"]);
    let wrapped = Wrapped {
        inner: Figure::Circle {
            label: String::new(),
        },
        list: vec![
            Figure::Other,
            Figure::Circle {
                label: String::new(),
            },
        ],
    };
    assert_eq!(paths(&wrapped), ["/inner/label", "/list/1/label"]);
}

#[twinwire::message("MEASURED")]
#[derive(Debug, PartialEq)]
pub struct Measured {
    pub value: f64,
}

#[test]
fn float_payloads_survive_a_json_round_trip() {
    // Found by the chat_payloads fuzz target: without serde_json's exact float parser this
    // value came back one unit in the last place off.
    for value in [2.225_073_717_014_402_8e-308, 0.1, 1e300, -5e-324, f64::MAX] {
        let sent = Measured { value };
        let text = serde_json::to_string(&sent).unwrap();
        let received: Measured = serde_json::from_str(&text).unwrap();
        assert_eq!(received, sent, "{text}");
    }
}
