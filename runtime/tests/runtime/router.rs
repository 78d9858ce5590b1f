//! Middleware, per-connection data, lifecycle hooks, composition and registration errors.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::sync::mpsc;
use twinwire::{ErrorCode, ErrorPayload, message};
use twinwire_runtime::{
    CloseInfo, Context, Next, Router, RouterError, RpcContext, Server, ServerConfig,
};

use crate::common::{
    Add, Echo, Echoed, Ended, PATIENCE, Raw, Sum, client, start, test_config, test_router,
};

/// Log in as `name`.
#[message("LOGIN")]
#[derive(Clone, Debug)]
pub struct Login {
    pub name: String,
}

/// Close the connection from the server.
#[message("BYE")]
#[derive(Clone, Debug)]
pub struct Bye;

/// Fails in the handler.
#[message("BROKEN")]
#[derive(Clone, Debug)]
pub struct Broken;

#[derive(Default)]
struct Session {
    user: Option<String>,
    trail: Vec<String>,
}

/// A router whose middleware requires a login, records its path through the chain, and
/// observes the outcome.
fn guarded_router() -> Router<Session> {
    Router::<Session>::new()
        .initial_data(Session::default)
        .middleware(|ctx: Context<Session>, next: Next<Session>| async move {
            let kind = ctx.wire_type().unwrap_or_default();
            ctx.data_mut(|s| s.trail.push(format!("outer:{kind}")));
            let outcome = next.run(ctx.clone()).await;
            let verdict = if outcome.is_ok() { "ok" } else { "err" };
            ctx.data_mut(|s| s.trail.push(format!("after:{verdict}")));
            outcome
        })
        .middleware(
            |mut ctx: Context<Session>, next: Next<Session>| async move {
                let logged_in = ctx.data(|s| s.user.is_some());
                if !logged_in && ctx.wire_type() != Some("LOGIN") {
                    return Err(ErrorPayload::new(
                        ErrorCode::Unauthenticated,
                        "log in first",
                    ));
                }
                ctx.meta_mut()
                    .extra
                    .insert("checkedBy".into(), json!("auth"));
                next.run(ctx).await
            },
        )
        .on(|ctx: Context<Session>, login: Login| async move {
            ctx.data_mut(|s| s.user = Some(login.name));
            Ok(())
        })
        .on(|ctx: Context<Session>, _: Echo| async move {
            let checked = ctx.meta().extra.get("checkedBy").cloned();
            let text =
                ctx.data(|s| format!("{} {}", s.trail.join(","), checked.unwrap_or_default()));
            ctx.send(&Echoed { text })?;
            Ok(())
        })
        .route_middleware::<Echo, _, _>(|ctx: Context<Session>, next: Next<Session>| async move {
            ctx.data_mut(|s| s.trail.push("route".into()));
            next.run(ctx).await
        })
        .on(|_: Context<Session>, _: Broken| async move {
            Err(ErrorPayload::new(
                ErrorCode::FailedPrecondition,
                "broken on purpose",
            ))
        })
        .rpc(|ctx: RpcContext<Session, Add>, req: Add| async move {
            let user = ctx.data(|s| s.user.clone()).unwrap_or_default();
            assert_eq!(user, "ada");
            Ok(Sum {
                value: req.a + req.b,
            })
        })
}

