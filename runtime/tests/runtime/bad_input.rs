//! The bad-input matrix: every case gets its documented answer, and the connection keeps
//! serving the next good frame (except the WebSocket-level violations, which close it with
//! their RFC 6455 code while the server keeps serving other connections).

use serde_json::{Value, json};
use twinwire_runtime::{Context, Router};

use crate::common::{Ended, Raw, issue_paths, start, start_default, test_config, test_router};

/// Sends `frame` and returns the answer, checking the connection still serves afterwards.
async fn answer_to(raw: &mut Raw, frame: &str) -> Value {
    raw.text(frame).await;
    let answer = raw.recv().await;
    raw.still_serves().await;
    answer
}

fn assert_error(answer: &Value, kind: &str, code: &str) {
    assert_eq!(answer["type"], kind, "{answer}");
    assert_eq!(answer["payload"]["code"], code, "{answer}");
    assert!(
        answer["payload"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{answer}"
    );
}

#[tokio::test]
async fn malformed_frames_are_invalid_argument_about_the_frame() {
    let server = start_default().await;
    let mut raw = Raw::connect(&server.url()).await;

    for (frame, path, needle) in [
        ("nope{", "", "not valid JSON"),
        ("{\"type\": \"ECHO\"", "", "not valid JSON"),
        ("[1, 2]", "", "JSON object"),
        ("\"ECHO\"", "", "JSON object"),
        ("42", "", "JSON object"),
        ("null", "", "JSON object"),
        (r#"{"payload": {"text": "a"}}"#, "/type", "no `type`"),
        (r#"{"type": 5}"#, "/type", "must be a string"),
        (r#"{"type": null}"#, "/type", "no `type`"),
        (
            r#"{"type": "ECHO", "meta": 5, "payload": {"text": "a"}}"#,
            "/meta",
            "",
        ),
        (
            r#"{"type": "ECHO", "meta": {"timestamp": "soon"}, "payload": {"text": "a"}}"#,
            "/meta/timestamp",
            "",
        ),
    ] {
        let answer = answer_to(&mut raw, frame).await;
        assert_error(&answer, "ERROR", "INVALID_ARGUMENT");
        assert_eq!(
            answer["payload"]["details"]["target"], "frame",
            "{frame}: {answer}"
        );
        assert_eq!(issue_paths(&answer), [path], "{frame}: {answer}");
        assert!(
            answer["payload"]["message"]
                .as_str()
                .unwrap()
                .contains(needle),
            "{frame}: {answer}"
        );
        assert!(answer["meta"].get("correlationId").is_none());
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn malformed_meta_still_answers_the_request_it_belongs_to() {
    let server = start_default().await;
    let mut raw = Raw::connect(&server.url()).await;
    let answer = answer_to(
        &mut raw,
        r#"{"type": "ADD", "meta": {"correlationId": "r1", "timestamp": -1}, "payload": {"a": 1, "b": 2}}"#,
    )
    .await;
    assert_error(&answer, "RPC_ERROR", "INVALID_ARGUMENT");
    assert_eq!(answer["meta"]["correlationId"], "r1");
    assert_eq!(issue_paths(&answer), ["/meta/timestamp"]);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn unknown_and_reserved_types() {
    let server = start_default().await;
    let mut raw = Raw::connect(&server.url()).await;

    let answer = answer_to(&mut raw, r#"{"type": "NO_SUCH_TYPE"}"#).await;
    assert_error(&answer, "ERROR", "UNIMPLEMENTED");
    assert_eq!(answer["payload"]["details"]["type"], "NO_SUCH_TYPE");

    let answer = answer_to(
        &mut raw,
        r#"{"type": "NO_SUCH_RPC", "meta": {"correlationId": "u1"}, "payload": {}}"#,
    )
    .await;
    assert_error(&answer, "RPC_ERROR", "UNIMPLEMENTED");
    assert_eq!(answer["meta"]["correlationId"], "u1");

    for reserved in [
        "$ws:rpc-progress",
        "$anything",
        "__internal",
        "ERROR",
        "RPC_ERROR",
        "__heartbeat_ack",
    ] {
        let answer = answer_to(&mut raw, &json!({ "type": reserved }).to_string()).await;
        assert_error(&answer, "ERROR", "INVALID_ARGUMENT");
        assert_eq!(issue_paths(&answer), ["/type"], "{reserved}");
        assert_eq!(
            answer["payload"]["details"]["issues"][0]["code"],
            "reserved"
        );
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn payload_presence_follows_the_message() {
    let server = start_default().await;
    let mut raw = Raw::connect(&server.url()).await;

    // A payload-less message with a payload.
    let answer = answer_to(&mut raw, r#"{"type": "POKE", "payload": {}}"#).await;
    assert_error(&answer, "ERROR", "INVALID_ARGUMENT");
    assert_eq!(issue_paths(&answer), ["/payload"]);
    assert_eq!(
        answer["payload"]["details"]["issues"][0]["code"],
        "unexpected"
    );
    // Without one it is handled; `null` counts as absent.
    for frame in [
        r#"{"type": "POKE"}"#,
        r#"{"type": "POKE", "payload": null}"#,
    ] {
        raw.text(frame).await;
        assert_eq!(raw.recv().await["type"], "POKED");
    }

    // A message that needs a payload, without one.
    for frame in [
        r#"{"type": "ECHO"}"#,
        r#"{"type": "ECHO", "payload": null}"#,
    ] {
        let answer = answer_to(&mut raw, frame).await;
        assert_error(&answer, "ERROR", "INVALID_ARGUMENT");
        assert_eq!(issue_paths(&answer), ["/payload"]);
        assert_eq!(
            answer["payload"]["details"]["issues"][0]["code"],
            "required"
        );
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn payloads_that_do_not_decode_name_the_failing_field() {
    let server = start_default().await;
    let mut raw = Raw::connect(&server.url()).await;

    for (payload, path, code) in [
        (json!({"text": 5}), "/text", "invalid"),
        (json!({"text": "a", "extra": 1}), "/extra", "unknown_field"),
        (json!({}), "/text", "required"),
    ] {
        let frame = json!({"type": "ECHO", "payload": payload}).to_string();
        let answer = answer_to(&mut raw, &frame).await;
        assert_error(&answer, "ERROR", "INVALID_ARGUMENT");
        assert_eq!(
            answer["payload"]["details"]["target"], "payload",
            "{answer}"
        );
        assert_eq!(issue_paths(&answer), [path], "{frame}: {answer}");
        assert_eq!(
            answer["payload"]["details"]["issues"][0]["code"], code,
            "{answer}"
        );
    }

    // serde would read a struct from an array positionally; the wire wants an object.
    for payload in [json!("text"), json!(["alive"]), json!(1)] {
        let frame = json!({"type": "ECHO", "payload": payload}).to_string();
        let answer = answer_to(&mut raw, &frame).await;
        assert_error(&answer, "ERROR", "INVALID_ARGUMENT");
        assert_eq!(answer["payload"]["details"]["target"], "frame", "{answer}");
        assert_eq!(issue_paths(&answer), ["/payload"], "{frame}: {answer}");
    }

    // Nested paths, in an RPC: answered as RPC_ERROR with the correlation id.
    let frame =
        json!({"type": "ADD", "meta": {"correlationId": "n1"}, "payload": {"a": 1, "b": "two"}});
    let answer = answer_to(&mut raw, &frame.to_string()).await;
    assert_error(&answer, "RPC_ERROR", "INVALID_ARGUMENT");
    assert_eq!(answer["meta"]["correlationId"], "n1");
    assert_eq!(issue_paths(&answer), ["/b"]);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn constraint_violations_report_every_path() {
    let server = start_default().await;
    let mut raw = Raw::connect(&server.url()).await;

    let frame = json!({
        "type": "SIGN_UP",
        "meta": {"correlationId": "s1"},
        "payload": {"name": "", "email": "not-an-email", "age": 5}
    });
    let answer = answer_to(&mut raw, &frame.to_string()).await;
    assert_error(&answer, "RPC_ERROR", "INVALID_ARGUMENT");
    assert_eq!(answer["meta"]["correlationId"], "s1");
    assert_eq!(answer["payload"]["details"]["target"], "payload");
    assert_eq!(issue_paths(&answer), ["/name", "/email", "/age"]);
    let codes: Vec<_> = answer["payload"]["details"]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes, ["too_short", "email", "too_small"]);

    let ok = json!({
        "type": "SIGN_UP",
        "meta": {"correlationId": "s2"},
        "payload": {"name": "ada", "email": "ada@example.com", "age": 36}
    });
    raw.json(ok).await;
    let answer = raw.recv().await;
    assert_eq!(answer["type"], "DONE");
    assert_eq!(answer["meta"]["correlationId"], "s2");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_rpc_without_a_correlation_id_is_refused() {
    let server = start_default().await;
    let mut raw = Raw::connect(&server.url()).await;
    let answer = answer_to(&mut raw, r#"{"type": "ADD", "payload": {"a": 1, "b": 2}}"#).await;
    assert_error(&answer, "ERROR", "INVALID_ARGUMENT");
    assert_eq!(issue_paths(&answer), ["/meta/correlationId"]);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn reserved_meta_keys_are_stripped_before_the_handler() {
    let router = Router::<()>::new().on(|ctx: Context, _: crate::common::Echo| async move {
        let keys: Vec<_> = ctx.meta().extra.keys().cloned().collect();
        // Echo the meta back, reserved keys and all: the server must drop them.
        let mut meta = ctx.meta().extra.clone();
        meta.insert("clientId".into(), json!("forged"));
        meta.insert("receivedAt".into(), json!(0));
        let echo = crate::common::Echoed {
            text: keys.join(","),
        };
        ctx.send_with_meta(&echo, &meta)?;
        Ok(())
    });
    let server = start(router, test_config()).await;
    let mut raw = Raw::connect(&server.url()).await;
    raw.json(json!({
        "type": "ECHO",
        "meta": {"clientId": "spoofed", "receivedAt": 1, "trace": "t-1", "timestamp": 5},
        "payload": {"text": "x"}
    }))
    .await;
    let answer = raw.recv().await;
    assert_eq!(answer["payload"]["text"], "trace");
    assert_eq!(answer["meta"]["trace"], "t-1");
    // And the server never sends them either.
    assert!(answer["meta"].get("clientId").is_none());
    assert!(answer["meta"].get("receivedAt").is_none());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn unknown_root_keys_are_ignored() {
    let server = start_default().await;
    let mut raw = Raw::connect(&server.url()).await;
    raw.text(r#"{"type": "ECHO", "payload": {"text": "a"}, "data": 1, "extra": [1, {"b": 2}]}"#)
        .await;
    assert_eq!(raw.recv().await["payload"]["text"], "a");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn heartbeat_is_acknowledged() {
    let server = start_default().await;
    let mut raw = Raw::connect(&server.url()).await;
    let answer = answer_to(&mut raw, r#"{"type": "__heartbeat"}"#).await;
    assert_eq!(answer, json!({"type": "__heartbeat_ack"}));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn binary_frames_holding_json_are_handled_like_text() {
    let server = start_default().await;
    let mut raw = Raw::connect(&server.url()).await;
    raw.binary(br#"{"type": "ECHO", "payload": {"text": "bin"}}"#.to_vec())
        .await;
    let answer = raw.recv().await;
    assert_eq!(answer["payload"]["text"], "bin");
    // A binary frame of UTF-8 that is not JSON is bad input, not a protocol violation.
    raw.binary(b"not json".to_vec()).await;
    assert_error(&raw.recv().await, "ERROR", "INVALID_ARGUMENT");
    raw.still_serves().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn invalid_utf8_closes_with_1007() {
    let server = start_default().await;

    let mut raw = Raw::connect(&server.url()).await;
    raw.binary(vec![b'{', 0xff, 0xfe, b'}']).await;
    assert!(matches!(raw.ended().await, Ended::Closed(1007, _)));

    // A text frame with invalid UTF-8 cannot be built through the client library's API,
    // so write the frame by hand: FIN + text opcode, masked, 2-byte payload 0xC3 0x28.
    let mut raw = Raw::connect(&server.url()).await;
    {
        use tokio::io::AsyncWriteExt;
        let stream = match raw.ws.get_mut() {
            tokio_tungstenite::MaybeTlsStream::Plain(s) => s,
            _ => unreachable!("plain TCP in tests"),
        };
        let mask = [1u8, 2, 3, 4];
        let payload = [0xc3u8, 0x28];
        let mut frame = vec![0x81, 0x80 | payload.len() as u8];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        stream.write_all(&frame).await.unwrap();
    }
    assert!(matches!(raw.ended().await, Ended::Closed(1007, _)));

    // The server itself keeps serving.
    Raw::connect(&server.url()).await.still_serves().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn frames_just_under_and_over_the_size_limit() {
    const LIMIT: usize = 1024;
    let server = start(test_router(), test_config().max_frame_size(LIMIT)).await;
    let mut raw = Raw::connect(&server.url()).await;

    // Exactly at the limit: padded with an ignored root key to LIMIT bytes.
    let frame_of = |len: usize| {
        let base = r#"{"type":"ECHO","payload":{"text":"fits"},"pad":""}"#;
        let pad = "x".repeat(len - base.len());
        format!(r#"{{"type":"ECHO","payload":{{"text":"fits"}},"pad":"{pad}"}}"#)
    };
    let at_limit = frame_of(LIMIT);
    assert_eq!(at_limit.len(), LIMIT);
    raw.text(at_limit).await;
    assert_eq!(raw.recv().await["payload"]["text"], "fits");
    raw.text(frame_of(LIMIT - 1)).await;
    assert_eq!(raw.recv().await["payload"]["text"], "fits");

    raw.text(frame_of(LIMIT + 1)).await;
    match raw.ended().await {
        Ended::Closed(code, reason) => {
            assert_eq!(code, 1009);
            assert!(reason.contains("1024"), "{reason}");
        }
        other => panic!("expected a 1009 close, got {other:?}"),
    }
    Raw::connect(&server.url()).await.still_serves().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn deeply_nested_json_is_refused_without_harm() {
    let server = start_default().await;
    let mut raw = Raw::connect(&server.url()).await;
    let depth = 5_000;
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));

    // Inside a payload field that takes any JSON value: past serde_json's recursion limit.
    let answer = answer_to(
        &mut raw,
        &format!(r#"{{"type": "HOLD", "payload": {{"value": {nested}}}}}"#),
    )
    .await;
    assert_error(&answer, "ERROR", "INVALID_ARGUMENT");
    // The path leads to where the recursion limit stopped the decoder.
    let path = &issue_paths(&answer)[0];
    assert!(path.starts_with("/value/0/0/0"), "{path}");

    // Inside a field of a fixed type: a type error at that field.
    let answer = answer_to(
        &mut raw,
        &format!(r#"{{"type": "ECHO", "payload": {{"text": {nested}}}}}"#),
    )
    .await;
    assert_error(&answer, "ERROR", "INVALID_ARGUMENT");
    assert_eq!(issue_paths(&answer), ["/text"]);

    // In meta, whose extra keys hold any JSON value: refused like the payload.
    let answer = answer_to(
        &mut raw,
        &format!(r#"{{"type": "ECHO", "meta": {{"deep": {nested}}}, "payload": {{"text": "a"}}}}"#),
    )
    .await;
    assert_error(&answer, "ERROR", "INVALID_ARGUMENT");
    assert!(issue_paths(&answer)[0].starts_with("/meta/deep/0/0"));

    // Under an ignored root key: skipped without building anything, so the frame is served.
    let answer = answer_to(
        &mut raw,
        &format!(r#"{{"type": "ECHO", "payload": {{"text": "a"}}, "junk": {nested}}}"#),
    )
    .await;
    assert_eq!(answer["type"], "ECHOED");
    server.shutdown().await.unwrap();
}
