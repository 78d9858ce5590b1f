//! The chat manifest carries every message with its direction, doc and schema.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chat_protocol::Chat;
use serde_json::{Value, json};
use twinwire::{Direction, Manifest, Protocol};

fn manifest() -> Manifest {
    Chat::manifest().expect("the chat protocol builds a manifest")
}

fn def<'a>(m: &'a Manifest, payload: &Value) -> &'a Value {
    let name = payload["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .expect("payload is a $ref into defs");
    &m.defs[name]
}

#[test]
fn every_message_has_its_direction_and_doc() {
    let m = manifest();
    let expected = [
        (
            "AUTHENTICATE",
            Direction::Client,
            "Present credentials to become an authenticated user.",
        ),
        (
            "JOIN_ROOM",
            Direction::Client,
            "Join a room, leaving the current one.",
        ),
        ("LEAVE_ROOM", Direction::Client, "Leave a room."),
        (
            "SEND_MESSAGE",
            Direction::Client,
            "Post a message to the room you are in.",
        ),
        (
            "TYPING_START",
            Direction::Client,
            "You started typing in a room.",
        ),
        (
            "TYPING_STOP",
            Direction::Client,
            "You stopped typing in a room.",
        ),
        (
            "AUTH_SUCCESS",
            Direction::Server,
            "The connection is now authenticated as this user.",
        ),
        (
            "ROOM_LIST",
            Direction::Server,
            "The rooms a client may join; sent on connect.",
        ),
        (
            "USER_JOINED",
            Direction::Server,
            "Someone joined the room you are in (or you did).",
        ),
        (
            "USER_LEFT",
            Direction::Server,
            "Someone left the room you are in.",
        ),
        (
            "CHAT_MESSAGE",
            Direction::Server,
            "A message posted to a room.",
        ),
        (
            "USER_TYPING",
            Direction::Server,
            "Someone else started or stopped typing in your room.",
        ),
        (
            "GET_MESSAGES",
            Direction::Client,
            "Fetch a room's recent messages, oldest first.",
        ),
        (
            "MESSAGES",
            Direction::Server,
            "A room's recent messages, oldest first.",
        ),
        (
            "CALCULATE",
            Direction::Client,
            "Compute `a <operation> b` on the server.",
        ),
        (
            "CALCULATE_RESULT",
            Direction::Server,
            "The result of `CALCULATE`.",
        ),
    ];
    let actual: Vec<_> = m
        .messages
        .iter()
        .map(|msg| (msg.wire_type.as_str(), msg.direction, msg.doc.as_str()))
        .collect();
    assert_eq!(actual, expected);
    for msg in &m.messages {
        assert_eq!(msg.rust_path, format!("chat_protocol::{}", msg.rust_name));
        let payload = msg
            .payload
            .as_ref()
            .expect("every chat message has a payload");
        assert_eq!(def(&m, payload)["type"], "object", "{}", msg.wire_type);
    }
    assert_eq!(m.name, "Chat");
    assert!(
        m.doc
            .starts_with("The chat protocol of the WS-Kit tutorial")
    );
    assert_eq!(m.rpcs.len(), 2);
    assert_eq!(
        (m.rpcs[0].request.as_str(), m.rpcs[0].response.as_str()),
        ("GET_MESSAGES", "MESSAGES")
    );
    assert_eq!(
        (m.rpcs[1].request.as_str(), m.rpcs[1].response.as_str()),
        ("CALCULATE", "CALCULATE_RESULT")
    );
}

#[test]
fn schemas_carry_constraints_docs_and_wire_names() {
    let m = manifest();
    let send = &m.defs["SendMessage"];
    assert_eq!(
        send["$schema"],
        Value::Null,
        "defs carry no $schema of their own"
    );
    assert_eq!(send["additionalProperties"], false);
    assert_eq!(send["required"], json!(["roomId", "text"]));
    assert_eq!(send["properties"]["text"]["minLength"], 1);
    assert_eq!(send["properties"]["text"]["maxLength"], 1000);
    assert_eq!(
        send["properties"]["text"]["description"],
        "The message text."
    );
    // SendMessage is read by the server: its attachment's `name` may be omitted.
    assert_eq!(
        send["properties"]["attachment"]["anyOf"][0]["$ref"],
        "#/$defs/AttachmentInput"
    );
    assert_eq!(m.defs["AttachmentInput"]["required"], json!(["url"]));
    assert_eq!(
        m.defs["AttachmentInput"]["properties"]["url"]["format"],
        "uri"
    );
    // ChatMessage is written by the server, which leaves a `None` name out (Option on the
    // wire): `name` is not required and never null server-side.
    assert_eq!(m.defs["Attachment"]["required"], json!(["url"]));
    assert_eq!(m.defs["Attachment"]["properties"]["name"]["type"], "string");
    assert_eq!(
        m.defs["AttachmentInput"]["properties"]["name"]["type"],
        json!(["string", "null"]),
        "a client may send null"
    );

    let get = &m.defs["GetMessages"];
    assert_eq!(get["required"], json!(["roomId"]), "limit has a default");
    assert_eq!(get["properties"]["limit"]["default"], 50);
    assert_eq!(get["properties"]["limit"]["minimum"], 1);
    assert_eq!(get["properties"]["limit"]["maximum"], 100);

    // `Operation` is only read by the server (CALCULATE), and serde also reads a unit
    // variant written as `{"add": null}`: the string forms come first, then those.
    let operations = m.defs["Operation"]["oneOf"].as_array().unwrap();
    let names: Vec<&Value> = operations.iter().map(|variant| &variant["const"]).collect();
    assert_eq!(
        names,
        [
            &json!("add"),
            &json!("multiply"),
            &Value::Null,
            &Value::Null
        ]
    );
    let keyed: Vec<&Value> = operations[2..]
        .iter()
        .map(|variant| &variant["required"])
        .collect();
    assert_eq!(keyed, [&json!(["add"]), &json!(["multiply"])]);
    let timestamp = &m.defs["ChatMessage"]["properties"]["timestamp"];
    assert_eq!(timestamp["maximum"], json!(9_007_199_254_740_991_u64));
}

#[test]
fn manifest_json_is_byte_identical_across_builds() {
    let first = manifest().to_pretty_json();
    let second = manifest().to_pretty_json();
    assert_eq!(first, second);
    let read_back = Manifest::from_json(&first).expect("a written manifest reads back");
    assert_eq!(read_back, manifest());
}

#[test]
fn newer_or_malformed_manifests_are_refused_with_a_reason() {
    let mut value: Value = serde_json::from_str(&manifest().to_pretty_json()).unwrap();
    value["format"] = json!(99);
    let err = Manifest::from_json(&value.to_string()).unwrap_err();
    assert!(
        err.to_string().contains("newer than this twinwire"),
        "{err}"
    );

    let err = Manifest::from_json("[1, 2]").unwrap_err();
    assert!(err.to_string().contains("format"), "{err}");

    let mut value: Value = serde_json::from_str(&manifest().to_pretty_json()).unwrap();
    value["messages"][0]["payload"] = json!({"$ref": "#/$defs/Nope"});
    let err = Manifest::from_json(&value.to_string()).unwrap_err();
    assert!(err.to_string().contains("#/$defs/Nope"), "{err}");

    let mut value: Value = serde_json::from_str(&manifest().to_pretty_json()).unwrap();
    value["messages"][1]["type"] = json!("AUTHENTICATE");
    let err = Manifest::from_json(&value.to_string()).unwrap_err();
    assert!(err.to_string().contains("AUTHENTICATE"), "{err}");
}