#[tokio::test]
async fn middleware_guards_routes_and_sees_the_outcome() {
    let server = start(guarded_router(), test_config()).await;
    let mut raw = Raw::connect(&server.url()).await;

    // Short-circuited before login, for messages and requests alike.
    raw.json(json!({"type": "ECHO", "payload": {"text": "x"}}))
        .await;
    let refused = raw.recv().await;
    assert_eq!(refused["type"], "ERROR");
    assert_eq!(refused["payload"]["code"], "UNAUTHENTICATED");
    raw.json(json!({"type": "ADD", "meta": {"correlationId": "a1"}, "payload": {"a": 1, "b": 2}}))
        .await;
    let refused = raw.recv().await;
    assert_eq!(refused["type"], "RPC_ERROR");
    assert_eq!(refused["meta"]["correlationId"], "a1");
    assert_eq!(refused["payload"]["code"], "UNAUTHENTICATED");

    // The login changes the connection's data, which later middleware reads.
    raw.json(json!({"type": "LOGIN", "payload": {"name": "ada"}}))
        .await;
    raw.json(json!({"type": "ADD", "meta": {"correlationId": "a2"}, "payload": {"a": 1, "b": 2}}))
        .await;
    assert_eq!(raw.recv().await["payload"]["value"], 3);

    // A handler error passes back out through the middleware.
    raw.json(json!({"type": "BROKEN"})).await;
    let failed = raw.recv().await;
    assert_eq!(failed["type"], "ERROR");
    assert_eq!(failed["payload"]["code"], "FAILED_PRECONDITION");

    raw.json(json!({"type": "ECHO", "payload": {"text": "x"}}))
        .await;
    let trail = raw.recv().await["payload"]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        trail,
        "outer:ECHO,after:err,outer:ADD,after:err,outer:LOGIN,after:ok,outer:ADD,after:ok,\
         outer:BROKEN,after:err,outer:ECHO,route \"auth\""
    );
    drop(raw);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn lifecycle_hooks_see_open_and_close() {
    let (closes, mut closed) = mpsc::unbounded_channel::<(u64, CloseInfo)>();
    let opened = Arc::new(Mutex::new(Vec::new()));
    let seen = opened.clone();
    let router = test_router()
        .on_open(move |ctx: Context| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(ctx.id());
                ctx.send(&Echoed {
                    text: "welcome".into(),
                })
                .unwrap();
            }
        })
        .on_close(move |ctx: Context, info: CloseInfo| {
            let closes = closes.clone();
            async move {
                closes.send((ctx.id().get(), info)).unwrap();
            }
        });
    let server = start(router, test_config()).await;

    let client = client(&server).await;
    let (welcomed, mut welcome) = mpsc::unbounded_channel();
    client.on(move |msg: Echoed, _| welcomed.send(msg.text).unwrap());
    // The welcome was sent on open, before any handler ran.
    assert_eq!(
        tokio::time::timeout(PATIENCE, welcome.recv())
            .await
            .unwrap()
            .unwrap(),
        "welcome"
    );
    client.close(4000, "see you").await.unwrap();
    let (id, info) = tokio::time::timeout(PATIENCE, closed.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        info,
        CloseInfo {
            code: 4000,
            reason: "see you".into()
        }
    );
    assert_eq!(
        opened
            .lock()
            .unwrap()
            .iter()
            .map(|i| i.get())
            .collect::<Vec<_>>(),
        [id]
    );

    // A connection that just vanishes closes with 1006.
    let raw = Raw::connect(&server.url()).await;
    drop(raw);
    let (_, info) = tokio::time::timeout(PATIENCE, closed.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(info.code, 1006);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_handler_can_close_its_connection_after_its_frames() {
    let router = test_router().on(|ctx: Context, _: Bye| async move {
        ctx.send(&Echoed { text: "bye".into() })?;
        ctx.close(4001, "done here");
        Ok(())
    });
    let server = start(router, test_config()).await;
    let mut raw = Raw::connect(&server.url()).await;
    raw.json(json!({"type": "BYE"})).await;
    assert_eq!(raw.recv().await["payload"]["text"], "bye");
    assert_eq!(raw.ended().await, Ended::Closed(4001, "done here".into()));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn merged_routers_keep_their_middleware_to_themselves() {
    let admin = Router::<()>::new()
        .middleware(|_: Context, _: Next<()>| async move {
            Err(ErrorPayload::new(
                ErrorCode::PermissionDenied,
                "admins only",
            ))
        })
        .on(|_: Context, _: Bye| async move { Ok(()) });
    let router = test_router().merge(admin).unwrap();
    assert!(router.wire_types().contains(&"BYE"));
    assert!(router.wire_types().contains(&"ECHO"));
    let server = start(router, test_config()).await;
    let mut raw = Raw::connect(&server.url()).await;
    raw.json(json!({"type": "BYE"})).await;
    assert_eq!(raw.recv().await["payload"]["code"], "PERMISSION_DENIED");
    raw.still_serves().await;
    drop(raw);
    server.shutdown().await.unwrap();
}

#[test]
fn merging_two_routers_that_handle_one_type_fails() {
    let other = Router::<()>::new().on(|_: Context, _: Echo| async move { Ok(()) });
    match test_router().merge(other) {
        Err(RouterError::DuplicateRoute { wire_type }) => assert_eq!(wire_type, "ECHO"),
        other => panic!("expected a duplicate route, got {:?}", other.map(|_| ())),
    }
    let a = Router::<()>::new().deadline::<Echo>(Duration::from_secs(1));
    let b = Router::<()>::new().deadline::<Echo>(Duration::from_secs(2));
    assert!(matches!(
        a.merge(b),
        Err(RouterError::ConflictingDeadline { wire_type: "ECHO" })
    ));
}

#[test]
fn registration_problems_are_reported_when_serving() {
    let twice = test_router().on(|_: Context, _: Echo| async move { Ok(()) });
    let err = Server::new(twice).unwrap_err();
    assert_eq!(err, RouterError::DuplicateRoute { wire_type: "ECHO" });
    assert!(err.to_string().contains("`ECHO`"), "{err}");

    let stray = test_router().deadline::<Login>(Duration::from_secs(1));
    assert_eq!(
        Server::new(stray).unwrap_err(),
        RouterError::OptionWithoutRoute { wire_type: "LOGIN" }
    );

    let no_data = Router::<Session>::new();
    let err = Server::new(no_data).unwrap_err();
    assert!(matches!(err, RouterError::NoInitialData { .. }), "{err}");
    assert!(err.to_string().contains("authenticate"), "{err}");

    assert!(Server::new(Router::<()>::new()).is_ok());
    assert!(
        Server::builder(guarded_router())
            .config(ServerConfig::default())
            .build()
            .is_ok()
    );
}
