//! Typed meta on the server (decoded and validated like a payload, answered at `/meta/...`,
//! reachable from `Context` and `RpcContext`, sent with `send_with_typed_meta` and
//! `reply_with_meta`), and the Rust client checking what it sends.

use serde_json::json;
use twinwire::{ErrorCode, ErrorPayload, data, message, rpc};
use twinwire_runtime::{ClientError, Context, PublishOptions, RequestError, Router, RpcContext};

use crate::common::{
    PATIENCE, Raw, SignUp, client, issue_paths, start, start_default, test_config,
};

/// Tracing keys a client attaches.
#[data(meta)]
#[derive(Clone, Debug, PartialEq)]
pub struct TraceMeta {
    #[validate(length(min = 1, max = 8))]
    pub trace_id: String,
    pub hops: Option<u8>,
}

/// Where the server answered from.
#[data(meta)]
#[derive(Clone, Debug, PartialEq)]
pub struct OriginMeta {
    pub region: String,
}

#[message("TRACED", meta = TraceMeta)]
#[derive(Clone, Debug, PartialEq)]
pub struct Traced {
    pub n: u32,
}

#[message("TRACE_SEEN", meta = OriginMeta)]
#[derive(Clone, Debug, PartialEq)]
pub struct TraceSeen {
    pub trace_id: String,
    pub hops: Option<u8>,
}

#[rpc("TRACED_CALL", response = TraceSeen, meta = TraceMeta)]
#[derive(Clone, Debug, PartialEq)]
pub struct TracedCall {
    #[validate(range(max = 9))]
    pub n: u32,
}

// `TRACE_SEEN` is also sent on its own (`send_with_typed_meta`), so it is a `server:` entry.
twinwire::protocol! {
    /// The messages of the typed meta tests.
    pub MetaTests {
        client: [Traced],
        server: [TraceSeen],
        rpc: [TracedCall],
    }
}

fn router() -> Router<()> {
    Router::new()
        .on(|ctx: Context<()>, _: Traced| async move {
            // The frame's typed meta, and nothing for another message's type.
            assert!(ctx.typed_meta::<TracedCall>().is_none());
            let meta = ctx
                .typed_meta::<Traced>()
                .ok_or_else(|| ErrorPayload::new(ErrorCode::Internal, "no typed meta"))?;
            let seen = TraceSeen {
                trace_id: meta.trace_id.clone(),
                hops: meta.hops,
            };
            ctx.send_with_typed_meta(
                &seen,
                &OriginMeta {
                    region: "eu".into(),
                },
            )
            .map_err(ErrorPayload::from)?;
            // Published to every subscriber (this connection too) with its typed meta.
            ctx.subscribe("traces").await.map_err(ErrorPayload::from)?;
            let everywhere = OriginMeta {
                region: "all".into(),
            };
            ctx.publish_with_typed_meta("traces", &seen, &everywhere, PublishOptions::new())
                .await
                .map_err(ErrorPayload::from)
        })
        .rpc(
            |ctx: RpcContext<(), TracedCall>, _: TracedCall| async move {
                let meta = ctx.request_meta().clone();
                let seen = TraceSeen {
                    trace_id: meta.trace_id,
                    hops: meta.hops,
                };
                ctx.reply_with_meta(
                    &seen,
                    &OriginMeta {
                        region: "us".into(),
                    },
                )?;
                Ok(seen)
            },
        )
}

#[tokio::test]
async fn typed_meta_reaches_the_handler_and_typed_meta_goes_back() {
    let server = start(router(), test_config()).await;
    let mut raw = Raw::connect(&server.url()).await;
    raw.json(json!({"type": "TRACED", "meta": {"timestamp": 1, "traceId": "t-1", "hops": 2, "extra": "ignored"}, "payload": {"n": 1}}))
        .await;
    let seen = raw.recv().await;
    assert_eq!(seen["type"], "TRACE_SEEN", "{seen}");
    assert_eq!(seen["payload"]["traceId"], "t-1");
    assert_eq!(seen["payload"]["hops"], 2);
    assert_eq!(seen["meta"]["region"], "eu", "{seen}");
    assert!(seen["meta"]["timestamp"].is_u64());
    let published = raw.recv().await;
    assert_eq!(published["type"], "TRACE_SEEN", "{published}");
    assert_eq!(published["meta"]["region"], "all", "{published}");
    assert_eq!(published["payload"]["traceId"], "t-1");
    // From outside any handler: the server's publish, and a send through a connection's
    // handle, each with typed meta.
    let news = TraceSeen {
        trace_id: "srv".into(),
        hops: None,
    };
    let origin = OriginMeta {
        region: "srv".into(),
    };
    server
        .server()
        .publish_with_typed_meta("traces", &news, &origin, PublishOptions::new())
        .await
        .unwrap();
    let published = raw.recv().await;
    assert_eq!(published["meta"]["region"], "srv", "{published}");
    let id = server.server().connections()[0];
    let handle = server.server().connection(id).unwrap();
    handle.send_with_typed_meta(&news, &origin).unwrap();
    let sent = raw.recv().await;
    assert_eq!(sent["type"], "TRACE_SEEN", "{sent}");
    assert_eq!(sent["meta"]["region"], "srv", "{sent}");

    raw.json(json!({"type": "TRACED_CALL", "meta": {"correlationId": "c1", "traceId": "t-2"}, "payload": {"n": 1}}))
        .await;
    let reply = raw.recv().await;
    assert_eq!(reply["type"], "TRACE_SEEN", "{reply}");
    assert_eq!(reply["meta"]["correlationId"], "c1");
    assert_eq!(reply["meta"]["region"], "us");
    assert_eq!(reply["payload"]["traceId"], "t-2");
}

