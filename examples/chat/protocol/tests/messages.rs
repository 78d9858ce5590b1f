//! Serde round trips and validation of the chat messages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chat_protocol::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::fmt::Debug;
use twinwire::{Message, Validate};

fn round_trip<M: Message + PartialEq + Debug>(value: M, wire: Value) {
    assert_eq!(
        serde_json::to_value(&value).unwrap(),
        wire,
        "{}",
        M::WIRE_TYPE
    );
    let back: M = serde_json::from_value(wire).unwrap();
    assert_eq!(back, value);
    assert!(value.validate().is_ok(), "{} sample is valid", M::WIRE_TYPE);
}

fn reject<M: DeserializeOwned + Serialize>(wire: Value) -> String {
    match serde_json::from_value::<M>(wire) {
        Ok(v) => panic!("accepted {}", serde_json::to_string(&v).unwrap()),
        Err(e) => e.to_string(),
    }
}

fn attachment() -> Attachment {
    Attachment {
        url: "https://example.com/cat.png".into(),
        name: None,
    }
}

#[test]
fn every_chat_message_round_trips_through_serde() {
    round_trip(
        Authenticate {
            token: "t0k".into(),
        },
        json!({"token": "t0k"}),
    );
    round_trip(
        AuthSuccess {
            user_id: "u1".into(),
            user_name: "Ada".into(),
        },
        json!({"userId": "u1", "userName": "Ada"}),
    );
    round_trip(
        JoinRoom {
            room_id: "general".into(),
        },
        json!({"roomId": "general"}),
    );
    round_trip(
        LeaveRoom {
            room_id: "general".into(),
        },
        json!({"roomId": "general"}),
    );
    round_trip(
        UserJoined {
            room_id: "r".into(),
            user_id: "u".into(),
            user_name: "n".into(),
        },
        json!({"roomId": "r", "userId": "u", "userName": "n"}),
    );
    round_trip(
        UserLeft {
            room_id: "r".into(),
            user_id: "u".into(),
        },
        json!({"roomId": "r", "userId": "u"}),
    );
    round_trip(
        RoomList {
            rooms: vec![RoomInfo {
                id: "general".into(),
                name: "General".into(),
                user_count: 3,
            }],
        },
        json!({"rooms": [{"id": "general", "name": "General", "userCount": 3}]}),
    );
    round_trip(
        SendMessage {
            room_id: "r".into(),
            text: "hi".into(),
            attachment: Some(attachment()),
        },
        // Option on the wire: the `None` name is left out, not written as null.
        json!({"roomId": "r", "text": "hi", "attachment": {"url": "https://example.com/cat.png"}}),
    );
    round_trip(
        SendMessage {
            room_id: "r".into(),
            text: "hi".into(),
            attachment: None,
        },
        json!({"roomId": "r", "text": "hi"}),
    );
    round_trip(
        ChatMessage {
            id: "1".into(),
            room_id: "r".into(),
            user_id: "u".into(),
            user_name: "n".into(),
            text: "hello <b>".into(),
            attachment: None,
            timestamp: 1_700_000_000_000,
        },
        json!({"id": "1", "roomId": "r", "userId": "u", "userName": "n", "text": "hello <b>", "timestamp": 1_700_000_000_000_u64}),
    );
    // Reading is unchanged: a client's explicit nulls are `None` too.
    let sent: SendMessage = serde_json::from_value(
        json!({"roomId": "r", "text": "hi", "attachment": {"url": "https://example.com/cat.png", "name": null}}),
    )
    .unwrap();
    assert_eq!(sent.attachment, Some(attachment()));
    let sent: SendMessage =
        serde_json::from_value(json!({"roomId": "r", "text": "hi", "attachment": null})).unwrap();
    assert_eq!(sent.attachment, None);
    round_trip(
        TypingStart {
            room_id: "r".into(),
        },
        json!({"roomId": "r"}),
    );
    round_trip(
        TypingStop {
            room_id: "r".into(),
        },
        json!({"roomId": "r"}),
    );
    round_trip(
        UserTyping {
            room_id: "r".into(),
            user_id: "u".into(),
            user_name: "n".into(),
            typing: true,
        },
        json!({"roomId": "r", "userId": "u", "userName": "n", "typing": true}),
    );
    round_trip(
        GetMessages {
            room_id: "r".into(),
            limit: 10,
        },
        json!({"roomId": "r", "limit": 10}),
    );
    round_trip(
        Messages {
            room_id: "r".into(),
            messages: vec![],
        },
        json!({"roomId": "r", "messages": []}),
    );
    round_trip(
        Calculate {
            operation: Operation::Multiply,
            a: 6.0,
            b: 7.0,
        },
        json!({"operation": "multiply", "a": 6.0, "b": 7.0}),
    );
    round_trip(CalculateResult { result: 42.0 }, json!({"result": 42.0}));
}

#[test]
fn inbound_defaults_and_strictness_follow_serde() {
    let get: GetMessages = serde_json::from_value(json!({"roomId": "r"})).unwrap();
    assert_eq!(get.limit, 50);
    let send: SendMessage = serde_json::from_value(json!({"roomId": "r", "text": "t"})).unwrap();
    assert_eq!(send.attachment, None);
    assert!(
        reject::<JoinRoom>(json!({"roomId": "r", "extra": 1})).contains("unknown field `extra`")
    );
    assert!(reject::<JoinRoom>(json!({"room_id": "r"})).contains("unknown field `room_id`"));
    assert!(reject::<Calculate>(json!({"operation": "divide", "a": 1, "b": 2})).contains("divide"));
}

#[test]
fn constraint_violations_report_every_failing_path() {
    let bad = SendMessage {
        room_id: String::new(),
        text: "x".repeat(1001),
        attachment: Some(Attachment {
            url: "not a url".into(),
            name: Some(String::new()),
        }),
    };
    let err = bad.validate().unwrap_err();
    let found: Vec<(&str, &str)> = err
        .issues()
        .iter()
        .map(|i| (i.path.as_str(), i.code.as_ref()))
        .collect();
    assert_eq!(
        found,
        [
            ("/roomId", "too_short"),
            ("/text", "too_long"),
            ("/attachment/url", "url"),
            ("/attachment/name", "too_short"),
        ]
    );
    assert!(
        err.to_string()
            .contains("/text: must have at most 1000 characters, has 1001")
    );

    let ok = SendMessage {
        room_id: "r".into(),
        text: "é".repeat(1000),
        attachment: None,
    };
    assert!(
        ok.validate().is_ok(),
        "1000 characters of two bytes each are within the limit"
    );

    let err = GetMessages {
        room_id: "r".into(),
        limit: 0,
    }
    .validate()
    .unwrap_err();
    assert_eq!(err.issues()[0].path, "/limit");
    assert_eq!(err.issues()[0].code, "too_small");
    let err = GetMessages {
        room_id: "r".into(),
        limit: 101,
    }
    .validate()
    .unwrap_err();
    assert_eq!(err.issues()[0].code, "too_large");
}

#[test]
fn message_constants() {
    assert_eq!(SendMessage::WIRE_TYPE, "SEND_MESSAGE");
    const { assert!(SendMessage::HAS_PAYLOAD) };
    assert_eq!(SendMessage::RUST_PATH, "chat_protocol::SendMessage");
    assert_eq!(
        <GetMessages as twinwire::Rpc>::Response::WIRE_TYPE,
        "MESSAGES"
    );
    assert_eq!(
        <Calculate as twinwire::Rpc>::Response::WIRE_TYPE,
        "CALCULATE_RESULT"
    );
}
