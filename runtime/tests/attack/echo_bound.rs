//! Error answers echo untrusted input only up to a small bound: a huge unknown type, a huge
//! string where a number belongs, a huge unknown field name. (A request's correlation id is
//! the exception: an answer must carry it whole to settle the request.)

use serde_json::{Value, json};

use crate::common::{config, raw, recv, send_json, start};

const HUGE: usize = 60_000;
/// How much of an error payload the echoes may take, all told.
const BOUND: usize = 1_000;

fn payload_len(answer: &Value) -> usize {
    answer["payload"].to_string().len()
}

#[tokio::test]
async fn an_unknown_huge_type_is_echoed_once_and_cut() {
    let server = start(config()).await;
    let mut ws = raw(&server).await;
    let kind = "T".repeat(65_000);
    for correlated in [false, true] {
        let frame = if correlated {
            json!({"type": kind, "meta": {"correlationId": "c1"}})
        } else {
            json!({"type": kind})
        };
        send_json(&mut ws, frame).await;
        let (answer, _) = recv(&mut ws).await;
        let expected = if correlated { "RPC_ERROR" } else { "ERROR" };
        assert_eq!(answer["type"], expected, "{answer}");
        assert_eq!(answer["payload"]["code"], "UNIMPLEMENTED");
        assert!(
            payload_len(&answer) < BOUND,
            "{} bytes",
            payload_len(&answer)
        );
        let echoed = answer["payload"]["details"]["type"].as_str().unwrap();
        assert!(echoed.ends_with('…'), "{echoed}");
        assert!(kind.starts_with(echoed.trim_end_matches('…')));
        assert!((64..=128).contains(&echoed.chars().count()), "{echoed}");
        // Once, not in the message as well.
        let prefix = &kind[..64];
        assert_eq!(answer["payload"].to_string().matches(prefix).count(), 1);
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn huge_values_and_field_names_are_cut_in_invalid_argument_answers() {
    let server = start(config()).await;
    let mut ws = raw(&server).await;
    let huge = "v".repeat(HUGE);
    for payload in [
        // A string where a number belongs: serde quotes the value in its message.
        json!({"a": huge, "b": 1}),
        // An unknown field: its name is in the message and in the issue's path.
        json!({"a": 1, "b": 1, huge.clone(): 1}),
    ] {
        send_json(
            &mut ws,
            json!({"type": "ADD", "meta": {"correlationId": "r"}, "payload": payload}),
        )
        .await;
        let (answer, _) = recv(&mut ws).await;
        assert_eq!(answer["type"], "RPC_ERROR", "{answer}");
        assert_eq!(answer["payload"]["code"], "INVALID_ARGUMENT");
        assert!(
            payload_len(&answer) < BOUND,
            "{} bytes",
            payload_len(&answer)
        );
        let issue = &answer["payload"]["details"]["issues"][0];
        assert!(issue["message"].as_str().unwrap().contains('…'), "{issue}");
    }
    server.shutdown().await.unwrap();
}