#[tokio::test]
async fn a_bad_typed_meta_is_answered_like_a_bad_payload_at_meta_paths() {
    let server = start(router(), test_config()).await;
    let mut raw = Raw::connect(&server.url()).await;
    for (meta, path, code) in [
        (json!({"timestamp": 1}), "/meta/traceId", "required"),
        (json!({"traceId": 5}), "/meta/traceId", "invalid"),
        (
            json!({"traceId": "far too long"}),
            "/meta/traceId",
            "too_long",
        ),
        (
            json!({"traceId": "t", "hops": 300}),
            "/meta/hops",
            "invalid",
        ),
    ] {
        raw.json(json!({"type": "TRACED", "meta": meta, "payload": {"n": 1}}))
            .await;
        let answer = raw.recv().await;
        assert_eq!(answer["type"], "ERROR", "{answer}");
        assert_eq!(answer["payload"]["code"], "INVALID_ARGUMENT");
        assert_eq!(answer["payload"]["details"]["target"], "frame", "{answer}");
        assert_eq!(issue_paths(&answer), [path], "{answer}");
        assert_eq!(
            answer["payload"]["details"]["issues"][0]["code"], code,
            "{answer}"
        );
    }
    // No meta at all: the required key is missing.
    raw.json(json!({"type": "TRACED", "payload": {"n": 1}}))
        .await;
    let answer = raw.recv().await;
    assert_eq!(issue_paths(&answer), ["/meta/traceId"], "{answer}");
    // A request is answered with RPC_ERROR carrying its id.
    raw.json(json!({"type": "TRACED_CALL", "meta": {"correlationId": "c9"}, "payload": {"n": 1}}))
        .await;
    let answer = raw.recv().await;
    assert_eq!(answer["type"], "RPC_ERROR", "{answer}");
    assert_eq!(answer["meta"]["correlationId"], "c9");
    assert_eq!(issue_paths(&answer), ["/meta/traceId"], "{answer}");
}

#[tokio::test]
async fn the_rust_client_sends_typed_meta_and_refuses_what_the_server_would() {
    let server = start(router(), test_config()).await;
    let client = client(&server).await;
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel();
    client.on(move |msg: TraceSeen, meta| {
        let _ = seen_tx.send((msg, meta.extra.get("region").cloned()));
    });
    let trace = TraceMeta {
        trace_id: "t-3".into(),
        hops: None,
    };
    client
        .send_with_typed_meta(&Traced { n: 1 }, &trace)
        .await
        .unwrap();
    let (seen, region) = tokio::time::timeout(PATIENCE, seen_rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.trace_id, "t-3");
    assert_eq!(region, Some(json!("eu")));

    let reply = client
        .request_with_typed_meta(&TracedCall { n: 2 }, &trace, PATIENCE)
        .await
        .unwrap();
    assert_eq!(reply.trace_id, "t-3");

    // A typed meta with a required key cannot be left out…
    match client.send(&Traced { n: 1 }).await {
        Err(ClientError::Invalid(invalid)) => {
            assert_eq!(invalid.wire_type, "TRACED");
            assert_eq!(invalid.target, "frame");
            let found: Vec<_> = invalid
                .issues
                .iter()
                .map(|i| (i.path.as_str(), &*i.code))
                .collect();
            assert_eq!(found, [("/meta/traceId", "required")]);
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    // …nor break its constraints…
    let long = TraceMeta {
        trace_id: "much too long".into(),
        hops: None,
    };
    match client
        .request_with_typed_meta(&TracedCall { n: 1 }, &long, PATIENCE)
        .await
    {
        Err(RequestError::Invalid(invalid)) => {
            let found: Vec<_> = invalid
                .issues
                .iter()
                .map(|i| (i.path.as_str(), &*i.code))
                .collect();
            assert_eq!(found, [("/meta/traceId", "too_long")]);
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    // …and the payload is checked too, with the server's paths.
    match client
        .request_with_typed_meta(&TracedCall { n: 10 }, &trace, PATIENCE)
        .await
    {
        Err(RequestError::Invalid(invalid)) => {
            assert_eq!(invalid.target, "payload");
            let found: Vec<_> = invalid
                .issues
                .iter()
                .map(|i| (i.path.as_str(), &*i.code))
                .collect();
            assert_eq!(found, [("/n", "too_large")]);
            assert!(invalid.to_string().contains("/n"), "{invalid}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn the_rust_client_validates_outbound_payloads_before_sending() {
    let server = start_default().await;
    let client = client(&server).await;
    let bad = SignUp {
        name: String::new(),
        email: "not an email".into(),
        age: 7,
    };
    match client.request(&bad, PATIENCE).await {
        Err(RequestError::Invalid(invalid)) => {
            assert_eq!(invalid.wire_type, "SIGN_UP");
            assert_eq!(invalid.target, "payload");
            let mut found: Vec<_> = invalid
                .issues
                .iter()
                .map(|i| (i.path.clone(), i.code.to_string()))
                .collect();
            found.sort();
            assert_eq!(
                found,
                [
                    ("/age".to_owned(), "too_small".to_owned()),
                    ("/email".to_owned(), "email".to_owned()),
                    ("/name".to_owned(), "too_short".to_owned()),
                ]
            );
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    match client.send(&bad).await {
        Err(ClientError::Invalid(invalid)) => assert_eq!(invalid.issues.len(), 3),
        other => panic!("expected Invalid, got {other:?}"),
    }
    // Nothing was sent: the connection serves a good request as its first.
    let good = SignUp {
        name: "ann".into(),
        email: "ann@example.com".into(),
        age: 30,
    };
    assert_eq!(
        client.request(&good, PATIENCE).await.unwrap().note,
        "welcome ann"
    );
}
