//! Typed meta: `#[data(meta)]` types, `#[message(meta = T)]`, and what the manifest says.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(missing_docs)]
use serde_json::{Value, json};
use twinwire::manifest::{BASE_FORMAT_VERSION, FORMAT_VERSION};
use twinwire::{Manifest, Message, MetaFields, Protocol, Validate};

/// Tracing keys a client attaches to its frames.
#[twinwire::data(meta)]
#[derive(Debug, PartialEq)]
pub struct TraceMeta {
    /// The trace this frame belongs to.
    #[validate(length(min = 1, max = 64))]
    pub trace_id: String,
    /// Sampling priority.
    #[validate(range(max = 10))]
    pub priority: Option<u8>,
}

/// A ping carrying trace meta.
#[twinwire::message("PING", meta = TraceMeta)]
#[derive(Debug, PartialEq)]
pub struct Ping {
    pub n: u32,
}

/// A request carrying trace meta.
#[twinwire::rpc("LOOKUP", response = Found, meta = TraceMeta)]
pub struct Lookup {
    pub key: String,
}

/// The answer, with its own meta.
#[twinwire::message("FOUND", meta = ServerMeta)]
pub struct Found {
    pub value: String,
}

/// Meta the server sets.
#[twinwire::data(meta)]
pub struct ServerMeta {
    pub region: String,
}

/// No meta.
#[twinwire::message("PLAIN")]
pub struct Plain {}

twinwire::protocol! {
    pub Traced {
        client: [Ping, Plain],
        server: [],
        rpc: [Lookup],
    }
}

twinwire::protocol! {
    pub Untraced {
        client: [Plain],
        server: [],
    }
}

#[test]
fn meta_types_are_declared_or_unit() {
    const { assert!(<TraceMeta as MetaFields>::DECLARED) };
    const { assert!(!<() as MetaFields>::DECLARED) };
    fn meta_of<M: Message>() -> &'static str {
        std::any::type_name::<M::Meta>()
    }
    assert!(meta_of::<Ping>().ends_with("TraceMeta"));
    assert_eq!(meta_of::<Plain>(), "()");
}

#[test]
fn meta_types_ignore_keys_they_do_not_declare_and_validate_like_payloads() {
    let meta: TraceMeta = serde_json::from_value(json!({
        "traceId": "t-1", "priority": 3, "somethingElse": true
    }))
    .unwrap();
    assert_eq!(meta.trace_id, "t-1");
    assert_eq!(meta.priority, Some(3));
    let err = serde_json::from_value::<TraceMeta>(json!({"priority": 3})).unwrap_err();
    assert!(err.to_string().contains("traceId"), "{err}");
    let bad = TraceMeta {
        trace_id: String::new(),
        priority: Some(11),
    };
    let issues = bad.validate().unwrap_err();
    let paths: Vec<_> = issues.issues().iter().map(|i| i.path.as_str()).collect();
    assert_eq!(paths, ["/traceId", "/priority"]);
}

#[test]
fn the_manifest_holds_each_messages_meta_schema() {
    let manifest = Traced::manifest().unwrap();
    assert_eq!(manifest.format, FORMAT_VERSION);
    let meta_of = |t: &str| manifest.message(t).unwrap().meta.clone();
    assert_eq!(meta_of("PING"), Some(json!({"$ref": "#/$defs/TraceMeta"})));
    assert_eq!(
        meta_of("LOOKUP"),
        Some(json!({"$ref": "#/$defs/TraceMeta"}))
    );
    assert_eq!(
        meta_of("FOUND"),
        Some(json!({"$ref": "#/$defs/ServerMeta"}))
    );
    assert_eq!(meta_of("PLAIN"), None);
    let def = &manifest.defs["TraceMeta"];
    assert_eq!(def["required"], json!(["traceId"]));
    assert_eq!(def["properties"]["traceId"]["maxLength"], json!(64));
    assert_eq!(
        def.get("additionalProperties"),
        None,
        "meta shares its object with the standard keys"
    );
    // The manifest reads back, meta included.
    let text = manifest.to_pretty_json();
    assert_eq!(Manifest::from_json(&text).unwrap(), manifest);
}

#[test]
fn a_protocol_without_typed_meta_keeps_the_base_format_and_writes_no_meta_key() {
    let manifest = Untraced::manifest().unwrap();
    assert_eq!(manifest.format, BASE_FORMAT_VERSION);
    let value: Value = serde_json::from_str(&manifest.to_pretty_json()).unwrap();
    assert!(value["messages"][0].get("meta").is_none());
}

#[test]
fn a_manifest_file_whose_meta_declares_a_standard_key_is_refused() {
    let mut value: Value =
        serde_json::from_str(&Traced::manifest().unwrap().to_pretty_json()).unwrap();
    value["defs"]["TraceMeta"]["properties"]["correlationId"] = json!({"type": "string"});
    let err = Manifest::from_json(&value.to_string()).unwrap_err();
    assert!(err.to_string().contains("`correlationId`"), "{err}");
}
